//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and the regression inputs
//! (`fuzz/regressions/<target>/`) through the same checks as the fuzz targets, so that every
//! input a fuzzer ever kept is re-checked by an ordinary `cargo test`.

#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/message_round_trip.rs"]
mod message_round_trip;
#[path = "../../fuzz/checks/thread_check.rs"]
mod thread_check;

use corpus::inputs;

use meldpunt_crypto::{
    open_stream, DirectorySigningKey, IdentityKey, Message, ReceiptCode, SealedObject,
    SignedDirectory,
};

#[test]
fn receipt_code_inputs_replay() {
    let inputs = inputs("receipt_code");
    assert!(!inputs.is_empty(), "the seed corpus is missing");
    for (path, bytes) in inputs {
        let Ok(typed) = std::str::from_utf8(&bytes) else {
            continue;
        };
        if let Ok(code) = ReceiptCode::parse(typed) {
            let again = ReceiptCode::parse(&code.to_written_form())
                .unwrap_or_else(|_| panic!("{}", path.display()));
            assert!(
                again.mailbox_token().matches(&code.mailbox_token()),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn message_inputs_replay() {
    let inputs = inputs("message_decode");
    assert!(!inputs.is_empty(), "the seed corpus is missing");
    for (path, bytes) in inputs {
        if let Ok(message) = Message::decode(&bytes) {
            let encoded = message
                .encode()
                .unwrap_or_else(|_| panic!("{}", path.display()));
            assert_eq!(
                Message::decode(&encoded).unwrap(),
                message,
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn signed_directory_inputs_replay() {
    let inputs = inputs("signed_directory");
    assert!(!inputs.is_empty(), "the seed corpus is missing");
    let pinned = DirectorySigningKey::generate().directory_key();
    for (path, bytes) in inputs {
        if let Ok(signed) = SignedDirectory::from_bytes(bytes) {
            let today = "2026-11-28".parse().unwrap();
            assert!(
                signed.verify(&pinned, today, None).is_err(),
                "{}",
                path.display()
            );
        }
    }
}

#[test]
fn sealed_object_inputs_replay() {
    let inputs = inputs("open_sealed");
    assert!(!inputs.is_empty(), "the seed corpus is missing");
    let identity = IdentityKey::generate();
    for (path, bytes) in inputs {
        let _ = SealedObject::from_bytes(bytes.clone());
        assert!(
            Message::open(std::slice::from_ref(&identity), &bytes).is_err(),
            "{}",
            path.display()
        );
        assert!(
            open_stream(
                std::slice::from_ref(&identity),
                &bytes[..],
                16,
                std::io::sink()
            )
            .is_err(),
            "{}",
            path.display()
        );
    }
}

#[test]
fn thread_check_inputs_replay() {
    for (_, bytes) in inputs("thread_check") {
        thread_check::check(&bytes);
    }
}

#[test]
fn message_round_trip_inputs_replay() {
    for (_, bytes) in inputs("message_round_trip") {
        message_round_trip::check(&bytes);
    }
}
