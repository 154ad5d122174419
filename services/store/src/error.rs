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
    /// The backend refused the records themselves (an encoding it cannot hold, a
    /// constraint, a value out of range): the same records fail again however often they
    /// are sent, while other records are written. The processor finds and dead-letters them.
    #[error("{context}")]
    Refused {
        /// What was being done, and what was refused.
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

    /// The backend refused the records of the call `context` ([`Error::Refused`]).
    pub fn refused(context: impl Into<String>, source: impl Into<BoxError>) -> Self {
        Self::Refused {
            context: context.into(),
            source: source.into(),
        }
    }

    /// Whether the records of the call caused it, so that sending them again fails again
    /// and other records would be written; otherwise the backend may be away, and the call
    /// is worth retrying as it is.
    pub fn is_caused_by_records(&self) -> bool {
        matches!(self, Self::Refused { .. })
    }

    /// `error` from an SQL backend, as a refusal when the database blamed the data: in
    /// PostgreSQL the SQLSTATE classes 22 (data exception: an encoding, a value out of
    /// range), 23 (integrity constraint) and 54 (program limit: a value too large); in
    /// SQLite `TOOBIG`, `CONSTRAINT`, `MISMATCH` and `RANGE`; and a value the driver could
    /// not encode.
    pub fn from_sql(context: &str, error: sqlx::Error) -> Self {
        let blames_data = match &error {
            sqlx::Error::Encode(_) => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                if let Ok(sqlite) = code.parse::<i64>() {
                    // Extended result codes keep the primary code in their low byte.
                    matches!(sqlite & 0xff, 18 | 19 | 20 | 25)
                } else {
                    matches!(code.get(..2), Some("22" | "23" | "54"))
                }
            }),
            _ => false,
        };
        if blames_data {
            Self::refused(format!("{context}: the database refused the data"), error)
        } else {
            Self::backend(context, error)
        }
    }
}

/// The store's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Self::from_sql("sql call failed", e)
    }
}

impl payments_core::ServiceError for Error {
    fn kind(&self) -> payments_core::ErrorKind {
        use payments_core::ErrorKind;
        match self {
            Self::Backend { .. } | Self::MissingTable { .. } => ErrorKind::Unavailable,
            Self::Refused { .. }
            | Self::InvalidUrl { .. }
            | Self::Migration(_)
            | Self::Corrupt { .. } => ErrorKind::Internal,
        }
    }
}
