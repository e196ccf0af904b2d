//! Subcommands of the `lotse` binary.

pub mod check;
pub mod demo;
pub mod graph;
pub mod test;
