//! The bus's errors.

/// What can go wrong on the bus.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The URL names no supported bus, or is malformed.
    #[error("invalid bus URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An in-process bus given to a service that runs on its own.
    #[error(
        "{url} is a bus that lives inside one process (memory:// or file://), so a standalone \
         {service} would have no peer; run `paymentsctl up` for the one-process system, or give \
         it kafka://"
    )]
    InProcessOnly {
        /// The URL given.
        url: String,
        /// The service that refused it.
        service: String,
    },
    /// No broker answered.
    #[error("cannot reach Kafka at {brokers}: {reason}")]
    Unreachable {
        /// The bootstrap brokers.
        brokers: String,
        /// What the client reported.
        reason: String,
    },
    /// The file bus's directory cannot be used.
    #[error("file bus {path}: {reason}")]
    File {
        /// The bus's directory.
        path: String,
        /// What went wrong.
        reason: String,
    },
    /// A Kafka operation failed.
    #[error("kafka {operation} failed: {reason}")]
    Kafka {
        /// What was being done.
        operation: &'static str,
        /// What the client reported.
        reason: String,
    },
    /// A bus whose cargo feature this build leaves out.
    #[error(
        "this build has no {scheme}:// bus; rebuild with the `{scheme}` feature of payments-bus"
    )]
    FeatureDisabled {
        /// The URL scheme.
        scheme: &'static str,
    },
    /// The bus is shutting down and accepts no more records.
    #[error("the bus is closed")]
    Closed,
    /// A second consumer group member where the bus supports only one.
    #[error("topic {topic:?} already has a consumer in group {group:?}; the memory bus allows one")]
    ConsumerTaken {
        /// The topic.
        topic: String,
        /// The group.
        group: String,
    },
}

/// The bus's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether the failure may pass by itself (a broker away, a rebalance, a timeout), so
    /// that the same call is worth making again after a while.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Unreachable { .. } | Self::Kafka { .. })
    }
}

impl payments_core::ServiceError for Error {
    fn kind(&self) -> payments_core::ErrorKind {
        use payments_core::ErrorKind;
        match self {
            Self::InvalidUrl { .. } | Self::InProcessOnly { .. } | Self::FeatureDisabled { .. } => {
                ErrorKind::Internal
            }
            Self::ConsumerTaken { .. } => ErrorKind::Conflict,
            Self::Unreachable { .. } | Self::Kafka { .. } | Self::File { .. } | Self::Closed => {
                ErrorKind::Unavailable
            }
        }
    }
}
