//! The integration tests of lotse-core in one binary: every definition in the repository loads,
//! broken ones get precise problems, the form blocks are valid, and the crates' arrows hold.

mod check;
mod forms;
mod language;
mod layers;
mod stemmers;
