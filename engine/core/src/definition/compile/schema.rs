//! What a JSON Schema says about a field: its choices, the widget that asks it, the JSON type
//! of its value, whether a date lies in the past or future, and a group's sub-fields.

use std::collections::{HashMap, HashSet};

use serde_json::Value;

use super::super::raw::Widget;
use super::super::{Choice, Field, Required, Temporal, ValueType};
use crate::form::FormSet;
use crate::text::Text;

/// A schema's text `key` (`title`, `description`) with its English twin `x-<key>-en`
/// (forms/README.md), from the first of `schemas` that has the German: keywords beside a `$ref`
/// before the target's, and the English always from where the German is.
pub(super) fn schema_text(schemas: &[&Value], key: &str) -> Option<Text> {
    let schema = schemas.iter().find(|s| s.get(key).is_some())?;
    let de = schema.get(key)?.as_str()?;
    Some(with_english(
        de.to_string(),
        schema.get(format!("x-{key}-en")).and_then(Value::as_str),
    ))
}

/// `de`, with `en` as its translation when there is one.
fn with_english(de: String, en: Option<&str>) -> Text {
    match en {
        Some(en) => Text::Localized(crate::text::Localized {
            de,
            en: Some(en.to_string()),
        }),
        None => Text::de(de),
    }
}

pub(super) fn schema_choices(schema: &Value) -> Vec<Choice> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        // The titles of the enum's values (a list in the same order, or an object by value):
        // German in `x-enum-titles`, English in `x-enum-titles-en`.
        let title = |titles: Option<&Value>, i: usize, v: &Value| {
            titles.and_then(|t| match t {
                Value::Array(a) => a.get(i).and_then(Value::as_str).map(str::to_string),
                Value::Object(o) => v
                    .as_str()
                    .and_then(|k| o.get(k))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                _ => None,
            })
        };
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let label = title(schema.get("x-enum-titles"), i, v).unwrap_or_else(|| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                let en = title(schema.get("x-enum-titles-en"), i, v);
                Choice {
                    value: v.clone(),
                    label: with_english(label, en.as_deref()),
                }
            })
            .collect();
    }
    if let Some(Value::Array(alts)) = schema.get("oneOf") {
        let choices: Vec<Choice> = alts
            .iter()
            .filter_map(|a| {
                let value = a.get("const")?.clone();
                let label =
                    schema_text(&[a], "title").unwrap_or_else(|| Text::de(value.to_string()));
                Some(Choice { value, label })
            })
            .collect();
        if choices.len() == alts.len() {
            return choices;
        }
    }
    Vec::new()
}

pub(super) fn infer_widget(schema: &Value, is_object: bool, options: usize) -> Widget {
    if let Some(w) = schema.get("x-widget").and_then(Value::as_str) {
        let w: Result<Widget, _> = serde_json::from_value(Value::String(w.to_string()));
        if let Ok(w) = w {
            return w;
        }
    }
    if is_object {
        return Widget::Group;
    }
    if options > 0 {
        return if options <= 4 {
            Widget::Radio
        } else {
            Widget::Select
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => Widget::Checkbox,
        Some("integer") | Some("number") => Widget::Number,
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date") | Some("date-past") | Some("date-future") => Widget::Date,
            _ => {
                if schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n > 300)
                {
                    Widget::Textarea
                } else {
                    Widget::Text
                }
            }
        },
        _ => Widget::Text,
    }
}

pub(super) fn value_type_of(schema: &Value, widget: Widget) -> ValueType {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => ValueType::Integer,
        Some("number") => ValueType::Number,
        Some("boolean") => ValueType::Boolean,
        Some("object") => ValueType::Object,
        Some("array") => ValueType::Array,
        Some("string") => {
            if widget == Widget::Date {
                ValueType::Date
            } else {
                ValueType::String
            }
        }
        _ => match widget {
            Widget::Number => ValueType::Number,
            Widget::Checkbox => ValueType::Boolean,
            Widget::Checkboxes => ValueType::Array,
            Widget::Date => ValueType::Date,
            Widget::Group => ValueType::Object,
            _ => ValueType::Any,
        },
    }
}

pub(super) fn temporal_of(forms: &FormSet, file: Option<&str>, schema: &Value) -> Option<Temporal> {
    let _ = (forms, file);
    match schema.get("format").and_then(Value::as_str) {
        Some("date-past") => Some(Temporal::Past),
        Some("date-future") => Some(Temporal::Future),
        _ => None,
    }
}

/// The days a date field accepts unless its schema says otherwise: no year 0 or 9999 reaches
/// a receipt by a typo.
pub const DEFAULT_DATE_BOUNDS: (time::Date, time::Date) = (
    time::macros::date!(1900 - 01 - 01),
    time::macros::date!(2100 - 12 - 31),
);

/// For a date field (the `date` widget, or a `date…` format): the earliest and latest day it
/// accepts, from `formatMinimum` / `formatMaximum` (ISO dates) or [`DEFAULT_DATE_BOUNDS`].
/// `Err` names what is wrong with a bound that is written, or with a date widget whose schema
/// has no date format.
pub(super) fn date_bounds_of(
    schema: &Value,
    widget: Widget,
) -> Result<Option<(time::Date, time::Date)>, String> {
    let format = schema.get("format").and_then(Value::as_str);
    let is_date = widget == Widget::Date
        || matches!(
            format,
            Some("date") | Some("date-past") | Some("date-future")
        );
    if !is_date {
        return Ok(None);
    }
    // A date widget whose schema checks no date would take any text as one ("morgen").
    if !matches!(
        format,
        Some("date") | Some("date-past") | Some("date-future")
    ) {
        let why = format.map_or(
            "its schema has no `format`, so any text would pass as a date".to_string(),
            |f| format!("its schema's `format: {f}` checks no date"),
        );
        return Err(format!(
            "{why}; write `format: date` (or `date-past`, `date-future`)"
        ));
    }
    let bound = |key: &str, default: time::Date| match schema.get(key) {
        None => Ok(default),
        Some(v) => v
            .as_str()
            .and_then(crate::form::formats::date)
            .ok_or_else(|| format!("`{key}` must be an ISO date like \"1900-01-01\", not {v}")),
    };
    let min = bound("formatMinimum", DEFAULT_DATE_BOUNDS.0)?;
    let max = bound("formatMaximum", DEFAULT_DATE_BOUNDS.1)?;
    if min > max {
        return Err(format!(
            "`formatMinimum` ({min}) is after `formatMaximum` ({max})"
        ));
    }
    Ok(Some((min, max)))
}

/// Sub-fields of a group whose schema comes from forms/: one per property, labelled by `title`.
pub(super) fn derive_subfields(forms: &FormSet, file: Option<&str>, obj: &Value) -> Vec<Field> {
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Vec::new();
    };
    let required: HashSet<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let root = file.and_then(|f| forms.get(f)).unwrap_or(obj);
    props
        .iter()
        .map(|(name, prop)| {
            let resolved = forms
                .deref(file, root, prop)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|_| prop.clone());
            // Keywords beside a $ref (title, x-autocomplete) win over the target's.
            let get = |k: &str| prop.get(k).or_else(|| resolved.get(k));
            let options = schema_choices(&resolved);
            let is_object = resolved.get("properties").is_some();
            let mut widget = infer_widget(&resolved, is_object, options.len());
            if let Some(w) = prop.get("x-widget").and_then(Value::as_str)
                && let Ok(w) = serde_json::from_value::<Widget>(Value::String(w.to_string()))
            {
                widget = w;
            }
            Field {
                id: name.clone(),
                label: schema_text(&[prop, &resolved], "title")
                    .unwrap_or_else(|| Text::de(name.clone())),
                help: schema_text(&[prop, &resolved], "description"),
                widget,
                autocomplete: get("x-autocomplete")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                placeholder: None,
                options,
                required: if required.contains(name.as_str()) {
                    Required::Always
                } else {
                    Required::Never
                },
                visible_if: None,
                messages: HashMap::new(),
                schema: prop.clone(),
                subfields: Vec::new(),
                repeat: None,
                temporal: temporal_of(forms, file, &resolved),
                date_bounds: date_bounds_of(&resolved, widget).unwrap_or(Some(DEFAULT_DATE_BOUNDS)),
                value_type: value_type_of(&resolved, widget),
                files: None,
                validator: None,
            }
        })
        .collect()
}
