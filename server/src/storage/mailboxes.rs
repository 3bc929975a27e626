//! Mailboxes and their messages: creating a mailbox with its report, appending, listing
//! for the reporter (by position) and the office (by its organisation's number).

use std::sync::{Arc, Mutex};

use redb::{ReadableTable, WriteTransaction};

use super::writer::NumberCache;
use super::StoreError;
use super::{
    decode, encode, Author, MailboxLimits, MailboxRecord, MessageRecord, Store, MAILBOXES,
    MAILBOX_MESSAGES, ORGANISATION_MESSAGES, SEALED_MESSAGES, SPENT_STAMPS,
};
use crate::clock::day_number;

impl Store {
    /// Creates a mailbox holding its first message, recording the stamp nonce as spent.
    pub(crate) async fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        sealed: Vec<u8>,
        spent_stamp: Option<meldpunt_crypto::SpentStamp>,
    ) -> Result<u64, StoreError> {
        let numbers = Arc::clone(&self.numbers);
        self.write(move |transaction| {
            let mailboxes = transaction.open_table(MAILBOXES)?;
            if mailboxes.get(mailbox)?.is_some() {
                return Err(StoreError::MailboxExists);
            }
            if let Some(spent) = spent_stamp {
                let mut spent_stamps = transaction.open_table(SPENT_STAMPS)?;
                if spent_stamps.get(spent.nonce)?.is_some() {
                    return Err(StoreError::StampSpent);
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
    pub(crate) async fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        required_organisation: Option<String>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<(u32, u64), StoreError> {
        let numbers = Arc::clone(&self.numbers);
        self.write(move |transaction| {
            let record: MailboxRecord = {
                let mailboxes = transaction.open_table(MAILBOXES)?;
                let Some(bytes) = mailboxes.get(mailbox)? else {
                    return Err(StoreError::MailboxNotFound);
                };
                decode(bytes.value())?
            };
            if required_organisation.is_some_and(|organisation| organisation != record.organisation)
            {
                return Err(StoreError::MailboxNotFound);
            }
            if record.messages >= limits.messages {
                return Err(StoreError::MailboxFull("messages"));
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
    pub(crate) async fn mailbox(
        &self,
        mailbox: [u8; 32],
    ) -> Result<Option<MailboxRecord>, StoreError> {
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
    pub(crate) async fn list_mailbox(
        &self,
        mailbox: [u8; 32],
        after: u32,
        limit: usize,
    ) -> Result<Option<Vec<MessageRecord>>, StoreError> {
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
    pub(crate) async fn mailbox_message(
        &self,
        mailbox: [u8; 32],
        position: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
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
    pub(crate) async fn list_organisation(
        &self,
        organisation: String,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, MessageRecord)>, StoreError> {
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
    pub(crate) async fn organisation_message(
        &self,
        organisation: String,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |transaction| {
            let bodies = transaction.open_table(SEALED_MESSAGES)?;
            Ok(bodies
                .get((organisation.as_str(), number))?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }

    /// Marks message `number` fetched, if it belongs to `organisation`.
    pub(crate) async fn mark_fetched(
        &self,
        organisation: String,
        number: u64,
    ) -> Result<(), StoreError> {
        self.write(move |transaction| {
            let mut index = transaction.open_table(ORGANISATION_MESSAGES)?;
            let key = (organisation.as_str(), number);
            let mut record: MessageRecord = match index.get(key)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(StoreError::MessageNotFound),
            };
            if !record.fetched {
                record.fetched = true;
                index.insert(key, encode(&record).as_slice())?;
            }
            Ok(())
        })
        .await
    }
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
) -> Result<u64, StoreError> {
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
