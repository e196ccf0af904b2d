//! Civil time in Europe/Berlin from the time zone database (jiff, with the database bundled into
//! the binary: no file is read at run time, and every machine gives the same answer): CET (UTC+1)
//! and CEST (UTC+2) with the switches the database knows, past and announced.

use std::sync::LazyLock;

use jiff::tz::TimeZone;
use time::{OffsetDateTime, UtcOffset};

/// The zone, read once from the bundled database.
static BERLIN: LazyLock<Option<TimeZone>> = LazyLock::new(|| TimeZone::get("Europe/Berlin").ok());

/// Berlin's offset from UTC at `t`, in seconds, and whether it is summer time. Without the
/// zone (it is bundled, so never) CET.
fn offset_at(t: OffsetDateTime) -> (i32, bool) {
    let info = BERLIN.as_ref().and_then(|tz| {
        let ts = jiff::Timestamp::from_second(t.unix_timestamp()).ok()?;
        let info = tz.to_offset_info(ts);
        Some((info.offset().seconds(), info.dst().is_dst()))
    });
    info.unwrap_or((3600, false))
}

/// The instant of a wall-clock time in Berlin. A time the switch to summer time skips
/// (02:30 on the last Sunday of March) is read with the offset before the switch, so it is the
/// instant shown as 03:30; a time that comes twice in October is its first occurrence (summer
/// time).
pub fn berlin_to_utc(local: time::PrimitiveDateTime) -> Option<OffsetDateTime> {
    let tz = BERLIN.as_ref()?;
    let dt = jiff::civil::DateTime::new(
        i16::try_from(local.year()).ok()?,
        i8::try_from(u8::from(local.month())).ok()?,
        i8::try_from(local.day()).ok()?,
        i8::try_from(local.hour()).ok()?,
        i8::try_from(local.minute()).ok()?,
        0,
        0,
    )
    .ok()?;
    let ts = tz.to_ambiguous_timestamp(dt).compatible().ok()?;
    OffsetDateTime::from_unix_timestamp(ts.as_second()).ok()
}

/// `t` expressed in Berlin's offset at that instant.
pub fn to_berlin(t: OffsetDateTime) -> OffsetDateTime {
    let (seconds, _) = offset_at(t);
    let offset = UtcOffset::from_whole_seconds(seconds).unwrap_or(UtcOffset::UTC);
    t.to_offset(offset)
}

/// "28.11.2026, 11:51 Uhr" (de) or "28 November 2026, 11:51 (Berlin time)" style (en).
pub fn format_berlin(t: OffsetDateTime, language: super::Language) -> String {
    let b = to_berlin(t);
    let (_, summer) = offset_at(t);
    match language {
        super::Language::De => format!(
            "{:02}.{:02}.{:04}, {:02}:{:02} Uhr ({})",
            b.day(),
            u8::from(b.month()),
            b.year(),
            b.hour(),
            b.minute(),
            if summer { "MESZ" } else { "MEZ" }
        ),
        super::Language::En => format!(
            "{} {} {}, {:02}:{:02} ({}, Berlin)",
            b.day(),
            b.month(),
            b.year(),
            b.hour(),
            b.minute(),
            if summer { "CEST" } else { "CET" }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn winter_is_utc_plus_one() {
        assert_eq!(to_berlin(datetime!(2026-01-15 12:00 UTC)).hour(), 13);
    }

    #[test]
    fn summer_time_starts_last_sunday_of_march_at_one_utc() {
        // 2026-03-29 is the last Sunday of March.
        assert_eq!(to_berlin(datetime!(2026-03-29 00:59:59 UTC)).hour(), 1);
        assert_eq!(to_berlin(datetime!(2026-03-29 01:00 UTC)).hour(), 3);
    }

    #[test]
    fn summer_time_ends_last_sunday_of_october_at_one_utc() {
        // 2026-10-25 is the last Sunday of October: 02:00–03:00 comes twice.
        assert_eq!(to_berlin(datetime!(2026-10-25 00:59 UTC)).hour(), 2);
        assert_eq!(
            to_berlin(datetime!(2026-10-25 00:59 UTC))
                .offset()
                .whole_hours(),
            2
        );
        assert_eq!(to_berlin(datetime!(2026-10-25 01:00 UTC)).hour(), 2);
        assert_eq!(
            to_berlin(datetime!(2026-10-25 01:00 UTC))
                .offset()
                .whole_hours(),
            1
        );
    }

    #[test]
    fn the_database_knows_years_the_eu_rule_does_not_describe() {
        // 1980: Germany's first summer time since 1949 began on 6 April, not the last Sunday of
        // March; a hand-written rule for today's switches got this wrong.
        assert_eq!(to_berlin(datetime!(1980-03-30 12:00 UTC)).hour(), 13);
        assert_eq!(to_berlin(datetime!(1980-04-06 12:00 UTC)).hour(), 14);
        // 1995: summer time still ended on the last Sunday of September.
        assert_eq!(to_berlin(datetime!(1995-10-10 12:00 UTC)).hour(), 13);
    }

    #[test]
    fn wall_clock_times_on_the_switch_days_become_the_right_instants() {
        use time::macros::datetime;
        // Office hours on the days of the switch: 08:00 is 07:00 UTC in winter, 06:00 in summer.
        assert_eq!(
            berlin_to_utc(datetime!(2027-03-27 08:00)),
            Some(datetime!(2027-03-27 07:00 UTC))
        );
        assert_eq!(
            berlin_to_utc(datetime!(2027-03-28 08:00)),
            Some(datetime!(2027-03-28 06:00 UTC))
        );
        assert_eq!(
            berlin_to_utc(datetime!(2027-10-31 08:00)),
            Some(datetime!(2027-10-31 07:00 UTC))
        );
        // 02:30 does not exist on 28 March 2027; 02:30 on 31 October 2027 comes twice.
        assert_eq!(
            berlin_to_utc(datetime!(2027-03-28 02:30)),
            Some(datetime!(2027-03-28 01:30 UTC))
        );
        assert_eq!(
            berlin_to_utc(datetime!(2027-10-31 02:30)),
            Some(datetime!(2027-10-31 00:30 UTC))
        );
    }

    #[test]
    fn german_format_names_the_zone() {
        assert_eq!(
            format_berlin(datetime!(2026-07-01 08:05 UTC), super::super::Language::De),
            "01.07.2026, 10:05 Uhr (MESZ)"
        );
        assert_eq!(
            format_berlin(datetime!(2026-12-06 08:05 UTC), super::super::Language::En),
            "6 December 2026, 09:05 (CET, Berlin)"
        );
    }
}
