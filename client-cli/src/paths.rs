//! Where the CLI keeps its few files: the configuration, the directory pins and the office's
//! encrypted store. `MELDPUNT_HOME` puts all of them under one folder (tests use it).
//!
//! A reporter's CLI keeps only directory pins (relay address, directory key, highest version
//! seen) — never a receipt code or anything derived from one.

use std::path::{Path, PathBuf};

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

/// Creates a folder (and its missing parents) that only its owner can enter: mode 0700.
/// A folder that exists already is left as it is.
pub fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// `contents` in a new temporary file only its owner can read (mode 0600, a random name),
/// synced, in the folder that will hold `path` (made 0700 if missing).
fn written_beside(path: &Path, contents: &[u8]) -> std::io::Result<tempfile::NamedTempFile> {
    use std::io::Write;
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    create_private_dir(parent)?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".meldpunt-")
        .suffix(".tmp")
        .tempfile_in(parent)?;
    temporary.write_all(contents)?;
    temporary.as_file().sync_all()?;
    Ok(temporary)
}

/// Writes a file only its owner can read (mode 0600), atomically: into a temporary file
/// with a unique name beside it, synced, then renamed over the target. Concurrent writers
/// never see or leave a half-written file, and never trip over each other's temporary file.
pub fn write_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    written_beside(path, contents)?
        .persist(path)
        .map_err(|error| error.error)?;
    Ok(())
}

/// Writes a new file only its owner can read (mode 0600), refusing to replace one that
/// exists: written into a temporary file beside it and linked into place without clobbering.
pub fn create_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    written_beside(path, contents)?
        .persist_noclobber(path)
        .map_err(|error| error.error)?;
    Ok(())
}

/// An exclusive lock on a file beside the data it guards (`pins.lock`, the store's `lock`),
/// held until dropped. Commands that read, change and write the same file take it first, so
/// that concurrent commands wait for each other instead of losing each other's changes.
#[derive(Debug)]
pub struct FileLock(#[allow(dead_code)] std::fs::File);

impl FileLock {
    /// Waits for and takes the lock at `path` (created, mode 0600, if missing).
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        if let Some(parent) = path.parent() {
            create_private_dir(parent)?;
        }
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options.open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                eprintln!(
                    "Waiting for another meldpunt command that uses {}…",
                    path.parent().unwrap_or(path).display()
                );
                file.lock()?;
            }
            Err(std::fs::TryLockError::Error(error)) => return Err(error),
        }
        Ok(FileLock(file))
    }
}
