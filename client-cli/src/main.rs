//! `meldpunt`: the reporter's and the integrity office's command-line tool.
//!
//! Built so far: `meldpunt keygen`, which creates an office's age identity. The reporter
//! commands (`report`, `check`, `follow-up`) and the office's `inbox` and `directory`
//! commands come with the CLI issue, once the relay exists.
//!
//! This program must never take a receipt code, token or key from argv or print a secret
//! other than into a file the user named.

#![forbid(unsafe_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use meldpunt_crypto::IdentityKey;

/// Meldpunt: anonymous, end-to-end encrypted reporting of integrity breaches.
#[derive(Debug, Parser)]
#[command(name = "meldpunt", version, about)]
struct Arguments {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create a new age identity for an integrity office and print its public key.
    Keygen {
        /// Where to write the identity; refused if the file exists.
        #[arg(long)]
        out: PathBuf,
    },
}

fn keygen(out: &Path) -> std::io::Result<String> {
    let identity = IdentityKey::generate();
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out)?;
    let public = identity.recipient().to_string();
    file.write_all(
        format!(
            "# Meldpunt office identity (age X25519). Keep this file secret.\n# public key: {public}\n{}\n",
            identity.to_secret_string().as_str()
        )
        .as_bytes(),
    )?;
    file.sync_all()?;
    Ok(public)
}

fn main() -> ExitCode {
    match Arguments::parse().command {
        Command::Keygen { out } => match keygen(&out) {
            Ok(public) => {
                eprintln!(
                    "Wrote a new identity to {}. Keep it secret and backed up.",
                    out.display()
                );
                println!("{public}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("meldpunt keygen: cannot write {}: {error}", out.display());
                ExitCode::FAILURE
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keygen_writes_an_identity_and_refuses_to_overwrite() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("office.key");
        let public = keygen(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        let identity = IdentityKey::parse(text.lines().last().unwrap()).unwrap();
        assert_eq!(identity.recipient().to_string(), public);
        assert!(keygen(&path).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }
}
