//! Where the CLI keeps its few files: the configuration, the directory pins and the office's
//! encrypted store. `MELDPUNT_HOME` puts all of them under one folder (tests use it).
//!
//! A reporter's CLI keeps only directory pins (relay address, directory key, highest version
//! seen) — never a receipt code or anything derived from one.

use std::path::PathBuf;

fn home() -> Option<PathBuf> {
    std::env::var_os("MELDPUNT_HOME").map(PathBuf::from)
}

/// The configuration folder.
pub fn config_dir() -> PathBuf {
    home().map_or_else(
        || {
            dirs::config_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("meldpunt")
        },
        |home| home.join("config"),
    )
}

/// The default office store.
pub fn default_store() -> PathBuf {
    home().map_or_else(
        || {
            dirs::data_dir()
                .unwrap_or_else(|| PathBuf::from("."))
                .join("meldpunt")
                .join("store")
        },
        |home| home.join("store"),
    )
}

/// Writes a file only its owner can read, atomically (temporary file, then rename).
pub fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&temporary)?;
    file.write_all(contents)?;
    file.sync_all()?;
    std::fs::rename(&temporary, path)
}

/// Today, in UTC.
pub fn today() -> meldpunt_crypto::Day {
    meldpunt_crypto::Day::from(time::OffsetDateTime::now_utc().date())
}
