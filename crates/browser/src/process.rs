//! The one place that spawns Chromium, and the one place that kills it.
//!
//! Each browser runs in its own process group so that killing the group takes the zygote,
//! renderers and utility processes with it; its exit is watched by a task that owns the child,
//! so a crash is noticed at once and the process is always reaped.

use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStderr, Command};
use tokio::sync::watch;

use crate::error::BrowserError;
use crate::options::LaunchOptions;

/// Why a browser's process is gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exit {
    /// False when Tandem stopped it on purpose; true for anything else (killed, crashed, OOM).
    pub crashed: bool,
    /// A human-readable account, e.g. "killed by signal 9".
    pub reason: String,
}

/// A running Chromium process and its profile directory.
pub(crate) struct Process {
    pub(crate) pid: u32,
    /// Tandem's ends of the DevTools pipe, taken by [`crate::Browser::launch`].
    pub(crate) pipe: std::sync::Mutex<Option<(OwnedFd, OwnedFd)>>,
    pub(crate) profile_dir: PathBuf,
    pub(crate) exit: watch::Receiver<Option<Exit>>,
    stopping: watch::Sender<bool>,
}

impl Process {
    /// Starts Chromium with its DevTools on a pipe (see [`Process::take_pipe`]).
    pub(crate) async fn spawn(options: &LaunchOptions) -> Result<Process, BrowserError> {
        let profile_dir = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .tempdir()
            .map_err(BrowserError::ProfileDir)?
            .keep();
        // Chromium leaves its process-singleton links (`org.chromium.Chromium.*`) in the temp
        // directory when killed; giving it one inside our directory makes `stop` remove them.
        let temp_dir = profile_dir.join("tmp");
        if let Err(e) = std::fs::create_dir(&temp_dir) {
            remove_profile(&profile_dir).await;
            return Err(BrowserError::ProfileDir(e));
        }
        if let Some(seed) = &options.profile_seed {
            let user_data = profile_dir.join("profile");
            let (seed, target) = (seed.clone(), user_data.clone());
            let seeded =
                tokio::task::spawn_blocking(move || crate::profile::seed_parts(&seed, &target))
                    .await
                    .map_err(|e| BrowserError::Profile(format!("the seeding task failed: {e}")))
                    .and_then(|r| r);
            if let Err(e) = seeded {
                remove_profile(&profile_dir).await;
                return Err(e);
            }
        }
        adopt_orphans();
        let marker = format!(
            "{}-{}",
            std::process::id(),
            NEXT_MARKER.fetch_add(1, Ordering::Relaxed)
        );
        let home = profile_dir.join("home");
        if let Err(e) = std::fs::create_dir(&home) {
            remove_profile(&profile_dir).await;
            return Err(BrowserError::ProfileDir(e));
        }
        let pipe = match crate::confine::DevtoolsPipe::new() {
            Ok(pipe) => pipe,
            Err(e) => {
                remove_profile(&profile_dir).await;
                return Err(BrowserError::Start(format!(
                    "cannot create the DevTools pipe: {e}"
                )));
            }
        };
        let ends = pipe.child_ends();
        // As root, Chromium runs as the browser user: its profile is that user's (Tandem reads
        // it back as root); the mount plan's files (made below) stay root's, readable.
        if let Err(e) = crate::user::give(&profile_dir) {
            remove_profile(&profile_dir).await;
            return Err(BrowserError::ProfileDir(e));
        }
        let spawned = match mount_plan(options, &profile_dir) {
            Some(plan) => {
                match launch(
                    options,
                    &profile_dir,
                    &temp_dir,
                    &home,
                    &marker,
                    Some(plan),
                    ends,
                )
                .await
                {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        MOUNTS_UNAVAILABLE.store(true, Ordering::Relaxed);
                        tracing::warn!(
                            error = %e,
                            "cannot give Chromium a mount namespace of its own; browsers run \
                             without Tandem's URL policy inside Chromium and see the data directory"
                        );
                        launch(options, &profile_dir, &temp_dir, &home, &marker, None, ends).await
                    }
                    spawned => spawned,
                }
            }
            None => launch(options, &profile_dir, &temp_dir, &home, &marker, None, ends).await,
        };
        // The child has its own copies now (fds 3 and 4); ours would keep the pipes open.
        let crate::confine::DevtoolsPipe {
            to_browser,
            from_browser,
            child_read,
            child_write,
        } = pipe;
        drop((child_read, child_write));
        let mut child = match spawned {
            Ok(child) => child,
            Err(source) => {
                remove_profile(&profile_dir).await;
                return Err(BrowserError::Spawn {
                    executable: options.executable.clone(),
                    source,
                });
            }
        };
        let pid = child.id().unwrap_or_default();
        let Some(stderr) = child.stderr.take() else {
            kill_group(pid);
            let _ = child.wait().await;
            remove_profile(&profile_dir).await;
            return Err(BrowserError::Start("stderr was not captured".into()));
        };

        let (exit_tx, exit) = watch::channel(None);
        let (stopping, stopping_rx) = watch::channel(false);
        tokio::spawn(read_stderr(stderr));
        tokio::spawn(watch_exit(child, pid, marker, stopping_rx, exit_tx));
        Ok(Process {
            pid,
            pipe: std::sync::Mutex::new(Some((from_browser, to_browser))),
            profile_dir,
            exit,
            stopping,
        })
    }

    /// Tandem's ends of the DevTools pipe, `(read, write)`; `None` once taken.
    pub(crate) fn take_pipe(&self) -> Option<(OwnedFd, OwnedFd)> {
        self.pipe.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Marks the coming exit as wanted, so that it is not reported as a crash (a graceful
    /// close, before [`Process::stop`]).
    pub(crate) fn mark_stopping(&self) {
        self.stopping.send_replace(true);
    }

    /// Waits up to `timeout` for the process to exit; true if it did.
    pub(crate) async fn wait_exit(&self, timeout: Duration) -> bool {
        let mut exit = self.exit.clone();
        tokio::time::timeout(timeout, exit.wait_for(Option::is_some))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Kills the whole process group, waits until the browser is reaped and deletes its
    /// profile. Idempotent.
    pub(crate) async fn stop(&self) {
        self.stopping.send_replace(true);
        kill_group(self.pid);
        let mut exit = self.exit.clone();
        let _ = exit.wait_for(Option::is_some).await;
        // Children that outlived the main process are still in the group.
        kill_group(self.pid);
        remove_profile(&self.profile_dir).await;
    }
}

impl Drop for Process {
    /// A browser handle dropped without `stop` must not leak a Chromium: kill it now. The exit
    /// watcher reaps it; the profile is removed synchronously since we cannot await here.
    fn drop(&mut self) {
        if self.exit.borrow().is_none() {
            self.stopping.send_replace(true);
            kill_group(self.pid);
        }
        if self.profile_dir.exists() {
            let _ = std::fs::remove_dir_all(&self.profile_dir);
        }
    }
}

/// Set once a mount namespace could not be made: later launches go without one.
static MOUNTS_UNAVAILABLE: AtomicBool = AtomicBool::new(false);

/// The mounts of a new browser's namespace, when Tandem may make them (root, Debian's
/// `/etc/chromium` present, not failed before); `None` otherwise, said once in the log.
fn mount_plan(options: &LaunchOptions, profile_dir: &Path) -> Option<crate::confine::MountPlan> {
    static SAID: std::sync::Once = std::sync::Once::new();
    let why_not = if MOUNTS_UNAVAILABLE.load(Ordering::Relaxed) {
        return None;
    } else if !nix::unistd::geteuid().is_root() {
        "Tandem does not run as root"
    } else if !Path::new(crate::confine::CHROMIUM_ETC).is_dir() {
        "there is no /etc/chromium to hold the policy"
    } else {
        match crate::confine::MountPlan::prepare(
            &profile_dir.join("confine"),
            &options.hidden_dirs,
            &options.shared_dirs,
        ) {
            Ok(plan) => return Some(plan),
            Err(e) => {
                tracing::warn!(error = %e, "cannot prepare Chromium's mount namespace");
                return None;
            }
        }
    };
    SAID.call_once(|| {
        tracing::warn!(
            "{why_not}: browsers run without a mount namespace of their own (Tandem's URL \
             policy is checked by Tandem only, not inside Chromium, and the data directory \
             stays visible to the browser)"
        )
    });
    None
}

/// Environment variables passed through to Chromium when set; everything else (the API key,
/// LLM keys, anything of the server's) is left out.
const PASSED_ENV: &[&str] = &[
    "LANG",
    "LANGUAGE",
    "LC_ALL",
    "TZ",
    "FONTCONFIG_PATH",
    "FONTCONFIG_FILE",
    "http_proxy",
    "https_proxy",
    "no_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "NO_PROXY",
    "ALL_PROXY",
];

/// Forks and executes Chromium from the spawner thread with a clean environment and its
/// confinement (see [`crate::confine`]).
async fn launch(
    options: &LaunchOptions,
    profile_dir: &Path,
    temp_dir: &Path,
    home: &Path,
    marker: &str,
    plan: Option<crate::confine::MountPlan>,
    pipe: (std::os::fd::RawFd, std::os::fd::RawFd),
) -> std::io::Result<Child> {
    let mut command = Command::new(&options.executable);
    command
        .args(chromium_args(options, profile_dir))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", home)
        .env("TMPDIR", temp_dir)
        .env(MARKER_ENV, marker)
        .process_group(0)
        .kill_on_drop(true);
    if std::env::var_os("LANG").is_none() {
        command.env("LANG", "C.UTF-8");
    }
    for name in PASSED_ENV {
        if let Some(value) = std::env::var_os(name) {
            command.env(name, value);
        }
    }
    let user = crate::user::browser_user();
    crate::confine::confine(command.as_std_mut(), plan, user, pipe);
    crate::confine::spawn(move || command.spawn()).await
}

/// How many pixels of height the browser's own toolbars took in the last window Tandem sized
/// (`Browser::launch` learns it); a launch adds it to the window, so that the viewport is
/// already the asked size and the resize that follows changes nothing.
pub(crate) static TOOLBAR_HEIGHT: AtomicU32 = AtomicU32::new(0);

/// The screen pages see (`screen.width`): a common desktop one, or the window's size when that
/// is larger. Headless Chromium otherwise reports 800×600, smaller than its own window, which
/// sites take for a bot.
fn screen_size(window: (u32, u32)) -> (u32, u32) {
    (window.0.max(1920), window.1.max(1080))
}

fn chromium_args(options: &LaunchOptions, profile_dir: &Path) -> Vec<String> {
    let (width, viewport_height) = options.window;
    let height = viewport_height.saturating_add(TOOLBAR_HEIGHT.load(Ordering::Relaxed));
    let (screen_width, screen_height) = screen_size((width, height));
    let mut args = vec![
        "--headless".to_string(),
        "--disable-gpu".to_string(),
        "--disable-quic".to_string(),
        "--no-first-run".to_string(),
        "--no-default-browser-check".to_string(),
        "--disable-background-networking".to_string(),
        "--disable-component-update".to_string(),
        "--disable-sync".to_string(),
        "--disable-dev-shm-usage".to_string(),
        // DevTools over fds 3 and 4 only: no port any local process could connect to.
        "--remote-debugging-pipe".to_string(),
        // Cookies encrypted with Chromium's fixed key, never a desktop keyring, so that a
        // saved profile reads the same in every browser Tandem starts.
        "--password-store=basic".to_string(),
        format!("--user-data-dir={}", profile_dir.join("profile").display()),
        format!("--window-size={width},{height}"),
        format!("--screen-info={{0,0 {screen_width}x{screen_height}}}"),
        // Without it the first tab may show an infobar (`--no-sandbox`), 56 px tall, so its
        // viewport is smaller than every later tab's.
        "--test-type".to_string(),
    ];
    // The sandbox is on wherever it can work (see `crate::user`).
    if !crate::user::sandbox() {
        args.push("--no-sandbox".to_string());
    }
    if (options.device_scale_factor - 1.0).abs() > f64::EPSILON {
        args.push(format!(
            "--force-device-scale-factor={}",
            options.device_scale_factor
        ));
    }
    args.extend(options.extra_args.iter().cloned());
    args.push("about:blank".to_string());
    args
}

/// Drains Chromium's stderr into the trace log: a full pipe would block the browser.
async fn read_stderr(stderr: ChildStderr) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        tracing::trace!(target: "chromium", "{line}");
    }
}

async fn watch_exit(
    mut child: Child,
    pid: u32,
    marker: String,
    stopping: watch::Receiver<bool>,
    exit: watch::Sender<Option<Exit>>,
) {
    let status = child.wait().await;
    let stopped_on_purpose = *stopping.borrow();
    let reason = match status {
        Ok(status) => describe_status(status),
        Err(e) => format!("could not wait for Chromium: {e}"),
    };
    // Take the rest of the group with it, whatever happened to the main process, and reap it.
    reap_group(pid).await;
    reap_crash_handlers(&marker).await;
    if !stopped_on_purpose {
        tracing::warn!(pid, %reason, "Chromium exited unexpectedly");
    }
    exit.send_replace(Some(Exit {
        crashed: !stopped_on_purpose,
        reason: if stopped_on_purpose {
            "stopped".to_string()
        } else {
            reason
        },
    }));
}

fn describe_status(status: std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited with status {code}"),
        (None, Some(signal)) => match Signal::try_from(signal) {
            Ok(s) => format!("killed by {s}"),
            Err(_) => format!("killed by signal {signal}"),
        },
        _ => "exited".to_string(),
    }
}

/// Makes this process the reaper of Chromium's orphans.
///
/// When the browser's main process dies, its renderers and zygotes are re-parented. In a
/// container the init process often never reaps, so they would linger as zombies; as a child
/// subreaper, Tandem gets them instead and [`reap_group`] collects them.
fn adopt_orphans() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            tracing::warn!(error = %e, "cannot become a child subreaper; Chromium zombies may linger");
        }
    });
}

/// The start of every browser's temporary directory name, followed by the owning process id:
/// `tandem-chromium-<pid>-XXXXXX`.
pub(crate) const TEMP_PREFIX: &str = "tandem-chromium-";

/// Deletes the temporary directories of browsers whose owning process is gone.
///
/// A Tandem killed with SIGKILL cannot delete its browsers' profiles; the next one to start
/// does it here. Directories of live processes (another server, a test) are left alone.
pub(crate) fn remove_orphaned_temp_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(TEMP_PREFIX))
            .and_then(|rest| rest.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if owner == std::process::id() || Path::new(&format!("/proc/{owner}")).exists() {
            continue;
        }
        kill_leftovers(&entry.path());
        match std::fs::remove_dir_all(entry.path()) {
            Ok(()) => {
                tracing::info!(dir = %entry.path().display(), "removed an orphaned Chromium profile")
            }
            Err(e) => {
                tracing::debug!(dir = %entry.path().display(), error = %e, "could not remove an orphaned Chromium profile")
            }
        }
    }
}

/// Kills the Chromium processes a killed server left running on the profile in `dir` (found
/// by the directory in their command line: the browser's `--user-data-dir`, its helpers'
/// paths), with their process groups. A parent-death signal normally takes the browser with
/// its server; this catches what escaped it (a server killed during a launch, an older Tandem).
fn kill_leftovers(dir: &Path) {
    let Some(needle) = dir.to_str().map(str::as_bytes) else {
        return;
    };
    let own_group = nix::unistd::getpgrp().as_raw();
    for (pid, stat) in proc_stats() {
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if !cmdline.windows(needle.len()).any(|w| w == needle) {
            continue;
        }
        let Ok(raw) = i32::try_from(pid) else {
            continue;
        };
        let group = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<i32>().ok());
        tracing::info!(pid, dir = %dir.display(), "killing a Chromium left by a killed server");
        if let Some(group) = group.filter(|g| *g > 1 && *g != own_group) {
            let _ = killpg(Pid::from_raw(group), Signal::SIGKILL);
        }
        let _ = nix::sys::signal::kill(Pid::from_raw(raw), Signal::SIGKILL);
    }
}

/// Names each browser's processes through their environment, so that its crash handlers, which
/// leave the browser's process group, can still be found and ended with it.
const MARKER_ENV: &str = "TANDEM_BROWSER";

static NEXT_MARKER: AtomicU64 = AtomicU64::new(1);

/// Ends the crashpad handlers of one browser. Chromium starts them as daemons in groups of their
/// own; they exit by themselves once the browser is gone, but as our adopted children they must
/// still be reaped. Live ones are recognised by their environment; dead ones (zombies, whose
/// environment is no longer readable) are reaped whoever they belonged to, since they are dead
/// anyway.
async fn reap_crash_handlers(marker: &str) {
    let me = std::process::id();
    let expected = format!("{MARKER_ENV}={marker}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
    loop {
        let mut waiting = false;
        for process in children_of(me) {
            if !process.comm.starts_with("chrome_crashpad") {
                continue;
            }
            let Ok(raw) = i32::try_from(process.pid) else {
                continue;
            };
            let pid = Pid::from_raw(raw);
            if process.zombie {
                let _ = nix::sys::wait::waitpid(pid, Some(WaitPidFlag::WNOHANG));
            } else if environ_contains(process.pid, &expected) {
                let _ = nix::sys::signal::kill(pid, Signal::SIGKILL);
                waiting = true;
            }
        }
        if !waiting || tokio::time::Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

struct ProcEntry {
    pid: u32,
    comm: String,
    zombie: bool,
}

fn children_of(parent: u32) -> Vec<ProcEntry> {
    let wanted = parent.to_string();
    proc_stats()
        .filter_map(|(pid, stat)| {
            let (head, rest) = stat.rsplit_once(')')?;
            let comm = head.split_once('(')?.1.to_string();
            let mut fields = rest.split_whitespace();
            let state = fields.next()?;
            let ppid = fields.next()?;
            (ppid == wanted).then(|| ProcEntry {
                pid,
                comm,
                zombie: state == "Z",
            })
        })
        .collect()
}

fn environ_contains(pid: u32, entry: &str) -> bool {
    std::fs::read(format!("/proc/{pid}/environ"))
        .map(|env| env.split(|b| *b == 0).any(|e| e == entry.as_bytes()))
        .unwrap_or(false)
}

/// `(pid, contents of /proc/<pid>/stat)` for every process we can see.
fn proc_stats() -> impl Iterator<Item = (u32, String)> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            Some((pid, stat))
        })
}

/// How long to keep killing and reaping a group whose members are still being re-parented.
const REAP_TIMEOUT: Duration = Duration::from_secs(3);

/// Kills what is left of a process group and reaps every member that is our child, until no
/// member is left (or `REAP_TIMEOUT` passes: a process stuck in the kernel can't be helped).
async fn reap_group(pgid: u32) {
    let Ok(raw) = i32::try_from(pgid) else { return };
    let deadline = tokio::time::Instant::now() + REAP_TIMEOUT;
    loop {
        kill_group(pgid);
        loop {
            match waitid(
                Id::PGid(Pid::from_raw(raw)),
                WaitPidFlag::WEXITED | WaitPidFlag::WNOHANG,
            ) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
        if !group_exists(pgid) {
            return;
        }
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!(pgid, "Chromium processes outlived their browser");
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// True while any process, zombies included, is in the group.
fn group_exists(pgid: u32) -> bool {
    let wanted = pgid.to_string();
    proc_stats().any(|(_, stat)| {
        // After the parenthesised command name: state, ppid, pgrp.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(2).map(|g| g == wanted))
            .unwrap_or(false)
    })
}

fn kill_group(pid: u32) {
    let Ok(raw) = i32::try_from(pid) else { return };
    if raw <= 1 {
        return;
    }
    // ESRCH (group already gone) is the expected outcome of a second call.
    let _ = killpg(Pid::from_raw(raw), Signal::SIGKILL);
}

async fn remove_profile(dir: &Path) {
    if let Err(e) = tokio::fs::remove_dir_all(dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %dir.display(), error = %e, "could not remove a Chromium profile");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_profiles_of_dead_owners_are_removed() {
        // A process that has exited: its pid names no live process (until reused, which the
        // kernel does only after cycling through the pid space).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let temp = std::env::temp_dir();
        let orphan = temp.join(format!("{TEMP_PREFIX}{dead}-unit"));
        let ours = temp.join(format!("{TEMP_PREFIX}{}-unit", std::process::id()));
        let other = temp.join(format!("{TEMP_PREFIX}not-a-pid-unit"));
        for dir in [&orphan, &ours, &other] {
            std::fs::create_dir_all(dir.join("profile")).unwrap();
        }

        remove_orphaned_temp_dirs();

        assert!(!orphan.exists(), "a dead owner's profile is removed");
        assert!(ours.exists(), "a live owner's profile stays");
        assert!(other.exists(), "a name that is not ours stays");
        for dir in [&ours, &other] {
            std::fs::remove_dir_all(dir).unwrap();
        }
    }
}
