//! lotse-server: the adapters around the engine crates (lotse-core, lotse-store, lotse-receipt):
//! the `lotse` command line and the portal (axum). No product logic lives here: handlers turn requests into engine calls and results
//! into pages.

// The portal's text tables are large json! literals.
#![recursion_limit = "256"]

pub mod admin;
pub mod cli;
pub mod config;
pub mod delivery;
pub mod keys;
pub mod maintenance;
pub mod nodes;
pub mod portal;
pub mod service;
pub mod tenants;
