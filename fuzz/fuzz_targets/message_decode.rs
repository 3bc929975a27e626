//! Decoding any bytes as a message never panics; a decoded message round-trips.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::Message;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(message) = Message::decode(bytes) {
        let encoded = message.encode().expect("a decoded message encodes");
        assert_eq!(Message::decode(&encoded).expect("and decodes again"), message);
    }
});
