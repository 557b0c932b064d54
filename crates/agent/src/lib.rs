//! The agent layer: what runs a task in a session's browser.
//!
//! It holds the interface the session supervisor drives ([`TaskRunner`]); [`LlmAgent`], the
//! runner that drives the browser with an LLM, and [`NoAgent`], used when no LLM is
//! configured; [`perception`]: a tab turned into indexed interactive elements and text;
//! [`actions`]: what the model can do to the browser; [`llm`]: the model providers; and
//! [`secrets`]: `sensitiveData` kept away from the model. It never changes a session's status
//! itself: it reports a [`TaskOutcome`] and the supervisor decides what that means.

pub mod actions;
mod agent;
mod cost;
pub mod human;
pub mod llm;
mod output;
pub mod perception;
mod prompt;
pub mod secrets;
mod steps;

pub use agent::{AgentSettings, LlmAgent};
pub use human::{ApprovalKind, Control, HumanAsk, HumanLink, HumanReply, HumanRequest};
pub use secrets::SensitiveData;

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
    /// The session's earlier tasks and their results, oldest first, so a follow-up knows
    /// what came before.
    pub previous_tasks: Vec<PriorTask>,
    /// Secrets the agent may type (`sensitiveData`); the model sees only their keys.
    pub sensitive_data: SensitiveData,
    /// The line to the human: questions, approvals, and whether a human holds the browser.
    pub human: HumanLink,
    /// Kinds of action the human must approve first (`requireApproval`).
    pub require_approval: Vec<ApprovalKind>,
    /// Directories of this session (its workspace) whose files `browser_upload_file` may
    /// use, besides the server's configured upload directories.
    pub upload_dirs: Vec<std::path::PathBuf>,
    /// Where the runner publishes what the task has consumed so far, step by step: the
    /// supervisor may drop the task's future at any time (a stop, the maximum duration, a
    /// crash), and what ran must still be counted and shown.
    pub progress: watch::Sender<TaskProgress>,
    /// The task's cost cap in USD (`maxCostUsd`; a follow-up's own value wins over the
    /// session's): the task stops once its LLM calls cost this much. `None` falls back to
    /// the server's default ([`AgentSettings::max_cost_usd`]).
    pub max_cost_usd: Option<f64>,
    /// How hard the model may think (`thinkingLevel`); `None` leaves the provider's default.
    pub thinking_level: Option<llm::ThinkingLevel>,
}

/// A running task's figures so far, as its runner last published them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskProgress {
    /// Steps, tokens and cost up to now.
    pub stats: TaskStats,
    /// One line about the latest step, for `lastStepSummary` while the task runs.
    pub summary: Option<String>,
}

/// An earlier task of the same session, as a follow-up sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PriorTask {
    /// What was asked.
    pub task: String,
    /// Its final answer as text (JSON output serialised), if it had one.
    pub output: Option<String>,
    /// Whether it succeeded, if it finished.
    pub success: Option<bool>,
}

/// What a task consumed, for the session's `stepCount`, token and cost fields.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TaskStats {
    /// Steps taken (LLM calls in the loop).
    pub steps: u32,
    /// Prompt tokens over all calls.
    pub input_tokens: u64,
    /// Answer tokens over all calls.
    pub output_tokens: u64,
    /// LLM cost as a decimal string; "0" when the model's price is unknown.
    pub llm_cost_usd: String,
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
        /// Steps, tokens and cost.
        stats: TaskStats,
    },
    /// The run itself failed (no agent, LLM unreachable, ...): the session ends in `error`.
    Failed {
        /// Why, in words a user can act on.
        reason: String,
        /// What the task consumed before it failed.
        stats: TaskStats,
    },
}

/// One message a runner appends to the session's feed (api-v3 §4).
#[derive(Clone, PartialEq)]
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
    /// A JPEG of the agent's tab when the step was decided, base64-encoded as CDP gives it;
    /// the feed stores it and serves it as the message's (and session's) `screenshotUrl`.
    pub screenshot: Option<String>,
}

impl std::fmt::Debug for FeedMessage {
    /// The screenshot shows as its size: tens of kilobytes of base64 help no one in a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedMessage")
            .field("role", &self.role)
            .field("data", &self.data)
            .field("kind", &self.kind)
            .field("summary", &self.summary)
            .field("hidden", &self.hidden)
            .field(
                "screenshot",
                &self
                    .screenshot
                    .as_ref()
                    .map(|s| format!("<{} base64 bytes>", s.len())),
            )
            .finish()
    }
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

/// The runner used when no LLM is configured: every task ends at once, cleanly, with an
/// error that says so, instead of hanging or pretending to work.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAgent;

/// What [`NoAgent`] reports; public so tests and clients can recognise it.
pub const NO_AGENT_REASON: &str = "Tandem has no agent configured: no LLM provider is set, \
    so tasks cannot run. Set TANDEM_LLM_PROVIDER (openai, anthropic or gemini) with \
    TANDEM_LLM_API_KEY (or OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY), or add an [llm] \
    table to the config file. The browser and live view work without it.";

impl TaskRunner for NoAgent {
    fn run(&self, _ctx: TaskContext) -> TaskFuture<'_> {
        Box::pin(async {
            TaskOutcome::Failed {
                reason: NO_AGENT_REASON.to_string(),
                stats: TaskStats::default(),
            }
        })
    }
}
