//! Input replay: the human's input, strictly in arrival order, on a task of its own (a click
//! can block in the browser until a dialog it opened is answered, and the answer must still
//! get through); input waits through a screencast restart instead of being dropped.

use std::sync::Arc;
use std::time::Duration;

use browser::input::{KeyInput, PointerAction, PointerInput};
use browser::{Frame, LiveTab};

use crate::live::protocol::ServerMessage;
use tokio::sync::{mpsc, watch};

/// Replayed input, in arrival order.
#[derive(Debug)]
pub enum InputJob {
    /// A mouse event at a fraction of the frame image.
    Pointer {
        /// What happens.
        action: PointerAction,
        /// X as a fraction of the frame width.
        fx: f64,
        /// Y as a fraction of the frame height.
        fy: f64,
        /// `MouseEvent.button`.
        button: i32,
        /// `MouseEvent.buttons`.
        buttons: i32,
        /// Click count.
        clicks: i64,
        /// Modifier bits.
        mods: i32,
        /// Wheel deltas.
        dx: f64,
        /// Wheel deltas.
        dy: f64,
    },
    /// A key.
    Key(KeyInput),
    /// Text to insert.
    Text(String),
    /// Send the page's selection to one viewer's clipboard.
    Copy(mpsc::UnboundedSender<ServerMessage>),
}

/// How long input waits for a tab to come on screen before it is dropped. Attaching a tab or
/// restarting its screencast (a viewer resized) takes a few seconds at worst (the priming
/// screenshot alone may wait four), and a human's input must survive that: it queues and is
/// delivered in order. Only a tab that cannot be shown at all drops it, rather than holding
/// the queue for good.
const TAB_WAIT: Duration = Duration::from_secs(30);

/// The tab on screen, waiting while one is being attached or its screencast restarts.
async fn tab_on_screen<T: Clone>(tab: &mut watch::Receiver<Option<T>>) -> Option<T> {
    if let Some(current) = tab.borrow().clone() {
        return Some(current);
    }
    match tokio::time::timeout(TAB_WAIT, tab.wait_for(Option::is_some)).await {
        Ok(Ok(current)) => current.clone(),
        _ => None,
    }
}

/// Replays input in arrival order on the tab on screen. Consecutive moves with the same
/// buttons collapse into the last one (each costs the renderer a frame), nothing else does.
pub(super) async fn replay_input(
    mut jobs: mpsc::Receiver<InputJob>,
    mut tab: watch::Receiver<Option<LiveTab>>,
    frames: watch::Receiver<Option<Arc<Frame>>>,
) {
    let mut pending: Option<InputJob> = None;
    loop {
        let job = match pending.take() {
            Some(job) => job,
            None => match jobs.recv().await {
                Some(job) => job,
                None => return,
            },
        };
        let job = match job {
            InputJob::Pointer {
                action: PointerAction::Move,
                ..
            } => {
                let mut latest = job;
                while let Ok(next) = jobs.try_recv() {
                    match (&latest, &next) {
                        (
                            InputJob::Pointer { buttons: a, .. },
                            InputJob::Pointer {
                                action: PointerAction::Move,
                                buttons: b,
                                ..
                            },
                        ) if a == b => latest = next,
                        _ => {
                            pending = Some(next);
                            break;
                        }
                    }
                }
                latest
            }
            other => other,
        };
        let Some(on_screen) = tab_on_screen(&mut tab).await else {
            tracing::debug!("input dropped: no tab on screen");
            continue;
        };
        let mut result = replay(&job, &on_screen, &frames).await;
        // Input that raced a tab switch (its session detached under it) goes to the tab now
        // on screen, once.
        if let Err(Replay::Detached) = result
            && let Some(now) = tab_on_screen(&mut tab).await
            && now.session().id() != on_screen.session().id()
        {
            result = replay(&job, &now, &frames).await;
        }
        if let Err(e) = result {
            tracing::debug!(error = %e, "live input not replayed");
        }
    }
}

/// Why one input was not replayed.
#[derive(Debug, thiserror::Error)]
enum Replay {
    /// The tab's session went away (tab switched or closed) before the browser answered.
    #[error("the tab's session detached")]
    Detached,
    /// Anything else: bad input, a browser error.
    #[error("{0}")]
    Failed(String),
}

impl From<browser::LiveInputError> for Replay {
    fn from(e: browser::LiveInputError) -> Replay {
        match e {
            browser::LiveInputError::Detached => Replay::Detached,
            other => Replay::Failed(other.to_string()),
        }
    }
}

/// Replays one input on `tab`.
async fn replay(
    job: &InputJob,
    tab: &LiveTab,
    frames: &watch::Receiver<Option<Arc<Frame>>>,
) -> Result<(), Replay> {
    match job {
        InputJob::Pointer {
            action,
            fx,
            fy,
            button,
            buttons,
            clicks,
            mods,
            dx,
            dy,
        } => {
            let geometry = frames.borrow().as_ref().map(|f| f.geometry);
            tracing::trace!(?action, fx, fy, ?geometry, "pointer");
            let mapped = match action {
                // Leaving needs no point of the picture (it goes outside the viewport).
                PointerAction::Leave => Some((0.0, 0.0)),
                _ => geometry.and_then(|g| g.to_css(*fx, *fy)),
            };
            let Some((x, y)) = mapped else {
                return Err(Replay::Failed("no frame to map the pointer on".into()));
            };
            tab.pointer(&PointerInput {
                action: *action,
                x,
                y,
                button: *button,
                buttons: *buttons,
                click_count: *clicks,
                modifiers: *mods,
                delta_x: *dx,
                delta_y: *dy,
            })
            .await?;
        }
        InputJob::Key(key) => tab.key(key).await?,
        InputJob::Text(text) => tab.insert_text(text).await?,
        InputJob::Copy(reply) => {
            // Nothing selected copies nothing: the human's clipboard keeps what it had.
            let text = tab.selected_text().await?;
            if !text.is_empty() {
                let _ = reply.send(ServerMessage::Clipboard { text });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn input_waits_for_a_slow_restart_instead_of_being_dropped() {
        let (tab, mut on_screen) = watch::channel(None::<u32>);
        let restart = tokio::spawn(async move {
            // Longer than the priming screenshot may take (two waits of two seconds).
            tokio::time::sleep(Duration::from_secs(8)).await;
            tab.send_replace(Some(7));
            tab
        });
        assert_eq!(tab_on_screen(&mut on_screen).await, Some(7));
        let tab = restart.await.unwrap();
        // A tab that never comes back drops the input in the end rather than holding it.
        tab.send_replace(None);
        let started = tokio::time::Instant::now();
        assert_eq!(tab_on_screen(&mut on_screen).await, None);
        assert!(started.elapsed() >= TAB_WAIT);
    }
}
