//! What the model reads: a short system prompt, and one fresh state message per step.
//!
//! Not a growing transcript: each step sends the task, the earlier tasks of the session, a
//! compact history (one line per action), the current page, and one-off notes. The model's
//! earlier answers are not replayed, which keeps every call about the same size.

use std::fmt::Write;

use crate::PriorTask;

/// The system prompt. Short on purpose: the tools carry their own descriptions.
pub(crate) const SYSTEM: &str = "\
You are Tandem's browser agent. You drive a real browser, shared live with a human, to \
complete the user's task. Each turn you get the task, your history and the current browser \
state; answer with one or more tool calls. They run in order; once one changes the page, the \
rest are skipped (their indexes belong to the old page).

Browser state:
- elements: the interactive elements in view, one per line: [index] role \"name\" attributes. \
Use only indexes from the latest state.
- text: the visible text of the page. Scroll, or use browser_extract, to read beyond it.
- tabs: the current tab is marked *. The human may have used the browser since your last \
task: trust the state, not your memory.

Rules:
- Type into fields with browser_type (submit=true presses Enter). Native selects: \
browser_select. Custom dropdowns: click to open, then click the option.
- Close popups and cookie banners first. If an action fails twice, try another way.
- Never invent data: report only what you saw on pages during this task.
- Secrets: write <secret>name</secret> in browser_type; you never see their values.
- If only the human can proceed (login, CAPTCHA, a personal choice), call ask_human.
- Finish with done, alone in its turn. success=false if any part is missing.";

/// The parts of a step's state message.
pub(crate) struct StepPrompt<'a> {
    pub task: &'a str,
    pub previous: &'a [PriorTask],
    pub secret_keys: Vec<&'a str>,
    pub has_schema: bool,
    pub history: &'a [String],
    pub read_state: Option<&'a str>,
    pub state: &'a str,
    /// The files `browser_upload_file` may use, one per line, when the page has a file input.
    pub uploads: Option<&'a str>,
    pub notes: &'a [String],
    pub step: u32,
    pub max_steps: u32,
}

/// History lines kept verbatim; older ones are counted, not shown.
const HISTORY_KEPT: usize = 40;
/// Longest earlier-task output shown.
const PRIOR_OUTPUT_CHARS: usize = 1_500;

impl StepPrompt<'_> {
    /// The state message.
    pub(crate) fn render(&self) -> String {
        let mut out = String::with_capacity(self.state.len() + 1024);
        let _ = writeln!(out, "<task>\n{}\n</task>", self.task.trim());
        if !self.previous.is_empty() {
            out.push_str("<earlier_tasks>\nEarlier tasks in this session (the browser is as they and the human left it):\n");
            for (i, prior) in self.previous.iter().enumerate() {
                let result = match &prior.output {
                    Some(o) => cut(o, PRIOR_OUTPUT_CHARS),
                    None => "(no result)".into(),
                };
                let _ = writeln!(
                    out,
                    "{}. {}\n   result: {}",
                    i + 1,
                    prior.task.trim(),
                    result
                );
            }
            out.push_str("</earlier_tasks>\n");
        }
        if !self.secret_keys.is_empty() {
            let keys: Vec<String> = self
                .secret_keys
                .iter()
                .map(|k| format!("<secret>{k}</secret>"))
                .collect();
            let _ = writeln!(out, "<secrets>Available: {}</secrets>", keys.join(", "));
        }
        if self.has_schema {
            out.push_str("<output>done must carry data matching the JSON schema of its data parameter.</output>\n");
        }
        if !self.history.is_empty() {
            out.push_str("<history>\n");
            let skipped = self.history.len().saturating_sub(HISTORY_KEPT);
            if skipped > 0 {
                let _ = writeln!(out, "[{skipped} earlier actions omitted]");
            }
            for line in &self.history[skipped..] {
                out.push_str(line);
                out.push('\n');
            }
            out.push_str("</history>\n");
        }
        if let Some(read) = self.read_state {
            let _ = writeln!(out, "<read_state>\n{read}\n</read_state>");
        }
        let _ = writeln!(out, "<browser_state>\n{}</browser_state>", self.state);
        if let Some(files) = self.uploads {
            let _ = writeln!(
                out,
                "<uploadable_files>\nbrowser_upload_file takes these paths:\n{files}\n</uploadable_files>"
            );
        }
        for note in self.notes {
            let _ = writeln!(out, "<note>{note}</note>");
        }
        let _ = write!(out, "Step {} of {}.", self.step, self.max_steps);
        out
    }
}

/// `text` cut to `max` characters with an ellipsis.
pub(crate) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `text` on one line, cut to `max` characters: for summaries.
pub(crate) fn one_line(text: &str, max: usize) -> String {
    cut(&text.split_whitespace().collect::<Vec<_>>().join(" "), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_state_last_with_step_info() {
        let previous = [PriorTask {
            task: "find a lamp".into(),
            output: Some("Desk lamp".into()),
            success: Some(true),
        }];
        let history = ["step 1: browser_click [3] → Clicked".to_string()];
        let prompt = StepPrompt {
            task: "buy it",
            previous: &previous,
            secret_keys: vec!["password"],
            has_schema: false,
            history: &history,
            read_state: None,
            state: "url: http://x/\n",
            uploads: Some("report.pdf"),
            notes: &["Do not repeat".to_string()],
            step: 2,
            max_steps: 50,
        }
        .render();
        assert!(prompt.starts_with("<task>\nbuy it\n</task>"));
        assert!(prompt.contains("1. find a lamp\n   result: Desk lamp"));
        assert!(prompt.contains("<secret>password</secret>"));
        assert!(prompt.contains("<browser_state>\nurl: http://x/\n</browser_state>"));
        assert!(prompt.contains("<uploadable_files>\nbrowser_upload_file takes these paths:\nreport.pdf\n</uploadable_files>"));
        assert!(prompt.ends_with("Step 2 of 50."));
        assert_eq!(one_line("a\n  b", 10), "a b");
        assert_eq!(cut("abcdef", 4), "abc…");
    }
}
