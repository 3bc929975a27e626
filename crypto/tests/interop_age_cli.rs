//! Interoperability with the stock `age` command-line tool (Debian package `age`).
//!
//! These tests really run the `age` and `age-keygen` binaries; `.ci/run` installs them. They
//! fail, rather than skip, when the binaries are missing, so that CI cannot pass without them.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use meldpunt_crypto::{
    open_unpadded_stream, padded_length, seal, seal_stream, Day, IdentityKey, Message, MessageKind,
    ReceiptCode, RecipientAddress,
};

fn age_binary(name: &str) -> Command {
    let found = Command::new(name).arg("--version").output();
    assert!(
        found.is_ok_and(|output| output.status.success()),
        "the `{name}` binary is needed for interop tests: apt-get install age"
    );
    Command::new(name)
}

fn write_identity(directory: &Path, name: &str, identity: &IdentityKey) -> std::path::PathBuf {
    let path = directory.join(name);
    fs::write(
        &path,
        format!(
            "# created by a test\n{}\n",
            identity.to_secret_string().as_str()
        ),
    )
    .unwrap();
    path
}

fn age_decrypt(identity_file: &Path, sealed: &[u8]) -> Vec<u8> {
    let mut child = age_binary("age")
        .args(["--decrypt", "--identity"])
        .arg(identity_file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = sealed.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn age_encrypt(recipients: &[String], plaintext: &[u8]) -> Vec<u8> {
    let mut command = age_binary("age");
    command.arg("--encrypt");
    for recipient in recipients {
        command.args(["--recipient", recipient]);
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = plaintext.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success());
    output.stdout
}

#[test]
fn objects_sealed_by_the_crate_open_with_stock_age() {
    let directory = tempfile::tempdir().unwrap();
    let identities: Vec<IdentityKey> = (0..3).map(|_| IdentityKey::generate()).collect();
    let recipients: Vec<_> = identities.iter().map(IdentityKey::recipient).collect();
    for content_length in [0usize, 1, 5000, 200_000] {
        let content: Vec<u8> = (0..content_length)
            .map(|index| (index % 251) as u8)
            .collect();
        let sealed = seal(&recipients, &content).unwrap();
        for (index, identity) in identities.iter().enumerate() {
            let file = write_identity(directory.path(), &format!("identity-{index}.txt"), identity);
            let plaintext = age_decrypt(&file, sealed.as_bytes());
            assert_eq!(
                plaintext.len() as u64,
                padded_length(content_length as u64).unwrap()
            );
            assert_eq!(&plaintext[..content_length], &content[..]);
            assert!(plaintext[content_length..].iter().all(|&byte| byte == 0));
        }
    }
}

#[test]
fn a_large_streamed_seal_opens_with_stock_age() {
    let directory = tempfile::tempdir().unwrap();
    let identity = IdentityKey::generate();
    let file = write_identity(directory.path(), "identity.txt", &identity);
    let length: u64 = 3 * 1024 * 1024 + 17;
    let content = std::io::Read::take(std::io::repeat(0x5a), length);
    let sealed = seal_stream(&[identity.recipient()], content, length, Vec::new()).unwrap();
    let plaintext = age_decrypt(&file, &sealed);
    assert_eq!(plaintext.len() as u64, padded_length(length).unwrap());
    assert!(plaintext[..length as usize]
        .iter()
        .all(|&byte| byte == 0x5a));
}

#[test]
fn a_sealed_message_is_readable_json_with_stock_age() {
    let directory = tempfile::tempdir().unwrap();
    let office = IdentityKey::generate();
    let file = write_identity(directory.path(), "office.txt", &office);
    let code = ReceiptCode::generate();
    let report = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        mailbox: code.mailbox_token().mailbox_id(),
        sequence: 1,
        kind: MessageKind::Report {
            reply_key: code.reply_identity().recipient(),
            follow_up_key: code.follow_up_signing_key().follow_up_key(),
            recipients: vec![RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            }],
            conversation: meldpunt_crypto::Conversation::Report,
            earlier_consultation: None,
        },
        written_on: "2026-11-28".parse::<Day>().unwrap(),
        body: String::from("Melding over de aanbesteding.").into(),
        attachments: vec![],
    };
    let sealed = report.seal(&[office.recipient()]).unwrap();
    let plaintext = age_decrypt(&file, sealed.as_bytes());
    let end = plaintext.iter().rposition(|&byte| byte != 0).unwrap() + 1;
    let json: serde_json::Value = serde_json::from_slice(&plaintext[..end]).unwrap();
    assert_eq!(json["meldpunt-message"], 3);
    assert_eq!(json["sequence"], 1);
    assert_eq!(json["body"], "Melding over de aanbesteding.");
}

#[test]
fn a_file_sealed_to_hybrid_and_classic_keys_opens_with_stock_age_for_the_classic_one() {
    // An office half-way through moving to hybrid keys: a member on a classic key still
    // opens with stock age, which skips the mlkem768x25519 stanzas it does not know.
    let folder = tempfile::tempdir().unwrap();
    let classic = IdentityKey::generate();
    let hybrid = IdentityKey::generate_post_quantum();
    let sealed = seal(&[hybrid.recipient(), classic.recipient()], b"gemengd").unwrap();
    let header = String::from_utf8_lossy(&sealed.as_bytes()[..4000]).into_owned();
    assert!(header.contains("-> mlkem768x25519 ") && header.contains("-> X25519 "));
    let identity_file = write_identity(folder.path(), "classic", &classic);
    let opened = age_decrypt(&identity_file, sealed.as_bytes());
    assert_eq!(&opened[..7], b"gemengd");
    let mut opened_by_the_crate = Vec::new();
    open_unpadded_stream(&[hybrid], sealed.as_bytes(), &mut opened_by_the_crate).unwrap();
    assert_eq!(opened_by_the_crate, opened);
}

#[test]
fn files_sealed_by_stock_age_open_with_the_crate() {
    // Stock age seals to a reporter's derived classic reply key (Debian's age 1.1 predates
    // hybrid keys); the crate opens it with the keys derived again from the receipt code.
    let code = ReceiptCode::generate();
    let reply_recipient = code.classic_reply_identity().recipient().to_string();
    let sealed = age_encrypt(&[reply_recipient], b"Een antwoord van het bureau.");
    let mut opened = Vec::new();
    let typed = ReceiptCode::parse(&code.to_written_form()).unwrap();
    open_unpadded_stream(&typed.reply_identities(), &sealed[..], &mut opened).unwrap();
    assert_eq!(opened, b"Een antwoord van het bureau.");

    // A message padded by hand and sealed by stock age opens as a Meldpunt message.
    let office = IdentityKey::generate();
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
        written_on: "2026-11-29".parse().unwrap(),
        body: String::from("Dank voor uw melding.").into(),
        attachments: vec![],
    };
    office.office_signing_key().sign(&mut reply).unwrap();
    let mut padded = reply.encode().unwrap().to_vec();
    padded.resize(padded_length(padded.len() as u64).unwrap() as usize, 0);
    let sealed = age_encrypt(&[office.recipient().to_string()], &padded);
    assert_eq!(Message::open(&[office], &sealed).unwrap(), reply);
}

#[test]
fn identities_from_age_keygen_work_with_the_crate() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("key.txt");
    let status = age_binary("age-keygen")
        .arg("-o")
        .arg(&path)
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let text = fs::read_to_string(&path).unwrap();
    let line = text
        .lines()
        .find(|line| line.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    let identity = IdentityKey::parse(line).unwrap();
    let sealed = seal(&[identity.recipient()], b"x").unwrap();
    let plaintext = age_decrypt(&path, sealed.as_bytes());
    assert_eq!(plaintext[0], b'x');
}
