//! Fuzz target: see `fuzz/checks/attachment_name.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/attachment_name.rs"]
mod property;

fuzz_target!(|given: &str| property::check(given));
