//! Meldpunt's cryptographic core. Every cryptographic decision of Meldpunt is made here, so
//! the relay, the CLI and the web form never make one of their own.
//!
//! - [`ReceiptCode`]: the reporter's one secret, and what is derived from it: the
//!   [`MailboxToken`] shown to the relay, the [`MailboxId`] the relay stores, and the
//!   reporter's reply [`IdentityKey`].
//! - [`seal_stream`] / [`open_stream`] and [`Message::seal`] / [`Message::open`]: standard age
//!   files with padding inside the encryption.
//! - [`Message`]: the versioned plaintext format of reports, follow-ups, replies and
//!   acknowledgements.
//! - [`SignedDirectory`]: the Ed25519-signed list of organisations, recipients and their keys.
//! - [`FollowUpSigningKey`] and [`OfficeSigningKey`]: every author of a thread signs, and a
//!   [`ThreadCheck`] verifies each message against its author.
//! - [`StampKey`] and [`Challenge`]: proof-of-work stamps, the relay's anti-abuse.
//! - [`OfficeChallenge`]: how an office proves to the relay that it holds its identity.
//! - [`Message::report`], [`Thread`]: the builders every client writes messages with.
//! - [`HandOver`]: a case's message handed from one member of a recipient to a colleague who
//!   joined later, signed and sealed to the colleague alone.
//! - [`StoreKey`]: encryption at rest of a client's local state (the office's case store).
//!
//! ```
//! use meldpunt_crypto::{Content, Day, IdentityKey, Message, ReceiptCode, RecipientAddress};
//!
//! // The office has an age identity; its public key is in the signed directory.
//! let office = IdentityKey::generate();
//!
//! // A reporter gets a new receipt code and derives everything from it: the token shown to
//! // the relay, the mailbox id it stores, the reply and follow-up keys the report carries.
//! let code = ReceiptCode::generate();
//! let report = Message::report(
//!     &code,
//!     vec![RecipientAddress {
//!         organisation: "demo".into(),
//!         recipient: "integrity-office".into(),
//!     }],
//!     Content::text(
//!         "2026-11-28".parse::<Day>()?,
//!         "Er wordt gefraudeerd met subsidies.",
//!     ),
//! );
//! let token = code.mailbox_token(); // shown to the relay
//! assert_eq!(report.mailbox, token.mailbox_id()); // all the relay stores
//! let sealed = report.seal(&[office.recipient()])?;
//!
//! // The office opens it on its own workstation.
//! let opened = Message::open(&[office], sealed.as_bytes())?;
//! assert_eq!(opened, report);
//!
//! // Later the reporter types the code back in; a typo is caught.
//! let written = code.to_written_form();
//! let typed_back = ReceiptCode::parse(&written.to_lowercase())?;
//! assert!(typed_back.mailbox_token().matches(&token));
//! # Ok::<(), meldpunt_crypto::Error>(())
//! ```
//!
//! What this crate protects against, and what it does not, is in `docs/threat-model.md`;
//! every byte format is in `docs/protocol.md`.
//!
//! This crate performs no I/O of its own (no files, no network, no clock, no logging); the
//! only outside resource it touches is the operating system's random number generator.

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod case_record;
mod compose;
mod day;
mod directory;
mod error;
mod hand_over;
mod hybrid;
mod keys;
mod message;
mod office;
mod padding;
mod questionnaire;
mod receipt;
mod seal;
mod signing;
mod stamp;
mod store_key;

pub use case_record::{
    BoardEntry, CaseBoard, CaseChange, CaseRecord, CaseStatus, SignedCaseRecord, Standing,
    CASE_RECORD_FORMAT_VERSION, CASE_RECORD_SIGNATURE_CONTEXT, CLOCK_SLACK,
    MAXIMUM_CASE_RECORD_LENGTH, MAXIMUM_LABEL_LENGTH, MAXIMUM_NOTE_LENGTH,
};
pub use compose::{Content, Thread};
pub use day::Day;
pub use directory::{
    verify_continuation, Directory, DirectoryHash, DirectoryKey, DirectoryRecipient,
    DirectorySigningKey, ExternalChannel, LocalisedName, Organisation, Role, SignedDirectory,
    DIRECTORY_FORMAT_VERSION, DIRECTORY_HASH_LABEL, DIRECTORY_SIGNATURE_CONTEXT,
    MAXIMUM_DIRECTORY_LENGTH,
};
pub use error::{Error, Result};
pub use hand_over::{
    AttachmentCopy, HandOver, HandedMessage, HAND_OVER_FORMAT_VERSION, HAND_OVER_SIGNATURE_CONTEXT,
    MAXIMUM_HAND_OVER_LENGTH,
};
pub use keys::{
    AttachmentId, IdentityKey, MailboxId, MailboxToken, RecipientKey, HYBRID_REPLY_KEY_LABEL,
    MAILBOX_ID_LABEL, MAILBOX_TOKEN_LABEL, RECEIPT_SALT, REPLY_KEY_LABEL,
};
pub use message::{
    Admitted, AttachmentReference, Authenticity, Author, CarriedConsultation, Channel,
    CheckedConsultation, Conversation, Message, MessageKind, OpeningDigest, ProcessGuideChange,
    Purpose, RecipientAddress, Recording, SharedIdentity, ThreadCheck, MAXIMUM_ATTACHMENTS,
    MAXIMUM_ATTACHMENT_NAME_LENGTH, MAXIMUM_BODY_LENGTH, MAXIMUM_CARRIED_MESSAGES,
    MAXIMUM_IDENTITY_LENGTH, MAXIMUM_MESSAGE_LENGTH, MESSAGE_FORMAT_VERSION,
    OPENING_DIGEST_CONTEXT,
};
pub use office::{
    office_stamp_subject, ChallengeAnswer, OfficeChallenge, SessionToken, CHALLENGE_CONTENT_LABEL,
};
pub use padding::{padded_length, MAXIMUM_CONTENT_LENGTH, PADDING_FLOOR};
pub use questionnaire::{
    default_evaluation_questions, describe_answers, typed_from_fields, AnswerError, AnswerProblem,
    AnswerText, Answers, DescribedAnswer, Question, QuestionKind, QuestionOption,
    MAXIMUM_ANSWER_LENGTH, MAXIMUM_OPTIONS, MAXIMUM_QUESTIONS, MAXIMUM_TEXT_ANSWER_LENGTH,
};
pub use receipt::{ReceiptCode, RECEIPT_CODE_CHARACTERS, RECEIPT_CODE_ENTROPY_BYTES};
pub use seal::{
    all_post_quantum, check_age_header, open_stream, open_unpadded_stream, seal, seal_stream,
    SealedObject,
};
pub use signing::{
    carried_consultation_bytes, FollowUpKey, FollowUpSigningKey, MessageSignature, OfficeKey,
    OfficeSigningKey, ANSWERS_SIGNATURE_TAG, CARRIED_CONSULTATION_CONTEXT,
    FOLLOW_UP_SIGNATURE_CONTEXT, FOLLOW_UP_SIGNING_LABEL, OFFICE_SIGNATURE_CONTEXT,
    OFFICE_SIGNING_LABEL, OFFICE_SIGNING_SALT, OPENING_SIGNATURE_TAG, PURPOSE_SIGNATURE_TAG,
    RECORDING_DIGEST_TAG, RECORDING_SIGNATURE_CONTEXT,
};
pub use stamp::{Challenge, SpentStamp, Stamp, StampKey, MAXIMUM_DIFFICULTY};
pub use store_key::StoreKey;
