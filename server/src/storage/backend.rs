//! What the relay needs from a store, as a trait: the service layer, the handlers and the
//! admin socket use `dyn Storage`, so a second backend (PostgreSQL, for several relays on
//! several hosts) can take the place of the embedded redb [`Store`] without touching them.
//!
//! Every method keeps the redb store's promises: a write answers only once it is durable;
//! a refused write changes nothing; ids are hashes, days are day numbers, bodies are sealed.

use std::future::Future;
use std::pin::Pin;

use meldpunt_crypto::SpentStamp;

use super::{
    AttachmentRecord, Author, BackupCounts, CaseRecordEntry, Grant, HandOverRecord, MailboxLimits,
    MailboxRecord, MessageRecord, PurgeCounts, RecipientScope, Store, StoreCounts, StoreError,
};

/// What a store's asynchronous methods return.
pub(crate) type Answer<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A store of mailboxes, messages, attachments, office sessions and spent stamps.
pub(crate) trait Storage: std::fmt::Debug + Send + Sync + 'static {
    /// Creates a mailbox addressed to `recipients` of `organisation`, holding its first
    /// message (recording the stamp as spent); returns its organisation's number for it.
    fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        recipients: Vec<String>,
        sealed: Vec<u8>,
        spent_stamp: Option<SpentStamp>,
    ) -> Answer<'_, u64>;
    /// Appends a message (for an office, the mailbox must be addressed to its recipient);
    /// returns its position and its number (the office's recipient's, else the
    /// organisation's).
    fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, (u32, u64)>;
    /// Addresses a mailbox to more recipients; returns all of its recipients.
    fn add_recipients(&self, mailbox: [u8; 32], recipients: Vec<String>)
        -> Answer<'_, Vec<String>>;
    /// A mailbox, if it exists.
    fn mailbox(&self, mailbox: [u8; 32]) -> Answer<'_, Option<MailboxRecord>>;
    /// A mailbox's messages after a position, at most `limit`; `None` if there is no mailbox.
    fn list_mailbox(
        &self,
        mailbox: [u8; 32],
        after: u32,
        limit: usize,
    ) -> Answer<'_, Option<Vec<MessageRecord>>>;
    /// The sealed message at a position of a mailbox.
    fn mailbox_message(&self, mailbox: [u8; 32], position: u32) -> Answer<'_, Option<Vec<u8>>>;
    /// The messages addressed to a recipient, numbered in its own numbering after `after`,
    /// at most `limit`.
    fn list_recipient(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, MessageRecord)>>;
    /// The sealed message a recipient numbers `number`.
    fn recipient_message(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>>;
    /// Marks the message a recipient numbers `number` fetched.
    fn mark_fetched(&self, scope: RecipientScope, number: u64) -> Answer<'_, ()>;
    /// Stores a sealed hand-over about a mailbox addressed to the session's recipient;
    /// returns the recipient's hand-over number for it.
    fn put_hand_over(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        to: Option<String>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, u64>;
    /// The hand-overs to a recipient after `after` in its hand-over numbering, at most
    /// `limit`.
    fn list_hand_overs(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, HandOverRecord)>>;
    /// The sealed hand-over a recipient numbers `number`.
    fn hand_over(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>>;
    /// Stores a sealed case record about a mailbox addressed to the session's recipient,
    /// numbered for every recipient the mailbox is addressed to; returns the session's
    /// recipient's number for it.
    fn put_case_record(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, u64>;
    /// The case records a recipient numbers after `after`, at most `limit`.
    fn list_case_records(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, CaseRecordEntry)>>;
    /// The sealed case record a recipient numbers `number`.
    fn case_record(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>>;
    /// Stores an office session (by the hash of its token).
    fn open_session(&self, session_id: [u8; 32], grant: Grant) -> Answer<'_, ()>;
    /// Ends every session of these recipients; returns how many.
    fn end_sessions(&self, scopes: Vec<RecipientScope>) -> Answer<'_, u64>;
    /// The recipient an unexpired session grants.
    fn session(&self, session_id: [u8; 32]) -> Answer<'_, Option<Grant>>;
    /// Registers an upload and holds room for it; returns the most it may send.
    fn begin_attachment(
        &self,
        id: [u8; 16],
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        limits: MailboxLimits,
        declared: Option<u64>,
    ) -> Answer<'_, u64>;
    /// Stores one chunk of an upload in progress (durable with its completion).
    fn put_chunk(&self, id: [u8; 16], index: u32, bytes: Vec<u8>) -> Answer<'_, ()>;
    /// Completes an upload.
    fn finish_attachment(&self, id: [u8; 16], size: u64, chunks: u32) -> Answer<'_, ()>;
    /// Removes a failed upload and everything it stored.
    fn abort_attachment(&self, id: [u8; 16]) -> Answer<'_, ()>;
    /// A complete attachment's record.
    fn attachment(&self, id: [u8; 16]) -> Answer<'_, Option<AttachmentRecord>>;
    /// One chunk of a complete attachment (read while streaming it out).
    fn attachment_chunk(&self, id: [u8; 16], index: u32) -> Result<Option<Vec<u8>>, StoreError>;
    /// Deletes what retention no longer keeps.
    fn purge(&self, retention_days: u32) -> Answer<'_, PurgeCounts>;
    /// Copies a consistent snapshot into a new file (a backend without one says so).
    fn backup(&self, target: std::path::PathBuf) -> Answer<'_, BackupCounts>;
    /// Table sizes for metrics and readiness.
    fn counts(&self) -> Answer<'_, StoreCounts>;
}

impl Storage for Store {
    fn create_mailbox(
        &self,
        mailbox: [u8; 32],
        organisation: String,
        recipients: Vec<String>,
        sealed: Vec<u8>,
        spent_stamp: Option<SpentStamp>,
    ) -> Answer<'_, u64> {
        Box::pin(Store::create_mailbox(
            self,
            mailbox,
            organisation,
            recipients,
            sealed,
            spent_stamp,
        ))
    }

    fn append_message(
        &self,
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, (u32, u64)> {
        Box::pin(Store::append_message(
            self, mailbox, author, office, sealed, limits,
        ))
    }

    fn add_recipients(
        &self,
        mailbox: [u8; 32],
        recipients: Vec<String>,
    ) -> Answer<'_, Vec<String>> {
        Box::pin(Store::add_recipients(self, mailbox, recipients))
    }

    fn mailbox(&self, mailbox: [u8; 32]) -> Answer<'_, Option<MailboxRecord>> {
        Box::pin(Store::mailbox(self, mailbox))
    }

    fn list_mailbox(
        &self,
        mailbox: [u8; 32],
        after: u32,
        limit: usize,
    ) -> Answer<'_, Option<Vec<MessageRecord>>> {
        Box::pin(Store::list_mailbox(self, mailbox, after, limit))
    }

    fn mailbox_message(&self, mailbox: [u8; 32], position: u32) -> Answer<'_, Option<Vec<u8>>> {
        Box::pin(Store::mailbox_message(self, mailbox, position))
    }

    fn list_recipient(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, MessageRecord)>> {
        Box::pin(Store::list_recipient(self, scope, after, limit))
    }

    fn recipient_message(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>> {
        Box::pin(Store::recipient_message(self, scope, number))
    }

    fn mark_fetched(&self, scope: RecipientScope, number: u64) -> Answer<'_, ()> {
        Box::pin(Store::mark_fetched(self, scope, number))
    }

    fn put_hand_over(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        to: Option<String>,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, u64> {
        Box::pin(Store::put_hand_over(
            self, mailbox, scope, to, sealed, limits,
        ))
    }

    fn list_hand_overs(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, HandOverRecord)>> {
        Box::pin(Store::list_hand_overs(self, scope, after, limit))
    }

    fn hand_over(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>> {
        Box::pin(Store::hand_over(self, scope, number))
    }

    fn put_case_record(
        &self,
        mailbox: [u8; 32],
        scope: RecipientScope,
        sealed: Vec<u8>,
        limits: MailboxLimits,
    ) -> Answer<'_, u64> {
        Box::pin(Store::put_case_record(self, mailbox, scope, sealed, limits))
    }

    fn list_case_records(
        &self,
        scope: RecipientScope,
        after: u64,
        limit: usize,
    ) -> Answer<'_, Vec<(u64, CaseRecordEntry)>> {
        Box::pin(Store::list_case_records(self, scope, after, limit))
    }

    fn case_record(&self, scope: RecipientScope, number: u64) -> Answer<'_, Option<Vec<u8>>> {
        Box::pin(Store::case_record(self, scope, number))
    }

    fn open_session(&self, session_id: [u8; 32], grant: Grant) -> Answer<'_, ()> {
        Box::pin(Store::open_session(self, session_id, grant))
    }

    fn end_sessions(&self, scopes: Vec<RecipientScope>) -> Answer<'_, u64> {
        Box::pin(Store::end_sessions(self, scopes))
    }

    fn session(&self, session_id: [u8; 32]) -> Answer<'_, Option<Grant>> {
        Box::pin(Store::session(self, session_id))
    }

    fn begin_attachment(
        &self,
        id: [u8; 16],
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        limits: MailboxLimits,
        declared: Option<u64>,
    ) -> Answer<'_, u64> {
        Box::pin(Store::begin_attachment(
            self, id, mailbox, author, office, limits, declared,
        ))
    }

    fn put_chunk(&self, id: [u8; 16], index: u32, bytes: Vec<u8>) -> Answer<'_, ()> {
        Box::pin(Store::put_chunk(self, id, index, bytes))
    }

    fn finish_attachment(&self, id: [u8; 16], size: u64, chunks: u32) -> Answer<'_, ()> {
        Box::pin(Store::finish_attachment(self, id, size, chunks))
    }

    fn abort_attachment(&self, id: [u8; 16]) -> Answer<'_, ()> {
        Box::pin(Store::abort_attachment(self, id))
    }

    fn attachment(&self, id: [u8; 16]) -> Answer<'_, Option<AttachmentRecord>> {
        Box::pin(Store::attachment(self, id))
    }

    fn attachment_chunk(&self, id: [u8; 16], index: u32) -> Result<Option<Vec<u8>>, StoreError> {
        Store::attachment_chunk(self, id, index)
    }

    fn purge(&self, retention_days: u32) -> Answer<'_, PurgeCounts> {
        Box::pin(Store::purge(self, retention_days))
    }

    fn backup(&self, target: std::path::PathBuf) -> Answer<'_, BackupCounts> {
        Box::pin(Store::backup(self, target))
    }

    fn counts(&self) -> Answer<'_, StoreCounts> {
        Box::pin(Store::counts(self))
    }
}
