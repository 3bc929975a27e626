//! Fuzz target: see `fuzz/checks/thread_check.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/thread_check.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
