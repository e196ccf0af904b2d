//! The data a receipt shows: plain values prepared by the caller, serialisable for templates.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Everything one receipt shows. Values are already formatted for people (fees as
/// "42,00 €", dates as "01.02.2026"); the receipt prints them as they are.
///
/// It (de)serialises as JSON with `received_at` in RFC 3339, so `lotse render` can read a
/// model from a file.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReceiptModel {
    /// The workflow the submission belongs to; selects `pdf-templates/<workflow_id>.hbs`
    /// when present, else the default `receipt.hbs`.
    pub workflow_id: String,
    pub tenant: TenantInfo,
    pub service_title: String,
    /// LeiKa key of the service (Leistungskatalog), if the workflow names one.
    pub leika: Option<String>,
    /// The reference number the citizen quotes, e.g. `HEI-2026-000123`.
    pub reference: String,
    /// When the submission was received (any offset; printed in Europe/Berlin).
    #[serde(
        serialize_with = "serialize_rfc3339",
        deserialize_with = "deserialize_rfc3339"
    )]
    pub received_at: OffsetDateTime,
    pub sections: Vec<Section>,
    /// Values the workflow computed (fees, deadlines), already formatted.
    pub computed: Vec<Entry>,
    /// The submitted answers as JSON; attached to the PDF as `antrag.json`.
    pub submission_json: serde_json::Value,
    pub language: Language,
    /// Extra notes of the issuing office (a municipality's override), each a paragraph.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Every top-level answer and computed value (internal ones too) by id, formatted as the
    /// review page shows it: what `{{value_of "id"}}` prints in a workflow's own template.
    #[serde(default)]
    pub values: std::collections::BTreeMap<String, String>,
    /// Replaces the closing sentence (`texts.not_a_decision`) when set.
    #[serde(default)]
    pub closing: Option<String>,
    /// Marks a receipt that is none (a preview in the Verwaltung): this line stands as a heading
    /// above the template's own, whatever the template.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub specimen: Option<String>,
}

// Answers are personal data: never print them in logs through Debug.
impl std::fmt::Debug for ReceiptModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptModel")
            .field("tenant", &self.tenant.id)
            .field("reference", &self.reference)
            .field("sections", &self.sections.len())
            .finish_non_exhaustive()
    }
}

/// The municipality (or office) that issues the receipt.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantInfo {
    pub id: String,
    pub name: String,
    pub address_lines: Vec<String>,
    /// The tenant's colour as `#rrggbb`, used for the header band and rules.
    pub colour_hex: String,
    pub logo: Option<Logo>,
    /// The office that handles the application, e.g. "Bürgerbüro".
    pub office: String,
}

/// The tenant's emblem in the letterhead.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Logo {
    /// A simple vector emblem: a shield in the tenant colour carrying these initials
    /// (one to three letters, e.g. "HE").
    Initials { initials: String },
}

/// Output language of the fixed texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    De,
    En,
}

impl Language {
    /// BCP 47 tag for the PDF catalog.
    pub fn tag(self) -> &'static str {
        match self {
            Language::De => "de-DE",
            Language::En => "en-GB",
        }
    }
}

/// One step or topic of the form, with its answers.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    pub title: String,
    pub entries: Vec<Entry>,
}

impl std::fmt::Debug for Section {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Section")
            .field("title", &self.title)
            .field("entries", &self.entries.len())
            .finish()
    }
}

/// One answer, or a repeatable group of answers ("Hund 1", "Hund 2").
///
/// Templates see every entry with the same fields: `label`, `value` (empty for groups),
/// `is_group` and `entries` (empty for values), so strict mode never trips over a
/// missing field.
#[derive(Clone, PartialEq)]
pub enum Entry {
    Value { label: String, value: String },
    Group { label: String, entries: Vec<Entry> },
}

impl Entry {
    /// A labelled answer.
    pub fn value(label: impl Into<String>, value: impl Into<String>) -> Self {
        Entry::Value {
            label: label.into(),
            value: value.into(),
        }
    }

    /// A labelled group of answers.
    pub fn group(label: impl Into<String>, entries: Vec<Entry>) -> Self {
        Entry::Group {
            label: label.into(),
            entries,
        }
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Value { label, .. } => write!(f, "Value({label:?}, <redacted>)"),
            Entry::Group { label, entries } => write!(f, "Group({label:?}, {})", entries.len()),
        }
    }
}

impl Serialize for Entry {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Entry", 4)?;
        match self {
            Entry::Value { label, value } => {
                s.serialize_field("label", label)?;
                s.serialize_field("value", value)?;
                s.serialize_field("is_group", &false)?;
                s.serialize_field("entries", &[] as &[Entry])?;
            }
            Entry::Group { label, entries } => {
                s.serialize_field("label", label)?;
                s.serialize_field("value", "")?;
                s.serialize_field("is_group", &true)?;
                s.serialize_field("entries", entries)?;
            }
        }
        s.end()
    }
}

/// The JSON form read back: `{label, value}` or `{label, entries}` (the extra fields that
/// serialising adds, `is_group` and the empty one, are accepted too).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryRepr {
    label: String,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    is_group: Option<bool>,
    #[serde(default)]
    entries: Option<Vec<Entry>>,
}

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = EntryRepr::deserialize(deserializer)?;
        let is_group = repr
            .is_group
            .unwrap_or(repr.entries.is_some() && repr.value.is_none());
        Ok(if is_group {
            Entry::Group {
                label: repr.label,
                entries: repr.entries.unwrap_or_default(),
            }
        } else {
            Entry::Value {
                label: repr.label,
                value: repr.value.unwrap_or_default(),
            }
        })
    }
}

fn deserialize_rfc3339<'de, D: serde::Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
    let text = String::deserialize(d)?;
    OffsetDateTime::parse(&text, &time::format_description::well_known::Rfc3339)
        .map_err(serde::de::Error::custom)
}

fn serialize_rfc3339<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let text = t
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn model_round_trips_through_json() {
        let model = crate::receipt::sample_model();
        let json = serde_json::to_string(&model).unwrap();
        let back: ReceiptModel = serde_json::from_str(&json).unwrap();
        assert_eq!(back.sections[0].entries, model.sections[0].entries);
        assert_eq!(back.received_at, model.received_at);
    }

    #[test]
    fn short_entry_forms_are_read() {
        let e: Vec<Entry> = serde_json::from_str(
            r#"[{"label":"Name","value":"Bello"},{"label":"Hund 1","entries":[{"label":"Rasse","value":"Dackel"}]}]"#,
        )
        .unwrap();
        assert_eq!(
            e,
            vec![
                Entry::value("Name", "Bello"),
                Entry::group("Hund 1", vec![Entry::value("Rasse", "Dackel")])
            ]
        );
    }
}
