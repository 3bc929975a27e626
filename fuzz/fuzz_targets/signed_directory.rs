//! Fuzz target: see `fuzz/checks/signed_directory.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/signed_directory.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
