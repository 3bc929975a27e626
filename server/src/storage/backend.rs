//! What the relay needs from a store, as a trait: the service layer, the handlers and the
//! admin socket use `dyn Storage`, so that the embedded redb [`Store`] and the PostgreSQL
//! store ([`PostgresStore`], for several relays on several hosts) serve alike.
//!
//! Every method keeps the redb store's promises: a write answers only once it is durable;
//! a refused write changes nothing; ids are hashes, days are day numbers, bodies are sealed.

use std::future::Future;
use std::pin::Pin;

use meldpunt_crypto::SpentStamp;

use super::postgres::PostgresStore;
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
    fn attachment_chunk(&self, id: [u8; 16], index: u32) -> Answer<'_, Option<Vec<u8>>>;
    /// Deletes what retention no longer keeps.
    fn purge(&self, retention_days: u32) -> Answer<'_, PurgeCounts>;
    /// Copies a consistent snapshot into a new file (a backend without one says so).
    fn backup(&self, target: std::path::PathBuf) -> Answer<'_, BackupCounts>;
    /// Table sizes for metrics and readiness.
    fn counts(&self) -> Answer<'_, StoreCounts>;
    /// Keeps an office challenge, by the hash of its answer, until the answer comes (to any
    /// relay that shares this store) or it expires.
    fn hold_challenge(&self, answer_id: [u8; 32], grant: Grant) -> Answer<'_, ()>;
    /// Takes the challenge an answer belongs to, once, if it has not expired.
    fn take_challenge(&self, answer_id: [u8; 32]) -> Answer<'_, Option<Grant>>;
    /// Forgets the waiting challenges of these recipients (their keys changed).
    fn forget_challenges(&self, scopes: Vec<RecipientScope>) -> Answer<'_, ()>;
    /// Records a stamp as spent (an office login's), or refuses one spent already.
    fn spend_stamp(&self, spent: SpentStamp) -> Answer<'_, ()>;
}

/// Implements [`Storage`] for a store type whose inherent methods have the trait's names
/// and arguments.
macro_rules! storage_by_inherent_methods {
    ($store:ty) => {
        impl Storage for $store {
            storage_by_inherent_methods!(@methods $store;
                create_mailbox(mailbox: [u8; 32], organisation: String, recipients: Vec<String>, sealed: Vec<u8>, spent_stamp: Option<SpentStamp>) -> u64;
                append_message(mailbox: [u8; 32], author: Author, office: Option<RecipientScope>, sealed: Vec<u8>, limits: MailboxLimits) -> (u32, u64);
                add_recipients(mailbox: [u8; 32], recipients: Vec<String>) -> Vec<String>;
                mailbox(mailbox: [u8; 32]) -> Option<MailboxRecord>;
                list_mailbox(mailbox: [u8; 32], after: u32, limit: usize) -> Option<Vec<MessageRecord>>;
                mailbox_message(mailbox: [u8; 32], position: u32) -> Option<Vec<u8>>;
                list_recipient(scope: RecipientScope, after: u64, limit: usize) -> Vec<(u64, MessageRecord)>;
                recipient_message(scope: RecipientScope, number: u64) -> Option<Vec<u8>>;
                mark_fetched(scope: RecipientScope, number: u64) -> ();
                put_hand_over(mailbox: [u8; 32], scope: RecipientScope, to: Option<String>, sealed: Vec<u8>, limits: MailboxLimits) -> u64;
                list_hand_overs(scope: RecipientScope, after: u64, limit: usize) -> Vec<(u64, HandOverRecord)>;
                hand_over(scope: RecipientScope, number: u64) -> Option<Vec<u8>>;
                put_case_record(mailbox: [u8; 32], scope: RecipientScope, sealed: Vec<u8>, limits: MailboxLimits) -> u64;
                list_case_records(scope: RecipientScope, after: u64, limit: usize) -> Vec<(u64, CaseRecordEntry)>;
                case_record(scope: RecipientScope, number: u64) -> Option<Vec<u8>>;
                open_session(session_id: [u8; 32], grant: Grant) -> ();
                end_sessions(scopes: Vec<RecipientScope>) -> u64;
                session(session_id: [u8; 32]) -> Option<Grant>;
                begin_attachment(id: [u8; 16], mailbox: [u8; 32], author: Author, office: Option<RecipientScope>, limits: MailboxLimits, declared: Option<u64>) -> u64;
                put_chunk(id: [u8; 16], index: u32, bytes: Vec<u8>) -> ();
                finish_attachment(id: [u8; 16], size: u64, chunks: u32) -> ();
                abort_attachment(id: [u8; 16]) -> ();
                attachment(id: [u8; 16]) -> Option<AttachmentRecord>;
                attachment_chunk(id: [u8; 16], index: u32) -> Option<Vec<u8>>;
                purge(retention_days: u32) -> PurgeCounts;
                backup(target: std::path::PathBuf) -> BackupCounts;
                counts() -> StoreCounts;
                hold_challenge(answer_id: [u8; 32], grant: Grant) -> ();
                take_challenge(answer_id: [u8; 32]) -> Option<Grant>;
                forget_challenges(scopes: Vec<RecipientScope>) -> ();
                spend_stamp(spent: SpentStamp) -> ();
            );
        }
    };
    (@methods $store:ty; $($method:ident($($argument:ident: $type:ty),*) -> $answer:ty;)*) => {
        $(
            fn $method(&self, $($argument: $type),*) -> Answer<'_, $answer> {
                Box::pin(<$store>::$method(self, $($argument),*))
            }
        )*
    };
}

storage_by_inherent_methods!(Store);
storage_by_inherent_methods!(PostgresStore);
