//! Structured reports through the real CLI and relay: an organisation's questionnaire in the
//! signed directory, bad answers refused before anything is sent, answers sealed with the
//! report and shown to the office, in the register as categories only (never free text),
//! counted in the figures, and kept as categories in the register stub after a purge.
//! The office builds the questionnaire with `meldpunt directory questions`.

use meldpunt_end_to_end::{Member, Relay, RelayOptions, TestDirectory, User};

fn structured_relay() -> Relay {
    Relay::start(RelayOptions {
        structured: true,
        ..RelayOptions::default()
    })
}

fn report_arguments<'a>(key: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut arguments = vec![
        "report",
        "--to",
        "demo",
        "--directory-key",
        key,
        "--message-file",
        "-",
    ];
    arguments.extend_from_slice(extra);
    arguments
}

/// A report to the demo organisation with its one required answer; its receipt code.
fn structured_report(user: &User, relay: &Relay, text: &str) -> String {
    let key = relay.directory.signing_key.directory_key().to_string();
    let sent = user.json(
        relay,
        &report_arguments(&key, &["--answer", "kind=other"]),
        Some(text),
    );
    sent["receipt_code"].as_str().unwrap().to_owned()
}

#[test]
fn bad_answers_are_refused_before_anything_is_sent() {
    let relay = structured_relay();
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let member = Member::new(&relay, &relay.directory.demo_office);
    // Every problem is named at once, with what the question takes; exit code 2.
    let output = reporter.run(
        &relay,
        &report_arguments(
            &key,
            &[
                "--answer",
                "areas=money,theft",
                "--answer",
                "meeting=misschien",
                "--answer",
                "since=gisteren",
                "--answer",
                "colour=blue",
            ],
        ),
        Some("Een melding met slechte antwoorden BAD-ANSWERS."),
    );
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    for expected in [
        "nothing was sent",
        "kind (Kind of misconduct): an answer is required; one of: fraud (Fraud)",
        "areas (Areas): not one of the options",
        "meeting (Meeting wanted): answer yes or no",
        "since (Since): not a date",
        "colour: there is no such question",
    ] {
        assert!(said.contains(expected), "{expected:?} in {said}");
    }
    // Without QUESTION=ANSWER, and to an organisation without questions, also refused.
    let output = reporter.run(
        &relay,
        &report_arguments(&key, &["--answer", "kind"]),
        Some("x"),
    );
    assert_eq!(output.status.code(), Some(2));
    let mut to_other = report_arguments(&key, &["--answer", "kind=fraud"]);
    to_other[2] = "other";
    let output = reporter.run(&relay, &to_other, Some("x"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("asks no questions"));
    // A consultation takes none.
    let output = reporter.run(
        &relay,
        &[
            "ask",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
            "--answer",
            "kind=fraud",
        ],
        Some("x"),
    );
    assert_eq!(output.status.code(), Some(2));
    // Nothing reached the relay.
    member.sync(&relay);
    assert_eq!(member.list(&relay)["cases"], serde_json::json!([]));
}

#[test]
fn a_structured_report_reaches_the_office_and_its_categories_the_register_and_figures() {
    let relay = structured_relay();
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let answers = reporter.path("answers.txt");
    std::fs::write(
        &answers,
        "areas = money, safety\nperiod=2026-01-01/2026-02-28\n\nunit=Inkoop Noord UNIT-SECRET\n",
    )
    .unwrap();
    let mut arguments = report_arguments(
        &key,
        &[
            "--answer",
            "kind=fraud",
            "--answer",
            "meeting=ja",
            "--answers-file",
        ],
    );
    arguments.push(answers.to_str().unwrap());
    arguments.push("--json");
    let sent: serde_json::Value = serde_json::from_str(&reporter.ok(
        &relay,
        &arguments,
        Some("Er verdwijnt geld bij inkoop REPORT-SECRET."),
    ))
    .unwrap();
    let code = sent["receipt_code"].as_str().unwrap().to_owned();

    // The reporter reads their own answers back.
    let receipt = reporter.path("receipt.txt");
    std::fs::write(&receipt, &code).unwrap();
    let checked = reporter.json(
        &relay,
        &[
            "check",
            "--directory-key",
            &key,
            "--receipt-file",
            receipt.to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(
        checked["messages"][0]["answers"],
        serde_json::json!({"areas": "money,safety", "kind": "fraud", "meeting": "yes",
            "period": "2026-01-01/2026-02-28", "unit": "Inkoop Noord UNIT-SECRET"})
    );
    let text = reporter.ok(
        &relay,
        &[
            "check",
            "--directory-key",
            &key,
            "--receipt-file",
            receipt.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        text.contains("answer · Kind of misconduct: Fraud"),
        "{text}"
    );

    // The office sees them, with the questionnaire's labels.
    let member = Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let case = member.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    let shown = member.show(&relay, &case);
    assert_eq!(shown["messages"][0]["answers"]["kind"], "fraud", "{shown}");
    let output = member
        .user
        .run(&relay, &member.arguments("show", &[&case]), None);
    let printed = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "answer · Kind of misconduct: Fraud",
        "answer · Areas: Money, Safety",
        "answer · Period: 2026-01-01/2026-02-28",
        "answer · Meeting wanted: yes",
    ] {
        assert!(printed.contains(expected), "{expected:?} in {printed}");
    }

    // The register: categories only — never the report's text, nor a short text answer.
    let output = member
        .user
        .run(&relay, &member.arguments("register", &["--csv"]), None);
    let register = String::from_utf8(output.stdout).unwrap();
    assert!(register.lines().next().unwrap().contains(",answers,"));
    assert!(
        register.contains("areas=money,safety; kind=fraud; meeting=yes"),
        "{register}"
    );
    for secret in ["REPORT-SECRET", "UNIT-SECRET", "2026-01-01"] {
        assert!(!register.contains(secret), "{secret} in {register}");
    }
    // The figures count answers, small counts hidden.
    let output = member
        .user
        .run(&relay, &member.arguments("stats", &["--csv"]), None);
    let figures = String::from_utf8(output.stdout).unwrap();
    assert!(
        figures.contains("reports per answer,kind=fraud,fewer than 5"),
        "{figures}"
    );
    assert!(!figures.contains("UNIT-SECRET"), "{figures}");

    // Purged at its retention date, the register stub keeps the categories only.
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date());
    let later = today.plus_days(1).to_string();
    let ok = |day: &str, command: &str, extra: &[&str]| {
        let (status, answer, printed) = member.run_on(&relay, day, command, extra);
        assert_eq!(status, Some(0), "{command} {extra:?}: {printed}");
        answer
    };
    let today = today.to_string();
    ok(&today, "reply", &[&case, "--ack"]);
    ok(&today, "close", &[&case]);
    let reason = member.user.path("reason.txt");
    std::fs::write(&reason, "Afgehandeld.").unwrap();
    ok(
        &today,
        "retention",
        &[
            &case,
            "--until",
            &later,
            "--reason-file",
            reason.to_str().unwrap(),
        ],
    );
    ok(&later, "sync", &[]);
    ok(&later, "purge", &[&case]);
    let register = ok(&later, "register", &[]);
    assert_eq!(
        register["cases"][0]["answers"],
        serde_json::json!({"areas": "money,safety", "kind": "fraud", "meeting": "yes"}),
        "{register}"
    );
    for file in meldpunt_end_to_end::files_under(std::path::Path::new(&member.store)) {
        let bytes = std::fs::read(&file).unwrap();
        for secret in [&b"UNIT-SECRET"[..], b"REPORT-SECRET"] {
            assert!(
                !meldpunt_end_to_end::contains(&bytes, secret),
                "{} keeps a purged answer",
                file.display()
            );
        }
    }
}

#[test]
fn a_hostile_client_s_free_text_in_a_choice_question_is_shown_but_never_registered() {
    let relay = structured_relay();
    // A client with its own idea of the questionnaire: `kind` as free text.
    let mut questions = TestDirectory::questionnaire();
    questions[0].kind = meldpunt_crypto::QuestionKind::Text;
    questions[0].options.clear();
    let organisation = meldpunt_crypto::Organisation {
        id: "demo".into(),
        name: meldpunt_crypto::LocalisedName {
            nl: "Demo".into(),
            en: "Demo".into(),
        },
        recipients: Vec::new(),
        questions,
        channels: Vec::new(),
        evaluation: Vec::new(),
    };
    let answers = organisation
        .answers(&[("kind".into(), "Jan Jansen van Inkoop".into())])
        .unwrap();
    let reporter = meldpunt_end_to_end::Reporter::new();
    let sealed = meldpunt_crypto::Message::report(
        &reporter.code,
        vec![meldpunt_crypto::RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }],
        meldpunt_crypto::Content::text(
            meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()),
            "Een melding.",
        )
        .with_answers(answers),
    )
    .seal(&[
        relay.directory.demo_office.recipient(),
        relay.directory.demo_colleague.recipient(),
        reporter.code.reply_identity().recipient(),
    ])
    .unwrap()
    .into_bytes();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async { reporter.create(&relay, "demo", sealed).await.status() });
    assert_eq!(status, 201);
    let member = Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let case = member.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    // Shown to the office as written (it is the report), but not a category.
    let output = member
        .user
        .run(&relay, &member.arguments("show", &[&case]), None);
    assert!(String::from_utf8_lossy(&output.stdout)
        .contains("answer · Kind of misconduct: Jan Jansen van Inkoop"));
    let (status, register, printed) = member.run_at(&relay.url, "register", &[], None);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(
        register["cases"][0]["answers"],
        serde_json::json!({}),
        "{register}"
    );
}

#[test]
fn an_office_sets_its_questionnaire_and_channels_in_the_draft_and_a_bad_one_changes_nothing() {
    let office = User::new();
    let draft = office.path("directory.json");
    let signing_key = office.path("directory.key");
    let draft_argument = draft.to_str().unwrap();
    let run = |arguments: &[&str]| office.run_at("", arguments, None);
    let identity = meldpunt_crypto::IdentityKey::generate();
    let init = run(&[
        "directory",
        "init",
        "--file",
        draft_argument,
        "--signing-key",
        signing_key.to_str().unwrap(),
    ]);
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let recipient_key = identity.recipient().to_string();
    let office_key = identity.office_signing_key().office_key().to_string();
    let added = run(&[
        "directory",
        "add-recipient",
        "--file",
        draft_argument,
        "--organisation",
        "demo",
        "--organisation-name-nl",
        "Demo",
        "--organisation-name-en",
        "Demo",
        "--recipient",
        "integrity-office",
        "--role",
        "integrity-office",
        "--name-nl",
        "Bureau",
        "--name-en",
        "Office",
        "--key",
        &recipient_key,
        "--signing-key",
        &office_key,
    ]);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let before = std::fs::read(&draft).unwrap();
    // A choice question with one option, and a file that is not JSON: refused, unchanged.
    let bad = office.path("bad.json");
    std::fs::write(
        &bad,
        r#"[{"id": "kind", "label": {"nl": "Soort", "en": "Kind"}, "kind": "choice", "options": [{"id": "fraud", "label": {"nl": "Fraude", "en": "Fraud"}}]}]"#,
    )
    .unwrap();
    for file in [bad.to_str().unwrap(), "/nonexistent/questions.json"] {
        let output = run(&[
            "directory",
            "questions",
            "--file",
            draft_argument,
            "--organisation",
            "demo",
            "--from",
            file,
        ]);
        assert_ne!(output.status.code(), Some(0));
        assert_eq!(std::fs::read(&draft).unwrap(), before);
    }
    let output = run(&[
        "directory",
        "questions",
        "--file",
        draft_argument,
        "--organisation",
        "demo",
        "--from",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("needs 2 to 64 options"));
    // The vector questionnaire and two channels are accepted and shown.
    let questions = office.path("questions.json");
    std::fs::write(
        &questions,
        serde_json::to_string(&TestDirectory::questionnaire()).unwrap(),
    )
    .unwrap();
    let channels = office.path("channels.json");
    std::fs::write(
        &channels,
        serde_json::to_string(&TestDirectory::channels()).unwrap(),
    )
    .unwrap();
    for (part, file) in [("questions", &questions), ("channels", &channels)] {
        let output = run(&[
            "directory",
            part,
            "--file",
            draft_argument,
            "--organisation",
            "demo",
            "--from",
            file.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let shown = run(&["directory", "show", draft_argument]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    for expected in [
        "kind * [choice] Soort misstand / Kind of misconduct",
        "fraud — Fraude / Fraud",
        "meeting [yes-no]",
        "Where else to go:",
        "Huis voor Klokkenluiders / Whistleblowers Authority (Huis voor Klokkenluiders) — https://www.huisvoorklokkenluiders.nl",
    ] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    // Cleared again.
    let output = run(&[
        "directory",
        "questions",
        "--file",
        draft_argument,
        "--organisation",
        "demo",
        "--clear",
    ]);
    assert!(output.status.success());
    let shown = run(&["directory", "show", draft_argument]);
    assert!(!String::from_utf8_lossy(&shown.stdout).contains("[choice]"));
}

/// A small deterministic generator (xorshift), so that a failure can be replayed.
struct Generator(u64);

impl Generator {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_of_a_thousand_structured_reports_match_an_independent_count() {
    let relay = structured_relay();
    let directory = &relay.directory;
    let organisation = meldpunt_crypto::Organisation {
        id: "demo".into(),
        name: meldpunt_crypto::LocalisedName {
            nl: "Demo".into(),
            en: "Demo".into(),
        },
        recipients: Vec::new(),
        questions: TestDirectory::questionnaire(),
        channels: Vec::new(),
        evaluation: Vec::new(),
    };
    let office_address = meldpunt_crypto::RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let today = meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date());
    let session = meldpunt_end_to_end::office_session(&relay, "demo", &directory.demo_office).await;
    let mut generator = Generator(0x9e37_79b9_7f4a_7c15);
    let http = meldpunt_end_to_end::client();
    // The count made here, independently of the CLI.
    let mut kinds: std::collections::BTreeMap<&str, u32> = Default::default();
    let mut meetings: std::collections::BTreeMap<&str, u32> = Default::default();
    let mut areas: std::collections::BTreeMap<&str, u32> = Default::default();
    let mut acknowledged = 0u32;
    for index in 0..1000u32 {
        // Three reports of the rare kind: it must never be shown as a number.
        let kind = if index < 3 {
            "other"
        } else if generator.next(5) < 3 {
            "fraud"
        } else {
            "bullying"
        };
        *kinds.entry(kind).or_default() += 1;
        let mut typed = vec![("kind".to_owned(), kind.to_owned())];
        match generator.next(10) {
            0 => {}
            1..=3 => typed.push(("meeting".into(), "yes".into())),
            _ => typed.push(("meeting".into(), "no".into())),
        }
        if let Some((_, meeting)) = typed.iter().find(|(question, _)| question == "meeting") {
            *meetings
                .entry(if meeting == "yes" { "yes" } else { "no" })
                .or_default() += 1;
        }
        let chosen: Vec<&str> = ["money", "safety"]
            .into_iter()
            .filter(|_| generator.next(2) == 0)
            .collect();
        for area in &chosen {
            *areas.entry(area).or_default() += 1;
        }
        typed.push(("areas".into(), chosen.join(",")));
        typed.push(("unit".into(), format!("Afdeling FREE-TEXT-{index}")));
        let reporter = meldpunt_end_to_end::Reporter::new();
        let report = meldpunt_crypto::Message::report(
            &reporter.code,
            vec![office_address.clone()],
            meldpunt_crypto::Content::text(today, format!("Melding REPORT-TEXT-{index}."))
                .with_answers(organisation.answers(&typed).unwrap()),
        );
        let sealed = report
            .seal(&[
                directory.demo_office.recipient(),
                directory.demo_colleague.recipient(),
                reporter.code.reply_identity().recipient(),
            ])
            .unwrap()
            .into_bytes();
        // One HTTP client for all (a new one per request would cost more than the report).
        let offer: meldpunt_wire::ChallengeOffer = http
            .get(format!("{}/api/v1/challenge", relay.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut request = http
            .post(format!("{}/api/v1/mailboxes", relay.url))
            .header("authorization", reporter.bearer())
            .header("meldpunt-organisation", "demo")
            .header("meldpunt-recipients", "integrity-office")
            .header("content-type", "application/octet-stream")
            .body(sealed);
        if let Some(wire) = offer.challenge.filter(|_| offer.required) {
            let challenge = meldpunt_crypto::Challenge::from_wire(&wire).unwrap();
            let stamp = challenge
                .solve(&reporter.token().mailbox_id(), |_| true)
                .unwrap();
            request = request.header("meldpunt-stamp", stamp.to_wire());
        }
        assert_eq!(request.send().await.unwrap().status(), 201);
        // Two in five are acknowledged (today, so in time).
        if index % 5 < 2 {
            acknowledged += 1;
            let acknowledgement = meldpunt_crypto::Message::answering(
                &directory.demo_office.office_signing_key(),
                office_address.clone(),
                &report,
                true,
                1,
                meldpunt_crypto::Content::text(today, "Ontvangen."),
            )
            .unwrap()
            .seal(&[
                directory.demo_office.recipient(),
                directory.demo_colleague.recipient(),
                reporter.code.reply_identity().recipient(),
            ])
            .unwrap()
            .into_bytes();
            let path = format!(
                "/api/v1/office/mailboxes/{}/messages",
                reporter.token().mailbox_id().to_wire()
            );
            let response = http
                .post(format!("{}{path}", relay.url))
                .header("authorization", &session)
                .header("content-type", "application/octet-stream")
                .body(acknowledgement)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 201);
        }
    }

    let member = Member::new(&relay, &directory.demo_office);
    let month_later = today.plus_days(30).to_string();
    let (status, figures, printed) = tokio::task::block_in_place(|| {
        member.sync(&relay);
        member.run_on(&relay, &month_later, "stats", &[])
    });
    assert_eq!(status, Some(0), "{printed}");

    // What the figures must say, from the count above and the small-count rule: a count under
    // 5 is "fewer than 5", and then the smallest other count of its group is withheld.
    let published = |counts: &std::collections::BTreeMap<&str, u32>| {
        let hidden: Vec<&str> = counts
            .iter()
            .filter(|(_, count)| (1..5).contains(*count))
            .map(|(key, _)| *key)
            .collect();
        let withheld = (hidden.len() == 1)
            .then(|| {
                counts
                    .iter()
                    .filter(|(_, count)| **count >= 5)
                    .min_by_key(|(_, count)| **count)
                    .map(|(key, _)| *key)
            })
            .flatten();
        counts
            .iter()
            .map(|(key, count)| {
                let shown = if hidden.contains(key) {
                    serde_json::json!("fewer than 5")
                } else if Some(*key) == withheld {
                    serde_json::json!("withheld")
                } else {
                    serde_json::json!(count)
                };
                ((*key).to_owned(), shown)
            })
            .collect::<serde_json::Map<String, serde_json::Value>>()
    };
    assert_eq!(figures["reports"], 1000, "{figures}");
    assert_eq!(
        figures["per_answer"]["kind"],
        serde_json::Value::Object(published(&kinds))
    );
    assert_eq!(figures["per_answer"]["kind"]["other"], "fewer than 5");
    assert_eq!(
        figures["per_answer"]["meeting"],
        serde_json::Value::Object(published(&meetings))
    );
    assert_eq!(
        figures["per_answer"]["areas"],
        serde_json::Value::Object(published(&areas))
    );
    // Free text is never a category.
    assert!(figures["per_answer"].get("unit").is_none(), "{figures}");
    assert!(!figures.to_string().contains("FREE-TEXT"));
    assert_eq!(
        figures["per_month"][&today.to_string()[..7]],
        1000,
        "{figures}"
    );
    // A month on, the 600 never acknowledged missed their 7 days: 40% in time.
    assert_eq!(
        figures["acknowledged_in_time"]["percent"],
        (acknowledged * 100 + 500) / 1000
    );
    assert_eq!(figures["acknowledged_in_time"]["of"], 1000);
    assert_eq!(figures["median_days_to_acknowledgement"], 0);
    assert_eq!(figures["fed_back_in_time"]["of"], 0);
    assert_eq!(figures["open_by_age"]["under 1 month"], 1000, "{figures}");
}

#[test]
fn a_closed_case_invites_an_evaluation_that_the_office_reads_and_counts() {
    let relay = structured_relay();
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let arguments = report_arguments(&key, &["--answer", "kind=bullying", "--json"]);
    let sent: serde_json::Value =
        serde_json::from_str(&reporter.ok(&relay, &arguments, Some("Mijn collega wordt gepest.")))
            .unwrap();
    let receipt = reporter.path("receipt.txt");
    std::fs::write(&receipt, sent["receipt_code"].as_str().unwrap()).unwrap();
    let receipt = receipt.to_str().unwrap();
    let evaluate = |extra: &[&str], stdin: Option<&str>| {
        let mut arguments = vec![
            "evaluate",
            "--directory-key",
            &key,
            "--receipt-file",
            receipt,
        ];
        arguments.extend_from_slice(extra);
        reporter.run(&relay, &arguments, stdin)
    };
    // Not closed yet: nothing to evaluate, nothing sent.
    let output = evaluate(&["--answer", "safe=safe"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("has not closed your case"));

    let member = Member::new(&relay, &relay.directory.demo_office);
    member.sync(&relay);
    let case = member.list(&relay)["cases"][0]["case"]
        .as_str()
        .unwrap()
        .to_owned();
    member.reply(&relay, &case, &["--ack"], None);
    let (status, closed, printed) = member.run_at(&relay.url, "close", &[&case], None);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(closed["closing_message_sent"], true);
    // Closing twice sends nothing more.
    let (status, closed, printed) = member.run_at(&relay.url, "close", &[&case], None);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(closed["closing_message_sent"], false);

    // The reporter reads the closing message and its invitation.
    let text = reporter.ok(
        &relay,
        &["check", "--directory-key", &key, "--receipt-file", receipt],
        None,
    );
    assert!(text.contains("(closing the case)"), "{text}");
    assert!(text.contains("meldpunt evaluate"), "{text}");
    // Bad answers are refused and nothing is sent; an empty evaluation too.
    let output = evaluate(
        &["--answer", "safe=very", "--answer", "informed=perhaps"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("safe (How safe did you feel reporting?): not one of the options"),
        "{said}"
    );
    assert!(
        said.contains("informed (Were you kept informed?): answer yes or no"),
        "{said}"
    );
    let output = evaluate(&[], None);
    assert_eq!(output.status.code(), Some(2));
    // The evaluation, with a text.
    let output = evaluate(
        &[
            "--answer",
            "safe=partly",
            "--answer",
            "informed=ja",
            "--answer",
            "timely=no",
            "--message-file",
            "-",
        ],
        Some("Het duurde lang, maar ik werd serieus genomen."),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The office reads it, labelled, with the evaluation questions' labels.
    member.sync(&relay);
    let shown = member.show(&relay, &case);
    let messages = shown["messages"].as_array().unwrap();
    let purposes: Vec<&str> = messages
        .iter()
        .map(|message| message["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(
        purposes,
        ["message", "message", "closing", "evaluation"],
        "{shown}"
    );
    assert_eq!(
        messages[3]["answers"],
        serde_json::json!({"informed": "yes", "safe": "partly", "timely": "no"})
    );
    let output = member
        .user
        .run(&relay, &member.arguments("show", &[&case]), None);
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("(evaluation of the process)"), "{printed}");
    assert!(
        printed.contains("answer · How safe did you feel reporting?: Partly safe"),
        "{printed}"
    );
    let (status, figures, printed) = member.run_at(&relay.url, "stats", &[], None);
    assert_eq!(status, Some(0), "{printed}");
    assert_eq!(figures["evaluated"], "fewer than 5", "{figures}");
    assert_eq!(
        figures["evaluation"]["safe"]["partly"], "fewer than 5",
        "{figures}"
    );
}

#[test]
fn an_oral_report_is_recorded_with_a_code_kept_nowhere_and_confirmed_or_corrected_by_the_reporter()
{
    let relay = structured_relay();
    let key = relay.directory.signing_key.directory_key().to_string();
    let member = Member::new(&relay, &relay.directory.demo_office);
    // An empty record is refused, and nothing is sent.
    let (status, _, printed) = member.run_at(
        &relay.url,
        "intake",
        &["--channel", "telephone", "--message-file", "-"],
        Some("  \n"),
    );
    assert_eq!(status, Some(2), "{printed}");
    let (status, recorded, printed) = member.run_at(
        &relay.url,
        "intake",
        &[
            "--channel",
            "telephone",
            "--message-file",
            "-",
            "--answer",
            "kind=fraud",
        ],
        Some("Verslag van een telefoongesprek op 3 december: facturen worden dubbel betaald ORAL-TEXT."),
    );
    assert_eq!(status, Some(0), "{printed}");
    let code = recorded["receipt_code"].as_str().unwrap().to_owned();
    let case = recorded["case"].as_str().unwrap().to_owned();
    member.sync(&relay);
    // The office's store never keeps the code (nor any group of it).
    for file in meldpunt_end_to_end::files_under(std::path::Path::new(&member.store))
        .into_iter()
        .chain(meldpunt_end_to_end::files_under(&member.user.path("home")))
    {
        let bytes = std::fs::read(&file).unwrap();
        assert!(
            !meldpunt_end_to_end::contains(&bytes, code.as_bytes()),
            "{} keeps the receipt code",
            file.display()
        );
    }
    let shown = member.show(&relay, &case);
    assert_eq!(shown["oral_record"]["channel"], "telephone", "{shown}");
    assert_eq!(
        shown["oral_record"]["standing"], "awaiting the reporter's confirmation",
        "{shown}"
    );
    assert_eq!(shown["messages"][0]["answers"]["kind"], "fraud");

    // The reporter reads the record with the code on paper.
    let reporter = User::new();
    let receipt = reporter.path("receipt.txt");
    std::fs::write(&receipt, &code).unwrap();
    let receipt = receipt.to_str().unwrap();
    let text = reporter.ok(
        &relay,
        &["check", "--directory-key", &key, "--receipt-file", receipt],
        None,
    );
    assert!(text.contains("the record of your oral report"), "{text}");
    assert!(
        text.contains("recorded by Integrity office from a telephone call"),
        "{text}"
    );
    assert!(text.contains("ORAL-TEXT"), "{text}");
    // Empty corrections are refused; corrections, then agreement, are sent.
    let confirm = |extra: &[&str], stdin: Option<&str>| {
        let mut arguments = vec![
            "confirm",
            "--directory-key",
            &key,
            "--receipt-file",
            receipt,
        ];
        arguments.extend_from_slice(extra);
        reporter.run(&relay, &arguments, stdin)
    };
    let output = confirm(&["--corrections-file", "-"], Some(" "));
    assert_eq!(output.status.code(), Some(2));
    let output = confirm(&[], None);
    assert_eq!(
        output.status.code(),
        Some(2),
        "--agree or --corrections-file is required"
    );
    let mut shown = serde_json::Value::Null;
    for (extra, stdin, standing) in [
        (
            &["--corrections-file", "-"][..],
            Some("Het waren declaraties, geen facturen."),
            "corrected with the reporter's receipt code on",
        ),
        (
            &["--agree"][..],
            None,
            "confirmed with the reporter's receipt code on",
        ),
    ] {
        let output = confirm(extra, stdin);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        member.sync(&relay);
        shown = member.show(&relay, &case);
        assert!(
            shown["oral_record"]["standing"]
                .as_str()
                .unwrap()
                .starts_with(standing),
            "{shown}"
        );
    }
    let purposes: Vec<&str> = shown["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|message| message["purpose"].as_str().unwrap())
        .collect();
    assert_eq!(purposes, ["message", "correction", "confirmation"]);

    // A report the reporter wrote themselves has no record to confirm.
    let other = User::new();
    let own = structured_report(&other, &relay, "Een gewone melding.");
    let own_file = other.path("own.txt");
    std::fs::write(&own_file, own).unwrap();
    let output = other.run(
        &relay,
        &[
            "confirm",
            "--directory-key",
            &key,
            "--receipt-file",
            own_file.to_str().unwrap(),
            "--agree",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_passed_off_as_recorded_by_the_office_is_read_with_its_claim_unproven() {
    let relay = structured_relay();
    let directory = &relay.directory;
    // Signed by the other organisation's office key, claiming the demo integrity office;
    // then a genuine colleague's signature moved onto another text.
    post_recorded(
        &relay,
        &directory.other_office,
        "Verslag: collega Jansen heeft bekend FORGED-RECORD.",
        None,
    )
    .await;
    post_recorded(
        &relay,
        &directory.demo_colleague,
        "Het echte verslag.",
        Some("Een ander verslag MOVED-RECORD."),
    )
    .await;
    // A genuine report after them is filed as ever: one bad message stops nothing.
    let reporter = User::new();
    tokio::task::block_in_place(|| {
        structured_report(&reporter, &relay, "Een echte melding daarna.")
    });
    let member = Member::new(&relay, &directory.demo_office);
    let (listed, shown) = tokio::task::block_in_place(|| {
        member.sync(&relay);
        let listed = member.list(&relay);
        let shown: Vec<serde_json::Value> = listed["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|case| member.show(&relay, case["case"].as_str().unwrap()))
            .collect();
        (listed, shown)
    });
    // The two are read as the reports they are, their claim to be recorded marked unproven
    // (never "recorded by the integrity office"); the genuine one after them is filed too.
    let text = serde_json::to_string(&shown).unwrap();
    assert_eq!(shown.len(), 3, "{listed}");
    assert!(text.contains("Een echte melding daarna."), "{listed}");
    for marker in ["FORGED-RECORD", "MOVED-RECORD"] {
        let case = shown
            .iter()
            .find(|case| case.to_string().contains(marker))
            .unwrap_or_else(|| panic!("{marker} not filed: {text}"));
        assert_eq!(case["oral_record"]["verified"], false, "{case}");
        let id = case["case"].as_str().unwrap().to_owned();
        let printed = tokio::task::block_in_place(|| {
            let output = member
                .user
                .run(&relay, &member.arguments("show", &[&id]), None);
            String::from_utf8_lossy(&output.stdout).into_owned()
        });
        assert!(printed.contains("NOT VERIFIED"), "{printed}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_evaluation_is_offered_whichever_page_shows_the_closing() {
    let relay = Relay::start(RelayOptions {
        structured: true,
        extra_config: "[web]\nminimum_form_seconds = 0\nthread_messages = 2\n".into(),
        ..RelayOptions::default()
    });
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let code = tokio::task::block_in_place(|| structured_report(&reporter, &relay, "Een melding."));
    let receipt = reporter.path("receipt.txt");
    std::fs::write(&receipt, &code).unwrap();
    let member = Member::new(&relay, &relay.directory.demo_office);
    tokio::task::block_in_place(|| {
        member.sync(&relay);
        let case = member.list(&relay)["cases"][0]["case"]
            .as_str()
            .unwrap()
            .to_owned();
        let (status, _, printed) = member.run_at(&relay.url, "close", &[&case], None);
        assert_eq!(status, Some(0), "{printed}");
        // Three follow-ups after the closing message push it off the newest page (2 shown).
        for number in 0..3 {
            reporter.ok(
                &relay,
                &[
                    "follow-up",
                    "--directory-key",
                    &key,
                    "--receipt-file",
                    receipt.to_str().unwrap(),
                    "--message-file",
                    "-",
                ],
                Some(&format!("Aanvulling {number}.")),
            );
        }
    });
    let token = relay.form_token("/check").await;
    let page = meldpunt_end_to_end::client()
        .post(format!("{}/check", relay.url))
        .form(&[
            ("form_token", token.as_str()),
            ("lang", "en"),
            ("receipt_code", code.as_str()),
        ])
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("We have finished handling your report"),
        "the closing is not on this page"
    );
    assert!(page.contains("Aanvulling 2."), "{page}");
    assert!(page.contains("id=\"evaluation-form\""), "{page}");
}

/// A new mailbox whose report says it was recorded (in a meeting) by the holder of `signer`
/// for the demo integrity office, signed by them; with `rewritten`, its text is replaced
/// after signing.
async fn post_recorded(
    relay: &Relay,
    signer: &meldpunt_crypto::IdentityKey,
    text: &str,
    rewritten: Option<&str>,
) {
    let office_address = meldpunt_crypto::RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let reporter = meldpunt_end_to_end::Reporter::new();
    let mut report = meldpunt_crypto::Message::report(
        &reporter.code,
        vec![office_address.clone()],
        meldpunt_crypto::Content::text(
            meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date()),
            text,
        ),
    );
    signer
        .office_signing_key()
        .record(
            office_address,
            meldpunt_crypto::Channel::Meeting,
            &mut report,
        )
        .unwrap();
    if let Some(rewritten) = rewritten {
        report.body = String::from(rewritten).into();
    }
    let sealed = report
        .seal(&[
            relay.directory.demo_office.recipient(),
            relay.directory.demo_colleague.recipient(),
            reporter.code.reply_identity().recipient(),
        ])
        .unwrap()
        .into_bytes();
    assert_eq!(reporter.create(relay, "demo", sealed).await.status(), 201);
}
