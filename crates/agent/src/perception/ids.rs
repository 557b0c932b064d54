//! The `[index]` of each element, stable across observations.
//!
//! Decision: for the tab's own renderer process (the page, its same-site frames, its shadow
//! roots) the index *is* the element's `backendNodeId`, unique in that process and stable for
//! the node's life, so an index the LLM saw stays valid as long as the element exists and no
//! table is needed to act on it. Out-of-process iframes number their nodes independently, so
//! their `backendNodeId`s collide with the page's; their elements get indices from this
//! registry instead, starting at [`FRAME_BASE`] and kept per (frame target, `backendNodeId`)
//! for as long as the [`super::Observer`] lives.

use std::collections::{HashMap, HashSet};

/// First index handed to elements of out-of-process frames: far above the ids of ordinary
/// pages, so collisions (which are still resolved) are rare.
pub const FRAME_BASE: u64 = 1_000_000;

/// Indices of elements in out-of-process frames.
#[derive(Debug, Default)]
pub(crate) struct ElementIds {
    assigned: HashMap<(String, i64), u64>,
    next: u64,
}

impl ElementIds {
    /// The index of an element of frame target `frame`, never one of `taken` (the indices of
    /// this observation's page elements and frame elements so far). An element keeps its
    /// index unless a page element came to own that number.
    pub fn frame_index(&mut self, frame: &str, backend_node_id: i64, taken: &HashSet<u64>) -> u64 {
        let key = (frame.to_string(), backend_node_id);
        if let Some(&index) = self.assigned.get(&key)
            && !taken.contains(&index)
        {
            return index;
        }
        if self.next < FRAME_BASE {
            self.next = FRAME_BASE;
        }
        while taken.contains(&self.next) {
            self.next += 1;
        }
        let index = self.next;
        self.next += 1;
        self.assigned.insert(key, index);
        index
    }

    /// Forgets frames that are gone, so the table does not grow for the life of a session.
    pub fn retain_frames(&mut self, alive: &HashSet<String>) {
        self.assigned.retain(|(frame, _), _| alive.contains(frame));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_elements_keep_their_index_and_never_collide() {
        let mut ids = ElementIds::default();
        let mut taken: HashSet<u64> = [5, 9].into();
        let a = ids.frame_index("F1", 5, &taken);
        taken.insert(a);
        let b = ids.frame_index("F2", 5, &taken);
        assert_ne!(a, b, "same backendNodeId in two frames");
        assert!(a >= FRAME_BASE && b >= FRAME_BASE);
        // Next observation: same elements, same indices.
        let taken: HashSet<u64> = [5, 9].into();
        assert_eq!(ids.frame_index("F1", 5, &taken), a);
        // A page element now owns a's number: the frame element moves, the page keeps it.
        let taken: HashSet<u64> = [a].into();
        let moved = ids.frame_index("F1", 5, &taken);
        assert_ne!(moved, a);
        ids.retain_frames(&["F2".to_string()].into());
        assert_eq!(ids.assigned.len(), 1);
    }
}
