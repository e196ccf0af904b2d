//! Citizen sign-in as the workflow language sees it (docs/login.md): whether a workflow needs a
//! signed-in citizen (`login:`), how sure the identity must be (`trust_level:`), and the trust
//! levels identity providers assert. No protocol here: SAML and OpenID Connect live in the
//! server.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How sure an identity is (eIDAS levels as BundID reports them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrustLevel {
    /// A registration with user name and password (eIDAS "niedrig", STORK-QAA-Level-1).
    Basic,
    /// An ELSTER certificate (eIDAS "substanziell", STORK-QAA-Level-3).
    Substantial,
    /// The online ID card or an EU eID (eIDAS "hoch", STORK-QAA-Level-4).
    High,
}

impl TrustLevel {
    /// Every level, lowest first.
    pub const ALL: [TrustLevel; 3] = [Self::Basic, Self::Substantial, Self::High];

    /// The number stored with sessions: 1, 2, 3.
    pub fn rank(self) -> u8 {
        match self {
            Self::Basic => 1,
            Self::Substantial => 2,
            Self::High => 3,
        }
    }

    /// The level of a stored rank.
    pub fn from_rank(rank: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|l| l.rank() == rank)
    }

    /// The stable code (`basic`, `substantial`, `high`), as written in workflows.
    pub fn code(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    /// The German word citizens read ("Vertrauensniveau substanziell").
    pub fn label_de(self) -> &'static str {
        match self {
            Self::Basic => "niedrig",
            Self::Substantial => "substanziell",
            Self::High => "hoch",
        }
    }

    /// The English word.
    pub fn label_en(self) -> &'static str {
        match self {
            Self::Basic => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }

    /// The word in the sign-in link (`/konto/anmelden?ebene=substanziell`).
    pub fn slug(self) -> &'static str {
        match self {
            Self::Basic => "basis",
            Self::Substantial => "substanziell",
            Self::High => "hoch",
        }
    }

    /// The level of a sign-in link's word, or of a code.
    pub fn from_slug(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|l| l.slug() == s || l.code() == s)
    }
}

impl fmt::Display for TrustLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for TrustLevel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|l| l.code() == s)
            .ok_or_else(|| format!("{s:?}: expected basic, substantial or high"))
    }
}

/// Whether a workflow needs a signed-in citizen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LoginMode {
    /// Anonymous, as before: a resume code or link is the way back.
    #[default]
    None,
    /// Signing in is offered (prefill, Mein Konto); anonymous applications work too.
    Optional,
    /// Only signed-in citizens at `trust_level` or above may apply.
    Required,
}

/// Who applied, when a signed-in citizen did: what a draft and its submission record, and no
/// more (docs/login.md, "Welche Daten wir speichern").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// The provider's name citizens read (`BundID`).
    pub provider: String,
    pub trust_level: TrustLevel,
    /// The stable pseudonymous id of the citizen in this installation.
    pub subject: String,
    /// The form names (`halter.nachname`) of the answers taken from the identity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefilled: Vec<String>,
}

impl SignedIn {
    /// The receipt's line: "Identität nachgewiesen über BundID, Vertrauensniveau substanziell".
    pub fn receipt_line(&self, lang: crate::Lang) -> String {
        if lang == crate::Lang::En {
            format!(
                "Identity verified through {}, trust level {}",
                self.provider,
                self.trust_level.label_en()
            )
        } else {
            format!(
                "Identität nachgewiesen über {}, Vertrauensniveau {}",
                self.provider,
                self.trust_level.label_de()
            )
        }
    }
}

/// The identity attributes a workflow may prefill from (docs/login.md); the server maps the
/// provider's attribute names onto these.
pub const IDENTITY_ATTRIBUTES: [&str; 7] = [
    "given_name",
    "family_name",
    "birth_date",
    "street",
    "postal_code",
    "city",
    "email",
];

/// One answer taken from the citizen's identity: the field (`halter.nachname`), the
/// attribute, and whether the citizen may change it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Prefill {
    pub path: Vec<String>,
    pub attribute: String,
    pub editable: bool,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn levels_are_ordered_and_round_trip() {
        assert!(TrustLevel::Basic < TrustLevel::Substantial);
        assert!(TrustLevel::Substantial < TrustLevel::High);
        for l in TrustLevel::ALL {
            assert_eq!(TrustLevel::from_rank(l.rank()), Some(l));
            assert_eq!(TrustLevel::from_slug(l.slug()), Some(l));
            assert_eq!(l.code().parse::<TrustLevel>().unwrap(), l);
        }
        assert_eq!(TrustLevel::from_rank(0), None);
        assert!("mittel".parse::<TrustLevel>().is_err());
    }
}
