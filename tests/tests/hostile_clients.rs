//! Hostile clients against the real relay: what an attacker can send, and the answer the
//! relay gives — a clear refusal, nothing stored, the relay still serving honest clients.
//! (Slowloris, huge headers, the connection cap, bad stamps, a full disk and the rest of
//! the bad input are in `relay.rs` and `relay_limits.rs`; docs/threat-model.md lists all.)

use std::time::Duration;

use meldpunt_end_to_end::{client, office_session, Relay, RelayOptions, Reporter, User};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn post(relay: &Relay, path: &str, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let response = client()
        .post(format!("{}{path}", relay.url))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body = response.bytes().await.unwrap();
    (
        status,
        serde_json::from_slice(&body).unwrap_or_else(|_| {
            panic!("{path} answered {status} without the JSON error: {body:?}")
        }),
    )
}

async fn still_serving(relay: &Relay) {
    let health = client()
        .get(format!("{}/api/v1/health", relay.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_refused_clearly_and_the_relay_stays_up() {
    let relay = Relay::start(RelayOptions::default());
    // 60 KB of nesting: under the 64 KiB body limit, far beyond the parser's depth limit.
    let depth = 30_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes();
    for path in ["/api/v1/office/challenge", "/api/v1/office/session"] {
        let (status, answer) = post(&relay, path, "application/json", nested.clone()).await;
        assert_eq!(status, 400, "{answer}");
        assert_eq!(answer["error"], "bad-request");
        assert!(answer["message"].as_str().unwrap().contains("JSON"));
    }
    still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_json_is_refused_at_the_limit() {
    let relay = Relay::start(RelayOptions::default());
    // The declared length alone is refused, before a byte of the body is read.
    let address = relay.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    stream
        .write_all(
            b"POST /api/v1/office/challenge HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 8388608\r\n\r\n{\"organisation\":\"",
        )
        .await
        .unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer before the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":\"body-too-large\""), "{answer}");
    still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_utf8_gets_a_clear_error_wherever_it_is_sent() {
    let relay = Relay::start(RelayOptions::default());
    let (status, answer) = post(
        &relay,
        "/api/v1/office/challenge",
        "application/json",
        b"{\"organisation\":\"\xff\xfe\",\"recipient\":\"x\"}".to_vec(),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    // In a header the relay reads, and in the credential.
    let reporter = Reporter::new();
    let response = client()
        .post(format!("{}/api/v1/mailboxes", relay.url))
        .header("authorization", reporter.bearer())
        .header(
            "meldpunt-organisation",
            reqwest::header::HeaderValue::from_bytes(b"demo\xff").unwrap(),
        )
        .header("meldpunt-recipients", "integrity-office")
        .header("content-type", "application/octet-stream")
        .body(reporter.sealed_report(&relay, "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = client()
        .get(format!("{}/api/v1/mailbox/messages", relay.url))
        .header(
            "authorization",
            reqwest::header::HeaderValue::from_bytes(b"Bearer \xff\xfe").unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["error"], "malformed-credential");
    // In the path.
    let response = client()
        .get(format!("{}/api/v1/mailbox/messages/%FF%FE", relay.url))
        .header("authorization", reporter.bearer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn path_tricks_in_attachment_ids_and_names_are_refused() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = Reporter::new();
    let created = reporter
        .create(&relay, "demo", reporter.sealed_report(&relay, "melding"))
        .await;
    assert_eq!(created.status(), 201);
    for id in [
        "..%2F..%2Fetc%2Fpasswd",
        "..",
        "%2E%2E",
        "a%00b",
        &"A".repeat(23),
    ] {
        let response = client()
            .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
            .header("authorization", reporter.bearer())
            .header("content-type", "application/octet-stream")
            .body(b"age-encryption.org/v1\n".to_vec())
            .send()
            .await
            .unwrap();
        assert!(
            [400, 404].contains(&response.status().as_u16()),
            "{id}: {}",
            response.status()
        );
    }

    // A message naming an attachment "../../x" cannot be made by the crate, and a hostile
    // office that seals such JSON by hand gets it refused by the reporter's CLI, which
    // writes nothing.
    let code = reporter.code.reply_identity().recipient();
    let mailbox = reporter.token().mailbox_id().to_wire();
    let evil = format!(
        r#"{{"meldpunt-message":3,"kind":"reply","mailbox":"{mailbox}","sequence":1,"written_on":"2026-11-28","body":"x","attachments":[{{"name":"../../escaped","size":1,"sha256":"{}","location":"AAAAAAAAAAAAAAAAAAAAAA"}}],"from":{{"organisation":"demo","recipient":"integrity-office"}}}}"#,
        "ab".repeat(32)
    );
    assert!(meldpunt_crypto::Message::decode(evil.as_bytes()).is_err());
    let sealed = meldpunt_crypto::seal(&[code], evil.as_bytes()).unwrap();
    let session = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let response = relay
        .post_sealed(
            &format!("/api/v1/office/mailboxes/{mailbox}/messages"),
            &session,
            sealed.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 201);
    let user = User::new();
    let code_file = user.path("code.txt");
    std::fs::write(&code_file, reporter.code.to_written_form().as_str()).unwrap();
    let folder = user.path("bijlagen");
    std::fs::create_dir_all(&folder).unwrap();
    let output = user.run(
        &relay,
        &[
            "check",
            "--receipt-file",
            code_file.to_str().unwrap(),
            "--save-attachments",
            folder.to_str().unwrap(),
        ],
        None,
    );
    // The reply is shown as unreadable, never opened: nothing is written.
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(printed.contains("a message could not be read"), "{printed}");
    assert!(!user.path("escaped").exists());
    assert_eq!(std::fs::read_dir(&folder).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reader_is_cut_off_and_others_are_still_served() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[limits]\nwrite_stall_seconds = 2\n".into(),
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let created = reporter
        .create(&relay, "demo", reporter.sealed_report(&relay, "melding"))
        .await;
    assert_eq!(created.status(), 201);
    // 32 MiB sealed: far more than the socket buffers hold.
    let content = vec![5u8; 32 << 20];
    let sealed = meldpunt_crypto::seal(&[reporter.code.reply_identity().recipient()], &content)
        .unwrap()
        .into_bytes();
    let id = "c2xvdy1yZWFkZXItdGVzdA";
    let response = client()
        .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", reporter.bearer())
        .header("content-type", "application/octet-stream")
        .body(sealed.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);

    let address = relay.url.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&address).await.unwrap();
    slow.write_all(
        format!(
            "GET /api/v1/mailbox/attachments/{id} HTTP/1.1\r\nHost: relay\r\nAuthorization: {}\r\n\r\n",
            reporter.bearer()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    // It reads nothing for a while; meanwhile others are served.
    tokio::time::sleep(Duration::from_secs(5)).await;
    still_serving(&relay).await;
    let mut received = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(30), slow.read_to_end(&mut received)).await;
    assert!(read.is_ok(), "the connection was not closed");
    assert!(
        received.len() < sealed.len(),
        "a reader that stalled for 5 s still got all {} bytes",
        received.len()
    );
    // An honest reader gets the whole attachment.
    let whole = client()
        .get(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", reporter.bearer())
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(whole.len(), sealed.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_mailbox_creations_raises_the_difficulty_and_honest_reports_still_arrive() {
    let relay = Relay::start(RelayOptions {
        difficulty: 4,
        target_per_minute: 20,
        ..RelayOptions::default()
    });
    let difficulty = |answer: Value| answer["difficulty"].as_u64().unwrap();
    let challenge = || async {
        client()
            .get(format!("{}/api/v1/challenge", relay.url))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    };
    assert_eq!(difficulty(challenge().await), 4);
    let before = relay.resident_kib();
    // 300 mailboxes as fast as the flooder can solve stamps, 8 at a time.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let url = relay.url.clone();
        let directory = std::sync::Arc::clone(&relay.directory);
        tasks.push(tokio::spawn(async move {
            let mut created = 0;
            for _ in 0..38 {
                let reporter = Reporter::new();
                let answer: Value = client()
                    .get(format!("{url}/api/v1/challenge"))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                let challenge =
                    meldpunt_crypto::Challenge::from_wire(answer["challenge"].as_str().unwrap())
                        .unwrap();
                let stamp = challenge
                    .solve(&reporter.token().mailbox_id(), |_| true)
                    .unwrap();
                let sealed = meldpunt_crypto::Message {
                    recording: Default::default(),
                    answers: Default::default(),
                    purpose: Default::default(),
                    mailbox: reporter.token().mailbox_id(),
                    sequence: 1,
                    kind: meldpunt_crypto::MessageKind::Report {
                        reply_key: reporter.code.reply_identity().recipient(),
                        follow_up_key: reporter.code.follow_up_signing_key().follow_up_key(),
                        recipients: vec![meldpunt_crypto::RecipientAddress {
                            organisation: "demo".into(),
                            recipient: "integrity-office".into(),
                        }],
                        conversation: meldpunt_crypto::Conversation::Report,
                        earlier_consultation: None,
                    },
                    written_on: "2026-11-28".parse().unwrap(),
                    body: String::from("flood").into(),
                    attachments: vec![],
                }
                .seal(&[directory.demo_office.recipient()])
                .unwrap()
                .into_bytes();
                let status = client()
                    .post(format!("{url}/api/v1/mailboxes"))
                    .header("authorization", reporter.bearer())
                    .header("meldpunt-organisation", "demo")
                    .header("meldpunt-recipients", "integrity-office")
                    .header("meldpunt-stamp", stamp.to_wire())
                    .header("content-type", "application/octet-stream")
                    .body(sealed)
                    .send()
                    .await
                    .unwrap()
                    .status();
                if status == 201 {
                    created += 1;
                }
            }
            created
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.unwrap();
    }
    assert!(created > 100, "only {created} mailboxes were created");
    let raised = difficulty(challenge().await);
    assert!(
        raised > 4,
        "the difficulty stayed at {raised} after {created} creations"
    );
    let after = relay.resident_kib();
    assert!(
        after < before + 128 * 1024,
        "the relay grew from {before} KiB to {after} KiB"
    );

    // An honest reporter, with the CLI, still gets through at the higher difficulty.
    let code = User::new().report(&relay, "Een echte melding tijdens de vloed.");
    assert!(meldpunt_crypto::ReceiptCode::parse(&code).is_ok());
    still_serving(&relay).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn proof_of_work_replay_and_forgery_are_refused() {
    use base64::Engine as _;
    let relay = Relay::start(RelayOptions {
        difficulty: 8,
        ..RelayOptions::default()
    });
    let base64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let create = |reporter: &Reporter, stamp: String| {
        let request = client()
            .post(format!("{}/api/v1/mailboxes", relay.url))
            .header("authorization", reporter.bearer())
            .header("meldpunt-organisation", "demo")
            .header("meldpunt-recipients", "integrity-office")
            .header("meldpunt-stamp", stamp)
            .header("content-type", "application/octet-stream")
            .body(reporter.sealed_report(&relay, "melding"));
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let answer: Value = response.json().await.unwrap();
            (status, answer["error"].as_str().unwrap_or("").to_owned())
        }
    };
    let answer: Value = client()
        .get(format!("{}/api/v1/challenge", relay.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wire = answer["challenge"].as_str().unwrap().to_owned();
    let challenge = meldpunt_crypto::Challenge::from_wire(&wire).unwrap();
    let first = Reporter::new();
    let second = Reporter::new();

    // Forged: the difficulty byte lowered to 0 (the MAC no longer fits).
    let mut bytes = base64.decode(&wire).unwrap();
    bytes[1] = 0;
    let forged = format!("{}.0", base64.encode(&bytes));
    assert_eq!(create(&first, forged).await, (403, "stamp-invalid".into()));
    // Garbage.
    assert_eq!(
        create(&first, "not-a-stamp".into()).await,
        (403, "stamp-invalid".into())
    );
    // The right challenge without the work: every number below the first solution is one
    // (a first solution of 0, one challenge in 256, leaves none to try).
    let stamp = challenge
        .solve(&first.token().mailbox_id(), |_| true)
        .unwrap();
    if stamp.solution > 0 {
        assert_eq!(
            create(&first, format!("{wire}.{}", stamp.solution - 1)).await,
            (403, "stamp-insufficient-work".into())
        );
    }
    // A stamp solved for one mailbox does not work for another.
    let stamp = challenge
        .solve(&first.token().mailbox_id(), |_| true)
        .unwrap();
    assert_eq!(create(&second, stamp.to_wire()).await.0, 403);
    // Honest use works once; the same challenge solved again for another mailbox is a replay.
    assert_eq!(create(&first, stamp.to_wire()).await.0, 201);
    let replay = challenge
        .solve(&second.token().mailbox_id(), |_| true)
        .unwrap();
    assert_eq!(
        create(&second, replay.to_wire()).await,
        (409, "stamp-spent".into())
    );
    assert_eq!(
        create(&second, stamp.to_wire()).await.0,
        403,
        "a spent stamp is refused again"
    );
}
