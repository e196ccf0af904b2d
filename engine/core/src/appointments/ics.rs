//! A visit as an iCalendar file (RFC 5545) for the citizen's calendar: one VEVENT in
//! Europe/Berlin time with the zone's definition (VTIMEZONE), the office as location, what to
//! bring and the secret link to cancel or move in the description. Text is escaped (`\`, `;`,
//! `,`, line breaks) and lines are folded at 75 octets without splitting a character.

use time::{OffsetDateTime, PrimitiveDateTime};

/// What the calendar entry says.
pub struct CalendarVisit<'a> {
    /// Unique and stable: the booking id and the portal's host.
    pub uid: String,
    pub summary: &'a str,
    pub location: &'a str,
    pub description: &'a str,
    /// The page to cancel or move the visit.
    pub url: &'a str,
    pub start: PrimitiveDateTime,
    pub end: PrimitiveDateTime,
    /// When the file was made.
    pub stamp: OffsetDateTime,
    /// How often the visit moved: a calendar replaces an event of the same UID with a lower
    /// sequence.
    pub sequence: u32,
}

/// Europe/Berlin as RFC 5545 describes a zone: summer time from the last Sunday of March to
/// the last Sunday of October (the rules in force since 1996).
const VTIMEZONE: &str = "BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST\r\nDTSTART:19700329T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\nEND:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\nTZNAME:CET\r\nDTSTART:19701025T030000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded: at most 75 octets per line, continuation lines start with a space.
fn line(out: &mut String, text: &str) {
    let mut used = 0;
    for c in text.chars() {
        let n = c.len_utf8();
        if used + n > 75 {
            out.push_str("\r\n ");
            used = 1;
        }
        out.push(c);
        used += n;
    }
    out.push_str("\r\n");
}

fn local(t: PrimitiveDateTime) -> String {
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

fn utc(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{}Z", local(PrimitiveDateTime::new(t.date(), t.time())))
}

/// The `.ics` file of a visit.
pub fn calendar(v: &CalendarVisit<'_>) -> String {
    let mut out = String::new();
    for l in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Lotse//Terminvereinbarung//DE",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
    ] {
        line(&mut out, l);
    }
    out.push_str(VTIMEZONE);
    line(&mut out, "BEGIN:VEVENT");
    line(&mut out, &format!("UID:{}", escape(&v.uid)));
    line(&mut out, &format!("DTSTAMP:{}", utc(v.stamp)));
    line(&mut out, &format!("SEQUENCE:{}", v.sequence));
    line(
        &mut out,
        &format!("DTSTART;TZID=Europe/Berlin:{}", local(v.start)),
    );
    line(
        &mut out,
        &format!("DTEND;TZID=Europe/Berlin:{}", local(v.end)),
    );
    line(&mut out, &format!("SUMMARY:{}", escape(v.summary)));
    line(&mut out, &format!("LOCATION:{}", escape(v.location)));
    line(&mut out, &format!("DESCRIPTION:{}", escape(v.description)));
    line(&mut out, &format!("URL:{}", v.url));
    line(&mut out, "STATUS:CONFIRMED");
    line(&mut out, "TRANSP:OPAQUE");
    line(&mut out, "END:VEVENT");
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn lines_are_folded_at_75_octets_without_splitting_a_character() {
        let long = "ä".repeat(100);
        let ics = calendar(&CalendarVisit {
            uid: "x@example.org".into(),
            summary: &long,
            location: "Rathaus, Zimmer 1; Eingang B",
            description: "Mitbringen:\n- Pass",
            url: "https://portal.example/heinsberg/termin/abc",
            start: datetime!(2027-03-30 08:00),
            end: datetime!(2027-03-30 08:30),
            stamp: datetime!(2026-12-06 12:00 UTC),
            sequence: 0,
        });
        for l in ics.split("\r\n") {
            assert!(l.len() <= 75, "{l:?} has {} octets", l.len());
        }
        assert!(ics.contains("LOCATION:Rathaus\\, Zimmer 1\\; Eingang B\r\n"));
        assert!(ics.contains("DESCRIPTION:Mitbringen:\\n- Pass\r\n"));
        assert!(ics.contains("DTSTART;TZID=Europe/Berlin:20270330T080000\r\n"));
        assert!(ics.ends_with("END:VCALENDAR\r\n"));
    }
}
