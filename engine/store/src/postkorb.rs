//! The case workers' view of a tenant's submissions: a filtered, paged list, newest first, with
//! counts per status. Backends answer it from a small index (reference, service, status per
//! submission), not by decoding every submission's data.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::ids::{Reference, SubmissionId};
use super::model::Status;

/// Filters and paging of [`super::SubmissionStore::postkorb`]. Every filter is optional;
/// `Default` lists everything from the newest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PostkorbQuery {
    /// Only submissions whose current status is this one.
    pub status: Option<Status>,
    /// Only submissions of this workflow (service) id.
    pub workflow: Option<String>,
    /// Submitted at or after this instant.
    pub from: Option<OffsetDateTime>,
    /// Submitted before this instant.
    pub until: Option<OffsetDateTime>,
    /// Part of the reference, case-insensitive (`2026-0001`, `hei-2026-000017`).
    pub reference: Option<String>,
    /// Entries to skip (paging).
    pub offset: usize,
    /// Entries to return (`usize::MAX` for all, e.g. for an export of the selection).
    pub limit: usize,
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostkorbEntry {
    pub id: SubmissionId,
    pub reference: Reference,
    pub workflow_id: String,
    pub workflow_version: String,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted: OffsetDateTime,
    pub status: Status,
    /// When the current status was set.
    #[serde(with = "time::serde::rfc3339")]
    pub status_at: OffsetDateTime,
}

/// A page of the list and what the filters found in total.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct PostkorbPage {
    pub entries: Vec<PostkorbEntry>,
    /// Entries matching every filter.
    pub total: u64,
    /// Per status: entries matching every filter except the status filter, so a case worker
    /// sees how many wait in each status under the other filters.
    pub counts: BTreeMap<Status, u64>,
}

impl PostkorbQuery {
    /// The filters other than status and the date range (those a backend applies to index
    /// entries it decoded).
    pub(crate) fn matches_details(&self, workflow_id: &str, reference: &str) -> bool {
        if let Some(w) = &self.workflow
            && w != workflow_id
        {
            return false;
        }
        if let Some(r) = &self.reference {
            let needle = r.trim().to_ascii_uppercase();
            if !needle.is_empty() && !reference.contains(&needle) {
                return false;
            }
        }
        true
    }
}
