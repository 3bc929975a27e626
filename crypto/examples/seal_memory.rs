//! Measures the peak memory (VmHWM) of sealing and then opening N MiB with the streaming API,
//! content generated on the fly and ciphertext streamed through a pipe-like buffer, so that
//! only the crate's own buffers count.
//!
//! `cargo run --release -p meldpunt-crypto --example seal_memory -- 100`

use std::io::{self, Read, Write};
use std::time::Instant;

use meldpunt_crypto::{open_stream, seal_stream, IdentityKey};

/// A reader producing `remaining` bytes of a repeating pattern, never holding them.
struct Pattern {
    remaining: u64,
}

impl Read for Pattern {
    fn read(&mut self, buffer: &mut [u8]) -> io::Result<usize> {
        let length = (buffer.len() as u64).min(self.remaining) as usize;
        for (index, byte) in buffer[..length].iter_mut().enumerate() {
            *byte = (index % 251) as u8;
        }
        self.remaining -= length as u64;
        Ok(length)
    }
}

/// Counts the bytes written and forgets them.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buffer: &[u8]) -> io::Result<usize> {
        self.0 += buffer.len() as u64;
        Ok(buffer.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn peak_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let mebibytes: u64 = std::env::args()
        .nth(1)
        .and_then(|argument| argument.parse().ok())
        .unwrap_or(100);
    let length = mebibytes << 20;
    let identity = IdentityKey::generate();
    let recipients = [identity.recipient()];
    let before = peak_resident_kib();

    // Seal into a temporary file so that opening can stream it back.
    let file = tempfile::tempfile().expect("temporary file");
    let started = Instant::now();
    let file = seal_stream(
        &recipients,
        Pattern { remaining: length },
        length,
        io::BufWriter::new(file),
    )
    .expect("seal")
    .into_inner()
    .expect("flush");
    let seal_seconds = started.elapsed().as_secs_f64();
    let after_seal = peak_resident_kib();

    let mut file = file;
    std::io::Seek::rewind(&mut file).expect("rewind");
    let started = Instant::now();
    let mut counter = Counter(0);
    open_stream(&[identity], io::BufReader::new(file), length, &mut counter).expect("open");
    let open_seconds = started.elapsed().as_secs_f64();
    let after_open = peak_resident_kib();

    println!("content: {mebibytes} MiB");
    println!("peak RSS before: {:.1} MiB", before as f64 / 1024.0);
    println!(
        "peak RSS after sealing: {:.1} MiB ({:.0} MB/s)",
        after_seal as f64 / 1024.0,
        length as f64 / seal_seconds / 1e6
    );
    println!(
        "peak RSS after opening: {:.1} MiB ({:.0} MB/s)",
        after_open as f64 / 1024.0,
        length as f64 / open_seconds / 1e6
    );
    assert_eq!(counter.0, length);
}
