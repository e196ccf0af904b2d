//! Civil time in Europe/Berlin without a time zone database: CET (UTC+1), and CEST (UTC+2)
//! from the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC (EU rule
//! since 1996).

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset, Weekday};

/// `t` expressed in Berlin's offset at that instant.
pub fn to_berlin(t: OffsetDateTime) -> OffsetDateTime {
    let utc = t.to_offset(UtcOffset::UTC);
    let hours = if is_summer_time(utc) { 2 } else { 1 };
    // Whole hours between -25 and 25 are always valid offsets.
    let offset = UtcOffset::from_hms(hours, 0, 0).unwrap_or(UtcOffset::UTC);
    utc.to_offset(offset)
}

fn is_summer_time(utc: OffsetDateTime) -> bool {
    let year = utc.year();
    match (
        last_sunday_0100_utc(year, Month::March),
        last_sunday_0100_utc(year, Month::October),
    ) {
        (Some(start), Some(end)) => utc >= start && utc < end,
        _ => false,
    }
}

fn last_sunday_0100_utc(year: i32, month: Month) -> Option<OffsetDateTime> {
    // Both March and October have 31 days.
    let last = Date::from_calendar_date(year, month, 31).ok()?;
    let back = last.weekday().number_days_from_sunday();
    let sunday = last.checked_sub(time::Duration::days(i64::from(back)))?;
    debug_assert_eq!(sunday.weekday(), Weekday::Sunday);
    let at = PrimitiveDateTime::new(sunday, Time::from_hms(1, 0, 0).ok()?);
    Some(at.assume_utc())
}

/// "28.11.2026, 11:51 Uhr" (de) or "28 November 2026, 11:51 (Berlin time)" style (en).
pub fn format_berlin(t: OffsetDateTime, language: super::Language) -> String {
    let b = to_berlin(t);
    let zone = if b.offset().whole_hours() == 2 {
        "MESZ"
    } else {
        "MEZ"
    };
    match language {
        super::Language::De => format!(
            "{:02}.{:02}.{:04}, {:02}:{:02} Uhr ({zone})",
            b.day(),
            u8::from(b.month()),
            b.year(),
            b.hour(),
            b.minute()
        ),
        super::Language::En => {
            let zone = if zone == "MESZ" { "CEST" } else { "CET" };
            format!(
                "{} {} {}, {:02}:{:02} ({zone}, Berlin)",
                b.day(),
                b.month(),
                b.year(),
                b.hour(),
                b.minute()
            )
        }
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
        // 2026-10-25 is the last Sunday of October.
        assert_eq!(to_berlin(datetime!(2026-10-25 00:59 UTC)).hour(), 2);
        assert_eq!(to_berlin(datetime!(2026-10-25 01:00 UTC)).hour(), 2);
        assert_eq!(
            to_berlin(datetime!(2026-10-25 01:00 UTC))
                .offset()
                .whole_hours(),
            1
        );
    }

    #[test]
    fn german_format_names_the_zone() {
        assert_eq!(
            format_berlin(datetime!(2026-07-01 08:05 UTC), super::super::Language::De),
            "01.07.2026, 10:05 Uhr (MESZ)"
        );
    }
}
