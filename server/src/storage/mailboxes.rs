//! Mailboxes and their messages: creating a mailbox with its report, appending, listing
//! for the reporter (by position) and for an office session (by its recipient's own
//! number). An office session reaches only mailboxes addressed to its recipient: this module
//! never lists, counts, serves or writes anything of another recipient's mailbox to it.

use std::sync::{Arc, Mutex};

use redb::{ReadableTable, WriteTransaction};

use super::writer::{counter_name, recipient_counter, Durability, NumberCache};
use super::StoreError;
use super::{
    decode, encode, Author, MailboxLimits, MailboxRecord, MessageRecord, RecipientScope, Store,
    COUNTERS, FRAGMENT_LENGTH, MAILBOXES, ORGANISATION_MESSAGES, RECIPIENT_MESSAGES,
    SEALED_TABLE_PREFIX, SPENT_STAMPS, WALLS_PENDING,
};
use crate::clock::day_number;

impl Store {
    /// Creates a mailbox addressed to `recipients` of `organisation` holding its first
    /// message, recording the stamp nonce as spent.
    pub(crate) async fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        recipients: Vec<String>,
        sealed: Vec<u8>,
        spent_stamp: Option<meldpunt_crypto::SpentStamp>,
    ) -> Result<u64, StoreError> {
        let numbers = Arc::clone(&self.numbers);
        let journaled = sealed.len() <= super::journal::ENTRY_LIMIT;
        self.submit_journaled(
            move |transaction| {
                if transaction.open_table(MAILBOXES)?.get(mailbox)?.is_some() {
                    return Err(StoreError::MailboxExists);
                }
                if let Some(spent) = &spent_stamp {
                    if transaction
                        .open_table(SPENT_STAMPS)?
                        .get(spent.nonce)?
                        .is_some()
                    {
                        return Err(StoreError::StampSpent);
                    }
                }
                let day = day_number();
                let record = MailboxRecord::new(organisation, recipients, day);
                let (number, recipient_numbers) = take_numbers(transaction, &numbers, &record)?;
                let creation = Creation {
                    mailbox,
                    // In the order the reporter named them.
                    recipients: record
                        .recipients
                        .iter()
                        .map(|recipient| (recipient.clone(), recipient_numbers[recipient]))
                        .collect(),
                    organisation: record.organisation,
                    number,
                    day,
                    spent_stamp: spent_stamp.map(|spent| (spent.nonce, spent.expires_at)),
                    sealed,
                };
                let entry = if journaled {
                    Some(creation.encode()?)
                } else {
                    None
                };
                store_creation(transaction, &creation)?;
                Ok((number, entry))
            },
            if journaled {
                Durability::Journaled
            } else {
                Durability::Commit
            },
        )
        .await
    }

    /// Appends a message to an existing mailbox. An office session (`office`) may append only
    /// to a mailbox addressed to its recipient. Returns the position and, for an office, its
    /// recipient's number of the message (else the organisation's).
    pub(crate) async fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
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
            record.reachable_by(office.as_ref())?;
            record.room_for_a_message(&limits)?;
            let message = append(
                transaction,
                &numbers,
                mailbox,
                record,
                author,
                &sealed,
                limits.bytes,
            )?;
            let number = office
                .and_then(|scope| message.recipient_numbers.get(&scope.recipient).copied())
                .unwrap_or(message.number);
            Ok((message.position, number))
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
            let Some(bytes) = mailboxes.get(mailbox)? else {
                return Ok(None);
            };
            let record: MailboxRecord = decode(bytes.value())?;
            let records = transaction.open_table(ORGANISATION_MESSAGES)?;
            let mut found = Vec::new();
            for number in record
                .message_numbers
                .iter()
                .skip(after as usize)
                .take(limit)
            {
                if let Some(message) = records.get((record.organisation.as_str(), *number))? {
                    found.push(decode(message.value())?);
                }
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
            let mailboxes = transaction.open_table(MAILBOXES)?;
            let Some(bytes) = mailboxes.get(mailbox)? else {
                return Ok(None);
            };
            let record: MailboxRecord = decode(bytes.value())?;
            let Some(number) = record.message_number(position) else {
                return Ok(None);
            };
            read_body(transaction, &record.organisation, number)
        })
        .await
    }

    /// The messages addressed to `scope`'s recipient numbered (in its own numbering) after
    /// `after`, at most `limit`, with those numbers.
    pub(crate) async fn list_recipient(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, MessageRecord)>, StoreError> {
        self.read(move |transaction| {
            let index = transaction.open_table(RECIPIENT_MESSAGES)?;
            let records = transaction.open_table(ORGANISATION_MESSAGES)?;
            let mut found = Vec::new();
            let (organisation, recipient) = (scope.organisation.as_str(), scope.recipient.as_str());
            let start = (organisation, recipient, after.saturating_add(1));
            let end = (organisation, recipient, u64::MAX);
            for entry in index.range(start..=end)?.take(limit) {
                let (key, value) = entry?;
                let (number, fetched) = value.value();
                if let Some(record) = records.get((organisation, number))? {
                    let mut record: MessageRecord = decode(record.value())?;
                    record.fetched = fetched;
                    found.push((key.value().2, record));
                }
            }
            Ok(found)
        })
        .await
    }

    /// The sealed bytes of the message `scope`'s recipient numbers `number`.
    pub(crate) async fn recipient_message(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |transaction| {
            let index = transaction.open_table(RECIPIENT_MESSAGES)?;
            let key = (
                scope.organisation.as_str(),
                scope.recipient.as_str(),
                number,
            );
            let Some((number, _)) = index.get(key)?.map(|value| value.value()) else {
                return Ok(None);
            };
            read_body(transaction, &scope.organisation, number)
        })
        .await
    }

    /// Marks the message `scope`'s recipient numbers `number` fetched.
    pub(crate) async fn mark_fetched(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<(), StoreError> {
        self.write(move |transaction| {
            let mut index = transaction.open_table(RECIPIENT_MESSAGES)?;
            let key = (
                scope.organisation.as_str(),
                scope.recipient.as_str(),
                number,
            );
            let (organisation_number, fetched) = index
                .get(key)?
                .map(|value| value.value())
                .ok_or(StoreError::MessageNotFound)?;
            if !fetched {
                index.insert(key, (organisation_number, true))?;
            }
            Ok(())
        })
        .await
    }

    /// Addresses a mailbox to `recipients` too (a process guide who joins, say): each new
    /// one gets every message already in it, in its own numbering, and every later one.
    /// Returns all the mailbox's recipients.
    pub(crate) async fn add_recipients(
        &self,
        mailbox: [u8; 32],
        recipients: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        let numbers = Arc::clone(&self.numbers);
        self.write(move |transaction| {
            let mut record: MailboxRecord = {
                let mailboxes = transaction.open_table(MAILBOXES)?;
                let Some(bytes) = mailboxes.get(mailbox)? else {
                    return Err(StoreError::MailboxNotFound);
                };
                decode(bytes.value())?
            };
            let new: Vec<String> = recipients
                .into_iter()
                .filter(|recipient| !record.recipients.contains(recipient))
                .collect();
            if new.is_empty() {
                return Ok(record.recipients);
            }
            let mut messages: Vec<MessageRecord> = messages_of(transaction, &record)?;
            let mut numbers = numbers
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for recipient in &new {
                for message in &mut messages {
                    let own =
                        numbers.take_for_recipient(transaction, &record.organisation, recipient)?;
                    message.recipient_numbers.insert(recipient.clone(), own);
                }
            }
            drop(numbers);
            for message in &messages {
                index_for_recipients(transaction, message, &new)?;
                save_message(transaction, message)?;
            }
            record.recipients.extend(new);
            transaction
                .open_table(MAILBOXES)?
                .insert(mailbox, encode(&record).as_slice())?;
            Ok(record.recipients)
        })
        .await
    }
}

/// Addresses every mailbox from before store format 3 to the recipients its organisation has
/// in `directory` (organisation id → recipient ids): the office sessions that could see it
/// before still do, under the numbers they saw it by, with the fetched marks they had; and
/// starts each of those recipients' numbering where its organisation's stands (never lower
/// than it is), so that an office cursor from before misses nothing after. Runs in the
/// transaction that opens the store, before anything is served. A mailbox whose organisation
/// the directory does not list stays unaddressed (no session sees it) and is tried again at
/// the next start.
pub(super) fn address_earlier_mailboxes(
    transaction: &WriteTransaction,
    numbers: &mut NumberCache,
    directory: &std::collections::BTreeMap<String, Vec<String>>,
) -> Result<EarlierMailboxes, StoreError> {
    let pending = transaction
        .open_table(COUNTERS)?
        .get(WALLS_PENDING)?
        .is_some_and(|flag| flag.value() == 1);
    let mut outcome = EarlierMailboxes::default();
    if !pending {
        return Ok(outcome);
    }
    let mut addressed = std::collections::HashMap::new();
    {
        let mut mailboxes = transaction.open_table(MAILBOXES)?;
        let mut updated = Vec::new();
        for entry in mailboxes.iter()? {
            let (id, bytes) = entry?;
            let mut record: MailboxRecord = decode(bytes.value())?;
            if !record.recipients.is_empty() {
                continue;
            }
            match directory.get(&record.organisation) {
                Some(recipients) if !recipients.is_empty() => {
                    record.recipients = recipients.clone();
                    addressed.insert(id.value(), record.recipients.clone());
                    updated.push((id.value(), record));
                }
                _ => outcome.unaddressed += 1,
            }
        }
        for (id, record) in updated {
            mailboxes.insert(id, encode(&record).as_slice())?;
        }
    }
    let mut messages = Vec::new();
    for entry in transaction.open_table(ORGANISATION_MESSAGES)?.iter()? {
        let message: MessageRecord = decode(entry?.1.value())?;
        if addressed.contains_key(&message.mailbox) {
            messages.push(message);
        }
    }
    for message in &mut messages {
        let recipients = &addressed[&message.mailbox];
        for recipient in recipients {
            message
                .recipient_numbers
                .insert(recipient.clone(), message.number);
        }
        index_for_recipients(transaction, message, recipients)?;
        save_message(transaction, message)?;
    }
    // Numbering goes on above every number an office has seen.
    for (organisation, recipients) in directory {
        let next = numbers.peek(transaction, organisation)?;
        for recipient in recipients {
            numbers.start_recipient_at(transaction, organisation, recipient, next)?;
        }
    }
    if outcome.unaddressed == 0 {
        transaction.open_table(COUNTERS)?.remove(WALLS_PENDING)?;
    }
    outcome.addressed = addressed.len() as u64;
    Ok(outcome)
}

/// What addressing the mailboxes from before store format 3 did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EarlierMailboxes {
    /// Mailboxes addressed to their organisation's recipients.
    pub addressed: u64,
    /// Mailboxes left unaddressed: their organisation is not in the directory.
    pub unaddressed: u64,
}

/// Files `message` in the index of each of `recipients`, under its number for them.
fn index_for_recipients(
    transaction: &WriteTransaction,
    message: &MessageRecord,
    recipients: &[String],
) -> Result<(), StoreError> {
    let mut index = transaction.open_table(RECIPIENT_MESSAGES)?;
    for recipient in recipients {
        if let Some(own) = message.recipient_numbers.get(recipient) {
            let key = (message.organisation.as_str(), recipient.as_str(), *own);
            // A number is never given twice: one taken already is a broken counter, and
            // overwriting it would hide a message from its office.
            if index.get(key)?.is_some() {
                return Err(StoreError::Failed(format!(
                    "message number {own} of {}/{recipient} is taken already",
                    message.organisation
                )));
            }
            index.insert(key, (message.number, message.fetched))?;
        }
    }
    Ok(())
}

/// Writes a message's record, under its organisation's number.
fn save_message(transaction: &WriteTransaction, message: &MessageRecord) -> Result<(), StoreError> {
    transaction.open_table(ORGANISATION_MESSAGES)?.insert(
        (message.organisation.as_str(), message.number),
        encode(message).as_slice(),
    )?;
    Ok(())
}

/// The records of every message in the mailbox `record`, by position.
pub(super) fn messages_of(
    transaction: &WriteTransaction,
    record: &MailboxRecord,
) -> Result<Vec<MessageRecord>, StoreError> {
    let records = transaction.open_table(ORGANISATION_MESSAGES)?;
    let mut messages = Vec::with_capacity(record.message_numbers.len());
    for number in &record.message_numbers {
        if let Some(message) = records.get((record.organisation.as_str(), *number))? {
            messages.push(decode(message.value())?);
        }
    }
    Ok(messages)
}

/// Stores a message at the next position of its mailbox, the next number of its
/// organisation and the next number of each of its recipients; refuses (changing nothing) if
/// it passes `author`'s byte quota.
fn append(
    transaction: &WriteTransaction,
    numbers: &Mutex<NumberCache>,
    mailbox: [u8; 32],
    record: MailboxRecord,
    author: Author,
    sealed: &[u8],
    quota: u64,
) -> Result<MessageRecord, StoreError> {
    // Refused before a number is taken.
    record.clone().take(author, sealed.len() as u64, quota)?;
    let (number, recipient_numbers) = take_numbers(transaction, numbers, &record)?;
    let message = Numbered {
        number,
        recipient_numbers,
        day: day_number(),
    };
    store_message(transaction, mailbox, record, author, sealed, quota, message)
}

/// The numbers a new message of the mailbox `record` takes: its organisation's next, and
/// each of its recipients' next.
fn take_numbers(
    transaction: &WriteTransaction,
    numbers: &Mutex<NumberCache>,
    record: &MailboxRecord,
) -> Result<(u64, std::collections::BTreeMap<String, u64>), StoreError> {
    let mut numbers = numbers
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let mut recipient_numbers = std::collections::BTreeMap::new();
    for recipient in &record.recipients {
        let own = numbers.take_for_recipient(transaction, &record.organisation, recipient)?;
        recipient_numbers.insert(recipient.clone(), own);
    }
    let number = numbers.take(transaction, &record.organisation)?;
    Ok((number, recipient_numbers))
}

/// A message's numbers and day, given before it is stored.
struct Numbered {
    number: u64,
    recipient_numbers: std::collections::BTreeMap<String, u64>,
    day: u32,
}

/// Stores a numbered message at the next position of its mailbox; refuses (changing nothing)
/// if it passes `author`'s byte quota.
fn store_message(
    transaction: &WriteTransaction,
    mailbox: [u8; 32],
    mut record: MailboxRecord,
    author: Author,
    sealed: &[u8],
    quota: u64,
    numbered: Numbered,
) -> Result<MessageRecord, StoreError> {
    let Numbered {
        number,
        recipient_numbers,
        day,
    } = numbered;
    record.take(author, sealed.len() as u64, quota)?;
    record.messages += 1;
    record.message_numbers.push(number);
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
        recipient_numbers,
    };
    write_body(transaction, &record.organisation, number, sealed)?;
    save_message(transaction, &message)?;
    index_for_recipients(transaction, &message, &record.recipients)?;
    transaction
        .open_table(MAILBOXES)?
        .insert(mailbox, encode(&record).as_slice())?;
    Ok(message)
}

/// The name of `organisation`'s table of sealed messages.
pub(super) fn sealed_table(organisation: &str) -> String {
    format!("{SEALED_TABLE_PREFIX}{organisation}")
}

/// The definition of the table of sealed messages named `name`.
pub(super) fn sealed_definition(
    name: &str,
) -> redb::TableDefinition<'_, (u64, u32), &'static [u8]> {
    redb::TableDefinition::new(name)
}

/// Stores the sealed bytes of `organisation`'s message `number`, in fragments.
pub(super) fn write_body(
    transaction: &WriteTransaction,
    organisation: &str,
    number: u64,
    sealed: &[u8],
) -> Result<(), StoreError> {
    let name = sealed_table(organisation);
    let mut bodies = transaction.open_table(sealed_definition(&name))?;
    for (index, fragment) in sealed.chunks(FRAGMENT_LENGTH).enumerate() {
        let index = u32::try_from(index)
            .map_err(|_| StoreError::Failed("a message of more than 2^32 fragments".into()))?;
        bodies.insert((number, index), fragment)?;
    }
    Ok(())
}

/// The sealed bytes of `organisation`'s message `number`, put together from its fragments.
pub(super) fn read_body(
    transaction: &redb::ReadTransaction,
    organisation: &str,
    number: u64,
) -> Result<Option<Vec<u8>>, StoreError> {
    let name = sealed_table(organisation);
    let bodies = match transaction.open_table(sealed_definition(&name)) {
        Ok(bodies) => bodies,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    let mut body: Option<Vec<u8>> = None;
    for entry in bodies.range((number, 0)..=(number, u32::MAX))? {
        let (_, fragment) = entry?;
        body.get_or_insert_with(|| Vec::with_capacity(8 * FRAGMENT_LENGTH))
            .extend_from_slice(fragment.value());
    }
    Ok(body)
}

/// Removes the sealed bytes of `organisation`'s message `number`.
pub(super) fn remove_body(
    transaction: &WriteTransaction,
    organisation: &str,
    number: u64,
) -> Result<(), StoreError> {
    let name = sealed_table(organisation);
    transaction
        .open_table(sealed_definition(&name))?
        .retain_in((number, 0)..=(number, u32::MAX), |_, _| false)?;
    Ok(())
}

/// A new report as the journal keeps it: everything needed to store it again exactly as it
/// was first stored (the numbers it was given, its day, the stamp it spent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Creation {
    pub mailbox: [u8; 32],
    pub organisation: String,
    /// Each recipient it is addressed to, with its number in that recipient's numbering.
    pub recipients: Vec<(String, u64)>,
    /// Its organisation's number.
    pub number: u64,
    pub day: u32,
    /// The spent stamp's nonce and expiry.
    pub spent_stamp: Option<([u8; 16], u64)>,
    pub sealed: Vec<u8>,
}

/// The layout of a journal entry's payload.
const CREATION_VERSION: u8 = 1;

impl Creation {
    /// Its journal payload: a version byte, then the fields in order, each string and the
    /// sealed bytes preceded by their length (little-endian). Refuses what the layout cannot
    /// hold (an id over 65,535 bytes, say) before anything is stored.
    pub(super) fn encode(&self) -> Result<Vec<u8>, StoreError> {
        let too_long = || StoreError::Failed("a new report too large for the journal".into());
        let mut bytes = Vec::with_capacity(self.sealed.len() + 128);
        bytes.push(CREATION_VERSION);
        bytes.extend_from_slice(&self.mailbox);
        bytes.extend_from_slice(&self.day.to_le_bytes());
        bytes.extend_from_slice(&self.number.to_le_bytes());
        match &self.spent_stamp {
            Some((nonce, expires_at)) => {
                bytes.push(1);
                bytes.extend_from_slice(nonce);
                bytes.extend_from_slice(&expires_at.to_le_bytes());
            }
            None => bytes.push(0),
        }
        put_text(&mut bytes, &self.organisation).ok_or_else(too_long)?;
        let count = u16::try_from(self.recipients.len()).map_err(|_| too_long())?;
        bytes.extend_from_slice(&count.to_le_bytes());
        for (recipient, number) in &self.recipients {
            put_text(&mut bytes, recipient).ok_or_else(too_long)?;
            bytes.extend_from_slice(&number.to_le_bytes());
        }
        let length = u32::try_from(self.sealed.len()).map_err(|_| too_long())?;
        bytes.extend_from_slice(&length.to_le_bytes());
        bytes.extend_from_slice(&self.sealed);
        Ok(bytes)
    }

    /// Reads a journal payload; refuses anything but exactly one whole creation.
    pub(super) fn decode(bytes: &[u8]) -> Result<Creation, StoreError> {
        let corrupt = || StoreError::Failed("corrupt journal entry".into());
        let mut reader = Reader(bytes);
        if reader.take(1).ok_or_else(corrupt)? != [CREATION_VERSION] {
            return Err(corrupt());
        }
        let mailbox = reader.array::<32>().ok_or_else(corrupt)?;
        let day = u32::from_le_bytes(reader.array().ok_or_else(corrupt)?);
        let number = u64::from_le_bytes(reader.array().ok_or_else(corrupt)?);
        let spent_stamp = match reader.take(1).ok_or_else(corrupt)? {
            [0] => None,
            [1] => Some((
                reader.array::<16>().ok_or_else(corrupt)?,
                u64::from_le_bytes(reader.array().ok_or_else(corrupt)?),
            )),
            _ => return Err(corrupt()),
        };
        let organisation = reader.text().ok_or_else(corrupt)?;
        let count = u16::from_le_bytes(reader.array().ok_or_else(corrupt)?);
        let mut recipients = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let recipient = reader.text().ok_or_else(corrupt)?;
            recipients.push((
                recipient,
                u64::from_le_bytes(reader.array().ok_or_else(corrupt)?),
            ));
        }
        let length = u32::from_le_bytes(reader.array().ok_or_else(corrupt)?);
        let sealed = reader.take(length as usize).ok_or_else(corrupt)?.to_vec();
        if !reader.0.is_empty() {
            return Err(corrupt());
        }
        Ok(Creation {
            mailbox,
            organisation,
            recipients,
            number,
            day,
            spent_stamp,
            sealed,
        })
    }
}

fn put_text(bytes: &mut Vec<u8>, text: &str) -> Option<()> {
    bytes.extend_from_slice(&u16::try_from(text.len()).ok()?.to_le_bytes());
    bytes.extend_from_slice(text.as_bytes());
    Some(())
}

/// Reads a payload front to back.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, length: usize) -> Option<&'a [u8]> {
        if self.0.len() < length {
            return None;
        }
        let (taken, rest) = self.0.split_at(length);
        self.0 = rest;
        Some(taken)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn text(&mut self) -> Option<String> {
        let length = u16::from_le_bytes(self.array()?);
        String::from_utf8(self.take(usize::from(length))?.to_vec()).ok()
    }
}

/// Stores a new report: its mailbox holding it as its first message, under the numbers it
/// was given, and the stamp it spent.
fn store_creation(transaction: &WriteTransaction, creation: &Creation) -> Result<(), StoreError> {
    if let Some((nonce, expires_at)) = creation.spent_stamp {
        transaction
            .open_table(SPENT_STAMPS)?
            .insert(nonce, expires_at)?;
    }
    let recipients = creation
        .recipients
        .iter()
        .map(|(recipient, _)| recipient.clone())
        .collect();
    let record = MailboxRecord::new(creation.organisation.clone(), recipients, creation.day);
    let numbered = Numbered {
        number: creation.number,
        recipient_numbers: creation.recipients.iter().cloned().collect(),
        day: creation.day,
    };
    store_message(
        transaction,
        creation.mailbox,
        record,
        Author::Reporter,
        &creation.sealed,
        u64::MAX,
        numbered,
    )?;
    Ok(())
}

/// Stores again the new reports the journal holds (payloads in order), as the store opens
/// after a crash, and moves each counter they used past their numbers. A report stored
/// already is left as it is.
pub(super) fn store_journaled(
    transaction: &WriteTransaction,
    payloads: &[Vec<u8>],
) -> Result<(), StoreError> {
    for payload in payloads {
        let creation = Creation::decode(payload)?;
        if transaction
            .open_table(MAILBOXES)?
            .get(creation.mailbox)?
            .is_some()
        {
            continue;
        }
        // A number given already means the journal is not this store's: refuse to start
        // rather than mix another store's report into this one.
        if transaction
            .open_table(ORGANISATION_MESSAGES)?
            .get((creation.organisation.as_str(), creation.number))?
            .is_some()
        {
            return Err(StoreError::Failed(format!(
                "the journal's report number {} of {} is taken in the store already: the journal does not belong to it",
                creation.number, creation.organisation
            )));
        }
        store_creation(transaction, &creation)?;
        let mut counters = transaction.open_table(COUNTERS)?;
        let mut move_past = |key: String, number: u64| -> Result<(), StoreError> {
            let next = counters.get(key.as_str())?.map_or(0, |value| value.value());
            if next <= number {
                counters.insert(key.as_str(), number + 1)?;
            }
            Ok(())
        };
        move_past(counter_name(&creation.organisation), creation.number)?;
        for (recipient, number) in &creation.recipients {
            move_past(
                counter_name(&recipient_counter(&creation.organisation, recipient)),
                *number,
            )?;
        }
    }
    if !payloads.is_empty() {
        tracing::info!(
            "stored again {} new reports from the journal",
            payloads.len()
        );
    }
    Ok(())
}
