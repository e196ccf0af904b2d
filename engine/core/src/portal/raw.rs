//! The portal's files as written: `portal/portal.yaml` and `portal/tenants/<slug>.yaml`
//! (docs/tenants.md describes every key).

use serde::Deserialize;
use serde_saphyr::Spanned;

use crate::text::Text;

/// `portal/portal.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPortal {
    pub name: Text,
    /// The slug of the tenant at the top (the county): its page is the portal's start page.
    pub root: Spanned<String>,
    pub contact: RawContact,
    pub links: RawLinks,
    /// The explanation of the portal in Leichte Sprache (paragraphs separated by blank lines).
    pub leichte_sprache: Spanned<String>,
    pub gebaerdensprache: RawSignLanguage,
}

/// The general contact of the portal: named when a search finds nothing.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawContact {
    pub phone: Spanned<String>,
    pub email: Spanned<String>,
    /// Whether the county takes part in the 115, the public-service number.
    #[serde(default)]
    pub behoerdennummer_115: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLinks {
    pub imprint: Spanned<String>,
    pub privacy: Spanned<String>,
    pub accessibility: Spanned<String>,
}

/// The explanation in Deutsche Gebärdensprache: a video and what it shows, in words.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSignLanguage {
    pub video: Spanned<String>,
    pub description: Text,
}

/// `portal/tenants/<slug>.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTenant {
    pub slug: Spanned<String>,
    pub name: Spanned<String>,
    /// The place without the kind (`Erkelenz` of `Stadt Erkelenz`); derived when left out.
    #[serde(default)]
    pub place: Option<Spanned<String>>,
    pub kind: Spanned<String>,
    #[serde(default)]
    pub parent: Option<Spanned<String>>,
    pub prefix: Spanned<String>,
    pub colour: Spanned<String>,
    #[serde(default)]
    pub logo: Option<Spanned<String>>,
    /// One to three letters on the shield when there is no logo; derived when left out.
    #[serde(default)]
    pub initials: Option<Spanned<String>>,
    pub address: Spanned<Vec<String>>,
    pub office: Text,
    pub phone: Spanned<String>,
    pub email: Spanned<String>,
    #[serde(default)]
    pub opening_hours: Vec<Text>,
    pub services: Spanned<RawServices>,
    /// The SEPA creditor identifier (Gläubiger-Identifikationsnummer) for direct debits.
    #[serde(default)]
    pub creditor_id: Option<Spanned<String>>,
    /// The tenant's own parts of catalogue entries: entry id → what it says differently.
    #[serde(default)]
    pub catalogue: Option<Spanned<std::collections::BTreeMap<String, crate::catalogue::LocalPart>>>,
}

/// `services: all` or a list of workflow ids.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawServices {
    Keyword(String),
    List(Vec<String>),
}
