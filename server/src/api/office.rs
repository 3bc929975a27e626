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
    HandOverEntry, HandOverStored, HandOvers, OfficeChallengeRequest, OfficeEntry, OfficeMessages,
    OfficeStored, Session, SessionRequest,
};

use super::{
    json_body, limited_body, office_session, sealed_body, ApiPath, ApiQuery, Cursor,
    MAXIMUM_JSON_BYTES,
};
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
        .route(
            "/api/v1/office/mailboxes/{mailbox}/hand-overs",
            post(post_hand_over),
        )
        .route(
            "/api/v1/office/mailboxes/{mailbox}/process-guides",
            post(add_process_guides),
        )
        .route("/api/v1/office/hand-overs", get(list_hand_overs))
        .route("/api/v1/office/hand-overs/{number}", get(fetch_hand_over))
}

#[utoipa::path(
    post,
    path = "/api/v1/office/challenge",
    tag = "office",
    operation_id = "office_challenge",
    summary = "Ask for a challenge sealed to a recipient's keys",
    params(
        ("Meldpunt-Stamp" = Option<String>, Header, nullable = false, description = "Needed only beyond the organisation's free challenges this minute (429 without it): a stamp from /api/v1/challenge?purpose=office (at least 20 bits) solved for SHA-256(\"meldpunt/v1/office-stamp\" || 0x00 || organisation) in place of a mailbox id (protocol.md section 8)."),
    ),
    request_body = meldpunt_wire::OfficeChallengeRequest,
    responses(
        (status = 200, description = "The sealed challenge", body = meldpunt_wire::OfficeChallenge),
        (status = 400, description = "Malformed JSON", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The stamp is invalid, expired, lacks work or is outdated (stamp-invalid, stamp-expired, stamp-insufficient-work, stamp-outdated)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "Unknown organisation or recipient", body = meldpunt_wire::ErrorBody),
        (status = 409, description = "The stamp was used already (stamp-spent)", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "body-too-large: the JSON body is larger than 64 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Not application/json", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Beyond the organisation's free challenges this minute without a stamp, or too many challenges waiting on the relay (rate-limited)", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn challenge(
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
    let directory = &state.directory().directory;
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
    // A paid login does not raise the difficulty new mailboxes ask of reporters: a flood of
    // logins would only slow honest reporters, and it pays 20 bits a stamp anyway.
    let paid = state.office_challenges.admit(
        &address.organisation,
        stamp.as_ref(),
        &state.stamp_key,
        state
            .difficulty
            .least_accepted()
            .max(crate::abuse::OFFICE_STAMP_DIFFICULTY),
    )?;
    if let Some(spent) = paid {
        state.store.spend_stamp(spent).await?;
    }
    let challenge =
        OfficeChallenge::new(&keys).map_err(|error| Error::Storage(error.to_string()))?;
    let expires_at = unix_seconds() + CHALLENGE_SECONDS;
    state
        .store
        .hold_challenge(
            challenge.answer_id(),
            Grant {
                organisation: address.organisation,
                recipient: address.recipient,
                expires_at,
            },
        )
        .await?;
    Ok(Json(meldpunt_wire::OfficeChallenge {
        sealed_challenge: STANDARD.encode(challenge.sealed().as_bytes()),
        expires_at,
    }))
}

#[utoipa::path(
    post,
    path = "/api/v1/office/session",
    tag = "office",
    operation_id = "office_session",
    summary = "Trade the opened challenge for a session token",
    request_body = meldpunt_wire::SessionRequest,
    responses(
        (status = 200, description = "A session", body = meldpunt_wire::Session),
        (status = 400, description = "Malformed JSON", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Wrong, used or expired answer", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "body-too-large: the JSON body is larger than 64 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Not application/json", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn session(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Session>, Error> {
    let body = limited_body(&headers, body, MAXIMUM_JSON_BYTES).await?;
    let request: SessionRequest = json_body(&headers, &body)?;
    let answer = ChallengeAnswer::from_wire(request.answer.trim())
        .map_err(|_| Error::MalformedCredential("challenge answer"))?;
    let challenge = state
        .store
        .take_challenge(answer.answer_id())
        .await?
        .ok_or(Error::ChallengeFailed)?;
    let token = SessionToken::generate();
    let grant = Grant {
        organisation: challenge.organisation,
        recipient: challenge.recipient,
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
        recipient: grant.recipient,
        expires_at: grant.expires_at,
        retention_days: Some(state.settings.retention_days),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/office/messages",
    tag = "office",
    operation_id = "list_office_messages",
    summary = "List the messages addressed to the session's recipient after a cursor",
    security(("officeSession" = [])),
    params(
        ("after" = Option<meldpunt_wire::openapi::OfficeCursorSchema>, Query, nullable = false, description = "Return messages after this number, in the recipient's own numbering (0: from the start)."),
        ("limit" = Option<u32>, Query, description = "At most this many messages (default 500); a value outside 1–1000 is refused with 400.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Messages", body = meldpunt_wire::OfficeMessages),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn list_messages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<OfficeMessages>, Error> {
    let (after, limit) = cursor.numbers()?;
    let scope = office_session(&state, &headers).await?;
    let messages = state.store.list_recipient(scope, after, limit).await?;
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

#[utoipa::path(
    get,
    path = "/api/v1/office/messages/{number}",
    tag = "office",
    operation_id = "fetch_office_message",
    summary = "Fetch one sealed message addressed to the session's recipient",
    security(("officeSession" = [])),
    params(
        ("number" = meldpunt_wire::openapi::MessageNumberSchema, Path, description = "The recipient's own number for the message (1, 2, …), independent of other recipients."),
    ),
    responses(
        (status = 200, description = "The sealed message", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such message addressed to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn fetch_message(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let bytes = state
        .store
        .recipient_message(scope, number.get())
        .await?
        .ok_or(Error::MessageNotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}

#[utoipa::path(
    post,
    path = "/api/v1/office/messages/{number}/fetched",
    tag = "office",
    operation_id = "mark_fetched",
    summary = "Mark a message fetched",
    security(("officeSession" = [])),
    params(
        ("number" = meldpunt_wire::openapi::MessageNumberSchema, Path, description = "The recipient's own number for the message (1, 2, …), independent of other recipients."),
    ),
    responses(
        (status = 204, description = "Marked"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such message addressed to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn mark_fetched(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<StatusCode, Error> {
    let scope = office_session(&state, &headers).await?;
    state.store.mark_fetched(scope, number.get()).await?;
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

#[utoipa::path(
    post,
    path = "/api/v1/office/mailboxes/{mailbox}/messages",
    tag = "office",
    operation_id = "post_reply",
    summary = "Post a sealed reply into a mailbox addressed to the session's recipient",
    security(("officeSession" = [])),
    params(
        ("mailbox" = meldpunt_wire::openapi::MailboxIdSchema, Path),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::OfficeStored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The mailbox holds as many messages, attachments or bytes as the relay allows (mailbox-full)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox addressed to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Too large", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Wrong content type", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn reply(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(mailbox): ApiPath<String>,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    let sealed = sealed_body(&headers, body, state.settings.limits.max_message_bytes).await?;
    let (position, number) =
        service::append_message(&state, mailbox, Author::Office, Some(scope), sealed).await?;
    Ok((StatusCode::CREATED, Json(OfficeStored { position, number })))
}

#[utoipa::path(
    post,
    path = "/api/v1/office/mailboxes/{mailbox}/hand-overs",
    tag = "office",
    operation_id = "post_hand_over",
    summary = "Hand a message of a mailbox over to a colleague of the session's recipient",
    description = "The body is a sealed hand-over (protocol.md section 10): a message of the case, as one member of the recipient opened it, signed by them and sealed to a colleague who joined later, or (with `to`) to a process guide appointed to the case. The reporter never sees hand-overs; only sessions of the recipient it is for list them. They count against the office's byte quota of the mailbox and are deleted with it.",
    security(("officeSession" = [])),
    params(
        ("mailbox" = meldpunt_wire::openapi::MailboxIdSchema, Path),
        ("to" = Option<String>, Query, pattern = "^[a-z0-9][a-z0-9-]{0,63}$", description = "Another recipient the mailbox is addressed to (a process guide) whose members it is for; absent: the session's own recipient."),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::HandOverStored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The mailbox holds as many hand-overs or bytes as the relay allows (mailbox-full)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox addressed to this recipient, or (with to) no such process guide of the case, or a process guide's session, which hands a case to no one", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Too large: more than a message may have, an eighth, and 8 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Wrong content type", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn post_hand_over(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(mailbox): ApiPath<String>,
    ApiQuery(target): ApiQuery<HandOverTarget>,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    if target.to.as_deref().is_some_and(|to| {
        to.is_empty()
            || to.len() > 64
            || to.starts_with('-')
            || !to
                .bytes()
                .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
    }) {
        return Err(Error::BadRequest("to names a recipient id".into()));
    }
    service::check_hand_over_target(&state, &scope, target.to.as_deref())?;
    let limit = service::hand_over_limit(state.settings.limits.max_message_bytes);
    let sealed = sealed_body(&headers, body, limit).await?;
    let number = service::store_hand_over(&state, mailbox, scope, target.to, sealed).await?;
    Ok((StatusCode::CREATED, Json(HandOverStored { number })))
}

/// The query of a hand-over: for whom, when not the session's own recipient.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HandOverTarget {
    to: Option<String>,
}

#[utoipa::path(
    post,
    path = "/api/v1/office/mailboxes/{mailbox}/process-guides",
    tag = "office",
    operation_id = "add_process_guides",
    summary = "Appoint process guides to a case of the session's recipient",
    description = "Addresses the mailbox to recipients of role process-guide of its organisation (protocol.md section 12), so that their sessions list the case; the office member's client then tells the reporter in a signed reply and hands the case's history over to the guide. Only process guides are added this way.",
    security(("officeSession" = [])),
    params(
        ("mailbox" = meldpunt_wire::openapi::MailboxIdSchema, Path),
    ),
    request_body(content = meldpunt_wire::AddRecipients, content_type = "application/json"),
    responses(
        (status = 200, description = "Every recipient the mailbox is now addressed to", body = meldpunt_wire::MailboxRecipients),
        (status = 400, description = "Malformed JSON, or no recipients or more than 16", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox addressed to this recipient (or the session is a process guide's, who appoints no one), or no such process guide in the organisation", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "body-too-large: the JSON body is larger than 64 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Not application/json", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn add_process_guides(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(mailbox): ApiPath<String>,
    body: Body,
) -> Result<Json<meldpunt_wire::MailboxRecipients>, Error> {
    let scope = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    let body = limited_body(&headers, body, MAXIMUM_JSON_BYTES).await?;
    let request: meldpunt_wire::AddRecipients = json_body(&headers, &body)?;
    let recipients =
        service::add_process_guides(&state, mailbox, &scope, &request.recipients).await?;
    Ok(Json(meldpunt_wire::MailboxRecipients { recipients }))
}

#[utoipa::path(
    get,
    path = "/api/v1/office/hand-overs",
    tag = "office",
    operation_id = "list_hand_overs",
    summary = "List the hand-overs to the session's recipient after a cursor",
    security(("officeSession" = [])),
    params(
        ("after" = Option<meldpunt_wire::openapi::OfficeCursorSchema>, Query, nullable = false, description = "Return hand-overs after this number, in the recipient's own hand-over numbering (0: from the start)."),
        ("limit" = Option<u32>, Query, description = "At most this many (default 500); a value outside 1–1000 is refused with 400.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Hand-overs", body = meldpunt_wire::HandOvers),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn list_hand_overs(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<HandOvers>, Error> {
    let (after, limit) = cursor.numbers()?;
    let scope = office_session(&state, &headers).await?;
    let hand_overs = state
        .store
        .list_hand_overs(scope, after, limit)
        .await?
        .into_iter()
        .map(|(number, record)| HandOverEntry {
            number,
            mailbox: MailboxId::from_bytes(record.mailbox),
            day: day(record.day),
            size: record.size,
        })
        .collect();
    Ok(Json(HandOvers { hand_overs }))
}

#[utoipa::path(
    get,
    path = "/api/v1/office/hand-overs/{number}",
    tag = "office",
    operation_id = "fetch_hand_over",
    summary = "Fetch one sealed hand-over to the session's recipient",
    security(("officeSession" = [])),
    params(
        ("number" = meldpunt_wire::openapi::MessageNumberSchema, Path, description = "The recipient's own hand-over number (1, 2, …)."),
    ),
    responses(
        (status = 200, description = "The sealed hand-over", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such hand-over to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn fetch_hand_over(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let bytes = state
        .store
        .hand_over(scope, number.get())
        .await?
        .ok_or(Error::MessageNotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
