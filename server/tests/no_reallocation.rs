//! The no-JavaScript form reader grows its plaintext buffers only by moving into a larger
//! buffer and wiping the old one, and normalises line breaks into a buffer allocated once:
//! neither ever reallocates (which would free an earlier copy of the report unwiped).
//!
//! Alone in its own test binary, with a counting global allocator, so that no other test
//! thread allocates while the counts are taken.

use meldpunt_server::internal::{append_zeroizing, without_carriage_returns};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use zeroize::Zeroizing;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn form_buffers_never_reallocate_their_plaintext() {
    let chunk = vec![b'x'; 8 * 1024 + 3];
    let mut buffer = Zeroizing::new(Vec::new());
    let region = Region::new(GLOBAL);
    for _ in 0..200 {
        append_zeroizing(&mut buffer, &chunk);
    }
    let counts = region.change();
    assert_eq!(counts.reallocations, 0, "{counts:?}");
    assert_eq!(buffer.len(), 200 * chunk.len());
    // Growth by doubling: a handful of moves, each old buffer wiped as it is dropped.
    assert!(counts.allocations <= 16, "{counts:?}");

    let text = "regel\r\n".repeat(50_000);
    let region = Region::new(GLOBAL);
    let normalised = without_carriage_returns(&text);
    let counts = region.change();
    assert_eq!(counts.reallocations, 0, "{counts:?}");
    assert_eq!(counts.allocations, 1, "{counts:?}");
    assert_eq!(normalised.len(), 6 * 50_000);
}
