//! The end-to-end tests of lotse-server in one binary (one link step instead of nine): the
//! portal as a browser without JavaScript uses it, every page template in strict mode, the JSON
//! API, the Postkorb, the command line, webhook deliveries, the housekeeping and two nodes on one
//! PostgreSQL.

mod admin;
mod api;
mod cli;
mod connections;
mod delivery;
mod guessing;
mod maintenance;
mod nodes;
mod pages;
mod portal;
