//! Case records: the office's shared state of a case (status, assignee, labels, internal
//! notes; see `meldpunt_crypto::CaseBoard`), each sealed by a member to the keys of the
//! recipients the case is addressed to. They are kept apart from the mailbox's messages: the
//! reporter's token never lists, fetches or counts them. Each record is stored once and
//! numbered in the record numbering of every recipient the mailbox is addressed to when it
//! arrives, so every member of every such recipient lists it through their own session.
//! They count against the office's byte quota of their mailbox and go with it when
//! retention deletes it.
//!
//! This module never serves a record to a session of a recipient the mailbox is not
//! addressed to, and stores nothing but the sealed bytes, a size and a day.

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{
    decode, encode, list_numbered, MailboxLimits, MailboxRecord, RecipientScope, Store, StoreError,
    CASE_RECORDS, CASE_RECORD_BODIES, COUNTERS, MAILBOXES,
};
use crate::clock::day_number;

/// A case record's metadata, as one recipient numbers it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct CaseRecordEntry {
    /// The mailbox it is about.
    pub mailbox: [u8; 32],
    /// Its place among the mailbox's records (where its body is).
    pub index: u32,
    /// Day stored.
    pub day: u32,
    /// Sealed size in bytes.
    pub size: u64,
}

/// The counter of a recipient's record numbers in [`COUNTERS`]: kept rather than taken from
/// the last key, so that a number retention deleted is never given again.
fn counter_name(organisation: &str, recipient: &str) -> String {
    format!("next_case_record/{organisation}/{recipient}")
}

impl Store {
    /// Stores a sealed case record about `mailbox`, which must be addressed to `scope`'s
    /// recipient; returns that recipient's number for it.
    pub(crate) async fn put_case_record(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Result<u64, StoreError> {
        self.write(move |transaction| {
            let mut record: MailboxRecord = {
                let mailboxes = transaction.open_table(MAILBOXES)?;
                let Some(bytes) = mailboxes.get(mailbox)? else {
                    return Err(StoreError::MailboxNotFound);
                };
                decode(bytes.value())?
            };
            let size = sealed.len() as u64;
            let index = record.admit_case_record(&scope, size, &limits)?;
            let stored = CaseRecordEntry {
                mailbox,
                index,
                day: day_number(),
                size,
            };
            let mut own_number = 0;
            {
                let mut counters = transaction.open_table(COUNTERS)?;
                let mut entries = transaction.open_table(CASE_RECORDS)?;
                for recipient in &record.recipients {
                    let name = counter_name(&record.organisation, recipient);
                    let number = counters.get(name.as_str())?.map_or(1, |next| next.value());
                    counters.insert(name.as_str(), number + 1)?;
                    entries.insert(
                        (record.organisation.as_str(), recipient.as_str(), number),
                        encode(&stored).as_slice(),
                    )?;
                    if *recipient == scope.recipient {
                        own_number = number;
                    }
                    record.case_record_numbers.push((recipient.clone(), number));
                }
            }
            transaction
                .open_table(CASE_RECORD_BODIES)?
                .insert((mailbox, index), sealed.as_slice())?;
            transaction
                .open_table(MAILBOXES)?
                .insert(mailbox, encode(&record).as_slice())?;
            Ok(own_number)
        })
        .await
    }

    /// The case records `scope`'s recipient numbers after `after`, at most `limit`, with
    /// their numbers.
    pub(crate) async fn list_case_records(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, CaseRecordEntry)>, StoreError> {
        self.read(move |transaction| {
            list_numbered(&transaction.open_table(CASE_RECORDS)?, &scope, after, limit)
        })
        .await
    }

    /// The sealed bytes of the case record `scope`'s recipient numbers `number`.
    pub(crate) async fn case_record(
        &self,
        scope: RecipientScope,
        number: u64,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |transaction| {
            let key = (
                scope.organisation.as_str(),
                scope.recipient.as_str(),
                number,
            );
            let Some(entry) = transaction.open_table(CASE_RECORDS)?.get(key)? else {
                return Ok(None);
            };
            let entry: CaseRecordEntry = decode(entry.value())?;
            Ok(transaction
                .open_table(CASE_RECORD_BODIES)?
                .get((entry.mailbox, entry.index))?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }
}

/// Deletes a mailbox's case records (retention deletes the mailbox); returns how many.
pub(super) fn remove_case_records(
    transaction: &redb::WriteTransaction,
    mailbox: [u8; 32],
    record: &MailboxRecord,
) -> Result<u64, StoreError> {
    let mut entries = transaction.open_table(CASE_RECORDS)?;
    for (recipient, number) in &record.case_record_numbers {
        entries.remove((record.organisation.as_str(), recipient.as_str(), *number))?;
    }
    transaction
        .open_table(CASE_RECORD_BODIES)?
        .retain_in((mailbox, 0)..=(mailbox, u32::MAX), |_, _| false)?;
    Ok(u64::from(record.case_records))
}
