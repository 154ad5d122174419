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
    /// The backend failed: what was being done, and the backend's own error.
    #[error("{context}")]
    Backend {
        /// What was being done (`redis write`, `connecting to postgres://…`).
        context: String,
        /// The backend's error.
        #[source]
        source: BoxError,
    },
    /// A table the store needs has not been created (HBase tables are created on request).
    #[error(
        "hbase table {table} does not exist at {address}; create the tables with \
         `paymentsctl hbase init --hbase {url}`"
    )]
    MissingTable {
        /// The table.
        table: String,
        /// The gateway asked.
        address: String,
        /// The store URL (credentials removed).
        url: String,
    },
    /// A schema migration failed.
    #[error("store migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A stored row could not be read back.
    #[error("stored payment {payment_id:?} is corrupt: {reason}")]
    Corrupt {
        /// The row's payment id.
        payment_id: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// A backend's own error, kept as the cause.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

impl Error {
    /// The backend failed while doing `context`, with `source`.
    pub fn backend(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Backend {
            context: context.into(),
            source: source.into(),
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::backend("sql call failed", e)
    }
}

impl payments_core::ServiceError for Error {
    fn kind(&self) -> payments_core::ErrorKind {
        use payments_core::ErrorKind;
        match self {
            Self::Backend { .. } | Self::MissingTable { .. } => ErrorKind::Unavailable,
            Self::InvalidUrl { .. } | Self::Migration(_) | Self::Corrupt { .. } => {
                ErrorKind::Internal
            }
        }
    }
}
