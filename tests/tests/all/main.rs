//! The one end-to-end test binary.

mod hundesteuer;
mod library;
