//! Background work beside the requests: webhook deliveries to the offices and the housekeeping
//! (expired drafts, retention). Workers use the store traits and telemetry, never a front end.

pub mod delivery;
pub mod maintenance;
pub mod payments;
pub mod reminders;
