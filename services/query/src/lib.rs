//! The query service: `payments.v1.QueryService` over gRPC ([`QueryGrpc`]) and the seed
//! API's HTTP/JSON routes ([`http_routes`]), both reading one [`payments_store::Store`], and
//! their OpenAPI document ([`openapi_routes`]: `/openapi.json`, `/docs`).

pub mod config;
mod console;
mod cors;
mod filter;
mod grpc;
mod http;
mod openapi;
mod role;

pub use console::{ConsoleSetupError, console_from_args};
pub use filter::{filter_from_proto, page_from_proto};
pub use grpc::{AccountView, QueryGrpc};
pub use http::{
    DateTypeCustomerRequest, ErrorDetail, HealthResponse, LocationStep, PaymentFormatQuery,
    SeedPayment, TimeRangeRequest, TypeCustomerRequest, ValidationError, ValidationErrors,
    health_api, health_route, http_routes, seed_api,
};
pub use openapi::{openapi_document, openapi_routes};
pub use role::{QueryRole, QueryRoleError};
