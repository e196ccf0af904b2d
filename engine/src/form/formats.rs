//! TEMPORARY: replaced by the real German format checks from the `formats` branch.
pub const FORMATS: &[(&str, fn(&str) -> bool)] = &[
    ("plz", |s| s.len() == 5 && s.bytes().all(|b| b.is_ascii_digit())),
    ("iban", |s| !s.is_empty()),
    ("steuer-id", |s| s.len() == 11),
    ("kfz-kennzeichen", |s| !s.is_empty()),
    ("telefon", |s| !s.is_empty()),
    ("email", |s| s.contains('@')),
    ("date", |s| date(s).is_some()),
    ("date-past", |s| date(s).is_some()),
    ("date-future", |s| date(s).is_some()),
];
pub fn date(s: &str) -> Option<time::Date> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).ok()
}
