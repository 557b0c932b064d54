//! Who Chromium runs as, and whether its sandbox is on.
//!
//! When Tandem runs as root, every Chromium runs as the unprivileged system user
//! [`USER_NAME`] (created by `scripts/install-deps.sh`) with its sandbox on: the browser then
//! cannot read the server's files even where a navigation slipped through, and a compromised
//! renderer is confined by Chromium's own sandbox. What the browser must use is handed to that
//! user: its profile (see [`give`]), a folder of its own to write downloads into
//! ([`download_folder`]) and a copy of each file it uploads ([`stage_uploads`]), while the data
//! directory stays 0700.
//!
//! `--no-sandbox` remains only where the sandbox cannot work (root without the user, or a host
//! without user namespaces), said once in the log.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// A folder of the browser user's own for Chromium to write downloads into
/// (`<tmp>/tandem-chromium-<pid>-downloads-<n>`, 0700), when Chromium runs as that user: the
/// server's data directory (and the folders above it, e.g. a home directory) stay closed to
/// it, and Tandem, as root, reads the files from there. `None` when Chromium runs as Tandem's
/// own user.
pub(crate) fn download_folder() -> io::Result<Option<PathBuf>> {
    let Some(user) = browser_user() else {
        return Ok(None);
    };
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let dir = std::env::temp_dir().join(format!(
        "{}{}-downloads-{}",
        crate::process::TEMP_PREFIX,
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    chown_to(&dir, user)?;
    Ok(Some(dir))
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
