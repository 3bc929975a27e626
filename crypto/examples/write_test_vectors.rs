//! Writes the test vectors under `crypto/testdata/`.
//!
//! `cargo run -p meldpunt-crypto --example write_test_vectors` rewrites the deterministic
//! vectors (receipt codes, padding, the signed directory). The sealed-message fixture is
//! random by nature (age draws a fresh file key) and is frozen: it is rewritten only with
//! `--regenerate-sealed-fixture`, which only a deliberate format change may do.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use meldpunt_crypto::{
    padded_length, Day, Directory, DirectoryRecipient, DirectorySigningKey, IdentityKey,
    LocalisedName, Message, MessageKind, Organisation, ReceiptCode, RecipientAddress, Role,
};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// Deterministic 16-byte entropies: SHA-256("meldpunt test vector N"), truncated.
fn entropy(index: usize) -> [u8; 16] {
    let digest = Sha256::digest(format!("meldpunt test vector {index}"));
    digest[..16].try_into().unwrap()
}

fn main() {
    let testdata = Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    fs::create_dir_all(&testdata).unwrap();

    let mut receipt = String::from(
        "# Receipt code derivation vectors (docs/protocol.md, \"Receipt codes\" and \"Derivation\").\n\
         # Each block: entropy (hex) -> the written code, the mailbox token and mailbox id (unpadded\n\
         # base64url), the reporter's reply identity and its public key (age mlkem768x25519, label\n\
         # meldpunt/v2/reply-key-pq: what a new report carries), the classic reply identity and key\n\
         # (age X25519, label meldpunt/v1/reply-key: what reports made before hybrid keys carry),\n\
         # and the public key that verifies the reporter's follow-ups (Ed25519, unpadded base64url).\n\n",
    );
    let mut entropies = vec![[0u8; 16], [0xff; 16]];
    entropies.extend((0..6).map(entropy));
    for bytes in entropies {
        let code = ReceiptCode::from_entropy(bytes);
        let token = code.mailbox_token();
        let reply = code.reply_identity();
        writeln!(receipt, "entropy: {}", hex(&bytes)).unwrap();
        writeln!(receipt, "receipt-code: {}", code.to_written_form().as_str()).unwrap();
        writeln!(receipt, "mailbox-token: {}", token.to_wire().as_str()).unwrap();
        writeln!(receipt, "mailbox-id: {}", token.mailbox_id().to_wire()).unwrap();
        writeln!(
            receipt,
            "reply-identity: {}",
            reply.to_secret_string().as_str()
        )
        .unwrap();
        writeln!(receipt, "reply-recipient: {}", reply.recipient()).unwrap();
        let classic = code.classic_reply_identity();
        writeln!(
            receipt,
            "classic-reply-identity: {}",
            classic.to_secret_string().as_str()
        )
        .unwrap();
        writeln!(receipt, "classic-reply-recipient: {}", classic.recipient()).unwrap();
        writeln!(
            receipt,
            "follow-up-key: {}\n",
            code.follow_up_signing_key().follow_up_key().to_wire()
        )
        .unwrap();
    }
    fs::write(testdata.join("receipt-codes.txt"), receipt).unwrap();

    let mut padding = String::from(
        "# Padding vectors (docs/protocol.md, \"Padding\"): content length -> padded plaintext length.\n\n",
    );
    for length in [
        0u64,
        1,
        4095,
        4096,
        4097,
        5000,
        65_536,
        100_000,
        1 << 20,
        (1 << 20) + 1,
        10_000_000,
        100 << 20,
        (1 << 30) + 12_345,
    ] {
        writeln!(padding, "{length} {}", padded_length(length).unwrap()).unwrap();
    }
    fs::write(testdata.join("padding.txt"), padding).unwrap();

    // A signed directory. Ed25519 signatures are deterministic, so this file is too.
    let signing_key = DirectorySigningKey::parse(
        fs::read_to_string(testdata.join("directory-signing-key.txt"))
            .ok()
            .as_deref()
            .and_then(|text| text.lines().find(|line| !line.starts_with('#')))
            .unwrap_or(""),
    )
    .unwrap_or_else(|_| {
        let key = DirectorySigningKey::generate();
        fs::write(
            testdata.join("directory-signing-key.txt"),
            format!(
                "# Test-only directory signing key; its public key is {}\n{}\n",
                key.directory_key(),
                key.to_secret_string().as_str()
            ),
        )
        .unwrap();
        key
    });
    let office = fixed_identity(&testdata, "office.identity.txt");
    let adviser = fixed_identity(&testdata, "adviser.identity.txt");
    let mut directory = Directory::new(day("2026-11-01"), day("2027-11-01"));
    directory.version = 6; // signing makes it 7
    directory.organisations.push(Organisation {
        questions: Vec::new(),
        channels: Vec::new(),
        evaluation: Vec::new(),
        id: "demo".into(),
        name: LocalisedName {
            nl: "Ministerie van Voorbeeldzaken".into(),
            en: "Ministry of Example Affairs".into(),
        },
        recipients: vec![
            DirectoryRecipient {
                id: "integrity-office".into(),
                role: Role::IntegrityOffice,
                name: LocalisedName {
                    nl: "Bureau Integriteit".into(),
                    en: "Integrity office".into(),
                },
                keys: vec![office.recipient()],
                signing_keys: vec![office.office_signing_key().office_key()],
            },
            DirectoryRecipient {
                id: "external-adviser".into(),
                role: Role::ExternalConfidentialAdviser,
                name: LocalisedName {
                    nl: "Externe vertrouwenspersoon".into(),
                    en: "External confidential adviser".into(),
                },
                keys: vec![adviser.recipient()],
                signing_keys: vec![adviser.office_signing_key().office_key()],
            },
        ],
    });
    let (first, signed) = directory.sign(&signing_key).unwrap();
    fs::write(testdata.join("directory.signed.json"), signed.as_bytes()).unwrap();
    write_directory_history(&testdata, first, signed, &signing_key);

    let fixture = testdata.join("report.age");
    if std::env::args().any(|argument| argument == "--regenerate-sealed-fixture")
        || !fixture.exists()
    {
        let code = ReceiptCode::from_entropy([0u8; 16]);
        let report = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            mailbox: code.mailbox_token().mailbox_id(),
            sequence: 1,
            kind: MessageKind::Report {
                // Sealed before hybrid reply keys: it carries the classic one.
                reply_key: code.classic_reply_identity().recipient(),
                follow_up_key: code.follow_up_signing_key().follow_up_key(),
                recipients: vec![RecipientAddress {
                    organisation: "demo".into(),
                    recipient: "integrity-office".into(),
                }],
                conversation: meldpunt_crypto::Conversation::Report,
                earlier_consultation: None,
            },
            written_on: day("2026-11-28"),
            body: String::from(
                "Bij de afdeling Subsidies worden aanvragen goedgekeurd zonder controle.\n\
                 At the grants department, applications are approved without checks.",
            )
            .into(),
            attachments: vec![],
        };
        let sealed = report.seal(&[office.recipient()]).unwrap();
        fs::write(&fixture, sealed.as_bytes()).unwrap();
        fs::write(
            testdata.join("report.json"),
            report.encode().unwrap().as_slice(),
        )
        .unwrap();
    }
    write_hybrid_vectors(&testdata);

    // A signed follow-up: Ed25519 is deterministic, so this file is too.
    let code = ReceiptCode::from_entropy([0u8; 16]);
    let mut follow_up = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 2,
        kind: MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        written_on: day("2026-11-29"),
        body: String::from(
            "Aanvulling: het gebeurt sinds maart, elke week. \"Één\" <voorbeeld> \u{1f}",
        )
        .into(),
        attachments: vec![meldpunt_crypto::AttachmentReference {
            name: "overzicht 2026.pdf".into(),
            size: 48_213,
            sha256: Sha256::digest(b"overzicht").into(),
            location: "AAECAwQFBgcICQoLDA0ODw".into(),
        }],
    };
    code.follow_up_signing_key().sign(&mut follow_up);
    fs::write(
        testdata.join("follow-up.json"),
        follow_up.encode().unwrap().as_slice(),
    )
    .unwrap();

    // The reporter's next follow-up, sharing their identity with the external adviser only:
    // the sealed identity is random by nature, so the file is frozen.
    let identity_vector = testdata.join("follow-up-identity.json");
    if !identity_vector.exists() {
        let mut sharing = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            mailbox: code.mailbox_token().mailbox_id(),
            sequence: 3,
            kind: MessageKind::FollowUp {
                signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                shared_identity: Some(
                    meldpunt_crypto::SharedIdentity::seal(
                        RecipientAddress {
                            organisation: "demo".into(),
                            recipient: "external-adviser".into(),
                        },
                        &[adviser.recipient()],
                        "Jan Jansen, 06-12345678",
                    )
                    .unwrap(),
                ),
            },
            written_on: day("2026-12-03"),
            body: String::from("Mijn naam, alleen voor de vertrouwenspersoon.").into(),
            attachments: Vec::new(),
        };
        code.follow_up_signing_key().sign(&mut sharing);
        fs::write(&identity_vector, sharing.encode().unwrap().as_slice()).unwrap();
    }

    // A signed reply from the integrity office (deterministic like the follow-up), and the
    // office keys the fixed identities derive.
    let mut reply = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 1,
        kind: MessageKind::Reply {
            from: RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            signer: office.office_signing_key().office_key(),
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: None,
            opening: None,
        },
        written_on: day("2026-11-30"),
        body: String::from("Dank voor uw melding. \"Wij\" <onderzoeken> het.").into(),
        attachments: vec![meldpunt_crypto::AttachmentReference {
            name: "brief.pdf".into(),
            size: 1_024,
            sha256: Sha256::digest(b"brief").into(),
            location: "EBESExQVFhcYGRobHB0eHw".into(),
        }],
    };
    office.office_signing_key().sign(&mut reply).unwrap();
    fs::write(
        testdata.join("office-reply.json"),
        reply.encode().unwrap().as_slice(),
    )
    .unwrap();
    // The office's next reply, appointing a process guide (deterministic too).
    let mut appointment = Message {
        sequence: 2,
        kind: MessageKind::Reply {
            from: RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            signer: office.office_signing_key().office_key(),
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: Some(meldpunt_crypto::ProcessGuideChange {
                recipient: RecipientAddress {
                    organisation: "demo".into(),
                    recipient: "process-guide".into(),
                },
                joined: true,
            }),
            opening: None,
        },
        written_on: day("2026-12-03"),
        body: String::from("Een procesbegeleider begeleidt vanaf nu uw melding.").into(),
        attachments: Vec::new(),
        ..reply.clone()
    };
    office.office_signing_key().sign(&mut appointment).unwrap();
    fs::write(
        testdata.join("office-appointment.json"),
        appointment.encode().unwrap().as_slice(),
    )
    .unwrap();
    // A consultation with the external adviser (its opening, the adviser's answer), carried
    // into a report by its reporter: deterministic (derived keys, Ed25519).
    let consultation_code = ReceiptCode::from_entropy([2u8; 16]);
    let adviser_address = RecipientAddress {
        organisation: "demo".into(),
        recipient: "external-adviser".into(),
    };
    let consultation_opening = Message::opening(
        &consultation_code,
        vec![adviser_address.clone()],
        meldpunt_crypto::Conversation::Consultation,
        meldpunt_crypto::Content::text(
            day("2026-12-01"),
            "Mag ik eerst iets vragen, voordat ik meld?",
        ),
    );
    let answer = Message::answering(
        &adviser.office_signing_key(),
        adviser_address,
        &consultation_opening,
        false,
        1,
        meldpunt_crypto::Content::text(day("2026-12-02"), "Natuurlijk. Melden kan ook later."),
    )
    .unwrap();
    let consultation = vec![consultation_opening, answer];
    let carried_report = Message::report_after_consultation(
        &ReceiptCode::from_entropy([3u8; 16]),
        vec![RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }],
        meldpunt_crypto::Content::text(day("2026-12-03"), "Nu meld ik het formeel."),
        &consultation_code,
        consultation,
    )
    .unwrap();
    fs::write(
        testdata.join("report-after-consultation.json"),
        carried_report.encode().unwrap().as_slice(),
    )
    .unwrap();
    write_structured_vectors(&testdata, &office);
    // A hand-over of that follow-up from the integrity office's member to a colleague's key
    // (here the adviser's identity stands in for the colleague): deterministic too.
    let hand_over = office
        .office_signing_key()
        .hand_over(
            RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            adviser.recipient(),
            day("2026-12-02"),
            meldpunt_crypto::HandedMessage {
                number: 7,
                position: 2,
                author: meldpunt_crypto::Author::Reporter,
                stored_on: day("2026-11-29"),
                sealed_sha256: Sha256::digest(b"the sealed follow-up").into(),
                message: follow_up.clone(),
                copies: vec![meldpunt_crypto::AttachmentCopy {
                    location: "AAECAwQFBgcICQoLDA0ODw".into(),
                    copy: "ICEiIyQlJicoKSorLC0uLw".into(),
                }],
            },
        )
        .unwrap();
    fs::write(
        testdata.join("hand-over.txt"),
        hand_over.encode().unwrap().as_slice(),
    )
    .unwrap();
    let mut keys = String::from(
        "# Office signing keys (docs/protocol.md, \"Office signatures\"): an age identity -> the\n\
         # Ed25519 office key it derives (HKDF-SHA256, salt \"meldpunt office identity v1\", label\n\
         # \"meldpunt/v1/office-signing\"), written mpok1… (Bech32).\n\n",
    );
    for identity in [&office, &adviser] {
        writeln!(keys, "identity: {}", identity.to_secret_string().as_str()).unwrap();
        writeln!(
            keys,
            "office-key: {}\n",
            identity.office_signing_key().office_key()
        )
        .unwrap();
    }
    fs::write(testdata.join("office-keys.txt"), keys).unwrap();

    let stamps = testdata.join("stamps.txt");
    if std::env::args().any(|argument| argument == "--regenerate-sealed-fixture")
        || !stamps.exists()
    {
        // A challenge carries a random nonce and a MAC under a random key: frozen like the
        // sealed report. Solvers start at 0, so the first solution is the same everywhere.
        let key = meldpunt_crypto::StampKey::generate();
        let mut text = String::from(
            "# Proof-of-work vectors (docs/protocol.md, \"Proof of work\"): a challenge, the mailbox id\n\
             # it is solved for, and the first solution counting up from 0.\n\n",
        );
        for (index, difficulty) in [(0, 4u8), (1, 10), (2, 14)] {
            let challenge = key.challenge(difficulty, 4_102_444_800);
            let code = ReceiptCode::from_entropy(entropy(index));
            let mailbox = code.mailbox_token().mailbox_id();
            let stamp = challenge.solve(&mailbox, |_| true).unwrap();
            writeln!(text, "challenge: {}", challenge.to_wire()).unwrap();
            writeln!(text, "mailbox-id: {}", mailbox.to_wire()).unwrap();
            writeln!(text, "stamp: {}\n", stamp.to_wire()).unwrap();
        }
        fs::write(&stamps, text).unwrap();
    }
    println!("wrote test vectors to {}", testdata.display());
}

/// A structured report, a follow-up with answers and the office's reply to it (all
/// deterministic), with the questionnaire they answer and typed answers with the normal
/// form or problems the Rust crate gives them (`questionnaire.json`).
fn write_structured_vectors(testdata: &Path, office: &meldpunt_crypto::IdentityKey) {
    let questionnaire: Vec<meldpunt_crypto::Question> = serde_json::from_value(serde_json::json!([
        {"id": "kind", "label": {"nl": "Soort misstand", "en": "Kind of misconduct"}, "kind": "choice",
         "options": [{"id": "fraud", "label": {"nl": "Fraude", "en": "Fraud"}},
                     {"id": "bullying", "label": {"nl": "Pesten", "en": "Bullying"}},
                     {"id": "other", "label": {"nl": "Anders", "en": "Other"}}], "required": true},
        {"id": "areas", "label": {"nl": "Gebieden", "en": "Areas"}, "kind": "multiple-choice",
         "options": [{"id": "money", "label": {"nl": "Geld", "en": "Money"}},
                     {"id": "safety", "label": {"nl": "Veiligheid", "en": "Safety"}}]},
        {"id": "since", "label": {"nl": "Sinds", "en": "Since"}, "kind": "date"},
        {"id": "period", "label": {"nl": "Periode", "en": "Period"}, "kind": "period"},
        {"id": "unit", "label": {"nl": "Afdeling", "en": "Unit"}, "kind": "text"},
        {"id": "meeting", "label": {"nl": "Gesprek gewenst", "en": "Meeting wanted"}, "kind": "yes-no"}
    ]))
    .unwrap();
    let mut organisation = meldpunt_crypto::Organisation {
        id: "demo".into(),
        name: meldpunt_crypto::LocalisedName {
            nl: "Demo".into(),
            en: "Demo".into(),
        },
        recipients: Vec::new(),
        questions: questionnaire.clone(),
        channels: Vec::new(),
        evaluation: Vec::new(),
    };
    let long_unit = "é".repeat(501);
    let typed_cases: Vec<Vec<(&str, &str)>> = vec![
        vec![
            ("kind", " fraud "),
            ("areas", "safety, money,money"),
            ("since", "2026-03-01"),
            ("period", "2026-01-01 / 2026-02-28"),
            ("unit", "Financiën – inkoop"),
            ("meeting", "Ja"),
        ],
        vec![("kind", "other"), ("areas", ","), ("meeting", "NEE")],
        vec![
            ("areas", "money,theft"),
            ("since", "2026-02-30"),
            ("period", "2026-03-01/2026-02-01"),
            ("unit", "two\tparts"),
            ("meeting", "misschien"),
            ("colour", "blue"),
        ],
        vec![
            ("kind", "fraud"),
            ("period", "2026-01-01"),
            ("unit", &long_unit),
        ],
    ];
    let cases: Vec<serde_json::Value> = typed_cases
        .iter()
        .map(|typed| {
            let owned: Vec<(String, String)> = typed
                .iter()
                .map(|(id, text)| ((*id).to_owned(), (*text).to_owned()))
                .collect();
            let typed_object: serde_json::Map<String, serde_json::Value> = typed
                .iter()
                .map(|(id, text)| ((*id).to_owned(), serde_json::Value::from(*text)))
                .collect();
            match organisation.answers(&owned) {
                Ok(answers) => serde_json::json!({"typed": typed_object, "answers": answers}),
                Err(problems) => serde_json::json!({
                    "typed": typed_object,
                    "problems": problems.iter().map(|problem| serde_json::json!({
                        "question": problem.question,
                        "problem": format!("{:?}", problem.problem),
                    })).collect::<Vec<_>>(),
                }),
            }
        })
        .collect();
    fs::write(
        testdata.join("questionnaire.json"),
        serde_json::to_string_pretty(
            &serde_json::json!({"questions": questionnaire, "cases": cases}),
        )
        .unwrap()
            + "\n",
    )
    .unwrap();

    let code = ReceiptCode::from_entropy([5u8; 16]);
    let address = RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let typed = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(id, text)| ((*id).to_owned(), (*text).to_owned()))
            .collect()
    };
    let report = Message::report(
        &code,
        vec![address.clone()],
        meldpunt_crypto::Content::text(day("2026-12-03"), "Er verdwijnt geld bij inkoop.")
            .with_answers(
                organisation
                    .answers(&typed(&[
                        ("kind", "fraud"),
                        ("areas", "money"),
                        ("period", "2026-01-01/2026-02-28"),
                        ("unit", "Inkoop \"Noord\""),
                        ("meeting", "yes"),
                    ]))
                    .unwrap(),
            ),
    );
    fs::write(
        testdata.join("structured-report.json"),
        report.encode().unwrap().as_slice(),
    )
    .unwrap();
    organisation.questions.push(
        serde_json::from_value(serde_json::json!(
            {"id": "safe", "label": {"nl": "Voelde u zich veilig?", "en": "Did you feel safe?"}, "kind": "yes-no"}
        ))
        .unwrap(),
    );
    let follow_up = Message::follow_up_signed(
        &code.follow_up_signing_key(),
        code.mailbox_token().mailbox_id(),
        2,
        meldpunt_crypto::Content::text(day("2026-12-04"), "Ik wil graag een gesprek.")
            .with_answers(
                organisation
                    .answers(&typed(&[("kind", "other"), ("safe", "no")]))
                    .unwrap(),
            ),
    );
    fs::write(
        testdata.join("structured-follow-up.json"),
        follow_up.encode().unwrap().as_slice(),
    )
    .unwrap();
    let reply = Message::answering(
        &office.office_signing_key(),
        address,
        &report,
        false,
        1,
        meldpunt_crypto::Content::text(day("2026-12-05"), "Wij nemen contact op voor een gesprek."),
    )
    .unwrap();
    fs::write(
        testdata.join("structured-reply.json"),
        reply.encode().unwrap().as_slice(),
    )
    .unwrap();
    // The office closes the case, inviting an evaluation; the reporter evaluates.
    let closing = Message::answering(
        &office.office_signing_key(),
        RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        },
        &report,
        false,
        2,
        meldpunt_crypto::Content::text(day("2026-12-06"), "Wij sluiten uw melding af.")
            .for_purpose(meldpunt_crypto::Purpose::Closing),
    )
    .unwrap();
    fs::write(
        testdata.join("structured-closing.json"),
        closing.encode().unwrap().as_slice(),
    )
    .unwrap();
    let evaluation_questions = meldpunt_crypto::default_evaluation_questions();
    let evaluating = meldpunt_crypto::Organisation {
        questions: evaluation_questions.clone(),
        ..organisation
    };
    let evaluation = Message::follow_up_signed(
        &code.follow_up_signing_key(),
        code.mailbox_token().mailbox_id(),
        3,
        meldpunt_crypto::Content::text(day("2026-12-07"), "Dank.")
            .with_answers(
                evaluating
                    .answers(&typed(&[
                        ("safe", "partly"),
                        ("informed", "yes"),
                        ("timely", "no"),
                    ]))
                    .unwrap(),
            )
            .for_purpose(meldpunt_crypto::Purpose::Evaluation),
    );
    fs::write(
        testdata.join("structured-evaluation.json"),
        evaluation.encode().unwrap().as_slice(),
    )
    .unwrap();
    // An oral report recorded by the office member (deterministic: Ed25519), the reporter's
    // confirmation and correction of the record, and the office's reply to it.
    let oral = ReceiptCode::from_entropy([6u8; 16]);
    let office_address = RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let mut recorded = Message::report(
        &oral,
        vec![office_address.clone()],
        meldpunt_crypto::Content::text(
            day("2026-12-08"),
            "Verslag van een telefoongesprek: de melder zag dat facturen dubbel werden betaald.",
        ),
    );
    office
        .office_signing_key()
        .record(
            office_address.clone(),
            meldpunt_crypto::Channel::Telephone,
            &mut recorded,
        )
        .unwrap();
    fs::write(
        testdata.join("recorded-report.json"),
        recorded.encode().unwrap().as_slice(),
    )
    .unwrap();
    for (name, sequence, purpose, text) in [
        (
            "recorded-confirmation.json",
            2,
            meldpunt_crypto::Purpose::Confirmation,
            "",
        ),
        (
            "recorded-correction.json",
            3,
            meldpunt_crypto::Purpose::Correction,
            "Het waren niet facturen maar declaraties.",
        ),
    ] {
        let follow_up = Message::follow_up_signed(
            &oral.follow_up_signing_key(),
            oral.mailbox_token().mailbox_id(),
            sequence,
            meldpunt_crypto::Content::text(day("2026-12-09"), text).for_purpose(purpose),
        );
        fs::write(testdata.join(name), follow_up.encode().unwrap().as_slice()).unwrap();
    }
    let answer = Message::answering(
        &office.office_signing_key(),
        office_address,
        &recorded,
        false,
        1,
        meldpunt_crypto::Content::text(day("2026-12-10"), "Dank, wij passen het verslag aan."),
    )
    .unwrap();
    fs::write(
        testdata.join("recorded-reply.json"),
        answer.encode().unwrap().as_slice(),
    )
    .unwrap();
    fs::write(
        testdata.join("default-evaluation-questions.json"),
        serde_json::to_string_pretty(&evaluation_questions).unwrap() + "\n",
    )
    .unwrap();
}

fn day(text: &str) -> Day {
    text.parse().unwrap()
}

/// An identity kept in `testdata/` so that the fixtures stay openable.
/// A directory history (docs/protocol.md section 5, "History"): the signed directory vector
/// (version 7) and versions 8 and 9, each naming the hash of the one before, and a fork
/// (another version 8, also continuing version 7).
/// Ed25519 and the hashes are deterministic, so these files are too.
fn write_directory_history(
    testdata: &Path,
    first: Directory,
    first_signed: meldpunt_crypto::SignedDirectory,
    signing_key: &DirectorySigningKey,
) {
    let folder = testdata.join("directory-history");
    fs::create_dir_all(&folder).unwrap();
    let seeded_key = |index: usize| {
        let seed = Sha256::digest(format!("meldpunt directory history key {index}"));
        let hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-");
        IdentityKey::parse(&bech32::encode_upper::<bech32::Bech32>(hrp, &seed).unwrap())
            .unwrap()
            .recipient()
    };
    let mut second = first.clone();
    second.organisations[0].recipients[0]
        .keys
        .push(seeded_key(0));
    let (second, second_signed) = second.sign_after(&first_signed, signing_key).unwrap();
    let mut third = second.clone();
    third.organisations[0].recipients[0].name.en = "Integrity office (renamed)".into();
    let (_, third_signed) = third.sign_after(&second_signed, signing_key).unwrap();
    let mut fork = first.clone();
    fork.organisations[0].recipients[0].keys[0] = seeded_key(1);
    let (_, fork_signed) = fork.sign_after(&first_signed, signing_key).unwrap();
    let mut hashes = String::from(
        "# Directory hashes (docs/protocol.md section 5, \"History\"): SHA-256 of\n\
         # \"meldpunt/v1/directory-hash\\n\" and the signed payload, unpadded base64url. Each file is\n\
         # named by its version; 8-fork.json is another version 8 continuing version 7: a client\n\
         # that pinned 8.json refuses it.\n\n",
    );
    for (name, signed) in [
        ("7.json", &first_signed),
        ("8.json", &second_signed),
        ("9.json", &third_signed),
        ("8-fork.json", &fork_signed),
    ] {
        fs::write(folder.join(name), signed.as_bytes()).unwrap();
        writeln!(hashes, "{name}: {}", signed.hash().unwrap()).unwrap();
    }
    fs::write(folder.join("hashes.txt"), hashes).unwrap();
}

/// Hybrid post-quantum keys (age mlkem768x25519): the specification's example identity and
/// three from fixed seeds, each with its recipient and office key; and a frozen report sealed
/// to a hybrid office identity and the hybrid reply key of the all-zero receipt code.
fn write_hybrid_vectors(testdata: &Path) {
    let mut text = String::from(
        "# Hybrid post-quantum keys (docs/protocol.md, \"Keys\"; age mlkem768x25519, c2sp.org/age):\n\
         # an identity (AGE-SECRET-KEY-PQ-1…, the 32-byte X-Wing seed) -> its recipient (age1pq1…,\n\
         # the 1,216-byte X-Wing key) and the Ed25519 office key it derives. The first identity is\n\
         # the age specification's example; the others have the seeds\n\
         # SHA-256(\"meldpunt hybrid vector N\").\n\n",
    );
    let hrp = bech32::Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");
    let mut identities = vec![
        "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR".to_owned(),
    ];
    for index in 0..3 {
        let seed = Sha256::digest(format!("meldpunt hybrid vector {index}"));
        identities.push(bech32::encode_upper::<bech32::Bech32>(hrp, &seed).unwrap());
    }
    for written in identities {
        let identity = IdentityKey::parse(&written).unwrap();
        writeln!(text, "identity: {}", identity.to_secret_string().as_str()).unwrap();
        writeln!(text, "recipient: {}", identity.recipient()).unwrap();
        writeln!(
            text,
            "office-key: {}\n",
            identity.office_signing_key().office_key()
        )
        .unwrap();
    }
    fs::write(testdata.join("hybrid-keys.txt"), text).unwrap();

    let fixture = testdata.join("hybrid-report.age");
    if std::env::args().any(|argument| argument == "--regenerate-sealed-fixture")
        || !fixture.exists()
    {
        let office = fixed_post_quantum_identity(testdata, "office-pq.identity.txt");
        let code = ReceiptCode::from_entropy([0u8; 16]);
        let report = Message::report(
            &code,
            vec![RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            }],
            meldpunt_crypto::Content::text(
                day("2026-11-30"),
                "Sealed to hybrid keys only: it stays closed for a quantum computer.",
            ),
        );
        let sealed = report
            .seal(&[office.recipient(), code.reply_identity().recipient()])
            .unwrap();
        fs::write(&fixture, sealed.as_bytes()).unwrap();
        fs::write(
            testdata.join("hybrid-report.json"),
            report.encode().unwrap().as_slice(),
        )
        .unwrap();
    }
}

fn fixed_post_quantum_identity(testdata: &Path, name: &str) -> IdentityKey {
    kept_identity(
        testdata,
        name,
        IdentityKey::generate_post_quantum,
        "Test-only hybrid post-quantum age identity (age 1.3 and typage read this file as is)",
    )
}

fn fixed_identity(testdata: &Path, name: &str) -> IdentityKey {
    kept_identity(
        testdata,
        name,
        IdentityKey::generate,
        "Test-only age identity (stock age reads this file as is)",
    )
}

/// The identity kept in `testdata/name`, made with `generate` (and written, with `what` as
/// its comment) the first time.
fn kept_identity(
    testdata: &Path,
    name: &str,
    generate: fn() -> IdentityKey,
    what: &str,
) -> IdentityKey {
    let path = testdata.join(name);
    if let Ok(text) = fs::read_to_string(&path) {
        if let Some(line) = text
            .lines()
            .find(|line| line.starts_with("AGE-SECRET-KEY-"))
        {
            return IdentityKey::parse(line).unwrap();
        }
    }
    let identity = generate();
    fs::write(
        &path,
        format!(
            "# {what}\n# public key: {}\n{}\n",
            identity.recipient(),
            identity.to_secret_string().as_str()
        ),
    )
    .unwrap();
    identity
}
