//! Frames the page's walk could not enter: out-of-process iframes (other sites), each walked
//! through its own CDP session and placed in the tab's viewport.
//!
//! Same-origin frames, and same-site frames of other origins (the walk's isolated world has
//! universal access), are entered by the page's own walk and never reach this module.

use std::collections::{HashMap, HashSet};

use cdp::Session;

use super::state::Viewport;
use super::walk::{FrameBox, Walked, walk};

/// How deep out-of-process frames are followed inside each other.
const MAX_FRAME_DEPTH: usize = 3;

/// One walk waiting to be merged, with where its elements go.
pub(crate) struct Pending {
    /// The walk.
    pub walked: Walked,
    /// The out-of-process frame's target; `None` for the tab itself.
    pub frame_target: Option<String>,
    /// Insert the elements before this many of the parent's elements (document order).
    pub at: usize,
    /// Position of the parent walk in the merged list (the tab's walk is 0).
    pub parent: usize,
}

/// A frame to walk: its id (the target id of an out-of-process frame), its box, its place.
struct FrameToWalk {
    id: String,
    frame_box: FrameBox,
    at: usize,
}

/// Frames found by one walk, with the session that walk ran in.
struct Found {
    /// Position of the walk that found them (0 for the tab's).
    parent: usize,
    session: Session,
    frames: Vec<FrameToWalk>,
    depth: usize,
}

/// CDP sessions of out-of-process frames, attached once and kept while the frame lives.
#[derive(Debug, Default)]
pub(crate) struct FrameSessions {
    sessions: HashMap<String, Session>,
    /// Characters the walks keep beyond their limits, for redaction (see `redact`).
    pub keep: usize,
}

impl FrameSessions {
    /// Walks the frames `top` could not enter, and theirs, a few levels deep, in document
    /// order of discovery. A frame that cannot be walked (gone, still loading) is skipped, not
    /// an error: the rest of the page is still worth showing.
    pub async fn walk_all(
        &mut self,
        top_session: &Session,
        top: &Walked,
        viewport: &Viewport,
    ) -> Vec<Pending> {
        let mut done: Vec<Pending> = Vec::new();
        let mut queue = vec![Found {
            parent: 0,
            session: top_session.clone(),
            frames: frames_of(top, viewport),
            depth: 0,
        }];
        while let Some(found) = queue.pop() {
            for frame in found.frames {
                let Some((session, walked, own_target)) = self
                    .walk_frame(&found.session, &frame.id, &frame.frame_box)
                    .await
                else {
                    continue;
                };
                let children = frames_of(&walked, viewport);
                done.push(Pending {
                    walked,
                    // In-process frames share the tab's session and backendNodeIds.
                    frame_target: own_target.then_some(frame.id),
                    at: frame.at,
                    parent: found.parent,
                });
                if found.depth + 1 < MAX_FRAME_DEPTH && !children.is_empty() {
                    queue.push(Found {
                        // The merged list has the tab's walk first.
                        parent: done.len(),
                        session,
                        frames: children,
                        depth: found.depth + 1,
                    });
                }
            }
        }
        let alive: HashSet<&str> = done
            .iter()
            .filter_map(|p| p.frame_target.as_deref())
            .collect();
        self.sessions.retain(|id, _| alive.contains(id.as_str()));
        done
    }

    /// Walks one frame: in its own target if it is out of process (then the flag is true),
    /// else in the parent's session (a frame the page's walk could not open).
    async fn walk_frame(
        &mut self,
        parent: &Session,
        frame_id: &str,
        frame_box: &FrameBox,
    ) -> Option<(Session, Walked, bool)> {
        if let Some(session) = self.sessions.get(frame_id).cloned() {
            if let Ok(walked) = walk(&session, frame_id, Some(frame_box), true, self.keep).await {
                return Some((session, walked, true));
            }
            self.sessions.remove(frame_id);
        }
        match parent.connection().attach(frame_id).await {
            Ok(session) => {
                let walked = walk(&session, frame_id, Some(frame_box), true, self.keep)
                    .await
                    .ok()?;
                self.sessions.insert(frame_id.to_string(), session.clone());
                Some((session, walked, true))
            }
            Err(_) => {
                let walked = walk(parent, frame_id, Some(frame_box), false, self.keep)
                    .await
                    .ok()?;
                Some((parent.clone(), walked, false))
            }
        }
    }
}

/// The visible frames a walk could not enter, with their boxes and ids.
fn frames_of(walked: &Walked, viewport: &Viewport) -> Vec<FrameToWalk> {
    walked
        .raw
        .frames
        .iter()
        .zip(&walked.frame_ids)
        .filter(|(frame, _)| frame.cr > frame.cl && frame.cb > frame.ct)
        .filter_map(|(frame, id)| {
            Some(FrameToWalk {
                id: id.clone()?,
                frame_box: FrameBox {
                    ox: frame.ox,
                    oy: frame.oy,
                    cl: frame.cl,
                    ct: frame.ct,
                    cr: frame.cr,
                    cb: frame.cb,
                    vw: viewport.width,
                    vh: viewport.height,
                    frame: true,
                },
                at: frame.at,
            })
        })
        .collect()
}
