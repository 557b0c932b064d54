//! Secrets kept in the data directory (API key, token key), readable by the owner only.

use std::fs::OpenOptions;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::ServerError;

/// Reads the secret at `path`, or creates it with `generate()` (mode 0600) when absent.
/// Returns the secret and whether it was created now.
pub(crate) fn read_or_create_secret(
    path: &Path,
    generate: impl FnOnce() -> String,
) -> Result<(String, bool), ServerError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => return Ok((text.trim().to_string(), false)),
        Ok(_) => {}
        Err(e) if e.kind() == ErrorKind::NotFound => {}
        Err(source) => {
            return Err(ServerError::DataDir {
                what: "cannot read secret file",
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let secret = generate();
    let io_error = |source| ServerError::DataDir {
        what: "cannot write secret file",
        path: path.to_path_buf(),
        source,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io_error)?;
    file.write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_error)?;
    Ok((secret, true))
}

/// Makes the data directory the server's alone: files created from now on are owner-only
/// (umask 077, process-wide), the directory is 0700, and what an older run left readable by
/// others (the database, keys, screenshots, profiles) becomes 0600 (folders 0700). Returns the
/// directory's canonical path (the browser's mount namespace hides it by that path).
pub(crate) fn secure_data_dir(dir: &Path) -> Result<std::path::PathBuf, ServerError> {
    use nix::sys::stat::{Mode, umask};
    umask(Mode::from_bits_truncate(0o077));
    let error = |what, path: &Path| {
        let path = path.to_path_buf();
        move |source| ServerError::DataDir { what, path, source }
    };
    std::fs::create_dir_all(dir).map_err(error("cannot create the data directory", dir))?;
    let dir =
        std::fs::canonicalize(dir).map_err(error("cannot resolve the data directory", dir))?;
    restrict(&dir).map_err(error("cannot restrict the data directory's modes", &dir))?;
    Ok(dir)
}

/// Sets 0700 on `dir` and every folder below it, 0600 on every file; links are not followed.
fn restrict(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        set_mode(&dir, 0o700)?;
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() {
                set_mode(&entry.path(), 0o600)?;
            }
        }
    }
    fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
        let current = std::fs::symlink_metadata(path)?.permissions().mode() & 0o777;
        if current == mode {
            return Ok(());
        }
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
    }
    Ok(())
}

/// Random bytes for keys and secrets, from the OS-seeded thread RNG.
pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    rand::Rng::fill(&mut rand::rng(), &mut bytes[..]);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn creates_once_with_owner_only_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let (first, created) = read_or_create_secret(&path, || "abc".into()).unwrap();
        assert!(created);
        assert_eq!(first, "abc");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, created) = read_or_create_secret(&path, || "other".into()).unwrap();
        assert!(!created);
        assert_eq!(again, "abc");
    }

    #[test]
    fn the_data_directory_becomes_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("screenshots/s1")).unwrap();
        for file in ["tandem.db", "screenshots/s1/1.jpg"] {
            std::fs::write(data.join(file), b"x").unwrap();
            std::fs::set_permissions(data.join(file), std::fs::Permissions::from_mode(0o644))
                .unwrap();
        }
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        let canonical = secure_data_dir(&data).unwrap();
        assert_eq!(canonical, std::fs::canonicalize(&data).unwrap());
        let mode = |p: &str| {
            std::fs::metadata(data.join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(""), 0o700);
        assert_eq!(mode("screenshots/s1"), 0o700);
        assert_eq!(mode("tandem.db"), 0o600);
        assert_eq!(mode("screenshots/s1/1.jpg"), 0o600);
        std::fs::write(data.join("new"), b"x").unwrap();
        assert_eq!(mode("new"), 0o600, "umask 077 from now on");
    }

    #[test]
    fn random_bytes_differ() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
