//! lotse-engine: the product's core.
