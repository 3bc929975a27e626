//! Hand-overs: sealed messages of a case that one member of a recipient passes to a
//! colleague of the same recipient (see `meldpunt_crypto::HandOver`). They are kept apart
//! from the mailbox's messages: the reporter never lists or fetches them, and only office
//! sessions of the recipient they were posted under see them, numbered in that recipient's
//! own hand-over numbering. They count against the office's byte quota of their mailbox and
//! go with it when retention deletes it.
//!
//! This module never serves a hand-over to another recipient's session, and never stores
//! who it is for (the relay cannot tell; only the sealed bytes can).

use redb::ReadableTable;
use serde::{Deserialize, Serialize};

use super::{
    decode, encode, list_numbered, MailboxLimits, MailboxRecord, RecipientScope, Store, StoreError,
    COUNTERS, HAND_OVERS, HAND_OVER_BODIES, MAILBOXES,
};
use crate::clock::day_number;

/// A hand-over's metadata.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HandOverRecord {
    /// The mailbox it is about.
    pub mailbox: [u8; 32],
    /// Day stored.
    pub day: u32,
    /// Sealed size in bytes.
    pub size: u64,
}

/// The counter of a recipient's hand-over numbers in [`COUNTERS`]: kept rather than taken
/// from the last key, so that a number retention deleted is never given again (an office's
/// cursor may be past it).
fn counter_name(scope: &RecipientScope) -> String {
    format!("next_hand_over/{}/{}", scope.organisation, scope.recipient)
}

impl Store {
    /// Stores a sealed hand-over about `mailbox`, which must be addressed to `scope`'s
    /// recipient, for a colleague of that recipient, or (`to`) of another recipient the
    /// mailbox is addressed to (a process guide appointed to the case); returns that
    /// recipient's number for it.
    pub(crate) async fn put_hand_over(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        to: Option<String>,
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
            let scope = record.admit_hand_over(scope, to, size, &limits)?;
            let name = counter_name(&scope);
            let mut counters = transaction.open_table(COUNTERS)?;
            let number = counters.get(name.as_str())?.map_or(1, |next| next.value());
            counters.insert(name.as_str(), number + 1)?;
            drop(counters);
            let key = (
                scope.organisation.as_str(),
                scope.recipient.as_str(),
                number,
            );
            let stored = HandOverRecord {
                mailbox,
                day: day_number(),
                size,
            };
            transaction
                .open_table(HAND_OVERS)?
                .insert(key, encode(&stored).as_slice())?;
            transaction
                .open_table(HAND_OVER_BODIES)?
                .insert(key, sealed.as_slice())?;
            record.hand_overs.push((scope.recipient.clone(), number));
            transaction
                .open_table(MAILBOXES)?
                .insert(mailbox, encode(&record).as_slice())?;
            Ok(number)
        })
        .await
    }

    /// The hand-overs to `scope`'s recipient numbered after `after`, at most `limit`, with
    /// their numbers.
    pub(crate) async fn list_hand_overs(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Result<Vec<(u64, HandOverRecord)>, StoreError> {
        self.read(move |transaction| {
            list_numbered(&transaction.open_table(HAND_OVERS)?, &scope, after, limit)
        })
        .await
    }

    /// The sealed bytes of the hand-over `scope`'s recipient numbers `number`.
    pub(crate) async fn hand_over(
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
            Ok(transaction
                .open_table(HAND_OVER_BODIES)?
                .get(key)?
                .map(|bytes| bytes.value().to_vec()))
        })
        .await
    }
}

/// Deletes a mailbox's hand-overs (retention deletes the mailbox); returns how many.
pub(super) fn remove_hand_overs(
    transaction: &redb::WriteTransaction,
    organisation: &str,
    hand_overs: &[(String, u64)],
) -> Result<u64, StoreError> {
    let mut records = transaction.open_table(HAND_OVERS)?;
    let mut bodies = transaction.open_table(HAND_OVER_BODIES)?;
    for (recipient, number) in hand_overs {
        records.remove((organisation, recipient.as_str(), *number))?;
        bodies.remove((organisation, recipient.as_str(), *number))?;
    }
    Ok(hand_overs.len() as u64)
}
