//! Hand-overs: how a member of a recipient passes a case's history to a colleague who
//! joined later.
//!
//! A member whose key entered the directory after a case began cannot open what was sealed
//! before: the reporter sealed it to the keys listed then. A colleague of the *same*
//! recipient who holds the case opens it on their own workstation and hands each message
//! over: the message exactly as they opened it, with where the relay had it (its number in
//! the recipient's numbering, its position in the mailbox, its recorded author and day), in a
//! [`HandOver`] signed with the colleague's office key and sealed to the new member's key
//! alone. The relay keeps hand-overs apart from the mailbox (the reporter never sees them)
//! and serves them only to sessions of that recipient; it sees ciphertext, a size and a day.
//!
//! What the new member checks ([`HandOver::verify`]): the hand-over is addressed to one of
//! their keys, its signer is an office key the signed directory lists for their own
//! recipient, and the signature covers everything in it. The handed message then goes
//! through the same [`crate::ThreadCheck`] as a message from the relay: a follow-up against
//! the report's key, an office message against the directory's keys. What the new member
//! takes on the colleague's word is what nobody can check anyway: the report itself (a
//! report is never signed; its own keys start the thread).
//!
//! Attachments go along as copies: the colleague opens each attachment the message refers
//! to, seals it again to the new member alone and uploads it into the mailbox under a new
//! id; the hand-over names, for each original location, the copy's ([`AttachmentCopy`]).
//! The message keeps its original references (its author's signature covers them); the new
//! member fetches the copy and checks it against the original reference's size and SHA-256,
//! so a copy cannot be swapped for other content.
//!
//! The encoding is the hand-over's header (compact JSON, one line), a newline, then the
//! handed message's own encoding ([`Message::encode`]) byte for byte: nothing of the message
//! is re-encoded, and the signature covers the SHA-256 of exactly those bytes.
//!
//! This module does no I/O and never shows a message's body in `Debug` or an error.

use std::fmt;

use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::message::describe_json_error;
use crate::seal::open_content;
use crate::{
    seal, Author, Day, Error, IdentityKey, MailboxId, Message, MessageKind, MessageSignature,
    OfficeKey, OfficeSigningKey, RecipientAddress, RecipientKey, SealedObject,
    MAXIMUM_MESSAGE_LENGTH,
};

/// Version marker of the hand-over format.
pub const HAND_OVER_FORMAT_VERSION: u64 = 1;
/// Prefix of the bytes a hand-over's signature covers.
pub const HAND_OVER_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/hand-over\n";
/// Longest encoded hand-over: one message of the longest kind and its header, with room for
/// [`crate::MAXIMUM_ATTACHMENTS`] attachment copies.
pub const MAXIMUM_HAND_OVER_LENGTH: u64 = MAXIMUM_MESSAGE_LENGTH + 16 * 1024;

/// One message of a case, as the member handing it over holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedMessage {
    /// Its number in the recipient's own numbering on the relay.
    pub number: u64,
    /// Its position in the mailbox (1: the report).
    pub position: u32,
    /// Who posted it, as the relay recorded.
    pub author: Author,
    /// The day the relay stored it.
    pub stored_on: Day,
    /// SHA-256 of the sealed message as the relay serves it under `number`: the new member
    /// cannot open that ciphertext, but can fetch and hash it, so a hand-over cannot put
    /// another message in its place.
    pub sealed_sha256: [u8; 32],
    /// The message, as opened.
    pub message: Message,
    /// Copies of its attachments sealed to the new member (none for an attachment the new
    /// member is left to fetch as it is).
    pub copies: Vec<AttachmentCopy>,
}

/// Where the copy of one of a handed message's attachments is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachmentCopy {
    /// The original's location, as the message refers to it.
    pub location: String,
    /// The copy's location: an attachment id in the same mailbox.
    pub copy: String,
}

/// A message of a case handed from one member of a recipient to another: signed by the
/// first, readable only by the second. Built only by [`OfficeSigningKey::hand_over`] or
/// decoded (then [`HandOver::verify`] says whether to believe it).
#[derive(Clone, PartialEq, Eq)]
pub struct HandOver {
    from: RecipientAddress,
    signer: OfficeKey,
    to: RecipientKey,
    written_on: Day,
    handed: HandedMessage,
    /// The handed message's encoding, as signed and sent.
    encoded_message: Zeroizing<Vec<u8>>,
    signature: MessageSignature,
}

impl fmt::Debug for HandOver {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("HandOver")
            .field("from", &self.from)
            .field("signer", &self.signer)
            .field("to", &self.to)
            .field("written_on", &self.written_on)
            .field("handed", &self.handed)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireHeader {
    #[serde(rename = "meldpunt-hand-over")]
    version: u64,
    from: RecipientAddress,
    signer: OfficeKey,
    to: RecipientKey,
    written_on: Day,
    number: u64,
    position: u32,
    author: Author,
    stored_on: Day,
    #[serde(with = "crate::message::hex_digest")]
    sealed_sha256: [u8; 32],
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    copies: Vec<AttachmentCopy>,
    signature: MessageSignature,
}

fn refused(reason: &'static str) -> Error {
    Error::HandOverRefused(reason)
}

/// The author who writes messages of `kind`.
fn writer_of(kind: &MessageKind) -> Author {
    match kind {
        MessageKind::Report { .. } | MessageKind::FollowUp { .. } => Author::Reporter,
        MessageKind::Reply { .. } | MessageKind::Acknowledgement { .. } => Author::Office,
    }
}

fn check_handed(handed: &HandedMessage) -> Result<(), Error> {
    if handed.number == 0 || handed.position == 0 {
        return Err(refused("numbers and positions start at 1"));
    }
    if writer_of(&handed.message.kind) != handed.author {
        return Err(refused(
            "the handed message's kind does not fit its recorded author",
        ));
    }
    for (index, copy) in handed.copies.iter().enumerate() {
        if !handed
            .message
            .attachments
            .iter()
            .any(|attachment| attachment.location == copy.location)
            || handed.copies[..index]
                .iter()
                .any(|earlier| earlier.location == copy.location)
        {
            return Err(refused(
                "an attachment copy names an attachment the message does not refer to, or one twice",
            ));
        }
        if crate::AttachmentId::from_wire(&copy.copy).is_err() {
            return Err(refused(
                "an attachment copy's location is not an attachment id",
            ));
        }
    }
    Ok(())
}

/// What a hand-over's signature covers: [`HAND_OVER_SIGNATURE_CONTEXT`] || SHA-256 of the
/// sender's organisation id || SHA-256 of its recipient id || the signer's office key (32
/// bytes) || SHA-256 of the new member's age key (its `age1…` text) || day written (10
/// ASCII bytes) || number (8 bytes, big-endian) || position (4 bytes, big-endian) || SHA-256
/// of the recorded author (`reporter` or `office`) || day stored (10 ASCII bytes) || SHA-256
/// of the sealed original (32 bytes) || SHA-256 of the handed message's encoding as sent ||
/// number of attachment copies (4 bytes,
/// big-endian) || for each: SHA-256 of the original's location || SHA-256 of the copy's.
fn signing_bytes(
    from: &RecipientAddress,
    signer: &OfficeKey,
    to: &RecipientKey,
    written_on: Day,
    handed: &HandedMessage,
    encoded_message: &[u8],
) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(HAND_OVER_SIGNATURE_CONTEXT.len() + 6 * 32 + 40);
    bytes.extend_from_slice(HAND_OVER_SIGNATURE_CONTEXT);
    bytes.extend_from_slice(&Sha256::digest(from.organisation.as_bytes()));
    bytes.extend_from_slice(&Sha256::digest(from.recipient.as_bytes()));
    bytes.extend_from_slice(signer.as_bytes());
    bytes.extend_from_slice(&Sha256::digest(to.to_string().as_bytes()));
    bytes.extend_from_slice(written_on.to_string().as_bytes());
    bytes.extend_from_slice(&handed.number.to_be_bytes());
    bytes.extend_from_slice(&handed.position.to_be_bytes());
    bytes.extend_from_slice(&Sha256::digest(handed.author.as_str().as_bytes()));
    bytes.extend_from_slice(handed.stored_on.to_string().as_bytes());
    bytes.extend_from_slice(&handed.sealed_sha256);
    bytes.extend_from_slice(&Sha256::digest(encoded_message));
    bytes.extend_from_slice(&(handed.copies.len() as u32).to_be_bytes());
    for copy in &handed.copies {
        bytes.extend_from_slice(&Sha256::digest(copy.location.as_bytes()));
        bytes.extend_from_slice(&Sha256::digest(copy.copy.as_bytes()));
    }
    bytes
}

impl OfficeSigningKey {
    /// Hands `handed` over from this member of `from` to the colleague whose age key is
    /// `to`, on `written_on`: signed with this key. Refuses a message that is not
    /// well-formed, or whose kind does not fit its recorded author.
    pub fn hand_over(
        &self,
        from: RecipientAddress,
        to: RecipientKey,
        written_on: Day,
        handed: HandedMessage,
    ) -> Result<HandOver, Error> {
        check_handed(&handed)?;
        let encoded_message = handed.message.encode()?;
        let signer = self.office_key();
        let signature = MessageSignature(
            self.signing_key()
                .sign(&signing_bytes(
                    &from,
                    &signer,
                    &to,
                    written_on,
                    &handed,
                    &encoded_message,
                ))
                .to_bytes(),
        );
        Ok(HandOver {
            from,
            signer,
            to,
            written_on,
            handed,
            encoded_message,
            signature,
        })
    }
}

impl HandOver {
    /// The recipient both members act for, as the sender claims.
    pub fn from(&self) -> &RecipientAddress {
        &self.from
    }

    /// The office key it is signed with.
    pub fn signer(&self) -> OfficeKey {
        self.signer
    }

    /// The new member's age key.
    pub fn to(&self) -> &RecipientKey {
        &self.to
    }

    /// The day it was written.
    pub fn written_on(&self) -> Day {
        self.written_on
    }

    /// The handed message, whether or not it was verified.
    pub fn handed(&self) -> &HandedMessage {
        &self.handed
    }

    /// The mailbox of the handed message.
    pub fn mailbox(&self) -> MailboxId {
        self.handed.message.mailbox
    }

    /// Checks that this hand-over is for one of `own_keys`, from a member of `recipient`
    /// (an office key `signers` lists for it, as [`crate::Directory::office_signers`] gives
    /// them), and signed by that member; returns the handed message. Whether the message
    /// fits its thread is the [`crate::ThreadCheck`]'s to say.
    pub fn verify(
        &self,
        recipient: &RecipientAddress,
        own_keys: &[RecipientKey],
        signers: &[(RecipientAddress, OfficeKey)],
    ) -> Result<&HandedMessage, Error> {
        self.verify_from(std::slice::from_ref(recipient), own_keys, signers)
    }

    /// As [`HandOver::verify`], from a member of any of `recipients`: a process guide takes
    /// the history of a case from the recipients that appointed them.
    pub fn verify_from(
        &self,
        recipients: &[RecipientAddress],
        own_keys: &[RecipientKey],
        signers: &[(RecipientAddress, OfficeKey)],
    ) -> Result<&HandedMessage, Error> {
        if !own_keys.contains(&self.to) {
            return Err(refused("it is addressed to another member's key"));
        }
        if !recipients.contains(&self.from) {
            return Err(refused(
                "it comes from another recipient than yours (or one that appointed you)",
            ));
        }
        if !signers
            .iter()
            .any(|(address, key)| *address == self.from && *key == self.signer)
        {
            return Err(refused(
                "its signer is not a member of your recipient in the signed directory",
            ));
        }
        let bytes = signing_bytes(
            &self.from,
            &self.signer,
            &self.to,
            self.written_on,
            &self.handed,
            &self.encoded_message,
        );
        self.signer
            .verifying_key()
            .verify_strict(&bytes, &Signature::from_bytes(&self.signature.0))
            .map_err(|_| refused("its signature does not check out: it was altered or forged"))?;
        Ok(&self.handed)
    }

    /// The encoding: header line, newline, the message's encoding. Zeroized on drop.
    pub fn encode(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let header = WireHeader {
            version: HAND_OVER_FORMAT_VERSION,
            from: self.from.clone(),
            signer: self.signer,
            to: self.to.clone(),
            written_on: self.written_on,
            number: self.handed.number,
            position: self.handed.position,
            author: self.handed.author,
            stored_on: self.handed.stored_on,
            sealed_sha256: self.handed.sealed_sha256,
            copies: self.handed.copies.clone(),
            signature: self.signature,
        };
        let mut encoded =
            Zeroizing::new(serde_json::to_vec(&header).map_err(|error| refused_encoding(&error))?);
        encoded.push(b'\n');
        encoded.extend_from_slice(&self.encoded_message);
        if encoded.len() as u64 > MAXIMUM_HAND_OVER_LENGTH {
            return Err(Error::TooLarge {
                what: "an encoded hand-over",
                limit: MAXIMUM_HAND_OVER_LENGTH,
            });
        }
        Ok(encoded)
    }

    /// Decodes a hand-over (its signature unchecked: see [`HandOver::verify`]).
    pub fn decode(encoded: &[u8]) -> Result<HandOver, Error> {
        if encoded.len() as u64 > MAXIMUM_HAND_OVER_LENGTH {
            return Err(Error::TooLarge {
                what: "an encoded hand-over",
                limit: MAXIMUM_HAND_OVER_LENGTH,
            });
        }
        let newline = encoded
            .iter()
            .position(|&byte| byte == b'\n')
            .ok_or_else(|| Error::MalformedMessage("a hand-over has a header line".into()))?;
        let (header, message) = (&encoded[..newline], &encoded[newline + 1..]);
        let header: WireHeader = serde_json::from_slice(header).map_err(|error| {
            Error::MalformedMessage(format!(
                "a hand-over's header is {}",
                describe_json_error(&error)
            ))
        })?;
        if header.version != HAND_OVER_FORMAT_VERSION {
            return Err(Error::MalformedMessage(format!(
                "hand-over format version {} is not known; this software reads version {HAND_OVER_FORMAT_VERSION}",
                header.version
            )));
        }
        let handed = HandedMessage {
            number: header.number,
            position: header.position,
            author: header.author,
            stored_on: header.stored_on,
            sealed_sha256: header.sealed_sha256,
            message: Message::decode(message)?,
            copies: header.copies,
        };
        check_handed(&handed)?;
        Ok(HandOver {
            from: header.from,
            signer: header.signer,
            to: header.to,
            written_on: header.written_on,
            handed,
            encoded_message: Zeroizing::new(message.to_vec()),
            signature: header.signature,
        })
    }

    /// Seals the hand-over to the new member's key alone (padded like every sealed object).
    pub fn seal(&self) -> Result<SealedObject, Error> {
        seal(std::slice::from_ref(&self.to), &self.encode()?)
    }

    /// Opens and decodes a sealed hand-over.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<HandOver, Error> {
        HandOver::decode(&open_content(identities, sealed, MAXIMUM_HAND_OVER_LENGTH)?)
    }
}

fn refused_encoding(error: &serde_json::Error) -> Error {
    Error::MalformedMessage(format!(
        "a hand-over cannot be encoded: {}",
        describe_json_error(error)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Content, ReceiptCode, ThreadCheck};

    struct Scene {
        colleague: IdentityKey,
        newcomer: IdentityKey,
        stranger: IdentityKey,
        office: RecipientAddress,
        adviser: RecipientAddress,
        report: Message,
    }

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn scene() -> Scene {
        let office = RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        };
        let code = ReceiptCode::generate();
        let report = Message::report(
            &code,
            vec![office.clone()],
            Content::text(day("2026-11-20"), "Er wordt gefraudeerd."),
        );
        Scene {
            colleague: IdentityKey::generate(),
            newcomer: IdentityKey::generate(),
            stranger: IdentityKey::generate(),
            adviser: RecipientAddress {
                organisation: "demo".into(),
                recipient: "external-confidential-adviser".into(),
            },
            office,
            report,
        }
    }

    fn signers(scene: &Scene) -> Vec<(RecipientAddress, OfficeKey)> {
        vec![
            (
                scene.office.clone(),
                scene.colleague.office_signing_key().office_key(),
            ),
            (
                scene.office.clone(),
                scene.newcomer.office_signing_key().office_key(),
            ),
            (
                scene.adviser.clone(),
                scene.stranger.office_signing_key().office_key(),
            ),
        ]
    }

    fn handed(scene: &Scene) -> HandedMessage {
        HandedMessage {
            number: 4,
            position: 1,
            author: Author::Reporter,
            stored_on: day("2026-11-20"),
            sealed_sha256: [3; 32],
            message: scene.report.clone(),
            copies: Vec::new(),
        }
    }

    fn hand_over_by(scene: &Scene, by: &IdentityKey, from: &RecipientAddress) -> HandOver {
        by.office_signing_key()
            .hand_over(
                from.clone(),
                scene.newcomer.recipient(),
                day("2026-12-02"),
                handed(scene),
            )
            .unwrap()
    }

    #[test]
    fn a_colleague_hands_a_report_to_the_new_member_who_alone_can_open_and_verify_it() {
        let scene = scene();
        let sealed = hand_over_by(&scene, &scene.colleague, &scene.office)
            .seal()
            .unwrap();
        assert!(matches!(
            HandOver::open(std::slice::from_ref(&scene.colleague), sealed.as_bytes()),
            Err(Error::NotForThisIdentity)
        ));
        let opened =
            HandOver::open(std::slice::from_ref(&scene.newcomer), sealed.as_bytes()).unwrap();
        let handed = opened
            .verify(
                &scene.office,
                &[scene.newcomer.recipient()],
                &signers(&scene),
            )
            .unwrap();
        assert_eq!(handed.message, scene.report);
        assert_eq!((handed.number, handed.position), (4, 1));
        let mut check = ThreadCheck::new(scene.report.mailbox, signers(&scene));
        check.admit(&handed.message, handed.author).unwrap();
    }

    #[test]
    fn a_member_of_another_recipient_or_of_none_cannot_hand_over_into_the_office() {
        let scene = scene();
        // The adviser claims to be the office: their key is not listed for it.
        let claimed = hand_over_by(&scene, &scene.stranger, &scene.office);
        assert!(matches!(
            claimed.verify(&scene.office, &[scene.newcomer.recipient()], &signers(&scene)),
            Err(Error::HandOverRefused(reason)) if reason.contains("not a member")
        ));
        // The adviser says who they are: another recipient.
        let honest = hand_over_by(&scene, &scene.stranger, &scene.adviser);
        assert!(matches!(
            honest.verify(&scene.office, &[scene.newcomer.recipient()], &signers(&scene)),
            Err(Error::HandOverRefused(reason)) if reason.contains("another recipient")
        ));
        // Someone outside the directory altogether.
        let outsider = hand_over_by(&scene, &IdentityKey::generate(), &scene.office);
        assert!(outsider
            .verify(
                &scene.office,
                &[scene.newcomer.recipient()],
                &signers(&scene)
            )
            .is_err());
    }

    #[test]
    fn every_field_of_a_hand_over_is_covered_by_its_signature() {
        let scene = scene();
        let genuine = hand_over_by(&scene, &scene.colleague, &scene.office)
            .encode()
            .unwrap();
        let text = String::from_utf8(genuine.to_vec()).unwrap();
        let tamperings = [
            text.replacen(&"03".repeat(32), &"04".repeat(32), 1),
            text.replacen("\"number\":4", "\"number\":5", 1),
            text.replacen("\"position\":1", "\"position\":2", 1),
            text.replacen(
                "\"stored_on\":\"2026-11-20\"",
                "\"stored_on\":\"2026-11-21\"",
                1,
            ),
            text.replacen(
                "\"written_on\":\"2026-12-02\"",
                "\"written_on\":\"2026-12-01\"",
                1,
            ),
            text.replacen("gefraudeerd", "gefantaseerd", 1),
        ];
        for tampered in tamperings {
            assert_ne!(tampered, text);
            let decoded = HandOver::decode(tampered.as_bytes()).unwrap();
            assert!(
                matches!(
                    decoded.verify(&scene.office, &[scene.newcomer.recipient()], &signers(&scene)),
                    Err(Error::HandOverRefused(reason)) if reason.contains("signature")
                ),
                "{tampered}"
            );
        }
        // Addressed to someone else: refused before the signature is looked at.
        let for_stranger = scene
            .colleague
            .office_signing_key()
            .hand_over(
                scene.office.clone(),
                scene.stranger.recipient(),
                day("2026-12-02"),
                handed(&scene),
            )
            .unwrap();
        assert!(for_stranger
            .verify(
                &scene.office,
                &[scene.newcomer.recipient()],
                &signers(&scene)
            )
            .is_err());
    }

    #[test]
    fn attachment_copies_must_be_the_messages_own_and_are_covered_by_the_signature() {
        let scene = scene();
        let original = crate::AttachmentId::generate().to_wire();
        let copy = crate::AttachmentId::generate().to_wire();
        let mut message = scene.report.clone();
        message.attachments.push(crate::AttachmentReference {
            name: "bewijs.pdf".into(),
            size: 10,
            sha256: [7; 32],
            location: original.clone(),
        });
        let with = |copies: Vec<AttachmentCopy>| HandedMessage {
            copies,
            message: message.clone(),
            ..handed(&scene)
        };
        let sign = |handed: HandedMessage| {
            scene.colleague.office_signing_key().hand_over(
                scene.office.clone(),
                scene.newcomer.recipient(),
                day("2026-12-02"),
                handed,
            )
        };
        let genuine = sign(with(vec![AttachmentCopy {
            location: original.clone(),
            copy: copy.clone(),
        }]))
        .unwrap();
        let opened = HandOver::decode(&genuine.encode().unwrap()).unwrap();
        let verified = opened
            .verify(
                &scene.office,
                &[scene.newcomer.recipient()],
                &signers(&scene),
            )
            .unwrap();
        assert_eq!(verified.copies[0].copy, copy);
        // A relay (or anyone) pointing the copy elsewhere breaks the signature.
        let text = String::from_utf8(genuine.encode().unwrap().to_vec()).unwrap();
        let elsewhere = crate::AttachmentId::generate().to_wire();
        let swapped = HandOver::decode(text.replacen(&copy, &elsewhere, 1).as_bytes()).unwrap();
        assert!(swapped
            .verify(
                &scene.office,
                &[scene.newcomer.recipient()],
                &signers(&scene)
            )
            .is_err());
        // Copies of attachments the message does not have, twice, or to no attachment id.
        for copies in [
            vec![AttachmentCopy {
                location: crate::AttachmentId::generate().to_wire(),
                copy: copy.clone(),
            }],
            vec![
                AttachmentCopy {
                    location: original.clone(),
                    copy: copy.clone(),
                },
                AttachmentCopy {
                    location: original.clone(),
                    copy: elsewhere.clone(),
                },
            ],
            vec![AttachmentCopy {
                location: original.clone(),
                copy: "../../etc/passwd".into(),
            }],
        ] {
            assert!(matches!(sign(with(copies)), Err(Error::HandOverRefused(_))));
        }
    }

    #[test]
    fn malformed_hand_overs_are_refused_with_a_reason_and_never_show_the_body() {
        let scene = scene();
        let genuine = hand_over_by(&scene, &scene.colleague, &scene.office)
            .encode()
            .unwrap();
        let text = String::from_utf8(genuine.to_vec()).unwrap();
        let (header, message) = text.split_once('\n').unwrap();
        let cases = [
            message.to_owned(),
            format!("{header}\n{{}}"),
            format!(
                "{}\n{message}",
                header.replacen("\"meldpunt-hand-over\":1", "\"meldpunt-hand-over\":9", 1)
            ),
            format!(
                "{}\n{message}",
                header.replacen("\"author\":\"reporter\"", "\"author\":\"office\"", 1)
            ),
            format!(
                "{}\n{message}",
                header.replacen("\"number\":4", "\"number\":0", 1)
            ),
            format!("{}\n{message}", header.replacen('}', ",\"extra\":1}", 1)),
        ];
        for case in cases {
            let error = HandOver::decode(case.as_bytes()).unwrap_err();
            assert!(!error.to_string().contains("gefraudeerd"), "{error}");
        }
        let long = vec![b' '; MAXIMUM_HAND_OVER_LENGTH as usize + 1];
        assert!(matches!(
            HandOver::decode(&long),
            Err(Error::TooLarge { .. })
        ));
        let debug = format!("{:?}", HandOver::decode(text.as_bytes()).unwrap());
        assert!(!debug.contains("gefraudeerd"), "{debug}");
    }
}
