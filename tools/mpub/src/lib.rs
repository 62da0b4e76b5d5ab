//! mpub, the operator's command line: what the pipeline is publishing and where each publication
//! stands (`status`), taking one live (`go-live`), what a manifest would do (`plan`), and stopping
//! one (`cancel`). It reads Step Functions for the runs and calls Microsoft as the functions do.

pub mod cancel;
pub mod error;
pub mod go_live;
pub mod plan;
pub mod publication;
pub mod release;
pub mod render;
pub mod stage;
pub mod stepfunctions;
pub mod target;

pub use error::CliError;
