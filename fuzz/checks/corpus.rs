//! The inputs a fuzzer kept for a target: its corpus (`fuzz/corpus/<target>/`) and the
//! regression inputs (`fuzz/regressions/<target>/`), for replay tests in the workspace
//! crates (which include this file by path).

use std::fs;
use std::path::PathBuf;

/// Every kept input of `target`, with its file; panics if the target has none (the seed
/// corpus is checked in).
pub(crate) fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let fuzz = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("fuzz");
    let mut found = Vec::new();
    for folder in ["corpus", "regressions"] {
        let Ok(entries) = fs::read_dir(fuzz.join(folder).join(target)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("a readable folder").path();
            if path.is_file() {
                let bytes = fs::read(&path).expect("a readable input");
                found.push((path, bytes));
            }
        }
    }
    assert!(!found.is_empty(), "the seed corpus of {target} is missing");
    found
}

/// Runs `check` on every kept input of `target`, naming the input that fails.
pub(crate) fn replay(target: &str, check: impl Fn(&[u8])) {
    for (path, bytes) in inputs(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(
            outcome.is_ok(),
            "{} fails the property of {target}",
            path.display()
        );
    }
}

/// As [`replay`], for targets that take text: inputs that are not UTF-8 are skipped (the
/// fuzzer never feeds them to such a target either).
pub(crate) fn replay_text(target: &str, check: impl Fn(&str)) {
    replay(target, |bytes| {
        if let Ok(text) = std::str::from_utf8(bytes) {
            check(text);
        }
    });
}
