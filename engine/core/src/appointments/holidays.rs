//! The public holidays of North Rhine-Westphalia (Feiertagsgesetz NW, § 2): the fixed ones and
//! those that move with Easter (Gregorian computus), computed for any year.

use time::{Date, Duration, Month};

/// Easter Sunday of `year` (the anonymous Gregorian algorithm).
pub fn easter_sunday(year: i32) -> Option<Date> {
    let a = year.rem_euclid(19);
    let b = year.div_euclid(100);
    let c = year.rem_euclid(100);
    let d = b.div_euclid(4);
    let e = b.rem_euclid(4);
    let f = (b + 8).div_euclid(25);
    let g = (b - f + 1).div_euclid(3);
    let h = (19 * a + b - d - g + 15).rem_euclid(30);
    let i = c.div_euclid(4);
    let k = c.rem_euclid(4);
    let l = (32 + 2 * e + 2 * i - h - k).rem_euclid(7);
    let m = (a + 11 * h + 22 * l).div_euclid(451);
    let month = (h + l - 7 * m + 114).div_euclid(31);
    let day = (h + l - 7 * m + 114).rem_euclid(31) + 1;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    Date::from_calendar_date(year, month, u8::try_from(day).ok()?).ok()
}

/// Every public holiday of NRW in `year`, with its German name, in date order.
pub fn nrw_holidays(year: i32) -> Vec<(Date, &'static str)> {
    let fixed = [
        (Month::January, 1, "Neujahr"),
        (Month::May, 1, "Tag der Arbeit"),
        (Month::October, 3, "Tag der Deutschen Einheit"),
        (Month::November, 1, "Allerheiligen"),
        (Month::December, 25, "1. Weihnachtstag"),
        (Month::December, 26, "2. Weihnachtstag"),
    ];
    let mut out: Vec<(Date, &'static str)> = fixed
        .iter()
        .filter_map(|(m, d, n)| Some((Date::from_calendar_date(year, *m, *d).ok()?, *n)))
        .collect();
    if let Some(easter) = easter_sunday(year) {
        for (days, name) in [
            (-2, "Karfreitag"),
            (1, "Ostermontag"),
            (39, "Christi Himmelfahrt"),
            (50, "Pfingstmontag"),
            (60, "Fronleichnam"),
        ] {
            if let Some(d) = easter.checked_add(Duration::days(days)) {
                out.push((d, name));
            }
        }
    }
    out.sort();
    out
}

/// The holiday on `date`, if it is one in NRW.
pub fn nrw_holiday(date: Date) -> Option<&'static str> {
    nrw_holidays(date.year())
        .into_iter()
        .find(|(d, _)| *d == date)
        .map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn easter_is_right_for_known_years() {
        for (year, easter) in [
            (2024, date!(2024 - 03 - 31)),
            (2025, date!(2025 - 04 - 20)),
            (2026, date!(2026 - 04 - 05)),
            (2027, date!(2027 - 03 - 28)),
            (2038, date!(2038 - 04 - 25)),
            (2285, date!(2285 - 03 - 22)),
        ] {
            assert_eq!(easter_sunday(year), Some(easter), "{year}");
        }
    }

    #[test]
    fn nrw_has_eleven_holidays_with_fronleichnam_and_allerheiligen() {
        let h = nrw_holidays(2027);
        assert_eq!(h.len(), 11);
        assert_eq!(nrw_holiday(date!(2027 - 05 - 27)), Some("Fronleichnam"));
        assert_eq!(nrw_holiday(date!(2027 - 03 - 26)), Some("Karfreitag"));
        assert_eq!(nrw_holiday(date!(2027 - 11 - 01)), Some("Allerheiligen"));
        // Not in NRW: Reformationstag, Heilige Drei Könige.
        assert_eq!(nrw_holiday(date!(2027 - 10 - 31)), None);
        assert_eq!(nrw_holiday(date!(2027 - 01 - 06)), None);
    }
}
