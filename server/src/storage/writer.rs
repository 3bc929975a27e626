//! The group-commit writer: one thread takes every write that is waiting, runs them in one
//! transaction, makes it durable once and only then answers each caller; and the numbers
//! each organisation gives its messages, kept by that thread.
//!
//! A batch is made durable in one of two ways: a batch of new reports by appending them to
//! the journal (one small append and one flush, see [`super::journal`]) and committing
//! without a flush; any other batch by a durable commit, which also covers the journal so
//! far. The writer commits durably by itself once the journal holds 2 MiB, after a quarter
//! of a second, or when writes pause.

use std::collections::{HashMap, HashSet};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use tokio::sync::oneshot;

use super::journal::Journal;
use super::StoreError;
use super::{Store, COUNTERS, FIRST_NUMBER, JOURNAL_GENERATION, MAXIMUM_BATCH};

/// When the writer commits durably what the journal holds.
#[derive(Debug, Clone, Copy)]
pub(super) struct JournalPolicy {
    /// Once it holds this many bytes of entries.
    pub bytes: u64,
    /// Once its first entry is this old.
    pub age: Duration,
    /// After this long without work.
    pub idle: Duration,
}

impl Default for JournalPolicy {
    fn default() -> Self {
        // A durable commit writes out and flushes what the commits since the last one
        // changed, while new writes wait: at 8 MiB or a second, a busy relay's p99 passed
        // 50 ms; at 2 MiB or a quarter of a second it stays well under.
        JournalPolicy {
            bytes: 2 << 20,
            age: Duration::from_millis(250),
            idle: Duration::from_millis(50),
        }
    }
}

/// A write waiting for the writer thread, with its caller's typed answer inside.
pub(super) struct Job {
    /// Runs the write in the batch's transaction, or tells its caller the batch failed
    /// before it ran.
    work: Box<dyn FnOnce(Turn<'_>) -> Option<Ran> + Send>,
    /// How the caller needs this write on disk before hearing "done".
    durability: Durability,
}

/// How a write must be on disk before its caller hears "done".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Durability {
    /// Not yet: the chunks of an upload in progress (the durable commit that completes the
    /// upload persists them too: redb makes every earlier commit durable with a durable one).
    Later,
    /// Through its journal entry (a new report), or a durable commit.
    Journaled,
    /// Through a durable commit.
    Commit,
}

/// What the writer does with a job.
enum Turn<'a> {
    /// Run it in this transaction; a journaled write adds its entry to the batch's.
    Run(&'a WriteTransaction, &'a mut Vec<Vec<u8>>),
    /// Do not: the batch failed before it (the job answers its caller with this error).
    Skip(StoreError),
}

/// A job that ran: whether it failed the whole batch, and how it answers its caller once the
/// batch's commit is known.
struct Ran {
    aborts: Option<StoreError>,
    answer: Answer,
}

/// Tells a caller how its write ended, given how its batch's commit ended.
type Answer = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// The next message number of each organisation that has written since the last failed
/// batch, kept by the writer thread: read from `counters` the first time, written back once
/// per batch (an extra table opened and written for every message would cost a tenth of
/// the write rate), and forgotten when a batch fails, so that the store stays the truth and
/// a failed batch leaves no gap.
#[derive(Debug, Default)]
pub(super) struct NumberCache {
    next: HashMap<String, u64>,
    unsaved: HashSet<String>,
}

impl NumberCache {
    /// Takes the next number of `organisation`.
    pub(super) fn take(
        &mut self,
        transaction: &WriteTransaction,
        organisation: &str,
    ) -> Result<u64, StoreError> {
        let number = self.peek(transaction, organisation)?;
        self.taken(organisation, number);
        Ok(number)
    }

    /// Takes the next number of `recipient` of `organisation`: from 1, whatever the other
    /// recipients have (a gap would tell of their messages); from where the organisation's
    /// stood for a recipient an upgrade started ([`NumberCache::start_recipient_at`]).
    pub(super) fn take_for_recipient(
        &mut self,
        transaction: &WriteTransaction,
        organisation: &str,
        recipient: &str,
    ) -> Result<u64, StoreError> {
        let key = recipient_counter(organisation, recipient);
        let number = self.next_of(transaction, &key, |_| Ok(1))?;
        self.taken(&key, number);
        Ok(number)
    }

    /// The next number of `organisation`, without taking it.
    pub(super) fn peek(
        &self,
        transaction: &WriteTransaction,
        organisation: &str,
    ) -> Result<u64, StoreError> {
        self.next_of(transaction, organisation, |transaction| {
            Ok(transaction
                .open_table(COUNTERS)?
                .get(FIRST_NUMBER)?
                .map_or(1, |first| first.value()))
        })
    }

    /// Starts `recipient`'s numbering at `next`, or leaves it where it is if that is higher
    /// (for mailboxes addressed at an upgrade).
    pub(super) fn start_recipient_at(
        &mut self,
        transaction: &WriteTransaction,
        organisation: &str,
        recipient: &str,
        next: u64,
    ) -> Result<(), StoreError> {
        let key = recipient_counter(organisation, recipient);
        let current = self.next_of(transaction, &key, |_| Ok(1))?;
        self.taken(&key, current.max(next).saturating_sub(1));
        Ok(())
    }

    /// The next number of the counter `key`, without taking it: cached, stored, or
    /// `otherwise`.
    fn next_of(
        &self,
        transaction: &WriteTransaction,
        key: &str,
        otherwise: impl FnOnce(&WriteTransaction) -> Result<u64, StoreError>,
    ) -> Result<u64, StoreError> {
        if let Some(next) = self.next.get(key) {
            return Ok(*next);
        }
        let stored = transaction
            .open_table(COUNTERS)?
            .get(counter_name(key).as_str())?
            .map(|next| next.value());
        match stored {
            Some(next) => Ok(next),
            None => otherwise(transaction),
        }
    }

    fn taken(&mut self, key: &str, number: u64) {
        self.next.insert(key.to_owned(), number.saturating_add(1));
        self.unsaved.insert(key.to_owned());
    }

    /// Writes the numbers taken in this batch into its transaction.
    pub(super) fn save(&mut self, transaction: &WriteTransaction) -> Result<(), StoreError> {
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

pub(super) type Numbers = Arc<Mutex<NumberCache>>;

impl Store {
    /// Runs `work` in the next group-committed write transaction; returns once it is durable.
    pub(crate) async fn write<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        self.submit(work, Durability::Commit).await
    }

    pub(super) async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
        durability: Durability,
    ) -> Result<T, StoreError> {
        self.submit_journaled(
            move |transaction| work(transaction).map(|value| (value, None)),
            durability,
        )
        .await
    }

    /// Runs `work` in the next batch; a write that returns a journal entry is durable through
    /// it (see [`Durability::Journaled`]). A refused write's entry is never written.
    pub(super) async fn submit_journaled<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<(T, Option<Vec<u8>>), StoreError>
            + Send
            + 'static,
        durability: Durability,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job = Job {
            work: Box::new(move |turn| match turn {
                Turn::Skip(error) => {
                    let _ = reply.send(Err(error));
                    None
                }
                Turn::Run(transaction, entries) => {
                    let result = work(transaction).map(|(value, entry)| {
                        entries.extend(entry);
                        value
                    });
                    let aborts = match &result {
                        Err(error) if error.aborts_transaction() => Some(error.again()),
                        _ => None,
                    };
                    Some(Ran {
                        aborts,
                        answer: Box::new(move |commit| {
                            let _ = reply.send(match commit {
                                Ok(()) => result,
                                Err(error) => Err(error.again()),
                            });
                        }),
                    })
                }
            }),
            durability,
        };
        self.jobs.send(job).map_err(|_| StoreError::Closed)?;
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `work` in a read transaction on a blocking thread.
    pub(crate) async fn read<T: Send + 'static>(
        &self,
        work: impl FnOnce(&ReadTransaction) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let database = Arc::clone(&self.database);
        tokio::task::spawn_blocking(move || {
            let transaction = database.begin_read()?;
            work(&transaction)
        })
        .await
        .map_err(|_| StoreError::Failed("a read task failed".into()))?
    }
}

pub(super) fn writer_loop(
    database: &Database,
    receiver: mpsc::Receiver<Job>,
    numbers: &Mutex<NumberCache>,
    journal: Journal,
    policy: JournalPolicy,
) {
    let mut writer = Writer {
        journal,
        disk_filled: false,
    };
    loop {
        let first = if writer.journal.holds_entries() {
            match receiver.recv_timeout(policy.idle) {
                Ok(job) => job,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    writer.commit_journal(database);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        } else {
            match receiver.recv() {
                Ok(job) => job,
                Err(_) => break,
            }
        };
        let mut batch = vec![first];
        while batch.len() < MAXIMUM_BATCH {
            match receiver.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        writer.run_batch(database, batch, numbers);
        if writer.journal.holds_entries() && writer.journal.due(policy.bytes, policy.age) {
            writer.commit_journal(database);
        }
    }
    if writer.journal.holds_entries() {
        writer.commit_journal(database);
    }
}

/// What the writer thread keeps between batches.
struct Writer {
    journal: Journal,
    /// Whether a commit failed because the disk was full. redb then refuses every write with
    /// "previous I/O error" until the relay restarts; those refusals are told as the full
    /// disk they come from.
    disk_filled: bool,
}

impl Writer {
    /// The error to tell a caller: `error`, or the full disk behind it.
    fn explain(&mut self, error: StoreError) -> StoreError {
        match error {
            StoreError::Full => {
                self.disk_filled = true;
                StoreError::Full
            }
            StoreError::Failed(_) if self.disk_filled => StoreError::Full,
            other => other,
        }
    }

    /// Commits durably, covering every entry in the journal, and starts its next generation.
    /// On failure the journal stays as it is (its entries are stored again after a crash)
    /// and the writer tries again later.
    fn commit_journal(&mut self, database: &Database) {
        let next = self.journal.generation() + 1;
        let committed = database
            .begin_write()
            .map_err(StoreError::from)
            .and_then(|transaction| {
                transaction
                    .open_table(COUNTERS)?
                    .insert(JOURNAL_GENERATION, next)?;
                transaction.commit()?;
                Ok(())
            });
        match committed {
            Ok(()) => self.journal.start(next),
            Err(error) => {
                let error = self.explain(error);
                tracing::warn!("a durable commit of the journal failed: {error}");
            }
        }
    }

    fn run_batch(&mut self, database: &Database, batch: Vec<Job>, numbers: &Mutex<NumberCache>) {
        let journal = &mut self.journal;
        let mut durability = batch
            .iter()
            .map(|job| job.durability)
            .max()
            .unwrap_or(Durability::Later);
        if durability == Durability::Journaled && !journal.usable() {
            durability = Durability::Commit;
        }
        let transaction = match database.begin_write() {
            Ok(mut transaction) => {
                if durability != Durability::Commit {
                    // Cannot fail: no persistent savepoint is touched here.
                    let _ = transaction.set_durability(redb::Durability::None);
                }
                transaction
            }
            Err(error) => {
                let error = self.explain(StoreError::from(error));
                for job in batch {
                    (job.work)(Turn::Skip(error.again()));
                }
                return;
            }
        };
        let mut answers = Vec::with_capacity(batch.len());
        let mut entries = Vec::new();
        let mut failure: Option<StoreError> = None;
        for job in batch {
            if let Some(error) = &failure {
                (job.work)(Turn::Skip(error.again()));
                continue;
            }
            if let Some(ran) = (job.work)(Turn::Run(&transaction, &mut entries)) {
                failure = ran.aborts;
                answers.push(ran.answer);
            }
        }
        let mut numbers = numbers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if failure.is_none() {
            failure = numbers.save(&transaction).err();
        }
        let next_generation = journal.generation() + 1;
        if failure.is_none() && durability == Durability::Commit {
            // This commit covers the journal so far: after it, the next generation.
            let mark = || -> Result<(), StoreError> {
                transaction
                    .open_table(COUNTERS)?
                    .insert(JOURNAL_GENERATION, next_generation)?;
                Ok(())
            };
            failure = mark().err();
        }
        let journal_end = journal.end();
        if failure.is_none() && durability == Durability::Journaled && !entries.is_empty() {
            failure = journal.append(&entries).err();
        }
        let commit = match failure {
            Some(error) => {
                let _ = transaction.abort();
                Err(error)
            }
            None => transaction.commit().map_err(StoreError::from),
        };
        if commit.is_err() {
            *numbers = NumberCache::default();
            if journal.end() != journal_end {
                journal.take_back(journal_end);
            }
        } else if durability == Durability::Commit {
            journal.start(next_generation);
        }
        drop(numbers);
        let commit = commit.map_err(|error| self.explain(error));
        for answer in answers {
            answer(commit.as_ref().map(|_| ()));
        }
    }
}

/// The counter that numbers an organisation's messages.
pub(super) fn counter_name(key: &str) -> String {
    format!("next_message/{key}")
}

/// The counter of a recipient's own numbering (`/` appears in no directory id).
pub(super) fn recipient_counter(organisation: &str, recipient: &str) -> String {
    format!("{organisation}/{recipient}")
}
