//! End-to-end tests of the `meldpunt` CLI: the real binary against the real relay on
//! loopback, through the whole reporting process, and its refusals.

use std::path::{Path, PathBuf};
use std::process::Command;

use meldpunt_end_to_end::{
    client, contains, files_under, photo_with_metadata, write_identity, write_protected_identity,
    Relay, RelayOptions, User,
};
use serde_json::Value;

#[test]
fn the_whole_reporting_process_runs_through_the_cli() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    let store = store.to_str().unwrap();

    // The reporter reports with a photo; its metadata is removed before sealing.
    let photo = reporter.path("foto.jpg");
    std::fs::write(&photo, photo_with_metadata()).unwrap();
    let report_text = "Op de afdeling Inkoop worden offertes vervalst. PLAINTEXT-MARKER-3c9e";
    let output = reporter.run(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--attach",
            photo.to_str().unwrap(),
            "--message-file",
            "-",
            "--json",
        ],
        Some(report_text),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("removed the photo's metadata"));
    let answer: Value = serde_json::from_slice(&output.stdout).unwrap();
    let code = answer["receipt_code"].as_str().unwrap().to_owned();
    let code_file = reporter.path("code.txt");
    std::fs::write(&code_file, &code).unwrap();
    let code_file = code_file.to_str().unwrap();

    // The office syncs, sees a new case with its deadlines, acknowledges and replies.
    let synced = office.json(
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
    assert_eq!(synced["arrived"][0]["kind"], "report");
    let listed = office.json(
        &relay,
        &["inbox", "list", "--identity", identity, "--store", store],
        None,
    );
    let case = listed["cases"][0]["case"].as_str().unwrap().to_owned();
    assert_eq!(listed["cases"][0]["status"], "new");
    assert_eq!(listed["cases"][0]["overdue"], serde_json::json!([]));
    let shown = office.json(
        &relay,
        &[
            "inbox",
            "show",
            &case,
            "--identity",
            identity,
            "--store",
            store,
        ],
        None,
    );
    assert_eq!(shown["messages"][0]["body"], report_text);
    assert_eq!(shown["messages"][0]["attachments"][0]["name"], "foto.jpg");
    office.ok(
        &relay,
        &[
            "inbox",
            "reply",
            &case,
            "--ack",
            "--identity",
            identity,
            "--store",
            store,
        ],
        None,
    );
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
        Some("Wij onderzoeken uw melding."),
    );

    // The reporter reads both with the receipt code alone, and follows up.
    let thread = reporter.json(&relay, &["check", "--receipt-file", code_file], None);
    let kinds: Vec<&str> = thread["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["report", "acknowledgement", "reply"]);
    assert!(thread["messages"][1]["body"]
        .as_str()
        .unwrap()
        .contains("Wij hebben uw melding ontvangen"));
    reporter.ok(
        &relay,
        &[
            "follow-up",
            "--receipt-file",
            code_file,
            "--message-file",
            "-",
        ],
        Some("Aanvulling: ook in 2025."),
    );

    // The office syncs again, closes and exports.
    office.ok(
        &relay,
        &["inbox", "sync", "--identity", identity, "--store", store],
        None,
    );
    let listed = office.json(
        &relay,
        &["inbox", "list", "--identity", identity, "--store", store],
        None,
    );
    assert_eq!(listed["cases"][0]["status"], "feedback-given");
    assert_eq!(listed["cases"][0]["messages"], 4);
    office.ok(
        &relay,
        &[
            "inbox",
            "close",
            &case,
            "--identity",
            identity,
            "--store",
            store,
        ],
        None,
    );
    let export = office.path("export");
    office.ok(
        &relay,
        &[
            "inbox",
            "export",
            &case,
            "--out",
            export.to_str().unwrap(),
            "--identity",
            identity,
            "--store",
            store,
        ],
        None,
    );

    // The exported originals open with stock age and match the opened plaintext.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(export.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["status"], "closed");
    let originals: Vec<PathBuf> = files_under(&export.join("originals"));
    assert_eq!(originals.len(), 4);
    for original in &originals {
        let output = Command::new("age")
            .args(["--decrypt", "--identity", identity])
            .arg(original)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "stock age failed on {}",
            original.display()
        );
        let end = output.stdout.iter().rposition(|&byte| byte != 0).unwrap() + 1;
        let stem = original.file_stem().unwrap().to_str().unwrap();
        let opened = std::fs::read(export.join("plaintext").join(format!("{stem}.json"))).unwrap();
        assert_eq!(&output.stdout[..end], &opened[..], "{stem}");
    }
    for file in manifest["files"].as_array().unwrap() {
        let bytes = std::fs::read(export.join(file["file"].as_str().unwrap())).unwrap();
        let digest: String = <sha2::Sha256 as sha2::Digest>::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"], digest);
    }
    let photo_out = std::fs::read(export.join("attachments").join("foto.jpg")).unwrap();
    assert!(!contains(&photo_out, b"GPS"));
    assert!(!contains(&photo_out, b"Jansen"));
    assert!(contains(&photo_out, b"JFIF"));

    // The office's store holds no plaintext; neither does the relay.
    for file in files_under(Path::new(store)) {
        assert!(
            !contains(&std::fs::read(&file).unwrap(), b"PLAINTEXT-MARKER"),
            "plaintext in {}",
            file.display()
        );
    }
    let mut relay = relay;
    relay.stop();
    for file in ["meldpunt.redb", "meldpunt.journal"] {
        assert!(
            !contains(
                &std::fs::read(relay.data.join(file)).unwrap(),
                b"PLAINTEXT-MARKER"
            ),
            "plaintext in {file}"
        );
    }
}

#[test]
fn a_mistyped_or_unknown_receipt_code_is_refused_with_its_own_message() {
    let relay = Relay::start(RelayOptions::default());
    let user = User::new();
    let typo = "QQQQ-QQQQ-QQQQ-QQQQ-QQQQ-QQQQ-QQYW-ZT5L";
    let output = user.run(&relay, &["check"], Some(typo));
    assert_eq!(output.status.code(), Some(2));
    let message = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        message.contains("typo") && message.contains("group 8 of 8"),
        "{message}"
    );
    let unknown = "QQQQ-QQQQ-QQQQ-QQQQ-QQQQ-QQQQ-QQYW-ZT5K";
    let output = user.run(
        &relay,
        &[
            "check",
            "--directory-key",
            &relay.directory.signing_key.directory_key().to_string(),
        ],
        Some(unknown),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no mailbox answers"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_swapped_or_rolled_back_directory_is_refused() {
    let relay = Relay::start(RelayOptions::default());
    let user = User::new();
    // A relay presenting a directory signed by another key than the pinned one.
    let other = meldpunt_crypto::DirectorySigningKey::generate()
        .directory_key()
        .to_string();
    let output = user.run(
        &relay,
        &[
            "report",
            "--to",
            "demo",
            "--directory-key",
            &other,
            "--message-file",
            "-",
        ],
        Some("x"),
    );
    assert_eq!(output.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&output.stderr).contains("different key"));

    // Trust on first use pins version 5; a later version 3 is a rollback.
    std::fs::write(&relay.directory_file, relay.directory.signed_version(5)).unwrap();
    let relay = relay.restart();
    let output = user.run(
        &relay,
        &["report", "--to", "demo", "--message-file", "-"],
        Some("eerste melding"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("WARNING: no directory key is pinned"));
    // An honest relay refuses to go back (it remembers the newest version it served); a
    // hostile one that forgets is played by deleting that memory.
    std::fs::write(&relay.directory_file, relay.directory.signed_version(3)).unwrap();
    std::fs::remove_file(relay.data.join("directory-version")).unwrap();
    let relay = relay.restart();
    let output = user.run(
        &relay,
        &["report", "--to", "demo", "--message-file", "-"],
        Some("tweede melding"),
    );
    assert_eq!(output.status.code(), Some(5));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("older than version 5"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_tampered_message_is_refused_and_an_absent_relay_reported() {
    let relay = Relay::start(RelayOptions::default());
    let key = relay.directory.signing_key.directory_key().to_string();
    let reporter = User::new();
    let code =
        meldpunt_crypto::ReceiptCode::parse(&reporter.report(&relay, "echte melding")).unwrap();
    // A malicious relay (simulated: a post with the token) slips in an object with a valid age
    // header and a damaged payload.
    let mut message = meldpunt_crypto::Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 2,
        kind: meldpunt_crypto::MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        written_on: "2026-11-28".parse().unwrap(),
        body: String::from("vervalst").into(),
        attachments: vec![],
    };
    code.follow_up_signing_key().sign(&mut message);
    let mut sealed = message
        .seal(&[relay.directory.demo_office.recipient()])
        .unwrap()
        .into_bytes();
    let last = sealed.len() - 20;
    sealed[last] ^= 0x01;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = runtime.block_on(async {
        client()
            .post(format!("{}/api/v1/mailbox/messages", relay.url))
            .header(
                "authorization",
                format!("Bearer {}", code.mailbox_token().to_wire().as_str()),
            )
            .header("content-type", "application/octet-stream")
            .body(sealed)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 201);
    let office = User::new();
    let identity = office.path("office.key");
    write_identity(&identity, &relay.directory.demo_office);
    let output = office.run(
        &relay,
        &[
            "inbox",
            "sync",
            "--identity",
            identity.to_str().unwrap(),
            "--store",
            office.path("store").to_str().unwrap(),
            "--directory-key",
            &key,
        ],
        None,
    );
    // The damaged message is quarantined with the reason; the report is filed.
    let printed = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{printed}");
    assert!(
        printed.contains("QUARANTINED") && printed.contains("damaged or was altered"),
        "{printed}"
    );
    assert!(printed.contains("new report"), "{printed}");

    // A relay that is not there: exit code 3 and a plain explanation.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let output = office.run(
        &relay,
        &[
            "inbox",
            "sync",
            "--relay",
            &format!("http://{closed}"),
            "--identity",
            identity.to_str().unwrap(),
            "--store",
            office.path("store2").to_str().unwrap(),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot reach the relay"));
}

#[test]
fn a_passphrase_protected_identity_asks_once_and_refuses_a_wrong_passphrase() {
    let relay = Relay::start(RelayOptions::default());
    let office = User::new();
    let identity = office.path("office.key.age");
    write_protected_identity(&identity, &relay.directory.demo_office, "lange wachtzin 42");
    let identity = identity.to_str().unwrap();
    let store = office.path("store");
    let store = store.to_str().unwrap();
    let key = relay.directory.signing_key.directory_key().to_string();

    let output = office.run(
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
        Some("verkeerd\n"),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("passphrase"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let synced = office.json(
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
        Some("lange wachtzin 42\n"),
    );
    assert_eq!(synced["organisation"], "demo");
}

/// A relay with a certificate from a private authority: refused, with the reason, until the
/// CLI is given that authority with `--ca-file`; a certificate for another name or an expired
/// one is refused with its own reason even then, and a CA file that is not one is named.
#[test]
fn a_relay_with_a_private_certificate_is_trusted_only_with_its_ca_file() {
    let folder = tempfile::tempdir().unwrap();
    let authority_key = rcgen::KeyPair::generate().unwrap();
    let mut authority = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    authority.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    authority
        .distinguished_name
        .push(rcgen::DnType::CommonName, "Meldpunt test authority");
    let authority = authority.self_signed(&authority_key).unwrap();
    let ca_file = folder.path().join("ca.pem");
    std::fs::write(&ca_file, authority.pem()).unwrap();
    // A relay with a certificate for `names`, valid until `not_after`, from that authority.
    let start = |name: &str, names: Vec<String>, not_after: (i32, u8, u8)| {
        let key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(names).unwrap();
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(not_after.0, not_after.1, not_after.2);
        let certificate = params.signed_by(&key, &authority, &authority_key).unwrap();
        let chain = folder.path().join(format!("{name}.pem"));
        let private_key = folder.path().join(format!("{name}.key"));
        std::fs::write(&chain, certificate.pem()).unwrap();
        std::fs::write(&private_key, key.serialize_pem()).unwrap();
        let relay = Relay::start(RelayOptions {
            extra_config: format!(
                "[tls]\ncertificate_chain = \"{}\"\nprivate_key = \"{}\"\n",
                chain.display(),
                private_key.display()
            ),
            ..RelayOptions::default()
        });
        let url = relay.url.replace("http://", "https://");
        (relay, url)
    };
    let report = |url: &str, ca_file: Option<&Path>, relay: &Relay| {
        let reporter = User::new();
        let key = relay.directory.signing_key.directory_key().to_string();
        let mut arguments = vec![
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
            "-",
        ];
        let ca = ca_file.map(|path| path.to_str().unwrap().to_owned());
        if let Some(ca) = &ca {
            arguments.extend(["--ca-file", ca.as_str()]);
        }
        let output = reporter.run_at(url, &arguments, Some("Via TLS."));
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };

    let (good, url) = start("good", vec!["127.0.0.1".into()], (2099, 1, 1));
    let (code, message) = report(&url, None, &good);
    assert_eq!(code, Some(3), "{message}");
    assert!(message.contains("TLS failed"), "{message}");
    assert!(message.contains("--ca-file"), "{message}");
    let (code, message) = report(&url, Some(&ca_file), &good);
    assert_eq!(code, Some(0), "{message}");
    // The environment and the configuration file say the same.
    let reporter = User::new();
    let key = good.directory.signing_key.directory_key().to_string();
    let mut command = Command::new(meldpunt_end_to_end::binary("meldpunt-cli", "meldpunt"));
    let message_file = reporter.path("message.txt");
    std::fs::write(&message_file, "Via TLS, trusted by the environment.").unwrap();
    let output = command
        .args([
            "report",
            "--to",
            "demo",
            "--directory-key",
            &key,
            "--message-file",
        ])
        .arg(&message_file)
        .env("MELDPUNT_HOME", reporter.path("home"))
        .env("MELDPUNT_RELAY", &url)
        .env("MELDPUNT_CA_FILE", &ca_file)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let (elsewhere, url) = start("elsewhere", vec!["example.org".into()], (2099, 1, 1));
    let (code, message) = report(&url, Some(&ca_file), &elsewhere);
    assert_eq!(code, Some(3), "{message}");
    assert!(message.contains("for another name"), "{message}");

    let (expired, url) = start("expired", vec!["127.0.0.1".into()], (2021, 1, 1));
    let (code, message) = report(&url, Some(&ca_file), &expired);
    assert_eq!(code, Some(3), "{message}");
    assert!(message.contains("expired"), "{message}");

    let not_a_ca = folder.path().join("not-a-ca.pem");
    std::fs::write(&not_a_ca, "nothing here").unwrap();
    let (code, message) = report(&url, Some(&not_a_ca), &expired);
    assert_eq!(code, Some(1), "{message}");
    assert!(message.contains("holds no PEM certificate"), "{message}");
    assert!(message.contains("not-a-ca.pem"), "{message}");
}

#[test]
fn a_configuration_file_that_is_not_one_is_refused_with_its_path() {
    let user = User::new();
    let folder = user.path("home").join("config");
    std::fs::create_dir_all(&folder).unwrap();
    for text in [
        "{ not json",
        r#"{"relay": "https://example.nl", "relais": "typo"}"#,
    ] {
        std::fs::write(folder.join("config.json"), text).unwrap();
        let output = user.run_at("", &["inbox", "list", "--identity", "x"], None);
        assert_eq!(output.status.code(), Some(2));
        let message = String::from_utf8_lossy(&output.stderr);
        assert!(message.contains("config.json"), "{message}");
        assert!(
            message.contains("is not a Meldpunt configuration"),
            "{message}"
        );
    }
}

#[test]
fn a_directory_is_signed_for_at_most_400_days_and_more_than_180_is_warned_about() {
    let administrator = User::new();
    let path = |name: &str| administrator.path(name).to_str().unwrap().to_owned();
    let run = |arguments: &[&str]| administrator.run_at("", arguments, None);
    let generated: Value =
        serde_json::from_slice(&run(&["keygen", "--out", &path("member.key"), "--json"]).stdout)
            .unwrap();
    let files = [
        "--file",
        &path("directory.json"),
        "--signing-key",
        &path("directory.key"),
    ];
    let mut init = vec!["directory", "init"];
    init.extend(files);
    assert!(run(&init).status.success());
    let mut add = vec![
        "directory",
        "add-recipient",
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
        "Bureau Integriteit",
        "--name-en",
        "Integrity office",
        "--key",
        generated["public_key"].as_str().unwrap(),
        "--signing-key",
        generated["office_key"].as_str().unwrap(),
    ];
    let draft = path("directory.json");
    add.extend(["--file", &draft]);
    let added = run(&add);
    assert!(
        added.status.success(),
        "{}",
        String::from_utf8_lossy(&added.stderr)
    );
    let sign = |days: Option<&str>| {
        let mut arguments = vec!["directory", "sign", "--json", "--out"];
        let out = path("directory.signed.json");
        arguments.push(&out);
        arguments.extend(files);
        if let Some(days) = days {
            arguments.extend(["--valid-days", days]);
        }
        let output = run(&arguments);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    for refused in ["99999", "401", "0"] {
        let (code, _, message) = sign(Some(refused));
        assert_eq!(code, Some(2), "{refused}: {message}");
        assert!(message.contains("between 1 and 400"), "{message}");
    }
    assert!(!administrator.path("directory.signed.json").exists());
    let (code, _, message) = sign(Some("365"));
    assert_eq!(code, Some(0), "{message}");
    assert!(message.contains("Warning: valid for 365 days"), "{message}");
    let (code, answer, message) = sign(None);
    assert_eq!(code, Some(0), "{message}");
    assert!(!message.contains("Warning"), "{message}");
    let answer: Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["version"], 2);
}

#[test]
fn members_join_and_leave_a_recipient_and_every_change_is_shown_before_signing() {
    let administrator = User::new();
    let path = |name: &str| administrator.path(name).to_str().unwrap().to_owned();
    let run = |arguments: &[&str]| {
        let mut with_draft = arguments.to_vec();
        let draft = path("directory.json");
        with_draft.extend(["--file", draft.as_str()]);
        let output = administrator.run_at("", &with_draft, None);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let person = |name: &str| -> (String, String) {
        let output = administrator.run_at("", &["keygen", "--json", "--out", &path(name)], None);
        let keys: Value = serde_json::from_slice(&output.stdout).unwrap();
        (
            keys["public_key"].as_str().unwrap().to_owned(),
            keys["office_key"].as_str().unwrap().to_owned(),
        )
    };
    let (anna, bram, carla) = (person("anna.key"), person("bram.key"), person("carla.key"));
    let signing_key = path("directory.key");
    assert_eq!(
        run(&["directory", "init", "--signing-key", &signing_key]).0,
        Some(0)
    );
    let add_recipient = |recipient: &str, role: &str, name: &str, keys: &(String, String)| {
        run(&[
            "directory",
            "add-recipient",
            "--organisation",
            "demo",
            "--organisation-name-nl",
            "Demo",
            "--organisation-name-en",
            "Demo",
            "--recipient",
            recipient,
            "--role",
            role,
            "--name-nl",
            name,
            "--name-en",
            name,
            "--key",
            &keys.0,
            "--signing-key",
            &keys.1,
        ])
    };
    let sign = || {
        run(&[
            "directory",
            "sign",
            "--signing-key",
            &signing_key,
            "--out",
            &path("directory.signed.json"),
        ])
    };
    assert_eq!(
        add_recipient("integrity-office", "integrity-office", "Integriteit", &anna).0,
        Some(0)
    );
    assert_eq!(sign().0, Some(0));
    let draft = std::fs::read(path("directory.json")).unwrap();
    // Every later version must continue the file signed last: signing into another file
    // would break the history, and is refused.
    let (code, message) = run(&[
        "directory",
        "sign",
        "--signing-key",
        &signing_key,
        "--out",
        &path("elsewhere.signed.json"),
    ]);
    assert_eq!(code, Some(2), "{message}");
    assert!(
        message.contains("names the one signed before it"),
        "{message}"
    );
    assert_eq!(std::fs::read(path("directory.json")).unwrap(), draft);

    // Adding an existing recipient again, or one person's key to a second recipient, is
    // refused with what to do instead, and changes nothing.
    let (code, message) = add_recipient("integrity-office", "process-guide", "Anders", &bram);
    assert_eq!(code, Some(2));
    assert!(
        message.contains("already has a recipient integrity-office"),
        "{message}"
    );
    assert!(message.contains("add-member"), "{message}");
    let (code, message) = add_recipient(
        "external-confidential-adviser",
        "external-confidential-adviser",
        "Vertrouwenspersoon",
        &anna,
    );
    assert_eq!(code, Some(2));
    assert!(
        message.contains("belongs to demo/integrity-office"),
        "{message}"
    );
    assert_eq!(std::fs::read(path("directory.json")).unwrap(), draft);

    // A new recipient, a new member, new names.
    assert_eq!(
        add_recipient(
            "external-confidential-adviser",
            "external-confidential-adviser",
            "Vertrouwenspersoon",
            &carla
        )
        .0,
        Some(0)
    );
    let member = |command: &str, recipient: &str, keys: &(String, String), office_key: bool| {
        let mut arguments = vec![
            "directory",
            command,
            "--organisation",
            "demo",
            "--recipient",
            recipient,
            "--key",
            &keys.0,
        ];
        if office_key {
            arguments.extend(["--signing-key", &keys.1]);
        }
        run(&arguments)
    };
    assert_eq!(
        member("add-member", "integrity-office", &bram, true).0,
        Some(0)
    );
    let (code, message) = member("add-member", "external-confidential-adviser", &bram, true);
    assert_eq!(code, Some(2));
    assert!(
        message.contains("belongs to demo/integrity-office"),
        "{message}"
    );
    let (code, message) = run(&[
        "directory",
        "change-recipient",
        "--organisation",
        "demo",
        "--recipient",
        "integrity-office",
        "--name-en",
        "Integrity bureau",
    ]);
    assert_eq!(code, Some(0), "{message}");
    assert!(
        message.contains("\"Integriteit\" → \"Integrity bureau\""),
        "{message}"
    );
    let (code, message) = sign();
    assert_eq!(code, Some(0), "{message}");
    assert!(message.contains("Changes since version 1"), "{message}");
    assert!(
        message.contains("+ recipient demo/external-confidential-adviser"),
        "{message}"
    );
    assert!(
        message.contains(&format!("+ demo/integrity-office: key {}", bram.0)),
        "{message}"
    );
    assert!(
        message.contains("~ demo/integrity-office: names"),
        "{message}"
    );

    // Anna leaves: her age key goes (nothing new is sealed to her), her office key stays so
    // that her earlier replies still verify. The last member cannot be retired.
    let (code, message) = member("retire-member", "integrity-office", &anna, false);
    assert_eq!(code, Some(0), "{message}");
    assert!(
        message.contains("earlier replies still verify"),
        "{message}"
    );
    let (code, message) = member("retire-member", "integrity-office", &bram, false);
    assert_eq!(code, Some(2));
    assert!(message.contains("without a member"), "{message}");
    let (code, message) = sign();
    assert_eq!(code, Some(0), "{message}");
    assert!(
        message.contains(&format!("- demo/integrity-office: key {}", anna.0)),
        "{message}"
    );
    assert!(!message.contains("office key"), "{message}");
    let (code, message) = sign();
    assert_eq!(code, Some(0), "{message}");
    assert!(
        message.contains("No change to recipients or keys"),
        "{message}"
    );
    // Every version was kept beside the signed file, each naming the hash of the one
    // before: one history, from version 1 to the last.
    let history = administrator.path("directory.signed.history");
    let mut signed: Vec<meldpunt_crypto::SignedDirectory> = std::fs::read_dir(&history)
        .unwrap()
        .map(|entry| {
            meldpunt_crypto::SignedDirectory::from_bytes(
                std::fs::read(entry.unwrap().path()).unwrap(),
            )
            .unwrap()
        })
        .collect();
    let key = signed[0].claimed_signing_key().unwrap();
    signed.sort_by_key(|directory| directory.verify_history(&key).unwrap().version);
    let last = signed.last().unwrap().clone();
    assert!(signed.len() >= 4, "{}", signed.len());
    assert_eq!(
        last.as_bytes(),
        &std::fs::read(path("directory.signed.json")).unwrap()[..]
    );
    meldpunt_crypto::verify_continuation(&key, 1, signed[0].hash().unwrap(), &signed, &last)
        .unwrap();
}

#[test]
fn hybrid_keys_and_a_recovery_key_are_added_and_shown_for_what_they_are() {
    let administrator = User::new();
    let path = |name: &str| administrator.path(name).to_str().unwrap().to_owned();
    let run = |arguments: &[&str]| {
        let output = administrator.run_at("", arguments, None);
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let keygen = |name: &str, post_quantum: bool| -> Value {
        let mut arguments = vec!["keygen", "--json"];
        if post_quantum {
            arguments.push("--pq");
        }
        let out = path(name);
        arguments.extend(["--out", out.as_str()]);
        let (code, stdout, stderr) = run(&arguments);
        assert_eq!(code, Some(0), "{stderr}");
        serde_json::from_str(&stdout).unwrap()
    };
    let member = keygen("member.key", true);
    assert_eq!(member["post_quantum"], true);
    let member_key = member["public_key"].as_str().unwrap().to_owned();
    assert!(member_key.starts_with("age1pq1"));
    let identity_file = std::fs::read_to_string(path("member.key")).unwrap();
    assert!(identity_file.contains("\nAGE-SECRET-KEY-PQ-1"));
    let recovery = keygen("recovery.key", true)["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let classic = keygen("classic.key", false)["public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let draft = path("directory.json");
    let signing_key = path("directory.key");
    let (code, _, stderr) = run(&[
        "directory",
        "init",
        "--signing-key",
        &signing_key,
        "--file",
        &draft,
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let (code, _, stderr) = run(&[
        "directory",
        "add-recipient",
        "--file",
        &draft,
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
        "Integriteit",
        "--name-en",
        "Integrity",
        "--key",
        &member_key,
        "--signing-key",
        member["office_key"].as_str().unwrap(),
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let add_recovery = |key: &str| {
        run(&[
            "directory",
            "add-recovery-key",
            "--file",
            &draft,
            "--organisation",
            "demo",
            "--recipient",
            "integrity-office",
            "--key",
            key,
        ])
    };
    // Not a key, or a key already listed: refused, nothing changes.
    let before = std::fs::read(&draft).unwrap();
    for bad in ["age1pq1nope", member_key.as_str()] {
        let (code, _, stderr) = add_recovery(bad);
        assert_eq!(code, Some(2), "{stderr}");
        assert_eq!(std::fs::read(&draft).unwrap(), before);
    }
    let (code, _, stderr) = add_recovery(&recovery);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("recovery key"), "{stderr}");
    assert!(!stderr.contains("Warning"), "{stderr}");
    let (_, stdout, _) = run(&["directory", "show", &draft]);
    assert!(
        stdout.contains("2 key(s), 2 hybrid post-quantum: reports to it stay closed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("[hybrid ] {recovery}")),
        "{stdout}"
    );
    // A classic recovery key is taken, with a warning; the recipient is then exposed.
    let (code, _, stderr) = add_recovery(&classic);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains("Warning: this is a classic X25519 key"),
        "{stderr}"
    );
    let (_, stdout, _) = run(&["directory", "show", &draft]);
    assert!(
        stdout.contains("3 key(s), 2 hybrid post-quantum: one classic key is enough"),
        "{stdout}"
    );
    assert!(stdout.contains(&format!("[classic] {classic}")), "{stdout}");
}
