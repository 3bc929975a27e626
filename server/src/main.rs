//! `meldpunt-server`: the relay.
//!
//! Today this binary provisions the embedded development setup (`meldpunt-server dev`): the
//! demo organisation's office identity, the directory signing key and the signed directory,
//! all under `./meldpunt-dev/`. The HTTP relay itself (storage, API, anti-abuse) is the
//! subject of the relay issue and is not built yet; the commands say so plainly.
//!
//! This program must never log or store an IP address, a mailbox token or a plaintext.

#![forbid(unsafe_code)]

mod provisioning;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The Meldpunt relay: stores only ciphertext, keyed by mailbox id.
#[derive(Debug, Parser)]
#[command(name = "meldpunt-server", version, about)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the embedded development relay on http://127.0.0.1:8080 with a demo organisation.
    Dev {
        /// Where to keep the development data.
        #[arg(long, default_value = "meldpunt-dev")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: String,
    },
    /// Start the production relay from a configuration file.
    Serve {
        /// The configuration file.
        #[arg(long)]
        config: PathBuf,
    },
}

const NOT_BUILT_YET: &str = "the HTTP relay (storage, API, anti-abuse) is not built yet; \
see the relay issue. Nothing is listening.";

fn main() -> ExitCode {
    let arguments = Arguments::parse();
    match arguments.command {
        Command::Dev { data, listen } => match provisioning::provision_dev(&data) {
            Ok(setup) => {
                println!("{}", setup.describe(&data));
                eprintln!("meldpunt-server: would listen on http://{listen}, but {NOT_BUILT_YET}");
                ExitCode::from(2)
            }
            Err(error) => {
                eprintln!("meldpunt-server: {error}");
                ExitCode::FAILURE
            }
        },
        Command::Serve { config } => {
            eprintln!(
                "meldpunt-server: cannot serve with {}: {NOT_BUILT_YET}",
                config.display()
            );
            ExitCode::from(2)
        }
    }
}
