//! The one error type of `meldpunt-crypto`.
//!
//! Every variant says what went wrong in words a user can act on. No variant ever carries
//! secret material: not a receipt code, a token, a key or a plaintext. Failures to open a
//! sealed object are deliberately coarse ("cannot be opened", "damaged") so that they reveal
//! nothing an attacker could use.

use std::io;

/// Everything that can go wrong in the crypto core.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A receipt code had the wrong number of characters.
    #[error("a receipt code has {expected} characters (not counting dashes and spaces); this one has {found}")]
    ReceiptCodeLength {
        /// How many code characters were expected.
        expected: usize,
        /// How many were found.
        found: usize,
    },
    /// A receipt code contained a character that receipt codes never use.
    #[error(
        "character {position} of the receipt code ('{character}') is not used in receipt codes"
    )]
    ReceiptCodeCharacter {
        /// 1-based position among the code characters (dashes and spaces not counted).
        position: usize,
        /// The offending character. Safe to show: it is not part of any valid code.
        character: char,
    },
    /// A receipt code's checksum did not match: a character was mistyped or two were swapped.
    #[error("the receipt code contains a typo{}: a character is wrong or two are swapped; compare each group with what you wrote down", .suspect_group.map(|group| format!(", probably in group {group} of 8")).unwrap_or_default())]
    ReceiptCodeChecksum {
        /// The group (1–8) where a single wrong or swapped character would explain the
        /// mismatch, when exactly one group does.
        suspect_group: Option<usize>,
    },

    /// A mailbox token or mailbox id was not in its wire form.
    #[error("malformed {what}: expected {expected}")]
    MalformedValue {
        /// What was being parsed, e.g. "mailbox token".
        what: &'static str,
        /// What its form should be.
        expected: &'static str,
    },
    /// An age public key (recipient) could not be parsed.
    #[error("not an age X25519 public key (expected a string starting with \"age1\")")]
    MalformedRecipientKey,
    /// An age identity could not be parsed.
    #[error("not an age X25519 identity (expected a string starting with \"AGE-SECRET-KEY-1\")")]
    MalformedIdentity,

    /// Sealing needs at least one recipient.
    #[error("cannot seal to an empty list of recipients")]
    NoRecipients,
    /// Sealing or opening was given no identity.
    #[error("no identity was given to open the sealed object with")]
    NoIdentities,
    /// A sealed office challenge is not one: it lacks the challenge label or has another
    /// length. Answering it could reveal the content of something else sealed to the office.
    #[error("the relay's login challenge is not a Meldpunt challenge; it was not answered")]
    NotAChallenge,
    /// The content given to a streaming seal was shorter or longer than declared.
    #[error("the content was {found} bytes, not the {declared} bytes declared")]
    ContentLength {
        /// The length declared up front.
        declared: u64,
        /// The length actually read (at least this many bytes, if longer).
        found: u64,
    },
    /// Content larger than this kind of object may hold.
    #[error("too large: {what} may hold at most {limit} bytes")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// The bytes are not an age file at all.
    #[error("not a sealed object: the bytes are not in the age format")]
    NotSealed,
    /// None of the given identities is a recipient of the sealed object.
    #[error("this sealed object is not addressed to the given identity")]
    NotForThisIdentity,
    /// The sealed object was altered, truncated or corrupted.
    #[error("the sealed object is damaged or was altered and cannot be opened")]
    Damaged,
    /// The sealed object opened, but its padding does not follow the rules.
    #[error("the sealed object opened but its padding is invalid")]
    BadPadding,
    /// An opened attachment does not match the digest its message announced.
    #[error("the attachment does not match the digest in its message")]
    DigestMismatch,

    /// An opened message uses a format version this software does not know.
    #[error("unsupported message format version {0}; this software reads version 3")]
    UnsupportedMessageVersion(u64),
    /// A follow-up is not signed by the key in the thread's report.
    #[error(
        "a follow-up is not signed by the reporter's key: someone other than the reporter wrote it"
    )]
    ForgedFollowUp,
    /// An office message answers another opening than the thread's (or, in a carried
    /// consultation, names none).
    #[error("an office message is not bound to this conversation's first message: it answers another question or another reporter key, was moved here, or was written before answers were bound")]
    OpeningMismatch,
    /// A report carries a consultation its reporter did not sign over to it: someone who read
    /// the consultation (an adviser, say) tried to pass it on as a report.
    #[error("the consultation this report carries is not signed over to it by the consultation's reporter: it was not theirs to pass on, or it was altered")]
    ForgedCarriedConsultation,
    /// A reporter's own reader found a report that does not carry the keys their receipt
    /// code derives.
    #[error("the report in this mailbox was not written with your receipt code: it was replaced")]
    ForeignReport,
    /// A thread's first message is not a report.
    #[error("the conversation does not start with a report")]
    ThreadWithoutReport,
    /// An office message is not signed by a key the directory lists for its sender.
    #[error("an office message is not signed by a key the recipient directory lists for its sender: someone other than that recipient wrote it")]
    ForgedOfficeMessage,
    /// An office message comes from a recipient the reporter did not address.
    #[error("an office message comes from a recipient the reporter did not choose")]
    SenderNotAddressed,
    /// A message's kind does not fit the author the relay recorded for it.
    #[error("a {kind} was posted by the {recorded}, who does not write messages of that kind")]
    WrongAuthor {
        /// The message's kind.
        kind: &'static str,
        /// The author the relay recorded: `reporter` or `office`.
        recorded: &'static str,
    },
    /// A message names another mailbox than the one it was served from.
    #[error(
        "a message belongs to another mailbox than the one it was served from: the relay moved it"
    )]
    WrongMailbox,
    /// A message does not continue its author's numbering.
    #[error("the {author}'s messages are out of sequence (expected number {expected}, found {found}): the relay repeated or reordered messages")]
    OutOfSequence {
        /// `reporter` or `office`.
        author: &'static str,
        /// The number that should have come.
        expected: u32,
        /// The number that came.
        found: u32,
    },
    /// A hand-over from a colleague cannot be believed: it is for another member, from
    /// another recipient, or its signature does not check out.
    #[error("a hand-over was refused: {0}")]
    HandOverRefused(&'static str),
    /// An opened message is not well-formed.
    #[error("malformed message: {0}")]
    MalformedMessage(String),

    /// A signed directory is not well-formed.
    #[error("malformed recipient directory: {0}")]
    MalformedDirectory(String),
    /// A directory uses a format version this software does not know.
    #[error("unsupported directory format version {0}; this software reads version 2")]
    UnsupportedDirectoryVersion(u64),
    /// The directory was signed by a key other than the pinned one.
    #[error("the recipient directory is signed by a different key than the one you pinned; someone may be trying to make you encrypt your report to the wrong people, so nothing was sent")]
    DirectorySignedByOtherKey,
    /// The directory's signature does not verify.
    #[error("the recipient directory's signature is invalid: it was altered after signing, so nothing was sent")]
    DirectorySignature,
    /// The directory is older than one this client has already seen.
    #[error("the recipient directory is version {offered}, older than version {seen} seen before; a relay may be replaying an old directory with revoked keys, so nothing was sent")]
    DirectoryRollback {
        /// The highest version seen before.
        seen: u64,
        /// The version offered now.
        offered: u64,
    },
    /// The directory does not continue the one this client saw before: a fork (two
    /// different directories under one version), a gap, or a link that does not match.
    #[error("the recipient directory's history does not continue the version seen before: {0}; a relay may be showing you a different directory than others see, so nothing was sent")]
    DirectoryChain(String),
    /// The directory's expiry day has passed.
    #[error("the recipient directory expired on {expired_on}; a relay may be serving a stale directory, so nothing was sent")]
    DirectoryExpired {
        /// The last day on which the directory was valid.
        expired_on: String,
    },
    /// A report or reply names a recipient the directory does not list.
    #[error("the recipient directory lists no recipient \"{recipient}\" in organisation \"{organisation}\"")]
    UnknownRecipient {
        /// The organisation id asked for.
        organisation: String,
        /// The recipient id asked for.
        recipient: String,
    },
    /// A directory signing key could not be parsed.
    #[error("not a Meldpunt directory key")]
    MalformedDirectoryKey,

    /// A proof-of-work stamp was not issued by this relay, or was altered.
    #[error("the proof-of-work stamp was not issued by this relay or was altered; ask for a new challenge")]
    StampInvalid,
    /// A proof-of-work stamp's challenge has expired.
    #[error("the proof-of-work challenge has expired; ask for a new one")]
    StampExpired,
    /// A proof-of-work stamp does not carry the work its challenge asked for.
    #[error("the proof-of-work stamp does not have the {required} leading zero bits its challenge asks for")]
    StampInsufficientWork {
        /// Difficulty of the challenge.
        required: u8,
    },

    /// A proof-of-work stamp was solved for a challenge easier than the relay now accepts.
    #[error("the proof-of-work stamp was solved at difficulty {issued}, but the relay now asks for at least {required}; solve a new challenge")]
    StampOutdated {
        /// Difficulty of the stamp's challenge.
        issued: u8,
        /// The least the relay accepts now.
        required: u8,
    },

    /// A day was not a valid `YYYY-MM-DD` calendar date.
    #[error("not a valid day (expected YYYY-MM-DD): {0}")]
    MalformedDay(String),

    /// Reading content or writing a sealed object failed in the caller's reader or writer.
    #[error("input/output failed: {0}")]
    Io(io::ErrorKind),
}

impl From<io::Error> for Error {
    fn from(error: io::Error) -> Self {
        Error::Io(error.kind())
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
