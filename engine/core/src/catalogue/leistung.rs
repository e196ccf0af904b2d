//! A catalogue entry (Leistung): the description of one public service, with or without an
//! online assistant, shaped after the FIM "Leistungsbeschreibung" (docs/catalogue.md maps each
//! key to its FIM element). [`RawLeistung`] is the file as written (YAML, or JSON, which the
//! YAML parser reads too); [`Leistung`] is the checked entry with the positions its checks
//! point to, whether it came from a file or from a CSV row.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_saphyr::{Location, Spanned};

use crate::problem::Pos;
use crate::text::Text;

/// A file under `portal/leistungen/`: a list of entries.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawFile {
    pub leistungen: Vec<RawLeistung>,
}

/// One entry as written. Optional keys that are absent are left out when written back.
#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RawLeistung {
    pub id: Spanned<String>,
    pub title: Spanned<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leika: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lebenslagen: Vec<Spanned<String>>,
    pub responsible: Spanned<RawResponsible>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keywords: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_time: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub legal_basis: Vec<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<Office>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<Text>,
}

/// Who is responsible, as written: `kreis`, `gemeinde`, or a list of tenant slugs.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(untagged)]
pub enum RawResponsible {
    Level(String),
    Tenants(Vec<String>),
}

/// Who offers a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Responsible {
    /// The county (Kreis) offers it for everyone in it.
    Kreis,
    /// Every municipality offers it for its own residents.
    Gemeinde,
    /// These tenants (slugs) offer it.
    Tenants(Vec<String>),
}

/// An office with its contact data and opening hours (FIM: "Zuständige Stelle" with its
/// "Ansprechpunkt"). An entry may bring its own; otherwise the portal names the tenant's.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Office {
    pub name: Text,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub address: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<Text>,
}

/// A checked catalogue entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Leistung {
    pub id: String,
    pub title: Text,
    /// The LeiKa key (Leistungsschlüssel): 14 digits.
    pub leika: Option<String>,
    pub lebenslagen: Vec<String>,
    pub responsible: Responsible,
    /// The id of the workflow that is this service's online assistant.
    pub workflow: Option<String>,
    pub keywords: Vec<String>,
    pub summary: Option<Text>,
    pub description: Option<Text>,
    pub eligibility: Option<Text>,
    pub documents: Vec<Text>,
    pub fees: Option<Text>,
    pub processing_time: Option<Text>,
    pub deadline: Option<Text>,
    pub legal_basis: Vec<Text>,
    /// Whether the citizen must come in person; `None`: the entry does not say.
    pub visit: Option<bool>,
    /// An external online service.
    pub online: Option<String>,
    /// A form to print (PDF).
    pub form: Option<String>,
    pub office: Option<Office>,
    pub notes: Option<Text>,
    /// The file it came from, and where its parts stand there (for problems).
    pub source: PathBuf,
    pub at: Positions,
}

/// Where the checked parts of an entry stand in its file (1-based; 0 when unknown).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Positions {
    pub entry: Pos,
    pub id: Pos,
    pub title: Pos,
    pub leika: Pos,
    pub lebenslagen: Vec<Pos>,
    pub responsible: Pos,
    pub workflow: Pos,
    pub online: Pos,
    pub form: Pos,
}

fn at<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

impl RawLeistung {
    /// The entry with its positions; what it says is checked by [`super::load::check`].
    pub(crate) fn into_leistung(self, source: PathBuf) -> Leistung {
        let responsible_at = at(&self.responsible);
        let responsible = match self.responsible.value {
            RawResponsible::Level(l) if l == "kreis" => Responsible::Kreis,
            RawResponsible::Level(l) if l == "gemeinde" => Responsible::Gemeinde,
            RawResponsible::Level(other) => Responsible::Tenants(vec![other]),
            RawResponsible::Tenants(list) => Responsible::Tenants(list),
        };
        Leistung {
            at: Positions {
                entry: at(&self.id),
                id: at(&self.id),
                title: at(&self.title),
                leika: self.leika.as_ref().map(at).unwrap_or_default(),
                lebenslagen: self.lebenslagen.iter().map(at).collect(),
                responsible: responsible_at,
                workflow: self.workflow.as_ref().map(at).unwrap_or_default(),
                online: self.online.as_ref().map(at).unwrap_or_default(),
                form: self.form.as_ref().map(at).unwrap_or_default(),
            },
            id: self.id.value,
            title: self.title.value,
            leika: self.leika.map(|s| s.value),
            lebenslagen: self.lebenslagen.into_iter().map(|s| s.value).collect(),
            responsible,
            workflow: self.workflow.map(|s| s.value),
            keywords: self.keywords,
            summary: self.summary,
            description: self.description,
            eligibility: self.eligibility,
            documents: self.documents,
            fees: self.fees,
            processing_time: self.processing_time,
            deadline: self.deadline,
            legal_basis: self.legal_basis,
            visit: self.visit,
            online: self.online.map(|s| s.value),
            form: self.form.map(|s| s.value),
            office: self.office,
            notes: self.notes,
            source,
        }
    }
}

fn unplaced<T>(value: T) -> Spanned<T> {
    Spanned::new(value, Location::UNKNOWN, Location::UNKNOWN)
}

impl From<&Leistung> for RawLeistung {
    /// The entry as it is written to a file (by `lotse catalogue import`).
    fn from(l: &Leistung) -> RawLeistung {
        let responsible = match &l.responsible {
            Responsible::Kreis => RawResponsible::Level("kreis".into()),
            Responsible::Gemeinde => RawResponsible::Level("gemeinde".into()),
            Responsible::Tenants(list) => RawResponsible::Tenants(list.clone()),
        };
        RawLeistung {
            id: unplaced(l.id.clone()),
            title: unplaced(l.title.clone()),
            leika: l.leika.clone().map(unplaced),
            lebenslagen: l.lebenslagen.iter().cloned().map(unplaced).collect(),
            responsible: unplaced(responsible),
            workflow: l.workflow.clone().map(unplaced),
            keywords: l.keywords.clone(),
            summary: l.summary.clone(),
            description: l.description.clone(),
            eligibility: l.eligibility.clone(),
            documents: l.documents.clone(),
            fees: l.fees.clone(),
            processing_time: l.processing_time.clone(),
            deadline: l.deadline.clone(),
            legal_basis: l.legal_basis.clone(),
            visit: l.visit,
            online: l.online.clone().map(unplaced),
            form: l.form.clone().map(unplaced),
            office: l.office.clone(),
            notes: l.notes.clone(),
        }
    }
}
