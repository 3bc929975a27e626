//! Accepting connections: HTTP/1.1 with a header-read timeout (slowloris), a write-stall
//! timeout (slow readers), a cap on header size and on open connections, graceful shutdown,
//! and the retention task.
//!
//! The peer address that `accept` returns is dropped on the spot: nothing after this point
//! could log or store it even by mistake.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::circuit::Circuit;
use crate::state::AppState;

/// Largest request head (request line and headers) accepted, bytes.
pub const MAXIMUM_HEADER_BYTES: usize = 16 * 1024;
/// How often retention runs.
const RETENTION_INTERVAL: Duration = Duration::from_secs(3600);

/// Serves the API on `listener` until `shutdown` completes, then lets open requests finish
/// (for at most 10 seconds).
pub async fn launch(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let app = crate::router::router(Arc::clone(&state));
    let connections = Arc::new(Semaphore::new(state.settings.limits.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = Duration::from_secs(state.settings.limits.header_timeout_seconds);
    let write_stall = Duration::from_secs(state.settings.limits.write_stall_seconds);
    let retention = tokio::spawn(retention_loop(Arc::clone(&state)));
    let expiry = tokio::spawn(expiry_loop(Arc::clone(&state)));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&connections).acquire_owned() => permit.expect("never closed"),
            () = &mut shutdown => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _address_dropped_unread)) => stream,
                Err(error) => {
                    tracing::warn!(error = %error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // A client that stops reading our answer is cut off after the stall limit.
        let mut stream = tokio_io_timeout::TimeoutStream::new(stream);
        stream.set_write_timeout(Some(write_stall));
        let mut stream = Box::pin(stream);
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_timeout)
            .max_buf_size(MAXIMUM_HEADER_BYTES.max(8192));
        let app = app.clone();
        let acceptor = state.tls_acceptor();
        let watcher = graceful.watcher();
        let tor_circuit_ids = state.settings.tor_circuit_ids;
        tokio::spawn(async move {
            // Tor's circuit line comes first, before TLS if any; without it, nothing more is
            // read.
            let circuit = if tor_circuit_ids {
                match tokio::time::timeout(header_timeout, Circuit::read_from(&mut stream)).await {
                    Ok(Some(circuit)) => Some(circuit),
                    _ => return drop(permit),
                }
            } else {
                None
            };
            let service = TowerToHyperService::new(tower::util::MapRequest::new(
                app,
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    if let Some(circuit) = circuit {
                        request.extensions_mut().insert(circuit);
                    }
                    request
                },
            ));
            match acceptor {
                None => {
                    let connection =
                        watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                    let _ = connection.await;
                }
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(header_timeout, acceptor.accept(stream)).await;
                    if let Ok(Ok(stream)) = handshake {
                        let connection =
                            watcher.watch(builder.serve_connection(TokioIo::new(stream), service));
                        let _ = connection.await;
                    }
                }
            }
            drop(permit);
        });
    }
    drop(listener);
    retention.abort();
    expiry.abort();
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(Duration::from_secs(10)) => {
            tracing::warn!("some connections did not finish within 10 seconds of shutdown");
        }
    }
    Ok(())
}

/// Days before the served directory expires from which the relay warns, once a day.
pub const DIRECTORY_WARNING_DAYS: i64 = 30;

/// Warns, at start and then once a day, from [`DIRECTORY_WARNING_DAYS`] before the served
/// directory expires: clients refuse an expired one, so reporters could no longer report.
async fn expiry_loop(state: Arc<AppState>) {
    let mut interval = tokio::time::interval(RETENTION_INTERVAL);
    let mut warned_on = None;
    loop {
        interval.tick().await;
        let today = crate::clock::today();
        let served = state.directory();
        let days_left = served.days_left(today);
        if days_left <= DIRECTORY_WARNING_DAYS && warned_on != Some(today) {
            warned_on = Some(today);
            tracing::warn!(
                days_left,
                expires_on = %served.directory.expires_on,
                "the served directory expires soon: sign a new version (meldpunt directory sign) and reload the relay (SIGHUP, systemctl reload meldpunt)"
            );
        }
    }
}

async fn retention_loop(state: Arc<AppState>) {
    let mut interval = tokio::time::interval(RETENTION_INTERVAL);
    loop {
        interval.tick().await;
        match state.store.purge(state.settings.retention_days).await {
            Ok(counts) => {
                if counts.mailboxes > 0 {
                    state
                        .metrics
                        .mailboxes_expired
                        .fetch_add(counts.mailboxes, std::sync::atomic::Ordering::Relaxed);
                }
                tracing::info!(
                    mailboxes = counts.mailboxes,
                    messages = counts.messages,
                    attachments = counts.attachments,
                    hand_overs = counts.hand_overs,
                    case_records = counts.case_records,
                    expired_credentials = counts.expired_grants,
                    "retention ran"
                );
            }
            Err(error) => tracing::error!(error = %error, "retention failed"),
        }
    }
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
