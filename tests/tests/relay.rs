//! End-to-end tests of the relay: the real `meldpunt-server` binary on a loopback port,
//! a real redb file, real sealed objects.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use meldpunt_crypto::{AttachmentReference, Day, Message, MessageKind, RecipientAddress};
use meldpunt_end_to_end::{
    client, form_token, office_session, recipient_session, write_identity, Backend, Relay,
    RelayOptions, Reporter, User,
};
use serde_json::Value;

const REPORT_TEXT: &str =
    "De afdelingsleider keurt eigen declaraties goed. UNIQUE-PLAINTEXT-MARKER-7f3a";

fn day() -> Day {
    "2026-11-28".parse().unwrap()
}

fn address(organisation: &str) -> RecipientAddress {
    RecipientAddress {
        organisation: organisation.into(),
        recipient: "integrity-office".into(),
    }
}

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn a_report_reaches_the_office_and_the_conversation_goes_on(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let (status, body) = json(
        reporter
            .create(&relay, "demo", reporter.sealed_report(&relay, REPORT_TEXT))
            .await,
    )
    .await;
    assert_eq!(
        (status, &body["position"]),
        (201, &Value::from(1)),
        "{body}"
    );

    // The office authenticates with its identity and finds the report.
    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let (status, listing) = json(relay.get("/api/v1/office/messages?after=0", &office).await).await;
    assert_eq!(status, 200);
    let messages = listing["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1);
    let number = messages[0]["number"].as_u64().unwrap();
    let mailbox = messages[0]["mailbox"].as_str().unwrap().to_owned();
    assert_eq!(mailbox, reporter.token().mailbox_id().to_wire());
    assert_eq!(messages[0]["author"], "reporter");
    assert_eq!(messages[0]["fetched"], false);
    let sealed = relay
        .get(&format!("/api/v1/office/messages/{number}"), &office)
        .await
        .bytes()
        .await
        .unwrap();
    let report =
        Message::open(std::slice::from_ref(&relay.directory.demo_office), &sealed).unwrap();
    assert_eq!(report.body.as_str(), REPORT_TEXT);
    let MessageKind::Report { reply_key, .. } = report.kind else {
        panic!("a report")
    };

    // It marks it fetched and replies, sealed to the reporter and to itself.
    let response = client()
        .post(format!(
            "{}/api/v1/office/messages/{number}/fetched",
            relay.url
        ))
        .header("authorization", &office)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 204);
    let signing_key = relay.directory.demo_office.office_signing_key();
    let mut reply = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: reporter.token().mailbox_id(),
        sequence: 1,
        kind: MessageKind::Acknowledgement {
            from: address("demo"),
            signer: signing_key.office_key(),
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            opening: None,
        },
        written_on: day(),
        body: String::from("Wij hebben uw melding ontvangen.").into(),
        attachments: vec![],
    };
    signing_key.sign(&mut reply).unwrap();
    let sealed_reply = reply
        .seal(&[reply_key, relay.directory.demo_office.recipient()])
        .unwrap();
    let (status, body) = json(
        client()
            .post(format!(
                "{}/api/v1/office/mailboxes/{mailbox}/messages",
                relay.url
            ))
            .header("authorization", &office)
            .header("content-type", "application/octet-stream")
            .body(sealed_reply.into_bytes())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &body["position"]),
        (201, &Value::from(2)),
        "{body}"
    );

    // The reporter, with only the receipt code, reads the reply and follows up.
    let (status, listing) = json(
        relay
            .get("/api/v1/mailbox/messages?after=1", &reporter.bearer())
            .await,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(listing["messages"][0]["author"], "office");
    let sealed = relay
        .get("/api/v1/mailbox/messages/2", &reporter.bearer())
        .await
        .bytes()
        .await
        .unwrap();
    let opened = Message::open(&[reporter.code.reply_identity()], &sealed).unwrap();
    assert_eq!(opened, reply);
    let mut follow_up = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: reporter.token().mailbox_id(),
        sequence: 2,
        kind: MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        written_on: day(),
        body: String::from("Aanvulling.").into(),
        attachments: vec![],
    };
    reporter.code.follow_up_signing_key().sign(&mut follow_up);
    let (status, body) = json(
        relay
            .post_sealed(
                "/api/v1/mailbox/messages",
                &reporter.bearer(),
                follow_up
                    .seal(&[relay.directory.demo_office.recipient()])
                    .unwrap()
                    .into_bytes(),
            )
            .await,
    )
    .await;
    assert_eq!((status, &body["position"]), (201, &Value::from(3)));
    let (_, listing) = json(
        client()
            .get(format!(
                "{}/api/v1/office/messages?after={number}",
                relay.url
            ))
            .header("authorization", &office)
            .send()
            .await
            .unwrap(),
    )
    .await;
    let authors: Vec<&str> = listing["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["author"].as_str().unwrap())
        .collect();
    assert_eq!(authors, ["office", "reporter"]);
}

async fn attachments_stream_in_and_out_and_stay_bound_to_their_mailbox(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    assert_eq!(
        reporter
            .create(
                &relay,
                "demo",
                reporter.sealed_report(&relay, "met bijlage")
            )
            .await
            .status()
            .as_u16(),
        201
    );
    let content: Vec<u8> = (0..3_000_000u32).map(|index| (index % 253) as u8).collect();
    let id = URL_SAFE_NO_PAD.encode([42u8; 16]);
    let (reference, sealed) = AttachmentReference::seal_stream(
        &[relay.directory.demo_office.recipient()],
        "scan.pdf",
        &id,
        &content[..],
        content.len() as u64,
        Vec::new(),
    )
    .unwrap();
    let (status, body) = json(
        client()
            .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
            .header("authorization", reporter.bearer())
            .header("content-type", "application/octet-stream")
            .body(sealed.clone())
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["size"].as_u64().unwrap(), sealed.len() as u64);

    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let downloaded = relay
        .get(&format!("/api/v1/office/attachments/{id}"), &office)
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(downloaded.len(), sealed.len());
    let mut opened = Vec::new();
    reference
        .open_stream(
            std::slice::from_ref(&relay.directory.demo_office),
            &downloaded[..],
            &mut opened,
        )
        .unwrap();
    assert_eq!(opened, content);

    // Another organisation's office and another reporter cannot get it.
    let other = office_session(&relay, "other", &relay.directory.other_office).await;
    let response = relay
        .get(&format!("/api/v1/office/attachments/{id}"), &other)
        .await;
    assert_eq!(response.status().as_u16(), 404);
    let stranger = Reporter::new();
    assert_eq!(
        stranger
            .create(&relay, "demo", stranger.sealed_report(&relay, "x"))
            .await
            .status()
            .as_u16(),
        201
    );
    let response = relay
        .get(
            &format!("/api/v1/mailbox/attachments/{id}"),
            &stranger.bearer(),
        )
        .await;
    assert_eq!(json(response).await.1["error"], "attachment-not-found");
    // The same id cannot be taken twice.
    let response = client()
        .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", reporter.bearer())
        .header("content-type", "application/octet-stream")
        .body(sealed)
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "attachment-exists");
}

async fn mailboxes_and_organisations_are_walled_off(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    let alice = Reporter::new();
    let bob = Reporter::new();
    for reporter in [&alice, &bob] {
        assert_eq!(
            reporter
                .create(&relay, "demo", reporter.sealed_report(&relay, "x"))
                .await
                .status()
                .as_u16(),
            201
        );
    }
    // Alice's token reads only Alice's mailbox: the positions are hers, bob's report is not there.
    let (_, listing) = json(relay.get("/api/v1/mailbox/messages", &alice.bearer()).await).await;
    assert_eq!(listing["messages"].as_array().unwrap().len(), 1);

    // The other organisation's office sees nothing of demo's and cannot write into it.
    let other = office_session(&relay, "other", &relay.directory.other_office).await;
    let (_, listing) = json(relay.get("/api/v1/office/messages", &other).await).await;
    assert_eq!(listing["messages"].as_array().unwrap().len(), 0);
    let demo = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let (_, listing) = json(relay.get("/api/v1/office/messages", &demo).await).await;
    let number = listing["messages"][0]["number"].as_u64().unwrap();
    let response = relay
        .get(&format!("/api/v1/office/messages/{number}"), &other)
        .await;
    assert_eq!(json(response).await.1["error"], "message-not-found");
    let response = client()
        .post(format!(
            "{}/api/v1/office/messages/{number}/fetched",
            relay.url
        ))
        .header("authorization", &other)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 404);
    let reply = alice.sealed_report(&relay, "injected");
    let mailbox = alice.token().mailbox_id().to_wire();
    let response = client()
        .post(format!(
            "{}/api/v1/office/mailboxes/{mailbox}/messages",
            relay.url
        ))
        .header("authorization", &other)
        .header("content-type", "application/octet-stream")
        .body(reply)
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "mailbox-not-found");

    // An office cannot get a challenge it can open for another organisation's recipient.
    let challenge: Value = client()
        .post(format!("{}/api/v1/office/challenge", relay.url))
        .json(&serde_json::json!({ "organisation": "demo", "recipient": "integrity-office" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sealed = base64::engine::general_purpose::STANDARD
        .decode(challenge["sealed_challenge"].as_str().unwrap())
        .unwrap();
    assert!(meldpunt_crypto::ChallengeAnswer::open(
        std::slice::from_ref(&relay.directory.other_office),
        &sealed
    )
    .is_err());

    // A forged or unknown session is refused.
    let forged = format!("Bearer {}", URL_SAFE_NO_PAD.encode([7u8; 32]));
    let response = relay.get("/api/v1/office/messages", &forged).await;
    assert_eq!(
        json(response).await,
        (
            401,
            serde_json::json!({"error": "session-expired", "message": "the office session is unknown or has expired; authenticate again"})
        )
    );
    // A wrong challenge answer is refused.
    let response = client()
        .post(format!("{}/api/v1/office/session", relay.url))
        .json(&serde_json::json!({ "answer": URL_SAFE_NO_PAD.encode([1u8; 32]) }))
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "challenge-failed");
}

async fn unknown_mailboxes_and_wrong_tokens_get_identical_answers(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    let owner = Reporter::new();
    assert_eq!(
        owner
            .create(&relay, "demo", owner.sealed_report(&relay, "x"))
            .await
            .status()
            .as_u16(),
        201
    );
    let mut answers = Vec::new();
    for path in ["/api/v1/mailbox/messages", "/api/v1/mailbox/messages/1"] {
        for _ in 0..3 {
            let stranger = Reporter::new();
            let response = relay.get(path, &stranger.bearer()).await;
            let status = response.status().as_u16();
            let headers: Vec<String> = response
                .headers()
                .iter()
                .filter(|(name, _)| name.as_str() != "date")
                .map(|(name, value)| format!("{name}: {}", value.to_str().unwrap()))
                .collect();
            let body = response.text().await.unwrap();
            answers.push((path, status, headers, body));
        }
    }
    for (path, status, headers, body) in &answers {
        assert_eq!(*status, 404, "{path}");
        assert_eq!(
            body,
            r#"{"error":"mailbox-not-found","message":"no mailbox answers to this token"}"#
        );
        assert_eq!(headers, &answers[0].2);
        assert!(!headers
            .iter()
            .any(|header| header.starts_with("set-cookie")));
    }
}

/// What needs a process: a client that declares a long body, sends part of it and hangs up.
/// (Every other bad input, and that it changes nothing, is checked in process:
/// `server/src/api/tests.rs`.)
async fn a_truncated_upload_keeps_nothing(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        extra_config: "[limits]\nmax_attachment_bytes = 1000000\n".into(),
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let report = reporter.sealed_report(&relay, "x");
    assert_eq!(
        reporter
            .create(&relay, "demo", report.clone())
            .await
            .status()
            .as_u16(),
        201
    );
    let id = URL_SAFE_NO_PAD.encode([1u8; 16]);
    truncated_upload(&relay, &reporter, &id).await;
    // After the failed upload the id is still free.
    let response = client()
        .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", reporter.bearer())
        .header("content-type", "application/octet-stream")
        .body(report)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}

/// Declares a long body, sends part of it, and hangs up.
async fn truncated_upload(relay: &Relay, reporter: &Reporter, id: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = relay.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = reporter.sealed_report(relay, "partial");
    let head = format!(
        "PUT /api/v1/mailbox/attachments/{id} HTTP/1.1\r\nHost: {address}\r\nAuthorization: {}\r\nContent-Type: application/octet-stream\r\nContent-Length: 900000\r\n\r\n",
        reporter.bearer()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body).await.unwrap();
    stream.write_all(&vec![0u8; 300_000]).await.unwrap();
    stream.shutdown().await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    // Give the relay a moment to remove the partial upload.
    tokio::time::sleep(Duration::from_millis(200)).await;
}

async fn the_relay_records_no_addresses_agents_or_plaintext(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        extra_config: "[web]\nminimum_form_seconds = 0\n".into(),
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let response = client()
        .post(format!("{}/api/v1/mailboxes", relay.url))
        .header("authorization", reporter.bearer())
        .header("meldpunt-organisation", "demo")
        .header("meldpunt-recipients", "integrity-office")
        .header("meldpunt-stamp", reporter.stamp(&relay).await.unwrap())
        .header("content-type", "application/octet-stream")
        .header("user-agent", "TrackingAgent/9.9 UNIQUE-AGENT-MARKER")
        .header("referer", "https://referrer.invalid/UNIQUE-REFERRER-MARKER")
        .header("x-forwarded-for", "203.0.113.77")
        .body(reporter.sealed_report(&relay, REPORT_TEXT))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    assert!(response.headers().get("set-cookie").is_none());
    for header in [
        "content-security-policy",
        "x-content-type-options",
        "referrer-policy",
        "cache-control",
    ] {
        assert!(response.headers().get(header).is_some(), "missing {header}");
    }
    // The web form too: its pages, and a report posted without JavaScript, which the relay
    // reads in plaintext before sealing it.
    let identifying = |request: reqwest::RequestBuilder| {
        request
            .header("user-agent", "TrackingAgent/9.9 UNIQUE-AGENT-MARKER")
            .header("referer", "https://referrer.invalid/UNIQUE-REFERRER-MARKER")
            .header("x-forwarded-for", "203.0.113.77")
    };
    let page = identifying(client().get(format!("{}/report", relay.url)))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = form_token(&page);
    let form = reqwest::multipart::Form::new()
        .text("form_token", token)
        .text("organisation", "demo")
        .text("recipient", "demo/integrity-office")
        .text("body", format!("{REPORT_TEXT} (without JavaScript)"));
    let response = identifying(client().post(format!("{}/report", relay.url)))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    assert!(response.headers().get("set-cookie").is_none());
    let page = response.text().await.unwrap();
    assert_eq!(status, 201, "{page}");
    let _ = relay.metrics();
    let mut relay = relay;
    relay.stop();
    let log = relay.log_text();
    let port = relay.url.rsplit(':').next().unwrap().to_owned();
    for marker in [
        "127.0.0.1",
        "203.0.113.77",
        "UNIQUE-AGENT-MARKER",
        "UNIQUE-REFERRER-MARKER",
        "UNIQUE-PLAINTEXT-MARKER",
        "TrackingAgent",
    ] {
        assert!(
            !relay.stores(marker.as_bytes()),
            "{marker} is in the store ({backend:?})"
        );
        if marker != "127.0.0.1" {
            assert!(!log.contains(marker), "{marker} is in the log");
        }
    }
    // The log names the listening address once at start-up (an operator needs it), and no
    // client address or port ever.
    assert_eq!(log.matches("127.0.0.1").count(), 1, "{log}");
    assert!(log
        .lines()
        .filter(|line| line.contains("request"))
        .all(|line| !line.contains(&port)));
    assert!(
        !relay.stores(reporter.token().to_wire().as_bytes()),
        "the token is stored"
    );
}

#[tokio::test]
async fn health_readiness_metrics_and_the_openapi_document() {
    let relay = Relay::start(RelayOptions::default());
    for path in ["/api/v1/health", "/api/v1/ready"] {
        assert_eq!(
            client()
                .get(format!("{}{path}", relay.url))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
            200
        );
    }
    let reporter = Reporter::new();
    reporter
        .create(&relay, "demo", reporter.sealed_report(&relay, "x"))
        .await;
    let metrics = relay.metrics();
    assert!(
        metrics.contains("meldpunt_mailboxes_created_total 1"),
        "{metrics}"
    );
    assert!(metrics.contains("meldpunt_stored{kind=\"messages\"} 1"));
    let openapi: Value = client()
        .get(format!("{}/api/v1/openapi.json", relay.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paths = openapi["paths"].as_object().unwrap();
    for path in [
        "/api/v1/directory",
        "/api/v1/challenge",
        "/api/v1/mailboxes",
        "/api/v1/mailbox/messages",
        "/api/v1/mailbox/messages/{position}",
        "/api/v1/mailbox/attachments/{id}",
        "/api/v1/office/challenge",
        "/api/v1/office/session",
        "/api/v1/office/messages",
        "/api/v1/office/messages/{number}",
        "/api/v1/office/messages/{number}/fetched",
        "/api/v1/office/mailboxes/{mailbox}/messages",
        "/api/v1/office/mailboxes/{mailbox}/attachments/{id}",
        "/api/v1/office/attachments/{id}",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }
    // The served directory verifies against the pinned key.
    let signed = client()
        .get(format!("{}/api/v1/directory", relay.url))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let directory = meldpunt_crypto::SignedDirectory::from_bytes(signed.to_vec())
        .unwrap()
        .verify(&relay.directory.signing_key.directory_key(), day(), None)
        .unwrap();
    assert_eq!(directory.organisations.len(), 2);
}

#[tokio::test]
async fn metrics_are_served_only_on_the_admin_socket() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = Reporter::new();
    reporter
        .create(&relay, "demo", reporter.sealed_report(&relay, "x"))
        .await;
    // On the public listener: no such endpoint, whatever the path's spelling.
    for path in ["/api/v1/metrics", "/metrics", "/api/v1/metrics/"] {
        let response = client()
            .get(format!("{}{path}", relay.url))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(status, 404, "{path}");
        assert!(!body.contains("meldpunt_mailboxes_created_total"), "{path}");
    }
    // On the admin socket (mode 0600, the relay's own user): the counters.
    let socket = relay.data.join("admin.sock");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&socket).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    assert!(relay
        .metrics()
        .contains("meldpunt_mailboxes_created_total 1"));
}

#[tokio::test]
async fn every_acknowledged_submission_survives_a_kill() {
    let relay = Relay::start(RelayOptions {
        difficulty: 0,
        ..RelayOptions::default()
    });
    let office_key = relay.directory.demo_office.recipient();
    let url = relay.url.clone();
    let mut tasks = Vec::new();
    let counted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for worker in 0..16 {
        let url = url.clone();
        let office_key = office_key.clone();
        let counted = std::sync::Arc::clone(&counted);
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for _ in 0..200 {
                let reporter = Reporter::new();
                let report = Message {
                    recording: Default::default(),
                    answers: Default::default(),
                    purpose: Default::default(),
                    mailbox: reporter.token().mailbox_id(),
                    sequence: 1,
                    kind: MessageKind::Report {
                        reply_key: reporter.code.reply_identity().recipient(),
                        follow_up_key: reporter.code.follow_up_signing_key().follow_up_key(),
                        recipients: vec![address("demo")],
                        conversation: meldpunt_crypto::Conversation::Report,
                        earlier_consultation: None,
                    },
                    written_on: day(),
                    body: format!("report from worker {worker}").into(),
                    attachments: vec![],
                };
                let sealed = report
                    .seal(std::slice::from_ref(&office_key))
                    .unwrap()
                    .into_bytes();
                let challenge: Result<Value, _> =
                    match client().get(format!("{url}/api/v1/challenge")).send().await {
                        Ok(response) => response.json().await,
                        Err(_) => break,
                    };
                let Ok(challenge) = challenge else { break };
                let stamp =
                    meldpunt_crypto::Challenge::from_wire(challenge["challenge"].as_str().unwrap())
                        .unwrap()
                        .solve(&reporter.token().mailbox_id(), |_| true)
                        .unwrap();
                let sent = client()
                    .post(format!("{url}/api/v1/mailboxes"))
                    .header("authorization", reporter.bearer())
                    .header("meldpunt-organisation", "demo")
                    .header("meldpunt-recipients", "integrity-office")
                    .header("meldpunt-stamp", stamp.to_wire())
                    .header("content-type", "application/octet-stream")
                    .body(sealed)
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().as_u16() == 201 => {
                        acknowledged.push(reporter);
                        counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            acknowledged
        }));
    }
    // Kill while the load runs: once 40 submissions are acknowledged (whatever the machine's
    // speed), with more in flight.
    for _ in 0..1200 {
        if counted.load(std::sync::atomic::Ordering::SeqCst) >= 40 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut relay = relay;
    relay.kill();
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.unwrap());
    }
    assert!(
        acknowledged.len() >= 40,
        "too few submissions before the kill: {}",
        acknowledged.len()
    );
    let relay = relay.restart();
    for reporter in &acknowledged {
        let response = relay
            .get("/api/v1/mailbox/messages/1", &reporter.bearer())
            .await;
        assert_eq!(
            response.status().as_u16(),
            200,
            "an acknowledged report was lost"
        );
        let sealed = response.bytes().await.unwrap();
        assert!(Message::open(std::slice::from_ref(&relay.directory.demo_office), &sealed).is_ok());
    }
}

#[tokio::test]
async fn an_online_backup_is_consistent_and_restorable() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = Reporter::new();
    assert_eq!(
        reporter
            .create(&relay, "demo", reporter.sealed_report(&relay, "bewaard"))
            .await
            .status()
            .as_u16(),
        201
    );
    let backup = relay.data.parent().unwrap().join("backup.redb");
    let run_backup = |data: &std::path::Path, to: &std::path::Path| {
        let output = std::process::Command::new(meldpunt_end_to_end::binary(
            "meldpunt-server",
            "meldpunt-server",
        ))
        .args(["backup", "--data"])
        .arg(data)
        .arg("--to")
        .arg(to)
        .output()
        .unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (success, stdout, stderr) = run_backup(&relay.data, &backup);
    assert!(success, "{stderr}");
    assert!(stdout.contains("\"mailboxes\":1"), "{stdout}");
    // Streamed through the admin socket and written by the command, 0600; the relay's own
    // snapshot in its data folder is gone.
    use std::os::unix::fs::PermissionsExt as _;
    assert_eq!(
        std::fs::metadata(&backup).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let leftovers: Vec<_> = std::fs::read_dir(&relay.data)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".backup-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // Bad targets and a folder without a relay are named, and leave nothing.
    let before = std::fs::read(&backup).unwrap();
    let (success, _, stderr) = run_backup(&relay.data, &backup);
    assert!(!success);
    assert!(stderr.contains("exists already"), "{stderr}");
    assert_eq!(std::fs::read(&backup).unwrap(), before);
    let nowhere = relay.data.parent().unwrap().join("missing").join("b.redb");
    let (success, _, stderr) = run_backup(&relay.data, &nowhere);
    assert!(!success);
    assert!(stderr.contains("its folder does not exist"), "{stderr}");
    assert!(stderr.contains("missing"), "{stderr}");
    let empty = tempfile::tempdir().unwrap();
    let (success, _, stderr) = run_backup(empty.path(), &empty.path().join("b.redb"));
    assert!(!success);
    assert!(stderr.contains("holds no relay database"), "{stderr}");
    assert!(!empty.path().join("b.redb").exists());
    // The relay kept running while it was copied.
    assert_eq!(
        client()
            .get(format!("{}/api/v1/ready", relay.url))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    // Restore: put the backup in place of the database and start again. A stopped relay
    // leaves no socket behind, and is copied directly.
    let mut relay = relay;
    relay.stop();
    assert!(!relay.data.join("admin.sock").exists());
    let offline = relay.data.parent().unwrap().join("offline.redb");
    let (success, stdout, stderr) = run_backup(&relay.data, &offline);
    assert!(success, "{stderr}");
    assert!(stdout.contains("\"mailboxes\":1"), "{stdout}");
    std::fs::rename(&backup, relay.data.join("meldpunt.redb")).unwrap();
    let relay = relay.restart();
    let response = relay
        .get("/api/v1/mailbox/messages/1", &reporter.bearer())
        .await;
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn the_log_holds_no_time_of_day_and_no_line_per_request() {
    let relay = Relay::start(RelayOptions::default());
    // A whole conversation: report, sync, acknowledgement, check, follow-up.
    let reporter = meldpunt_end_to_end::User::new();
    let code = reporter.report(&relay, "Een melding.");
    let office = meldpunt_end_to_end::User::new();
    let identity = office.path("office.key");
    meldpunt_end_to_end::write_identity(&identity, &relay.directory.demo_office);
    let key = relay.directory.signing_key.directory_key().to_string();
    let inbox = |command: &str, extra: &[&str]| {
        let mut arguments = vec!["inbox", command];
        arguments.extend_from_slice(extra);
        arguments.extend_from_slice(&[
            "--identity",
            identity.to_str().unwrap(),
            "--directory-key",
            &key,
        ]);
        office.ok(&relay, &arguments, None)
    };
    inbox("sync", &[]);
    let listed: Value = serde_json::from_str(&inbox("list", &["--json"])).unwrap();
    inbox(
        "reply",
        &[listed["cases"][0]["case"].as_str().unwrap(), "--ack"],
    );
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    reporter.ok(
        &relay,
        &["check", "--receipt-file", code_file.to_str().unwrap()],
        None,
    );
    let mut relay = relay;
    relay.stop();
    let log = relay.log_text();
    assert!(!log.is_empty());
    // No time of day anywhere (hh:mm, with or without seconds), and no line per request.
    let bytes = log.as_bytes();
    let timed = bytes.windows(5).any(|window| {
        window[0].is_ascii_digit()
            && window[1].is_ascii_digit()
            && window[2] == b':'
            && window[3].is_ascii_digit()
            && window[4].is_ascii_digit()
    });
    assert!(!timed, "a time of day in the log:\n{log}");
    assert!(!log.contains("route="), "a line per request:\n{log}");
    assert!(!log.contains("/api/v1/mailbox"), "{log}");
    // Lines still carry the day (YYYY-MM-DD), and nothing finer.
    for line in log.lines() {
        let day = line.as_bytes().get(..11).unwrap_or_default();
        assert!(
            day.len() == 11
                && day.iter().enumerate().all(|(index, byte)| match index {
                    4 | 7 => *byte == b'-',
                    10 => *byte == b' ',
                    _ => byte.is_ascii_digit(),
                }),
            "{line}"
        );
    }
}

#[tokio::test]
async fn cross_site_form_posts_are_refused() {
    let relay = Relay::start(RelayOptions::default());
    let post = |path: &str, headers: &[(&str, &str)]| {
        let mut request = client()
            .post(format!("{}{path}", relay.url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("lang=en&receipt_code=abcd");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send()
    };
    // Another site, by either header, on a page route and on the API.
    for headers in [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "http://evil.example")],
        vec![
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "same-origin"),
        ],
    ] {
        let response = post("/check", &headers).await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{headers:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains("sent by another site"), "{page}");
        let response = post("/api/v1/mailboxes", &headers).await.unwrap();
        assert_eq!(response.status().as_u16(), 403, "{headers:?}");
        let (_, body) = json(response).await;
        assert_eq!(body["error"], "cross-site");
    }
    // The relay's own pages (same origin, or Origin null under their no-referrer policy),
    // a typed address, and clients that are not browsers get through to the form's checks.
    let own_origin = relay.url.clone();
    for headers in [
        vec![("sec-fetch-site", "same-origin")],
        vec![("sec-fetch-site", "none")],
        vec![("origin", "null")],
        vec![("origin", own_origin.as_str())],
        vec![],
    ] {
        let response = post("/check", &headers).await.unwrap();
        assert_ne!(response.status().as_u16(), 403, "{headers:?}");
    }
}

async fn two_organisations_number_their_messages_independently(backend: Backend) {
    // A relay-wide counter would let one office read the other organisations' activity from
    // the gaps in its numbers, and order every message of the relay.
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    for organisation in ["demo", "other", "demo", "other", "other"] {
        let reporter = Reporter::new();
        let report = reporter.sealed_report(&relay, "x");
        assert_eq!(
            reporter.create(&relay, organisation, report).await.status(),
            201
        );
    }
    for (organisation, identity, expected) in [
        ("demo", &relay.directory.demo_office, vec![1, 2]),
        ("other", &relay.directory.other_office, vec![1, 2, 3]),
    ] {
        let session = office_session(&relay, organisation, identity).await;
        let (_, listing) = json(relay.get("/api/v1/office/messages", &session).await).await;
        let numbers: Vec<u64> = listing["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message["number"].as_u64().unwrap())
            .collect();
        assert_eq!(numbers, expected, "{organisation}");
    }
}

#[tokio::test]
async fn the_relay_and_its_openapi_document_agree_on_bounds_ids_and_errors() {
    // Schemathesis checks the whole document in .ci/run; these are the disagreements it
    // found, kept as a quick test.
    let relay = Relay::start(RelayOptions::default());
    let reporter = Reporter::new();
    let report = reporter.sealed_report(&relay, "x");
    assert_eq!(reporter.create(&relay, "demo", report).await.status(), 201);
    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let bearer = reporter.bearer();
    for (path, credential) in [
        // Out of range is refused, never clamped.
        ("/api/v1/mailbox/messages?limit=0", &bearer),
        ("/api/v1/mailbox/messages?limit=1001", &bearer),
        ("/api/v1/mailbox/messages?after=4294967296", &bearer),
        ("/api/v1/office/messages?limit=100000", &office),
        (
            "/api/v1/office/messages?after=18446744073709551616",
            &office,
        ),
        ("/api/v1/mailbox/messages/0", &bearer),
        ("/api/v1/mailbox/messages/4294967296", &bearer),
        ("/api/v1/office/messages/0", &office),
        ("/api/v1/office/messages/18446744073709551616", &office),
        // Attachment ids: exactly the canonical spelling of 16 bytes.
        ("/api/v1/mailbox/attachments/0", &bearer),
        (
            "/api/v1/mailbox/attachments/AAAAAAAAAAAAAAAAAAAAAB",
            &bearer,
        ),
        ("/api/v1/office/attachments/AAAAAAAAAAAAAAAAAAAAAB", &office),
    ] {
        let (status, body) = json(relay.get(path, credential).await).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("bad-request")),
            "{path}"
        );
    }
    for path in [
        "/api/v1/mailbox/messages?limit=1000",
        "/api/v1/mailbox/messages?after=4294967295",
        "/api/v1/mailbox/attachments/AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        let status = relay.get(path, &bearer).await.status().as_u16();
        assert!([200, 404].contains(&status), "{path}: {status}");
    }
    // A known path with another method: 405, its Allow header and the JSON error.
    let response = client()
        .delete(format!("{}/api/v1/mailbox/messages", relay.url))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET,HEAD,POST");
    assert_eq!(
        json(response).await,
        (
            405,
            serde_json::json!({"error": "method-not-allowed", "message": "this endpoint does not take this method; the Allow header lists the ones it takes"})
        )
    );
    // Every status the relay answered above is in the document for its operation.
    let document: Value = serde_json::from_str(include_str!("../../docs/openapi.json")).unwrap();
    for (path, method, status) in [
        ("/api/v1/mailbox/messages", "get", "400"),
        ("/api/v1/mailbox/messages/{position}", "get", "400"),
        ("/api/v1/office/messages/{number}", "get", "400"),
        ("/api/v1/mailbox/attachments/{id}", "get", "400"),
        ("/api/v1/office/attachments/{id}", "get", "400"),
        ("/api/v1/office/challenge", "post", "429"),
        (
            "/api/v1/office/mailboxes/{mailbox}/attachments/{id}",
            "put",
            "415",
        ),
    ] {
        assert!(
            document["paths"][path][method]["responses"][status].is_object(),
            "{method} {path} {status}"
        );
    }
}

/// A report sealed only to the external confidential adviser — the person the reporter chose
/// instead of the integrity office — stays out of the integrity office's reach on the relay:
/// its session cannot list it, count it, fetch it, its attachment, mark it or write into it.
async fn the_integrity_office_cannot_see_fetch_count_or_post_into_an_adviser_only_mailbox(
    backend: Backend,
) {
    let relay = Relay::start(RelayOptions {
        backend,
        ..RelayOptions::default()
    });
    let reporter = User::new();
    let attachment = reporter.path("bewijs.txt");
    std::fs::write(&attachment, "bewijsstuk").unwrap();
    let key = relay.directory.signing_key.directory_key().to_string();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--role",
            "external-confidential-adviser",
            "--directory-key",
            &key,
            "--attach",
            attachment.to_str().unwrap(),
            "--message-file",
            "-",
        ],
        Some("Alleen voor de vertrouwenspersoon."),
    );
    let code =
        meldpunt_crypto::ReceiptCode::parse(answer["receipt_code"].as_str().unwrap()).unwrap();
    let mailbox = code.mailbox_token().mailbox_id().to_wire();
    // A report to the integrity office, so that its listing is not empty by accident.
    let other_reporter = Reporter::new();
    assert_eq!(
        other_reporter
            .create(&relay, "demo", other_reporter.sealed_report(&relay, "x"))
            .await
            .status()
            .as_u16(),
        201
    );

    let adviser = recipient_session(
        &relay,
        "demo",
        "external-confidential-adviser",
        &relay.directory.demo_adviser,
    )
    .await;
    let (_, listing) = json(relay.get("/api/v1/office/messages", &adviser).await).await;
    let entries = listing["messages"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{listing}");
    assert_eq!(entries[0]["mailbox"], mailbox.as_str());
    assert_eq!(entries[0]["number"], 1, "numbered from 1 for the adviser");

    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let (_, listing) = json(relay.get("/api/v1/office/messages", &office).await).await;
    let entries = listing["messages"].as_array().unwrap();
    assert_eq!(
        entries.len(),
        1,
        "only the report addressed to it: {listing}"
    );
    assert_ne!(entries[0]["mailbox"], mailbox.as_str());
    assert_eq!(
        entries[0]["number"], 1,
        "no gap in its numbering tells of the adviser's report"
    );
    for number in [2, 3] {
        let response = relay
            .get(&format!("/api/v1/office/messages/{number}"), &office)
            .await;
        assert_eq!(json(response).await.1["error"], "message-not-found");
        let response = client()
            .post(format!(
                "{}/api/v1/office/messages/{number}/fetched",
                relay.url
            ))
            .header("authorization", &office)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 404);
    }
    let attachment_id = {
        // The attachment's id is in the sealed report only the adviser opens: fetched as the
        // adviser's client would, then tried as the office.
        let sealed = relay
            .get("/api/v1/office/messages/1", &adviser)
            .await
            .bytes()
            .await
            .unwrap();
        let message = meldpunt_crypto::Message::open(
            std::slice::from_ref(&relay.directory.demo_adviser),
            &sealed,
        )
        .unwrap();
        message.attachments[0].location.clone()
    };
    let response = relay
        .get(
            &format!("/api/v1/office/attachments/{attachment_id}"),
            &office,
        )
        .await;
    assert_eq!(json(response).await.1["error"], "attachment-not-found");
    let response = relay
        .get(
            &format!("/api/v1/office/attachments/{attachment_id}"),
            &adviser,
        )
        .await;
    assert_eq!(response.status().as_u16(), 200);
    let response = client()
        .post(format!(
            "{}/api/v1/office/mailboxes/{mailbox}/messages",
            relay.url
        ))
        .header("authorization", &office)
        .header("content-type", "application/octet-stream")
        .body(other_reporter.sealed_report(&relay, "injected"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "mailbox-not-found");
    let response = client()
        .put(format!(
            "{}/api/v1/office/mailboxes/{mailbox}/attachments/{}",
            relay.url,
            URL_SAFE_NO_PAD.encode([7u8; 16])
        ))
        .header("authorization", &office)
        .header("content-type", "application/octet-stream")
        .body(other_reporter.sealed_report(&relay, "injected"))
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "mailbox-not-found");
    // The integrity office's own CLI finds nothing of it either.
    let office_user = User::new();
    let identity = office_user.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let synced = office_user.json(
        &relay,
        &[
            "inbox",
            "sync",
            "--identity",
            identity.to_str().unwrap(),
            "--store",
            office_user.path("store").to_str().unwrap(),
            "--directory-key",
            &key,
        ],
        None,
    );
    assert_eq!(synced["arrived"].as_array().unwrap().len(), 1, "{synced}");
    assert_eq!(synced["not_addressed_to_this_identity"], 0, "{synced}");

    // The reporter alone can address the mailbox to the office too; a stranger's token, an
    // unknown recipient or a malformed body change nothing.
    let add = |bearer: String, body: &'static str| {
        let url = format!("{}/api/v1/mailbox/recipients", relay.url);
        async move {
            json(
                client()
                    .post(url)
                    .header("authorization", bearer)
                    .header("content-type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let owner = format!("Bearer {}", code.mailbox_token().to_wire().as_str());
    let stranger = Reporter::new();
    let (status, body) = add(stranger.bearer(), r#"{"recipients":["integrity-office"]}"#).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("mailbox-not-found"))
    );
    let (status, body) = add(owner.clone(), r#"{"recipients":["nobody"]}"#).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("unknown-recipient"))
    );
    let (status, body) = add(owner.clone(), r#"{"recipients":[]}"#).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad-request")));
    let (status, body) = add(owner.clone(), r#"{"recipients":"integrity-office"}"#).await;
    assert_eq!((status, body["error"].as_str()), (400, Some("bad-request")));
    let (_, listing) = json(relay.get("/api/v1/office/messages", &office).await).await;
    assert_eq!(listing["messages"].as_array().unwrap().len(), 1);
    let (status, body) = add(owner, r#"{"recipients":["integrity-office"]}"#).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["recipients"],
        serde_json::json!(["external-confidential-adviser", "integrity-office"])
    );
    let (_, listing) = json(relay.get("/api/v1/office/messages", &office).await).await;
    let entries = listing["messages"].as_array().unwrap();
    assert_eq!(entries.len(), 2, "{listing}");
    assert_eq!(entries[1]["mailbox"], mailbox.as_str());
    assert_eq!(entries[1]["number"], 2);
}

/// The served directory's version, as a client reads it.
async fn served_version(relay: &Relay) -> u64 {
    let envelope: Value = client()
        .get(format!("{}/api/v1/directory", relay.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let payload = base64::engine::general_purpose::STANDARD
        .decode(envelope["payload"].as_str().unwrap())
        .unwrap();
    serde_json::from_slice::<Value>(&payload).unwrap()["version"]
        .as_u64()
        .unwrap()
}

/// Sends SIGHUP and waits (at most 10 s) until the relay serves `version` or logs a refusal.
async fn hang_up(relay: &Relay, version: u64) -> u64 {
    let before = relay.log_text().matches("reload").count();
    let status = std::process::Command::new("kill")
        .args(["-HUP", &relay.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    for _ in 0..200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if served_version(relay).await == version
            || relay.log_text().matches("reload").count() > before
        {
            break;
        }
    }
    served_version(relay).await
}

#[tokio::test]
async fn sighup_reloads_the_directory_and_never_goes_back_to_an_older_one() {
    let relay = Relay::start(RelayOptions::default());
    assert_eq!(served_version(&relay).await, 1);
    let listing = |session: String| {
        let relay = &relay;
        async move {
            relay
                .get("/api/v1/office/messages", &session)
                .await
                .status()
                .as_u16()
        }
    };
    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    // A new version with a new member: served from the next request on, the relay still up,
    // open sessions kept (no key was taken away).
    std::fs::write(&relay.directory_file, relay.directory.with_newcomer(2)).unwrap();
    assert_eq!(hang_up(&relay, 2).await, 2);
    assert!(
        relay.log_text().contains("reloaded"),
        "{}",
        relay.log_text()
    );
    assert_eq!(listing(office.clone()).await, 200);
    let newcomer = office_session(&relay, "demo", &relay.directory.demo_newcomer).await;
    assert_eq!(listing(newcomer.clone()).await, 200);
    // The newcomer's key is retired: the recipient's open sessions end (its members log in
    // again; the retired key cannot).
    let third = relay
        .directory
        .signed_version_after(3, &relay.directory.with_newcomer(2));
    std::fs::write(&relay.directory_file, &third).unwrap();
    assert_eq!(hang_up(&relay, 3).await, 3);
    // (The sessions end right after the new directory is served: wait for the reload's line.)
    for _ in 0..200 {
        if relay.log_text().contains("lost a key ended") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(relay.log_text().contains("lost a key ended"));
    assert_eq!(listing(newcomer).await, 401);
    assert_eq!(listing(office).await, 401);
    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    assert_eq!(listing(office).await, 200);
    // Every version it served is kept and served as the history clients check: after 0 all
    // three, oldest first, each exactly as served; after 2 only version 3.
    let history = |after: u64| {
        let relay = &relay;
        async move {
            let response = relay
                .get(&format!("/api/v1/directory/history?after={after}"), "")
                .await;
            assert_eq!(response.status(), 200);
            let page: serde_json::Value = response.json().await.unwrap();
            assert_eq!(page["more"], false);
            page["directories"]
                .as_array()
                .unwrap()
                .iter()
                .map(|text| text.as_str().unwrap().as_bytes().to_vec())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        history(0).await,
        [
            relay.directory.signed(),
            relay.directory.with_newcomer(2),
            third.clone()
        ]
    );
    assert_eq!(history(2).await, std::slice::from_ref(&third));
    assert!(history(3).await.is_empty());
    let refused = relay
        .get("/api/v1/directory/history?after=minus-one", "")
        .await;
    assert_eq!(refused.status(), 400);
    // A damaged file, an older version, a version 4 that does not continue version 3, and
    // another version 3 (a fork) are refused with a line each; version 3 stays.
    std::fs::write(&relay.directory_file, b"{ not a directory").unwrap();
    assert_eq!(hang_up(&relay, 0).await, 3);
    std::fs::write(&relay.directory_file, relay.directory.signed_version(1)).unwrap();
    assert_eq!(hang_up(&relay, 1).await, 3);
    std::fs::write(&relay.directory_file, relay.directory.signed_version(4)).unwrap();
    assert_eq!(hang_up(&relay, 4).await, 3);
    std::fs::write(&relay.directory_file, relay.directory.signed_version(3)).unwrap();
    assert_eq!(hang_up(&relay, 3).await, 3);
    let log = relay.log_text();
    assert_eq!(log.matches("reload refused").count(), 4, "{log}");
    assert!(log.contains("does not continue version 3"), "{log}");
    assert!(log.contains("another directory version 3"), "{log}");
    assert!(
        log.contains("older than version 3 this relay has served"),
        "{log}"
    );
    // The operator sees how long the directory has left.
    assert!(
        relay
            .metrics()
            .contains("meldpunt_directory_expires_in_days "),
        "{}",
        relay.metrics()
    );
    // Started again on the older file, it refuses to start and says why.
    std::fs::write(&relay.directory_file, relay.directory.signed_version(1)).unwrap();
    let mut relay = relay;
    relay.stop();
    let output = std::process::Command::new(meldpunt_end_to_end::binary(
        "meldpunt-server",
        "meldpunt-server",
    ))
    .arg("serve")
    .arg("--config")
    .arg(&relay.config)
    .output()
    .unwrap();
    assert!(!output.status.success());
    let message = String::from_utf8_lossy(&output.stderr);
    assert!(message.contains("older than version 3"), "{message}");
    assert!(
        message.contains(relay.directory_file.to_str().unwrap()),
        "{message}"
    );
}

meldpunt_end_to_end::on_both_backends!(
    a_report_reaches_the_office_and_the_conversation_goes_on,
    attachments_stream_in_and_out_and_stay_bound_to_their_mailbox,
    mailboxes_and_organisations_are_walled_off,
    unknown_mailboxes_and_wrong_tokens_get_identical_answers,
    a_truncated_upload_keeps_nothing,
    the_relay_records_no_addresses_agents_or_plaintext,
    two_organisations_number_their_messages_independently,
    the_integrity_office_cannot_see_fetch_count_or_post_into_an_adviser_only_mailbox,
);
