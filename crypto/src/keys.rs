//! Keys, each typed by its purpose, and their derivation from a receipt code.
//!
//! From the 16 bytes of a receipt code, HKDF-SHA256 (RFC 5869) with the salt
//! [`RECEIPT_SALT`] derives, each under its own versioned label:
//!
//! | label (HKDF `info`)          | output   | what it is                                     |
//! |------------------------------|----------|------------------------------------------------|
//! | `meldpunt/v1/mailbox-token`  | 32 bytes | [`MailboxToken`]: the secret the client shows the relay |
//! | `meldpunt/v1/reply-key`      | 32 bytes | the reporter's classic X25519 reply identity (reports made before hybrid keys) |
//! | `meldpunt/v2/reply-key-pq`   | 32 bytes | the seed of the reporter's hybrid post-quantum reply identity (`mlkem768x25519`), which new reports carry |
//!
//! The relay stores only the [`MailboxId`]: `SHA-256("meldpunt/v1/mailbox-id" || 0x00 || token)`.
//!
//! This module must never expose a secret through `Debug`, `Display` or an error, and never
//! compare secrets with `==` on bytes: [`MailboxToken`] and [`MailboxId`] compare in constant time.

use std::fmt;
use std::str::FromStr;

use age::secrecy::ExposeSecret;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bech32::{Bech32, Hrp};
use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::hybrid::{HybridIdentity, HybridRecipient};
use crate::{Error, ReceiptCode};

/// HKDF salt for every derivation from a receipt code.
pub const RECEIPT_SALT: &[u8] = b"meldpunt receipt code v1";
/// HKDF label of the mailbox token.
pub const MAILBOX_TOKEN_LABEL: &[u8] = b"meldpunt/v1/mailbox-token";
/// HKDF label of the reporter's classic reply key (reports made before hybrid reply keys).
pub const REPLY_KEY_LABEL: &[u8] = b"meldpunt/v1/reply-key";
/// HKDF label of the seed of the reporter's hybrid post-quantum reply key.
pub const HYBRID_REPLY_KEY_LABEL: &[u8] = b"meldpunt/v2/reply-key-pq";
/// Domain-separation prefix of the mailbox id hash.
pub const MAILBOX_ID_LABEL: &[u8] = b"meldpunt/v1/mailbox-id";

pub(crate) fn derive(code: &ReceiptCode, label: &[u8]) -> Zeroizing<[u8; 32]> {
    let hkdf = Hkdf::<Sha256>::new(Some(RECEIPT_SALT), code.entropy());
    let mut output = Zeroizing::new([0u8; 32]);
    hkdf.expand(label, &mut output[..])
        .expect("32 bytes is a valid HKDF-SHA256 output length");
    output
}

impl ReceiptCode {
    /// The mailbox token: the secret this reporter shows the relay to reach the mailbox.
    pub fn mailbox_token(&self) -> MailboxToken {
        MailboxToken(derive(self, MAILBOX_TOKEN_LABEL))
    }

    /// The reporter's reply identity, which a new report carries: replies are sealed to its
    /// public half. A hybrid post-quantum key, so that a reply recorded today stays closed.
    pub fn reply_identity(&self) -> IdentityKey {
        IdentityKey::from_hybrid_seed(&derive(self, HYBRID_REPLY_KEY_LABEL))
    }

    /// The classic X25519 reply identity, which reports made before hybrid reply keys carry.
    pub fn classic_reply_identity(&self) -> IdentityKey {
        IdentityKey::from_secret_bytes(&derive(self, REPLY_KEY_LABEL))
    }

    /// Every reply identity this code derives, the current one first: the reporter's readers
    /// open with all of them, so that codes from before hybrid reply keys keep working.
    pub fn reply_identities(&self) -> [IdentityKey; 2] {
        [self.reply_identity(), self.classic_reply_identity()]
    }
}

/// The secret that opens a mailbox on the relay. Zeroized on drop; redacted in `Debug`.
pub struct MailboxToken(Zeroizing<[u8; 32]>);

impl MailboxToken {
    /// The mailbox id the relay files this mailbox under.
    pub fn mailbox_id(&self) -> MailboxId {
        let mut hash = Sha256::new();
        hash.update(MAILBOX_ID_LABEL);
        hash.update([0u8]);
        hash.update(&self.0[..]);
        MailboxId(hash.finalize().into())
    }

    /// The wire form: unpadded base64url of the 32 bytes (43 characters).
    pub fn to_wire(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(&self.0[..]))
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        decode_32(text, &mut bytes).map_err(|()| Error::MalformedValue {
            what: "mailbox token",
            expected: "43 characters of unpadded base64url",
        })?;
        Ok(MailboxToken(bytes))
    }

    /// Compares two tokens in constant time.
    pub fn matches(&self, other: &MailboxToken) -> bool {
        self.0[..].ct_eq(&other.0[..]).into()
    }
}

impl fmt::Debug for MailboxToken {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("MailboxToken([redacted])")
    }
}

/// Decodes exactly 32 bytes of unpadded base64url into `output`, zeroizing scratch space.
fn decode_32(text: &str, output: &mut [u8; 32]) -> Result<(), ()> {
    if text.len() != 43 {
        return Err(());
    }
    let mut scratch = Zeroizing::new([0u8; 33]);
    match URL_SAFE_NO_PAD.decode_slice(text, &mut scratch[..]) {
        Ok(32) => {
            output.copy_from_slice(&scratch[..32]);
            Ok(())
        }
        _ => Err(()),
    }
}

/// The name of a mailbox on the relay: a hash of its token. Not secret, but compared in
/// constant time anyway, since the relay looks mailboxes up by it.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct MailboxId([u8; 32]);

impl MailboxId {
    /// The 32 bytes, as the relay stores them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// From the 32 stored bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MailboxId(bytes)
    }

    /// The wire form: unpadded base64url (43 characters).
    pub fn to_wire(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let mut bytes = [0u8; 32];
        decode_32(text, &mut bytes).map_err(|()| Error::MalformedValue {
            what: "mailbox id",
            expected: "43 characters of unpadded base64url",
        })?;
        Ok(MailboxId(bytes))
    }

    /// Compares two ids in constant time.
    pub fn matches(&self, other: &MailboxId) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl serde::Serialize for MailboxId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for MailboxId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MailboxId::from_wire(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for MailboxId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "MailboxId({})", self.to_wire())
    }
}

/// The name of a sealed attachment on the relay: 16 random bytes chosen by its uploader,
/// written as exactly 22 characters of canonical unpadded base64url. The one rule for
/// attachment ids, used by the message format (an attachment's `location`) and the relay.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttachmentId([u8; 16]);

impl AttachmentId {
    /// A new random id.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut bytes);
        AttachmentId(bytes)
    }

    /// The 16 bytes, as the relay stores them.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// From the 16 stored bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        AttachmentId(bytes)
    }

    /// The wire form: 22 characters of unpadded base64url.
    pub fn to_wire(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the wire form; only the canonical encoding of 16 bytes is accepted (so one id
    /// has one spelling: the last character is one of `A`, `Q`, `g`, `w`).
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedValue {
            what: "attachment id",
            expected: "22 characters of unpadded base64url (16 bytes)",
        };
        if text.len() != 22 {
            return Err(malformed());
        }
        let mut scratch = [0u8; 18];
        match URL_SAFE_NO_PAD.decode_slice(text, &mut scratch[..]) {
            Ok(16) => Ok(AttachmentId(scratch[..16].try_into().expect("16 bytes"))),
            _ => Err(malformed()),
        }
    }
}

impl serde::Serialize for AttachmentId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for AttachmentId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        AttachmentId::from_wire(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for AttachmentId {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "AttachmentId({})", self.to_wire())
    }
}

/// An age public key someone reports, replies or follow-ups can be sealed to: a classic
/// X25519 key (`age1…`) or an age v1.3 hybrid post-quantum key (`age1pq1…`, ML-KEM-768 with
/// X25519), which keeps what is sealed today closed for a quantum computer of tomorrow.
#[derive(Clone, PartialEq, Eq)]
pub struct RecipientKey(Recipient);

#[derive(Clone, PartialEq, Eq)]
enum Recipient {
    X25519(age::x25519::Recipient),
    Hybrid(Box<HybridRecipient>),
}

impl RecipientKey {
    /// Whether this is a hybrid post-quantum key.
    pub fn is_post_quantum(&self) -> bool {
        matches!(self.0, Recipient::Hybrid(_))
    }

    /// The hybrid key itself, for sealing.
    pub(crate) fn as_hybrid(&self) -> Option<&HybridRecipient> {
        match &self.0 {
            Recipient::Hybrid(recipient) => Some(recipient),
            Recipient::X25519(_) => None,
        }
    }

    pub(crate) fn as_age(&self) -> &dyn age::Recipient {
        match &self.0 {
            Recipient::X25519(recipient) => recipient,
            Recipient::Hybrid(recipient) => &**recipient,
        }
    }
}

impl FromStr for RecipientKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        // Bech32 may be written all upper case (never mixed): read it as its lower-case form.
        let lower;
        let text = if text.bytes().all(|byte| !byte.is_ascii_lowercase()) {
            lower = text.to_ascii_lowercase();
            lower.as_str()
        } else {
            text
        };
        if text.starts_with("age1pq1") {
            return HybridRecipient::parse(text)
                .map(|recipient| RecipientKey(Recipient::Hybrid(Box::new(recipient))))
                .ok_or(Error::MalformedRecipientKey);
        }
        text.parse::<age::x25519::Recipient>()
            .map(|recipient| RecipientKey(Recipient::X25519(recipient)))
            .map_err(|_| Error::MalformedRecipientKey)
    }
}

impl fmt::Display for RecipientKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Recipient::X25519(recipient) => recipient.fmt(formatter),
            Recipient::Hybrid(recipient) => formatter.write_str(recipient.as_str()),
        }
    }
}

impl fmt::Debug for RecipientKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Recipient::X25519(recipient) => write!(formatter, "RecipientKey({recipient})"),
            // 1,959 characters: the start and the checksum tell keys apart in a log.
            Recipient::Hybrid(recipient) => {
                let text = recipient.as_str();
                write!(
                    formatter,
                    "RecipientKey({}…{})",
                    &text[..20],
                    &text[text.len() - 8..]
                )
            }
        }
    }
}

impl serde::Serialize for RecipientKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for RecipientKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An age identity (secret key): classic X25519 (`AGE-SECRET-KEY-1…`) or hybrid
/// post-quantum (`AGE-SECRET-KEY-PQ-1…`). Not `Clone`; redacted in `Debug`; the secret is
/// zeroized on drop.
pub struct IdentityKey(Identity);

enum Identity {
    X25519(age::x25519::Identity),
    Hybrid(Box<HybridIdentity>),
}

impl IdentityKey {
    /// A new random classic X25519 identity from the operating system's random number
    /// generator.
    pub fn generate() -> Self {
        IdentityKey(Identity::X25519(age::x25519::Identity::generate()))
    }

    /// A new random hybrid post-quantum identity (age's `mlkem768x25519`).
    pub fn generate_post_quantum() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut seed[..]);
        Self::from_hybrid_seed(&seed)
    }

    /// A classic identity from 32 secret bytes. age accepts raw keys only in their Bech32
    /// form, so the bytes pass through a zeroized `AGE-SECRET-KEY-1…` string.
    pub(crate) fn from_secret_bytes(bytes: &[u8; 32]) -> Self {
        let hrp = Hrp::parse_unchecked("AGE-SECRET-KEY-");
        let mut encoded = bech32::encode_upper::<Bech32>(hrp, bytes)
            .expect("32 bytes always fit in a Bech32 string");
        let identity = encoded
            .parse::<age::x25519::Identity>()
            .expect("a freshly encoded identity parses");
        encoded.zeroize();
        IdentityKey(Identity::X25519(identity))
    }

    /// A hybrid identity from its 32-byte seed.
    pub(crate) fn from_hybrid_seed(seed: &[u8; 32]) -> Self {
        IdentityKey(Identity::Hybrid(Box::new(HybridIdentity::from_seed(seed))))
    }

    /// Parses an `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` string (surrounding
    /// whitespace allowed).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let text = text.trim();
        if crate::hybrid::is_hybrid_identity(text) {
            return HybridIdentity::parse(text)
                .map(|identity| IdentityKey(Identity::Hybrid(Box::new(identity))))
                .ok_or(Error::MalformedIdentity);
        }
        text.parse::<age::x25519::Identity>()
            .map(|identity| IdentityKey(Identity::X25519(identity)))
            .map_err(|_| Error::MalformedIdentity)
    }

    /// The `AGE-SECRET-KEY-1…` or `AGE-SECRET-KEY-PQ-1…` string, as in an age identity file.
    /// Zeroized on drop.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        match &self.0 {
            Identity::X25519(identity) => {
                Zeroizing::new(identity.to_string().expose_secret().to_owned())
            }
            Identity::Hybrid(identity) => identity.to_secret_string(),
        }
    }

    /// The 32 secret bytes (the X25519 scalar or the hybrid seed), for derivations.
    pub(crate) fn secret_bytes(&self) -> Zeroizing<[u8; 32]> {
        match &self.0 {
            Identity::X25519(_) => {
                let secret = self.to_secret_string();
                let (_, bytes) = bech32::decode(&secret).expect("an age identity is valid Bech32");
                let bytes = Zeroizing::new(bytes);
                Zeroizing::new(bytes[..].try_into().expect("32 secret bytes"))
            }
            Identity::Hybrid(identity) => Zeroizing::new(*identity.seed()),
        }
    }

    /// Whether this is a hybrid post-quantum identity.
    pub fn is_post_quantum(&self) -> bool {
        matches!(self.0, Identity::Hybrid(_))
    }

    /// The public half.
    pub fn recipient(&self) -> RecipientKey {
        match &self.0 {
            Identity::X25519(identity) => RecipientKey(Recipient::X25519(identity.to_public())),
            Identity::Hybrid(identity) => {
                RecipientKey(Recipient::Hybrid(Box::new(identity.recipient().clone())))
            }
        }
    }

    pub(crate) fn as_age(&self) -> &dyn age::Identity {
        match &self.0 {
            Identity::X25519(identity) => identity,
            Identity::Hybrid(identity) => &**identity,
        }
    }
}

impl fmt::Debug for IdentityKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "IdentityKey([redacted], public: {:?})",
            self.recipient()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn derivations_are_distinct_and_deterministic() {
        let code = ReceiptCode::from_entropy([3u8; 16]);
        let token = code.mailbox_token();
        let again = ReceiptCode::from_entropy([3u8; 16]).mailbox_token();
        assert!(token.matches(&again));
        assert_eq!(token.mailbox_id(), again.mailbox_id());
        let reply = code.reply_identity();
        let reply_secret = reply.to_secret_string();
        assert!(!reply_secret.contains(token.to_wire().as_str()));
        assert_ne!(
            token.mailbox_id().as_bytes(),
            &*derive(&code, MAILBOX_TOKEN_LABEL)
        );
        let other = ReceiptCode::from_entropy([4u8; 16]);
        assert!(!other.mailbox_token().matches(&token));
        assert_ne!(other.reply_identity().recipient(), reply.recipient());
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let code = ReceiptCode::generate();
        let token = code.mailbox_token();
        assert!(!format!("{token:?}").contains(token.to_wire().as_str()));
        let identity = code.reply_identity();
        let secret = identity.to_secret_string();
        assert!(!format!("{identity:?}").contains(&secret[16..]));
    }

    #[test]
    fn hybrid_keys_parse_in_either_case_but_not_mixed() {
        let identity = IdentityKey::generate_post_quantum();
        let recipient = identity.recipient().to_string();
        let upper: RecipientKey = recipient.to_uppercase().parse().unwrap();
        assert_eq!(upper, identity.recipient());
        let mixed = format!("AGE1PQ1{}", &recipient[7..]);
        assert!(RecipientKey::from_str(&mixed).is_err());
        let secret = identity.to_secret_string();
        let lower = IdentityKey::parse(&secret.to_lowercase()).unwrap();
        assert_eq!(lower.recipient(), identity.recipient());
        assert!(lower.is_post_quantum());
    }

    #[test]
    fn malformed_wire_forms_are_refused() {
        for text in ["", "short", &"A".repeat(44), &"*".repeat(43)] {
            assert!(MailboxToken::from_wire(text).is_err());
            assert!(MailboxId::from_wire(text).is_err());
        }
        assert!(matches!(
            RecipientKey::from_str("age1nope"),
            Err(Error::MalformedRecipientKey)
        ));
        assert!(matches!(
            IdentityKey::parse("AGE-SECRET-KEY-1NOPE"),
            Err(Error::MalformedIdentity)
        ));
    }

    proptest! {
        #[test]
        fn wire_forms_round_trip(entropy in any::<[u8; 16]>()) {
            let token = ReceiptCode::from_entropy(entropy).mailbox_token();
            let parsed = MailboxToken::from_wire(&token.to_wire()).unwrap();
            prop_assert!(parsed.matches(&token));
            let id = token.mailbox_id();
            prop_assert_eq!(MailboxId::from_wire(&id.to_wire()).unwrap(), id);
        }

        #[test]
        fn identity_strings_round_trip(bytes in any::<[u8; 32]>()) {
            let identity = IdentityKey::from_secret_bytes(&bytes);
            let parsed = IdentityKey::parse(&identity.to_secret_string()).unwrap();
            prop_assert_eq!(parsed.recipient(), identity.recipient());
            let recipient: RecipientKey = identity.recipient().to_string().parse().unwrap();
            prop_assert_eq!(recipient, identity.recipient());
        }
    }
}
