//! Runs the in-page walk in one frame and turns its element handles into `backendNodeId`s.
//!
//! Why a script and not `DOMSnapshot.captureSnapshot`: on a 12,000-element page the snapshot
//! with the styles, paint order and rects occlusion needs costs ~360 ms here before any
//! parsing (~140 ms with no styles at all), because it serialises every node of the page. The
//! walk reads computed styles and hit-tests only elements in the viewport ± one screen, and
//! sends only candidates: ~60 ms for the whole observation of that page. The one thing it
//! cannot see, `backendNodeId`, comes from `DOM.describeNode` on each candidate's handle, all
//! pipelined on the socket, and is then remembered in the isolated world (a `WeakMap` from
//! element to id), so later walks of the same document describe only elements they have not
//! seen. `benches/README.md` has the figures.

use cdp::Session;
use cdp::protocol::{dom, page, runtime};
use futures_util::future::join_all;
use serde::{Deserialize, Serialize};

use super::error::PerceptionError;
use super::raw::RawWalk;

/// The walk, an expression that evaluates to a function of its options.
const WALK_JS: &str = include_str!("walk.js");

/// Name of Tandem's isolated world, where the walk runs out of the page's reach.
const WORLD: &str = "tandem";

/// Object group of the walk's handles, released after each walk.
const GROUP: &str = "tandem-perception";

/// Where a frame's content sits in the top-level viewport; `None` for the top document.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub(crate) struct FrameBox {
    /// Left of the content box, top-level viewport px.
    pub ox: f64,
    /// Top of the content box.
    pub oy: f64,
    /// Visible part: left.
    pub cl: f64,
    /// Visible part: top.
    pub ct: f64,
    /// Visible part: right.
    pub cr: f64,
    /// Visible part: bottom.
    pub cb: f64,
    /// The top-level viewport's width.
    pub vw: f64,
    /// The top-level viewport's height.
    pub vh: f64,
    /// Always true: tells the walk it runs in a frame.
    pub frame: bool,
}

/// One frame's walk with the ids of what it found.
#[derive(Debug)]
pub(crate) struct Walked {
    /// What the script reported.
    pub raw: RawWalk,
    /// `backendNodeId` of each of `raw.elements`, in order.
    pub backend_ids: Vec<i64>,
    /// Frame id of each of `raw.frames`, in order (`None` if it could not be read).
    pub frame_ids: Vec<Option<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GetProperties<'a> {
    object_id: &'a str,
    own_properties: bool,
}

#[derive(Deserialize)]
struct GetPropertiesResult {
    result: Vec<PropertyDescriptor>,
}

#[derive(Deserialize)]
struct PropertyDescriptor {
    name: String,
    value: Option<runtime::RemoteObject>,
}

/// Lists the document's elements that have click-like event listeners, as indices into
/// `document.querySelectorAll('*')`. Runs in the page's own world: listeners are per world,
/// and the isolated world sees none of the page's. `getEventListeners` is DevTools' command
/// line API (native, out of the page's reach); ~8 ms for 6,000 elements here.
const LISTENERS_JS: &str = r#"(() => {
  const all = document.querySelectorAll('*');
  const hits = [];
  for (let i = 0; i < all.length && hits.length < 5000; i++) {
    const l = getEventListeners(all[i]);
    if (l.click || l.mousedown || l.mouseup || l.pointerdown || l.pointerup || l.touchstart) hits.push(i);
  }
  return { n: all.length, hits };
})()"#;

/// The listener pass of the session's main frame; `None` when it cannot run (the walk goes on
/// without it: listener-only elements are then missed, nothing else).
async fn listeners(session: &Session) -> Option<(u64, Vec<u64>)> {
    let evaluated = session
        .call(runtime::Evaluate {
            expression: LISTENERS_JS.to_string(),
            include_command_line_api: Some(true),
            return_by_value: Some(true),
            silent: Some(true),
            ..Default::default()
        })
        .await
        .ok()?;
    if evaluated.exception_details.is_some() {
        return None;
    }
    let value = evaluated.result.value?;
    let count = value.get("n")?.as_u64()?;
    let hits = value
        .get("hits")?
        .as_array()?
        .iter()
        .filter_map(serde_json::Value::as_u64)
        .collect();
    Some((count, hits))
}

/// Walks the document of frame `frame_id` in `session`; `frame` places a frame's content in
/// the top-level viewport (`None` for the top document). `main_frame`: the frame is the
/// session's own (the tab, or an out-of-process frame), whose page world the listener pass
/// reaches. `keep`: characters to keep beyond each text's limit, for redaction in Rust.
pub(crate) async fn walk(
    session: &Session,
    frame_id: &str,
    frame: Option<&FrameBox>,
    main_frame: bool,
    keep: usize,
) -> Result<Walked, PerceptionError> {
    let world = session
        .call(page::CreateIsolatedWorld {
            frame_id: frame_id.to_string(),
            world_name: Some(WORLD.to_string()),
            // Lets the walk enter same-site frames of other origins through contentDocument,
            // which saves a walk per such frame.
            grant_universal_access: Some(true),
        })
        .await?;
    let mut options = match frame {
        Some(frame) => serde_json::to_value(frame).map_err(|e| PerceptionError::Malformed {
            what: "walk options",
            message: e.to_string(),
        })?,
        None => serde_json::json!({}),
    };
    if keep > 0 {
        options["keep"] = keep.into();
    }
    if main_frame && let Some((count, hits)) = listeners(session).await {
        options["ln"] = count.into();
        options["lh"] = hits.into();
    }
    let evaluated = session
        .call(runtime::Evaluate {
            expression: format!("({WALK_JS})({options})"),
            object_group: Some(GROUP.to_string()),
            context_id: Some(world.execution_context_id),
            return_by_value: Some(false),
            silent: Some(true),
            ..Default::default()
        })
        .await?;
    if let Some(details) = evaluated.exception_details {
        return Err(PerceptionError::Script(details.message().to_string()));
    }
    let array = evaluated
        .result
        .object_id
        .ok_or_else(|| PerceptionError::Malformed {
            what: "walk result",
            message: "not an object".into(),
        })?;
    let result = collect(session, &array).await;
    // Free the handles whatever happened; a failure here only leaks until the next navigation.
    let _ = session
        .call(runtime::ReleaseObjectGroup {
            object_group: GROUP.to_string(),
        })
        .await;
    result
}

async fn collect(session: &Session, array: &str) -> Result<Walked, PerceptionError> {
    let properties: GetPropertiesResult = session
        .send_typed(
            "Runtime.getProperties",
            &GetProperties {
                object_id: array,
                own_properties: true,
            },
            None,
        )
        .await?;
    let mut json = None;
    let mut handles: Vec<(usize, String)> = Vec::new();
    for property in properties.result {
        let Ok(position) = property.name.parse::<usize>() else {
            continue;
        };
        let Some(value) = property.value else {
            continue;
        };
        if position == 0 {
            json = value.value.and_then(|v| v.as_str().map(str::to_string));
        } else if let Some(object_id) = value.object_id {
            handles.push((position - 1, object_id));
        }
    }
    let json = json.ok_or_else(|| PerceptionError::Malformed {
        what: "walk result",
        message: "no JSON in slot 0".into(),
    })?;
    let raw: RawWalk = serde_json::from_str(&json).map_err(|e| PerceptionError::Malformed {
        what: "walk result",
        message: e.to_string(),
    })?;
    handles.sort_unstable_by_key(|(position, _)| *position);
    let expected = raw.elements.len() + raw.frames.len();
    if handles.len() != expected {
        return Err(PerceptionError::Malformed {
            what: "walk result",
            message: format!("{} handles for {expected} nodes", handles.len()),
        });
    }
    // Describe only what the page's walk has not seen before (elements whose id is known
    // come back with it), and the frame owners (for their frame ids). Pipelined: every request
    // goes out at once and Chromium answers them in order.
    let elements = raw.elements.len();
    let unknown: Vec<usize> = (0..handles.len())
        .filter(|&i| i >= elements || raw.ids.get(i).is_none_or(|&id| id <= 0))
        .collect();
    let described = join_all(unknown.iter().map(|&i| {
        session.call(dom::DescribeNode {
            object_id: Some(handles[i].1.clone()),
            ..Default::default()
        })
    }))
    .await;
    tracing::debug!(
        elements,
        described = unknown.len(),
        walked = raw.total,
        "perception walk"
    );
    let mut backend_ids: Vec<i64> = (0..elements)
        .map(|i| raw.ids.get(i).copied().unwrap_or(0))
        .collect();
    let mut frame_ids = vec![None; handles.len() - elements];
    let mut learnt = false;
    for (&i, node) in unknown.iter().zip(described) {
        let node = node?.node;
        if i < elements {
            backend_ids[i] = node.backend_node_id;
            learnt = true;
        } else {
            frame_ids[i - elements] = node.frame_id;
        }
    }
    if learnt {
        remember(session, array, &backend_ids).await;
    }
    Ok(Walked {
        backend_ids,
        frame_ids,
        raw,
    })
}

/// Stores the elements' ids in the page's isolated world, so the next walk of this document
/// returns them and skips `DOM.describeNode` for every element it saw before. Best effort: a
/// failure only costs the next walk some describes.
async fn remember(session: &Session, array: &str, ids: &[i64]) {
    let _ = session
        .call(runtime::CallFunctionOn {
            function_declaration: "function (ids) { const known = globalThis.__tandemIds; \
                if (known) ids.forEach((id, i) => known.set(this[i + 1], id)); }"
                .to_string(),
            object_id: Some(array.to_string()),
            arguments: Some(vec![runtime::CallArgument::value(ids)]),
            silent: Some(true),
            ..Default::default()
        })
        .await;
}
