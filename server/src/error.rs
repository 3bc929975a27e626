//! The one error type of the relay, and its single mapping to HTTP responses.
//!
//! Every error becomes a status code and a JSON body `{"error": code, "message": text}`.
//! Internal detail (a storage failure's cause) is logged, never returned. No variant may
//! carry a token, a mailbox id, an address or any content.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use meldpunt_wire::ErrorCode;

/// Everything that can go wrong in the relay.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No mailbox answers to this token (unknown and wrong tokens look the same).
    #[error("no mailbox answers to this token")]
    MailboxNotFound,
    /// A mailbox with this token exists already.
    #[error("a mailbox with this token exists already; generate a new receipt code")]
    MailboxExists,
    /// The message does not exist (or is not yours).
    #[error("no such message")]
    MessageNotFound,
    /// A browser says another site sent this request.
    #[error("this request was sent by another site; open the Meldpunt page itself and send it from there")]
    CrossSite,
    /// The endpoint exists, but not with this method (the `Allow` header lists those it has).
    #[error("this endpoint does not take this method; the Allow header lists the ones it takes")]
    MethodNotAllowed,
    /// The request took longer than the relay allows (a slow upload, a stalled client).
    #[error("the request took too long and was stopped; nothing of it was kept")]
    RequestTimeout,
    /// No endpoint answers at this path.
    #[error("no such endpoint; the API is under /api/v1/ (see /api/v1/openapi.json), and clients take the relay's base address")]
    EndpointNotFound,
    /// The attachment does not exist, is not complete, or is not yours.
    #[error("no such attachment")]
    AttachmentNotFound,
    /// An attachment with this id exists already.
    #[error("an attachment with this id exists already; choose a new random id")]
    AttachmentExists,
    /// The mailbox holds as many messages or attachments as allowed.
    #[error("this mailbox holds as many {0} as the relay allows")]
    MailboxFull(&'static str),
    /// The directory lists no such organisation.
    #[error("the recipient directory lists no organisation \"{0}\"")]
    UnknownOrganisation(String),
    /// The directory lists no such recipient.
    #[error("the recipient directory lists no recipient \"{recipient}\" in \"{organisation}\"")]
    UnknownRecipient {
        /// Organisation id.
        organisation: String,
        /// Recipient id.
        recipient: String,
    },
    /// A required credential is missing.
    #[error("this request needs an Authorization: Bearer {0}")]
    MissingCredential(&'static str),
    /// A token is not in its wire form.
    #[error("malformed {0}")]
    MalformedCredential(&'static str),
    /// The office session is unknown or expired.
    #[error("the office session is unknown or has expired; authenticate again")]
    SessionExpired,
    /// The challenge answer is wrong, used or expired.
    #[error(
        "the challenge answer is wrong, was used already, or has expired; ask for a new challenge"
    )]
    ChallengeFailed,
    /// A stamp is required.
    #[error("creating a mailbox needs a proof-of-work stamp in the Meldpunt-Stamp header; get a challenge from /api/v1/challenge")]
    StampMissing,
    /// The stamp was used already.
    #[error("this proof-of-work stamp was used already; solve a new challenge")]
    StampSpent,
    /// The stamp is invalid, expired or lacks work.
    #[error("{0}")]
    Stamp(meldpunt_crypto::Error),
    /// The body is not a sealed object.
    #[error("the body is not a sealed age file; Meldpunt accepts only ciphertext")]
    NotSealed,
    /// Wrong content type.
    #[error("expected Content-Type: {0}")]
    WrongContentType(&'static str),
    /// Body too large.
    #[error("the body is larger than the relay accepts ({limit} bytes)")]
    BodyTooLarge {
        /// The limit.
        limit: u64,
    },
    /// The upload ended before its declared length or broke off.
    #[error("the upload ended early or was interrupted; nothing was stored")]
    TruncatedUpload,
    /// A request that is malformed in another way.
    #[error("{0}")]
    BadRequest(String),
    /// Too many requests of one kind (for this session, for this organisation's challenges).
    #[error("too many requests: {0}; slow down and try again in a minute")]
    RateLimited(&'static str),
    /// The disk is full.
    #[error("the relay's storage is full; nothing was stored, try again later")]
    StorageFull,
    /// The store cannot be reached right now (detail is logged, not returned).
    #[error("the relay's storage cannot be reached right now; nothing was stored, try again in a moment")]
    StorageUnavailable(String),
    /// The relay is shutting down or not ready.
    #[error("the relay is not ready")]
    NotReady,
    /// Sealing or opening on the relay failed (the web form without JavaScript); the
    /// crypto crate's messages quote no content.
    #[error("{0}")]
    Crypto(meldpunt_crypto::Error),
    /// A storage failure (detail is logged, not returned).
    #[error("internal storage error")]
    Storage(String),
}

impl Error {
    /// The stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::MailboxNotFound => ErrorCode::MailboxNotFound,
            Error::MailboxExists => ErrorCode::MailboxExists,
            Error::MessageNotFound => ErrorCode::MessageNotFound,
            Error::AttachmentNotFound => ErrorCode::AttachmentNotFound,
            Error::EndpointNotFound => ErrorCode::EndpointNotFound,
            Error::CrossSite => ErrorCode::CrossSite,
            Error::AttachmentExists => ErrorCode::AttachmentExists,
            Error::MailboxFull(_) => ErrorCode::MailboxFull,
            Error::UnknownOrganisation(_) => ErrorCode::UnknownOrganisation,
            Error::UnknownRecipient { .. } => ErrorCode::UnknownRecipient,
            Error::MissingCredential(_) => ErrorCode::MissingCredential,
            Error::MalformedCredential(_) => ErrorCode::MalformedCredential,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::ChallengeFailed => ErrorCode::ChallengeFailed,
            Error::StampMissing => ErrorCode::StampMissing,
            Error::StampSpent => ErrorCode::StampSpent,
            Error::Stamp(meldpunt_crypto::Error::StampExpired) => ErrorCode::StampExpired,
            Error::Stamp(meldpunt_crypto::Error::StampInsufficientWork { .. }) => {
                ErrorCode::StampInsufficientWork
            }
            Error::Stamp(meldpunt_crypto::Error::StampOutdated { .. }) => ErrorCode::StampOutdated,
            Error::Stamp(_) => ErrorCode::StampInvalid,
            Error::NotSealed => ErrorCode::NotSealed,
            Error::WrongContentType(_) => ErrorCode::WrongContentType,
            Error::BodyTooLarge { .. } => ErrorCode::BodyTooLarge,
            Error::TruncatedUpload => ErrorCode::TruncatedUpload,
            Error::BadRequest(_) => ErrorCode::BadRequest,
            Error::RateLimited(_) => ErrorCode::RateLimited,
            Error::MethodNotAllowed => ErrorCode::MethodNotAllowed,
            Error::RequestTimeout => ErrorCode::RequestTimeout,
            Error::StorageFull => ErrorCode::StorageFull,
            Error::NotReady | Error::StorageUnavailable(_) => ErrorCode::NotReady,
            Error::Crypto(_) => ErrorCode::CryptoFailed,
            Error::Storage(_) => ErrorCode::InternalError,
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::MailboxNotFound
            | Error::MessageNotFound
            | Error::AttachmentNotFound
            | Error::EndpointNotFound
            | Error::UnknownOrganisation(_)
            | Error::UnknownRecipient { .. } => StatusCode::NOT_FOUND,
            Error::MailboxExists | Error::AttachmentExists | Error::StampSpent => {
                StatusCode::CONFLICT
            }
            Error::MailboxFull(_) | Error::CrossSite => StatusCode::FORBIDDEN,
            Error::MissingCredential(_)
            | Error::MalformedCredential(_)
            | Error::SessionExpired
            | Error::ChallengeFailed => StatusCode::UNAUTHORIZED,
            Error::StampMissing | Error::Stamp(_) => StatusCode::FORBIDDEN,
            Error::NotSealed | Error::Crypto(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::WrongContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::BodyTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::TruncatedUpload | Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Error::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Error::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            Error::NotReady | Error::StorageUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Storage(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Error::Storage(detail) => tracing::error!(detail = %detail, "storage failure"),
            Error::StorageUnavailable(detail) => {
                tracing::warn!(detail = %detail, "storage unavailable")
            }
            _ => {}
        }
        let body = meldpunt_wire::ErrorBody {
            error: self.code(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

impl From<crate::storage::StoreError> for Error {
    fn from(error: crate::storage::StoreError) -> Self {
        use crate::storage::StoreError;
        match error {
            StoreError::MailboxNotFound => Error::MailboxNotFound,
            StoreError::MailboxExists => Error::MailboxExists,
            StoreError::MessageNotFound => Error::MessageNotFound,
            StoreError::AttachmentExists => Error::AttachmentExists,
            StoreError::AttachmentNotFound => Error::AttachmentNotFound,
            StoreError::MailboxFull(what) => Error::MailboxFull(what),
            StoreError::StampSpent => Error::StampSpent,
            StoreError::BackupRefused(message) => Error::BadRequest(message),
            StoreError::Closed => Error::NotReady,
            StoreError::Full => Error::StorageFull,
            StoreError::Failed(detail) => Error::Storage(detail),
            StoreError::Unavailable(detail) => Error::StorageUnavailable(detail),
            StoreError::Busy(what) => Error::RateLimited(what),
        }
    }
}

impl From<meldpunt_crypto::Error> for Error {
    fn from(error: meldpunt_crypto::Error) -> Self {
        Error::Crypto(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_answers_507_and_a_failure_keeps_its_detail_inside() {
        let full = Error::from(crate::storage::StoreError::Full);
        assert!(matches!(full, Error::StorageFull));
        assert_eq!(full.status(), StatusCode::INSUFFICIENT_STORAGE);
        let failed = Error::from(crate::storage::StoreError::Failed("page 17".into()));
        assert_eq!(failed.to_string(), "internal storage error");
    }

    #[test]
    fn every_error_has_a_code_and_status_and_internal_detail_stays_inside() {
        let error = Error::Storage("page 17 checksum mismatch at /var/lib/x".into());
        assert_eq!(error.to_string(), "internal storage error");
        assert_eq!(error.code(), ErrorCode::InternalError);
    }
}
