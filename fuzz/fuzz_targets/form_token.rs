//! Fuzz target: see `fuzz/checks/form_token.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/form_token.rs"]
mod property;

fuzz_target!(|token: &str| property::check(token));
