//! Hostile messages against the real CLI: a stranger with a free mailbox, a reporter who
//! writes "office" messages, a colleague or relay forging office messages, a relay abusing
//! the office login, and two honest office members who write at the same time. None of them
//! stops an office's intake or a reporter's conversation (invariant 9), and every author is
//! authenticated.

use std::io::Write as _;

use meldpunt_crypto::{
    Day, IdentityKey, Message, MessageKind, ReceiptCode, RecipientAddress, RecipientKey,
};
use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
use meldpunt_end_to_end::{
    office_session, write_identity, Member, Relay, RelayOptions, Reporter, User,
};
use serde_json::Value;

fn address() -> RecipientAddress {
    RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    }
}

fn day() -> Day {
    Day::from_calendar_date(2026, 11, 30).expect("valid")
}

/// Seals `content` to `keys` with stock age semantics but without Meldpunt's padding.
fn sealed_unpadded(keys: &[RecipientKey], content: &[u8]) -> Vec<u8> {
    let recipients: Vec<age::x25519::Recipient> = keys
        .iter()
        .map(|key| key.to_string().parse().expect("an age key"))
        .collect();
    let mut sealed = Vec::new();
    let mut writer = age::Encryptor::with_recipients(
        recipients
            .iter()
            .map(|recipient| recipient as &dyn age::Recipient),
    )
    .expect("recipients")
    .wrap_output(&mut sealed)
    .expect("writer");
    writer.write_all(content).expect("written");
    writer.finish().expect("finished");
    sealed
}

/// The reporter's receipt-code file, for `meldpunt check` and `follow-up`.
fn code_file(user: &User, code: &ReceiptCode) -> String {
    let path = user.path("code.txt");
    std::fs::write(&path, code.to_written_form().as_str()).unwrap();
    path.display().to_string()
}

fn check(user: &User, relay: &Relay, code: &ReceiptCode) -> Value {
    let file = code_file(user, code);
    let key = relay.directory.signing_key.directory_key().to_string();
    user.json(
        relay,
        &["check", "--receipt-file", &file, "--directory-key", &key],
        None,
    )
}

fn follow_up(user: &User, relay: &Relay, code: &ReceiptCode, text: &str) {
    let file = code_file(user, code);
    let key = relay.directory.signing_key.directory_key().to_string();
    user.ok(
        relay,
        &[
            "follow-up",
            "--receipt-file",
            &file,
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ],
        Some(text),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_bad_message_never_stops_the_office_intake() {
    let relay = Relay::start(RelayOptions::default());
    let office_keys = vec![
        relay.directory.demo_office.recipient(),
        relay.directory.demo_colleague.recipient(),
    ];
    // Mailbox A: a stranger's. Its first message is a follow-up, not a report; then a
    // report sealed without padding, bad JSON, an unknown version, an unsigned follow-up,
    // and a follow-up that names another mailbox.
    let stranger = Reporter::new();
    let signed_follow_up = |mailbox, sequence| {
        let mut message = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            mailbox,
            sequence,
            kind: MessageKind::FollowUp {
                signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            written_on: day(),
            body: String::from("aanvulling").into(),
            attachments: vec![],
        };
        stranger.code.follow_up_signing_key().sign(&mut message);
        message
    };
    let first = signed_follow_up(stranger.token().mailbox_id(), 1)
        .seal(&office_keys)
        .unwrap()
        .into_bytes();
    assert_eq!(stranger.create(&relay, "demo", first).await.status(), 201);
    let report = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: stranger.token().mailbox_id(),
        sequence: 1,
        kind: MessageKind::Report {
            reply_key: stranger.code.reply_identity().recipient(),
            follow_up_key: stranger.code.follow_up_signing_key().follow_up_key(),
            recipients: vec![address()],
            conversation: meldpunt_crypto::Conversation::Report,
            earlier_consultation: None,
        },
        written_on: day(),
        body: String::from("ongepad").into(),
        attachments: vec![],
    };
    let mailbox = stranger.token().mailbox_id().to_wire();
    let unsigned = format!(
        r#"{{"meldpunt-message":3,"kind":"follow-up","mailbox":"{mailbox}","sequence":2,"written_on":"2026-11-30","body":"x"}}"#
    );
    let elsewhere = signed_follow_up(Reporter::new().token().mailbox_id(), 2);
    let padded = |content: &[u8]| {
        meldpunt_crypto::seal(&office_keys, content)
            .unwrap()
            .into_bytes()
    };
    let junk: Vec<Vec<u8>> = vec![
        sealed_unpadded(&office_keys, &report.encode().unwrap()),
        padded(b"{\"meldpunt-message\":3,"),
        padded(br#"{"meldpunt-message":9,"kind":"follow-up"}"#),
        padded(unsigned.as_bytes()),
        elsewhere.seal(&office_keys).unwrap().into_bytes(),
    ];
    for sealed in junk {
        let response = relay
            .post_sealed("/api/v1/mailbox/messages", &stranger.bearer(), sealed)
            .await;
        assert_eq!(response.status(), 201);
    }
    // Mailbox B: an honest report through the CLI.
    let honest = User::new();
    honest.report(&relay, "Een echte melding na de rommel.");

    let member = Member::new(&relay, &relay.directory.demo_office);
    let first = member.sync(&relay);
    let arrived = first["arrived"].as_array().unwrap();
    assert_eq!(arrived.len(), 1, "{first}");
    assert_eq!(arrived[0]["kind"], "report");
    let quarantined = first["quarantined"].as_array().unwrap();
    assert_eq!(quarantined.len(), 6, "{first}");
    let reasons: Vec<&str> = quarantined
        .iter()
        .map(|entry| entry["reason"].as_str().unwrap())
        .collect();
    for expected in [
        "does not start with a report",
        "padding is invalid",
        "not a JSON object",
        "unsupported message format version 9",
        "carries its author's signature",
        "belongs to another mailbox",
    ] {
        assert!(
            reasons.iter().any(|reason| reason.contains(expected)),
            "{expected}: {reasons:?}"
        );
    }
    // A second sync: nothing new, nothing stuck.
    let second = member.sync(&relay);
    assert_eq!(second["arrived"].as_array().unwrap().len(), 0, "{second}");
    assert_eq!(
        second["quarantined"].as_array().unwrap().len(),
        0,
        "{second}"
    );
    // The stranger's case is flagged, holds no report and has nothing due; the honest one
    // is a normal new case.
    let cases = member.list(&relay)["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2);
    let flagged = cases
        .iter()
        .find(|case| case["quarantined"] == 6)
        .expect("the flagged case");
    assert_eq!(flagged["messages"], 0);
    assert_eq!(flagged["overdue"].as_array().unwrap().len(), 0);
    let shown = member.show(&relay, flagged["case"].as_str().unwrap());
    assert_eq!(shown["quarantined"].as_array().unwrap().len(), 6);
    let honest_case = cases.iter().find(|case| case["quarantined"] == 0).unwrap();
    let shown = member.show(&relay, honest_case["case"].as_str().unwrap());
    assert_eq!(
        shown["messages"][0]["body"],
        "Een echte melding na de rommel."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_written_reply_a_relay_forged_acknowledgement_and_an_unsigned_reply_are_refused()
{
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code = ReceiptCode::parse(&reporter.report(&relay, "De melding.")).unwrap();
    let mailbox = code.mailbox_token().mailbox_id();
    let mut keys = vec![
        relay.directory.demo_office.recipient(),
        relay.directory.demo_colleague.recipient(),
        code.reply_identity().recipient(),
    ];
    keys.dedup();
    let office_message =
        |signer: &IdentityKey, acknowledgement: bool, sequence: u32, text: &str| {
            let signing_key = signer.office_signing_key();
            let from = address();
            let mut message = Message {
                recording: Default::default(),
                answers: Default::default(),
                purpose: Default::default(),
                mailbox,
                sequence,
                kind: if acknowledgement {
                    MessageKind::Acknowledgement {
                        from,
                        signer: signing_key.office_key(),
                        signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                        opening: None,
                    }
                } else {
                    MessageKind::Reply {
                        from,
                        signer: signing_key.office_key(),
                        signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                        process_guide: None,
                        opening: None,
                    }
                },
                written_on: day(),
                body: text.to_owned().into(),
                attachments: vec![],
            };
            signing_key.sign(&mut message).unwrap();
            message.seal(&keys).unwrap().into_bytes()
        };
    // 1. The reporter posts a "reply" into their own mailbox, even signed with a real
    //    office key (say it leaked): the relay records the reporter as its author.
    let leaked = office_message(
        &relay.directory.demo_office,
        false,
        1,
        "Uw melding is ongegrond.",
    );
    let bearer = format!("Bearer {}", code.mailbox_token().to_wire().as_str());
    assert_eq!(
        relay
            .post_sealed("/api/v1/mailbox/messages", &bearer, leaked)
            .await
            .status(),
        201
    );
    // 2. A relay (here: anyone with an office session) forges an acknowledgement with a
    //    key the directory does not list, to hide the 7-day deadline.
    let session = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let forged = office_message(&IdentityKey::generate(), true, 1, "Ontvangen.");
    let path = format!("/api/v1/office/mailboxes/{}/messages", mailbox.to_wire());
    assert_eq!(
        relay.post_sealed(&path, &session, forged).await.status(),
        201
    );
    // 3. An unsigned reply (hand-made JSON, as a buggy or hostile client would).
    let unsigned = format!(
        r#"{{"meldpunt-message":3,"kind":"reply","mailbox":"{}","sequence":1,"written_on":"2026-11-30","body":"x","from":{{"organisation":"demo","recipient":"integrity-office"}},"signer":"{}"}}"#,
        mailbox.to_wire(),
        relay
            .directory
            .demo_office
            .office_signing_key()
            .office_key()
    );
    let sealed = meldpunt_crypto::seal(&keys, unsigned.as_bytes())
        .unwrap()
        .into_bytes();
    assert_eq!(
        relay.post_sealed(&path, &session, sealed).await.status(),
        201
    );

    // The office quarantines all three and the case stays unacknowledged.
    let member = Member::new(&relay, &relay.directory.demo_office);
    let synced = member.sync(&relay);
    let reasons: Vec<String> = synced["quarantined"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["reason"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(reasons.len(), 3, "{synced}");
    assert!(reasons[0].contains("posted by the reporter"), "{reasons:?}");
    assert!(
        reasons[1].contains("not signed by a key the recipient directory lists"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].contains("carries its author's signature"),
        "{reasons:?}"
    );
    let case = member.list(&relay)["cases"][0].clone();
    assert_eq!(case["status"], "new", "{case}");
    // The reporter sees all three marked, and the report.
    let checked = check(&reporter, &relay, &code);
    assert_eq!(checked["unreadable"], 3, "{checked}");
    assert_eq!(checked["messages"][0]["body"], "De melding.");
    // A genuine acknowledgement is accepted by both.
    member.reply(&relay, case["case"].as_str().unwrap(), &["--ack"], None);
    let synced = member.sync(&relay);
    assert_eq!(synced["arrived"][0]["kind"], "acknowledgement", "{synced}");
    assert_eq!(member.list(&relay)["cases"][0]["status"], "acknowledged");
    let checked = check(&reporter, &relay, &code);
    assert_eq!(
        checked["messages"][4]["kind"], "acknowledgement",
        "{checked}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_attachment_served_as_the_login_challenge_is_refused() {
    let relay = Relay::start(RelayOptions::default());
    User::new().report(&relay, "Een melding.");
    // A small attachment sealed to the office, as the relay holds many: 20 bytes of
    // "content" it would like to read.
    let attachment = meldpunt_crypto::seal(
        &[relay.directory.demo_office.recipient()],
        b"BSN 123456789 J.Jans",
    )
    .unwrap()
    .into_bytes();
    let hostile = HostileRelay::start(&relay.url, Misbehaviour::Challenge(attachment)).await;
    let member = Member::new(&relay, &relay.directory.demo_office);
    let (status, _, printed) = member.run_at(&hostile.url, "sync", &[], None);
    assert_eq!(status, Some(5), "{printed}");
    assert!(printed.contains("not a Meldpunt challenge"), "{printed}");
    assert!(!printed.contains("123456789"), "{printed}");
    // Through the honest relay the same office logs in.
    member.sync(&relay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_office_members_reply_at_once_and_everyone_reads_the_thread() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code =
        ReceiptCode::parse(&reporter.report(&relay, "Melding aan het hele bureau.")).unwrap();
    let first = Member::new(&relay, &relay.directory.demo_office);
    let second = Member::new(&relay, &relay.directory.demo_colleague);
    first.sync(&relay);
    second.sync(&relay);
    let case = first.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    // Both answer without syncing in between.
    first.reply(&relay, &case, &["--ack"], None);
    second.reply(
        &relay,
        &case,
        &[],
        Some("Ik neem uw melding in behandeling."),
    );
    first.reply(&relay, &case, &[], Some("Wij nemen contact op."));
    follow_up(&reporter, &relay, &code, "Dank u.");
    second.reply(&relay, &case, &[], Some("Nog een vraag."));
    for member in [&first, &second] {
        let synced = member.sync(&relay);
        assert_eq!(
            synced["quarantined"].as_array().unwrap().len(),
            0,
            "{synced}"
        );
        let shown = member.show(&relay, &case);
        let kinds: Vec<&str> = shown["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "report",
                "acknowledgement",
                "reply",
                "reply",
                "follow-up",
                "reply"
            ],
            "{shown}"
        );
    }
    let checked = check(&reporter, &relay, &code);
    assert_eq!(checked["unreadable"], 0, "{checked}");
    let bodies: Vec<&str> = checked["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["body"].as_str().unwrap())
        .collect();
    assert_eq!(
        &bodies[2..],
        [
            "Ik neem uw melding in behandeling.",
            "Wij nemen contact op.",
            "Dank u.",
            "Nog een vraag."
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_added_later_files_what_it_can_see_as_a_partial_case() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code = ReceiptCode::parse(&reporter.report(&relay, "Een oude zaak.")).unwrap();
    let old = Member::new(&relay, &relay.directory.demo_office);
    old.sync(&relay);
    let case = old.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    old.reply(&relay, &case, &["--ack"], None);
    // A newcomer joins the office: a new directory, served after a restart.
    std::fs::write(&relay.directory_file, relay.directory.with_newcomer(2)).unwrap();
    let relay = relay.restart();
    old.reply(&relay, &case, &[], Some("Wij onderzoeken het."));
    follow_up(&reporter, &relay, &code, "Nog iets.");
    let newcomer = Member::new(&relay, &relay.directory.demo_newcomer);
    let synced = newcomer.sync(&relay);
    assert_eq!(
        synced["quarantined"].as_array().unwrap().len(),
        0,
        "{synced}"
    );
    assert_eq!(
        synced["partial_cases"].as_array().unwrap().len(),
        1,
        "{synced}"
    );
    assert_eq!(synced["not_addressed_to_this_identity"], 2, "{synced}");
    let shown = newcomer.show(&relay, &case);
    assert_eq!(shown["partial"], true);
    let messages = shown["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{shown}");
    assert_eq!(messages[0]["body"], "Wij onderzoeken het.");
    assert_eq!(messages[0]["unverified"], false);
    assert_eq!(messages[1]["body"], "Nog iets.");
    assert_eq!(messages[1]["unverified"], true);
    // Replying needs the report's reply key: refused with a reason, not a failure.
    let (status, _, printed) = newcomer.run_at(
        &relay.url,
        "reply",
        &[&case, "--message-file", "-"],
        Some("Hallo"),
    );
    assert_eq!(status, Some(2), "{printed}");
    assert!(printed.contains("partial"), "{printed}");
    // The newcomer's own replies from another case would number from 1; the old member
    // and the reporter still read everything.
    assert_eq!(check(&reporter, &relay, &code)["unreadable"], 0);
    let synced = old.sync(&relay);
    assert_eq!(
        synced["quarantined"].as_array().unwrap().len(),
        0,
        "{synced}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_reporter_cannot_open_is_marked_and_the_reporter_keeps_going() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code = ReceiptCode::parse(&reporter.report(&relay, "De melding.")).unwrap();
    // A colleague holding an office key of the organisation appends a genuine, signed reply
    // sealed to the office only: the reporter cannot open it.
    meldpunt_end_to_end::post_reply_the_reporter_cannot_open(&relay, &code).await;
    // The reporter's check shows the report, marks the other message, and exits 0.
    let checked = check(&reporter, &relay, &code);
    assert_eq!(checked["unreadable"], 1, "{checked}");
    assert_eq!(checked["messages"][0]["body"], "De melding.");
    assert!(checked["messages"][1]["reason"]
        .as_str()
        .unwrap()
        .contains("not addressed to the given identity"));
    // The reporter still follows up, and the office files everything.
    follow_up(&reporter, &relay, &code, "Nog een aanvulling.");
    let member = Member::new(&relay, &relay.directory.demo_office);
    let synced = member.sync(&relay);
    let kinds: Vec<&str> = synced["arrived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arrived| arrived["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["report", "reply", "follow-up"], "{synced}");
    let checked = check(&reporter, &relay, &code);
    assert_eq!(
        checked["messages"][2]["body"], "Nog een aanvulling.",
        "{checked}"
    );
}

/// A relay answer's status and JSON body.
async fn json(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// A member's CLI hands `case` to `to`; its JSON answer.
fn hand_over(member: &Member, relay: &Relay, to: &IdentityKey, extra: &[&str]) -> Value {
    let key = to.recipient().to_string();
    let mut arguments = vec!["--to", key.as_str()];
    arguments.extend_from_slice(extra);
    let (status, answer, printed) = member.run_at(&relay.url, "hand-over", &arguments, None);
    assert_eq!(status, Some(0), "{printed}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleague_hands_a_partial_case_to_a_newcomer_who_then_holds_and_answers_it_whole() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let evidence = reporter.path("bewijs.txt");
    let evidence_bytes = b"Factuur 2026-117, dubbel betaald.\n".repeat(5000);
    std::fs::write(&evidence, &evidence_bytes).unwrap();
    let directory_key = relay.directory.signing_key.directory_key().to_string();
    let reported = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &directory_key,
            "--message-file",
            "-",
            "--attach",
            evidence.to_str().unwrap(),
        ],
        Some("Een oude zaak."),
    );
    let code = ReceiptCode::parse(reported["receipt_code"].as_str().unwrap()).unwrap();
    let old = Member::new(&relay, &relay.directory.demo_office);
    old.sync(&relay);
    let case = old.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    old.reply(&relay, &case, &["--ack"], None);
    std::fs::write(&relay.directory_file, relay.directory.with_newcomer(2)).unwrap();
    let relay = relay.restart();
    old.reply(&relay, &case, &[], Some("Wij onderzoeken het."));
    follow_up(&reporter, &relay, &code, "Nog iets.");
    let newcomer = Member::new(&relay, &relay.directory.demo_newcomer);
    assert_eq!(
        newcomer.sync(&relay)["partial_cases"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    old.sync(&relay);
    let handed = hand_over(
        &old,
        &relay,
        &relay.directory.demo_newcomer,
        &["--case", &case],
    );
    assert_eq!(handed["cases"][0]["messages"], 4, "{handed}");

    // Relay-blind and reporter-blind: the reporter's mailbox holds what it held; each
    // hand-over opens with stock age for the newcomer alone, and none for the old member.
    assert_eq!(
        check(&reporter, &relay, &code)["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let session = office_session(&relay, "demo", &relay.directory.demo_newcomer).await;
    let (status, listing) = json(relay.get("/api/v1/office/hand-overs", &session).await).await;
    assert_eq!(status, 200);
    assert_eq!(
        listing["hand_overs"].as_array().unwrap().len(),
        4,
        "{listing}"
    );
    let sealed = relay
        .get("/api/v1/office/hand-overs/1", &session)
        .await
        .bytes()
        .await
        .unwrap();
    let folder = tempfile::tempdir().unwrap();
    let (sealed_path, newcomer_key, old_key) = (
        folder.path().join("hand-over.age"),
        folder.path().join("newcomer.key"),
        folder.path().join("old.key"),
    );
    std::fs::write(&sealed_path, &sealed).unwrap();
    write_identity(&newcomer_key, &relay.directory.demo_newcomer);
    write_identity(&old_key, &relay.directory.demo_office);
    let age = |identity: &std::path::Path| {
        std::process::Command::new("age")
            .arg("--decrypt")
            .arg("--identity")
            .arg(identity)
            .arg(&sealed_path)
            .output()
            .unwrap()
    };
    let opened = age(&newcomer_key);
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    assert!(opened.stdout.starts_with(b"{\"meldpunt-hand-over\":1"));
    assert!(!age(&old_key).status.success());
    assert!(!sealed.windows(6).any(|window| window == b"oude z"));

    // The newcomer's next sync files the two messages it could not open; the case is whole,
    // every author checked, the report marked as handed over.
    let synced = newcomer.sync(&relay);
    assert_eq!(
        synced["handed_over"].as_array().unwrap().len(),
        2,
        "{synced}"
    );
    assert_eq!(
        synced["refused_hand_overs"].as_array().unwrap().len(),
        0,
        "{synced}"
    );
    let shown = newcomer.show(&relay, &case);
    assert_eq!(shown["partial"], false, "{shown}");
    assert_eq!(shown["status"], "feedback-given", "{shown}");
    let messages = shown["messages"].as_array().unwrap();
    let bodies: Vec<&str> = messages
        .iter()
        .map(|message| message["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies[0], "Een oude zaak.");
    assert_eq!(&bodies[2..], ["Wij onderzoeken het.", "Nog iets."]);
    let office_key = relay
        .directory
        .demo_office
        .office_signing_key()
        .office_key()
        .to_string();
    assert_eq!(messages[0]["handed_over_by"], office_key.as_str());
    assert_eq!(messages[1]["handed_over_by"], office_key.as_str());
    assert_eq!(messages[2]["handed_over_by"], Value::Null);
    assert!(
        messages
            .iter()
            .all(|message| message["unverified"] == false),
        "{shown}"
    );
    let output = newcomer
        .user
        .run_at(&relay.url, &newcomer.arguments("show", &[&case]), None);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("handed over by"), "{printed}");
    // Nothing twice; and the newcomer, holding the report's reply key now, answers.
    let again = newcomer.sync(&relay);
    assert_eq!(again["handed_over"].as_array().unwrap().len(), 0, "{again}");
    newcomer.reply(&relay, &case, &[], Some("Ik neem het over."));
    let checked = check(&reporter, &relay, &code);
    assert_eq!(checked["unreadable"], 0, "{checked}");
    assert_eq!(checked["messages"][4]["body"], "Ik neem het over.");
    assert_eq!(old.sync(&relay)["quarantined"].as_array().unwrap().len(), 0);
    // The report's attachment came along as a copy sealed to the newcomer, checked against
    // the digest the reporter sealed: the newcomer's export holds it whole.
    let out = newcomer.user.path("export");
    let (status, _, printed) = newcomer.run_at(
        &relay.url,
        "export",
        &[&case, "--out", out.to_str().unwrap()],
        None,
    );
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(
        std::fs::read(out.join("attachments").join("bewijs.txt")).unwrap(),
        evidence_bytes
    );
    // Its originals: the two hand-overs as the relay served them, the rest as messages.
    let mut originals: Vec<String> = std::fs::read_dir(out.join("originals"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    originals.sort();
    assert_eq!(originals.len(), 4, "{originals:?}");
    assert!(
        originals[0].ends_with("-report-handed-over.age"),
        "{originals:?}"
    );
    assert!(
        originals[1].ends_with("-acknowledgement-handed-over.age"),
        "{originals:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_misdirected_or_outside_hand_over_is_refused_and_changes_nothing() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code = ReceiptCode::parse(&reporter.report(&relay, "De echte melding.")).unwrap();
    let old = Member::new(&relay, &relay.directory.demo_office);
    old.sync(&relay);
    let case = old.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(&relay.directory_file, relay.directory.with_newcomer(2)).unwrap();
    let relay = relay.restart();
    follow_up(&reporter, &relay, &code, "Een aanvulling.");
    let newcomer = Member::new(&relay, &relay.directory.demo_newcomer);
    newcomer.sync(&relay);
    old.sync(&relay);

    // The CLI hands over only to a colleague of the same recipient.
    for (to, expected) in [
        (
            relay.directory.demo_adviser.recipient().to_string(),
            "not a member",
        ),
        (
            relay.directory.demo_office.recipient().to_string(),
            "your own key",
        ),
        ("age1nietsleutel".to_owned(), "age public key"),
    ] {
        let (status, _, printed) = old.run_at(
            &relay.url,
            "hand-over",
            &["--to", &to, "--case", &case],
            None,
        );
        assert_eq!(status, Some(2), "{printed}");
        assert!(printed.contains(expected), "{printed}");
    }
    let (status, _, printed) = old.run_at(
        &relay.url,
        "hand-over",
        &[
            "--to",
            &relay.directory.demo_newcomer.recipient().to_string(),
        ],
        None,
    );
    assert_eq!(status, Some(2), "{printed}");

    // The adviser, whom the reporter did not choose, can neither post nor list hand-overs
    // of this mailbox.
    let mailbox = code.mailbox_token().mailbox_id();
    let path = format!("/api/v1/office/mailboxes/{}/hand-overs", mailbox.to_wire());
    let adviser = meldpunt_end_to_end::recipient_session(
        &relay,
        "demo",
        "external-confidential-adviser",
        &relay.directory.demo_adviser,
    )
    .await;
    let sealed_junk = sealed_unpadded(&[relay.directory.demo_newcomer.recipient()], b"junk");
    let (status, body) = json(
        relay
            .post_sealed(&path, &adviser, sealed_junk.clone())
            .await,
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (404, Some("mailbox-not-found"))
    );

    // A hostile relay (it sees the mailbox token in flight) slips in a follow-up of its own,
    // sealed to the office: the newcomer, without the report, can only file it unverified.
    let fake_key = ReceiptCode::generate().follow_up_signing_key();
    let mut fake = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        kind: MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        mailbox,
        sequence: 3,
        written_on: day(),
        body: "Een valse aanvulling.".to_owned().into(),
        attachments: Vec::new(),
    };
    fake_key.sign(&mut fake);
    let office_keys = [
        relay.directory.demo_office.recipient(),
        relay.directory.demo_colleague.recipient(),
        relay.directory.demo_newcomer.recipient(),
    ];
    let reporter_bearer = format!("Bearer {}", code.mailbox_token().to_wire().as_str());
    let (status, body) = json(
        relay
            .post_sealed(
                "/api/v1/mailbox/messages",
                &reporter_bearer,
                fake.seal(&office_keys).unwrap().into_bytes(),
            )
            .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let synced = newcomer.sync(&relay);
    assert_eq!(synced["arrived"][0]["unverified"], true, "{synced}");

    // A genuine member hands over a report that is not the relay's message 1 (its hash
    // differs), and one under a number the relay never gave; an outsider signs one; and a
    // sealed file that is no hand-over.
    let office = office_session(&relay, "demo", &relay.directory.demo_office).await;
    let forged_code = ReceiptCode::generate();
    let mut forged = Message::report(
        &forged_code,
        vec![address()],
        meldpunt_crypto::Content::text(day(), "Een verzonnen melding."),
    );
    forged.mailbox = mailbox;
    let handed = |number: u64| meldpunt_crypto::HandedMessage {
        number,
        position: 1,
        author: meldpunt_crypto::Author::Reporter,
        stored_on: day(),
        sealed_sha256: [0; 32],
        message: forged.clone(),
        copies: Vec::new(),
    };
    let newcomer_key = relay.directory.demo_newcomer.recipient();
    let member_key = relay.directory.demo_office.office_signing_key();
    let seal = |signing_key: meldpunt_crypto::OfficeSigningKey, handed| {
        signing_key
            .hand_over(address(), newcomer_key.clone(), day(), handed)
            .unwrap()
            .seal()
            .unwrap()
            .into_bytes()
    };
    let posted = [
        seal(relay.directory.demo_office.office_signing_key(), handed(1)),
        seal(member_key, handed(99)),
        seal(IdentityKey::generate().office_signing_key(), handed(1)),
        sealed_junk,
    ];
    for sealed in posted {
        let (status, body) = json(relay.post_sealed(&path, &office, sealed).await).await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, listing) = json(relay.get("/api/v1/office/hand-overs", &adviser).await).await;
    assert_eq!(
        listing["hand_overs"].as_array().unwrap().len(),
        0,
        "{listing}"
    );

    let synced = newcomer.sync(&relay);
    assert_eq!(
        synced["handed_over"].as_array().unwrap().len(),
        0,
        "{synced}"
    );
    let reasons: Vec<&str> = synced["refused_hand_overs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|refused| refused["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons.len(), 4, "{synced}");
    assert!(
        reasons[0].contains("not the message the relay holds"),
        "{}",
        reasons[0]
    );
    assert!(reasons[1].contains("does not list"), "{}", reasons[1]);
    assert!(reasons[2].contains("not a member"), "{}", reasons[2]);
    assert!(reasons[3].contains("does not open"), "{}", reasons[3]);
    let shown = newcomer.show(&relay, &case);
    assert_eq!(shown["partial"], true);
    assert_eq!(shown["messages"].as_array().unwrap().len(), 2, "{shown}");
    assert_eq!(shown["refused_hand_overs"].as_array().unwrap().len(), 4);
    assert!(!shown.to_string().contains("verzonnen"));
    // Refused once, not again at every sync.
    assert_eq!(
        newcomer.sync(&relay)["refused_hand_overs"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The genuine hand-over comes through: the report verifies the reporter's follow-up,
    // and the relay's fake, which the old member quarantined (so did not hand over), no
    // longer fits and is quarantined here too.
    assert_eq!(old.sync(&relay)["quarantined"].as_array().unwrap().len(), 1);
    let handed_over = hand_over(&old, &relay, &relay.directory.demo_newcomer, &["--open"]);
    assert_eq!(handed_over["cases"][0]["messages"], 2, "{handed_over}");
    let synced = newcomer.sync(&relay);
    assert_eq!(
        synced["handed_over"].as_array().unwrap().len(),
        1,
        "{synced}"
    );
    let shown = newcomer.show(&relay, &case);
    assert_eq!(shown["partial"], false, "{shown}");
    let messages = shown["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{shown}");
    assert_eq!(messages[0]["body"], "De echte melding.");
    assert_eq!(messages[1]["body"], "Een aanvulling.");
    assert_eq!(messages[1]["unverified"], false);
    assert_eq!(shown["quarantined"][0]["position"], 3, "{shown}");
    assert!(shown["quarantined"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("does not fit"));
}
