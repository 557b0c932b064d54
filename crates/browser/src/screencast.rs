//! A tab's picture as a stream of JPEG frames, where the newest frame wins.
//!
//! Frames go into a `watch` channel, which holds only the latest one: a viewer that is slow
//! skips frames instead of falling behind, and lag never builds up. Chromium sends the next
//! frame only after the previous one is acknowledged; we acknowledge once some viewer has
//! taken the frame (or after a short wait), so the browser never renders faster than the
//! fastest viewer consumes, which is how the frame rate adapts to viewers and load.
//!
//! A settled page sends no screencast frames at all in headless Chromium, so every start is
//! primed with one screenshot: a viewer sees the page at once. A screenshot asked for while
//! the tab swaps renderers (a navigation to another site) may never be answered, so the
//! priming waits briefly and, failing that, is retried from the stream's task until a frame
//! arrives.
//!
//! Headless screencast frames never have more pixels than the browser renders: under an
//! `Emulation` device-scale override they stay one pixel per CSS pixel, but a browser
//! launched with a device scale factor (`LaunchOptions::device_scale_factor`) screencasts
//! device pixels.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use cdp::Session;
use cdp::protocol::page;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::BrowserError;
use crate::input::FrameGeometry;

/// How a screencast is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScreencastSettings {
    /// JPEG quality, 1..=100.
    pub quality: u8,
    /// Largest frame width in device pixels; larger viewports are scaled down.
    pub max_width: u32,
    /// Largest frame height in device pixels.
    pub max_height: u32,
    /// Send every n-th compositor frame: 1 is up to 60 fps, 2 halves the cost.
    pub every_nth_frame: u32,
}

impl Default for ScreencastSettings {
    /// JPEG q70, every frame, frames up to 2560×1600 (in practice the viewport's CSS size,
    /// or less for a small viewer).
    fn default() -> Self {
        ScreencastSettings {
            quality: 70,
            max_width: 2560,
            max_height: 1600,
            every_nth_frame: 1,
        }
    }
}

/// One picture of the tab.
#[derive(Debug, Clone)]
pub struct Frame {
    /// Increases with every frame published into the same channel.
    pub seq: u64,
    /// The JPEG image.
    pub jpeg: Bytes,
    /// Where the image sits in the viewport, to map a viewer's points back.
    pub geometry: FrameGeometry,
}

/// Where frames are published: the latest frame, if any.
pub type FrameSink = watch::Sender<Option<Arc<Frame>>>;

/// How long a frame waits for a viewer to take it before it is acknowledged anyway, so that
/// a stalled viewer slows the stream down without stopping it.
const ACK_WAIT: Duration = Duration::from_millis(250);

/// A running screencast of one tab. Stops when dropped or with [`Screencast::stop`].
#[derive(Debug)]
pub struct Screencast {
    session: Session,
    task: JoinHandle<()>,
}

impl Screencast {
    /// Starts the screencast of the tab behind `session`, publishing into `sink`.
    ///
    /// `taken` is the highest frame sequence number some viewer has sent on; frames are
    /// acknowledged to Chromium once it catches up (see the module comment). The first frame
    /// is a screenshot, published before this returns when the tab answers within two
    /// seconds, else as soon as it does.
    pub async fn start(
        session: &Session,
        settings: ScreencastSettings,
        sink: FrameSink,
        taken: watch::Receiver<u64>,
    ) -> Result<Screencast, BrowserError> {
        let quality = i64::from(settings.quality.clamp(1, 100));
        let next_seq = sink.borrow().as_ref().map_or(1, |f| f.seq + 1);
        let primed = match picture(session, quality).await {
            Some((jpeg, geometry)) => {
                sink.send_replace(Some(Arc::new(Frame {
                    seq: next_seq,
                    jpeg,
                    geometry,
                })));
                true
            }
            None => false,
        };
        // Subscribe before starting, so that no frame is missed.
        let mut events = session.events();
        session
            .call(page::StartScreencast {
                format: Some(page::ScreencastFormat::Jpeg),
                quality: Some(quality),
                max_width: Some(i64::from(settings.max_width.max(1))),
                max_height: Some(i64::from(settings.max_height.max(1))),
                every_nth_frame: Some(i64::from(settings.every_nth_frame.max(1))),
                ..Default::default()
            })
            .await?;
        let acks = session.clone();
        let task = tokio::spawn(async move {
            let mut taken = taken;
            let mut seq = next_seq;
            let mut primes_left = if primed { 0 } else { PRIME_TRIES };
            loop {
                let next = if primes_left > 0 {
                    tokio::select! {
                        next = events.next_of::<page::ScreencastFrame>() => next,
                        () = tokio::time::sleep(PRIME_RETRY) => {
                            primes_left -= 1;
                            if let Some((jpeg, geometry)) = picture(&acks, quality).await {
                                seq += 1;
                                sink.send_replace(Some(Arc::new(Frame { seq, jpeg, geometry })));
                                primes_left = 0;
                            }
                            continue;
                        }
                    }
                } else {
                    events.next_of::<page::ScreencastFrame>().await
                };
                let Some(frame) = next else { break };
                primes_left = 0;
                let Ok(frame) = frame else { continue };
                let decoded = STANDARD.decode(frame.data.as_bytes()).ok().map(Bytes::from);
                if let Some(jpeg) = decoded {
                    seq += 1;
                    let meta = &frame.metadata;
                    sink.send_replace(Some(Arc::new(Frame {
                        seq,
                        jpeg,
                        geometry: FrameGeometry {
                            css_width: meta.device_width,
                            css_height: meta.device_height,
                            offset_top: meta.offset_top,
                        },
                    })));
                    let _ = tokio::time::timeout(ACK_WAIT, taken.wait_for(|t| *t >= seq)).await;
                }
                let ack = page::ScreencastFrameAck {
                    session_id: frame.session_id,
                };
                if let Err(e) = acks.call(ack).await {
                    tracing::debug!(error = %e, "screencast ack failed; stream ends");
                    return;
                }
            }
        });
        Ok(Screencast {
            session: session.clone(),
            task,
        })
    }

    /// Stops the stream and waits for Chromium to confirm.
    pub async fn stop(self) {
        self.task.abort();
        let _ = self.session.call(page::StopScreencast::default()).await;
    }
}

/// How long a priming screenshot (and the viewport size read with it) may take.
const PRIME_WAIT: Duration = Duration::from_secs(2);
/// How often a priming screenshot that failed is retried, until a frame arrives.
const PRIME_RETRY: Duration = Duration::from_millis(300);
/// How many times it is retried.
const PRIME_TRIES: u32 = 10;

/// One JPEG of the viewport and its geometry, for the first frame; `None` when the tab does
/// not answer in time (it may be swapping renderers) or the capture fails.
async fn picture(session: &Session, quality: i64) -> Option<(Bytes, FrameGeometry)> {
    let metrics = session
        .call_with_timeout(page::GetLayoutMetrics::default(), PRIME_WAIT)
        .await
        .ok()?;
    let geometry = FrameGeometry {
        css_width: metrics.css_visual_viewport.client_width,
        css_height: metrics.css_visual_viewport.client_height,
        offset_top: 0.0,
    };
    let shot = session
        .call_with_timeout(
            page::CaptureScreenshot {
                format: Some(page::ScreenshotFormat::Jpeg),
                quality: Some(quality),
                optimize_for_speed: Some(true),
                ..Default::default()
            },
            PRIME_WAIT,
        )
        .await;
    match shot {
        Ok(shot) => STANDARD
            .decode(shot.data.as_bytes())
            .ok()
            .map(|jpeg| (Bytes::from(jpeg), geometry)),
        Err(e) => {
            tracing::debug!(error = %e, "no priming screenshot yet");
            None
        }
    }
}

impl Drop for Screencast {
    fn drop(&mut self) {
        self.task.abort();
    }
}
