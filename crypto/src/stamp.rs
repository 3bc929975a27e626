//! Proof-of-work stamps: anti-abuse that identifies no one.
//!
//! Tor users share exit addresses and onion clients have none, so the relay cannot limit
//! mailbox creation per address. Instead it hands out **challenges**: stateless, HMAC-signed,
//! expiring. To create a mailbox, a client finds a `solution` such that
//!
//! `SHA-256("meldpunt/v1/stamp" || challenge || mailbox_id || solution as 8 bytes big-endian)`
//!
//! starts with at least `difficulty` zero bits, and sends the challenge with the solution
//! (the **stamp**). The relay checks the MAC, the expiry and the work, and records the
//! challenge's nonce as spent until it expires, so a stamp works once. Binding the stamp to
//! the mailbox id means a stamp seen in transit is no use for any other mailbox.
//!
//! Challenge bytes (58): version `1` (1 byte) || difficulty (1 byte) || expiry, Unix seconds
//! (8 bytes, big-endian) || nonce (16 bytes) || HMAC-SHA256(stamp key, the preceding 26 bytes).
//! Wire form: unpadded base64url. A stamp's wire form is `<challenge>.<solution in decimal>`.
//!
//! This module must never accept a stamp without checking all of MAC, expiry and work,
//! and never compare MACs other than in constant time.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, MailboxId};

const CHALLENGE_VERSION: u8 = 1;
const BODY_LENGTH: usize = 26;
const CHALLENGE_LENGTH: usize = BODY_LENGTH + 32;
const STAMP_LABEL: &[u8] = b"meldpunt/v1/stamp";
/// The most work a relay may ask for (2⁳² hashes would take a phone days).
pub const MAXIMUM_DIFFICULTY: u8 = 32;

/// The relay's secret for signing challenges. Zeroized on drop; redacted in `Debug`.
pub struct StampKey(Zeroizing<[u8; 32]>);

impl StampKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut key = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut key[..]);
        StampKey(key)
    }

    /// The key several relays share (kept where they all read it, such as their database):
    /// a challenge one of them issues, another accepts.
    pub fn from_bytes(key: Zeroizing<[u8; 32]>) -> Self {
        StampKey(key)
    }

    fn mac(&self, body: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0[..]).expect("any key length");
        mac.update(body);
        mac
    }

    /// A new challenge of the given difficulty that expires at `expires_at` (Unix seconds).
    pub fn challenge(&self, difficulty: u8, expires_at: u64) -> Challenge {
        let mut bytes = [0u8; CHALLENGE_LENGTH];
        bytes[0] = CHALLENGE_VERSION;
        bytes[1] = difficulty.min(MAXIMUM_DIFFICULTY);
        bytes[2..10].copy_from_slice(&expires_at.to_be_bytes());
        OsRng.fill_bytes(&mut bytes[10..BODY_LENGTH]);
        let tag = self.mac(&bytes[..BODY_LENGTH]).finalize().into_bytes();
        bytes[BODY_LENGTH..].copy_from_slice(&tag);
        Challenge(bytes)
    }

    /// Checks a stamp for `mailbox_id` at time `now` (Unix seconds), refusing one whose
    /// challenge asked for less than `minimum_difficulty` (the relay passes a little below its
    /// current difficulty, so that challenges collected while it was low cannot be spent once
    /// it has risen). On success returns what the relay must record as spent (the nonce) and
    /// until when.
    pub fn verify(
        &self,
        stamp: &Stamp,
        mailbox_id: &MailboxId,
        now: u64,
        minimum_difficulty: u8,
    ) -> Result<SpentStamp, Error> {
        let challenge = &stamp.challenge;
        if challenge.0[0] != CHALLENGE_VERSION {
            return Err(Error::StampInvalid);
        }
        self.mac(&challenge.0[..BODY_LENGTH])
            .verify_slice(&challenge.0[BODY_LENGTH..])
            .map_err(|_| Error::StampInvalid)?;
        if now > challenge.expires_at() {
            return Err(Error::StampExpired);
        }
        if challenge.difficulty() < minimum_difficulty {
            return Err(Error::StampOutdated {
                issued: challenge.difficulty(),
                required: minimum_difficulty,
            });
        }
        if leading_zero_bits(&work_hash(challenge, mailbox_id, stamp.solution))
            < challenge.difficulty()
        {
            return Err(Error::StampInsufficientWork {
                required: challenge.difficulty(),
            });
        }
        Ok(SpentStamp {
            nonce: challenge.0[10..BODY_LENGTH].try_into().expect("16 bytes"),
            expires_at: challenge.expires_at(),
        })
    }
}

impl fmt::Debug for StampKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("StampKey([redacted])")
    }
}

/// What the relay records so that a stamp is spent only once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpentStamp {
    /// The challenge's random nonce.
    pub nonce: [u8; 16],
    /// Until when it must be remembered (Unix seconds); after that the challenge has expired.
    pub expires_at: u64,
}

/// A relay-issued challenge.
#[derive(Clone, PartialEq, Eq)]
pub struct Challenge([u8; CHALLENGE_LENGTH]);

impl Challenge {
    /// Leading zero bits the work hash must have.
    pub fn difficulty(&self) -> u8 {
        self.0[1]
    }

    /// Expiry, Unix seconds.
    pub fn expires_at(&self) -> u64 {
        u64::from_be_bytes(self.0[2..10].try_into().expect("8 bytes"))
    }

    /// Wire form.
    pub fn to_wire(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the wire form (nothing is trusted until the relay verifies the stamp).
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| <[u8; CHALLENGE_LENGTH]>::try_from(bytes).ok())
            .ok_or(Error::MalformedValue {
                what: "proof-of-work challenge",
                expected: "78 characters of unpadded base64url",
            })?;
        if bytes[1] > MAXIMUM_DIFFICULTY {
            return Err(Error::StampInvalid);
        }
        Ok(Challenge(bytes))
    }

    /// Solves the challenge for `mailbox_id`, calling `progress` with the number of hashes
    /// tried every 65 536 attempts; `progress` returning `false` cancels (returns `None`).
    pub fn solve(
        &self,
        mailbox_id: &MailboxId,
        mut progress: impl FnMut(u64) -> bool,
    ) -> Option<Stamp> {
        let mut prefix = Sha256::new();
        prefix.update(STAMP_LABEL);
        prefix.update(self.0);
        prefix.update(mailbox_id.as_bytes());
        for solution in 0u64.. {
            let hash = prefix
                .clone()
                .chain_update(solution.to_be_bytes())
                .finalize();
            if leading_zero_bits(&hash.into()) >= self.difficulty() {
                return Some(Stamp {
                    challenge: self.clone(),
                    solution,
                });
            }
            if solution % 65_536 == 65_535 && !progress(solution + 1) {
                return None;
            }
        }
        None
    }
}

impl fmt::Debug for Challenge {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "Challenge(difficulty {}, expires at {})",
            self.difficulty(),
            self.expires_at()
        )
    }
}

/// A solved challenge, as a client sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp {
    /// The challenge.
    pub challenge: Challenge,
    /// The solution found.
    pub solution: u64,
}

impl Stamp {
    /// Wire form: `<challenge>.<solution>`.
    pub fn to_wire(&self) -> String {
        format!("{}.{}", self.challenge.to_wire(), self.solution)
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let malformed = Error::MalformedValue {
            what: "proof-of-work stamp",
            expected: "a challenge, a dot and a decimal solution",
        };
        let (challenge, solution) = text.trim().split_once('.').ok_or(malformed)?;
        let solution = solution.parse().map_err(|_| Error::MalformedValue {
            what: "proof-of-work stamp",
            expected: "a challenge, a dot and a decimal solution",
        })?;
        Ok(Stamp {
            challenge: Challenge::from_wire(challenge)?,
            solution,
        })
    }
}

fn work_hash(challenge: &Challenge, mailbox_id: &MailboxId, solution: u64) -> [u8; 32] {
    Sha256::new()
        .chain_update(STAMP_LABEL)
        .chain_update(challenge.0)
        .chain_update(mailbox_id.as_bytes())
        .chain_update(solution.to_be_bytes())
        .finalize()
        .into()
}

fn leading_zero_bits(hash: &[u8; 32]) -> u8 {
    let mut bits = 0u8;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            bits += byte.leading_zeros() as u8;
            break;
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReceiptCode;

    fn mailbox() -> MailboxId {
        ReceiptCode::generate().mailbox_token().mailbox_id()
    }

    #[test]
    fn a_solved_stamp_verifies_once_per_nonce() {
        let key = StampKey::generate();
        let id = mailbox();
        let challenge = key.challenge(10, 1_000);
        let stamp = challenge.solve(&id, |_| true).unwrap();
        let parsed = Stamp::from_wire(&stamp.to_wire()).unwrap();
        let spent = key.verify(&parsed, &id, 999, 10).unwrap();
        assert_eq!(spent.expires_at, 1_000);
        assert_eq!(
            key.verify(&parsed, &id, 999, 10).unwrap().nonce,
            spent.nonce
        );
    }

    #[test]
    fn refuses_expired_forged_lazy_and_misbound_stamps() {
        let key = StampKey::generate();
        let id = mailbox();
        let stamp = key.challenge(12, 1_000).solve(&id, |_| true).unwrap();
        assert!(matches!(
            key.verify(&stamp, &id, 1_001, 0),
            Err(Error::StampExpired)
        ));
        assert!(matches!(
            StampKey::generate().verify(&stamp, &id, 0, 0),
            Err(Error::StampInvalid)
        ));
        let other = mailbox();
        // The same solution for another mailbox almost surely lacks the work.
        let result = key.verify(&stamp, &other, 0, 0);
        assert!(
            matches!(result, Err(Error::StampInsufficientWork { required: 12 })) || result.is_ok()
        );
        let mut lazy = stamp.clone();
        while leading_zero_bits(&work_hash(&lazy.challenge, &id, lazy.solution)) >= 12 {
            lazy.solution += 1;
        }
        assert!(matches!(
            key.verify(&lazy, &id, 0, 0),
            Err(Error::StampInsufficientWork { .. })
        ));
        // A challenge issued at a difficulty below the relay's floor is refused, however
        // well it was solved.
        assert!(matches!(
            key.verify(&stamp, &id, 0, 13),
            Err(Error::StampOutdated {
                issued: 12,
                required: 13
            })
        ));
        // Raising the difficulty in transit breaks the MAC.
        let mut tampered = stamp.clone();
        tampered.challenge.0[1] = 1;
        assert!(matches!(
            key.verify(&tampered, &id, 0, 0),
            Err(Error::StampInvalid)
        ));
    }

    #[test]
    fn malformed_wire_forms_are_refused() {
        for text in [
            "",
            "abc",
            "abc.1",
            &format!("{}.x", StampKey::generate().challenge(1, 0).to_wire()),
        ] {
            assert!(Stamp::from_wire(text).is_err(), "{text}");
        }
    }

    #[test]
    fn solving_can_be_cancelled() {
        let challenge = StampKey::generate().challenge(MAXIMUM_DIFFICULTY, 0);
        let mut calls = 0;
        assert!(challenge
            .solve(&mailbox(), |_| {
                calls += 1;
                calls < 3
            })
            .is_none());
    }
}
