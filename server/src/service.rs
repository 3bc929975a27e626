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
use crate::storage::{Author, StoreError, CHUNK_LENGTH};

/// Creates a mailbox holding its report (with the spent stamp, if one was asked for).
pub(crate) async fn create_mailbox(
    state: &AppState,
    mailbox: [u8; 32],
    organisation: String,
    sealed: Vec<u8>,
    spent: Option<SpentStamp>,
) -> Result<(), Error> {
    let result = state
        .store
        .create_mailbox(mailbox, organisation, sealed, spent)
        .await;
    if matches!(result, Err(StoreError::StampSpent)) {
        Metrics::increment(&state.metrics.stamps_refused);
    }
    result?;
    state.difficulty.record_creation();
    Metrics::increment(&state.metrics.mailboxes_created);
    Ok(())
}

/// Appends a sealed message to a mailbox: a reporter's follow-up, or an office's reply or
/// acknowledgement (then `organisation` must be the mailbox's). Returns its position and its
/// organisation's number for it.
pub(crate) async fn append_message(
    state: &AppState,
    mailbox: [u8; 32],
    author: Author,
    organisation: Option<String>,
    sealed: Vec<u8>,
) -> Result<(u32, u64), Error> {
    let stored = state
        .store
        .append_message(
            mailbox,
            author,
            organisation,
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

/// Stores a sealed attachment's bytes under `id` in `mailbox`, chunk by chunk; on any
/// failure nothing of it remains. Returns the sealed size.
pub(crate) async fn store_attachment(
    state: &AppState,
    id: [u8; 16],
    mailbox: [u8; 32],
    author: Author,
    organisation: Option<String>,
    declared: Option<u64>,
    body: Body,
) -> Result<u64, Error> {
    let limits = state.settings.limits.mailbox();
    let limit = state
        .store
        .begin_attachment(id, mailbox, author, organisation, limits, declared)
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
