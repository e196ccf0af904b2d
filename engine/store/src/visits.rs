//! Appointments (Online-Terminvereinbarung): the record of a booked visit and its states. A
//! visit is held for a few minutes while the citizen enters name and address, then confirmed;
//! a hold that is not confirmed frees itself. The stores count held and confirmed visits per
//! office and day under one lock (a sled transaction on the day's record, a PostgreSQL row
//! lock on the day), so an office never gets more visits at one time than it has counters.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

use crate::error::StoreError;
use crate::ids::{BookingId, TenantId};

/// Where a visit stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitState {
    /// Held until `held_until`; after that it frees itself.
    Held,
    Confirmed,
    Cancelled,
    /// The case worker marked it: the citizen came.
    Attended,
    /// ... or did not.
    Missed,
}

/// A visit to book: who, where, when, for how long.
#[derive(Clone)]
pub struct NewVisit {
    pub id: BookingId,
    pub tenant: TenantId,
    pub office: String,
    pub service: String,
    /// The office's local date (the day the store counts under).
    pub day: Date,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub held_until: OffsetDateTime,
    /// The application this visit belongs to (a "Termin zur Abholung"), if any.
    pub reference: Option<String>,
    /// The citizen's language (`de`, `en`) for the mails.
    pub lang: Option<String>,
}

/// A visit's time: the office's local date (the day the store counts under) and the instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VisitTime {
    pub day: Date,
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// A stored visit.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: BookingId,
    pub tenant: TenantId,
    pub office: String,
    pub service: String,
    pub day: Date,
    #[serde(with = "time::serde::rfc3339")]
    pub start: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub end: OffsetDateTime,
    pub state: VisitState,
    #[serde(with = "time::serde::rfc3339")]
    pub held_until: OffsetDateTime,
    /// Name and address, once confirmed (personal data: never in logs or the audit log).
    pub name: Option<String>,
    pub email: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub changed: Option<OffsetDateTime>,
    /// The application this visit belongs to (a "Termin zur Abholung"), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The citizen's language (`de`, `en`) for the mails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    /// When it was confirmed.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    /// When the reminder mail was enqueued (once per time: a move asks again).
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub reminded: Option<OffsetDateTime>,
    /// How often it was moved to another time (the calendar file's SEQUENCE).
    #[serde(default)]
    pub moves: u32,
}

impl fmt::Debug for Visit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Visit")
            .field("id", &self.id)
            .field("tenant", &self.tenant.slug())
            .field("office", &self.office)
            .field("start", &self.start)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl Visit {
    pub(crate) fn new(n: NewVisit, now: OffsetDateTime) -> Visit {
        Visit {
            id: n.id,
            tenant: n.tenant,
            office: n.office,
            service: n.service,
            day: n.day,
            start: n.start,
            end: n.end,
            state: VisitState::Held,
            held_until: n.held_until,
            name: None,
            email: None,
            created: now,
            changed: None,
            reference: n.reference,
            lang: n.lang,
            confirmed_at: None,
            reminded: None,
            moves: 0,
        }
    }

    /// Whether the visit takes a counter at `now`: confirmed, or held and not yet expired.
    pub fn occupies(&self, now: OffsetDateTime) -> bool {
        match self.state {
            VisitState::Confirmed | VisitState::Attended | VisitState::Missed => true,
            VisitState::Held => self.held_until > now,
            VisitState::Cancelled => false,
        }
    }

    /// Confirms a hold that has not expired at `now`, with the citizen's name and address.
    pub(crate) fn confirm(
        &mut self,
        name: &str,
        email: &str,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        if self.state != VisitState::Held || self.held_until <= now {
            return Err(StoreError::VisitGone(if self.state == VisitState::Held {
                "no longer held"
            } else {
                "not held"
            }));
        }
        self.state = VisitState::Confirmed;
        self.name = Some(name.to_owned());
        self.email = Some(email.to_owned());
        self.confirmed_at = Some(now);
        Ok(())
    }

    /// Moves a confirmed visit (not one already marked) to another time of its office: a new
    /// reminder is due for the new time.
    pub(crate) fn move_to(&mut self, to: VisitTime) -> Result<(), StoreError> {
        let VisitTime { day, start, end } = to;
        if self.state != VisitState::Confirmed {
            return Err(StoreError::VisitGone("not booked"));
        }
        if end <= start {
            return Err(StoreError::InvalidInput(
                "a visit ends after it starts".into(),
            ));
        }
        self.day = day;
        self.start = start;
        self.end = end;
        self.reminded = None;
        self.moves = self.moves.saturating_add(1);
        Ok(())
    }

    /// Notes the reminder of a confirmed visit; `VisitGone` when it was reminded already or is
    /// not confirmed, so that two nodes never both send it.
    pub(crate) fn remind(&mut self, now: OffsetDateTime) -> Result<(), StoreError> {
        if self.state != VisitState::Confirmed || self.reminded.is_some() {
            return Err(StoreError::VisitGone("not due for a reminder"));
        }
        self.reminded = Some(now);
        Ok(())
    }

    /// Whether a reminder is due at `now`: confirmed, not reminded, starting within `ahead`
    /// (and not already begun), and not booked or moved so shortly before that the
    /// confirmation serves as the reminder.
    pub fn wants_reminder(&self, now: OffsetDateTime, ahead: time::Duration) -> bool {
        self.state == VisitState::Confirmed
            && self.reminded.is_none()
            && self.start > now
            && self.start <= now + ahead
            && self
                .changed
                .or(self.confirmed_at)
                .is_none_or(|c| c <= self.start - ahead)
    }

    /// Cancels a held or confirmed visit (not one already marked).
    pub(crate) fn cancel(&mut self) -> Result<(), StoreError> {
        if !matches!(self.state, VisitState::Held | VisitState::Confirmed) {
            return Err(StoreError::VisitGone("not booked"));
        }
        self.state = VisitState::Cancelled;
        Ok(())
    }

    /// Marks a booked visit attended or missed (correctable).
    pub(crate) fn mark(&mut self, attended: bool) -> Result<(), StoreError> {
        if !self.is_booked() {
            return Err(StoreError::VisitGone("not booked"));
        }
        self.state = if attended {
            VisitState::Attended
        } else {
            VisitState::Missed
        };
        Ok(())
    }

    /// Whether it is booked: confirmed (and maybe marked attended or missed since).
    pub fn is_booked(&self) -> bool {
        matches!(
            self.state,
            VisitState::Confirmed | VisitState::Attended | VisitState::Missed
        )
    }

    /// Whether it overlaps `[start, end)`.
    pub fn overlaps(&self, start: OffsetDateTime, end: OffsetDateTime) -> bool {
        self.start < end && self.end > start
    }
}

/// How many visits of `visits` take a counter at some moment of `[start, end)` at `now`: the
/// most at once (a visit of 30 minutes in a grid of 15 meets different neighbours in each
/// half).
pub(crate) fn busiest(
    visits: &[Visit],
    start: OffsetDateTime,
    end: OffsetDateTime,
    now: OffsetDateTime,
) -> u32 {
    let active: Vec<&Visit> = visits
        .iter()
        .filter(|v| v.occupies(now) && v.overlaps(start, end))
        .collect();
    // The count can only rise where a visit starts (or at `start` itself).
    let mut points: Vec<OffsetDateTime> = active
        .iter()
        .map(|v| v.start.max(start))
        .chain(std::iter::once(start))
        .collect();
    points.sort();
    points.dedup();
    points
        .iter()
        .map(|p| {
            let n = active
                .iter()
                .filter(|v| v.start <= *p && v.end > *p)
                .count();
            u32::try_from(n).unwrap_or(u32::MAX)
        })
        .max()
        .unwrap_or(0)
}
