//! Message signatures: every author of a thread is authenticated.
//!
//! Every message is sealed to *public* keys, so anyone who can post into a mailbox could seal
//! one: the relay (which sees the mailbox token in flight), a reporter (who can post into their
//! own mailbox), a colleague holding another office key. Signatures tell them apart:
//!
//! - **Follow-ups** are signed by an Ed25519 key the receipt code derives (HKDF label
//!   [`FOLLOW_UP_SIGNING_LABEL`]); the report carries its public half ([`FollowUpKey`]).
//! - **Office messages** (replies, acknowledgements) are signed by an Ed25519 key that each
//!   office identity derives from its age identity ([`IdentityKey::office_signing_key`], HKDF
//!   label [`OFFICE_SIGNING_LABEL`]); the signed directory lists its public half
//!   ([`OfficeKey`], written `mpok1…`) under the recipient, and the message names it.
//!
//! Both sign [`Message::signing_bytes`]: a fixed binary digest of the message (not its JSON,
//! so that every implementation computes the same bytes). Readers verify them with a
//! [`crate::ThreadCheck`].
//!
//! This module must never expose a signing key through `Debug` or an error.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use bech32::{Bech32, Hrp};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, IdentityKey, MailboxId, Message, MessageKind, ReceiptCode};

/// HKDF label of the follow-up signing key.
pub const FOLLOW_UP_SIGNING_LABEL: &[u8] = b"meldpunt/v1/follow-up-signing";
/// Prefix of the bytes a follow-up signature covers.
pub const FOLLOW_UP_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/follow-up\n";
/// HKDF salt of the office signing key's derivation from an age identity.
pub const OFFICE_SIGNING_SALT: &[u8] = b"meldpunt office identity v1";
/// HKDF label of the office signing key.
pub const OFFICE_SIGNING_LABEL: &[u8] = b"meldpunt/v1/office-signing";
/// Prefix of the bytes an office message's signature covers.
pub const OFFICE_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/office-message\n";
/// Prefix of the bytes a reporter signs, with a consultation's follow-up key, to carry that
/// consultation into a report.
pub const CARRIED_CONSULTATION_CONTEXT: &[u8] = b"meldpunt/v1/carried-consultation\n";
/// Tag before the opening digest an office message's signature covers, when it names one.
pub const OPENING_SIGNATURE_TAG: &[u8] = b"meldpunt/v1/opening\n";
/// Prefix of what an office member signs to mark a report as recorded by them (an oral
/// report).
pub const RECORDING_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/recorded-report\n";
/// Tag before a recording in a recorded report's opening digest.
pub const RECORDING_DIGEST_TAG: &[u8] = b"meldpunt/v1/recording\n";
/// Tag before the purpose a message's signing bytes cover, when it is not an ordinary one.
pub const PURPOSE_SIGNATURE_TAG: &[u8] = b"meldpunt/v1/purpose\n";
/// Tag before the answers a report's or follow-up's signing bytes cover, when it has any.
pub const ANSWERS_SIGNATURE_TAG: &[u8] = b"meldpunt/v1/answers\n";
/// Bech32 prefix of an office key.
const OFFICE_KEY_HRP: &str = "mpok";

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

    /// Signs a follow-up (sets its signature; another kind is left as it is).
    pub fn sign(&self, message: &mut Message) {
        let signed = MessageSignature(self.0.sign(&message.signing_bytes()).to_bytes());
        if let MessageKind::FollowUp { signature, .. } = &mut message.kind {
            *signature = signed;
        }
    }
}

impl FollowUpSigningKey {
    /// Signs over the first `carried_count` messages of the consultation in `consultation`
    /// to the report in `report` (see [`crate::CarriedConsultation`]).
    pub fn sign_carried(
        &self,
        consultation: &MailboxId,
        report: &MailboxId,
        carried_count: u32,
    ) -> MessageSignature {
        let bytes = carried_consultation_bytes(consultation, report, carried_count);
        MessageSignature(self.0.sign(&bytes).to_bytes())
    }
}

/// What a reporter signs to carry a consultation into a report: the context, the
/// consultation's mailbox, the report's mailbox and how many messages it carries.
pub fn carried_consultation_bytes(
    consultation: &MailboxId,
    report: &MailboxId,
    carried_count: u32,
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(CARRIED_CONSULTATION_CONTEXT.len() + 68);
    bytes.extend_from_slice(CARRIED_CONSULTATION_CONTEXT);
    bytes.extend_from_slice(consultation.as_bytes());
    bytes.extend_from_slice(report.as_bytes());
    bytes.extend_from_slice(&carried_count.to_be_bytes());
    bytes
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
        let MessageKind::FollowUp { signature, .. } = &message.kind else {
            return Err(Error::ForgedFollowUp);
        };
        self.0
            .verify_strict(
                &message.signing_bytes(),
                &Signature::from_bytes(&signature.0),
            )
            .map_err(|_| Error::ForgedFollowUp)
    }

    /// Checks the signature that carries a consultation into a report
    /// ([`FollowUpSigningKey::sign_carried`]).
    pub fn verify_carried(
        &self,
        consultation: &MailboxId,
        report: &MailboxId,
        carried_count: u32,
        signature: &MessageSignature,
    ) -> Result<(), Error> {
        self.0
            .verify_strict(
                &carried_consultation_bytes(consultation, report, carried_count),
                &Signature::from_bytes(&signature.0),
            )
            .map_err(|_| Error::ForgedCarriedConsultation)
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

/// A message's Ed25519 signature (a follow-up's or an office message's). Wire form: 86
/// characters of base64url.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MessageSignature(pub(crate) [u8; 64]);

impl MessageSignature {
    /// A signature's 64 bytes as they are (a message being built holds these until it is
    /// signed; readers verify every signature).
    pub fn from_bytes(bytes: [u8; 64]) -> MessageSignature {
        MessageSignature(bytes)
    }

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
            .map(MessageSignature)
            .ok_or(Error::MalformedValue {
                what: "message signature",
                expected: "86 characters of unpadded base64url",
            })
    }
}

impl fmt::Debug for MessageSignature {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("MessageSignature(..)")
    }
}

impl IdentityKey {
    /// The Ed25519 key this office identity signs its messages with: HKDF-SHA256 with salt
    /// [`OFFICE_SIGNING_SALT`] over the identity's 32 secret bytes, label
    /// [`OFFICE_SIGNING_LABEL`]. Derived, so an office keeps one identity file.
    pub fn office_signing_key(&self) -> OfficeSigningKey {
        let bytes = self.secret_bytes();
        let hkdf = hkdf::Hkdf::<Sha256>::new(Some(OFFICE_SIGNING_SALT), &bytes[..]);
        let mut seed = Zeroizing::new([0u8; 32]);
        hkdf.expand(OFFICE_SIGNING_LABEL, &mut seed[..])
            .expect("32 bytes is a valid HKDF-SHA256 output length");
        OfficeSigningKey(SigningKey::from_bytes(&seed))
    }
}

/// An office identity's signing key. Zeroized on drop; redacted in `Debug`.
pub struct OfficeSigningKey(SigningKey);

impl OfficeSigningKey {
    /// The public half, which the directory lists and office messages name.
    pub fn office_key(&self) -> OfficeKey {
        OfficeKey(self.0.verifying_key())
    }

    /// The Ed25519 key itself, for the other things an office member signs (hand-overs).
    pub(crate) fn signing_key(&self) -> &SigningKey {
        &self.0
    }

    /// Signs a reply or acknowledgement: names this key as its signer and sets its
    /// signature. Refuses every other kind.
    pub fn sign(&self, message: &mut Message) -> Result<(), Error> {
        match &mut message.kind {
            MessageKind::Reply { signer, .. } | MessageKind::Acknowledgement { signer, .. } => {
                *signer = self.office_key();
            }
            _ => {
                return Err(Error::MalformedMessage(
                    "only replies and acknowledgements are signed with an office key".into(),
                ))
            }
        }
        let signed = MessageSignature(self.0.sign(&message.signing_bytes()).to_bytes());
        if let MessageKind::Reply { signature, .. }
        | MessageKind::Acknowledgement { signature, .. } = &mut message.kind
        {
            *signature = signed;
        }
        Ok(())
    }
}

impl OfficeSigningKey {
    /// Marks `report` as recorded by this member of `by` from an oral report over
    /// `channel`, and signs it so. Refuses anything but a report to `by` among others.
    pub fn record(
        &self,
        by: crate::RecipientAddress,
        channel: crate::Channel,
        report: &mut Message,
    ) -> Result<(), Error> {
        report.recording = None;
        let core = report
            .opening_digest()
            .ok_or_else(|| Error::MalformedMessage("only a report is recorded".into()))?;
        let bytes = recording_bytes(&by, &self.office_key(), channel, &core);
        report.recording = Some(crate::Recording {
            by,
            signer: self.office_key(),
            channel,
            signature: MessageSignature(self.0.sign(&bytes).to_bytes()),
        });
        report.check()
    }
}

/// What a recording member signs: [`RECORDING_SIGNATURE_CONTEXT`] || SHA-256 of the
/// organisation id || SHA-256 of the recipient id || the office key (32 bytes) || 0 for a
/// telephone call, 1 for a meeting || the report's opening digest without the recording.
fn recording_bytes(
    by: &crate::RecipientAddress,
    signer: &OfficeKey,
    channel: crate::Channel,
    core: &crate::OpeningDigest,
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(RECORDING_SIGNATURE_CONTEXT.len() + 32 * 4 + 1);
    bytes.extend_from_slice(RECORDING_SIGNATURE_CONTEXT);
    bytes.extend_from_slice(&Sha256::digest(by.organisation.as_bytes()));
    bytes.extend_from_slice(&Sha256::digest(by.recipient.as_bytes()));
    bytes.extend_from_slice(signer.as_bytes());
    bytes.push(u8::from(channel == crate::Channel::Meeting));
    bytes.extend_from_slice(&core.0);
    bytes
}

impl OfficeKey {
    /// Checks a recorded report's recording: signed by this key, which it names.
    pub fn verify_recording(&self, report: &Message) -> Result<(), Error> {
        let recording = report
            .recording
            .as_ref()
            .ok_or(Error::ForgedOfficeMessage)?;
        if recording.signer != *self {
            return Err(Error::ForgedOfficeMessage);
        }
        let mut unrecorded = report.clone();
        unrecorded.recording = None;
        let core = unrecorded
            .opening_digest()
            .ok_or(Error::ForgedOfficeMessage)?;
        self.0
            .verify_strict(
                &recording_bytes(&recording.by, self, recording.channel, &core),
                &Signature::from_bytes(&recording.signature.0),
            )
            .map_err(|_| Error::ForgedOfficeMessage)
    }
}

impl fmt::Debug for OfficeSigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "OfficeSigningKey([redacted], public: {})",
            self.office_key()
        )
    }
}

/// The public key an office identity signs with. Written `mpok1…` (Bech32).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct OfficeKey(VerifyingKey);

impl OfficeKey {
    /// Checks an office message's signature by this key (the message must name it).
    pub fn verify(&self, message: &Message) -> Result<(), Error> {
        let (named, signature) = match &message.kind {
            MessageKind::Reply {
                signer, signature, ..
            }
            | MessageKind::Acknowledgement {
                signer, signature, ..
            } => (*signer, *signature),
            _ => return Err(Error::ForgedOfficeMessage),
        };
        if named != *self {
            return Err(Error::ForgedOfficeMessage);
        }
        self.0
            .verify_strict(
                &message.signing_bytes(),
                &Signature::from_bytes(&signature.0),
            )
            .map_err(|_| Error::ForgedOfficeMessage)
    }

    /// The raw 32 bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        self.0.as_bytes()
    }

    /// The Ed25519 key itself.
    pub(crate) fn verifying_key(&self) -> &VerifyingKey {
        &self.0
    }
}

impl PartialOrd for OfficeKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Ordered by their bytes (case records break ties between writers this way).
impl Ord for OfficeKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl fmt::Display for OfficeKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(OFFICE_KEY_HRP);
        bech32::encode_lower_to_fmt::<Bech32, _>(formatter, hrp, self.0.as_bytes())
            .map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for OfficeKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "OfficeKey({self})")
    }
}

impl std::str::FromStr for OfficeKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let malformed = || Error::MalformedValue {
            what: "office key",
            expected: "a Bech32 string starting with mpok1",
        };
        let (hrp, bytes) = bech32::decode(text.trim()).map_err(|_| malformed())?;
        if hrp.as_str() != OFFICE_KEY_HRP {
            return Err(malformed());
        }
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| malformed())?;
        VerifyingKey::from_bytes(&bytes)
            .map(OfficeKey)
            .map_err(|_| malformed())
    }
}

impl serde::Serialize for OfficeKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for OfficeKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Message {
    /// What a message's signature covers.
    ///
    /// A follow-up: [`FOLLOW_UP_SIGNATURE_CONTEXT`] || the common part.
    ///
    /// A reply or acknowledgement: [`OFFICE_SIGNATURE_CONTEXT`] || SHA-256 of its kind
    /// (`reply` or `acknowledgement`) || SHA-256 of the sender's organisation id || SHA-256 of
    /// its recipient id || the signer's office key (32 bytes) || the common part.
    ///
    /// The common part: mailbox id (32 bytes) || sequence (4 bytes, big-endian) || day
    /// written (10 ASCII bytes, `YYYY-MM-DD`) || SHA-256 of the text || number of attachments
    /// (4 bytes, big-endian) || for each: SHA-256 of its name || size (8 bytes, big-endian) ||
    /// its SHA-256 || SHA-256 of its location; then, for a follow-up that shares the
    /// reporter's identity: SHA-256 of the chosen organisation id || SHA-256 of its recipient
    /// id || SHA-256 of the sealed identity; for a reply that announces a process guide:
    /// SHA-256 of the guide's organisation id || SHA-256 of its recipient id || 1 if they
    /// join, 0 if they leave; for a closing reply or an evaluation: [`PURPOSE_SIGNATURE_TAG`]
    /// || SHA-256 of the purpose's wire name; for a report or follow-up with answers: [`ANSWERS_SIGNATURE_TAG`]
    /// || the number of answers (4 bytes, big-endian) || for each, in the byte order of the
    /// question ids: SHA-256 of the question id || SHA-256 of the answer.
    ///
    /// A report is not signed: its own keys start the thread. Its bytes are the common part
    /// alone, and nothing verifies them.
    pub fn signing_bytes(&self) -> Zeroizing<Vec<u8>> {
        let mut bytes = Zeroizing::new(Vec::with_capacity(
            OFFICE_SIGNATURE_CONTEXT.len() + 4 * 32 + 90 + 104 * self.attachments.len(),
        ));
        match &self.kind {
            MessageKind::FollowUp { .. } => bytes.extend_from_slice(FOLLOW_UP_SIGNATURE_CONTEXT),
            MessageKind::Reply { from, signer, .. }
            | MessageKind::Acknowledgement { from, signer, .. } => {
                bytes.extend_from_slice(OFFICE_SIGNATURE_CONTEXT);
                bytes.extend_from_slice(&Sha256::digest(self.kind.as_str().as_bytes()));
                bytes.extend_from_slice(&Sha256::digest(from.organisation.as_bytes()));
                bytes.extend_from_slice(&Sha256::digest(from.recipient.as_bytes()));
                bytes.extend_from_slice(signer.as_bytes());
            }
            MessageKind::Report { .. } => {}
        }
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
        if let MessageKind::FollowUp {
            shared_identity: Some(shared),
            ..
        } = &self.kind
        {
            bytes.extend_from_slice(&Sha256::digest(shared.with.organisation.as_bytes()));
            bytes.extend_from_slice(&Sha256::digest(shared.with.recipient.as_bytes()));
            bytes.extend_from_slice(&Sha256::digest(&shared.sealed));
        }
        if let MessageKind::Reply {
            process_guide: Some(change),
            ..
        } = &self.kind
        {
            bytes.extend_from_slice(&Sha256::digest(change.recipient.organisation.as_bytes()));
            bytes.extend_from_slice(&Sha256::digest(change.recipient.recipient.as_bytes()));
            bytes.push(u8::from(change.joined));
        }
        if self.purpose != crate::Purpose::Message {
            bytes.extend_from_slice(PURPOSE_SIGNATURE_TAG);
            bytes.extend_from_slice(&Sha256::digest(self.purpose.as_str().as_bytes()));
        }
        if !self.answers.is_empty() {
            bytes.extend_from_slice(ANSWERS_SIGNATURE_TAG);
            bytes.extend_from_slice(&(self.answers.iter().count() as u32).to_be_bytes());
            for (question, answer) in self.answers.iter() {
                bytes.extend_from_slice(&Sha256::digest(question.as_bytes()));
                bytes.extend_from_slice(&Sha256::digest(answer.as_bytes()));
            }
        }
        if let MessageKind::Reply {
            opening: Some(opening),
            ..
        }
        | MessageKind::Acknowledgement {
            opening: Some(opening),
            ..
        } = &self.kind
        {
            bytes.extend_from_slice(OPENING_SIGNATURE_TAG);
            bytes.extend_from_slice(&opening.0);
        }
        bytes
    }

    /// The digest office messages answering this first message are bound to (`None` for a
    /// later message): SHA-256 of [`crate::OPENING_DIGEST_CONTEXT`] || its signing bytes ||
    /// its follow-up key (32 bytes) || SHA-256 of its reply key as written || the number of
    /// recipients (4 bytes, big-endian) || for each SHA-256 of the organisation id || SHA-256
    /// of the recipient id || 1 for a consultation, 0 for a report; then, for a recorded
    /// report, [`RECORDING_DIGEST_TAG`] || SHA-256 of the recording recipient's organisation
    /// id || SHA-256 of its recipient id || the recording office key || 0 for a telephone
    /// call, 1 for a meeting || the recording's signature (64 bytes).
    pub fn opening_digest(&self) -> Option<crate::OpeningDigest> {
        let MessageKind::Report {
            reply_key,
            follow_up_key,
            recipients,
            conversation,
            ..
        } = &self.kind
        else {
            return None;
        };
        let mut hasher = Sha256::new();
        hasher.update(crate::OPENING_DIGEST_CONTEXT);
        hasher.update(self.signing_bytes().as_slice());
        hasher.update(follow_up_key.0.as_bytes());
        hasher.update(Sha256::digest(reply_key.to_string().as_bytes()));
        hasher.update((recipients.len() as u32).to_be_bytes());
        for recipient in recipients {
            hasher.update(Sha256::digest(recipient.organisation.as_bytes()));
            hasher.update(Sha256::digest(recipient.recipient.as_bytes()));
        }
        hasher.update([u8::from(*conversation == crate::Conversation::Consultation)]);
        if let Some(recording) = &self.recording {
            hasher.update(RECORDING_DIGEST_TAG);
            hasher.update(Sha256::digest(recording.by.organisation.as_bytes()));
            hasher.update(Sha256::digest(recording.by.recipient.as_bytes()));
            hasher.update(recording.signer.as_bytes());
            hasher.update([u8::from(recording.channel == crate::Channel::Meeting)]);
            hasher.update(recording.signature.0);
        }
        Some(crate::OpeningDigest(hasher.finalize().into()))
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

impl serde::Serialize for MessageSignature {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> serde::Deserialize<'de> for MessageSignature {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        MessageSignature::from_wire(&text).map_err(serde::de::Error::custom)
    }
}
