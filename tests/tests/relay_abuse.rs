//! End-to-end tests of what keeps one client from filling the relay's disk or crowding out
//! everyone else (issue 11, finding 5): the byte quota per mailbox, stamps hoarded while
//! the difficulty was low, office challenges, and the form without JavaScript under a
//! flood.

use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use meldpunt_crypto::ChallengeAnswer;
use meldpunt_end_to_end::{client, form_token, Backend, Relay, RelayOptions, Reporter};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn a_mailbox_holds_no_more_than_its_byte_quota_on_each_side(backend: Backend) {
    // The stamp is paid once per mailbox: the quota is what bounds what it buys.
    let relay = Relay::start(RelayOptions {
        backend,
        extra_config: "[limits]\nmax_message_bytes = 16384\nmax_mailbox_bytes = 20000\n".into(),
        ..RelayOptions::default()
    });
    let reporter = Reporter::new();
    let report = reporter.sealed_report(&relay, "melding");
    let size = report.len();
    assert_eq!(
        reporter
            .create(&relay, "demo", report.clone())
            .await
            .status(),
        201
    );
    let mut stored = size;
    loop {
        let response = relay
            .post_sealed(
                "/api/v1/mailbox/messages",
                &reporter.bearer(),
                report.clone(),
            )
            .await;
        if stored + size > 20_000 {
            let (status, body) = json(response).await;
            assert_eq!(
                (status, body["error"].as_str()),
                (403, Some("mailbox-full"))
            );
            assert!(
                body["message"].as_str().unwrap().contains("bytes"),
                "{body}"
            );
            break;
        }
        assert_eq!(response.status(), 201);
        stored += size;
    }
    // An attachment does not fit either, and nothing of it is kept.
    let id = URL_SAFE_NO_PAD.encode([4u8; 16]);
    let response = client()
        .put(format!("{}/api/v1/mailbox/attachments/{id}", relay.url))
        .header("authorization", reporter.bearer())
        .header("content-type", "application/octet-stream")
        .body(report.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(json(response).await.1["error"], "mailbox-full");
    let response = relay
        .get(
            &format!("/api/v1/mailbox/attachments/{id}"),
            &reporter.bearer(),
        )
        .await;
    assert_eq!(response.status(), 404);
    let (_, listing) = json(
        relay
            .get("/api/v1/mailbox/messages", &reporter.bearer())
            .await,
    )
    .await;
    assert_eq!(
        listing["messages"].as_array().unwrap().len(),
        stored / size,
        "a refused message changes nothing"
    );
    // The office has room of its own: a reporter who fills theirs cannot silence it.
    let session =
        meldpunt_end_to_end::office_session(&relay, "demo", &relay.directory.demo_office).await;
    let mailbox = reporter.token().mailbox_id().to_wire();
    let response = relay
        .post_sealed(
            &format!("/api/v1/office/mailboxes/{mailbox}/messages"),
            &session,
            report,
        )
        .await;
    assert_eq!(response.status(), 201);
}

async fn stamps_issued_far_below_the_current_difficulty_are_refused(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        difficulty: 6,
        target_per_minute: 1,
        ..RelayOptions::default()
    });
    // Collected while the relay is quiet.
    let hoarded = relay.challenge().await.unwrap();
    assert_eq!(hoarded.difficulty(), 6);
    // Five mailboxes in a minute, against a target of one, raise the difficulty by three
    // bits: more than the two the relay forgives.
    for _ in 0..5 {
        let reporter = Reporter::new();
        let report = reporter.sealed_report(&relay, "x");
        assert_eq!(reporter.create(&relay, "demo", report).await.status(), 201);
    }
    assert!(relay.challenge().await.unwrap().difficulty() >= 9);
    let late = Reporter::new();
    let stamp = hoarded
        .solve(&late.token().mailbox_id(), |_| true)
        .unwrap()
        .to_wire();
    let response = client()
        .post(format!("{}/api/v1/mailboxes", relay.url))
        .header("authorization", late.bearer())
        .header("meldpunt-organisation", "demo")
        .header("meldpunt-recipients", "integrity-office")
        .header("meldpunt-stamp", stamp)
        .header("content-type", "application/octet-stream")
        .body(late.sealed_report(&relay, "x"))
        .send()
        .await
        .unwrap();
    let (status, body) = json(response).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("stamp-outdated"))
    );
    // A fresh challenge still works.
    let report = late.sealed_report(&relay, "x");
    assert_eq!(late.create(&relay, "demo", report).await.status(), 201);
}

async fn ask_challenge(relay: &Relay, organisation: &str, stamp: Option<&str>) -> (u16, Value) {
    let mut request = client()
        .post(format!("{}/api/v1/office/challenge", relay.url))
        .json(
            &serde_json::json!({ "organisation": organisation, "recipient": "integrity-office" }),
        );
    if let Some(stamp) = stamp {
        request = request.header("meldpunt-stamp", stamp);
    }
    json(request.send().await.unwrap()).await
}

async fn office_challenges_are_rate_limited_and_write_nothing_until_answered(backend: Backend) {
    let relay = Relay::start(RelayOptions {
        backend,
        extra_config: "[limits]\noffice_challenges_per_minute = 5\n".into(),
        ..RelayOptions::default()
    });
    // The retention task writes once at start; measure after it.
    for _ in 0..600 {
        if relay.log_text().contains("retention ran") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(relay.log_text().contains("retention ran"));
    // With redb, challenges wait in memory; with PostgreSQL they are rows every relay on the
    // database reads, so that one relay takes an answer to another's challenge.
    let database = relay.data.join("meldpunt.redb");
    let before = (backend == Backend::Redb).then(|| std::fs::metadata(&database).unwrap());
    for _ in 0..5 {
        assert_eq!(ask_challenge(&relay, "demo", None).await.0, 200);
    }
    let (status, body) = ask_challenge(&relay, "demo", None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (429, Some("rate-limited"))
    );
    // Beyond the free rate the office still gets in, for a stamp solved for its
    // organisation: whoever floods demo's challenges cannot lock its office out.
    // A stamp solved at a mailbox's difficulty does not pay for it: an office login's is
    // harder (offices solve in native code).
    let cheap = relay
        .challenge()
        .await
        .unwrap()
        .solve(&meldpunt_crypto::office_stamp_subject("demo"), |_| true)
        .unwrap()
        .to_wire();
    let (status, body) = ask_challenge(&relay, "demo", Some(&cheap)).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (403, Some("stamp-outdated")),
        "{body}"
    );
    let challenge = relay.office_login_challenge().await.unwrap();
    assert!(challenge.difficulty() >= 20);
    let stamp = challenge
        .solve(&meldpunt_crypto::office_stamp_subject("demo"), |_| true)
        .unwrap()
        .to_wire();
    let (status, paid) = ask_challenge(&relay, "demo", Some(&stamp)).await;
    assert_eq!(status, 200, "{paid}");
    let (status, body) = ask_challenge(&relay, "demo", Some(&stamp)).await;
    assert_eq!((status, body["error"].as_str()), (409, Some("stamp-spent")));
    // Someone asking for demo's challenges does not use up another organisation's.
    assert_eq!(ask_challenge(&relay, "other", None).await.0, 200);
    if let Some(before) = before {
        let after = std::fs::metadata(&database).unwrap();
        assert_eq!(
            (before.len(), before.modified().unwrap()),
            (after.len(), after.modified().unwrap()),
            "asking for challenges wrote to the store"
        );
    }

    // An answer opens a session, once; the paid-for challenge is as good as any.
    let sealed = STANDARD
        .decode(paid["sealed_challenge"].as_str().unwrap())
        .unwrap();
    let answer =
        ChallengeAnswer::open(std::slice::from_ref(&relay.directory.demo_office), &sealed).unwrap();
    let trade = || async {
        json(
            client()
                .post(format!("{}/api/v1/office/session", relay.url))
                .json(&serde_json::json!({ "answer": answer.to_wire().as_str() }))
                .send()
                .await
                .unwrap(),
        )
        .await
    };
    let (status, session) = trade().await;
    assert_eq!(
        (status, session["organisation"].as_str()),
        (200, Some("demo"))
    );
    let (status, body) = trade().await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("challenge-failed"))
    );
}

/// One HTTP/1.1 exchange over a new connection that Tor would have opened for `circuit`,
/// to the relay at `url`.
async fn over_circuit(url: &str, circuit: u16, request: Vec<u8>) -> (u16, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut bytes =
        format!("PROXY TCP6 fc00:dead:beef:4dad::{circuit:x} ::1 1 80\r\n").into_bytes();
    bytes.extend_from_slice(&request);
    stream.write_all(&bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut answer))
        .await
        .expect("the relay answers")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|status| status.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

/// A report through the form without JavaScript, as Tor Browser would send it over
/// `circuit`: the form page, then the post with its token first.
async fn report_over_circuit(url: &str, circuit: u16, text: &str) -> (u16, String) {
    let get = b"GET /report?lang=en HTTP/1.1\r\nHost: relay\r\nConnection: close\r\n\r\n".to_vec();
    let (status, page) = over_circuit(url, circuit, get).await;
    assert_eq!(status, 200, "{page}");
    let token = form_token(&page);
    let boundary = "meldpunt-test-boundary";
    let mut body = String::new();
    for (name, value) in [
        ("form_token", token.as_str()),
        ("lang", "en"),
        ("organisation", "demo"),
        ("recipient", "demo/integrity-office"),
        ("body", text),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    let mut post = format!(
        "POST /report?lang=en HTTP/1.1\r\nHost: relay\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    post.extend_from_slice(body.as_bytes());
    over_circuit(url, circuit, post).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_flooding_client_cannot_lock_an_honest_reporter_out_of_the_form_without_javascript() {
    let relay = Relay::start(RelayOptions {
        extra_config: "tor_circuit_ids = true\n[web]\nminimum_form_seconds = 0\nno_script_submissions_per_minute = 10\nno_script_submissions_per_circuit = 2\n".into(),
        ..RelayOptions::default()
    });
    // A connection that does not come through the onion service is not served at all.
    assert!(client()
        .get(format!("{}/report", relay.url))
        .send()
        .await
        .is_err());

    // The flood: one client on three circuits in turn, posting as fast as the relay answers
    // until the honest reporter is done (at least 30 posts, at most 300).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flood = {
        let url = relay.url.clone();
        let stop = std::sync::Arc::clone(&stop);
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for round in 0..300u16 {
                if round >= 30 && stop.load(std::sync::atomic::Ordering::Relaxed) {
                    break;
                }
                statuses.push(report_over_circuit(&url, 1 + round % 3, "spam").await.0);
            }
            statuses
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (status, page) = report_over_circuit(&relay.url, 9, "een eerlijke melding").await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let statuses = flood.await.unwrap();
    assert_eq!(status, 201, "the honest report was refused: {page}");
    assert!(page.contains("id=\"receipt-code\""));
    assert!(statuses.len() >= 30);
    assert!(
        statuses.iter().all(|status| [201, 429].contains(status)),
        "{statuses:?}"
    );
    // Each circuit gets its share of 2 a minute (twice, if the flood outlasted a minute).
    let admitted = statuses.iter().filter(|status| **status == 201).count();
    assert!(
        (6..=12).contains(&admitted),
        "the flooder gets its circuits' shares and no more: {admitted}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_office_cli_pays_a_stamp_when_its_challenges_are_flooded() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[limits]\noffice_challenges_per_minute = 1\n".into(),
        ..RelayOptions::default()
    });
    let reporter = meldpunt_end_to_end::User::new();
    reporter.report(
        &relay,
        "Een melding terwijl iemand de aanmelding overspoelt.",
    );
    // Someone has used this minute's free challenge for demo.
    assert_eq!(ask_challenge(&relay, "demo", None).await.0, 200);
    let office = meldpunt_end_to_end::User::new();
    let identity = office.path("office.key");
    meldpunt_end_to_end::write_identity(&identity, &relay.directory.demo_office);
    let key = relay.directory.signing_key.directory_key().to_string();
    let store = office.path("store");
    let arguments = [
        "--json",
        "inbox",
        "sync",
        "--identity",
        identity.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--directory-key",
        &key,
    ];
    let output = tokio::task::spawn_blocking({
        let relay_url = relay.url.clone();
        let arguments: Vec<String> = arguments
            .iter()
            .map(|argument| argument.to_string())
            .collect();
        move || {
            let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
            office.run_at(&relay_url, &arguments, None)
        }
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("anti-abuse work"), "{stderr}");
    let synced: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(synced["arrived"][0]["kind"], "report");
}

meldpunt_end_to_end::on_both_backends!(
    a_mailbox_holds_no_more_than_its_byte_quota_on_each_side,
    stamps_issued_far_below_the_current_difficulty_are_refused,
    office_challenges_are_rate_limited_and_write_nothing_until_answered,
);
