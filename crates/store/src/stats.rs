//! Totals over everything the store holds, for monitoring (`/metrics`).

/// What the store counts, read in one go.
///
/// Ended and deleted sessions stay in the counts (a delete is soft), so the per-status counts
/// of ended sessions and the usage totals only grow, as monitoring counters should.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoreStats {
    /// Sessions by their status' wire name (`idle`, `running`, `stopped`, ...).
    pub sessions: Vec<(String, u64)>,
    /// Running sessions whose agent waits for a human (`humanInput` set).
    pub waiting_for_human: u64,
    /// Standalone browsers by status (`active`, `stopped`).
    pub browsers: Vec<(String, u64)>,
    /// LLM input tokens of every session's tasks.
    pub input_tokens: u64,
    /// LLM output tokens of every session's tasks.
    pub output_tokens: u64,
    /// LLM cost of every session's tasks, in US dollars.
    pub llm_cost_usd: f64,
    /// Messages in all feeds.
    pub messages: u64,
}
