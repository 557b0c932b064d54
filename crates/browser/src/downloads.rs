//! Files the browser downloads, kept in a directory of ours and listed as they arrive.
//!
//! A headless browser has no download shelf, so a human in the live view would never see a
//! download happen. [`Downloads`] routes every download of the browser into one directory
//! (each file named by its id, so a page cannot choose a path) and keeps the list, so that the
//! live view can show it and serve the files.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use cdp::Connection;
use cdp::protocol::browser::{
    DownloadBehavior, DownloadProgress, DownloadState, DownloadWillBegin, SetDownloadBehavior,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BrowserError;

/// Where a download stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DownloadStatus {
    /// Still arriving.
    InProgress,
    /// Complete; the file can be served.
    Completed,
    /// Cancelled; nothing to serve.
    Canceled,
}

/// One download.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Download {
    /// Chromium's id for it; also the file's name on disk.
    pub id: String,
    /// Where it came from.
    pub url: String,
    /// The name the page suggested, to offer the human.
    pub name: String,
    /// Where it stands.
    pub status: DownloadStatus,
    /// Bytes received so far.
    pub received_bytes: u64,
}

/// The browser's downloads. Stops following when dropped.
#[derive(Debug)]
pub struct Downloads {
    dir: PathBuf,
    /// The browser user's folder `dir` is, removed with the list.
    own: Option<PathBuf>,
    list: Arc<Mutex<Vec<Download>>>,
    changes: watch::Receiver<u64>,
    task: JoinHandle<()>,
}

fn lock(list: &Mutex<Vec<Download>>) -> MutexGuard<'_, Vec<Download>> {
    list.lock().unwrap_or_else(|p| p.into_inner())
}

/// Chromium's ids are GUIDs; anything else is refused as a file name.
fn is_guid(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
}

impl Downloads {
    /// Sends every download of the browser behind `cdp` into `dir` and starts listing them.
    /// When Chromium runs as the unprivileged browser user, the files go into a folder of
    /// that user's instead, removed when this is dropped ([`Downloads::file`] says where).
    pub async fn follow(cdp: &Connection, dir: &Path) -> Result<Downloads, BrowserError> {
        // Chromium running as the browser user writes into a folder of that user's instead.
        let own = crate::user::download_folder().map_err(BrowserError::Files)?;
        let dir = own.as_deref().unwrap_or(dir);
        let mut events = cdp.events();
        cdp.call(SetDownloadBehavior {
            behavior: DownloadBehavior::AllowAndName,
            download_path: Some(dir.display().to_string()),
            events_enabled: Some(true),
            ..Default::default()
        })
        .await?;
        let list = Arc::new(Mutex::new(Vec::<Download>::new()));
        let (notify, changes) = watch::channel(0u64);
        let task_list = list.clone();
        let task = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let changed = if let Some(Ok(begin)) = event.parse::<DownloadWillBegin>() {
                    if !is_guid(&begin.guid) {
                        continue;
                    }
                    lock(&task_list).push(Download {
                        id: begin.guid,
                        url: begin.url,
                        name: begin.suggested_filename,
                        status: DownloadStatus::InProgress,
                        received_bytes: 0,
                    });
                    true
                } else if let Some(Ok(progress)) = event.parse::<DownloadProgress>() {
                    let mut list = lock(&task_list);
                    match list.iter_mut().find(|d| d.id == progress.guid) {
                        Some(d) => {
                            let status = match progress.state {
                                DownloadState::Completed => DownloadStatus::Completed,
                                DownloadState::Canceled => DownloadStatus::Canceled,
                                _ => DownloadStatus::InProgress,
                            };
                            let changed = status != d.status;
                            d.status = status;
                            d.received_bytes = progress.received_bytes.max(0.0) as u64;
                            changed
                        }
                        None => false,
                    }
                } else {
                    false
                };
                if changed {
                    notify.send_modify(|n| *n += 1);
                }
            }
        });
        Ok(Downloads {
            dir: dir.to_path_buf(),
            own,
            list,
            changes,
            task,
        })
    }

    /// The downloads so far, oldest first.
    pub fn list(&self) -> Vec<Download> {
        lock(&self.list).clone()
    }

    /// Changes whenever a download starts, completes or is cancelled.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    /// The file of a completed download, with the name to offer it under.
    pub fn file(&self, id: &str) -> Option<(PathBuf, String)> {
        if !is_guid(id) {
            return None;
        }
        lock(&self.list)
            .iter()
            .find(|d| d.id == id && d.status == DownloadStatus::Completed)
            .map(|d| (self.dir.join(&d.id), d.name.clone()))
    }
}

impl Drop for Downloads {
    fn drop(&mut self) {
        self.task.abort();
        if let Some(own) = &self.own {
            let _ = std::fs::remove_dir_all(own);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_guids_name_files() {
        assert!(is_guid("6c9b2a7e-1f3e-4bd0-9d4c-0e8f7a1b2c3d"));
        assert!(!is_guid("../secret"));
        assert!(!is_guid(""));
        assert!(!is_guid("a/b"));
    }
}
