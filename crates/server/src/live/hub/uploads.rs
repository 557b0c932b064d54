//! Files a human gives a page's file chooser through the live view. They arrive in chunks
//! (a control socket's messages are bounded, a file is not), each written to disk as it
//! comes, so a file is never held whole in memory; within [`MAX_UPLOAD_BYTES`] a viewer at
//! a time, stored under the hub's directory with safe names, then set on the chooser's input.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use tokio::io::AsyncWriteExt;

use super::MAX_UPLOAD_BYTES;
use super::actor::Actor;
use crate::live::protocol::ServerMessage;

/// Largest piece of a file in one `chunk` message, before base64: the page sends 1 MiB.
pub const CHUNK_LIMIT: usize = 1 << 20;

/// Most files one viewer may have on the way at once.
const MAX_FILES_ON_THE_WAY: usize = 64;

impl Actor {
    /// Answers the open file chooser with `files` (none cancels it).
    pub(super) async fn upload(&mut self, files: Vec<PathBuf>) -> Result<(), String> {
        let (Some(tab), Some(node)) = (self.tab.clone(), self.chooser.take()) else {
            return Err("no file chooser is open".into());
        };
        self.publish(ServerMessage::FileChooserClosed, |s, _| s.chooser = None);
        tab.set_files(&node, &files)
            .await
            .map_err(|e| e.to_string())
    }
}

/// One viewer's files on the way: begun with `upload`, filled by `chunk`s in order, handed
/// over whole by `files`. A file that fails (too big, a chunk out of order, a disk error) is
/// removed at once and its later chunks are ignored; the failure is told once, on `files`.
pub struct Incoming {
    dir: PathBuf,
    files: HashMap<u64, Arriving>,
    failed: HashMap<u64, String>,
    begun: u64,
}

/// A file being received.
struct Arriving {
    name: String,
    path: PathBuf,
    file: tokio::fs::File,
    size: u64,
    received: u64,
}

impl Incoming {
    /// Receives files into folders under `dir`.
    pub(super) fn new(dir: PathBuf) -> Self {
        Incoming {
            dir,
            files: HashMap::new(),
            failed: HashMap::new(),
            begun: 0,
        }
    }

    /// Begins file `id` of `size` bytes, named `name` on the human's machine.
    pub async fn begin(&mut self, id: u64, name: &str, size: u64) {
        if let Err(e) = self.try_begin(id, name, size).await {
            self.fail(id, e);
        }
    }

    async fn try_begin(&mut self, id: u64, name: &str, size: u64) -> Result<(), String> {
        if self.files.contains_key(&id) || self.failed.contains_key(&id) {
            return Err(format!("{name}: sent twice"));
        }
        if self.files.len() + self.failed.len() >= MAX_FILES_ON_THE_WAY {
            return Err(format!(
                "{name}: at most {MAX_FILES_ON_THE_WAY} files at a time"
            ));
        }
        let declared: u64 = self.files.values().map(|f| f.size).sum();
        if declared.saturating_add(size) > MAX_UPLOAD_BYTES as u64 {
            return Err(format!(
                "uploads are limited to {} MB",
                MAX_UPLOAD_BYTES >> 20
            ));
        }
        self.begun += 1;
        let dir = self.dir.join(self.begun.to_string());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("cannot store the upload: {e}"))?;
        let path = dir.join(file_name(name, 0));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| format!("cannot store the upload: {e}"))?;
        self.files.insert(
            id,
            Arriving {
                name: name.to_string(),
                path,
                file,
                size,
                received: 0,
            },
        );
        Ok(())
    }

    /// Writes a chunk of file `id` starting at `offset`, base64 `data`.
    pub async fn chunk(&mut self, id: u64, offset: u64, data: &str) {
        let Some(arriving) = self.files.get_mut(&id) else {
            if !self.failed.contains_key(&id) {
                self.fail(id, format!("upload {id} was never begun"));
            }
            return;
        };
        if let Err(e) = arriving.write(offset, data).await {
            let e = format!("{}: {e}", arriving.name);
            self.fail(id, e);
        }
    }

    /// Hands over files `ids`, each received whole, or says why not (and drops them all).
    pub async fn finish(&mut self, ids: &[u64]) -> Result<Vec<PathBuf>, String> {
        let mut files = Vec::new();
        let mut error = None;
        for id in ids {
            match (self.files.remove(id), self.failed.remove(id)) {
                (_, Some(e)) => error = error.or(Some(e)),
                (Some(mut arriving), None) => {
                    if arriving.received != arriving.size {
                        error = error.or(Some(format!(
                            "{}: {} of {} bytes arrived",
                            arriving.name, arriving.received, arriving.size
                        )));
                    } else if let Err(e) = arriving.file.flush().await {
                        error = error.or(Some(format!("cannot store the upload: {e}")));
                    }
                    files.push(arriving.path);
                }
                (None, None) => error = error.or(Some(format!("upload {id} is unknown"))),
            }
        }
        match error {
            None => Ok(files),
            Some(e) => {
                for path in files {
                    let _ = tokio::fs::remove_file(path).await;
                }
                Err(e)
            }
        }
    }

    /// Drops file `id` and remembers why, to say so on `files`.
    fn fail(&mut self, id: u64, why: String) {
        tracing::debug!(id, error = %why, "upload failed");
        if let Some(arriving) = self.files.remove(&id) {
            let _ = std::fs::remove_file(&arriving.path);
        }
        // Bounded: an id fails once, and only begun ids or a few strays reach here.
        if self.failed.len() < MAX_FILES_ON_THE_WAY {
            self.failed.insert(id, why);
        }
    }
}

impl Arriving {
    async fn write(&mut self, offset: u64, data: &str) -> Result<(), String> {
        if data.len() > CHUNK_LIMIT.div_ceil(3) * 4 {
            return Err(format!("a chunk holds at most {CHUNK_LIMIT} bytes"));
        }
        let bytes = STANDARD
            .decode(data.as_bytes())
            .map_err(|_| "not base64".to_string())?;
        if offset != self.received {
            return Err(format!(
                "a chunk at {offset} where {} was expected",
                self.received
            ));
        }
        let received = self.received + bytes.len() as u64;
        if received > self.size {
            return Err(format!("more than the {} bytes announced", self.size));
        }
        self.file
            .write_all(&bytes)
            .await
            .map_err(|e| format!("cannot store the upload: {e}"))?;
        self.received = received;
        Ok(())
    }
}

impl Drop for Incoming {
    /// A viewer that leaves mid-upload leaves nothing half-written behind.
    fn drop(&mut self) {
        for arriving in self.files.values() {
            let _ = std::fs::remove_file(&arriving.path);
        }
    }
}

/// A safe file name for an upload: the last path component, without control characters,
/// never empty, at most 200 bytes.
fn file_name(name: &str, index: usize) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .trim_start_matches('.')
        .to_string();
    let mut cleaned = if cleaned.is_empty() {
        format!("upload-{index}")
    } else {
        cleaned
    };
    while cleaned.len() > 200 {
        cleaned.pop();
    }
    cleaned
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upload_names_stay_inside_their_directory() {
        assert_eq!(file_name("../../etc/passwd", 0), "passwd");
        assert_eq!(file_name("C:\\Users\\me\\cv.pdf", 0), "cv.pdf");
        assert_eq!(file_name("..", 3), "upload-3");
        assert_eq!(file_name(".hidden", 0), "hidden");
        assert_eq!(file_name("a\u{0}b.txt", 0), "ab.txt");
        assert_eq!(file_name(&"x".repeat(300), 0).len(), 200);
    }

    fn b64(bytes: &[u8]) -> String {
        STANDARD.encode(bytes)
    }

    #[tokio::test]
    async fn chunks_in_order_make_the_file_and_anything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut incoming = Incoming::new(dir.path().to_path_buf());
        incoming.begin(1, "a.txt", 6).await;
        incoming.chunk(1, 0, &b64(b"abc")).await;
        incoming.chunk(1, 3, &b64(b"def")).await;
        let files = incoming.finish(&[1]).await.unwrap();
        assert_eq!(std::fs::read(&files[0]).unwrap(), b"abcdef");

        // Out of order, too long, short, unknown, over the limit: refused, and nothing kept.
        incoming.begin(2, "b.txt", 6).await;
        incoming.chunk(2, 3, &b64(b"def")).await;
        let e = incoming.finish(&[2]).await.unwrap_err();
        assert!(e.contains("expected"), "{e}");
        incoming.begin(3, "c.txt", 2).await;
        incoming.chunk(3, 0, &b64(b"abc")).await;
        let e = incoming.finish(&[3]).await.unwrap_err();
        assert!(e.contains("announced"), "{e}");
        incoming.begin(4, "d.txt", 4).await;
        incoming.chunk(4, 0, &b64(b"ab")).await;
        let e = incoming.finish(&[4]).await.unwrap_err();
        assert!(e.contains("2 of 4 bytes"), "{e}");
        assert!(incoming.finish(&[9]).await.unwrap_err().contains("unknown"));
        incoming
            .begin(5, "e.bin", MAX_UPLOAD_BYTES as u64 + 1)
            .await;
        let e = incoming.finish(&[5]).await.unwrap_err();
        assert!(e.contains("limited"), "{e}");
        let left: Vec<_> = walk(dir.path());
        assert_eq!(left, vec![files[0].clone()], "only the whole file stays");
    }

    fn walk(dir: &std::path::Path) -> Vec<PathBuf> {
        let mut out = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                out.extend(walk(&path));
            } else {
                out.push(path);
            }
        }
        out
    }
}
