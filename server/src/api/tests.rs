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
use crate::provisioning::{provision_dev, DevSetup};
use crate::state::AppState;

/// The relay's router over a fresh development setup.
async fn relay() -> (tempfile::TempDir, Router) {
    let (folder, router, _) = relay_with(|_| {}).await;
    (folder, router)
}

/// The relay's router over a fresh development setup with `configure`d settings, and the
/// setup (for the office's public key).
async fn relay_with(
    configure: impl FnOnce(&mut Settings),
) -> (tempfile::TempDir, Router, DevSetup) {
    let folder = tempfile::tempdir().expect("a temporary folder");
    let data = folder.path().to_owned();
    let setup = provision_dev(&data).expect("a development setup");
    let mut settings = Settings {
        data_dir: data.clone(),
        directory_file: data.join("directory.signed.json"),
        directory_key: setup.directory_key.to_string(),
        ..Settings::default()
    };
    configure(&mut settings);
    let state = AppState::open(settings).await.expect("the relay's state");
    (folder, crate::router::router(state), setup)
}

/// Any answer: its status and its body as JSON (`null` if it has none).
async fn call(router: &Router, request: Request<Body>) -> (StatusCode, serde_json::Value) {
    let response = router.clone().oneshot(request).await.expect("an answer");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null),
    )
}

/// A stamp from `router`'s relay, solved for `mailbox`.
async fn stamp(router: &Router, mailbox: &meldpunt_crypto::MailboxId) -> String {
    let (status, offer) = call(
        router,
        Request::get("/api/v1/challenge")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let offer: meldpunt_wire::ChallengeOffer = serde_json::from_value(offer).expect("an offer");
    meldpunt_crypto::Challenge::from_wire(&offer.challenge.expect("stamps are required"))
        .expect("a challenge")
        .solve(mailbox, |_| true)
        .expect("solved")
        .to_wire()
}

/// A report to the demo office, sealed as a client would.
fn sealed_report(
    code: &meldpunt_crypto::ReceiptCode,
    office: &meldpunt_crypto::RecipientKey,
) -> Vec<u8> {
    meldpunt_crypto::Message::report(
        code,
        vec![meldpunt_crypto::RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }],
        meldpunt_crypto::Content::text("2026-11-30".parse().expect("a day"), "x"),
    )
    .seal(std::slice::from_ref(office))
    .expect("sealed")
    .into_bytes()
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
    let (_folder, router) = relay().await;
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
    let (_folder, router) = relay().await;
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
    let (_folder, router) = relay().await;
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
    for path in [
        "/api/v1/office/messages",
        "/api/v1/office/hand-overs",
        "/api/v1/office/hand-overs/1",
        "/api/v1/office/records",
        "/api/v1/office/records/1",
    ] {
        let (status, body) = answer(&router, get(path, &stranger())).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::UNAUTHORIZED, "session-expired"),
            "{path}"
        );
    }
    for what in ["hand-overs", "records"] {
        let (status, body) = answer(
            &router,
            Request::post(format!(
                "/api/v1/office/mailboxes/{}/{what}",
                meldpunt_crypto::ReceiptCode::generate()
                    .mailbox_token()
                    .mailbox_id()
                    .to_wire()
            ))
            .header(header::AUTHORIZATION, stranger())
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from("not sealed"))
            .expect("a request"),
        )
        .await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::UNAUTHORIZED, "session-expired"),
            "{what}"
        );
    }
}

#[tokio::test]
async fn bad_input_gets_its_own_error_and_changes_nothing() {
    let (_folder, router, setup) = relay_with(|settings| {
        settings.limits.max_message_bytes = 65_536;
        settings.limits.max_attachment_bytes = 1_000_000;
        settings.proof_of_work.base_difficulty = 6;
    })
    .await;
    let code = meldpunt_crypto::ReceiptCode::generate();
    let token = code.mailbox_token();
    let bearer = format!("Bearer {}", token.to_wire().as_str());
    let report = sealed_report(&code, &setup.office_recipient);
    let stamp_value = stamp(&router, &token.mailbox_id()).await;
    let create = |headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut request = Request::post("/api/v1/mailboxes");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        let request = request.body(Body::from(body)).expect("a request");
        let router = router.clone();
        async move { call(&router, request).await }
    };
    let good = || {
        vec![
            ("authorization", bearer.clone()),
            ("meldpunt-organisation", "demo".to_owned()),
            ("meldpunt-recipients", "integrity-office".to_owned()),
            ("content-type", "application/octet-stream".to_owned()),
            ("meldpunt-stamp", stamp_value.clone()),
        ]
    };
    let without = |name: &str| {
        good()
            .into_iter()
            .filter(|(header, _)| *header != name)
            .collect::<Vec<_>>()
    };
    let with = |name: &'static str, value: &str| {
        let mut headers = without(name);
        headers.push((name, value.to_owned()));
        headers
    };
    let cases = vec![
        (
            "missing-credential",
            create(without("authorization"), report.clone()).await,
        ),
        (
            "malformed-credential",
            create(with("authorization", "Bearer not!base64"), report.clone()).await,
        ),
        (
            "malformed-credential",
            create(with("authorization", "Basic abc"), report.clone()).await,
        ),
        (
            "bad-request",
            create(without("meldpunt-organisation"), report.clone()).await,
        ),
        (
            "unknown-organisation",
            create(with("meldpunt-organisation", "nowhere"), report.clone()).await,
        ),
        (
            "bad-request",
            create(without("meldpunt-recipients"), report.clone()).await,
        ),
        (
            "bad-request",
            create(with("meldpunt-recipients", ""), report.clone()).await,
        ),
        (
            "unknown-recipient",
            create(
                with("meldpunt-recipients", "integrity-office,nobody"),
                report.clone(),
            )
            .await,
        ),
        (
            "bad-request",
            create(
                with(
                    "meldpunt-recipients",
                    &vec!["integrity-office"; 17].join(","),
                ),
                report.clone(),
            )
            .await,
        ),
        (
            "stamp-missing",
            create(without("meldpunt-stamp"), report.clone()).await,
        ),
        (
            "stamp-invalid",
            create(with("meldpunt-stamp", "garbage"), report.clone()).await,
        ),
        (
            "wrong-content-type",
            create(with("content-type", "text/plain"), report.clone()).await,
        ),
        (
            "not-sealed",
            create(good(), b"a report in plain text".to_vec()).await,
        ),
        ("body-too-large", create(good(), vec![0u8; 70_000]).await),
    ];
    for (code, (status, body)) in &cases {
        assert_eq!(body["error"], *code, "status {status}: {body}");
        assert!(body["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()));
    }
    let statuses: Vec<u16> = cases
        .iter()
        .map(|(_, (status, _))| status.as_u16())
        .collect();
    assert_eq!(
        statuses,
        [401, 401, 401, 400, 404, 400, 400, 404, 400, 403, 403, 415, 422, 413]
    );
    // None of that created the mailbox: the good request still works, once.
    assert_eq!(create(good(), report.clone()).await.0, StatusCode::CREATED);
    let (status, body) = create(good(), report.clone()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::CONFLICT, Some("mailbox-exists"))
    );

    // A spent stamp is refused for a new mailbox: as work not done for this mailbox (403) or,
    // when the low difficulty (6 bits) lets the same nonce pass for it too (1 in 64), as
    // spent (409).
    let second = meldpunt_crypto::ReceiptCode::generate();
    let second_bearer = format!("Bearer {}", second.mailbox_token().to_wire().as_str());
    let mut headers = good();
    headers[0].1 = second_bearer.clone();
    let (status, body) = create(headers, sealed_report(&second, &setup.office_recipient)).await;
    assert!(
        [StatusCode::FORBIDDEN, StatusCode::CONFLICT].contains(&status),
        "{status}"
    );
    assert!(
        body["error"].as_str().unwrap().starts_with("stamp-"),
        "{body}"
    );
    // A stamp from another relay (another key) is refused.
    let (_elsewhere_folder, elsewhere, _) = relay_with(|settings| {
        settings.proof_of_work.base_difficulty = 6;
    })
    .await;
    let mut headers = with(
        "meldpunt-stamp",
        &stamp(&elsewhere, &second.mailbox_token().mailbox_id()).await,
    );
    headers[0].1 = second_bearer;
    let (_, body) = create(headers, sealed_report(&second, &setup.office_recipient)).await;
    assert_eq!(body["error"], "stamp-invalid");

    // Attachments: too large, not sealed, malformed id — and none is kept: the id stays free.
    let id = meldpunt_crypto::AttachmentId::from_bytes([1u8; 16]).to_wire();
    let upload = |id: &str, body: Vec<u8>| {
        Request::put(format!("/api/v1/mailbox/attachments/{id}"))
            .header(header::AUTHORIZATION, &bearer)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(Body::from(body))
            .expect("a request")
    };
    for (request, status, code) in [
        (
            upload(&id, vec![0u8; 1_100_000]),
            StatusCode::PAYLOAD_TOO_LARGE,
            "body-too-large",
        ),
        (
            upload(&id, b"plain attachment".to_vec()),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not-sealed",
        ),
        (
            upload("short", report.clone()),
            StatusCode::BAD_REQUEST,
            "bad-request",
        ),
    ] {
        let (answered, body) = call(&router, request).await;
        assert_eq!((answered, body["error"].as_str()), (status, Some(code)));
    }
    let (status, _) = call(&router, upload(&id, report.clone())).await;
    assert_eq!(status, StatusCode::CREATED);

    // Malformed query strings and path parameters get the JSON error, with what is expected.
    for (path, message) in [
        (
            "/api/v1/mailbox/messages?after=abc",
            "malformed query string: a cursor is ?after=N&limit=M with whole numbers, a challenge's purpose is office; /api/v1/openapi.json lists each endpoint's parameters",
        ),
        (
            "/api/v1/mailbox/messages/abc",
            "malformed path: a message number or position is a whole number from 1 (positions up to 4294967295)",
        ),
    ] {
        let (status, body) = call(&router, get(path, &bearer)).await;
        assert_eq!(
            (status, body),
            (
                StatusCode::BAD_REQUEST,
                serde_json::json!({"error": "bad-request", "message": message})
            ),
            "{path}"
        );
    }
    // Unknown paths (a client given the API path as its relay address, say) answer 404 with
    // the JSON error, which says where the API is.
    for path in ["/api/v1/nothing-here", "/api/v1/api/v1/directory"] {
        let (status, body) = answer(&router, get(path, "")).await;
        assert_eq!(
            (status, body.error.as_str()),
            (StatusCode::NOT_FOUND, "endpoint-not-found"),
            "{path}"
        );
        assert!(body.message.contains("base address"), "{}", body.message);
    }
}

#[tokio::test]
async fn a_request_that_takes_too_long_gets_the_json_error() {
    let (_folder, router, _) = relay_with(|settings| {
        settings.limits.request_timeout_seconds = 1;
    })
    .await;
    // A follow-up whose body never comes.
    let never = Body::from_stream(futures_util::stream::pending::<
        Result<bytes::Bytes, std::io::Error>,
    >());
    let (status, body) = answer(
        &router,
        Request::post("/api/v1/mailbox/messages")
            .header(header::AUTHORIZATION, stranger())
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(never)
            .expect("a request"),
    )
    .await;
    assert_eq!(
        (status, body.error.as_str()),
        (StatusCode::REQUEST_TIMEOUT, "request-timeout")
    );
}
