//! Sealed attachments: streamed in and out in chunks, never held whole in memory.
//!
//! The client chooses a random 16-byte attachment id (22 characters of base64url) and puts
//! it in its sealed message, then uploads the sealed attachment under that id into its
//! mailbox. Until the upload completes nothing is served; a broken upload is removed.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use meldpunt_crypto::AttachmentId;
use meldpunt_wire::AttachmentStored;

use super::office::path_mailbox;
use super::{mailbox_id, office_session, require_octet_stream, ApiPath};
use crate::error::Error;
use crate::service;
use crate::state::AppState;
use crate::storage::{AttachmentRecord, Author, RecipientScope};

/// Routes of this module.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/v1/mailbox/attachments/{id}",
            put(reporter_upload).get(reporter_download),
        )
        .route(
            "/api/v1/office/mailboxes/{mailbox}/attachments/{id}",
            put(office_upload),
        )
        .route("/api/v1/office/attachments/{id}", get(office_download))
}

pub(crate) fn attachment_id(text: &str) -> Result<[u8; 16], Error> {
    meldpunt_crypto::AttachmentId::from_wire(text)
        .map(|id| *id.as_bytes())
        .map_err(|_| {
            Error::BadRequest(
                "malformed attachment id: expected 22 characters of base64url (16 bytes)".into(),
            )
        })
}

async fn receive(
    state: &AppState,
    id: [u8; 16],
    mailbox: [u8; 32],
    author: Author,
    office: Option<RecipientScope>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Error> {
    require_octet_stream(headers)?;
    let limit = state.settings.limits.max_attachment_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(Error::BodyTooLarge { limit });
    }
    let size =
        service::store_attachment(state, id, mailbox, author, office, declared, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(AttachmentStored {
            id: AttachmentId::from_bytes(id),
            size,
        }),
    )
        .into_response())
}

fn send(state: Arc<AppState>, id: [u8; 16], record: AttachmentRecord) -> Response {
    let chunks = record.chunks;
    let stream = futures_util::stream::unfold(0u32, move |index| {
        let state = Arc::clone(&state);
        async move {
            if index >= chunks {
                return None;
            }
            let read = state.store.attachment_chunk(id, index).await;
            let item = match read {
                Ok(Some(bytes)) => Ok(Bytes::from(bytes)),
                _ => Err(std::io::Error::other("attachment chunk missing")),
            };
            Some((item, index + 1))
        }
    });
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (header::CONTENT_LENGTH, record.size.to_string()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

#[utoipa::path(
    put,
    path = "/api/v1/mailbox/attachments/{id}",
    tag = "reporter",
    operation_id = "upload_mailbox_attachment",
    summary = "Upload a sealed attachment (streamed)",
    security(("mailboxToken" = [])),
    params(
        ("id" = meldpunt_wire::openapi::AttachmentIdSchema, Path),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::AttachmentStored),
        (status = 400, description = "Truncated upload or malformed id", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "Mailbox full", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No mailbox answers to this token", body = meldpunt_wire::ErrorBody),
        (status = 409, description = "Attachment id taken", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Too large", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Wrong content type", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn reporter_upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    body: Body,
) -> Result<Response, Error> {
    let mailbox = mailbox_id(&headers)?;
    let id = attachment_id(&id)?;
    receive(&state, id, mailbox, Author::Reporter, None, &headers, body).await
}

#[utoipa::path(
    get,
    path = "/api/v1/mailbox/attachments/{id}",
    tag = "reporter",
    operation_id = "download_mailbox_attachment",
    summary = "Download a sealed attachment of this mailbox (streamed)",
    security(("mailboxToken" = [])),
    params(
        ("id" = meldpunt_wire::openapi::AttachmentIdSchema, Path),
    ),
    responses(
        (status = 200, description = "The sealed attachment", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request): a malformed attachment id", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox or attachment", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn reporter_download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Error> {
    let mailbox = mailbox_id(&headers)?;
    let id = attachment_id(&id)?;
    if state.store.mailbox(mailbox).await?.is_none() {
        return Err(Error::MailboxNotFound);
    }
    match state.store.attachment(id).await? {
        Some(record) if record.mailbox == mailbox => Ok(send(Arc::clone(&state), id, record)),
        _ => Err(Error::AttachmentNotFound),
    }
}

#[utoipa::path(
    put,
    path = "/api/v1/office/mailboxes/{mailbox}/attachments/{id}",
    tag = "office",
    operation_id = "upload_office_attachment",
    summary = "Upload a sealed attachment into a mailbox addressed to the session's recipient (streamed)",
    security(("officeSession" = [])),
    params(
        ("mailbox" = meldpunt_wire::openapi::MailboxIdSchema, Path),
        ("id" = meldpunt_wire::openapi::AttachmentIdSchema, Path),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::AttachmentStored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The mailbox holds as many messages, attachments or bytes as the relay allows (mailbox-full)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox addressed to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 409, description = "Attachment id taken", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Too large", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Content-Type is not application/octet-stream", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn office_upload(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath((mailbox, id)): ApiPath<(String, String)>,
    body: Body,
) -> Result<Response, Error> {
    let scope = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    let id = attachment_id(&id)?;
    receive(
        &state,
        id,
        mailbox,
        Author::Office,
        Some(scope),
        &headers,
        body,
    )
    .await
}

#[utoipa::path(
    get,
    path = "/api/v1/office/attachments/{id}",
    tag = "office",
    operation_id = "download_office_attachment",
    summary = "Download a sealed attachment of a mailbox addressed to the session's recipient (streamed)",
    security(("officeSession" = [])),
    params(
        ("id" = meldpunt_wire::openapi::AttachmentIdSchema, Path),
    ),
    responses(
        (status = 200, description = "The sealed attachment", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such attachment in a mailbox addressed to this recipient", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn office_download(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, Error> {
    let scope = office_session(&state, &headers).await?;
    let id = attachment_id(&id)?;
    let Some(record) = state.store.attachment(id).await? else {
        return Err(Error::AttachmentNotFound);
    };
    match state.store.mailbox(record.mailbox).await? {
        Some(mailbox) if mailbox.addressed_to(&scope) => Ok(send(Arc::clone(&state), id, record)),
        _ => Err(Error::AttachmentNotFound),
    }
}
