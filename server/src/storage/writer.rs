//! The group-commit writer: one thread takes every write that is waiting, runs them in one
//! transaction, commits it durably once and only then answers each caller; and the numbers
//! each organisation gives its messages, kept by that thread.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use redb::{Database, ReadTransaction, ReadableDatabase, ReadableTable, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;
use super::{Store, COUNTERS, FIRST_NUMBER, MAXIMUM_BATCH};

/// A write waiting for the writer thread, with its caller's typed answer inside.
pub(super) struct Job {
    /// Runs the write in the batch's transaction, or tells its caller the batch failed
    /// before it ran.
    work: Box<dyn FnOnce(Turn<'_>) -> Option<Ran> + Send>,
    /// Whether the caller needs this write on disk before hearing "done". Only the chunks of
    /// an upload in progress do not: the durable commit that completes the upload persists
    /// them too (redb makes every earlier commit durable with a durable one).
    durable: bool,
}

/// What the writer does with a job.
enum Turn<'a> {
    /// Run it in this transaction.
    Run(&'a WriteTransaction),
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
        self.submit(work, true).await
    }

    pub(super) async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&WriteTransaction) -> Result<T, StoreError> + Send + 'static,
        durable: bool,
    ) -> Result<T, StoreError> {
        let (reply, answer) = oneshot::channel::<Result<T, StoreError>>();
        let job = Job {
            work: Box::new(move |turn| match turn {
                Turn::Skip(error) => {
                    let _ = reply.send(Err(error));
                    None
                }
                Turn::Run(transaction) => {
                    let result = work(transaction);
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
            durable,
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
            let error = StoreError::from(error);
            for job in batch {
                (job.work)(Turn::Skip(error.again()));
            }
            return;
        }
    };
    let mut answers = Vec::with_capacity(batch.len());
    let mut failure: Option<StoreError> = None;
    for job in batch {
        if let Some(error) = &failure {
            (job.work)(Turn::Skip(error.again()));
            continue;
        }
        if let Some(ran) = (job.work)(Turn::Run(&transaction)) {
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
    let commit = match failure {
        Some(error) => {
            let _ = transaction.abort();
            Err(error)
        }
        None => transaction.commit().map_err(StoreError::from),
    };
    if commit.is_err() {
        *numbers = NumberCache::default();
    }
    drop(numbers);
    for answer in answers {
        answer(commit.as_ref().map(|_| ()));
    }
}

/// The counter that numbers an organisation's messages.
fn counter_name(key: &str) -> String {
    format!("next_message/{key}")
}

/// The counter of a recipient's own numbering (`/` appears in no directory id).
fn recipient_counter(organisation: &str, recipient: &str) -> String {
    format!("{organisation}/{recipient}")
}
