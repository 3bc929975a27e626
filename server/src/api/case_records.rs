//! The office's case records (`/api/v1/office/mailboxes/{mailbox}/records`,
//! `/api/v1/office/records`): each a change to a case's shared state (status, assignee,
//! labels, internal notes), sealed by a member to the members of the case's recipients.
//! Only office sessions of a recipient the case is addressed to store, list and fetch them;
//! a reporter's token has no route to them.
//!
//! This module must never read or log a client's address, and never serves a record to a
//! session of a recipient the case is not addressed to.

use std::num::NonZeroU64;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use meldpunt_crypto::MailboxId;
use meldpunt_wire::{CaseRecordEntry, CaseRecordStored, CaseRecords};

use super::office::path_mailbox;
use super::{office_session, sealed_body, ApiPath, ApiQuery, Cursor};
use crate::clock::day;
use crate::error::Error;
use crate::service;
use crate::state::AppState;

/// The case record routes.
pub(crate) fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/v1/office/mailboxes/{mailbox}/records",
            post(post_case_record),
        )
        .route("/api/v1/office/records", get(list_case_records))
        .route("/api/v1/office/records/{number}", get(fetch_case_record))
}

#[utoipa::path(
    post,
    path = "/api/v1/office/mailboxes/{mailbox}/records",
    tag = "office",
    operation_id = "post_case_record",
    summary = "Store a change to a case's shared office state",
    description = "The body is a sealed case record (protocol.md section 11): a status, assignee, label or internal note, signed by an office member and sealed to the members of every recipient the case is addressed to, never to the reporter. Every session of those recipients lists it in its own record numbering; the reporter's token never sees records, not even their count. They count against the office's byte quota of the mailbox and are deleted with it.",
    security(("officeSession" = [])),
    params(
        ("mailbox" = meldpunt_wire::openapi::MailboxIdSchema, Path),
    ),
    request_body(content = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
    responses(
        (status = 201, description = "Stored and durable", body = meldpunt_wire::CaseRecordStored),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 403, description = "The mailbox holds as many case records or bytes as the relay allows (mailbox-full)", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such mailbox addressed to this recipient", body = meldpunt_wire::ErrorBody),
        (status = 413, description = "Too large: more than 64 KiB", body = meldpunt_wire::ErrorBody),
        (status = 415, description = "Wrong content type", body = meldpunt_wire::ErrorBody),
        (status = 422, description = "Not a sealed age file", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
        (status = 507, description = "Storage full", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn post_case_record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(mailbox): ApiPath<String>,
    body: Body,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let mailbox = path_mailbox(&mailbox)?;
    let sealed = sealed_body(&headers, body, service::CASE_RECORD_LIMIT).await?;
    let number = service::store_case_record(&state, mailbox, scope, sealed).await?;
    Ok((StatusCode::CREATED, Json(CaseRecordStored { number })))
}

#[utoipa::path(
    get,
    path = "/api/v1/office/records",
    tag = "office",
    operation_id = "list_case_records",
    summary = "List the case records of the session's recipient after a cursor",
    security(("officeSession" = [])),
    params(
        ("after" = Option<meldpunt_wire::openapi::OfficeCursorSchema>, Query, nullable = false, description = "Return records after this number, in the recipient's own record numbering (0: from the start)."),
        ("limit" = Option<u32>, Query, description = "At most this many (default 500); a value outside 1–1000 is refused with 400.", minimum = 1, maximum = 1000),
    ),
    responses(
        (status = 200, description = "Case records", body = meldpunt_wire::CaseRecords),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn list_case_records(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiQuery(cursor): ApiQuery<Cursor>,
) -> Result<Json<CaseRecords>, Error> {
    let (after, limit) = cursor.numbers()?;
    let scope = office_session(&state, &headers).await?;
    let case_records = state
        .store
        .list_case_records(scope, after, limit)
        .await?
        .into_iter()
        .map(|(number, record)| CaseRecordEntry {
            number,
            mailbox: MailboxId::from_bytes(record.mailbox),
            day: day(record.day),
            size: record.size,
        })
        .collect();
    Ok(Json(CaseRecords { case_records }))
}

#[utoipa::path(
    get,
    path = "/api/v1/office/records/{number}",
    tag = "office",
    operation_id = "fetch_case_record",
    summary = "Fetch one sealed case record of the session's recipient",
    security(("officeSession" = [])),
    params(
        ("number" = meldpunt_wire::openapi::MessageNumberSchema, Path, description = "The recipient's own record number (1, 2, …)."),
    ),
    responses(
        (status = 200, description = "The sealed case record", body = inline(meldpunt_wire::openapi::Sealed), content_type = "application/octet-stream"),
        (status = 400, description = "Malformed request (bad-request)", body = meldpunt_wire::ErrorBody),
        (status = 401, description = "Missing or malformed credential, expired session", body = meldpunt_wire::ErrorBody),
        (status = 404, description = "No such record for this recipient", body = meldpunt_wire::ErrorBody),
        (status = 429, description = "Too many requests for this session", body = meldpunt_wire::ErrorBody),
    )
)]
pub(crate) async fn fetch_case_record(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    ApiPath(number): ApiPath<NonZeroU64>,
) -> Result<impl IntoResponse, Error> {
    let scope = office_session(&state, &headers).await?;
    let bytes = state
        .store
        .case_record(scope, number.get())
        .await?
        .ok_or(Error::MessageNotFound)?;
    Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes))
}
