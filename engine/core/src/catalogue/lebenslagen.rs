//! The Lebenslagen (life situations) a citizen finds services by: a fixed vocabulary with German
//! and English labels, the one place in code that knows them. Workflows and catalogue entries
//! name them by key; an unknown key is an error at load time, never a new category.
//! docs/catalogue.md lists them.

use crate::text::Lang;

/// One Lebenslage: its key in files and URLs, and its labels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lebenslage {
    pub key: &'static str,
    pub de: &'static str,
    pub en: &'static str,
}

impl Lebenslage {
    /// The label in `lang`.
    pub fn label(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::De => self.de,
            Lang::En => self.en,
        }
    }
}

const fn lage(key: &'static str, de: &'static str, en: &'static str) -> Lebenslage {
    Lebenslage { key, de, en }
}

/// Every Lebenslage, in the order the portal lists them.
pub const LEBENSLAGEN: &[Lebenslage] = &[
    lage("geburt", "Geburt", "Birth"),
    lage("familie", "Familie und Kinder", "Family and children"),
    lage("schule", "Schule und Ausbildung", "School and training"),
    lage(
        "heirat",
        "Heirat und Partnerschaft",
        "Marriage and partnership",
    ),
    lage("umzug", "Umzug", "Moving house"),
    lage(
        "ausweise",
        "Ausweise und Urkunden",
        "Identity documents and certificates",
    ),
    lage("wahlen", "Wahlen", "Elections"),
    lage("arbeit", "Arbeit und Beruf", "Work and career"),
    lage("gewerbe", "Gewerbe und Unternehmen", "Trade and business"),
    lage("bauen", "Bauen und Wohnen", "Building and housing"),
    lage(
        "mobilitaet",
        "Mobilität und Verkehr",
        "Mobility and transport",
    ),
    lage("haustiere", "Haustiere", "Pets"),
    lage("steuern", "Steuern und Abgaben", "Taxes and charges"),
    lage("abfall", "Abfall und Umwelt", "Waste and environment"),
    lage("soziales", "Soziale Hilfen", "Social support"),
    lage("gesundheit", "Gesundheit und Pflege", "Health and care"),
    lage(
        "behinderung",
        "Leben mit Behinderung",
        "Living with a disability",
    ),
    lage(
        "migration",
        "Einwanderung und Staatsangehörigkeit",
        "Immigration and citizenship",
    ),
    lage(
        "sicherheit",
        "Sicherheit und Ordnung",
        "Safety and public order",
    ),
    lage("veranstaltungen", "Veranstaltungen", "Events"),
    lage(
        "freizeit",
        "Freizeit, Kultur und Sport",
        "Leisure, culture and sport",
    ),
    lage("ruhestand", "Ruhestand", "Retirement"),
    lage("todesfall", "Todesfall", "Death of a relative"),
];

/// The Lebenslage with this key.
pub fn lebenslage(key: &str) -> Option<&'static Lebenslage> {
    LEBENSLAGEN.iter().find(|l| l.key == key)
}

/// The keys, comma-separated: the help of an unknown-key problem.
pub fn keys() -> String {
    LEBENSLAGEN
        .iter()
        .map(|l| l.key)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Where a Lebenslage stands in [`LEBENSLAGEN`] (unknown keys last): the order pages list them.
pub fn rank(key: &str) -> usize {
    LEBENSLAGEN
        .iter()
        .position(|l| l.key == key)
        .unwrap_or(LEBENSLAGEN.len())
}
