//! The API key: every `/api` request (and `/metrics`) must carry it in
//! `X-Browser-Use-API-Key`, or as a bearer token (checked by `api::require_api_key`).
//!
//! The header name is the one the official SDKs send, so they work unchanged. The key comes
//! from configuration, or is generated on first start and kept in the data directory.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ServerError;
use crate::files;

/// The header the SDKs send the key in.
pub const API_KEY_HEADER: &str = "x-browser-use-api-key";

/// The key clients must present, and where it came from.
#[derive(Debug, Clone)]
pub struct ApiKey {
    key: String,
    file: Option<PathBuf>,
    created: bool,
}

impl ApiKey {
    /// A key given by the operator (e.g. `TANDEM_API_KEY`).
    pub fn given(key: String) -> ApiKey {
        ApiKey {
            key,
            file: None,
            created: false,
        }
    }

    /// The key kept in `<data_dir>/api_key`, created (`tk_` + 32 URL-safe characters, mode
    /// 0600) on first start.
    pub fn load_or_create(data_dir: &Path) -> Result<ApiKey, ServerError> {
        let path = data_dir.join("api_key");
        let (key, created) = files::read_or_create_secret(&path, || {
            format!("tk_{}", URL_SAFE_NO_PAD.encode(files::random_bytes::<24>()))
        })?;
        Ok(ApiKey {
            key,
            file: Some(path),
            created,
        })
    }

    /// The secret itself.
    pub fn secret(&self) -> &str {
        &self.key
    }

    /// The file the key is kept in, when it was not given by the operator.
    pub fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    /// Whether the key was generated during this start.
    pub fn created(&self) -> bool {
        self.created
    }

    /// Whether `presented` is the key, compared in constant time so response timing does not
    /// leak how much of a guess was right.
    pub fn matches(&self, presented: &[u8]) -> bool {
        let expected = self.key.as_bytes();
        if presented.len() != expected.len() {
            return false;
        }
        presented
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_key_has_the_documented_shape_and_persists() {
        let dir = tempfile::tempdir().unwrap();
        let first = ApiKey::load_or_create(dir.path()).unwrap();
        assert!(first.created());
        assert!(first.secret().starts_with("tk_"));
        assert_eq!(first.secret().len(), 3 + 32);
        assert!(
            first.secret()[3..]
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
        let again = ApiKey::load_or_create(dir.path()).unwrap();
        assert!(!again.created());
        assert_eq!(again.secret(), first.secret());
        assert_eq!(again.file(), Some(dir.path().join("api_key").as_path()));
    }

    #[test]
    fn matches_only_the_exact_key() {
        let key = ApiKey::given("tk_secret".into());
        assert!(key.matches(b"tk_secret"));
        assert!(!key.matches(b"tk_secreT"));
        assert!(!key.matches(b"tk_secret2"));
        assert!(!key.matches(b""));
    }
}
