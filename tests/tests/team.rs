//! One case, one state, for the whole office team: status, assignee, labels and internal
//! notes travel as signed case records that only office members read. Two members edit one
//! case at once and converge whatever order they sync in; the reporter's token never
//! lists, fetches or counts a record; a relay that withholds, reorders, swaps or damages
//! records is caught, and never stops a sync.

use meldpunt_crypto::ReceiptCode;
use meldpunt_end_to_end::hostile::{HostileRelay, Misbehaviour};
use meldpunt_end_to_end::{client, Member, Relay, RelayOptions, User};
use serde_json::Value;

/// Runs `inbox COMMAND EXTRA…` for `member` at `url` and requires success.
fn team(member: &Member, url: &str, command: &str, extra: &[&str], stdin: Option<&str>) -> Value {
    let (status, answer, printed) = member.run_at(url, command, extra, stdin);
    assert_eq!(status, Some(0), "inbox {command} {extra:?}: {printed}");
    answer
}

/// What every member must agree on: status, assignee, labels and the whole history.
fn shared_state(shown: &Value) -> Value {
    serde_json::json!({
        "status": shown["status"],
        "assignee": shown["assignee"],
        "labels": shown["labels"],
        "history": shown["team_history"],
    })
}

fn only_case(member: &Member, relay: &Relay) -> String {
    member.sync(relay);
    member.list(relay)["cases"][0]["case"]
        .as_str()
        .expect("a case")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_members_edit_one_case_at_once_and_converge_and_the_reporter_sees_none_of_it() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let code = reporter.report(&relay, "Er verdwijnt geld uit de kas.");
    let first = Member::new(&relay, &relay.directory.demo_office);
    let second = Member::new(&relay, &relay.directory.demo_colleague);
    let case = only_case(&first, &relay);
    assert_eq!(only_case(&second, &relay), case);
    let first_key = relay
        .directory
        .demo_office
        .office_signing_key()
        .office_key()
        .to_string();
    // Both edit the case without syncing in between: the same fields at once.
    team(
        &first,
        &relay.url,
        "status",
        &[&case, "in-investigation"],
        None,
    );
    team(
        &second,
        &relay.url,
        "status",
        &[&case, "acknowledged"],
        None,
    );
    team(&first, &relay.url, "assign", &[&case, "--me"], None);
    team(&second, &relay.url, "label", &[&case, "fraude"], None);
    team(&first, &relay.url, "label", &[&case, "kas"], None);
    team(
        &second,
        &relay.url,
        "label",
        &[&case, "kas", "--remove"],
        None,
    );
    team(
        &first,
        &relay.url,
        "note",
        &[&case, "--message-file", "-"],
        Some("Gesprek met de teamleider gepland."),
    );
    // A note never comes from the command line.
    let (status, _, printed) = second.run_at(&relay.url, "note", &[&case, "tekst"], None);
    assert_eq!(status, Some(2), "{printed}");
    // They sync in different orders; then each once more.
    for member in [&second, &first, &second, &first] {
        let synced = member.sync(&relay);
        assert_eq!(
            synced["refused_case_records"].as_array().map(Vec::len),
            Some(0),
            "{synced}"
        );
    }
    let seen_by_first = first.show(&relay, &case);
    let seen_by_second = second.show(&relay, &case);
    assert_eq!(
        shared_state(&seen_by_first),
        shared_state(&seen_by_second),
        "the members did not converge"
    );
    assert_eq!(seen_by_first["assignee"], first_key.as_str());
    let history = seen_by_first["team_history"].as_array().expect("a history");
    assert_eq!(history.len(), 7, "{seen_by_first}");
    assert!(history.iter().all(|entry| entry["counts"] == true));
    assert!(history
        .iter()
        .any(|entry| entry["text"] == "note: Gesprek met de teamleider gepland."));
    // The same-day status changes: both listed, one wins, the same one for both members.
    let status = seen_by_first["status"].as_str().unwrap();
    assert!(["in-investigation", "acknowledged"].contains(&status));
    // "kas" was added by one and removed by the other at the same clock or later: both
    // agree either way; "fraude" stays.
    assert!(seen_by_first["labels"]
        .as_array()
        .unwrap()
        .contains(&Value::from("fraude")));
    let listed = second.list(&relay);
    assert_eq!(listed["cases"][0]["status"], status);
    assert_eq!(listed["cases"][0]["notes"], 1);
    // Closing is a team record too: the colleague sees the case closed after a sync.
    team(&second, &relay.url, "close", &[&case], None);
    first.sync(&relay);
    assert_eq!(first.list(&relay)["cases"][0]["status"], "closed");

    // The reporter: the office-only routes refuse the mailbox token, and the mailbox lists
    // only the report and the closing message, whatever the team wrote.
    let token = ReceiptCode::parse(&code).unwrap().mailbox_token();
    let bearer = format!("Bearer {}", token.to_wire().as_str());
    for path in ["/api/v1/office/records", "/api/v1/office/records/1"] {
        let answer = client()
            .get(format!("{}{path}", relay.url))
            .header("authorization", &bearer)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401, "{path}");
    }
    let posted = client()
        .post(format!(
            "{}/api/v1/office/mailboxes/{}/records",
            relay.url,
            token.mailbox_id().to_wire()
        ))
        .header("authorization", &bearer)
        .header("content-type", "application/octet-stream")
        .body("age-encryption.org/v1\n")
        .send()
        .await
        .unwrap();
    assert_eq!(posted.status(), 401);
    let listing: Value = client()
        .get(format!("{}/api/v1/mailbox/messages", relay.url))
        .header("authorization", &bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        listing["messages"].as_array().unwrap().len(),
        2,
        "{listing}"
    );
    assert!(!listing.to_string().contains("record"), "{listing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_that_withholds_reorders_swaps_or_damages_team_records_is_caught() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    reporter.report(&relay, "Eerste melding.");
    reporter.report(&relay, "Tweede melding.");
    let writer = Member::new(&relay, &relay.directory.demo_office);
    writer.sync(&relay);
    let cases: Vec<String> = writer.list(&relay)["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| case["case"].as_str().unwrap().to_owned())
        .collect();
    let (case, other_case) = (&cases[0], &cases[1]);
    // Colleagues who hold both cases, and none of the records yet.
    let colleagues: Vec<Member> = (0..4)
        .map(|_| Member::new(&relay, &relay.directory.demo_colleague))
        .collect();
    for colleague in &colleagues {
        colleague.sync(&relay);
    }
    let [reader, reordering, victim, damaged] =
        <[Member; 4]>::try_from(colleagues).unwrap_or_else(|_| unreachable!("four colleagues"));
    // Records 1–3 in the case, 4 in the other case.
    team(
        &writer,
        &relay.url,
        "status",
        &[case, "in-investigation"],
        None,
    );
    team(&writer, &relay.url, "label", &[case, "a"], None);
    team(&writer, &relay.url, "label", &[case, "b"], None);
    team(&writer, &relay.url, "label", &[other_case, "elders"], None);
    let honest = writer.show(&relay, case);

    // Withheld from the middle: counted missing (the record after it still counts); the
    // next honest sync fills the gap.
    let withholding =
        HostileRelay::start(&relay.url, Misbehaviour::WithholdRecord { number: 2 }).await;
    team(&reader, &withholding.url, "sync", &[], None);
    let shown = team(&reader, &withholding.url, "show", &[case], None);
    assert_eq!(shown["team_records_missing"], 1, "{shown}");
    assert_eq!(shown["labels"], serde_json::json!(["b"]));
    reader.sync(&relay);
    assert_eq!(
        shared_state(&reader.show(&relay, case)),
        shared_state(&honest)
    );

    // Reordered: the same state.
    let reversing = HostileRelay::start(&relay.url, Misbehaviour::ReverseRecords).await;
    team(&reordering, &reversing.url, "sync", &[], None);
    assert_eq!(
        shared_state(&team(&reordering, &reversing.url, "show", &[case], None)),
        shared_state(&honest)
    );

    // Another case's record served in place of one of this case's, and a damaged record:
    // one filed where it belongs (or refused), the other set aside; the sync goes on and
    // nothing false counts.
    let swapping = HostileRelay::start(
        &relay.url,
        Misbehaviour::SwapRecord {
            asked: 2,
            served: 4,
        },
    )
    .await;
    team(&victim, &swapping.url, "sync", &[], None);
    let shown = team(&victim, &swapping.url, "show", &[case], None);
    assert_eq!(shown["team_records_missing"], 1, "{shown}");
    assert_eq!(shown["labels"], serde_json::json!(["b"]), "{shown}");
    let other = team(&victim, &swapping.url, "show", &[other_case], None);
    assert_eq!(other["labels"], serde_json::json!(["elders"]), "{other}");

    let corrupting =
        HostileRelay::start(&relay.url, Misbehaviour::CorruptRecord { number: 2 }).await;
    let synced = team(&damaged, &corrupting.url, "sync", &[], None);
    let refused = synced["refused_case_records"].as_array().unwrap();
    assert_eq!(refused.len(), 1, "{synced}");
    assert_eq!(refused[0]["number"], 2);
    let shown = team(&damaged, &corrupting.url, "show", &[case], None);
    assert_eq!(shown["status"], "in-investigation", "{shown}");
    assert_eq!(shown["team_records_missing"], 1, "{shown}");
    assert_eq!(shown["labels"], serde_json::json!(["b"]), "{shown}");
    let shown = team(&damaged, &corrupting.url, "show", &[other_case], None);
    assert_eq!(shown["labels"], serde_json::json!(["elders"]), "{shown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_identity_shared_with_the_adviser_opens_for_the_adviser_only() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let key = relay.directory.signing_key.directory_key().to_string();
    let answer = reporter.json(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--role",
            "integrity-office",
            "--role",
            "external-confidential-adviser",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ],
        Some("Ik meld, en wil alleen de vertrouwenspersoon mijn naam geven."),
    );
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, answer["receipt_code"].as_str().unwrap()).unwrap();
    let code = code_file.to_str().unwrap();
    let share = |with: &str| {
        reporter.run(
            &relay,
            &[
                "share-identity",
                "--receipt-file",
                code,
                "--with",
                with,
                "--identity-file",
                "-",
                "--directory-key",
                &key,
                "--json",
            ],
            Some("Jan Jansen, 06-12345678"),
        )
    };
    // Only with a recipient the report chose; nothing is sent otherwise.
    let refused = share("process-guide");
    assert_eq!(refused.status.code(), Some(2), "{refused:?}");
    // The identity never comes from the command line.
    let argv = reporter.run(
        &relay,
        &[
            "share-identity",
            "--receipt-file",
            code,
            "--with",
            "external-confidential-adviser",
            "Jan Jansen",
        ],
        None,
    );
    assert_eq!(argv.status.code(), Some(2));
    let shared = share("external-confidential-adviser");
    assert!(shared.status.success(), "{shared:?}");

    let adviser = Member::new(&relay, &relay.directory.demo_adviser);
    let office = Member::new(&relay, &relay.directory.demo_office);
    let case = only_case(&adviser, &relay);
    only_case(&office, &relay);
    let message = |member: &Member| {
        member.show(&relay, &case)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|message| !message["identity_shared_with"].is_null())
            .cloned()
            .expect("the follow-up sharing the identity")
    };
    let seen_by_adviser = message(&adviser);
    assert_eq!(
        seen_by_adviser["identity_shared_with"],
        "demo/external-confidential-adviser"
    );
    assert_eq!(
        seen_by_adviser["shared_identity"],
        "Jan Jansen, 06-12345678"
    );
    let seen_by_office = message(&office);
    assert_eq!(
        seen_by_office["identity_shared_with"],
        "demo/external-confidential-adviser"
    );
    assert!(
        seen_by_office["shared_identity"].is_null(),
        "{seen_by_office}"
    );
    let (_, _, printed) = office.run_at(&relay.url, "show", &[&case], None);
    assert!(!printed.contains("Jansen"), "{printed}");
    // The reporter's own view says with whom, and the thread still checks.
    let checked = reporter.json(
        &relay,
        &["check", "--receipt-file", code, "--directory-key", &key],
        None,
    );
    assert_eq!(checked["unreadable"], 0, "{checked}");
    assert!(checked["messages"]
        .as_array()
        .unwrap()
        .iter()
        .any(|message| message["identity_shared_with"] == "demo/external-confidential-adviser"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_whose_answer_was_lost_is_delivered_again_and_counts_once() {
    let relay = Relay::start(RelayOptions::default());
    User::new().report(&relay, "Melding.");
    let writer = Member::new(&relay, &relay.directory.demo_office);
    let colleague = Member::new(&relay, &relay.directory.demo_colleague);
    let case = only_case(&writer, &relay);
    only_case(&colleague, &relay);
    // The relay stores the record but answers as if it had not.
    let lossy = HostileRelay::start(&relay.url, Misbehaviour::LoseRecordAnswer).await;
    let (status, _, printed) = writer.run_at(&lossy.url, "label", &[&case, "a"], None);
    assert_ne!(status, Some(0), "{printed}");
    // The next command delivers the same record again before its own.
    team(&writer, &relay.url, "label", &[&case, "b"], None);
    writer.sync(&relay);
    colleague.sync(&relay);
    for member in [&writer, &colleague] {
        let shown = member.show(&relay, &case);
        assert_eq!(shown["labels"], serde_json::json!(["a", "b"]), "{shown}");
        let history = shown["team_history"].as_array().unwrap();
        assert_eq!(history.len(), 2, "{shown}");
        assert!(
            history.iter().all(|entry| entry["counts"] == true),
            "{shown}"
        );
        assert_eq!(shown["team_records_missing"], 0, "{shown}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_guide_appointed_mid_case_reads_it_whole_and_the_reporter_seals_to_them() {
    let relay = Relay::start(RelayOptions::default());
    let reporter = User::new();
    let key = relay.directory.signing_key.directory_key().to_string();
    let code = reporter.report(&relay, "Melding: de aanbesteding is doorgestoken.");
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    let receipt = code_file.to_str().unwrap();
    let follow_up = |text: &str| {
        reporter.ok(
            &relay,
            &[
                "follow-up",
                "--receipt-file",
                receipt,
                "--directory-key",
                &key,
                "--message-file",
                "-",
            ],
            Some(text),
        );
    };
    let check = || {
        reporter.json(
            &relay,
            &["check", "--receipt-file", receipt, "--directory-key", &key],
            None,
        )
    };
    let office = Member::new(&relay, &relay.directory.demo_office);
    let guide = Member::new(&relay, &relay.directory.demo_guide);
    let case = only_case(&office, &relay);
    office.reply(&relay, &case, &["--ack"], None);
    follow_up("Nog een detail, voor de begeleider.");
    office.sync(&relay);
    // Only a process guide of the directory can be appointed, only by a recipient the
    // reporter chose.
    let (status, _, printed) = office.run_at(
        &relay.url,
        "appoint-guide",
        &[&case, "--guide", "external-confidential-adviser"],
        None,
    );
    assert_eq!(status, Some(2), "{printed}");
    team(
        &office,
        &relay.url,
        "appoint-guide",
        &[&case, "--guide", "process-guide"],
        None,
    );

    // The relay lets a guide appoint no one and hand the case to no one, and hands a case
    // over to no other recipient than a guide.
    let mailbox = meldpunt_crypto::ReceiptCode::parse(&code)
        .unwrap()
        .mailbox_token()
        .mailbox_id()
        .to_wire();
    let guide_session = meldpunt_end_to_end::recipient_session(
        &relay,
        "demo",
        "process-guide",
        &relay.directory.demo_guide,
    )
    .await;
    let office_session =
        meldpunt_end_to_end::office_session(&relay, "demo", &relay.directory.demo_office).await;
    for (session, path) in [
        (
            &guide_session,
            format!("/api/v1/office/mailboxes/{mailbox}/process-guides"),
        ),
        (
            &guide_session,
            format!("/api/v1/office/mailboxes/{mailbox}/hand-overs?to=integrity-office"),
        ),
        (
            &office_session,
            format!(
                "/api/v1/office/mailboxes/{mailbox}/hand-overs?to=external-confidential-adviser"
            ),
        ),
    ] {
        let json_body = path.ends_with("process-guides");
        let request = client()
            .post(format!("{}{path}", relay.url))
            .header("authorization", session.as_str());
        let request = if json_body {
            request.json(&serde_json::json!({"recipients": ["process-guide"]}))
        } else {
            request
                .header("content-type", "application/octet-stream")
                .body(b"age-encryption.org/v1\n".to_vec())
        };
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status().as_u16(), 404, "{path}");
    }

    // The guide reads the case whole: the report and follow-up handed over, the
    // acknowledgement and the notice.
    guide.sync(&relay);
    let shown = guide.show(&relay, &case);
    let kinds: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["report", "acknowledgement", "follow-up", "reply"],
        "{shown}"
    );
    assert_eq!(shown["partial"], false, "{shown}");
    assert_eq!(shown["quarantined"].as_array().unwrap().len(), 0, "{shown}");

    // The reporter is told, and seals the next follow-up to the guide.
    let checked = check();
    assert_eq!(checked["unreadable"], 0, "{checked}");
    assert!(
        checked
            .to_string()
            .contains("Process guide Process guide now accompanies"),
        "{checked}"
    );
    follow_up("Dank, fijn dat er een begeleider is.");
    let synced = guide.sync(&relay);
    assert_eq!(synced["arrived"][0]["kind"], "follow-up", "{synced}");
    assert_eq!(synced["arrived"][0]["unverified"], false, "{synced}");
    // The guide writes to the reporter; the reporter and the office read it.
    guide.reply(&relay, &case, &[], Some("Ik ben uw procesbegeleider."));
    let checked = check();
    assert_eq!(checked["unreadable"], 0, "{checked}");
    assert!(
        checked.to_string().contains("Ik ben uw procesbegeleider."),
        "{checked}"
    );
    let synced = office.sync(&relay);
    assert_eq!(
        synced["quarantined"].as_array().unwrap().len(),
        0,
        "{synced}"
    );

    // The guide leaves: the next follow-up is no longer sealed to them.
    team(
        &office,
        &relay.url,
        "appoint-guide",
        &[&case, "--guide", "process-guide", "--remove"],
        None,
    );
    follow_up("Alleen voor het bureau.");
    let synced = guide.sync(&relay);
    let arrived: Vec<&str> = synced["arrived"]
        .as_array()
        .unwrap()
        .iter()
        .map(|arrived| arrived["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        arrived,
        ["reply", "reply"],
        "their own reply coming back and the notice that they left, not the follow-up: {synced}"
    );
    assert_eq!(synced["not_addressed_to_this_identity"], 1, "{synced}");
    assert!(!guide
        .show(&relay, &case)
        .to_string()
        .contains("Alleen voor het bureau."));
    office.sync(&relay);
    let office_view = office.show(&relay, &case).to_string();
    assert!(office_view.contains("Alleen voor het bureau."));
}
