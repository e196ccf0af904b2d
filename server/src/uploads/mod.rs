//! Nachweise (file uploads, docs/uploads.md): what a file is, judged from its bytes
//! ([`sniff`]), and whether a virus scanner finds something in it ([`scan`], clamd over its
//! socket), and the way of an upload from the request into the attachment store ([`intake`]).

pub mod intake;
pub mod scan;
pub use lotse_core::files::sniff;
