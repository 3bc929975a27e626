//! Fuzz target: see `fuzz/checks/relay_requests.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/relay_requests.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
