//! The viewport as an image, for vision models.

use cdp::protocol::page::{CaptureScreenshot, ScreenshotFormat};

use super::error::PerceptionError;

/// JPEG quality: small enough for every step's prompt, sharp enough to read text.
const QUALITY: i64 = 70;

/// A screenshot of the viewport, base64-encoded as CDP sends it and as LLM APIs take it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Screenshot {
    /// The image bytes, base64.
    pub base64: String,
    /// Its media type, `image/jpeg`.
    pub media_type: &'static str,
}

/// Captures what the tab shows now (the viewport only, as the element list's `[index]`
/// boxes are in viewport coordinates).
pub async fn screenshot(page: &browser::Page) -> Result<Screenshot, PerceptionError> {
    let shot = page
        .session()
        .call(CaptureScreenshot {
            format: Some(ScreenshotFormat::Jpeg),
            quality: Some(QUALITY),
            optimize_for_speed: Some(true),
            ..Default::default()
        })
        .await?;
    Ok(Screenshot {
        base64: shot.data,
        media_type: "image/jpeg",
    })
}
