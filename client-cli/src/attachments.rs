//! Attachments: removing identifying metadata from images, sealing and uploading in a
//! stream (constant memory, no plaintext temporary files), downloading and opening.
//!
//! JPEG and PNG files lose their EXIF, XMP, IPTC, comments and text chunks (GPS position,
//! camera serial number, author, software, dates) before sealing (`meldpunt-metadata`), and
//! the CLI says so. Other
//! files are sealed as they are, with a warning that their own metadata may identify the
//! reporter.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use meldpunt_crypto::{AttachmentReference, IdentityKey, RecipientKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};
use crate::relay::{Credential, Relay, Upload};

/// Where an attachment's content comes from.
enum Source {
    /// A file streamed from disk.
    File(PathBuf),
    /// An image with its metadata removed, in memory.
    Cleaned(Zeroizing<Vec<u8>>),
}

/// An attachment ready to be referenced by a message and uploaded.
pub struct Planned {
    /// The reference to put into the message.
    pub reference: AttachmentReference,
    source: Source,
}

impl std::fmt::Debug for Planned {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "Planned({}, {} bytes)",
            self.reference.name, self.reference.size
        )
    }
}

/// What planning said to the user.
pub fn describe_cleaning(name: &str, cleaned: bool) -> String {
    if cleaned {
        format!(
            "{name}: removed the photo's metadata (EXIF with GPS position and camera, XMP, IPTC, \
             comments and text, colour profile, thumbnails, and any image or video appended to it) \
             before sealing; the picture itself is sealed as it is"
        )
    } else {
        format!(
            "{name}: WARNING: this file's own metadata (author, organisation, software, dates, edit history) \
             may identify you and is sealed as it is; remove it first if you can"
        )
    }
}

/// Prepares a file: reads it (cleaning images unless `keep_metadata`), computes its digest,
/// and picks a random attachment id. Returns the plan and a line to tell the user.
pub fn plan(path: &Path, keep_metadata: bool) -> Result<(Planned, String)> {
    let name = path
        .file_name()
        .and_then(|name| name.to_str())
        .ok_or_else(|| CliError::Usage(format!("{} has no usable file name", path.display())))?
        .to_owned();
    let mut file = File::open(path).map_err(|error| CliError::file(path, error))?;
    let mut head = [0u8; 8];
    let read = file
        .read(&mut head)
        .map_err(|error| CliError::file(path, error))?;
    let kind = meldpunt_metadata::kind(&head[..read], &name);
    let (source, cleaned) = match (kind, keep_metadata) {
        (meldpunt_metadata::Kind::Jpeg | meldpunt_metadata::Kind::Png, false) => {
            let bytes =
                Zeroizing::new(std::fs::read(path).map_err(|error| CliError::file(path, error))?);
            match meldpunt_metadata::strip(kind, &bytes) {
                Some(stripped) => (Source::Cleaned(stripped), true),
                None => {
                    return Err(CliError::Usage(format!(
                        "{} looks like an image but cannot be read to remove its metadata; \
                         send it with --keep-metadata only if you are sure it holds nothing identifying",
                        path.display()
                    )))
                }
            }
        }
        (meldpunt_metadata::Kind::MisnamedImage, false) => {
            return Err(CliError::Usage(format!(
            "{} is named like an image but is not a JPEG or PNG; rename it or use --keep-metadata",
            path.display()
        )))
        }
        _ => (Source::File(path.to_owned()), false),
    };
    let (size, sha256) = match &source {
        Source::Cleaned(bytes) => (bytes.len() as u64, Sha256::digest(&bytes[..]).into()),
        Source::File(path) => {
            let mut reader =
                BufReader::new(File::open(path).map_err(|error| CliError::file(path, error))?);
            let mut digest = Sha256::new();
            let size = std::io::copy(&mut reader, &mut digest)
                .map_err(|error| CliError::file(path, error))?;
            (size, digest.finalize().into())
        }
    };
    let reference = AttachmentReference {
        name: name.clone(),
        size,
        sha256,
        location: meldpunt_crypto::AttachmentId::generate().to_wire(),
    };
    Ok((
        Planned { reference, source },
        describe_cleaning(&name, cleaned),
    ))
}

/// Plans every file, telling the user (on standard error) what happens to its metadata.
pub fn plan_files(files: &[PathBuf], keep_metadata: bool) -> Result<Vec<Planned>> {
    files
        .iter()
        .map(|path| {
            let (planned, note) = plan(path, keep_metadata)?;
            eprintln!("{note}");
            Ok(planned)
        })
        .collect()
}

/// Prepares a file given as its bytes (a file chosen in the office app): images lose their
/// metadata unless `keep_metadata`, as with [`plan`].
pub fn plan_bytes(name: &str, bytes: Zeroizing<Vec<u8>>, keep_metadata: bool) -> Result<Planned> {
    let kind = meldpunt_metadata::kind(&bytes[..bytes.len().min(8)], name);
    let bytes = match (kind, keep_metadata) {
        (meldpunt_metadata::Kind::Jpeg | meldpunt_metadata::Kind::Png, false) => {
            meldpunt_metadata::strip(kind, &bytes).ok_or_else(|| {
                CliError::Usage(format!(
                    "{name} looks like an image but cannot be read to remove its metadata"
                ))
            })?
        }
        (meldpunt_metadata::Kind::MisnamedImage, false) => {
            return Err(CliError::Usage(format!(
                "{name} is named like an image but is not a JPEG or PNG; rename it"
            )))
        }
        _ => bytes,
    };
    let reference = AttachmentReference {
        name: name.to_owned(),
        size: bytes.len() as u64,
        sha256: Sha256::digest(&bytes[..]).into(),
        location: meldpunt_crypto::AttachmentId::generate().to_wire(),
    };
    Ok(Planned {
        reference,
        source: Source::Cleaned(bytes),
    })
}

/// A progress bar on standard error, or a hidden one when that is not a terminal.
pub fn progress(length: u64, message: &str) -> ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(length);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.set_message(message.to_owned());
    bar
}

impl Planned {
    /// Seals the content to `recipients` while uploading it (through a pipe: nothing is held
    /// whole in memory and no temporary file is written).
    pub fn upload(
        self,
        relay: &Relay,
        target: Upload<'_>,
        recipients: &[RecipientKey],
    ) -> Result<()> {
        let id = meldpunt_crypto::AttachmentId::from_wire(&self.reference.location)?;
        let (reader, writer) =
            std::io::pipe().map_err(|error| CliError::Local(error.to_string()))?;
        let reference = self.reference.clone();
        let recipients = recipients.to_vec();
        let bar = progress(
            reference.size,
            &format!("sealing and sending {}", reference.name),
        );
        let sealer = std::thread::spawn(move || -> Result<()> {
            let counted = bar.wrap_write(writer);
            let (sealed, _) = match self.source {
                Source::Cleaned(bytes) => AttachmentReference::seal_stream(
                    &recipients,
                    &reference.name,
                    &reference.location,
                    &bytes[..],
                    reference.size,
                    counted,
                ),
                Source::File(path) => {
                    let file = BufReader::new(
                        File::open(&path).map_err(|error| CliError::file(&path, error))?,
                    );
                    AttachmentReference::seal_stream(
                        &recipients,
                        &reference.name,
                        &reference.location,
                        file,
                        reference.size,
                        counted,
                    )
                }
            }
            .map_err(|error| match error {
                meldpunt_crypto::Error::ContentLength { .. } => CliError::Usage(format!(
                    "{} changed while it was being sent",
                    reference.name
                )),
                other => CliError::from(other),
            })?;
            if sealed.sha256 != reference.sha256 {
                return Err(CliError::Usage(format!(
                    "{} changed while it was being sent",
                    reference.name
                )));
            }
            bar.finish_and_clear();
            Ok(())
        });
        let upload = relay.upload_attachment(target, &id, reader);
        let sealing = sealer
            .join()
            .map_err(|_| CliError::Local("the sealing thread failed".into()))?;
        sealing?;
        upload.map(drop).map_err(CliError::from)
    }
}

/// Downloads and opens an attachment into `directory`, verifying size and digest; returns
/// the file written (a numbered name if the name is taken). Nothing is left on failure.
pub fn download(
    relay: &Relay,
    credential: Credential<'_>,
    reference: &AttachmentReference,
    identities: &[IdentityKey],
    directory: &Path,
) -> Result<PathBuf> {
    crate::paths::create_private_dir(directory)
        .map_err(|error| CliError::file(directory, error))?;
    let target = free_name(directory, &reference.name);
    let id = meldpunt_crypto::AttachmentId::from_wire(&reference.location)?;
    let response = relay.download_attachment(credential, &id)?;
    let bar = progress(
        response.length().unwrap_or(0),
        &format!("receiving {}", reference.name),
    );
    let reader = std::io::BufReader::new(bar.wrap_read(response));
    let mut output = tempfile::NamedTempFile::new_in(directory)
        .map_err(|error| CliError::file(directory, error))?;
    reference.open_stream(identities, reader, &mut output)?;
    bar.finish_and_clear();
    output
        .persist_noclobber(&target)
        .map_err(|error| CliError::file(&target, error.error))?;
    Ok(target)
}

/// Downloads and opens an attachment into `output` as it arrives, verifying size and digest
/// at the end (on failure, what was written must be discarded: the office app's download
/// then breaks off, and the browser marks it failed).
pub fn open_into(
    relay: &Relay,
    credential: Credential<'_>,
    reference: &AttachmentReference,
    identities: &[IdentityKey],
    output: impl std::io::Write,
) -> Result<()> {
    let id = meldpunt_crypto::AttachmentId::from_wire(&reference.location)?;
    let response = relay.download_attachment(credential, &id)?;
    reference.open_stream(identities, std::io::BufReader::new(response), output)?;
    Ok(())
}

/// `name` in `directory`, or `name (2)`, `name (3)`… if taken.
pub fn free_name(directory: &Path, name: &str) -> PathBuf {
    let candidate = directory.join(name);
    if !candidate.exists() {
        return candidate;
    }
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() => (stem, format!(".{extension}")),
        _ => (name, String::new()),
    };
    (2..)
        .map(|number| directory.join(format!("{stem} ({number}){extension}")))
        .find(|path| !path.exists())
        .expect("some number is free")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_do_not_overwrite() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::write(directory.path().join("a.pdf"), b"x").unwrap();
        assert_eq!(
            free_name(directory.path(), "a.pdf"),
            directory.path().join("a (2).pdf")
        );
        assert_eq!(
            free_name(directory.path(), "b.pdf"),
            directory.path().join("b.pdf")
        );
    }
}
