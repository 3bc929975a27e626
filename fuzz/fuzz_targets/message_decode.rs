//! Fuzz target: see `fuzz/checks/message_decode.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/message_decode.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
