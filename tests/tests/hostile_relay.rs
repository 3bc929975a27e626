//! A hostile relay against the real CLI: each way a relay operator could misbehave with a
//! conversation, and what the clients answer with. A message that does not open or does not
//! fit the thread is never shown as genuine, and never stops anything: the reporter's
//! `meldpunt check` shows it in its place as "a message could not be read" with the reason
//! (and still shows the rest), the office's `meldpunt inbox sync` quarantines it with the
//! reason and files the rest. A directory the relay forges, or a report it withholds or
//! swaps, is refused outright (exit code 5).
//!
//! The thread every test starts from (positions in the mailbox; sequence numbers per
//! author): 1 report (reporter 1), 2 acknowledgement (office 1), 3 follow-up (reporter 2),
//! 4 reply with attachment (office 2), 5 reply with attachment (office 3), 6 follow-up
//! (reporter 3).
//!
//! What no client can see, by design, is in docs/threat-model.md: messages withheld from the
//! end of a thread, and how the two sides' messages interleave.

use std::path::PathBuf;

use meldpunt_crypto::{Message, ReceiptCode};
use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
use meldpunt_end_to_end::{client, write_identity, Relay, RelayOptions, User};

struct Conversation {
    relay: Relay,
    reporter: User,
    office: User,
    code_file: PathBuf,
    code: ReceiptCode,
    identity: String,
    store: String,
    key: String,
}

impl Conversation {
    fn office_arguments<'a>(&'a self, command: &'a str) -> Vec<&'a str> {
        self.office_arguments_with(command, &self.store)
    }

    /// `meldpunt inbox COMMAND` as this office, with the case store at `store`.
    fn office_arguments_with<'a>(&'a self, command: &'a str, store: &'a str) -> Vec<&'a str> {
        vec![
            "inbox",
            command,
            "--identity",
            &self.identity,
            "--store",
            store,
            "--directory-key",
            &self.key,
        ]
    }

    fn report(&self, text: &str) -> String {
        self.reporter.report(&self.relay, text)
    }

    fn follow_up(&self, text: &str) {
        self.reporter.ok(
            &self.relay,
            &[
                "follow-up",
                "--receipt-file",
                self.code_file.to_str().unwrap(),
                "--directory-key",
                &self.key,
                "--message-file",
                "-",
            ],
            Some(text),
        );
    }

    fn office_reply(&self, case: &str, extra: &[&str], stdin: Option<&str>) {
        let mut arguments = self.office_arguments("reply");
        arguments.insert(2, case);
        arguments.extend_from_slice(extra);
        self.office.ok(&self.relay, &arguments, stdin);
    }

    fn sync(&self) {
        self.office
            .ok(&self.relay, &self.office_arguments("sync"), None);
    }

    fn case(&self) -> String {
        let listed = self
            .office
            .json(&self.relay, &self.office_arguments("list"), None);
        listed["cases"][0]["case"].as_str().unwrap().to_owned()
    }

    /// The reporter checks through `url`; returns the exit code and what it printed
    /// (standard output, then standard error).
    fn check_at(&self, url: &str, extra: &[&str]) -> (Option<i32>, String) {
        let mut arguments = vec![
            "check",
            "--receipt-file",
            self.code_file.to_str().unwrap(),
            "--directory-key",
            &self.key,
        ];
        arguments.extend_from_slice(extra);
        printed(self.reporter.run_at(url, &arguments, None))
    }

    /// A new office store syncs the whole organisation through `url`; returns the exit
    /// code and what it printed.
    fn fresh_office_sync_at(&self, url: &str) -> (Option<i32>, String) {
        let office = User::new();
        let store = office.path("store");
        let arguments = self.office_arguments_with("sync", store.to_str().unwrap());
        printed(office.run_at(url, &arguments, None))
    }

    /// The attachment ids of the office's replies at positions 4 and 5.
    async fn reply_attachments(&self) -> (String, String) {
        let mut ids = Vec::new();
        for position in [4, 5] {
            let sealed = client()
                .get(format!(
                    "{}/api/v1/mailbox/messages/{position}",
                    self.relay.url
                ))
                .header(
                    "authorization",
                    format!("Bearer {}", self.code.mailbox_token().to_wire().as_str()),
                )
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            let message = Message::open(&[self.code.reply_identity()], &sealed).unwrap();
            ids.push(message.attachments[0].location.clone());
        }
        (ids[0].clone(), ids[1].clone())
    }
}

fn conversation() -> Conversation {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let code_file = reporter.path("code.txt");
    let mut conversation = Conversation {
        identity: identity.display().to_string(),
        store: office.path("store").display().to_string(),
        code: ReceiptCode::generate(),
        relay,
        reporter,
        office,
        code_file,
        key,
    };
    let code = conversation.report("Melding: de kas klopt niet.");
    std::fs::write(&conversation.code_file, &code).unwrap();
    conversation.code = ReceiptCode::parse(&code).unwrap();
    conversation.sync();
    let case = conversation.case();
    conversation.office_reply(&case, &["--ack"], None);
    conversation.follow_up("Aanvulling een.");
    for (name, text) in [("a.txt", "eerste bijlage"), ("b.txt", "tweede bijlage")] {
        let path = conversation.office.path(name);
        std::fs::write(&path, text).unwrap();
        conversation.office_reply(
            &case,
            &["--message-file", "-", "--attach", path.to_str().unwrap()],
            Some("Een antwoord met een bijlage."),
        );
    }
    conversation.follow_up("Aanvulling twee.");
    // Honest, the whole thread reads.
    let (status, stderr) = conversation.check_at(&conversation.relay.url, &[]);
    assert_eq!(status, Some(0), "{stderr}");
    conversation
}

/// The exit code, and standard output followed by standard error.
fn printed(output: std::process::Output) -> (Option<i32>, String) {
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

/// Refused outright: exit code 5 and the reason.
fn assert_refused(outcome: (Option<i32>, String), expected: &str) {
    let (status, printed) = outcome;
    assert_eq!(status, Some(5), "{printed}");
    assert!(
        printed.contains(expected),
        "expected {expected:?} in: {printed}"
    );
}

/// The reporter's `check` shows the conversation (exit 0) with the misfit marked in its place
/// with the reason, and every genuine message still shown.
fn assert_marked(outcome: (Option<i32>, String), expected: &str) {
    let (status, printed) = outcome;
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("a message could not be read") && printed.contains(expected),
        "expected a marked message with {expected:?} in: {printed}"
    );
    for genuine in ["Melding: de kas klopt niet.", "Aanvulling twee."] {
        assert!(
            printed.contains(genuine),
            "{genuine:?} missing from: {printed}"
        );
    }
}

/// The office's sync files what fits (exit 0) and quarantines the misfit with the reason.
fn assert_quarantined(outcome: (Option<i32>, String), expected: &str) {
    let (status, printed) = outcome;
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("QUARANTINED") && printed.contains(expected),
        "expected a quarantined message with {expected:?} in: {printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_withheld_from_the_middle_is_caught_by_the_reporter() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Withhold { position: 3 },
    )
    .await;
    // The next follow-up is genuine and shown, saying one before it is missing.
    let (status, printed) = conversation.check_at(&hostile.url, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains(
            "1 earlier message(s) of this author are missing here: the relay withheld them"
        ),
        "{printed}"
    );
    assert!(!printed.contains("Aanvulling een."), "{printed}");
    assert!(printed.contains("Aanvulling twee."), "{printed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_withheld_from_the_middle_is_caught_by_the_office() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Withhold { position: 3 },
    )
    .await;
    // A fresh office store syncs the whole organisation through the hostile relay: the
    // report and everything else are filed, the next follow-up with a warning.
    let (status, printed) = conversation.fresh_office_sync_at(&hostile.url);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("new report"), "{printed}");
    assert!(
        printed.contains("new follow-up from the reporter — WARNING: 1 earlier message(s) of its author never arrived here"),
        "{printed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_old_message_is_caught() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Replay { original: 3 },
    )
    .await;
    assert_marked(
        conversation.check_at(&hostile.url, &[]),
        "out of sequence (expected number 4, found 2)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_messages_are_caught() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Swap {
            first: 4,
            second: 5,
        },
    )
    .await;
    // The later reply comes first (one missing before it); the earlier one after it is a
    // step back.
    assert_marked(
        conversation.check_at(&hostile.url, &[]),
        "office's messages are out of sequence (expected number 4, found 2)",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_messages_are_caught() {
    let conversation = conversation();
    let hostile = HostileRelay::start(&conversation.relay.url, Misbehaviour::Duplicate).await;
    assert_marked(conversation.check_at(&hostile.url, &[]), "out of sequence");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_mailboxs_ciphertext_is_refused_by_the_reporter() {
    let conversation = conversation();
    let other = ReceiptCode::parse(&conversation.report("Een andere melding.")).unwrap();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::FromOtherMailbox {
            position: 1,
            other_token: other.mailbox_token().to_wire().to_string(),
        },
    )
    .await;
    // The report itself: without it nothing else can be checked, so nothing is shown.
    assert_refused(
        conversation.check_at(&hostile.url, &[]),
        "your report cannot be read",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_moved_into_another_mailbox_is_caught_by_the_office() {
    let conversation = conversation();
    let other = ReceiptCode::parse(&conversation.report("Een andere melding.")).unwrap();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Move {
            from: other.mailbox_token().mailbox_id().to_wire(),
            to: conversation.code.mailbox_token().mailbox_id().to_wire(),
        },
    )
    .await;
    assert_quarantined(
        conversation.fresh_office_sync_at(&hostile.url),
        "belongs to another mailbox",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_sealed_object_is_refused() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Truncate { position: 2 },
    )
    .await;
    assert_marked(
        conversation.check_at(&hostile.url, &[]),
        "damaged or was altered",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attachment_swapped_for_another_is_refused() {
    let conversation = conversation();
    let (first, second) = conversation.reply_attachments().await;
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::SwapAttachment {
            asked: first,
            served: second,
        },
    )
    .await;
    let folder = tempfile::tempdir().unwrap();
    let (status, stderr) = conversation.check_at(
        &hostile.url,
        &["--save-attachments", folder.path().to_str().unwrap()],
    );
    assert_eq!(status, Some(5), "{stderr}");
    assert!(
        stderr.contains("a.txt") || stderr.contains("digest"),
        "{stderr}"
    );
    assert!(
        !folder.path().join("a.txt").exists(),
        "a swapped attachment was saved"
    );
}

/// The reporter (with the pinned key) tries to report through `url`.
fn report_at(conversation: &Conversation, user: &User, url: &str) -> (Option<i32>, String) {
    let output = user.run_at(
        url,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &conversation.key,
            "--message-file",
            "-",
        ],
        Some("Een melding via een vijandige relay."),
    );
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn far_future() -> meldpunt_crypto::Day {
    meldpunt_crypto::Day::from_calendar_date(2099, 12, 31).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_with_a_swapped_recipient_key_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    // The relay puts its own key in place of the office's, keeping the signature.
    let honest = directory.signed();
    let attacker = meldpunt_crypto::IdentityKey::generate()
        .recipient()
        .to_string();
    let mut envelope: serde_json::Value = serde_json::from_slice(&honest).unwrap();
    use base64::Engine as _;
    let base64 = base64::engine::general_purpose::STANDARD;
    let payload = String::from_utf8(
        base64
            .decode(envelope["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap()
    .replace(&directory.demo_office.recipient().to_string(), &attacker);
    envelope["payload"] = base64.encode(payload).into();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Directory(envelope.to_string().into_bytes()),
    )
    .await;
    assert_refused(
        report_at(&conversation, &User::new(), &hostile.url),
        "signature",
    );
}

/// Version 2 of the test directory as a relay might forge it with the office's own signing
/// key (stolen, or a colleague's): continuing version 1, with the attacker's key in place of
/// the demo office's.
fn forged_version_two(directory: &meldpunt_end_to_end::TestDirectory) -> Vec<u8> {
    let first = meldpunt_crypto::SignedDirectory::from_bytes(directory.signed()).unwrap();
    let mut draft = first
        .verify_history(&directory.signing_key.directory_key())
        .unwrap();
    draft.organisations[0].recipients[0].keys[0] =
        meldpunt_crypto::IdentityKey::generate().recipient();
    let (_, forged) = draft.sign_after(&first, &directory.signing_key).unwrap();
    forged.as_bytes().to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_directory_history_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    let user = User::new();
    // The user sees version 2 as everyone else does (and pins it)...
    let honest = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.with_newcomer(2),
            history: vec![directory.signed(), directory.with_newcomer(2)],
        },
    )
    .await;
    let (status, stderr) = report_at(&conversation, &user, &honest.url);
    assert_eq!(status, Some(0), "{stderr}");
    let address = honest.url.clone();
    drop(honest);
    // ...then the relay shows them another version 2, validly signed and linked to version
    // 1: a fork of the history, one for this reporter and one for everyone else.
    let fork = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: forged_version_two(directory),
            history: vec![directory.signed(), forged_version_two(directory)],
        },
    )
    .await;
    assert_refused(report_at(&conversation, &user, &fork.url), "fork");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_history_with_a_key_swapped_in_the_middle_or_a_gap_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    let user = User::new();
    // The user pins version 1 (pins are per relay address: every step below is served at
    // the same one).
    let first = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.signed(),
            history: vec![directory.signed()],
        },
    )
    .await;
    let (status, stderr) = report_at(&conversation, &user, &first.url);
    assert_eq!(status, Some(0), "{stderr}");
    let address = first.url.clone();
    drop(first);
    // The relay serves the genuine version 3, but a history whose version 2 is swapped for
    // one with the attacker's key (which it may have shown this reporter in between).
    let swapped = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.signed_version(3),
            history: vec![
                directory.signed(),
                forged_version_two(directory),
                directory.signed_version(3),
            ],
        },
    )
    .await;
    assert_refused(
        report_at(&conversation, &user, &swapped.url),
        "does not name version 2",
    );
    drop(swapped);
    // Leaving version 2 out is a gap.
    let gap = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.signed_version(3),
            history: vec![directory.signed(), directory.signed_version(3)],
        },
    )
    .await;
    assert_refused(report_at(&conversation, &user, &gap.url), "gap");
    drop(gap);
    // The honest history passes (version 2 as signed_version signs it).
    let honest = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.signed_version(3),
            history: vec![
                directory.signed(),
                directory.signed_version(2),
                directory.signed_version(3),
            ],
        },
    )
    .await;
    let (status, stderr) = report_at(&conversation, &user, &honest.url);
    assert_eq!(status, Some(0), "{stderr}");
    // `directory history` lists every version with its hash and what changed.
    let output = user.run_at(
        &honest.url,
        &[
            "directory",
            "history",
            "--directory-key",
            &conversation.key,
            "--json",
        ],
        None,
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let listed: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let versions: Vec<u64> = listed["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|version| version["version"].as_u64().unwrap())
        .collect();
    assert_eq!(versions, [1, 2, 3]);
    let third = meldpunt_crypto::SignedDirectory::from_bytes(directory.signed_version(3)).unwrap();
    assert_eq!(
        listed["versions"][2]["hash"],
        third.hash().unwrap().to_wire()
    );
    drop(honest);
    // Against the relay with the swapped version, it refuses.
    let swapped = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::DirectoryHistory {
            current: directory.signed_version(3),
            history: vec![
                directory.signed(),
                forged_version_two(directory),
                directory.signed_version(3),
            ],
        },
    )
    .await;
    let output = user.run_at(
        &swapped.url,
        &["directory", "history", "--directory-key", &conversation.key],
        None,
    );
    assert_eq!(output.status.code(), Some(5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directory_signed_by_another_key_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    let attacker = meldpunt_crypto::IdentityKey::generate().recipient();
    let forged = directory.signed_as(
        2,
        far_future(),
        &attacker,
        &meldpunt_crypto::DirectorySigningKey::generate(),
    );
    let hostile =
        HostileRelay::start(&conversation.relay.url, Misbehaviour::Directory(forged)).await;
    assert_refused(
        report_at(&conversation, &User::new(), &hostile.url),
        "different key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_directory_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    let expired = directory.signed_as(
        2,
        meldpunt_crypto::Day::from_calendar_date(2026, 1, 2).unwrap(),
        &directory.demo_office.recipient(),
        &directory.signing_key,
    );
    let hostile =
        HostileRelay::start(&conversation.relay.url, Misbehaviour::Directory(expired)).await;
    assert_refused(
        report_at(&conversation, &User::new(), &hostile.url),
        "expired",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rolled_back_directory_is_refused() {
    let conversation = conversation();
    let directory = &conversation.relay.directory;
    let user = User::new();
    let newer = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::Directory(directory.signed_version(5)),
    )
    .await;
    let (status, stderr) = report_at(&conversation, &user, &newer.url);
    assert_eq!(status, Some(0), "{stderr}");
    // The same relay address later serves an older, validly signed version.
    let address = newer.url.clone();
    drop(newer);
    let older = HostileRelay::start_at(
        &address,
        &conversation.relay.url,
        Misbehaviour::Directory(directory.signed_version(3)),
    )
    .await;
    assert_refused(
        report_at(&conversation, &user, &older.url),
        "older than version 5",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follow_up_forged_by_the_relay_is_caught() {
    let conversation = conversation();
    // The relay sees the mailbox token in flight and seals a follow-up of its own to the
    // office's public keys, with the right mailbox and the next number — but it cannot
    // sign it with the key only the receipt code derives.
    let code = &conversation.code;
    let mut forged = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 4,
        kind: meldpunt_crypto::MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        written_on: "2026-11-28".parse().unwrap(),
        body: String::from("Ik trek mijn melding in.").into(),
        attachments: vec![],
    };
    ReceiptCode::generate()
        .follow_up_signing_key()
        .sign(&mut forged);
    let sealed = forged
        .seal(&[
            conversation.relay.directory.demo_office.recipient(),
            code.reply_identity().recipient(),
        ])
        .unwrap();
    let response = conversation
        .relay
        .post_sealed(
            "/api/v1/mailbox/messages",
            &format!("Bearer {}", code.mailbox_token().to_wire().as_str()),
            sealed.into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 201);
    let output = conversation.office.run(
        &conversation.relay,
        &conversation.office_arguments("sync"),
        None,
    );
    assert_quarantined(printed(output), "not signed by the reporter's key");
    assert_marked(
        conversation.check_at(&conversation.relay.url, &[]),
        "not signed by the reporter's key",
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_failure_mid_sync_loses_no_message() {
    let conversation = conversation();
    // A new follow-up the office has not synced; the relay fails the first fetch of it.
    conversation.follow_up("Aanvulling drie.");
    let newest = newest_office_number(&conversation).await;
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::FailOnce { number: newest },
    )
    .await;
    let output =
        conversation
            .office
            .run_at(&hostile.url, &conversation.office_arguments("sync"), None);
    assert_eq!(
        output.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The next sync (the relay behaving again) still gets it.
    let (status, printed) = printed(conversation.office.run_at(
        &hostile.url,
        &conversation.office_arguments("sync"),
        None,
    ));
    assert_eq!(status, Some(0), "{printed}");
    assert!(
        printed.contains("new follow-up from the reporter"),
        "{printed}"
    );
}

/// The highest relay number in the office's listing.
async fn newest_office_number(conversation: &Conversation) -> u64 {
    let session = meldpunt_end_to_end::office_session(
        &conversation.relay,
        "demo",
        &conversation.relay.directory.demo_office,
    )
    .await;
    let listing: serde_json::Value = conversation
        .relay
        .get("/api/v1/office/messages?after=0&limit=1000", &session)
        .await
        .json()
        .await
        .unwrap();
    listing["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["number"].as_u64().unwrap())
        .max()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_entry_in_the_reporters_listing_is_marked_and_no_follow_up_takes_its_number() {
    let conversation = conversation();
    // The reporter's own last follow-up (position 6) is listed with an author that is a
    // terminal escape sequence.
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::MalformMailboxEntry { position: 6 },
    )
    .await;
    let (status, printed) = conversation.check_at(&hostile.url, &[]);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("malformed"), "{printed}");
    assert!(printed.contains("Aanvulling een."), "{printed}");
    assert!(
        !printed.contains('\u{1b}'),
        "the relay's text reached the terminal raw: {printed:?}"
    );
    // A follow-up through this relay would be numbered as if message 6 did not exist: it is
    // refused, and nothing is sent.
    let (status, printed) = printed_follow_up(&conversation, &hostile.url, "Aanvulling drie.");
    assert_eq!(status, Some(5), "{printed}");
    assert!(printed.contains("message 6"), "{printed}");
    let (status, honest) = conversation.check_at(&conversation.relay.url, &[]);
    assert_eq!(status, Some(0), "{honest}");
    assert!(honest.contains("Aanvulling twee."), "{honest}");
    assert!(!honest.contains("Aanvulling drie."), "{honest}");
}

/// The reporter sends a follow-up through `url`; the exit code and what it printed.
fn printed_follow_up(conversation: &Conversation, url: &str, text: &str) -> (Option<i32>, String) {
    printed(conversation.reporter.run_at(
        url,
        &[
            "follow-up",
            "--receipt-file",
            conversation.code_file.to_str().unwrap(),
            "--directory-key",
            &conversation.key,
            "--message-file",
            "-",
        ],
        Some(text),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_listing_entry_is_reported_and_stops_nothing() {
    let conversation = conversation();
    // The third message of the organisation (the reporter's follow-up) is listed with an
    // author that does not exist: the office reads every other entry, reports this one, and
    // the next sync goes on past it.
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::MalformOfficeEntry { number: 3 },
    )
    .await;
    let office = User::new();
    let store = office.path("store");
    let store = store.to_str().unwrap();
    let (status, synced) = printed(office.run_at(
        &hostile.url,
        &conversation.office_arguments_with("sync", store),
        None,
    ));
    assert_eq!(status, Some(0), "{synced}");
    assert!(synced.contains("new report"), "{synced}");
    assert!(synced.contains("message 3 QUARANTINED"), "{synced}");
    assert!(synced.contains("malformed"), "{synced}");
    let (status, again) = printed(office.run_at(
        &hostile.url,
        &conversation.office_arguments_with("sync", store),
        None,
    ));
    assert_eq!(status, Some(0), "{again}");
    assert!(!again.contains("QUARANTINED"), "{again}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lying_positions_and_days_cannot_make_a_case_partial_or_break_deadlines() {
    let conversation = conversation();
    let hostile = HostileRelay::start(
        &conversation.relay.url,
        Misbehaviour::RelabelOfficeListing {
            position_offset: 10,
            day: "9999-12-31".into(),
        },
    )
    .await;
    let office = User::new();
    let store = office.path("store");
    let store = store.to_str().unwrap();
    let (status, synced) = printed(office.run_at(
        &hostile.url,
        &conversation.office_arguments_with("sync", store),
        None,
    ));
    assert_eq!(status, Some(0), "{synced}");
    assert!(synced.contains("new report"), "{synced}");
    assert!(!synced.contains("partial"), "{synced}");
    assert!(!synced.contains("QUARANTINED"), "{synced}");
    // The far-future day was clamped to today: list and show work, nothing is overdue.
    let (status, listed) = printed(
        office.run_at(
            &hostile.url,
            &[
                conversation.office_arguments_with("list", store),
                vec!["--json"],
            ]
            .concat(),
            None,
        ),
    );
    assert_eq!(status, Some(0), "{listed}");
    assert!(!listed.contains("9999"), "{listed}");
    let listed: serde_json::Value = serde_json::from_str(listed.lines().next().unwrap()).unwrap();
    let case = listed["cases"][0]["case"].as_str().unwrap().to_owned();
    let mut show = conversation.office_arguments_with("show", store);
    show.insert(2, &case);
    let (status, shown) = printed(office.run_at(&hostile.url, &show, None));
    assert_eq!(status, Some(0), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_repeats_its_listing_cannot_keep_a_sync_running() {
    let conversation = conversation();
    let hostile =
        HostileRelay::start(&conversation.relay.url, Misbehaviour::RepeatOfficeListing).await;
    let (status, printed) = conversation.fresh_office_sync_at(&hostile.url);
    assert_eq!(status, Some(0), "{printed}");
    assert!(printed.contains("new report"), "{printed}");
}
