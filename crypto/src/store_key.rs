//! Encryption at rest for a client's local state (the office's case store): a random 32-byte
//! store key, kept sealed (age) to its owner's identity, and XChaCha20-Poly1305 under that key
//! for the state itself. Wire form of encrypted state: a 24-byte random nonce, then the
//! ciphertext with its 16-byte tag.
//!
//! This module does no I/O (callers read and write the bytes) and never shows the key.

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::{Error, IdentityKey, RecipientKey, SealedObject};

/// Length of the random nonce in front of encrypted state.
const NONCE_LENGTH: usize = 24;

/// Length of the key.
const KEY_LENGTH: usize = 32;

/// The key a client's local state is encrypted with. Zeroized on drop; never in `Debug`.
pub struct StoreKey(Zeroizing<[u8; KEY_LENGTH]>);

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("StoreKey([redacted])")
    }
}

impl StoreKey {
    /// A new random key.
    pub fn generate() -> StoreKey {
        let mut key = Zeroizing::new([0u8; KEY_LENGTH]);
        OsRng.fill_bytes(&mut *key);
        StoreKey(key)
    }

    /// The key sealed to its owner, to be kept beside the state.
    pub fn seal_to(&self, owner: &RecipientKey) -> Result<SealedObject, Error> {
        crate::seal(std::slice::from_ref(owner), &*self.0)
    }

    /// The key kept sealed, opened with one of `identities`.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<StoreKey, Error> {
        let mut opened = Zeroizing::new(Vec::with_capacity(KEY_LENGTH));
        crate::open_stream(identities, sealed, KEY_LENGTH as u64, &mut *opened)?;
        let mut key = Zeroizing::new([0u8; KEY_LENGTH]);
        key.copy_from_slice(&opened);
        Ok(StoreKey(key))
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&*self.0).into())
    }

    /// `plaintext` encrypted under a fresh random nonce: nonce || ciphertext.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let mut nonce = [0u8; NONCE_LENGTH];
        OsRng.fill_bytes(&mut nonce);
        let ciphertext = self
            .cipher()
            .encrypt(XNonce::from_slice(&nonce), plaintext)
            .map_err(|_| Error::TooLarge {
                what: "local state",
                limit: u64::from(u32::MAX),
            })?;
        let mut bytes = Vec::with_capacity(NONCE_LENGTH + ciphertext.len());
        bytes.extend_from_slice(&nonce);
        bytes.extend_from_slice(&ciphertext);
        Ok(bytes)
    }

    /// The plaintext of what [`encrypt`](Self::encrypt) wrote; [`Error::Damaged`] if it was
    /// altered, truncated or encrypted under another key.
    pub fn decrypt(&self, bytes: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if bytes.len() < NONCE_LENGTH + 16 {
            return Err(Error::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LENGTH);
        self.cipher()
            .decrypt(XNonce::from_slice(nonce), ciphertext)
            .map(Zeroizing::new)
            .map_err(|_| Error::Damaged)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_opens_only_unaltered_and_under_its_own_key() {
        let owner = IdentityKey::generate();
        let key = StoreKey::generate();
        let sealed = key.seal_to(&owner.recipient()).unwrap();
        let reopened = StoreKey::open(std::slice::from_ref(&owner), sealed.as_bytes()).unwrap();
        let encrypted = key.encrypt(b"cases").unwrap();
        assert_eq!(&**reopened.decrypt(&encrypted).unwrap(), b"cases");
        // Fresh nonces: the same state never encrypts to the same bytes.
        assert_ne!(key.encrypt(b"cases").unwrap(), encrypted);
        for damaged in [
            {
                let mut bytes = encrypted.clone();
                *bytes.last_mut().unwrap() ^= 1;
                bytes
            },
            encrypted[..encrypted.len() - 1].to_vec(),
            encrypted[..10].to_vec(),
            Vec::new(),
        ] {
            assert!(matches!(key.decrypt(&damaged), Err(Error::Damaged)));
        }
        assert!(matches!(
            StoreKey::generate().decrypt(&encrypted),
            Err(Error::Damaged)
        ));
        assert!(matches!(
            StoreKey::open(&[IdentityKey::generate()], sealed.as_bytes()),
            Err(Error::NotForThisIdentity)
        ));
        assert_eq!(format!("{key:?}"), "StoreKey([redacted])");
    }
}
