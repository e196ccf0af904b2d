//! Nachweise (file uploads, docs/uploads.md): what a file is, judged from its bytes
//! ([`sniff`]), and whether a virus scanner finds something in it ([`scan`], clamd over its
//! socket). The parts a step with a file field builds on; no front end is wired to them yet.

pub mod download;
pub mod links;
pub mod scan;
pub mod sniff;
