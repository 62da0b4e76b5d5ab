//! One integration test binary for the emulator (link time matters): every documented behaviour
//! is exercised over real HTTP, with the virtual clock instead of sleeping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth;
mod binary;
mod common;
mod control;
mod faults;
mod federation;
mod offers;
mod operations;
mod publishing;
