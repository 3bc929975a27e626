//! Opening any bytes as a sealed message or object never panics, and never succeeds for an
//! identity nobody sealed to.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/open_sealed.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{open_stream, IdentityKey, Message, SealedObject};

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    let identity = IdentityKey::generate();
    let _ = SealedObject::from_bytes(bytes.to_vec());
    assert!(Message::open(std::slice::from_ref(&identity), bytes).is_err());
    assert!(open_stream(std::slice::from_ref(&identity), bytes, 16, std::io::sink()).is_err());
}
