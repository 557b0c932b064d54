//! What every HTTP handler can reach: the domains (sessions, browsers, profiles, workspaces),
//! the live views, the owner runtime and the link builder. Handlers that need only part of
//! it take that part ([`FromRef`]), so the live view never names the whole state.

use axum::extract::FromRef;

use crate::browsers::Browsers;
use crate::links::LiveLinks;
use crate::live::Live;
use crate::owners::Owners;
use crate::profiles::Profiles;
use crate::screenshots::Screenshots;
use crate::sessions::Sessions;
use crate::workspaces::Workspaces;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The owner runtime: live browsers by id, the slot limit, the downloads root.
    pub owners: Owners,
    /// The session domain.
    pub sessions: Sessions,
    /// Standalone browsers.
    pub browsers: Browsers,
    /// Browser profiles.
    pub profiles: Profiles,
    /// Workspaces and their files.
    pub workspaces: Workspaces,
    /// This server's project id (`AccountView.projectId`), kept in the data directory.
    pub project_id: uuid::Uuid,
    /// Builder of `liveUrl`s.
    pub links: LiveLinks,
    /// The live views.
    pub live: Live,
    /// Step screenshots, served by signed links.
    pub screenshots: Screenshots,
    /// The operator's proxy table and price per GB.
    pub proxies: std::sync::Arc<crate::proxies::ProxySettings>,
}

impl FromRef<AppState> for Live {
    fn from_ref(state: &AppState) -> Live {
        state.live.clone()
    }
}
