//! No string is accepted as a form token unless the relay issued it: forging one means
//! forging HMAC-SHA256. Checking never panics.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/form_token.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_server::config::WebSettings;
use meldpunt_server::internal::{FormGuard, Refusal};

/// The property, for one input.
pub(crate) fn check(token: &str) {
    let guard = FormGuard::new(WebSettings {
        minimum_form_seconds: 0,
        ..WebSettings::default()
    });
    let issued = guard.issue(1_000_000);
    if token != issued {
        assert_eq!(guard.admit(token, 1_000_010, None), Err(Refusal::Expired));
    }
}
