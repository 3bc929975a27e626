//! One reporter at a time: the relay's durable submissions at concurrency 1, beside the
//! disk's own floor measured in the same run (write a sealed report's worth of bytes to a
//! file and `fdatasync` it, again and again), so the gap between them reads as a ratio.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::Load;

/// Appends `bytes` bytes to a new file in `folder` and flushes them to the disk with
/// `fdatasync`, again and again for `seconds`: what one durable write costs here at the
/// least.
pub(crate) fn raw_flush(folder: &Path, bytes: usize, seconds: u64) -> Load {
    let path = folder.join("raw-flush.bin");
    let mut file = std::fs::File::create(&path).expect("a file for the raw flush");
    let block = vec![0x5a_u8; bytes];
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut latencies = Vec::new();
    let mut failures = 0;
    while Instant::now() < deadline {
        let begun = Instant::now();
        match file.write_all(&block).and_then(|()| file.sync_data()) {
            Ok(()) => latencies.push(begun.elapsed()),
            Err(_) => failures += 1,
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    drop(file);
    let _ = std::fs::remove_file(&path);
    latencies.sort();
    Load {
        requests: latencies.len(),
        failures,
        seconds,
        latencies,
    }
}
