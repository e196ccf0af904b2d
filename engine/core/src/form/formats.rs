//! German field formats that really check: IBAN, PLZ, Steuer-ID, Kfz-Kennzeichen, phone, e-mail, dates.
//!
//! Every check is a pure function over `&str` that never panics, whatever the input. The names
//! used in JSON Schemas (`"format": "iban"` and so on) are listed in [`FORMATS`].

use time::{Date, Month};

/// A format check: `true` if the text has the format.
pub type FormatCheck = fn(&str) -> bool;

/// Format names as used in the `format` keyword of form schemas, with their checks.
///
/// `date-past` and `date-future` only check the syntax here; comparing with today is the
/// engine's job, because only the engine knows its clock.
pub const FORMATS: &[(&str, FormatCheck)] = &[
    ("iban", iban),
    ("plz", plz),
    ("steuer-id", steuer_id),
    ("kfz-kennzeichen", kfz_kennzeichen),
    ("telefon", telefon),
    ("email", email),
    ("date", is_date),
    ("date-past", is_date),
    ("date-future", is_date),
];

/// Looks up the check for a format name from [`FORMATS`].
pub fn check_for(name: &str) -> Option<FormatCheck> {
    FORMATS
        .iter()
        .find(|(format, _)| *format == name)
        .map(|(_, check)| *check)
}

/// IBAN lengths per country: Germany, the SEPA countries and a few neighbours.
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AL", 28),
    ("AT", 20),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("CH", 21),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("EE", 20),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IS", 26),
    ("IT", 27),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("ME", 22),
    ("MK", 19),
    ("MT", 31),
    ("NL", 18),
    ("NO", 15),
    ("PL", 28),
    ("PT", 25),
    ("RO", 24),
    ("RS", 22),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
];

/// The IBAN with spaces removed and letters uppercased, if it contains nothing but ASCII
/// letters, digits and spaces.
fn iban_compact(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(34);
    for c in s.chars() {
        match c {
            ' ' => {}
            'a'..='z' | 'A'..='Z' | '0'..='9' => {
                if out.len() >= 34 {
                    return None;
                }
                // ASCII by the match above, so the cast is lossless.
                out.push(c.to_ascii_uppercase() as u8);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Checks an IBAN: known country, its length, alphanumeric BBAN and the ISO 7064 mod-97 check.
///
/// Spaces are ignored; letters may be in either case.
pub fn iban(s: &str) -> bool {
    let Some(compact) = iban_compact(s) else {
        return false;
    };
    if compact.len() < 5 {
        return false;
    }
    let (country, rest) = compact.split_at(2);
    if !country.iter().all(u8::is_ascii_uppercase) || !rest[..2].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let Some(&(_, length)) = IBAN_LENGTHS
        .iter()
        .find(|(code, _)| code.as_bytes() == country)
    else {
        return false;
    };
    if compact.len() != length {
        return false;
    }
    iban_mod97(&compact) == 1
}

/// The IBAN remainder mod 97 after moving the first four characters to the end and replacing
/// letters by 10..=35. Expects uppercase ASCII alphanumerics.
fn iban_mod97(compact: &[u8]) -> u32 {
    let (head, tail) = compact.split_at(4.min(compact.len()));
    tail.iter().chain(head).fold(0u32, |acc, &b| {
        let value = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            _ => 0,
        };
        if value >= 10 {
            (acc * 100 + value) % 97
        } else {
            (acc * 10 + value) % 97
        }
    })
}

/// Checks a German postcode: exactly five ASCII digits, not starting with `00`, and not
/// `99999` (the range in use is 01001..=99998).
pub fn plz(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 5 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let n = b
        .iter()
        .fold(0u32, |acc, &d| acc * 10 + u32::from(d - b'0'));
    (1001..=99998).contains(&n)
}

/// The ASCII digits of `s` as numbers, spaces skipped; `None` for any other character or more
/// than `max` digits.
fn digits_ignoring_spaces(s: &str, max: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(max);
    for c in s.chars() {
        match c {
            ' ' => {}
            '0'..='9' => {
                if out.len() >= max {
                    return None;
                }
                out.push(c as u8 - b'0');
            }
            _ => return None,
        }
    }
    Some(out)
}

/// ISO/IEC 7064 MOD 11,10 check digit over the given digits (each 0..=9).
fn mod_11_10_check_digit(digits: &[u8]) -> u8 {
    let mut product: u8 = 10;
    for &d in digits {
        let mut sum = (d + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    let check = 11 - product;
    if check == 10 { 0 } else { check }
}

/// The structural rule for the first ten digits of a Steuer-ID: exactly one digit occurs more
/// than once, and it occurs twice or three times; a digit occurring three times must not stand
/// in three directly consecutive positions.
fn steuer_id_structure_ok(first10: &[u8]) -> bool {
    let mut counts = [0u8; 10];
    for &d in first10 {
        if let Some(c) = counts.get_mut(usize::from(d)) {
            *c += 1;
        }
    }
    let mut repeated = counts.iter().enumerate().filter(|(_, c)| **c > 1);
    let Some((digit, &count)) = repeated.next() else {
        return false;
    };
    if repeated.next().is_some() || count > 3 {
        return false;
    }
    if count == 3 {
        // `digit` is an index into a ten-element array, so it fits in u8.
        let digit = digit as u8;
        let in_a_row = first10.windows(3).any(|w| w.iter().all(|&d| d == digit));
        if in_a_row {
            return false;
        }
    }
    true
}

/// Checks a German Steuerliche Identifikationsnummer (IdNr).
///
/// Eleven digits (spaces ignored), first digit not 0; in the first ten digits exactly one digit
/// occurs twice or three times (three times only if not all three stand directly next to each
/// other); the eleventh digit is the ISO/IEC 7064 MOD 11,10 check digit of the first ten.
pub fn steuer_id(s: &str) -> bool {
    let Some(digits) = digits_ignoring_spaces(s, 11) else {
        return false;
    };
    if digits.len() != 11 || digits[0] == 0 {
        return false;
    }
    let (first10, check) = digits.split_at(10);
    steuer_id_structure_ok(first10) && check == [mod_11_10_check_digit(first10)]
}

fn is_plate_letter(c: char) -> bool {
    c.is_ascii_alphabetic()
}

fn is_district_letter(c: char) -> bool {
    c.is_ascii_alphabetic() || matches!(c, 'Ä' | 'Ö' | 'Ü' | 'ä' | 'ö' | 'ü')
}

/// Checks a German number plate such as `HS-AB 123`, `HS AB 1234E` or `MÖN-X 1H`.
///
/// District code of 1–3 letters (Ä, Ö, Ü allowed), then `-` or a space, then 1–2 letters, an
/// optional space, 1–4 digits without leading zero and an optional suffix `E` (electric) or `H`
/// (historic). At most 8 characters without the separators, the suffix included (a plate has
/// room for eight characters and the E or H takes one of them). Case does not matter.
pub fn kfz_kennzeichen(s: &str) -> bool {
    let chars: Vec<char> = s.trim().chars().collect();
    let mut i = 0;
    let take = |i: &mut usize, pred: &dyn Fn(char) -> bool, max: usize| -> usize {
        let start = *i;
        while *i < chars.len() && *i - start < max && pred(chars[*i]) {
            *i += 1;
        }
        *i - start
    };
    let district = take(&mut i, &is_district_letter, 3);
    if district == 0 {
        return false;
    }
    match chars.get(i) {
        Some('-' | ' ') => i += 1,
        _ => return false,
    }
    let letters = take(&mut i, &is_plate_letter, 2);
    if letters == 0 {
        return false;
    }
    if chars.get(i) == Some(&' ') {
        i += 1;
    }
    if chars.get(i) == Some(&'0') {
        return false;
    }
    let digits = take(&mut i, &|c: char| c.is_ascii_digit(), 4);
    if digits == 0 {
        return false;
    }
    let suffix = match chars.get(i) {
        Some('E' | 'e' | 'H' | 'h') => {
            i += 1;
            1
        }
        _ => 0,
    };
    i == chars.len() && district + letters + digits + suffix <= 8
}

/// Checks a German or international phone number: optional leading `+`, then digits, spaces,
/// `/`, `-` and balanced, unnested parentheses; 6 to 15 digits in all.
pub fn telefon(s: &str) -> bool {
    let s = s.trim();
    let body = s.strip_prefix('+').unwrap_or(s);
    let mut digits = 0usize;
    let mut open = false;
    for (n, c) in body.chars().enumerate() {
        match c {
            '0'..='9' => digits += 1,
            ' ' | '/' | '-' => {
                if n == 0 {
                    return false;
                }
            }
            '(' if !open => open = true,
            ')' if open => open = false,
            _ => return false,
        }
    }
    !open && (6..=15).contains(&digits)
}

/// Checks an e-mail address pragmatically: exactly one `@`, a non-empty local part without
/// whitespace, and a domain of at least two dot-separated labels made of letters (umlauts and
/// other IDN letters allowed), digits and inner hyphens; the last label is not all digits.
pub fn email(s: &str) -> bool {
    if s.chars().count() > 254 {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    if local.is_empty()
        || local.chars().count() > 64
        || local.chars().any(|c| c.is_whitespace() || c.is_control())
        || domain.contains('@')
    {
        return false;
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return false;
    }
    let labels_ok = labels.iter().all(|label| {
        !label.is_empty()
            && label.chars().count() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    let tld_ok = labels
        .last()
        .is_some_and(|tld| tld.chars().count() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    labels_ok && tld_ok
}

/// Parses an ISO 8601 calendar date `YYYY-MM-DD` and checks that the day exists.
pub fn date(s: &str) -> Option<Date> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let number = |range: &[u8]| -> Option<u32> {
        range.iter().try_fold(0u32, |acc, &d| {
            d.is_ascii_digit().then(|| acc * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(number(&b[0..4])?).ok()?;
    let month = Month::try_from(u8::try_from(number(&b[5..7])?).ok()?).ok()?;
    let day = u8::try_from(number(&b[8..10])?).ok()?;
    Date::from_calendar_date(year, month, day).ok()
}

/// [`date`] as a yes/no check, for [`FORMATS`].
pub fn is_date(s: &str) -> bool {
    date(s).is_some()
}

/// Brings a value of the given format into its canonical written form, where one exists:
/// IBAN uppercase in groups of four, Steuer-ID without spaces, number plates uppercase with a
/// hyphen after the district code, e-mail with a lowercase domain. Anything else is only
/// trimmed. Values that do not pass the check are only trimmed, too.
pub fn normalise(kind: &str, s: &str) -> String {
    let trimmed = s.trim();
    match kind {
        "iban" if iban(trimmed) => {
            let compact: String = trimmed
                .chars()
                .filter(|c| *c != ' ')
                .map(|c| c.to_ascii_uppercase())
                .collect();
            let mut out = String::with_capacity(compact.len() + compact.len() / 4);
            for (n, c) in compact.chars().enumerate() {
                if n > 0 && n % 4 == 0 {
                    out.push(' ');
                }
                out.push(c);
            }
            out
        }
        "steuer-id" if steuer_id(trimmed) => trimmed.chars().filter(|c| *c != ' ').collect(),
        "kfz-kennzeichen" if kfz_kennzeichen(trimmed) => {
            let upper = trimmed.to_uppercase();
            match upper.split_once([' ', '-']) {
                Some((district, rest)) => format!("{district}-{rest}"),
                None => upper,
            }
        }
        "email" if email(trimmed) => match trimmed.split_once('@') {
            Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
            None => trimmed.to_owned(),
        },
        _ => trimmed.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    // --- IBAN ---

    #[test]
    fn iban_known_valid() {
        assert!(iban("DE89370400440532013000"));
        assert!(iban("DE89 3704 0044 0532 0130 00"));
        assert!(iban("de89 3704 0044 0532 0130 00"));
        assert!(iban("GB82WEST12345698765432"));
        assert!(iban("AT611904300234573201"));
        assert!(iban("CH9300762011623852957"));
        assert!(iban("FR1420041010050500013M02606"));
        assert!(iban("NL91ABNA0417164300"));
        assert!(iban("BE68539007547034"));
    }

    #[test]
    fn iban_near_misses() {
        assert!(!iban("DE89370400440532013001"), "last digit changed");
        assert!(!iban("DE88370400440532013000"), "check digits changed");
        assert!(!iban("DE8937040044053201300"), "too short");
        assert!(!iban("DE893704004405320130000"), "too long");
        assert!(!iban("XX89370400440532013000"), "unknown country");
        assert!(!iban("DE89-3704-0044-0532-0130-00"), "hyphens");
        assert!(!iban(""));
        assert!(!iban("DE"));
        assert!(!iban("DEÄ9370400440532013000"));
        assert!(!iban("D889370400440532013000"));
    }

    /// Builds a valid German IBAN from an 18-digit BBAN by computing the check digits.
    fn de_iban(bban: &str) -> String {
        let provisional = format!("DE00{bban}");
        let remainder = iban_mod97(provisional.as_bytes());
        format!("DE{:02}{bban}", 98 - remainder)
    }

    #[test]
    fn iban_builder_reproduces_known_example() {
        assert_eq!(de_iban("370400440532013000"), "DE89370400440532013000");
    }

    // --- PLZ ---

    #[test]
    fn plz_examples() {
        assert!(plz("06108"));
        assert!(plz("10115"));
        assert!(plz("01001"));
        assert!(plz("99998"));
        assert!(!plz("00123"));
        assert!(!plz("01000"));
        assert!(!plz("99999"));
        assert!(!plz("1234"));
        assert!(!plz("123456"));
        assert!(!plz("1234a"));
        assert!(!plz(" 12345"));
        assert!(!plz("１２３４５"), "full-width digits");
    }

    // --- Steuer-ID ---

    #[test]
    fn steuer_id_check_digit_matches_known_numbers() {
        assert_eq!(mod_11_10_check_digit(&[8, 6, 0, 9, 5, 7, 4, 2, 7, 1]), 9);
        assert_eq!(mod_11_10_check_digit(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 9]), 5);
        // ELSTER test number 02476291358: the check digit fits, but test numbers start with 0,
        // which real ones never do.
        assert_eq!(mod_11_10_check_digit(&[0, 2, 4, 7, 6, 2, 9, 1, 3, 5]), 8);
        assert!(!steuer_id("02476291358"));
    }

    #[test]
    fn steuer_id_known_valid() {
        assert!(steuer_id("86095742719"));
        assert!(steuer_id("86 095 742 719"));
        assert!(steuer_id("12345678995"));
        // Digit 4 three times, never three in a row (rule since 2016).
        let first10 = [4, 1, 4, 2, 3, 4, 5, 6, 7, 8];
        let id: String = first10
            .iter()
            .chain(std::iter::once(&mod_11_10_check_digit(&first10)))
            .map(|d| char::from(b'0' + d))
            .collect();
        assert!(steuer_id(&id), "{id}");
    }

    #[test]
    fn steuer_id_near_misses() {
        assert!(!steuer_id("86095742718"), "check digit changed");
        assert!(!steuer_id("86095742729"), "a digit changed");
        assert!(!steuer_id("8609574271"), "too short");
        assert!(!steuer_id("860957427190"), "too long");
        assert!(!steuer_id("8609574271a"));
        assert!(!steuer_id("86-095-742-719"));
        assert!(!steuer_id(""));
    }

    #[test]
    fn steuer_id_structure_rule() {
        let with_check = |first10: [u8; 10]| -> String {
            first10
                .iter()
                .chain(std::iter::once(&mod_11_10_check_digit(&first10)))
                .map(|d| char::from(b'0' + d))
                .collect()
        };
        // All ten digits different: no repeated digit.
        assert!(!steuer_id(&with_check([1, 2, 3, 4, 5, 6, 7, 8, 9, 0])));
        // Two digits repeated.
        assert!(!steuer_id(&with_check([1, 1, 2, 2, 3, 4, 5, 6, 7, 8])));
        // One digit four times.
        assert!(!steuer_id(&with_check([1, 1, 2, 1, 3, 1, 5, 6, 7, 8])));
        // Three times directly in a row.
        assert!(!steuer_id(&with_check([1, 2, 2, 2, 3, 4, 5, 6, 7, 8])));
        // Three times, two of them adjacent: allowed.
        assert!(steuer_id(&with_check([1, 2, 2, 3, 2, 4, 5, 6, 7, 8])));
        // Leading zero.
        assert!(!steuer_id(&with_check([0, 1, 2, 3, 4, 5, 6, 7, 8, 8])));
    }

    // --- Kfz-Kennzeichen ---

    #[test]
    fn kfz_examples() {
        for ok in [
            "HS-AB 123",
            "HS AB 123E",
            "MÖN-X 1H",
            "möN-x 1h",
            "B-A 1",
            "B-AB1234",
            "HSK-AB 12",
            "M-XY 999H",
            "KÜN-Z 9",
        ] {
            assert!(kfz_kennzeichen(ok), "{ok}");
        }
        for bad in [
            "",
            "HS",
            "HS-",
            "HS-AB",
            "HSKL-AB 1",
            "HS-ABC 1",
            "HS-AB 12345",
            "HSK-AB 1234",
            "HSK-AB 123E",
            // The E/H suffix counts towards the eight characters.
            "HS AB 1234E",
            "HS-AB 0123",
            "HS-AB 12X",
            "HS--AB 1",
            "HS-ÄB 1",
            "HSAB 123",
            "HS-AB 123 E",
            "HS_AB 123",
        ] {
            assert!(!kfz_kennzeichen(bad), "{bad}");
        }
    }

    // --- Telefon ---

    #[test]
    fn telefon_examples() {
        for ok in [
            "0345 1234567",
            "+49 345 1234567",
            "+49 (0)345 123-4567",
            "0345/123456",
            "(0345) 12 34 56",
            "123456",
        ] {
            assert!(telefon(ok), "{ok}");
        }
        for bad in [
            "",
            "12345",
            "+49 345 1234567890123",
            "0345 123456a",
            "++49 345 123456",
            "0345 (123 456",
            "0345 123) 456",
            "0345 ((12)) 3456",
            "- 0345 123456",
            "+",
        ] {
            assert!(!telefon(bad), "{bad}");
        }
    }

    // --- E-Mail ---

    #[test]
    fn email_examples() {
        for ok in [
            "max.mustermann@example.de",
            "a@b.de",
            "info@müller-bau.de",
            "first+tag@sub.example.org",
        ] {
            assert!(email(ok), "{ok}");
        }
        for bad in [
            "",
            "@example.de",
            "max@",
            "max@example",
            "max mustermann@example.de",
            "max@@example.de",
            "max@ex@ample.de",
            "max@-example.de",
            "max@example-.de",
            "max@example..de",
            "max@.example.de",
            "max@example.d",
            "max@127.0.0.1",
            "max@exa_mple.de",
        ] {
            assert!(!email(bad), "{bad}");
        }
    }

    // --- Datum ---

    #[test]
    fn date_examples() {
        assert_eq!(
            date("2024-02-29"),
            Some(Date::from_calendar_date(2024, Month::February, 29).unwrap())
        );
        assert!(date("2000-02-29").is_some());
        assert!(date("1900-02-29").is_none());
        assert!(date("2023-02-29").is_none());
        assert!(date("2024-04-31").is_none());
        assert!(date("2024-13-01").is_none());
        assert!(date("2024-00-10").is_none());
        assert!(date("2024-01-00").is_none());
        assert!(date("24-01-01").is_none());
        assert!(date("2024-1-01").is_none());
        assert!(date("01.02.2024").is_none());
        assert!(date("2024-01-01T00:00").is_none());
        assert!(date("+024-01-01").is_none());
        assert!(date("2024-01-0é").is_none());
    }

    // --- table and normalise ---

    #[test]
    fn formats_table_names() {
        let names: Vec<&str> = FORMATS.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            names,
            [
                "iban",
                "plz",
                "steuer-id",
                "kfz-kennzeichen",
                "telefon",
                "email",
                "date",
                "date-past",
                "date-future"
            ]
        );
        assert!(check_for("iban").unwrap()("DE89370400440532013000"));
        assert!(check_for("date-past").unwrap()("1990-05-17"));
        assert!(check_for("nope").is_none());
    }

    #[test]
    fn normalise_examples() {
        assert_eq!(
            normalise("iban", " de89370400440532013000 "),
            "DE89 3704 0044 0532 0130 00"
        );
        assert_eq!(normalise("steuer-id", "86 095 742 719"), "86095742719");
        assert_eq!(normalise("kfz-kennzeichen", "mön x 1h"), "MÖN-X 1H");
        assert_eq!(normalise("email", "Max@Example.DE"), "Max@example.de");
        assert_eq!(normalise("plz", " 06108 "), "06108");
        assert_eq!(normalise("iban", " kaputt "), "kaputt");
    }

    // --- property tests ---

    /// A valid Steuer-ID: nine distinct digits, one of them doubled, no leading zero.
    fn valid_steuer_id() -> impl Strategy<Value = Vec<u8>> {
        (
            Just((0u8..10).collect::<Vec<u8>>()).prop_shuffle(),
            0usize..9,
            0usize..10,
        )
            .prop_map(|(perm, dup, at)| {
                let mut first10: Vec<u8> = perm[..9].to_vec();
                first10.insert(at, first10[dup]);
                if let Some(nonzero) = first10.iter().position(|&d| d != 0) {
                    first10.swap(0, nonzero);
                }
                let check = mod_11_10_check_digit(&first10);
                first10.push(check);
                first10
            })
    }

    fn to_string(digits: &[u8]) -> String {
        digits.iter().map(|d| char::from(b'0' + d)).collect()
    }

    proptest! {
        #[test]
        fn no_check_panics(s in any::<String>()) {
            for (_, check) in FORMATS {
                let _ = check(&s);
            }
            let _ = date(&s);
            for kind in ["iban", "steuer-id", "kfz-kennzeichen", "email", "plz"] {
                let _ = normalise(kind, &s);
            }
        }

        #[test]
        fn no_check_panics_on_near_formats(s in "[0-9A-Za-zÄÖÜäöüß@.+() /-]{0,40}") {
            for (_, check) in FORMATS {
                let _ = check(&s);
            }
        }

        #[test]
        fn generated_de_iban_is_valid(bban in "[0-9]{18}") {
            let valid = de_iban(&bban);
            prop_assert!(iban(&valid), "{}", valid);
            let spaced = normalise("iban", &valid);
            prop_assert!(iban(&spaced), "{}", spaced);
        }

        #[test]
        fn iban_with_one_digit_changed_fails(
            bban in "[0-9]{18}",
            pos in 2usize..22,
            delta in 1u8..10,
        ) {
            let valid = de_iban(&bban).into_bytes();
            let mut changed = valid.clone();
            changed[pos] = b'0' + (valid[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(changed).unwrap();
            prop_assert!(!iban(&changed), "{}", changed);
        }

        #[test]
        fn generated_steuer_id_is_valid(id in valid_steuer_id()) {
            prop_assert!(steuer_id(&to_string(&id)), "{:?}", id);
        }

        #[test]
        fn steuer_id_with_one_digit_changed_fails(
            id in valid_steuer_id(),
            pos in 0usize..11,
            delta in 1u8..10,
        ) {
            let mut changed = id.clone();
            changed[pos] = (id[pos] + delta) % 10;
            prop_assert!(!steuer_id(&to_string(&changed)), "{:?}", changed);
        }

        #[test]
        fn valid_plz_round_trip(n in 1001u32..=99998) {
            let text = format!("{n:05}");
            prop_assert!(plz(&text), "{}", text);
        }

        #[test]
        fn real_dates_parse(year in 1i32..=9999, ordinal in 1u16..=365) {
            let d = Date::from_ordinal_date(year, ordinal).unwrap();
            let text = format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
            prop_assert_eq!(date(&text), Some(d));
        }
    }
}
