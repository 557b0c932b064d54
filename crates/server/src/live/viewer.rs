//! One viewer's WebSocket: frames and state out, the human's input in.
//!
//! Sending and receiving run apart, so a viewer on a slow link never delays its own input,
//! and a frame is taken from the hub only when the socket is ready for it: the newest frame
//! wins and nothing queues. A view-only viewer's input is dropped here, on the server.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use browser::input::{KeyInput, PointerAction};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{broadcast, mpsc};

use super::Hub;
use super::access::Access;
use super::hub::{HubCommand, InputJob};
use super::protocol::{ServerMessage, ViewerMessage};

/// WebSocket close code telling the viewer the session is over (do not reconnect).
pub const CLOSE_ENDED: u16 = 4000;

/// Serves one viewer until it leaves or the session ends.
pub async fn serve(socket: WebSocket, hub: Arc<Hub>, access: Access) {
    let viewer = hub.viewer_id();
    let (mut sink, mut stream) = socket.split();
    let (direct_tx, mut direct) = mpsc::unbounded_channel::<ServerMessage>();
    // Subscribe before reading the snapshot so that nothing falls in between.
    let mut messages = hub.subscribe();
    let mut frames = hub.frames();
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
    for message in opening {
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

    let writer_hub = hub.clone();
    let mut writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
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
                        for message in writer_hub.snapshot() {
                            if sink.send(Message::Text(message.to_text().into())).await.is_err() {
                                return;
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                changed = frames.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    let frame = frames.borrow_and_update().clone();
                    if let Some(frame) = frame {
                        if sink.send(Message::Binary(frame.jpeg.clone())).await.is_err() {
                            return;
                        }
                        writer_hub.frame_taken(frame.seq);
                    }
                }
            }
        }
    });

    loop {
        tokio::select! {
            _ = &mut writer => break,
            incoming = stream.next() => {
                let Some(Ok(message)) = incoming else { break };
                match message {
                    Message::Text(text) => match serde_json::from_str::<ViewerMessage>(&text) {
                        Ok(message) => dispatch(&hub, &access, viewer, message, &direct_tx).await,
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

fn close_ended() -> Message {
    Message::Close(Some(CloseFrame {
        code: CLOSE_ENDED,
        reason: Utf8Bytes::from_static("session ended"),
    }))
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
) {
    if let ViewerMessage::Viewport { w, h, dpr } = message {
        hub.command(HubCommand::Viewport { viewer, w, h, dpr });
        return;
    }
    if !access.may_control() {
        tracing::debug!(session = %access.session_id, "view-only viewer input dropped");
        return;
    }
    match message {
        ViewerMessage::Viewport { .. } => {}
        ViewerMessage::Mouse {
            kind,
            x,
            y,
            button,
            buttons,
            clicks,
            mods,
            dx,
            dy,
        } => {
            let action = match kind.as_str() {
                "down" => PointerAction::Press,
                "up" => PointerAction::Release,
                "move" => PointerAction::Move,
                "wheel" => PointerAction::Wheel,
                _ => return,
            };
            hub.input(InputJob::Pointer {
                action,
                fx: x,
                fy: y,
                button,
                buttons,
                clicks,
                mods,
                dx,
                dy,
            })
            .await;
        }
        ViewerMessage::Key {
            down,
            key,
            code,
            mods,
            repeat,
        } => {
            hub.input(InputJob::Key(KeyInput {
                down,
                key,
                code,
                modifiers: mods,
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
        ViewerMessage::Dialog { accept, text } => hub.command(HubCommand::Dialog { accept, text }),
        ViewerMessage::Files { files } => hub.command(HubCommand::Files {
            files,
            reply: direct.clone(),
        }),
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
    }
}

/// Tells a viewer of a session without a live view (ended or unknown) why, and closes.
pub async fn refuse_ended(mut socket: WebSocket, reason: String) {
    let message = ServerMessage::Ended { reason };
    let _ = socket.send(Message::Text(message.to_text().into())).await;
    let _ = socket.send(close_ended()).await;
}
