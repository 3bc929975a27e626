//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) and the regression inputs
//! (`fuzz/regressions/<target>/`) of the crypto targets through the targets' own properties
//! (`fuzz/checks/`), so that every input a fuzzer ever kept is re-checked by an ordinary
//! `cargo test`.

#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/directory_round_trip.rs"]
mod directory_round_trip;
#[path = "../../fuzz/checks/message_decode.rs"]
mod message_decode;
#[path = "../../fuzz/checks/message_round_trip.rs"]
mod message_round_trip;
#[path = "../../fuzz/checks/open_sealed.rs"]
mod open_sealed;
#[path = "../../fuzz/checks/padding_removal.rs"]
mod padding_removal;
#[path = "../../fuzz/checks/receipt_code.rs"]
mod receipt_code;
#[path = "../../fuzz/checks/signed_directory.rs"]
mod signed_directory;
#[path = "../../fuzz/checks/thread_check.rs"]
mod thread_check;

use corpus::{replay, replay_text};

#[test]
fn receipt_code_inputs_replay() {
    replay_text("receipt_code", receipt_code::check);
}

#[test]
fn message_decode_inputs_replay() {
    replay("message_decode", message_decode::check);
}

#[test]
fn message_round_trip_inputs_replay() {
    replay("message_round_trip", message_round_trip::check);
}

#[test]
fn thread_check_inputs_replay() {
    replay("thread_check", thread_check::check);
}

#[test]
fn signed_directory_inputs_replay() {
    replay("signed_directory", signed_directory::check);
}

#[test]
fn open_sealed_inputs_replay() {
    replay("open_sealed", open_sealed::check);
}

#[test]
fn padding_removal_inputs_replay() {
    replay("padding_removal", padding_removal::check);
}

#[test]
fn directory_round_trip_inputs_replay() {
    replay("directory_round_trip", directory_round_trip::check);
}
