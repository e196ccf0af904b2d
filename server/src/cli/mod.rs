//! Subcommands of the `lotse` binary.

pub mod admin;
pub mod catalogue;
pub mod check;
pub mod data;
pub mod demo;
pub mod graph;
pub mod paysim;
pub mod receipt;
pub mod test;
