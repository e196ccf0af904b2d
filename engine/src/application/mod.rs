//! Application.
