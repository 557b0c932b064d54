//! The browser's tabs as a live list, kept current from CDP's target events.
//!
//! Tabs opened by a page (popups, `target=_blank`), by the agent, by a human in the live view or
//! by a CDP client all show up here, because the list follows the browser rather than our own
//! calls. The "active" tab is the one most recently activated or opened: headless Chromium has
//! no window focus of its own, so Tandem keeps that notion for everyone who shares the browser.

use std::sync::{Arc, Mutex, MutexGuard};

use cdp::Connection;
use cdp::protocol::target;
use tokio::sync::broadcast;

use crate::error::BrowserError;

/// What a tab is, as far as those who share the browser care.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TabInfo {
    /// CDP's target id; stable for the tab's lifetime.
    pub id: String,
    /// The tab's current URL.
    pub url: String,
    /// The document title, empty until the page sets one.
    pub title: String,
    /// The tab that opened this one, for popups and `target=_blank` links.
    pub opener_id: Option<String>,
}

/// A change in the tab list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabEvent {
    /// A tab appeared; it is now the active one.
    Opened(TabInfo),
    /// A tab's URL or title changed.
    Changed(TabInfo),
    /// A tab became the active one.
    Activated(String),
    /// A tab closed.
    Closed(String),
}

#[derive(Default)]
struct State {
    /// In opening order.
    tabs: Vec<TabInfo>,
    /// Tab ids, least recently activated first.
    recency: Vec<String>,
}

impl State {
    fn touch(&mut self, id: &str) {
        self.recency.retain(|t| t != id);
        self.recency.push(id.to_string());
    }

    fn upsert(&mut self, info: TabInfo) -> Option<TabEvent> {
        match self.tabs.iter_mut().find(|t| t.id == info.id) {
            Some(existing) => {
                // A later info may lack the opener that the first one had.
                let opener_id = info.opener_id.clone().or(existing.opener_id.clone());
                let merged = TabInfo { opener_id, ..info };
                if *existing == merged {
                    return None;
                }
                *existing = merged;
                Some(TabEvent::Changed(existing.clone()))
            }
            None => {
                self.touch(&info.id);
                self.tabs.push(info.clone());
                Some(TabEvent::Opened(info))
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<TabEvent> {
        let before = self.tabs.len();
        self.tabs.retain(|t| t.id != id);
        self.recency.retain(|t| t != id);
        (self.tabs.len() != before).then(|| TabEvent::Closed(id.to_string()))
    }
}

/// The live tab list of one browser.
pub(crate) struct Tabs {
    state: Arc<Mutex<State>>,
    events: broadcast::Sender<TabEvent>,
}

fn page_tab(info: target::TargetInfo) -> Option<TabInfo> {
    info.is_page().then_some(TabInfo {
        id: info.target_id,
        url: info.url,
        title: info.title,
        opener_id: info.opener_id,
    })
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl Tabs {
    /// Starts following the browser's targets.
    pub(crate) async fn follow(cdp: &Connection) -> Result<Tabs, BrowserError> {
        let state = Arc::new(Mutex::new(State::default()));
        let (events, _) = broadcast::channel(256);
        // Subscribe before asking, so that no target is missed between the two.
        let mut stream = cdp.events();
        cdp.call(target::SetDiscoverTargets {
            discover: true,
            ..Default::default()
        })
        .await?;
        let existing = cdp.call(target::GetTargets::default()).await?;
        {
            let mut s = lock(&state);
            for tab in existing.target_infos.into_iter().filter_map(page_tab) {
                s.upsert(tab);
            }
        }

        let task_state = Arc::downgrade(&state);
        let task_events = events.clone();
        tokio::spawn(async move {
            while let Some(event) = stream.recv().await {
                let Some(state) = task_state.upgrade() else {
                    return;
                };
                let info = if let Some(Ok(e)) = event.parse::<target::TargetCreated>() {
                    Some(e.target_info)
                } else if let Some(Ok(e)) = event.parse::<target::TargetInfoChanged>() {
                    Some(e.target_info)
                } else {
                    None
                };
                let change = match (info, event.parse::<target::TargetDestroyed>()) {
                    (Some(info), _) => page_tab(info).and_then(|tab| lock(&state).upsert(tab)),
                    (None, Some(Ok(e))) => lock(&state).remove(&e.target_id),
                    _ => None,
                };
                if let Some(change) = change {
                    let _ = task_events.send(change);
                }
            }
        });
        Ok(Tabs { state, events })
    }

    /// Re-reads every tab's URL and title from the browser. Headless Chromium does not always
    /// send `Target.targetInfoChanged` when a page sets its title, so a list kept from events
    /// alone can show a tab by its URL long after it has a title.
    pub(crate) async fn refresh(&self, cdp: &Connection) -> Result<(), BrowserError> {
        let targets = cdp.call(target::GetTargets::default()).await?;
        let changes: Vec<TabEvent> = {
            let mut s = lock(&self.state);
            let mut changes = Vec::new();
            for tab in targets.target_infos.into_iter().filter_map(page_tab) {
                // Only tabs we already follow: new ones arrive through their events.
                if s.tabs.iter().any(|t| t.id == tab.id)
                    && let Some(change) = s.upsert(tab)
                {
                    changes.push(change);
                }
            }
            changes
        };
        for change in changes {
            let _ = self.events.send(change);
        }
        Ok(())
    }

    pub(crate) fn list(&self) -> Vec<TabInfo> {
        lock(&self.state).tabs.clone()
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        lock(&self.state).tabs.iter().any(|t| t.id == id)
    }

    pub(crate) fn active(&self) -> Option<TabInfo> {
        let s = lock(&self.state);
        let id = s.recency.last()?;
        s.tabs.iter().find(|t| &t.id == id).cloned()
    }

    pub(crate) fn subscribe(&self) -> broadcast::Receiver<TabEvent> {
        self.events.subscribe()
    }

    pub(crate) async fn create(
        &self,
        cdp: &Connection,
        url: &str,
    ) -> Result<TabInfo, BrowserError> {
        // An empty address is Chromium's `about:blank`.
        if !url.is_empty() {
            crate::address::refuse_unless_allowed(url)?;
        }
        let created = cdp
            .call(target::CreateTarget {
                url: url.to_string(),
                ..Default::default()
            })
            .await?;
        let tab = TabInfo {
            id: created.target_id,
            url: url.to_string(),
            title: String::new(),
            opener_id: None,
        };
        let change = {
            let mut s = lock(&self.state);
            let change = s.upsert(tab.clone());
            s.touch(&tab.id);
            change
        };
        if let Some(change) = change {
            let _ = self.events.send(change);
        }
        Ok(tab)
    }

    pub(crate) async fn activate(&self, cdp: &Connection, id: &str) -> Result<(), BrowserError> {
        if !self.contains(id) {
            return Err(BrowserError::NoSuchTab(id.to_string()));
        }
        cdp.call(target::ActivateTarget {
            target_id: id.to_string(),
        })
        .await?;
        lock(&self.state).touch(id);
        let _ = self.events.send(TabEvent::Activated(id.to_string()));
        Ok(())
    }

    pub(crate) async fn close(&self, cdp: &Connection, id: &str) -> Result<(), BrowserError> {
        if !self.contains(id) {
            return Err(BrowserError::NoSuchTab(id.to_string()));
        }
        cdp.call(target::CloseTarget {
            target_id: id.to_string(),
        })
        .await?;
        let change = lock(&self.state).remove(id);
        if let Some(change) = change {
            let _ = self.events.send(change);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tab(id: &str, url: &str) -> TabInfo {
        TabInfo {
            id: id.into(),
            url: url.into(),
            title: String::new(),
            opener_id: None,
        }
    }

    #[test]
    fn a_new_tab_becomes_active_and_closing_it_falls_back_to_the_previous_one() {
        let mut s = State::default();
        assert!(matches!(
            s.upsert(tab("a", "about:blank")),
            Some(TabEvent::Opened(_))
        ));
        assert!(matches!(
            s.upsert(tab("b", "http://x/")),
            Some(TabEvent::Opened(_))
        ));
        assert_eq!(s.recency.last().map(String::as_str), Some("b"));
        s.touch("a");
        assert_eq!(s.recency.last().map(String::as_str), Some("a"));
        assert_eq!(s.remove("a"), Some(TabEvent::Closed("a".into())));
        assert_eq!(s.recency, vec!["b".to_string()]);
        assert_eq!(s.remove("a"), None);
    }

    #[test]
    fn an_unchanged_info_is_not_an_event_and_the_opener_is_kept() {
        let mut s = State::default();
        let mut popup = tab("p", "about:blank");
        popup.opener_id = Some("a".into());
        s.upsert(popup.clone());
        assert_eq!(s.upsert(popup.clone()), None);
        // A refresh reports no opener; that alone is not a change.
        assert_eq!(s.upsert(tab("p", "about:blank")), None);
        let later = tab("p", "http://x/");
        match s.upsert(later) {
            Some(TabEvent::Changed(t)) => assert_eq!(t.opener_id.as_deref(), Some("a")),
            other => panic!("expected a change, got {other:?}"),
        }
    }
}
