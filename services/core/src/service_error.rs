//! [`ServiceError`]: the one place a domain error becomes a gRPC status and an HTTP status.
//! Each error says what kind of failure it is ([`ErrorKind`]); only [`ErrorKind`] knows
//! which gRPC code and which HTTP status that kind is answered with.

use http::StatusCode;
use tonic::Code;

/// What kind of failure an error is, as a caller needs to know it: whether to fix the
/// request, retry later, or report a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong (a field, a parameter); retrying it unchanged fails again.
    BadRequest,
    /// What the request names does not exist.
    NotFound,
    /// No or an unknown credential.
    Unauthenticated,
    /// A credential that does not allow this.
    PermissionDenied,
    /// The request conflicts with the current state.
    Conflict,
    /// Too much at once; retry with backoff.
    TooManyRequests,
    /// A dependency (bus, store, another service) failed; retry later.
    Unavailable,
    /// The deadline passed first.
    Timeout,
    /// This server does not offer it.
    Unimplemented,
    /// A fault of this service.
    Internal,
}

impl ErrorKind {
    /// The gRPC code this kind is answered with.
    pub fn grpc_code(self) -> Code {
        match self {
            Self::BadRequest => Code::InvalidArgument,
            Self::NotFound => Code::NotFound,
            Self::Unauthenticated => Code::Unauthenticated,
            Self::PermissionDenied => Code::PermissionDenied,
            Self::Conflict => Code::FailedPrecondition,
            Self::TooManyRequests => Code::ResourceExhausted,
            Self::Unavailable => Code::Unavailable,
            Self::Timeout => Code::DeadlineExceeded,
            Self::Unimplemented => Code::Unimplemented,
            Self::Internal => Code::Internal,
        }
    }

    /// The HTTP status this kind is answered with.
    pub fn http_status(self) -> StatusCode {
        match self {
            Self::BadRequest => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::PermissionDenied => StatusCode::FORBIDDEN,
            Self::Conflict => StatusCode::CONFLICT,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Self::Timeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Unimplemented => StatusCode::NOT_IMPLEMENTED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The kind of a status another service answered with.
    pub fn of_grpc(code: Code) -> Self {
        match code {
            Code::InvalidArgument | Code::OutOfRange => Self::BadRequest,
            Code::NotFound => Self::NotFound,
            Code::Unauthenticated => Self::Unauthenticated,
            Code::PermissionDenied => Self::PermissionDenied,
            Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => Self::Conflict,
            Code::ResourceExhausted => Self::TooManyRequests,
            Code::Unavailable | Code::Cancelled => Self::Unavailable,
            Code::DeadlineExceeded => Self::Timeout,
            Code::Unimplemented => Self::Unimplemented,
            Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => Self::Internal,
        }
    }
}

/// `error` and each of its causes, on one line (`opening store x: connection refused`):
/// how an error is logged or answered, so that no cause is lost.
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(error) = cause {
        text.push_str(": ");
        text.push_str(&error.to_string());
        cause = error.source();
    }
    text
}

/// A domain error that services answer callers with.
pub trait ServiceError: std::error::Error {
    /// What kind of failure it is.
    fn kind(&self) -> ErrorKind;

    /// The request parameter at fault, when one is.
    fn parameter(&self) -> Option<&str> {
        None
    }

    /// The message a caller reads: the error and each of its causes, on one line.
    fn explain(&self) -> String
    where
        Self: Sized,
    {
        with_causes(self)
    }

    /// The gRPC status for it.
    fn to_status(&self) -> tonic::Status
    where
        Self: Sized,
    {
        tonic::Status::new(self.kind().grpc_code(), self.explain())
    }
}

/// A status another service answered with keeps its kind when passed on.
impl ServiceError for tonic::Status {
    fn kind(&self) -> ErrorKind {
        ErrorKind::of_grpc(self.code())
    }

    fn explain(&self) -> String {
        self.message().to_owned()
    }

    fn to_status(&self) -> tonic::Status {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_grpc_code_maps_back_to_its_kind() {
        for kind in [
            ErrorKind::BadRequest,
            ErrorKind::NotFound,
            ErrorKind::Unauthenticated,
            ErrorKind::PermissionDenied,
            ErrorKind::Conflict,
            ErrorKind::TooManyRequests,
            ErrorKind::Unavailable,
            ErrorKind::Timeout,
            ErrorKind::Unimplemented,
            ErrorKind::Internal,
        ] {
            assert_eq!(ErrorKind::of_grpc(kind.grpc_code()), kind);
        }
        assert_eq!(
            ErrorKind::Unavailable.http_status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn the_message_carries_every_cause() {
        #[derive(Debug, thiserror::Error)]
        #[error("opening store x")]
        struct Outer(#[source] std::io::Error);
        impl ServiceError for Outer {
            fn kind(&self) -> ErrorKind {
                ErrorKind::Unavailable
            }
        }
        let error = Outer(std::io::Error::other("refused"));
        let status = error.to_status();
        assert_eq!(status.code(), Code::Unavailable);
        assert_eq!(status.message(), "opening store x: refused");
    }
}
