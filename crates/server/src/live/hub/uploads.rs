//! Files a human gives a page's file chooser through the live view: stored under the hub's
//! directory with safe names, within [`MAX_UPLOAD_BYTES`], and set on the chooser's input.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use super::MAX_UPLOAD_BYTES;
use super::actor::Actor;
use crate::live::protocol::{ServerMessage, UploadedFile};

impl Actor {
    pub(super) async fn upload(&mut self, files: Vec<UploadedFile>) -> Result<(), String> {
        let (Some(tab), Some(node)) = (self.tab.clone(), self.chooser.take()) else {
            return Err("no file chooser is open".into());
        };
        self.publish(ServerMessage::FileChooserClosed, |s, _| s.chooser = None);
        self.uploads_made += 1;
        let dir = self.uploads.join(self.uploads_made.to_string());
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| format!("cannot store the upload: {e}"))?;
        let mut paths = Vec::new();
        let mut total = 0usize;
        for file in files {
            let data = STANDARD
                .decode(file.data.as_bytes())
                .map_err(|_| format!("{}: not base64", file.name))?;
            total += data.len();
            if total > MAX_UPLOAD_BYTES {
                return Err(format!(
                    "uploads are limited to {} MB",
                    MAX_UPLOAD_BYTES >> 20
                ));
            }
            let path = dir.join(file_name(&file.name, paths.len()));
            tokio::fs::write(&path, data)
                .await
                .map_err(|e| format!("cannot store the upload: {e}"))?;
            paths.push(path);
        }
        tab.set_files(&node, &paths)
            .await
            .map_err(|e| e.to_string())
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
}
