//! The integrity office's endpoints: authentication by proving possession of an age
//! identity listed in the directory, then a short-lived session for its organisation.

use std::num::NonZeroU64;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use meldpunt_crypto::{
    ChallengeAnswer, MailboxId, OfficeChallenge, RecipientAddress, SessionToken, Stamp,
};
use meldpunt_wire::{
    OfficeChallengeRequest, OfficeEntry, OfficeMessages, OfficeStored, Session, SessionRequest,
};
use serde::Deserialize;

use super::{limited_body, office_session, sealed_body, ApiPath, ApiQuery, Cursor};
use crate::abuse::CHALLENGE_SECONDS;
use crate::clock::{day, unix_seconds};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::service;
use crate::state::AppState;
use crate::storage::{Author, Grant};

/// Routes of this module.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/office/challenge", post(challenge))
        .route("/api/v1/office/session", post(session))
        .route("/api/v1/office/messages", get(list_messages))
        .route("/api/v1/office/messages/{number}", get(fetch_message))
        .route(
            "/api/v1/office/messages/{number}/fetched",
            post(mark_fetched),
        )
        .route("/api/v1/office/mailboxes/{mailbox}/messages", post(reply))
}

/// Largest JSON request body: the office's requests are a few hundred bytes.
const MAXIMUM_JSON_BYTES: usize = 64 * 1024;

fn json_body<T: for<'de> Deserialize<'de>>(headers: &HeaderMap, body: &[u8]) -> Result<T, Error> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) != Some("application/json") {
        return Err(Error::WrongContentType("application/json"));
    }
    serde_json::from_slice(body).map_err(|error| {
        Error::BadRequest(format!(
            "the JSON body is not valid: {}",
            match error.classify() {
                serde_json::error::Category::Data =>
                    "a field is missing, unknown or of the wrong type",
                serde_json::error::Category::Eof => "it ends too early",
                _ => "it is not JSON",
            }
        ))
    })
}

async fn challenge(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<meldpunt_wire::OfficeChallenge>, Error> {
    let body = limited_body(&headers, body, MAXIMUM_JSON_BYTES).await?;
    let request: OfficeChallengeRequest = json_body(&headers, &body)?;
    let address = RecipientAddress {
        organisation: request.organisation.clone(),
        recipient: request.recipient.clone(),
    };
    let directory = &state.directory.directory;
    if directory.organisation(&address.organisation).is_none() {
        return Err(Error::UnknownOrganisation(
            address.organisation.chars().take(64).collect(),
        ));
    }
    let keys = directory
        .keys_for(std::slice::from_ref(&address))
        .map_err(|_| Error::UnknownRecipient {
            organisation: address.organisation.chars().take(64).collect(),
            recipient: address.recipient.chars().take(64).collect(),
        })?;
    let stamp = headers
        .get("meldpunt-stamp")
        .map(|value| {
            value
                .to_str()
                .map_err(|_| Error::StampMissing)
                .and_then(|text| Stamp::from_wire(text).map_err(Error::Stamp))
        })
        .transpose()?;
    let paid = state.office_challenges.admit(
        &address.organisation,
        stamp.as_ref(),
        &state.stamp_key,
        state.difficulty.least_accepted(),
    )?;
    if paid {
        state.difficulty.record_creation();
    }
    let challenge =
        OfficeChallenge::new(&keys).map_err(|error| Error::Storage(error.to_string()))?;
    let expires_at = unix_seconds() + CHALLENGE_SECONDS;
    state.office_challenges.insert(
        challenge.answer_id(),
        Grant {
            organisation: address.organisation,
            expires_at,
        },
    );
    Ok(Json(meldpunt_wire::OfficeChallenge {
        sealed_challenge: STANDARD.encode(challenge.sealed().as_bytes()),
        expires_at,
    }))
}

async fn session(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Session>, Error> {
    let body = limited_body(&headers, body, MAXIMUM_JSON_BYTES).await?;
    let request: SessionRequest = json_body(&headers, &body)?;
    let answer = ChallengeAnswer::from_wire(request.answer.trim())
        .map_err(|_| Error::MalformedCredential("challenge answer"))?;
    let challenge = state
        .office_challenges
        .take(answer.answer_id())
        .ok_or(Error::ChallengeFailed)?;
    let token = SessionToken::generate();
    let grant = Grant {
        organisation: challenge.organisation,
        expires_at: unix_seconds() + u64::from(state.settings.session_minutes) * 60,
    };
    state
        .store
        .open_session(token.session_id(), grant.clone())
        .await?;
    Metrics::increment(&state.metrics.office_sessions_opened);
    Ok(Json(Session {
        session_token: token.to_wire().to_string(),
        organisation: grant.organisation,
        expires_at: grant.expires_at,
    }))
}

async fn list_messages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<OfficeMessages>, Error> {
    let (after, limit) = cursor.numbers()?;
    let organisation = office_session(&state, &headers).await?;
    let messages = state
        .store
        .list_organisation(organisation, after, limit)
        .await?;
    let messages = messages
        .iter()
        .map(|(number, record)| OfficeEntry {
            number: *number,
            mailbox: MailboxId::from_bytes(record.mailbox),
            position: record.position,
            author: record.author,
            day: day(record.day),
            size: record.size,
            fetched: record.fetched,
        })
        .collect();
    Ok(Json(OfficeMessages { messages }))
}

async fn fetch_message(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<impl IntoResponse, Error> {
    let organisation = office_session(&state, &headers).await?;
    let bytes = state
        .store
        .organisation_message(organisation, number.get())
        .await?
        .ok_or(Error::MessageNotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

async fn mark_fetched(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<StatusCode, Error> {
    let organisation = office_session(&state, &headers).await?;
    state.store.mark_fetched(organisation, number.get()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Parses a mailbox id from a path.
pub(crate) fn path_mailbox(text: &str) -> Result<[u8; 32], Error> {
    MailboxId::from_wire(text)
        .map(|id| *id.as_bytes())
        .map_err(|_| {
            Error::BadRequest("malformed mailbox id: expected 43 characters of base64url".into())
        })
}

async fn reply(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(mailbox): ApiPath<String>,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let organisation = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    let sealed = sealed_body(&headers, body, state.settings.limits.max_message_bytes).await?;
    let (position, number) =
        service::append_message(&state, mailbox, Author::Office, Some(organisation), sealed)
            .await?;
    Ok((StatusCode::CREATED, Json(OfficeStored { position, number })))
}
