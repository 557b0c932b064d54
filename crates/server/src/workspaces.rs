//! Workspaces (`/workspaces`): named folders of files on disk under
//! `<data_dir>/workspaces/<id>/`, that clients fill and read through signed links (the SDKs'
//! `upload()`/`download()` send no API key) and that sessions attached to them use: the
//! agent's `browser_upload_file` may read them, and the browser's downloads land in
//! `downloads/`.
//!
//! Every path a client gives is relative, `/`-separated, without `.`/`..` segments
//! ([`file_path`]), and is followed on disk without links ([`inside`], and the folders a write
//! creates): it can never leave its workspace, even if a link appeared inside it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use store::{Store, StoreError, Uuid, WorkspaceRecord};
use tokio::io::AsyncWriteExt;

/// Why a workspace operation failed.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// No such workspace.
    #[error("Workspace not found")]
    NotFound,
    /// No such file in the workspace.
    #[error("File not found")]
    FileNotFound,
    /// A path that is not a plain relative path inside the workspace.
    #[error("{0}")]
    BadPath(String),
    /// An upload larger than [`MAX_FILE_BYTES`].
    #[error("File too large: at most {MAX_FILE_BYTES} bytes")]
    TooLarge,
    /// The store failed.
    #[error("storage error: {0}")]
    Store(#[from] StoreError),
    /// The file system failed.
    #[error("file error: {0}")]
    Io(#[from] std::io::Error),
}

/// Largest file a workspace takes in one upload.
pub const MAX_FILE_BYTES: u64 = 512 << 20;
/// Longest path accepted.
const MAX_PATH_CHARS: usize = 1024;

/// One file of a workspace (or of a browser's downloads).
#[derive(Debug, Clone, PartialEq)]
pub struct FileEntry {
    /// Relative path with `/` separators.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Last modification.
    pub modified: DateTime<Utc>,
}

/// A page of a file listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FilePage {
    /// Files in path order.
    pub files: Vec<FileEntry>,
    /// With `shallow`: the sub-folders directly under the prefix.
    pub folders: Option<Vec<String>>,
    /// Where the next page starts, when there is one.
    pub next_cursor: Option<String>,
}

/// What a listing asks for.
#[derive(Debug, Clone, Default)]
pub struct FileQuery {
    /// Only paths starting with this.
    pub prefix: String,
    /// At most this many files.
    pub limit: usize,
    /// Only paths after this one (the previous page's `nextCursor`).
    pub cursor: Option<String>,
    /// Only the files directly under the prefix, and its sub-folders' names.
    pub shallow: bool,
}

/// Checks a client's relative path: non-empty segments, none `.` or `..`, no leading `/`, no
/// NUL or backslash. Returns it without a trailing `/`.
pub fn file_path(raw: &str) -> Result<String, WorkspaceError> {
    let bad = |why: &str| WorkspaceError::BadPath(format!("Invalid path {raw:?}: {why}"));
    if raw.is_empty() {
        return Err(bad("it is empty"));
    }
    if raw.chars().count() > MAX_PATH_CHARS {
        return Err(bad("it is too long"));
    }
    if raw.starts_with('/') {
        return Err(bad("it must be relative"));
    }
    if raw.contains(['\0', '\\']) {
        return Err(bad("it contains a NUL or a backslash"));
    }
    let trimmed = raw.trim_end_matches('/');
    for segment in trimmed.split('/') {
        match segment {
            "" => return Err(bad("it has an empty segment")),
            "." | ".." => return Err(bad("'.' and '..' are not allowed")),
            _ => {}
        }
    }
    Ok(trimmed.to_string())
}

/// The workspaces of this server. Cheap to clone.
#[derive(Clone)]
pub struct Workspaces {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    dir: PathBuf,
}

impl Workspaces {
    /// Workspaces recorded in `store`, their files under `dir`.
    pub fn new(store: Arc<dyn Store>, dir: PathBuf) -> Workspaces {
        Workspaces {
            inner: Arc::new(Inner { store, dir }),
        }
    }

    /// The directory of a workspace's files.
    pub fn dir_of(&self, id: Uuid) -> PathBuf {
        self.inner.dir.join(id.to_string())
    }

    /// A new, empty workspace.
    pub async fn create(&self, name: Option<String>) -> Result<WorkspaceRecord, WorkspaceError> {
        let record = WorkspaceRecord::new(Uuid::now_v7(), name);
        tokio::fs::create_dir_all(self.dir_of(record.id)).await?;
        self.inner.store.save_workspace(&record).await?;
        Ok(record)
    }

    /// One workspace.
    pub async fn get(&self, id: Uuid) -> Result<WorkspaceRecord, WorkspaceError> {
        self.inner
            .store
            .workspace(id)
            .await?
            .ok_or(WorkspaceError::NotFound)
    }

    /// A page of workspaces, newest first, and the total.
    pub async fn list(
        &self,
        offset: u64,
        limit: u64,
    ) -> Result<(Vec<WorkspaceRecord>, u64), WorkspaceError> {
        Ok(self.inner.store.list_workspaces(offset, limit).await?)
    }

    /// Renames a workspace (`None` leaves the name).
    pub async fn update(
        &self,
        id: Uuid,
        name: Option<String>,
    ) -> Result<WorkspaceRecord, WorkspaceError> {
        let mut record = self.get(id).await?;
        if name.is_some() {
            record.name = name;
        }
        record.updated_at = store::now();
        self.inner.store.save_workspace(&record).await?;
        Ok(record)
    }

    /// Deletes a workspace and its files.
    pub async fn delete(&self, id: Uuid) -> Result<(), WorkspaceError> {
        if !self.inner.store.delete_workspace(id).await? {
            return Err(WorkspaceError::NotFound);
        }
        match tokio::fs::remove_dir_all(self.dir_of(id)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// The files of a workspace, filtered and paged.
    pub async fn files(&self, id: Uuid, query: FileQuery) -> Result<FilePage, WorkspaceError> {
        self.get(id).await?;
        list_files(self.dir_of(id), query).await
    }

    /// Total bytes and files in a workspace.
    pub async fn size(&self, id: Uuid) -> Result<(u64, u64), WorkspaceError> {
        self.get(id).await?;
        let all = list_files(
            self.dir_of(id),
            FileQuery {
                limit: usize::MAX,
                ..Default::default()
            },
        )
        .await?;
        let bytes = all.files.iter().map(|f| f.size).sum();
        Ok((bytes, all.files.len() as u64))
    }

    /// Writes a file from a request body stream, replacing any file at `path` only once the
    /// whole body arrived.
    pub async fn write(
        &self,
        id: Uuid,
        path: &str,
        body: axum::body::Body,
    ) -> Result<u64, WorkspaceError> {
        self.get(id).await?;
        let target = writable(&self.dir_of(id), &file_path(path)?).await?;
        let parent = target
            .parent()
            .ok_or_else(|| WorkspaceError::BadPath(format!("Invalid path {path:?}")))?;
        let staging = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(parent)?;
        let (file, staged) = staging.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut written = 0u64;
        let mut stream = body.into_data_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| std::io::Error::other(e.to_string()))?;
            written += chunk.len() as u64;
            if written > MAX_FILE_BYTES {
                return Err(WorkspaceError::TooLarge);
            }
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        staged
            .persist(&target)
            .map_err(|e| WorkspaceError::Io(e.error))?;
        Ok(written)
    }

    /// The on-disk path of an existing file.
    pub async fn existing(&self, id: Uuid, path: &str) -> Result<PathBuf, WorkspaceError> {
        self.get(id).await?;
        inside(&self.dir_of(id), &file_path(path)?).await
    }

    /// Deletes one file.
    pub async fn delete_file(&self, id: Uuid, path: &str) -> Result<(), WorkspaceError> {
        let target = self.existing(id, path).await?;
        tokio::fs::remove_file(target).await?;
        Ok(())
    }
}

/// The existing file `clean` (a path [`file_path`] accepted) under `root`, when it resolves
/// to exactly that place: no link on the way (a link to a folder outside would be followed
/// otherwise) and nothing outside `root`. Anything else is [`WorkspaceError::FileNotFound`],
/// as listings skip links too.
pub async fn inside(root: &Path, clean: &str) -> Result<PathBuf, WorkspaceError> {
    let target = root.join(clean);
    let (Ok(real_root), Ok(real)) = (
        tokio::fs::canonicalize(root).await,
        tokio::fs::canonicalize(&target).await,
    ) else {
        return Err(WorkspaceError::FileNotFound);
    };
    if real != real_root.join(clean) || !real.is_file() {
        return Err(WorkspaceError::FileNotFound);
    }
    Ok(target)
}

/// Where a file `clean` (a path [`file_path`] accepted) may be written under `root`: its
/// folders are created one at a time, and one that is a link or a file is refused, so a write
/// never goes through a link; the target itself must not be a folder or a link.
async fn writable(root: &Path, clean: &str) -> Result<PathBuf, WorkspaceError> {
    let bad = |why: &str| WorkspaceError::BadPath(format!("Invalid path {clean:?}: {why}"));
    tokio::fs::create_dir_all(root).await?;
    let mut target = root.to_path_buf();
    let mut segments = clean.split('/').peekable();
    while let Some(segment) = segments.next() {
        target.push(segment);
        let last = segments.peek().is_none();
        match tokio::fs::symlink_metadata(&target).await {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(bad("it goes through a link"));
            }
            Ok(meta) if meta.is_dir() && last => return Err(bad("it is a folder")),
            Ok(meta) if !meta.is_dir() && !last => {
                return Err(bad(&format!("{segment} is a file")));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !last {
                    match tokio::fs::create_dir(&target).await {
                        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                            return Err(e.into());
                        }
                        // Made by a concurrent upload meanwhile: checked again below.
                        _ => {}
                    }
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    // Whatever raced the checks above, the folder written into resolves inside the root.
    let parent = target.parent().unwrap_or(root);
    let (real_root, real_parent) = (
        tokio::fs::canonicalize(root).await?,
        tokio::fs::canonicalize(parent).await?,
    );
    if !real_parent.starts_with(&real_root) {
        return Err(bad("it leads outside the workspace"));
    }
    Ok(target)
}

/// Lists the files under `root` (symlinks skipped) as a page of `query`.
pub async fn list_files(root: PathBuf, query: FileQuery) -> Result<FilePage, WorkspaceError> {
    tokio::task::spawn_blocking(move || list_files_blocking(&root, &query))
        .await
        .map_err(|e| std::io::Error::other(e.to_string()))?
}

fn list_files_blocking(root: &Path, query: &FileQuery) -> Result<FilePage, WorkspaceError> {
    let mut all = Vec::new();
    walk(root, "", &mut all)?;
    all.sort_by(|a, b| a.path.cmp(&b.path));
    let mut folders = std::collections::BTreeSet::new();
    let mut files = Vec::new();
    for entry in all {
        let Some(rest) = entry.path.strip_prefix(&query.prefix) else {
            continue;
        };
        if query.shallow
            && let Some((folder, _)) = rest.split_once('/')
        {
            folders.insert(format!("{}{folder}", query.prefix));
            continue;
        }
        if query
            .cursor
            .as_ref()
            .is_some_and(|c| entry.path.as_str() <= c.as_str())
        {
            continue;
        }
        files.push(entry);
    }
    let has_more = files.len() > query.limit;
    files.truncate(query.limit);
    let next_cursor = has_more
        .then(|| files.last().map(|f| f.path.clone()))
        .flatten();
    Ok(FilePage {
        files,
        folders: query.shallow.then(|| folders.into_iter().collect()),
        next_cursor,
    })
}

fn walk(dir: &Path, prefix: &str, out: &mut Vec<FileEntry>) -> Result<(), WorkspaceError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.into()),
    };
    for entry in entries {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        // Uploads in progress are hidden until they are whole.
        if name.starts_with(".upload-") {
            continue;
        }
        let meta = entry.metadata()?;
        let path = format!("{prefix}{name}");
        if meta.file_type().is_symlink() {
            continue;
        } else if meta.is_dir() {
            walk(&entry.path(), &format!("{path}/"), out)?;
        } else if meta.is_file() {
            let modified = meta
                .modified()
                .map(DateTime::<Utc>::from)
                .unwrap_or_else(|_| Utc::now());
            out.push(FileEntry {
                path,
                size: meta.len(),
                modified,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_accepted() {
        assert_eq!(file_path("uploads/a b.csv").unwrap(), "uploads/a b.csv");
        assert_eq!(file_path("dir/").unwrap(), "dir");
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a/./b",
            "a\\b",
            "a\0b",
        ] {
            assert!(file_path(bad).is_err(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn listings_filter_page_and_fold() {
        let dir = tempfile::tempdir().unwrap();
        for path in [
            "a.txt",
            "docs/b.txt",
            "docs/c.txt",
            "docs/deep/d.txt",
            ".upload-x",
        ] {
            let file = dir.path().join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, path).unwrap();
        }
        let paths = |page: &FilePage| {
            page.files
                .iter()
                .map(|f| f.path.clone())
                .collect::<Vec<_>>()
        };
        let query = |prefix: &str, limit, cursor: Option<&str>, shallow| FileQuery {
            prefix: prefix.into(),
            limit,
            cursor: cursor.map(str::to_string),
            shallow,
        };
        let all = list_files(dir.path().into(), query("", 10, None, false))
            .await
            .unwrap();
        assert_eq!(
            paths(&all),
            ["a.txt", "docs/b.txt", "docs/c.txt", "docs/deep/d.txt"]
        );
        assert_eq!(all.next_cursor, None);
        let first = list_files(dir.path().into(), query("docs/", 2, None, false))
            .await
            .unwrap();
        assert_eq!(paths(&first), ["docs/b.txt", "docs/c.txt"]);
        let next = first.next_cursor.clone().unwrap();
        let second = list_files(dir.path().into(), query("docs/", 2, Some(&next), false))
            .await
            .unwrap();
        assert_eq!(paths(&second), ["docs/deep/d.txt"]);
        assert_eq!(second.next_cursor, None);
        let shallow = list_files(dir.path().into(), query("", 10, None, true))
            .await
            .unwrap();
        assert_eq!(paths(&shallow), ["a.txt"]);
        assert_eq!(shallow.folders, Some(vec!["docs".to_string()]));
        assert_eq!(all.files[0].size, 5);
    }

    #[tokio::test]
    async fn links_inside_a_workspace_are_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("ws");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(root.join("docs")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret.txt"), b"secret").unwrap();
        std::fs::write(root.join("docs/a.txt"), b"a").unwrap();
        std::os::unix::fs::symlink(&outside, root.join("linked")).unwrap();
        std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("docs/s.txt")).unwrap();

        assert_eq!(
            inside(&root, "docs/a.txt").await.unwrap(),
            root.join("docs/a.txt")
        );
        for linked in ["linked/secret.txt", "docs/s.txt", "docs", "missing.txt"] {
            assert!(
                matches!(
                    inside(&root, linked).await,
                    Err(WorkspaceError::FileNotFound)
                ),
                "{linked}"
            );
        }

        assert_eq!(
            writable(&root, "new/deep/b.txt").await.unwrap(),
            root.join("new/deep/b.txt")
        );
        assert!(root.join("new/deep").is_dir());
        for (path, why) in [
            ("linked/evil.txt", "it goes through a link"),
            ("linked/sub/evil.txt", "it goes through a link"),
            ("docs/s.txt", "it goes through a link"),
            ("docs", "it is a folder"),
            ("docs/a.txt/x", "a.txt is a file"),
        ] {
            match writable(&root, path).await {
                Err(WorkspaceError::BadPath(msg)) => assert!(msg.ends_with(why), "{path}: {msg}"),
                other => panic!("{path}: {other:?}"),
            }
        }
        assert!(
            !outside.join("sub").exists(),
            "nothing created through the link"
        );
    }
}
