//! Parsing and verifying any bytes as a signed directory never panics, and never succeeds
//! against a freshly made key that signed nothing.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/signed_directory.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{DirectorySigningKey, SignedDirectory};

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    let pinned = DirectorySigningKey::generate().directory_key();
    if let Ok(signed) = SignedDirectory::from_bytes(bytes.to_vec()) {
        let today = "2026-11-28".parse().expect("valid day");
        assert!(
            signed.verify(&pinned, today, None).is_err(),
            "forged a directory signature"
        );
    }
}
