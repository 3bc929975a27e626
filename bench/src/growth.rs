//! A full store: durable submissions into an empty relay, then into one that already holds
//! `--prefill` reports (filled through the relay's own API, outside the timed phase), with
//! the store's size on disk per stored report against the sealed bytes it holds. Reports go
//! to two organisations in turn, as a relay serving several receives them.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::{line, load, relay_client, start_relay, submit_to, wait_ready, write_relay_files};
use crate::{Load, Setup};

/// Concurrent submissions while filling.
const FILL_CONCURRENCY: usize = 128;

/// The organisation the `index`th report goes to: the two in turn.
fn organisation(index: usize) -> &'static str {
    if index.is_multiple_of(2) {
        "demo"
    } else {
        "other"
    }
}

/// Bytes of every file under `folder`, as allocated on disk (holes not counted).
pub(crate) fn disk_bytes(folder: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    let mut total = 0;
    if let Ok(entries) = std::fs::read_dir(folder) {
        for entry in entries.flatten() {
            let Ok(metadata) = entry.metadata() else {
                continue;
            };
            if metadata.is_dir() {
                total += disk_bytes(&entry.path());
            } else {
                total += metadata.blocks() * 512;
            }
        }
    }
    total
}

/// Submits `count` reports at [`FILL_CONCURRENCY`]; returns how many were stored.
async fn fill(url: &str, reports: &Arc<Vec<Vec<u8>>>, count: usize) -> usize {
    let next = Arc::new(AtomicUsize::new(0));
    let stored = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..FILL_CONCURRENCY {
        let relay = relay_client(url);
        let reports = Arc::clone(reports);
        let next = Arc::clone(&next);
        let stored = Arc::clone(&stored);
        workers.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                if index >= count {
                    break;
                }
                let body = reports[index % reports.len()].clone();
                if submit_to(&relay, organisation(index), body, false).await {
                    stored.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for worker in workers {
        worker.await.expect("fill worker");
    }
    stored.load(Ordering::Relaxed)
}

/// One timed phase of durable submissions into the relay at `url`.
async fn submissions(
    url: &str,
    reports: &Arc<Vec<Vec<u8>>>,
    concurrency: usize,
    seconds: u64,
) -> Load {
    let relay = relay_client(url);
    let reports = Arc::clone(reports);
    load(concurrency, seconds, move |worker, sequence| {
        let relay = relay.clone();
        let body = reports[(worker * 31 + sequence) % reports.len()].clone();
        async move { submit_to(&relay, organisation(sequence), body, false).await }
    })
    .await
}

/// Runs the empty-store phase and the full-store phase; prints their table.
pub(crate) async fn run(
    folder: &Path,
    setup: &Setup,
    reports: Arc<Vec<Vec<u8>>>,
    prefill: usize,
    concurrency: usize,
    seconds: u64,
) {
    let report_size = reports[0].len() as u64;
    let mut phases = Vec::new();
    for (name, count) in [("empty", 0), ("full", prefill)] {
        let phase_folder = folder.join(name);
        std::fs::create_dir_all(&phase_folder).expect("folder");
        let address = crate::free_address();
        let config = write_relay_files(&phase_folder, setup, address, false, 0);
        let relay = start_relay(&config);
        let url = format!("http://{address}");
        wait_ready(&crate::client(), &format!("{url}/api/v1/ready")).await;
        let mut filled = 0;
        if count > 0 {
            eprintln!("filling {count} reports…");
            let started = Instant::now();
            filled = fill(&url, &reports, count).await;
            eprintln!(
                "filled {filled} in {:.0} s ({:.0}/s)",
                started.elapsed().as_secs_f64(),
                filled as f64 / started.elapsed().as_secs_f64()
            );
        }
        eprintln!("durable submissions into the {name} store…");
        let result = submissions(&url, &reports, concurrency, seconds).await;
        drop(relay);
        let stored = (filled + result.requests) as u64;
        let disk = disk_bytes(&phase_folder.join("data"));
        phases.push((name, filled, result, stored, disk));
    }
    println!(
        "## A full store ({seconds} s per phase, concurrency {concurrency}, sealed report {report_size} bytes, two organisations in turn)\n"
    );
    println!("| store | requests/s | ratio to empty | p50 ms | p99 ms | requests | failures |");
    println!("|---|---|---|---|---|---|---|");
    let empty = &phases[0].2;
    for (name, filled, result, _, _) in &phases {
        let label = format!("{name} store ({filled} reports before the phase)");
        line(&label, result, (*name != "empty").then_some(empty));
    }
    println!();
    println!(
        "| store | reports stored | on disk MiB | bytes per report | ratio to sealed payload |"
    );
    println!("|---|---|---|---|---|");
    for (name, _, _, stored, disk) in &phases {
        println!(
            "| {name} | {stored} | {:.0} | {:.0} | {:.2} |",
            *disk as f64 / (1u64 << 20) as f64,
            *disk as f64 / (*stored).max(1) as f64,
            *disk as f64 / ((*stored).max(1) * report_size) as f64
        );
    }
}
