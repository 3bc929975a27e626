//! Asking a confidential adviser first: a consultation is sealed to the advisers the reporter
//! chose and to nobody else, carries no deadlines, is listed apart, and becomes a report only
//! through the reporter's own client — which carries the consultation along when, and only
//! when, the reporter asks. Whoever holds a consultation's messages without its receipt code
//! cannot pass it on as the reporter's.

use meldpunt_crypto::{Content, Day, Message, ReceiptCode, RecipientAddress};
use meldpunt_end_to_end::{Member, Relay, RelayOptions, Reporter, User};
use serde_json::Value;

fn day() -> Day {
    Day::from_calendar_date(2026, 11, 28).expect("valid")
}

fn write_code(user: &User, name: &str, answer: &Value) -> String {
    let path = user.path(name);
    std::fs::write(&path, answer["receipt_code"].as_str().expect("a code")).unwrap();
    path.display().to_string()
}

/// The consultation's messages, as anyone who can open them (its adviser) holds them.
async fn consultation_messages(relay: &Relay, code: &ReceiptCode) -> Vec<Message> {
    let bearer = format!("Bearer {}", code.mailbox_token().to_wire().as_str());
    let listing: Value = relay
        .get("/api/v1/mailbox/messages", &bearer)
        .await
        .json()
        .await
        .unwrap();
    let mut messages = Vec::new();
    for listed in listing["messages"].as_array().unwrap() {
        let position = listed["position"].as_u64().unwrap();
        let sealed = relay
            .get(&format!("/api/v1/mailbox/messages/{position}"), &bearer)
            .await
            .bytes()
            .await
            .unwrap();
        messages.push(
            Message::open(std::slice::from_ref(&relay.directory.demo_adviser), &sealed).unwrap(),
        );
    }
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_is_for_the_adviser_alone_and_becomes_a_report_only_as_the_reporter_chooses()
{
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let ask = |extra: &[&str], text: &str| {
        let mut arguments = vec![
            "ask",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ];
        arguments.extend_from_slice(extra);
        reporter.run(&relay, &arguments, Some(text))
    };
    // A consultation goes to advisers only: asking the integrity office is refused, and
    // nothing is created.
    let refused = ask(&["--role", "integrity-office", "--json"], "Mag dit?");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("confidential advisers only"));
    let asked = ask(
        &["--json"],
        "Ik twijfel of ik iets moet melden over mijn afdeling.",
    );
    assert!(asked.status.success(), "{asked:?}");
    let asked: Value = serde_json::from_slice(&asked.stdout).unwrap();
    assert_eq!(asked["conversation"], "consultation");
    assert_eq!(
        asked["recipients"],
        serde_json::json!(["external-confidential-adviser"])
    );
    let consultation_code = write_code(&reporter, "consultation.txt", &asked);

    // The integrity office neither lists it nor can open it.
    let office = Member::new(&relay, &relay.directory.demo_office);
    office.sync(&relay);
    assert_eq!(office.list(&relay)["cases"], serde_json::json!([]));
    let code = ReceiptCode::parse(&std::fs::read_to_string(&consultation_code).unwrap()).unwrap();
    let bearer = format!("Bearer {}", code.mailbox_token().to_wire().as_str());
    let sealed = relay
        .get("/api/v1/mailbox/messages/1", &bearer)
        .await
        .bytes()
        .await
        .unwrap();
    assert!(Message::open(std::slice::from_ref(&relay.directory.demo_office), &sealed).is_err());

    // The adviser lists it apart, without deadlines, and answers.
    let adviser = Member::new(&relay, &relay.directory.demo_adviser);
    adviser.sync(&relay);
    let listed = adviser.list(&relay);
    let case = listed["cases"][0]["case"].as_str().unwrap().to_owned();
    assert_eq!(listed["cases"][0]["conversation"], "consultation");
    assert!(
        listed["cases"][0]["acknowledgement_due"].is_null(),
        "{listed}"
    );
    assert_eq!(listed["cases"][0]["overdue"], serde_json::json!([]));
    let output = adviser
        .user
        .run(&relay, &adviser.arguments("list", &[]), None);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        printed.contains("Consultations (with confidential advisers"),
        "{printed}"
    );
    adviser.reply(
        &relay,
        &case,
        &[],
        Some("Vertel gerust. Melden kan later, bij het integriteitsbureau."),
    );
    let output = adviser
        .user
        .run(&relay, &adviser.arguments("show", &[&case]), None);
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && shown.starts_with("Consultation "),
        "{shown}"
    );
    // A consultation takes no acknowledgement of receipt, and no process guide joins one.
    let (status, _, printed) = adviser.run_at(&relay.url, "reply", &[&case, "--ack"], None);
    assert_eq!(status, Some(2), "{printed}");
    let (status, _, printed) = adviser.run_at(
        &relay.url,
        "appoint-guide",
        &[&case, "--guide", "process-guide"],
        None,
    );
    assert_eq!(status, Some(2), "{printed}");

    // The reporter reads the answer, as a consultation.
    let checked = reporter.json(
        &relay,
        &[
            "check",
            "--receipt-file",
            &consultation_code,
            "--directory-key",
            &key,
        ],
        None,
    );
    assert_eq!(checked["conversation"], "consultation");
    assert_eq!(checked["unreadable"], 0, "{checked}");
    assert_eq!(checked["messages"].as_array().unwrap().len(), 2);

    // `meldpunt report --json`, carrying the consultation whose code is in `carry`.
    let report = |carry: Option<&str>, text: &str| {
        let mut arguments = vec![
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
            "--json",
        ];
        if let Some(file) = carry {
            arguments.extend(["--carry-consultation", "--consultation-receipt-file", file]);
        }
        reporter.run(&relay, &arguments, Some(text))
    };
    let answer = |output: std::process::Output| -> Value {
        assert!(output.status.success(), "{output:?}");
        serde_json::from_slice(&output.stdout).unwrap()
    };
    // A report that leaves the consultation out says nothing of it.
    let plain = answer(report(None, "Ik meld het nu, zonder het gesprek."));
    assert_eq!(plain["carried_consultation_messages"], 0);
    // Only a consultation's code is carried: a report's is refused, and nothing is sent.
    let plain_code = write_code(&reporter, "plain.txt", &plain);
    let wrong = report(Some(&plain_code), "x");
    assert_eq!(wrong.status.code(), Some(2), "{wrong:?}");
    // The reporter chooses to carry it along.
    let carried = answer(report(Some(&consultation_code), "Ik meld het nu formeel."));
    assert_eq!(carried["conversation"], "report");
    assert_eq!(carried["carried_consultation_messages"], 2);
    assert_ne!(carried["receipt_code"], asked["receipt_code"]);

    // The office reads both reports; the second carries the consultation, checked.
    office.sync(&relay);
    let cases = office.list(&relay)["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2);
    let mut carried_seen = 0;
    for listed in &cases {
        assert_eq!(listed["conversation"], "report");
        assert!(!listed["acknowledgement_due"].is_null());
        let shown = office.show(&relay, listed["case"].as_str().unwrap());
        let report = &shown["messages"][0];
        if report["carried_consultation"].is_null() {
            continue;
        }
        carried_seen += 1;
        let messages = report["carried_consultation"]["messages"]
            .as_array()
            .unwrap();
        assert_eq!(messages.len(), 2);
        assert!(
            messages.iter().all(|message| message["verified"] == true),
            "{shown}"
        );
        assert_eq!(messages[1]["author"], "demo/external-confidential-adviser");
        assert!(messages[1]["body"]
            .as_str()
            .unwrap()
            .contains("Vertel gerust"));
    }
    assert_eq!(carried_seen, 1);
    // The adviser is never told: they still hold only the consultation.
    adviser.sync(&relay);
    assert_eq!(adviser.list(&relay)["cases"].as_array().unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adviser_cannot_pass_a_consultation_on_as_a_report() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let asked = reporter.json(
        &relay,
        &[
            "ask",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ],
        Some("Dit blijft tussen ons."),
    );
    let code = ReceiptCode::parse(asked["receipt_code"].as_str().unwrap()).unwrap();
    let adviser = Member::new(&relay, &relay.directory.demo_adviser);
    adviser.sync(&relay);
    let case = adviser.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    adviser.reply(&relay, &case, &[], Some("Dank voor je vertrouwen."));

    // The adviser holds every message, but not the consultation's receipt code: they sign
    // it over with a code of their own, or rewrite the reporter's signature.
    let messages = consultation_messages(&relay, &code).await;
    assert_eq!(messages.len(), 2);
    let office_keys = [
        relay.directory.demo_office.recipient(),
        relay.directory.demo_colleague.recipient(),
    ];
    let integrity_office = vec![RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    }];
    let forwarded = Reporter::new();
    let forged = Message::report_after_consultation(
        &forwarded.code,
        integrity_office,
        Content::text(day(), "Doorgestuurd door de vertrouwenspersoon."),
        &ReceiptCode::generate(),
        messages,
    )
    .unwrap();
    let mut sealed_to = office_keys.to_vec();
    sealed_to.push(forwarded.code.reply_identity().recipient());
    let response = forwarded
        .create(
            &relay,
            "demo",
            forged.seal(&sealed_to).unwrap().into_bytes(),
        )
        .await;
    assert_eq!(response.status(), 201);
    // A genuine report beside it: one refused part stops nothing.
    let genuine = Reporter::new();
    let response = genuine
        .create(
            &relay,
            "demo",
            genuine.sealed_report(&relay, "Een gewone melding."),
        )
        .await;
    assert_eq!(response.status(), 201);

    let office = Member::new(&relay, &relay.directory.demo_office);
    office.sync(&relay);
    let cases = office.list(&relay)["cases"].as_array().unwrap().clone();
    assert_eq!(cases.len(), 2);
    let mut refused = 0;
    for listed in &cases {
        let case = listed["case"].as_str().unwrap();
        let shown = office.show(&relay, case);
        let carried = &shown["messages"][0]["carried_consultation"];
        if carried.is_null() {
            continue;
        }
        refused += 1;
        assert!(
            carried["refused"]
                .as_str()
                .unwrap()
                .contains("not signed over"),
            "{carried}"
        );
        assert!(carried["messages"].is_null());
        // The text form says so and shows nothing of the consultation.
        let output = office
            .user
            .run(&relay, &office.arguments("show", &[case]), None);
        let printed = String::from_utf8_lossy(&output.stdout);
        assert!(printed.contains("NOT SHOWN"), "{printed}");
        assert!(!printed.contains("Dit blijft tussen ons"), "{printed}");
    }
    assert_eq!(refused, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consultation_addressed_to_the_integrity_office_is_read_as_a_report_with_its_deadlines() {
    let relay = Relay::start(RelayOptions::default());
    // A hostile or careless client marks a message to the integrity office a consultation,
    // which would take it out of the deadlines: the office's client reads it as a report.
    let stranger = Reporter::new();
    let opening = Message::opening(
        &stranger.code,
        vec![RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }],
        meldpunt_crypto::Conversation::Consultation,
        Content::text(day(), "Geen melding, hoor."),
    );
    let sealed = opening
        .seal(&[
            relay.directory.demo_office.recipient(),
            relay.directory.demo_colleague.recipient(),
            stranger.code.reply_identity().recipient(),
        ])
        .unwrap()
        .into_bytes();
    assert_eq!(stranger.create(&relay, "demo", sealed).await.status(), 201);
    let office = Member::new(&relay, &relay.directory.demo_office);
    office.sync(&relay);
    let listed = office.list(&relay);
    assert_eq!(listed["cases"][0]["conversation"], "report", "{listed}");
    assert!(
        !listed["cases"][0]["acknowledgement_due"].is_null(),
        "{listed}"
    );
}
