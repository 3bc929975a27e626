//! Operator plumbing: the TLS acceptor, and the admin socket through which
//! `meldpunt-server backup` asks a running relay for a consistent copy of its database and
//! `meldpunt-server metrics` reads its counters.
//!
//! The admin socket is a Unix socket in the data folder, readable and writable by the
//! relay's own user only; it is never exposed on the network. Metrics live only here: on
//! the public listener, counters polled every few seconds would tell anyone when a report
//! was just made, and how large it was.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::json;

use crate::config::TlsSettings;
use crate::error::Error;
use crate::state::AppState;
use crate::storage::{BackupCounts, Store};

/// A TLS acceptor from the configured PEM files (rustls, ring provider).
pub fn tls_acceptor(settings: &TlsSettings) -> std::io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: &Path, error: String| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {error}", what.display()),
        )
    };
    let chain = CertificateDer::pem_file_iter(&settings.certificate_chain)
        .map_err(|error| invalid(&settings.certificate_chain, error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| invalid(&settings.certificate_chain, error.to_string()))?;
    let key = PrivateKeyDer::from_pem_file(&settings.private_key)
        .map_err(|error| invalid(&settings.private_key, error.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| invalid(&settings.certificate_chain, error.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|error| invalid(&settings.private_key, error.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Path of the admin socket in a data folder.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join("admin.sock")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BackupRequest {
    to: PathBuf,
}

fn counts_json(counts: BackupCounts) -> serde_json::Value {
    json!({ "mailboxes": counts.mailboxes, "messages": counts.messages, "attachment_chunks": counts.chunks })
}

async fn backup(
    State(state): State<Arc<AppState>>,
    Json(request): Json<BackupRequest>,
) -> Result<Json<serde_json::Value>, Error> {
    let counts = state.store.backup(request.to).await?;
    Ok(Json(counts_json(counts)))
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let stored = state.store.counts().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(state.difficulty.current(), stored),
    )
}

/// Serves the admin socket until the process ends.
#[cfg(unix)]
pub async fn serve_admin(state: Arc<AppState>) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let path = socket_path(&state.settings.data_dir);
    let _ = std::fs::remove_file(&path);
    let listener = tokio::net::UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let app = Router::new()
        .route("/backup", post(backup))
        .route("/metrics", get(metrics))
        .with_state(state);
    axum::serve(listener, app).await
}

/// Sends one request over the admin socket of the relay running on `data_dir`: the status
/// and body, or `None` if no relay listens there.
#[cfg(unix)]
async fn admin_request(
    data_dir: &Path,
    request: hyper::Request<http_body_util::Full<bytes::Bytes>>,
) -> Result<Option<(hyper::StatusCode, bytes::Bytes)>, String> {
    let Ok(stream) = tokio::net::UnixStream::connect(socket_path(data_dir)).await else {
        return Ok(None);
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("the relay's admin socket did not answer: {error}"))?;
    tokio::spawn(connection);
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| format!("the relay's admin socket failed: {error}"))?;
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .map_err(|error| error.to_string())?
        .to_bytes();
    Ok(Some((status, bytes)))
}

/// The metrics of the relay running on `data_dir` (Prometheus text format).
pub async fn request_metrics(data_dir: &Path) -> Result<String, String> {
    #[cfg(unix)]
    {
        let request = hyper::Request::get("/metrics")
            .header("host", "admin")
            .body(http_body_util::Full::new(bytes::Bytes::new()))
            .expect("valid request");
        match admin_request(data_dir, request).await? {
            Some((status, bytes)) if status.is_success() => {
                Ok(String::from_utf8_lossy(&bytes).into_owned())
            }
            Some((status, _)) => Err(format!("the relay's admin socket answered {status}")),
            None => Err(format!(
                "no relay is running on {} (its admin socket {} does not answer)",
                data_dir.display(),
                socket_path(data_dir).display()
            )),
        }
    }
    #[cfg(not(unix))]
    Err(format!(
        "metrics are served on the admin socket, which needs Unix ({})",
        data_dir.display()
    ))
}

/// Asks the relay running on `data_dir` for a backup; if none is running, copies the
/// database directly. Returns what was copied, as JSON.
pub async fn request_backup(data_dir: &Path, target: &Path) -> Result<serde_json::Value, String> {
    let target = std::path::absolute(target).map_err(|error| error.to_string())?;
    #[cfg(unix)]
    {
        let body = serde_json::to_vec(&json!({ "to": target })).expect("serialisable");
        let request = hyper::Request::post("/backup")
            .header("host", "admin")
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(body)))
            .expect("valid request");
        if let Some((status, bytes)) = admin_request(data_dir, request).await? {
            let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            return if status.is_success() {
                Ok(answer)
            } else {
                Err(answer["message"]
                    .as_str()
                    .unwrap_or("the backup failed")
                    .to_owned())
            };
        }
    }
    let store = Store::open(&data_dir.join("meldpunt.redb")).map_err(|error| error.to_string())?;
    store
        .backup(target)
        .await
        .map(counts_json)
        .map_err(|error| error.to_string())
}
