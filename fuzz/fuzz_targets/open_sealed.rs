//! Fuzz target: see `fuzz/checks/open_sealed.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/open_sealed.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
