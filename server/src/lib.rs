//! lotse-server: the adapters around the engine crates (lotse-core, lotse-store, lotse-receipt):
//! the `lotse` command line, the citizen portal, the JSON API and the Postkorb (axum), and the
//! workers. No product logic lives here: handlers turn requests into calls of the application
//! service and results into pages. docs/architecture.md draws the rooms and the allowed arrows.

// The portal's text tables are large json! literals.
#![recursion_limit = "256"]

pub mod admin;
pub mod api;
pub mod browser_engine;
pub mod cli;
pub mod config;
pub(crate) mod directory;
pub mod http;
pub mod identity;
pub mod keys;
pub mod login;
pub mod mail;
pub mod mandate;
pub mod nodes;
pub mod openapi;
pub mod payment;
pub mod portal;
pub mod service;
pub mod settings;
pub mod startup;
pub mod state;
pub mod telemetry;
pub(crate) mod templates;
pub mod tenants;
pub mod uploads;
pub mod workers;

pub use startup::{Portal, router, serve};
pub use workers::{delivery, maintenance};
