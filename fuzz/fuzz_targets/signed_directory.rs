//! Parsing and verifying any bytes as a signed directory never panics, and never succeeds
//! against a freshly made key that signed nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::{DirectorySigningKey, SignedDirectory};

fuzz_target!(|bytes: &[u8]| {
    let pinned = DirectorySigningKey::generate().directory_key();
    if let Ok(signed) = SignedDirectory::from_bytes(bytes.to_vec()) {
        let today = "2026-11-28".parse().expect("valid day");
        assert!(signed.verify(&pinned, today, None).is_err(), "forged a directory signature");
    }
});
