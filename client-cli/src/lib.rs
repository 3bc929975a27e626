//! The `meldpunt` command's parts: the relay client, directory pinning, input of secrets,
//! attachments, the reporter's commands, and the office's commands and encrypted store.
//! The binary (`src/main.rs`) only parses arguments and calls these.
//!
//! Nothing here takes a secret from argv or the environment, or writes an opened message to
//! disk except where the user asks for it.

#![forbid(unsafe_code)]

pub mod attachments;
pub mod charts;
pub mod clock;
pub mod consultation;
pub mod error;
pub mod hand_over;
pub mod inbox;
pub mod input;
pub mod intake;
pub mod office;
pub mod office_app;
pub mod paths;
pub mod pins;
pub mod questionnaire;
pub mod register;
pub mod relay;
pub mod reminder;
pub mod reporter;
pub mod retention;
pub mod store;
pub mod team;
