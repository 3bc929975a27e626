//! The Meldpunt relay: stores sealed objects under mailbox ids and lets reporters and
//! integrity offices exchange them, learning as little as possible.
//!
//! [`launch`] serves the API on a listener until a shutdown future completes; the binary
//! `meldpunt-server` wraps it with configuration (`serve`), the development setup (`dev`)
//! and online backups (`backup`).
//!
//! This crate must never record an IP address, port, user agent or referrer, never store a
//! token (only hashes), and never hold plaintext: handlers accept only bytes that parse as
//! age files.

#![forbid(unsafe_code)]

pub mod abuse;
pub mod admin;
pub mod api;
pub mod circuit;
pub mod config;
pub mod error;
pub mod metrics;
pub mod provisioning;
pub mod router;
pub mod serve;
pub mod service;
pub mod state;
pub mod storage;
pub mod web;

pub use config::Settings;
pub use error::Error;
pub use serve::launch;
pub use state::AppState;
