//! The cross-site iframes of a live tab. Under site isolation Chromium runs a frame of
//! another site in a process of its own, as a CDP target of its own: the tab's session can
//! neither script it nor hear its bindings. So the live tab auto-attaches to those frames
//! (and each frame's session to the cross-site frames nested in it, so frames that load later
//! are followed too), installs the same `<select>` and file chooser interception in each, and moves what a
//! frame reports in its own viewport into the tab's by the frame's place in its parent.
//!
//! These sessions are the live view's own. The agent's perception attaches sessions of its
//! own to the same frames; CDP lets several clients attach to one target, and detaching one
//! leaves the others alone.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use cdp::protocol::{dom, runtime, target};
use cdp::{CdpError, EventStream, RawEvent, Session};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

use crate::live_tab::{
    TabSignal, enable_page, intercept_file_choosers, intercept_selects, reported_file_chooser,
    reported_select,
};

/// How deep cross-site frames are followed inside each other.
pub(crate) const MAX_FRAME_DEPTH: usize = 4;

/// The live tab's sessions of its cross-site frames, by frame id (a cross-site frame's
/// target id is its frame id). Shared by the tab's watcher, which keeps it, and the tab,
/// which reads selections through it.
#[derive(Debug, Default)]
pub(crate) struct FrameSessions {
    frames: Mutex<HashMap<String, FrameSession>>,
}

#[derive(Debug, Clone)]
struct FrameSession {
    session: Session,
    /// The session of the document that holds the frame's `<iframe>` element.
    parent: Session,
    /// That document's cross-site frame; `None` when it is the tab's.
    parent_frame: Option<String>,
}

impl FrameSessions {
    /// A poisoned lock only means a thread panicked while changing a plain map, which stays
    /// usable.
    fn lock(&self) -> MutexGuard<'_, HashMap<String, FrameSession>> {
        self.frames.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live view's session of the cross-site frame `frame_id`, if it follows one.
    pub(crate) fn session(&self, frame_id: &str) -> Option<Session> {
        self.lock().get(frame_id).map(|f| f.session.clone())
    }

    /// Forgets every frame (the tab's session is going away, and theirs with it).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    /// Where the viewport of the cross-site frame `frame_id` starts in the tab's viewport
    /// (CSS pixels): the content box of its `<iframe>` element in its parent, and of the
    /// parent's in its own, up to the tab. `None` when a frame on the way is gone.
    async fn offset(&self, frame_id: &str) -> Option<(f64, f64)> {
        let (mut x, mut y) = (0.0, 0.0);
        let mut current = frame_id.to_string();
        for _ in 0..MAX_FRAME_DEPTH {
            let frame = self.lock().get(&current).cloned()?;
            let owner = frame
                .parent
                .call(dom::GetFrameOwner {
                    frame_id: current.clone(),
                })
                .await
                .ok()?;
            let model = frame
                .parent
                .call(dom::GetBoxModel {
                    backend_node_id: Some(owner.backend_node_id),
                    ..Default::default()
                })
                .await
                .ok()?
                .model;
            let (left, top) = top_left(&model.content)?;
            x += left;
            y += top;
            match frame.parent_frame {
                Some(parent) => current = parent,
                None => return Some((x, y)),
            }
        }
        None
    }
}

/// The top left corner of a quad (`[x1, y1, ..., x4, y4]`; a transformed box's corners in
/// any order).
pub(crate) fn top_left(quad: &[f64]) -> Option<(f64, f64)> {
    let xs = quad.iter().step_by(2);
    let ys = quad.iter().skip(1).step_by(2);
    let x = xs.copied().reduce(f64::min)?;
    let y = ys.copied().reduce(f64::min)?;
    Some((x, y))
}

/// Makes `session` attach to the cross-site frames of its target, those there now and those
/// to come, each reported as `Target.attachedToTarget` on `session`'s events. New frames are
/// not paused: the interception goes into their document when it is installed, and a frame
/// is never held up by the live view.
pub(crate) async fn auto_attach(session: &Session) -> Result<(), CdpError> {
    session
        .call(target::SetAutoAttach {
            auto_attach: true,
            wait_for_debugger_on_start: false,
            flatten: true,
            filter: Some(vec![
                target::FilterEntry {
                    exclude: Some(false),
                    r#type: Some("iframe".into()),
                },
                target::FilterEntry {
                    exclude: Some(true),
                    r#type: None,
                },
            ]),
        })
        .await?;
    Ok(())
}

/// The next event of `events`, reaping the frame tasks of `tasks` that ended meanwhile;
/// `None` once the session is gone.
pub(crate) async fn next_event(
    events: &mut EventStream,
    tasks: &mut JoinSet<()>,
) -> Option<Arc<RawEvent>> {
    loop {
        tokio::select! {
            event = events.recv() => return event,
            Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
        }
    }
}

/// What a frame's watcher needs: where to report, and the sessions to keep.
#[derive(Debug, Clone)]
pub(crate) struct FrameContext {
    /// The frames followed so far.
    pub frames: Arc<FrameSessions>,
    /// The tab's signals.
    pub signals: mpsc::UnboundedSender<TabSignal>,
}

/// Follows the cross-site frame `attached` reported on `parent` (the session of the document
/// holding it; `parent_frame` that document's own cross-site frame, `None` for the tab's), on
/// a task of `tasks`, until its session ends.
pub(crate) fn follow(
    tasks: &mut JoinSet<()>,
    context: &FrameContext,
    parent: &Session,
    parent_frame: Option<String>,
    attached: target::AttachedToTarget,
    depth: usize,
) {
    if attached.target_info.r#type != "iframe" || depth >= MAX_FRAME_DEPTH {
        return;
    }
    let frame = FrameSession {
        session: parent.connection().session(attached.session_id),
        parent: parent.clone(),
        parent_frame,
    };
    tasks.spawn(watch_frame(
        context.clone(),
        attached.target_info.target_id,
        frame,
        depth,
    ));
}

/// Sets one cross-site frame up and reports its selects until its session ends.
async fn watch_frame(context: FrameContext, frame_id: String, frame: FrameSession, depth: usize) {
    let session = frame.session.clone();
    let mut events = session.events();
    let set_up = async {
        // A human may press on a select as soon as the frame shows: the commands go out
        // together (Chromium runs a session's commands in order) rather than a round trip
        // each, the selects' first.
        let nested = async {
            if depth + 1 < MAX_FRAME_DEPTH {
                auto_attach(&session).await?;
            }
            Ok(())
        };
        tokio::try_join!(
            intercept_selects(&session),
            enable_page(&session),
            async { session.call(runtime::Enable::default()).await.map(|_| ()) },
            nested,
            intercept_file_choosers(&session),
        )?;
        Ok::<(), CdpError>(())
    }
    .await;
    if let Err(e) = set_up {
        tracing::debug!(frame = %frame_id, error = %e, "cross-site frame not followed");
        return;
    }
    context
        .frames
        .lock()
        .insert(frame_id.clone(), frame.clone());
    let mut nested = JoinSet::new();
    while let Some(event) = next_event(&mut events, &mut nested).await {
        if let Some(Ok(attached)) = event.parse::<target::AttachedToTarget>() {
            let parent = Some(frame_id.clone());
            follow(&mut nested, &context, &session, parent, attached, depth + 1);
            continue;
        }
        if let Some(chooser) = reported_file_chooser(&session, &event) {
            if context.signals.send(chooser).is_err() {
                break;
            }
            continue;
        }
        let Some(Ok(called)) = event.parse::<runtime::BindingCalled>() else {
            continue;
        };
        let Some((mut popup, frame)) = reported_select(&session, &called).await else {
            continue;
        };
        match context.frames.offset(&frame_id).await {
            Some((x, y)) => {
                popup.rect[0] += x;
                popup.rect[1] += y;
            }
            // Shown where the frame's own viewport would start: misplaced, still usable.
            None => tracing::debug!(frame = %frame_id, "cross-site frame's place unknown"),
        }
        if context
            .signals
            .send(TabSignal::Select { popup, frame })
            .is_err()
        {
            break;
        }
    }
    let mut frames = context.frames.lock();
    if frames
        .get(&frame_id)
        .is_some_and(|f| f.session.id() == session.id())
    {
        frames.remove(&frame_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quad_starts_at_its_smallest_corner() {
        assert_eq!(
            top_left(&[70.0, 160.0, 630.0, 160.0, 630.0, 580.0, 70.0, 580.0]),
            Some((70.0, 160.0))
        );
        // Rotated half a turn: the corners come in another order.
        assert_eq!(
            top_left(&[630.0, 580.0, 70.0, 580.0, 70.0, 160.0, 630.0, 160.0]),
            Some((70.0, 160.0))
        );
        assert_eq!(top_left(&[]), None);
    }
}
