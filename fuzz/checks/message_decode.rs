//! Decoding any bytes as a message never panics; a decoded message round-trips.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/message_decode.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::Message;

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    if let Ok(message) = Message::decode(bytes) {
        let encoded = message.encode().expect("a decoded message encodes");
        assert_eq!(
            Message::decode(&encoded).expect("and decodes again"),
            message
        );
    }
}
