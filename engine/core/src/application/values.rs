//! Normalising answers before validation: trimmed text, empty means "not answered", numbers and
//! dates as a German citizen types them (`12,5`, `31.12.1980`), checkboxes from form posts.

use std::borrow::Cow;

use serde_json::{Map, Number, Value};

use crate::definition::{Field, ValueType, Widget};

/// The answer as the engine keeps it, or `None` when the field was left empty.
pub fn normalise(f: &Field, v: &Value) -> Option<Value> {
    normalised(f, v).map(Cow::into_owned)
}

/// As [`normalise`], borrowing the answer when it is already as the engine keeps it (most
/// answers are), so that it can be stored without a copy.
pub(crate) fn normalised<'v>(f: &Field, v: &'v Value) -> Option<Cow<'v, Value>> {
    // A file field without files is not answered (`required` asks for one).
    if f.files.is_some() {
        return match v {
            Value::Null => None,
            Value::Array(a) if a.is_empty() => None,
            other => Some(Cow::Borrowed(other)),
        };
    }
    if f.widget == Widget::Checkboxes {
        return ticked(f, v);
    }
    // A form post sends `2` for an option whose value is the number 2.
    if let Value::String(s) = v
        && !f.options.is_empty()
    {
        let t = trimmed(s);
        if let Some(c) = f.options.iter().find(|c| match &c.value {
            Value::String(_) => false,
            other => *other == t,
        }) {
            return Some(Cow::Owned(c.value.clone()));
        }
    }
    normalise_as(f.value_type, &f.subfields, f.repeat.is_some(), v)
}

fn normalise_as<'v>(
    ty: ValueType,
    subfields: &[Field],
    repeated: bool,
    v: &'v Value,
) -> Option<Cow<'v, Value>> {
    match v {
        Value::Null => None,
        Value::String(s) => {
            let t = trimmed(s);
            if t.is_empty() {
                return None;
            }
            // A browser posts a text area's line breaks as CR LF: kept as one LF, as the
            // citizen typed them (and as a limit on the length counts them).
            let unix;
            let t = if t.contains('\r') {
                unix = t.replace("\r\n", "\n").replace('\r', "\n");
                unix.as_str()
            } else {
                t
            };
            // Unicode NFC, so that "ä" is stored one way however it was typed.
            let t = crate::form::nfc(t);
            let t: &str = &t;
            // The text as typed, trimmed and in NFC: borrowed when nothing changed.
            let text = || {
                if std::ptr::eq(t, s.as_str()) {
                    Cow::Borrowed(v)
                } else {
                    Cow::Owned(Value::String(t.to_string()))
                }
            };
            Some(match ty {
                ValueType::Integer => {
                    let parsed = if t.contains('.') {
                        t.replace('.', "").parse::<i64>()
                    } else {
                        t.parse::<i64>()
                    };
                    match parsed {
                        Ok(i) => Cow::Owned(Value::Number(i.into())),
                        Err(_) => text(),
                    }
                }
                ValueType::Number => {
                    let parsed = if t.contains(',') {
                        t.replace(',', ".").parse::<f64>()
                    } else {
                        t.parse::<f64>()
                    };
                    match parsed.ok().and_then(|f| {
                        if f.fract() == 0.0 && f.abs() < 1e15 {
                            Some(Value::Number((f as i64).into()))
                        } else {
                            Number::from_f64(f).map(Value::Number)
                        }
                    }) {
                        Some(n) => Cow::Owned(n),
                        None => text(),
                    }
                }
                ValueType::Boolean => match t.to_lowercase().as_str() {
                    "true" | "on" | "ja" | "yes" | "1" => Cow::Owned(Value::Bool(true)),
                    "false" | "off" | "nein" | "no" | "0" => Cow::Owned(Value::Bool(false)),
                    _ => text(),
                },
                ValueType::Date => match german_date(t) {
                    Some(iso) => Cow::Owned(Value::String(iso)),
                    None => text(),
                },
                _ => text(),
            })
        }
        Value::Array(items) if repeated => {
            let items: Vec<Value> = items
                .iter()
                .filter_map(|item| normalise_as(ValueType::Object, subfields, false, item))
                .map(Cow::into_owned)
                .collect();
            Some(Cow::Owned(Value::Array(items)))
        }
        Value::Object(map) if !subfields.is_empty() => {
            let mut out = Map::new();
            for (k, v) in map {
                let sub = subfields.iter().find(|f| &f.id == k);
                let nv = match sub {
                    Some(sf) => normalise(sf, v),
                    None => Some(v.clone()),
                };
                if let Some(nv) = nv {
                    out.insert(k.clone(), nv);
                }
            }
            if out.is_empty() {
                None
            } else {
                Some(Cow::Owned(Value::Object(out)))
            }
        }
        other => Some(Cow::Borrowed(other)),
    }
}

/// Checkboxes: the values ticked, each as its option's value (a form post sends `2` for the
/// number 2), once and in the order of the options; none ticked is not answered. Anything but
/// a list is left to the schema, which refuses it.
fn ticked<'v>(f: &Field, v: &'v Value) -> Option<Cow<'v, Value>> {
    let items = match v {
        Value::Null => return None,
        Value::Array(items) => items,
        other => return Some(Cow::Borrowed(other)),
    };
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let value = match item {
            Value::String(s) => {
                let t = crate::form::nfc(trimmed(s));
                if t.is_empty() {
                    continue;
                }
                f.options
                    .iter()
                    .find(|c| match &c.value {
                        Value::String(o) => *o == t,
                        other => other.to_string() == t,
                    })
                    .map_or(Value::String(t.to_string()), |c| c.value.clone())
            }
            other => other.clone(),
        };
        if !out.contains(&value) {
            out.push(value);
        }
    }
    if out.is_empty() {
        return None;
    }
    let place = |v: &Value| {
        f.options
            .iter()
            .position(|c| c.value == *v)
            .unwrap_or(usize::MAX)
    };
    out.sort_by_key(place);
    Some(Cow::Owned(Value::Array(out)))
}

/// `s` without leading and trailing whitespace. Most answers have none: when both ends are
/// visible ASCII characters (which in UTF-8 are never part of a longer character), the
/// search through the characters is skipped.
fn trimmed(s: &str) -> &str {
    let b = s.as_bytes();
    if b.first().is_some_and(u8::is_ascii_graphic) && b.last().is_some_and(u8::is_ascii_graphic) {
        s
    } else {
        s.trim()
    }
}

/// `31.12.1980` or `1.2.1980` as ISO `1980-12-31`; ISO input passes through unchanged.
fn german_date(s: &str) -> Option<String> {
    if !s.contains('.') {
        return None;
    }
    let mut parts = s.split('.');
    let (Some(d), Some(m), Some(y), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let d: u8 = d.trim().parse().ok()?;
    let m: u8 = m.trim().parse().ok()?;
    let y: i32 = y.trim().parse().ok()?;
    if !(1000..=9999).contains(&y) {
        return None;
    }
    let iso = format!("{y:04}-{m:02}-{d:02}");
    // 31.02. is not a date: leave the input as typed, so validation says so.
    crate::form::formats::date(&iso).map(|_| iso)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn answers_are_trimmed_of_any_whitespace() {
        for (typed, kept) in [
            ("Heinsberg", "Heinsberg"),
            (" Heinsberg", "Heinsberg"),
            ("Heinsberg\u{a0}", "Heinsberg"),
            ("\u{2003}Ärger ", "Ärger"),
            ("Übach-Palenberg", "Übach-Palenberg"),
            ("x", "x"),
            ("", ""),
            (" ", ""),
        ] {
            assert_eq!(trimmed(typed), kept, "{typed:?}");
        }
    }

    #[test]
    fn text_answers_are_kept_in_nfc() {
        let decomposed = Value::String(" Mu\u{308}ller ".into());
        let composed = normalise_as(ValueType::String, &[], false, &decomposed).unwrap();
        assert_eq!(composed.as_ref(), &Value::String("Müller".into()));
        let plain = Value::String("Müller".into());
        assert!(matches!(
            normalise_as(ValueType::String, &[], false, &plain),
            Some(Cow::Borrowed(_))
        ));
    }

    #[test]
    fn german_dates_become_iso() {
        assert_eq!(german_date("1.2.1980").unwrap(), "1980-02-01");
        assert_eq!(german_date("31.12.1980").unwrap(), "1980-12-31");
        assert!(german_date("1980-12-31").is_none());
        assert!(german_date("1.2.80").is_none());
        assert!(german_date("31.02.2027").is_none());
    }
}
