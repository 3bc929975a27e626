//! The files and folders the relay creates: its owner's only — folders 0700, files 0600 —
//! whatever the umask it was started with. This module never creates anything another user
//! of the machine can read, and never replaces a file it was asked to create new.

use std::fs;
use std::io::Write as _;
use std::path::Path;

/// Creates a folder and its missing parents, each 0700; a folder that exists already is
/// left as it is.
pub(crate) fn create_private_dir(path: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(path)
}

/// Opens a new file, 0600, refusing one that exists.
pub(crate) fn create_private_file(path: &Path) -> std::io::Result<fs::File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes a new file, 0600, synced; refuses one that exists.
pub(crate) fn write_new_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let mut file = create_private_file(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

/// Writes `contents` to `path`, 0600, replacing what was there atomically (a temporary
/// file beside it, renamed over it).
pub(crate) fn replace_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    let temporary = path.with_extension("tmp");
    let _ = fs::remove_file(&temporary);
    write_new_private(&temporary, contents)?;
    fs::rename(&temporary, path)
}

/// A new backup file at `target`, 0600, or what to tell its user when it cannot be made
/// (it exists, its folder does not, …), with the path.
pub(crate) fn create_backup_file(target: &Path) -> Result<fs::File, String> {
    create_private_file(target).map_err(|error| match error.kind() {
        std::io::ErrorKind::AlreadyExists => format!(
            "{} exists already; choose a new backup file",
            target.display()
        ),
        std::io::ErrorKind::NotFound => format!(
            "cannot create the backup file {}: its folder does not exist",
            target.display()
        ),
        _ => format!(
            "cannot create the backup file {}: {error}",
            target.display()
        ),
    })
}

/// Makes an existing file its owner's only (0600): the relay's database, say, created by a
/// library that knows nothing of modes.
pub(crate) fn make_private(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private_and_new_files_are_never_replaced() {
        let root = tempfile::tempdir().unwrap();
        let folder = root.path().join("a").join("b");
        create_private_dir(&folder).unwrap();
        assert_eq!(mode(&root.path().join("a")), 0o700);
        assert_eq!(mode(&folder), 0o700);
        let file = folder.join("secret");
        write_new_private(&file, b"one").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert!(write_new_private(&file, b"two").is_err());
        assert_eq!(fs::read(&file).unwrap(), b"one");
        replace_private(&file, b"three").unwrap();
        assert_eq!(
            (fs::read(&file).unwrap(), mode(&file)),
            (b"three".to_vec(), 0o600)
        );
        let loose = folder.join("loose");
        fs::write(&loose, b"x").unwrap();
        fs::set_permissions(&loose, fs::Permissions::from_mode(0o644)).unwrap();
        make_private(&loose).unwrap();
        assert_eq!(mode(&loose), 0o600);
    }
}
