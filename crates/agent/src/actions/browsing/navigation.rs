//! Navigation and tabs: `browser_navigate`, `browser_switch_tab`, `browser_close_tab`,
//! `browser_go_back`.

use super::*;

impl Browsing {
    pub(super) async fn navigate(
        &mut self,
        url: &str,
        new_tab: bool,
    ) -> Result<Executed, ActionError> {
        let url = normalize_url(url)?;
        if new_tab {
            let tab = self.browser.new_tab(&url).await?;
            self.switch_to(&tab.id).await?;
            wait_ready(&self.page).await;
        } else {
            self.page.navigate(&url).await?;
        }
        Ok(Executed {
            text: format!("Opened {url}{}", if new_tab { " in a new tab" } else { "" }),
            page_changed: true,
            read_state: None,
        })
    }

    pub(super) fn find_tab(&self, tab_id: &str) -> Result<String, ActionError> {
        let wanted = tab_id.trim().to_ascii_lowercase();
        self.browser
            .tabs()
            .into_iter()
            .map(|t| t.id)
            .find(|id| {
                let id = id.to_ascii_lowercase();
                !wanted.is_empty() && (id == wanted || id.ends_with(&wanted))
            })
            .ok_or_else(|| ActionError::NoSuchTab(tab_id.to_string()))
    }

    pub(super) async fn switch_tab(&mut self, tab_id: &str) -> Result<Executed, ActionError> {
        let id = self.find_tab(tab_id)?;
        self.switch_to(&id).await?;
        let url = self.current_url().await;
        Ok(Executed {
            text: format!("Switched to tab {} ({url})", Tab::short_id(&id)),
            page_changed: true,
            read_state: None,
        })
    }

    pub(super) async fn close_tab(&mut self, tab_id: &str) -> Result<Executed, ActionError> {
        let id = self.find_tab(tab_id)?;
        self.browser.close_tab(&id).await?;
        let mut text = format!("Closed tab {}", Tab::short_id(&id));
        if id == self.page.tab_id() {
            let next = match self.browser.tabs().into_iter().rfind(|t| t.id != id) {
                Some(tab) => tab.id,
                None => self.browser.new_tab("about:blank").await?.id,
            };
            self.switch_to(&next).await?;
            text.push_str(&format!("; now on tab {}", Tab::short_id(&next)));
        }
        Ok(Executed {
            text,
            page_changed: true,
            read_state: None,
        })
    }

    pub(super) async fn go_back(&mut self) -> Result<Executed, ActionError> {
        let session = self.page.session().clone();
        let history = session.call(page::GetNavigationHistory {}).await?;
        let back = usize::try_from(history.current_index - 1)
            .ok()
            .and_then(|i| history.entries.get(i))
            .ok_or_else(|| ActionError::Failed("there is no previous page in this tab".into()))?
            .clone();
        let mut events = session.events();
        session
            .call(page::NavigateToHistoryEntry { entry_id: back.id })
            .await?;
        let arrived = async {
            while let Some(event) = events.recv().await {
                if event.is::<page::LoadEventFired>() {
                    return;
                }
                // Restored from the back/forward cache: no load event follows.
                if let Some(Ok(nav)) = event.parse::<page::FrameNavigated>()
                    && nav.frame.parent_id.is_none()
                    && nav.r#type == Some(page::NavigationType::BackForwardCacheRestore)
                {
                    return;
                }
            }
        };
        let _ = timeout(LOAD_WAIT, arrived).await;
        Ok(Executed {
            text: format!("Went back to {}", back.url),
            page_changed: true,
            read_state: None,
        })
    }
}
