//! Several relay processes on one PostgreSQL database, as several hosts behind one onion
//! service (docs/operations.md): any relay serves any request, nothing one relay issued is
//! refused or spent twice by another, a relay killed under load loses nothing it
//! acknowledged, and a database restart under load is reported clearly and survived without
//! restarting the relays.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use meldpunt_crypto::{ChallengeAnswer, Message};
use meldpunt_end_to_end::{
    client, form_token, office_session, Backend, PostgresCluster, Relay, RelayOptions, Reporter,
    TestDatabase,
};
use serde_json::Value;

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn ask_challenge(relay: &Relay, stamp: Option<&str>) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}/api/v1/office/challenge", relay.url))
        .json(&serde_json::json!({ "organisation": "demo", "recipient": "integrity-office" }));
    if let Some(stamp) = stamp {
        request = request.header("meldpunt-stamp", stamp);
    }
    json(request.send().await.unwrap()).await
}

/// One report posted to the relay at `url`, with a stamp from the relay at `stamp_url`: its
/// status (0 when the connection failed).
async fn submit(url: &str, stamp_url: &str, reporter: &Reporter, sealed: Vec<u8>) -> u16 {
    submit_answered(url, stamp_url, reporter, sealed).await.0
}

/// One report posted as [`submit`] does: the status and the answer's JSON.
async fn submit_answered(
    url: &str,
    stamp_url: &str,
    reporter: &Reporter,
    sealed: Vec<u8>,
) -> (u16, Value) {
    let failed = (0, Value::Null);
    let Ok(response) = client()
        .get(format!("{stamp_url}/api/v1/challenge"))
        .send()
        .await
    else {
        return failed;
    };
    let Ok(offer) = response.json::<Value>().await else {
        return failed;
    };
    let Some(challenge) = offer["challenge"].as_str() else {
        return failed;
    };
    let stamp = meldpunt_crypto::Challenge::from_wire(challenge)
        .unwrap()
        .solve(&reporter.token().mailbox_id(), |_| true)
        .unwrap();
    match client()
        .post(format!("{url}/api/v1/mailboxes"))
        .header("authorization", reporter.bearer())
        .header("meldpunt-organisation", "demo")
        .header("meldpunt-recipients", "integrity-office")
        .header("meldpunt-stamp", stamp.to_wire())
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
    {
        Ok(response) => json(response).await,
        Err(_) => failed,
    }
}

/// The reporter reads its report back through `relay`, and the office key opens it.
async fn read_back(relay: &Relay, reporter: &Reporter) {
    let response = relay
        .get("/api/v1/mailbox/messages/1", &reporter.bearer())
        .await;
    assert_eq!(
        response.status().as_u16(),
        200,
        "an acknowledged report is missing"
    );
    let sealed = response.bytes().await.unwrap();
    assert!(Message::open(std::slice::from_ref(&relay.directory.demo_office), &sealed).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_relay_on_the_database_serves_what_another_issued_and_spends_nothing_twice() {
    let a = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        extra_config:
            "[limits]\noffice_challenges_per_minute = 1\n[web]\nminimum_form_seconds = 0\n".into(),
        ..RelayOptions::default()
    });
    let b = a.beside();
    assert_ne!(a.url, b.url);

    // A report made through A (with A's proof-of-work challenge) is read through B, by the
    // reporter and by the office.
    let reporter = Reporter::new();
    let sealed = reporter.sealed_report(&a, "made through relay A");
    assert_eq!(submit(&a.url, &a.url, &reporter, sealed).await, 201);
    read_back(&b, &reporter).await;
    // A's challenge is accepted by B: the proof-of-work key is the database's.
    let second = Reporter::new();
    let sealed = second.sealed_report(&a, "stamp from A, posted to B");
    assert_eq!(submit(&b.url, &a.url, &second, sealed).await, 201);
    // The same mailbox again, on the other relay: refused, nothing changed.
    let sealed = second.sealed_report(&a, "again");
    assert_eq!(submit(&a.url, &b.url, &second, sealed).await, 409);

    // An office session made through A works on B; a challenge A issued is answered on B,
    // once.
    let session = office_session(&a, "demo", &a.directory.demo_office).await;
    let (status, listed) = json(b.get("/api/v1/office/messages", &session).await).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["messages"].as_array().unwrap().len(), 2, "{listed}");
    let (status, challenge) = ask_challenge(&a, None).await;
    // A's one free challenge a minute went to the session above: this one is refused on A,
    // and B has its own free rate.
    assert_eq!(status, 429, "{challenge}");
    let (status, challenge) = ask_challenge(&b, None).await;
    assert_eq!(status, 200, "{challenge}");
    let sealed = STANDARD
        .decode(challenge["sealed_challenge"].as_str().unwrap())
        .unwrap();
    let answer =
        ChallengeAnswer::open(std::slice::from_ref(&a.directory.demo_office), &sealed).unwrap();
    let trade = |relay: &Relay| {
        client()
            .post(format!("{}/api/v1/office/session", relay.url))
            .json(&serde_json::json!({ "answer": answer.to_wire().as_str() }))
            .send()
    };
    let (status, body) = json(trade(&a).await.unwrap()).await;
    assert_eq!(
        (status, body["organisation"].as_str()),
        (200, Some("demo")),
        "{body}"
    );
    let (status, body) = json(trade(&b).await.unwrap()).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("challenge-failed"))
    );

    // A stamp paid on A is spent on B too.
    let stamp = a
        .office_login_challenge()
        .await
        .unwrap()
        .solve(&meldpunt_crypto::office_stamp_subject("demo"), |_| true)
        .unwrap()
        .to_wire();
    let (status, body) = ask_challenge(&a, Some(&stamp)).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = ask_challenge(&b, Some(&stamp)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (409, Some("stamp-spent")),
        "{body}"
    );

    // A form served by A is accepted by B (the form-token key is the database's).
    let page = client()
        .get(format!("{}/report", a.url))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let form = reqwest::multipart::Form::new()
        .text("form_token", form_token(&page))
        .text("organisation", "demo")
        .text("recipient", "demo/integrity-office")
        .text(
            "body",
            "a report without JavaScript, form from A, posted to B",
        );
    let response = client()
        .post(format!("{}/report", b.url))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert_eq!(status, 201, "{}", response.text().await.unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_killed_under_load_loses_nothing_it_acknowledged() {
    let a = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        difficulty: 0,
        ..RelayOptions::default()
    });
    let b = a.beside();
    let counted = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..16 {
        let url = a.url.clone();
        let counted = Arc::clone(&counted);
        let sealed_for = {
            let office = a.directory.demo_office.recipient();
            move |reporter: &Reporter| {
                Message::report(
                    &reporter.code,
                    vec![meldpunt_crypto::RecipientAddress {
                        organisation: "demo".into(),
                        recipient: "integrity-office".into(),
                    }],
                    meldpunt_crypto::Content::text(
                        meldpunt_crypto::Day::from_calendar_date(2026, 12, 3).unwrap(),
                        format!("report from worker {worker}"),
                    ),
                )
                .seal(std::slice::from_ref(&office))
                .unwrap()
                .into_bytes()
            }
        };
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..200 {
                let reporter = Reporter::new();
                match submit(&url, &url, &reporter, sealed_for(&reporter)).await {
                    201 => {
                        acknowledged.push(reporter);
                        counted.fetch_add(1, Ordering::SeqCst);
                    }
                    0 => break,
                    _ => {}
                }
            }
            acknowledged
        }));
    }
    // An office follows the new messages through B while A stores them, by cursor: numbers
    // are given in commit order, so it never passes one that commits later.
    let session = office_session(&b, "demo", &b.directory.demo_office).await;
    let reading = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let reader = {
        let (url, session, reading) = (b.url.clone(), session.clone(), Arc::clone(&reading));
        tokio::spawn(async move {
            let mut seen = Vec::new();
            let mut cursor = 0u64;
            loop {
                let last = !reading.load(Ordering::SeqCst);
                let response = client()
                    .get(format!("{url}/api/v1/office/messages?after={cursor}"))
                    .header("authorization", &session)
                    .send()
                    .await
                    .unwrap();
                let (status, listed) = json(response).await;
                assert_eq!(status, 200, "{listed}");
                for entry in listed["messages"].as_array().unwrap() {
                    let number = entry["number"].as_u64().unwrap();
                    seen.push(number);
                    cursor = cursor.max(number);
                }
                if last {
                    return seen;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    // Killed while the load runs: once 40 submissions are acknowledged, with more in flight.
    for _ in 0..1200 {
        if counted.load(Ordering::SeqCst) >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut a = a;
    a.kill();
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 40,
        "{} acknowledged",
        acknowledged.len()
    );
    for reporter in &acknowledged {
        read_back(&b, reporter).await;
    }
    reading.store(false, Ordering::SeqCst);
    let seen = reader.await.unwrap();
    // Every number from 1 on, each once, in order: none skipped by the moving cursor.
    let expected: Vec<u64> = (1..=seen.len() as u64).collect();
    assert_eq!(seen, expected);
    assert!(seen.len() >= acknowledged.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_restart_under_load_is_reported_clearly_and_the_relays_recover() {
    // A cluster of this test's own: restarting the shared one would cut other tests off.
    let cluster = Arc::new(PostgresCluster::own());
    let database = TestDatabase::create_on(Arc::clone(&cluster));
    let a = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        database: Some(Arc::clone(&database)),
        difficulty: 0,
        ..RelayOptions::default()
    });
    let b = a.beside();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let counted = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for worker in 0..8 {
        let url = if worker % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let stop = Arc::clone(&stop);
        let counted = Arc::clone(&counted);
        let office = a.directory.demo_office.recipient();
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut refusals: Vec<(u16, Value)> = Vec::new();
            for _ in 0..2000 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let reporter = Reporter::new();
                let sealed = Message::report(
                    &reporter.code,
                    vec![meldpunt_crypto::RecipientAddress {
                        organisation: "demo".into(),
                        recipient: "integrity-office".into(),
                    }],
                    meldpunt_crypto::Content::text(
                        meldpunt_crypto::Day::from_calendar_date(2026, 12, 3).unwrap(),
                        "a report while the database restarts",
                    ),
                )
                .seal(std::slice::from_ref(&office))
                .unwrap()
                .into_bytes();
                let (status, body) = submit_answered(&url, &url, &reporter, sealed).await;
                assert_ne!(status, 0, "the relay stops answering without its database");
                if status == 201 {
                    acknowledged.push(reporter);
                    counted.fetch_add(1, Ordering::SeqCst);
                } else {
                    refusals.push((status, body));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            (acknowledged, refusals)
        }));
    }
    let wait_for = |target: usize| {
        let counted = Arc::clone(&counted);
        async move {
            for _ in 0..1200 {
                if counted.load(Ordering::SeqCst) >= target {
                    return true;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(wait_for(30).await, "no load before the restart");
    let restarting = Arc::clone(&cluster);
    tokio::task::spawn_blocking(move || restarting.restart(Duration::from_secs(2)))
        .await
        .unwrap();
    // Both relays store again, without being restarted.
    let before = counted.load(Ordering::SeqCst);
    assert!(
        wait_for(before + 60).await,
        "the relays did not recover after the database came back"
    );
    stop.store(true, Ordering::SeqCst);
    let mut acknowledged = Vec::new();
    let mut refusals = Vec::new();
    for task in tasks {
        let (done, refused) = task.await.unwrap();
        acknowledged.extend(done);
        refusals.extend(refused);
    }
    // While it was down, each refusal said so plainly: 503, nothing stored.
    assert!(!refusals.is_empty(), "the restart was not noticed");
    let logs = format!("{}{}", a.log_text(), b.log_text());
    for (status, body) in &refusals {
        // A connection cut while committing leaves the outcome unknown: said as a failure,
        // never as "nothing was stored".
        if *status == 500 && logs.contains("the commit's outcome is unknown") {
            continue;
        }
        assert_eq!(status, &503, "{body}");
        assert_eq!(body["error"].as_str(), Some("not-ready"), "{body}");
        assert!(
            body["message"]
                .as_str()
                .is_some_and(|message| message.contains("storage cannot be reached")),
            "{body}"
        );
    }
    for relay in [&a, &b] {
        assert!(relay.log_text().contains("storage unavailable"));
        assert!(
            !relay.log_text().contains("password"),
            "{}",
            relay.log_text()
        );
    }
    for (index, reporter) in acknowledged.iter().enumerate() {
        read_back(if index % 2 == 0 { &a } else { &b }, reporter).await;
    }
}

#[tokio::test]
async fn a_relay_refuses_a_database_without_its_schema_until_migrated() {
    let a = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        ..RelayOptions::default()
    });
    let fresh = TestDatabase::create();
    let folder = tempfile::tempdir().unwrap();
    let config = folder.path().join("meldpunt.toml");
    let text = std::fs::read_to_string(&a.config)
        .unwrap()
        .replace(&a.database.as_ref().unwrap().url(), &fresh.url())
        .replace(
            &a.data.display().to_string(),
            &folder.path().join("data").display().to_string(),
        );
    std::fs::write(&config, text).unwrap();
    let serve = |command: &str| {
        std::process::Command::new(meldpunt_end_to_end::binary(
            "meldpunt-server",
            "meldpunt-server",
        ))
        .arg(command)
        .arg("--config")
        .arg(&config)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
    };
    let refused = serve("serve");
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no Meldpunt schema: run `meldpunt-server migrate"),
        "{message}"
    );
    let migrated = serve("migrate");
    assert!(migrated.status.success());
    assert!(String::from_utf8_lossy(&migrated.stdout).contains("applied Meldpunt schema 1"));
    let again = serve("migrate");
    assert!(String::from_utf8_lossy(&again.stdout).contains("schema 1 already"));
    // A schema from a newer relay is refused too, with what to do.
    fresh
        .cluster
        .psql(&fresh.name, "INSERT INTO meldpunt_schema VALUES (99, 0)");
    let newer = serve("serve");
    assert!(!newer.status.success());
    assert!(String::from_utf8_lossy(&newer.stderr).contains("newer than this relay's"));
}

#[tokio::test]
async fn retention_deletes_an_idle_mailbox_with_everything_it_holds_from_the_database() {
    let relay = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        ..RelayOptions::default()
    });
    let (idle, active) = (Reporter::new(), Reporter::new());
    for reporter in [&idle, &active] {
        let sealed = reporter.sealed_report(&relay, "kept until retention");
        assert_eq!(submit(&relay.url, &relay.url, reporter, sealed).await, 201);
    }
    // The idle mailbox holds an attachment of 3 chunks, too.
    let content: Vec<u8> = (0..600_000u32).map(|index| (index % 251) as u8).collect();
    let id = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([7u8; 16]);
    let (_, sealed) = meldpunt_crypto::AttachmentReference::seal_stream(
        &[relay.directory.demo_office.recipient()],
        "scan.pdf",
        &id,
        &content[..],
        content.len() as u64,
        Vec::new(),
    )
    .unwrap();
    let response = client()
        .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", idle.bearer())
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let database = relay.database.clone().unwrap();
    let count = |table: &str| {
        database
            .cluster
            .psql(&database.name, &format!("SELECT count(*) FROM {table}"))
    };
    assert_eq!(count("attachment_chunks"), "3");
    // A year and a day without activity, for one of them.
    let mut relay = relay;
    relay.stop();
    let idle_id: String = idle
        .token()
        .mailbox_id()
        .as_bytes()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    database.cluster.psql(
        &database.name,
        &format!(
            "UPDATE mailboxes SET last_activity = last_activity - 366 WHERE id = '\\x{idle_id}'"
        ),
    );
    // Retention runs at start.
    let relay = relay.restart();
    for _ in 0..600 {
        if relay.log_text().contains("retention ran") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = relay.log_text();
    assert!(
        log.contains("retention ran mailboxes=1 messages=1 attachments=1"),
        "{log}"
    );
    for (table, left) in [
        ("mailboxes", "1"),
        ("messages", "1"),
        ("recipient_messages", "1"),
        ("attachments", "0"),
        ("attachment_chunks", "0"),
    ] {
        assert_eq!(count(table), left, "{table}");
    }
    assert_eq!(
        relay
            .get("/api/v1/mailbox/messages/1", &idle.bearer())
            .await
            .status()
            .as_u16(),
        404
    );
    read_back(&relay, &active).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_mailbox_created_at_once_through_two_relays_exists_once_and_others_are_unharmed() {
    let a = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        difficulty: 0,
        ..RelayOptions::default()
    });
    let b = a.beside();
    let contested = Arc::new(Reporter::new());
    let mut tasks = Vec::new();
    for attempt in 0..24 {
        let (url, stamp_url) = if attempt % 2 == 0 {
            (a.url.clone(), a.url.clone())
        } else {
            (b.url.clone(), a.url.clone())
        };
        let contested = Arc::clone(&contested);
        let sealed = contested.sealed_report(&a, "the same mailbox, many times at once");
        let honest = Reporter::new();
        let honest_sealed = honest.sealed_report(&a, "an honest report alongside");
        tasks.push(tokio::spawn(async move {
            let (duplicate, honest_status) = tokio::join!(
                submit_answered(&url, &stamp_url, &contested, sealed),
                submit(&url, &stamp_url, &honest, honest_sealed)
            );
            (duplicate, honest_status, honest)
        }));
    }
    let mut created = 0;
    let mut honest = Vec::new();
    for task in tasks {
        let ((status, body), honest_status, reporter) = task.await.unwrap();
        match status {
            201 => created += 1,
            409 => assert_eq!(body["error"].as_str(), Some("mailbox-exists"), "{body}"),
            other => panic!("{other}: {body}"),
        }
        assert_eq!(honest_status, 201);
        honest.push(reporter);
    }
    assert_eq!(created, 1, "one mailbox, created once");
    read_back(&b, &contested).await;
    for reporter in &honest {
        read_back(&a, reporter).await;
    }
}

#[tokio::test]
async fn the_relays_own_backup_points_to_postgresqls_tools_and_writes_nothing() {
    let relay = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        ..RelayOptions::default()
    });
    let folder = tempfile::tempdir().unwrap();
    let target = folder.path().join("backup.redb");
    let output = std::process::Command::new(meldpunt_end_to_end::binary(
        "meldpunt-server",
        "meldpunt-server",
    ))
    .arg("backup")
    .arg("--data")
    .arg(&relay.data)
    .arg("--to")
    .arg(&target)
    .stdin(std::process::Stdio::null())
    .output()
    .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(
        message.contains("PostgreSQL: back it up with pg_dump or pg_basebackup"),
        "{message}"
    );
    assert!(!target.exists(), "a failed backup leaves no file");
}

/// A certificate authority and a server certificate for 127.0.0.1 it signed, as PEM files
/// in `folder`: (authority, certificate, key).
fn certificates(
    folder: &std::path::Path,
) -> (std::path::PathBuf, std::path::PathBuf, std::path::PathBuf) {
    let authority_key = rcgen::KeyPair::generate().unwrap();
    let mut authority = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let authority = authority.self_signed(&authority_key).unwrap();
    let server_key = rcgen::KeyPair::generate().unwrap();
    let server =
        rcgen::CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
            .unwrap()
            .signed_by(&server_key, &authority, &authority_key)
            .unwrap();
    let paths = (
        folder.join("authority.pem"),
        folder.join("server.pem"),
        folder.join("server.key"),
    );
    std::fs::write(&paths.0, authority.pem()).unwrap();
    std::fs::write(&paths.1, server.pem()).unwrap();
    std::fs::write(&paths.2, server_key.serialize_pem()).unwrap();
    (paths.0, paths.1, paths.2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_reaches_its_database_over_verified_tls_and_nothing_else() {
    let folder = tempfile::tempdir().unwrap();
    let (authority, certificate, key) = certificates(folder.path());
    let cluster = Arc::new(PostgresCluster::own_with_tls(&certificate, &key));
    let database = TestDatabase::create_on_tls(Arc::clone(&cluster), &authority);
    let relay = Relay::start(RelayOptions {
        backend: Backend::Postgres,
        database: Some(Arc::clone(&database)),
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let sealed = reporter.sealed_report(&relay, "over TLS to the database");
    assert_eq!(submit(&relay.url, &relay.url, &reporter, sealed).await, 201);
    read_back(&relay, &reporter).await;
    let encrypted = database.cluster.psql(
        &database.name,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'meldpunt-server' AND s.ssl",
    );
    assert_ne!(encrypted, "0", "the relay's connections are TLS");
    let plain = database.cluster.psql(
        &database.name,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE a.application_name = 'meldpunt-server' AND NOT s.ssl",
    );
    assert_eq!(plain, "0");

    // The same relay configuration with another change of one thing each: refused at start,
    // with the reason.
    let config = std::fs::read_to_string(&relay.config).unwrap();
    let stranger_folder = folder.path().join("stranger");
    std::fs::create_dir_all(&stranger_folder).unwrap();
    let stranger = certificates(&stranger_folder);
    for (change, expected) in [
        (
            config.replace(
                &authority.display().to_string(),
                &stranger.0.display().to_string(),
            ),
            "cannot reach the database",
        ),
        (
            config.replace("?sslmode=require", "?sslmode=disable"),
            "sslmode=disable, but ca_file is given",
        ),
        (
            config
                .lines()
                .filter(|line| !line.starts_with("ca_file"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace("?sslmode=require", "")
                .replace("@127.0.0.1:", "@192.0.2.10:"),
            "names a database on another host",
        ),
        (
            config
                .lines()
                .filter(|line| !line.starts_with("ca_file"))
                .collect::<Vec<_>>()
                .join("\n")
                .replace("?sslmode=require", "?hostaddr=192.0.2.10"),
            "names a database on another host",
        ),
        (
            config.replace("postgres://meldpunt@", "postgres://meldpunt:secret@"),
            "holds a password",
        ),
    ] {
        let changed = folder.path().join("changed.toml");
        std::fs::write(
            &changed,
            change.replace(
                &relay.data.display().to_string(),
                &folder.path().join("other-data").display().to_string(),
            ),
        )
        .unwrap();
        let output = std::process::Command::new(meldpunt_end_to_end::binary(
            "meldpunt-server",
            "meldpunt-server",
        ))
        .arg("serve")
        .arg("--config")
        .arg(&changed)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{expected}: started");
        assert!(message.contains(expected), "{expected}: {message}");
        assert!(!message.contains("secret"), "{message}");
    }
}
