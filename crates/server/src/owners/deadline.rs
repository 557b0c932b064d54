//! What every owner of a browser follows alike: deadlines that never overflow, the wait for
//! a browser that is gone, and the viewport its creator asked for.

use std::time::Duration;

use browser::Exit;
use tokio::sync::watch;
use tokio::time::Instant;

/// `now + d`, saturating far in the future instead of overflowing.
pub(crate) fn deadline_after(d: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(d)
        .unwrap_or_else(|| now + Duration::from_secs(10 * 365 * 24 * 3600))
}

/// Resolves once the browser process is gone.
pub(crate) async fn browser_gone(exited: &mut watch::Receiver<Option<Exit>>) -> Exit {
    match exited.wait_for(Option::is_some).await {
        Ok(exit) => exit.clone().unwrap_or_else(|| Exit {
            crashed: true,
            reason: "unknown".into(),
        }),
        Err(_) => Exit {
            crashed: true,
            reason: "its process watcher stopped".into(),
        },
    }
}

/// Gives a new browser the viewport its creator asked for with `browserScreenWidth` and
/// `browserScreenHeight` (validated together, 320-6144 by 320-3456); without them it keeps
/// the default 1280×720.
pub(crate) async fn size_screen(
    browser: &browser::Browser,
    width: Option<i64>,
    height: Option<i64>,
) -> Result<(), browser::BrowserError> {
    let (Some(width), Some(height)) = (width, height) else {
        return Ok(());
    };
    match (u32::try_from(width), u32::try_from(height)) {
        (Ok(width), Ok(height)) => browser.set_viewport(width, height).await,
        _ => Ok(()),
    }
}
