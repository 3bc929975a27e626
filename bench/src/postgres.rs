//! `meldpunt-bench --backend postgres`: durable report submissions against one and two
//! relays on one PostgreSQL database, beside the redb backend and the bare axum baseline,
//! in one run (proof-of-work off, the same sealed reports, the same concurrency).
//!
//! The database server is the one `--postgres-url` names (a throwaway cluster from
//! `scripts/throwaway-postgres start`, by default the one in `MELDPUNT_TEST_POSTGRES`); each
//! phase gets a new database on it, made and migrated before the timed part and dropped
//! after. Everything (load generator, relays, database) shares this machine's cores.

use std::path::Path;
use std::sync::Arc;

use crate::{
    client, free_address, line, load, relay_client, start_relay, submit, wait_ready,
    write_relay_files, Load, Setup,
};

/// Where the PostgreSQL server is, and how to log in.
pub(crate) struct Server {
    /// `postgres://USER@HOST:PORT/DATABASE` (the database is only used to make others).
    pub url: String,
    /// The user's password file.
    pub password_file: std::path::PathBuf,
}

impl Server {
    async fn admin(&self) -> tokio_postgres::Client {
        let mut config: tokio_postgres::Config = self.url.parse().expect("a PostgreSQL URL");
        let password = std::fs::read_to_string(&self.password_file).expect("the password file");
        config.password(password.trim());
        let (client, connection) = config
            .connect(tokio_postgres::NoTls)
            .await
            .expect("the PostgreSQL server answers");
        tokio::spawn(connection);
        client
    }

    fn url_of(&self, database: &str) -> String {
        let (server, _) = self.url.rsplit_once('/').expect("a database in the URL");
        format!("{server}/{database}")
    }
}

/// The phases of `--backend postgres`; prints a table.
pub(crate) async fn run(
    work: &Path,
    setup: &Setup,
    server: &Server,
    reports: Arc<Vec<Vec<u8>>>,
    baseline: Load,
    concurrency: usize,
    seconds: u64,
) {
    let admin = server.admin().await;
    let redb = phase(work, "redb", setup, None, 1, &reports, concurrency, seconds).await;
    let mut postgres = Vec::new();
    for relays in [1, 2] {
        let name = format!("meldpunt_bench_{relays}");
        for statement in [
            format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            format!("CREATE DATABASE {name}"),
        ] {
            admin
                .batch_execute(&statement)
                .await
                .expect("a new database");
        }
        let storage = format!(
            "\n[storage]\nbackend = \"postgres\"\nurl = \"{}\"\npassword_file = \"{}\"\npool_size = 32\n",
            server.url_of(&name),
            server.password_file.display()
        );
        let result = phase(
            work,
            &name,
            setup,
            Some(&storage),
            relays,
            &reports,
            concurrency,
            seconds,
        )
        .await;
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("the database dropped");
        postgres.push(result);
    }
    println!(
        "## Storage backends ({seconds} s per phase, concurrency {concurrency}, proof-of-work off, sealed report {} bytes)\n",
        reports[0].len()
    );
    println!("| phase | requests/s | ratio to baseline | p50 ms | p99 ms | requests | failures |");
    println!("|---|---|---|---|---|---|---|");
    line("bare axum POST route (baseline)", &baseline, None);
    line(
        "durable submission, redb (one relay)",
        &redb,
        Some(&baseline),
    );
    line(
        "durable submission, PostgreSQL, one relay",
        &postgres[0],
        Some(&baseline),
    );
    line(
        "durable submission, PostgreSQL, two relays (half the workers each)",
        &postgres[1],
        Some(&baseline),
    );
    println!();
    println!(
        "PostgreSQL against redb: {:.2} (one relay), {:.2} (two relays). The load generator, the relays and the database share this machine's cores.",
        postgres[0].rate() / redb.rate(),
        postgres[1].rate() / redb.rate()
    );
}

/// Durable submissions to `relays` relay processes (on one database when `storage` names
/// one), the workers spread over them.
#[allow(clippy::too_many_arguments)]
async fn phase(
    work: &Path,
    name: &str,
    setup: &Setup,
    storage: Option<&str>,
    relays: usize,
    reports: &Arc<Vec<Vec<u8>>>,
    concurrency: usize,
    seconds: u64,
) -> Load {
    let mut processes = Vec::new();
    let mut urls = Vec::new();
    for index in 0..relays {
        let folder = work.join(format!("{name}-{index}"));
        std::fs::create_dir_all(&folder).expect("folder");
        let address = free_address();
        let config = write_relay_files(&folder, setup, address, false, 0);
        if let Some(storage) = storage {
            let mut text = std::fs::read_to_string(&config).expect("config");
            text.push_str(storage);
            std::fs::write(&config, text).expect("config");
            if index == 0 {
                let migrated = std::process::Command::new(
                    std::env::current_exe()
                        .expect("own path")
                        .with_file_name("meldpunt-server"),
                )
                .args(["migrate", "--config"])
                .arg(&config)
                .output()
                .expect("meldpunt-server migrate");
                assert!(
                    migrated.status.success(),
                    "{}",
                    String::from_utf8_lossy(&migrated.stderr)
                );
            }
        }
        processes.push(start_relay(&config));
        let url = format!("http://{address}");
        wait_ready(&client(), &format!("{url}/api/v1/ready")).await;
        urls.push(url);
    }
    eprintln!("durable submissions: {name}, {relays} relay(s)…");
    let clients: Vec<_> = urls.iter().map(|url| relay_client(url)).collect();
    let reports = Arc::clone(reports);
    let result = load(concurrency, seconds, move |worker, sequence| {
        let relay = clients[worker % clients.len()].clone();
        let body = reports[(worker * 31 + sequence) % reports.len()].clone();
        async move { submit(&relay, body, false).await }
    })
    .await;
    drop(processes);
    result
}
