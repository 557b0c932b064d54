//! What a Chromium child does between `fork` and `exec`: its confinement.
//!
//! - It dies with the server: `PR_SET_PDEATHSIG(SIGKILL)`. The signal fires when the *thread*
//!   that forked exits, so every Chromium is forked by one thread that lives as long as the
//!   process ([`spawn`]), never by a runtime worker or blocking thread that may end.
//! - When Tandem runs as root, a mount namespace of its own
//!   ([`MountPlan`]): Tandem's managed policy (the URL blocklist of [`crate::address`]) bound
//!   read-only over `/etc/chromium`, where Debian's Chromium reads its policies, without
//!   touching the host's `/etc`; and an empty tmpfs over each hidden directory (the server's
//!   data directory), so that the browser cannot read the API key, the token key or the
//!   database even if a navigation slipped through; the folders it must use (downloads, the
//!   upload folders) are bound back inside.
//! - Then, as root, the switch to the unprivileged browser user ([`crate::user`]), after the
//!   mounts (which need root) and before the parent-death signal (which a change of user
//!   clears).
//!
//! Code in a `pre_exec` hook runs in the forked child of a multi-threaded process: it only
//! makes system calls on memory prepared before the fork, never allocates or locks.

// `Command::pre_exec` is unsafe: the hook must be async-signal-safe, which the code below is
// (system calls on prepared C strings only).
#![allow(unsafe_code)]

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::mpsc;

use nix::mount::{MntFlags, MsFlags, mount, umount2};
use nix::sched::{CloneFlags, unshare};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{Pid, getppid};

/// Where Debian's Chromium reads its configuration and managed policies
/// (`/etc/chromium/policies/managed/*.json`).
pub(crate) const CHROMIUM_ETC: &str = "/etc/chromium";

/// The mounts made in a Chromium's own mount namespace, as C strings ready before the fork.
pub(crate) struct MountPlan {
    /// A directory laid out like `/etc/chromium`, with Tandem's policy in it.
    etc_source: CString,
    etc_target: CString,
    hidden: Vec<CString>,
    shares: Vec<Share>,
}

/// A directory inside a hidden one that the browser still needs, bound back over the tmpfs.
struct Share {
    source: CString,
    /// An empty directory (in the browser's own profile) holding `source` while the tmpfs is
    /// laid over it.
    stash: CString,
    /// The directories to create in the tmpfs, outermost first, the last being the target.
    dirs: Vec<CString>,
}

/// True when hiding `dir` would hide the browser's own profile (a data directory that holds
/// the temporary directory, or `/`) or the system: such a directory is left visible, with a
/// warning, rather than breaking every launch.
fn covers_what_chromium_needs(dir: &Path, scratch: &Path) -> bool {
    let needed = [
        scratch,
        Path::new(CHROMIUM_ETC),
        Path::new("/usr"),
        Path::new("/tmp"),
    ];
    let covers = dir.parent().is_none() || needed.iter().any(|n| n.starts_with(dir));
    if covers {
        static SAID: std::sync::Once = std::sync::Once::new();
        SAID.call_once(|| {
            tracing::warn!(
                dir = %dir.display(),
                "this directory holds what Chromium needs, so it is not hidden from the browser"
            )
        });
    }
    covers
}

/// Opens `dir` and everything under it for reading by anyone (directories 0755, files 0644).
fn make_readable(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            make_readable(&entry.path())?;
        } else if kind.is_file() {
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(0o644))?;
        }
    }
    Ok(())
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a path holds a NUL byte"))
}

impl MountPlan {
    /// Prepares the mounts: writes `etc` (a copy of `/etc/chromium`'s files plus Tandem's
    /// policy) and the stash directories under `scratch`. `hidden` directories are covered;
    /// each of `shared` that lies inside one of them is bound back.
    pub(crate) fn prepare(
        scratch: &Path,
        hidden: &[PathBuf],
        shared: &[PathBuf],
    ) -> io::Result<MountPlan> {
        let etc = scratch.join("etc-chromium");
        let managed = etc.join("policies").join("managed");
        std::fs::create_dir_all(&managed)?;
        // Chromium's own files there (`master_preferences`), so that nothing else changes.
        for entry in std::fs::read_dir(CHROMIUM_ETC)?.flatten() {
            if entry.file_type().is_ok_and(|t| t.is_file()) {
                std::fs::copy(entry.path(), etc.join(entry.file_name()))?;
            }
        }
        std::fs::write(
            managed.join("tandem.json"),
            crate::address::chromium_policy().to_string(),
        )?;
        // Chromium may run as the unprivileged browser user: it must read all of it (nothing
        // there is secret; Tandem's umask would make it root's only).
        make_readable(scratch)?;
        let mut shares = Vec::new();
        for (i, source) in shared.iter().enumerate() {
            let Some(outer) = hidden
                .iter()
                .find(|h| source.starts_with(h) && source != *h)
            else {
                continue;
            };
            if !source.is_dir() {
                continue;
            }
            let stash = scratch.join("mnt").join(i.to_string());
            std::fs::create_dir_all(&stash)?;
            let mut dirs = Vec::new();
            let mut at = outer.clone();
            for part in source.strip_prefix(outer).unwrap_or(source).components() {
                at.push(part);
                dirs.push(c_path(&at)?);
            }
            shares.push(Share {
                source: c_path(source)?,
                stash: c_path(&stash)?,
                dirs,
            });
        }
        Ok(MountPlan {
            etc_source: c_path(&etc)?,
            etc_target: c_path(Path::new(CHROMIUM_ETC))?,
            hidden: hidden
                .iter()
                .filter(|h| h.is_dir() && !covers_what_chromium_needs(h, scratch))
                .map(|h| c_path(h))
                .collect::<io::Result<_>>()?,
            shares,
        })
    }

    /// Runs in the child: a new mount namespace, slave to the host's (nothing propagates
    /// back), then the mounts. Only system calls.
    fn apply(&self) -> nix::Result<()> {
        let none: Option<&std::ffi::CStr> = None;
        unshare(CloneFlags::CLONE_NEWNS)?;
        mount(none, c"/", none, MsFlags::MS_REC | MsFlags::MS_SLAVE, none)?;
        mount(
            Some(self.etc_source.as_c_str()),
            self.etc_target.as_c_str(),
            none,
            MsFlags::MS_BIND,
            none,
        )?;
        mount(
            none,
            self.etc_target.as_c_str(),
            none,
            MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
            none,
        )?;
        for share in &self.shares {
            mount(
                Some(share.source.as_c_str()),
                share.stash.as_c_str(),
                none,
                MsFlags::MS_BIND | MsFlags::MS_REC,
                none,
            )?;
        }
        for hidden in &self.hidden {
            mount(
                Some(c"tmpfs"),
                hidden.as_c_str(),
                Some(c"tmpfs"),
                MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                Some(c"mode=0755,size=64k"),
            )?;
        }
        for share in &self.shares {
            for dir in &share.dirs {
                match nix::unistd::mkdir(dir.as_c_str(), Mode::from_bits_truncate(0o755)) {
                    Ok(()) | Err(nix::errno::Errno::EEXIST) => {}
                    Err(e) => return Err(e),
                }
            }
            if let Some(target) = share.dirs.last() {
                mount(
                    Some(share.stash.as_c_str()),
                    target.as_c_str(),
                    none,
                    MsFlags::MS_BIND | MsFlags::MS_REC,
                    none,
                )?;
            }
            umount2(share.stash.as_c_str(), MntFlags::MNT_DETACH)?;
        }
        Ok(())
    }
}

/// Installs the child's confinement on `command`: the mounts of `plan`, if any, then the switch
/// to `user` (supplementary groups, group, user; the mounts need root), then the parent-death
/// signal (a change of user clears it). A child whose parent already died before the signal
/// was armed exits.
///
/// `pipe` is the child's ends of the DevTools pipe (`--remote-debugging-pipe`): the one it
/// reads becomes its fd 3, the one it writes its fd 4. Both must be above 4 (see
/// [`DevtoolsPipe`]), so that placing one cannot overwrite the other.
pub(crate) fn confine(
    command: &mut std::process::Command,
    plan: Option<MountPlan>,
    user: Option<crate::user::BrowserUser>,
    pipe: (RawFd, RawFd),
) {
    let parent = Pid::this();
    // SAFETY: the hook only makes system calls (dup2, unshare, mount, mkdir, umount2,
    // setgroups, setgid, setuid, prctl, getppid) on descriptors and C strings prepared before the fork; it does not allocate or
    // take locks.
    unsafe {
        command.pre_exec(move || {
            for (from, to) in [(pipe.0, 3), (pipe.1, 4)] {
                if nix::libc::dup2(from, to) < 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            if let Some(plan) = &plan {
                plan.apply().map_err(io::Error::from)?;
            }
            if let Some(user) = user {
                let groups = [user.gid as nix::libc::gid_t];
                if nix::libc::setgroups(1, groups.as_ptr()) < 0
                    || nix::libc::setgid(user.gid) < 0
                    || nix::libc::setuid(user.uid) < 0
                {
                    return Err(io::Error::last_os_error());
                }
            }
            nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
            if getppid() != parent {
                return Err(io::Error::other("the server exited during the launch"));
            }
            Ok(())
        });
    }
}

/// The two pipes of `--remote-debugging-pipe`: Tandem writes commands into `to_browser`,
/// Chromium reads them on its fd 3; Chromium writes answers and events on its fd 4, Tandem reads
/// them from `from_browser`. No port is opened, so no other process can reach the browser's
/// DevTools.
pub(crate) struct DevtoolsPipe {
    /// Tandem's end: commands to the browser.
    pub(crate) to_browser: OwnedFd,
    /// Tandem's end: answers and events from the browser.
    pub(crate) from_browser: OwnedFd,
    /// The child's end it reads (its fd 3 after the fork); close-on-exec here.
    pub(crate) child_read: OwnedFd,
    /// The child's end it writes (its fd 4 after the fork); close-on-exec here.
    pub(crate) child_write: OwnedFd,
}

impl DevtoolsPipe {
    /// Creates both pipes, close-on-exec, with the child's ends moved to descriptors above 9.
    pub(crate) fn new() -> io::Result<DevtoolsPipe> {
        use nix::fcntl::{FcntlArg, OFlag, fcntl};
        let high = |fd: OwnedFd| -> io::Result<OwnedFd> {
            let raw = fcntl(&fd, FcntlArg::F_DUPFD_CLOEXEC(10)).map_err(io::Error::from)?;
            // SAFETY: `raw` was just returned by fcntl and is owned by nobody else.
            Ok(unsafe { OwnedFd::from_raw_fd(raw) })
        };
        let (child_read, to_browser) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        let (from_browser, child_write) = nix::unistd::pipe2(OFlag::O_CLOEXEC)?;
        Ok(DevtoolsPipe {
            to_browser,
            from_browser,
            child_read: high(child_read)?,
            child_write: high(child_write)?,
        })
    }

    /// The child's ends, as raw descriptors for [`confine`].
    pub(crate) fn child_ends(&self) -> (RawFd, RawFd) {
        (self.child_read.as_raw_fd(), self.child_write.as_raw_fd())
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `spawn` on the one thread that forks every Chromium, and returns its result.
///
/// The thread lives as long as the process, so a child's parent-death signal fires only when
/// the server itself exits. `spawn` is run inside `handle`'s runtime (tokio's child handling
/// needs it).
pub(crate) async fn spawn<T: Send + 'static>(
    spawn: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    static SPAWNER: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("chromium-spawner".into())
            .spawn(move || {
                for job in queue {
                    job();
                }
            })
            .ok()
            .map(|_| jobs)
    });
    let Some(spawner) = spawner else {
        return Err(io::Error::other("cannot start the Chromium spawner thread"));
    };
    let handle = tokio::runtime::Handle::current();
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _runtime = handle.enter();
        let _ = done.send(spawn());
    });
    spawner
        .send(job)
        .map_err(|_| io::Error::other("the Chromium spawner thread is gone"))?;
    result
        .await
        .map_err(|_| io::Error::other("the Chromium spawner thread dropped a launch"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_holding_what_chromium_needs_is_not_hidden() {
        let scratch = Path::new("/tmp/tandem-chromium-1-x/confine");
        for needed in ["/", "/tmp", "/tmp/tandem-chromium-1-x", "/usr", "/etc"] {
            assert!(
                covers_what_chromium_needs(Path::new(needed), scratch),
                "{needed}"
            );
        }
        for data in ["/tmp/data", "/var/lib/tandem", "/srv/tandem/data"] {
            assert!(
                !covers_what_chromium_needs(Path::new(data), scratch),
                "{data}"
            );
        }
    }
}
