//! Compiles `payments/v1/*.proto` into prost messages, tonic clients and servers, proto3 JSON
//! (serde via pbjson), each message's walk over its text and its decoding into a message used
//! before, and a file descriptor set for gRPC server reflection.

use std::{env, error::Error, path::PathBuf};

#[path = "build/reuse_decode.rs"]
mod reuse_decode;
#[path = "build/text_fields.rs"]
mod text_fields;

const PROTOS: &[&str] = &[
    "payments/v1/money.proto",
    "payments/v1/party.proto",
    "payments/v1/rails.proto",
    "payments/v1/payment.proto",
    "payments/v1/generator_service.proto",
    "payments/v1/ingest_service.proto",
    "payments/v1/query_service.proto",
];

fn main() -> Result<(), Box<dyn Error>> {
    // A vendored protoc, so a fresh machine needs no system package; PROTOC overrides it.
    let protoc = match env::var_os("PROTOC") {
        Some(path) => PathBuf::from(path),
        None => protoc_bin_vendored::protoc_bin_path()?,
    };
    let well_known = protoc_bin_vendored::include_path()?;
    let includes = [".".to_owned(), well_known.display().to_string()];
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let descriptor_path = out_dir.join("payments_descriptor.bin");

    let mut config = prost_build::Config::new();
    config.protoc_executable(protoc);
    tonic_prost_build::configure()
        .file_descriptor_set_path(&descriptor_path)
        .compile_well_known_types(true)
        // Our own Timestamp writes its JSON without allocating (see src/timestamp.rs); the
        // other well-known types, should a contract use one, are pbjson's.
        .extern_path(".google.protobuf.Timestamp", "crate::Timestamp")
        .extern_path(".google.protobuf", "::pbjson_types")
        .btree_map(".")
        // Decodes each message from one slice (see src/codec.rs).
        .codec_path("crate::SliceCodec")
        .compile_with_config(config, PROTOS, &includes.each_ref().map(String::as_str))?;

    let descriptors = std::fs::read(&descriptor_path)?;
    pbjson_build::Builder::new()
        .register_descriptors(&descriptors)?
        .btree_map(["."])
        .build(&[".payments.v1"])?;

    // Every message's walk over its text, for the text rules (see src/text_fields.rs).
    let generated = std::fs::read_to_string(out_dir.join("payments.v1.rs"))?;
    let walks = text_fields::text_fields_impls(&generated)?;
    std::fs::write(out_dir.join("payments.v1.text.rs"), walks)?;
    // How to decode into a message used before (see src/reuse_decode.rs).
    let reuse = reuse_decode::reuse_decode_impls(&generated)?;
    std::fs::write(out_dir.join("payments.v1.reuse.rs"), reuse)?;

    println!("cargo:rerun-if-changed=build/text_fields.rs");
    println!("cargo:rerun-if-changed=build/reuse_decode.rs");
    for proto in PROTOS {
        println!("cargo:rerun-if-changed={proto}");
    }
    Ok(())
}
