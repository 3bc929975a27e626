//! Parsing any typed text as a receipt code never panics; a code that parses re-renders to
//! a form that parses to the same code.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/receipt_code.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::ReceiptCode;

/// The property, for one input.
pub(crate) fn check(typed: &str) {
    if let Ok(code) = ReceiptCode::parse(typed) {
        let again = ReceiptCode::parse(&code.to_written_form()).expect("re-rendered code parses");
        assert!(again.mailbox_token().matches(&code.mailbox_token()));
    }
}
