//! Refusing a gRPC call before it reaches its service: a status as a trailers-only response.

/// `status` as the HTTP response a gRPC client reads it from.
pub fn refusal<B: Default>(status: tonic::Status) -> http::Response<B> {
    status.into_http()
}

/// Whether `path` is a probe or tooling call (health, reflection) that every client may make
/// and no limit or credential applies to.
pub fn is_infrastructure(path: &str) -> bool {
    path.starts_with("/grpc.health.") || path.starts_with("/grpc.reflection.")
}
