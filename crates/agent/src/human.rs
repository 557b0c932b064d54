//! The agent's line to the human inside one task: questions, approvals, and control.
//!
//! The agent never waits on a human by itself. It asks through a [`HumanLink`], and the
//! session's supervisor, which owns the session's state, shows the request (API, live view,
//! message feed), keeps the wait limit, and answers. A human can also take control of the
//! browser while a task runs; the link tells the agent, which pauses after its current action
//! and asks for the control back ([`HumanAsk::Control`]).

use std::str::FromStr;

use tokio::sync::{mpsc, oneshot, watch};

use crate::actions::{Action, Browsing};

/// What the agent waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum HumanAsk {
    /// `ask_human`: a question, or something only the human can do (log in, solve a captcha).
    Question {
        /// The question, secrets redacted.
        question: String,
    },
    /// An action the task says needs approval.
    Approval {
        /// Why it needs approval.
        kind: ApprovalKind,
        /// The action, as one line (secrets redacted).
        action: String,
    },
    /// The human has control: the agent waits until it is handed back.
    Control,
}

/// What the human (or the wait limit) said.
#[derive(Debug, Clone, PartialEq)]
pub enum HumanReply {
    /// The question was answered; `None` when the human only pressed "Done".
    Answered(Option<String>),
    /// The action may go ahead.
    Approved,
    /// The action must not happen.
    Rejected,
    /// The human handed the control back.
    HandedBack,
    /// Nobody answered within the session's wait limit; the task should end.
    TimedOut {
        /// How long was waited, in words ("10m").
        waited: String,
    },
    /// No human can be asked (a runner without a session, e.g. a test harness).
    Unavailable,
}

/// Whether a human holds the browser, as the supervisor publishes it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// A human has taken control and not handed it back.
    pub held: bool,
    /// Bumped each time a human takes control, so the agent can tell that its plan is older
    /// than a human's visit even when the control came back before it looked.
    pub epoch: u64,
}

/// One request and where its reply goes.
pub type HumanRequest = (HumanAsk, oneshot::Sender<HumanReply>);

/// The agent's end of the line to the human.
#[derive(Debug, Clone)]
pub struct HumanLink {
    requests: Option<mpsc::Sender<HumanRequest>>,
    control: watch::Receiver<Control>,
}

impl HumanLink {
    /// A link whose requests go to `requests` and whose control state follows `control`.
    pub fn new(requests: mpsc::Sender<HumanRequest>, control: watch::Receiver<Control>) -> Self {
        HumanLink {
            requests: Some(requests),
            control,
        }
    }

    /// A link to no one: every request is [`HumanReply::Unavailable`] and nobody ever takes
    /// control.
    pub fn none() -> Self {
        HumanLink {
            requests: None,
            control: watch::Sender::new(Control::default()).subscribe(),
        }
    }

    /// Asks and waits for the reply (the supervisor enforces the wait limit).
    pub async fn ask(&self, ask: HumanAsk) -> HumanReply {
        let Some(requests) = &self.requests else {
            return HumanReply::Unavailable;
        };
        let (reply, answer) = oneshot::channel();
        if requests.send((ask, reply)).await.is_err() {
            return HumanReply::Unavailable;
        }
        answer.await.unwrap_or(HumanReply::Unavailable)
    }

    /// The control state now.
    pub fn control(&self) -> Control {
        *self.control.borrow()
    }

    /// The control state as it changes.
    pub fn control_changes(&self) -> watch::Receiver<Control> {
        self.control.clone()
    }
}

impl Default for HumanLink {
    /// A link to no one.
    fn default() -> Self {
        HumanLink::none()
    }
}

/// Kinds of action a task can require a human's approval for (`requireApproval`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApprovalKind {
    /// Submitting a form: a submit button, Enter in a form field, `browser_type` with submit.
    Submit,
    /// A click (or submit) on something that pays: buy, pay, checkout, place order, ...
    Purchase,
    /// Leaving the current site: a navigation or a link to another host.
    NavigateExternal,
    /// Putting a file from the server into the page.
    Upload,
}

impl ApprovalKind {
    /// Every kind, in the order an action is checked against them (the most specific first).
    pub const ALL: [ApprovalKind; 4] = [
        ApprovalKind::Purchase,
        ApprovalKind::Submit,
        ApprovalKind::NavigateExternal,
        ApprovalKind::Upload,
    ];

    /// The name the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalKind::Submit => "submit",
            ApprovalKind::Purchase => "purchase",
            ApprovalKind::NavigateExternal => "navigate_external",
            ApprovalKind::Upload => "upload",
        }
    }
}

impl std::fmt::Display for ApprovalKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ApprovalKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        ApprovalKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = ApprovalKind::ALL.iter().map(|k| k.as_str()).collect();
                format!(
                    "unknown action kind {s:?}; expected one of {}",
                    names.join(", ")
                )
            })
    }
}

/// Words on a control that spends money.
const PURCHASE_WORDS: [&str; 12] = [
    "buy",
    "purchase",
    "pay",
    "checkout",
    "check out",
    "place order",
    "place your order",
    "order now",
    "complete order",
    "confirm order",
    "subscribe",
    "book now",
];

/// Whether a control's text says it spends money, on word boundaries ("pay" but not
/// "display", "buy" but not "buyer's guide").
pub(crate) fn is_purchase_text(text: &str) -> bool {
    let lower = text.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    PURCHASE_WORDS.iter().any(|phrase| {
        let length = phrase.split(' ').count();
        words
            .windows(length)
            .any(|window| window.join(" ") == *phrase)
    })
}

/// The host of a URL, lower-cased; `None` for URLs without one (about:blank, data:).
pub(crate) fn host_of(url: &str) -> Option<String> {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// Whether going from `from` to `to` leaves the site: both have hosts and they differ. A page
/// without a host (a new tab) has no site to leave.
pub(crate) fn is_external(from: &str, to: &str) -> bool {
    match (host_of(from), host_of(to)) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

/// The first of `required` that `action` falls under, checked on the live page (most
/// specific kind first); `None` when it needs no approval. An element that cannot be read
/// needs none: the action itself will fail on it.
pub(crate) async fn approval_needed(
    browsing: &mut Browsing,
    action: &Action,
    required: &[ApprovalKind],
) -> Option<ApprovalKind> {
    if required.is_empty() {
        return None;
    }
    let mut kinds = Vec::new();
    match action {
        Action::BrowserNavigate { url, .. } => {
            let target = if url.contains("://") {
                url.clone()
            } else {
                format!("https://{url}")
            };
            if is_external(&browsing.url().await, &target) {
                kinds.push(ApprovalKind::NavigateExternal);
            }
        }
        Action::BrowserClick { index } => {
            if let Ok(facts) = browsing.facts(*index).await {
                if is_purchase_text(&facts.text) {
                    kinds.push(ApprovalKind::Purchase);
                }
                if facts.submits {
                    kinds.push(ApprovalKind::Submit);
                }
                if let Some(href) = &facts.href
                    && is_external(&browsing.url().await, href)
                {
                    kinds.push(ApprovalKind::NavigateExternal);
                }
            }
        }
        Action::BrowserType { submit: true, .. } => kinds.push(ApprovalKind::Submit),
        Action::BrowserSendKeys { keys } => {
            let enter = keys
                .split(|c: char| c.is_whitespace() || c == '+')
                .any(|k| k.eq_ignore_ascii_case("enter"));
            if enter && browsing.focus_in_form().await {
                kinds.push(ApprovalKind::Submit);
            }
        }
        Action::BrowserUploadFile { .. } => kinds.push(ApprovalKind::Upload),
        // No approval kind applies to these. Deliberately no `_` arm: a new action must
        // state its rule here, or the crate does not compile.
        Action::BrowserType { submit: false, .. }
        | Action::BrowserScroll { .. }
        | Action::BrowserSelect { .. }
        | Action::BrowserSwitchTab { .. }
        | Action::BrowserCloseTab { .. }
        | Action::BrowserGoBack {}
        | Action::BrowserWait { .. }
        | Action::BrowserExtract { .. }
        | Action::AskHuman { .. }
        | Action::Done { .. } => {}
    }
    ApprovalKind::ALL
        .into_iter()
        .find(|k| kinds.contains(k) && required.contains(k))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_parse_by_their_api_names() {
        assert_eq!(
            "navigate_external".parse::<ApprovalKind>(),
            Ok(ApprovalKind::NavigateExternal)
        );
        let err = "delete_everything".parse::<ApprovalKind>().unwrap_err();
        assert!(
            err.contains("submit, purchase") || err.contains("purchase, submit"),
            "{err}"
        );
    }

    #[test]
    fn purchase_words_match_whole_words_only() {
        assert!(is_purchase_text("Place order"));
        assert!(is_purchase_text("Buy now"));
        assert!(is_purchase_text("Proceed to checkout →"));
        assert!(is_purchase_text("PAY $12.00"));
        assert!(!is_purchase_text("Display settings"));
        assert!(!is_purchase_text("Buyers' guide"));
        assert!(!is_purchase_text("Add to list"));
    }

    #[test]
    fn external_means_another_host() {
        assert!(is_external(
            "http://127.0.0.1:8000/a",
            "http://localhost:8000/b"
        ));
        assert!(!is_external(
            "http://127.0.0.1:8000/a",
            "http://127.0.0.1:9000/b"
        ));
        assert!(!is_external("about:blank", "https://example.com/"));
    }

    #[tokio::test]
    async fn a_link_to_no_one_is_unavailable() {
        let link = HumanLink::none();
        assert_eq!(link.ask(HumanAsk::Control).await, HumanReply::Unavailable);
        assert!(!link.control().held);
    }
}
