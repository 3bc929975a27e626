//! Sealed attachments: stored in chunks as they stream in, with room held in their author's
//! quota until they complete; a broken upload leaves nothing.

use redb::{ReadableTable, WriteTransaction};

use super::writer::Durability;
use super::StoreError;
use super::{
    decode, encode, AttachmentRecord, Author, MailboxLimits, MailboxRecord, RecipientScope, Store,
    ATTACHMENTS, ATTACHMENT_CHUNKS, MAILBOXES,
};
use crate::clock::day_number;

impl Store {
    /// Registers a new attachment upload for a mailbox (checks before writing), and holds
    /// room for it in its author's quota: its declared size, or as much as one attachment may
    /// have when no size was declared, or what is left if that is less. Returns
    /// the most the upload may send. Uploads that run at the same time each hold their own
    /// room, so together they cannot pass the quota.
    pub(crate) async fn begin_attachment(
        &self,
        id: [u8; 16],
        mailbox: [u8; 32],
        author: Author,
        office: Option<RecipientScope>,
        limits: MailboxLimits,
        declared: Option<u64>,
    ) -> Result<u64, StoreError> {
        self.write(move |transaction| {
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut record: MailboxRecord = match mailboxes.get(mailbox)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(StoreError::MailboxNotFound),
            };
            record.reachable_by(office.as_ref())?;
            let mut attachments = transaction.open_table(ATTACHMENTS)?;
            if attachments.get(id)?.is_some() {
                return Err(StoreError::AttachmentExists);
            }
            let reserved = record.reserve_attachment(author, &limits, declared)?;
            let day = day_number();
            let attachment = AttachmentRecord::upload(mailbox, author, day, reserved);
            attachments.insert(id, encode(&attachment).as_slice())?;
            mailboxes.insert(mailbox, encode(&record).as_slice())?;
            Ok(reserved)
        })
        .await
    }

    /// Stores one chunk of an upload in progress (not yet durably: [`Store::finish_attachment`]
    /// is, and makes the chunks durable with it).
    pub(crate) async fn put_chunk(
        &self,
        id: [u8; 16],
        index: u32,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.submit(
            move |transaction| {
                transaction
                    .open_table(ATTACHMENT_CHUNKS)?
                    .insert((id, index), bytes.as_slice())?;
                Ok(())
            },
            Durability::Later,
        )
        .await
    }

    /// Marks an upload complete: its author's quota counts its size instead of the room held
    /// for it (the upload was never allowed to send more than that room).
    pub(crate) async fn finish_attachment(
        &self,
        id: [u8; 16],
        size: u64,
        chunks: u32,
    ) -> Result<(), StoreError> {
        self.write(move |transaction| {
            let mut attachments = transaction.open_table(ATTACHMENTS)?;
            let mut record: AttachmentRecord = match attachments.get(id)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(StoreError::AttachmentNotFound),
            };
            let mut mailboxes = transaction.open_table(MAILBOXES)?;
            let mut mailbox: MailboxRecord = match mailboxes.get(record.mailbox)? {
                Some(bytes) => decode(bytes.value())?,
                None => return Err(StoreError::MailboxNotFound),
            };
            if size > record.reserved {
                return Err(StoreError::MailboxFull("bytes"));
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
    pub(crate) async fn abort_attachment(&self, id: [u8; 16]) -> Result<(), StoreError> {
        self.write(move |transaction| remove_attachment(transaction, id))
            .await
    }

    /// A complete attachment's metadata.
    pub(crate) async fn attachment(
        &self,
        id: [u8; 16],
    ) -> Result<Option<AttachmentRecord>, StoreError> {
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
    pub(crate) async fn attachment_chunk(
        &self,
        id: [u8; 16],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        self.read(move |transaction| {
            let chunks = transaction.open_table(ATTACHMENT_CHUNKS)?;
            Ok(chunks.get((id, index))?.map(|bytes| bytes.value().to_vec()))
        })
        .await
    }
}

pub(super) fn remove_attachment(
    transaction: &WriteTransaction,
    id: [u8; 16],
) -> Result<(), StoreError> {
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
                let count = mailbox.attachments_of(record.author);
                *count = count.saturating_sub(1);
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
