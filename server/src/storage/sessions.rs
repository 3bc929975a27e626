//! Office sessions: stored as hashes of their tokens, with their organisation and expiry;
//! the challenges that lead to them, waiting in memory; and spent office stamps.

use std::collections::HashMap;
use std::sync::Mutex;

use super::StoreError;
use redb::ReadableTableMetadata;

use super::{decode, encode, Grant, RecipientScope, Store, SESSIONS};
use crate::clock::unix_seconds;

/// Most challenges waiting at once, all organisations together.
const MAXIMUM_WAITING: usize = 100_000;

/// Office challenges waiting for their answer, by the hash of the answer, and the stamps
/// spent on them (nonce → expiry): in memory, so that asking for a challenge writes nothing
/// to the file.
#[derive(Debug, Default)]
pub(crate) struct WaitingChallenges {
    waiting: Mutex<HashMap<[u8; 32], Grant>>,
    spent_stamps: Mutex<HashMap<[u8; 16], u64>>,
}

impl WaitingChallenges {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Grant>> {
        self.waiting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Store {
    /// Stores a new office session (the caller has checked the challenge answer).
    pub(crate) async fn open_session(
        &self,
        session_id: [u8; 32],
        grant: Grant,
    ) -> Result<(), StoreError> {
        self.write(move |transaction| {
            transaction
                .open_table(SESSIONS)?
                .insert(session_id, encode(&grant).as_slice())?;
            Ok(())
        })
        .await
    }

    /// Ends every session of `scopes` (recipients whose keys changed); returns how many.
    pub(crate) async fn end_sessions(
        &self,
        scopes: Vec<RecipientScope>,
    ) -> Result<u64, StoreError> {
        self.write(move |transaction| {
            let mut sessions = transaction.open_table(SESSIONS)?;
            let before = sessions.len()?;
            sessions.retain(|_, bytes| {
                serde_json::from_slice::<Grant>(bytes)
                    .is_ok_and(|grant| !scopes.contains(&grant.scope()))
            })?;
            Ok(before - sessions.len()?)
        })
        .await
    }

    /// The organisation an unexpired session grants.
    pub(crate) async fn session(&self, session_id: [u8; 32]) -> Result<Option<Grant>, StoreError> {
        self.read(move |transaction| {
            let sessions = transaction.open_table(SESSIONS)?;
            let Some(bytes) = sessions.get(session_id)? else {
                return Ok(None);
            };
            let grant: Grant = decode(bytes.value())?;
            Ok((unix_seconds() <= grant.expires_at).then_some(grant))
        })
        .await
    }

    /// Keeps a challenge in memory until its answer comes or it expires; refuses when as
    /// many wait as the relay keeps.
    pub(crate) async fn hold_challenge(
        &self,
        answer_id: [u8; 32],
        grant: Grant,
    ) -> Result<(), StoreError> {
        let mut waiting = self.challenges.lock();
        if waiting.len() >= MAXIMUM_WAITING {
            let now = unix_seconds();
            waiting.retain(|_, grant| grant.expires_at >= now);
            if waiting.len() >= MAXIMUM_WAITING {
                return Err(StoreError::Busy("office challenges waiting on this relay"));
            }
        }
        waiting.insert(answer_id, grant);
        Ok(())
    }

    /// Takes the challenge an answer belongs to, once, if it has not expired.
    pub(crate) async fn take_challenge(
        &self,
        answer_id: [u8; 32],
    ) -> Result<Option<Grant>, StoreError> {
        let grant = self.challenges.lock().remove(&answer_id);
        Ok(grant.filter(|grant| unix_seconds() <= grant.expires_at))
    }

    /// Forgets the waiting challenges of `scopes`.
    pub(crate) async fn forget_challenges(
        &self,
        scopes: Vec<RecipientScope>,
    ) -> Result<(), StoreError> {
        self.challenges
            .lock()
            .retain(|_, grant| !scopes.contains(&grant.scope()));
        Ok(())
    }

    /// Records an office login's stamp as spent (in memory, until it expires), or refuses one
    /// spent already.
    pub(crate) async fn spend_stamp(
        &self,
        spent: meldpunt_crypto::SpentStamp,
    ) -> Result<(), StoreError> {
        let now = unix_seconds();
        let mut stamps = self
            .challenges
            .spent_stamps
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        stamps.retain(|_, expires_at| *expires_at >= now);
        if stamps.insert(spent.nonce, spent.expires_at).is_some() {
            return Err(StoreError::StampSpent);
        }
        Ok(())
    }
}
