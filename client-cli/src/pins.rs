//! Fetching the recipient directory and verifying it against a pinned key.
//!
//! The key comes from `--directory-key` (or the configuration); without one, the first
//! directory seen from a relay is trusted and its key pinned, with a loud warning. After
//! that a directory signed by another key, older than one seen before, or expired is refused
//! with a message that explains the danger.

use std::collections::BTreeMap;

use meldpunt_crypto::{Directory, DirectoryKey, SignedDirectory};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};
use crate::paths;
use crate::relay::Relay;

#[derive(Debug, Default, Serialize, Deserialize)]
struct Pins {
    relays: BTreeMap<String, Pin>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Pin {
    directory_key: String,
    highest_version: u64,
}

fn pins_path() -> std::path::PathBuf {
    paths::config_dir().join("pins.json")
}

fn load() -> Pins {
    std::fs::read(pins_path())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Fetches the relay's directory and verifies it (see the module documentation).
pub fn verified_directory(relay: &Relay, explicit_key: Option<&str>) -> Result<Directory> {
    let signed = SignedDirectory::from_bytes(relay.directory()?)?;
    let mut pins = load();
    let pinned = pins.relays.get(relay.url()).cloned();
    let key: DirectoryKey = match (explicit_key, &pinned) {
        (Some(text), _) => text.parse().map_err(|_| {
            CliError::Usage("--directory-key is not a directory key (mpdk1…)".into())
        })?,
        (None, Some(pin)) => pin
            .directory_key
            .parse()
            .map_err(|_| CliError::Local(format!("{} is damaged", pins_path().display())))?,
        (None, None) => {
            let claimed = signed.claimed_signing_key()?;
            eprintln!(
                "WARNING: no directory key is pinned for {}. Trusting the key this relay presents now,\n\
                 {claimed}, and pinning it for next time. Compare it with the key your organisation\n\
                 publishes; if they differ, stop: someone may be trying to read your report.",
                relay.url()
            );
            claimed
        }
    };
    let highest = pinned
        .as_ref()
        .filter(|pin| pin.directory_key == key.to_string())
        .map(|pin| pin.highest_version);
    let directory = signed.verify(&key, paths::today(), highest)?;
    pins.relays.insert(
        relay.url().to_owned(),
        Pin {
            directory_key: key.to_string(),
            highest_version: directory.version.max(highest.unwrap_or(0)),
        },
    );
    let bytes = serde_json::to_vec_pretty(&pins).expect("serialisable");
    paths::write_private(&pins_path(), &bytes)
        .map_err(|error| CliError::file(&pins_path(), error))?;
    Ok(directory)
}
