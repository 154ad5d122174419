//! The query service: `payments.v1.QueryService` over gRPC ([`QueryGrpc`]) and the seed
//! API's HTTP/JSON routes ([`http_routes`]), both reading one [`payments_store::Store`].

pub mod config;
mod console;
mod cors;
mod filter;
mod grpc;
mod http;
mod role;

pub use console::{ConsoleSetupError, console_from_args};
pub use filter::{filter_from_proto, page_from_proto};
pub use grpc::{AccountView, QueryGrpc};
pub use http::{health_route, http_routes};
pub use role::{QueryRole, QueryRoleError};
