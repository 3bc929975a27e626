//! Fuzz target: see `fuzz/checks/padding_removal.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/padding_removal.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
