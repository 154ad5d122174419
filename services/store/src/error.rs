//! The store's errors.

/// What can go wrong in a store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no supported backend, or is malformed.
    #[error("invalid store URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL (credentials removed).
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The backend failed.
    #[error("store backend error: {0}")]
    Backend(String),
    /// A schema migration failed.
    #[error("store migration failed: {0}")]
    Migration(String),
    /// A stored row could not be read back.
    #[error("stored payment {payment_id:?} is corrupt: {reason}")]
    Corrupt {
        /// The row's payment id.
        payment_id: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::Backend(e.to_string())
    }
}

impl payments_core::ServiceError for Error {
    fn kind(&self) -> payments_core::ErrorKind {
        use payments_core::ErrorKind;
        match self {
            Self::Backend(_) => ErrorKind::Unavailable,
            Self::InvalidUrl { .. } | Self::Migration(_) | Self::Corrupt { .. } => {
                ErrorKind::Internal
            }
        }
    }
}
