//! The one end-to-end test binary.

mod bewohnerparken;
mod hundesteuer;
mod library;
mod sondernutzung;
