//! `allowResizing`: a control viewer of a browser created with it sizes the browser's
//! viewport to its own picture area, as Browser Use's viewer does. The page sends its size
//! (`resize`) on connect and whenever its window changes; without `allowResizing`, or from a
//! view-only viewer, the message is ignored and the viewport stays as created.

use crate::owners::Owners;

use super::access::Access;

/// The smallest viewport a viewer may ask for, in CSS pixels.
pub const MIN_SIZE: (u32, u32) = (320, 240);
/// The largest viewport a viewer may ask for, in CSS pixels (4K UHD).
pub const MAX_SIZE: (u32, u32) = (3840, 2160);

/// Applies a viewer's `resize` when its browser allows it: the size, kept within
/// [`MIN_SIZE`]..[`MAX_SIZE`], becomes the viewport of the browser's window. Awaited in the
/// viewer's own order (a few milliseconds of CDP), so two quick resizes end at the later size.
pub(super) async fn resize(owners: &Owners, access: &Access, w: f64, h: f64) {
    let id = access.session_id;
    if !access.may_control() || !owners.allows_resizing(id) {
        tracing::debug!(browser = %id, "viewport resize ignored: not allowed for this viewer");
        return;
    }
    let Some((width, height)) = clamp(w, h) else {
        return;
    };
    let Some(browser) = owners.browser(id) else {
        return;
    };
    match browser.set_viewport(width, height).await {
        Ok(()) => tracing::debug!(browser = %id, width, height, "viewport resized for a viewer"),
        Err(e) => tracing::debug!(browser = %id, error = %e, "viewport resize failed"),
    }
}

/// A viewer's size as whole CSS pixels within the allowed range; `None` for nonsense.
fn clamp(w: f64, h: f64) -> Option<(u32, u32)> {
    if !w.is_finite() || !h.is_finite() || w <= 0.0 || h <= 0.0 {
        return None;
    }
    // In range after the clamp, so the casts cannot truncate.
    let width = w
        .round()
        .clamp(f64::from(MIN_SIZE.0), f64::from(MAX_SIZE.0)) as u32;
    let height = h
        .round()
        .clamp(f64::from(MIN_SIZE.1), f64::from(MAX_SIZE.1)) as u32;
    Some((width, height))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_kept_within_the_range() {
        assert_eq!(clamp(1000.4, 700.6), Some((1000, 701)));
        assert_eq!(clamp(100.0, 100.0), Some(MIN_SIZE));
        assert_eq!(clamp(9000.0, 9000.0), Some(MAX_SIZE));
        assert_eq!(clamp(f64::NAN, 10.0), None);
        assert_eq!(clamp(0.0, 500.0), None);
    }
}
