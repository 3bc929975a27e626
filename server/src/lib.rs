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
// The page texts handed to the browser script are one `json!` object, deeper than the default.
#![recursion_limit = "256"]

pub(crate) mod abuse;
pub mod admin;
pub(crate) mod api;
pub(crate) mod circuit;
pub mod clock;
pub mod config;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod metrics;
pub mod provisioning;
pub(crate) mod router;
pub mod serve;
pub(crate) mod service;
pub(crate) mod state;
pub(crate) mod storage;
pub(crate) mod web;

/// What the fuzz targets and the allocation test reach into; not an interface for anything
/// else.
#[doc(hidden)]
pub mod internal {
    pub use crate::router::router;
    pub use crate::web::forms::{append_zeroizing, attachment_name, without_carriage_returns};
    pub use crate::web::guard::{FormGuard, Refusal};
}

pub use api::openapi::document as openapi_document;
pub use config::Settings;
pub use error::Error;
pub use serve::launch;
pub use state::AppState;

/// `meldpunt-server migrate`: brings the PostgreSQL database the settings name to this
/// relay's schema; says what it did.
pub async fn migrate(settings: &Settings) -> Result<String, String> {
    if settings.storage.backend != config::Backend::Postgres {
        return Err(
            "the configuration keeps mailboxes in redb ([storage] backend): there is nothing to migrate; the relay upgrades its redb file itself".into(),
        );
    }
    let store = storage::PostgresStore::connect(&settings.storage).await?;
    let applied = store
        .migrate()
        .await
        .map_err(|error| format!("the migration failed, nothing was changed: {error}"))?;
    Ok(match applied.as_slice() {
        [] => format!(
            "the database has Meldpunt schema {} already",
            storage::POSTGRES_SCHEMA_VERSION
        ),
        versions => format!(
            "applied Meldpunt schema {}: the database is at {}",
            versions
                .iter()
                .map(|version| version.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            storage::POSTGRES_SCHEMA_VERSION
        ),
    })
}
