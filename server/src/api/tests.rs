//! In-process tests of the API's validation and error mapping: the router called with
//! `oneshot`, no socket, a real redb file in a temporary folder. What needs a process (the
//! listener's limits, TLS, a kill) stays in `tests/`.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt as _;
use meldpunt_wire::ErrorBody;
use tower::ServiceExt as _;

use crate::config::Settings;
use crate::provisioning::provision_dev;
use crate::state::AppState;

/// The relay's router over a fresh development setup.
fn relay() -> (tempfile::TempDir, Router) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let data = folder.path().to_owned();
    let setup = provision_dev(&data).expect("a development setup");
    let settings = Settings {
        data_dir: data.clone(),
        directory_file: data.join("directory.signed.json"),
        directory_key: setup.directory_key.to_string(),
        ..Settings::default()
    };
    let state = AppState::open(settings).expect("the relay's state");
    (folder, crate::router::router(state))
}

/// A well-formed mailbox token that opens no mailbox.
fn stranger() -> String {
    let token = meldpunt_crypto::ReceiptCode::generate().mailbox_token();
    format!("Bearer {}", token.to_wire().as_str())
}

async fn answer(router: &Router, request: Request<Body>) -> (StatusCode, ErrorBody) {
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        panic!("not the JSON error: {}", String::from_utf8_lossy(&bytes));
    });
    (status, body)
}

fn get(path: &str, authorization: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .expect("a request")
}

#[tokio::test]
async fn out_of_range_cursors_and_positions_are_refused_not_clamped() {
    let (_folder, router) = relay();
    let token = stranger();
    for path in [
        "/api/v1/mailbox/messages?limit=0",
        "/api/v1/mailbox/messages?limit=1001",
        "/api/v1/mailbox/messages?after=4294967296",
        "/api/v1/mailbox/messages?after=-1",
        "/api/v1/mailbox/messages?later=1",
        "/api/v1/mailbox/messages/0",
        "/api/v1/mailbox/messages/4294967296",
        "/api/v1/office/messages?limit=1001",
        "/api/v1/office/messages/0",
        "/api/v1/office/messages/18446744073709551616",
        "/api/v1/mailbox/attachments/0",
        "/api/v1/mailbox/attachments/AAAAAAAAAAAAAAAAAAAAAB",
    ] {
        let (status, body) = answer(&router, get(path, &token)).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::BAD_REQUEST, "bad-request"),
            "{path}"
        );
    }
    // In range, the same requests reach the mailbox, which this token does not open.
    for path in [
        "/api/v1/mailbox/messages?limit=1000&after=4294967295",
        "/api/v1/mailbox/messages/4294967295",
        "/api/v1/mailbox/attachments/AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let (status, _) = answer(&router, get(path, &token)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

#[tokio::test]
async fn credentials_content_types_and_methods_get_their_own_errors() {
    let (_folder, router) = relay();
    let (status, body) = answer(
        &router,
        Request::get("/api/v1/mailbox/messages")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNAUTHORIZED, "missing-credential")
    );
    let (status, body) = answer(&router, get("/api/v1/mailbox/messages", "Bearer short")).await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNAUTHORIZED, "malformed-credential")
    );
    let (status, body) = answer(
        &router,
        Request::post("/api/v1/mailbox/messages")
            .header(header::AUTHORIZATION, stranger())
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("plain text"))
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "wrong-content-type")
    );
    let (status, body) = answer(
        &router,
        Request::post("/api/v1/mailbox/messages")
            .header(header::AUTHORIZATION, stranger())
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from("not an age file"))
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, "not-sealed")
    );
    let response = router
        .clone()
        .oneshot(
            Request::builder()
                .method(Method::DELETE)
                .uri("/api/v1/mailbox/messages")
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("an answer");
    assert_eq!(response.headers()[header::ALLOW], "GET,HEAD,POST");
    let (status, body) = answer(
        &router,
        Request::builder()
            .method(Method::DELETE)
            .uri("/api/v1/mailbox/messages")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, "method-not-allowed")
    );
    let (status, body) = answer(&router, get("/api/v1/nothing-here", "")).await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::NOT_FOUND, "endpoint-not-found")
    );
}

#[tokio::test]
async fn office_requests_are_checked_before_any_work() {
    let (_folder, router) = relay();
    let challenge = |body: &'static str, content_type: &'static str| {
        Request::post("/api/v1/office/challenge")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .expect("a request")
    };
    for (body, content_type, status, code) in [
        (
            r#"{"organisation":"demo"}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            r#"{"organisation":"demo","recipient":"integrity-office","extra":1}"#,
            "application/json",
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
        (
            r#"{"organisation":"nowhere","recipient":"integrity-office"}"#,
            "application/json",
            StatusCode::NOT_FOUND,
            "unknown-organisation",
        ),
        (
            r#"{"organisation":"demo","recipient":"nobody"}"#,
            "application/json",
            StatusCode::NOT_FOUND,
            "unknown-recipient",
        ),
        (
            r#"{"organisation":"demo","recipient":"integrity-office"}"#,
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "wrong-content-type",
        ),
    ] {
        let (answered, error) = answer(&router, challenge(body, content_type)).await;
        assert_eq!((answered, error.error.as_str()), (status, code), "{body}");
    }
    let (status, body) = answer(
        &router,
        Request::post("/api/v1/office/session")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                r#"{"answer":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
            ))
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNAUTHORIZED, "challenge-failed")
    );
    let (status, body) = answer(&router, get("/api/v1/office/messages", &stranger())).await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::UNAUTHORIZED, "session-expired")
    );
}
