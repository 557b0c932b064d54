//! The agent layer: what runs a task in a session's browser.
//!
//! For now this crate holds only the interface the session supervisor drives ([`TaskRunner`])
//! and [`NoAgent`], the runner used until a real agent (perception, actions, LLM providers)
//! lands. It never changes a session's status itself: it reports a [`TaskOutcome`] and the
//! supervisor decides what that means for the session.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;
use tokio::sync::watch;

/// The future a [`TaskRunner`] returns: boxed so runners can be shared as `Arc<dyn TaskRunner>`.
pub type TaskFuture<'a> = Pin<Box<dyn Future<Output = TaskOutcome> + Send + 'a>>;

/// The future a [`Feed`] returns.
pub type FeedFuture<'a> = Pin<Box<dyn Future<Output = Result<(), FeedError>> + Send + 'a>>;

/// Runs one task in one browser.
///
/// The supervisor may drop the returned future at any await point (stop with strategy
/// `task`, the maximum session duration, a browser crash), so a runner must not rely on
/// running to completion; [`TaskContext::cancel`] is signalled first, for runners that want
/// to wind down an LLM call cooperatively.
pub trait TaskRunner: Send + Sync {
    /// Runs `ctx.task` to its end and says how it went.
    fn run(&self, ctx: TaskContext) -> TaskFuture<'_>;
}

/// Everything a runner gets for one task.
pub struct TaskContext {
    /// The natural-language instruction.
    pub task: String,
    /// The BuModel name the client asked for.
    pub model: String,
    /// JSON Schema the final output must satisfy, if the client gave one.
    pub output_schema: Option<Value>,
    /// The session's browser, shared with the live view.
    pub browser: browser::Browser,
    /// Becomes true when the task must stop.
    pub cancel: watch::Receiver<bool>,
    /// Where to append the steps of the task, visible to clients as the session's messages.
    pub feed: Box<dyn Feed>,
}

/// How a task ended.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskOutcome {
    /// The agent finished, successfully or not; the session stays usable.
    Done {
        /// The final answer (text, or JSON matching the output schema).
        output: Option<Value>,
        /// Whether the agent judged the task accomplished.
        success: bool,
        /// One line about the end, shown as `lastStepSummary`.
        summary: Option<String>,
    },
    /// The run itself failed (no agent, LLM unreachable, ...): the session ends in `error`.
    Failed {
        /// Why, in words a user can act on.
        reason: String,
    },
}

/// One message a runner appends to the session's feed (api-v3 §4).
#[derive(Debug, Clone, PartialEq)]
pub struct FeedMessage {
    /// `assistant` or `tool`.
    pub role: String,
    /// A JSON-encoded OpenAI-style chat message.
    pub data: String,
    /// E.g. `assistant_message`, `browser_action`.
    pub kind: String,
    /// One line for activity feeds.
    pub summary: String,
    /// Whether chat UIs should hide it.
    pub hidden: bool,
}

/// A session's message feed, as seen by a runner. Appending returns once the message is
/// stored, so a client polling the feed sees steps in order.
pub trait Feed: Send + Sync {
    /// Stores one message at the end of the feed.
    fn append(&self, message: FeedMessage) -> FeedFuture<'_>;
}

/// The feed could not store a message.
#[derive(Debug, thiserror::Error)]
#[error("cannot append to the session feed: {0}")]
pub struct FeedError(pub String);

/// The runner used until an agent is configured: every task ends at once, cleanly, with an
/// error that says so, instead of hanging or pretending to work.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAgent;

/// What [`NoAgent`] reports; public so tests and clients can recognise it.
pub const NO_AGENT_REASON: &str = "Tandem has no agent configured: tasks cannot run yet. \
    The browser and live view work; connect an LLM provider once the agent is available.";

impl TaskRunner for NoAgent {
    fn run(&self, _ctx: TaskContext) -> TaskFuture<'_> {
        Box::pin(async {
            TaskOutcome::Failed {
                reason: NO_AGENT_REASON.to_string(),
            }
        })
    }
}
