//! Any body posted to the relay's JSON endpoints, the web form's multipart posts or its
//! receipt-code form gets an answer below 500 — a clear refusal, never a crash — and
//! stores nothing.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/relay_requests.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::Request;
use meldpunt_server::{provisioning, AppState, Settings};
use tower::ServiceExt;

struct Relay {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _folder: tempfile::TempDir,
}

fn relay() -> &'static Relay {
    static RELAY: OnceLock<Relay> = OnceLock::new();
    RELAY.get_or_init(|| {
        let folder = tempfile::tempdir().unwrap();
        let setup = provisioning::provision_dev(folder.path()).unwrap();
        let mut settings = Settings {
            data_dir: folder.path().to_owned(),
            directory_file: folder.path().join("directory.signed.json"),
            directory_key: setup.directory_key.to_string(),
            ..Settings::default()
        };
        settings.web.minimum_form_seconds = 0;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let state: Arc<AppState> =
            runtime.block_on(async { AppState::open(settings).await.unwrap() });
        Relay {
            router: meldpunt_server::internal::router(state),
            runtime,
            _folder: folder,
        }
    })
}

const BOUNDARY: &str = "meldpuntfuzzboundary";

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    let Some((&choice, body)) = bytes.split_first() else {
        return;
    };
    let (path, content_type) = match choice % 5 {
        0 => ("/api/v1/office/challenge", "application/json".to_owned()),
        1 => ("/api/v1/office/session", "application/json".to_owned()),
        2 => (
            "/report",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ),
        3 => (
            "/check/follow-up",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        ),
        _ => ("/check", "application/x-www-form-urlencoded".to_owned()),
    };
    let relay = relay();
    let request = Request::post(path)
        .header("content-type", content_type)
        .body(Body::from(body.to_vec()))
        .unwrap();
    let status = relay
        .runtime
        .block_on(relay.router.clone().oneshot(request))
        .unwrap()
        .status();
    assert!(status.as_u16() < 500, "{path} answered {status}");
    assert!(status.as_u16() != 201, "{path} stored something");
}
