//! Endpoints anyone may call: the signed directory, proof-of-work challenges, health,
//! readiness and the OpenAPI document. Never metrics: they are on the admin socket only
//! (see `admin.rs`), since counters are a live feed of when reports arrive.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use meldpunt_wire::{ChallengeOffer, Status};

use super::ApiQuery;
use crate::clock::unix_seconds;
use crate::error::Error;
use crate::state::AppState;

/// Routes of this module.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/directory", get(directory))
        .route("/api/v1/directory/history", get(directory_history))
        .route("/api/v1/challenge", get(challenge))
        .route("/api/v1/health", get(health))
        .route("/api/v1/ready", get(ready))
        .route("/api/v1/openapi.json", get(openapi))
}

#[utoipa::path(
    get,
    path = "/api/v1/directory",
    tag = "public",
    operation_id = "directory",
    summary = "The signed recipient directory",
    responses(
        (status = 200, description = "The signed directory (docs/protocol.md §5)", body = meldpunt_wire::SignedDirectoryEnvelope),
    )
)]
pub(crate) async fn directory(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        state.directory().signed.clone(),
    )
}

/// Most directories in one history answer.
const HISTORY_PAGE: usize = 32;
/// Most bytes of directories in one history answer (beyond the first): a client reads a page
/// capped at 16 MiB, and a stranger's request should not make the relay copy more.
const HISTORY_PAGE_BYTES: usize = 4 << 20;

#[utoipa::path(
    get,
    path = "/api/v1/directory/history",
    tag = "public",
    operation_id = "directory_history",
    summary = "The signed directories of the versions after one a client pinned",
    params(
        ("after" = Option<meldpunt_wire::openapi::DirectoryVersionSchema>, Query, nullable = false, description = "Return the versions after this one (0: from the first), up to the one served now, at most 32 (and 4 MiB beyond the first) at a time."),
    ),
    responses(
        (status = 200, description = "The history (docs/protocol.md §5, History)", body = meldpunt_wire::DirectoryHistory),
        (status = 400, description = "A malformed or unknown query parameter (bad-request)", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn directory_history(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Json<meldpunt_wire::DirectoryHistory> {
    let served = state.directory();
    let after = query.after.unwrap_or(0);
    let mut later = served.history.range(after.saturating_add(1)..).peekable();
    let mut directories: Vec<String> = Vec::new();
    let mut bytes = 0usize;
    while let Some((_, text)) = later.peek() {
        if directories.len() == HISTORY_PAGE
            || (!directories.is_empty() && bytes + text.len() > HISTORY_PAGE_BYTES)
        {
            break;
        }
        bytes += text.len();
        directories.push(text.to_string());
        later.next();
    }
    Json(meldpunt_wire::DirectoryHistory {
        directories,
        more: later.peek().is_some(),
    })
}

/// `GET /api/v1/directory/history?after=N`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HistoryQuery {
    #[serde(default)]
    after: Option<u64>,
}

#[utoipa::path(
    get,
    path = "/api/v1/challenge",
    tag = "public",
    operation_id = "challenge",
    summary = "A proof-of-work challenge for creating a mailbox (or for an office login)",
    params(
        ("purpose" = Option<meldpunt_wire::openapi::ChallengePurposeSchema>, Query, nullable = false, description = "`office`: a challenge for an office login beyond the free ones, at least 20 bits (offices solve in native code); absent: for a new mailbox, at the relay's current difficulty (a reporter's browser solves it; at most 18 bits)."),
    ),
    responses(
        (status = 200, description = "A challenge", body = meldpunt_wire::ChallengeOffer),
        (status = 400, description = "An unknown purpose or query parameter (bad-request)", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn challenge(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<ChallengeQuery>,
) -> Result<Json<ChallengeOffer>, Error> {
    let office = match query.purpose.as_deref() {
        None => false,
        Some("office") => true,
        Some(_) => {
            return Err(Error::BadRequest(
                "purpose is office, or absent for a new mailbox".into(),
            ))
        }
    };
    let pow = &state.settings.proof_of_work;
    if !pow.enabled {
        return Ok(Json(ChallengeOffer {
            required: false,
            challenge: None,
            difficulty: None,
            expires_at: None,
        }));
    }
    let mut difficulty = state.difficulty.current();
    if office {
        difficulty = difficulty.max(crate::abuse::OFFICE_STAMP_DIFFICULTY);
    }
    let expires_at = unix_seconds() + pow.challenge_seconds;
    let challenge = state.stamp_key.challenge(difficulty, expires_at);
    Ok(Json(ChallengeOffer {
        required: true,
        challenge: Some(challenge.to_wire()),
        difficulty: Some(difficulty),
        expires_at: Some(expires_at),
    }))
}

/// `GET /api/v1/challenge?purpose=office`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeQuery {
    #[serde(default)]
    purpose: Option<String>,
}

#[utoipa::path(
    get,
    path = "/api/v1/health",
    tag = "public",
    operation_id = "health",
    summary = "Liveness",
    responses(
        (status = 200, description = "Alive", body = meldpunt_wire::Status),
    )
)]
pub(crate) async fn health() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

#[utoipa::path(
    get,
    path = "/api/v1/ready",
    tag = "public",
    operation_id = "ready",
    summary = "Readiness (storage answers)",
    responses(
        (status = 200, description = "Ready", body = meldpunt_wire::Status),
        (status = 503, description = "Not ready", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn ready(State(state): State<Arc<AppState>>) -> Result<Json<Status>, Error> {
    state.store.counts().await.map_err(|_| Error::NotReady)?;
    Ok(Json(Status {
        status: "ready".into(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "public",
    operation_id = "openapi",
    summary = "This document",
    responses(
        (status = 200, description = "OpenAPI 3.1"),
    )
)]
pub(crate) async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        super::openapi::document(),
    )
}
