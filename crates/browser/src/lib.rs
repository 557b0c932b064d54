//! Chromium processes for Tandem: launching, pooling, tabs, and clean ends.
//!
//! Every browser is a real Debian Chromium in its own process group with its own temporary
//! profile; stopping one kills the group, reaps it and deletes the profile, and a browser that
//! dies on its own is reported to its owner through [`Browser::exited`]. A browser can start
//! from a saved profile ([`LaunchOptions::profile_seed`]) and save its state back when it
//! stops ([`Browser::stop_saving_profile`]). This crate speaks CDP
//! through the `cdp` crate and knows nothing of sessions, agents or HTTP.

pub mod address;
mod browser;
mod confine;
mod downloads;
mod error;
pub mod input;
mod live_frames;
mod live_tab;
mod options;
mod page;
mod pool;
mod process;
mod profile;
pub mod proxy;
mod screencast;
mod tabs;
mod user;

pub use address::AddressError;
pub use browser::Browser;
pub use downloads::{Download, DownloadStatus, Downloads};
pub use error::BrowserError;
pub use live_tab::{
    FileInput, LiveInputError, LiveTab, SelectFrame, SelectOption, SelectPopup, TabSignal,
};
pub use options::{DEFAULT_EXECUTABLE, LaunchOptions, PoolOptions};
pub use page::{NAVIGATION_TIMEOUT, Page};
pub use pool::Pool;
pub use process::Exit;
pub use profile::{SavedProfile, saved_cookies_file};
pub use screencast::{Frame, FrameSink, Screencast, ScreencastSettings};
pub use tabs::{TabEvent, TabInfo};
pub use user::{USER_NAME, stage_uploads};
