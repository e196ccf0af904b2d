//! What the HTTP front ends share: extractors, middleware, the common HTML pages and the bridge
//! that runs the application service from async handlers.

pub mod codes;
pub mod cors;
pub mod extractors;
pub mod middleware;
pub(crate) mod openapi;
pub mod pages;
pub mod run;
pub(crate) mod stream;
pub mod texts;
