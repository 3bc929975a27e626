//! The attachment benchmark: a large file reported through the real `meldpunt` CLI to a real
//! relay, then downloaded and opened by the office (`inbox sync` + `inbox export`), with raw
//! age sealing of the same size measured in the same run for comparison.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use meldpunt_crypto::IdentityKey;

/// Peak resident memory (KiB) of a child process, sampled until it exits.
fn run_measured(command: &mut Command) -> (Duration, u64, bool) {
    let started = Instant::now();
    let mut child = command
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut peak = 0;
    let status = loop {
        peak = peak.max(crate::peak_memory_kib(child.id()));
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if !status.success() {
        let mut error = String::new();
        let _ = child
            .stderr
            .take()
            .map(|mut stderr| stderr.read_to_string(&mut error));
        eprintln!("command failed: {error}");
    }
    (started.elapsed(), peak, status.success())
}

/// Writes `length` bytes of a pattern to `path`.
fn write_file(path: &Path, length: u64) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let block: Vec<u8> = (0..1 << 20).map(|index: u32| (index % 251) as u8).collect();
    let mut left = length;
    while left > 0 {
        let step = left.min(block.len() as u64) as usize;
        file.write_all(&block[..step]).expect("write");
        left -= step as u64;
    }
    file.flush().expect("flush");
}

/// Raw age sealing of `length` bytes to one recipient, into a sink: bytes per second.
fn raw_age_rate(length: u64) -> f64 {
    let identity = IdentityKey::generate();
    let recipient: age::x25519::Recipient =
        identity.recipient().to_string().parse().expect("recipient");
    let started = Instant::now();
    let encryptor =
        age::Encryptor::with_recipients(std::iter::once(&recipient as &dyn age::Recipient))
            .expect("one");
    let mut writer = encryptor.wrap_output(std::io::sink()).expect("sink");
    let block = vec![7u8; 1 << 20];
    let mut left = length;
    while left > 0 {
        let step = left.min(block.len() as u64) as usize;
        writer.write_all(&block[..step]).expect("write");
        left -= step as u64;
    }
    writer.finish().expect("finish");
    length as f64 / started.elapsed().as_secs_f64()
}

/// Runs the benchmark; `relay_url` is a running relay, `relay_memory` reads a field of its
/// `/proc/PID/status` in KiB.
pub(crate) fn run(
    folder: &Path,
    relay_url: &str,
    directory_key: &str,
    office: &IdentityKey,
    mebibytes: u64,
    relay_memory: impl Fn(&str) -> u64,
) {
    let length = mebibytes << 20;
    let cli = std::env::current_exe()
        .expect("own path")
        .with_file_name("meldpunt");
    assert!(
        cli.exists(),
        "build the CLI first: cargo build --release -p meldpunt-cli"
    );
    let file = folder.join("evidence.bin");
    eprintln!("writing a {mebibytes} MiB file…");
    write_file(&file, length);
    let home = folder.join("home");
    let report = folder.join("report.txt");
    std::fs::write(&report, "Zie bijlage.").expect("write");

    eprintln!("raw age sealing…");
    let raw = raw_age_rate(length);

    eprintln!("meldpunt report --attach ({mebibytes} MiB)…");
    let (upload_time, upload_memory, uploaded) = run_measured(
        Command::new(&cli)
            .args([
                "report",
                "--to",
                "demo",
                "--directory-key",
                directory_key,
                "--message-file",
            ])
            .arg(&report)
            .arg("--attach")
            .arg(&file)
            .args(["--relay", relay_url])
            .env("MELDPUNT_HOME", &home),
    );
    assert!(uploaded, "the report with its attachment failed");
    let relay_after_upload = relay_memory("VmHWM");
    let stored_bytes = crate::growth::disk_bytes(&folder.join("data"));

    let identity_file = folder.join("office.key");
    std::fs::write(
        &identity_file,
        format!("{}\n", office.to_secret_string().as_str()),
    )
    .expect("write");
    let store = folder.join("store");
    let inbox = |arguments: &[&str]| {
        let mut command = Command::new(&cli);
        command
            .arg("inbox")
            .args(arguments)
            .args([
                "--relay",
                relay_url,
                "--directory-key",
                directory_key,
                "--identity",
            ])
            .arg(&identity_file)
            .arg("--store")
            .arg(&store)
            .env("MELDPUNT_HOME", &home);
        command
    };
    let (_, _, synced) = run_measured(&mut inbox(&["sync"]));
    assert!(synced, "office sync failed");
    let listed = inbox(&["list", "--json"]).output().expect("list");
    let cases: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    let case = cases["cases"][0]["case"]
        .as_str()
        .expect("a case")
        .to_owned();
    let export = folder.join("export");
    eprintln!("meldpunt inbox export (download and open {mebibytes} MiB)…");
    let (download_time, download_memory, exported) = run_measured(&mut inbox(&[
        "export",
        &case,
        "--out",
        export.to_str().expect("UTF-8 path"),
    ]));
    assert!(exported, "export failed");
    let exported_length = std::fs::metadata(export.join("attachments").join("evidence.bin"))
        .expect("exported")
        .len();
    assert_eq!(
        exported_length, length,
        "the exported attachment differs in size"
    );
    let relay_after_download = relay_memory("VmHWM");
    let relay_now: Vec<(&str, u64)> = ["VmRSS", "RssAnon", "RssFile"]
        .into_iter()
        .map(|field| (field, relay_memory(field)))
        .collect();

    let rate = |time: Duration| length as f64 / time.as_secs_f64() / 1e6;
    println!("\n## Attachment of {mebibytes} MiB through the CLI and the relay\n");
    println!("| step | time s | throughput MB/s | ratio to raw age sealing | CLI peak memory MiB | relay peak memory MiB |");
    println!("|---|---|---|---|---|---|");
    println!(
        "| raw age sealing (in memory, to a sink) | {:.2} | {:.0} | 1.00 | — | — |",
        length as f64 / raw,
        raw / 1e6
    );
    println!(
        "| meldpunt report --attach: read, seal, upload, durably store | {:.2} | {:.0} | {:.2} | {:.1} | {:.1} |",
        upload_time.as_secs_f64(),
        rate(upload_time),
        rate(upload_time) * 1e6 / raw,
        upload_memory as f64 / 1024.0,
        relay_after_upload as f64 / 1024.0
    );
    println!(
        "| meldpunt inbox export: download, open, verify, write | {:.2} | {:.0} | {:.2} | {:.1} | {:.1} |",
        download_time.as_secs_f64(),
        rate(download_time),
        rate(download_time) * 1e6 / raw,
        download_memory as f64 / 1024.0,
        relay_after_download as f64 / 1024.0
    );
    println!(
        "\nThe relay's store after the upload: {:.0} MiB on disk for {mebibytes} MiB attached ({:.2}×).",
        stored_bytes as f64 / (1u64 << 20) as f64,
        stored_bytes as f64 / length as f64
    );
    println!(
        "The relay's memory after the download: peak (VmHWM) {:.1} MiB; now {}.",
        relay_after_download as f64 / 1024.0,
        relay_now
            .iter()
            .map(|(field, kib)| format!("{field} {:.1} MiB", *kib as f64 / 1024.0))
            .collect::<Vec<_>>()
            .join(", ")
    );
}
