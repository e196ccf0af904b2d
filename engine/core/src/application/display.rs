//! Answers as a citizen reads them: labels instead of keys, choices by their label, dates as
//! `31.12.1980`, yes/no, amounts in euro. Used by the review page and the receipt.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::definition::{Field, ValueFormat, Widget, Workflow};
use crate::text::Lang;

/// A value ready to show: `text`, a `group` of entries, or a `list` of groups.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Display {
    Text {
        text: String,
    },
    Group {
        entries: Vec<ReviewEntry>,
    },
    List {
        items: Vec<Vec<ReviewEntry>>,
        item_label: String,
    },
}

impl Display {
    /// A flat, one-line rendering (for logs of designers, tests, plain text).
    pub fn flat(&self) -> String {
        match self {
            Display::Text { text } => text.clone(),
            Display::Group { entries } => entries
                .iter()
                .map(|e| format!("{}: {}", e.label, e.value.flat()))
                .collect::<Vec<_>>()
                .join("; "),
            Display::List { items, item_label } => items
                .iter()
                .enumerate()
                .map(|(i, entries)| {
                    format!(
                        "{} {}: {}",
                        item_label,
                        i + 1,
                        entries
                            .iter()
                            .map(|e| format!("{}: {}", e.label, e.value.flat()))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })
                .collect::<Vec<_>>()
                .join(" | "),
        }
    }
}

/// One answer (or computed value) as the citizen reads it: the field, its label, its value.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewEntry {
    pub field: String,
    pub label: String,
    #[cfg_attr(feature = "openapi", schema(no_recursion))]
    pub value: Display,
    /// The language the label is in, and the value where it is a choice's label: German where
    /// the workflow has no English for it (a page marks it, WCAG 3.1.2). Not sent.
    #[serde(skip)]
    pub label_lang: Lang,
    #[serde(skip)]
    pub value_lang: Lang,
}

/// The answers of one step on the route, in the step's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewStep {
    pub step: String,
    pub title: String,
    pub entries: Vec<ReviewEntry>,
    /// The language the title is in (see [`ReviewEntry::label_lang`]). Not sent.
    #[serde(skip)]
    pub title_lang: Lang,
}

/// Everything the citizen answered, grouped by step, plus the computed values.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ReviewView {
    pub steps: Vec<ReviewStep>,
    pub computed: Vec<ReviewEntry>,
}

impl ReviewView {
    pub fn build(
        wf: &Workflow,
        path: &[String],
        answers: &BTreeMap<String, Value>,
        computed: &BTreeMap<String, Value>,
        lang: Lang,
    ) -> ReviewView {
        let steps = path
            .iter()
            .filter_map(|id| wf.step(id))
            .map(|s| ReviewStep {
                step: s.id.clone(),
                title: s.title.get(lang).to_string(),
                title_lang: s.title.lang_of(lang),
                entries: s
                    .fields
                    .iter()
                    .filter_map(|f| answers.get(&f.id).map(|v| entry_of(f, v, lang)))
                    .collect(),
            })
            .filter(|s| !s.entries.is_empty())
            .collect();
        let computed = wf
            .computed
            .iter()
            .filter_map(|c| {
                let v = computed.get(&c.id)?;
                if v.is_null() || c.internal {
                    return None;
                }
                Some(ReviewEntry {
                    field: c.id.clone(),
                    label: c.label.get(lang).to_string(),
                    value: Display::Text {
                        text: format_value(v, c.format, lang),
                    },
                    label_lang: c.label.lang_of(lang),
                    value_lang: lang,
                })
            })
            .collect();
        ReviewView { steps, computed }
    }
}

/// The answer `v` to field `f` as an entry of the review.
fn entry_of(f: &Field, v: &Value, lang: Lang) -> ReviewEntry {
    ReviewEntry {
        field: f.id.clone(),
        label: f.label.get(lang).to_string(),
        value: display(f, v, lang),
        label_lang: f.label.lang_of(lang),
        value_lang: value_lang(f, v, lang),
    }
}

/// The language a choice's label is shown in (German where it has no English); for ticked
/// checkboxes, the one all their labels share.
fn value_lang(f: &Field, v: &Value, lang: Lang) -> Lang {
    let of = |v: &Value| f.choice_label(v).map_or(lang, |t| t.lang_of(lang));
    match v {
        Value::Array(items) if f.widget == Widget::Checkboxes => {
            let mut langs = items.iter().map(of);
            let first = langs.next().unwrap_or(lang);
            if langs.all(|l| l == first) {
                first
            } else {
                lang
            }
        }
        _ => of(v),
    }
}

pub(crate) fn display(f: &Field, v: &Value, lang: Lang) -> Display {
    if f.files.is_some() {
        return files(v, lang);
    }
    if let (Some(rep), Value::Array(items)) = (&f.repeat, v) {
        let item_label = rep
            .item_label
            .as_ref()
            .map(|t| t.get(lang).to_string())
            .unwrap_or_else(|| f.label.get(lang).to_string());
        return Display::List {
            items: items
                .iter()
                .map(|item| group_entries(f, item, lang))
                .collect(),
            item_label,
        };
    }
    if f.widget == Widget::Group {
        return Display::Group {
            entries: group_entries(f, v, lang),
        };
    }
    Display::Text {
        text: scalar(f, v, lang),
    }
}

/// A file field: per file its name, kind and size, SHA-256 (so a receipt seals which files
/// were handed in) and, when no scanner looked at it, that it was not checked.
fn files(v: &Value, lang: Lang) -> Display {
    let de = lang == Lang::De;
    let entry = |field: &str, label: &str, text: String| ReviewEntry {
        field: field.to_string(),
        label: label.to_string(),
        value: Display::Text { text },
        label_lang: lang,
        value_lang: lang,
    };
    let items = crate::files::FileEntry::list(v)
        .into_iter()
        .map(|file| {
            let kind = file.kind().map_or("?", |k| k.label_in(lang));
            let mut entries = vec![
                entry("name", "Name", file.name.clone()),
                entry(
                    "type",
                    if de {
                        "Art und Größe"
                    } else {
                        "Kind and size"
                    },
                    format!("{kind}, {}", crate::files::human_size(file.size, lang)),
                ),
                entry("sha256", "SHA-256", file.sha256.clone()),
            ];
            if file.scan == crate::files::ScanState::Unchecked {
                entries.push(entry(
                    "scan",
                    if de { "Virenprüfung" } else { "Virus scan" },
                    if de { "nicht geprüft" } else { "not checked" }.to_string(),
                ));
            }
            entries
        })
        .collect();
    Display::List {
        items,
        item_label: if de { "Datei" } else { "File" }.to_string(),
    }
}

fn group_entries(f: &Field, v: &Value, lang: Lang) -> Vec<ReviewEntry> {
    let Value::Object(map) = v else {
        return Vec::new();
    };
    f.subfields
        .iter()
        .filter_map(|sf| map.get(&sf.id).map(|sv| entry_of(sf, sv, lang)))
        .collect()
}

fn scalar(f: &Field, v: &Value, lang: Lang) -> String {
    if let Some(label) = f.choice_label(v) {
        return label.get(lang).to_string();
    }
    if let (Widget::Checkboxes, Value::Array(items)) = (f.widget, v) {
        return items
            .iter()
            .map(|item| scalar(f, item, lang))
            .collect::<Vec<_>>()
            .join(", ");
    }
    match v {
        Value::Bool(b) => yes_no(*b, lang).to_string(),
        Value::String(s) if f.widget == Widget::Date => date(s),
        Value::Number(_) => format_value(v, ValueFormat::Number, lang),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn yes_no(b: bool, lang: Lang) -> &'static str {
    match (b, lang) {
        (true, Lang::De) => "Ja",
        (false, Lang::De) => "Nein",
        (true, Lang::En) => "Yes",
        (false, Lang::En) => "No",
    }
}

fn date(s: &str) -> String {
    let p: Vec<&str> = s.split('-').collect();
    if p.len() == 3 {
        format!("{}.{}.{}", p[2], p[1], p[0])
    } else {
        s.to_string()
    }
}

/// Formats a value: numbers with a decimal comma and thousands points, euro with two decimals.
pub fn format_value(v: &Value, format: ValueFormat, lang: Lang) -> String {
    if format == ValueFormat::Cents {
        return match v.as_i64() {
            Some(c) => crate::payment::format_cents(c, lang),
            None if v.is_null() => String::new(),
            None => v.to_string(),
        };
    }
    let num = v.as_f64();
    match (format, num) {
        (ValueFormat::Euro, Some(n)) => {
            let s = group(n, 2, lang);
            match lang {
                Lang::De => format!("{s} €"),
                Lang::En => format!("€{s}"),
            }
        }
        (ValueFormat::Number, Some(n)) => {
            if n.fract() == 0.0 {
                group(n, 0, lang)
            } else {
                group(n, 2, lang).trim_end_matches('0').to_string()
            }
        }
        (ValueFormat::YesNo, _) => yes_no(v.as_bool().unwrap_or(false), lang).to_string(),
        (ValueFormat::Date, _) => v.as_str().map(date).unwrap_or_default(),
        (_, _) => match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            Value::Number(_) => format_value(v, ValueFormat::Number, lang),
            Value::Bool(b) => yes_no(*b, lang).to_string(),
            other => other.to_string(),
        },
    }
}

fn group(n: f64, decimals: usize, lang: Lang) -> String {
    let (thousands, decimal) = match lang {
        Lang::De => ('.', ','),
        Lang::En => (',', '.'),
    };
    let s = format!("{:.*}", decimals, n.abs());
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(thousands);
        }
        out.push(c);
    }
    if !frac.is_empty() {
        out.push(decimal);
        out.push_str(frac);
    }
    if n < 0.0 {
        out.insert(0, '-');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn euro_and_numbers_read_german() {
        assert_eq!(
            format_value(&json!(96), ValueFormat::Euro, Lang::De),
            "96,00 €"
        );
        assert_eq!(
            format_value(&json!(1234.5), ValueFormat::Euro, Lang::De),
            "1.234,50 €"
        );
        assert_eq!(
            format_value(&json!(1234.5), ValueFormat::Euro, Lang::En),
            "€1,234.50"
        );
        assert_eq!(
            format_value(&json!(12.5), ValueFormat::Number, Lang::De),
            "12,5"
        );
        assert_eq!(
            format_value(&json!(1000000), ValueFormat::Number, Lang::De),
            "1.000.000"
        );
    }
}
