//! A thin async Chrome DevTools Protocol client.
//!
//! One WebSocket per browser; every page is reached through a flattened session on that socket.
//! This crate knows nothing of Tandem's sessions, agents or viewers: it moves commands and
//! events, matches answers to questions, puts a timeout on every command, and says clearly
//! when an answer will never come.

pub mod command;
mod connection;
mod error;
mod event;
pub mod protocol;

pub use command::{Command, Empty, Event};
pub use connection::{ConnectOptions, Connection, Session};
pub use error::CdpError;
pub use event::{EventStream, RawEvent};
