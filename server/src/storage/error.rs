//! The store's own errors: what a write refused, and what failed underneath. The relay maps
//! them to HTTP once, in `crate::error`; nothing here knows about HTTP.

/// Why the store refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// No mailbox with this id (or not in the organisation asked for).
    #[error("no such mailbox")]
    MailboxNotFound,
    /// A mailbox with this id exists already.
    #[error("a mailbox with this id exists already")]
    MailboxExists,
    /// No such message (or not the organisation's).
    #[error("no such message")]
    MessageNotFound,
    /// An attachment with this id exists already.
    #[error("an attachment with this id exists already")]
    AttachmentExists,
    /// No such attachment (or not complete, or not the mailbox's).
    #[error("no such attachment")]
    AttachmentNotFound,
    /// The mailbox holds as many messages, attachments or bytes as allowed.
    #[error("the mailbox holds as many {0} as allowed")]
    MailboxFull(&'static str),
    /// The stamp's nonce was spent already.
    #[error("the stamp was spent already")]
    StampSpent,
    /// The backup file cannot be created where asked (it exists, or its folder does not):
    /// what to do, with the path.
    #[error("{0}")]
    BackupRefused(String),
    /// The writer has stopped (the relay is shutting down).
    #[error("the store is closed")]
    Closed,
    /// The disk is full: nothing of the batch was stored.
    #[error("the disk is full")]
    Full,
    /// The database cannot be reached right now (PostgreSQL restarting, a failover, no free
    /// connection): nothing was stored, and the next request may well succeed.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Too many of something wait in memory (office challenges).
    #[error("too many {0}")]
    Busy(&'static str),
    /// The database failed underneath (the detail is for the log, never for a client).
    #[error("{0}")]
    Failed(String),
}

impl StoreError {
    /// Whether the transaction this happened in must be abandoned (as opposed to a write
    /// refused before it changed anything).
    pub(crate) fn aborts_transaction(&self) -> bool {
        matches!(
            self,
            StoreError::Failed(_) | StoreError::Full | StoreError::Unavailable(_)
        )
    }

    /// The same failure again, for every caller of an abandoned batch.
    pub(crate) fn again(&self) -> StoreError {
        match self {
            StoreError::Full => StoreError::Full,
            StoreError::Unavailable(detail) => StoreError::Unavailable(detail.clone()),
            other => StoreError::Failed(other.to_string()),
        }
    }
}

fn is_disk_full(error: &std::io::Error) -> bool {
    // ENOSPC (28) and EDQUOT (122) on Linux.
    matches!(error.raw_os_error(), Some(28) | Some(122))
        || error.kind() == std::io::ErrorKind::StorageFull
}

macro_rules! from_redb {
    ($($kind:ty),*) => {$(
        impl From<$kind> for StoreError {
            fn from(error: $kind) -> Self {
                let error: redb::Error = error.into();
                if let redb::Error::Io(io) = &error {
                    if is_disk_full(io) {
                        return StoreError::Full;
                    }
                }
                StoreError::Failed(error.to_string())
            }
        }
    )*};
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

impl From<std::io::Error> for StoreError {
    fn from(error: std::io::Error) -> Self {
        if is_disk_full(&error) {
            StoreError::Full
        } else {
            StoreError::Failed(error.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_its_own_error() {
        assert!(matches!(
            StoreError::from(std::io::Error::from_raw_os_error(28)),
            StoreError::Full
        ));
        assert!(matches!(
            StoreError::from(redb::StorageError::Io(std::io::Error::from_raw_os_error(
                28
            ))),
            StoreError::Full
        ));
        assert!(matches!(
            StoreError::from(std::io::Error::from_raw_os_error(5)),
            StoreError::Failed(_)
        ));
        assert!(StoreError::Full.aborts_transaction());
        assert!(!StoreError::MailboxExists.aborts_transaction());
    }
}
