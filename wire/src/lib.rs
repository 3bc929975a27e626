//! The relay's HTTP wire format (`/api/v1`): the body of every request and answer as a
//! type, and the paths as constants, shared by the relay (which serialises them) and every
//! client — the CLI, the end-to-end tests and the benchmark (which deserialise them). A
//! field the relay sends malformed (a day that is no calendar day, an author that is neither
//! `reporter` nor `office`, a mailbox id that is no id) fails to parse: no client replaces
//! it with a guess.
//!
//! Requests are parsed strictly (`deny_unknown_fields`); answers are read leniently (a later
//! relay may add a field), but every field named here must be there and well-formed.
//!
//! This crate must never do I/O, and holds no secret: tokens travel in headers, which the
//! clients and the relay handle with the crypto crate's types.

#![forbid(unsafe_code)]

pub use meldpunt_crypto::{AttachmentId, Author, Day, MailboxId};
use serde::{Deserialize, Serialize};

/// The route paths (with `{name}` where a path parameter goes).
pub mod paths {
    /// `GET`: the signed recipient directory.
    pub const DIRECTORY: &str = "/api/v1/directory";
    /// `GET`: the signed directories of the versions after `?after=`, in order.
    pub const DIRECTORY_HISTORY: &str = "/api/v1/directory/history";
    /// `GET`: a proof-of-work challenge.
    pub const CHALLENGE: &str = "/api/v1/challenge";
    /// `POST`: create a mailbox with its report.
    pub const MAILBOXES: &str = "/api/v1/mailboxes";
    /// `GET`: list a mailbox's messages; `POST`: a follow-up.
    pub const MAILBOX_MESSAGES: &str = "/api/v1/mailbox/messages";
    /// `GET`: one sealed message of a mailbox.
    pub const MAILBOX_MESSAGE: &str = "/api/v1/mailbox/messages/{position}";
    /// `POST`: address the reporter's mailbox to more recipients.
    pub const MAILBOX_RECIPIENTS: &str = "/api/v1/mailbox/recipients";
    /// `PUT`/`GET`: a sealed attachment of the reporter's mailbox.
    pub const MAILBOX_ATTACHMENT: &str = "/api/v1/mailbox/attachments/{id}";
    /// `POST`: an office challenge.
    pub const OFFICE_CHALLENGE: &str = "/api/v1/office/challenge";
    /// `POST`: trade a challenge answer for a session.
    pub const OFFICE_SESSION: &str = "/api/v1/office/session";
    /// `GET`: list the organisation's messages.
    pub const OFFICE_MESSAGES: &str = "/api/v1/office/messages";
    /// `GET`: one sealed message of the organisation.
    pub const OFFICE_MESSAGE: &str = "/api/v1/office/messages/{number}";
    /// `POST`: mark a message fetched.
    pub const OFFICE_MESSAGE_FETCHED: &str = "/api/v1/office/messages/{number}/fetched";
    /// `POST`: a reply or acknowledgement into a mailbox of the organisation.
    pub const OFFICE_MAILBOX_MESSAGES: &str = "/api/v1/office/mailboxes/{mailbox}/messages";
    /// `PUT`: an office's sealed attachment into a mailbox of the organisation.
    pub const OFFICE_MAILBOX_ATTACHMENT: &str =
        "/api/v1/office/mailboxes/{mailbox}/attachments/{id}";
    /// `GET`: a sealed attachment of the organisation.
    pub const OFFICE_ATTACHMENT: &str = "/api/v1/office/attachments/{id}";
    /// `POST`: hand a message of a mailbox over to a colleague of the session's recipient.
    pub const OFFICE_MAILBOX_HAND_OVERS: &str = "/api/v1/office/mailboxes/{mailbox}/hand-overs";
    /// `POST`: appoint process guides to a case (address its mailbox to them).
    pub const OFFICE_MAILBOX_PROCESS_GUIDES: &str =
        "/api/v1/office/mailboxes/{mailbox}/process-guides";
    /// `GET`: list the hand-overs to the session's recipient.
    pub const OFFICE_HAND_OVERS: &str = "/api/v1/office/hand-overs";
    /// `GET`: one sealed hand-over.
    pub const OFFICE_HAND_OVER: &str = "/api/v1/office/hand-overs/{number}";
    /// `POST`: store a case record (the office's shared state of a case).
    pub const OFFICE_MAILBOX_CASE_RECORDS: &str = "/api/v1/office/mailboxes/{mailbox}/records";
    /// `GET`: the case records of the session's recipient after a cursor.
    pub const OFFICE_CASE_RECORDS: &str = "/api/v1/office/records";
    /// `GET`: one sealed case record.
    pub const OFFICE_CASE_RECORD: &str = "/api/v1/office/records/{number}";
    /// `GET`: liveness.
    pub const HEALTH: &str = "/api/v1/health";
    /// `GET`: readiness (the store answers).
    pub const READY: &str = "/api/v1/ready";
    /// `GET`: the OpenAPI document.
    pub const OPENAPI: &str = "/api/v1/openapi.json";
}

/// `GET /api/v1/challenge`: a proof-of-work challenge, if the relay asks for stamps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChallengeOffer {
    /// Whether creating a mailbox needs a stamp.
    pub required: bool,
    /// The challenge, when required (wire form, see protocol.md section 7).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub challenge: Option<String>,
    /// Its difficulty, when required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub difficulty: Option<u8>,
    /// Its expiry (Unix seconds), when required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
}

/// A message stored: its position in its mailbox (`POST /mailboxes`, a follow-up).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stored {
    /// Position in the mailbox (1 = the report).
    pub position: u32,
}

/// An office's message stored: its position and the organisation's number for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficeStored {
    /// Position in the mailbox.
    pub position: u32,
    /// The organisation's own number for it.
    pub number: u64,
}

/// A sealed attachment stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentStored {
    /// Its id.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::attachment_id))]
    pub id: AttachmentId,
    /// Its sealed size, bytes.
    pub size: u64,
}

/// A message as a reporter sees it listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageSummary {
    /// Position in the mailbox (1 = the report).
    pub position: u32,
    /// Who wrote it, as the relay recorded.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::author))]
    pub author: Author,
    /// Day stored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Day,
    /// Sealed size, bytes.
    pub size: u64,
}

/// `GET /api/v1/mailbox/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailboxMessages {
    /// The messages after the cursor, in order.
    pub messages: Vec<MessageSummary>,
}

/// A message as an office sees it listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficeEntry {
    /// The organisation's own number for it (the office's cursor).
    pub number: u64,
    /// Its mailbox.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::mailbox_id))]
    pub mailbox: MailboxId,
    /// Position in its mailbox.
    pub position: u32,
    /// Who wrote it, as the relay recorded.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::author))]
    pub author: Author,
    /// Day stored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Day,
    /// Sealed size, bytes.
    pub size: u64,
    /// Whether an office marked it fetched.
    pub fetched: bool,
}

/// `GET /api/v1/office/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficeMessages {
    /// The messages after the cursor, in number order.
    pub messages: Vec<OfficeEntry>,
}

/// A hand-over as an office session sees it listed: a message of a case that one member
/// of the session's recipient sealed to a colleague (the relay cannot tell to whom).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandOverEntry {
    /// The recipient's own number for it (the cursor), independent of its messages'.
    pub number: u64,
    /// The mailbox it is about.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::mailbox_id))]
    pub mailbox: MailboxId,
    /// Day stored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Day,
    /// Sealed size, bytes.
    pub size: u64,
}

/// `GET /api/v1/office/hand-overs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandOvers {
    /// The hand-overs after the cursor, in number order.
    pub hand_overs: Vec<HandOverEntry>,
}

/// A hand-over stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HandOverStored {
    /// The recipient's own number for it.
    pub number: u64,
}

/// A case record as an office session sees it listed: a change to a case's shared state
/// (status, assignee, labels, notes) that a member of one of the case's recipients sealed
/// to the members of all of them. Never listed to a reporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecordEntry {
    /// The recipient's own number for it (the cursor), independent of its messages'.
    pub number: u64,
    /// The mailbox (case) it is about.
    #[cfg_attr(feature = "openapi", schema(schema_with = openapi::mailbox_id))]
    pub mailbox: MailboxId,
    /// Day stored.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub day: Day,
    /// Sealed size, bytes.
    pub size: u64,
}

/// `GET /api/v1/office/records`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecords {
    /// The case records after the cursor, in number order.
    pub case_records: Vec<CaseRecordEntry>,
}

/// A case record stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CaseRecordStored {
    /// The session's recipient's own number for it.
    pub number: u64,
}

/// `POST /api/v1/office/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct OfficeChallengeRequest {
    /// The organisation's id in the directory.
    pub organisation: String,
    /// The recipient's id in that organisation.
    pub recipient: String,
}

/// The answer to [`OfficeChallengeRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OfficeChallenge {
    /// The sealed challenge, standard base64.
    pub sealed_challenge: String,
    /// Its expiry, Unix seconds.
    pub expires_at: u64,
}

/// `POST /api/v1/office/session`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionRequest {
    /// The challenge answer (a hash, base64url).
    pub answer: String,
}

/// The answer to [`SessionRequest`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    /// The session token (base64url): a secret, kept out of `Debug`.
    pub session_token: String,
    /// The organisation it is for.
    pub organisation: String,
    /// The recipient within the organisation it is for: it reaches only mailboxes
    /// addressed to this recipient (empty from a relay before walls between recipients).
    #[serde(default)]
    pub recipient: String,
    /// Its expiry, Unix seconds.
    pub expires_at: u64,
    /// Days after a mailbox's last activity at which this relay deletes it (its retention):
    /// an office is warned before a case it still works on is deleted here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("session_token", &"[redacted]")
            .field("organisation", &self.organisation)
            .field("recipient", &self.recipient)
            .field("expires_at", &self.expires_at)
            .field("retention_days", &self.retention_days)
            .finish()
    }
}

/// The header that names, when a mailbox is created, the recipients (ids within the
/// organisation, comma-separated) it is addressed to: only their office sessions reach it.
pub const RECIPIENTS_HEADER: &str = "meldpunt-recipients";

/// `POST /api/v1/mailbox/recipients`: address the reporter's mailbox to more recipients of
/// its organisation (a process guide who joins, say).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AddRecipients {
    /// Recipient ids within the mailbox's organisation (1 to 16).
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 16))]
    pub recipients: Vec<String>,
}

/// The answer to [`AddRecipients`]: every recipient the mailbox is now addressed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MailboxRecipients {
    /// Recipient ids within the mailbox's organisation.
    pub recipients: Vec<String>,
}

/// `GET /api/v1/health` and `/ready`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Status {
    /// `ok` or `ready`.
    pub status: String,
}

/// Every error answer: a stable machine-readable code and a sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// The code.
    pub error: ErrorCode,
    /// What went wrong and what to do, in English.
    pub message: String,
}

/// Declares [`ErrorCode`] with each code's wire spelling, once.
macro_rules! error_codes {
    ($($(#[doc = $doc:literal])* $variant:ident = $code:literal,)*) => {
        /// The stable, machine-readable code of an error answer. A code this client does not
        /// know (from a later relay) is kept as [`ErrorCode::Other`], never refused.
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum ErrorCode {
            $($(#[doc = $doc])* #[serde(rename = $code)] $variant,)*
            /// A code this version does not know.
            #[serde(untagged)]
            Other(String),
        }

        impl ErrorCode {
            /// Every code this version knows, in its wire spelling.
            pub const KNOWN: &'static [&'static str] = &[$($code),*];

            /// The wire spelling.
            pub fn as_str(&self) -> &str {
                match self {
                    $(ErrorCode::$variant => $code,)*
                    ErrorCode::Other(code) => code,
                }
            }
        }
    };
}

error_codes! {
    /// No mailbox answers to this token or id.
    MailboxNotFound = "mailbox-not-found",
    /// A mailbox with this token exists already.
    MailboxExists = "mailbox-exists",
    /// No message at this position or number.
    MessageNotFound = "message-not-found",
    /// No attachment with this id for this credential.
    AttachmentNotFound = "attachment-not-found",
    /// No such endpoint.
    EndpointNotFound = "endpoint-not-found",
    /// A request from a page on another site.
    CrossSite = "cross-site",
    /// An attachment with this id exists already.
    AttachmentExists = "attachment-exists",
    /// The mailbox holds as much as it may.
    MailboxFull = "mailbox-full",
    /// The organisation is not in the directory.
    UnknownOrganisation = "unknown-organisation",
    /// The recipient is not in the organisation.
    UnknownRecipient = "unknown-recipient",
    /// No credential was sent.
    MissingCredential = "missing-credential",
    /// The credential is malformed or unknown.
    MalformedCredential = "malformed-credential",
    /// The office session has expired.
    SessionExpired = "session-expired",
    /// The office challenge's answer is wrong, spent or expired.
    ChallengeFailed = "challenge-failed",
    /// A proof-of-work stamp is needed.
    StampMissing = "stamp-missing",
    /// The stamp was used before.
    StampSpent = "stamp-spent",
    /// The stamp's challenge has expired.
    StampExpired = "stamp-expired",
    /// The stamp was solved at a difficulty too far below the current one.
    StampOutdated = "stamp-outdated",
    /// The stamp does not carry the work its challenge asks for.
    StampInsufficientWork = "stamp-insufficient-work",
    /// The stamp is malformed.
    StampInvalid = "stamp-invalid",
    /// The body is not a sealed age file.
    NotSealed = "not-sealed",
    /// The body has the wrong content type.
    WrongContentType = "wrong-content-type",
    /// The body is too large.
    BodyTooLarge = "body-too-large",
    /// An upload ended before its end.
    TruncatedUpload = "truncated-upload",
    /// The request is malformed.
    BadRequest = "bad-request",
    /// Too many requests.
    RateLimited = "rate-limited",
    /// The endpoint does not take this method.
    MethodNotAllowed = "method-not-allowed",
    /// The request took longer than the relay allows.
    RequestTimeout = "request-timeout",
    /// The relay's storage is full.
    StorageFull = "storage-full",
    /// The relay is not ready.
    NotReady = "not-ready",
    /// A cryptographic operation failed on the relay.
    CryptoFailed = "crypto-failed",
    /// Something failed inside the relay.
    InternalError = "internal-error",
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// `GET /api/v1/directory`: the signed directory's envelope, served as the office signed it
/// (protocol.md section 3). Clients verify it with the crypto crate's `SignedDirectory`; this
/// type describes its shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignedDirectoryEnvelope {
    /// The envelope's format version (1).
    #[serde(rename = "meldpunt-signed-directory")]
    pub format: u64,
    /// The directory key it claims to be signed with (`mpdk1…`).
    pub signing_key: String,
    /// The directory's JSON, standard base64.
    pub payload: String,
    /// Ed25519 over `"meldpunt/v1/directory\n" || payload`, standard base64.
    pub signature: String,
}

/// `GET /api/v1/directory/history?after=N`: the signed directories this relay has served,
/// of the versions after `N` up to the one it serves now, oldest first (protocol.md section
/// 5, "History"). Each names the hash of the one before it; a client checks the links from
/// the version it pinned to the current one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DirectoryHistory {
    /// Each signed directory exactly as it was served (the JSON text of its envelope).
    pub directories: Vec<String>,
    /// Whether later versions follow: ask again with `after` = the last version here.
    pub more: bool,
}

/// The spelling rule of each typed id, as the OpenAPI document states it.
pub mod patterns {
    /// A mailbox id: 32 bytes as 43 characters of canonical unpadded base64url.
    pub const MAILBOX_ID: &str = "^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$";
    /// An attachment id: 16 bytes as 22 characters of canonical unpadded base64url.
    pub const ATTACHMENT_ID: &str = "^[A-Za-z0-9_-]{21}[AQgw]$";
    /// The `Meldpunt-Recipients` header: 1 to 16 recipient ids, comma-separated.
    pub const RECIPIENTS: &str = "^[a-z0-9][a-z0-9-]{0,63}(,[a-z0-9][a-z0-9-]{0,63}){0,15}$";
}

/// Schemas of the crypto crate's types as they travel (the relay's OpenAPI document).
#[cfg(feature = "openapi")]
pub mod openapi {
    use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
    use utoipa::openapi::{RefOr, Schema};

    fn text(description: &str) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .description(Some(description))
    }

    /// Who wrote a message: `reporter` or `office`.
    pub fn author() -> ObjectBuilder {
        text("Who wrote the message, as the relay recorded it.")
            .enum_values(Some(["reporter", "office"]))
    }

    /// A mailbox id.
    pub fn mailbox_id() -> ObjectBuilder {
        text("A mailbox id: 32 bytes as 43 characters of canonical unpadded base64url.")
            .pattern(Some(super::patterns::MAILBOX_ID))
    }

    /// An attachment id.
    pub fn attachment_id() -> ObjectBuilder {
        text("An attachment id: 16 bytes as 22 characters of canonical unpadded base64url.")
            .pattern(Some(super::patterns::ATTACHMENT_ID))
    }

    /// Declares a type that only stands for a schema in the document, named `$name` there.
    macro_rules! schema_type {
        ($(#[doc = $doc:literal])* $type:ident, $name:literal, $schema:expr) => {
            $(#[doc = $doc])*
            #[derive(Debug)]
            pub struct $type;

            impl utoipa::PartialSchema for $type {
                fn schema() -> RefOr<Schema> {
                    $schema.into()
                }
            }

            impl utoipa::ToSchema for $type {
                fn name() -> std::borrow::Cow<'static, str> {
                    $name.into()
                }
            }
        };
    }

    fn whole_number(minimum: u64) -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .minimum(Some(minimum))
            .maximum(Some(u64::MAX))
    }

    schema_type!(
        /// A sealed object (an age file) as raw bytes.
        Sealed,
        "Sealed",
        text("A sealed object: an age file, raw bytes (protocol.md section 4).")
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
    );
    schema_type!(
        /// An organisation's message number in a path (1, 2, …, up to 2^64 - 1): no `int64`
        /// format, which would stop at 2^63 - 1.
        MessageNumberSchema,
        "MessageNumber",
        whole_number(1)
    );
    schema_type!(
        /// The office listing's cursor: a message number, or 0 for the start.
        OfficeCursorSchema,
        "OfficeCursor",
        whole_number(0)
    );
    schema_type!(
        /// A directory version, or 0 for before the first.
        DirectoryVersionSchema,
        "DirectoryVersion",
        whole_number(0)
    );
    schema_type!(
        /// What a proof-of-work challenge is for: `office` (a login), or absent (a mailbox).
        ChallengePurposeSchema,
        "ChallengePurpose",
        text("office: a challenge for an office login beyond the free ones.")
            .enum_values(Some(["office"]))
    );
    schema_type!(
        /// A mailbox id in a path.
        MailboxIdSchema,
        "MailboxId",
        mailbox_id()
    );
    schema_type!(
        /// An attachment id in a path.
        AttachmentIdSchema,
        "AttachmentId",
        attachment_id()
    );

    impl utoipa::PartialSchema for super::ErrorCode {
        fn schema() -> RefOr<Schema> {
            text("The stable, machine-readable code of the error.")
                .enum_values(Some(super::ErrorCode::KNOWN.iter().copied()))
                .into()
        }
    }

    impl utoipa::ToSchema for super::ErrorCode {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_parse_and_malformed_fields_are_refused() {
        let listed: MailboxMessages = serde_json::from_str(
            r#"{"messages":[{"position":1,"author":"reporter","day":"2026-11-30","size":4400,"later":1}]}"#,
        )
        .unwrap();
        assert_eq!(listed.messages[0].author, Author::Reporter);
        for malformed in [
            r#"{"messages":[{"position":1,"author":"someone","day":"2026-11-30","size":1}]}"#,
            r#"{"messages":[{"position":1,"author":"office","day":"2026-02-30","size":1}]}"#,
            r#"{"messages":[{"position":1,"author":"office","day":"2026-11-30"}]}"#,
        ] {
            assert!(
                serde_json::from_str::<MailboxMessages>(malformed).is_err(),
                "{malformed}"
            );
        }
        let office: OfficeMessages = serde_json::from_str(
            r#"{"messages":[{"number":7,"mailbox":"ujvaQHCVtWbD7l-_ytuUtm4ZQPzHqQmspPQIF6cLu2Y","position":2,"author":"office","day":"2026-11-30","size":1,"fetched":false}]}"#,
        )
        .unwrap();
        assert_eq!(office.messages[0].number, 7);
        assert!(serde_json::from_str::<OfficeMessages>(
            r#"{"messages":[{"number":7,"mailbox":"short","position":2,"author":"office","day":"2026-11-30","size":1,"fetched":false}]}"#
        )
        .is_err());
        let stored: AttachmentStored =
            serde_json::from_str(r#"{"id":"AAECAwQFBgcICQoLDA0ODw","size":9}"#).unwrap();
        assert_eq!(stored.id.to_wire(), "AAECAwQFBgcICQoLDA0ODw");
        assert!(serde_json::from_str::<AttachmentStored>(r#"{"id":"att_01","size":9}"#).is_err());
    }

    #[test]
    fn error_codes_read_both_ways_and_unknown_ones_are_kept() {
        for code in ErrorCode::KNOWN {
            let parsed: ErrorCode = serde_json::from_value(serde_json::json!(code)).unwrap();
            assert!(!matches!(parsed, ErrorCode::Other(_)), "{code}");
            assert_eq!(parsed.as_str(), *code);
            assert_eq!(
                serde_json::to_value(&parsed).unwrap(),
                serde_json::json!(code)
            );
        }
        let body: ErrorBody =
            serde_json::from_str(r#"{"error":"stamp-outdated","message":"solve again"}"#).unwrap();
        assert_eq!(body.error, ErrorCode::StampOutdated);
        let later: ErrorBody =
            serde_json::from_str(r#"{"error":"a-later-code","message":"x"}"#).unwrap();
        assert_eq!(later.error, ErrorCode::Other("a-later-code".into()));
    }

    #[test]
    fn requests_refuse_unknown_fields_and_sessions_hide_their_token() {
        assert!(serde_json::from_str::<SessionRequest>(r#"{"answer":"a","extra":1}"#).is_err());
        let session = Session {
            session_token: "secret-token".into(),
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
            expires_at: 1,
            retention_days: Some(365),
        };
        assert!(!format!("{session:?}").contains("secret-token"));
    }
}
