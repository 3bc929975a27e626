//! Follow-up signatures: only the holder of the receipt code can add to a report.
//!
//! A follow-up is sealed to the office's *public* keys, so anyone who can post into the
//! mailbox — the relay, which sees the mailbox token in flight — could seal one too. To tell
//! them apart, the receipt code also derives an Ed25519 key (HKDF label
//! [`FOLLOW_UP_SIGNING_LABEL`]); the report carries its public half, and every follow-up is
//! signed by it over [`Message::follow_up_signing_bytes`]: a fixed binary digest of the
//! message's mailbox, sequence number, day, text and attachment references (not its JSON, so
//! that every implementation computes the same bytes). Readers verify follow-ups against the
//! key in the thread's report ([`crate::ThreadCheck`]).
//!
//! This module must never expose the signing key through `Debug` or an error.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, Message, ReceiptCode};

/// HKDF label of the follow-up signing key.
pub const FOLLOW_UP_SIGNING_LABEL: &[u8] = b"meldpunt/v1/follow-up-signing";
/// Prefix of the bytes a follow-up signature covers.
pub const FOLLOW_UP_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/follow-up\n";

impl ReceiptCode {
    /// The key that signs this reporter's follow-ups.
    pub fn follow_up_signing_key(&self) -> FollowUpSigningKey {
        let seed = crate::keys::derive(self, FOLLOW_UP_SIGNING_LABEL);
        FollowUpSigningKey(SigningKey::from_bytes(&seed))
    }
}

/// The reporter's follow-up signing key. Zeroized on drop; redacted in `Debug`.
pub struct FollowUpSigningKey(SigningKey);

impl FollowUpSigningKey {
    /// The public half, which the report carries.
    pub fn follow_up_key(&self) -> FollowUpKey {
        FollowUpKey(self.0.verifying_key())
    }

    /// Signs a follow-up (sets its signature).
    pub fn sign(&self, message: &mut Message) {
        message.signature = None;
        let signature = self.0.sign(&message.follow_up_signing_bytes());
        message.signature = Some(FollowUpSignature(signature.to_bytes()));
    }
}

impl fmt::Debug for FollowUpSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("FollowUpSigningKey([redacted])")
    }
}

/// The public key follow-ups are verified with. Wire form: 43 characters of base64url.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FollowUpKey(VerifyingKey);

impl FollowUpKey {
    /// Checks a follow-up's signature.
    pub fn verify(&self, message: &Message) -> Result<(), Error> {
        let signature = message.signature.ok_or(Error::ForgedFollowUp)?;
        self.0
            .verify_strict(
                &message.follow_up_signing_bytes(),
                &Signature::from_bytes(&signature.0),
            )
            .map_err(|_| Error::ForgedFollowUp)
    }

    /// The wire form.
    pub fn to_wire(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0.as_bytes())
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedValue {
            what: "follow-up key",
            expected: "43 characters of unpadded base64url",
        };
        let bytes: [u8; 32] = URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(malformed)?;
        VerifyingKey::from_bytes(&bytes)
            .map(FollowUpKey)
            .map_err(|_| malformed())
    }
}

impl fmt::Debug for FollowUpKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "FollowUpKey({})", self.to_wire())
    }
}

/// A follow-up's Ed25519 signature. Wire form: 86 characters of base64url.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FollowUpSignature(pub(crate) [u8; 64]);

impl FollowUpSignature {
    /// The wire form.
    pub fn to_wire(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .map(FollowUpSignature)
            .ok_or(Error::MalformedValue {
                what: "follow-up signature",
                expected: "86 characters of unpadded base64url",
            })
    }
}

impl fmt::Debug for FollowUpSignature {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("FollowUpSignature(..)")
    }
}

impl Message {
    /// What a follow-up signature covers: [`FOLLOW_UP_SIGNATURE_CONTEXT`] || mailbox id (32
    /// bytes) || sequence (4 bytes, big-endian) || day written (10 ASCII bytes, `YYYY-MM-DD`)
    /// || SHA-256 of the text || number of attachments (4 bytes, big-endian) || for each:
    /// SHA-256 of its name || size (8 bytes, big-endian) || its SHA-256 || SHA-256 of its
    /// location.
    pub fn follow_up_signing_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(160 + 104 * self.attachments.len()));
        bytes.extend_from_slice(FOLLOW_UP_SIGNATURE_CONTEXT);
        bytes.extend_from_slice(self.mailbox.as_bytes());
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        bytes.extend_from_slice(self.written_on.to_string().as_bytes());
        bytes.extend_from_slice(&Sha256::digest(self.body.as_bytes()));
        bytes.extend_from_slice(&(self.attachments.len() as u32).to_be_bytes());
        for attachment in &self.attachments {
            bytes.extend_from_slice(&Sha256::digest(attachment.name.as_bytes()));
            bytes.extend_from_slice(&attachment.size.to_be_bytes());
            bytes.extend_from_slice(&attachment.sha256);
            bytes.extend_from_slice(&Sha256::digest(attachment.location.as_bytes()));
        }
        bytes
    }
}

impl serde::Serialize for FollowUpKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for FollowUpKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FollowUpKey::from_wire(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for FollowUpSignature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for FollowUpSignature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        FollowUpSignature::from_wire(&text).map_err(serde::de::Error::custom)
    }
}
