//! One integration test binary for the Product Ingestion side of the emulator: every rule is
//! exercised over real HTTP against an in-process emulator, with the virtual clock.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod common;
mod configure;
mod control;
mod products;
mod submissions;
