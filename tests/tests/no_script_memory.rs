//! A reporter's browser without JavaScript has the relay open the conversation in memory.
//! Someone who fills their own mailbox with large messages must not be able to take the
//! relay's memory with a few posts: a page of a conversation opens a bounded number of
//! bytes, and only `concurrent_posts` posts run at once.
//!
//! In its own test binary: it stores half a gigabyte and measures the relay's peak memory.

use meldpunt_crypto::{Message, MessageKind};
use meldpunt_end_to_end::{client, Relay, RelayOptions, Reporter};

/// The documented bound (docs/benchmarks.md): the relay's peak resident memory while
/// serving these pages.
const PEAK_BOUND_KIB: u64 = 256 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_conversations_opened_without_javascript_keep_memory_bounded() {
    let relay = Relay::start(RelayOptions {
        extra_config: "[web]\nminimum_form_seconds = 0\nno_script_reads_per_minute = 1000\n".into(),
        ..RelayOptions::default()
    });
    // 1 report and 998 follow-ups of 512 KiB each (ampersands: escaped, each is 5 bytes of
    // HTML), all signed by the reporter: 999 messages, about half a gigabyte sealed.
    let reporter = Reporter::new();
    let created = reporter
        .create(
            &relay,
            "demo",
            reporter.sealed_report(&relay, "De melding."),
        )
        .await;
    assert_eq!(created.status(), 201);
    let keys = vec![
        relay.directory.demo_office.recipient(),
        reporter.code.reply_identity().recipient(),
    ];
    let signing = reporter.code.follow_up_signing_key();
    let body = "&".repeat(meldpunt_crypto::MAXIMUM_BODY_LENGTH);
    let mut sealed_messages = Vec::new();
    for sequence in 2..=999u32 {
        let mut message = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            mailbox: reporter.token().mailbox_id(),
            sequence,
            kind: MessageKind::FollowUp {
                signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            written_on: "2026-11-30".parse().unwrap(),
            body: body.clone().into(),
            attachments: vec![],
        };
        signing.sign(&mut message);
        sealed_messages.push(message.seal(&keys).unwrap().into_bytes());
        // Post in batches so that the test itself never holds them all.
        if sealed_messages.len() == 32 || sequence == 999 {
            for sealed in sealed_messages.drain(..) {
                let response = relay
                    .post_sealed("/api/v1/mailbox/messages", &reporter.bearer(), sealed)
                    .await;
                assert_eq!(response.status(), 201);
            }
        }
    }
    let code = reporter.code.to_written_form().as_str().to_owned();
    let filling_peak = relay.peak_kib();
    // From here on, the peak of the pages alone: reset the high-water mark (Linux
    // clear_refs; the tests run as the relay's user).
    std::fs::write(format!("/proc/{}/clear_refs", relay.pid()), "5").unwrap();
    // Eight concurrent posts of the receipt code (each with its own form token), while
    // health checks keep being answered.
    let mut tokens = Vec::new();
    for _ in 0..8 {
        tokens.push(relay.form_token("/check?lang=en").await);
    }
    let posts: Vec<_> = tokens
        .into_iter()
        .map(|token| {
            let url = format!("{}/check?lang=en", relay.url);
            let code = code.clone();
            tokio::spawn(async move {
                let response = client()
                    .post(url)
                    .form(&[
                        ("form_token", token.as_str()),
                        ("lang", "en"),
                        ("receipt_code", code.as_str()),
                    ])
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.text().await.unwrap())
            })
        })
        .collect();
    for _ in 0..5 {
        let health = client()
            .get(format!("{}/api/v1/health", relay.url))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut served = 0;
    for post in posts {
        let (status, page) = post.await.unwrap();
        // Each is either a page of the conversation or told the relay is busy.
        match status {
            200 => {
                served += 1;
                assert!(page.contains("De melding."), "the report heads every page");
                assert!(page.contains("Show older messages"));
                // The messages the page leaves out are not reported as withheld.
                assert!(
                    !page.contains("withheld"),
                    "a false note of withheld messages"
                );
                assert!(page.len() < 24 << 20, "a page of {} bytes", page.len());
            }
            503 => assert!(page.contains("busy")),
            other => panic!("status {other}: {page}"),
        }
    }
    assert!(served >= 1);
    let peak = relay.peak_kib();
    println!(
        "relay peak memory (VmHWM): {} MiB while storing the messages, {} MiB while serving the pages",
        filling_peak / 1024,
        peak / 1024
    );
    assert!(
        filling_peak < PEAK_BOUND_KIB,
        "{} MiB while storing",
        filling_peak / 1024
    );
    assert!(
        peak < PEAK_BOUND_KIB,
        "the relay's peak memory was {} MiB",
        peak / 1024
    );
    // Still answering.
    let health = client()
        .get(format!("{}/api/v1/health", relay.url))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
}
