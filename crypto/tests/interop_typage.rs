//! Interoperability of hybrid post-quantum sealing (age's `mlkem768x25519`) with an
//! independent implementation: the `age-encryption` npm package (typage), which the browser
//! script already uses, run in Node (`web/scripts/age-interop.mjs`).
//!
//! Needs `node` and `web/node_modules` (scripts/test runs `npm ci` first). Fails, rather than
//! skips, when they are missing, so that CI cannot pass without them.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use meldpunt_crypto::{all_post_quantum, open_unpadded_stream, seal, IdentityKey, RecipientKey};

fn web() -> PathBuf {
    let web = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web");
    assert!(
        web.join("node_modules/age-encryption").is_dir(),
        "web/node_modules is missing: run `cd web && npm ci` (scripts/test does)"
    );
    web
}

/// Runs the typage command with `input` on stdin and `identities` in its environment.
fn typage(arguments: &[String], identities: &[&IdentityKey], input: &[u8]) -> Vec<u8> {
    let secrets: Vec<_> = identities
        .iter()
        .map(|identity| identity.to_secret_string())
        .collect();
    let mut child = Command::new("node")
        .current_dir(web())
        .arg("scripts/age-interop.mjs")
        .args(arguments)
        .env(
            "AGE_INTEROP_IDENTITIES",
            secrets
                .iter()
                .map(|secret| secret.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("node runs");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        output.status.success(),
        "typage failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

fn typage_seal(recipients: &[RecipientKey], plaintext: &[u8]) -> Vec<u8> {
    let mut arguments = vec!["seal".to_owned()];
    arguments.extend(recipients.iter().map(ToString::to_string));
    typage(&arguments, &[], plaintext)
}

fn typage_open(identity: &IdentityKey, sealed: &[u8]) -> Vec<u8> {
    typage(&["open".to_owned()], &[identity], sealed)
}

fn crate_open(identity: IdentityKey, sealed: &[u8]) -> Vec<u8> {
    let mut plaintext = Vec::new();
    open_unpadded_stream(&[identity], sealed, &mut plaintext).unwrap();
    plaintext
}

#[test]
fn hybrid_files_sealed_by_the_crate_open_with_typage() {
    let identities: Vec<IdentityKey> = (0..3)
        .map(|_| IdentityKey::generate_post_quantum())
        .collect();
    let recipients: Vec<RecipientKey> = identities.iter().map(IdentityKey::recipient).collect();
    assert!(all_post_quantum(&recipients));
    for length in [0usize, 1, 70_000] {
        let content: Vec<u8> = (0..length).map(|index| (index % 251) as u8).collect();
        let sealed = seal(&recipients, &content).unwrap();
        let header = String::from_utf8_lossy(&sealed.as_bytes()[..200]).into_owned();
        assert!(header.contains("-> mlkem768x25519 "), "{header}");
        for identity in &identities {
            let opened = typage_open(identity, sealed.as_bytes());
            assert_eq!(&opened[..length], &content[..]);
            assert!(opened[length..].iter().all(|&byte| byte == 0));
        }
    }
}

#[test]
fn hybrid_files_sealed_by_typage_open_with_the_crate() {
    let identity = IdentityKey::generate_post_quantum();
    let sealed = typage_seal(&[identity.recipient()], b"Verzegeld door typage.");
    assert_eq!(crate_open(identity, &sealed), b"Verzegeld door typage.");
}

#[test]
fn keys_made_by_typage_are_keys_for_the_crate() {
    let output = typage(&["keygen".to_owned()], &[], b"");
    let text = String::from_utf8(output).unwrap();
    let mut lines = text.lines();
    let identity = IdentityKey::parse(lines.next().unwrap()).unwrap();
    let recipient: RecipientKey = lines.next().unwrap().parse().unwrap();
    assert!(identity.is_post_quantum());
    assert_eq!(identity.recipient(), recipient);
    // The crate seals to typage's key; typage opens with its own identity.
    let sealed = seal(&[recipient], b"andersom").unwrap();
    assert_eq!(&typage_open(&identity, sealed.as_bytes())[..8], b"andersom");
}

#[test]
fn a_file_sealed_to_hybrid_and_classic_keys_opens_on_both_sides_for_both() {
    let hybrid = IdentityKey::generate_post_quantum();
    let classic = IdentityKey::generate();
    let recipients = [hybrid.recipient(), classic.recipient()];
    assert!(!all_post_quantum(&recipients));
    let by_the_crate = seal(&recipients, b"gemengd").unwrap();
    let by_typage = typage_seal(&recipients, b"gemengd");
    for identity in [&hybrid, &classic] {
        assert_eq!(
            &typage_open(identity, by_the_crate.as_bytes())[..7],
            b"gemengd"
        );
        let again = IdentityKey::parse(&identity.to_secret_string()).unwrap();
        assert_eq!(crate_open(again, &by_typage), b"gemengd");
    }
}

#[test]
fn a_damaged_hybrid_stanza_is_refused_by_both() {
    let identity = IdentityKey::generate_post_quantum();
    let sealed = seal(&[identity.recipient()], b"x").unwrap().into_bytes();
    // Flip a byte inside the encapsulated key (base64 in the stanza's argument line).
    let mut damaged = sealed.clone();
    let at = String::from_utf8_lossy(&sealed[..100])
        .find("mlkem768x25519 ")
        .unwrap()
        + 40;
    damaged[at] = if damaged[at] == b'A' { b'B' } else { b'A' };
    let mut plaintext = Vec::new();
    let again = IdentityKey::parse(&identity.to_secret_string()).unwrap();
    assert!(open_unpadded_stream(&[again], &damaged[..], &mut plaintext).is_err());
    let refused = Command::new("node")
        .current_dir(web())
        .args(["scripts/age-interop.mjs", "open"])
        .env(
            "AGE_INTEROP_IDENTITIES",
            identity.to_secret_string().as_str(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .and_then(|mut child| {
            child.stdin.take().unwrap().write_all(&damaged)?;
            child.wait()
        })
        .unwrap();
    assert!(!refused.success());
}
