//! Fields that no answer can pass (LOT-E143), choices a citizen cannot tell apart (LOT-E144,
//! LOT-E145) or whose value is no answer (LOT-E147), and bounds that check nothing (LOT-E146).
//!
//! JSON Schema accepts `minimum: 10` with `maximum: 5`: the schema is valid, and every answer
//! fails it. A required field of that kind stops every application at its step, with a message
//! that contradicts itself. Two choices with the same value store the same answer whichever the
//! citizen picks ("Nein" stored as `ja`); two with the same label look the same on the page.
//! And JSON Schema applies each bound to one type only: `minimum: 10000` on a text (a postcode)
//! is silently never checked.

use serde_json::Value;

use super::super::Choice;
use super::super::raw::Widget;
use super::Ctx;
use crate::problem::{Pos, Problem};
use crate::text::Lang;

/// Bounds of the field's schema that leave no answer, as errors at `schema_at`; choices given
/// twice as errors, labels given twice as warnings, at `at`.
pub(super) fn check(
    cx: &mut Ctx<'_>,
    id: &str,
    (at, schema_at): (Pos, Pos),
    widget: Widget,
    options: &[Choice],
    schema: &Value,
) {
    for why in contradictions(schema, widget, options.len()) {
        cx.error_help(
            "LOT-E143",
            schema_at,
            format!("field \"{id}\": {why}, so no answer can pass"),
            "correct the bound that is wrong (they may be swapped)",
        );
    }
    duplicates(cx, id, at, options);
    for (keyword, applies_to, is) in idle_keywords(schema) {
        cx.warn(
            "LOT-E146",
            schema_at,
            format!(
                "field \"{id}\": `{keyword}` applies to {applies_to}, but the field is {is}: it \
                 checks nothing"
            ),
        );
    }
}

/// The keywords of JSON Schema that bound one type of value, with that type in words.
const KEYWORDS: &[(&str, &str, &str)] = &[
    ("minLength", "string", "texts"),
    ("maxLength", "string", "texts"),
    ("pattern", "string", "texts"),
    ("minimum", "number", "numbers"),
    ("maximum", "number", "numbers"),
    ("exclusiveMinimum", "number", "numbers"),
    ("exclusiveMaximum", "number", "numbers"),
    ("multipleOf", "number", "numbers"),
    ("minItems", "array", "lists"),
    ("maxItems", "array", "lists"),
    ("uniqueItems", "array", "lists"),
    ("minProperties", "object", "groups"),
    ("maxProperties", "object", "groups"),
];

/// Keywords of `schema` for another type than its one `type`: (keyword, what it applies to,
/// what the field is).
fn idle_keywords(schema: &Value) -> Vec<(&'static str, &'static str, &'static str)> {
    let Some(t) = schema.get("type").and_then(Value::as_str) else {
        return Vec::new();
    };
    let (family, is) = match t {
        "string" => ("string", "a text"),
        "integer" | "number" => ("number", "a number"),
        "array" => ("array", "a list"),
        "object" => ("object", "a group"),
        "boolean" => ("boolean", "true or false"),
        _ => return Vec::new(),
    };
    KEYWORDS
        .iter()
        .filter(|(k, of, _)| *of != family && schema.get(*k).is_some())
        .map(|(k, _, words)| (*k, *words, is))
        .collect()
}

/// Each pair of bounds of `schema` that no value meets, as a sentence.
fn contradictions(schema: &Value, widget: Widget, choices: usize) -> Vec<String> {
    let num = |k: &str| schema.get(k).and_then(Value::as_f64);
    let shown = |k: &str| schema.get(k).map(Value::to_string).unwrap_or_default();
    let mut out = Vec::new();
    let pairs = [
        ("minimum", "maximum", false),
        ("exclusiveMinimum", "maximum", true),
        ("minimum", "exclusiveMaximum", true),
        ("exclusiveMinimum", "exclusiveMaximum", true),
        ("minLength", "maxLength", false),
        ("minItems", "maxItems", false),
        ("minProperties", "maxProperties", false),
    ];
    for (low, high, exclusive) in pairs {
        if let (Some(l), Some(h)) = (num(low), num(high))
            && (l > h || (exclusive && l >= h))
        {
            let relation = if l > h { "above" } else { "the same as" };
            out.push(format!(
                "`{low}` {} is {relation} `{high}` {}",
                shown(low),
                shown(high)
            ));
        }
    }
    // Each box can be ticked once: more than there are boxes can never be ticked.
    if widget == Widget::Checkboxes
        && choices > 0
        && let Some(min) = num("minItems")
        && min > choices as f64
    {
        out.push(format!(
            "`minItems` {} asks for more boxes than the {choices} there are",
            shown("minItems")
        ));
    }
    out
}

/// A value that is no answer (error), a value offered twice (error), a label shown twice in one
/// language (warning).
fn duplicates(cx: &mut Ctx<'_>, id: &str, at: Pos, options: &[Choice]) {
    for c in options {
        let why = match &c.value {
            Value::String(v) if v.trim().is_empty() => {
                "is empty, so choosing it counts as no answer"
            }
            Value::String(v) if v.trim() != v => {
                "begins or ends with a space, which an answer never keeps, so choosing it is refused"
            }
            Value::Null => "is null, so choosing it counts as no answer",
            Value::Array(_) | Value::Object(_) => "is a list or a group, not one answer",
            _ => continue,
        };
        cx.error_help(
            "LOT-E147",
            at,
            format!(
                "field \"{id}\": the value of the choice \"{}\" {why}",
                c.label.german()
            ),
            "give each choice a text, a number or true/false as its value, e.g. `value: keine_angabe`",
        );
    }
    for (i, c) in options.iter().enumerate() {
        if let Some(first) = options[..i].iter().find(|o| o.value == c.value) {
            cx.error_help(
                "LOT-E144",
                at,
                format!(
                    "field \"{id}\": the value {} is offered twice (as \"{}\" and as \"{}\"): \
                     whichever of them a citizen chooses, {} is stored",
                    c.value,
                    first.label.german(),
                    c.label.german(),
                    c.value
                ),
                "give each choice a value of its own",
            );
        }
    }
    for lang in [Lang::De, Lang::En] {
        for (i, c) in options.iter().enumerate() {
            // A choice without a translation shows its German label in English too: told once.
            if lang == Lang::En && c.label.lang_of(Lang::En) == Lang::De {
                continue;
            }
            let label = c.label.get(lang).trim();
            let twice = options[..i]
                .iter()
                .find(|o| o.value != c.value && o.label.get(lang).trim() == label);
            if let Some(first) = twice {
                cx.warn(
                    "LOT-E145",
                    at,
                    format!(
                        "field \"{id}\": two choices read \"{label}\" (the values {} and {}); \
                         a citizen cannot tell them apart",
                        first.value, c.value
                    ),
                );
            }
        }
    }
}

/// Whether a help text starts by saying that the field may stay empty ("Freiwillig, …",
/// "Optional: …"), which the page's "(freiwillig)" after the label says already (LOT-E142).
pub(super) fn says_optional(help: &str) -> bool {
    let help = help.trim_start().to_lowercase();
    help.starts_with("freiwillig") || help.starts_with("optional")
}

/// The same checks for the building blocks in `forms/`, whose properties become sub-fields of
/// every group that uses them: each schema in `doc` (properties, items, `$defs`, the parts of
/// `allOf`/`anyOf`/`oneOf`) with bounds no value meets (LOT-E143) or bounds for another type
/// (LOT-E146), and each property that may stay empty whose description starts with
/// "Freiwillig" (LOT-E142). Named by JSON pointer: a JSON file has no positions here.
pub(in crate::definition) fn in_form(file: &std::path::Path, doc: &Value) -> Vec<Problem> {
    let mut out = Vec::new();
    let mut stack: Vec<(String, &Value)> = vec![(String::new(), doc)];
    while let Some((at, schema)) = stack.pop() {
        let Value::Object(map) = schema else {
            continue;
        };
        let here = |message: String| format!("#{at}: {message}");
        for why in contradictions(schema, Widget::Text, 0) {
            out.push(Problem::error(
                "LOT-E143",
                file,
                Pos::UNKNOWN,
                here(format!("{why}, so no value can pass")),
            ));
        }
        for (keyword, applies_to, is) in idle_keywords(schema) {
            out.push(Problem::warning(
                "LOT-E146",
                file,
                Pos::UNKNOWN,
                here(format!(
                    "`{keyword}` applies to {applies_to}, but the schema is {is}: it checks nothing"
                )),
            ));
        }
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        if let Some(Value::Object(props)) = map.get("properties") {
            for (name, prop) in props {
                let said = ["description", "x-description-en"]
                    .iter()
                    .filter_map(|k| prop.get(*k).and_then(Value::as_str))
                    .find(|d| says_optional(d));
                if let Some(text) = said.filter(|_| !required.contains(&name.as_str())) {
                    out.push(Problem::warning(
                        "LOT-E142",
                        file,
                        Pos::UNKNOWN,
                        format!(
                            "#{at}/properties/{name}: the description \"{text}\" says the field \
                             may stay empty, which the page's \"(freiwillig)\" after the label \
                             says already; start with what the answer is for"
                        ),
                    ));
                }
                stack.push((format!("{at}/properties/{name}"), prop));
            }
        }
        for key in ["items", "$defs"] {
            match map.get(key) {
                Some(Value::Object(defs)) if key == "$defs" => {
                    for (name, d) in defs {
                        stack.push((format!("{at}/$defs/{name}"), d));
                    }
                }
                Some(item) => stack.push((format!("{at}/{key}"), item)),
                None => {}
            }
        }
        for key in ["allOf", "anyOf", "oneOf"] {
            if let Some(Value::Array(parts)) = map.get(key) {
                for (i, part) in parts.iter().enumerate() {
                    stack.push((format!("{at}/{key}/{i}"), part));
                }
            }
        }
    }
    out
}
