//! Nachweise (file uploads, docs/uploads.md): what a file is, judged from its bytes
//! ([`sniff`]), whether a virus scanner finds something in it ([`scan`], clamd over its
//! socket), the way of an upload from the request into the attachment store ([`intake`]), and
//! the way out again: downloads for the office ([`download`]) and the webhook's signed,
//! expiring links ([`links`]).

pub mod download;
pub mod intake;
pub mod links;
pub mod scan;
pub use lotse_core::files::sniff;
