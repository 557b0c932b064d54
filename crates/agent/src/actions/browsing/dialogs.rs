//! Dialogs: `alert`/`confirm`/`prompt` answered while the agent drives its tab, left to the
//! human while they have the browser.

use super::*;

/// Answers `alert`/`confirm`/`prompt` dialogs of one tab with OK while it lives.
///
/// Headless Chromium stalls a page (and the input event that opened the dialog) until
/// someone answers; while the agent drives the tab that someone is the agent, as in
/// browser-use. Between tasks the answerer is gone and the human answers in the live view.
/// While a human has the browser (a question, an approval or the control is theirs), the
/// answerer stands aside and the human answers in the live view.
pub(super) struct DialogAnswerer {
    seen: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl DialogAnswerer {
    pub(super) fn start(session: Session, human: HumanFlags) -> DialogAnswerer {
        let seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let mut events = session.events();
        let record = seen.clone();
        let task = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let Some(Ok(dialog)) = event.parse::<page::JavascriptDialogOpening>() else {
                    continue;
                };
                if human.active() {
                    continue;
                }
                let answered = session
                    .call(page::HandleJavaScriptDialog {
                        accept: true,
                        prompt_text: dialog.default_prompt.clone(),
                    })
                    .await;
                let kind = format!("{:?}", dialog.r#type).to_lowercase();
                let line = match answered {
                    Ok(_) => format!("a {kind} dialog said {:?}; answered OK", dialog.message),
                    Err(e) => format!(
                        "a {kind} dialog said {:?}; cannot answer it: {e}",
                        dialog.message
                    ),
                };
                if let Ok(mut seen) = record.lock() {
                    seen.push(line);
                }
            }
        });
        DialogAnswerer { seen, task }
    }

    /// The dialogs answered since the last call.
    pub(super) fn take(&self) -> Vec<String> {
        self.seen
            .lock()
            .map(|mut seen| std::mem::take(&mut *seen))
            .unwrap_or_default()
    }
}

impl Drop for DialogAnswerer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Whether a human has the browser: asked by the agent (a question, an approval, the control
/// back), or holding it since they took it.
#[derive(Debug, Clone, Default)]
pub(super) struct HumanFlags {
    pub(super) asked: Arc<AtomicBool>,
    pub(super) holds: Arc<AtomicBool>,
}

impl HumanFlags {
    pub(super) fn active(&self) -> bool {
        self.asked.load(Ordering::Relaxed) || self.holds.load(Ordering::Relaxed)
    }
}
