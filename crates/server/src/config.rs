//! What an operator can tune, with the defaults of the design brief.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Server settings. The `tandem` binary fills this from flags, environment and a TOML file;
/// tests build it directly.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port (see [`crate::Server::local_addr`]).
    pub listen: SocketAddr,
    /// Where the database, the token secret and a generated API key live.
    pub data_dir: PathBuf,
    /// The store's URL (`postgres://...` to share one database between nodes); `None` is
    /// the embedded SQLite file `<data_dir>/tandem.db`.
    pub database_url: Option<String>,
    /// The API key clients must send; `None` loads or creates one in the data directory.
    pub api_key: Option<String>,
    /// Base URL clients reach this server at, used in `liveUrl`; defaults to the bound
    /// address.
    pub public_url: Option<String>,
    /// Warm browsers kept ready so that creating a session costs milliseconds.
    pub pool_size: usize,
    /// Active sessions (created, idle, running) allowed at once; past it, 429.
    pub max_sessions: usize,
    /// How long a session may sit idle (no task running) before it times out.
    pub idle_timeout: Duration,
    /// How long a session may live at most, even while running a task.
    pub max_session_duration: Duration,
    /// How long a task waits for a human (an answer to `ask_human`, an approval, the control
    /// handed back) before it ends unsuccessfully.
    pub human_wait: Duration,
    /// Device pixels per CSS pixel browsers render at: 2 gives HiDPI viewers of the live view
    /// sharp frames, at a cost in bytes and CPU per frame.
    pub device_scale_factor: f64,
    /// Chromium binary; `None` uses Debian's `/usr/lib/chromium/chromium`.
    pub chromium: Option<PathBuf>,
    /// The settings file's `[llm]` table; `TANDEM_LLM_*` and the vendors' usual variables
    /// complete or override it. With no provider anywhere, tasks run with [`agent::NoAgent`].
    pub llm: Option<agent::llm::LlmToml>,
    /// How the agent loop behaves: step budget, failure limit, upload directories, vision.
    pub agent: agent::AgentSettings,
    /// Upstream proxies by country (`[proxies]`) and their price per GB.
    pub proxies: crate::proxies::ProxySettings,
}

/// Default listen address: loopback only, so a fresh install is not exposed by accident.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default inactivity timeout, as documented for Browser Use Cloud.
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Default maximum session duration, as documented for Browser Use Cloud.
pub const DEFAULT_MAX_SESSION_DURATION: Duration = Duration::from_secs(4 * 60 * 60);
/// Default wait for a human inside a task: shorter than the inactivity timeout, so a
/// forgotten question ends the task before the session itself times out.
pub const DEFAULT_HUMAN_WAIT: Duration = Duration::from_secs(10 * 60);
/// Default warm-pool size: two browsers cover the common create-then-run flow on 2 cores.
pub const DEFAULT_POOL_SIZE: usize = 2;
/// Default concurrent-session limit, sized for a small machine (~150 MB per Chromium).
pub const DEFAULT_MAX_SESSIONS: usize = 8;

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            api_key: None,
            public_url: None,
            pool_size: DEFAULT_POOL_SIZE,
            max_sessions: DEFAULT_MAX_SESSIONS,
            idle_timeout: DEFAULT_IDLE_TIMEOUT,
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            human_wait: DEFAULT_HUMAN_WAIT,
            device_scale_factor: 1.0,
            chromium: None,
            llm: None,
            agent: agent::AgentSettings::default(),
            proxies: crate::proxies::ProxySettings::default(),
        }
    }
}

impl Config {
    /// The URL [`store::open`] gets: [`Config::database_url`], else SQLite in the data
    /// directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("tandem.db").display()),
        }
    }
}
