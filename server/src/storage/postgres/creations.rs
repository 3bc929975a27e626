//! New mailboxes, group-committed: one task per relay takes every creation that is waiting,
//! stores them in one PostgreSQL transaction and answers each caller once it is committed.
//!
//! Numbers come from counter rows locked until commit (so an office's cursor never skips a
//! message); with one transaction a request, every new report of an organisation would wait
//! for the one before it to reach the disk. A batch holds the locks once for all of its
//! reports. A creation that is refused (its mailbox exists, its stamp was spent) is answered
//! so and leaves nothing; one that repeats a mailbox id or a stamp of another in its batch
//! waits for the next batch, where the database decides as if they had come one by one.
//! Nothing a client sends can make the batch's statements fail (a batch is bounded in
//! bytes, too), so one hostile request cannot fail the others. Mailbox ids, then stamp
//! nonces, then counters are locked in sorted order, so that two relays' batches never
//! wait on each other in a cycle.

use std::collections::{BTreeMap, HashSet, VecDeque};

use deadpool_postgres::Pool;
use meldpunt_crypto::SpentStamp;
use tokio::sync::{mpsc, oneshot};

use super::{bigint, commit, int, organisation_counter, recipient_counter, take_numbers};
use crate::clock::day_number;
use crate::storage::{encode, Author, MailboxRecord, MessageRecord, StoreError};

/// Most creations stored in one transaction.
const MAXIMUM_BATCH: usize = 256;
/// Most sealed bytes stored in one transaction (a report may be up to
/// `max_message_bytes`; PostgreSQL takes at most 1 GiB in one parameter).
const MAXIMUM_BATCH_BYTES: usize = 32 << 20;
/// Creations that may wait for the writer; beyond, a new one is answered "unavailable"
/// (nothing stored) rather than held in memory without bound.
pub(super) const MAXIMUM_WAITING: usize = 4096;

/// A mailbox to create, with its report, and where to answer.
pub(super) struct Creation {
    pub mailbox: [u8; 32],
    pub organisation: String,
    pub recipients: Vec<String>,
    pub sealed: Vec<u8>,
    pub spent_stamp: Option<SpentStamp>,
    pub reply: oneshot::Sender<Result<u64, StoreError>>,
}

/// Takes waiting creations in batches until every sender is gone.
pub(super) async fn writer(pool: Pool, mut receiver: mpsc::Receiver<Creation>) {
    // Creations left for the next batch: one that would have made a batch too large, and
    // those that repeated a mailbox id or a stamp within theirs.
    let mut carried: VecDeque<Creation> = VecDeque::new();
    loop {
        let first = match carried.pop_front() {
            Some(creation) => creation,
            None => match receiver.recv().await {
                Some(creation) => creation,
                None => return,
            },
        };
        let mut bytes = first.sealed.len();
        let mut batch = vec![first];
        while batch.len() < MAXIMUM_BATCH {
            let next = match carried.pop_front() {
                Some(creation) => creation,
                None => match receiver.try_recv() {
                    Ok(creation) => creation,
                    Err(_) => break,
                },
            };
            if bytes + next.sealed.len() > MAXIMUM_BATCH_BYTES {
                carried.push_front(next);
                break;
            }
            bytes += next.sealed.len();
            batch.push(next);
        }
        match store(&pool, &batch).await {
            Ok(outcomes) => {
                let mut later = Vec::new();
                for (creation, outcome) in batch.into_iter().zip(outcomes) {
                    match outcome {
                        Some(outcome) => {
                            let _ = creation.reply.send(outcome);
                        }
                        None => later.push(creation),
                    }
                }
                // Ahead of anything else, in their order.
                for creation in later.into_iter().rev() {
                    carried.push_front(creation);
                }
            }
            Err(error) => {
                for creation in batch {
                    let _ = creation.reply.send(Err(error.again()));
                }
            }
        }
    }
}

/// Stores a batch in one transaction; each creation's outcome, in the batch's order, or
/// `None` for one that waits for the next batch (it repeats a mailbox id or a stamp of an
/// earlier one in this batch).
async fn store(
    pool: &Pool,
    batch: &[Creation],
) -> Result<Vec<Option<Result<u64, StoreError>>>, StoreError> {
    let mut outcomes: Vec<Option<Result<u64, StoreError>>> = batch.iter().map(|_| None).collect();
    let (mut ids, mut nonces) = (HashSet::new(), HashSet::new());
    let mut candidates = Vec::new();
    for (index, creation) in batch.iter().enumerate() {
        let repeats_id = !ids.insert(creation.mailbox);
        let repeats_stamp = creation
            .spent_stamp
            .as_ref()
            .is_some_and(|spent| !nonces.insert(spent.nonce));
        if !repeats_id && !repeats_stamp {
            candidates.push(index);
        }
    }
    candidates.sort_by_key(|&index| batch[index].mailbox);
    let day = day_number();
    let records: BTreeMap<usize, MailboxRecord> = candidates
        .iter()
        .map(|&index| {
            let creation = &batch[index];
            let mut record = MailboxRecord::new(
                creation.organisation.clone(),
                creation.recipients.clone(),
                day,
            );
            record.messages = 1;
            record.reporter_bytes = creation.sealed.len() as u64;
            (index, record)
        })
        .collect();

    let mut client = pool.get().await?;
    let transaction = client.transaction().await?;
    // The mailboxes, in id order; those that exist already are refused.
    let encoded: Vec<Vec<u8>> = candidates
        .iter()
        .map(|index| encode(&records[index]))
        .collect();
    let inserted: HashSet<Vec<u8>> = transaction
        .query(
            "INSERT INTO mailboxes (id, record, last_activity) \
             SELECT id, record, $3 FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS t(id, record, place) ORDER BY place \
             ON CONFLICT (id) DO NOTHING RETURNING id",
            &[
                &candidates
                    .iter()
                    .map(|&index| &batch[index].mailbox[..])
                    .collect::<Vec<_>>(),
                &encoded.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                &int(day),
            ],
        )
        .await?
        .into_iter()
        .map(|row| row.get(0))
        .collect();
    candidates.retain(|&index| {
        let created = inserted.contains(&batch[index].mailbox[..]);
        if !created {
            outcomes[index] = Some(Err(StoreError::MailboxExists));
        }
        created
    });
    // Their stamps, in nonce order; a mailbox whose stamp was spent before is taken out
    // again.
    let mut stamped: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&index| batch[index].spent_stamp.is_some())
        .collect();
    stamped.sort_by_key(|&index| batch[index].spent_stamp.as_ref().map(|spent| spent.nonce));
    if !stamped.is_empty() {
        let spent: Vec<&SpentStamp> = stamped
            .iter()
            .filter_map(|&index| batch[index].spent_stamp.as_ref())
            .collect();
        let new: HashSet<Vec<u8>> = transaction
            .query(
                "INSERT INTO spent_stamps (nonce, expires_at) \
                 SELECT nonce, expires_at FROM unnest($1::bytea[], $2::bigint[]) WITH ORDINALITY AS t(nonce, expires_at, place) ORDER BY place \
                 ON CONFLICT (nonce) DO NOTHING RETURNING nonce",
                &[
                    &spent.iter().map(|stamp| &stamp.nonce[..]).collect::<Vec<_>>(),
                    &spent
                        .iter()
                        .map(|stamp| bigint(stamp.expires_at))
                        .collect::<Vec<_>>(),
                ],
            )
            .await?
            .into_iter()
            .map(|row| row.get(0))
            .collect();
        let refused: Vec<usize> = stamped
            .into_iter()
            .filter(|&index| {
                batch[index]
                    .spent_stamp
                    .as_ref()
                    .is_some_and(|stamp| !new.contains(&stamp.nonce[..]))
            })
            .collect();
        if !refused.is_empty() {
            transaction
                .execute(
                    "DELETE FROM mailboxes WHERE id = ANY($1)",
                    &[&refused
                        .iter()
                        .map(|&index| &batch[index].mailbox[..])
                        .collect::<Vec<_>>()],
                )
                .await?;
            for &index in &refused {
                outcomes[index] = Some(Err(StoreError::StampSpent));
            }
            candidates.retain(|index| !refused.contains(index));
        }
    }
    // Numbers, in the order the creations arrived.
    candidates.sort_unstable();
    let mut wanted: BTreeMap<String, u64> = BTreeMap::new();
    for &index in &candidates {
        let creation = &batch[index];
        *wanted
            .entry(organisation_counter(&creation.organisation))
            .or_default() += 1;
        for recipient in &creation.recipients {
            *wanted
                .entry(recipient_counter(&creation.organisation, recipient))
                .or_default() += 1;
        }
    }
    let mut next = if wanted.is_empty() {
        BTreeMap::new()
    } else {
        take_numbers(&transaction, wanted).await?
    };
    let mut take = |counter: String| {
        let number = next
            .get_mut(&counter)
            .expect("a counter taken for the batch");
        *number += 1;
        *number - 1
    };
    let mut messages = Vec::with_capacity(candidates.len());
    for &index in &candidates {
        let creation = &batch[index];
        let recipient_numbers = creation
            .recipients
            .iter()
            .map(|recipient| {
                let own = take(recipient_counter(&creation.organisation, recipient));
                (recipient.clone(), own)
            })
            .collect();
        messages.push(MessageRecord {
            number: take(organisation_counter(&creation.organisation)),
            mailbox: creation.mailbox,
            position: 1,
            organisation: creation.organisation.clone(),
            author: Author::Reporter,
            day,
            size: creation.sealed.len() as u64,
            fetched: false,
            recipient_numbers,
        });
    }
    if !messages.is_empty() {
        let records: Vec<Vec<u8>> = messages.iter().map(encode).collect();
        transaction
            .execute(
                "INSERT INTO messages (organisation, number, mailbox, position, record, sealed) \
                 SELECT organisation, number, mailbox, 1, record, sealed \
                 FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], $5::bytea[]) \
                 AS t(organisation, number, mailbox, record, sealed)",
                &[
                    &messages
                        .iter()
                        .map(|message| message.organisation.as_str())
                        .collect::<Vec<_>>(),
                    &messages
                        .iter()
                        .map(|message| bigint(message.number))
                        .collect::<Vec<_>>(),
                    &messages
                        .iter()
                        .map(|message| &message.mailbox[..])
                        .collect::<Vec<_>>(),
                    &records.iter().map(Vec::as_slice).collect::<Vec<_>>(),
                    &candidates
                        .iter()
                        .map(|&index| batch[index].sealed.as_slice())
                        .collect::<Vec<_>>(),
                ],
            )
            .await?;
        let mut organisations = Vec::new();
        let mut recipients = Vec::new();
        let mut numbers = Vec::new();
        let mut organisation_numbers = Vec::new();
        for message in &messages {
            for (recipient, own) in &message.recipient_numbers {
                organisations.push(message.organisation.as_str());
                recipients.push(recipient.as_str());
                numbers.push(bigint(*own));
                organisation_numbers.push(bigint(message.number));
            }
        }
        transaction
            .execute(
                "INSERT INTO recipient_messages (organisation, recipient, number, organisation_number, fetched) \
                 SELECT organisation, recipient, number, organisation_number, false \
                 FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) \
                 AS t(organisation, recipient, number, organisation_number)",
                &[&organisations, &recipients, &numbers, &organisation_numbers],
            )
            .await?;
    }
    commit(transaction).await?;
    for (message, index) in messages.iter().zip(&candidates) {
        outcomes[*index] = Some(Ok(message.number));
    }
    Ok(outcomes)
}
