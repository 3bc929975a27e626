//! What the relay does, once for every way in: the JSON API (`api`) and the web form without
//! JavaScript (`web`) both call these functions, which keep the metrics and the proof-of-work
//! difficulty's bookkeeping next to the write they count. A handler parses its request,
//! calls one function here, and answers.
//!
//! This module must never see a request or build a response: it takes parsed, typed values
//! and returns the relay's error type, which the handlers map to HTTP once.

use axum::body::Body;
use futures_util::StreamExt;
use meldpunt_crypto::SpentStamp;

use crate::error::Error;
use crate::metrics::Metrics;
use crate::state::AppState;
use crate::storage::{Author, RecipientScope, StoreError, CHUNK_LENGTH};

/// Most recipients one mailbox is addressed to (as many as one report may be sealed to).
pub(crate) const MOST_RECIPIENTS: usize = 16;

/// The recipients of one organisation a mailbox is addressed to, as checked against the
/// directory by [`addressed_recipients`] (the only way to make one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AddressedRecipients(Vec<String>);

/// The recipient ids a reporter named for a mailbox of `organisation`, checked against the
/// directory: at least one, at most [`MOST_RECIPIENTS`], each a recipient of that
/// organisation; repeats count once.
pub(crate) fn addressed_recipients(
    state: &AppState,
    organisation: &str,
    named: &[String],
) -> Result<AddressedRecipients, Error> {
    let served = state.directory();
    let Some(listed) = served.directory.organisation(organisation) else {
        return Err(Error::UnknownOrganisation(
            organisation.chars().take(64).collect(),
        ));
    };
    if named.len() > MOST_RECIPIENTS {
        return Err(Error::BadRequest(format!(
            "name at most {MOST_RECIPIENTS} recipients"
        )));
    }
    let mut recipients: Vec<String> = Vec::new();
    for id in named {
        if !listed
            .recipients
            .iter()
            .any(|recipient| recipient.id == *id)
        {
            return Err(Error::UnknownRecipient {
                organisation: organisation.chars().take(64).collect(),
                recipient: id.chars().take(64).collect(),
            });
        }
        if !recipients.contains(id) {
            recipients.push(id.clone());
        }
    }
    if recipients.is_empty() {
        return Err(Error::BadRequest(format!(
            "name at least one recipient of {organisation}"
        )));
    }
    Ok(AddressedRecipients(recipients))
}

/// Creates a mailbox addressed to `recipients` (checked with [`addressed_recipients`])
/// holding its report (with the spent stamp, if one was asked for).
pub(crate) async fn create_mailbox(
    state: &AppState,
    mailbox: [u8; 32],
    organisation: String,
    recipients: AddressedRecipients,
    sealed: Vec<u8>,
    spent: Option<SpentStamp>,
) -> Result<(), Error> {
    let result = state
        .store
        .create_mailbox(mailbox, organisation, recipients.0, sealed, spent)
        .await;
    if matches!(result, Err(StoreError::StampSpent)) {
        Metrics::increment(&state.metrics.stamps_refused);
    }
    result?;
    state.difficulty.record_creation();
    Metrics::increment(&state.metrics.mailboxes_created);
    Ok(())
}

/// Addresses the reporter's mailbox to more recipients of its organisation (a process
/// guide, say); returns all its recipients.
pub(crate) async fn add_recipients(
    state: &AppState,
    mailbox: [u8; 32],
    named: &[String],
) -> Result<Vec<String>, Error> {
    let record = state
        .store
        .mailbox(mailbox)
        .await?
        .ok_or(Error::MailboxNotFound)?;
    let recipients = addressed_recipients(state, &record.organisation, named)?;
    Ok(state.store.add_recipients(mailbox, recipients.0).await?)
}

/// Addresses a mailbox of the session's recipient to process guides of its organisation (an
/// office member appoints one to a case); returns all its recipients. Only recipients the
/// directory lists with role `process-guide` are added this way.
pub(crate) async fn add_process_guides(
    state: &AppState,
    mailbox: [u8; 32],
    scope: &RecipientScope,
    named: &[String],
) -> Result<Vec<String>, Error> {
    refuse_process_guide(state, scope)?;
    let record = state
        .store
        .mailbox(mailbox)
        .await?
        .ok_or(Error::MailboxNotFound)?;
    if !record.addressed_to(scope) {
        return Err(Error::MailboxNotFound);
    }
    let recipients = addressed_recipients(state, &record.organisation, named)?;
    {
        let served = state.directory();
        let organisation = served.directory.organisation(&record.organisation);
        for id in &recipients.0 {
            let is_guide = organisation
                .and_then(|organisation| {
                    organisation
                        .recipients
                        .iter()
                        .find(|recipient| recipient.id == *id)
                })
                .is_some_and(|recipient| recipient.role == meldpunt_crypto::Role::ProcessGuide);
            // Only process guides are added this way: another recipient is, for this route,
            // one the organisation does not have.
            if !is_guide {
                return Err(Error::UnknownRecipient {
                    organisation: record.organisation.chars().take(64).collect(),
                    recipient: id.chars().take(64).collect(),
                });
            }
        }
    }
    Ok(state.store.add_recipients(mailbox, recipients.0).await?)
}

/// Whom a hand-over may be for: a colleague of the session's recipient, or (`to`) a process
/// guide of the case, and then only from a recipient that is not a guide itself. Checked
/// before the body is read.
pub(crate) fn check_hand_over_target(
    state: &AppState,
    scope: &RecipientScope,
    to: Option<&str>,
) -> Result<(), Error> {
    if let Some(target) = to.filter(|target| *target != scope.recipient) {
        refuse_process_guide(state, scope)?;
        // A hand-over goes to a colleague of the same recipient, or to a process guide of
        // the case: any other recipient is, for this route, one there is not.
        if role_of(state, &scope.organisation, target) != Some(meldpunt_crypto::Role::ProcessGuide)
        {
            return Err(Error::UnknownRecipient {
                organisation: scope.organisation.chars().take(64).collect(),
                recipient: target.chars().take(64).collect(),
            });
        }
    }
    Ok(())
}

/// The role the served directory gives a recipient, if it lists it.
fn role_of(state: &AppState, organisation: &str, recipient: &str) -> Option<meldpunt_crypto::Role> {
    let served = state.directory();
    served
        .directory
        .organisation(organisation)
        .and_then(|listed| listed.recipients.iter().find(|found| found.id == recipient))
        .map(|found| found.role)
}

/// A process guide's session appoints nobody and hands nothing to another recipient: only the
/// recipients the reporter chose do. To a guide's session, the mailbox is not one it may do
/// that in (404, as for a mailbox not addressed to it).
fn refuse_process_guide(state: &AppState, scope: &RecipientScope) -> Result<(), Error> {
    if role_of(state, &scope.organisation, &scope.recipient)
        == Some(meldpunt_crypto::Role::ProcessGuide)
    {
        return Err(Error::MailboxNotFound);
    }
    Ok(())
}

/// Appends a sealed message to a mailbox: a reporter's follow-up, or an office's reply or
/// acknowledgement (then the mailbox must be addressed to the office's recipient). Returns
/// its position and its number.
pub(crate) async fn append_message(
    state: &AppState,
    mailbox: [u8; 32],
    author: Author,
    office: Option<RecipientScope>,
    sealed: Vec<u8>,
) -> Result<(u32, u64), Error> {
    let stored = state
        .store
        .append_message(
            mailbox,
            author,
            office,
            sealed,
            state.settings.limits.mailbox(),
        )
        .await?;
    Metrics::increment(match author {
        Author::Reporter => &state.metrics.follow_ups_stored,
        Author::Office => &state.metrics.replies_stored,
    });
    Ok(stored)
}

/// Stores a sealed hand-over (a case's message one member of the session's recipient seals
/// to a colleague of it) about `mailbox`, which must be addressed to that recipient. Its
/// size limit is a message's with room for the hand-over's own header and the padding that
/// header may cost. Returns the recipient's hand-over number for it.
pub(crate) async fn store_hand_over(
    state: &AppState,
    mailbox: [u8; 32],
    scope: RecipientScope,
    to: Option<String>,
    sealed: Vec<u8>,
) -> Result<u64, Error> {
    check_hand_over_target(state, &scope, to.as_deref())?;
    let number = state
        .store
        .put_hand_over(mailbox, scope, to, sealed, state.settings.limits.mailbox())
        .await?;
    Metrics::increment(&state.metrics.hand_overs_stored);
    Ok(number)
}

/// Stores a sealed case record (a change to a case's shared office state, sealed by a member
/// of the session's recipient) about `mailbox`, which must be addressed to that recipient.
/// Returns the recipient's record number for it.
pub(crate) async fn store_case_record(
    state: &AppState,
    mailbox: [u8; 32],
    scope: RecipientScope,
    sealed: Vec<u8>,
) -> Result<u64, Error> {
    let number = state
        .store
        .put_case_record(mailbox, scope, sealed, state.settings.limits.mailbox())
        .await?;
    Metrics::increment(&state.metrics.case_records_stored);
    Ok(number)
}

/// The most bytes a sealed case record may have: the largest record, padded, with room for
/// the age header of a recipient with many keys.
pub(crate) const CASE_RECORD_LIMIT: usize = 64 * 1024;

/// The most bytes a sealed hand-over may have: a message's limit, an eighth more for the
/// padding a longer plaintext may cost, and 24 KiB for the hand-over's header (up to 64
/// attachment copies) and its padding.
pub(crate) fn hand_over_limit(max_message_bytes: usize) -> usize {
    max_message_bytes + max_message_bytes / 8 + 24 * 1024
}

/// Stores a sealed attachment's bytes under `id` in `mailbox`, chunk by chunk; on any
/// failure nothing of it remains. Returns the sealed size.
pub(crate) async fn store_attachment(
    state: &AppState,
    id: [u8; 16],
    mailbox: [u8; 32],
    author: Author,
    office: Option<RecipientScope>,
    declared: Option<u64>,
    body: Body,
) -> Result<u64, Error> {
    let limits = state.settings.limits.mailbox();
    let limit = state
        .store
        .begin_attachment(id, mailbox, author, office, limits, declared)
        .await?;
    let stored = match store_chunks(state, id, body, limit).await {
        Ok((size, chunks)) => state
            .store
            .finish_attachment(id, size, chunks)
            .await
            .map(|()| size)
            .map_err(Error::from),
        // Refused for want of room in the mailbox rather than for the attachment's own size.
        Err(Error::BodyTooLarge { .. }) if limit < limits.attachment_bytes => {
            Err(Error::MailboxFull("bytes"))
        }
        Err(error) => Err(error),
    };
    match stored {
        Ok(size) => {
            Metrics::increment(&state.metrics.attachments_stored);
            state
                .metrics
                .attachment_bytes_stored
                .fetch_add(size, std::sync::atomic::Ordering::Relaxed);
            Ok(size)
        }
        Err(error) => {
            if let Err(cleanup) = state.store.abort_attachment(id).await {
                tracing::error!(error = %cleanup, "could not remove a failed upload; retention will");
            }
            Err(error)
        }
    }
}

async fn store_chunks(
    state: &AppState,
    id: [u8; 16],
    body: Body,
    limit: u64,
) -> Result<(u64, u32), Error> {
    let mut stream = body.into_data_stream();
    let mut buffer: Vec<u8> = Vec::with_capacity(CHUNK_LENGTH);
    let mut size: u64 = 0;
    let mut index: u32 = 0;
    while let Some(frame) = stream.next().await {
        let frame = frame.map_err(|_| Error::TruncatedUpload)?;
        size += frame.len() as u64;
        if size > limit {
            return Err(Error::BodyTooLarge { limit });
        }
        let mut rest = &frame[..];
        while !rest.is_empty() {
            let take = (CHUNK_LENGTH - buffer.len()).min(rest.len());
            buffer.extend_from_slice(&rest[..take]);
            rest = &rest[take..];
            if buffer.len() == CHUNK_LENGTH {
                let chunk = std::mem::replace(&mut buffer, Vec::with_capacity(CHUNK_LENGTH));
                store_chunk(state, id, index, chunk).await?;
                index += 1;
            }
        }
    }
    if !buffer.is_empty() || index == 0 {
        store_chunk(state, id, index, buffer).await?;
        index += 1;
    }
    Ok((size, index))
}

async fn store_chunk(
    state: &AppState,
    id: [u8; 16],
    index: u32,
    chunk: Vec<u8>,
) -> Result<(), Error> {
    if index == 0 && meldpunt_crypto::check_age_header(&chunk).is_err() {
        return Err(Error::NotSealed);
    }
    Ok(state.store.put_chunk(id, index, chunk).await?)
}
