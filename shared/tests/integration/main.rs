//! The shared crate from outside: the client against a scripted server (wiremock) and the CPP
//! emulator, Secrets Manager through the AWS SDK, and properties of the image-map rules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod against_emulator;
mod errors_and_redaction;
mod federation;
mod image_map_properties;
mod ingestion_client;
mod request_shapes;
mod retries;
mod secrets_manager;
mod support;
mod techconfig_properties;
mod tokens;
