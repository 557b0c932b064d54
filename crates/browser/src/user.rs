//! Who Chromium runs as, and whether its sandbox is on.
//!
//! When Tandem runs as root, every Chromium runs as the unprivileged system user
//! [`USER_NAME`] (created by `scripts/install-deps.sh`) with its sandbox on: the browser then
//! cannot read the server's files even where a navigation slipped through, and a compromised
//! renderer is confined by Chromium's own sandbox. What the browser must use is handed to that
//! user: its profile (see [`give`]), the folder it writes downloads into ([`give_dir`]) and a
//! copy of each file it uploads ([`stage_uploads`]), while the data directory stays 0700.
//!
//! `--no-sandbox` remains only where the sandbox cannot work (root without the user, or a host
//! without user namespaces), said once in the log.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use nix::unistd::{User, geteuid};

/// The unprivileged user Chromium runs as when Tandem runs as root.
pub const USER_NAME: &str = "tandem-browser";

/// The ids Chromium switches to before it executes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BrowserUser {
    pub(crate) uid: u32,
    pub(crate) gid: u32,
}

/// The user Chromium runs as: `Some` when Tandem runs as root and [`USER_NAME`] exists.
pub(crate) fn browser_user() -> Option<BrowserUser> {
    static USER: OnceLock<Option<BrowserUser>> = OnceLock::new();
    *USER.get_or_init(|| {
        if !geteuid().is_root() {
            return None;
        }
        match User::from_name(USER_NAME) {
            Ok(Some(user)) if !user.uid.is_root() => Some(BrowserUser {
                uid: user.uid.as_raw(),
                gid: user.gid.as_raw(),
            }),
            Ok(_) => None,
            Err(e) => {
                tracing::warn!(user = USER_NAME, error = %e, "cannot look the browser user up");
                None
            }
        }
    })
}

/// Whether Chromium's sandbox can work here: as [`USER_NAME`] when Tandem is root, or as
/// Tandem's own unprivileged user where user namespaces are available. When not, says so once.
pub(crate) fn sandbox() -> bool {
    static SANDBOX: OnceLock<bool> = OnceLock::new();
    *SANDBOX.get_or_init(|| {
        let why_not = if geteuid().is_root() {
            if browser_user().is_some() {
                None
            } else {
                Some(
                    "Tandem runs as root and there is no `tandem-browser` user (run \
                     scripts/install-deps.sh)",
                )
            }
        } else if user_namespaces() {
            None
        } else {
            Some("this host allows no unprivileged user namespaces")
        };
        match why_not {
            None => true,
            Some(why) => {
                tracing::warn!("{why}: Chromium runs with --no-sandbox");
                false
            }
        }
    })
}

/// True unless the kernel forbids unprivileged user namespaces (what Chromium's sandbox uses).
fn user_namespaces() -> bool {
    let read = |path: &str| std::fs::read_to_string(path).map(|s| s.trim().to_string());
    let max = read("/proc/sys/user/max_user_namespaces").unwrap_or_default();
    let clone = read("/proc/sys/kernel/unprivileged_userns_clone").unwrap_or_default();
    let apparmor =
        read("/proc/sys/kernel/apparmor_restrict_unprivileged_userns").unwrap_or_default();
    max != "0" && clone != "0" && apparmor != "1"
}

fn chown_to(path: &Path, user: BrowserUser) -> io::Result<()> {
    std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
}

/// Hands `path` and everything under it (symbolic links not followed) to the browser user,
/// when there is one.
pub(crate) fn give(path: &Path) -> io::Result<()> {
    let Some(user) = browser_user() else {
        return Ok(());
    };
    give_tree(path, user)
}

fn give_tree(path: &Path, user: BrowserUser) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return std::os::unix::fs::lchown(path, Some(user.uid), Some(user.gid));
    }
    chown_to(path, user)?;
    if meta.is_dir() {
        for entry in std::fs::read_dir(path)? {
            give_tree(&entry?.path(), user)?;
        }
    }
    Ok(())
}

/// Directories the browser must not see (the data directory): [`give_dir`] never opens them.
static HIDDEN: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Remembers the directories hidden from the browser (see [`give_dir`]).
pub(crate) fn note_hidden(dirs: &[PathBuf]) {
    let mut hidden = HIDDEN.lock().unwrap_or_else(|p| p.into_inner());
    for dir in dirs {
        if !hidden.contains(dir) {
            hidden.push(dir.clone());
        }
    }
}

/// Hands the directory `dir` (e.g. where the browser writes downloads) to the browser user
/// and lets that user pass through its parents (search permission only, no listing), up to a
/// directory hidden from the browser, which keeps its mode (inside the browser's mount
/// namespace the hidden directory is an empty tmpfs and the shared folders are bound back).
pub(crate) fn give_dir(dir: &Path) -> io::Result<()> {
    let Some(user) = browser_user() else {
        return Ok(());
    };
    chown_to(dir, user)?;
    let hidden = HIDDEN.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for parent in dir.ancestors().skip(1) {
        if parent.parent().is_none() || hidden.iter().any(|h| h == parent) {
            break;
        }
        let meta = std::fs::metadata(parent)?;
        let mode = meta.permissions().mode();
        if mode & 0o001 == 0 {
            std::fs::set_permissions(parent, std::fs::Permissions::from_mode(mode | 0o001))?;
        }
    }
    Ok(())
}

/// The paths the browser should read for an upload of `files`: the files themselves when
/// Chromium runs as Tandem's own user; otherwise copies in a folder of the browser user's
/// (`<tmp>/tandem-chromium-<pid>-uploads/<n>/`, each keeping its file name, since the page
/// sees it), so that the server's folders stay closed to the browser.
pub fn stage_uploads(files: &[PathBuf]) -> io::Result<Vec<PathBuf>> {
    let Some(user) = browser_user() else {
        return Ok(files.to_vec());
    };
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let root = std::env::temp_dir().join(format!(
        "{}{}-uploads",
        crate::process::TEMP_PREFIX,
        std::process::id()
    ));
    let dir = root.join(NEXT.fetch_add(1, Ordering::Relaxed).to_string());
    std::fs::create_dir_all(&dir)?;
    for made in [&root, &dir] {
        std::fs::set_permissions(made, std::fs::Permissions::from_mode(0o700))?;
        chown_to(made, user)?;
    }
    let mut staged = Vec::with_capacity(files.len());
    for (i, file) in files.iter().enumerate() {
        let name = file
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| format!("upload-{i}").into());
        // Files of the same name go into folders of their own.
        let target_dir = if staged
            .iter()
            .any(|s: &PathBuf| s.file_name() == Some(&name))
        {
            let sub = dir.join(i.to_string());
            std::fs::create_dir(&sub)?;
            chown_to(&sub, user)?;
            sub
        } else {
            dir.clone()
        };
        let target = target_dir.join(&name);
        std::fs::copy(file, &target)?;
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600))?;
        chown_to(&target, user)?;
        staged.push(target);
    }
    Ok(staged)
}
