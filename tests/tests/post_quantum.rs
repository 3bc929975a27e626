//! Hybrid post-quantum keys end to end (issue 18): an office whose members and offline
//! recovery key are all age `mlkem768x25519` keys, a reporter with the real CLI, the real
//! relay. Everything the relay stores for the case is sealed to hybrid keys only; the
//! recovery key, alone, recovers the case when every laptop is lost.

use std::path::PathBuf;

use meldpunt_end_to_end::{files_under, write_identity, Relay, RelayOptions, User};
use serde_json::Value;

/// The age header of a sealed object (up to its MAC line).
fn header(sealed: &[u8]) -> String {
    let text = String::from_utf8_lossy(&sealed[..sealed.len().min(20_000)]).into_owned();
    let end = text.find("\n---").expect("an age header");
    text[..end].to_owned()
}

/// Every stanza of `sealed` is a hybrid one, and there is one per key it was sealed to (age's
/// "grease" stanza aside).
fn assert_only_hybrid_stanzas(sealed: &[u8], keys: usize, what: &str) {
    let header = header(sealed);
    let stanzas: Vec<&str> = header
        .lines()
        .filter(|line| line.starts_with("-> "))
        .collect();
    let hybrid = stanzas
        .iter()
        .filter(|line| line.starts_with("-> mlkem768x25519 "))
        .count();
    assert_eq!(hybrid, keys, "{what}: {stanzas:?}");
    assert!(
        !stanzas.iter().any(|line| line.starts_with("-> X25519 ")),
        "{what} has a classic stanza: {stanzas:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_on_hybrid_keys_works_the_whole_case_and_its_recovery_key_alone_recovers_it() {
    let relay = Relay::start(RelayOptions {
        post_quantum: true,
        ..RelayOptions::default()
    });
    let directory = &relay.directory;
    let key = directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &directory.demo_office);
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    let store = store.to_str().unwrap();

    // The reporter reports with an attachment.
    let attachment = reporter.path("notulen.txt");
    let attachment_text = "Notulen van het overleg: de offertes zijn aangepast. ATTACHMENT-7f1e";
    std::fs::write(&attachment, attachment_text).unwrap();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--attach",
            attachment.to_str().unwrap(),
            "--message-file",
            "-",
        ],
        Some("De offertes worden achteraf aangepast."),
    );
    assert_eq!(answer["post_quantum"], true);
    let code = answer["receipt_code"].as_str().unwrap().to_owned();
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    let code_file = code_file.to_str().unwrap();

    // The office (a hybrid identity) syncs, reads and replies.
    office.ok(
        &relay,
        &[
            "inbox",
            "sync",
            "--identity",
            identity,
            "--store",
            store,
            "--directory-key",
            &key,
        ],
        None,
    );
    let listed = office.json(
        &relay,
        &["inbox", "list", "--identity", identity, "--store", store],
        None,
    );
    let case = listed["cases"][0]["case"].as_str().unwrap().to_owned();
    office.ok(
        &relay,
        &[
            "inbox",
            "reply",
            &case,
            "--message-file",
            "-",
            "--identity",
            identity,
            "--store",
            store,
        ],
        Some("Dank u, wij onderzoeken het."),
    );
    // The reporter reads the reply and follows up.
    let thread = reporter.json(&relay, &["check", "--receipt-file", code_file], None);
    assert_eq!(
        thread["messages"][1]["body"],
        "Dank u, wij onderzoeken het."
    );
    reporter.ok(
        &relay,
        &[
            "follow-up",
            "--receipt-file",
            code_file,
            "--message-file",
            "-",
        ],
        Some("Aanvulling: sinds maart."),
    );

    // Everything the relay holds for the case is sealed to hybrid keys only: the report and
    // follow-up to the two members, the recovery key and the reporter's reply key; the reply
    // to the same; the attachment to the members, the recovery key and the reply key.
    let reporter_code = meldpunt_crypto::ReceiptCode::parse(&code).unwrap();
    let bearer = format!(
        "Bearer {}",
        reporter_code.mailbox_token().to_wire().as_str()
    );
    let mut sealed_report = Vec::new();
    for position in 1..=3 {
        let response = relay
            .get(&format!("/api/v1/mailbox/messages/{position}"), &bearer)
            .await;
        assert_eq!(response.status(), 200);
        let sealed = response.bytes().await.unwrap();
        assert_only_hybrid_stanzas(&sealed, 4, &format!("message {position}"));
        if position == 1 {
            sealed_report = sealed.to_vec();
        }
    }
    let [reply_identity, _] = reporter_code.reply_identities();
    let report = meldpunt_crypto::Message::open(&[reply_identity], &sealed_report).unwrap();
    let location = &report.attachments[0].location;
    let response = relay
        .get(&format!("/api/v1/mailbox/attachments/{location}"), &bearer)
        .await;
    assert_eq!(response.status(), 200);
    assert_only_hybrid_stanzas(&response.bytes().await.unwrap(), 4, "the attachment");

    // Every laptop is lost. The recovery key, kept on paper, alone recovers the case: it
    // logs in (the relay's challenge is sealed to it too), syncs, reads every message and
    // exports the attachment.
    let recovery = User::new();
    let recovery_identity = recovery.path("recovery.key");
    write_identity(
        &recovery_identity,
        directory.demo_recovery.as_ref().expect("a recovery key"),
    );
    let recovery_identity = recovery_identity.to_str().unwrap();
    let recovery_store = recovery.path("store");
    let recovery_store = recovery_store.to_str().unwrap();
    recovery.ok(
        &relay,
        &[
            "inbox",
            "sync",
            "--identity",
            recovery_identity,
            "--store",
            recovery_store,
            "--directory-key",
            &key,
        ],
        None,
    );
    let shown = recovery.json(
        &relay,
        &[
            "inbox",
            "show",
            &case,
            "--identity",
            recovery_identity,
            "--store",
            recovery_store,
        ],
        None,
    );
    let bodies: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        bodies,
        [
            "De offertes worden achteraf aangepast.",
            "Dank u, wij onderzoeken het.",
            "Aanvulling: sinds maart."
        ]
    );
    let export = recovery.path("export");
    recovery.ok(
        &relay,
        &[
            "inbox",
            "export",
            &case,
            "--out",
            export.to_str().unwrap(),
            "--identity",
            recovery_identity,
            "--store",
            recovery_store,
        ],
        None,
    );
    let exported: Vec<PathBuf> = files_under(&export.join("attachments"));
    assert_eq!(exported.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&exported[0]).unwrap(),
        attachment_text
    );
    // A recovery key has no office key in the directory: it reads, it cannot answer as the
    // office (the reporter would refuse such a reply), and the CLI says so before sending.
    let refused = recovery.run(
        &relay,
        &[
            "inbox",
            "reply",
            &case,
            "--message-file",
            "-",
            "--identity",
            recovery_identity,
            "--store",
            recovery_store,
        ],
        Some("Een antwoord van de herstelsleutel."),
    );
    assert!(!refused.status.success());
    let thread: Value = reporter.json(&relay, &["check", "--receipt-file", code_file], None);
    assert_eq!(thread["messages"].as_array().unwrap().len(), 3);
}
