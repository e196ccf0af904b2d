//! Forms: field formats and, later, form rendering and validation.

pub mod formats;
