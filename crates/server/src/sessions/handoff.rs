//! The human side of a running task: what the agent waits for, who holds the browser, and
//! how long the agent waits before it gives up.
//!
//! Owned by the session's supervisor, the only code that changes a session. The agent asks
//! through its [`HumanLink`]; a human answers through the API or the live view; the
//! supervisor turns each change into the record's `humanInput`, a feed message, and a reply
//! to the agent. States are exclusive: the agent waits for an answer (a question or an
//! approval), or a human holds the browser, or neither.

use std::time::Duration;

use agent::{Control, HumanAsk, HumanLink, HumanReply, HumanRequest};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// Who did something, for the feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HumanSource {
    /// A client of the API.
    Api,
    /// A human in the live view.
    LiveView,
}

impl HumanSource {
    fn label(self) -> &'static str {
        match self {
            HumanSource::Api => "through the API",
            HumanSource::LiveView => "in the live view",
        }
    }
}

/// A human's answer to what the agent waits for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    /// The answer to a question, if any ("Done" alone is an answer too).
    pub answer: Option<String>,
    /// The decision on an approval.
    pub approve: Option<bool>,
}

/// Why a human's command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HandoffError {
    /// The agent waits for no one.
    #[error("The session is not waiting for a human")]
    NotWaiting,
    /// No task runs, so there is no agent to take the control from.
    #[error("No task is running; the browser is already the human's")]
    NoTask,
    /// An approval needs a yes or a no.
    #[error("This is an approval: answer it with approve true or false")]
    ApproveMissing,
    /// The agent already waits for the human's answer to a question, so the browser is
    /// theirs; taking the control would leave the question unanswered.
    #[error(
        "The agent is waiting for the answer to a question and does not use the browser \
         meanwhile: answer it with resume"
    )]
    QuestionPending,
    /// The agent already waits for a decision on an approval.
    #[error(
        "The agent is waiting for an approval and does not use the browser meanwhile: approve \
         or reject it with resume"
    )]
    ApprovalPending,
}

/// A request the agent waits on.
struct Pending {
    ask: HumanAsk,
    reply: oneshot::Sender<HumanReply>,
}

/// What a change means for the session, for the supervisor to persist and publish.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Change {
    /// The feed message: role and text.
    pub(crate) message: Option<(&'static str, String)>,
    /// A new `lastStepSummary`, when the change is worth one.
    pub(crate) summary: Option<String>,
}

/// The human side of the running task.
pub(crate) struct Handoff {
    wait: Duration,
    requests: Option<mpsc::Receiver<HumanRequest>>,
    control: watch::Sender<Control>,
    pending: Option<Pending>,
    /// What `humanInput` shows while something is waited for.
    shown: Option<Value>,
    /// Since when a human holds the browser.
    held_since: Option<DateTime<Utc>>,
    /// When the wait ends without a human; moved on by their activity.
    deadline: Option<Instant>,
    /// The wait ran out while the agent was busy; its next request is told so.
    expired: bool,
}

impl Handoff {
    /// No task: nothing to wait for.
    pub(crate) fn new(wait: Duration) -> Handoff {
        Handoff {
            wait,
            requests: None,
            control: watch::Sender::new(Control::default()),
            pending: None,
            shown: None,
            held_since: None,
            deadline: None,
            expired: false,
        }
    }

    /// A fresh state for a new task, and the agent's end of the line.
    pub(crate) fn start_task(&mut self) -> HumanLink {
        self.reset();
        let (requests, receiver) = mpsc::channel(4);
        self.requests = Some(receiver);
        self.control = watch::Sender::new(Control::default());
        HumanLink::new(requests, self.control.subscribe())
    }

    /// The task is over: whatever was waited for is moot.
    pub(crate) fn reset(&mut self) {
        self.requests = None;
        self.pending = None;
        self.shown = None;
        self.held_since = None;
        self.deadline = None;
        self.expired = false;
        self.control
            .send_if_modified(|c| std::mem::replace(&mut c.held, false));
    }

    /// `humanInput` as the API shows it.
    pub(crate) fn shown(&self) -> Option<Value> {
        self.shown.clone()
    }

    /// When the wait runs out, if something is waited for.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The next request of the running task's agent; pending forever without one.
    pub(crate) async fn next_request(&mut self) -> HumanRequest {
        match &mut self.requests {
            Some(requests) => match requests.recv().await {
                Some(request) => request,
                None => std::future::pending().await,
            },
            None => std::future::pending().await,
        }
    }

    /// The agent asks.
    pub(crate) fn asked(&mut self, ask: HumanAsk, reply: oneshot::Sender<HumanReply>) -> Change {
        let now = store::now();
        match ask {
            HumanAsk::Control => {
                if self.expired {
                    self.expired = false;
                    let _ = reply.send(self.timed_out());
                } else if self.held_since.is_some() {
                    self.pending = Some(Pending {
                        ask: HumanAsk::Control,
                        reply,
                    });
                } else {
                    let _ = reply.send(HumanReply::HandedBack);
                }
                Change {
                    message: None,
                    summary: None,
                }
            }
            HumanAsk::Question { ref question } => {
                self.shown = Some(json!({
                    "type": "question",
                    "question": question,
                    "requestedAt": wire_time(now),
                }));
                let summary = format!("Waiting for the human: {question}");
                self.wait_for(ask, reply);
                Change {
                    message: None,
                    summary: Some(summary),
                }
            }
            HumanAsk::Approval { kind, ref action } => {
                let question = format!("Approve this action ({kind})? {action}");
                self.shown = Some(json!({
                    "type": "approval",
                    "question": question,
                    "kind": kind.as_str(),
                    "action": action,
                    "requestedAt": wire_time(now),
                }));
                let text = format!("Waiting for approval ({kind}): {action}");
                self.wait_for(ask, reply);
                Change {
                    message: Some(("assistant", text.clone())),
                    summary: Some(text),
                }
            }
        }
    }

    fn wait_for(&mut self, ask: HumanAsk, reply: oneshot::Sender<HumanReply>) {
        // A question supersedes the control: the human is asked to act anyway.
        self.held_since = None;
        self.control
            .send_if_modified(|c| std::mem::replace(&mut c.held, false));
        self.expired = false;
        self.pending = Some(Pending { ask, reply });
        self.deadline = Some(crate::owners::deadline_after(self.wait));
    }

    /// A human answers, approves, rejects, or hands the control back.
    pub(crate) fn resume(
        &mut self,
        resume: Resume,
        source: HumanSource,
    ) -> Result<Change, HandoffError> {
        let by = source.label();
        // `expired`: the wait ran out while the agent was busy, so it has not yet learned
        // that the control is over; a human handing back now still hands back.
        if self.held_since.is_some() || self.expired {
            self.held_since = None;
            self.expired = false;
            self.control
                .send_if_modified(|c| std::mem::replace(&mut c.held, false));
            if let Some(pending) = self.pending.take() {
                let _ = pending.reply.send(HumanReply::HandedBack);
            }
            self.clear();
            return Ok(Change {
                message: Some(("user", format!("The human handed control back {by}"))),
                summary: Some("The human handed control back".into()),
            });
        }
        let Some(pending) = self.pending.take() else {
            return Err(HandoffError::NotWaiting);
        };
        let (reply, text) = match &pending.ask {
            HumanAsk::Question { .. } => match resume.answer.filter(|a| !a.trim().is_empty()) {
                Some(answer) => (
                    HumanReply::Answered(Some(answer.clone())),
                    format!("The human answered {by}: {answer}"),
                ),
                None => (
                    HumanReply::Answered(None),
                    format!("The human said done {by}"),
                ),
            },
            HumanAsk::Approval { kind, action } => match resume.approve {
                Some(true) => (
                    HumanReply::Approved,
                    format!("The human approved {by} ({kind}): {action}"),
                ),
                Some(false) => (
                    HumanReply::Rejected,
                    format!("The human rejected {by} ({kind}): {action}"),
                ),
                None => {
                    self.pending = Some(pending);
                    return Err(HandoffError::ApproveMissing);
                }
            },
            HumanAsk::Control => (HumanReply::HandedBack, String::new()),
        };
        let _ = pending.reply.send(reply);
        self.clear();
        Ok(Change {
            summary: Some(text.clone()),
            message: Some(("user", text)),
        })
    }

    /// A human takes the browser while the agent works. `Ok(None)` when they hold it
    /// already (taking it twice is harmless); an error when the agent waits for their answer
    /// to a question or an approval, which only `resume` gives. Either way the human is
    /// there, so the wait for them starts again.
    pub(crate) fn take_control(
        &mut self,
        source: HumanSource,
        task_running: bool,
    ) -> Result<Option<Change>, HandoffError> {
        if !task_running {
            return Err(HandoffError::NoTask);
        }
        if self.held_since.is_some() {
            self.activity();
            return Ok(None);
        }
        match self.pending.as_ref().map(|p| &p.ask) {
            Some(HumanAsk::Question { .. }) => {
                self.activity();
                return Err(HandoffError::QuestionPending);
            }
            Some(HumanAsk::Approval { .. }) => {
                self.activity();
                return Err(HandoffError::ApprovalPending);
            }
            Some(HumanAsk::Control) | None => {}
        }
        let now = store::now();
        // A control taken again after an earlier one ran out is a new control with a new
        // wait: the agent's next request must not learn of the old timeout.
        self.expired = false;
        self.held_since = Some(now);
        self.control.send_modify(|c| {
            c.held = true;
            c.epoch += 1;
        });
        self.shown = Some(json!({
            "type": "control",
            "question": "A human has control of the browser; the agent waits until it is handed back.",
            "requestedAt": wire_time(now),
        }));
        self.deadline = Some(crate::owners::deadline_after(self.wait));
        Ok(Some(Change {
            message: Some(("user", format!("The human took control {}", source.label()))),
            summary: Some("The human has control; the agent waits".into()),
        }))
    }

    /// A human did something: the wait for them starts again.
    pub(crate) fn activity(&mut self) {
        if self.deadline.is_some() {
            self.deadline = Some(crate::owners::deadline_after(self.wait));
        }
    }

    /// Nobody came in time: the agent is told, and the task will end.
    pub(crate) fn wait_over(&mut self) -> Change {
        let waited = crate::sessions::supervisor::human(self.wait);
        match self.pending.take() {
            Some(pending) => {
                let _ = pending.reply.send(self.timed_out());
                self.control
                    .send_if_modified(|c| std::mem::replace(&mut c.held, false));
            }
            // The agent is still busy with its action; the control stays marked as held so
            // that it stops and asks, and its request learns that the wait is over.
            None => self.expired = true,
        }
        self.held_since = None;
        self.clear();
        let text = format!("No human answered within {waited}");
        Change {
            message: Some(("assistant", text.clone())),
            summary: Some(text),
        }
    }

    fn timed_out(&self) -> HumanReply {
        HumanReply::TimedOut {
            waited: crate::sessions::supervisor::human(self.wait),
        }
    }

    fn clear(&mut self) {
        self.shown = None;
        self.deadline = None;
    }
}

/// The feed's note that what a task waited for from a human (`humanInput`, as shown) was
/// dropped, `why` saying by what ("the client stopped the task"); `None` when nothing was
/// waited for. Without it a client would see a question vanish with no trace.
pub(crate) fn cancelled_note(shown: Option<&Value>, why: &str) -> Option<String> {
    let shown = shown?;
    let text = |key: &str| shown.get(key).and_then(Value::as_str).unwrap_or_default();
    Some(match text("type") {
        "question" => format!("The question '{}' was cancelled: {why}", text("question")),
        "approval" => format!(
            "The approval of '{}' ({}) was cancelled: {why}",
            text("action"),
            text("kind")
        ),
        "control" => format!("The wait for the human to hand control back was cancelled: {why}"),
        _ => format!("The request to the human was cancelled: {why}"),
    })
}

/// A timestamp as the API writes them.
fn wire_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use agent::ApprovalKind;

    fn handoff() -> (Handoff, HumanLink) {
        let mut h = Handoff::new(Duration::from_secs(60));
        let link = h.start_task();
        (h, link)
    }

    #[tokio::test]
    async fn a_question_waits_for_its_answer() {
        let (mut h, _link) = handoff();
        let (tx, rx) = oneshot::channel();
        let change = h.asked(
            HumanAsk::Question {
                question: "Which size?".into(),
            },
            tx,
        );
        assert_eq!(
            change.summary.as_deref(),
            Some("Waiting for the human: Which size?")
        );
        assert_eq!(h.shown().unwrap()["type"], "question");
        assert!(h.deadline().is_some());
        let change = h
            .resume(
                Resume {
                    answer: Some("M".into()),
                    approve: None,
                },
                HumanSource::LiveView,
            )
            .unwrap();
        assert_eq!(
            change.message,
            Some(("user", "The human answered in the live view: M".to_string()))
        );
        assert_eq!(rx.await.unwrap(), HumanReply::Answered(Some("M".into())));
        assert!(h.shown().is_none() && h.deadline().is_none());
        assert_eq!(
            h.resume(Resume::default(), HumanSource::Api),
            Err(HandoffError::NotWaiting)
        );
    }

    #[tokio::test]
    async fn an_approval_needs_a_decision() {
        let (mut h, _link) = handoff();
        let (tx, rx) = oneshot::channel();
        h.asked(
            HumanAsk::Approval {
                kind: ApprovalKind::Purchase,
                action: "Clicking \"Place order\"".into(),
            },
            tx,
        );
        assert_eq!(
            h.resume(Resume::default(), HumanSource::Api),
            Err(HandoffError::ApproveMissing)
        );
        h.resume(
            Resume {
                answer: None,
                approve: Some(false),
            },
            HumanSource::Api,
        )
        .unwrap();
        assert_eq!(rx.await.unwrap(), HumanReply::Rejected);
    }

    #[tokio::test]
    async fn control_is_taken_and_handed_back() {
        let (mut h, link) = handoff();
        assert_eq!(
            h.take_control(HumanSource::LiveView, false),
            Err(HandoffError::NoTask)
        );
        assert!(
            h.take_control(HumanSource::LiveView, true)
                .unwrap()
                .is_some()
        );
        assert!(link.control().held);
        assert_eq!(link.control().epoch, 1);
        // Taking it again changes nothing.
        assert!(
            h.take_control(HumanSource::LiveView, true)
                .unwrap()
                .is_none()
        );
        let (tx, rx) = oneshot::channel();
        h.asked(HumanAsk::Control, tx);
        h.resume(Resume::default(), HumanSource::LiveView).unwrap();
        assert_eq!(rx.await.unwrap(), HumanReply::HandedBack);
        assert!(!link.control().held);
        assert_eq!(link.control().epoch, 1);
    }

    #[tokio::test]
    async fn a_wait_that_runs_out_reaches_the_agent() {
        let (mut h, _link) = handoff();
        h.take_control(HumanSource::Api, true).unwrap();
        // The agent is mid-action when the wait runs out; its next request learns it.
        h.wait_over();
        let (tx, rx) = oneshot::channel();
        h.asked(HumanAsk::Control, tx);
        assert!(matches!(rx.await.unwrap(), HumanReply::TimedOut { .. }));
    }

    #[tokio::test]
    async fn a_control_taken_again_after_a_timeout_waits_anew() {
        let (mut h, link) = handoff();
        h.take_control(HumanSource::LiveView, true).unwrap();
        // The wait runs out while the agent is mid-action...
        h.wait_over();
        assert!(h.shown().is_none() && h.deadline().is_none());
        // ...and the human takes the control again before the agent asks.
        assert!(
            h.take_control(HumanSource::LiveView, true)
                .unwrap()
                .is_some()
        );
        assert_eq!(h.shown().unwrap()["type"], "control");
        assert!(h.deadline().is_some());
        assert!(link.control().held);
        assert_eq!(link.control().epoch, 2);
        let (tx, mut rx) = oneshot::channel();
        h.asked(HumanAsk::Control, tx);
        assert!(
            rx.try_recv().is_err(),
            "the agent waits for the new control instead of learning of the old timeout"
        );
        h.resume(Resume::default(), HumanSource::Api).unwrap();
        assert_eq!(rx.await.unwrap(), HumanReply::HandedBack);
        assert!(!link.control().held);
    }

    #[tokio::test]
    async fn handing_back_after_a_timeout_the_agent_missed_hands_back() {
        let (mut h, link) = handoff();
        h.take_control(HumanSource::Api, true).unwrap();
        h.wait_over();
        assert!(
            link.control().held,
            "the busy agent must still stop and ask"
        );
        let change = h.resume(Resume::default(), HumanSource::Api).unwrap();
        assert_eq!(
            change.message,
            Some((
                "user",
                "The human handed control back through the API".to_string()
            ))
        );
        assert!(!link.control().held);
        let (tx, rx) = oneshot::channel();
        h.asked(HumanAsk::Control, tx);
        assert_eq!(rx.await.unwrap(), HumanReply::HandedBack);
    }

    #[tokio::test]
    async fn the_control_cannot_be_taken_from_an_agent_waiting_for_an_answer() {
        let (mut h, link) = handoff();
        let (tx, _rx) = oneshot::channel();
        h.asked(
            HumanAsk::Question {
                question: "Which size?".into(),
            },
            tx,
        );
        assert_eq!(
            h.take_control(HumanSource::Api, true),
            Err(HandoffError::QuestionPending)
        );
        assert_eq!(h.shown().unwrap()["type"], "question", "the question stays");
        assert!(!link.control().held);
        h.resume(
            Resume {
                answer: Some("M".into()),
                approve: None,
            },
            HumanSource::Api,
        )
        .unwrap();
        let (tx, _rx) = oneshot::channel();
        h.asked(
            HumanAsk::Approval {
                kind: ApprovalKind::Submit,
                action: "Clicking \"Send\"".into(),
            },
            tx,
        );
        assert_eq!(
            h.take_control(HumanSource::LiveView, true),
            Err(HandoffError::ApprovalPending)
        );
        assert_eq!(h.shown().unwrap()["type"], "approval");
    }

    #[test]
    fn a_cancelled_request_is_named_in_the_note() {
        let why = "the client stopped the task";
        assert_eq!(cancelled_note(None, why), None);
        assert_eq!(
            cancelled_note(
                Some(&json!({"type": "question", "question": "Which size?"})),
                why
            )
            .as_deref(),
            Some("The question 'Which size?' was cancelled: the client stopped the task")
        );
        assert_eq!(
            cancelled_note(
                Some(
                    &json!({"type": "approval", "kind": "purchase", "action": "Clicking \"Buy\""})
                ),
                why
            )
            .as_deref(),
            Some(
                "The approval of 'Clicking \"Buy\"' (purchase) was cancelled: the client stopped \
                 the task"
            )
        );
        assert!(
            cancelled_note(Some(&json!({"type": "control"})), why)
                .unwrap()
                .contains("hand control back was cancelled")
        );
    }
}
