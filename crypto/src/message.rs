//! The plaintext format of everything a reporter or an office writes.
//!
//! A message is a compact JSON object (UTF-8) with a format marker and version,
//! `"meldpunt-message": 3`, and a `kind`: `report`, `follow-up`, `reply` or
//! `acknowledgement`. Every message names the mailbox it belongs to and carries its author's
//! sequence number (the reporter counts 1, 2, 3…; each office signing key counts its own),
//! so that a reader can tell — with a [`ThreadCheck`] — when a relay serves a message in
//! another mailbox, replays one, reorders them, or withholds one from the middle. Follow-ups
//! are signed by the reporter's key, office messages by the sender's office key (see
//! `signing.rs`). It is sealed with [`Message::seal`]: the JSON is the content, zero
//! bytes pad it (see [`crate::padded_length`]). JSON always ends in `}`, so the padding is
//! found by trimming trailing zero bytes, and [`Message::open`] insists that exactly the
//! prescribed amount of padding was there. Opened with stock age, a message is readable JSON
//! followed by zero bytes (`age -d … | tr -d '\0'`).
//!
//! Decoding refuses unknown versions, unknown fields, oversize bodies and attachment names
//! that could be used as paths, with a clear error — never a panic.
//!
//! This module must never put message content into `Debug` output or errors.

use std::fmt;
use std::io::{Read, Write};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::seal::{open_content, open_stream, seal};
use crate::{
    Answers, Day, Error, FollowUpKey, IdentityKey, MailboxId, MessageSignature, OfficeKey,
    ReceiptCode, RecipientKey, SealedObject,
};

/// The message format version this crate writes and reads.
pub const MESSAGE_FORMAT_VERSION: u64 = 3;
/// Largest encoded message (before padding).
pub const MAXIMUM_MESSAGE_LENGTH: u64 = 1 << 20;
/// Largest message body, in bytes of UTF-8.
pub const MAXIMUM_BODY_LENGTH: usize = 512 * 1024;
/// Most attachments one message may reference.
pub const MAXIMUM_ATTACHMENTS: usize = 64;
/// Longest attachment name, in bytes.
pub const MAXIMUM_ATTACHMENT_NAME_LENGTH: usize = 255;

/// One organisation's recipient, by the ids in the signed directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecipientAddress {
    /// The organisation's id in the directory, e.g. `demo`.
    pub organisation: String,
    /// The recipient's id within that organisation, e.g. `integrity-office`.
    pub recipient: String,
}

/// A sealed attachment, as a message refers to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentReference {
    /// The file name to offer when saving it (never a path).
    pub name: String,
    /// Content length in bytes (before padding).
    pub size: u64,
    /// SHA-256 of the content, lower-case hex.
    #[serde(with = "hex_digest")]
    pub sha256: [u8; 32],
    /// Where the sealed attachment lives on the relay: its attachment id.
    pub location: String,
}

/// What kind of message this is, with what only that kind carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageKind {
    /// The first message of a mailbox.
    Report {
        /// The reporter's reply public key, derived from the receipt code.
        reply_key: RecipientKey,
        /// The public key the reporter's follow-ups are signed with, derived from the
        /// receipt code.
        follow_up_key: FollowUpKey,
        /// The recipients the reporter chose.
        recipients: Vec<RecipientAddress>,
        /// What the conversation is for: a report, or a consultation with confidential
        /// advisers (wire field `conversation`, absent for a report).
        conversation: Conversation,
        /// The consultation before this report, carried with the reporter's consent (only a
        /// report carries one; wire field `earlier_consultation`).
        earlier_consultation: Option<Box<CarriedConsultation>>,
    },
    /// A later message from the reporter, signed with the follow-up key its report carries:
    /// a follow-up cannot be built without a signature.
    FollowUp {
        /// The signature (set by [`crate::FollowUpSigningKey::sign`]).
        signature: MessageSignature,
        /// The reporter's name or contact details, sealed to one chosen recipient only,
        /// when the reporter chose to share them ([`SharedIdentity`]).
        shared_identity: Option<SharedIdentity>,
    },
    /// A message from a recipient to the reporter.
    Reply {
        /// Who wrote it.
        from: RecipientAddress,
        /// The office key it is signed with (set by [`crate::OfficeSigningKey::sign`]).
        signer: OfficeKey,
        /// The signature (set by [`crate::OfficeSigningKey::sign`]).
        signature: MessageSignature,
        /// A process guide joining or leaving the case, when the reply announces one.
        process_guide: Option<ProcessGuideChange>,
        /// The digest of the thread's first message this reply answers
        /// ([`Message::opening_digest`]), under the signature: a reply cannot be moved under
        /// another opening (another question, another reporter key).
        opening: Option<OpeningDigest>,
    },
    /// The acknowledgement of receipt a recipient sends (due within 7 days).
    Acknowledgement {
        /// Who sent it.
        from: RecipientAddress,
        /// The office key it is signed with (set by [`crate::OfficeSigningKey::sign`]).
        signer: OfficeKey,
        /// The signature (set by [`crate::OfficeSigningKey::sign`]).
        signature: MessageSignature,
        /// The digest of the thread's first message it answers, as a reply's.
        opening: Option<OpeningDigest>,
    },
}

/// The digest of a conversation's first message that office messages are bound to (wire: 43
/// characters of base64url): SHA-256 over [`OPENING_DIGEST_CONTEXT`], the report's signing
/// bytes (mailbox, number, day, text, attachments), its follow-up key, SHA-256 of its reply
/// key as written, its recipients and what the conversation is for (protocol §4).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct OpeningDigest(pub [u8; 32]);

/// Prefix of the bytes an [`OpeningDigest`] is the SHA-256 of.
pub const OPENING_DIGEST_CONTEXT: &[u8] = b"meldpunt/v1/opening-digest\n";

impl OpeningDigest {
    /// The wire form.
    pub fn to_wire(&self) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }
}

impl Serialize for OpeningDigest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for OpeningDigest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = String::deserialize(deserializer)?;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(&text)
            .ok()
            .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            .filter(|_| text.len() == 43)
            .ok_or_else(|| {
                serde::de::Error::custom("an opening digest is 43 characters of base64url")
            })?;
        Ok(OpeningDigest(bytes))
    }
}

/// What a conversation is for, as its first message says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Conversation {
    /// A report: the reporting process, with its legal deadlines.
    #[default]
    Report,
    /// A consultation with the organisation's confidential advisers (vertrouwenspersonen):
    /// a listening ear or directions before any report. Not a report, no deadlines.
    Consultation,
}

impl Conversation {
    /// The wire name: `report` or `consultation`.
    pub fn as_str(self) -> &'static str {
        match self {
            Conversation::Report => "report",
            Conversation::Consultation => "consultation",
        }
    }
}

/// Most messages a report carries of the consultation before it.
pub const MAXIMUM_CARRIED_MESSAGES: usize = 256;

/// The consultation before a report, carried into it by the reporter's own client when they
/// chose so: the consultation's messages as the reporter read them (each with its author's
/// signature, so the office can check that the advisers wrote what it shows) and the
/// reporter's signature, made with the *consultation's* follow-up key, that binds them to
/// this report. Nobody but the holder of the consultation's receipt code can make that
/// signature over the real opening, and each adviser's answer is bound to that opening
/// (its `opening` digest, under the adviser's signature): whoever else holds the messages (a
/// colleague, a forwarded copy) cannot carry them under a key of their own. The one who
/// could is an adviser who answered, re-signing their own answers under a made-up opening —
/// who could as well write any report (protocol §13).
#[derive(Clone, PartialEq, Eq)]
pub struct CarriedConsultation {
    /// The consultation's messages, beginning with its first (of conversation
    /// [`Conversation::Consultation`]).
    pub messages: Vec<Message>,
    /// The reporter's signature over [`crate::signing::carried_consultation_bytes`].
    pub signature: MessageSignature,
}

impl fmt::Debug for CarriedConsultation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CarriedConsultation")
            .field("messages", &self.messages)
            .finish_non_exhaustive()
    }
}

/// A carried consultation as a reader checked it: each message with whether it fits the
/// consultation's thread and carries its author's signature.
#[derive(Debug)]
pub struct CheckedConsultation<'a> {
    /// The consultation's mailbox (another mailbox than the report's).
    pub mailbox: MailboxId,
    /// Each message, with what the check said of it.
    pub messages: Vec<(&'a Message, Result<Admitted, Error>)>,
}

impl CarriedConsultation {
    /// Carries `messages`, the consultation that `consultation_code` opens as its reporter
    /// read it, into the report written into `report_mailbox`.
    pub fn new(
        consultation_code: &ReceiptCode,
        report_mailbox: MailboxId,
        messages: Vec<Message>,
    ) -> Result<CarriedConsultation, Error> {
        let carried_count = u32::try_from(messages.len()).unwrap_or(u32::MAX);
        let signature = consultation_code.follow_up_signing_key().sign_carried(
            &consultation_code.mailbox_token().mailbox_id(),
            &report_mailbox,
            carried_count,
        );
        let carried = CarriedConsultation {
            messages,
            signature,
        };
        carried.check_shape()?;
        Ok(carried)
    }

    fn check_shape(&self) -> Result<(), Error> {
        if self.messages.is_empty() || self.messages.len() > MAXIMUM_CARRIED_MESSAGES {
            return Err(malformed(format!(
                "a report carries 1 to {MAXIMUM_CARRIED_MESSAGES} messages of the consultation before it"
            )));
        }
        match &self.messages[0].kind {
            MessageKind::Report {
                conversation: Conversation::Consultation,
                ..
            } => Ok(()),
            _ => Err(malformed(
                "a carried consultation begins with the consultation's first message",
            )),
        }
    }

    /// Checks the carried consultation for the report written into `report_mailbox`: the
    /// reporter's signature with the consultation's follow-up key (else
    /// [`Error::ForgedCarriedConsultation`]), then every message as a [`ThreadCheck`] of the
    /// consultation's mailbox with `signers` (the directory's office keys) checks a thread.
    /// A message that does not fit is marked and the check goes on.
    pub fn check(
        &self,
        report_mailbox: &MailboxId,
        signers: Vec<(RecipientAddress, OfficeKey)>,
    ) -> Result<CheckedConsultation<'_>, Error> {
        self.check_shape()?;
        let first = &self.messages[0];
        let MessageKind::Report { follow_up_key, .. } = &first.kind else {
            return Err(Error::ForgedCarriedConsultation);
        };
        if first.mailbox.matches(report_mailbox) {
            return Err(Error::ForgedCarriedConsultation);
        }
        let carried_count = u32::try_from(self.messages.len()).unwrap_or(u32::MAX);
        follow_up_key.verify_carried(
            &first.mailbox,
            report_mailbox,
            carried_count,
            &self.signature,
        )?;
        let mut check = ThreadCheck::new(first.mailbox, signers);
        let messages = self
            .messages
            .iter()
            .map(|message| {
                let outcome = check
                    .admit(message, message.kind.author())
                    .and_then(|admitted| match &message.kind {
                        // An answer must name the opening it answers (which the check compared
                        // with the carried one): nobody but its writer can move it under
                        // another question or another reporter key.
                        MessageKind::Reply { opening: None, .. }
                        | MessageKind::Acknowledgement { opening: None, .. } => {
                            Err(Error::OpeningMismatch)
                        }
                        _ => Ok(admitted),
                    });
                (message, outcome)
            })
            .collect();
        Ok(CheckedConsultation {
            mailbox: first.mailbox,
            messages,
        })
    }
}

/// A process guide (a recipient of role `process-guide` in the directory) joining or leaving
/// a case, announced by a recipient the report chose in a signed reply. From then on every
/// reader seals the case's messages to the guide too (or, once they left, no longer).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessGuideChange {
    /// The guide.
    pub recipient: RecipientAddress,
    /// Whether they join (true) or leave (false).
    pub joined: bool,
}

/// Longest identity a reporter shares (name, contact details), in bytes of UTF-8.
pub const MAXIMUM_IDENTITY_LENGTH: usize = 4096;
/// Longest sealed identity a follow-up carries.
const MAXIMUM_SEALED_IDENTITY_LENGTH: usize = 64 * 1024;

/// The reporter's identity (name, contact details), shared with consent with one recipient:
/// sealed to that recipient's keys only, inside a follow-up that every recipient reads. The
/// others see *that* the reporter shared their identity, and with whom, never what (EU
/// Directive 2019/1937, art. 16). The follow-up's signature covers it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SharedIdentity {
    /// The one recipient it is sealed to.
    pub with: RecipientAddress,
    /// The age file, sealed to that recipient's keys (standard base64 in JSON).
    #[serde(with = "base64_bytes")]
    pub sealed: Vec<u8>,
}

impl fmt::Debug for SharedIdentity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SharedIdentity")
            .field("with", &self.with)
            .field("sealed", &format_args!("[{} bytes]", self.sealed.len()))
            .finish()
    }
}

impl SharedIdentity {
    /// Seals `identity` (at most [`MAXIMUM_IDENTITY_LENGTH`] bytes) to `keys`, the keys the
    /// signed directory lists for `with`, and to nobody else.
    pub fn seal(
        with: RecipientAddress,
        keys: &[RecipientKey],
        identity: &str,
    ) -> Result<SharedIdentity, Error> {
        if identity.trim().is_empty() || identity.len() > MAXIMUM_IDENTITY_LENGTH {
            return Err(malformed(format!(
                "a shared identity is 1 to {MAXIMUM_IDENTITY_LENGTH} bytes"
            )));
        }
        check_address(&with)?;
        let sealed = seal(keys, identity.as_bytes())?.into_bytes();
        Ok(SharedIdentity { with, sealed })
    }

    /// Opens the identity with the chosen recipient's identities.
    pub fn open(&self, identities: &[IdentityKey]) -> Result<Zeroizing<String>, Error> {
        let content = open_content(identities, &self.sealed, MAXIMUM_IDENTITY_LENGTH as u64)?;
        String::from_utf8(content.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| malformed("a shared identity is not UTF-8"))
    }

    fn check(&self) -> Result<(), Error> {
        check_address(&self.with)?;
        if self.sealed.is_empty() || self.sealed.len() > MAXIMUM_SEALED_IDENTITY_LENGTH {
            return Err(malformed("a sealed identity is 1 byte to 64 KiB"));
        }
        Ok(())
    }
}

mod base64_bytes {
    use base64::engine::general_purpose::STANDARD;
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&STANDARD.encode(bytes))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        STANDARD
            .decode(text.as_bytes())
            .map_err(|_| serde::de::Error::custom("sealed must be standard base64"))
    }
}

/// Who posted a message, as the relay recorded it: the reporter (with the mailbox token) or
/// the office (with an office session).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Author {
    /// The holder of the mailbox token.
    Reporter,
    /// An office recipient of the mailbox's organisation.
    Office,
}

impl Author {
    /// The wire name: `reporter` or `office`.
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Reporter => "reporter",
            Author::Office => "office",
        }
    }
}

impl std::str::FromStr for Author {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        match text {
            "reporter" => Ok(Author::Reporter),
            "office" => Ok(Author::Office),
            _ => Err(Error::MalformedValue {
                what: "author",
                expected: "reporter or office",
            }),
        }
    }
}

impl MessageKind {
    /// Who writes messages of this kind: the reporter (report, follow-up) or the office
    /// (reply, acknowledgement).
    pub fn author(&self) -> Author {
        match self {
            MessageKind::Report { .. } | MessageKind::FollowUp { .. } => Author::Reporter,
            MessageKind::Reply { .. } | MessageKind::Acknowledgement { .. } => Author::Office,
        }
    }

    /// The conversation a first message opens (`None` for a later message).
    pub fn conversation(&self) -> Option<Conversation> {
        match self {
            MessageKind::Report { conversation, .. } => Some(*conversation),
            _ => None,
        }
    }

    /// The wire name: `report`, `follow-up`, `reply` or `acknowledgement` (the first message
    /// of a consultation is a `report` too, with `conversation: consultation`).
    pub fn as_str(&self) -> &'static str {
        match self {
            MessageKind::Report { .. } => "report",
            MessageKind::FollowUp { .. } => "follow-up",
            MessageKind::Reply { .. } => "reply",
            MessageKind::Acknowledgement { .. } => "acknowledgement",
        }
    }
}

/// The plaintext of a report, follow-up, reply or acknowledgement.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    /// The kind, with what only that kind carries.
    pub kind: MessageKind,
    /// The mailbox it is written into.
    pub mailbox: MailboxId,
    /// Its author's sequence number, from 1: the reporter's report is 1, their follow-ups
    /// 2, 3…; each office signing key numbers its own replies and acknowledgements 1, 2…
    /// (so that two members of an office who write at once never collide).
    pub sequence: u32,
    /// The day it was written (never a time of day).
    pub written_on: Day,
    /// The text. Zeroized on drop.
    pub body: Zeroizing<String>,
    /// Attachments sealed separately and referenced here.
    pub attachments: Vec<AttachmentReference>,
    /// Answers to the questionnaire of the organisation it is written to (a structured
    /// report; only a report or follow-up carries them). Zeroized on drop.
    pub answers: Answers,
    /// What the message is for beyond its text: an office's closing message, a reporter's
    /// evaluation (wire field `purpose`, absent for an ordinary message).
    pub purpose: Purpose,
    /// For a report an office member recorded from a telephone call or a meeting (an oral
    /// report): who recorded it, how, and their signature (only a report carries one).
    pub recording: Option<Recording>,
}

/// How an oral report reached the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    /// By telephone (or another voice channel).
    Telephone,
    /// In a meeting.
    Meeting,
}

impl Channel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telephone => "telephone",
            Channel::Meeting => "meeting",
        }
    }
}

/// The mark of a report an office member recorded (EU Directive 2019/1937 art. 18(2)–(4)):
/// the transcript or minutes are the report's text, and the reporter, who receives its
/// receipt code on paper, confirms or corrects it with a follow-up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recording {
    /// The recipient the recording member belongs to (one of the report's recipients).
    pub by: RecipientAddress,
    /// The member's office key.
    pub signer: OfficeKey,
    /// Telephone or meeting.
    pub channel: Channel,
    /// The member's signature over the report ([`crate::OfficeSigningKey::record`]).
    pub signature: MessageSignature,
}

/// What a message is for beyond its text (wire field `purpose`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Purpose {
    /// An ordinary message (the field is left out).
    #[default]
    Message,
    /// A reply that tells the reporter the case is closed and invites them to evaluate the
    /// process (only a reply).
    Closing,
    /// The reporter's evaluation of the process: its answers are to the organisation's
    /// evaluation questions (only a follow-up).
    Evaluation,
    /// The reporter agrees with the record of their oral report (only a follow-up).
    Confirmation,
    /// The reporter corrects the record of their oral report; the text says how (only a
    /// follow-up).
    Correction,
}

impl Purpose {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Message => "message",
            Purpose::Closing => "closing",
            Purpose::Evaluation => "evaluation",
            Purpose::Confirmation => "confirmation",
            Purpose::Correction => "correction",
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Message")
            .field("kind", &self.kind)
            .field("sequence", &self.sequence)
            .field("written_on", &self.written_on)
            .field(
                "body",
                &format_args!("[redacted, {} bytes]", self.body.len()),
            )
            .field("attachments", &self.attachments.len())
            .field("answers", &self.answers)
            .field("purpose", &self.purpose)
            .field("recording", &self.recording)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum WireKind {
    Report,
    FollowUp,
    Reply,
    Acknowledgement,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireMessage {
    #[serde(rename = "meldpunt-message")]
    version: u64,
    kind: WireKind,
    mailbox: String,
    sequence: u32,
    written_on: Day,
    body: Zeroizing<String>,
    #[serde(default)]
    attachments: Vec<AttachmentReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_key: Option<RecipientKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    follow_up_key: Option<FollowUpKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recipients: Option<Vec<RecipientAddress>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    from: Option<RecipientAddress>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signer: Option<OfficeKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signature: Option<MessageSignature>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    shared_identity: Option<SharedIdentity>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    process_guide: Option<ProcessGuideChange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opening: Option<OpeningDigest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    conversation: Option<Conversation>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    earlier_consultation: Option<WireCarriedConsultation>,
    #[serde(default, skip_serializing_if = "Answers::is_empty")]
    answers: Answers,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    purpose: Option<Purpose>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recording: Option<Recording>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireCarriedConsultation {
    messages: Vec<WireMessage>,
    signature: MessageSignature,
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(rename = "meldpunt-message")]
    version: Option<u64>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedMessage(reason.into())
}

/// Ids in the directory and in addresses: lower-case ASCII letters, digits and dashes.
pub(crate) fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-')
        && !id.starts_with('-')
}

fn check_address(address: &RecipientAddress) -> Result<(), Error> {
    if !is_valid_id(&address.organisation) || !is_valid_id(&address.recipient) {
        return Err(malformed(
            "organisation and recipient ids are 1 to 64 lower-case letters, digits and dashes",
        ));
    }
    Ok(())
}

fn check_attachment(attachment: &AttachmentReference) -> Result<(), Error> {
    let name = &attachment.name;
    if name.is_empty()
        || name.len() > MAXIMUM_ATTACHMENT_NAME_LENGTH
        || name == "."
        || name == ".."
        || name
            .chars()
            .any(|c| c == '/' || c == '\\' || c.is_control())
    {
        return Err(malformed(
            "an attachment name must be 1 to 255 bytes, without slashes, backslashes or control characters, and not . or ..",
        ));
    }
    if crate::AttachmentId::from_wire(&attachment.location).is_err() {
        return Err(malformed(
            "an attachment location must be an attachment id: 22 characters of base64url (16 bytes)",
        ));
    }
    if attachment.size > crate::MAXIMUM_CONTENT_LENGTH {
        return Err(malformed("an attachment is larger than 1 TiB"));
    }
    Ok(())
}

impl Message {
    pub(crate) fn check(&self) -> Result<(), Error> {
        if self.sequence == 0 {
            return Err(malformed("sequence numbers start at 1"));
        }
        if self.body.len() > MAXIMUM_BODY_LENGTH {
            return Err(Error::TooLarge {
                what: "a message body",
                limit: MAXIMUM_BODY_LENGTH as u64,
            });
        }
        if self.attachments.len() > MAXIMUM_ATTACHMENTS {
            return Err(malformed(format!(
                "a message may reference at most {MAXIMUM_ATTACHMENTS} attachments"
            )));
        }
        self.attachments.iter().try_for_each(check_attachment)?;
        self.answers.check_shape()?;
        if !self.answers.is_empty()
            && !matches!(
                self.kind,
                MessageKind::Report { .. } | MessageKind::FollowUp { .. }
            )
        {
            return Err(malformed("only a report or a follow-up carries answers"));
        }
        match (self.purpose, &self.kind) {
            (Purpose::Message, _)
            | (Purpose::Closing, MessageKind::Reply { .. })
            | (
                Purpose::Evaluation | Purpose::Confirmation | Purpose::Correction,
                MessageKind::FollowUp { .. },
            ) => {}
            _ => {
                return Err(malformed(
                    "only a reply closes a case, and only a follow-up evaluates it or confirms or corrects a record",
                ))
            }
        }
        if let Some(recording) = &self.recording {
            match &self.kind {
                MessageKind::Report {
                    recipients,
                    conversation: Conversation::Report,
                    earlier_consultation: None,
                    ..
                } if recipients.contains(&recording.by) => check_address(&recording.by)?,
                _ => {
                    return Err(malformed(
                        "only a report is recorded, by a member of one of its recipients, and it carries no consultation",
                    ))
                }
            }
        }
        match &self.kind {
            MessageKind::Report {
                recipients,
                conversation,
                earlier_consultation,
                ..
            } => {
                if recipients.is_empty() || recipients.len() > 16 {
                    return Err(malformed("a report names 1 to 16 recipients"));
                }
                recipients.iter().try_for_each(check_address)?;
                match (conversation, earlier_consultation) {
                    (_, None) => Ok(()),
                    (Conversation::Consultation, Some(_)) => Err(malformed(
                        "only a report carries an earlier consultation, a consultation none",
                    )),
                    (Conversation::Report, Some(carried)) => {
                        carried.check_shape()?;
                        carried.messages.iter().try_for_each(|message| {
                            match &message.kind {
                                MessageKind::Report {
                                    earlier_consultation: Some(_),
                                    ..
                                } => Err(malformed(
                                    "a carried consultation's messages carry no consultation themselves",
                                )),
                                _ => message.check(),
                            }
                        })
                    }
                }
            }
            MessageKind::FollowUp {
                shared_identity, ..
            } => shared_identity
                .as_ref()
                .map_or(Ok(()), SharedIdentity::check),
            MessageKind::Reply {
                from,
                process_guide,
                ..
            } => {
                check_address(from)?;
                process_guide
                    .as_ref()
                    .map_or(Ok(()), |change| check_address(&change.recipient))
            }
            MessageKind::Acknowledgement { from, .. } => check_address(from),
        }
    }

    /// The author's signature (every kind but a report carries one).
    pub fn signature(&self) -> Option<MessageSignature> {
        match &self.kind {
            MessageKind::Report { .. } => None,
            MessageKind::FollowUp { signature, .. }
            | MessageKind::Reply { signature, .. }
            | MessageKind::Acknowledgement { signature, .. } => Some(*signature),
        }
    }

    /// The message as its wire JSON object is built.
    fn to_wire(&self) -> WireMessage {
        let mut wire = WireMessage {
            version: MESSAGE_FORMAT_VERSION,
            kind: WireKind::Report,
            mailbox: self.mailbox.to_wire(),
            sequence: self.sequence,
            written_on: self.written_on,
            body: self.body.clone(),
            attachments: self.attachments.clone(),
            reply_key: None,
            follow_up_key: None,
            recipients: None,
            from: None,
            signer: None,
            signature: self.signature(),
            shared_identity: None,
            process_guide: None,
            opening: None,
            conversation: None,
            earlier_consultation: None,
            answers: self.answers.clone(),
            purpose: (self.purpose != Purpose::Message).then_some(self.purpose),
            recording: self.recording.clone(),
        };
        match &self.kind {
            MessageKind::Report {
                reply_key,
                follow_up_key,
                recipients,
                conversation,
                earlier_consultation,
            } => {
                wire.reply_key = Some(reply_key.clone());
                wire.follow_up_key = Some(*follow_up_key);
                wire.recipients = Some(recipients.clone());
                wire.conversation =
                    (*conversation == Conversation::Consultation).then_some(*conversation);
                wire.earlier_consultation =
                    earlier_consultation
                        .as_ref()
                        .map(|carried| WireCarriedConsultation {
                            messages: carried.messages.iter().map(Message::to_wire).collect(),
                            signature: carried.signature,
                        });
            }
            MessageKind::FollowUp {
                shared_identity, ..
            } => {
                wire.kind = WireKind::FollowUp;
                wire.shared_identity = shared_identity.clone();
            }
            MessageKind::Reply {
                from,
                signer,
                process_guide,
                opening,
                ..
            } => {
                wire.kind = WireKind::Reply;
                wire.from = Some(from.clone());
                wire.signer = Some(*signer);
                wire.process_guide = process_guide.clone();
                wire.opening = *opening;
            }
            MessageKind::Acknowledgement {
                from,
                signer,
                opening,
                ..
            } => {
                wire.kind = WireKind::Acknowledgement;
                wire.from = Some(from.clone());
                wire.signer = Some(*signer);
                wire.opening = *opening;
            }
        }
        wire
    }

    /// Encodes the message as compact JSON (without padding). Zeroized on drop.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        self.check()?;
        let wire = self.to_wire();
        // Measured first, then written into a buffer of exactly that size: a growing buffer
        // would leave earlier copies of the text behind in freed memory, unwiped.
        let mut counter = LengthCounter(0);
        serde_json::to_writer(&mut counter, &wire).map_err(|error| malformed(error.to_string()))?;
        if counter.0 as u64 > MAXIMUM_MESSAGE_LENGTH {
            return Err(Error::TooLarge {
                what: "an encoded message",
                limit: MAXIMUM_MESSAGE_LENGTH,
            });
        }
        let mut encoded = Zeroizing::new(Vec::with_capacity(counter.0));
        serde_json::to_writer(&mut *encoded, &wire)
            .map_err(|error| malformed(error.to_string()))?;
        debug_assert_eq!(encoded.len(), counter.0);
        Ok(encoded)
    }

    /// Decodes a message from its JSON (without padding).
    pub fn decode(encoded: &[u8]) -> Result<Message, Error> {
        if encoded.len() as u64 > MAXIMUM_MESSAGE_LENGTH {
            return Err(Error::TooLarge {
                what: "an encoded message",
                limit: MAXIMUM_MESSAGE_LENGTH,
            });
        }
        let probe: VersionProbe =
            serde_json::from_slice(encoded).map_err(|_| malformed("not a JSON object"))?;
        match probe.version {
            Some(MESSAGE_FORMAT_VERSION) => {}
            Some(other) => return Err(Error::UnsupportedMessageVersion(other)),
            None => {
                return Err(malformed(
                    "the \"meldpunt-message\" version marker is missing",
                ))
            }
        }
        let wire: WireMessage = serde_json::from_slice(encoded)
            .map_err(|error| malformed(describe_json_error(&error)))?;
        let message = Message::from_wire(wire)?;
        message.check()?;
        Ok(message)
    }

    /// The message a wire JSON object describes, if its fields fit its kind.
    fn from_wire(wire: WireMessage) -> Result<Message, Error> {
        if wire.version != MESSAGE_FORMAT_VERSION {
            return Err(Error::UnsupportedMessageVersion(wire.version));
        }
        let signature =
            match (&wire.kind, wire.signature) {
                (WireKind::Report, None) => None,
                (WireKind::Report, Some(_)) | (_, None) => return Err(malformed(
                    "every message but a report carries its author's signature, and a report none",
                )),
                (_, Some(signature)) => Some(signature),
            };
        if wire.shared_identity.is_some() && !matches!(wire.kind, WireKind::FollowUp) {
            return Err(malformed("only a follow-up shares the reporter's identity"));
        }
        if wire.process_guide.is_some() && !matches!(wire.kind, WireKind::Reply) {
            return Err(malformed("only a reply announces a process guide"));
        }
        if wire.opening.is_some()
            && !matches!(wire.kind, WireKind::Reply | WireKind::Acknowledgement)
        {
            return Err(malformed(
                "only an office message names the opening it answers",
            ));
        }
        if (wire.conversation.is_some() || wire.earlier_consultation.is_some())
            && !matches!(wire.kind, WireKind::Report)
        {
            return Err(malformed(
                "only a report says what the conversation is for or carries a consultation",
            ));
        }
        if wire.conversation == Some(Conversation::Report) {
            return Err(malformed(
                "a report leaves out \"conversation\"; only a consultation names it",
            ));
        }
        let earlier_consultation = match wire.earlier_consultation {
            None => None,
            Some(carried) => {
                if carried.messages.len() > MAXIMUM_CARRIED_MESSAGES {
                    return Err(malformed(format!(
                        "a report carries 1 to {MAXIMUM_CARRIED_MESSAGES} messages of the consultation before it"
                    )));
                }
                let messages = carried
                    .messages
                    .into_iter()
                    .map(Message::from_wire)
                    .collect::<Result<Vec<_>, _>>()?;
                Some(Box::new(CarriedConsultation {
                    messages,
                    signature: carried.signature,
                }))
            }
        };
        let kind = match (
            wire.kind,
            wire.reply_key,
            wire.follow_up_key,
            wire.recipients,
            wire.from,
            wire.signer,
            signature,
        ) {
            (
                WireKind::Report,
                Some(reply_key),
                Some(follow_up_key),
                Some(recipients),
                None,
                None,
                None,
            ) => MessageKind::Report {
                reply_key,
                follow_up_key,
                recipients,
                conversation: wire.conversation.unwrap_or_default(),
                earlier_consultation,
            },
            (WireKind::FollowUp, None, None, None, None, None, Some(signature)) => {
                MessageKind::FollowUp {
                    signature,
                    shared_identity: wire.shared_identity,
                }
            }
            (WireKind::Reply, None, None, None, Some(from), Some(signer), Some(signature)) => {
                MessageKind::Reply {
                    from,
                    signer,
                    signature,
                    process_guide: wire.process_guide,
                    opening: wire.opening,
                }
            }
            (
                WireKind::Acknowledgement,
                None,
                None,
                None,
                Some(from),
                Some(signer),
                Some(signature),
            ) => MessageKind::Acknowledgement {
                from,
                signer,
                signature,
                opening: wire.opening,
            },
            _ => {
                return Err(malformed(
                    "fields do not fit the kind: a report has reply_key, follow_up_key and recipients, a reply or acknowledgement has from and signer, a follow-up none of them",
                ))
            }
        };
        let mailbox = MailboxId::from_wire(&wire.mailbox)
            .map_err(|_| malformed("the mailbox is not 43 characters of base64url"))?;
        Ok(Message {
            kind,
            mailbox,
            sequence: wire.sequence,
            written_on: wire.written_on,
            body: wire.body,
            attachments: wire.attachments,
            answers: wire.answers,
            purpose: match wire.purpose {
                Some(Purpose::Message) => {
                    return Err(malformed("an ordinary message leaves out \"purpose\""))
                }
                other => other.unwrap_or_default(),
            },
            recording: wire.recording,
        })
    }

    /// Seals the message to every recipient.
    pub fn seal(&self, recipients: &[RecipientKey]) -> Result<SealedObject, Error> {
        seal(recipients, &self.encode()?)
    }

    /// Opens and decodes a sealed message.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<Message, Error> {
        Message::decode(&open_content(identities, sealed, MAXIMUM_MESSAGE_LENGTH)?)
    }
}

/// What a reader learnt about a message it admitted into a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admitted {
    /// How far its author could be checked.
    pub authenticity: Authenticity,
    /// How many of its author's earlier messages this reader never saw: withheld by the
    /// relay, or not sealed to this reader. 0 in a complete thread. The message itself is
    /// genuine; the reader shows it and says that something before it is missing.
    pub missing_before: u32,
}

/// How far a reader could check a message it admitted into a thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Authenticity {
    /// Its author is proven: a report starting the thread, a follow-up signed by the key in
    /// that report, an office message signed by a key the directory lists for its sender.
    Verified,
    /// A follow-up in a partial thread: the report that carries the reporter's key was not
    /// sealed to this reader, so who wrote it cannot be checked.
    UnverifiedFollowUp,
}

/// Checks a thread as it is read, message by message in the relay's order. Every message
/// must belong to this mailbox, fit the author the relay recorded (reporter: report and
/// follow-ups; office: replies and acknowledgements), start with a report, continue its
/// author's numbering without a repeat or a step back, and carry its author's signature: a
/// follow-up the key in the report, an office message a key that the signed directory lists
/// for its sender, who must be one of the recipients the reporter chose.
///
/// The reporter numbers 1, 2, 3…; each office signing key numbers its own messages, so any
/// interleaving of distinct authors is accepted while a replay or a reordering within one
/// author is refused, and a message withheld from the middle is reported: the next message
/// of that author is admitted with [`Admitted::missing_before`] saying how many are missing
/// (so that one withheld message does not hide every later one). A message that does not
/// fit changes nothing: the check goes on with the next one (a reader quarantines or marks
/// the misfit, and never stops on it).
///
/// A *partial* check ([`ThreadCheck::partial`]) is for an office member who could not open
/// the thread's beginning (it was sealed before their key was in the directory): each
/// author's numbering starts where the member first sees it, and follow-ups, whose key is in
/// the unseen report, are admitted as [`Authenticity::UnverifiedFollowUp`].
///
/// What it cannot see: messages withheld from the *end* of a thread (nothing follows them
/// yet).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadCheck {
    mailbox: MailboxId,
    partial: bool,
    follow_up_key: Option<FollowUpKey>,
    addressed: Option<Vec<RecipientAddress>>,
    reporter: u32,
    office: Vec<(OfficeKey, u32)>,
    #[serde(skip)]
    signers: Vec<(RecipientAddress, OfficeKey)>,
    /// The reply key the admitted report carries (absent in stores written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reply_key: Option<RecipientKey>,
    #[serde(skip)]
    expected_reporter: Option<(Vec<RecipientKey>, FollowUpKey)>,
    /// The process guides who joined the case (and have not left), in the order they joined.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    guides: Vec<RecipientAddress>,
    /// The recipients of role `process-guide` in the signed directory: only they can be
    /// appointed.
    #[serde(skip)]
    process_guides: Vec<RecipientAddress>,
    /// What the conversation is for, as its first message says.
    #[serde(default, skip_serializing_if = "is_report")]
    conversation: Conversation,
    /// The digest of the admitted report, which office messages are bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    opening: Option<OpeningDigest>,
    /// The confidential advisers the signed directory lists, when the reader gave them: a
    /// consultation addressed to anyone else is read as a report (its deadlines run).
    #[serde(skip)]
    advisers: Option<Vec<RecipientAddress>>,
    /// For a recorded report: whether its recording verified against the directory when the
    /// report was admitted (`None`: not a recorded report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    recording_verified: Option<bool>,
    /// Whether a verified closing message of the office was admitted (the case is closed
    /// for the reporter, who is then offered the evaluation).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    closed: bool,
}

fn is_report(conversation: &Conversation) -> bool {
    *conversation == Conversation::Report
}

impl ThreadCheck {
    /// A check of the thread in `mailbox`, having seen nothing yet; `signers` are the office
    /// keys the signed directory lists, with their recipients
    /// ([`crate::Directory::office_signers`]).
    pub fn new(mailbox: MailboxId, signers: Vec<(RecipientAddress, OfficeKey)>) -> ThreadCheck {
        ThreadCheck {
            mailbox,
            partial: false,
            follow_up_key: None,
            addressed: None,
            reporter: 0,
            office: Vec::new(),
            signers,
            reply_key: None,
            expected_reporter: None,
            guides: Vec::new(),
            process_guides: Vec::new(),
            conversation: Conversation::Report,
            opening: None,
            advisers: None,
            recording_verified: None,
            closed: false,
        }
    }

    /// Whether the office's verified closing message was among the messages admitted: the
    /// reporter's client offers the evaluation from then on, whichever page it shows.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// For a recorded report (an oral report an office member wrote down): whether its
    /// recording is signed by an office key the directory lists for the recipient it names.
    /// `None` for any other report. A recording that does not verify (its member's key
    /// retired since, or a forgery) never stops the report from being read: the report is
    /// the reporter's by its own keys, and only the claim of who recorded it is unproven.
    pub fn recording_verified(&self) -> Option<bool> {
        self.recording_verified
    }

    /// A partial check (see the type's documentation).
    pub fn partial(mailbox: MailboxId, signers: Vec<(RecipientAddress, OfficeKey)>) -> ThreadCheck {
        ThreadCheck {
            partial: true,
            ..ThreadCheck::new(mailbox, signers)
        }
    }

    /// Replaces the office keys checked against (after loading a stored check, or when the
    /// directory changed).
    pub fn set_signers(&mut self, signers: Vec<(RecipientAddress, OfficeKey)>) {
        self.signers = signers;
    }

    /// The recipients the signed directory lists with role `process-guide`
    /// ([`crate::Directory::process_guides`]): without them, every appointment is refused.
    pub fn set_process_guides(&mut self, process_guides: Vec<RecipientAddress>) {
        self.process_guides = process_guides;
    }

    /// The recipients that may be appointed ([`ThreadCheck::set_process_guides`]).
    pub fn process_guides(&self) -> &[RecipientAddress] {
        &self.process_guides
    }

    /// The process guides appointed to the case who have not left.
    pub fn guides(&self) -> &[RecipientAddress] {
        &self.guides
    }

    /// Everyone a message of the case is sealed to besides the reporter: the recipients the
    /// report chose and the process guides appointed since (`None` before the report).
    pub fn participants(&self) -> Option<Vec<RecipientAddress>> {
        self.addressed.as_ref().map(|addressed| {
            let mut participants = addressed.clone();
            participants.extend(
                self.guides
                    .iter()
                    .filter(|guide| !addressed.contains(guide))
                    .cloned(),
            );
            participants
        })
    }

    /// Whether this is a partial check.
    pub fn is_partial(&self) -> bool {
        self.partial
    }

    /// The mailbox of the thread.
    pub fn mailbox(&self) -> MailboxId {
        self.mailbox
    }

    /// The recipients the admitted report chose (`None` before the report).
    pub fn addressed(&self) -> Option<&[RecipientAddress]> {
        self.addressed.as_deref()
    }

    /// The reply key the admitted report carries (`None` before the report).
    pub fn reply_key(&self) -> Option<&RecipientKey> {
        self.reply_key.as_ref()
    }

    /// The follow-up key the admitted report carries (`None` before the report).
    pub fn follow_up_key(&self) -> Option<FollowUpKey> {
        self.follow_up_key
    }

    fn started(&self) -> bool {
        self.reporter > 0 || !self.office.is_empty()
    }

    fn last_office(&self, signer: &OfficeKey) -> Option<u32> {
        self.office
            .iter()
            .find(|(key, _)| key == signer)
            .map(|(_, last)| *last)
    }

    /// How many of the author's messages are missing before `found`, or why `found` cannot
    /// come now (a repeat or a step back).
    fn missing_before(
        &self,
        author: &'static str,
        last: Option<u32>,
        found: u32,
    ) -> Result<u32, Error> {
        let expected = last
            .unwrap_or(0)
            .checked_add(1)
            .ok_or(Error::OutOfSequence {
                author,
                expected: u32::MAX,
                found,
            })?;
        if self.partial && last.is_none() {
            Ok(0)
        } else if found >= expected {
            Ok(found - expected)
        } else {
            Err(Error::OutOfSequence {
                author,
                expected,
                found,
            })
        }
    }

    /// Takes the next message of the thread, posted by `recorded` as the relay says, or says
    /// why it does not fit (and then changes nothing).
    pub fn admit(&mut self, message: &Message, recorded: Author) -> Result<Admitted, Error> {
        if !message.mailbox.matches(&self.mailbox) {
            return Err(Error::WrongMailbox);
        }
        let writer = message.kind.author();
        if writer != recorded {
            return Err(Error::WrongAuthor {
                kind: message.kind.as_str(),
                recorded: recorded.as_str(),
            });
        }
        match &message.kind {
            MessageKind::Report {
                follow_up_key,
                recipients,
                reply_key,
                conversation,
                ..
            } => {
                if let Some((expected_reply, expected_follow_up)) = &self.expected_reporter {
                    if !expected_reply.contains(reply_key) || follow_up_key != expected_follow_up {
                        return Err(Error::ForeignReport);
                    }
                }
                if self.started() || self.partial || message.sequence != 1 {
                    return Err(Error::OutOfSequence {
                        author: "reporter",
                        expected: self.reporter + 1,
                        found: message.sequence,
                    });
                }
                // A report that says an office member recorded it is that member's word only
                // when signed by an office key the directory lists for the recipient named;
                // otherwise the report is still read, and the claim is marked unproven.
                let recording_verified = message.recording.as_ref().map(|recording| {
                    self.signers
                        .iter()
                        .any(|(address, key)| *address == recording.by && *key == recording.signer)
                        && recording.signer.verify_recording(message).is_ok()
                });
                self.follow_up_key = Some(*follow_up_key);
                self.reply_key = Some(reply_key.clone());
                self.addressed = Some(recipients.clone());
                self.conversation = match (conversation, &self.advisers) {
                    (Conversation::Consultation, Some(advisers))
                        if !recipients.iter().all(|address| advisers.contains(address)) =>
                    {
                        Conversation::Report
                    }
                    _ => *conversation,
                };
                self.opening = message.opening_digest();
                self.recording_verified = recording_verified;
                self.reporter = 1;
                Ok(Admitted {
                    authenticity: Authenticity::Verified,
                    missing_before: 0,
                })
            }
            MessageKind::FollowUp { .. } => {
                if !self.started() && !self.partial {
                    return Err(Error::ThreadWithoutReport);
                }
                let last = (self.reporter > 0).then_some(self.reporter);
                let missing_before = self.missing_before("reporter", last, message.sequence)?;
                let authenticity = match &self.follow_up_key {
                    Some(key) => {
                        key.verify(message)?;
                        Authenticity::Verified
                    }
                    None if self.partial => Authenticity::UnverifiedFollowUp,
                    None => return Err(Error::ForgedFollowUp),
                };
                self.reporter = message.sequence;
                Ok(Admitted {
                    authenticity,
                    missing_before,
                })
            }
            MessageKind::Reply {
                from,
                signer,
                opening,
                ..
            }
            | MessageKind::Acknowledgement {
                from,
                signer,
                opening,
                ..
            } => {
                if !self.started() && !self.partial {
                    return Err(Error::ThreadWithoutReport);
                }
                if let (Some(bound), Some(expected)) = (opening, &self.opening) {
                    if bound != expected {
                        return Err(Error::OpeningMismatch);
                    }
                }
                if let Some(addressed) = &self.addressed {
                    if !addressed.contains(from) && !self.guides.contains(from) {
                        return Err(Error::SenderNotAddressed);
                    }
                }
                let change = match &message.kind {
                    MessageKind::Reply {
                        process_guide: Some(change),
                        ..
                    } => Some(change),
                    _ => None,
                };
                if change.is_some() && self.conversation == Conversation::Consultation {
                    return Err(Error::MalformedMessage(
                        "a consultation has no process guide; only a report's case does".into(),
                    ));
                }
                if let Some(change) = change {
                    // Only a recipient the reporter chose appoints (never a process guide, not
                    // even where the report is not known), only a process guide of the same
                    // organisation the directory lists is appointed, and a guide who joined
                    // can always be released.
                    if self.process_guides.contains(from)
                        || self
                            .addressed
                            .as_ref()
                            .is_some_and(|addressed| !addressed.contains(from))
                    {
                        return Err(Error::SenderNotAddressed);
                    }
                    let releasing = !change.joined && self.guides.contains(&change.recipient);
                    if change.recipient.organisation != from.organisation
                        || !(releasing || self.process_guides.contains(&change.recipient))
                    {
                        return Err(Error::MalformedMessage(
                            "it appoints a recipient the directory does not list as a process guide of its organisation"
                                .into(),
                        ));
                    }
                }
                if !self
                    .signers
                    .iter()
                    .any(|(address, key)| address == from && key == signer)
                {
                    return Err(Error::ForgedOfficeMessage);
                }
                signer.verify(message)?;
                let last = self.last_office(signer);
                let missing_before = self.missing_before("office", last, message.sequence)?;
                match self.office.iter_mut().find(|(key, _)| key == signer) {
                    Some((_, stored)) => *stored = message.sequence,
                    None => self.office.push((*signer, message.sequence)),
                }
                if let Some(change) = change {
                    self.guides.retain(|guide| *guide != change.recipient);
                    if change.joined {
                        self.guides.push(change.recipient.clone());
                    }
                }
                self.closed |= message.purpose == Purpose::Closing;
                Ok(Admitted {
                    authenticity: Authenticity::Verified,
                    missing_before,
                })
            }
        }
    }

    /// The confidential advisers the signed directory lists: a consultation addressed to
    /// anyone else is read as a report.
    pub fn set_advisers(&mut self, advisers: Vec<RecipientAddress>) {
        self.advisers = Some(advisers);
    }

    /// The confidential advisers given with [`ThreadCheck::set_advisers`].
    pub fn advisers(&self) -> &[RecipientAddress] {
        self.advisers.as_deref().unwrap_or_default()
    }

    /// What the conversation is for (a report until its first message says otherwise, and a
    /// report when a consultation names a recipient who is no confidential adviser).
    pub fn conversation(&self) -> Conversation {
        self.conversation
    }

    /// The digest of the admitted report, which the next office messages are bound to.
    pub fn opening(&self) -> Option<OpeningDigest> {
        self.opening
    }

    /// The sequence number the reporter's next message takes.
    pub fn next_reporter_sequence(&self) -> u32 {
        self.reporter.saturating_add(1)
    }

    /// The sequence number the next message signed by `signer` takes.
    pub fn next_office_sequence(&self, signer: &OfficeKey) -> u32 {
        self.last_office(signer).unwrap_or(0).saturating_add(1)
    }

    /// For the reporter's own readers: the report must carry the keys their receipt code
    /// derives. Without this, whoever can replace the report (a relay working with a
    /// recipient who knows the reply key) could change which recipients the reporter's next
    /// follow-up is sealed to, and which key the follow-ups are checked against.
    ///
    /// The report may carry any reply key `code` derives: the hybrid one of reports made now,
    /// or the classic one of reports made before hybrid reply keys.
    pub fn expect_reporter(&mut self, code: &ReceiptCode) {
        let reply_keys = code
            .reply_identities()
            .iter()
            .map(IdentityKey::recipient)
            .collect();
        self.expected_reporter = Some((reply_keys, code.follow_up_signing_key().follow_up_key()));
    }
}

/// Describes a JSON decoding failure without quoting the input, which may be secret.
pub(crate) fn describe_json_error(error: &serde_json::Error) -> String {
    let category = match error.classify() {
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Eof => "cut off before its end",
        serde_json::error::Category::Data => "a field is missing, unknown or of the wrong type",
        serde_json::error::Category::Io => "unreadable",
    };
    format!(
        "{category} (line {}, column {})",
        error.line(),
        error.column()
    )
}

impl AttachmentReference {
    /// Seals an attachment's content read from `content` (exactly `size` bytes) to every
    /// recipient, writing the age file to `output`. Returns the reference to put into the
    /// message, with the digest computed on the way.
    pub fn seal_stream<R: Read, W: Write>(
        recipients: &[RecipientKey],
        name: &str,
        location: &str,
        content: R,
        size: u64,
        output: W,
    ) -> Result<(AttachmentReference, W), Error> {
        let mut hashing = HashingReader {
            inner: content,
            digest: <sha2::Sha256 as sha2::Digest>::new(),
        };
        let output = crate::seal_stream(recipients, &mut hashing, size, output)?;
        let reference = AttachmentReference {
            name: name.to_owned(),
            size,
            sha256: sha2::Digest::finalize(hashing.digest).into(),
            location: location.to_owned(),
        };
        check_attachment(&reference)?;
        Ok((reference, output))
    }

    /// Opens the sealed attachment this reference describes, writing its content to
    /// `output`; fails if its length or SHA-256 differ from the reference. On failure the
    /// caller must discard what was written.
    pub fn open_stream<R: std::io::BufRead, W: Write>(
        &self,
        identities: &[IdentityKey],
        sealed: R,
        output: W,
    ) -> Result<(), Error> {
        let mut hashing = HashingWriter {
            inner: output,
            digest: <sha2::Sha256 as sha2::Digest>::new(),
        };
        open_stream(identities, sealed, self.size, &mut hashing)?;
        let digest: [u8; 32] = sha2::Digest::finalize(hashing.digest).into();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(&digest[..], &self.sha256[..])) {
            return Err(Error::DigestMismatch);
        }
        Ok(())
    }
}

/// Counts the bytes written to it (to size a buffer before writing into it).
struct LengthCounter(usize);

impl Write for LengthCounter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0 += buffer.len();
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct HashingWriter<W> {
    inner: W,
    digest: sha2::Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(buffer)?;
        sha2::Digest::update(&mut self.digest, &buffer[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

struct HashingReader<R> {
    inner: R,
    digest: sha2::Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        sha2::Digest::update(&mut self.digest, &buffer[..read]);
        Ok(read)
    }
}

pub(crate) mod hex_digest {
    use serde::{Deserialize, Deserializer, Serializer};

    pub(crate) fn serialize<S: Serializer>(
        digest: &[u8; 32],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(64);
        for byte in digest {
            text.push_str(&format!("{byte:02x}"));
        }
        serializer.serialize_str(&text)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(deserializer)?;
        let bytes = text.as_bytes();
        if bytes.len() != 64
            || !bytes
                .iter()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
        {
            return Err(serde::de::Error::custom(
                "sha256 must be 64 lower-case hex digits",
            ));
        }
        let mut digest = [0u8; 32];
        for (index, slot) in digest.iter_mut().enumerate() {
            *slot = u8::from_str_radix(&text[index * 2..index * 2 + 2], 16)
                .map_err(serde::de::Error::custom)?;
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn address() -> RecipientAddress {
        RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }
    }

    fn attachment() -> AttachmentReference {
        AttachmentReference {
            name: "notulen 2026.pdf".into(),
            size: 1234,
            sha256: [0xab; 32],
            location: "AAECAwQFBgcICQoLDA0ODw".into(),
        }
    }

    /// The receipt code whose key signs the tests' follow-ups.
    fn code() -> crate::ReceiptCode {
        crate::ReceiptCode::from_entropy([1; 16])
    }

    /// The office identity whose key signs the tests' office messages.
    fn office_identity() -> IdentityKey {
        crate::ReceiptCode::from_entropy([3; 16]).reply_identity()
    }

    fn office_key() -> OfficeKey {
        office_identity().office_signing_key().office_key()
    }

    fn kinds() -> Vec<MessageKind> {
        vec![
            MessageKind::Report {
                reply_key: IdentityKey::generate().recipient(),
                follow_up_key: code().follow_up_signing_key().follow_up_key(),
                recipients: vec![address()],
                conversation: crate::Conversation::Report,
                earlier_consultation: None,
            },
            MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            MessageKind::Reply {
                from: address(),
                signer: office_key(),
                signature: crate::MessageSignature::from_bytes([0; 64]),
                process_guide: None,
                opening: None,
            },
            MessageKind::Acknowledgement {
                from: address(),
                signer: office_key(),
                signature: crate::MessageSignature::from_bytes([0; 64]),
                opening: None,
            },
        ]
    }

    /// A message of this kind, signed as its author signs it.
    fn message(kind: MessageKind, body: &str) -> Message {
        numbered(kind, body, 1)
    }

    fn numbered(kind: MessageKind, body: &str, sequence: u32) -> Message {
        signed_by(&office_identity(), kind, body, sequence)
    }

    /// A message signed by the reporter (a follow-up) or by `office` (an office message).
    fn signed_by(office: &IdentityKey, kind: MessageKind, body: &str, sequence: u32) -> Message {
        let mut message = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            kind,
            mailbox: MailboxId::from_bytes([7; 32]),
            sequence,
            written_on: "2026-11-28".parse().unwrap(),
            body: body.to_owned().into(),
            attachments: vec![attachment()],
        };
        match message.kind {
            MessageKind::FollowUp { .. } => code().follow_up_signing_key().sign(&mut message),
            MessageKind::Reply { .. } | MessageKind::Acknowledgement { .. } => {
                office.office_signing_key().sign(&mut message).unwrap()
            }
            MessageKind::Report { .. } => {}
        }
        message
    }

    #[test]
    fn every_kind_round_trips_sealed() {
        let office = IdentityKey::generate();
        for kind in kinds() {
            let original = message(kind, "Ik meld een misstand.\nTweede regel: ë ß 中");
            let sealed = original.seal(&[office.recipient()]).unwrap();
            assert_eq!(
                Message::open(std::slice::from_ref(&office), sealed.as_bytes()).unwrap(),
                original
            );
        }
    }

    #[test]
    fn debug_hides_the_body() {
        let original = message(
            MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            "geheime tekst",
        );
        assert!(!format!("{original:?}").contains("geheime"));
    }

    #[test]
    fn refuses_unknown_versions_and_malformed_input() {
        for (input, version) in [
            (&br#"{"meldpunt-message":4,"kind":"follow-up"}"#[..], 4),
            (br#"{"meldpunt-message":2,"kind":"follow-up","written_on":"2026-11-28","body":"x"}"#, 2),
        ] {
            assert!(matches!(
                Message::decode(input),
                Err(Error::UnsupportedMessageVersion(found)) if found == version
            ));
        }
        let head = r#"{"meldpunt-message":3,"mailbox":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","sequence":1,"#;
        let good =
            String::from_utf8(message(kinds()[2].clone(), "x").encode().unwrap().to_vec()).unwrap();
        assert!(Message::decode(good.as_bytes()).is_ok());
        let unsigned = good.replace(r#""signature":"#, r#""unsigned":"#);
        assert!(Message::decode(unsigned.as_bytes()).is_err());
        let without_signer = good.replace(r#""signer":"#, r#""unsigner":"#);
        assert!(Message::decode(without_signer.as_bytes()).is_err());
        for tail in [
            r#""kind":"follow-up","written_on":"2026-11-28","body":"x","extra":1}"#,
            r#""kind":"gossip","written_on":"2026-11-28","body":"x"}"#,
            r#""kind":"follow-up","written_on":"2026-02-30","body":"x"}"#,
            r#""kind":"report","written_on":"2026-11-28","body":"x"}"#,
            r#""kind":"follow-up","written_on":"2026-11-28","body":"x","from":{"organisation":"demo","recipient":"x"}}"#,
            r#""kind":"follow-up","written_on":"2026-11-28","body":"x","attachments":[{"name":"../../etc/passwd","size":1,"sha256":"abababababababababababababababababababababababababababababababab","location":"AAECAwQFBgcICQoLDA0ODw"}]}"#,
            // Attachment ids: exactly the canonical 22 characters of 16 bytes.
            r#""kind":"follow-up","written_on":"2026-11-28","body":"x","attachments":[{"name":"a.pdf","size":1,"sha256":"abababababababababababababababababababababababababababababababab","location":"att_01"}]}"#,
            r#""kind":"follow-up","written_on":"2026-11-28","body":"x","attachments":[{"name":"a.pdf","size":1,"sha256":"abababababababababababababababababababababababababababababababab","location":"AAECAwQFBgcICQoLDA0ODx"}]}"#,
        ] {
            let input = format!("{head}{tail}");
            assert!(
                Message::decode(input.as_bytes()).is_err(),
                "{input} must be refused"
            );
        }
        for input in [
            &br#"{"kind":"follow-up"}"#[..],
            b"",
            b"[]",
            b"\xff\xfe",
            br#"{"meldpunt-message":3,"mailbox":"short","sequence":1,"kind":"follow-up","written_on":"2026-11-28","body":"x"}"#,
            br#"{"meldpunt-message":3,"mailbox":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","sequence":0,"kind":"follow-up","written_on":"2026-11-28","body":"x"}"#,
            br#"{"meldpunt-message":3,"kind":"follow-up","written_on":"2026-11-28","body":"x"}"#,
        ] {
            assert!(Message::decode(input).is_err(), "{:?} must be refused", String::from_utf8_lossy(input));
        }
    }

    fn adviser() -> RecipientAddress {
        RecipientAddress {
            organisation: "demo".into(),
            recipient: "adviser".into(),
        }
    }

    /// The directory's office keys: two members of the integrity office and an adviser.
    fn signers(
        members: &[&IdentityKey],
        adviser_identity: &IdentityKey,
    ) -> Vec<(RecipientAddress, OfficeKey)> {
        let mut signers: Vec<_> = members
            .iter()
            .map(|member| (address(), member.office_signing_key().office_key()))
            .collect();
        signers.push((
            adviser(),
            adviser_identity.office_signing_key().office_key(),
        ));
        signers
    }

    fn report_to(recipients: Vec<RecipientAddress>) -> Message {
        message(
            MessageKind::Report {
                reply_key: IdentityKey::generate().recipient(),
                follow_up_key: code().follow_up_signing_key().follow_up_key(),
                recipients,
                conversation: crate::Conversation::Report,
                earlier_consultation: None,
            },
            "report",
        )
    }

    fn reply(member: &IdentityKey, from: RecipientAddress, sequence: u32) -> Message {
        signed_by(
            member,
            MessageKind::Reply {
                from,
                signer: member.office_signing_key().office_key(),
                signature: crate::MessageSignature::from_bytes([0; 64]),
                process_guide: None,
                opening: None,
            },
            "x",
            sequence,
        )
    }

    fn follow_up(sequence: u32) -> Message {
        numbered(
            MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            "x",
            sequence,
        )
    }

    fn author_of(message: &Message) -> Author {
        message.kind.author()
    }

    /// A consultation with the adviser: its opening, a follow-up and the adviser's reply.
    fn consultation(adviser_identity: &IdentityKey) -> Vec<Message> {
        let code = code();
        let mailbox = code.mailbox_token().mailbox_id();
        let day: crate::Day = "2026-11-28".parse().unwrap();
        let opening = Message::opening(
            &code,
            vec![adviser()],
            Conversation::Consultation,
            crate::Content::text(day, "Mag ik iets vragen?"),
        );
        let answer = Message::answering(
            &adviser_identity.office_signing_key(),
            adviser(),
            &opening,
            false,
            1,
            crate::Content::text(day, "Zeker, vertel."),
        )
        .unwrap();
        vec![
            opening,
            Message::follow_up_signed(
                &code.follow_up_signing_key(),
                mailbox,
                2,
                crate::Content::text(day, "Nog een vraag."),
            ),
            answer,
        ]
    }

    fn report_carrying(messages: Vec<Message>) -> Message {
        Message::report_after_consultation(
            &crate::ReceiptCode::from_entropy([9; 16]),
            vec![address()],
            crate::Content::text("2026-11-29".parse().unwrap(), "Nu meld ik het."),
            &code(),
            messages,
        )
        .unwrap()
    }

    fn carried(report: &Message) -> &CarriedConsultation {
        match &report.kind {
            MessageKind::Report {
                earlier_consultation: Some(carried),
                ..
            } => carried,
            _ => panic!("the report carries a consultation"),
        }
    }

    #[test]
    fn a_consultation_is_marked_on_the_wire_and_a_report_is_not() {
        let adviser_identity = IdentityKey::generate();
        let messages = consultation(&adviser_identity);
        let encoded = messages[0].encode().unwrap();
        let text = std::str::from_utf8(&encoded).unwrap();
        assert!(text.contains(r#""kind":"report""#), "{text}");
        assert!(text.contains(r#""conversation":"consultation""#), "{text}");
        assert_eq!(Message::decode(&encoded).unwrap(), messages[0]);
        let report = report_to(vec![address()]);
        assert!(!std::str::from_utf8(&report.encode().unwrap())
            .unwrap()
            .contains("conversation"));
        // A report says nothing of its conversation; only a first message names one.
        let spelled_out = text.replace(
            r#""conversation":"consultation""#,
            r#""conversation":"report""#,
        );
        assert!(Message::decode(spelled_out.as_bytes()).is_err());
        let follow_up = messages[1].encode().unwrap();
        let follow_up = std::str::from_utf8(&follow_up).unwrap().replacen(
            r#""kind":"follow-up""#,
            r#""kind":"follow-up","conversation":"consultation""#,
            1,
        );
        assert!(Message::decode(follow_up.as_bytes()).is_err());
        // Each reader's check knows what the conversation is for.
        let mut check = ThreadCheck::new(messages[0].mailbox, signers(&[], &adviser_identity));
        for message in &messages {
            check.admit(message, author_of(message)).unwrap();
        }
        assert_eq!(check.conversation(), Conversation::Consultation);
    }

    #[test]
    fn a_consultation_has_no_process_guide() {
        let adviser_identity = IdentityKey::generate();
        let messages = consultation(&adviser_identity);
        let mut appointing = Message::from_office(
            &adviser_identity.office_signing_key(),
            adviser(),
            messages[0].mailbox,
            false,
            2,
            crate::Content::text("2026-11-28".parse().unwrap(), "x"),
        )
        .unwrap();
        if let MessageKind::Reply { process_guide, .. } = &mut appointing.kind {
            *process_guide = Some(ProcessGuideChange {
                recipient: RecipientAddress {
                    organisation: "demo".into(),
                    recipient: "guide".into(),
                },
                joined: true,
            });
        }
        adviser_identity
            .office_signing_key()
            .sign(&mut appointing)
            .unwrap();
        let mut check = ThreadCheck::new(messages[0].mailbox, signers(&[], &adviser_identity));
        check.set_process_guides(vec![RecipientAddress {
            organisation: "demo".into(),
            recipient: "guide".into(),
        }]);
        check.admit(&messages[0], Author::Reporter).unwrap();
        assert!(matches!(
            check.admit(&appointing, Author::Office),
            Err(Error::MalformedMessage(_))
        ));
    }

    #[test]
    fn a_carried_consultation_round_trips_and_checks_out() {
        let adviser_identity = IdentityKey::generate();
        let report = report_carrying(consultation(&adviser_identity));
        let office = IdentityKey::generate();
        let sealed = report.seal(&[office.recipient()]).unwrap();
        let opened = Message::open(std::slice::from_ref(&office), sealed.as_bytes()).unwrap();
        assert_eq!(opened, report);
        let checked = carried(&opened)
            .check(&opened.mailbox, signers(&[], &adviser_identity))
            .unwrap();
        assert_eq!(checked.mailbox, code().mailbox_token().mailbox_id());
        assert_eq!(checked.messages.len(), 3);
        for (_, outcome) in &checked.messages {
            assert_eq!(
                outcome.as_ref().unwrap().authenticity,
                Authenticity::Verified
            );
        }
    }

    #[test]
    fn only_the_consultations_reporter_can_carry_it_into_a_report() {
        let adviser_identity = IdentityKey::generate();
        let signers = signers(&[], &adviser_identity);
        let genuine = report_carrying(consultation(&adviser_identity));
        // The adviser holds every message but not the receipt code: signed with any other
        // key, the carried consultation is refused.
        let forged = Message::report_after_consultation(
            &crate::ReceiptCode::from_entropy([9; 16]),
            vec![address()],
            crate::Content::text("2026-11-29".parse().unwrap(), "Doorgestuurd."),
            &crate::ReceiptCode::from_entropy([5; 16]),
            consultation(&adviser_identity),
        )
        .unwrap();
        assert!(matches!(
            carried(&forged).check(&forged.mailbox, signers.clone()),
            Err(Error::ForgedCarriedConsultation)
        ));
        // Moved into another report, or cut short, the signature no longer fits.
        let elsewhere = MailboxId::from_bytes([8; 32]);
        assert!(matches!(
            carried(&genuine).check(&elsewhere, signers.clone()),
            Err(Error::ForgedCarriedConsultation)
        ));
        let mut shortened = carried(&genuine).clone();
        shortened.messages.pop();
        assert!(matches!(
            shortened.check(&genuine.mailbox, signers.clone()),
            Err(Error::ForgedCarriedConsultation)
        ));
        // Someone else who holds every message (a colleague of the adviser, a forwarded copy)
        // re-keys the opening with a code of their own and signs the rest over with it: the
        // adviser's answer is bound to the real opening, and is refused under this one. The
        // same for a rewritten question.
        let forger = crate::ReceiptCode::from_entropy([6; 16]);
        let mut rekeyed = consultation(&adviser_identity);
        if let MessageKind::Report {
            follow_up_key,
            reply_key,
            ..
        } = &mut rekeyed[0].kind
        {
            *follow_up_key = forger.follow_up_signing_key().follow_up_key();
            *reply_key = forger.reply_identity().recipient();
        }
        forger.follow_up_signing_key().sign(&mut rekeyed[1]);
        let mut rewritten_question = consultation(&adviser_identity);
        rewritten_question[0].body = String::from("Moet ik melden dat X fraude pleegt?").into();
        for (messages, signer) in [(rekeyed, &forger), (rewritten_question, &code())] {
            let report_code = crate::ReceiptCode::from_entropy([9; 16]);
            let report_mailbox = report_code.mailbox_token().mailbox_id();
            let forged = CarriedConsultation {
                signature: signer.follow_up_signing_key().sign_carried(
                    &messages[0].mailbox,
                    &report_mailbox,
                    3,
                ),
                messages,
            };
            let checked = forged.check(&report_mailbox, signers.clone()).unwrap();
            assert!(matches!(checked.messages[2].1, Err(Error::OpeningMismatch)));
        }
        // An answer that names no opening is not taken as one in a carried consultation.
        let mut unbound = carried(&genuine).clone();
        if let MessageKind::Reply { opening, .. } = &mut unbound.messages[2].kind {
            *opening = None;
        }
        adviser_identity
            .office_signing_key()
            .sign(&mut unbound.messages[2])
            .unwrap();
        let checked = unbound.check(&genuine.mailbox, signers.clone()).unwrap();
        assert!(matches!(checked.messages[2].1, Err(Error::OpeningMismatch)));
        // A reporter who rewrites the adviser's reply: the reply is marked, the rest stands.
        let mut rewritten = carried(&genuine).clone();
        rewritten.messages[2].body = String::from("Je moet het melden.").into();
        let checked = rewritten.check(&genuine.mailbox, signers).unwrap();
        assert!(checked.messages[0].1.is_ok());
        assert!(checked.messages[1].1.is_ok());
        assert!(matches!(
            checked.messages[2].1,
            Err(Error::ForgedOfficeMessage)
        ));
    }

    #[test]
    fn a_carried_consultation_is_shaped_as_one() {
        let adviser_identity = IdentityKey::generate();
        let mut messages = consultation(&adviser_identity);
        // It begins with a consultation's opening, not a report's.
        let mut not_a_consultation = messages.clone();
        if let MessageKind::Report { conversation, .. } = &mut not_a_consultation[0].kind {
            *conversation = Conversation::Report;
        }
        assert!(Message::report_after_consultation(
            &crate::ReceiptCode::from_entropy([9; 16]),
            vec![address()],
            crate::Content::text("2026-11-29".parse().unwrap(), "x"),
            &code(),
            not_a_consultation,
        )
        .is_err());
        // A consultation carries none; nor does a carried message.
        let report = report_carrying(messages.clone());
        let mut consultation_carrying = report.clone();
        if let MessageKind::Report { conversation, .. } = &mut consultation_carrying.kind {
            *conversation = Conversation::Consultation;
        }
        assert!(consultation_carrying.encode().is_err());
        messages[0] = report;
        assert!(Message::report_after_consultation(
            &crate::ReceiptCode::from_entropy([9; 16]),
            vec![address()],
            crate::Content::text("2026-11-29".parse().unwrap(), "x"),
            &code(),
            messages,
        )
        .is_err());
    }

    #[test]
    fn a_thread_check_accepts_any_interleaving_of_distinct_authors() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let (first, second, counsel) = (
            office_identity(),
            IdentityKey::generate(),
            IdentityKey::generate(),
        );
        let report = report_to(vec![address(), adviser()]);
        // Two members of one office reply without seeing each other's message: both number
        // theirs 1, and any order of the two is accepted.
        for order in [[0usize, 1], [1, 0]] {
            let replies = [reply(&first, address(), 1), reply(&second, address(), 1)];
            let thread = [
                report.clone(),
                replies[order[0]].clone(),
                replies[order[1]].clone(),
                follow_up(2),
                reply(&counsel, adviser(), 1),
                reply(&first, address(), 2),
                follow_up(3),
            ];
            let mut check = ThreadCheck::new(mailbox, signers(&[&first, &second], &counsel));
            for message in &thread {
                assert_eq!(
                    check.admit(message, author_of(message)).unwrap(),
                    Admitted {
                        authenticity: Authenticity::Verified,
                        missing_before: 0
                    }
                );
            }
            assert_eq!(check.next_reporter_sequence(), 4);
            assert_eq!(
                check.next_office_sequence(&first.office_signing_key().office_key()),
                3
            );
            assert_eq!(
                check.next_office_sequence(&second.office_signing_key().office_key()),
                2
            );
        }
    }

    #[test]
    fn a_thread_check_catches_moved_repeated_reordered_and_withheld_messages() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let (member, counsel) = (office_identity(), IdentityKey::generate());
        let report = report_to(vec![address()]);
        let refused = |messages: &[Message]| {
            let mut check = ThreadCheck::new(mailbox, signers(&[&member], &counsel));
            let (last, before) = messages.split_last().unwrap();
            for message in before {
                check.admit(message, author_of(message)).unwrap();
            }
            let error = check.admit(last, author_of(last)).unwrap_err();
            // A refused message changes nothing: the check goes on as before it.
            assert_eq!(
                check.next_reporter_sequence(),
                before
                    .iter()
                    .filter(|m| author_of(m) == Author::Reporter)
                    .count() as u32
                    + 1
            );
            error
        };
        // A message from the middle withheld: the next one is admitted, saying one is
        // missing before it.
        let mut check = ThreadCheck::new(mailbox, signers(&[&member], &counsel));
        check.admit(&report, Author::Reporter).unwrap();
        assert_eq!(
            check.admit(&follow_up(3), Author::Reporter).unwrap(),
            Admitted {
                authenticity: Authenticity::Verified,
                missing_before: 1
            }
        );
        assert_eq!(
            check
                .admit(&follow_up(4), Author::Reporter)
                .unwrap()
                .missing_before,
            0
        );
        // One repeated; two swapped; a thread not starting with its report; a message of
        // another mailbox.
        assert!(matches!(
            refused(&[
                report.clone(),
                reply(&member, address(), 1),
                reply(&member, address(), 1)
            ]),
            Error::OutOfSequence {
                author: "office",
                expected: 2,
                found: 1
            }
        ));
        // Two swapped: the first comes with one missing before it, the second is refused
        // as a step back, and the check goes on.
        let mut check = ThreadCheck::new(mailbox, signers(&[&member], &counsel));
        check.admit(&report, Author::Reporter).unwrap();
        assert_eq!(
            check
                .admit(&follow_up(3), Author::Reporter)
                .unwrap()
                .missing_before,
            1
        );
        assert!(check
            .admit(&follow_up(2), Author::Reporter)
            .unwrap_err()
            .to_string()
            .contains("out of sequence (expected number 4, found 2)"));
        check.admit(&follow_up(4), Author::Reporter).unwrap();
        assert!(matches!(
            refused(&[reply(&member, address(), 1)]),
            Error::ThreadWithoutReport
        ));
        assert!(matches!(
            refused(&[report.clone(), report.clone()]),
            Error::OutOfSequence { .. }
        ));
        let elsewhere = Message {
            mailbox: MailboxId::from_bytes([8; 32]),
            ..report.clone()
        };
        assert!(matches!(refused(&[elsewhere]), Error::WrongMailbox));

        // A follow-up signed by anyone but the reporter, with a signature of zeros (one
        // without a signature cannot be built), or altered after signing.
        let mut forged = follow_up(2);
        crate::ReceiptCode::from_entropy([2; 16])
            .follow_up_signing_key()
            .sign(&mut forged);
        assert!(matches!(
            refused(&[report.clone(), forged]),
            Error::ForgedFollowUp
        ));
        let zeroed = Message {
            kind: MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            ..follow_up(2)
        };
        assert!(matches!(
            refused(&[report.clone(), zeroed]),
            Error::ForgedFollowUp
        ));
        let altered = Message {
            body: String::from("iets anders").into(),
            ..follow_up(2)
        };
        assert!(matches!(
            refused(&[report.clone(), altered]),
            Error::ForgedFollowUp
        ));
    }

    #[test]
    fn office_messages_are_authenticated_against_the_directory_and_the_recorded_author() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let (member, counsel, stranger) = (
            office_identity(),
            IdentityKey::generate(),
            IdentityKey::generate(),
        );
        let report = report_to(vec![address()]);
        let admit = |messages: &[(Message, Author)]| {
            let mut check = ThreadCheck::new(mailbox, signers(&[&member], &counsel));
            let (last, before) = messages.split_last().unwrap();
            for (message, author) in before {
                check.admit(message, *author).unwrap();
            }
            check.admit(&last.0, last.1)
        };
        let good = reply(&member, address(), 1);
        assert!(admit(&[
            (report.clone(), Author::Reporter),
            (good.clone(), Author::Office)
        ])
        .is_ok());
        // A reporter who writes a "reply" into their own mailbox (the relay records them).
        assert!(matches!(
            admit(&[
                (report.clone(), Author::Reporter),
                (good.clone(), Author::Reporter)
            ]),
            Err(Error::WrongAuthor {
                kind: "reply",
                recorded: "reporter"
            })
        ));
        // An office that posts a "follow-up".
        assert!(matches!(
            admit(&[
                (report.clone(), Author::Reporter),
                (follow_up(2), Author::Office)
            ]),
            Err(Error::WrongAuthor { .. })
        ));
        // A relay or stranger forging an acknowledgement with a key the directory does not
        // list, or naming the member's key without its secret.
        let forged = signed_by(
            &stranger,
            MessageKind::Acknowledgement {
                from: address(),
                signer: stranger.office_signing_key().office_key(),
                signature: crate::MessageSignature::from_bytes([0; 64]),
                opening: None,
            },
            "x",
            1,
        );
        assert!(matches!(
            admit(&[(report.clone(), Author::Reporter), (forged, Author::Office)]),
            Err(Error::ForgedOfficeMessage)
        ));
        let mut impersonated = signed_by(
            &stranger,
            MessageKind::Acknowledgement {
                from: address(),
                signer: stranger.office_signing_key().office_key(),
                signature: crate::MessageSignature::from_bytes([0; 64]),
                opening: None,
            },
            "x",
            1,
        );
        if let MessageKind::Acknowledgement { signer, .. } = &mut impersonated.kind {
            *signer = member.office_signing_key().office_key();
        }
        assert!(matches!(
            admit(&[
                (report.clone(), Author::Reporter),
                (impersonated, Author::Office)
            ]),
            Err(Error::ForgedOfficeMessage)
        ));
        // A reply cannot be built without a signature; one with a signature of zeros is
        // refused.
        let mut zeroed = good.clone();
        if let MessageKind::Reply { signature, .. } = &mut zeroed.kind {
            *signature = crate::MessageSignature::from_bytes([0; 64]);
        }
        assert!(matches!(
            admit(&[(report.clone(), Author::Reporter), (zeroed, Author::Office)]),
            Err(Error::ForgedOfficeMessage)
        ));
        // An altered reply.
        let altered = Message {
            body: String::from("anders").into(),
            ..good.clone()
        };
        assert!(matches!(
            admit(&[
                (report.clone(), Author::Reporter),
                (altered, Author::Office)
            ]),
            Err(Error::ForgedOfficeMessage)
        ));
        // A colleague whose recipient the reporter did not choose (the adviser, here).
        assert!(matches!(
            admit(&[
                (report.clone(), Author::Reporter),
                (reply(&counsel, adviser(), 1), Author::Office)
            ]),
            Err(Error::SenderNotAddressed)
        ));
        // A key listed for the adviser, used to sign as the integrity office.
        let misattributed = reply(&counsel, address(), 1);
        assert!(matches!(
            admit(&[(report, Author::Reporter), (misattributed, Author::Office)]),
            Err(Error::ForgedOfficeMessage)
        ));
    }

    #[test]
    fn a_reporters_reader_refuses_a_report_with_other_keys() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let code = code();
        let mut report = report_to(vec![address()]);
        let reply_key = code.reply_identity().recipient();
        if let MessageKind::Report {
            reply_key: carried, ..
        } = &mut report.kind
        {
            *carried = reply_key.clone();
        }
        let mut check = ThreadCheck::new(mailbox, Vec::new());
        check.expect_reporter(&crate::ReceiptCode::from_entropy([4; 16]));
        assert!(matches!(
            check.admit(&report, Author::Reporter),
            Err(Error::ForeignReport)
        ));
        let mut check = ThreadCheck::new(mailbox, Vec::new());
        check.expect_reporter(&code);
        assert!(check.admit(&report, Author::Reporter).is_ok());
        assert_eq!(check.reply_key(), Some(&reply_key));
        // A report made before hybrid reply keys carries the classic one: still the reporter's.
        let mut classic = report.clone();
        if let MessageKind::Report { reply_key, .. } = &mut classic.kind {
            *reply_key = code.classic_reply_identity().recipient();
        }
        let mut check = ThreadCheck::new(mailbox, Vec::new());
        check.expect_reporter(&code);
        assert!(check.admit(&classic, Author::Reporter).is_ok());
        assert!(!check.reply_key().unwrap().is_post_quantum());
    }

    #[test]
    fn sequence_numbers_never_overflow() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let mut check = ThreadCheck::new(mailbox, Vec::new());
        check
            .admit(&report_to(vec![address()]), Author::Reporter)
            .unwrap();
        check.admit(&follow_up(u32::MAX), Author::Reporter).unwrap();
        assert_eq!(check.next_reporter_sequence(), u32::MAX);
        assert!(matches!(
            check.admit(&follow_up(u32::MAX), Author::Reporter),
            Err(Error::OutOfSequence { .. })
        ));
    }

    #[test]
    fn a_partial_thread_starts_where_the_member_first_sees_it() {
        let mailbox = MailboxId::from_bytes([7; 32]);
        let (member, counsel) = (office_identity(), IdentityKey::generate());
        let mut check = ThreadCheck::partial(mailbox, signers(&[&member], &counsel));
        assert!(check.is_partial());
        let newcomer = IdentityKey::generate();
        check.set_signers(signers(&[&member, &newcomer], &counsel));
        assert_eq!(
            check
                .admit(&reply(&member, address(), 4), Author::Office)
                .unwrap()
                .authenticity,
            Authenticity::Verified
        );
        assert_eq!(
            check.admit(&follow_up(3), Author::Reporter).unwrap(),
            Admitted {
                authenticity: Authenticity::UnverifiedFollowUp,
                missing_before: 0
            }
        );
        assert_eq!(
            check
                .admit(&reply(&newcomer, address(), 1), Author::Office)
                .unwrap()
                .authenticity,
            Authenticity::Verified
        );
        // Once a numbering has started, it is checked as strictly as ever.
        assert!(matches!(
            check.admit(&reply(&member, address(), 4), Author::Office),
            Err(Error::OutOfSequence { .. })
        ));
        assert_eq!(
            check
                .admit(&reply(&member, address(), 7), Author::Office)
                .unwrap()
                .missing_before,
            2
        );
        assert!(matches!(
            check.admit(&follow_up(3), Author::Reporter),
            Err(Error::OutOfSequence { .. })
        ));
        // Office signatures are still required.
        let stranger = IdentityKey::generate();
        assert!(matches!(
            check.admit(&reply(&stranger, address(), 1), Author::Office),
            Err(Error::ForgedOfficeMessage)
        ));
    }

    #[test]
    fn errors_do_not_quote_the_body() {
        let input = br#"{"meldpunt-message":3,"mailbox":"BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc","sequence":1,"kind":"follow-up","written_on":"2026-11-28","body":["naam van de verdachte"]}"#;
        let error = Message::decode(input).unwrap_err().to_string();
        assert!(!error.contains("verdachte"), "{error}");
    }

    #[test]
    fn oversize_body_is_refused() {
        let large = message(
            MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            &"a".repeat(MAXIMUM_BODY_LENGTH + 1),
        );
        assert!(matches!(large.encode(), Err(Error::TooLarge { .. })));
    }

    #[test]
    fn attachments_round_trip_and_digest_is_checked() {
        let office = IdentityKey::generate();
        let content = vec![42u8; 150_000];
        let (reference, sealed) = AttachmentReference::seal_stream(
            &[office.recipient()],
            "foto.jpg",
            "AAECAwQFBgcICQoLDA0ODw",
            &content[..],
            content.len() as u64,
            Vec::new(),
        )
        .unwrap();
        let mut opened = Vec::new();
        reference
            .open_stream(std::slice::from_ref(&office), &sealed[..], &mut opened)
            .unwrap();
        assert_eq!(opened, content);
        let mut forged = reference.clone();
        forged.sha256[0] ^= 1;
        assert!(matches!(
            forged.open_stream(std::slice::from_ref(&office), &sealed[..], Vec::new()),
            Err(Error::DigestMismatch)
        ));
    }

    #[test]
    fn wrong_padding_is_refused() {
        // A well-formed message sealed without Meldpunt's padding.
        let office = IdentityKey::generate();
        let encoded = message(
            MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            "x",
        )
        .encode()
        .unwrap();
        let mut sealed = Vec::new();
        let mut writer =
            age::Encryptor::with_recipients(std::iter::once(office.recipient().as_age()))
                .unwrap()
                .wrap_output(&mut sealed)
                .unwrap();
        writer.write_all(&encoded).unwrap();
        writer.finish().unwrap();
        assert!(matches!(
            Message::open(&[office], &sealed),
            Err(Error::BadPadding)
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn encode_decode_round_trip(body in ".{0,2000}", kind_index in 0usize..4, name in "[a-zA-Z0-9 ._-]{1,40}", size in 0u64..(1 << 40)) {
            prop_assume!(name != "." && name != "..");
            let mut original = message(kinds().swap_remove(kind_index), &body);
            original.attachments[0].name = name;
            original.attachments[0].size = size;
            let decoded = Message::decode(&original.encode().unwrap()).unwrap();
            prop_assert_eq!(decoded, original);
        }

        #[test]
        fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..500)) {
            let _ = Message::decode(&bytes);
        }

        #[test]
        fn flipped_bits_in_sealed_messages_are_refused(position in any::<prop::sample::Index>(), bit in 0u8..8) {
            let office = IdentityKey::generate();
            let mut sealed = message(MessageKind::FollowUp { signature: crate::MessageSignature::from_bytes([0; 64]), shared_identity: None }, "melding").seal(&[office.recipient()]).unwrap().into_bytes();
            let index = position.index(sealed.len());
            sealed[index] ^= 1 << bit;
            prop_assert!(Message::open(&[office], &sealed).is_err());
        }
    }
}
