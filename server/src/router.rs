//! The relay's one router: the API (`api`) and the web form (`web`) side by side, and what
//! every response gets — strict security headers, no cookies, the refusal of cross-site form
//! posts, a log line with the route template at `debug` only (never the path with its ids,
//! never an address), the JSON error for unknown API paths and wrong methods, and the status
//! count for metrics.
//!
//! This module must never read or log a client's address, user agent or referrer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;

use crate::error::Error;
use crate::state::AppState;

/// The whole application.
pub fn router(state: Arc<AppState>) -> Router {
    let form_timeout = Duration::from_secs(state.settings.web.form_timeout_seconds);
    let web =
        crate::web::router(&state).layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            form_timeout,
        ));
    Router::new()
        .merge(crate::api::routes(&state.settings))
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
