//! `meldpunt-server`: the relay binary.
//!
//! - `meldpunt-server dev`: the embedded default — a relay on http://127.0.0.1:8080 with a
//!   demo organisation, everything under `./meldpunt-dev/`.
//! - `meldpunt-server serve --config meldpunt.toml`: production.
//! - `meldpunt-server migrate --config meldpunt.toml`: creates or upgrades the PostgreSQL
//!   schema (for `[storage] backend = "postgres"`).
//! - `meldpunt-server backup --to FILE`: a consistent copy of a running relay's database.
//!
//! This program must never log an IP address, a token or a plaintext.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meldpunt_server::config::Settings;
use meldpunt_server::{provisioning, AppState};

/// The Meldpunt relay: stores only ciphertext, keyed by mailbox id.
#[derive(Debug, Parser)]
#[command(name = "meldpunt-server", version, about)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the development relay on http://127.0.0.1:8080 with a demo organisation.
    Dev {
        /// Where to keep the development data.
        #[arg(long, default_value = "meldpunt-dev")]
        data: PathBuf,
        /// Address to listen on (loopback only).
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: std::net::SocketAddr,
        /// Proof-of-work difficulty for new mailboxes (leading zero bits).
        #[arg(long, default_value_t = meldpunt_server::config::BASE_DIFFICULTY)]
        difficulty: u8,
    },
    /// Start the production relay from a configuration file.
    Serve {
        /// The configuration file (see docs/meldpunt.example.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Create or upgrade the PostgreSQL schema the configuration names (`[storage] backend =
    /// "postgres"`); a relay refuses to start on a schema it does not know.
    Migrate {
        /// The configuration file (see docs/meldpunt.example.toml).
        #[arg(long)]
        config: PathBuf,
    },
    /// Write a consistent copy of the database while the relay runs (or while it does not).
    Backup {
        /// The relay's data folder.
        #[arg(long, default_value = "meldpunt-dev")]
        data: PathBuf,
        /// The backup file to create; must not exist.
        #[arg(long)]
        to: PathBuf,
    },
    /// Print the running relay's counters (Prometheus text format), read over its admin
    /// socket: metrics are never served on the network.
    Metrics {
        /// The relay's data folder.
        #[arg(long, default_value = "meldpunt-dev")]
        data: PathBuf,
    },
    /// Print the example configuration.
    ExampleConfig,
    /// Print the API's OpenAPI document (what /api/v1/openapi.json serves and
    /// docs/openapi.json holds).
    Openapi,
}

/// Log timestamps carry the day only, never a time of day: the protocol promises that the
/// relay learns the day a report came, and a log line with a time next to it would give
/// more (docs/operations.md).
struct DayOnly;

impl tracing_subscriber::fmt::time::FormatTime for DayOnly {
    fn format_time(
        &self,
        writer: &mut tracing_subscriber::fmt::format::Writer<'_>,
    ) -> std::fmt::Result {
        let day = meldpunt_server::clock::today();
        write!(writer, "{day}")
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("MELDPUNT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .with_target(false)
        .with_timer(DayOnly)
        .init();
}

async fn run(settings: Settings, banner: Option<String>) -> Result<(), String> {
    // SIGHUP (systemctl reload) reloads the directory and the TLS certificate; taken over
    // first thing, so that an early one (during a long first start) cannot end the process.
    #[cfg(unix)]
    let mut hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .map_err(|error| format!("cannot handle SIGHUP: {error}"))?;
    let state = AppState::open(settings).await?;
    #[cfg(unix)]
    {
        let reloading = std::sync::Arc::clone(&state);
        tokio::spawn(async move {
            while hangups.recv().await.is_some() {
                match reloading.reload().await {
                    Ok(what) => tracing::info!(reloaded = %what, "reloaded"),
                    Err(error) => tracing::error!(
                        error = %error,
                        "reload refused: still serving what was loaded before"
                    ),
                }
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(state.settings.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", state.settings.listen))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    #[cfg(unix)]
    {
        let admin_state = std::sync::Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(error) = meldpunt_server::admin::serve_admin(admin_state).await {
                tracing::error!(error = %error, "the admin socket failed; online backups are unavailable");
            }
        });
    }
    let scheme = if state.settings.tls.is_some() {
        "https"
    } else {
        "http"
    };
    tracing::info!(address = %address, "relay listening");
    if let Some(banner) = banner {
        println!(
            "{}",
            banner.replace("{relay}", &format!("{scheme}://{address}"))
        );
    }
    let socket = meldpunt_server::admin::socket_path(&state.settings.data_dir);
    let served =
        meldpunt_server::launch(state, listener, meldpunt_server::serve::shutdown_signal())
            .await
            .map_err(|error| error.to_string());
    // No stale socket left for the next start or a backup to trip over.
    let _ = std::fs::remove_file(socket);
    served
}

fn dev_settings(
    data: &std::path::Path,
    listen: std::net::SocketAddr,
    difficulty: u8,
) -> Result<(Settings, String), String> {
    if !listen.ip().is_loopback() {
        return Err("the development relay serves plain HTTP and listens on loopback only".into());
    }
    let setup = provisioning::provision_dev(data).map_err(|error| error.to_string())?;
    let mut settings = Settings {
        listen,
        data_dir: data.to_owned(),
        directory_file: data.join("directory.signed.json"),
        directory_key: setup.directory_key.to_string(),
        ..Settings::default()
    };
    settings.proof_of_work.base_difficulty = difficulty.min(settings.proof_of_work.max_difficulty);
    settings.check().map_err(|error| error.to_string())?;
    let data_text = data.display();
    let banner = format!(
        "{}\n\nMeldpunt development relay on {{relay}} — stop it with Ctrl-C.\n\n\
         Try it:\n  curl {{relay}}/api/v1/directory\n  curl {{relay}}/api/v1/openapi.json\n\n\
         A reporter (with the meldpunt CLI):\n  \
         meldpunt report --relay {{relay}} --to demo --directory-key {} --message-file report.txt\n  \
         meldpunt check --relay {{relay}}\n\n\
         The integrity office:\n  \
         meldpunt inbox sync --relay {{relay}} --identity {data_text}/office.key\n  \
         age --decrypt --identity {data_text}/office.key < sealed-report.age",
        setup.describe(data),
        setup.directory_key,
    );
    Ok((settings, banner))
}

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    init_logging();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("meldpunt-server: cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match arguments.command {
        Command::Dev {
            data,
            listen,
            difficulty,
        } => dev_settings(&data, listen, difficulty)
            .and_then(|(settings, banner)| runtime.block_on(run(settings, Some(banner)))),
        Command::Serve { config } => Settings::load(&config)
            .map_err(|error| error.to_string())
            .and_then(|settings| runtime.block_on(run(settings, None))),
        Command::Migrate { config } => Settings::load(&config)
            .map_err(|error| error.to_string())
            .and_then(|settings| runtime.block_on(meldpunt_server::migrate(&settings)))
            .map(|done| println!("{done}")),
        Command::Backup { data, to } => runtime
            .block_on(meldpunt_server::admin::request_backup(&data, &to))
            .map(|counts| println!("Backup written to {}: {counts}", to.display())),
        Command::Metrics { data } => runtime
            .block_on(meldpunt_server::admin::request_metrics(&data))
            .map(|metrics| print!("{metrics}")),
        Command::ExampleConfig => {
            print!("{}", meldpunt_server::config::EXAMPLE_CONFIG);
            Ok(())
        }
        Command::Openapi => {
            print!("{}", meldpunt_server::openapi_document());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("meldpunt-server: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every subcommand's options are consistent (clap checks names, ids and defaults).
    #[test]
    fn the_command_line_is_consistent() {
        <Arguments as clap::CommandFactory>::command().debug_assert();
    }
}
