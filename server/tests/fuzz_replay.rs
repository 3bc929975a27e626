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

use corpus::inputs;

#[test]
fn attachment_name_inputs_replay() {
    for (_, bytes) in inputs("attachment_name") {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            attachment_name::check(text);
        }
    }
}

#[test]
fn form_token_inputs_replay() {
    for (_, bytes) in inputs("form_token") {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            form_token::check(text);
        }
    }
}

#[test]
fn relay_requests_inputs_replay() {
    for (_, bytes) in inputs("relay_requests") {
        relay_requests::check(&bytes);
    }
}
