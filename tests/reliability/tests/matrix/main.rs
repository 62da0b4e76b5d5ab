//! The reliability matrix (see the crate documentation): one test binary for all four handlers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod aws;
mod captured;
mod support;

mod bad_input;
mod faults;
mod fuzz;
mod ingestion;
mod logs;
mod nothing_lost;
mod plans;
mod races;
mod secrets;
mod tokens;
