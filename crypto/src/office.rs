//! How an integrity office proves to the relay that it holds its age identity, and the
//! session token it gets in return.
//!
//! 1. The relay makes an [`OfficeChallenge`]: 32 random bytes sealed (a normal padded sealed
//!    object of content length 32) to every key of the recipient the office names in the
//!    directory. It stores only the challenge's [`ChallengeAnswer::answer_id`]
//!    (`SHA-256("meldpunt/v1/office-challenge" || 0x00 || secret)`) with an expiry.
//! 2. The office opens it with [`ChallengeAnswer::open`] and sends the 32 bytes back.
//! 3. The relay hashes the answer, finds it, forgets it (one use), and issues a
//!    [`SessionToken`], storing only `SHA-256("meldpunt/v1/office-session" || 0x00 || token)`.
//!
//! This module must never let a challenge secret or session token reach `Debug` output.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::seal::open_stream;
use crate::{seal, Error, IdentityKey, RecipientKey, SealedObject};

const CHALLENGE_LABEL: &[u8] = b"meldpunt/v1/office-challenge";
const SESSION_LABEL: &[u8] = b"meldpunt/v1/office-session";

fn labelled_hash(label: &[u8], secret: &[u8; 32]) -> [u8; 32] {
    Sha256::new()
        .chain_update(label)
        .chain_update([0u8])
        .chain_update(secret)
        .finalize()
        .into()
}

fn random_secret() -> Zeroizing<[u8; 32]> {
    let mut secret = Zeroizing::new([0u8; 32]);
    OsRng.fill_bytes(&mut secret[..]);
    secret
}

fn decode_secret(text: &str, what: &'static str) -> Result<Zeroizing<[u8; 32]>, Error> {
    let mut scratch = Zeroizing::new([0u8; 33]);
    match (
        text.len(),
        URL_SAFE_NO_PAD.decode_slice(text, &mut scratch[..]),
    ) {
        (43, Ok(32)) => {
            let mut secret = Zeroizing::new([0u8; 32]);
            secret.copy_from_slice(&scratch[..32]);
            Ok(secret)
        }
        _ => Err(Error::MalformedValue {
            what,
            expected: "43 characters of unpadded base64url",
        }),
    }
}

/// A challenge the relay seals to an office's keys.
pub struct OfficeChallenge {
    answer_id: [u8; 32],
    sealed: SealedObject,
}

impl OfficeChallenge {
    /// A new challenge sealed to `recipients` (every key of the office's directory entry).
    pub fn new(recipients: &[RecipientKey]) -> Result<Self, Error> {
        let secret = random_secret();
        let sealed = seal(recipients, &secret[..])?;
        Ok(OfficeChallenge {
            answer_id: labelled_hash(CHALLENGE_LABEL, &secret),
            sealed,
        })
    }

    /// What the relay stores to recognise the right answer.
    pub fn answer_id(&self) -> [u8; 32] {
        self.answer_id
    }

    /// The sealed challenge to send to the office.
    pub fn sealed(&self) -> &SealedObject {
        &self.sealed
    }
}

impl fmt::Debug for OfficeChallenge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("OfficeChallenge([redacted])")
    }
}

/// The office's answer: the opened challenge secret.
pub struct ChallengeAnswer(Zeroizing<[u8; 32]>);

impl ChallengeAnswer {
    /// Opens a sealed challenge with the office's identity.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<Self, Error> {
        let mut secret = Zeroizing::new(Vec::with_capacity(32));
        open_stream(identities, sealed, 32, &mut *secret)?;
        let mut answer = Zeroizing::new([0u8; 32]);
        answer.copy_from_slice(&secret);
        Ok(ChallengeAnswer(answer))
    }

    /// The id the relay filed the challenge under.
    pub fn answer_id(&self) -> [u8; 32] {
        labelled_hash(CHALLENGE_LABEL, &self.0)
    }

    /// Wire form: unpadded base64url.
    pub fn to_wire(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(&self.0[..]))
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        decode_secret(text, "challenge answer").map(ChallengeAnswer)
    }
}

impl fmt::Debug for ChallengeAnswer {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ChallengeAnswer([redacted])")
    }
}

/// A short-lived office session token.
pub struct SessionToken(Zeroizing<[u8; 32]>);

impl SessionToken {
    /// A new random token.
    pub fn generate() -> Self {
        SessionToken(random_secret())
    }

    /// What the relay stores to recognise the token.
    pub fn session_id(&self) -> [u8; 32] {
        labelled_hash(SESSION_LABEL, &self.0)
    }

    /// Wire form: unpadded base64url.
    pub fn to_wire(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(&self.0[..]))
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        decode_secret(text, "session token").map(SessionToken)
    }

    /// Compares in constant time.
    pub fn matches(&self, other: &SessionToken) -> bool {
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SessionToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_office_answers_and_others_cannot() {
        let office = IdentityKey::generate();
        let challenge = OfficeChallenge::new(&[office.recipient()]).unwrap();
        let answer = ChallengeAnswer::open(&[office], challenge.sealed().as_bytes()).unwrap();
        let parsed = ChallengeAnswer::from_wire(&answer.to_wire()).unwrap();
        assert_eq!(parsed.answer_id(), challenge.answer_id());
        assert!(matches!(
            ChallengeAnswer::open(&[IdentityKey::generate()], challenge.sealed().as_bytes()),
            Err(Error::NotForThisIdentity)
        ));
        assert!(format!("{answer:?}").contains("redacted"));
    }

    #[test]
    fn session_tokens_round_trip_and_are_unique() {
        let token = SessionToken::generate();
        let parsed = SessionToken::from_wire(&token.to_wire()).unwrap();
        assert!(parsed.matches(&token));
        assert_eq!(parsed.session_id(), token.session_id());
        assert!(!SessionToken::generate().matches(&token));
        assert!(SessionToken::from_wire("not a token").is_err());
    }
}
