//! Operator plumbing: the TLS acceptor, and the admin socket through which
//! `meldpunt-server backup` asks a running relay for a consistent copy of its database and
//! `meldpunt-server metrics` reads its counters.
//!
//! A backup travels through the socket: the relay writes the snapshot into its own data
//! folder, streams it, and deletes it; the command writes it where its user chose, as that
//! user. The relay never writes outside its data folder (the shipped unit confines it).
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
use axum::routing::get;
use axum::Router;
use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
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

fn counts_json(counts: BackupCounts) -> serde_json::Value {
    json!({ "mailboxes": counts.mailboxes, "messages": counts.messages, "attachment_chunks": counts.chunks })
}

/// The header that carries a streamed backup's counts (JSON).
const COUNTS_HEADER: &str = "meldpunt-backup-counts";

/// A snapshot being streamed out of the data folder, deleted when the stream ends (sent,
/// failed or dropped).
struct Snapshot(PathBuf);

impl Drop for Snapshot {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `GET /backup`: a consistent snapshot of the database, streamed; its counts in a header.
async fn backup(State(state): State<Arc<AppState>>) -> Result<axum::response::Response, Error> {
    let mut name = [0u8; 8];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut name);
    let path = state.settings.data_dir.join(format!(
        ".backup-{}.redb",
        name.iter()
            .map(|byte| format!("{byte:02x}"))
            .collect::<String>()
    ));
    let snapshot = Snapshot(path.clone());
    let counts = state.store.backup(path.clone()).await?;
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(|error| Error::Storage(format!("cannot read the snapshot: {error}")))?;
    let stream =
        futures_util::StreamExt::map(tokio_util::io::ReaderStream::new(file), move |chunk| {
            // Held until the last chunk is sent: then the snapshot is deleted.
            let _held = &snapshot;
            chunk
        });
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::HeaderName::from_static(COUNTS_HEADER),
                counts_json(counts).to_string(),
            ),
        ],
        axum::body::Body::from_stream(stream),
    )
        .into_response())
}

async fn metrics(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let stored = state.store.counts().await.ok();
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(
            state.difficulty.current(),
            stored,
            state.directory().days_left(crate::clock::today()),
        ),
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
        .route("/backup", get(backup))
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

/// Writes a backup of the relay's database on `data_dir` to `target`, a new file (0600)
/// created by this process — the invoking user, where they chose: streamed from the running
/// relay through its admin socket, or, if none runs, copied from the database directly.
/// Returns what was copied, as JSON. A failed backup leaves no file behind.
pub async fn request_backup(data_dir: &Path, target: &Path) -> Result<serde_json::Value, String> {
    let target = std::path::absolute(target).map_err(|error| error.to_string())?;
    let database = data_dir.join("meldpunt.redb");
    match std::fs::metadata(&database) {
        Ok(metadata) if metadata.is_file() => {}
        Err(error) if error.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(format!(
                "cannot reach {}: permission denied (run the backup as the relay's user)",
                database.display()
            ))
        }
        // A running relay whose store is elsewhere (PostgreSQL) answers for itself.
        _ if socket_path(data_dir).exists() => {}
        _ => {
            return Err(format!(
            "{} holds no relay database (meldpunt.redb): give the relay's data folder with --data",
            data_dir.display()
        ))
        }
    }
    #[cfg(unix)]
    match tokio::net::UnixStream::connect(socket_path(data_dir)).await {
        Ok(stream) => {
            let file = crate::files::create_backup_file(&target)?;
            let result = stream_backup(stream, file).await;
            if result.is_err() {
                let _ = std::fs::remove_file(&target);
            }
            return result
                .map_err(|error| format!("the backup to {} failed: {error}", target.display()));
        }
        // No relay runs there (a socket left by one that stopped is refused): copied
        // directly below.
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
            ) => {}
        Err(error) => {
            return Err(format!(
            "cannot open the relay's admin socket {}: {error} (run the backup as the relay's user)",
            socket_path(data_dir).display()
        ))
        }
    }
    let store = Store::open(&database).map_err(|error| error.to_string())?;
    store
        .backup(target.clone())
        .await
        .map(counts_json)
        .map_err(|error| {
            // Created by this backup (a refused target was never created): not left half-written.
            if !matches!(error, crate::storage::StoreError::BackupRefused(_)) {
                let _ = std::fs::remove_file(&target);
            }
            error.to_string()
        })
}

/// Receives a streamed snapshot over the admin socket into `file`, synced.
#[cfg(unix)]
async fn stream_backup(
    stream: tokio::net::UnixStream,
    file: std::fs::File,
) -> Result<serde_json::Value, String> {
    use tokio::io::AsyncWriteExt as _;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("the relay's admin socket did not answer: {error}"))?;
    tokio::spawn(connection);
    let request = hyper::Request::get("/backup")
        .header("host", "admin")
        .body(http_body_util::Full::new(bytes::Bytes::new()))
        .expect("valid request");
    let response = sender
        .send_request(request)
        .await
        .map_err(|error| format!("the relay's admin socket failed: {error}"))?;
    let status = response.status();
    let counts = response
        .headers()
        .get(COUNTS_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok());
    let mut body = response.into_body();
    if !status.is_success() {
        let bytes = body
            .collect()
            .await
            .map_err(|error| error.to_string())?
            .to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        return Err(answer["message"]
            .as_str()
            .unwrap_or("the relay refused")
            .to_owned());
    }
    let mut file = tokio::fs::File::from_std(file);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| format!("the stream broke off: {error}"))?;
        if let Some(data) = frame.data_ref() {
            file.write_all(data)
                .await
                .map_err(|error| error.to_string())?;
        }
    }
    file.sync_all().await.map_err(|error| error.to_string())?;
    counts.ok_or_else(|| "the relay sent no counts with the backup".to_owned())
}
