//! lotse-engine: the product's core.

pub mod receipt;
