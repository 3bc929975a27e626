//! Opening a sealed object whose plaintext is any bytes (so any padding, right or wrong)
//! never panics, and succeeds only when the padding is exactly Padmé's zero bytes: a
//! message opens only if it is a valid encoding followed by exactly its padding, and an
//! object of a declared length only if everything after that length is its padding.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/padding_removal.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use std::io::Write;

use meldpunt_crypto::{open_stream, padded_length, IdentityKey, Message, RecipientKey};

/// The property, for one input.
pub(crate) fn check(plaintext: &[u8]) {
    let identity = IdentityKey::generate();
    let recipient: RecipientKey = identity.recipient();
    let age_recipient: age::x25519::Recipient = recipient.to_string().parse().unwrap();
    let mut writer =
        age::Encryptor::with_recipients(std::iter::once(&age_recipient as &dyn age::Recipient))
            .unwrap()
            .wrap_output(Vec::new())
            .unwrap();
    writer.write_all(plaintext).unwrap();
    let sealed = writer.finish().unwrap();
    let identities = std::slice::from_ref(&identity);

    if let Ok(message) = Message::open(identities, &sealed) {
        let encoded = message.encode().unwrap();
        assert!(plaintext.starts_with(&encoded));
        assert_eq!(
            Some(plaintext.len() as u64),
            padded_length(encoded.len() as u64)
        );
        assert!(plaintext[encoded.len()..].iter().all(|&byte| byte == 0));
    }

    let content = plaintext
        .iter()
        .rposition(|&byte| byte != 0)
        .map_or(0, |last| last + 1);
    let mut opened = Vec::new();
    if open_stream(identities, &sealed[..], content as u64, &mut opened).is_ok() {
        assert_eq!(opened, &plaintext[..content]);
        assert_eq!(Some(plaintext.len() as u64), padded_length(content as u64));
    }
}
