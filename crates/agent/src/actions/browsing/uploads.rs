//! Uploads: `browser_upload_file` and the files the model is shown, from the allowed
//! directories only.

use super::*;

impl Browsing {
    /// Whether uploads are possible at all (the tool is offered only then).
    pub fn uploads_enabled(&self) -> bool {
        !self.options.upload_dirs.is_empty()
    }

    /// What the model may upload, as a short text for its state, when the latest
    /// observation has a file input and uploads are enabled; `None` otherwise.
    pub fn uploadable(&self) -> Option<String> {
        if !self.uploads_enabled() {
            return None;
        }
        let state = self.state.as_ref()?;
        if !state.elements.iter().any(|e| e.role == "file") {
            return None;
        }
        let (names, more) = uploadable_files(&self.options.upload_dirs);
        if names.is_empty() {
            return Some("(no files to upload)".into());
        }
        let mut text = names.join("\n");
        if more > 0 {
            text.push_str(&format!("\n(and {more} more)"));
        }
        Some(text)
    }

    pub(super) async fn upload(&mut self, index: u64, path: &str) -> Result<Executed, ActionError> {
        let file = allowed_upload(&self.options.upload_dirs, Path::new(path))?;
        let element = self.element(index)?;
        let session = self.node_session(&element.target).await?;
        session
            .call(dom::SetFileInputFiles {
                files: vec![file.to_string_lossy().into_owned()],
                backend_node_id: Some(element.target.backend_node_id),
                ..Default::default()
            })
            .await
            .map_err(|e| {
                ActionError::Failed(format!(
                    "cannot put a file into {} (is it a file input?): {e}",
                    describe(&element)
                ))
            })?;
        Ok(Executed::said(format!(
            "Uploaded {} into {}",
            file.display(),
            describe(&element)
        )))
    }
}
