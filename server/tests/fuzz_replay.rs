//! Replays the fuzz corpora and regression inputs of the relay's targets (attachment
//! names, form tokens, request bodies) through the same properties as the fuzz targets, so
//! every input a fuzzer kept is re-checked by an ordinary `cargo test`.

#[path = "../../fuzz/checks/attachment_name.rs"]
mod attachment_name;
#[path = "../../fuzz/checks/corpus.rs"]
mod corpus;
#[path = "../../fuzz/checks/form_token.rs"]
mod form_token;
#[path = "../../fuzz/checks/relay_requests.rs"]
mod relay_requests;

use corpus::{replay, replay_text};

#[test]
fn attachment_name_inputs_replay() {
    replay_text("attachment_name", attachment_name::check);
}

#[test]
fn form_token_inputs_replay() {
    replay_text("form_token", form_token::check);
}

#[test]
fn relay_requests_inputs_replay() {
    replay("relay_requests", relay_requests::check);
}
