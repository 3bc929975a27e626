//! The reporter's endpoints. A reporter is known only by a mailbox token, which is hashed
//! to the mailbox id on arrival and then forgotten.
//!
//! An unknown mailbox and a wrong token are the same thing here (the id is a hash of the
//! token), so they get the same answer by construction.

use std::num::NonZeroU32;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use meldpunt_crypto::{MailboxId, Stamp};
use meldpunt_wire::{AddRecipients, MailboxMessages, MailboxRecipients, MessageSummary, Stored};

use super::{
    json_body, limited_body, mailbox_id, sealed_body, ApiPath, ApiQuery, Cursor, MAXIMUM_JSON_BYTES,
};
use crate::clock::{day, unix_seconds};
use crate::error::Error;
use crate::metrics::Metrics;
use crate::service;
use crate::state::AppState;
use crate::storage::{Author, MessageRecord};

/// Routes of this module.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/v1/mailboxes", post(create_mailbox))
        .route(
            "/api/v1/mailbox/messages",
            get(list_messages).post(follow_up),
        )
        .route("/api/v1/mailbox/messages/{position}", get(fetch_message))
        .route("/api/v1/mailbox/recipients", post(add_recipients))
}

/// A message as a reporter sees it listed.
pub(crate) fn summary(record: &MessageRecord) -> MessageSummary {
    MessageSummary {
        position: record.position,
        author: record.author,
        day: day(record.day),
        size: record.size,
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/mailboxes",
    tag = "reporter",
    operation_id = "create_mailbox",
    summary = "Create a mailbox with its first sealed message (the report)",
    security(("mailboxToken" = [])),
    params(
        ("Meldpunt-Organisation" = String, Header, description = "Recipient organisation id from the directory."),
        ("Meldpunt-Recipients" = String, Header, pattern = r"^[a-z0-9][a-z0-9-]{0,63}(,[a-z0-9][a-z0-9-]{0,63}){0,15}$", description = "The recipients within the organisation (directory ids, comma-separated, 1 to 16) the report is sealed to: only their office sessions list, fetch or write this mailbox."),
        ("Meldpunt-Stamp" = Option<String>, Header, nullable = false, description = "Solved proof-of-work stamp (required when the relay asks for one)."),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Created and durable", body = meldpunt_wire::Stored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "Stamp missing, invalid, expired or lacking work; stamp-outdated: the stamp's challenge was issued at a difficulty more than two bits below the current one", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "Unknown organisation", body = meldpunt_wire::ErrorBody),
        (status = 409, description = "Mailbox exists, or stamp spent", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Body too large", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Not application/octet-stream", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn create_mailbox(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let mailbox = mailbox_id(&headers)?;
    let organisation = headers
        .get("meldpunt-organisation")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            Error::BadRequest(
                "the Meldpunt-Organisation header names the recipient organisation".into(),
            )
        })?
        .to_owned();
    let named: Vec<String> = headers
        .get(meldpunt_wire::RECIPIENTS_HEADER)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            Error::BadRequest(
                "the Meldpunt-Recipients header names the recipients (comma-separated ids) the report is sealed to"
                    .into(),
            )
        })?
        .split(',')
        .map(|id| id.trim().to_owned())
        .collect();
    if named.iter().any(String::is_empty) {
        return Err(Error::BadRequest(
            "the Meldpunt-Recipients header names recipient ids separated by commas, none empty"
                .into(),
        ));
    }
    let recipients = service::addressed_recipients(&state, &organisation, &named)?;
    let spent = if state.settings.proof_of_work.enabled {
        let result = headers
            .get("meldpunt-stamp")
            .ok_or(Error::StampMissing)
            .and_then(|value| value.to_str().map_err(|_| Error::StampMissing))
            .and_then(|text| Stamp::from_wire(text).map_err(Error::Stamp))
            .and_then(|stamp| {
                state
                    .stamp_key
                    .verify(
                        &stamp,
                        &MailboxId::from_bytes(mailbox),
                        unix_seconds(),
                        state.difficulty.least_accepted(),
                    )
                    .map_err(Error::Stamp)
            });
        match result {
            Ok(spent) => Some(spent),
            Err(error) => {
                Metrics::increment(&state.metrics.stamps_refused);
                return Err(error);
            }
        }
    } else {
        None
    };
    let sealed = sealed_body(&headers, body, state.settings.limits.max_message_bytes).await?;
    service::create_mailbox(&state, mailbox, organisation, recipients, sealed, spent).await?;
    Ok((StatusCode::CREATED, Json(Stored { position: 1 })))
}

#[utoipa::path(
    get,
    path = "/api/v1/mailbox/messages",
    tag = "reporter",
    operation_id = "list_mailbox_messages",
    summary = "List a mailbox's messages after a cursor",
    security(("mailboxToken" = [])),
    params(
        ("after" = Option<u32>, Query, description = "Return messages after this position (0: from the start).", maximum = 4294967295.0),
        ("limit" = Option<u32>, Query, description = "At most this many messages (default 500); a value outside 1–1000 is refused with 400.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Messages", body = meldpunt_wire::MailboxMessages),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No mailbox answers to this token", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn list_messages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<MailboxMessages>, Error> {
    let mailbox = mailbox_id(&headers)?;
    let (after, limit) = cursor.positions()?;
    let messages = state
        .store
        .list_mailbox(mailbox, after, limit)
        .await?
        .ok_or(Error::MailboxNotFound)?;
    Ok(Json(MailboxMessages {
        messages: messages.iter().map(summary).collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/api/v1/mailbox/messages/{position}",
    tag = "reporter",
    operation_id = "fetch_mailbox_message",
    summary = "Fetch one sealed message",
    security(("mailboxToken" = [])),
    params(
        ("position" = u32, Path, minimum = 1, maximum = 4294967295.0),
    ),
    responses(
        (status = 200, description = "The sealed message", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox or message", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn fetch_message(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(position): ApiPath<NonZeroU32>,
) -> Result<impl IntoResponse, Error> {
    let position = position.get();
    let mailbox = mailbox_id(&headers)?;
    match state.store.mailbox_message(mailbox, position).await? {
        Some(bytes) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/octet-stream")],
            bytes,
        )),
        None if state.store.mailbox(mailbox).await?.is_none() => Err(Error::MailboxNotFound),
        None => Err(Error::MessageNotFound),
    }
}

#[utoipa::path(
    post,
    path = "/api/v1/mailbox/messages",
    tag = "reporter",
    operation_id = "post_follow_up",
    summary = "Post a sealed follow-up",
    security(("mailboxToken" = [])),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::Stored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The mailbox holds as many messages or bytes as the relay allows (mailbox-full)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No mailbox answers to this token", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Body too large", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Wrong content type", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn follow_up(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let mailbox = mailbox_id(&headers)?;
    let sealed = sealed_body(&headers, body, state.settings.limits.max_message_bytes).await?;
    let (position, _) =
        service::append_message(&state, mailbox, Author::Reporter, None, sealed).await?;
    Ok((StatusCode::CREATED, Json(Stored { position })))
}

#[utoipa::path(
    post,
    path = "/api/v1/mailbox/recipients",
    tag = "reporter",
    operation_id = "add_mailbox_recipients",
    summary = "Address the mailbox to more recipients of its organisation",
    description = "For a recipient who joins later (a process guide, say): from now on its office sessions list, fetch and write this mailbox, the messages already in it included. Recipients cannot be taken away.",
    security(("mailboxToken" = [])),
    request_body = meldpunt_wire::AddRecipients,
    responses(
        (status = 200, description = "Every recipient the mailbox is addressed to", body = meldpunt_wire::MailboxRecipients),
        (status = 400, description = "Malformed JSON, or no recipients or more than 16", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No mailbox answers to this token, or a recipient the organisation does not have", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "body-too-large: the JSON body is larger than 64 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Not application/json", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn add_recipients(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<MailboxRecipients>, Error> {
    let mailbox = mailbox_id(&headers)?;
    let body = limited_body(&headers, body, MAXIMUM_JSON_BYTES).await?;
    let request: AddRecipients = json_body(&headers, &body)?;
    let recipients = service::add_recipients(&state, mailbox, &request.recipients).await?;
    Ok(Json(MailboxRecipients { recipients }))
}
