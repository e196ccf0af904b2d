//! Online-Terminvereinbarung, the pure part: a tenant's offices with their opening hours,
//! counters and closed days (the NRW public holidays computed, plus the tenant's own), the
//! services one books a visit for, and the free slots of a day. Times are Berlin wall-clock
//! times turned into instants through the time zone database (`receipt::berlin_to_utc`), so a
//! slot at 08:00 is 08:00 on the days of the summer-time switch too. No I/O: the store counts
//! what is booked; this module only asks it.

pub mod holidays;
pub mod ics;

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_saphyr::Spanned;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use crate::problem::{Pos, Problem};
use crate::text::Text;

/// An office citizens visit (Bürgerbüro, Straßenverkehrsamt).
#[derive(Clone, Debug)]
pub struct Office {
    pub id: String,
    pub name: Text,
    pub address: Vec<String>,
    /// Appointments at the same time (counters, staff).
    pub counters: u32,
    /// The grid of start times, in minutes.
    pub slot_minutes: u32,
    /// Opening hours per weekday (Monday first): intervals of wall-clock time.
    pub hours: [Vec<(Time, Time)>; 7],
    /// The tenant's own closed days, beside the public holidays.
    pub closed: Vec<Date>,
}

/// A service one books a visit for.
#[derive(Clone, Debug)]
pub struct VisitService {
    pub id: String,
    pub title: Text,
    pub office: String,
    pub minutes: u32,
    /// What to bring.
    pub bring: Vec<Text>,
}

/// A tenant's offices and services (`portal/termine/<tenant>.yaml`).
#[derive(Clone, Debug, Default)]
pub struct Schedule {
    pub offices: Vec<Office>,
    pub services: Vec<VisitService>,
}

/// One bookable start time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Slot {
    /// The wall-clock time in Berlin.
    pub local: PrimitiveDateTime,
    /// The instant.
    pub start: OffsetDateTime,
    /// Counters still free at that time.
    pub free: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    offices: Vec<RawOffice>,
    #[serde(default)]
    services: Vec<RawService>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffice {
    id: Spanned<String>,
    name: Text,
    #[serde(default)]
    address: Vec<String>,
    counters: Spanned<u32>,
    #[serde(default)]
    slot_minutes: Option<Spanned<u32>>,
    hours: BTreeMap<String, Spanned<Vec<String>>>,
    #[serde(default)]
    closed: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: Spanned<String>,
    title: Text,
    office: Spanned<String>,
    minutes: Spanned<u32>,
    #[serde(default)]
    bring: Vec<Text>,
}

const DAYS: [&str; 7] = ["mo", "di", "mi", "do", "fr", "sa", "so"];

fn at<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

fn parse_time(s: &str) -> Option<Time> {
    let (h, m) = s.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

fn parse_interval(s: &str) -> Option<(Time, Time)> {
    let (a, b) = s.split_once('-')?;
    let (a, b) = (parse_time(a)?, parse_time(b)?);
    (a < b).then_some((a, b))
}

impl Schedule {
    /// Reads a schedule file; every problem with its place (LOT-E130 to LOT-E133).
    pub fn parse(path: &Path, text: &str) -> Result<Schedule, Vec<Problem>> {
        let raw: RawSchedule =
            crate::definition::files::parse_yaml(path, text, "docs/appointments.md")
                .map_err(|p| vec![p])?;
        let mut problems = Vec::new();
        let mut offices = Vec::new();
        for o in raw.offices {
            let mut hours: [Vec<(Time, Time)>; 7] = Default::default();
            for (day, list) in &o.hours {
                let Some(i) = DAYS.iter().position(|d| d == day) else {
                    problems.push(Problem::error(
                        "LOT-E130",
                        path,
                        at(list),
                        format!(
                            "hours: \"{day}\" is not a weekday; use mo, di, mi, do, fr, sa, so"
                        ),
                    ));
                    continue;
                };
                for iv in &list.value {
                    match parse_interval(iv) {
                        Some(x) => hours[i].push(x),
                        None => problems.push(Problem::error(
                            "LOT-E130",
                            path,
                            at(list),
                            format!("hours.{day}: \"{iv}\" is not a time span like 08:00-12:30"),
                        )),
                    }
                }
                hours[i].sort();
            }
            if o.counters.value == 0 || o.counters.value > 100 {
                problems.push(Problem::error(
                    "LOT-E131",
                    path,
                    at(&o.counters),
                    "counters: between 1 and 100 appointments at the same time",
                ));
            }
            let slot_minutes = o.slot_minutes.as_ref().map_or(15, |s| s.value);
            if let Some(s) = &o.slot_minutes
                && !(5..=240).contains(&s.value)
            {
                problems.push(Problem::error(
                    "LOT-E131",
                    path,
                    at(s),
                    "slot_minutes: between 5 and 240",
                ));
            }
            let mut closed = Vec::new();
            for c in &o.closed {
                match Date::parse(
                    &c.value,
                    time::macros::format_description!("[year]-[month]-[day]"),
                ) {
                    Ok(d) => closed.push(d),
                    Err(_) => problems.push(Problem::error(
                        "LOT-E130",
                        path,
                        at(c),
                        format!("closed: \"{}\" is not a date like 2026-12-24", c.value),
                    )),
                }
            }
            offices.push(Office {
                id: o.id.value.clone(),
                name: o.name,
                address: o.address,
                counters: o.counters.value,
                slot_minutes,
                hours,
                closed,
            });
        }
        let mut services = Vec::new();
        for s in raw.services {
            if !offices.iter().any(|o| o.id == s.office.value) {
                problems.push(Problem::error(
                    "LOT-E132",
                    path,
                    at(&s.office),
                    format!(
                        "office: \"{}\" is not an office of this file",
                        s.office.value
                    ),
                ));
            }
            if !(5..=480).contains(&s.minutes.value) {
                problems.push(Problem::error(
                    "LOT-E133",
                    path,
                    at(&s.minutes),
                    "minutes: a visit takes between 5 and 480 minutes",
                ));
            }
            services.push(VisitService {
                id: s.id.value,
                title: s.title,
                office: s.office.value,
                minutes: s.minutes.value,
                bring: s.bring,
            });
        }
        if problems.is_empty() {
            Ok(Schedule { offices, services })
        } else {
            Err(problems)
        }
    }

    pub fn office(&self, id: &str) -> Option<&Office> {
        self.offices.iter().find(|o| o.id == id)
    }

    pub fn service(&self, id: &str) -> Option<&VisitService> {
        self.services.iter().find(|s| s.id == id)
    }

    /// Whether `office` is open on `date` at all: not a public holiday in NRW, not one of its
    /// own closed days, and with opening hours on that weekday.
    pub fn open_on(office: &Office, date: Date) -> bool {
        let weekday = usize::from(date.weekday().number_days_from_monday());
        holidays::nrw_holiday(date).is_none()
            && !office.closed.contains(&date)
            && office.hours.get(weekday).is_some_and(|h| !h.is_empty())
    }

    /// The start times of `service` on `date` that begin after `earliest`, with the counters
    /// `taken` leaves free (it gets the instant of each start and answers how many visits
    /// overlap it); full slots are left out. A visit must end within its opening interval.
    pub fn slots(
        &self,
        service: &str,
        date: Date,
        earliest: OffsetDateTime,
        taken: &dyn Fn(OffsetDateTime) -> u32,
    ) -> Vec<Slot> {
        let Some(s) = self.service(service) else {
            return Vec::new();
        };
        let Some(office) = self.office(&s.office) else {
            return Vec::new();
        };
        if !Schedule::open_on(office, date) {
            return Vec::new();
        }
        let weekday = usize::from(date.weekday().number_days_from_monday());
        let step = Duration::minutes(i64::from(office.slot_minutes));
        let visit = Duration::minutes(i64::from(s.minutes));
        let mut out = Vec::new();
        for (open, close) in office.hours.get(weekday).into_iter().flatten() {
            let mut t = PrimitiveDateTime::new(date, *open);
            let end = PrimitiveDateTime::new(date, *close);
            while t + visit <= end {
                if let Some(start) = crate::receipt::berlin_to_utc(t)
                    && start >= earliest
                {
                    let used = taken(start);
                    if used < office.counters {
                        out.push(Slot {
                            local: t,
                            start,
                            free: office.counters - used,
                        });
                    }
                }
                t += step;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
