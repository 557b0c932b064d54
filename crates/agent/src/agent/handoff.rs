//! The human handoff inside a task: `ask_human`, approvals, and a human taking the browser.
//! The loop asks through the task's [`HumanLink`](crate::HumanLink); the supervisor answers.

use super::*;

/// Whether an action may run, after asking for approval where the task requires it.
pub(super) enum Approval {
    /// Run it.
    Go,
    /// The human rejected it: skip it and go on.
    Skip,
    /// Nobody answered in time: the task is over.
    End(TaskOutcome),
}

impl Run<'_> {
    /// `ask_human`: waits for the human's answer and takes it into the next step. `Err` with
    /// the task's end when nobody answered in time.
    pub(super) async fn ask_human(
        &mut self,
        browsing: &mut Browsing,
        call: &ToolCall,
        question: &str,
        step: u32,
    ) -> Result<(), TaskOutcome> {
        let question = self.secrets.redact(question);
        browsing.set_human_active(true);
        let reply = self
            .human
            .ask(HumanAsk::Question {
                question: question.clone(),
            })
            .await;
        browsing.set_human_active(false);
        let text = match reply {
            HumanReply::Answered(Some(answer)) => format!("The human answered: {answer}"),
            HumanReply::Answered(None) => "The human says it is done.".to_string(),
            HumanReply::TimedOut { waited } => {
                return Err(self
                    .give_up(
                        call,
                        &format!("No answer from the human within {waited} to: {question}"),
                    )
                    .await);
            }
            _ => {
                // No human to ask: the question is the task's answer.
                self.tool_ok(
                    call,
                    "The question was handed to the human; the task ends here.",
                )
                .await;
                self.append(steps::completion(&question, self.secrets))
                    .await;
                return Err(TaskOutcome::Done {
                    summary: Some(one_line(
                        &format!("Waiting for the human: {question}"),
                        steps::SUMMARY_CHARS,
                    )),
                    output: self.text_output(&question),
                    success: false,
                    stats: self.stats(),
                });
            }
        };
        let text = self.secrets.redact(&text);
        // The human's own message in the feed says it already; this one pairs the call.
        let mut result = steps::tool_result(call, &text, false, self.secrets);
        result.hidden = true;
        self.append(result).await;
        self.history.push(format!(
            "step {step}: asked the human {question:?} → {text}"
        ));
        self.after_human(
            browsing,
            &format!("{text} The human may have used the browser meanwhile: read the current state before acting."),
        )
        .await;
        Ok(())
    }

    /// Asks for approval when the task requires it for this kind of action.
    pub(super) async fn approve(
        &mut self,
        browsing: &mut Browsing,
        action: &Action,
        call: &ToolCall,
        step: u32,
    ) -> Approval {
        let Some(kind) = human::approval_needed(browsing, action, self.require_approval).await
        else {
            return Approval::Go;
        };
        let line = self.secrets.redact(&steps::summary(
            action,
            action.index().and_then(|i| browsing.describe(i)),
        ));
        browsing.set_human_active(true);
        let reply = self
            .human
            .ask(HumanAsk::Approval {
                kind,
                action: line.clone(),
            })
            .await;
        browsing.set_human_active(false);
        // The human saw the page when deciding; what they did meanwhile is part of the answer.
        self.plan_epoch = self.human.control().epoch;
        match reply {
            HumanReply::Approved => Approval::Go,
            HumanReply::TimedOut { waited } => Approval::End(
                self.give_up(
                    call,
                    &format!("Nobody approved \"{line}\" ({kind}) within {waited}"),
                )
                .await,
            ),
            _ => {
                let label = self.secrets.redact(&short_call(call));
                self.history.push(format!(
                    "step {step}: {label} → rejected by the human ({kind}); not done"
                ));
                self.tool_error(
                    call,
                    &format!(
                        "The human rejected this action ({kind}); it was not done. Do not \
                         repeat it: find another way, or call done."
                    ),
                )
                .await;
                Approval::Skip
            }
        }
    }

    /// If a human has taken the browser since the step was planned, waits until they hand
    /// it back, then looks again. The task's end when the control never came back.
    pub(super) async fn yield_to_human(
        &mut self,
        browsing: &mut Browsing,
        step: u32,
    ) -> Option<TaskOutcome> {
        let control = self.human.control();
        if !control.held && control.epoch == self.plan_epoch {
            return None;
        }
        if control.held {
            browsing.set_human_active(true);
            let reply = self.human.ask(HumanAsk::Control).await;
            browsing.set_human_active(false);
            if let HumanReply::TimedOut { waited } = reply {
                let text = format!(
                    "The human took control of the browser and did not hand it back within \
                     {waited}"
                );
                self.append(steps::completion(&text, self.secrets)).await;
                return Some(TaskOutcome::Done {
                    output: self.text_output(&text),
                    success: false,
                    summary: Some(text),
                    stats: self.stats(),
                });
            }
        }
        self.history.push(format!(
            "step {step}: a human used the browser, then handed it back"
        ));
        self.after_human(
            browsing,
            "A human took control of the browser and has handed it back. The page may have \
             changed: read the current state before acting.",
        )
        .await;
        None
    }

    /// Picks up after a human had the browser: their tab becomes the agent's, the plan
    /// starts afresh, and the model is told.
    pub(super) async fn after_human(&mut self, browsing: &mut Browsing, note: &str) {
        self.plan_epoch = self.human.control().epoch;
        let mut note = note.to_string();
        match browsing.follow_human().await {
            Ok(Some(tab)) => note.push_str(&format!(
                " The human left the browser on tab {tab}, which is now your tab."
            )),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot take over the human's tab"),
        }
        self.notes.push(note);
    }

    /// Ends the task unsuccessfully because no human answered.
    pub(super) async fn give_up(&mut self, call: &ToolCall, text: &str) -> TaskOutcome {
        self.tool_error(call, text).await;
        self.append(steps::completion(text, self.secrets)).await;
        TaskOutcome::Done {
            output: self.text_output(text),
            success: false,
            summary: Some(one_line(text, steps::SUMMARY_CHARS)),
            stats: self.stats(),
        }
    }
}
