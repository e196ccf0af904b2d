//! The field errors a step's check reports: a required field left empty (each field of an empty
//! group), refused characters, dates out of their bounds, and the error of a sub-field.

use serde_json::{Map, Value};
use time::Date;

use crate::definition::{Field, Temporal};
use crate::form::{self, Asked, ErrorKind, FieldError, default_message};
use crate::text::Lang;

/// The sub-field an error pointer (relative to the field) lands on: `/vorname` or `/2/name`.
pub(super) fn subfield_for<'a>(f: &'a Field, pointer: &str) -> Option<&'a Field> {
    let last = pointer
        .rsplit('/')
        .find(|seg| !seg.is_empty() && seg.parse::<usize>().is_err())?;
    f.subfield(last)
}

pub(super) fn asked(f: &Field) -> Asked {
    match f.widget {
        crate::definition::Widget::Checkbox => Asked::Checkbox,
        crate::definition::Widget::Radio | crate::definition::Widget::Select => Asked::Choice,
        crate::definition::Widget::Checkboxes => Asked::Choices,
        crate::definition::Widget::File => Asked::File,
        _ => Asked::Text,
    }
}

pub(super) fn field_error(f: &Field, pointer: &str, kind: &ErrorKind, lang: Lang) -> FieldError {
    let message = match f.custom_message(kind) {
        Some(t) => t.get(lang).to_string(),
        None => default_message(kind, f.label.get(lang), asked(f), lang),
    };
    FieldError {
        pointer: pointer.to_string(),
        field: f.id.clone(),
        kind: kind.key().to_string(),
        message,
    }
}

/// Characters no answer may contain (form::forbidden_character), at every text of the value:
/// line breaks only in a textarea, control and text-direction characters nowhere.
pub(super) fn character_errors(f: &Field, value: &Value, lang: Lang) -> Vec<FieldError> {
    fn walk(
        top: &Field,
        field: &Field,
        pointer: String,
        v: &Value,
        lang: Lang,
        out: &mut Vec<FieldError>,
    ) {
        match v {
            Value::String(s) => {
                let multiline = field.widget == crate::definition::Widget::Textarea;
                if form::forbidden_character(s, multiline).is_some() {
                    let mut e =
                        field_error(field, &pointer, &ErrorKind::Characters { multiline }, lang);
                    e.field = top.id.clone();
                    out.push(e);
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    walk(top, field, format!("{pointer}/{i}"), item, lang, out);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    let sub = field.subfield(k).unwrap_or(field);
                    let key = k.replace('~', "~0").replace('/', "~1");
                    walk(top, sub, format!("{pointer}/{key}"), item, lang, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(f, f, format!("/{}", f.id), value, lang, &mut out);
    out
}

/// A day as a German citizen reads it: `01.01.1900`.
pub(super) fn german_day(d: Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// Dates outside the field's bounds, or that must lie in the past or future, checked against
/// the application's day.
pub(super) fn date_errors(f: &Field, value: &Value, today: Date, lang: Lang) -> Vec<FieldError> {
    let mut out = Vec::new();
    let dated = |x: &Field| x.temporal.is_some() || x.date_bounds.is_some();
    if !dated(f) && !f.subfields.iter().any(dated) {
        return out;
    }
    let mut check = |field: &Field, pointer: String, v: &Value| {
        let Some(s) = v.as_str() else {
            return;
        };
        if !dated(field) {
            return;
        }
        let Some(d) = form::formats::date(s) else {
            return;
        };
        let kind = match (field.date_bounds, field.temporal) {
            (Some((min, _)), _) if d < min => ErrorKind::DateTooEarly(german_day(min)),
            (Some((_, max)), _) if d > max => ErrorKind::DateTooLate(german_day(max)),
            (_, Some(Temporal::Past)) if d >= today => ErrorKind::DateNotPast,
            (_, Some(Temporal::Future)) if d <= today => ErrorKind::DateNotFuture,
            _ => return,
        };
        let mut e = field_error(field, &pointer, &kind, lang);
        e.field = f.id.clone();
        out.push(e);
    };
    check(f, format!("/{}", f.id), value);
    let items: Vec<(String, &Map<String, Value>)> = match value {
        Value::Object(m) => vec![(format!("/{}", f.id), m)],
        Value::Array(a) => a
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.as_object().map(|m| (format!("/{}/{i}", f.id), m)))
            .collect(),
        _ => Vec::new(),
    };
    for (prefix, m) in items {
        for sub in &f.subfields {
            if let Some(v) = m.get(&sub.id) {
                check(sub, format!("{prefix}/{}", sub.id), v);
            }
        }
    }
    out
}

/// The errors of a required field left empty. A group left empty names each of its own required
/// fields (the first entry's, for a repeated group), so that the page marks every input that
/// needs an answer instead of one message for the whole group.
pub(super) fn missing_errors(f: &Field, lang: Lang) -> Vec<FieldError> {
    let own: Vec<&Field> = f
        .subfields
        .iter()
        .filter(|sf| matches!(sf.required, crate::definition::Required::Always))
        .collect();
    if f.widget != crate::definition::Widget::Group || own.is_empty() {
        return vec![field_error(
            f,
            &format!("/{}", f.id),
            &ErrorKind::Required,
            lang,
        )];
    }
    let base = match f.repeat {
        Some(_) => format!("/{}/0", f.id),
        None => format!("/{}", f.id),
    };
    own.into_iter()
        .map(|sf| {
            let mut e = field_error(sf, &format!("{base}/{}", sf.id), &ErrorKind::Required, lang);
            e.field = f.id.clone();
            e
        })
        .collect()
}
