//! The step loop: observe, ask the model, act, until `done`.
//!
//! One LLM call per step with native tool calling; the calls of one answer run in order, and a
//! page change drops the rest. Guards against the ways browser agents fail: a step budget with
//! a forced `done` on the last step, a limit on consecutive failures (then a forced `done`), a
//! nudge when the same action repeats, a timeout on every LLM call and action, and a stop that
//! takes effect at once (the whole run is raced against the cancel signal).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::sync::watch;
use tokio::time::timeout;

use crate::actions::{Action, ActionOptions, Browsing, DONE, tool_definitions};
use crate::cost;
use crate::human::{self, ApprovalKind, HumanAsk, HumanLink, HumanReply};
use crate::llm::{
    self, ChatRequest, ChatResponse, Content, LlmConfig, LlmError, Message, Provider, ToolCall,
    ToolChoice, ToolDefinition, Usage,
};
use crate::output::OutputSchema;
use crate::prompt::{self, StepPrompt, one_line};
use crate::secrets::SensitiveData;
use crate::steps;

mod handoff;

use crate::{
    Feed, FeedMessage, PriorTask, TaskContext, TaskFuture, TaskOutcome, TaskProgress, TaskRunner,
    TaskStats,
};
use handoff::Approval;

/// How the loop behaves; the defaults suit a capable tool-calling model.
#[derive(Debug, Clone)]
pub struct AgentSettings {
    /// Steps (LLM calls) per task; the last one may only call `done`.
    pub max_steps: u32,
    /// Consecutive failed steps before the model is made to call `done`.
    pub max_failures: u32,
    /// Longest the task waits for the model to answer (`[agent] llm_wait`): over every try
    /// of a call (each HTTP request is bounded by the provider's `timeout_secs` and retried
    /// `max_retries` times on rate limits, server and connection errors) and over the steps
    /// that ask again after a failed call. Past it the task fails. While it waits, the feed
    /// and `lastStepSummary` say for how long the model has not answered and that it is
    /// retried.
    pub llm_wait: Duration,
    /// Longest one browser action may take.
    pub action_timeout: Duration,
    /// Tool calls run per step; extra ones are refused.
    pub max_actions_per_step: usize,
    /// Send a screenshot with each step (vision models only).
    pub vision: bool,
    /// Keep a screenshot of each step in the feed (`screenshotUrl`).
    pub step_screenshots: bool,
    /// What actions may touch (upload directories).
    pub actions: ActionOptions,
    /// The cost cap in USD of a task that names none (`--max-cost-usd`); `None`: no cap.
    pub max_cost_usd: Option<f64>,
}

impl Default for AgentSettings {
    fn default() -> AgentSettings {
        AgentSettings {
            max_steps: 50,
            max_failures: 3,
            llm_wait: Duration::from_secs(120),
            action_timeout: Duration::from_secs(60),
            max_actions_per_step: 5,
            vision: false,
            step_screenshots: true,
            actions: ActionOptions::default(),
            max_cost_usd: None,
        }
    }
}

/// Longest an observation may take before the step goes on without one.
const OBSERVE_TIMEOUT: Duration = Duration::from_secs(20);
/// Same action this many times in the recent window: nudge the model.
const LOOP_REPEATS: usize = 3;
/// How many recent actions loop detection looks at.
const LOOP_WINDOW: usize = 10;

/// The runner that drives the session's browser with an LLM.
pub struct LlmAgent {
    provider: Arc<dyn Provider>,
    llm: LlmConfig,
    settings: AgentSettings,
}

impl std::fmt::Debug for LlmAgent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmAgent")
            .field("provider", &self.llm.provider)
            .field("model", &self.llm.model)
            .finish()
    }
}

impl LlmAgent {
    /// An agent talking to the provider `llm` configures.
    pub fn new(llm: LlmConfig, settings: AgentSettings) -> Result<LlmAgent, LlmError> {
        let provider = llm::connect(&llm)?;
        Ok(LlmAgent {
            provider,
            llm,
            settings,
        })
    }

    async fn run_task(&self, ctx: TaskContext) -> TaskOutcome {
        let mut cancel = ctx.cancel.clone();
        let mut run = Run::new(self, &ctx);
        let finished = {
            let work = run.go(ctx.browser.clone());
            tokio::select! {
                outcome = work => Some(outcome),
                () = cancelled(&mut cancel) => None,
            }
        };
        match finished {
            Some(outcome) => outcome,
            None => {
                tracing::info!(steps = run.steps, "task stopped");
                TaskOutcome::Done {
                    output: None,
                    success: false,
                    summary: Some("Task stopped".into()),
                    stats: run.stats(),
                }
            }
        }
    }
}

impl TaskRunner for LlmAgent {
    fn run(&self, ctx: TaskContext) -> TaskFuture<'_> {
        Box::pin(self.run_task(ctx))
    }
}

/// Resolves once the task must stop (or the sender is gone, which means the same).
async fn cancelled(cancel: &mut watch::Receiver<bool>) {
    let _ = cancel.wait_for(|stop| *stop).await;
}

/// One task's run.
struct Run<'a> {
    agent: &'a LlmAgent,
    feed: &'a dyn Feed,
    task: &'a str,
    previous: &'a [PriorTask],
    secrets: &'a SensitiveData,
    upload_dirs: &'a [std::path::PathBuf],
    schema_value: Option<&'a Value>,
    schema: Option<Result<OutputSchema, String>>,
    model: String,
    steps: u32,
    failures: u32,
    llm_failures: u32,
    usage: Usage,
    history: Vec<String>,
    read_state: Option<String>,
    notes: Vec<String>,
    recent: VecDeque<String>,
    schema_retried: bool,
    /// Set during a step whose `done` must be tried again (a corrective retry, a human used
    /// the browser first): a forced step then gets another step instead of ending the task.
    replan: bool,
    /// This step's screenshot, for its feed message.
    shot: Option<String>,
    human: &'a HumanLink,
    progress: &'a watch::Sender<TaskProgress>,
    require_approval: &'a [ApprovalKind],
    /// The human-control epoch the current step was planned in: when it moves on, a human
    /// used the browser since and the plan is stale.
    plan_epoch: u64,
    /// The cost cap in USD, if any.
    max_cost: Option<f64>,
    /// `thinkingLevel`, sent with every call.
    thinking: Option<llm::ThinkingLevel>,
    /// Whether the feed was told that the model's price is unknown.
    unpriced_noted: bool,
    /// Since when the model has not answered (the first try of a call not yet answered,
    /// failed tries included); `None` after an answer.
    unanswered_since: Option<Instant>,
}

/// How a step ended.
enum StepEnd {
    /// Go on with the next step; `ok` when at least one action worked.
    Continue { ok: bool },
    /// Go on after a nudge: the model answered without a tool call where it was free to
    /// (the server takes no stricter `tool_choice`). Neither a success nor a failure.
    Nudged,
    /// The task is over.
    Finished(TaskOutcome),
}

impl<'a> Run<'a> {
    fn new(agent: &'a LlmAgent, ctx: &'a TaskContext) -> Run<'a> {
        Run {
            agent,
            feed: ctx.feed.as_ref(),
            task: &ctx.task,
            previous: &ctx.previous_tasks,
            secrets: &ctx.sensitive_data,
            upload_dirs: &ctx.upload_dirs,
            schema_value: ctx.output_schema.as_ref(),
            schema: ctx.output_schema.as_ref().map(OutputSchema::compile),
            model: agent.llm.provider_model(&ctx.model).to_string(),
            steps: 0,
            failures: 0,
            llm_failures: 0,
            usage: Usage::default(),
            history: Vec::new(),
            read_state: None,
            notes: Vec::new(),
            recent: VecDeque::new(),
            schema_retried: false,
            replan: false,
            shot: None,
            human: &ctx.human,
            progress: &ctx.progress,
            require_approval: &ctx.require_approval,
            plan_epoch: ctx.human.control().epoch,
            max_cost: ctx.max_cost_usd.or(agent.settings.max_cost_usd),
            thinking: ctx.thinking_level,
            unpriced_noted: false,
            unanswered_since: None,
        }
    }

    fn settings(&self) -> &AgentSettings {
        &self.agent.settings
    }

    fn stats(&self) -> TaskStats {
        TaskStats {
            steps: self.steps,
            input_tokens: self.usage.input_tokens,
            output_tokens: self.usage.output_tokens,
            llm_cost_usd: cost::decimal(self.cost()),
        }
    }

    /// What the task's LLM calls cost so far, or `None` when the model's price is unknown.
    fn cost(&self) -> Option<f64> {
        cost::cost_usd(&self.model, &self.usage, &self.agent.llm.prices)
    }

    /// After a call: the task's end when its cost reached the cap. A model without a known
    /// price cannot be capped; the feed says so once.
    async fn check_cost(&mut self) -> Option<TaskOutcome> {
        let cap = self.max_cost?;
        let Some(cost) = self.cost() else {
            if !self.unpriced_noted {
                self.unpriced_noted = true;
                let text = format!(
                    "The price of the model {} is unknown, so this task's cost is not counted \
                     (its tokens are) and the cost cap of ${cap} cannot apply. An operator can \
                     price it in [llm.prices].",
                    self.model
                );
                self.append(steps::completion(&text, self.secrets)).await;
            }
            return None;
        };
        if cost < cap {
            return None;
        }
        let text = format!(
            "Stopped at the cost cap of ${cap}: the task's LLM calls cost ${}",
            cost::decimal(Some(cost))
        );
        tracing::info!(cap, cost, "task stopped at its cost cap");
        self.append(steps::completion(&text, self.secrets)).await;
        Some(TaskOutcome::Done {
            output: None,
            success: false,
            summary: Some(text),
            stats: self.stats(),
        })
    }

    /// Tells the supervisor what the task has consumed so far (and, with `summary`, what
    /// the latest step does), so that a task dropped mid-way is still counted.
    fn publish(&self, summary: Option<String>) {
        let stats = self.stats();
        self.progress.send_modify(|progress| {
            progress.stats = stats;
            if summary.is_some() {
                progress.summary = summary;
            }
        });
    }

    async fn append(&self, message: FeedMessage) {
        if let Err(e) = self.feed.append(message).await {
            tracing::warn!(error = %e, "cannot write a step to the feed");
        }
    }

    async fn go(&mut self, browser: browser::Browser) -> TaskOutcome {
        if let Some(Err(e)) = &self.schema {
            // The client's mistake, not the session's: the session stays usable.
            let text = e.clone();
            self.append(steps::completion(&text, self.secrets)).await;
            return TaskOutcome::Done {
                output: None,
                success: false,
                summary: Some(one_line(&text, steps::SUMMARY_CHARS)),
                stats: self.stats(),
            };
        }
        let mut actions = self.settings().actions.clone();
        // The session's own directories (its workspace) first: a relative path the model
        // gives is looked up there before the server's upload directories.
        let mut upload_dirs = self.upload_dirs.to_vec();
        upload_dirs.append(&mut actions.upload_dirs);
        actions.upload_dirs = upload_dirs;
        let mut browsing = match Browsing::attach(browser.clone(), actions).await {
            Ok(mut browsing) => {
                browsing.follow_control(self.human.control_changes());
                browsing.set_secrets(self.secrets.clone());
                browsing
            }
            Err(e) => {
                let reason = format!("The agent cannot use the browser: {e}");
                // Only a browser that is gone ends the session; a tab that would not come
                // back ends this task.
                if !browser.is_running() {
                    return TaskOutcome::Failed {
                        reason,
                        stats: self.stats(),
                    };
                }
                self.append(steps::completion(&reason, self.secrets)).await;
                return TaskOutcome::Done {
                    output: None,
                    success: false,
                    summary: Some(one_line(&reason, steps::SUMMARY_CHARS)),
                    stats: self.stats(),
                };
            }
        };
        self.steps_in(&mut browsing).await
    }

    /// The step loop in the agent's tab.
    async fn steps_in(&mut self, browsing: &mut Browsing) -> TaskOutcome {
        let tools = tool_definitions(browsing.uploads_enabled(), self.schema_value);
        let max_steps = self.settings().max_steps.max(1);
        let max_failures = self.settings().max_failures;
        // Whether the last step was forced by the failure limit (not the budget).
        let mut forced_by_failures = false;
        for step in 1..=max_steps {
            self.steps = step;
            self.publish(None);
            if let Some(outcome) = self.yield_to_human(browsing, step).await {
                return outcome;
            }
            if let Some(outcome) = self.recover_tab(browsing, step).await {
                return outcome;
            }
            forced_by_failures = step < max_steps && self.failures >= max_failures;
            let forced = step == max_steps || forced_by_failures;
            if forced_by_failures {
                self.notes.push(format!(
                    "{} steps in a row failed. Call done now with what you have (success=false \
                     if the task is not accomplished).",
                    self.failures
                ));
            } else if step * 4 >= max_steps * 3 && step < max_steps {
                self.notes.push(format!(
                    "Only {} steps left: finish soon and call done with what you have.",
                    max_steps - step
                ));
            }
            let request = self
                .request(browsing, &tools, step, max_steps, forced)
                .await;
            let response = match self.call_llm(&request).await {
                Ok(response) => response,
                Err(e) => {
                    // A provider's error may quote the request.
                    let e = self.secrets.redact(&e);
                    self.llm_failures += 1;
                    self.failures += 1;
                    self.history
                        .push(format!("step {step}: the model call failed: {e}"));
                    tracing::warn!(step, error = %e, "LLM call failed");
                    let wait = self.settings().llm_wait;
                    let waited = self
                        .unanswered_since
                        .map(|since| since.elapsed())
                        .unwrap_or_default();
                    if waited >= wait {
                        return TaskOutcome::Failed {
                            reason: format!(
                                "The LLM has not answered for {} s (the limit, [agent] \
                                 llm_wait, is {} s); last error: {e}",
                                waited.as_secs(),
                                wait.as_secs()
                            ),
                            stats: self.stats(),
                        };
                    }
                    if self.llm_failures < max_failures {
                        let text = format!(
                            "The model call failed ({}); retrying. No answer for {} s so far \
                             (the limit is {} s).",
                            one_line(&e, 200),
                            waited.as_secs(),
                            wait.as_secs()
                        );
                        self.publish(Some(one_line(&text, steps::SUMMARY_CHARS)));
                        self.append(steps::notice(&text, self.secrets)).await;
                    }
                    if self.llm_failures >= max_failures {
                        return TaskOutcome::Failed {
                            reason: format!(
                                "The LLM failed {} times in a row; last error: {e}",
                                self.llm_failures
                            ),
                            stats: self.stats(),
                        };
                    }
                    continue;
                }
            };
            self.llm_failures = 0;
            self.replan = false;
            match self.act(browsing, &response, step, forced).await {
                StepEnd::Finished(outcome) => return outcome,
                StepEnd::Continue { ok: true } => self.failures = 0,
                StepEnd::Continue { ok: false } => self.failures += 1,
                StepEnd::Nudged => {}
            }
            // The step the answer paid for has run; no further call past the cap.
            if let Some(outcome) = self.check_cost().await {
                return outcome;
            }
            // A forced step ends the task unless its done needs another go: a corrective
            // retry of its data, or a re-plan after a human used the browser.
            if forced && !self.replan {
                break;
            }
        }
        let text = if forced_by_failures {
            format!(
                "The task was ended after {} failed steps in a row (the limit is \
                 {max_failures}): the model did not finish with done when asked to",
                self.failures
            )
        } else {
            format!("The task did not finish within {max_steps} steps")
        };
        self.append(steps::completion(&text, self.secrets)).await;
        TaskOutcome::Done {
            output: None,
            success: false,
            summary: Some(text),
            stats: self.stats(),
        }
    }

    /// Brings the agent's tab back if its renderer died, and says so in the feed and to the
    /// model. The task's end only when that fails; a failed session only when the browser
    /// process itself is gone.
    async fn recover_tab(&mut self, browsing: &mut Browsing, step: u32) -> Option<TaskOutcome> {
        match browsing.recover().await {
            Ok(None) => None,
            Ok(Some(url)) => {
                let url = self.secrets.redact(&url);
                let text = format!(
                    "The tab crashed (its renderer died); Tandem reloaded {url} and the task goes on."
                );
                tracing::info!(step, "the agent's tab crashed and was reloaded");
                self.append(steps::notice(&text, self.secrets)).await;
                self.history.push(format!("step {step}: {text}"));
                self.notes.push(format!(
                    "{text} Anything typed or opened on the page before the crash may be lost: \
                     read the current state before acting."
                ));
                None
            }
            Err(e) => {
                let reason = self.secrets.redact(&format!(
                    "The tab crashed and could not be brought back: {e}"
                ));
                if !browsing.browser_alive() {
                    return Some(TaskOutcome::Failed {
                        reason,
                        stats: self.stats(),
                    });
                }
                self.append(steps::completion(&reason, self.secrets)).await;
                Some(TaskOutcome::Done {
                    output: None,
                    success: false,
                    summary: Some(one_line(&reason, steps::SUMMARY_CHARS)),
                    stats: self.stats(),
                })
            }
        }
    }

    /// Observes the page and builds the step's request.
    async fn request(
        &mut self,
        browsing: &mut Browsing,
        tools: &[ToolDefinition],
        step: u32,
        max_steps: u32,
        forced: bool,
    ) -> ChatRequest {
        // Whether the page may show a secret: then no screenshot is taken this step (an
        // image cannot be redacted like text), neither for the model nor for the feed. A
        // page that could not be read may show one.
        let mut shows_secret = !self.secrets.is_empty();
        let state = match timeout(OBSERVE_TIMEOUT, browsing.observe()).await {
            Ok(Ok(state)) => {
                let raw = state.to_text();
                let redacted = self.secrets.redact(&raw);
                shows_secret = state.secrets_redacted || redacted != raw;
                redacted
            }
            Ok(Err(e)) => self
                .secrets
                .redact(&format!("(the page could not be read: {e})\n")),
            Err(_) => "(reading the page timed out; it may still be loading)\n".into(),
        };
        let notes = std::mem::take(&mut self.notes);
        let read_state = self.read_state.take().map(|r| self.secrets.redact(&r));
        let uploads = browsing.uploadable();
        let text = StepPrompt {
            task: self.task,
            previous: self.previous,
            secret_keys: self.secrets.keys().collect(),
            has_schema: self.schema_value.is_some(),
            history: &self.history,
            read_state: read_state.as_deref(),
            state: &state,
            uploads: uploads.as_deref(),
            notes: &notes,
            step,
            max_steps,
        }
        .render();
        let mut content = vec![Content::Text(text)];
        self.shot = None;
        if (self.settings().vision || self.settings().step_screenshots) && !shows_secret {
            self.shot = browsing.screenshot().await;
        }
        if self.settings().vision
            && let Some(jpeg) = &self.shot
        {
            content.push(Content::Image {
                media_type: "image/jpeg".into(),
                data_base64: jpeg.clone(),
            });
        }
        let (tools, tool_choice) = if forced {
            let done: Vec<ToolDefinition> =
                tools.iter().filter(|t| t.name == DONE).cloned().collect();
            (done, ToolChoice::Tool(DONE.into()))
        } else {
            (tools.to_vec(), ToolChoice::Required)
        };
        ChatRequest {
            model: self.model.clone(),
            system: Some(prompt::SYSTEM.to_string()),
            messages: vec![Message::User(content)],
            tools,
            tool_choice,
            max_tokens: None,
            temperature: None,
            thinking: self.thinking,
        }
    }

    /// Asks the model, within what is left of [`AgentSettings::llm_wait`]. While no answer
    /// comes, the summary says for how long, and the feed says so once and at every retry.
    async fn call_llm(&mut self, request: &ChatRequest) -> Result<ChatResponse, String> {
        let wait = self.settings().llm_wait;
        let since = *self.unanswered_since.get_or_insert_with(Instant::now);
        let deadline = tokio::time::Instant::from_std(since + wait);
        let every = (wait / 8).clamp(Duration::from_secs(1), Duration::from_secs(15));
        let mut next_report = tokio::time::Instant::now() + every;
        let mut told_feed = false;
        let (retries_tx, mut retries) = tokio::sync::mpsc::unbounded_channel();
        let provider = self.agent.provider.clone();
        let call = llm::reporting_retries(retries_tx, provider.chat(request));
        tokio::pin!(call);
        let response = loop {
            tokio::select! {
                result = &mut call => break result.map_err(|e| e.to_string())?,
                Some(retry) = retries.recv() => {
                    let text = format!(
                        "The model has not answered for {} s: {retry} (Tandem waits up to {} s \
                         in all).",
                        since.elapsed().as_secs(),
                        wait.as_secs()
                    );
                    self.publish(Some(one_line(&text, steps::SUMMARY_CHARS)));
                    self.append(steps::notice(&text, self.secrets)).await;
                    told_feed = true;
                }
                () = tokio::time::sleep_until(next_report) => {
                    next_report += every;
                    let text = format!(
                        "The model has not answered for {} s; still waiting, and retrying if \
                         the call fails (up to {} s in all).",
                        since.elapsed().as_secs(),
                        wait.as_secs()
                    );
                    self.publish(Some(one_line(&text, steps::SUMMARY_CHARS)));
                    if !told_feed {
                        told_feed = true;
                        self.append(steps::notice(&text, self.secrets)).await;
                    }
                }
                () = tokio::time::sleep_until(deadline) => {
                    return Err(format!("no answer within {} s", wait.as_secs()));
                }
            }
        };
        self.unanswered_since = None;
        self.usage.input_tokens += response.usage.input_tokens;
        self.usage.output_tokens += response.usage.output_tokens;
        self.usage.cached_input_tokens += response.usage.cached_input_tokens;
        self.usage.cache_write_input_tokens += response.usage.cache_write_input_tokens;
        self.publish(None);
        Ok(response)
    }

    /// Runs the answer's tool calls in order.
    async fn act(
        &mut self,
        browsing: &mut Browsing,
        response: &ChatResponse,
        step: u32,
        forced: bool,
    ) -> StepEnd {
        let calls = &response.tool_calls;
        let parsed: Vec<Result<Action, String>> = calls
            .iter()
            .map(|c| Action::parse(&c.name, &c.arguments).map_err(|e| e.to_string()))
            .collect();
        let summary = parsed
            .iter()
            .zip(calls)
            .map(|(action, call)| match action {
                Ok(action) => {
                    steps::summary(action, action.index().and_then(|i| browsing.describe(i)))
                }
                Err(_) => format!("Calling {}", call.name),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let summary = if calls.is_empty() {
            one_line(&response.text, steps::SUMMARY_CHARS)
        } else {
            summary
        };
        let mut turn = steps::assistant(&response.text, calls, &summary, self.secrets);
        self.publish(Some(turn.summary.clone()));
        turn.screenshot = self.shot.take();
        self.append(turn).await;
        if calls.is_empty() {
            self.history
                .push(format!("step {step}: answered without calling a tool"));
            self.notes.push(
                "You answered without a tool call. Call a tool every turn; call done when \
                 the task is finished."
                    .into(),
            );
            if response.relaxed_tool_choice {
                // A forced step gets another go, as the model was not made to call done.
                self.replan = true;
                return StepEnd::Nudged;
            }
            return StepEnd::Continue { ok: false };
        }
        let mut ok = false;
        let mut stop_reason: Option<String> = None;
        for (i, (call, action)) in calls.iter().zip(parsed).enumerate() {
            if let Some(reason) = &stop_reason {
                self.tool_error(call, &format!("skipped: {reason}")).await;
                continue;
            }
            if i >= self.settings().max_actions_per_step {
                let max = self.settings().max_actions_per_step;
                self.tool_error(call, &format!("skipped: at most {max} actions per step"))
                    .await;
                continue;
            }
            let action = match action {
                Ok(action) => action,
                Err(e) => {
                    self.history
                        .push(format!("step {step}: {} → error: {e}", call.name));
                    self.tool_error(call, &e).await;
                    stop_reason = Some("an earlier action in this step failed".into());
                    continue;
                }
            };
            if forced && !matches!(action, Action::Done { .. }) {
                self.tool_error(call, "only done is allowed now").await;
                continue;
            }
            // A human took the browser since this step was planned: the plan is stale, a
            // `done` included (the task may not be finished; with keepAlive false it would
            // stop the session under the human's hands). Wait for the control, then re-plan.
            if !matches!(action, Action::AskHuman { .. })
                && self.human.control().epoch != self.plan_epoch
            {
                if let Some(outcome) = self.yield_to_human(browsing, step).await {
                    return StepEnd::Finished(outcome);
                }
                self.tool_error(
                    call,
                    "skipped: a human used the browser; the page may have changed",
                )
                .await;
                self.history.push(format!(
                    "step {step}: {} skipped: a human used the browser first",
                    call.name
                ));
                stop_reason = Some("a human used the browser".into());
                self.replan = true;
                continue;
            }
            match action {
                Action::Done {
                    text,
                    success,
                    data,
                } => match self.finish_done(call, text, success, data, step).await {
                    Some(outcome) => return StepEnd::Finished(outcome),
                    None => {
                        stop_reason = Some("done was rejected".into());
                    }
                },
                Action::AskHuman { question } => {
                    match self.ask_human(browsing, call, &question, step).await {
                        Ok(()) => {
                            ok = true;
                            stop_reason = Some("the human may have changed the page".into());
                        }
                        Err(outcome) => return StepEnd::Finished(outcome),
                    }
                }
                action => {
                    match self.approve(browsing, &action, call, step).await {
                        Approval::Go => {}
                        Approval::Skip => {
                            stop_reason = Some("the human rejected an action".into());
                            continue;
                        }
                        Approval::End(outcome) => return StepEnd::Finished(outcome),
                    }
                    self.note_repeats(&action);
                    let limit = self.settings().action_timeout;
                    // A renderer that dies mid-action never answers: stop waiting at once (the
                    // next step revives the tab).
                    let mut crash = browsing.crash_changes();
                    let result = tokio::select! {
                        result = timeout(limit, browsing.execute(&action, self.secrets)) => {
                            match result {
                                Ok(result) => result.map_err(|e| e.to_string()),
                                Err(_) => Err(format!("the action took longer than {limit:?}")),
                            }
                        }
                        // `Err` is the tab's session ending (a new tab became the agent's), no crash.
                        Ok(_) = crash.wait_for(|gone| *gone) => {
                            Err("the tab crashed during the action".to_string())
                        }
                    };
                    let label = self.secrets.redact(&short_call(call));
                    match result {
                        Ok(done) => {
                            ok = true;
                            let text = self.secrets.redact(&done.text);
                            self.history.push(format!("step {step}: {label} → {text}"));
                            self.tool_ok(call, &text).await;
                            if let Some(read) = done.read_state {
                                self.read_state = Some(read);
                            }
                            if done.page_changed || action.ends_step() {
                                stop_reason = Some(
                                    "the page changed; the next step shows the new state".into(),
                                );
                            }
                        }
                        Err(e) => {
                            let e = self.secrets.redact(&e);
                            self.history
                                .push(format!("step {step}: {label} → error: {e}"));
                            self.tool_error(call, &e).await;
                            stop_reason = Some("an earlier action in this step failed".into());
                        }
                    }
                }
            }
        }
        StepEnd::Continue { ok }
    }

    /// Handles `done`: the outcome, or `None` when its data is rejected for a corrective retry.
    async fn finish_done(
        &mut self,
        call: &ToolCall,
        text: String,
        success: bool,
        data: Option<Value>,
        step: u32,
    ) -> Option<TaskOutcome> {
        // With an output schema, `output` is valid data or nothing: the SDKs validate it
        // against the schema, so anything else would make `client.run` raise instead of
        // showing `isTaskSuccessful: false`. The reason goes to the summary and the feed.
        let (output, success, shown) = match &self.schema {
            // The model gave up and has no data: there is nothing to correct.
            Some(Ok(_)) if !success && data.is_none() => (None, false, text.clone()),
            Some(Ok(schema)) => match schema.check(data.as_ref()) {
                Ok(valid) => {
                    let valid = self.secrets.redact_value(&valid);
                    let shown = valid.to_string();
                    (Some(valid), success, shown)
                }
                Err(errors) => {
                    // Validation errors quote the data, which may hold a value.
                    let errors = self.secrets.redact(&errors);
                    let last = step >= self.settings().max_steps;
                    if !self.schema_retried && !last {
                        self.schema_retried = true;
                        let message = format!(
                            "data does not match the output schema: {errors}. Call done again \
                             with corrected data."
                        );
                        self.history
                            .push(format!("step {step}: done → rejected: {errors}"));
                        self.notes.push(message.clone());
                        self.tool_error(call, &message).await;
                        self.replan = true;
                        return None;
                    }
                    tracing::info!(%errors, "structured output invalid after the retry");
                    let reason = format!("the data does not match the output schema: {errors}");
                    let shown = if text.trim().is_empty() {
                        reason
                    } else {
                        format!("{} ({reason})", text.trim())
                    };
                    (None, false, shown)
                }
            },
            _ => (
                Some(Value::String(self.secrets.redact(&text))),
                success,
                text.clone(),
            ),
        };
        let mut finished = steps::tool_result(call, "Task finished", false, self.secrets);
        // Plumbing that pairs the call with a result; the completion says it all.
        finished.hidden = true;
        self.append(finished).await;
        self.append(steps::completion(&shown, self.secrets)).await;
        let summary = if success {
            format!("Done: {}", self.secrets.redact(&shown))
        } else {
            format!("Finished without success: {}", self.secrets.redact(&shown))
        };
        Some(TaskOutcome::Done {
            output,
            success,
            summary: Some(one_line(&summary, steps::SUMMARY_CHARS)),
            stats: self.stats(),
        })
    }

    /// A plain-text end as the task's `output`: the text, or nothing when the client asked
    /// for structured output (text there would fail the SDK's schema validation; the
    /// summary and the feed carry it instead).
    fn text_output(&self, text: &str) -> Option<Value> {
        self.schema_value
            .is_none()
            .then(|| Value::String(self.secrets.redact(text)))
    }

    async fn tool_ok(&self, call: &ToolCall, text: &str) {
        self.append(steps::tool_result(call, text, false, self.secrets))
            .await;
    }

    async fn tool_error(&self, call: &ToolCall, text: &str) {
        self.append(steps::tool_result(call, text, true, self.secrets))
            .await;
    }

    /// Tells the model when it keeps doing the same thing.
    fn note_repeats(&mut self, action: &Action) {
        let Some(key) = action.loop_key() else {
            return;
        };
        self.recent.push_back(key.clone());
        if self.recent.len() > LOOP_WINDOW {
            self.recent.pop_front();
        }
        let repeats = self.recent.iter().filter(|k| **k == key).count();
        if repeats >= LOOP_REPEATS {
            self.notes.push(format!(
                "You have repeated the same action ({key}) {repeats} times. If it is not \
                 working, try a different approach."
            ));
        }
    }
}

/// `browser_click {"index":42}`: a tool call as history shows it.
fn short_call(call: &ToolCall) -> String {
    let args = match &call.arguments {
        Value::String(raw) => raw.clone(),
        other => other.to_string(),
    };
    format!("{} {}", call.name, prompt::cut(&args, 200))
}
