//! lotse-core: the product's core. Workflow definitions and their load-time checks, forms and
//! German formats, the one rhai sandbox, the state machine of a citizen's application, scenario
//! tests, the service catalogue and the receipt model.
//!
//! This crate knows nothing of HTTP, HTML, async runtimes, stores or PDF: adapters (the `lotse`
//! binary, the portal) call into it, and `lotse-store` and `lotse-receipt` sit beside it. Time
//! and randomness are inputs, so everything here is deterministic. The arrows are enforced: the
//! dependency test in `tests/all/layers.rs` fails when sled, sqlx, tokio, axum, hyper, printpdf or
//! lopdf come back into this crate's tree.

pub mod application;
pub mod appointments;
pub mod catalogue;
pub mod clock;
pub mod definition;
pub mod diagram;
pub mod files;
pub mod form;
pub mod login;
pub mod payment;
pub mod portal;
pub mod problem;
pub mod receipt;
pub mod scenario;
pub mod script;
pub mod text;

pub use clock::{Clock, FixedClock, ManualClock, SystemClock};

pub use application::{Application, Command, Outcome, Submission, Transition};
pub use definition::{Library, Workflow, load_library};
pub use problem::{Problem, Severity};
pub use text::{Lang, Text};
