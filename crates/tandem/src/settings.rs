//! Configuration of `tandem serve`, by precedence: flags, `TANDEM_*` environment variables,
//! the TOML file given with `--config`, built-in defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use serde::Deserialize;

/// Flags of `tandem serve`; each also reads its `TANDEM_*` environment variable.
#[derive(Debug, Clone, Default, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one) [default: 127.0.0.1:8080]
    #[arg(long, env = "TANDEM_LISTEN")]
    listen: Option<SocketAddr>,
    /// Directory for the database, secrets and the generated API key [default: ./data]
    #[arg(long, env = "TANDEM_DATA_DIR")]
    data_dir: Option<PathBuf>,
    /// Database URL: postgres://user:password@host:port/db stores everything in PostgreSQL
    /// (several nodes can share it) [default: SQLite in the data directory]
    #[arg(long, env = "TANDEM_DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// TOML file with any of these settings (keys in snake_case, e.g. idle_timeout = "15m")
    #[arg(long, env = "TANDEM_CONFIG")]
    config: Option<PathBuf>,
    /// Warm browsers kept ready [default: 2]
    #[arg(long, env = "TANDEM_POOL_SIZE")]
    pool_size: Option<usize>,
    /// Active sessions allowed at once [default: 8]
    #[arg(long, env = "TANDEM_MAX_SESSIONS")]
    max_sessions: Option<usize>,
    /// Inactivity before an idle session times out, e.g. 30s, 15m [default: 15m]
    #[arg(long, env = "TANDEM_IDLE_TIMEOUT", value_parser = humantime::parse_duration)]
    idle_timeout: Option<Duration>,
    /// Longest life of a session, e.g. 4h [default: 4h]
    #[arg(long, env = "TANDEM_MAX_SESSION_DURATION", value_parser = humantime::parse_duration)]
    max_session_duration: Option<Duration>,
    /// How long a task waits for a human (an answer, an approval, the control back) before
    /// it ends, e.g. 10m [default: 10m]
    #[arg(long, env = "TANDEM_HUMAN_WAIT", value_parser = humantime::parse_duration)]
    human_wait: Option<Duration>,
    /// Device pixels per CSS pixel the browsers render at: 2 makes the live view sharp on
    /// HiDPI screens (more bytes and CPU per frame) [default: 1]
    #[arg(long, env = "TANDEM_DEVICE_SCALE_FACTOR")]
    device_scale_factor: Option<f64>,
    /// Base URL clients reach the server at, used in live-view links
    #[arg(long, env = "TANDEM_PUBLIC_URL")]
    public_url: Option<String>,
    /// Chromium binary [default: /usr/lib/chromium/chromium]
    #[arg(long, env = "TANDEM_CHROMIUM")]
    chromium: Option<PathBuf>,
    /// Cost cap in USD of a task whose request sets no `maxCostUsd` [default: none]
    #[arg(long, env = "TANDEM_MAX_COST_USD")]
    max_cost_usd: Option<f64>,
    /// Only from the environment: a key on the command line would show in `ps`.
    #[arg(skip)]
    api_key: Option<String>,
}

/// The `--config` file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    api_key: Option<String>,
    pool_size: Option<usize>,
    max_sessions: Option<usize>,
    idle_timeout: Option<String>,
    max_session_duration: Option<String>,
    human_wait: Option<String>,
    device_scale_factor: Option<f64>,
    public_url: Option<String>,
    chromium: Option<PathBuf>,
    max_cost_usd: Option<f64>,
    /// The LLM provider (`[llm]`); `TANDEM_LLM_*` variables override it.
    llm: Option<agent::llm::LlmToml>,
    /// The agent loop (`[agent]`).
    agent: Option<AgentSettingsFile>,
    /// Upstream proxies by country code (`[proxies]`: `us = "http://user:pass@host:port"`,
    /// `de = "socks5://..."`, `default = ...` for codes without an entry).
    proxies: Option<std::collections::BTreeMap<String, String>>,
    /// US dollars per GB through a proxy, for `proxyCost`/`proxyCostUsd` (default 0).
    proxy_price_per_gb: Option<f64>,
}

/// The `[proxies]` table checked: keys are two-letter country codes or `default`, values
/// proxy URLs. Errors name the key, never the URL (it may hold a password).
fn proxies(
    table: Option<std::collections::BTreeMap<String, String>>,
    price_per_gb: Option<f64>,
) -> anyhow::Result<server::proxies::ProxySettings> {
    let mut settings = server::proxies::ProxySettings::default();
    if let Some(price) = price_per_gb {
        anyhow::ensure!(
            price.is_finite() && price >= 0.0,
            "proxy_price_per_gb must be a number of dollars, 0 or more"
        );
        settings.price_per_gb_usd = price;
    }
    for (key, url) in table.unwrap_or_default() {
        let key = key.to_ascii_lowercase();
        anyhow::ensure!(
            key == server::proxies::DEFAULT_ENTRY
                || (key.len() == 2 && key.chars().all(|c| c.is_ascii_alphabetic())),
            "[proxies] {key:?}: keys are two-letter country codes (us, de, ...) or \"default\""
        );
        let proxy = browser::proxy::UpstreamProxy::parse(&url)
            .map_err(|e| anyhow::anyhow!("[proxies] {key}: {e}"))?;
        settings.table.insert(key, proxy);
    }
    Ok(settings)
}

/// The `[agent]` table, e.g.
///
/// ```toml
/// [agent]
/// max_steps = 30
/// max_failures = 3
/// vision = true
/// upload_dirs = ["/srv/tandem/uploads"]
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AgentSettingsFile {
    /// Steps per task (default 50); the last may only call `done`.
    max_steps: Option<u32>,
    /// Consecutive failed steps before `done` is forced (default 3).
    max_failures: Option<u32>,
    /// Send a screenshot with each step (vision models).
    vision: Option<bool>,
    /// Longest the task waits for the model to answer, over retries, e.g. "2m" (default 2m);
    /// `llm_timeout` is its old name.
    #[serde(alias = "llm_timeout")]
    llm_wait: Option<String>,
    /// Directories `browser_upload_file` may take files from (default: none, uploads off).
    #[serde(default)]
    upload_dirs: Vec<PathBuf>,
}

impl AgentSettingsFile {
    fn resolve(self) -> anyhow::Result<agent::AgentSettings> {
        let defaults = agent::AgentSettings::default();
        Ok(agent::AgentSettings {
            max_steps: self.max_steps.unwrap_or(defaults.max_steps).max(1),
            max_failures: self.max_failures.unwrap_or(defaults.max_failures).max(1),
            vision: self.vision.unwrap_or(defaults.vision),
            llm_wait: duration("agent.llm_wait", self.llm_wait)?.unwrap_or(defaults.llm_wait),
            actions: agent::actions::ActionOptions {
                upload_dirs: self.upload_dirs,
            },
            ..defaults
        })
    }
}

fn duration(name: &str, value: Option<String>) -> anyhow::Result<Option<Duration>> {
    value
        .map(|text| {
            humantime::parse_duration(&text)
                .with_context(|| format!("{name} = {text:?} is not a duration like 30s or 15m"))
        })
        .transpose()
}

fn read_file(path: &Path) -> anyhow::Result<FileSettings> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config file {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
}

impl ServeArgs {
    /// The server configuration these flags, the environment and the file describe.
    pub fn resolve(mut self) -> anyhow::Result<server::Config> {
        if self.api_key.is_none() {
            self.api_key = std::env::var("TANDEM_API_KEY")
                .ok()
                .filter(|key| !key.trim().is_empty());
        }
        let file = match &self.config {
            Some(path) => read_file(path)?,
            None => FileSettings::default(),
        };
        self.merge(file)
    }

    fn merge(self, file: FileSettings) -> anyhow::Result<server::Config> {
        let defaults = server::Config::default();
        let mut agent = file.agent.unwrap_or_default().resolve()?;
        agent.max_cost_usd = self.max_cost_usd.or(file.max_cost_usd);
        if let Some(cap) = agent.max_cost_usd
            && !(cap.is_finite() && cap >= 0.0)
        {
            anyhow::bail!("max_cost_usd = {cap} is not a non-negative amount of USD");
        }
        Ok(server::Config {
            listen: self.listen.or(file.listen).unwrap_or(defaults.listen),
            data_dir: self.data_dir.or(file.data_dir).unwrap_or(defaults.data_dir),
            database_url: self
                .database_url
                .or(file.database_url)
                .filter(|url| !url.trim().is_empty()),
            api_key: self.api_key.or(file.api_key),
            public_url: self.public_url.or(file.public_url),
            pool_size: self
                .pool_size
                .or(file.pool_size)
                .unwrap_or(defaults.pool_size),
            max_sessions: self
                .max_sessions
                .or(file.max_sessions)
                .unwrap_or(defaults.max_sessions),
            idle_timeout: self
                .idle_timeout
                .or(duration("idle_timeout", file.idle_timeout)?)
                .unwrap_or(defaults.idle_timeout),
            max_session_duration: self
                .max_session_duration
                .or(duration("max_session_duration", file.max_session_duration)?)
                .unwrap_or(defaults.max_session_duration),
            human_wait: self
                .human_wait
                .or(duration("human_wait", file.human_wait)?)
                .unwrap_or(defaults.human_wait),
            device_scale_factor: self
                .device_scale_factor
                .or(file.device_scale_factor)
                .unwrap_or(defaults.device_scale_factor),
            chromium: self.chromium.or(file.chromium),
            llm: file.llm,
            agent,
            proxies: proxies(file.proxies, file.proxy_price_per_gb)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn file(text: &str) -> FileSettings {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let args = Wrapper::parse_from(["tandem", "--idle-timeout", "3s", "--pool-size", "1"]).args;
        let config = args
            .merge(file(
                "idle_timeout = \"1m\"\nmax_session_duration = \"2h\"\npool_size = 5\nlisten = \"0.0.0.0:9000\"",
            ))
            .unwrap();
        assert_eq!(config.idle_timeout, Duration::from_secs(3));
        assert_eq!(config.pool_size, 1);
        assert_eq!(config.max_session_duration, Duration::from_secs(7200));
        assert_eq!(config.listen, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(config.max_sessions, server::DEFAULT_MAX_SESSIONS);
        assert_eq!(config.data_dir, PathBuf::from("./data"));
    }

    #[test]
    fn defaults_apply_without_anything() {
        let config = ServeArgs::default().merge(FileSettings::default()).unwrap();
        assert_eq!(config.listen.to_string(), server::DEFAULT_LISTEN);
        assert_eq!(config.idle_timeout, server::DEFAULT_IDLE_TIMEOUT);
        assert_eq!(
            config.max_session_duration,
            server::DEFAULT_MAX_SESSION_DURATION
        );
        assert_eq!(config.api_key, None);
    }

    #[test]
    fn llm_and_agent_tables_are_read() {
        let config = ServeArgs::default()
            .merge(file(
                "[llm]\nprovider = \"openai\"\nbase_url = \"http://127.0.0.1:11434/v1\"\n\
                 [llm.models]\n\"bu-mini\" = \"qwen3:8b\"\n\
                 [agent]\nmax_steps = 7\nupload_dirs = [\"/tmp\"]",
            ))
            .unwrap();
        let llm = config.llm.unwrap();
        assert_eq!(llm.models["bu-mini"], "qwen3:8b");
        assert_eq!(config.agent.max_steps, 7);
        assert_eq!(config.agent.actions.upload_dirs, [PathBuf::from("/tmp")]);
        assert!(toml::from_str::<FileSettings>("[agent]\nsteps = 1").is_err());
    }

    #[test]
    fn the_proxy_table_is_read_and_its_errors_show_no_password() {
        let config = ServeArgs::default()
            .merge(file(
                "proxy_price_per_gb = 2.5\n[proxies]\nUS = \"http://u:p@10.0.0.1:3128\"\n\
                 default = \"socks5://proxy.example:1080\"",
            ))
            .unwrap();
        assert_eq!(config.proxies.price_per_gb_usd, 2.5);
        assert_eq!(
            config.proxies.table["us"].to_string(),
            "http://10.0.0.1:3128"
        );
        assert_eq!(config.proxies.for_country("fr").unwrap().port, 1080);
        let err = ServeArgs::default()
            .merge(file("[proxies]\nus = \"http://u:hunter2@host\""))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("[proxies] us") && !err.contains("hunter2"),
            "{err}"
        );
        assert!(
            ServeArgs::default()
                .merge(file("[proxies]\nusa = \"http://h:1\""))
                .is_err()
        );
    }

    #[test]
    fn database_url_comes_from_the_flag_else_the_file_else_sqlite() {
        let config = ServeArgs::default()
            .merge(file(
                "database_url = \"postgres://t@127.0.0.1:5432/tandem\"",
            ))
            .unwrap();
        assert_eq!(config.database_url(), "postgres://t@127.0.0.1:5432/tandem");
        let args = Wrapper::parse_from([
            "tandem",
            "--database-url",
            "postgres://flag@127.0.0.1/db",
            "--data-dir",
            "/srv/tandem",
        ])
        .args;
        let config = args
            .merge(file("database_url = \"postgres://file@127.0.0.1/db\""))
            .unwrap();
        assert_eq!(config.database_url(), "postgres://flag@127.0.0.1/db");
        let config = ServeArgs::default().merge(FileSettings::default()).unwrap();
        assert_eq!(config.database_url(), "sqlite://./data/tandem.db");
    }

    #[test]
    fn bad_file_values_are_reported() {
        assert!(toml::from_str::<FileSettings>("unknown = 1").is_err());
        let err = ServeArgs::default()
            .merge(file("idle_timeout = \"soon\""))
            .unwrap_err();
        assert!(err.to_string().contains("idle_timeout"));
        let err = ServeArgs::default()
            .merge(file("max_cost_usd = -1"))
            .unwrap_err();
        assert!(err.to_string().contains("max_cost_usd"));
    }

    #[test]
    fn the_default_cost_cap_comes_from_the_flag_or_the_file() {
        let config = ServeArgs::default()
            .merge(file("max_cost_usd = 2.5"))
            .unwrap();
        assert_eq!(config.agent.max_cost_usd, Some(2.5));
        let args = Wrapper::parse_from(["tandem", "--max-cost-usd", "0.75"]).args;
        let config = args.merge(file("max_cost_usd = 2.5")).unwrap();
        assert_eq!(config.agent.max_cost_usd, Some(0.75));
        let config = ServeArgs::default().merge(FileSettings::default()).unwrap();
        assert_eq!(config.agent.max_cost_usd, None);
    }
}
