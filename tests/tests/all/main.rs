//! The one end-to-end test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bewohnerparken;
mod graph;
mod hundesteuer;
mod library;
mod scenarios;
mod sondernutzung;
