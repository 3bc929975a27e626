//! Checks the files under `crypto/testdata/`: what other implementations (the web form's
//! JavaScript) must agree with. Regenerate the deterministic ones with
//! `cargo run -p meldpunt-crypto --example write_test_vectors`.

use std::fs;
use std::path::PathBuf;

use meldpunt_crypto::{
    padded_length, DirectoryKey, Error, IdentityKey, Message, MessageKind, ReceiptCode,
    RecipientAddress, Role, SignedDirectory,
};

fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("testdata")
        .join(name)
}

fn read(name: &str) -> String {
    fs::read_to_string(testdata(name)).unwrap_or_else(|error| panic!("reading {name}: {error}"))
}

fn identity(name: &str) -> IdentityKey {
    let text = read(name);
    let line = text
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    IdentityKey::parse(line).unwrap()
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(&text[index..index + 2], 16).unwrap())
        .collect()
}

/// Blocks of `key: value` lines separated by blank lines; `#` lines are comments.
fn blocks(text: &str) -> Vec<Vec<(String, String)>> {
    text.split("\n\n")
        .map(|block| {
            block
                .lines()
                .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
                .map(|line| {
                    let (key, value) = line.split_once(": ").unwrap();
                    (key.to_owned(), value.to_owned())
                })
                .collect::<Vec<_>>()
        })
        .filter(|block| !block.is_empty())
        .collect()
}

#[test]
fn receipt_code_derivations_match_the_vectors() {
    let vectors = blocks(&read("receipt-codes.txt"));
    assert!(vectors.len() >= 8);
    for vector in vectors {
        let field = |name: &str| &vector.iter().find(|(key, _)| key == name).unwrap().1;
        let entropy: [u8; 16] = unhex(field("entropy")).try_into().unwrap();
        let code = ReceiptCode::from_entropy(entropy);
        assert_eq!(code.to_written_form().as_str(), field("receipt-code"));
        let parsed = ReceiptCode::parse(field("receipt-code")).unwrap();
        let token = parsed.mailbox_token();
        assert_eq!(token.to_wire().as_str(), field("mailbox-token"));
        assert_eq!(token.mailbox_id().to_wire(), *field("mailbox-id"));
        let reply = parsed.reply_identity();
        assert_eq!(reply.to_secret_string().as_str(), field("reply-identity"));
        assert_eq!(reply.recipient().to_string(), *field("reply-recipient"));
        assert!(reply.is_post_quantum());
        let classic = parsed.classic_reply_identity();
        assert_eq!(
            classic.to_secret_string().as_str(),
            field("classic-reply-identity")
        );
        assert_eq!(
            classic.recipient().to_string(),
            *field("classic-reply-recipient")
        );
        assert_eq!(
            parsed.follow_up_signing_key().follow_up_key().to_wire(),
            *field("follow-up-key")
        );
    }
}

#[test]
fn typed_receipt_codes_give_the_expected_result() {
    let text = read("receipt-code-inputs.txt");
    let mut checked = 0;
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let (expected, typed) = line.split_once('\t').unwrap();
        let result = ReceiptCode::parse(typed);
        match (expected, &result) {
            (ok, Ok(code)) if ok.starts_with("ok:") => {
                let want = unhex(&ok[3..]);
                let reference = ReceiptCode::from_entropy(want.try_into().unwrap());
                assert!(
                    code.mailbox_token().matches(&reference.mailbox_token()),
                    "{typed:?}"
                );
            }
            ("error:length", Err(Error::ReceiptCodeLength { .. }))
            | ("error:character", Err(Error::ReceiptCodeCharacter { .. }))
            | ("error:checksum", Err(Error::ReceiptCodeChecksum { .. })) => {}
            _ => panic!("{typed:?}: expected {expected}, got {result:?}"),
        }
        checked += 1;
    }
    assert!(checked >= 20);
}

#[test]
fn padding_matches_the_vectors() {
    for line in read("padding.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
    {
        let (length, padded) = line.split_once(' ').unwrap();
        assert_eq!(
            padded_length(length.parse().unwrap()),
            Some(padded.parse().unwrap()),
            "{line}"
        );
    }
}

#[test]
fn signed_directory_verifies_and_is_byte_stable() {
    let signing_key_text = read("directory-signing-key.txt");
    let public: DirectoryKey = signing_key_text
        .lines()
        .next()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let bytes = fs::read(testdata("directory.signed.json")).unwrap();
    let signed = SignedDirectory::from_bytes(bytes.clone()).unwrap();
    let directory = signed
        .verify(&public, "2026-11-28".parse().unwrap(), Some(7))
        .unwrap();
    assert_eq!(directory.version, 7);
    let office = directory
        .recipient(&RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        })
        .unwrap();
    assert_eq!(office.role, Role::IntegrityOffice);
    assert_eq!(
        office.keys,
        vec![identity("office.identity.txt").recipient()]
    );
    assert!(matches!(
        signed.verify(&public, "2027-11-02".parse().unwrap(), None),
        Err(Error::DirectoryExpired { .. })
    ));
    assert!(matches!(
        signed.verify(&public, "2026-11-28".parse().unwrap(), Some(8)),
        Err(Error::DirectoryRollback {
            seen: 8,
            offered: 7
        })
    ));
    // Ed25519 is deterministic: signing the same directory again gives the same bytes.
    let secret = signing_key_text.lines().nth(1).unwrap();
    let key = meldpunt_crypto::DirectorySigningKey::parse(secret).unwrap();
    let mut previous = directory.clone();
    previous.version -= 1;
    let (_, again) = previous.sign(&key).unwrap();
    assert_eq!(again.as_bytes(), &bytes[..]);
}

#[test]
fn hybrid_keys_match_the_vectors() {
    let vectors = blocks(&read("hybrid-keys.txt"));
    assert_eq!(vectors.len(), 4);
    for vector in vectors {
        let field = |name: &str| &vector.iter().find(|(key, _)| key == name).unwrap().1;
        let identity = IdentityKey::parse(field("identity")).unwrap();
        assert!(identity.is_post_quantum());
        assert_eq!(identity.to_secret_string().as_str(), field("identity"));
        assert_eq!(identity.recipient().to_string(), *field("recipient"));
        let recipient: meldpunt_crypto::RecipientKey = field("recipient").parse().unwrap();
        assert_eq!(recipient, identity.recipient());
        assert_eq!(
            identity.office_signing_key().office_key().to_string(),
            *field("office-key")
        );
    }
}

#[test]
fn the_directory_history_vectors_continue_and_the_fork_is_refused() {
    let signed = |name: &str| {
        SignedDirectory::from_bytes(
            fs::read(testdata(&format!("directory-history/{name}"))).unwrap(),
        )
        .unwrap()
    };
    let hashes = read("directory-history/hashes.txt");
    let hash = |name: &str| {
        let line = hashes
            .lines()
            .find(|line| line.starts_with(&format!("{name}: ")))
            .unwrap();
        meldpunt_crypto::DirectoryHash::from_wire(&line[name.len() + 2..]).unwrap()
    };
    let (one, two, three, fork) = (
        signed("7.json"),
        signed("8.json"),
        signed("9.json"),
        signed("8-fork.json"),
    );
    for (name, directory) in [
        ("7.json", &one),
        ("8.json", &two),
        ("9.json", &three),
        ("8-fork.json", &fork),
    ] {
        assert_eq!(directory.hash().unwrap(), hash(name), "{name}");
    }
    // Version 7 is the signed directory vector itself.
    assert_eq!(
        one.as_bytes(),
        &fs::read(testdata("directory.signed.json")).unwrap()[..]
    );
    let key = one.claimed_signing_key().unwrap();
    meldpunt_crypto::verify_continuation(
        &key,
        7,
        hash("7.json"),
        &[two.clone(), three.clone()],
        &three,
    )
    .unwrap();
    meldpunt_crypto::verify_continuation(
        &key,
        8,
        hash("8.json"),
        std::slice::from_ref(&three),
        &three,
    )
    .unwrap();
    // The fork continues version 7 too, but not the version 8 a client pinned.
    meldpunt_crypto::verify_continuation(
        &key,
        7,
        hash("7.json"),
        std::slice::from_ref(&fork),
        &fork,
    )
    .unwrap();
    assert!(matches!(
        meldpunt_crypto::verify_continuation(&key, 8, hash("8.json"), &[], &fork),
        Err(meldpunt_crypto::Error::DirectoryChain(_))
    ));
    assert!(matches!(
        meldpunt_crypto::verify_continuation(
            &key,
            7,
            hash("7.json"),
            &[fork, three.clone()],
            &three
        ),
        Err(meldpunt_crypto::Error::DirectoryChain(_))
    ));
}

/// The frozen hybrid fixture: a report sealed to a hybrid office key and the hybrid reply key
/// of the all-zero receipt code. Both open it; so does the browser script (web/test).
#[test]
fn frozen_hybrid_report_opens_for_the_office_and_the_reporter() {
    let sealed = fs::read(testdata("hybrid-report.age")).unwrap();
    let expected = Message::decode(&fs::read(testdata("hybrid-report.json")).unwrap()).unwrap();
    let office = identity("office-pq.identity.txt");
    assert!(office.is_post_quantum());
    assert_eq!(Message::open(&[office], &sealed).unwrap(), expected);
    let code = ReceiptCode::from_entropy([0; 16]);
    let [hybrid, classic] = code.reply_identities();
    assert_eq!(Message::open(&[hybrid], &sealed).unwrap(), expected);
    assert!(Message::open(&[classic], &sealed).is_err());
    let MessageKind::Report { reply_key, .. } = &expected.kind else {
        panic!("not a report")
    };
    assert_eq!(*reply_key, code.reply_identity().recipient());
}

/// The frozen fixture: a report sealed once and kept. If this fails, the format changed.
#[test]
fn frozen_sealed_report_still_opens() {
    let sealed = fs::read(testdata("report.age")).unwrap();
    let report = Message::open(&[identity("office.identity.txt")], &sealed).unwrap();
    let expected = Message::decode(&fs::read(testdata("report.json")).unwrap()).unwrap();
    assert_eq!(report, expected);
    let MessageKind::Report { reply_key, .. } = &report.kind else {
        panic!("not a report")
    };
    // Sealed before hybrid reply keys: it carries the classic one, which still opens replies.
    assert_eq!(
        *reply_key,
        ReceiptCode::from_entropy([0; 16])
            .classic_reply_identity()
            .recipient()
    );
    assert!(matches!(
        Message::open(&[identity("adviser.identity.txt")], &sealed),
        Err(Error::NotForThisIdentity)
    ));
}

#[test]
fn proof_of_work_vectors_solve_to_the_same_first_solution() {
    let blocks = blocks(&read("stamps.txt"));
    assert_eq!(blocks.len(), 3);
    for block in blocks {
        let field = |name: &str| {
            block
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone())
                .unwrap()
        };
        let challenge = meldpunt_crypto::Challenge::from_wire(&field("challenge")).unwrap();
        let mailbox = meldpunt_crypto::MailboxId::from_wire(&field("mailbox-id")).unwrap();
        let stamp = challenge.solve(&mailbox, |_| true).unwrap();
        assert_eq!(stamp.to_wire(), field("stamp"));
    }
}

#[test]
fn the_signed_follow_up_verifies_and_is_byte_stable() {
    let bytes = fs::read(testdata("follow-up.json")).unwrap();
    let follow_up = Message::decode(&bytes).unwrap();
    let code = ReceiptCode::from_entropy([0u8; 16]);
    let key = code.follow_up_signing_key();
    key.follow_up_key().verify(&follow_up).unwrap();
    let mut again = meldpunt_crypto::Message {
        ..follow_up.clone()
    };
    key.sign(&mut again);
    assert_eq!(again, follow_up);
    assert_eq!(follow_up.encode().unwrap().as_slice(), &bytes[..]);
    let other = ReceiptCode::from_entropy([1u8; 16]).follow_up_signing_key();
    assert!(other.follow_up_key().verify(&follow_up).is_err());
}

#[test]
fn the_follow_up_sharing_an_identity_opens_only_for_the_adviser_and_is_byte_stable() {
    let bytes = fs::read(testdata("follow-up-identity.json")).unwrap();
    let sharing = Message::decode(&bytes).unwrap();
    let key = ReceiptCode::from_entropy([0u8; 16]).follow_up_signing_key();
    key.follow_up_key().verify(&sharing).unwrap();
    let mut again = sharing.clone();
    key.sign(&mut again);
    assert_eq!(again, sharing);
    assert_eq!(sharing.encode().unwrap().as_slice(), &bytes[..]);
    let meldpunt_crypto::MessageKind::FollowUp {
        shared_identity: Some(shared),
        ..
    } = &sharing.kind
    else {
        panic!("the vector shares an identity");
    };
    assert_eq!(shared.with.recipient, "external-adviser");
    assert_eq!(
        shared
            .open(&[identity("adviser.identity.txt")])
            .unwrap()
            .as_str(),
        "Jan Jansen, 06-12345678"
    );
    assert!(shared.open(&[identity("office.identity.txt")]).is_err());
}

#[test]
fn the_reply_appointing_a_process_guide_verifies_and_is_byte_stable() {
    let bytes = fs::read(testdata("office-appointment.json")).unwrap();
    let appointment = Message::decode(&bytes).unwrap();
    let office = identity("office.identity.txt").office_signing_key();
    office.office_key().verify(&appointment).unwrap();
    let mut again = appointment.clone();
    office.sign(&mut again).unwrap();
    assert_eq!(again, appointment);
    assert_eq!(appointment.encode().unwrap().as_slice(), &bytes[..]);
    let meldpunt_crypto::MessageKind::Reply {
        process_guide: Some(change),
        ..
    } = &appointment.kind
    else {
        panic!("the vector appoints a process guide");
    };
    assert_eq!(change.recipient.recipient, "process-guide");
    assert!(change.joined);
}

#[test]
fn the_report_carrying_a_consultation_checks_out_and_is_byte_stable() {
    let bytes = fs::read(testdata("report-after-consultation.json")).unwrap();
    let report = Message::decode(&bytes).unwrap();
    assert_eq!(report.encode().unwrap().as_slice(), &bytes[..]);
    let meldpunt_crypto::MessageKind::Report {
        earlier_consultation: Some(carried),
        ..
    } = &report.kind
    else {
        panic!("the vector carries a consultation");
    };
    let signed =
        SignedDirectory::from_bytes(fs::read(testdata("directory.signed.json")).unwrap()).unwrap();
    let signers = signed
        .verify_history(&signed.claimed_signing_key().unwrap())
        .unwrap()
        .office_signers();
    let checked = carried.check(&report.mailbox, signers.clone()).unwrap();
    assert_eq!(checked.messages.len(), 2);
    assert!(checked.messages.iter().all(|(_, outcome)| outcome.is_ok()));
    assert_eq!(
        checked.messages[0].0.kind.conversation(),
        Some(meldpunt_crypto::Conversation::Consultation)
    );
    // Carried into another report, the reporter's signature no longer fits.
    let elsewhere = ReceiptCode::from_entropy([4u8; 16])
        .mailbox_token()
        .mailbox_id();
    assert!(matches!(
        carried.check(&elsewhere, signers),
        Err(meldpunt_crypto::Error::ForgedCarriedConsultation)
    ));
}

#[test]
fn office_keys_are_derived_from_their_identities() {
    let text = read("office-keys.txt");
    let lines: Vec<&str> = text.lines().filter(|line| !line.starts_with('#')).collect();
    let mut checked = 0;
    for pair in lines
        .split(|line| line.is_empty())
        .filter(|pair| !pair.is_empty())
    {
        let identity = IdentityKey::parse(pair[0].strip_prefix("identity: ").unwrap()).unwrap();
        let expected: meldpunt_crypto::OfficeKey = pair[1]
            .strip_prefix("office-key: ")
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(identity.office_signing_key().office_key(), expected);
        checked += 1;
    }
    assert_eq!(checked, 2);
}

#[test]
fn the_signed_office_reply_verifies_and_is_byte_stable() {
    let bytes = fs::read(testdata("office-reply.json")).unwrap();
    let reply = Message::decode(&bytes).unwrap();
    let office = identity("office.identity.txt");
    let key = office.office_signing_key();
    key.office_key().verify(&reply).unwrap();
    let mut again = Message { ..reply.clone() };
    key.sign(&mut again).unwrap();
    assert_eq!(again, reply);
    assert_eq!(reply.encode().unwrap().as_slice(), &bytes[..]);
    // The adviser's key does not verify it, and the directory lists the office's key for
    // the integrity office.
    let adviser = identity("adviser.identity.txt")
        .office_signing_key()
        .office_key();
    assert!(adviser.verify(&reply).is_err());
    let directory =
        SignedDirectory::from_bytes(fs::read(testdata("directory.signed.json")).unwrap()).unwrap();
    let directory = directory
        .verify(
            &directory.claimed_signing_key().unwrap(),
            "2026-11-30".parse().unwrap(),
            None,
        )
        .unwrap();
    assert!(directory.office_signers().contains(&(
        RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into()
        },
        key.office_key()
    )));
}

#[test]
fn the_signed_hand_over_verifies_and_is_byte_stable() {
    let bytes = fs::read(testdata("hand-over.txt")).unwrap();
    let hand_over = meldpunt_crypto::HandOver::decode(&bytes).unwrap();
    let office = identity("office.identity.txt");
    let colleague = identity("adviser.identity.txt");
    let recipient = RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let signers = vec![(recipient.clone(), office.office_signing_key().office_key())];
    let handed = hand_over
        .verify(&recipient, &[colleague.recipient()], &signers)
        .unwrap();
    // It carries the signed follow-up of follow-up.json, byte for byte after its header.
    let follow_up = fs::read(testdata("follow-up.json")).unwrap();
    assert!(bytes.ends_with(&follow_up));
    assert_eq!(handed.message, Message::decode(&follow_up).unwrap());
    // Signing the same again gives the same bytes (Ed25519 is deterministic).
    let again = office
        .office_signing_key()
        .hand_over(
            recipient.clone(),
            colleague.recipient(),
            hand_over.written_on(),
            handed.clone(),
        )
        .unwrap();
    assert_eq!(again.encode().unwrap().as_slice(), &bytes[..]);
    // Another member's key or another recipient does not verify it.
    assert!(hand_over
        .verify(&recipient, &[office.recipient()], &signers)
        .is_err());
    let adviser = RecipientAddress {
        organisation: "demo".into(),
        recipient: "external-confidential-adviser".into(),
    };
    assert!(hand_over
        .verify(&adviser, &[colleague.recipient()], &signers)
        .is_err());
}

#[test]
fn structured_report_vectors_are_byte_stable_and_bound() {
    let questionnaire: serde_json::Value =
        serde_json::from_str(&read("questionnaire.json")).unwrap();
    let organisation = meldpunt_crypto::Organisation {
        id: "demo".into(),
        name: meldpunt_crypto::LocalisedName {
            nl: "Demo".into(),
            en: "Demo".into(),
        },
        recipients: Vec::new(),
        questions: serde_json::from_value(questionnaire["questions"].clone()).unwrap(),
        channels: Vec::new(),
        evaluation: Vec::new(),
    };
    for case in questionnaire["cases"].as_array().unwrap() {
        let typed: Vec<(String, String)> = case["typed"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(id, text)| (id.clone(), text.as_str().unwrap().to_owned()))
            .collect();
        match organisation.answers(&typed) {
            Ok(answers) => assert_eq!(serde_json::to_value(&answers).unwrap(), case["answers"]),
            Err(problems) => {
                let found: Vec<serde_json::Value> = problems
                    .iter()
                    .map(|problem| {
                        serde_json::json!({
                            "question": problem.question,
                            "problem": format!("{:?}", problem.problem),
                        })
                    })
                    .collect();
                assert_eq!(serde_json::Value::from(found), case["problems"]);
            }
        }
    }

    let report_bytes = fs::read(testdata("structured-report.json")).unwrap();
    let report = Message::decode(&report_bytes).unwrap();
    assert_eq!(report.answers.get("kind"), Some("fraud"));
    assert_eq!(report.encode().unwrap().as_slice(), &report_bytes[..]);
    let follow_up_bytes = fs::read(testdata("structured-follow-up.json")).unwrap();
    let follow_up = Message::decode(&follow_up_bytes).unwrap();
    assert_eq!(follow_up.encode().unwrap().as_slice(), &follow_up_bytes[..]);
    let MessageKind::Report { follow_up_key, .. } = &report.kind else {
        panic!("not a report")
    };
    follow_up_key.verify(&follow_up).unwrap();
    let reply = Message::decode(&fs::read(testdata("structured-reply.json")).unwrap()).unwrap();
    let MessageKind::Reply { opening, .. } = &reply.kind else {
        panic!("not a reply")
    };
    assert_eq!(*opening, report.opening_digest());
    // Another answer: the follow-up's signature fails, and the report's digest changes.
    let text = String::from_utf8(follow_up_bytes).unwrap();
    let altered = Message::decode(
        text.replace("\"safe\":\"no\"", "\"safe\":\"yes\"")
            .as_bytes(),
    )
    .unwrap();
    assert!(follow_up_key.verify(&altered).is_err());
    let text = String::from_utf8(report_bytes).unwrap();
    let altered = Message::decode(
        text.replace("\"kind\":\"fraud\"", "\"kind\":\"other\"")
            .as_bytes(),
    )
    .unwrap();
    assert_ne!(altered.opening_digest(), report.opening_digest());
    // Answers of the wrong shape are refused.
    for broken in [
        text.replace("\"kind\":\"fraud\"", "\"kind\":\"\""),
        text.replace("\"kind\":\"fraud\"", "\"Kind\":\"fraud\""),
        text.replace("\"kind\":\"fraud\"", "\"kind\":[\"fraud\"]"),
        text.replace("\"kind\":\"fraud\"", "\"kind\":\"fr\\naud\""),
    ] {
        assert!(Message::decode(broken.as_bytes()).is_err(), "{broken}");
    }
}

#[test]
fn closing_and_evaluation_vectors_are_byte_stable_and_signed() {
    let report = Message::decode(&fs::read(testdata("structured-report.json")).unwrap()).unwrap();
    let closing_bytes = fs::read(testdata("structured-closing.json")).unwrap();
    let closing = Message::decode(&closing_bytes).unwrap();
    assert_eq!(closing.purpose, meldpunt_crypto::Purpose::Closing);
    assert_eq!(closing.encode().unwrap().as_slice(), &closing_bytes[..]);
    let office = identity("office.identity.txt")
        .office_signing_key()
        .office_key();
    office.verify(&closing).unwrap();
    let mut unclosed = closing.clone();
    unclosed.purpose = meldpunt_crypto::Purpose::Message;
    assert!(office.verify(&unclosed).is_err());
    let evaluation_bytes = fs::read(testdata("structured-evaluation.json")).unwrap();
    let evaluation = Message::decode(&evaluation_bytes).unwrap();
    assert_eq!(
        evaluation.encode().unwrap().as_slice(),
        &evaluation_bytes[..]
    );
    let MessageKind::Report { follow_up_key, .. } = &report.kind else {
        panic!("not a report")
    };
    follow_up_key.verify(&evaluation).unwrap();
    let mut plain = evaluation.clone();
    plain.purpose = meldpunt_crypto::Purpose::Message;
    assert!(follow_up_key.verify(&plain).is_err());
    let text = String::from_utf8(evaluation_bytes).unwrap();
    for broken in [
        text.replace("\"purpose\":\"evaluation\"", "\"purpose\":\"closing\""),
        text.replace("\"purpose\":\"evaluation\"", "\"purpose\":\"message\""),
        text.replace("\"purpose\":\"evaluation\"", "\"purpose\":\"praise\""),
    ] {
        assert!(Message::decode(broken.as_bytes()).is_err(), "{broken}");
    }
    let defaults: Vec<meldpunt_crypto::Question> =
        serde_json::from_str(&read("default-evaluation-questions.json")).unwrap();
    assert_eq!(defaults, meldpunt_crypto::default_evaluation_questions());
}

#[test]
fn a_recorded_report_verifies_against_the_directory_and_binds_its_recording() {
    let bytes = fs::read(testdata("recorded-report.json")).unwrap();
    let recorded = Message::decode(&bytes).unwrap();
    assert_eq!(recorded.encode().unwrap().as_slice(), &bytes[..]);
    let office = identity("office.identity.txt")
        .office_signing_key()
        .office_key();
    office.verify_recording(&recorded).unwrap();
    let reply = Message::decode(&fs::read(testdata("recorded-reply.json")).unwrap()).unwrap();
    let MessageKind::Reply { opening, .. } = &reply.kind else {
        panic!("not a reply")
    };
    assert_eq!(*opening, recorded.opening_digest());
    let directory =
        SignedDirectory::from_bytes(fs::read(testdata("directory.signed.json")).unwrap()).unwrap();
    let directory = directory
        .verify(
            &directory.claimed_signing_key().unwrap(),
            "2026-11-30".parse().unwrap(),
            None,
        )
        .unwrap();
    let mut check = meldpunt_crypto::ThreadCheck::new(recorded.mailbox, directory.office_signers());
    check
        .admit(&recorded, meldpunt_crypto::Author::Reporter)
        .unwrap();
    for name in ["recorded-confirmation.json", "recorded-correction.json"] {
        let follow_up = Message::decode(&fs::read(testdata(name)).unwrap()).unwrap();
        check
            .admit(&follow_up, meldpunt_crypto::Author::Reporter)
            .unwrap();
    }
    check
        .admit(&reply, meldpunt_crypto::Author::Office)
        .unwrap();
    // Rewritten under the same recording: refused.
    let mut rewritten = recorded.clone();
    rewritten.body = String::from("Niets aan de hand.").into();
    // Every admitted record so far verified.
    assert_eq!(check.recording_verified(), Some(true));
    // Rewritten under the same recording, or claimed with a key the directory does not list
    // for it: the report is still the reporter's and is read, but its recording is unproven.
    let mut fresh = meldpunt_crypto::ThreadCheck::new(recorded.mailbox, directory.office_signers());
    fresh
        .admit(&rewritten, meldpunt_crypto::Author::Reporter)
        .unwrap();
    assert_eq!(fresh.recording_verified(), Some(false));
    // Claimed by the adviser's key for the integrity office: refused.
    let adviser = identity("adviser.identity.txt").office_signing_key();
    let mut claimed = recorded.clone();
    adviser
        .record(
            RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            meldpunt_crypto::Channel::Meeting,
            &mut claimed,
        )
        .unwrap();
    let mut fresh = meldpunt_crypto::ThreadCheck::new(recorded.mailbox, directory.office_signers());
    fresh
        .admit(&claimed, meldpunt_crypto::Author::Reporter)
        .unwrap();
    assert_eq!(fresh.recording_verified(), Some(false));
    // With a directory that no longer lists the recorder's key: read, unproven.
    let mut retired = meldpunt_crypto::ThreadCheck::new(recorded.mailbox, Vec::new());
    retired
        .admit(&recorded, meldpunt_crypto::Author::Reporter)
        .unwrap();
    assert_eq!(retired.recording_verified(), Some(false));
    // Recorded by a recipient the report was not addressed to: it cannot be built.
    let mut elsewhere = recorded.clone();
    assert!(adviser
        .record(
            RecipientAddress {
                organisation: "demo".into(),
                recipient: "external-adviser".into(),
            },
            meldpunt_crypto::Channel::Meeting,
            &mut elsewhere,
        )
        .is_err());
}

#[test]
fn answers_are_read_as_the_browser_script_reads_them() {
    let text = read("structured-report.json");
    // A question answered twice, and null answers: refused (the script refuses them too).
    let twice = text.replace(
        "\"kind\":\"fraud\"",
        "\"kind\":\"fraud\",\"kind\":\"other\"",
    );
    assert!(Message::decode(twice.as_bytes()).is_err());
    let before = text.split(",\"answers\":").next().unwrap();
    assert!(Message::decode(format!("{before},\"answers\":null}}").as_bytes()).is_err());
    assert!(Message::decode(format!("{before}}}").as_bytes()).is_ok());
    // An empty object is no answers, on any kind.
    let reply = read("structured-reply.json");
    let empty = format!("{},\"answers\":{{}}}}", &reply[..reply.len() - 1]);
    assert!(Message::decode(empty.as_bytes())
        .unwrap()
        .answers
        .is_empty());
}
