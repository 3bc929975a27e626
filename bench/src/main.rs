//! `meldpunt-bench`: measures a real relay on loopback and, in the same run, a bare axum
//! route that does nothing, so the relay's figures can be read as a ratio to that baseline.
//!
//! ```sh
//! cargo build --release -p meldpunt-server -p meldpunt-bench
//! target/release/meldpunt-bench --seconds 10
//! ```
//!
//! Phases (each bounded in time, all traffic to 127.0.0.1, every process stopped at the end):
//! 1. baseline: POST 2 KiB to a bare axum route, concurrency 64;
//! 2. durable report submissions, proof-of-work off, concurrency 64;
//! 3. the same with proof-of-work on (a challenge fetched and solved per submission);
//! 4. an office syncing 10,000 waiting messages (authenticate, list, fetch, open each);
//! 5. one reporter at a time: durable submissions at concurrency 1, beside a raw write of as
//!    many bytes and `fdatasync` on the same disk.
//!
//! `--phase durable|single` runs only phase 2 or 5 after the baseline (to profile one path);
//! `--prefill N` measures durable submissions into an empty store and into one already
//! holding N reports (filled through the relay's API at concurrency 128, outside the timed
//! phase), with the store's size on disk per report.

#![forbid(unsafe_code)]

mod attachment;
mod growth;
mod office_app;
mod postgres;
mod single;
mod timing;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use clap::Parser;
use meldpunt_crypto::{
    Day, Directory, DirectoryRecipient, DirectorySigningKey, IdentityKey, LocalisedName,
    MailboxToken, Message, Organisation, RecipientAddress, Role,
};
use rand_core::{OsRng, RngCore};

/// Load generator for the Meldpunt relay.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Arguments {
    /// Seconds per load phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent requests in flight.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
    /// Messages waiting for the office sync phase.
    #[arg(long, default_value_t = 10_000)]
    sync_messages: usize,
    /// Proof-of-work difficulty in the proof-of-work phase.
    #[arg(long, default_value_t = 8)]
    difficulty: u8,
    /// Instead of the load phases, send one attachment of this many MiB through the CLI.
    #[arg(long)]
    attachment_mib: Option<u64>,
    /// Instead of the load phases, time this many answers for mailboxes that exist in another
    /// organisation against as many for mailboxes that do not exist.
    #[arg(long)]
    mailbox_timing: Option<usize>,
    /// Instead of the load phases, time the office app's pages over a store of this many
    /// cases (and one long case of --case-messages messages).
    #[arg(long)]
    office_app_cases: Option<usize>,
    /// Messages of the long case in the office app benchmark.
    #[arg(long, default_value_t = 1000)]
    case_messages: u32,
    /// Give the office a hybrid post-quantum key (age mlkem768x25519): reports are sealed to
    /// it, about 1.5 KB more each.
    #[arg(long)]
    post_quantum: bool,
    /// Instead of the load phases: durable submissions on the redb backend and on
    /// PostgreSQL (one relay, then two on one database), beside the baseline (`postgres`).
    #[arg(long)]
    backend: Option<String>,
    /// The PostgreSQL server for `--backend postgres` (default: `MELDPUNT_TEST_POSTGRES`, as
    /// `scripts/throwaway-postgres start` prints it); a database is made on it per phase.
    #[arg(long)]
    postgres_url: Option<String>,
    /// Its password file (default: `MELDPUNT_TEST_POSTGRES_PASSWORD_FILE`).
    #[arg(long)]
    postgres_password_file: Option<PathBuf>,
    /// Instead of the load phases: durable submissions into an empty store, then into one
    /// filled with this many reports first (outside the timed phase), with the size on disk
    /// per stored report.
    #[arg(long)]
    prefill: Option<usize>,
    /// Run only this load phase after the baseline: `durable` (2) or `single` (5); for
    /// profiling one path.
    #[arg(long)]
    phase: Option<String>,
    /// Run as the bare baseline server on this address (used by the benchmark itself).
    #[arg(long, hide = true)]
    baseline_server: Option<SocketAddr>,
}

fn free_address() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().expect("bound")
}

/// A child process that is killed when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Process {
    fn peak_memory_kib(&self) -> u64 {
        peak_memory_kib(self.0.id())
    }

    fn memory_kib(&self, field: &str) -> u64 {
        memory_kib(self.0.id(), field)
    }
}

/// A running process's peak resident memory (VmHWM) in KiB, or 0 once it has gone.
pub(crate) fn peak_memory_kib(pid: u32) -> u64 {
    memory_kib(pid, "VmHWM")
}

/// A field of a running process's `/proc/PID/status` in KiB (`VmHWM`, `VmRSS`, `RssAnon`,
/// `RssFile`…), or 0 once it has gone.
pub(crate) fn memory_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| {
                    line.strip_prefix(field)
                        .is_some_and(|rest| rest.starts_with(':'))
                })
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|value| value.parse().ok())
        })
        .unwrap_or(0)
}

async fn wait_ready(client: &reqwest::Client, url: &str) {
    for _ in 0..600 {
        if client
            .get(url)
            .send()
            .await
            .is_ok_and(|response| response.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{url} did not become ready");
}

struct Setup {
    office: IdentityKey,
    signing_key: DirectorySigningKey,
}

fn write_relay_files(
    folder: &Path,
    setup: &Setup,
    address: SocketAddr,
    proof_of_work: bool,
    difficulty: u8,
) -> PathBuf {
    let today = Day::from_calendar_date(2026, 1, 1).expect("valid");
    let mut directory = Directory::new(today, Day::from_calendar_date(2099, 1, 1).expect("valid"));
    directory.organisations.push(Organisation {
        questions: Vec::new(),
        channels: Vec::new(),
        evaluation: Vec::new(),
        id: "demo".into(),
        name: LocalisedName {
            nl: "Demo".into(),
            en: "Demo".into(),
        },
        recipients: vec![DirectoryRecipient {
            id: "integrity-office".into(),
            role: Role::IntegrityOffice,
            name: LocalisedName {
                nl: "Bureau Integriteit".into(),
                en: "Integrity office".into(),
            },
            keys: vec![setup.office.recipient()],
            signing_keys: vec![setup.office.office_signing_key().office_key()],
        }],
    });
    // A second organisation, so that the timing mode can hold mailboxes the office of the
    // first may not see.
    let mut other = directory.organisations[0].clone();
    other.id = "other".into();
    directory.organisations.push(other);
    let (_, signed) = directory.sign(&setup.signing_key).expect("valid directory");
    let directory_file = folder.join("directory.signed.json");
    std::fs::write(&directory_file, signed.as_bytes()).expect("write directory");
    let config = folder.join("meldpunt.toml");
    std::fs::write(
        &config,
        format!(
            "listen = \"{address}\"\ndata_dir = \"{}\"\ndirectory_file = \"{}\"\ndirectory_key = \"{}\"\n\
             [limits]\nmax_messages_per_mailbox = 100000\noffice_requests_per_minute = 1000000\n\
             [proof_of_work]\nenabled = {proof_of_work}\nbase_difficulty = {difficulty}\nmax_difficulty = {difficulty}\n",
            folder.join("data").display(),
            directory_file.display(),
            setup.signing_key.directory_key(),
        ),
    )
    .expect("write config");
    config
}

fn start_relay(config: &Path) -> Process {
    let binary = std::env::current_exe()
        .expect("own path")
        .with_file_name("meldpunt-server");
    assert!(
        binary.exists(),
        "build the relay first: cargo build --release -p meldpunt-server"
    );
    Process(
        Command::new(binary)
            .args(["serve", "--config"])
            .arg(config)
            .env("MELDPUNT_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the relay starts"),
    )
}

/// Results of one load phase.
struct Load {
    requests: usize,
    failures: usize,
    seconds: f64,
    latencies: Vec<Duration>,
}

impl Load {
    fn rate(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
    fn percentile(&self, fraction: f64) -> Duration {
        if self.latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((self.latencies.len() as f64 - 1.0) * fraction).round() as usize;
        self.latencies[index]
    }
}

/// Runs `concurrency` workers calling `request` until `seconds` pass.
async fn load<F, Fut>(concurrency: usize, seconds: u64, request: F) -> Load
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let request = Arc::new(request);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let request = Arc::clone(&request);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failures = 0;
            let mut sequence = 0;
            while Instant::now() < deadline {
                let begun = Instant::now();
                if request(worker, sequence).await {
                    latencies.push(begun.elapsed());
                } else {
                    failures += 1;
                }
                sequence += 1;
            }
            (latencies, failures)
        }));
    }
    let mut latencies = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (worker_latencies, worker_failures) = worker.await.expect("worker");
        latencies.extend(worker_latencies);
        failures += worker_failures;
    }
    let seconds = started.elapsed().as_secs_f64();
    latencies.sort();
    Load {
        requests: latencies.len(),
        failures,
        seconds,
        latencies,
    }
}

/// The shared relay client at `url`, each request bounded in time.
pub(crate) fn relay_client(url: &str) -> meldpunt_client::Relay {
    meldpunt_client::Relay::new(url, None)
        .expect("a loopback relay")
        .with_request_timeout(Duration::from_secs(30))
}

pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// Reports sealed ahead of the load, reused across mailboxes (sealing is not what the load
/// test measures), so each names the mailbox of its own throwaway receipt code, not the one
/// it is posted to: no reader checks them.
fn sealed_reports(office: &IdentityKey, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|index| {
            let body = format!("{index:06} {}", "x".repeat(1800));
            Message::report(
                &meldpunt_crypto::ReceiptCode::generate(),
                vec![RecipientAddress {
                    organisation: "demo".into(),
                    recipient: "integrity-office".into(),
                }],
                meldpunt_crypto::Content::text(
                    Day::from_calendar_date(2026, 11, 28).expect("valid"),
                    body,
                ),
            )
            .seal(&[office.recipient()])
            .expect("sealed")
            .into_bytes()
        })
        .collect()
}

pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

async fn submit(relay: &meldpunt_client::Relay, body: Vec<u8>, proof_of_work: bool) -> bool {
    submit_to(relay, "demo", body, proof_of_work).await
}

/// Submits a new report to `organisation` (`demo` or `other`, which share the office key).
async fn submit_to(
    relay: &meldpunt_client::Relay,
    organisation: &str,
    body: Vec<u8>,
    proof_of_work: bool,
) -> bool {
    let token = MailboxToken::from_wire(&random_token()).expect("a mailbox token");
    let stamp = if proof_of_work {
        let Ok(Some(challenge)) = relay.challenge().await else {
            return false;
        };
        let Some(stamp) = challenge.solve(&token.mailbox_id(), |_| true) else {
            return false;
        };
        Some(stamp.to_wire())
    } else {
        None
    };
    relay
        .create_mailbox(
            &token,
            organisation,
            &["integrity-office".to_owned()],
            stamp.as_deref(),
            body,
        )
        .await
        .is_ok()
}

async fn run_baseline_server(address: SocketAddr) {
    let app = axum::Router::new().route(
        "/post",
        axum::routing::post(|_body: axum::body::Bytes| async { axum::http::StatusCode::CREATED }),
    );
    let listener = tokio::net::TcpListener::bind(address).await.expect("bind");
    axum::serve(listener, app).await.expect("serve");
}

fn line(name: &str, result: &Load, baseline: Option<&Load>) {
    let ratio = baseline.map_or(String::from("—"), |baseline| {
        format!("{:.2}", result.rate() / baseline.rate())
    });
    println!(
        "| {name} | {:.0} | {ratio} | {:.1} | {:.1} | {} | {} |",
        result.rate(),
        result.percentile(0.5).as_secs_f64() * 1000.0,
        result.percentile(0.99).as_secs_f64() * 1000.0,
        result.requests,
        result.failures,
    );
}

/// Logs in as the demo organisation's integrity office.
async fn demo_session(
    relay: &meldpunt_client::Relay,
    office: &IdentityKey,
) -> meldpunt_crypto::SessionToken {
    relay
        .office_session(
            "demo",
            "integrity-office",
            std::slice::from_ref(office),
            || {},
        )
        .await
        .expect("an office session")
}

/// Authenticates as the demo organisation's integrity office; returns the bearer header.
pub(crate) async fn office_session(url: &str, office: &IdentityKey) -> String {
    let session = demo_session(&relay_client(url), office).await;
    format!("Bearer {}", session.to_wire().as_str())
}

async fn office_sync(url: &str, office: &IdentityKey, expected: usize) -> (f64, usize) {
    let relay = relay_client(url);
    let started = Instant::now();
    let session = demo_session(&relay, office).await;
    let mut numbers = Vec::new();
    let mut after = 0u64;
    loop {
        let page = relay
            .office_messages(&session, after)
            .await
            .expect("a listing");
        if page.is_empty() {
            break;
        }
        numbers.extend(
            page.into_iter()
                .map(|entry| entry.expect("a well-formed entry").number),
        );
        after = *numbers.last().expect("non-empty");
    }
    let numbers = Arc::new(numbers);
    let session = Arc::new(session);
    let office_secret = office.to_secret_string();
    let mut workers = Vec::new();
    for worker in 0..8usize {
        let numbers = Arc::clone(&numbers);
        let relay = relay.clone();
        let session = Arc::clone(&session);
        let identity = IdentityKey::parse(&office_secret).expect("identity");
        workers.push(tokio::spawn(async move {
            let mut opened = 0;
            for number in numbers.iter().skip(worker).step_by(8) {
                let bytes = relay
                    .office_message(&session, *number)
                    .await
                    .expect("fetch");
                if Message::open(std::slice::from_ref(&identity), &bytes).is_ok() {
                    opened += 1;
                }
            }
            opened
        }));
    }
    let mut opened = 0;
    for worker in workers {
        opened += worker.await.expect("worker");
    }
    assert_eq!(
        numbers.len(),
        expected,
        "the office saw a different number of messages"
    );
    (started.elapsed().as_secs_f64(), opened)
}

#[tokio::main]
async fn main() {
    let arguments = Arguments::parse();
    if let Some(address) = arguments.baseline_server {
        run_baseline_server(address).await;
        return;
    }
    let folder = tempfile::tempdir().expect("temporary folder");
    if let Some(cases) = arguments.office_app_cases {
        let work = folder.path().to_owned();
        let messages = arguments.case_messages;
        tokio::task::spawn_blocking(move || office_app::run(&work, cases, messages))
            .await
            .expect("office app benchmark");
        return;
    }
    let setup = Setup {
        office: if arguments.post_quantum {
            IdentityKey::generate_post_quantum()
        } else {
            IdentityKey::generate()
        },
        signing_key: DirectorySigningKey::generate(),
    };
    if let Some(mebibytes) = arguments.attachment_mib {
        let address = free_address();
        let config = write_relay_files(folder.path(), &setup, address, false, 0);
        let text = std::fs::read_to_string(&config).expect("config");
        let limits = format!(
            "[limits]\nmax_attachment_bytes = {bytes}\nmax_mailbox_bytes = {bytes}\nattachment_timeout_seconds = 3600\n",
            bytes = (mebibytes << 20) * 2 + (1 << 20)
        );
        std::fs::write(&config, text.replace("[limits]\n", &limits)).expect("config");
        let relay = start_relay(&config);
        let url = format!("http://{address}");
        wait_ready(&client(), &format!("{url}/api/v1/ready")).await;
        let key = setup.signing_key.directory_key().to_string();
        let office = IdentityKey::parse(&setup.office.to_secret_string()).expect("identity");
        let work = folder.path().to_owned();
        tokio::task::spawn_blocking(move || {
            attachment::run(&work, &url, &key, &office, mebibytes, |field| {
                relay.memory_kib(field)
            });
        })
        .await
        .expect("attachment benchmark");
        return;
    }
    if let Some(samples) = arguments.mailbox_timing {
        let address = free_address();
        let config = write_relay_files(folder.path(), &setup, address, false, 0);
        let _relay = start_relay(&config);
        let url = format!("http://{address}");
        wait_ready(&client(), &format!("{url}/api/v1/ready")).await;
        let reports = sealed_reports(&setup.office, 64);
        timing::run(&url, &setup.office, &reports, samples).await;
        return;
    }
    eprintln!("sealing test reports…");
    let reports = Arc::new(sealed_reports(&setup.office, 2048));
    let report_size = reports[0].len();
    let client = client();

    // 1. Baseline: a bare axum route, in its own process like the relay.
    let baseline_address = free_address();
    let baseline_process = Process(
        Command::new(std::env::current_exe().expect("own path"))
            .arg("--baseline-server")
            .arg(baseline_address.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("baseline starts"),
    );
    let baseline_url = format!("http://{baseline_address}/post");
    for _ in 0..200 {
        if client.post(&baseline_url).body("x").send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    eprintln!("phase 1: bare axum baseline…");
    let baseline = {
        let client = client.clone();
        let reports = Arc::clone(&reports);
        load(arguments.concurrency, arguments.seconds, move |worker, sequence| {
            let client = client.clone();
            let body = reports[(worker * 31 + sequence) % reports.len()].clone();
            let url = baseline_url.clone();
            async move { matches!(client.post(url).body(body).send().await, Ok(response) if response.status().as_u16() == 201) }
        })
        .await
    };
    drop(baseline_process);
    if let Some(prefill) = arguments.prefill {
        growth::run(
            folder.path(),
            &setup,
            reports,
            prefill,
            arguments.concurrency,
            arguments.seconds,
        )
        .await;
        return;
    }
    if let Some(backend) = &arguments.backend {
        assert_eq!(backend, "postgres", "--backend takes postgres");
        let variable = |name: &str| {
            std::env::var(name).unwrap_or_else(|_| {
                panic!("give --postgres-url and --postgres-password-file, or set {name} (eval \"$(scripts/throwaway-postgres start)\")")
            })
        };
        let server = postgres::Server {
            url: arguments
                .postgres_url
                .clone()
                .unwrap_or_else(|| variable("MELDPUNT_TEST_POSTGRES")),
            password_file: arguments
                .postgres_password_file
                .clone()
                .unwrap_or_else(|| variable("MELDPUNT_TEST_POSTGRES_PASSWORD_FILE").into()),
        };
        postgres::run(
            folder.path(),
            &setup,
            &server,
            reports,
            baseline,
            arguments.concurrency,
            arguments.seconds,
        )
        .await;
        return;
    }

    let only = arguments.phase.as_deref();
    assert!(
        matches!(only, None | Some("durable") | Some("single")),
        "--phase takes durable or single"
    );
    let print_single = |raw_flush: &Load, single: &Load| {
        println!("One reporter at a time (concurrency 1), against the disk's own floor:\n");
        println!(
            "| phase | requests/s | ratio to raw flush | p50 ms | p99 ms | requests | failures |"
        );
        println!("|---|---|---|---|---|---|---|");
        line(
            &format!("raw write of {report_size} bytes + fdatasync, same disk"),
            raw_flush,
            None,
        );
        line(
            "durable report submission, concurrency 1",
            single,
            Some(raw_flush),
        );
    };
    if only == Some("single") {
        let (single, raw_flush) =
            single_phase(folder.path(), &setup, &reports, arguments.seconds).await;
        print_single(&raw_flush, &single);
        return;
    }

    // 2. and 3. Durable submissions, proof-of-work off and on.
    let mut results = Vec::new();
    let mut relay_memory = Vec::new();
    for proof_of_work in [false, true] {
        let (result, memory) = durable_phase(
            folder.path(),
            &setup,
            &reports,
            proof_of_work,
            arguments.difficulty,
            arguments.concurrency,
            arguments.seconds,
        )
        .await;
        results.push(result);
        relay_memory.push(memory);
        if only == Some("durable") {
            print_durable(&baseline, &results[0]);
            return;
        }
    }

    // 5. One reporter at a time, and the disk's own floor.
    let (single, raw_flush) =
        single_phase(folder.path(), &setup, &reports, arguments.seconds).await;

    // 4. Office sync of waiting messages.
    let sync_folder = folder.path().join("sync");
    std::fs::create_dir_all(&sync_folder).expect("folder");
    let address = free_address();
    let config = write_relay_files(&sync_folder, &setup, address, false, 0);
    let relay = start_relay(&config);
    let url = format!("http://{address}");
    wait_ready(&client, &format!("{url}/api/v1/ready")).await;
    eprintln!(
        "phase 4: filling {} messages for the office…",
        arguments.sync_messages
    );
    let mut fill = Vec::new();
    for worker in 0..32usize {
        let relay = relay_client(&url);
        let reports = Arc::clone(&reports);
        let count = arguments.sync_messages;
        fill.push(tokio::spawn(async move {
            for index in (worker..count).step_by(32) {
                assert!(
                    submit(&relay, reports[index % reports.len()].clone(), false).await,
                    "fill failed"
                );
            }
        }));
    }
    for task in fill {
        task.await.expect("fill");
    }
    eprintln!("phase 4: office sync…");
    let (sync_seconds, opened) = office_sync(&url, &setup.office, arguments.sync_messages).await;
    relay_memory.push(relay.peak_memory_kib());
    drop(relay);

    println!(
        "## Relay load test ({} s per phase, concurrency {}, sealed report {} bytes)\n",
        arguments.seconds, arguments.concurrency, report_size
    );
    print_durable(&baseline, &results[0]);
    line(&format!("durable report submission, proof-of-work on (difficulty {}; includes fetching and solving a challenge)", arguments.difficulty), &results[1], Some(&baseline));
    println!();
    print_single(&raw_flush, &single);
    println!();
    println!(
        "Office sync: {} waiting messages authenticated, listed, fetched and opened in {:.2} s ({:.0} messages/s); {} opened.",
        arguments.sync_messages,
        sync_seconds,
        arguments.sync_messages as f64 / sync_seconds,
        opened
    );
    println!(
        "Relay peak memory (VmHWM): {:.1} MiB (proof-of-work off), {:.1} MiB (on), {:.1} MiB (sync phase).",
        relay_memory[0] as f64 / 1024.0,
        relay_memory[1] as f64 / 1024.0,
        relay_memory[2] as f64 / 1024.0
    );
}

/// Phase 2 or 3: durable submissions into a new relay, proof-of-work off or on; returns the
/// load and the relay's peak memory (KiB).
async fn durable_phase(
    folder: &Path,
    setup: &Setup,
    reports: &Arc<Vec<Vec<u8>>>,
    proof_of_work: bool,
    difficulty: u8,
    concurrency: usize,
    seconds: u64,
) -> (Load, u64) {
    let phase_folder = folder.join(if proof_of_work { "pow" } else { "plain" });
    std::fs::create_dir_all(&phase_folder).expect("folder");
    let address = free_address();
    let config = write_relay_files(&phase_folder, setup, address, proof_of_work, difficulty);
    let relay = start_relay(&config);
    let url = format!("http://{address}");
    wait_ready(&client(), &format!("{url}/api/v1/ready")).await;
    eprintln!(
        "phase {}: durable submissions, proof-of-work {}…",
        if proof_of_work { 3 } else { 2 },
        if proof_of_work { "on" } else { "off" }
    );
    let result = {
        let relay = relay_client(&url);
        let reports = Arc::clone(reports);
        load(concurrency, seconds, move |worker, sequence| {
            let relay = relay.clone();
            let body = reports[(worker * 31 + sequence) % reports.len()].clone();
            async move { submit(&relay, body, proof_of_work).await }
        })
        .await
    };
    (result, relay.peak_memory_kib())
}

/// Phase 5: one reporter at a time into a new relay, then the raw flush on the same disk;
/// returns both loads.
async fn single_phase(
    folder: &Path,
    setup: &Setup,
    reports: &Arc<Vec<Vec<u8>>>,
    seconds: u64,
) -> (Load, Load) {
    let single_folder = folder.join("single");
    std::fs::create_dir_all(&single_folder).expect("folder");
    let address = free_address();
    let config = write_relay_files(&single_folder, setup, address, false, 0);
    let relay = start_relay(&config);
    let url = format!("http://{address}");
    wait_ready(&client(), &format!("{url}/api/v1/ready")).await;
    eprintln!("phase 5: one reporter at a time, then the raw flush…");
    let report_size = reports[0].len();
    let single = {
        let relay = relay_client(&url);
        let reports = Arc::clone(reports);
        load(1, seconds, move |_, sequence| {
            let relay = relay.clone();
            let body = reports[sequence % reports.len()].clone();
            async move { submit(&relay, body, false).await }
        })
        .await
    };
    drop(relay);
    let raw_flush = tokio::task::spawn_blocking(move || {
        single::raw_flush(&single_folder, report_size, seconds)
    })
    .await
    .expect("raw flush");
    (single, raw_flush)
}

/// The head of the load table: the baseline and durable submissions without proof-of-work.
fn print_durable(baseline: &Load, durable: &Load) {
    println!("| phase | requests/s | ratio to baseline | p50 ms | p99 ms | requests | failures |");
    println!("|---|---|---|---|---|---|---|");
    line("bare axum POST route (baseline)", baseline, None);
    line(
        "durable report submission, proof-of-work off",
        durable,
        Some(baseline),
    );
}
