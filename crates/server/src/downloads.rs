//! Every browser's downloads, kept after it ends: `GET /browsers/{id}/downloads` lists them,
//! signed links serve them, and a session attached to a workspace finds them in the
//! workspace's `downloads/` folder.
//!
//! The browser's owner follows its downloads from the start (so downloads made by the agent
//! or a CDP client count, not only those a human makes in the live view, which shows the same
//! list). Chromium writes each download under its GUID into `<dir>/.incoming/<id>/`; once one
//! completes it is copied to `<dir>/<id>/<name>` (and into the workspace), under the name the
//! page suggested, made safe and unique.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Weak};

use browser::{Browser, DownloadStatus, Downloads};
use store::Uuid;

/// Where a browser's completed downloads are kept.
pub(crate) fn dir_of(root: &Path, id: Uuid) -> PathBuf {
    root.join(id.to_string())
}

/// Follows the downloads of `browser` (of session or browser `id`) and copies each completed
/// one into `<root>/<id>/` and `workspace`. `None` when Chromium refused (logged): the browser
/// then works without download capture.
pub(crate) async fn follow(
    browser: &Browser,
    root: &Path,
    id: Uuid,
    workspace: Option<PathBuf>,
) -> Option<Arc<Downloads>> {
    let incoming = root.join(".incoming").join(id.to_string());
    if let Err(e) = tokio::fs::create_dir_all(&incoming).await {
        tracing::warn!(%id, error = %e, "cannot create the downloads directory");
        return None;
    }
    let downloads = match Downloads::follow(browser.cdp(), &incoming).await {
        Ok(downloads) => Arc::new(downloads),
        Err(e) => {
            tracing::warn!(%id, error = %e, "cannot follow the browser's downloads");
            return None;
        }
    };
    let kept = dir_of(root, id);
    tokio::spawn(export(Arc::downgrade(&downloads), kept, workspace));
    Some(downloads)
}

/// Copies completed downloads out, until the browser's [`Downloads`] is dropped.
async fn export(downloads: Weak<Downloads>, kept: PathBuf, workspace: Option<PathBuf>) {
    let Some(mut changes) = downloads.upgrade().map(|d| d.changes()) else {
        return;
    };
    let mut exported = std::collections::HashSet::new();
    loop {
        let Some(current) = downloads.upgrade() else {
            return;
        };
        let done: Vec<_> = current
            .list()
            .into_iter()
            .filter(|d| d.status == DownloadStatus::Completed && !exported.contains(&d.id))
            .filter_map(|d| current.file(&d.id).map(|file| (d.id, file)))
            .collect();
        drop(current);
        for (id, (file, name)) in done {
            exported.insert(id);
            for target in std::iter::once(&kept).chain(workspace.iter()) {
                if let Err(e) = copy_as(&file, target, &name).await {
                    tracing::warn!(dir = %target.display(), error = %e, "cannot keep a download");
                }
            }
        }
        if changes.changed().await.is_err() {
            return;
        }
    }
}

/// Copies `file` into `dir` as `name` made safe, with ` (n)` added when taken. The copy is
/// written under a hidden name (listings skip it) and appears under its own name only whole,
/// so a listing never shows a download half copied.
async fn copy_as(file: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!(".upload-download-{}", Uuid::new_v4()));
    tokio::fs::copy(file, &partial).await?;
    let placed = place(&partial, dir, name).await;
    let _ = tokio::fs::remove_file(&partial).await;
    placed
}

/// Links the whole copy `partial` into `dir` under `name` (or `name (n)`), never over a file
/// that is there.
async fn place(partial: &Path, dir: &Path, name: &str) -> std::io::Result<PathBuf> {
    let name = safe_name(name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => (stem.to_string(), format!(".{ext}")),
        _ => (name.clone(), String::new()),
    };
    for n in 0..1000 {
        let candidate = if n == 0 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match tokio::fs::hard_link(partial, &candidate).await {
            Ok(()) => return Ok(candidate),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other(
        "too many downloads with the same name",
    ))
}

/// A page-suggested file name reduced to one harmless path segment.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim().trim_start_matches('.').to_string();
    if cleaned.is_empty() {
        "download".into()
    } else {
        cleaned.chars().take(200).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggested_names_become_one_safe_segment() {
        assert_eq!(safe_name("report.pdf"), "report.pdf");
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name(""), "download");
    }

    // Issue 15.4: `GET /browsers/{id}/downloads` listed a download while it was copied
    // (size 0). A listing taken while a large download is kept shows it whole or not at all.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_download_is_listed_only_whole() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src");
        let size = 64u64 << 20;
        std::fs::write(&file, vec![7u8; size as usize]).unwrap();
        let out = dir.path().join("out");
        std::fs::create_dir_all(&out).unwrap();
        let copy = tokio::spawn({
            let (file, out) = (file.clone(), out.clone());
            async move { copy_as(&file, &out, "big.bin").await.unwrap() }
        });
        let query = || crate::workspaces::FileQuery {
            prefix: String::new(),
            limit: 10,
            cursor: None,
            shallow: false,
        };
        let mut listings = 0;
        while !copy.is_finished() {
            let page = crate::workspaces::list_files(out.clone(), query())
                .await
                .unwrap();
            for f in &page.files {
                assert_eq!(
                    (f.path.as_str(), f.size),
                    ("big.bin", size),
                    "listed half copied"
                );
            }
            listings += 1;
        }
        copy.await.unwrap();
        let page = crate::workspaces::list_files(out, query()).await.unwrap();
        assert_eq!(
            page.files.len(),
            1,
            "only the download, no leftover: {listings}"
        );
        assert_eq!(page.files[0].size, size);
    }

    #[tokio::test]
    async fn copies_never_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("src");
        std::fs::write(&file, b"x").unwrap();
        let out = dir.path().join("out");
        let a = copy_as(&file, &out, "a.txt").await.unwrap();
        let b = copy_as(&file, &out, "a.txt").await.unwrap();
        assert_eq!(a.file_name().unwrap(), "a.txt");
        assert_eq!(b.file_name().unwrap(), "a (1).txt");
    }
}
