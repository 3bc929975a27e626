//! Opening any bytes as a sealed message or object never panics, and never succeeds for an
//! identity nobody sealed to.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::{open_stream, IdentityKey, Message, SealedObject};

fuzz_target!(|bytes: &[u8]| {
    let identity = IdentityKey::generate();
    let _ = SealedObject::from_bytes(bytes.to_vec());
    assert!(Message::open(std::slice::from_ref(&identity), bytes).is_err());
    assert!(open_stream(std::slice::from_ref(&identity), bytes, 16, std::io::sink()).is_err());
});
