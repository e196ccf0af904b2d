#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;
use time::macros::{date, datetime};

const FILE: &str = r#"
offices:
  - id: buergerbuero
    name: { de: Bürgerbüro, en: Citizens' office }
    address: [Apfelstraße 23, 52525 Heinsberg]
    counters: 2
    slot_minutes: 15
    hours:
      mo: ["08:00-12:00", "14:00-16:00"]
      di: ["08:00-12:00"]
      mi: ["08:00-12:00"]
      do: ["08:00-12:00", "14:00-18:00"]
      fr: ["08:00-12:00"]
    closed: ["2027-12-24"]
services:
  - id: personalausweis
    title: Personalausweis beantragen
    office: buergerbuero
    minutes: 30
    bring: [Biometrisches Passfoto, Bisheriger Ausweis]
"#;

fn schedule() -> Schedule {
    Schedule::parse(Path::new("heinsberg.yaml"), FILE).unwrap()
}

#[test]
fn a_day_has_its_slots_and_a_visit_ends_before_closing() {
    let s = schedule();
    let none = |_| 0;
    // Monday 1 March 2027: 08:00–11:30 every 15 minutes (15 starts), 14:00–15:30 (7 starts).
    let slots = s.slots(
        "personalausweis",
        date!(2027 - 03 - 01),
        datetime!(2027-01-01 0:00 UTC),
        &none,
    );
    assert_eq!(slots.len(), 15 + 7);
    assert_eq!(slots[0].local, datetime!(2027-03-01 08:00));
    assert_eq!(slots[0].start, datetime!(2027-03-01 07:00 UTC));
    assert_eq!(slots[14].local, datetime!(2027-03-01 11:30));
    assert_eq!(slots[15].local, datetime!(2027-03-01 14:00));
    assert!(slots.iter().all(|x| x.free == 2));
}

#[test]
fn full_and_past_slots_are_left_out() {
    let s = schedule();
    let full = datetime!(2027-03-01 07:15 UTC);
    let one = datetime!(2027-03-01 07:30 UTC);
    let taken = move |t: OffsetDateTime| {
        if t == full {
            2
        } else if t == one {
            1
        } else {
            0
        }
    };
    let slots = s.slots(
        "personalausweis",
        date!(2027 - 03 - 01),
        datetime!(2027-03-01 07:10 UTC),
        &taken,
    );
    assert_eq!(
        slots[0].local,
        datetime!(2027-03-01 08:30),
        "08:00 is past, 08:15 is full"
    );
    assert_eq!(slots[0].free, 1);
}

#[test]
fn holidays_weekends_and_closed_days_have_no_slots() {
    let s = schedule();
    let none = |_| 0;
    let early = datetime!(2027-01-01 0:00 UTC);
    for day in [
        date!(2027 - 03 - 26), // Karfreitag
        date!(2027 - 05 - 27), // Fronleichnam
        date!(2027 - 03 - 27), // Saturday
        date!(2027 - 12 - 24), // the office's own closed day
    ] {
        assert!(
            s.slots("personalausweis", day, early, &none).is_empty(),
            "{day}"
        );
    }
}

#[test]
fn slots_keep_their_wall_clock_time_across_the_summer_time_switch() {
    let s = schedule();
    let none = |_| 0;
    let early = datetime!(2027-01-01 0:00 UTC);
    // The switch of 2027 is on Easter Sunday, 28 March: Karfreitag before and Ostermontag after
    // are holidays, so Thursday 25 and Tuesday 30 March are the office days around it.
    for holiday in [date!(2027 - 03 - 26), date!(2027 - 03 - 29)] {
        assert!(s.slots("personalausweis", holiday, early, &none).is_empty());
    }
    let before = s.slots("personalausweis", date!(2027 - 03 - 25), early, &none);
    let after = s.slots("personalausweis", date!(2027 - 03 - 30), early, &none);
    assert_eq!(before[0].start, datetime!(2027-03-25 07:00 UTC));
    assert_eq!(after[0].start, datetime!(2027-03-30 06:00 UTC));
    assert_eq!(after[0].local, datetime!(2027-03-30 08:00));
    // And back: Monday 1 November is Allerheiligen; Tuesday 2 November is winter time again.
    assert!(
        s.slots("personalausweis", date!(2027 - 11 - 01), early, &none)
            .is_empty()
    );
    let winter = s.slots("personalausweis", date!(2027 - 11 - 02), early, &none);
    assert_eq!(winter[0].start, datetime!(2027-11-02 07:00 UTC));
}

#[test]
fn a_wrong_file_gets_every_problem_with_its_place() {
    let bad = FILE
        .replace("counters: 2", "counters: 0")
        .replace("di: [\"08:00-12:00\"]", "dx: [\"08:00-12:00\"]")
        .replace("fr: [\"08:00-12:00\"]", "fr: [\"12:00-08:00\"]")
        .replace(
            "office: buergerbuero\n    minutes: 30",
            "office: rathaus\n    minutes: 30",
        );
    let problems = Schedule::parse(Path::new("x.yaml"), &bad).unwrap_err();
    let codes: Vec<&str> = problems.iter().map(|p| p.code).collect();
    assert_eq!(
        codes.iter().filter(|c| **c == "LOT-E130").count(),
        2,
        "{problems:#?}"
    );
    assert!(codes.contains(&"LOT-E131"));
    assert!(codes.contains(&"LOT-E132"));
    assert!(problems.iter().all(|p| p.line > 0), "{problems:#?}");
}
