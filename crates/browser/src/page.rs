//! One tab, driven through its own flattened session.

use std::time::Duration;

use cdp::protocol::{page, runtime, target};
use cdp::{Connection, Session};
use serde_json::Value;

use crate::error::BrowserError;

/// How long a navigation may take before it is reported as failed.
pub const NAVIGATION_TIMEOUT: Duration = Duration::from_secs(30);

/// A tab with a session attached to it.
#[derive(Debug, Clone)]
pub struct Page {
    target_id: String,
    session: Session,
}

impl Page {
    pub(crate) async fn attach(cdp: &Connection, target_id: &str) -> Result<Page, BrowserError> {
        let session = cdp.attach(target_id).await?;
        Ok(Page {
            target_id: target_id.to_string(),
            session,
        })
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
        crate::address::refuse_unless_allowed(url)?;
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
