//! Extraction: `browser_extract` reads the page's whole text, same-site frames inline and
//! cross-site frames through their own sessions.

use super::*;

impl Browsing {
    /// The page's whole text, frames included: same-process frames through the DOM (each
    /// under a `[frame ...]` line), out-of-process ones (another site's payment form, a
    /// widget) through their own sessions.
    pub(super) async fn extract(&mut self, query: &str) -> Result<Executed, ActionError> {
        let text = self.page.evaluate(PAGE_TEXT).await?;
        let mut text = text.as_str().unwrap_or_default().to_string();
        for (frame, session) in self.remote_frames().await {
            if let Ok(evaluated) = session
                .call(runtime::Evaluate {
                    expression: PAGE_TEXT.to_string(),
                    return_by_value: Some(true),
                    silent: Some(true),
                    ..Default::default()
                })
                .await
                && let Some(Value::String(inner)) = evaluated.result.value
                && !inner.trim().is_empty()
            {
                text.push_str(&format!("\n[frame {frame}]\n{inner}"));
            }
        }
        // Redacted before it is cut: a value cut in two would not be recognised.
        let text = self.secrets.redact(&text);
        let mut cut: String = text.chars().take(EXTRACT_MAX_CHARS).collect();
        if cut.len() < text.len() {
            cut.push_str("\n[… page text cut]");
        }
        Ok(Executed {
            text: format!(
                "Read {} characters of page text for {query:?}; shown in <read_state> once",
                text.chars().count()
            ),
            page_changed: false,
            read_state: Some(format!("Page text for {query:?}:\n{cut}")),
        })
    }

    /// The out-of-process frames of the agent's tab (the ones whose `<iframe>` is in the tab's
    /// document), by URL, with a session each.
    pub(super) async fn remote_frames(&mut self) -> Vec<(String, Session)> {
        let targets = self
            .browser
            .cdp()
            .call(cdp::protocol::target::GetTargets {
                filter: Some(vec![cdp::protocol::target::FilterEntry {
                    exclude: None,
                    r#type: Some("iframe".into()),
                }]),
            })
            .await
            .map(|r| r.target_infos)
            .unwrap_or_default();
        let mut frames = Vec::new();
        for target in targets {
            let owned = self
                .page
                .session()
                .call(dom::GetFrameOwner {
                    frame_id: target.target_id.clone(),
                })
                .await
                .is_ok();
            if !owned {
                continue;
            }
            let reference = ElementRef {
                backend_node_id: 0,
                frame_target: Some(target.target_id),
            };
            if let Ok(session) = self.node_session(&reference).await {
                frames.push((target.url, session));
            }
        }
        frames
    }
}

/// The visible text of a document and of the same-process frames inside it, each frame's
/// under a `[frame <title or address>]` line; frames of other sites are read apart.
const PAGE_TEXT: &str = include_str!("page_text.js");
