//! The end-to-end tests of lotse-server in one binary (one link step instead of eleven): the
//! portal as a browser without JavaScript uses it, every page template in strict mode, the JSON
//! API, the Postkorb, the command line, webhook deliveries, the housekeeping, two nodes on one
//! PostgreSQL, the limits on guessing, and fuzzing of what citizens send (form posts and API
//! bodies).

mod admin;
mod api;
mod attachments;
mod browser_engine;
mod cli;
mod connections;
mod delivery;
mod fuzz;
mod guessing;
mod login;
mod login_idp;
mod login_oidc;
mod mail;
mod maintenance;
mod nodes;
mod own_county;
mod pages;
mod payment;
mod portal;
mod postkorb;
mod reads;
mod settings;
mod settings_catalogue;
mod uploads;
mod uploads_flow;
mod visits;
