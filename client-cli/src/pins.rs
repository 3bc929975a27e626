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
    /// The hash of that version ([`SignedDirectory::hash`]): every later directory must
    /// continue it. Absent in pins written before directory histories.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    highest_hash: Option<String>,
}

/// Most directory versions one check fetches to follow a history.
const MOST_HISTORY: usize = 10_000;

fn pins_path() -> std::path::PathBuf {
    paths::config_dir().join("pins.json")
}

/// The pins, or none if there is no pins file yet. A file that cannot be read is an error:
/// reading it as "no pins" would silently drop the rollback protection it gives.
fn load() -> Result<Pins> {
    let path = pins_path();
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Pins::default()),
        Err(error) => return Err(CliError::file(&path, error)),
    };
    serde_json::from_slice(&bytes).map_err(|_| {
        CliError::Local(format!(
            "{} is damaged, so the directory keys and versions pinned there cannot be checked. \
             Restore it from a backup, or delete it to pin again on first use (then compare the \
             directory key with the one your organisation publishes, or give --directory-key)",
            path.display()
        ))
    })
}

/// Fetches the relay's directory and verifies it (see the module documentation).
pub fn verified_directory(relay: &Relay, explicit_key: Option<&str>) -> Result<Directory> {
    verified_signed_directory(relay, explicit_key).map(|(directory, _, _)| directory)
}

/// [`verified_directory`], with the key it was verified against and the signed directory
/// itself.
pub fn verified_signed_directory(
    relay: &Relay,
    explicit_key: Option<&str>,
) -> Result<(Directory, DirectoryKey, SignedDirectory)> {
    let signed = SignedDirectory::from_bytes(relay.directory()?)?;
    // Read, check and write the pins under one lock: concurrent commands wait their turn
    // and none loses another's pin.
    let lock_path = paths::config_dir().join("pins.lock");
    let _lock =
        paths::FileLock::acquire(&lock_path).map_err(|error| CliError::file(&lock_path, error))?;
    let mut pins = load()?;
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
    let directory = signed.verify(&key, crate::clock::today(), highest)?;
    // The directory must continue the one pinned: the relay serves the versions between,
    // and each names the hash of the one before it (a fork or a key swapped in the middle
    // breaks a link).
    let pinned_hash = pinned
        .as_ref()
        .filter(|pin| pin.directory_key == key.to_string())
        .and_then(|pin| Some((pin.highest_version, pin.highest_hash.as_deref()?)));
    if let Some((version, hash)) = pinned_hash {
        let hash = meldpunt_crypto::DirectoryHash::from_wire(hash)
            .map_err(|_| CliError::Local(format!("{} is damaged", pins_path().display())))?;
        let history = if directory.version > version {
            relay
                .directory_history(version, MOST_HISTORY)?
                .into_iter()
                .map(SignedDirectory::from_bytes)
                .collect::<std::result::Result<Vec<_>, _>>()?
        } else {
            Vec::new()
        };
        meldpunt_crypto::verify_continuation(&key, version, hash, &history, &signed)?;
    }
    let (highest_version, highest_hash) = match pinned_hash {
        Some((version, hash)) if version > directory.version => (version, Some(hash.to_owned())),
        _ => (directory.version, Some(signed.hash()?.to_wire())),
    };
    pins.relays.insert(
        relay.url().to_owned(),
        Pin {
            directory_key: key.to_string(),
            highest_version: highest_version.max(highest.unwrap_or(0)),
            highest_hash,
        },
    );
    let bytes = serde_json::to_vec_pretty(&pins).expect("serialisable");
    paths::write_private(&pins_path(), &bytes)
        .map_err(|error| CliError::file(&pins_path(), error))?;
    Ok((directory, key, signed))
}
