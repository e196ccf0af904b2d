//! The one end-to-end test binary.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod bewohnerparken;
mod hundesteuer;
mod library;
mod sondernutzung;
