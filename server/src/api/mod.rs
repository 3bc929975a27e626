//! The HTTP API under `/api/v1/`: JSON for control data, raw bytes for sealed objects.
//!
//! Each module exposes its own `router()`; this one adds what every response gets: strict
//! security headers, no cookies, a log line with the route template (never the path with its
//! ids, never an address), and the status count for metrics.
//!
//! This module must never read or log a client's address, user agent or referrer.

pub mod attachments;
pub mod office;
pub mod public;
pub mod reporter;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use http_body_util::BodyExt;
use meldpunt_crypto::{MailboxToken, SealedObject, SessionToken};

use crate::error::Error;
use crate::state::AppState;

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let timeout = Duration::from_secs(state.settings.limits.request_timeout_seconds);
    let short_requests = Router::new()
        .merge(public::router())
        .merge(reporter::router())
        .merge(office::router())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            timeout,
        ));
    let attachment_timeout = Duration::from_secs(state.settings.limits.attachment_timeout_seconds);
    let long_requests =
        attachments::router().layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            attachment_timeout,
        ));
    let form_timeout = Duration::from_secs(state.settings.web.form_timeout_seconds);
    let web =
        crate::web::router(&state).layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            form_timeout,
        ));
    Router::new()
        .merge(short_requests)
        .merge(long_requests)
        .merge(web)
        .fallback(fallback)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            refuse_cross_site,
        ))
        .layer(middleware::from_fn_with_state(Arc::clone(&state), respond))
        .with_state(state)
}

/// Unknown paths: the JSON error under `/api/`, the web form's page elsewhere.
async fn fallback(State(state): State<Arc<AppState>>, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") || !state.settings.web.enabled {
        Error::EndpointNotFound.into_response()
    } else {
        crate::web::not_found(&state, &uri)
    }
}

/// Refuses a request that changes something (any method but GET and HEAD) when the browser
/// says another site sent it: `Sec-Fetch-Site` other than `same-origin` or `none`, or an
/// `Origin` naming another host than the one asked. Without this, a page on another site
/// could post its own receipt code to `/check` in a reporter's browser and show a forged
/// "reply from the integrity office" on the genuine address. (`Origin: null` is allowed: our
/// pages' no-referrer policy makes browsers send it on their own form posts; browsers that
/// send `null` for a sandboxed foreign frame also send `Sec-Fetch-Site: cross-site`.) Clients
/// that send neither header, such as the CLI, are not browsers and are unaffected.
async fn refuse_cross_site(
    State(state): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) || !is_cross_site(request.headers())
    {
        return next.run(request).await;
    }
    let uri = request.uri().clone();
    if uri.path().starts_with("/api/") || !state.settings.web.enabled {
        Error::CrossSite.into_response()
    } else {
        crate::web::failure(&state, crate::web::language(&uri), &Error::CrossSite)
    }
}

fn is_cross_site(headers: &HeaderMap) -> bool {
    let fetch_site = headers.get("sec-fetch-site").map(|value| value.as_bytes());
    if fetch_site.is_some_and(|site| site != b"same-origin" && site != b"none") {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    if origin.as_bytes() == b"null" {
        return false;
    }
    let origin_authority = origin
        .to_str()
        .ok()
        .and_then(|origin| origin.split_once("://"))
        .map(|(_, authority)| authority.to_ascii_lowercase());
    let host = headers
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .map(str::to_ascii_lowercase);
    match (origin_authority, host) {
        (Some(authority), Some(host)) => authority != host,
        _ => true,
    }
}

/// Security headers, logging and metrics for every response.
async fn respond(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    if api && response.status() == StatusCode::METHOD_NOT_ALLOWED {
        // The router answers a known path with another method with an empty body; give it
        // the JSON error every other refusal has, keeping its `Allow` header.
        let allow = response.headers().get(header::ALLOW).cloned();
        response = Error::MethodNotAllowed.into_response();
        if let Some(allow) = allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
    }
    let status = response.status();
    state.metrics.count_response(status.as_u16());
    // One line per request only at `debug`: at the default `info`, the log holds no line a
    // reporter's request causes, so not even the day it came (docs/operations.md).
    tracing::debug!(
        method = %method,
        route = %route,
        status = status.as_u16(),
        milliseconds = started.elapsed().as_millis() as u64,
        "request"
    );
    let headers = response.headers_mut();
    headers.remove(header::SET_COOKIE);
    let set = |headers: &mut HeaderMap, name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set(headers, "cache-control", "no-store");
    set(headers, "x-content-type-options", "nosniff");
    set(headers, "referrer-policy", "no-referrer");
    set(headers, "x-frame-options", "DENY");
    // Web form pages bring their own policy; everything else gets the strictest.
    headers
        .entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
        ));
    set(headers, "cross-origin-opener-policy", "same-origin");
    set(headers, "cross-origin-resource-policy", "same-origin");
    set(
        headers,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), interest-cohort=()",
    );
    if state.settings.tls.is_some() {
        set(
            headers,
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
    if let Some(onion) = &state.settings.onion_location {
        if let Ok(value) = HeaderValue::from_str(onion) {
            headers.insert("onion-location", value);
        }
    }
    response
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

/// An office's session: its organisation, after checking expiry and the rate limit.
pub(crate) async fn office_session(state: &AppState, headers: &HeaderMap) -> Result<String, Error> {
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
    Ok(grant.organisation)
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
                    "malformed query string: expected ?after=N&limit=M with whole numbers".into(),
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
