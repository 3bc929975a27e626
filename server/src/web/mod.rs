//! The web form for reporters, served by the relay itself at `/`: Dutch by default,
//! English with `?lang=en`, complete with or without JavaScript.
//!
//! - With JavaScript, the script from `web/` (embedded here) does everything in the
//!   browser and talks only to `/api/v1/`; these pages are its HTML.
//! - Without JavaScript, the forms post here: [`report`] and [`conversation`] seal and
//!   open in memory, with the anti-abuse of [`guard`] instead of proof-of-work.
//!
//! Pages carry a strict Content-Security-Policy (scripts, styles and requests only from
//! this relay, no inline code), set no cookie, and load nothing from elsewhere.
//!
//! This module must never log or store what a reporter wrote, a receipt code or a file
//! name, and never put a receipt code in a URL.

pub(crate) mod conversation;
pub(crate) mod forms;
pub(crate) mod guard;
pub(crate) mod pages;
pub(crate) mod questions;
pub(crate) mod report;
pub(crate) mod text;

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

use crate::error::Error;
use crate::state::AppState;
use pages::{FieldErrors, Frame};
use text::Language;

/// The policy of every HTML page: nothing from elsewhere, no inline code, forms post here.
pub(crate) const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// The stylesheet.
const STYLESHEET: &str = include_str!("static/meldpunt.css");
/// The browser script, built by `npm run build` in `web/` from the pinned npm packages.
const SCRIPT: &str = include_str!("../../../web/dist/meldpunt.js");
/// The same, gzipped by the same build, for browsers that accept it.
const SCRIPT_GZIP: &[u8] = include_bytes!("../../../web/dist/meldpunt.js.gz");
/// The stamp worker the browser script solves proof-of-work in, built by the same build.
const STAMP_WORKER: &str = include_str!("../../../web/dist/meldpunt-stamp.js");

/// Largest body of a form that carries only a receipt code and a few fields.
const CODE_FORM_LIMIT: usize = 16 * 1024;

/// Routes of the web form (when enabled), with their own body limits; every post holds one
/// of `concurrent_posts` slots while it runs.
pub(crate) fn router(state: &Arc<AppState>) -> Router<Arc<AppState>> {
    if !state.settings.web.enabled {
        return Router::new();
    }
    let form_limit = state.settings.web.max_form_attachment_bytes
        + meldpunt_crypto::MAXIMUM_BODY_LENGTH
        + 64 * 1024;
    let uploads = Router::new()
        .route("/report", get(report_form).post(report::submit))
        .route("/ask", get(ask_form))
        .route("/check/follow-up", post(conversation::follow_up))
        .layer(DefaultBodyLimit::max(form_limit));
    let code_forms = Router::new()
        .route("/check", get(check_form).post(conversation::open))
        .route("/check/attachment", post(conversation::download))
        .route("/report/consultation", post(conversation::convert))
        .layer(DefaultBodyLimit::max(CODE_FORM_LIMIT));
    Router::new()
        .route("/", get(start))
        .merge(uploads)
        .merge(code_forms)
        .route("/static/meldpunt.css", get(stylesheet))
        .route("/static/meldpunt.js", get(script))
        .route("/static/meldpunt-stamp.js", get(stamp_worker))
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(state),
            one_of_few_posts,
        ))
}

/// Lets a form post run only while one of the `concurrent_posts` slots is free; otherwise
/// answers at once that the service is busy, before reading the body. The pages hold at most
/// a bounded amount each (a page of a conversation, one attachment), so this bounds the
/// memory that posts without JavaScript can take.
async fn one_of_few_posts(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    let Ok(_slot) = state.form_slots.try_acquire() else {
        let language = language(request.uri());
        let text = language.text();
        return page(
            StatusCode::SERVICE_UNAVAILABLE,
            pages::message(
                &frame(&state, language, "/"),
                text.error_summary,
                text.error_busy_unread,
            ),
        );
    };
    next.run(request).await
}

/// The language a request asks for with `?lang=en`.
pub(crate) fn language(uri: &Uri) -> Language {
    Language::from_code(
        uri.query()
            .and_then(|query| query.split('&').find_map(|pair| pair.strip_prefix("lang="))),
    )
}

/// The frame of a page at `path` in `language`.
pub(crate) fn frame<'a>(state: &'a AppState, language: Language, path: &'a str) -> Frame<'a> {
    Frame {
        language,
        path,
        directory_key: &state.settings.directory_key,
        directory_pin: state.settings.web.directory_pin(),
        max_script_attachment: state.settings.limits.max_attachment_bytes,
    }
}

/// An HTML page with its policy.
pub(crate) fn page(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_POLICY),
            ),
        ],
        markup.into_string(),
    )
        .into_response()
}

/// A page that says what went wrong, with the relay's own message for the error.
pub(crate) fn failure(state: &AppState, language: Language, error: &Error) -> Response {
    let text = language.text();
    let detail = format!("{} {error}", text.error_relay);
    page(
        error.status(),
        pages::message(
            &frame(state, language, "/"),
            text.error_summary,
            detail.as_str(),
        ),
    )
}

/// The page for paths that do not exist (outside the API).
pub(crate) fn not_found(state: &AppState, uri: &Uri) -> Response {
    let language = language(uri);
    let text = language.text();
    page(
        StatusCode::NOT_FOUND,
        pages::message(&frame(state, language, "/"), text.not_found, text.not_found),
    )
}

fn now() -> u64 {
    crate::clock::unix_seconds()
}

async fn start(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let language = language(&uri);
    page(
        StatusCode::OK,
        pages::start(&frame(&state, language, "/"), &state.directory().directory),
    )
}

async fn report_form(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    report::form_page(
        &state,
        language(&uri),
        StatusCode::OK,
        &report::Draft::default(),
        &FieldErrors::default(),
    )
}

async fn ask_form(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    report::form_page(
        &state,
        language(&uri),
        StatusCode::OK,
        &report::Draft {
            conversation: meldpunt_crypto::Conversation::Consultation,
            ..report::Draft::default()
        },
        &FieldErrors::default(),
    )
}

async fn check_form(State(state): State<Arc<AppState>>, uri: Uri) -> Response {
    let language = language(&uri);
    page(
        StatusCode::OK,
        pages::check_form(
            &frame(&state, language, "/check"),
            "",
            &FieldErrors::default(),
            &state.form_guard.issue(now()),
        ),
    )
}

async fn stylesheet() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        STYLESHEET,
    )
}

/// The stamp worker's script (small: served as it is).
async fn stamp_worker() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        STAMP_WORKER,
    )
        .into_response()
}

async fn script(headers: axum::http::HeaderMap) -> Response {
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accepted| {
            accepted
                .split(',')
                .any(|coding| coding.split(';').next().map(str::trim) == Some("gzip"))
        });
    let kind = (header::CONTENT_TYPE, "text/javascript; charset=utf-8");
    let vary = (header::VARY, "accept-encoding");
    if gzip {
        (
            [kind, vary, (header::CONTENT_ENCODING, "gzip")],
            SCRIPT_GZIP,
        )
            .into_response()
    } else {
        ([kind, vary], SCRIPT).into_response()
    }
}
