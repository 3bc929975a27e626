//! Fuzz target: see `fuzz/checks/directory_round_trip.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/directory_round_trip.rs"]
mod property;

fuzz_target!(|bytes: &[u8]| property::check(bytes));
