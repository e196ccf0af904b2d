//! lotse-engine: the product's core. Workflow definitions and their load-time checks, forms and
//! German formats, the one rhai sandbox, and the state machine of a citizen's application.
//!
//! This crate knows nothing of HTTP, HTML or async runtimes: adapters (the `lotse` binary, the
//! portal) call into it. Time and randomness are inputs, so everything here is deterministic.

pub mod application;
pub mod catalogue;
pub mod clock;
pub mod definition;
pub mod diagram;
pub mod form;
pub mod problem;
pub mod receipt;
pub mod scenario;
pub mod script;
pub mod store;
pub mod text;

pub use clock::{Clock, FixedClock, SystemClock};

pub use application::{Application, Command, Outcome, Submission, Transition};
pub use definition::{Library, Workflow, load_library};
pub use problem::{Problem, Severity};
pub use text::{Lang, Text};
