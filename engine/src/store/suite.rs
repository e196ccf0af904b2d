//! Shared store test suite.
