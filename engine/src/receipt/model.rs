//! The data a receipt shows: plain values prepared by the caller, serialisable for templates.

use serde::Serialize;
use serde::ser::SerializeStruct;
use time::OffsetDateTime;

/// Everything one receipt shows. Values are already formatted for people (fees as
/// "42,00 €", dates as "01.02.2026"); the receipt prints them as they are.
#[derive(Clone, Serialize)]
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
    #[serde(serialize_with = "serialize_rfc3339")]
    pub received_at: OffsetDateTime,
    pub sections: Vec<Section>,
    /// Values the workflow computed (fees, deadlines), already formatted.
    pub computed: Vec<Entry>,
    /// The submitted answers as JSON; attached to the PDF as `antrag.json`.
    pub submission_json: serde_json::Value,
    pub language: Language,
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
#[derive(Debug, Clone, Serialize)]
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
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Logo {
    /// A simple vector emblem: a shield in the tenant colour carrying these initials
    /// (one to three letters, e.g. "HE").
    Initials { initials: String },
}

/// Output language of the fixed texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
#[derive(Clone, Serialize)]
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

fn serialize_rfc3339<S: serde::Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
    let text = t
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(serde::ser::Error::custom)?;
    s.serialize_str(&text)
}
