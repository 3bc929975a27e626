//! Keeping the store over years: retention, online backups, counts for metrics, and the
//! upgrade of a store written by an earlier format.

use std::path::Path;

use redb::{
    Database, ReadTransaction, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableHandle,
    WriteTransaction,
};

use super::attachments::remove_attachment;
use super::case_records::remove_case_records;
use super::hand_overs::remove_hand_overs;
use super::*;
use crate::clock::{day_number, unix_seconds};

impl Store {
    /// Deletes mailboxes idle for more than `retention_days` with all they hold, incomplete
    /// uploads older than a day, and expired challenges, sessions and spent stamps.
    pub(crate) async fn purge(&self, retention_days: u32) -> Result<PurgeCounts, StoreError> {
        self.write(move |transaction| purge(transaction, retention_days))
            .await
    }

    /// Copies a consistent snapshot of every table into a new database file at `target`.
    pub(crate) async fn backup(
        &self,
        target: std::path::PathBuf,
    ) -> Result<BackupCounts, StoreError> {
        let database = Arc::clone(&self.database);
        tokio::task::spawn_blocking(move || backup(&database, &target))
            .await
            .map_err(|_| StoreError::Failed("the backup task failed".into()))?
    }

    /// Counts for the metrics page.
    pub(crate) async fn counts(&self) -> Result<StoreCounts, StoreError> {
        self.read(|transaction| {
            Ok(StoreCounts {
                mailboxes: transaction.open_table(MAILBOXES)?.len()?,
                messages: transaction.open_table(ORGANISATION_MESSAGES)?.len()?,
                attachments: transaction.open_table(ATTACHMENTS)?.len()?,
            })
        })
        .await
    }
}

/// Brings a store of an earlier format to [`STORE_FORMAT`], in the opening transaction (so a
/// failed upgrade changes nothing). A store of a later format is refused.
///
/// Format 1 kept sealed bodies by one relay-wide number. Format 2 keeps them by mailbox and
/// position, and numbers each organisation's messages on its own. Messages stored before the
/// upgrade keep the numbers their office has seen (offices' cursors stay valid); every
/// organisation's numbering continues above every number format 1 gave out.
pub(super) fn upgrade(transaction: &WriteTransaction) -> Result<(), StoreError> {
    let format = transaction
        .open_table(COUNTERS)?
        .get("store_format")?
        .map(|value| value.value());
    match format {
        Some(STORE_FORMAT) => return Ok(()),
        Some(3) => return fold_mailbox_index(transaction),
        Some(2) => {
            upgrade_to_walls(transaction)?;
            return fold_mailbox_index(transaction);
        }
        Some(other) => {
            return Err(StoreError::Failed(format!(
                "the store has format {other}; this relay reads format {STORE_FORMAT} and \
                 earlier: use a newer meldpunt-server"
            )))
        }
        None => {}
    }
    let exists = |name: &str| -> Result<bool, StoreError> {
        Ok(transaction.list_tables()?.any(|table| table.name() == name))
    };
    if exists(FORMAT_1_BODIES.name())? {
        let old = transaction.open_table(FORMAT_1_BODIES)?;
        let index = transaction.open_table(FORMAT_3_MAILBOX_MESSAGES)?;
        let mut bodies = transaction.open_table(FORMAT_3_SEALED_MESSAGES)?;
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
    upgrade_to_walls(transaction)?;
    fold_mailbox_index(transaction)
}

/// Format 3 addresses each mailbox to the recipients the reporter chose, and numbers each
/// recipient's messages on its own. Mailboxes from before it name no recipients: they are
/// addressed at start, when the relay has its directory, and each recipient's numbering
/// starts there too ([`Store::address_earlier_mailboxes`]); until then no office session
/// sees them.
fn upgrade_to_walls(transaction: &WriteTransaction) -> Result<(), StoreError> {
    transaction.open_table(COUNTERS)?.insert(WALLS_PENDING, 1)?;
    Ok(())
}

/// Format 4 lists each mailbox's messages in its own record instead of a second copy of every
/// message's record keyed by mailbox: the numbers are read off that table, by position, into
/// the mailbox records, and the table is deleted. It keeps sealed messages in fragments that
/// fill the tree's pages: each whole body is split, and the old table deleted. A mailbox whose positions are not 1, 2, …
/// without a gap is a corrupt store, and refused.
fn fold_mailbox_index(transaction: &WriteTransaction) -> Result<(), StoreError> {
    let exists = transaction
        .list_tables()?
        .any(|table| table.name() == FORMAT_3_MAILBOX_MESSAGES.name());
    if exists {
        let mut numbers: std::collections::HashMap<[u8; 32], Vec<u64>> = Default::default();
        for entry in transaction.open_table(FORMAT_3_MAILBOX_MESSAGES)?.iter()? {
            let (key, value) = entry?;
            let (mailbox, position) = key.value();
            let record: MessageRecord = decode(value.value())?;
            let listed = numbers.entry(mailbox).or_default();
            if position as usize != listed.len() + 1 {
                return Err(StoreError::Failed(format!(
                    "corrupt store: a mailbox's message at position {position} follows {} others",
                    listed.len()
                )));
            }
            listed.push(record.number);
        }
        let mut mailboxes = transaction.open_table(MAILBOXES)?;
        let mut updated = Vec::new();
        for entry in mailboxes.iter()? {
            let (id, bytes) = entry?;
            let mut record: MailboxRecord = decode(bytes.value())?;
            record.message_numbers = numbers.remove(&id.value()).unwrap_or_default();
            if record.message_numbers.len() != record.messages as usize {
                return Err(StoreError::Failed(format!(
                    "corrupt store: a mailbox counts {} messages and lists {}",
                    record.messages,
                    record.message_numbers.len()
                )));
            }
            updated.push((id.value(), record));
        }
        for (id, record) in updated {
            mailboxes.insert(id, encode(&record).as_slice())?;
        }
        drop(mailboxes);
        transaction.delete_table(FORMAT_3_MAILBOX_MESSAGES)?;
    }
    let whole_bodies = transaction
        .list_tables()?
        .any(|table| table.name() == FORMAT_3_SEALED_MESSAGES.name());
    if whole_bodies {
        let old = transaction.open_table(FORMAT_3_SEALED_MESSAGES)?;
        for entry in old.iter()? {
            let (key, body) = entry?;
            let (organisation, number) = key.value();
            super::mailboxes::write_body(transaction, organisation, number, body.value())?;
        }
        drop(old);
        transaction.delete_table(FORMAT_3_SEALED_MESSAGES)?;
    }
    transaction
        .open_table(COUNTERS)?
        .insert("store_format", STORE_FORMAT)?;
    Ok(())
}

/// Fills in what each side of every mailbox has stored (format 1 did not count it), so that
/// the byte quota applies to mailboxes from before the upgrade too.
fn count_stored_bytes(transaction: &WriteTransaction) -> Result<(), StoreError> {
    let mut used: std::collections::HashMap<([u8; 32], Author), u64> = Default::default();
    for entry in transaction.open_table(FORMAT_3_MAILBOX_MESSAGES)?.iter()? {
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

fn purge(transaction: &WriteTransaction, retention_days: u32) -> Result<PurgeCounts, StoreError> {
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
                expired_mailboxes.push((id.value(), record));
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
    for (mailbox, record) in expired_mailboxes {
        let organisation = record.organisation.clone();
        counts.hand_overs += remove_hand_overs(transaction, &organisation, &record.hand_overs)?;
        counts.case_records += remove_case_records(transaction, mailbox, &record)?;
        let mut by_organisation = transaction.open_table(ORGANISATION_MESSAGES)?;
        let mut by_recipient = transaction.open_table(RECIPIENT_MESSAGES)?;
        // By the mailbox's own list: a body goes even if its record were missing.
        for number in &record.message_numbers {
            super::mailboxes::remove_body(transaction, &organisation, *number)?;
            let removed = by_organisation
                .remove((organisation.as_str(), *number))?
                .map(|bytes| decode::<MessageRecord>(bytes.value()))
                .transpose()?;
            if let Some(message) = removed {
                for (recipient, own) in &message.recipient_numbers {
                    by_recipient.remove((organisation.as_str(), recipient.as_str(), *own))?;
                }
            }
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
) -> Result<u64, StoreError> {
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

fn backup(database: &Database, target: &Path) -> Result<BackupCounts, StoreError> {
    // Created new and 0600 before redb writes into it (it would use the umask's mode).
    crate::files::create_backup_file(target).map_err(StoreError::BackupRefused)?;
    let snapshot = database.begin_read()?;
    let copy = Database::create(target)?;
    let transaction = copy.begin_write()?;
    let counts = BackupCounts {
        mailboxes: copy_table(&snapshot, &transaction, MAILBOXES)?,
        messages: copy_table(&snapshot, &transaction, ORGANISATION_MESSAGES)?,
        chunks: copy_table(&snapshot, &transaction, ATTACHMENT_CHUNKS)?,
    };
    for name in snapshot
        .list_tables()?
        .map(|table| table.name().to_owned())
        .filter(|name| name.starts_with(SEALED_TABLE_PREFIX))
        .collect::<Vec<_>>()
    {
        copy_table(
            &snapshot,
            &transaction,
            super::mailboxes::sealed_definition(&name),
        )?;
    }
    copy_table(&snapshot, &transaction, RECIPIENT_MESSAGES)?;
    copy_table(&snapshot, &transaction, ATTACHMENTS)?;
    copy_table(&snapshot, &transaction, HAND_OVERS)?;
    copy_table(&snapshot, &transaction, HAND_OVER_BODIES)?;
    copy_table(&snapshot, &transaction, CASE_RECORDS)?;
    copy_table(&snapshot, &transaction, CASE_RECORD_BODIES)?;
    copy_table(&snapshot, &transaction, SPENT_STAMPS)?;
    copy_table(&snapshot, &transaction, COUNTERS)?;
    // Office sessions are short-lived credentials: not worth restoring.
    transaction.open_table(SESSIONS)?;
    transaction.commit()?;
    Ok(counts)
}
