//! The HTTP API under `/api/v1/`: JSON for control data, raw bytes for sealed objects.
//!
//! Each module exposes its own `router()`; [`routes`] puts them together with their time
//! limits, and `crate::router` adds what every response gets. Here too: the extractors whose
//! refusals are the JSON error, and the credential and body helpers the handlers share.
//!
//! This module must never read or log a client's address, user agent or referrer.

pub(crate) mod attachments;
pub(crate) mod case_records;
pub(crate) mod office;
pub(crate) mod openapi;
pub(crate) mod public;
pub(crate) mod reporter;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{header, HeaderMap};
use axum::Router;
use http_body_util::BodyExt;
use meldpunt_crypto::{MailboxToken, SealedObject, SessionToken};

use crate::error::Error;
use crate::state::AppState;

/// The API's routes, each group with its time limit (attachments stream for longer).
pub(crate) fn routes(settings: &crate::config::Settings) -> Router<Arc<AppState>> {
    let timeout = Duration::from_secs(settings.limits.request_timeout_seconds);
    let short_requests = Router::new()
        .merge(public::router())
        .merge(reporter::router())
        .merge(office::router())
        .merge(case_records::router())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    let attachment_timeout = Duration::from_secs(settings.limits.attachment_timeout_seconds);
    let long_requests =
        attachments::router().layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            attachment_timeout,
        ));
    short_requests
        .merge(long_requests)
        .layer(axum::middleware::map_response(timeout_as_json))
}

/// The time limits answer 408 with an empty body; every error of the API is the JSON error.
async fn timeout_as_json(response: axum::response::Response) -> axum::response::Response {
    if response.status() == axum::http::StatusCode::REQUEST_TIMEOUT {
        axum::response::IntoResponse::into_response(Error::RequestTimeout)
    } else {
        response
    }
}

/// The bearer credential of a request.
fn bearer<'a>(headers: &'a HeaderMap, what: &'static str) -> Result<&'a str, Error> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or(Error::MissingCredential(what))?
        .to_str()
        .map_err(|_| Error::MalformedCredential(what))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .ok_or(Error::MalformedCredential(what))
}

/// The mailbox a reporter's token opens (its id; the token itself is dropped here).
pub(crate) fn mailbox_id(headers: &HeaderMap) -> Result<[u8; 32], Error> {
    let token = MailboxToken::from_wire(bearer(headers, "mailbox token")?)
        .map_err(|_| Error::MalformedCredential("mailbox token"))?;
    Ok(*token.mailbox_id().as_bytes())
}

/// What an office's session reaches (one recipient of one organisation), after checking
/// expiry and the rate limit.
pub(crate) async fn office_session(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<crate::storage::RecipientScope, Error> {
    let token = SessionToken::from_wire(bearer(headers, "session token")?)
        .map_err(|_| Error::MalformedCredential("session token"))?;
    let session_id = token.session_id();
    let grant = state
        .store
        .session(session_id)
        .await?
        .ok_or(Error::SessionExpired)?;
    if !state.office_limiter.allow(session_id) {
        return Err(Error::RateLimited("this office session"));
    }
    Ok(grant.scope())
}

/// Largest JSON request body: JSON requests are a few hundred bytes.
pub(crate) const MAXIMUM_JSON_BYTES: usize = 64 * 1024;

/// Parses a JSON request body (`Content-Type: application/json`).
pub(crate) fn json_body<T: for<'de> serde::Deserialize<'de>>(
    headers: &HeaderMap,
    body: &[u8],
) -> Result<T, Error> {
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

/// Requires `Content-Type: application/octet-stream` (sealed objects).
pub(crate) fn require_octet_stream(headers: &HeaderMap) -> Result<(), Error> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if content_type.split(';').next().map(str::trim) == Some("application/octet-stream") {
        Ok(())
    } else {
        Err(Error::WrongContentType("application/octet-stream"))
    }
}

/// Reads a whole request body, within `limit` bytes (the declared length is checked first).
pub(crate) async fn limited_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return Err(Error::BodyTooLarge {
            limit: limit as u64,
        });
    }
    let collected = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|error| {
            if error.is::<http_body_util::LengthLimitError>() {
                Error::BodyTooLarge {
                    limit: limit as u64,
                }
            } else {
                Error::TruncatedUpload
            }
        })?;
    Ok(collected.to_bytes().to_vec())
}

/// Reads a whole sealed message body, within `limit` bytes, and checks it is an age file.
pub(crate) async fn sealed_body(
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<Vec<u8>, Error> {
    require_octet_stream(headers)?;
    let bytes = limited_body(headers, body, limit).await?;
    SealedObject::from_bytes(bytes)
        .map(SealedObject::into_bytes)
        .map_err(|_| Error::NotSealed)
}

/// A query string, whose rejection is our own JSON error rather than axum's plain text.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned> axum::extract::FromRequestParts<S>
    for ApiQuery<T>
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Error> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| ApiQuery(value))
            .map_err(|_| {
                Error::BadRequest(
                    "malformed query string: a cursor is ?after=N&limit=M with whole numbers, a challenge's purpose is office; /api/v1/openapi.json lists each endpoint's parameters".into(),
                )
            })
    }
}

/// Path parameters, whose rejection is our own JSON error rather than axum's plain text.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub(crate) T);

impl<S: Send + Sync, T: serde::de::DeserializeOwned + Send> axum::extract::FromRequestParts<S>
    for ApiPath<T>
{
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Error> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| ApiPath(value))
            .map_err(|_| {
                Error::BadRequest(
                    "malformed path: a message number or position is a whole number from 1 (positions up to 4294967295)".into(),
                )
            })
    }
}

/// A list cursor: `?after=N&limit=M`. Values out of range are refused, never clamped.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Cursor {
    #[serde(default)]
    after: u64,
    limit: Option<u64>,
}

/// Most messages one listing returns.
const MAXIMUM_LIMIT: u64 = 1000;
/// Messages a listing returns when the client names no limit.
const DEFAULT_LIMIT: usize = 500;

impl Cursor {
    /// After which position in a mailbox (a 32-bit number), and how many.
    pub(crate) fn positions(&self) -> Result<(u32, usize), Error> {
        let after = u32::try_from(self.after).map_err(|_| {
            Error::BadRequest(format!("after must be a position from 0 to {}", u32::MAX))
        })?;
        Ok((after, self.limit()?))
    }

    /// After which number of an organisation, and how many.
    pub(crate) fn numbers(&self) -> Result<(u64, usize), Error> {
        Ok((self.after, self.limit()?))
    }

    fn limit(&self) -> Result<usize, Error> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(limit @ 1..=MAXIMUM_LIMIT) => Ok(limit as usize),
            Some(_) => Err(Error::BadRequest(format!(
                "limit must be from 1 to {MAXIMUM_LIMIT}"
            ))),
        }
    }
}
