//! One viewer's WebSocket: frames and state out, the human's input in.
//!
//! Sending and receiving run apart, so a viewer on a slow link never delays its own input,
//! and a frame is taken from the hub only when the socket is ready for it: the newest frame
//! wins and nothing queues. A view-only viewer's input is dropped here, on the server.
//!
//! A frame taken from the hub still waits in the kernel's socket buffers until the link
//! carries it, and on a slow link those buffers hold seconds of frames. So a viewer that
//! acknowledges frames ([`ViewerMessage::Ack`], as the live view's page does) is sent the
//! next one only while fewer than [`FRAMES_IN_FLIGHT`] are unacknowledged: what it shows is
//! never more than a couple of frames old, however slow its link.
//!
//! A still page sends nothing, and proxies (nginx, Cloudflare) close a WebSocket that is quiet
//! for a minute or so; the server pings every [`PING_EVERY`], which also finds viewers that
//! vanished without closing: one that answers nothing for a whole interval is dropped.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use browser::input::KeyInput;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::Hub;
use super::access::Access;
use super::hub::{HubCommand, Incoming, InputJob};
use super::protocol::{ServerMessage, ViewerMessage};

/// WebSocket close code telling the viewer the session is over (do not reconnect).
pub const CLOSE_ENDED: u16 = 4000;
/// WebSocket close code telling the viewer its link expired while the session goes on (do
/// not reconnect with it).
pub const CLOSE_EXPIRED: u16 = 4001;
/// WebSocket close code of a live view that could not start now (the viewer retries).
const CLOSE_UNAVAILABLE: u16 = 1011;
/// WebSocket close code of a message over the socket's limit (RFC 6455 "message too big").
pub const CLOSE_TOO_BIG: u16 = 1009;

/// How often the server pings each viewer.
const PING_EVERY: Duration = Duration::from_secs(20);

/// Frames an acknowledging viewer may have on the way at once: one being drawn, one coming.
const FRAMES_IN_FLIGHT: u32 = 2;

/// What the reader learns of a viewer's acknowledgements, for the writer.
#[derive(Default)]
struct Acks {
    /// The viewer acknowledges frames (it sent one ack at least).
    on: AtomicBool,
    /// Frames sent and not acknowledged yet.
    unacked: AtomicU32,
    /// Wakes the writer when an ack makes room for a frame.
    room: tokio::sync::Notify,
}

impl Acks {
    fn room_for_a_frame(&self) -> bool {
        !self.on.load(Ordering::Relaxed) || self.unacked.load(Ordering::Relaxed) < FRAMES_IN_FLIGHT
    }

    fn sent(&self) {
        self.unacked.fetch_add(1, Ordering::Relaxed);
    }

    fn acked(&self) {
        self.on.store(true, Ordering::Relaxed);
        let _ = self
            .unacked
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        self.room.notify_one();
    }
}

/// What a viewer is told first, on connecting and whenever it must start over (it fell too
/// far behind the hub's messages): `hello`, on which it drops every overlay it shows, then
/// the current state, which draws again those still open.
fn opening(hub: &Hub, access: &Access) -> Vec<ServerMessage> {
    let hello = ServerMessage::Hello {
        mode: if access.may_control() {
            "control"
        } else {
            "view"
        },
        session: access.session_id.to_string(),
    };
    let mut opening = vec![hello];
    opening.extend(hub.snapshot());
    opening
}

/// Serves one viewer until it leaves, stops answering pings, or the session ends.
pub async fn serve(socket: WebSocket, hub: Arc<Hub>, access: Access) {
    let viewer = hub.viewer_id();
    let (mut sink, mut stream) = socket.split();
    let (direct_tx, mut direct) = mpsc::unbounded_channel::<ServerMessage>();
    // The reader's last word (a close with its code), said by the writer, which owns the sink.
    let (last_word_tx, mut last_word) = mpsc::channel::<Message>(1);
    // Subscribe before reading the snapshot so that nothing falls in between.
    let mut messages = hub.subscribe();
    let mut frames = hub.frames();
    for message in opening(&hub, &access) {
        if sink
            .send(Message::Text(message.to_text().into()))
            .await
            .is_err()
        {
            return;
        }
    }
    if hub.ended() {
        let _ = sink.send(close_ended()).await;
        return;
    }
    let _leave = Leave {
        hub: hub.clone(),
        viewer,
    };

    // Set by the reader on anything from the viewer (a pong included), cleared at each ping.
    let heard = Arc::new(AtomicBool::new(true));
    let writer_heard = heard.clone();
    let acks = Arc::new(Acks::default());
    let writer_acks = acks.clone();
    let writer_hub = hub.clone();
    let mut writer = tokio::spawn(async move {
        let mut ping =
            tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                Some(message) = last_word.recv() => {
                    let _ = sink.send(message).await;
                    return;
                }
                _ = ping.tick() => {
                    if !writer_heard.swap(false, Ordering::Relaxed) {
                        tracing::debug!(viewer, "viewer answered no ping; dropped");
                        return;
                    }
                    if sink.send(Message::Ping(Default::default())).await.is_err() {
                        return;
                    }
                }
                Some(message) = direct.recv() => {
                    if sink.send(Message::Text(message.to_text().into())).await.is_err() {
                        return;
                    }
                }
                message = messages.recv() => match message {
                    Ok(text) => {
                        let ended = text.starts_with(r#"{"t":"ended""#);
                        if sink.send(Message::Text(Utf8Bytes::from(text.as_ref()))).await.is_err() {
                            return;
                        }
                        if ended {
                            let _ = sink.send(close_ended()).await;
                            return;
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        // Too far behind for the log: start again from the current state.
                        for message in opening(&writer_hub, &access) {
                            if sink.send(Message::Text(message.to_text().into())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                // An ack made room: the loop looks at the frames again.
                () = writer_acks.room.notified() => {}
                changed = frames.changed(), if writer_acks.room_for_a_frame() => {
                    if changed.is_err() {
                        return;
                    }
                    let frame = frames.borrow_and_update().clone();
                    if let Some(frame) = frame {
                        if sink.send(Message::Binary(frame.jpeg.clone())).await.is_err() {
                            return;
                        }
                        writer_acks.sent();
                        writer_hub.frame_taken(frame.seq);
                    }
                }
            }
        }
    });

    let mut uploads = hub.incoming(viewer);
    loop {
        tokio::select! {
            _ = &mut writer => break,
            incoming = stream.next() => {
                let message = match incoming {
                    Some(Ok(message)) => message,
                    Some(Err(e)) if too_big(&e) => {
                        // Refused with its code, not a silent drop: the viewer knows why.
                        tracing::debug!(viewer, "viewer message over the limit; closed");
                        if last_word_tx.try_send(close(CLOSE_TOO_BIG, "message too big")).is_ok() {
                            let _ = tokio::time::timeout(Duration::from_secs(2), &mut writer).await;
                        }
                        break;
                    }
                    _ => break,
                };
                heard.store(true, Ordering::Relaxed);
                match message {
                    Message::Text(text) => match serde_json::from_str::<ViewerMessage>(&text) {
                        Ok(ViewerMessage::Ack) => acks.acked(),
                        Ok(message) => {
                            dispatch(&hub, &access, viewer, message, &direct_tx, &mut uploads).await
                        }
                        Err(e) => tracing::debug!(error = %e, "unreadable viewer message"),
                    },
                    Message::Close(_) => break,
                    _ => {}
                }
            }
        }
    }
    writer.abort();
}

/// Whether a socket error is a message or frame over the socket's size limit.
fn too_big(error: &axum::Error) -> bool {
    use std::error::Error as _;
    matches!(
        error
            .source()
            .and_then(|e| e.downcast_ref::<tokio_tungstenite::tungstenite::Error>()),
        Some(tokio_tungstenite::tungstenite::Error::Capacity(_))
    )
}

fn close(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

fn close_ended() -> Message {
    close(CLOSE_ENDED, "session ended")
}

/// Tells the hub a viewer left, however the connection ended.
struct Leave {
    hub: Arc<Hub>,
    viewer: u64,
}

impl Drop for Leave {
    fn drop(&mut self) {
        self.hub.command(HubCommand::Leave(self.viewer));
    }
}

/// Hands one message to the hub; everything but the picture size needs control.
async fn dispatch(
    hub: &Hub,
    access: &Access,
    viewer: u64,
    message: ViewerMessage,
    direct: &mpsc::UnboundedSender<ServerMessage>,
    incoming: &mut Incoming,
) {
    if let ViewerMessage::Viewport { w, h, dpr } = message {
        hub.command(HubCommand::Viewport {
            viewer,
            w,
            h,
            dpr,
            control: access.may_control(),
        });
        return;
    }
    if !access.may_control() {
        tracing::debug!(session = %access.session_id, "view-only viewer input dropped");
        return;
    }
    match message {
        ViewerMessage::Viewport { .. } | ViewerMessage::Ack => {}
        ViewerMessage::Mouse(mut pointer) => {
            if pointer.picture {
                (pointer.delta_x, pointer.delta_y) =
                    hub.picture_delta(pointer.delta_x, pointer.delta_y);
                pointer.picture = false;
            }
            hub.input(InputJob::Pointer(pointer)).await;
        }
        ViewerMessage::Key {
            down,
            key,
            code,
            modifiers,
            repeat,
        } => {
            hub.input(InputJob::Key(KeyInput {
                down,
                key,
                code,
                modifiers,
                repeat,
            }))
            .await;
        }
        ViewerMessage::Text { text } => {
            if !text.is_empty() && text.len() <= 1 << 20 {
                hub.input(InputJob::Text(text)).await;
            }
        }
        ViewerMessage::Copy => hub.input(InputJob::Copy(direct.clone())).await,
        ViewerMessage::Nav { action, url } => hub.command(HubCommand::Nav {
            action,
            url,
            reply: direct.clone(),
        }),
        ViewerMessage::Tab { action, id, url } => hub.command(HubCommand::Tab {
            action,
            id,
            url,
            reply: direct.clone(),
        }),
        ViewerMessage::Dialog { accept, text } => hub.command(HubCommand::Dialog {
            accept,
            text,
            reply: direct.clone(),
        }),
        // Written to disk as they come; the reader waits on the disk, so a fast sender is
        // slowed down by its own socket rather than queued in memory.
        ViewerMessage::Upload { id, name, size } => incoming.begin(id, &name, size).await,
        ViewerMessage::Chunk { id, offset, data } => incoming.chunk(id, offset, &data).await,
        ViewerMessage::Files { uploads } => {
            let files = match incoming.finish(&uploads).await {
                Ok(files) => files,
                Err(detail) => {
                    // The chooser is answered all the same (cancelled), not left open.
                    let _ = direct.send(ServerMessage::Error { detail });
                    Vec::new()
                }
            };
            hub.command(HubCommand::Files {
                files,
                reply: direct.clone(),
            })
        }
        ViewerMessage::Select { id, index } => hub.command(HubCommand::Select { id, index }),
        ViewerMessage::Touch => hub.touch(),
        ViewerMessage::Resume { answer, approve } => {
            if let Err(detail) = hub.resume(answer, approve).await {
                let _ = direct.send(ServerMessage::Error { detail });
            }
        }
        ViewerMessage::TakeControl => {
            if let Err(detail) = hub.take_control().await {
                let _ = direct.send(ServerMessage::Error { detail });
            }
        }
        ViewerMessage::Resize { w, h } => {
            super::resize::resize(hub.owners(), access, w, h).await;
        }
    }
}

/// Tells a viewer of a session without a live view (ended or unknown) why, and closes.
pub async fn refuse_ended(mut socket: WebSocket, reason: Option<String>) {
    let message = ServerMessage::Ended { reason };
    let _ = socket.send(Message::Text(message.to_text().into())).await;
    let _ = socket.send(close_ended()).await;
}

/// Tells a viewer whose link expired (the session goes on) that it will not get in with it.
pub async fn refuse_expired(mut socket: WebSocket) {
    let _ = socket.send(close(CLOSE_EXPIRED, "link expired")).await;
}

/// Tells a viewer the live view cannot start now; it tries again later.
pub async fn refuse_unavailable(mut socket: WebSocket) {
    let _ = socket
        .send(close(CLOSE_UNAVAILABLE, "live view unavailable"))
        .await;
}
