//! New mailboxes, group-committed: one task per relay takes every creation that is waiting,
//! stores them in one PostgreSQL transaction and answers each caller once it is committed.
//!
//! Numbers come from counter rows locked until commit (so an office's cursor never skips a
//! message); with one transaction a request, every new report of an organisation would wait
//! for the one before it to reach the disk. A batch holds the locks once for all of its
//! reports. A creation that is refused (its mailbox exists, its stamp was spent, in the
//! database or earlier in the same batch) is answered so and leaves nothing; nothing a
//! client sends can make the batch's statements fail, so one hostile request cannot fail
//! the others. Mailbox ids are inserted in sorted order, so that two relays' batches never
//! wait on each other's new rows in a cycle.

use std::collections::{BTreeMap, HashSet};

use deadpool_postgres::Pool;
use meldpunt_crypto::SpentStamp;
use tokio::sync::{mpsc, oneshot};

use super::{bigint, commit, int, organisation_counter, recipient_counter, take_numbers};
use crate::clock::day_number;
use crate::storage::{encode, Author, MailboxRecord, MessageRecord, StoreError};

/// Most creations stored in one transaction.
const MAXIMUM_BATCH: usize = 256;

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
pub(super) async fn writer(pool: Pool, mut receiver: mpsc::UnboundedReceiver<Creation>) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAXIMUM_BATCH {
            match receiver.try_recv() {
                Ok(creation) => batch.push(creation),
                Err(_) => break,
            }
        }
        match store(&pool, &batch).await {
            Ok(outcomes) => {
                for (creation, outcome) in batch.into_iter().zip(outcomes) {
                    let _ = creation.reply.send(outcome);
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

/// Stores a batch in one transaction; each creation's outcome, in the batch's order.
async fn store(
    pool: &Pool,
    batch: &[Creation],
) -> Result<Vec<Result<u64, StoreError>>, StoreError> {
    let mut outcomes: Vec<Option<Result<u64, StoreError>>> = batch.iter().map(|_| None).collect();
    // Refused within the batch: a second creation of one mailbox, a stamp spent twice.
    let mut by_id: Vec<usize> = (0..batch.len()).collect();
    by_id.sort_by_key(|&index| batch[index].mailbox);
    let (mut ids, mut nonces) = (HashSet::new(), HashSet::new());
    let mut candidates = Vec::new();
    for index in by_id {
        let creation = &batch[index];
        if !ids.insert(creation.mailbox) {
            outcomes[index] = Some(Err(StoreError::MailboxExists));
        } else if creation
            .spent_stamp
            .as_ref()
            .is_some_and(|spent| !nonces.insert(spent.nonce))
        {
            outcomes[index] = Some(Err(StoreError::StampSpent));
        } else {
            candidates.push(index);
        }
    }
    let day = day_number();
    let records: BTreeMap<usize, MailboxRecord> = candidates
        .iter()
        .map(|&index| {
            let creation = &batch[index];
            let record = MailboxRecord {
                organisation: creation.organisation.clone(),
                recipients: creation.recipients.clone(),
                created: day,
                last_activity: day,
                messages: 1,
                attachments: 0,
                office_attachments: 0,
                reporter_bytes: creation.sealed.len() as u64,
                office_bytes: 0,
                hand_overs: Vec::new(),
                case_records: 0,
                case_record_numbers: Vec::new(),
            };
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
    // Their stamps; a mailbox whose stamp was spent before is taken out again.
    let stamped: Vec<usize> = candidates
        .iter()
        .copied()
        .filter(|&index| batch[index].spent_stamp.is_some())
        .collect();
    if !stamped.is_empty() {
        let spent: Vec<&SpentStamp> = stamped
            .iter()
            .filter_map(|&index| batch[index].spent_stamp.as_ref())
            .collect();
        let new: HashSet<Vec<u8>> = transaction
            .query(
                "INSERT INTO spent_stamps (nonce, expires_at) SELECT * FROM unnest($1::bytea[], $2::bigint[]) \
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
    Ok(outcomes
        .into_iter()
        .map(|outcome| {
            outcome.unwrap_or(Err(StoreError::Failed("a creation left unanswered".into())))
        })
        .collect())
}
