//! The reliability matrix of marketplace-publisher, run in-process: every fault the functions must
//! survive (through the CPP emulator's fault injection), every bad input they must refuse, fuzzing of
//! the parsers, and properties showing that nothing in an offer document is lost.
//!
//! The tests are one binary, `tests/matrix/`, so all four handlers, the emulator and the AWS stand-ins
//! link once: `cargo test -p reliability`. Each module covers one part of the matrix:
//!
//! | module | what |
//! |---|---|
//! | `faults` | 429 (`Retry-After` in seconds and as a date), 5xx bursts, hung responses and dropped connections on every endpoint the pipeline calls |
//! | `tokens` | the token endpoint failing and recovering, tokens expiring mid-run, revoked tokens |
//! | `races` | another writer changing the offer between our read and our write (412) |
//! | `bad_input` | manifests, storage events and workflow states the functions must refuse, starting and writing nothing |
//! | `fuzz` | the manifest, event, operation and header parsers on generated input: no panic, no hang |
//! | `nothing_lost` | generated offer documents through update-and-publish and the emulator: only the plan's image map changes |
//! | `secrets` | a fault-heavy run whose every log line, error and output is searched for tokens, the secret and SAS signatures |
