//! Office sessions: stored as hashes of their tokens, with their organisation and expiry.

use super::StoreError;
use redb::ReadableTableMetadata;

use super::{decode, encode, Grant, RecipientScope, Store, SESSIONS};
use crate::clock::unix_seconds;

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
}
