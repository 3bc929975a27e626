//! Any directory the signer accepts verifies, against its key, to exactly what was signed;
//! against any other key, or with one byte of it changed, it does not.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/directory_round_trip.rs` and the replay test
//! that re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{
    Day, Directory, DirectoryRecipient, DirectorySigningKey, IdentityKey, LocalisedName,
    Organisation, Role, SignedDirectory,
};

fn id(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|byte| b"abcdefghijklmnopqrstuvwxyz0123456789-"[usize::from(*byte) % 37] as char)
        .collect()
}

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    if bytes.len() < 4 {
        return;
    }
    let key = DirectorySigningKey::generate();
    let identity = IdentityKey::generate();
    let office = identity.recipient();
    let signing_key = identity.office_signing_key().office_key();
    let mut directory = Directory::new(
        Day::from_calendar_date(2026, 1, 1).unwrap(),
        Day::from_calendar_date(2099, 12, 31).unwrap(),
    );
    for (index, chunk) in bytes[4..].chunks(12).take(8).enumerate() {
        let text = String::from_utf8_lossy(chunk).into_owned();
        directory.organisations.push(Organisation {
            questions: Vec::new(),
            channels: Vec::new(),
            evaluation: Vec::new(),
            id: id(&chunk[..chunk.len().min(4)]),
            name: LocalisedName {
                nl: text.clone(),
                en: format!("{text} {index}"),
            },
            recipients: vec![DirectoryRecipient {
                id: id(&chunk[chunk.len().min(4)..]),
                role: Role::ALL[usize::from(bytes[index % 4]) % Role::ALL.len()],
                name: LocalisedName {
                    nl: text.clone(),
                    en: text,
                },
                keys: vec![office.clone()],
                signing_keys: vec![signing_key],
            }],
        });
    }
    directory.version = u64::from(bytes[0]);
    let Ok((signed_as, signed)) = directory.sign(&key) else {
        return;
    };
    let today = Day::from_calendar_date(2026, 11, 28).unwrap();
    let parsed = SignedDirectory::from_bytes(signed.as_bytes().to_vec()).unwrap();
    assert_eq!(
        parsed.verify(&key.directory_key(), today, None).unwrap(),
        signed_as
    );
    let other = DirectorySigningKey::generate().directory_key();
    assert!(parsed.verify(&other, today, None).is_err());
    let mut altered = signed.as_bytes().to_vec();
    let position = usize::from(bytes[1]) * usize::from(bytes[2]) % altered.len();
    altered[position] ^= 1 << (bytes[3] % 8);
    if let Ok(altered) = SignedDirectory::from_bytes(altered) {
        if let Ok(verified) = altered.verify(&key.directory_key(), today, None) {
            // Only a change the JSON or base64 parsers normalise away can verify, and then
            // to the very same directory.
            assert_eq!(verified, signed_as);
        }
    }
}
