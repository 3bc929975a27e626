//! Durable storage in one redb file, with group commit.
//!
//! All writes go through one writer thread. It takes every write that is waiting, applies
//! them in one transaction and commits it durably (fsync) once; only then does each caller
//! hear "done". So a success answered to a client is always on disk (invariant 7), and under
//! load hundreds of writes share one fsync. A write that is *refused* (say, a mailbox that
//! exists already) must refuse before it changes anything, so the others in its batch are
//! unaffected; a storage failure abandons the whole batch and every caller hears of it.
//!
//! What is stored: mailbox ids (hashes of tokens), organisation ids, sealed objects, days
//! (never times of day), hashes of office session tokens, spent stamp nonces. This module
//! must never store a token, an address or a plaintext.
//!
//! Per new report the writer touches four trees: the mailbox's (at its random id), and the
//! organisation's messages, their sealed bodies (in page-filling fragments, in a table of
//! the organisation's own) and each recipient's index (all three at their ends); with
//! proof-of-work, the spent stamps too.
//!
//! Here: the tables and their records. By job: `writer` (the group commit and the numbers
//! each organisation gives its messages), `mailboxes` (mailboxes and messages),
//! `attachments`, `sessions` (office sessions), `maintenance` (retention, backup, counts,
//! upgrades of older store formats).

use std::path::Path;
use std::sync::Arc;

use redb::{Database, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

mod attachments;
mod backend;
mod case_records;
mod error;
mod hand_overs;
mod journal;
mod mailboxes;
mod maintenance;
mod postgres;
mod sessions;
#[cfg(test)]
mod tests;
mod writer;

pub(crate) use backend::Storage;
pub(crate) use case_records::CaseRecordEntry;
pub(crate) use error::StoreError;
pub(crate) use hand_overs::HandOverRecord;
pub(crate) use mailboxes::EarlierMailboxes;
use maintenance::upgrade;
pub(crate) use postgres::{PostgresStore, SCHEMA_VERSION as POSTGRES_SCHEMA_VERSION};
use writer::{writer_loop, Job, Numbers};

/// The counter naming the journal generation that follows the last durable commit (see
/// [`journal`]).
const JOURNAL_GENERATION: &str = "journal_generation";
/// The counter holding the store's random id, which its journal carries.
const STORE_ID: &str = "store_id";

/// mailbox id → [`MailboxRecord`] (JSON).
const MAILBOXES: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("mailboxes");
/// Each organisation's sealed messages are in a table of their own, named this and the
/// organisation's id: (message number, fragment) → a piece of the message's sealed bytes, of
/// [`FRAGMENT_LENGTH`] bytes but the last. A sealed report is a little over 4 KiB; whole,
/// each took a B-tree page of its own rounded up to 8 KiB, half of it empty. In fragments they
/// fill the leaves one after another, and a table per organisation keeps every new body at
/// the end of its tree (in one table for all, every organisation but the last in key order
/// would append in the middle, where a full leaf splits in halves that stay half empty),
/// without ordering one organisation's messages against another's.
const SEALED_TABLE_PREFIX: &str = "sealed/";
/// Bytes of one fragment of a sealed message: four, with their 12-byte keys and the leaf's
/// offsets (4 bytes each) and header, fill a 4 KiB page (4 + 4 × (4 + 12 + 1000) = 4,068).
const FRAGMENT_LENGTH: usize = 1000;
/// Store formats 2 and 3 only: (organisation, message number) → sealed bytes, whole. Split
/// into each organisation's table ([`SEALED_TABLE_PREFIX`]) when such a store is opened.
const FORMAT_3_SEALED_MESSAGES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("sealed_messages");
/// Store format 1 only: relay-wide message number → sealed bytes. Moved into
/// [`FORMAT_3_SEALED_MESSAGES`] when a format 1 store is opened.
const FORMAT_1_BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("message_bodies");
/// Store formats 1 to 3 only: (mailbox id, position in mailbox) → [`MessageRecord`] (JSON),
/// the reporter's view: a second copy of each record, at a random place in the tree (mailbox
/// ids are random), written with every message. Format 4 keeps each mailbox's message
/// numbers in its [`MailboxRecord`] instead; the table is folded into it and deleted when an
/// older store is opened.
const FORMAT_3_MAILBOX_MESSAGES: TableDefinition<([u8; 32], u32), &[u8]> =
    TableDefinition::new("mailbox_messages");
/// (organisation, message number) → [`MessageRecord`] (JSON): the office's view. Numbers
/// count per organisation, so nothing stored orders one organisation's messages against
/// another's.
const ORGANISATION_MESSAGES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("organisation_messages");
/// attachment id → [`AttachmentRecord`] (JSON).
/// Each recipient's own numbering of the messages addressed to it (organisation, recipient,
/// its number) → (the organisation's number, whether this recipient marked it fetched): an
/// office session lists, counts, fetches and marks only through its recipient's.
const RECIPIENT_MESSAGES: TableDefinition<(&str, &str, u64), (u64, bool)> =
    TableDefinition::new("recipient_messages");
const ATTACHMENTS: TableDefinition<[u8; 16], &[u8]> = TableDefinition::new("attachments");
/// (organisation, recipient, its hand-over number) → [`hand_overs::HandOverRecord`] (JSON):
/// messages of a case one member of a recipient handed to a colleague of it.
const HAND_OVERS: TableDefinition<(&str, &str, u64), &[u8]> = TableDefinition::new("hand_overs");
/// (organisation, recipient, its hand-over number) → sealed bytes.
const HAND_OVER_BODIES: TableDefinition<(&str, &str, u64), &[u8]> =
    TableDefinition::new("hand_over_bodies");
/// (organisation, recipient, its case record number) → [`case_records::CaseRecordEntry`]
/// (JSON): the office's shared records of a case, in each addressed recipient's numbering.
const CASE_RECORDS: TableDefinition<(&str, &str, u64), &[u8]> =
    TableDefinition::new("case_records");
/// (mailbox id, the record's place among the mailbox's records) → sealed bytes.
const CASE_RECORD_BODIES: TableDefinition<([u8; 32], u32), &[u8]> =
    TableDefinition::new("case_record_bodies");
/// (attachment id, chunk index) → sealed bytes.
const ATTACHMENT_CHUNKS: TableDefinition<([u8; 16], u32), &[u8]> =
    TableDefinition::new("attachment_chunks");
/// Format 2 keeps a table by format 1's body table's name, with another type, so that a
/// relay of format 1 refuses this store instead of numbering from 1 again over it.
const FORMAT_1_GUARD: TableDefinition<&str, &str> = TableDefinition::new("message_bodies");
/// Store format 1 only: hash of a challenge answer → grant. Challenges now wait in memory
/// (see `abuse::PendingChallenges`); the table is deleted when a format 1 store is opened.
const FORMAT_1_CHALLENGES: TableDefinition<[u8; 32], &[u8]> =
    TableDefinition::new("office_challenges");
/// hash of a session token → [`Grant`] (JSON).
const SESSIONS: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("office_sessions");
/// spent stamp nonce → expiry (Unix seconds).
const SPENT_STAMPS: TableDefinition<[u8; 16], u64> = TableDefinition::new("spent_stamps");
/// name → value: `store_format`; `next_message/ORGANISATION`, the next number of that
/// organisation's messages; and [`FIRST_NUMBER`].
const COUNTERS: TableDefinition<&str, u64> = TableDefinition::new("counters");
/// Where an organisation's numbering starts when it has no counter yet: 1, or above every
/// number a format 1 store gave out.
const FIRST_NUMBER: &str = "first_number";
/// The layout this code reads and writes. 1: bodies by relay-wide number; 2: by organisation
/// number; 3: walls between recipients; 4: a mailbox's messages listed in its own record (each
/// older format is brought to this one at open).
const STORE_FORMAT: u64 = 4;
/// Set (1) while a store upgraded to format 3 waits for the relay to address its earlier
/// mailboxes and start its recipients' numbering (at start, from its directory:
/// [`Store::address_earlier_mailboxes`]).
const WALLS_PENDING: &str = "walls_pending";

/// Size of one stored attachment chunk: 64 bytes short of 256 KiB, so that a chunk with its
/// key and the leaf's header fits one 256 KiB page (a whole 256 KiB took a 512 KiB page,
/// half of it empty: redb gives a leaf the next power of two).
pub(crate) const CHUNK_LENGTH: usize = 256 * 1024 - 64;
/// Most writes applied in one transaction.
const MAXIMUM_BATCH: usize = 512;
/// redb's page cache (read cache, and half of it for pages of non-durable commits). The
/// default (1 GiB) is far more than a relay on a small machine needs; the writes' hot pages
/// (each tree's right-most path, the mailboxes' branches) fit in far less, and the kernel's
/// page cache serves the rest. At 64 MiB, serving one large attachment filled it with its
/// chunks, and the relay grew to 130 MiB.
const CACHE_BYTES: usize = 16 << 20;

/// Who wrote a message: the protocol's own type, stored as `reporter` or `office`.
pub(crate) use meldpunt_crypto::Author;

/// A mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MailboxRecord {
    /// The recipient organisation.
    pub organisation: String,
    /// The recipients (ids within the organisation) the reporter addressed it to: only
    /// their office sessions see it. Empty only for a mailbox from before store format 3
    /// that the relay has not yet addressed (then nobody's session sees it).
    #[serde(default)]
    pub recipients: Vec<String>,
    /// Day created.
    pub created: u32,
    /// Day of the last write.
    pub last_activity: u32,
    /// Messages in it.
    pub messages: u32,
    /// Attachments the reporter stored in it (before hand-overs, the office's too). Always
    /// written: relays before issue 19 require it, and may share a PostgreSQL database with
    /// this one during a rolling upgrade.
    #[serde(default)]
    pub attachments: u32,
    /// Attachments the office stored in it (attachments of replies, and copies handed over
    /// to a colleague): counted apart, so that neither side can use up the other's.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub office_attachments: u32,
    /// Sealed bytes the reporter stored in it (messages and attachments).
    #[serde(default)]
    pub reporter_bytes: u64,
    /// Sealed bytes the office stored in it (hand-overs included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub office_bytes: u64,
    /// Its hand-overs: (recipient, that recipient's hand-over number).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hand_overs: Vec<(String, u64)>,
    /// How many case records (the office's shared state of the case) it holds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub case_records: u32,
    /// Its case records' numbers: (recipient, that recipient's record number).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub case_record_numbers: Vec<(String, u64)>,
    /// The organisation's number of each of its messages, by position (the first message's
    /// first): the reporter's view of the mailbox, kept here so that a new message writes
    /// no index of its own at a random place in the store.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_numbers: Vec<u64>,
}

impl MailboxRecord {
    /// A new mailbox of `organisation`, addressed to `recipients`, made on `day`, holding
    /// nothing yet.
    pub(crate) fn new(organisation: String, recipients: Vec<String>, day: u32) -> MailboxRecord {
        MailboxRecord {
            organisation,
            recipients,
            created: day,
            last_activity: day,
            messages: 0,
            attachments: 0,
            office_attachments: 0,
            reporter_bytes: 0,
            office_bytes: 0,
            hand_overs: Vec::new(),
            case_records: 0,
            case_record_numbers: Vec::new(),
            message_numbers: Vec::new(),
        }
    }

    /// The organisation's number of the message at `position` (from 1).
    pub(crate) fn message_number(&self, position: u32) -> Option<u64> {
        let index = usize::try_from(position.checked_sub(1)?).ok()?;
        self.message_numbers.get(index).copied()
    }

    /// Whether an office session for `scope` may see and write this mailbox.
    pub(crate) fn addressed_to(&self, scope: &RecipientScope) -> bool {
        self.organisation == scope.organisation && self.recipients.contains(&scope.recipient)
    }

    /// The bytes `author` has stored in this mailbox: each side has its own quota, so that
    /// neither can use up the other's room.
    fn used_by(&mut self, author: Author) -> &mut u64 {
        match author {
            Author::Reporter => &mut self.reporter_bytes,
            Author::Office => &mut self.office_bytes,
        }
    }

    /// Counts `bytes` more for `author`, or refuses if that passes the quota.
    fn take(&mut self, author: Author, bytes: u64, quota: u64) -> Result<(), StoreError> {
        let used = self.used_by(author);
        match used.checked_add(bytes) {
            Some(total) if total <= quota => {
                *used = total;
                Ok(())
            }
            _ => Err(StoreError::MailboxFull("bytes")),
        }
    }

    /// The attachments `author` has stored in this mailbox.
    pub(crate) fn attachments_of(&mut self, author: Author) -> &mut u32 {
        match author {
            Author::Reporter => &mut self.attachments,
            Author::Office => &mut self.office_attachments,
        }
    }

    /// Refuses a write by an office session (`office`) to a mailbox not addressed to its
    /// recipient: as if there were no such mailbox.
    pub(crate) fn reachable_by(&self, office: Option<&RecipientScope>) -> Result<(), StoreError> {
        match office {
            Some(scope) if !self.addressed_to(scope) => Err(StoreError::MailboxNotFound),
            _ => Ok(()),
        }
    }

    /// Refuses one more message when the mailbox holds as many as allowed.
    pub(crate) fn room_for_a_message(&self, limits: &MailboxLimits) -> Result<(), StoreError> {
        if self.messages >= limits.messages {
            return Err(StoreError::MailboxFull("messages"));
        }
        Ok(())
    }

    /// Holds room in `author`'s quota for an upload: its declared size, or as much as one
    /// attachment may have when none was declared, or what is left if that is less; counts
    /// the attachment. Returns the room held, the most the upload may send.
    pub(crate) fn reserve_attachment(
        &mut self,
        author: Author,
        limits: &MailboxLimits,
        declared: Option<u64>,
    ) -> Result<u64, StoreError> {
        if *self.attachments_of(author) >= limits.attachments_of(author) {
            return Err(StoreError::MailboxFull("attachments"));
        }
        let room = limits.bytes.saturating_sub(*self.used_by(author));
        let reserved = match declared {
            Some(size) => size,
            None if room == 0 => return Err(StoreError::MailboxFull("bytes")),
            None => limits.attachment_bytes.min(room),
        };
        self.take(author, reserved, limits.bytes)?;
        *self.attachments_of(author) += 1;
        Ok(reserved)
    }

    /// Who a hand-over posted by `scope`'s session goes to: a colleague of its own
    /// recipient, or (`to`) another recipient the mailbox is addressed to; refuses a mailbox
    /// the session does not reach, and a hand-over past the mailbox's limit. Counts its
    /// `size` against the office's quota.
    pub(crate) fn admit_hand_over(
        &mut self,
        scope: RecipientScope,
        to: Option<String>,
        size: u64,
        limits: &MailboxLimits,
    ) -> Result<RecipientScope, StoreError> {
        if !self.addressed_to(&scope) {
            return Err(StoreError::MailboxNotFound);
        }
        let scope = match to {
            Some(recipient) if recipient != scope.recipient => {
                let target = RecipientScope {
                    organisation: scope.organisation.clone(),
                    recipient,
                };
                if !self.addressed_to(&target) {
                    return Err(StoreError::MailboxNotFound);
                }
                target
            }
            _ => scope,
        };
        if self.hand_overs.len() >= limits.hand_overs() {
            return Err(StoreError::MailboxFull("hand-overs"));
        }
        self.take(Author::Office, size, limits.bytes)?;
        Ok(scope)
    }

    /// Admits a case record of `size` bytes by `scope`'s session: refuses a mailbox it does
    /// not reach and a record past the limit, counts it; returns its place among the
    /// mailbox's records.
    pub(crate) fn admit_case_record(
        &mut self,
        scope: &RecipientScope,
        size: u64,
        limits: &MailboxLimits,
    ) -> Result<u32, StoreError> {
        if !self.addressed_to(scope) {
            return Err(StoreError::MailboxNotFound);
        }
        if self.case_records as usize >= limits.case_records() {
            return Err(StoreError::MailboxFull("case records"));
        }
        self.take(Author::Office, size, limits.bytes)?;
        self.case_records += 1;
        Ok(self.case_records)
    }

    /// Gives `bytes` of `author`'s quota back.
    fn release(&mut self, author: Author, bytes: u64) {
        let used = self.used_by(author);
        *used = used.saturating_sub(bytes);
    }
}

/// The entries of a table numbered per recipient ((organisation, recipient, number) → JSON)
/// that `scope`'s recipient numbers after `after`, at most `limit`, with their numbers.
fn list_numbered<T: serde::de::DeserializeOwned>(
    table: &redb::ReadOnlyTable<(&str, &str, u64), &[u8]>,
    scope: &RecipientScope,
    after: u64,
    limit: usize,
) -> Result<Vec<(u64, T)>, StoreError> {
    let (organisation, recipient) = (scope.organisation.as_str(), scope.recipient.as_str());
    let start = (organisation, recipient, after.saturating_add(1));
    let end = (organisation, recipient, u64::MAX);
    let mut found = Vec::new();
    for entry in table.range(start..=end)?.take(limit) {
        let (key, value) = entry?;
        found.push((key.value().2, decode(value.value())?));
    }
    Ok(found)
}

/// What one mailbox may hold.
#[derive(Debug, Clone, Copy)]
pub struct MailboxLimits {
    /// Messages, both sides together.
    pub messages: u32,
    /// Attachments the reporter may store; the office may store [`OFFICE_ATTACHMENT_FACTOR`]
    /// times as many (its replies' and the copies it hands over to colleagues).
    pub attachments: u32,
    /// Sealed bytes each side (reporter, office) may store.
    pub bytes: u64,
    /// Sealed bytes one attachment may have.
    pub attachment_bytes: u64,
}

/// How many times the reporter's attachments the office may store in a mailbox: each
/// hand-over of a case to a colleague copies its attachments (bytes stay bounded by the
/// office's byte quota).
pub(crate) const OFFICE_ATTACHMENT_FACTOR: u32 = 16;
/// How many times a mailbox's message limit its hand-overs may number (each hand-over of a
/// whole case to a colleague takes one per message).
pub(crate) const HAND_OVER_FACTOR: u32 = 4;
/// How many times a mailbox's message limit its case records may number (status changes,
/// assignments, labels and notes of the office team).
pub(crate) const CASE_RECORD_FACTOR: u32 = 4;

impl MailboxLimits {
    /// The attachments `author` may store in one mailbox.
    pub(crate) fn attachments_of(&self, author: Author) -> u32 {
        match author {
            Author::Reporter => self.attachments,
            Author::Office => self.attachments.saturating_mul(OFFICE_ATTACHMENT_FACTOR),
        }
    }

    /// The hand-overs one mailbox may hold.
    pub(crate) fn hand_overs(&self) -> usize {
        self.messages.saturating_mul(HAND_OVER_FACTOR) as usize
    }

    /// The case records one mailbox may hold.
    pub(crate) fn case_records(&self) -> usize {
        self.messages.saturating_mul(CASE_RECORD_FACTOR) as usize
    }
}

/// A message's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct MessageRecord {
    /// Its number within its organisation (1, 2, …), the office's cursor.
    pub number: u64,
    /// Its mailbox.
    pub mailbox: [u8; 32],
    /// Its position in the mailbox (1, 2, …).
    pub position: u32,
    /// The mailbox's organisation.
    pub organisation: String,
    /// Who wrote it.
    pub author: Author,
    /// Day stored.
    pub day: u32,
    /// Sealed size in bytes.
    pub size: u64,
    /// Whether the office session listing it marked it fetched: each recipient's own (kept in
    /// its index, filled in when listed); stored here only by stores before format 3, whose
    /// organisation-wide mark each recipient starts from.
    #[serde(default, skip_serializing)]
    pub fetched: bool,
    /// Its number in each of its mailbox's recipients' own numbering.
    #[serde(default)]
    pub recipient_numbers: std::collections::BTreeMap<String, u64>,
}

/// An attachment's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AttachmentRecord {
    /// Its mailbox (whose recipients decide which office sessions reach it).
    pub mailbox: [u8; 32],
    /// Who uploaded it.
    pub author: Author,
    /// Day stored.
    pub day: u32,
    /// Sealed size, once complete.
    pub size: u64,
    /// Number of chunks, once complete.
    pub chunks: u32,
    /// Whether the upload completed.
    pub complete: bool,
    /// Bytes of its author's quota held for it while it uploads (0 once complete).
    #[serde(default)]
    pub reserved: u64,
}

impl AttachmentRecord {
    /// An upload `author` begins into `mailbox` on `day`, holding `reserved` bytes of its
    /// quota until it completes.
    pub(crate) fn upload(
        mailbox: [u8; 32],
        author: Author,
        day: u32,
        reserved: u64,
    ) -> AttachmentRecord {
        AttachmentRecord {
            mailbox,
            author,
            day,
            size: 0,
            chunks: 0,
            complete: false,
            reserved,
        }
    }
}

/// What a challenge answer or session token grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Grant {
    /// The organisation.
    pub organisation: String,
    /// The recipient within it (a session from before walls had none, and sees nothing).
    #[serde(default)]
    pub recipient: String,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
}

impl Grant {
    /// The mailboxes it reaches.
    pub(crate) fn scope(&self) -> RecipientScope {
        RecipientScope {
            organisation: self.organisation.clone(),
            recipient: self.recipient.clone(),
        }
    }
}

/// The one recipient of one organisation an office session acts for: it lists, counts,
/// fetches and writes only in mailboxes addressed to that recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecipientScope {
    /// The organisation's id.
    pub organisation: String,
    /// The recipient's id within it.
    pub recipient: String,
}

/// Whether a count is zero: such fields are left out of a record's JSON (most mailboxes hold
/// no attachments, hand-overs or case records; every byte of a mailbox record is written at
/// a random place in the file with every new report).
fn is_zero<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|error| StoreError::Failed(format!("corrupt record: {error}")))
}

/// The relay's storage.
#[derive(Clone)]
pub(crate) struct Store {
    database: Arc<Database>,
    jobs: std::sync::mpsc::Sender<Job>,
    numbers: Numbers,
    /// Office challenges waiting for their answer: in memory (a single relay process reads
    /// this store; a restart forgets them, and offices ask again).
    challenges: Arc<sessions::WaitingChallenges>,
}
impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Store")
    }
}

/// Table sizes for metrics.
#[derive(Debug, Clone, Copy)]
pub struct StoreCounts {
    /// Mailboxes.
    pub mailboxes: u64,
    /// Messages.
    pub messages: u64,
    /// Attachments.
    pub attachments: u64,
}

/// What a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PurgeCounts {
    /// Mailboxes deleted.
    pub mailboxes: u64,
    /// Messages deleted.
    pub messages: u64,
    /// Attachments deleted.
    pub attachments: u64,
    /// Hand-overs deleted.
    pub hand_overs: u64,
    /// Case records deleted.
    pub case_records: u64,
    /// Expired challenges, sessions and stamps forgotten.
    pub expired_grants: u64,
}

/// What a backup copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BackupCounts {
    /// Mailboxes.
    pub mailboxes: u64,
    /// Messages.
    pub messages: u64,
    /// Attachment chunks.
    pub chunks: u64,
}

impl Store {
    /// Opens (or creates) the database file and starts the writer thread; mailboxes from
    /// before store format 3 stay unaddressed (see [`Store::open_addressing`]).
    pub(crate) fn open(path: &Path) -> Result<Store, StoreError> {
        Store::open_addressing(path, None).map(|(store, _)| store)
    }

    /// Opens the store as the relay does before it serves: with `directory` (organisation →
    /// recipient ids), mailboxes from before store format 3 are addressed to their
    /// organisation's recipients in the opening transaction.
    pub(crate) fn open_addressing(
        path: &Path,
        directory: Option<&std::collections::BTreeMap<String, Vec<String>>>,
    ) -> Result<(Store, EarlierMailboxes), StoreError> {
        Store::open_with(path, directory, writer::JournalPolicy::default())
    }

    /// Opens the store with `policy` for its journal's durable commits.
    fn open_with(
        path: &Path,
        directory: Option<&std::collections::BTreeMap<String, Vec<String>>>,
        policy: writer::JournalPolicy,
    ) -> Result<(Store, EarlierMailboxes), StoreError> {
        // redb creates its file with the umask's mode: created first (and kept) 0600 here.
        match crate::files::create_private_file(path) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                crate::files::make_private(path)?
            }
            Err(error) => return Err(error.into()),
        }
        let mut earlier = EarlierMailboxes::default();
        let journal;
        let database = Arc::new(
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(path)?,
        );
        {
            let transaction = database.begin_write()?;
            transaction.open_table(MAILBOXES)?;
            transaction.open_table(ORGANISATION_MESSAGES)?;
            transaction.open_table(RECIPIENT_MESSAGES)?;
            transaction.open_table(ATTACHMENTS)?;
            transaction.open_table(ATTACHMENT_CHUNKS)?;
            transaction.open_table(SESSIONS)?;
            transaction.open_table(SPENT_STAMPS)?;
            transaction.open_table(HAND_OVERS)?;
            transaction.open_table(HAND_OVER_BODIES)?;
            transaction.open_table(CASE_RECORDS)?;
            transaction.open_table(CASE_RECORD_BODIES)?;
            upgrade(&transaction)?;
            // New reports acknowledged through the journal since the last durable commit.
            let (store_id, generation) = {
                let mut counters = transaction.open_table(COUNTERS)?;
                let generation = counters
                    .get(JOURNAL_GENERATION)?
                    .map_or(0, |value| value.value());
                let stored_id = counters.get(STORE_ID)?.map(|value| value.value());
                let store_id = match stored_id {
                    Some(id) => id,
                    None => {
                        let id = rand_core::RngCore::next_u64(&mut rand_core::OsRng);
                        counters.insert(STORE_ID, id)?;
                        id
                    }
                };
                (store_id, generation)
            };
            let (opened, entries) =
                journal::Journal::open(&journal_path(path), store_id, generation)?;
            same_owner(&journal_path(path), path);
            mailboxes::store_journaled(&transaction, &entries)?;
            transaction
                .open_table(COUNTERS)?
                .insert(JOURNAL_GENERATION, generation + 1)?;
            journal = opened;
            if let Some(directory) = directory {
                let mut numbers = writer::NumberCache::default();
                earlier =
                    mailboxes::address_earlier_mailboxes(&transaction, &mut numbers, directory)?;
                numbers.save(&transaction)?;
            }
            transaction.commit()?;
        }
        let mut journal = journal;
        journal.start(journal.generation() + 1);
        let (jobs, receiver) = std::sync::mpsc::channel();
        let writer_database = Arc::clone(&database);
        let numbers = Numbers::default();
        let writer_numbers = Arc::clone(&numbers);
        std::thread::Builder::new()
            .name("meldpunt-writer".into())
            .spawn(move || {
                writer_loop(&writer_database, receiver, &writer_numbers, journal, policy)
            })
            .map_err(|error| StoreError::Failed(format!("cannot start the writer: {error}")))?;
        Ok((
            Store {
                database,
                jobs,
                numbers,
                challenges: Arc::default(),
            },
            earlier,
        ))
    }
}

/// The journal of new reports beside the store file `path` (`meldpunt.redb` →
/// `meldpunt.journal`).
fn journal_path(path: &Path) -> std::path::PathBuf {
    path.with_extension("journal")
}

/// Gives `file` the owner of `model` if it differs (a journal made when root opened a relay's
/// store, say by an offline backup, stays the relay user's); what cannot be changed is left.
fn same_owner(file: &Path, model: &Path) {
    use std::os::unix::fs::MetadataExt as _;
    if let (Ok(made), Ok(model)) = (std::fs::metadata(file), std::fs::metadata(model)) {
        if (made.uid(), made.gid()) != (model.uid(), model.gid()) {
            let _ = std::os::unix::fs::chown(file, Some(model.uid()), Some(model.gid()));
        }
    }
}
