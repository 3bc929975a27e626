//! The CLI's one error type, its exit codes, and its messages for people.
//!
//! Exit codes (documented in `docs/cli.md`): 0 success; 1 a local failure (a file, the
//! store); 2 a usage error or bad input (including a mistyped receipt code); 3 the relay
//! could not be reached; 4 the relay refused the request; 5 a verification failure (a
//! directory that does not verify, a tampered or foreign sealed object).
//!
//! No message may contain a receipt code, a token, a key or message content.

use std::process::ExitCode;

/// What went wrong.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad input or usage.
    #[error("{0}")]
    Usage(String),
    /// A local file or store failed.
    #[error("{0}")]
    Local(String),
    /// The relay could not be reached.
    #[error("cannot reach the relay at {relay}: {detail}")]
    Unreachable {
        /// The relay URL.
        relay: String,
        /// What failed (connection refused, timeout…).
        detail: String,
    },
    /// The relay answered with an error.
    #[error("the relay refused: {message} ({code})")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The relay's error code.
        code: String,
        /// The relay's message.
        message: String,
    },
    /// Something did not verify.
    #[error("{0}")]
    Verification(String),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(match self {
            CliError::Local(_) => 1,
            CliError::Usage(_) => 2,
            CliError::Unreachable { .. } => 3,
            CliError::Refused { .. } => 4,
            CliError::Verification(_) => 5,
        })
    }

    /// A local I/O failure about `path`.
    pub fn file(path: &std::path::Path, error: impl std::fmt::Display) -> CliError {
        CliError::Local(format!("{}: {error}", path.display()))
    }

    /// The relay's code, if it refused.
    pub fn relay_code(&self) -> Option<&str> {
        match self {
            CliError::Refused { code, .. } => Some(code),
            _ => None,
        }
    }
}

impl From<meldpunt_crypto::Error> for CliError {
    fn from(error: meldpunt_crypto::Error) -> Self {
        use meldpunt_crypto::Error as Crypto;
        match error {
            Crypto::ReceiptCodeChecksum { suspect_group } => CliError::Usage(format!(
                "that receipt code contains a typo{}: a character is wrong or two are swapped. \
                 Compare each group of four with what you wrote down (0 and O, 8 and B, L and 1 are read alike).",
                suspect_group.map(|group| format!(", probably in group {group} of 8")).unwrap_or_default()
            )),
            Crypto::ReceiptCodeLength { .. } | Crypto::ReceiptCodeCharacter { .. } => {
                CliError::Usage(format!("that is not a receipt code: {error}"))
            }
            Crypto::NotForThisIdentity
            | Crypto::Damaged
            | Crypto::BadPadding
            | Crypto::DigestMismatch
            | Crypto::NotSealed
            | Crypto::DirectorySignedByOtherKey
            | Crypto::DirectorySignature
            | Crypto::DirectoryRollback { .. }
            | Crypto::DirectoryChain(_)
            | Crypto::DirectoryExpired { .. }
            | Crypto::UnsupportedDirectoryVersion(_)
            | Crypto::MalformedDirectory(_)
            | Crypto::UnsupportedMessageVersion(_)
            | Crypto::NotAChallenge
            | Crypto::ForgedFollowUp
            | Crypto::ForgedOfficeMessage
            | Crypto::SenderNotAddressed
            | Crypto::WrongAuthor { .. }
            | Crypto::WrongMailbox
            | Crypto::ThreadWithoutReport
            | Crypto::ForeignReport
            | Crypto::OutOfSequence { .. }
            | Crypto::MalformedMessage(_) => CliError::Verification(error.to_string()),
            Crypto::Io(_) => CliError::Local(error.to_string()),
            other => CliError::Usage(other.to_string()),
        }
    }
}

/// Shorthand.
pub type Result<T, E = CliError> = std::result::Result<T, E>;
