//! How an integrity office proves to the relay that it holds its age identity, and the
//! session token it gets in return.
//!
//! 1. The relay makes an [`OfficeChallenge`]: the fixed label [`CHALLENGE_CONTENT_LABEL`]
//!    followed by 32 random bytes, sealed (a normal padded sealed object) to every key of the
//!    recipient the office names in the directory. It keeps only the challenge's
//!    [`ChallengeAnswer::answer_id`] with an expiry.
//! 2. The office opens it with [`ChallengeAnswer::open`], which refuses anything that is not
//!    exactly the label and 32 bytes, and sends back the answer
//!    `SHA-256("meldpunt/v1/office-answer" || 0x00 || secret)` — a hash, never the opened
//!    bytes themselves, so a hostile relay that serves something else sealed to the office
//!    (a small attachment, say) as a challenge learns nothing of its content.
//! 3. The relay hashes the answer (`SHA-256("meldpunt/v1/office-challenge" || 0x00 ||
//!    answer)`), finds it, forgets it (one use), and issues a [`SessionToken`], storing only
//!    `SHA-256("meldpunt/v1/office-session" || 0x00 || token)`.
//!
//! This module must never let a challenge secret, answer or session token reach `Debug`
//! output.

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
const ANSWER_LABEL: &[u8] = b"meldpunt/v1/office-answer";
/// What every sealed office challenge starts with, before its 32 random bytes.
pub const CHALLENGE_CONTENT_LABEL: &[u8] = b"meldpunt/v1/office-challenge-content\n";
const SESSION_LABEL: &[u8] = b"meldpunt/v1/office-session";
const OFFICE_STAMP_LABEL: &[u8] = b"meldpunt/v1/office-stamp";

/// What an office's proof-of-work stamp is bound to when it asks for a challenge beyond
/// the relay's free rate: `SHA-256("meldpunt/v1/office-stamp" || 0x00 || organisation)`,
/// in the place of a mailbox id. A stamp solved for one organisation is useless for another.
pub fn office_stamp_subject(organisation: &str) -> crate::MailboxId {
    crate::MailboxId::from_bytes(
        Sha256::new()
            .chain_update(OFFICE_STAMP_LABEL)
            .chain_update([0])
            .chain_update(organisation.as_bytes())
            .finalize()
            .into(),
    )
}

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
        let mut content = Zeroizing::new([0u8; CHALLENGE_CONTENT_LABEL.len() + 32]);
        content[..CHALLENGE_CONTENT_LABEL.len()].copy_from_slice(CHALLENGE_CONTENT_LABEL);
        content[CHALLENGE_CONTENT_LABEL.len()..].copy_from_slice(&secret[..]);
        let sealed = seal(recipients, &content[..])?;
        let answer = Zeroizing::new(labelled_hash(ANSWER_LABEL, &secret));
        Ok(OfficeChallenge {
            answer_id: labelled_hash(CHALLENGE_LABEL, &answer),
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

/// The office's answer: a hash of the opened challenge secret.
pub struct ChallengeAnswer(Zeroizing<[u8; 32]>);

impl ChallengeAnswer {
    /// Opens a sealed challenge with the office's identity and computes the answer. Refuses
    /// ([`Error::NotAChallenge`]) anything whose content is not the challenge label and 32
    /// bytes.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<Self, Error> {
        const LENGTH: usize = CHALLENGE_CONTENT_LABEL.len() + 32;
        let mut content = Zeroizing::new(Vec::with_capacity(LENGTH));
        open_stream(identities, sealed, LENGTH as u64, &mut *content).map_err(
            |error| match error {
                Error::NotForThisIdentity => Error::NotForThisIdentity,
                _ => Error::NotAChallenge,
            },
        )?;
        if content.len() != LENGTH || !content.starts_with(CHALLENGE_CONTENT_LABEL) {
            return Err(Error::NotAChallenge);
        }
        let mut secret = Zeroizing::new([0u8; 32]);
        secret.copy_from_slice(&content[CHALLENGE_CONTENT_LABEL.len()..]);
        Ok(ChallengeAnswer(Zeroizing::new(labelled_hash(
            ANSWER_LABEL,
            &secret,
        ))))
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
        // The answer is a hash, not the secret: it is not in the sealed challenge's content.
        assert_ne!(answer.to_wire().as_str().len(), 0);
    }

    #[test]
    fn a_small_sealed_object_served_as_a_challenge_is_not_answered() {
        let office = IdentityKey::generate();
        for content in [&[7u8; 20][..], &[0u8; 32][..], &[1u8; 32][..], b""] {
            let sealed = seal(&[office.recipient()], content).unwrap();
            assert!(matches!(
                ChallengeAnswer::open(std::slice::from_ref(&office), sealed.as_bytes()),
                Err(Error::NotAChallenge)
            ));
        }
        let mut labelled = CHALLENGE_CONTENT_LABEL.to_vec();
        labelled.extend_from_slice(&[9u8; 33]);
        let sealed = seal(&[office.recipient()], &labelled).unwrap();
        assert!(matches!(
            ChallengeAnswer::open(&[office], sealed.as_bytes()),
            Err(Error::NotAChallenge)
        ));
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
