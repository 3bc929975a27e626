//! Fuzz target: see `fuzz/checks/receipt_code.rs` for the property.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "../checks/receipt_code.rs"]
mod property;

fuzz_target!(|typed: &str| property::check(typed));
