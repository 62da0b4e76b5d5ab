//! Client behaviour against a scripted HTTP server (wiremock) and against the CPP emulator.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod against_emulator;
mod errors_and_redaction;
mod request_shapes;
mod retries;
mod secrets_manager;
mod support;
mod tokens;
