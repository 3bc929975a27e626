//! Office sessions: stored as hashes of their tokens, with their organisation and expiry.

use super::StoreError;
use super::{decode, encode, Grant, Store, SESSIONS};
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
