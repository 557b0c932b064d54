//! How browsers are launched and how many are kept warm.

use std::path::PathBuf;

use crate::proxy::UpstreamProxy;

/// The real Chromium binary of Debian's package. The `/usr/bin/chromium` wrapper adds flags of
/// its own and its shared-memory check fails in containers, so Tandem launches this directly.
pub const DEFAULT_EXECUTABLE: &str = "/usr/lib/chromium/chromium";

/// How to start one Chromium.
#[derive(Debug, Clone)]
pub struct LaunchOptions {
    /// The Chromium binary.
    pub executable: PathBuf,
    /// The window (and so the viewport) size in CSS pixels.
    pub window: (u32, u32),
    /// Device pixels per CSS pixel the browser renders at. 1 renders (and screencasts) CSS
    /// pixels; 2 makes the live view sharp on HiDPI screens, for about 3x the bytes per frame
    /// and more CPU per frame (`benches/README.md`). Pages see it as `devicePixelRatio`.
    pub device_scale_factor: f64,
    /// Extra command-line flags, appended after Tandem's own.
    pub extra_args: Vec<String>,
    /// A saved profile (see [`crate::Browser::stop_saving_profile`]) to start from: its
    /// cookies, local storage and IndexedDB are copied into the new browser's profile before
    /// launch, and its saved cookies set once it runs.
    pub profile_seed: Option<PathBuf>,
    /// Directories the browser must not see at all (the server's data directory, with its
    /// keys and database): when Tandem runs as root, each is covered by an empty tmpfs in the
    /// browser's own mount namespace. Without root they stay visible (said once in the log).
    pub hidden_dirs: Vec<PathBuf>,
    /// Directories inside [`LaunchOptions::hidden_dirs`] the browser still uses (downloads,
    /// upload folders): bound back over the tmpfs.
    pub shared_dirs: Vec<PathBuf>,
    /// An upstream proxy for all of the browser's traffic, through a [`crate::proxy::Relay`]
    /// of its own (Chromium never sees the credentials). A pool's browsers have none.
    pub proxy: Option<UpstreamProxy>,
    /// Accept any TLS certificate (`--ignore-certificate-errors`), for a browser behind an
    /// intercepting proxy; this browser only.
    pub ignore_cert_errors: bool,
}

impl Default for LaunchOptions {
    fn default() -> Self {
        LaunchOptions {
            executable: PathBuf::from(DEFAULT_EXECUTABLE),
            window: (1280, 720),
            device_scale_factor: 1.0,
            extra_args: Vec::new(),
            profile_seed: None,
            hidden_dirs: Vec::new(),
            shared_dirs: Vec::new(),
            proxy: None,
            ignore_cert_errors: false,
        }
    }
}

/// How the warm pool behaves.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// How many launched, idle browsers to keep ready. Zero makes every acquire a cold start.
    ///
    /// A browser counts as ready once its tab has been warmed up (its first page load then
    /// skips Chromium's lazy set-up), and a replacement is launched only once acquires have
    /// been quiet for a second, so that it does not slow the session just handed out.
    pub size: usize,
    /// How each browser is launched.
    pub launch: LaunchOptions,
}

impl Default for PoolOptions {
    fn default() -> Self {
        PoolOptions {
            size: 2,
            launch: LaunchOptions::default(),
        }
    }
}
