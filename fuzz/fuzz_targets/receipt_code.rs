//! Parsing any typed text as a receipt code never panics; a code that parses re-renders to
//! a form that parses to the same code.
#![no_main]
use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::ReceiptCode;

fuzz_target!(|typed: &str| {
    if let Ok(code) = ReceiptCode::parse(typed) {
        let again = ReceiptCode::parse(&code.to_written_form()).expect("re-rendered code parses");
        assert!(again.mailbox_token().matches(&code.mailbox_token()));
    }
});
