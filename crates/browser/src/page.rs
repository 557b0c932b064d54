//! One tab, driven through its own flattened session.

use std::sync::Arc;
use std::time::Duration;

use cdp::protocol::{inspector, page, runtime, target};
use cdp::{Connection, Session};
use serde_json::Value;
use tokio::sync::watch;

use crate::error::BrowserError;

/// How long a navigation may take before it is reported as failed.
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the browser process may take to answer what it handles without the renderer
/// (`Inspector.enable`, `Page.navigate` of a crashed tab).
const BROWSER_SIDE_TIMEOUT: Duration = Duration::from_secs(10);

/// A tab with a session attached to it.
#[derive(Debug, Clone)]
pub struct Page {
    target_id: String,
    session: Session,
    /// True while the tab's renderer is dead (`Inspector.targetCrashed` until
    /// `targetReloadedAfterCrash` or a revival), kept by a task that reads the session's events.
    crashed: Arc<watch::Sender<bool>>,
}

impl Page {
    pub(crate) async fn attach(cdp: &Connection, target_id: &str) -> Result<Page, BrowserError> {
        let session = cdp.attach(target_id).await?;
        let crashed = Arc::new(watch::Sender::new(false));
        let mut events = session.events();
        // The browser process answers this one even for a dead renderer, and reports the
        // crash just before its answer. A browser that cannot answer fails the next command.
        if let Err(e) = session
            .call_with_timeout(inspector::Enable {}, BROWSER_SIDE_TIMEOUT)
            .await
        {
            tracing::debug!(tab = target_id, error = %e, "Inspector.enable failed");
        }
        // What came before the answer is already queued: read it now, so a crashed tab is
        // known as such when `attach` returns.
        // (A zero timeout still polls once.)
        while let Ok(Some(event)) = tokio::time::timeout(Duration::ZERO, events.recv()).await {
            note_crash(&crashed, &event);
        }
        let crash_tx = crashed.clone();
        // Ends with the session's event stream (the tab closed, the session detached).
        tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                note_crash(&crash_tx, &event);
            }
        });
        Ok(Page {
            target_id: target_id.to_string(),
            session,
            crashed,
        })
    }

    /// Whether the tab's renderer is dead (crashed, killed, out of memory): the tab shows a
    /// crash page and answers no command that needs the renderer until [`revive`](Self::revive)d.
    pub fn renderer_gone(&self) -> bool {
        *self.crashed.borrow()
    }

    /// Changes of [`renderer_gone`](Self::renderer_gone), for callers that wait on it.
    pub fn crash_changes(&self) -> watch::Receiver<bool> {
        self.crashed.subscribe()
    }

    /// Brings a crashed tab back on the URL it showed: navigates it there again (the browser
    /// process starts a new renderer for it), waits for its `load` event. Returns the URL.
    pub async fn revive(&self) -> Result<String, BrowserError> {
        let info = self
            .session
            .call_with_timeout(target::GetTargetInfo::default(), BROWSER_SIDE_TIMEOUT)
            .await?;
        let url = match info.target_info.url.as_str() {
            "" => "about:blank".to_string(),
            url => url.to_string(),
        };
        let failed = |reason: String| BrowserError::Navigation {
            url: url.clone(),
            reason,
        };
        // Not `navigate`: its `Page.enable` needs the renderer. `Page.navigate` is the browser
        // process's, and answers once the new document commits.
        let navigated = self
            .session
            .call_with_timeout(
                page::Navigate {
                    url: url.clone(),
                    ..Default::default()
                },
                NAVIGATION_TIMEOUT,
            )
            .await?;
        if let Some(error) = navigated.error_text.filter(|e| !e.is_empty()) {
            return Err(failed(error));
        }
        let deadline = tokio::time::Instant::now() + NAVIGATION_TIMEOUT;
        loop {
            let state =
                tokio::time::timeout(Duration::from_secs(2), self.evaluate("document.readyState"))
                    .await;
            if let Ok(Ok(Value::String(state))) = state
                && state == "complete"
            {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(failed(format!(
                    "the tab did not load again within {NAVIGATION_TIMEOUT:?}"
                )));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.crashed.send_replace(false);
        Ok(url)
    }

    /// The tab's target id.
    pub fn tab_id(&self) -> &str {
        &self.target_id
    }

    /// The flattened session, for CDP commands this type has no method for.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// Navigates and waits for the page's `load` event.
    pub async fn navigate(&self, url: &str) -> Result<(), BrowserError> {
        let mut events = self.session.events();
        self.session.call(page::Enable::default()).await?;
        let navigated = self
            .session
            .call(page::Navigate {
                url: url.to_string(),
                ..Default::default()
            })
            .await?;
        let failed = |reason: String| BrowserError::Navigation {
            url: url.to_string(),
            reason,
        };
        if let Some(error) = navigated.error_text.filter(|e| !e.is_empty()) {
            return Err(failed(error));
        }
        if navigated.loader_id.is_none() {
            // A same-document navigation (a fragment change) fires no load event.
            return Ok(());
        }
        let load = async {
            while let Some(event) = events.recv().await {
                if event.is::<page::LoadEventFired>() {
                    return Ok(());
                }
            }
            Err(failed("the tab closed while loading".into()))
        };
        tokio::time::timeout(NAVIGATION_TIMEOUT, load)
            .await
            .map_err(|_| failed(format!("no load event within {NAVIGATION_TIMEOUT:?}")))?
    }

    /// Evaluates a JavaScript expression (awaiting promises) and returns its JSON value.
    pub async fn evaluate(&self, expression: &str) -> Result<Value, BrowserError> {
        let evaluated = self
            .session
            .call(runtime::Evaluate {
                expression: expression.to_string(),
                return_by_value: Some(true),
                await_promise: Some(true),
                ..Default::default()
            })
            .await?;
        if let Some(details) = evaluated.exception_details {
            return Err(BrowserError::Script(details.message().to_string()));
        }
        Ok(evaluated.result.value.unwrap_or(Value::Null))
    }

    /// Detaches this session; the tab stays open.
    pub async fn detach(&self) -> Result<(), BrowserError> {
        if let Some(id) = self.session.id() {
            self.session
                .connection()
                .call(target::DetachFromTarget {
                    session_id: Some(id.to_string()),
                })
                .await?;
        }
        Ok(())
    }
}

/// Keeps a tab's crash flag from its session's `Inspector` events.
fn note_crash(crashed: &watch::Sender<bool>, event: &cdp::RawEvent) {
    if event.is::<inspector::TargetCrashed>() {
        crashed.send_replace(true);
    } else if event.is::<inspector::TargetReloadedAfterCrash>() {
        crashed.send_replace(false);
    }
}
