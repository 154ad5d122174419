//! The `payments.v1` contracts: prost messages, tonic clients and servers, proto3 JSON
//! (serde, via pbjson), each message's walk over its text ([`TextFields`]), each message's
//! decoding by code written for it, afresh ([`decode`]) or into a message used before
//! ([`decode_into`]), and the encoded file descriptor set that server reflection serves.

/// Protobuf package `payments.v1`.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::unwrap_used,
    clippy::expect_used
)]
pub mod v1 {
    tonic::include_proto!("payments.v1");
    include!(concat!(env!("OUT_DIR"), "/payments.v1.serde.rs"));
    include!(concat!(env!("OUT_DIR"), "/payments.v1.text.rs"));
    include!(concat!(env!("OUT_DIR"), "/payments.v1.reuse.rs"));

    pub use crate::timestamp::Timestamp;
}

mod codec;
pub mod reuse_decode;
mod text_fields;
mod timestamp;

pub use codec::{SliceCodec, SliceDecoder};
pub use reuse_decode::{ReuseDecode, decode, decode_into};
pub use text_fields::TextFields;

pub use timestamp::Timestamp;

/// The encoded `FileDescriptorSet` of every `payments.v1` file, for gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/payments_descriptor.bin"));
