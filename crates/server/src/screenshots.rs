//! Step screenshots: JPEGs the agent takes each step, kept in the data directory and served
//! through short-lived signed links (served by `api/screenshots.rs`) (`screenshotUrl`, api-v3 §3.1 and §4.1).
//!
//! A message stores the screenshot's path (`/screenshots/{session}/{shot}.jpg`); the API
//! turns it into `{base}{path}?token=…` when it answers, with a token that expires after
//! [`LINK_LIFETIME`], as the cloud's presigned links do. The token binds the screenshot's own
//! id, not the session's, so a leaked screenshot link cannot open the live view.

use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use store::Uuid;

/// How long a `screenshotUrl` works.
pub const LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(5);

/// The screenshot directory of a server: `<data_dir>/screenshots/<session>/<shot>.jpg`.
#[derive(Debug, Clone)]
pub struct Screenshots {
    dir: Arc<PathBuf>,
}

impl Screenshots {
    /// Screenshots under `dir`, created on first use.
    pub fn new(dir: PathBuf) -> Screenshots {
        Screenshots { dir: Arc::new(dir) }
    }

    /// Stores one base64 JPEG and returns the path a message keeps for it.
    pub async fn save(&self, session_id: Uuid, jpeg_base64: &str) -> std::io::Result<String> {
        let bytes = STANDARD
            .decode(jpeg_base64.as_bytes())
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let shot = Uuid::now_v7();
        let dir = self.dir.join(session_id.to_string());
        tokio::fs::create_dir_all(&dir).await?;
        tokio::fs::write(dir.join(format!("{shot}.jpg")), bytes).await?;
        Ok(path_of(session_id, shot))
    }

    /// The path of a session's newest screenshot, if it has any (ids are UUIDv7, so the
    /// greatest name is the newest).
    pub async fn latest(&self, session_id: Uuid) -> Option<String> {
        let mut entries = tokio::fs::read_dir(self.dir.join(session_id.to_string()))
            .await
            .ok()?;
        let mut newest: Option<Uuid> = None;
        while let Ok(Some(entry)) = entries.next_entry().await {
            let name = entry.file_name();
            let Some(shot) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".jpg"))
                .and_then(|n| Uuid::parse_str(n).ok())
            else {
                continue;
            };
            if newest.is_none_or(|n| shot > n) {
                newest = Some(shot);
            }
        }
        newest.map(|shot| path_of(session_id, shot))
    }

    /// Where screenshot `shot` of `session_id` is kept.
    pub(crate) fn file(&self, session_id: Uuid, shot: Uuid) -> PathBuf {
        self.dir
            .join(session_id.to_string())
            .join(format!("{shot}.jpg"))
    }

    /// Deletes a session's screenshots (when the session is deleted).
    pub async fn remove(&self, session_id: Uuid) {
        let _ = tokio::fs::remove_dir_all(self.dir.join(session_id.to_string())).await;
    }
}

fn path_of(session_id: Uuid, shot: Uuid) -> String {
    format!("/screenshots/{session_id}/{shot}.jpg")
}

/// The screenshot id in a stored path.
pub(crate) fn shot_of(path: &str) -> Option<Uuid> {
    let file = path.rsplit('/').next()?;
    Uuid::parse_str(file.strip_suffix(".jpg")?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::{Mode, Signer};
    use chrono::Utc;

    #[tokio::test]
    async fn screenshots_are_stored_and_linked_with_their_own_token() {
        let dir = tempfile::tempdir().unwrap();
        let shots = Screenshots::new(dir.path().join("screenshots"));
        let session = Uuid::now_v7();
        assert_eq!(shots.latest(session).await, None);
        let first = shots.save(session, &STANDARD.encode(b"one")).await.unwrap();
        let second = shots.save(session, &STANDARD.encode(b"two")).await.unwrap();
        assert_eq!(shots.latest(session).await, Some(second.clone()));
        assert!(first.starts_with(&format!("/screenshots/{session}/")));
        assert!(shots.save(session, "not base64!").await.is_err());

        let signer = Signer::with_key(&[7; 32]).unwrap();
        let links = crate::links::LiveLinks::new("http://h:1/", signer.clone());
        let url = links.screenshot_url(&second, LINK_LIFETIME).unwrap();
        assert!(url.starts_with(&format!("http://h:1{second}?token=")));
        let token = url.split("token=").nth(1).unwrap();
        let claims = signer.verify(token, Utc::now()).unwrap();
        assert_eq!(Some(claims.subject), shot_of(&second));
        assert_eq!(claims.mode, Mode::Screenshot);
        assert_ne!(
            claims.subject, session,
            "the token must not open the session"
        );
        assert!(signer.verify(token, Utc::now() + LINK_LIFETIME).is_err());
        shots.remove(session).await;
        assert_eq!(shots.latest(session).await, None);
    }
}
