//! Tandem's server: the Browser Use Cloud v3 compatible HTTP API, authentication, the live
//! view (page, WebSocket, links), and the session supervisors that own each session's
//! lifecycle.
//!
//! This crate wires the lower layers together: `store` for persistence, `browser` for the
//! Chromium pool, `agent` for running tasks. It speaks CDP itself only in [`cdp_proxy`],
//! which relays clients' messages, and only a session's supervisor changes that session's
//! status. The `tandem` binary builds a [`Config`] and
//! calls [`Server::bind`] then [`Server::run`] (or [`serve`]).

pub mod api;
pub mod auth;
pub mod browsers;
pub mod cdp_proxy;
mod config;
mod downloads;
mod error;
mod files;
mod http;
pub mod links;
pub mod live;
mod mcp_route;
pub mod metrics;
pub mod owners;
pub mod profiles;
pub mod proxies;
pub mod router;
mod runner;
pub mod screenshots;
pub mod sessions;
pub mod state;
pub mod workspaces;

use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use agent::TaskRunner;
use browser::{LaunchOptions, Pool, PoolOptions};
use store::Store;
use tokio::net::TcpListener;

pub use auth::ApiKey;
pub use config::{
    Config, DEFAULT_HUMAN_WAIT, DEFAULT_IDLE_TIMEOUT, DEFAULT_LISTEN, DEFAULT_MAX_SESSION_DURATION,
    DEFAULT_MAX_SESSIONS, DEFAULT_POOL_SIZE,
};
pub use error::ServerError;
pub use sessions::Sessions;

use links::{LiveLinks, Signer};
use owners::Owners;
use sessions::SessionLimits;
use state::AppState;

/// Longest timeout accepted, so deadlines never overflow (ten years).
const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// A server that is listening but not yet serving; lets the caller learn the bound address
/// and the API key (e.g. to print them) before [`Server::run`].
pub struct Server {
    listener: TcpListener,
    local_addr: SocketAddr,
    api_key: ApiKey,
    sessions: Sessions,
    state: AppState,
    store: Arc<dyn Store>,
}

fn check(config: &Config) -> Result<(), ServerError> {
    for (name, value) in [
        ("idle timeout", config.idle_timeout),
        ("max session duration", config.max_session_duration),
        ("human wait", config.human_wait),
    ] {
        if value.is_zero() || value > MAX_DURATION {
            return Err(ServerError::Config(format!(
                "{name} must be between 1ms and 10 years, got {value:?}"
            )));
        }
    }
    if !(1.0..=3.0).contains(&config.device_scale_factor) {
        return Err(ServerError::Config(format!(
            "device scale factor must be between 1 and 3, got {}",
            config.device_scale_factor
        )));
    }
    if config.max_sessions == 0 {
        return Err(ServerError::Config(
            "max sessions must be at least 1".into(),
        ));
    }
    if let Some(url) = &config.public_url {
        let parsed = url::Url::parse(url)
            .map_err(|e| ServerError::Config(format!("public URL {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(ServerError::Config(format!(
                "public URL {url:?} must be http or https"
            )));
        }
    }
    if matches!(&config.api_key, Some(key) if key.trim().is_empty()) {
        return Err(ServerError::Config("the API key must not be empty".into()));
    }
    Ok(())
}

impl Server {
    /// Opens the data directory, settles sessions left over by a previous run, starts the
    /// browser pool and binds the listen address. Tasks run with the LLM agent when a
    /// provider is configured, else with [`NoAgent`] (see [`runner::from_config`]).
    pub async fn bind(config: Config) -> Result<Server, ServerError> {
        let runner = runner::from_config(&config)?;
        Server::bind_with_runner(config, runner).await
    }

    /// Like [`Server::bind`], with the given task runner (the agent).
    pub async fn bind_with_runner(
        config: Config,
        runner: Arc<dyn TaskRunner>,
    ) -> Result<Server, ServerError> {
        check(&config)?;
        std::fs::create_dir_all(&config.data_dir).map_err(|source| ServerError::DataDir {
            what: "cannot create the data directory",
            path: config.data_dir.clone(),
            source,
        })?;
        let data_dir = files::secure_data_dir(&config.data_dir)?;
        let api_key = match &config.api_key {
            Some(key) => ApiKey::given(key.trim().to_string()),
            None => ApiKey::load_or_create(&config.data_dir)?,
        };
        let signer = Signer::load_or_create(&config.data_dir)?;
        let (project_id, _) =
            files::read_or_create_secret(&config.data_dir.join("project_id"), || {
                uuid::Uuid::new_v4().to_string()
            })?;
        let project_id = uuid::Uuid::parse_str(&project_id).map_err(|_| {
            ServerError::Config(format!(
                "{} does not hold a UUID; delete it to generate a new one",
                config.data_dir.join("project_id").display()
            ))
        })?;
        let store = store::open(&config.database_url()).await?;
        let recovered = sessions::recover(store.as_ref()).await?;
        if recovered > 0 {
            tracing::info!(recovered, "settled sessions left active by a previous run");
        }
        let recovered = browsers::recover(store.as_ref()).await?;
        if recovered > 0 {
            tracing::info!(recovered, "settled browsers left active by a previous run");
        }

        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| ServerError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: config.listen,
            source,
        })?;

        // The browser sees nothing of the data directory but the folders it writes downloads
        // into and uploads from.
        let shared_dirs = vec![data_dir.join("downloads"), data_dir.join("workspaces")];
        for dir in &shared_dirs {
            std::fs::create_dir_all(dir).map_err(|source| ServerError::DataDir {
                what: "cannot create a data folder",
                path: dir.clone(),
                source,
            })?;
        }
        let mut launch = LaunchOptions {
            device_scale_factor: config.device_scale_factor,
            hidden_dirs: vec![data_dir.clone()],
            shared_dirs,
            ..LaunchOptions::default()
        };
        if let Some(chromium) = &config.chromium {
            launch.executable = chromium.clone();
        }
        let pool = Pool::start(PoolOptions {
            size: config.pool_size,
            launch,
        });
        let screenshots = screenshots::Screenshots::new(config.data_dir.join("screenshots"));
        let profiles = profiles::Profiles::new(
            store.clone() as Arc<dyn Store>,
            config.data_dir.join("profiles"),
        );
        let workspaces = workspaces::Workspaces::new(
            store.clone() as Arc<dyn Store>,
            config.data_dir.join("workspaces"),
        );
        let owners = Owners::new(
            store.clone() as Arc<dyn Store>,
            pool,
            config.data_dir.join("downloads"),
            config.max_sessions,
        );
        let sessions = Sessions::new(
            owners.clone(),
            runner,
            sessions::SessionFiles {
                screenshots: screenshots.clone(),
                profiles: profiles.clone(),
                workspaces: workspaces.clone(),
            },
            SessionLimits {
                max_sessions: config.max_sessions,
                idle_timeout: config.idle_timeout,
                max_duration: config.max_session_duration,
                human_wait: config.human_wait,
            },
        );
        let links = match &config.public_url {
            Some(url) => LiveLinks::public(url, signer),
            None => LiveLinks::new(&format!("http://{}", reachable(local_addr)), signer),
        };
        let live = live::Live::new(
            sessions.clone(),
            links.signer().clone(),
            browser::ScreencastSettings::default(),
        );
        let state = AppState {
            owners: owners.clone(),
            sessions: sessions.clone(),
            browsers: browsers::Browsers::new(owners.clone(), profiles.clone()),
            profiles,
            workspaces,
            project_id,
            links,
            screenshots,
            live,
            proxies: Arc::new(config.proxies.clone()),
        };
        Ok(Server {
            listener,
            local_addr,
            api_key,
            sessions,
            state,
            store,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The API key clients must send.
    pub fn api_key(&self) -> &ApiKey {
        &self.api_key
    }

    /// The session domain, for in-process callers (the live view touches sessions).
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }

    /// Serves until `shutdown` resolves, then stops every session's browser and the pool.
    /// Stored session states are left for the next start's recovery.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let app = router::router(self.state, self.api_key.clone());
        let app = mcp_route::mount(app, self.api_key);
        tracing::info!(addr = %self.local_addr, "serving");
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        self.sessions.owners().shutdown().await;
        if let Err(error) = self.store.close().await {
            tracing::warn!(%error, "closing the store");
        }
        tracing::info!("stopped");
        served.map_err(ServerError::Serve)
    }
}

/// The address to put in links: a wildcard bind is reached through loopback locally.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        ip if ip.is_unspecified() => {
            let loopback = match ip {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(_) => IpAddr::V6(std::net::Ipv6Addr::LOCALHOST),
            };
            SocketAddr::new(loopback, addr.port())
        }
        _ => addr,
    }
}

/// Binds and serves until `shutdown` resolves; see [`Server`].
pub async fn serve(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Server::bind(config).await?.run(shutdown).await
}
