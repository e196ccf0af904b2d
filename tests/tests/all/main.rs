//! The one end-to-end test binary.

mod bewohnerparken;
mod graph;
mod hundesteuer;
mod library;
mod scenarios;
mod sondernutzung;
