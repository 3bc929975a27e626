//! End-to-end tests of the relay's limits: slow and oversize requests, per-session rate
//! limits, TLS, the loopback rule for plain HTTP, and a full disk.

use std::time::Duration;

use meldpunt_end_to_end::{binary, client, office_session, Relay, RelayOptions, Reporter};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn read_all(stream: &mut tokio::net::TcpStream, limit: Duration) -> Vec<u8> {
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    answer
}

#[tokio::test]
async fn slow_headers_are_cut_off_and_huge_headers_refused() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[limits]\nheader_timeout_seconds = 1\n".into(),
        ..RelayOptions::default()
    });
    let address = relay.url.trim_start_matches("http://").to_owned();

    // Slowloris: half a request head, then silence. The relay hangs up after the timeout.
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: relay\r\n")
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let answer = read_all(&mut slow, Duration::from_secs(15)).await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the slow client was not cut off"
    );
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );

    // A 64 KiB header is refused without being processed.
    let mut huge = tokio::net::TcpStream::connect(&address).await.unwrap();
    let head = format!(
        "GET /api/v1/health HTTP/1.1\r\nHost: relay\r\nX-Padding: {}\r\n\r\n",
        "a".repeat(64 * 1024)
    );
    let _ = huge.write_all(head.as_bytes()).await;
    let answer = read_all(&mut huge, Duration::from_secs(10)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || text.starts_with("HTTP/1.1 431"),
        "{text}"
    );

    // The relay still serves everyone else.
    assert_eq!(
        client()
            .get(format!("{}/api/v1/health", relay.url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

#[tokio::test]
async fn an_office_session_is_rate_limited() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[limits]\noffice_requests_per_minute = 3\n".into(),
        ..RelayOptions::default()
    });
    let session = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let response = client()
            .get(format!("{}/api/v1/office/messages", relay.url))
            .header("authorization", &session)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 429, 429]);
    // Another session of the same office has its own budget.
    let second = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let response = client()
        .get(format!("{}/api/v1/office/messages", relay.url))
        .header("authorization", &second)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
}

#[test]
fn plain_http_on_a_public_address_is_refused_at_start() {
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("meldpunt.toml");
    std::fs::write(&config, "listen = \"0.0.0.0:0\"\ndirectory_key = \"x\"\n").unwrap();
    let output = std::process::Command::new(binary("meldpunt-server", "meldpunt-server"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("loopback"), "{message}");
}

#[tokio::test]
async fn the_relay_serves_tls_with_strict_transport_security() {
    let folder = tempfile::tempdir().unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let chain = folder.path().join("chain.pem");
    let key = folder.path().join("key.pem");
    std::fs::write(&chain, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.key_pair.serialize_pem()).unwrap();
    let relay = Relay::start(RelayOptions {
        extra_config: format!(
            "[tls]\ncertificate_chain = \"{}\"\nprivate_key = \"{}\"\n",
            chain.display(),
            key.display()
        ),
        ..RelayOptions::default()
    });
    let address = relay.url.trim_start_matches("http://").to_owned();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = tokio::net::TcpStream::connect(&address).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    tls.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer).to_lowercase();
    assert!(text.starts_with("http/1.1 200"), "{text}");
    assert!(
        text.contains("strict-transport-security: max-age="),
        "{text}"
    );

    // Plain HTTP to the TLS port gets nothing useful.
    let plain = client()
        .get(format!("http://{address}/api/v1/health"))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
}

/// Mounts a small tmpfs as the relay's data folder, fills it, and checks that the relay says
/// "storage full", stores nothing half-way, and that everything acknowledged survives.
#[tokio::test]
async fn a_full_disk_is_reported_and_loses_nothing_acknowledged() {
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|output| output.stdout == b"0\n")
        .unwrap_or(false);
    if !is_root {
        eprintln!("skipped: mounting a small tmpfs needs root (CI runs as root)");
        return;
    }
    let mount_point = tempfile::tempdir().unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(mount_point.path())
        .status()
        .unwrap();
    assert!(mounted.success(), "mounting a tmpfs failed");
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(mount_point.path().to_owned());
    let data = mount_point.path().join("data");
    let relay = Relay::start(RelayOptions {
        data_dir: Some(data),
        difficulty: 0,
        ..RelayOptions::default()
    });
    let mut acknowledged = Vec::new();
    let mut full = None;
    for index in 0..2000 {
        let reporter = Reporter::new();
        let sealed = reporter.sealed_report(&relay, &format!("{index} {}", "x".repeat(60_000)));
        let response = reporter.create(&relay, "demo", sealed).await;
        match response.status().as_u16() {
            201 => acknowledged.push(reporter),
            507 => {
                let body: serde_json::Value = response.json().await.unwrap();
                full = Some((reporter, body));
                break;
            }
            other => panic!(
                "unexpected status {other}: {}\nthe relay's log:\n{}",
                response.text().await.unwrap(),
                relay.log_text()
            ),
        }
    }
    let (refused, body) = full.expect("the disk never filled up");
    assert_eq!(body["error"], "storage-full");
    assert!(acknowledged.len() > 5);
    // Make room and restart: everything acknowledged is there, the refused one is not.
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(mount_point.path())
        .status()
        .unwrap();
    assert!(remounted.success());
    let relay = relay.restart();
    for reporter in &acknowledged {
        let response = client()
            .get(format!("{}/api/v1/mailbox/messages/1", relay.url))
            .header("authorization", reporter.bearer())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
    let response = client()
        .get(format!("{}/api/v1/mailbox/messages", relay.url))
        .header("authorization", refused.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status().as_u16(),
        404,
        "the refused report was stored after all"
    );
}

#[tokio::test]
async fn connections_beyond_the_limit_wait_for_a_free_slot() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[limits]\nmax_connections = 2\nheader_timeout_seconds = 30\n".into(),
        ..RelayOptions::default()
    });
    let address = relay.url.trim_start_matches("http://").to_owned();
    // Two idle connections take both slots.
    let first = tokio::net::TcpStream::connect(&address).await.unwrap();
    let _second = tokio::net::TcpStream::connect(&address).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    // A third connection is not served while they hold them.
    let mut third = tokio::net::TcpStream::connect(&address).await.unwrap();
    third
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), third.read(&mut buffer)).await;
    assert!(early.is_err(), "a connection beyond the limit was served");
    // When one slot frees up, the waiting connection is served.
    drop(first);
    let answer = read_all(&mut third, Duration::from_secs(30)).await;
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}

/// The example configuration, as `meldpunt-server example-config` prints it: as shipped it
/// says which required value is missing; with its two required values filled in it starts.
#[test]
fn the_example_configuration_starts_once_its_two_required_values_are_filled_in() {
    let server = meldpunt_end_to_end::binary("meldpunt-server", "meldpunt-server");
    let example = std::process::Command::new(&server)
        .arg("example-config")
        .output()
        .unwrap();
    let example = String::from_utf8(example.stdout).unwrap();
    let folder = tempfile::tempdir().unwrap();
    let directory = meldpunt_end_to_end::TestDirectory::new();
    let directory_file = folder.path().join("directory.signed.json");
    std::fs::write(&directory_file, directory.signed()).unwrap();
    let start = |config: &str| {
        let path = folder.path().join("meldpunt.toml");
        std::fs::write(&path, config).unwrap();
        std::process::Command::new(&server)
            .args(["serve", "--config"])
            .arg(&path)
            .env("MELDPUNT_DATA_DIR", folder.path().join("data"))
            .env("MELDPUNT_LISTEN", "127.0.0.1:0")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    // As shipped: refused, saying what to fill in; nothing was created.
    let shipped = start(&example).wait_with_output().unwrap();
    assert!(!shipped.status.success());
    let message = String::from_utf8_lossy(&shipped.stderr);
    assert!(message.contains("directory_key is empty"), "{message}");
    assert!(!folder.path().join("data").exists());
    // Filled in: it listens.
    let filled = example
        .replace(
            "directory_file = \"/etc/meldpunt/directory.signed.json\"",
            &format!("directory_file = \"{}\"", directory_file.display()),
        )
        .replace(
            "directory_key = \"\"",
            &format!(
                "directory_key = \"{}\"",
                directory.signing_key.directory_key()
            ),
        );
    assert_ne!(filled, example);
    let mut relay = start(&filled);
    let mut log = std::io::BufReader::new(relay.stderr.take().unwrap());
    let mut listening = false;
    for _ in 0..50 {
        let mut line = String::new();
        if std::io::BufRead::read_line(&mut log, &mut line).unwrap_or(0) == 0 {
            break;
        }
        if line.contains("relay listening") {
            listening = true;
            break;
        }
    }
    let _ = relay.kill();
    let _ = relay.wait();
    assert!(
        listening,
        "the filled-in example configuration did not start"
    );
}
