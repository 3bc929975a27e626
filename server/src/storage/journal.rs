//! The journal of new reports: lets a batch of new mailboxes be durable with one small
//! append and one `fdatasync`, instead of a durable commit of every B-tree page it touched.
//!
//! A batch made only of new reports (and chunks of uploads in progress) appends one entry per
//! report to this file, flushes it, and only then commits to redb *without* a flush; its
//! callers hear "stored" after both. From time to time (a few MiB of entries, a second, or a
//! moment without writes) the writer commits redb durably, which makes every earlier commit
//! durable too, and starts the journal again under the next generation. Any batch with a
//! write that is not a new report commits durably as before.
//!
//! After a crash, redb opens at its last durable commit, which names the journal generation
//! that followed it. If the file is of that generation, every whole entry in it (length and
//! SHA-256 check out) is a report acknowledged since, or one in a batch that failed on its
//! way; it is stored again, in order, with the numbers it was given. The first entry that does
//! not check out is where the last append was cut off: nothing after it was acknowledged.
//! A failed batch takes its entries back out of the file before its callers hear of the
//! failure; if even that fails, the journal is given up and every batch commits durably.
//!
//! File layout: 8 bytes of magic, the store's id and the generation (u64 each, little-endian:
//! a journal of another store, say one left beside a restored backup, is never read); then
//! entries,
//! each its length (u32 LE), the first 16 bytes of the SHA-256 of its payload, and the
//! payload ([`super::mailboxes::Creation`]). The journal holds what the store holds (hashed
//! ids, organisation and recipient ids, days, sealed bytes), never a token or an address.

use std::fs::File;
use std::io::Read as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::StoreError;

const MAGIC: &[u8; 8] = b"MLDJRNL1";
const HEADER_LENGTH: u64 = 24;
const CHECK_LENGTH: usize = 16;
/// Most bytes one entry may have. Larger new reports are committed durably instead
/// ([`ENTRY_LIMIT`]); this bounds what a damaged length field makes the reader take.
const MAXIMUM_ENTRY: u32 = 2 << 20;
/// The largest sealed report that goes through the journal: a larger one commits durably, so
/// that a batch's entries stay small in memory and in the file whatever the relay's message
/// limit.
pub(super) const ENTRY_LIMIT: usize = 1 << 20;

/// The journal file, as the writer thread keeps it.
pub(super) struct Journal {
    file: File,
    path: PathBuf,
    /// The id of the store it belongs to.
    store: u64,
    generation: u64,
    /// Where the next entry goes: the end of the last append that succeeded.
    end: u64,
    /// When the first entry of this generation was appended.
    first_entry: Option<Instant>,
    /// Set when a failed append could not be taken back: the journal is not used again, and
    /// every batch commits durably.
    given_up: bool,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Journal")
            .field("generation", &self.generation)
            .field("end", &self.end)
            .finish()
    }
}

impl Journal {
    /// Opens (or creates, mode 0600) the journal at `path`, and reads the entries of the
    /// store `store`'s generation `generation`, the one its last durable commit named: the
    /// payloads of every whole entry, in order. A file of another store or generation holds
    /// nothing to store again.
    pub(super) fn open(
        path: &Path,
        store: u64,
        generation: u64,
    ) -> Result<(Journal, Vec<Vec<u8>>), StoreError> {
        // Created 0600 first (and kept so), then opened to read and write; a new file's
        // name is flushed with its folder, so that reports acknowledged through it are found.
        match crate::files::create_private_file(path) {
            Ok(_) => {
                if let Some(folder) = path.parent() {
                    File::open(folder)?.sync_all()?;
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                crate::files::make_private(path)?
            }
            Err(error) => return Err(error.into()),
        }
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)?;
        let mut bytes = Vec::new();
        (&file).read_to_end(&mut bytes)?;
        let entries = entries_of(&bytes, store, generation);
        let read = HEADER_LENGTH as usize
            + entries
                .iter()
                .map(|payload| 4 + CHECK_LENGTH + payload.len())
                .sum::<usize>();
        if !entries.is_empty() && bytes.len() > read {
            tracing::warn!(
                "the journal of new reports ends in {} bytes that are not a whole entry: an append a crash cut off, never acknowledged, and dropped",
                bytes.len() - read
            );
        }
        let journal = Journal {
            file,
            path: path.to_owned(),
            store,
            generation,
            end: bytes.len() as u64,
            first_entry: None,
            given_up: false,
        };
        Ok((journal, entries))
    }

    /// The generation entries are appended under.
    pub(super) fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether batches of new reports may use the journal.
    pub(super) fn usable(&self) -> bool {
        !self.given_up
    }

    /// Whether it holds entries that no durable commit covers yet.
    pub(super) fn holds_entries(&self) -> bool {
        self.first_entry.is_some()
    }

    /// Whether it is time for a durable commit: `bytes` of entries, or entries older than
    /// `age`.
    pub(super) fn due(&self, bytes: u64, age: std::time::Duration) -> bool {
        self.end > HEADER_LENGTH + bytes
            || self.first_entry.is_some_and(|first| first.elapsed() >= age)
    }

    /// Appends `payloads` and flushes them to the disk. On failure nothing of them stays in
    /// the file (or the journal is given up, see [`Journal::usable`]).
    pub(super) fn append(&mut self, payloads: &[Vec<u8>]) -> Result<(), StoreError> {
        if self.given_up {
            return Err(StoreError::Failed("the journal was given up".into()));
        }
        let mut bytes = Vec::with_capacity(
            payloads
                .iter()
                .map(|payload| payload.len() + 4 + CHECK_LENGTH)
                .sum(),
        );
        for payload in payloads {
            let length = u32::try_from(payload.len())
                .ok()
                .filter(|length| *length <= MAXIMUM_ENTRY)
                .ok_or_else(|| StoreError::Failed("a journal entry is too large".into()))?;
            bytes.extend_from_slice(&length.to_le_bytes());
            bytes.extend_from_slice(&Sha256::digest(payload)[..CHECK_LENGTH]);
            bytes.extend_from_slice(payload);
        }
        let written = self
            .file
            .write_all_at(&bytes, self.end)
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.end += bytes.len() as u64;
                self.first_entry.get_or_insert_with(Instant::now);
                Ok(())
            }
            Err(error) => {
                self.take_back_to(self.end);
                Err(error.into())
            }
        }
    }

    /// Takes the last append back out (its batch failed after it): the file ends where it
    /// ended before.
    pub(super) fn take_back(&mut self, before: u64) {
        self.take_back_to(before);
    }

    /// Where the file ends now.
    pub(super) fn end(&self) -> u64 {
        self.end
    }

    fn take_back_to(&mut self, end: u64) {
        match self.file.set_len(end).and_then(|()| self.file.sync_data()) {
            Ok(()) => self.end = end,
            Err(error) => {
                tracing::error!(
                    "the journal of new reports could not be cut back ({error}); every write now commits durably"
                );
                self.given_up = true;
                // The failed batch's entries must not be stored after a restart: spoil the
                // header if the file still takes a write, and have the writer commit durably
                // at once, which moves the store past this generation either way.
                let _ = self
                    .file
                    .write_all_at(&[0; 8], 0)
                    .and_then(|()| self.file.sync_data());
                self.first_entry.get_or_insert_with(Instant::now);
            }
        }
    }

    /// Starts generation `generation`, once a durable commit naming it has succeeded: the
    /// entries of the last one are covered by that commit.
    pub(super) fn start(&mut self, generation: u64) {
        let mut header = Vec::with_capacity(HEADER_LENGTH as usize);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&self.store.to_le_bytes());
        header.extend_from_slice(&generation.to_le_bytes());
        let started = self
            .file
            .set_len(0)
            .and_then(|()| self.file.write_all_at(&header, 0));
        match started {
            Ok(()) => {
                self.generation = generation;
                self.end = HEADER_LENGTH;
                self.first_entry = None;
            }
            Err(error) => {
                // The file may still carry the last generation: entries appended to it would
                // not be read after a crash. Never append to it again. What it holds is
                // covered by the durable commit that named the next generation.
                if !self.given_up {
                    tracing::error!(
                        "the journal of new reports at {} could not be started again ({error}); every write now commits durably",
                        self.path.display()
                    );
                }
                self.given_up = true;
                self.first_entry = None;
            }
        }
    }
}

/// The payloads of the whole entries of `bytes` if it is a journal of `store`'s
/// `generation`, up to the first entry that does not check out.
fn entries_of(bytes: &[u8], store: u64, generation: u64) -> Vec<Vec<u8>> {
    let mut entries = Vec::new();
    if bytes.len() < HEADER_LENGTH as usize
        || &bytes[..8] != MAGIC
        || bytes[8..16] != store.to_le_bytes()
        || bytes[16..24] != generation.to_le_bytes()
    {
        return entries;
    }
    let mut rest = &bytes[HEADER_LENGTH as usize..];
    while rest.len() >= 4 + CHECK_LENGTH {
        let length = u32::from_le_bytes(rest[..4].try_into().expect("4 bytes"));
        if length > MAXIMUM_ENTRY || rest.len() < 4 + CHECK_LENGTH + length as usize {
            break;
        }
        let check = &rest[4..4 + CHECK_LENGTH];
        let payload = &rest[4 + CHECK_LENGTH..4 + CHECK_LENGTH + length as usize];
        if Sha256::digest(payload)[..CHECK_LENGTH] != *check {
            break;
        }
        entries.push(payload.to_vec());
        rest = &rest[4 + CHECK_LENGTH + length as usize..];
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    fn payloads() -> Vec<Vec<u8>> {
        vec![b"first".to_vec(), vec![7; 5000], b"third".to_vec()]
    }

    #[test]
    fn whole_entries_of_the_named_generation_come_back_and_a_cut_entry_ends_them() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.journal");
        let (mut journal, found) = Journal::open(&path, 77, 3).unwrap();
        assert!(found.is_empty());
        journal.start(3);
        journal.append(&payloads()).unwrap();
        let whole = std::fs::read(&path).unwrap();
        assert_eq!(entries_of(&whole, 77, 3), payloads());
        // Another generation: a durable commit covered these entries.
        assert!(entries_of(&whole, 77, 4).is_empty());
        // Another store's journal (left beside a restored backup, say).
        assert!(entries_of(&whole, 78, 3).is_empty());
        // Cut at every point: the entries before the cut, never a part of one.
        let boundaries = [24, 24 + 20 + 5, 24 + 20 + 5 + 20 + 5000, whole.len()];
        for cut in 0..=whole.len() {
            let found = entries_of(&whole[..cut], 77, 3);
            let expected = boundaries
                .iter()
                .filter(|end| **end <= cut)
                .count()
                .saturating_sub(1);
            assert_eq!(found, payloads()[..expected], "cut at {cut}");
        }
        // A flipped byte in the second entry ends the entries there.
        let mut spoiled = whole.clone();
        spoiled[24 + 20 + 5 + 20 + 100] ^= 1;
        assert_eq!(entries_of(&spoiled, 77, 3), payloads()[..1]);
    }

    #[test]
    fn a_taken_back_append_leaves_the_file_as_it_was_and_a_new_generation_starts_empty() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("store.journal");
        let (mut journal, _) = Journal::open(&path, 5, 0).unwrap();
        journal.start(1);
        journal.append(&payloads()[..1]).unwrap();
        let before = journal.end();
        journal.append(&payloads()[1..]).unwrap();
        journal.take_back(before);
        drop(journal);
        let (mut journal, found) = Journal::open(&path, 5, 1).unwrap();
        assert_eq!(found, payloads()[..1]);
        journal.start(2);
        drop(journal);
        let (_, found) = Journal::open(&path, 5, 2).unwrap();
        assert!(found.is_empty());
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
