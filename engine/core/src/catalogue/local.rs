//! The part of a catalogue entry a municipality keeps itself: its office or contact person,
//! fees, processing time, documents, a note and its own links. Written under `catalogue:` in
//! the tenant's file (docs/tenants.md) or kept in the Verwaltung; laid over the county's entry
//! on that tenant's pages only. Every value is checked here, once, for `lotse check` and for
//! the Verwaltung alike (the Verwaltung shows [`LocalError::german`]).
//!
//! Pure data and checks: no I/O.

use serde::{Deserialize, Serialize};

use super::leistung::{Leistung, Office};
use super::load::{Link, link_kind};
use crate::text::Text;

/// What a municipality says differently from the county's entry; an absent value (or an empty
/// list) means "as the county's entry says".
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalPart {
    /// The responsible office or contact person (FIM: Ansprechpunkt), at the tenant's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub office: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub processing_time: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub documents: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// The municipality's own online service (https only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<String>,
    /// The municipality's own PDF form (https only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form: Option<String>,
}

/// One field of a [`LocalPart`], as forms and messages name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalField {
    Office,
    Phone,
    Email,
    Fees,
    ProcessingTime,
    Documents,
    Notes,
    Online,
    Form,
}

impl LocalField {
    /// The key in the file.
    pub fn key(self) -> &'static str {
        match self {
            LocalField::Office => "office",
            LocalField::Phone => "phone",
            LocalField::Email => "email",
            LocalField::Fees => "fees",
            LocalField::ProcessingTime => "processing_time",
            LocalField::Documents => "documents",
            LocalField::Notes => "notes",
            LocalField::Online => "online",
            LocalField::Form => "form",
        }
    }

    /// The field's label in the Verwaltung.
    pub fn label_de(self) -> &'static str {
        match self {
            LocalField::Office => "Zuständige Stelle oder Ansprechperson",
            LocalField::Phone => "Telefon",
            LocalField::Email => "E-Mail",
            LocalField::Fees => "Gebühren",
            LocalField::ProcessingTime => "Bearbeitungsdauer",
            LocalField::Documents => "Erforderliche Unterlagen",
            LocalField::Notes => "Hinweis",
            LocalField::Online => "Online-Dienst",
            LocalField::Form => "PDF-Formular",
        }
    }

    /// The most characters the field takes (for a list: each line).
    pub fn max_chars(self) -> usize {
        match self {
            LocalField::Office => 120,
            LocalField::Phone => 40,
            LocalField::Email => 120,
            LocalField::Fees => 500,
            LocalField::ProcessingTime => 200,
            LocalField::Documents => 200,
            LocalField::Notes => 1000,
            LocalField::Online | LocalField::Form => 500,
        }
    }
}

/// The most lines of `documents`.
pub const MAX_DOCUMENTS: usize = 20;

/// What is wrong with one value of a [`LocalPart`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LocalError {
    #[error("`{}` is longer than {} characters", .0.key(), .0.max_chars())]
    TooLong(LocalField),
    #[error("`{}` holds a line break or a control character", .0.key())]
    ControlCharacter(LocalField),
    #[error("`{key}` is not an https:// address: \"{1}\"", key = .0.key())]
    NotHttps(LocalField, String),
    #[error("`email` is not an e-mail address: \"{0}\"")]
    NotEmail(String),
    #[error("`documents` has more than {MAX_DOCUMENTS} lines")]
    TooManyDocuments,
}

impl LocalError {
    /// The field the error is about.
    pub fn field(&self) -> LocalField {
        match self {
            LocalError::TooLong(f)
            | LocalError::ControlCharacter(f)
            | LocalError::NotHttps(f, _) => *f,
            LocalError::NotEmail(_) => LocalField::Email,
            LocalError::TooManyDocuments => LocalField::Documents,
        }
    }

    /// The message a tenant administrator reads.
    pub fn german(&self) -> String {
        match self {
            LocalError::TooLong(LocalField::Documents) => format!(
                "Jede Zeile bei „{}“ darf höchstens {} Zeichen lang sein.",
                LocalField::Documents.label_de(),
                LocalField::Documents.max_chars()
            ),
            LocalError::TooLong(f) => format!(
                "„{}“ darf höchstens {} Zeichen lang sein.",
                f.label_de(),
                f.max_chars()
            ),
            LocalError::ControlCharacter(f) => format!(
                "„{}“ darf keinen Zeilenumbruch und keine Steuerzeichen enthalten.",
                f.label_de()
            ),
            LocalError::NotHttps(f, _) => format!(
                "„{}“ muss eine vollständige, sichere Internetadresse sein, die mit https:// beginnt, zum Beispiel https://www.gemeinde.example/antrag.pdf.",
                f.label_de()
            ),
            LocalError::NotEmail(_) => {
                "Bitte geben Sie eine E-Mail-Adresse wie buergerbuero@gemeinde.example an."
                    .to_string()
            }
            LocalError::TooManyDocuments => format!(
                "Bei „{}“ sind höchstens {MAX_DOCUMENTS} Zeilen möglich.",
                LocalField::Documents.label_de()
            ),
        }
    }
}

impl LocalPart {
    /// Whether it says nothing of its own.
    pub fn is_empty(&self) -> bool {
        *self == LocalPart::default()
    }

    /// Every problem of its values, in the order of the fields; empty when it can be used.
    pub fn check(&self) -> Vec<LocalError> {
        let mut errors = Vec::new();
        let single = [
            (LocalField::Office, &self.office),
            (LocalField::Phone, &self.phone),
            (LocalField::Email, &self.email),
            (LocalField::Fees, &self.fees),
            (LocalField::ProcessingTime, &self.processing_time),
            (LocalField::Notes, &self.notes),
            (LocalField::Online, &self.online),
            (LocalField::Form, &self.form),
        ];
        for (field, value) in single {
            let Some(v) = value else { continue };
            // A note may have paragraphs; every other value is one line.
            let bad = |c: char| c.is_control() && !(field == LocalField::Notes && c == '\n');
            if v.chars().any(bad) {
                errors.push(LocalError::ControlCharacter(field));
            } else if v.chars().count() > field.max_chars() {
                errors.push(LocalError::TooLong(field));
            } else if matches!(field, LocalField::Online | LocalField::Form)
                && !(v.starts_with("https://") && link_kind(v) == Link::Secure)
            {
                errors.push(LocalError::NotHttps(field, v.clone()));
            } else if field == LocalField::Email && !is_email(v) {
                errors.push(LocalError::NotEmail(v.clone()));
            }
        }
        if self.documents.len() > MAX_DOCUMENTS {
            errors.push(LocalError::TooManyDocuments);
        } else if self
            .documents
            .iter()
            .any(|d| d.chars().any(char::is_control))
        {
            errors.push(LocalError::ControlCharacter(LocalField::Documents));
        } else if self
            .documents
            .iter()
            .any(|d| d.chars().count() > LocalField::Documents.max_chars())
        {
            errors.push(LocalError::TooLong(LocalField::Documents));
        }
        errors
    }

    /// The county's entry as this tenant shows it. A local office sits at the tenant's
    /// address (the entry's office then has none), with the entry's opening hours where it
    /// named its own office without an address.
    pub fn apply(&self, entry: &Leistung) -> Leistung {
        let mut e = entry.clone();
        let text = |v: &Option<String>, old: &Option<Text>| match v {
            Some(v) => Some(Text::de(v.clone())),
            None => old.clone(),
        };
        e.fees = text(&self.fees, &entry.fees);
        e.processing_time = text(&self.processing_time, &entry.processing_time);
        e.notes = text(&self.notes, &entry.notes);
        if !self.documents.is_empty() {
            e.documents = self.documents.iter().cloned().map(Text::de).collect();
        }
        if self.online.is_some() {
            e.online = self.online.clone();
        }
        if self.form.is_some() {
            e.form = self.form.clone();
        }
        if self.office.is_some() || self.phone.is_some() || self.email.is_some() {
            let own = entry.office.as_ref().filter(|o| o.address.is_empty());
            e.office = Some(Office {
                name: match (&self.office, own) {
                    (Some(name), _) => Text::de(name.clone()),
                    (None, Some(o)) => o.name.clone(),
                    // The tenant's general office (`directory::responsible_office` reads an
                    // empty name so).
                    (None, None) => Text::de(String::new()),
                },
                address: Vec::new(),
                phone: self
                    .phone
                    .clone()
                    .or_else(|| own.and_then(|o| o.phone.clone())),
                email: self
                    .email
                    .clone()
                    .or_else(|| own.and_then(|o| o.email.clone())),
                hours: own.map(|o| o.hours.clone()).unwrap_or_default(),
            });
        }
        e
    }
}

/// An address with a local part and a domain with a dot, without spaces.
fn is_email(v: &str) -> bool {
    v.split_once('@').is_some_and(|(l, d)| {
        !l.is_empty()
            && d.contains('.')
            && !d.starts_with('.')
            && !d.ends_with('.')
            && !d.contains('@')
    }) && !v.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn links_must_be_https_and_values_are_bounded() {
        let part = LocalPart {
            online: Some("http://www.gangelt.example/hund".into()),
            form: Some("javascript:alert(1)".into()),
            fees: Some("x".repeat(501)),
            office: Some("Bürgerbüro\nZimmer 3".into()),
            email: Some("kein-at.example".into()),
            documents: vec!["Ausweis".into(); 21],
            ..LocalPart::default()
        };
        let errors = part.check();
        let fields: Vec<LocalField> = errors.iter().map(LocalError::field).collect();
        assert_eq!(
            fields,
            [
                LocalField::Office,
                LocalField::Email,
                LocalField::Fees,
                LocalField::Online,
                LocalField::Form,
                LocalField::Documents
            ]
        );
        assert!(
            errors[3].german().contains("https://"),
            "{}",
            errors[3].german()
        );
        let good = LocalPart {
            online: Some("https://www.gangelt.example/hund".into()),
            notes: Some("Erster Absatz.\nZweiter Absatz.".into()),
            email: Some("buergerbuero@gangelt.example".into()),
            ..LocalPart::default()
        };
        assert_eq!(good.check(), []);
    }

    #[test]
    fn a_local_office_sits_at_the_tenants_address() {
        let entry = Leistung {
            id: "hundesteuer".into(),
            title: Text::de("Hundesteuer".to_string()),
            leika: None,
            lebenslagen: vec![],
            responsible: super::super::Responsible::Gemeinde,
            workflow: None,
            keywords: vec![],
            summary: None,
            description: None,
            eligibility: None,
            documents: vec![Text::de("Ausweis".to_string())],
            fees: Some(Text::de("keine".to_string())),
            processing_time: None,
            deadline: None,
            legal_basis: vec![],
            visit: None,
            online: None,
            form: None,
            office: Some(Office {
                name: Text::de("Kreiskasse".to_string()),
                address: vec!["Valkenburger Straße 45".into()],
                phone: Some("02452 13-0".into()),
                email: None,
                hours: vec![],
            }),
            notes: None,
            source: Default::default(),
            at: Default::default(),
        };
        let part = LocalPart {
            office: Some("Steueramt, Frau Beispiel".into()),
            fees: Some("96,00 € im Jahr".into()),
            ..LocalPart::default()
        };
        let shown = part.apply(&entry);
        let office = shown.office.unwrap();
        assert_eq!(office.name.german(), "Steueramt, Frau Beispiel");
        assert!(office.address.is_empty() && office.phone.is_none());
        assert_eq!(shown.fees.unwrap().german(), "96,00 € im Jahr");
        assert_eq!(shown.documents, entry.documents, "as the county's");
        assert_eq!(LocalPart::default().apply(&entry), entry);
    }
}
