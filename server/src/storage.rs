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
//! (never times of day), hashes of office challenge answers and session tokens, spent
//! stamp nonces. This module must never store a token, an address or a plaintext.

use std::any::Any;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableHandle, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};

use crate::error::Error;

/// mailbox id → [`MailboxRecord`] (JSON).
const MAILBOXES: TableDefinition<[u8; 32], &[u8]> = TableDefinition::new("mailboxes");
/// (organisation, message number) → sealed bytes. Keyed like the office's view, so that new
/// bodies go to the end of their organisation's range (a few places in the tree, rather than
/// anywhere, as random mailbox ids would).
const SEALED_MESSAGES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("sealed_messages");
/// Store format 1 only: relay-wide message number → sealed bytes. Moved into
/// [`SEALED_MESSAGES`] when a format 1 store is opened.
const FORMAT_1_BODIES: TableDefinition<u64, &[u8]> = TableDefinition::new("message_bodies");
/// (mailbox id, position in mailbox) → [`MessageRecord`] (JSON): the reporter's view.
const MAILBOX_MESSAGES: TableDefinition<([u8; 32], u32), &[u8]> =
    TableDefinition::new("mailbox_messages");
/// (organisation, message number) → [`MessageRecord`] (JSON): the office's view. Numbers
/// count per organisation, so nothing stored orders one organisation's messages against
/// another's.
const ORGANISATION_MESSAGES: TableDefinition<(&str, u64), &[u8]> =
    TableDefinition::new("organisation_messages");
/// attachment id → [`AttachmentRecord`] (JSON).
const ATTACHMENTS: TableDefinition<[u8; 16], &[u8]> = TableDefinition::new("attachments");
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
/// The layout this code reads and writes. 1: bodies by relay-wide number (migrated at open).
const STORE_FORMAT: u64 = 2;

/// Size of one stored attachment chunk.
pub(crate) const CHUNK_LENGTH: usize = 256 * 1024;
/// Most writes applied in one transaction.
const MAXIMUM_BATCH: usize = 512;
/// redb's page cache. The default (1 GiB) is far more than a relay on a small machine needs.
const CACHE_BYTES: usize = 64 << 20;
use crate::clock::{day_number, unix_seconds};

/// Who wrote a message: the protocol's own type, stored as `reporter` or `office`.
pub(crate) use meldpunt_crypto::Author;

/// A mailbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MailboxRecord {
    /// The recipient organisation.
    pub organisation: String,
    /// Day created.
    pub created: u32,
    /// Day of the last write.
    pub last_activity: u32,
    /// Messages in it.
    pub messages: u32,
    /// Attachments in it.
    pub attachments: u32,
    /// Sealed bytes the reporter stored in it (messages and attachments).
    #[serde(default)]
    pub reporter_bytes: u64,
    /// Sealed bytes the office stored in it.
    #[serde(default)]
    pub office_bytes: u64,
}

impl MailboxRecord {
    /// The bytes `author` has stored in this mailbox: each side has its own quota, so that
    /// neither can use up the other's room.
    fn used_by(&mut self, author: Author) -> &mut u64 {
        match author {
            Author::Reporter => &mut self.reporter_bytes,
            Author::Office => &mut self.office_bytes,
        }
    }

    /// Counts `bytes` more for `author`, or refuses if that passes the quota.
    fn take(&mut self, author: Author, bytes: u64, quota: u64) -> Result<(), Error> {
        let used = self.used_by(author);
        match used.checked_add(bytes) {
            Some(total) if total <= quota => {
                *used = total;
                Ok(())
            }
            _ => Err(Error::MailboxFull("bytes")),
        }
    }

    /// Gives `bytes` of `author`'s quota back.
    fn release(&mut self, author: Author, bytes: u64) {
        let used = self.used_by(author);
        *used = used.saturating_sub(bytes);
    }
}

/// What one mailbox may hold.
#[derive(Debug, Clone, Copy)]
pub struct MailboxLimits {
    /// Messages, both sides together.
    pub messages: u32,
    /// Attachments, both sides together.
    pub attachments: u32,
    /// Sealed bytes each side (reporter, office) may store.
    pub bytes: u64,
    /// Sealed bytes one attachment may have.
    pub attachment_bytes: u64,
}

/// A message's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
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
    /// Whether the office marked it fetched.
    pub fetched: bool,
}

/// An attachment's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttachmentRecord {
    /// Its mailbox.
    pub mailbox: [u8; 32],
    /// The mailbox's organisation.
    pub organisation: String,
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

/// What a challenge answer or session token grants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Grant {
    /// The organisation.
    pub organisation: String,
    /// Expiry, Unix seconds.
    pub expires_at: u64,
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("records always serialise")
}

fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(bytes)
        .map_err(|error| Error::Storage(format!("corrupt record: {error}")))
}

type WorkResult = Result<Box<dyn Any + Send>, Error>;

struct Job {
    work: Box<dyn FnOnce(&WriteTransaction) -> WorkResult + Send>,
    reply: oneshot::Sender<WorkResult>,
    /// Whether the caller needs this write on disk before hearing "done". Only the chunks of
    /// an upload in progress do not: the durable commit that completes the upload persists
    /// them too (redb makes every earlier commit durable with a durable one).
    durable: bool,
}

/// The next message number of each organisation that has written since the last failed
/// batch, kept by the writer thread: read from `counters` the first time, written back once
/// per batch (an extra table opened and written for every message would cost a tenth of
/// the write rate), and forgotten when a batch fails, so that the store stays the truth and
/// a failed batch leaves no gap.
#[derive(Debug, Default)]
struct NumberCache {
    next: HashMap<String, u64>,
    unsaved: HashSet<String>,
}

impl NumberCache {
    /// Takes the next number of `organisation`.
    fn take(&mut self, transaction: &WriteTransaction, organisation: &str) -> Result<u64, Error> {
        let number = match self.next.get(organisation) {
            Some(next) => *next,
            None => {
                let counters = transaction.open_table(COUNTERS)?;
                let stored = counters.get(counter_name(organisation).as_str())?;
                match stored {
                    Some(next) => next.value(),
                    None => counters.get(FIRST_NUMBER)?.map_or(1, |first| first.value()),
                }
            }
        };
        self.next.insert(organisation.to_owned(), number + 1);
        self.unsaved.insert(organisation.to_owned());
        Ok(number)
    }

    /// Writes the numbers taken in this batch into its transaction.
    fn save(&mut self, transaction: &WriteTransaction) -> Result<(), Error> {
        if self.unsaved.is_empty() {
            return Ok(());
        }
        let mut counters = transaction.open_table(COUNTERS)?;
        for organisation in self.unsaved.drain() {
            counters.insert(
                counter_name(&organisation).as_str(),
                self.next[&organisation],
            )?;
        }
        Ok(())
    }
}

type Numbers = Arc<Mutex<NumberCache>>;

/// The relay's storage.
#[derive(Clone)]
pub struct Store {
    database: Arc<Database>,
    jobs: mpsc::UnboundedSender<Job>,
    numbers: Numbers,
}
impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Store")
    }
}

impl Store {
    /// Opens (or creates) the database file and starts the writer thread.
    pub fn open(path: &Path) -> Result<Store, Error> {
        let database = Arc::new(
            Database::builder()
                .set_cache_size(CACHE_BYTES)
                .create(path)?,
        );
        {
            let transaction = database.begin_write()?;
            transaction.open_table(MAILBOXES)?;
            transaction.open_table(SEALED_MESSAGES)?;
            transaction.open_table(MAILBOX_MESSAGES)?;
            transaction.open_table(ORGANISATION_MESSAGES)?;
            transaction.open_table(ATTACHMENTS)?;
            transaction.open_table(ATTACHMENT_CHUNKS)?;
            transaction.open_table(SESSIONS)?;
            transaction.open_table(SPENT_STAMPS)?;
            upgrade(&transaction)?;
            transaction.commit()?;
        }
        let (jobs, receiver) = mpsc::unbounded_channel();
        let writer_database = Arc::clone(&database);
        let numbers = Numbers::default();
        let writer_numbers = Arc::clone(&numbers);
        std::thread::Builder::new()
            .name("meldpunt-writer".into())
            .spawn(move || writer_loop(&writer_database, receiver, &writer_numbers))
            .map_err(|error| Error::Storage(format!("cannot start the writer: {error}")))?;
        Ok(Store {
            database,
            jobs,
            numbers,
        })
    }

    /// Runs `work` in the next group-committed write transaction; returns once it is durable.
    pub async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        self.submit(work, true).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, Error> + Send + 'static,
        durable: bool,
    ) -> Result<T, Error> {
        let (reply, answer) = oneshot::channel();
        let job = Job {
            work: Box::new(move |transaction| {
                work(transaction).map(|value| Box::new(value) as Box<dyn Any + Send>)
            }),
            reply,
            durable,
        };
        self.jobs.send(job).map_err(|_| Error::NotReady)?;
        let result = answer.await.map_err(|_| Error::NotReady)??;
        Ok(*result
            .downcast::<T>()
            .expect("the job returns its own type"))
    }

    /// Runs `work` in a read transaction on a blocking thread.
    pub async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&ReadTransaction) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let database = Arc::clone(&self.database);
        tokio::task::spawn_blocking(move || {
            let transaction = database.begin_read()?;
            work(&transaction)
        })
        .await
        .map_err(|_| Error::Storage("a read task failed".into()))?
    }

    /// Creates a mailbox holding its first message, recording the stamp nonce as spent.
    pub async fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        sealed: Vec<u8>,
        spent_stamp: Option<meldpunt_crypto::SpentStamp>,
    ) -> Result<u64, Error> {
        let numbers = Arc::clone(&self.numbers);
        self.write(move |transaction| {
            let mailboxes = transaction.open_table(MAILBOXES)?;
            if mailboxes.get(mailbox)?.is_some() {
                return Err(Error::MailboxExists);
            }
            if let Some(spent) = spent_stamp {
                let mut spent_stamps = transaction.open_table(SPENT_STAMPS)?;
                if spent_stamps.get(spent.nonce)?.is_some() {
                    return Err(Error::StampSpent);
                }
                spent_stamps.insert(spent.nonce, spent.expires_at)?;
            }
            let day = day_number();
            let record = MailboxRecord {
                organisation,
                created: day,
                last_activity: day,
                messages: 0,
                attachments: 0,
                reporter_bytes: 0,
                office_bytes: 0,
            };
            drop(mailboxes);
            append(
                transaction,
                &numbers,
                mailbox,
                record,
                Author::Reporter,
                &sealed,
                u64::MAX,
            )
        })
        .await
    }

    /// Appends a message to an existing mailbox. For an office, `organisation` must match.
    pub async fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        required_organisation: Option<String>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<(u32, u64), Error> {
        let numbers = Arc::clone(&self.numbers);
        self.write(move |transaction| {
            let record: MailboxRecord = {
                let mailboxes = transaction.open_table(MAILBOXES)?;
                let Some(bytes) = mailboxes.get(mailbox)? else {
                    return Err(Error::MailboxNotFound);
                };
                decode(bytes.value())?
            };
            if required_organisation.is_some_and(|organisation| organisation != record.organisation)
            {
                return Err(Error::MailboxNotFound);
            }
            if record.messages >= limits.messages {
                return Err(Error::MailboxFull("messages"));
            }
            let position = record.messages + 1;
            let number = append(
                transaction,
                &numbers,
                mailbox,
                record,
                author,
                &sealed,
                limits.bytes,
            )?;
            Ok((position, number))
        })
        .await
    }

    /// The organisation of a mailbox, if it exists.
    pub async fn mailbox(&self, mailbox: [u8; 32]) -> Result<Option<MailboxRecord>, Error> {
        self.read(move |transaction| {
            let mailboxes = transaction.open_table(MAILBOXES)?;
            mailboxes
                .get(mailbox)?
                .map(|bytes| decode(bytes.value()))
                .transpose()
        })
        .await
    }

    /// A mailbox's messages after `after` (a position), at most `limit`.
    pub async fn list_mailbox(
        &self,
        mailbox: [u8; 32],
        after: u32,
        limit: usize,
    ) -> Result<Option<Vec<MessageRecord>>, Error> {
        self.read(move |transaction| {
            let mailboxes = transaction.open_table(MAILBOXES)?;
            if mailboxes.get(mailbox)?.is_none() {
                return Ok(None);
            }
            let index = transaction.open_table(MAILBOX_MESSAGES)?;
            let mut found = Vec::new();
            for entry in index
                .range((mailbox, after.saturating_add(1))..=(mailbox, u32::MAX))?
                .take(limit)
            {
                let (_, record) = entry?;
                found.push(decode(record.value())?);
            }
            Ok(Some(found))
        })
        .await
    }

    /// The sealed bytes of the message at `position` in a mailbox.
    pub async fn mailbox_message(
        &self,
        mailbox: [u8; 32],
        position: u32,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.read(move |transaction| {
            let index = transaction.open_table(MAILBOX_MESSAGES)?;
            let Some(record) = index.get((mailbox, position))? else {
                return Ok(None);
            };
            let record: MessageRecord = decode(record.value())?;
            let bodies = transaction.open_table(SEALED_MESSAGES)?;
            Ok(bodies
                .get((record.organisation.as_str(), record.number))?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }

    /// An organisation's messages numbered after `after`, at most `limit`, with their numbers.
    pub async fn list_organisation(
        &self,
        organisation: String,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, MessageRecord)>, Error> {
        self.read(move |transaction| {
            let index = transaction.open_table(ORGANISATION_MESSAGES)?;
            let mut found = Vec::new();
            let start = (organisation.as_str(), after.saturating_add(1));
            let end = (organisation.as_str(), u64::MAX);
            for entry in index.range(start..=end)?.take(limit) {
                let (key, record) = entry?;
                found.push((key.value().1, decode(record.value())?));
            }
            Ok(found)
        })
        .await
    }

    /// The sealed bytes of message `number`, if it belongs to `organisation`.
    pub async fn organisation_message(
        &self,
        organisation: String,
        number: u64,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.read(move |transaction| {
            let bodies = transaction.open_table(SEALED_MESSAGES)?;
            Ok(bodies
                .get((organisation.as_str(), number))?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }

    /// Marks message `number` fetched, if it belongs to `organisation`.
    pub async fn mark_fetched(&self, organisation: String, number: u64) -> Result<(), Error> {
        self.write(move |transaction| {
            let mut index = transaction.open_table(ORGANISATION_MESSAGES)?;
            let key = (organisation.as_str(), number);
            let mut record: MessageRecord = match index.get(key)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(Error::MessageNotFound),
            };
            if !record.fetched {
                record.fetched = true;
                index.insert(key, encode(&record).as_slice())?;
            }
            Ok(())
        })
        .await
    }

    /// Stores a new office session (the caller has checked the challenge answer).
    pub async fn open_session(&self, session_id: [u8; 32], grant: Grant) -> Result<(), Error> {
        self.write(move |transaction| {
            transaction
                .open_table(SESSIONS)?
                .insert(session_id, encode(&grant).as_slice())?;
            Ok(())
        })
        .await
    }

    /// The organisation an unexpired session grants.
    pub async fn session(&self, session_id: [u8; 32]) -> Result<Option<Grant>, Error> {
        self.read(move |transaction| {
            let sessions = transaction.open_table(SESSIONS)?;
            let Some(bytes) = sessions.get(session_id)? else {
                return Ok(None);
            };
            let grant: Grant = decode(bytes.value())?;
            Ok((unix_seconds() <= grant.expires_at).then_some(grant))
        })
        .await
    }

    /// Registers a new attachment upload for a mailbox (checks before writing), and holds
    /// room for it in its author's quota: its declared size, or as much as one attachment may
    /// have when no size was declared, or what is left if that is less. Returns
    /// the most the upload may send. Uploads that run at the same time each hold their own
    /// room, so together they cannot pass the quota.
    pub async fn begin_attachment(
        &self,
        id: [u8; 16],
        mailbox: [u8; 32],
        author: Author,
        required_organisation: Option<String>,
        limits: MailboxLimits,
        declared: Option<u64>,
    ) -> Result<u64, Error> {
        self.write(move |transaction| {
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut record: MailboxRecord = match mailboxes.get(mailbox)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(Error::MailboxNotFound),
            };
            if required_organisation.is_some_and(|organisation| organisation != record.organisation)
            {
                return Err(Error::MailboxNotFound);
            }
            let mut attachments = transaction.open_table(ATTACHMENTS)?;
            if attachments.get(id)?.is_some() {
                return Err(Error::AttachmentExists);
            }
            if record.attachments >= limits.attachments {
                return Err(Error::MailboxFull("attachments"));
            }
            let room = limits.bytes.saturating_sub(*record.used_by(author));
            let reserved = match declared {
                Some(size) => size,
                None if room == 0 => return Err(Error::MailboxFull("bytes")),
                None => limits.attachment_bytes.min(room),
            };
            record.take(author, reserved, limits.bytes)?;
            let day = day_number();
            let attachment = AttachmentRecord {
                mailbox,
                organisation: record.organisation.clone(),
                author,
                day,
                size: 0,
                chunks: 0,
                complete: false,
                reserved,
            };
            attachments.insert(id, encode(&attachment).as_slice())?;
            record.attachments += 1;
            mailboxes.insert(mailbox, encode(&record).as_slice())?;
            Ok(reserved)
        })
        .await
    }

    /// Stores one chunk of an upload in progress (not yet durably: [`Store::finish_attachment`]
    /// is, and makes the chunks durable with it).
    pub async fn put_chunk(&self, id: [u8; 16], index: u32, bytes: Vec<u8>) -> Result<(), Error> {
        self.submit(
            move |transaction| {
                transaction
                    .open_table(ATTACHMENT_CHUNKS)?
                    .insert((id, index), bytes.as_slice())?;
                Ok(())
            },
            false,
        )
        .await
    }

    /// Marks an upload complete: its author's quota counts its size instead of the room held
    /// for it (the upload was never allowed to send more than that room).
    pub async fn finish_attachment(
        &self,
        id: [u8; 16],
        size: u64,
        chunks: u32,
    ) -> Result<(), Error> {
        self.write(move |transaction| {
            let mut attachments = transaction.open_table(ATTACHMENTS)?;
            let mut record: AttachmentRecord = match attachments.get(id)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(Error::AttachmentNotFound),
            };
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut mailbox: MailboxRecord = match mailboxes.get(record.mailbox)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(Error::MailboxNotFound),
            };
            if size > record.reserved {
                return Err(Error::MailboxFull("bytes"));
            }
            mailbox.release(record.author, record.reserved - size);
            mailbox.last_activity = day_number();
            mailboxes.insert(record.mailbox, encode(&mailbox).as_slice())?;
            record.size = size;
            record.chunks = chunks;
            record.complete = true;
            record.reserved = 0;
            attachments.insert(id, encode(&record).as_slice())?;
            Ok(())
        })
        .await
    }

    /// Removes an upload that failed, and everything it stored.
    pub async fn abort_attachment(&self, id: [u8; 16]) -> Result<(), Error> {
        self.write(move |transaction| remove_attachment(transaction, id))
            .await
    }

    /// A complete attachment's metadata.
    pub async fn attachment(&self, id: [u8; 16]) -> Result<Option<AttachmentRecord>, Error> {
        self.read(move |transaction| {
            let attachments = transaction.open_table(ATTACHMENTS)?;
            let Some(bytes) = attachments.get(id)? else {
                return Ok(None);
            };
            let record: AttachmentRecord = decode(bytes.value())?;
            Ok(record.complete.then_some(record))
        })
        .await
    }

    /// One chunk of a stored attachment.
    pub fn attachment_chunk(&self, id: [u8; 16], index: u32) -> Result<Option<Vec<u8>>, Error> {
        let transaction = self.database.begin_read()?;
        let chunks = transaction.open_table(ATTACHMENT_CHUNKS)?;
        Ok(chunks.get((id, index))?.map(|bytes| bytes.value().to_vec()))
    }

    /// Deletes mailboxes idle for more than `retention_days` with all they hold, incomplete
    /// uploads older than a day, and expired challenges, sessions and spent stamps.
    pub async fn purge(&self, retention_days: u32) -> Result<PurgeCounts, Error> {
        self.write(move |transaction| purge(transaction, retention_days))
            .await
    }

    /// Copies a consistent snapshot of every table into a new database file at `target`.
    pub async fn backup(&self, target: std::path::PathBuf) -> Result<BackupCounts, Error> {
        let database = Arc::clone(&self.database);
        tokio::task::spawn_blocking(move || backup(&database, &target))
            .await
            .map_err(|_| Error::Storage("the backup task failed".into()))?
    }

    /// Counts for the metrics page.
    pub async fn counts(&self) -> Result<StoreCounts, Error> {
        self.read(|transaction| {
            Ok(StoreCounts {
                mailboxes: transaction.open_table(MAILBOXES)?.len()?,
                messages: transaction.open_table(SEALED_MESSAGES)?.len()?,
                attachments: transaction.open_table(ATTACHMENTS)?.len()?,
            })
        })
        .await
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
pub struct PurgeCounts {
    /// Mailboxes deleted.
    pub mailboxes: u64,
    /// Messages deleted.
    pub messages: u64,
    /// Attachments deleted.
    pub attachments: u64,
    /// Expired challenges, sessions and stamps forgotten.
    pub expired_grants: u64,
}

/// What a backup copied.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BackupCounts {
    /// Mailboxes.
    pub mailboxes: u64,
    /// Messages.
    pub messages: u64,
    /// Attachment chunks.
    pub chunks: u64,
}

/// The counter that numbers an organisation's messages.
fn counter_name(organisation: &str) -> String {
    format!("next_message/{organisation}")
}

/// Stores a message at the next position of its mailbox and the next number of its
/// organisation; refuses (changing nothing) if it passes `author`'s byte quota.
fn append(
    transaction: &WriteTransaction,
    numbers: &Mutex<NumberCache>,
    mailbox: [u8; 32],
    mut record: MailboxRecord,
    author: Author,
    sealed: &[u8],
    quota: u64,
) -> Result<u64, Error> {
    record.take(author, sealed.len() as u64, quota)?;
    let number = numbers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .take(transaction, &record.organisation)?;
    let day = day_number();
    record.messages += 1;
    record.last_activity = day;
    let message = MessageRecord {
        number,
        mailbox,
        position: record.messages,
        organisation: record.organisation.clone(),
        author,
        day,
        size: sealed.len() as u64,
        fetched: false,
    };
    let encoded = encode(&message);
    transaction
        .open_table(SEALED_MESSAGES)?
        .insert((record.organisation.as_str(), number), sealed)?;
    transaction
        .open_table(MAILBOX_MESSAGES)?
        .insert((mailbox, record.messages), encoded.as_slice())?;
    transaction
        .open_table(ORGANISATION_MESSAGES)?
        .insert((record.organisation.as_str(), number), encoded.as_slice())?;
    transaction
        .open_table(MAILBOXES)?
        .insert(mailbox, encode(&record).as_slice())?;
    Ok(number)
}

/// Brings a store of an earlier format to [`STORE_FORMAT`], in the opening transaction (so a
/// failed upgrade changes nothing). A store of a later format is refused.
///
/// Format 1 kept sealed bodies by one relay-wide number. Format 2 keeps them by mailbox and
/// position, and numbers each organisation's messages on its own. Messages stored before the
/// upgrade keep the numbers their office has seen (offices' cursors stay valid); every
/// organisation's numbering continues above every number format 1 gave out.
fn upgrade(transaction: &WriteTransaction) -> Result<(), Error> {
    let format = transaction
        .open_table(COUNTERS)?
        .get("store_format")?
        .map(|value| value.value());
    match format {
        Some(STORE_FORMAT) => return Ok(()),
        Some(other) => {
            return Err(Error::Storage(format!(
                "the store has format {other}; this relay reads format {STORE_FORMAT} and \
                 earlier: use a newer meldpunt-server"
            )))
        }
        None => {}
    }
    let exists = |name: &str| -> Result<bool, Error> {
        Ok(transaction.list_tables()?.any(|table| table.name() == name))
    };
    if exists(FORMAT_1_BODIES.name())? {
        let old = transaction.open_table(FORMAT_1_BODIES)?;
        let index = transaction.open_table(MAILBOX_MESSAGES)?;
        let mut bodies = transaction.open_table(SEALED_MESSAGES)?;
        let mut next_number = 1;
        for entry in index.iter()? {
            let record: MessageRecord = decode(entry?.1.value())?;
            if let Some(body) = old.get(record.number)? {
                bodies.insert((record.organisation.as_str(), record.number), body.value())?;
            }
            next_number = next_number.max(record.number + 1);
        }
        drop((old, index, bodies));
        // Every organisation continues above every number format 1 ever gave, including
        // numbers whose messages retention has deleted since: an office's cursor may be
        // there, and a new message numbered below it would never be listed to it.
        let mut counters = transaction.open_table(COUNTERS)?;
        if let Some(relay_wide) = counters.remove("next_message")? {
            next_number = next_number.max(relay_wide.value());
        }
        counters.insert(FIRST_NUMBER, next_number)?;
        drop(counters);
        transaction.delete_table(FORMAT_1_BODIES)?;
    }
    if exists(FORMAT_1_CHALLENGES.name())? {
        transaction.delete_table(FORMAT_1_CHALLENGES)?;
    }
    count_stored_bytes(transaction)?;
    // A relay of format 1 would open `message_bodies` with its own key type and number from
    // 1 again over this store; a table of that name with another type makes it refuse to
    // start instead.
    transaction.open_table(FORMAT_1_GUARD)?;
    transaction
        .open_table(COUNTERS)?
        .insert("store_format", STORE_FORMAT)?;
    Ok(())
}

/// Fills in what each side of every mailbox has stored (format 1 did not count it), so that
/// the byte quota applies to mailboxes from before the upgrade too.
fn count_stored_bytes(transaction: &WriteTransaction) -> Result<(), Error> {
    let mut used: std::collections::HashMap<([u8; 32], Author), u64> = Default::default();
    for entry in transaction.open_table(MAILBOX_MESSAGES)?.iter()? {
        let record: MessageRecord = decode(entry?.1.value())?;
        *used.entry((record.mailbox, record.author)).or_default() += record.size;
    }
    for entry in transaction.open_table(ATTACHMENTS)?.iter()? {
        let record: AttachmentRecord = decode(entry?.1.value())?;
        if record.complete {
            *used.entry((record.mailbox, record.author)).or_default() += record.size;
        }
    }
    let mut mailboxes = transaction.open_table(MAILBOXES)?;
    let mut updated = Vec::new();
    for entry in mailboxes.iter()? {
        let (id, bytes) = entry?;
        let mut record: MailboxRecord = decode(bytes.value())?;
        let id = id.value();
        record.reporter_bytes = used.get(&(id, Author::Reporter)).copied().unwrap_or(0);
        record.office_bytes = used.get(&(id, Author::Office)).copied().unwrap_or(0);
        updated.push((id, record));
    }
    for (id, record) in updated {
        mailboxes.insert(id, encode(&record).as_slice())?;
    }
    Ok(())
}

fn remove_attachment(transaction: &WriteTransaction, id: [u8; 16]) -> Result<(), Error> {
    let mut chunks = transaction.open_table(ATTACHMENT_CHUNKS)?;
    chunks.retain_in((id, 0)..=(id, u32::MAX), |_, _| false)?;
    let mut attachments = transaction.open_table(ATTACHMENTS)?;
    let removed = attachments
        .remove(id)?
        .map(|bytes| decode::<AttachmentRecord>(bytes.value()));
    drop(attachments);
    if let Some(Ok(record)) = removed {
        let mut mailboxes = transaction.open_table(MAILBOXES)?;
        let updated = match mailboxes.get(record.mailbox)? {
            Some(bytes) => {
                let mut mailbox: MailboxRecord = decode(bytes.value())?;
                mailbox.attachments = mailbox.attachments.saturating_sub(1);
                // An upload in progress gives back the room it held, a complete one its size.
                let held = if record.complete {
                    record.size
                } else {
                    record.reserved
                };
                mailbox.release(record.author, held);
                Some(mailbox)
            }
            None => None,
        };
        if let Some(mailbox) = updated {
            mailboxes.insert(record.mailbox, encode(&mailbox).as_slice())?;
        }
    }
    Ok(())
}

fn purge(transaction: &WriteTransaction, retention_days: u32) -> Result<PurgeCounts, Error> {
    let mut counts = PurgeCounts::default();
    let today = day_number();
    let now = unix_seconds();

    let mut expired_mailboxes = Vec::new();
    {
        let mailboxes = transaction.open_table(MAILBOXES)?;
        for entry in mailboxes.iter()? {
            let (id, bytes) = entry?;
            let record: MailboxRecord = decode(bytes.value())?;
            if today.saturating_sub(record.last_activity) > retention_days {
                expired_mailboxes.push((id.value(), record.organisation));
            }
        }
    }
    let mut expired_attachments = Vec::new();
    {
        let attachments = transaction.open_table(ATTACHMENTS)?;
        let expired: std::collections::HashSet<[u8; 32]> =
            expired_mailboxes.iter().map(|(id, _)| *id).collect();
        for entry in attachments.iter()? {
            let (id, bytes) = entry?;
            let record: AttachmentRecord = decode(bytes.value())?;
            if expired.contains(&record.mailbox) || (!record.complete && today > record.day) {
                expired_attachments.push(id.value());
            }
        }
    }
    for id in expired_attachments {
        remove_attachment(transaction, id)?;
        counts.attachments += 1;
    }
    for (mailbox, organisation) in expired_mailboxes {
        let mut numbers = Vec::new();
        {
            let index = transaction.open_table(MAILBOX_MESSAGES)?;
            for entry in index.range((mailbox, 0)..=(mailbox, u32::MAX))? {
                let (_, record) = entry?;
                numbers.push(decode::<MessageRecord>(record.value())?.number);
            }
        }
        transaction
            .open_table(MAILBOX_MESSAGES)?
            .retain_in((mailbox, 0)..=(mailbox, u32::MAX), |_, _| false)?;
        let mut bodies = transaction.open_table(SEALED_MESSAGES)?;
        let mut by_organisation = transaction.open_table(ORGANISATION_MESSAGES)?;
        for number in numbers {
            bodies.remove((organisation.as_str(), number))?;
            by_organisation.remove((organisation.as_str(), number))?;
            counts.messages += 1;
        }
        transaction.open_table(MAILBOXES)?.remove(mailbox)?;
        counts.mailboxes += 1;
    }
    let mut sessions = transaction.open_table(SESSIONS)?;
    let before = sessions.len()?;
    sessions.retain(|_, bytes| {
        serde_json::from_slice::<Grant>(bytes).is_ok_and(|grant| grant.expires_at >= now)
    })?;
    counts.expired_grants += before - sessions.len()?;
    drop(sessions);
    let mut stamps = transaction.open_table(SPENT_STAMPS)?;
    let before = stamps.len()?;
    stamps.retain(|_, expires_at| expires_at >= now)?;
    counts.expired_grants += before - stamps.len()?;
    Ok(counts)
}

fn copy_table<K: redb::Key + 'static, V: redb::Value + 'static>(
    source: &ReadTransaction,
    target: &WriteTransaction,
    definition: TableDefinition<K, V>,
) -> Result<u64, Error> {
    let from = source.open_table(definition)?;
    let mut to = target.open_table(definition)?;
    let mut copied = 0;
    for entry in from.iter()? {
        let (key, value) = entry?;
        to.insert(key.value(), value.value())?;
        copied += 1;
    }
    Ok(copied)
}

fn backup(database: &Database, target: &Path) -> Result<BackupCounts, Error> {
    if target.exists() {
        return Err(Error::BadRequest(format!(
            "{} exists already; choose a new backup file",
            target.display()
        )));
    }
    let snapshot = database.begin_read()?;
    let copy = Database::create(target)?;
    let transaction = copy.begin_write()?;
    let counts = BackupCounts {
        mailboxes: copy_table(&snapshot, &transaction, MAILBOXES)?,
        messages: copy_table(&snapshot, &transaction, SEALED_MESSAGES)?,
        chunks: copy_table(&snapshot, &transaction, ATTACHMENT_CHUNKS)?,
    };
    copy_table(&snapshot, &transaction, MAILBOX_MESSAGES)?;
    copy_table(&snapshot, &transaction, ORGANISATION_MESSAGES)?;
    copy_table(&snapshot, &transaction, ATTACHMENTS)?;
    copy_table(&snapshot, &transaction, SPENT_STAMPS)?;
    copy_table(&snapshot, &transaction, COUNTERS)?;
    // Office sessions are short-lived credentials: not worth restoring.
    transaction.open_table(SESSIONS)?;
    transaction.commit()?;
    Ok(counts)
}

fn writer_loop(
    database: &Database,
    mut receiver: mpsc::UnboundedReceiver<Job>,
    numbers: &Mutex<NumberCache>,
) {
    while let Some(first) = receiver.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAXIMUM_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        run_batch(database, batch, numbers);
    }
}

fn run_batch(database: &Database, batch: Vec<Job>, numbers: &Mutex<NumberCache>) {
    let durable = batch.iter().any(|job| job.durable);
    let transaction = match database.begin_write() {
        Ok(mut transaction) => {
            if !durable {
                // Cannot fail: no persistent savepoint is touched here.
                let _ = transaction.set_durability(redb::Durability::None);
            }
            transaction
        }
        Err(error) => {
            let error = Error::from(error);
            for job in batch {
                let _ = job.reply.send(Err(clone_error(&error)));
            }
            return;
        }
    };
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut failure: Option<Error> = None;
    for job in batch {
        if failure.is_some() {
            outcomes.push((job.reply, None));
            continue;
        }
        let result = (job.work)(&transaction);
        match result {
            Err(error) if error.aborts_transaction() => {
                failure = Some(error);
                outcomes.push((job.reply, None));
            }
            other => outcomes.push((job.reply, Some(other))),
        }
    }
    let mut numbers = numbers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if failure.is_none() {
        failure = numbers.save(&transaction).err();
    }
    let commit = match failure {
        Some(error) => {
            let _ = transaction.abort();
            Err(error)
        }
        None => transaction.commit().map_err(Error::from),
    };
    if commit.is_err() {
        *numbers = NumberCache::default();
    }
    drop(numbers);
    match commit {
        Ok(()) => {
            for (reply, result) in outcomes {
                let _ = reply.send(result.unwrap_or_else(|| Err(Error::Storage("not run".into()))));
            }
        }
        Err(error) => {
            for (reply, _) in outcomes {
                let _ = reply.send(Err(clone_error(&error)));
            }
        }
    }
}

fn clone_error(error: &Error) -> Error {
    match error {
        Error::StorageFull => Error::StorageFull,
        other => Error::Storage(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(messages: u32) -> MailboxLimits {
        MailboxLimits {
            messages,
            attachments: 10,
            bytes: u64::MAX,
            attachment_bytes: 100,
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let directory = tempfile::tempdir().unwrap();
        let store = Store::open(&directory.path().join("test.redb")).unwrap();
        (directory, store)
    }

    #[tokio::test]
    async fn mailboxes_hold_messages_in_order() {
        let (_directory, store) = store();
        let mailbox = [1u8; 32];
        let first = store
            .create_mailbox(mailbox, "demo".into(), b"report".to_vec(), None)
            .await
            .unwrap();
        let (position, second) = store
            .append_message(
                mailbox,
                Author::Office,
                Some("demo".into()),
                b"reply".to_vec(),
                limits(10),
            )
            .await
            .unwrap();
        assert_eq!(position, 2);
        assert!(second > first);
        let listed = store.list_mailbox(mailbox, 0, 10).await.unwrap().unwrap();
        assert_eq!(
            listed.iter().map(|m| m.author).collect::<Vec<_>>(),
            [Author::Reporter, Author::Office]
        );
        assert_eq!(
            store
                .list_mailbox(mailbox, 1, 10)
                .await
                .unwrap()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            store.mailbox_message(mailbox, 2).await.unwrap().unwrap(),
            b"reply"
        );
        assert!(matches!(
            store
                .create_mailbox(mailbox, "demo".into(), b"again".to_vec(), None)
                .await,
            Err(Error::MailboxExists)
        ));
        assert!(matches!(
            store
                .append_message(
                    mailbox,
                    Author::Office,
                    Some("other".into()),
                    b"x".to_vec(),
                    limits(10)
                )
                .await,
            Err(Error::MailboxNotFound)
        ));
        assert!(matches!(
            store
                .append_message(mailbox, Author::Reporter, None, b"x".to_vec(), limits(2))
                .await,
            Err(Error::MailboxFull("messages"))
        ));
    }

    #[tokio::test]
    async fn a_refused_write_does_not_spoil_its_batch() {
        let (_directory, store) = store();
        store
            .create_mailbox([200u8; 32], "demo".into(), b"r".to_vec(), None)
            .await
            .unwrap();
        let mut tasks = Vec::new();
        for index in 0..50u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                // Every fifth one collides with the existing mailbox.
                let id = if index % 5 == 0 {
                    [200u8; 32]
                } else {
                    [index; 32]
                };
                store
                    .create_mailbox(id, "demo".into(), b"r".to_vec(), None)
                    .await
            }));
        }
        let mut created = 0;
        for task in tasks {
            if task.await.unwrap().is_ok() {
                created += 1;
            }
        }
        assert_eq!(created, 40);
        assert_eq!(store.counts().await.unwrap().mailboxes, 41);
    }

    #[tokio::test]
    async fn sessions_expire_and_purge_forgets_them() {
        let (_directory, store) = store();
        let grant = Grant {
            organisation: "demo".into(),
            expires_at: unix_seconds() + 60,
        };
        store.open_session([2; 32], grant).await.unwrap();
        assert!(store.session([2; 32]).await.unwrap().is_some());
        // An expired session grants nothing, and purge forgets it.
        let expired = Grant {
            organisation: "demo".into(),
            expires_at: unix_seconds() - 1,
        };
        store
            .write(move |transaction| {
                transaction
                    .open_table(SESSIONS)?
                    .insert([4; 32], encode(&expired).as_slice())?;
                Ok(())
            })
            .await
            .unwrap();
        assert!(store.session([4; 32]).await.unwrap().is_none());
        assert_eq!(store.purge(365).await.unwrap().expired_grants, 1);
        assert!(store.session([2; 32]).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn a_spent_stamp_is_refused() {
        let (_directory, store) = store();
        let spent = meldpunt_crypto::SpentStamp {
            nonce: [3; 16],
            expires_at: u64::MAX,
        };
        store
            .create_mailbox([1; 32], "demo".into(), b"r".to_vec(), Some(spent))
            .await
            .unwrap();
        assert!(matches!(
            store
                .create_mailbox([2; 32], "demo".into(), b"r".to_vec(), Some(spent))
                .await,
            Err(Error::StampSpent)
        ));
        assert!(store.mailbox([2; 32]).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn purge_deletes_idle_mailboxes_with_everything_in_them() {
        let (_directory, store) = store();
        let mailbox = [4u8; 32];
        store
            .create_mailbox(mailbox, "demo".into(), b"r".to_vec(), None)
            .await
            .unwrap();
        store
            .begin_attachment([5; 16], mailbox, Author::Reporter, None, limits(10), None)
            .await
            .unwrap();
        store.put_chunk([5; 16], 0, vec![1; 10]).await.unwrap();
        store.finish_attachment([5; 16], 10, 1).await.unwrap();
        // Age the mailbox by a year and a day.
        store
            .write(move |transaction| {
                let mut mailboxes = transaction.open_table(MAILBOXES)?;
                let mut record: MailboxRecord = decode(mailboxes.get(mailbox)?.unwrap().value())?;
                record.last_activity -= 366;
                mailboxes.insert(mailbox, encode(&record).as_slice())?;
                Ok(())
            })
            .await
            .unwrap();
        let kept = store
            .create_mailbox([6; 32], "demo".into(), b"r".to_vec(), None)
            .await;
        assert!(kept.is_ok());
        let counts = store.purge(365).await.unwrap();
        assert_eq!(
            (counts.mailboxes, counts.messages, counts.attachments),
            (1, 1, 1)
        );
        assert!(store.mailbox(mailbox).await.unwrap().is_none());
        assert!(store.attachment_chunk([5; 16], 0).unwrap().is_none());
        assert_eq!(
            store
                .list_organisation("demo".into(), 0, 10)
                .await
                .unwrap()
                .len(),
            1
        );
    }

    #[tokio::test]
    async fn backup_is_a_consistent_openable_copy() {
        let (directory, store) = store();
        store
            .create_mailbox([7; 32], "demo".into(), b"r".to_vec(), None)
            .await
            .unwrap();
        let target = directory.path().join("backup.redb");
        let counts = store.backup(target.clone()).await.unwrap();
        assert_eq!((counts.mailboxes, counts.messages), (1, 1));
        assert!(matches!(
            store.backup(target.clone()).await,
            Err(Error::BadRequest(_))
        ));
        drop(store);
        let restored = Store::open(&target).unwrap();
        assert_eq!(
            restored.mailbox_message([7; 32], 1).await.unwrap().unwrap(),
            b"r"
        );
    }

    #[tokio::test]
    async fn two_organisations_number_their_messages_independently() {
        let (_directory, store) = store();
        // Interleaved writes to two organisations: each counts 1, 2, 3 on its own, so an
        // office learns nothing of the other organisation's activity from its numbers.
        for round in 0..3u8 {
            for (organisation, base) in [("alpha", 10u8), ("beta", 20u8)] {
                let number = store
                    .create_mailbox(
                        [base + round; 32],
                        organisation.into(),
                        b"report".to_vec(),
                        None,
                    )
                    .await
                    .unwrap();
                assert_eq!(number, u64::from(round) + 1, "{organisation}");
            }
        }
        let (_, reply) = store
            .append_message(
                [20; 32],
                Author::Office,
                Some("beta".into()),
                b"reply".to_vec(),
                limits(10),
            )
            .await
            .unwrap();
        assert_eq!(reply, 4);
        let alpha = store
            .list_organisation("alpha".into(), 0, 100)
            .await
            .unwrap();
        assert_eq!(
            alpha.iter().map(|(number, _)| *number).collect::<Vec<_>>(),
            [1, 2, 3]
        );
        // The same number in two organisations is two different messages.
        assert_eq!(
            store.organisation_message("beta".into(), 4).await.unwrap(),
            Some(b"reply".to_vec())
        );
        assert_eq!(
            store.organisation_message("alpha".into(), 4).await.unwrap(),
            None
        );
    }

    #[tokio::test]
    async fn each_side_has_its_own_byte_quota_and_a_refusal_changes_nothing() {
        let (_directory, store) = store();
        let mailbox = [3u8; 32];
        store
            .create_mailbox(mailbox, "demo".into(), vec![0; 100], None)
            .await
            .unwrap();
        let quota = MailboxLimits {
            messages: 100,
            attachments: 10,
            bytes: 250,
            attachment_bytes: 1000,
        };
        store
            .append_message(mailbox, Author::Reporter, None, vec![0; 150], quota)
            .await
            .unwrap();
        assert!(matches!(
            store
                .append_message(mailbox, Author::Reporter, None, vec![0; 1], quota)
                .await,
            Err(Error::MailboxFull("bytes"))
        ));
        // The office's room is untouched by the reporter's use of theirs.
        store
            .append_message(
                mailbox,
                Author::Office,
                Some("demo".into()),
                vec![0; 250],
                quota,
            )
            .await
            .unwrap();
        assert!(matches!(
            store
                .begin_attachment([9; 16], mailbox, Author::Reporter, None, quota, None)
                .await,
            Err(Error::MailboxFull("bytes"))
        ));
        let record = store.mailbox(mailbox).await.unwrap().unwrap();
        assert_eq!(
            (record.messages, record.reporter_bytes, record.office_bytes),
            (3, 250, 250)
        );
    }

    #[tokio::test]
    async fn uploads_at_the_same_time_hold_their_room_and_cannot_pass_the_quota_together() {
        let (_directory, store) = store();
        let mailbox = [6u8; 32];
        store
            .create_mailbox(mailbox, "demo".into(), vec![0; 100], None)
            .await
            .unwrap();
        let quota = MailboxLimits {
            messages: 100,
            attachments: 10,
            bytes: 1000,
            attachment_bytes: 600,
        };
        let begin = |id: u8, declared: Option<u64>| {
            store.begin_attachment([id; 16], mailbox, Author::Reporter, None, quota, declared)
        };
        // Without a declared size an upload holds as much as one attachment may have.
        assert_eq!(begin(1, None).await.unwrap(), 600);
        // The next one gets only what is left; a declared size beyond it is refused at once.
        assert!(matches!(
            begin(2, Some(301)).await,
            Err(Error::MailboxFull("bytes"))
        ));
        assert_eq!(begin(3, None).await.unwrap(), 300);
        assert!(matches!(
            begin(4, None).await,
            Err(Error::MailboxFull("bytes"))
        ));
        // Completing gives back what an upload held beyond its size; aborting gives it all.
        store.finish_attachment([1; 16], 50, 1).await.unwrap();
        store.abort_attachment([3; 16]).await.unwrap();
        assert_eq!(
            store
                .mailbox(mailbox)
                .await
                .unwrap()
                .unwrap()
                .reporter_bytes,
            150
        );
        assert_eq!(begin(5, Some(850)).await.unwrap(), 850);
        // An upload can never complete larger than the room it held.
        assert!(matches!(
            store.finish_attachment([5; 16], 851, 1).await,
            Err(Error::MailboxFull("bytes"))
        ));
        assert_eq!(
            store
                .mailbox(mailbox)
                .await
                .unwrap()
                .unwrap()
                .reporter_bytes,
            1000
        );
    }

    /// Writes what a format 1 relay wrote for one message.
    fn write_format_1_message(
        transaction: &WriteTransaction,
        number: u64,
        mailbox: [u8; 32],
        organisation: &str,
    ) {
        let record = MessageRecord {
            number,
            mailbox,
            position: 1,
            organisation: organisation.into(),
            author: Author::Reporter,
            day: day_number(),
            size: 6,
            fetched: false,
        };
        // Format 1 mailbox records had no byte counts.
        let mailbox_record = format!(
            r#"{{"organisation":"{organisation}","created":{day},"last_activity":{day},"messages":1,"attachments":0}}"#,
            day = day_number()
        );
        transaction
            .open_table(MAILBOXES)
            .unwrap()
            .insert(mailbox, mailbox_record.as_bytes())
            .unwrap();
        transaction
            .open_table(FORMAT_1_BODIES)
            .unwrap()
            .insert(number, format!("body {number}").as_bytes())
            .unwrap();
        transaction
            .open_table(MAILBOX_MESSAGES)
            .unwrap()
            .insert((mailbox, 1), encode(&record).as_slice())
            .unwrap();
        transaction
            .open_table(ORGANISATION_MESSAGES)
            .unwrap()
            .insert((organisation, number), encode(&record).as_slice())
            .unwrap();
    }

    /// Opens a store again once the writer thread of the last one has let go of the file.
    fn reopen(path: &Path) -> Store {
        for _ in 0..500 {
            if let Ok(store) = Store::open(path) {
                return store;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        panic!("the store stayed locked");
    }

    #[tokio::test]
    async fn a_format_1_store_is_upgraded_keeping_the_numbers_offices_have_seen() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("old.redb");
        {
            let database = Database::create(&path).unwrap();
            let transaction = database.begin_write().unwrap();
            write_format_1_message(&transaction, 7, [1; 32], "alpha");
            write_format_1_message(&transaction, 8, [2; 32], "beta");
            // Numbers up to 11 were given out; 9 to 11 (a third organisation's) were
            // deleted by retention since. Offices may have seen them all.
            transaction
                .open_table(COUNTERS)
                .unwrap()
                .insert("next_message", 12)
                .unwrap();
            transaction.commit().unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(
            store.organisation_message("alpha".into(), 7).await.unwrap(),
            Some(b"body 7".to_vec())
        );
        assert_eq!(
            store.mailbox_message([2; 32], 1).await.unwrap(),
            Some(b"body 8".to_vec())
        );
        // What each side had stored counts against its quota from now on.
        assert_eq!(
            store
                .mailbox([1; 32])
                .await
                .unwrap()
                .unwrap()
                .reporter_bytes,
            6
        );
        // Every organisation, the one whose messages were all deleted too, continues above
        // every number given out before.
        let mut next = Vec::new();
        for (mailbox, organisation) in [([3; 32], "alpha"), ([4; 32], "gamma")] {
            next.push(
                store
                    .create_mailbox(mailbox, organisation.into(), b"new".to_vec(), None)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!(next, [12, 12]);
        drop(store);
        // Opening it again changes nothing more.
        let store = reopen(&path);
        assert_eq!(store.counts().await.unwrap().messages, 4);
        let number = store
            .create_mailbox([5; 32], "alpha".into(), b"newer".to_vec(), None)
            .await
            .unwrap();
        assert_eq!(number, 13);
        drop(store);
        // A relay of format 1 cannot open the upgraded store: it would number from 1 again.
        let database = (0..500)
            .find_map(|_| {
                Database::create(&path)
                    .inspect_err(|_| std::thread::sleep(std::time::Duration::from_millis(20)))
                    .ok()
            })
            .unwrap();
        let transaction = database.begin_write().unwrap();
        assert!(transaction.open_table(FORMAT_1_BODIES).is_err());
    }

    #[tokio::test]
    async fn a_store_of_a_later_format_is_refused() {
        let directory = tempfile::tempdir().unwrap();
        let path = directory.path().join("future.redb");
        {
            let database = Database::create(&path).unwrap();
            let transaction = database.begin_write().unwrap();
            transaction
                .open_table(COUNTERS)
                .unwrap()
                .insert("store_format", STORE_FORMAT + 1)
                .unwrap();
            transaction.commit().unwrap();
        }
        let Err(Error::Storage(refusal)) = Store::open(&path) else {
            panic!("a later format must be refused");
        };
        assert!(refusal.contains("newer meldpunt-server"), "{refusal}");
    }
}
