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
    fn random_bytes_differ() {
        assert_ne!(random_bytes::<16>(), random_bytes::<16>());
    }
}
