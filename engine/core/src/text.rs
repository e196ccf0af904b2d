//! Texts a citizen or case worker reads: German first, English optional.

use serde::{Deserialize, Serialize};

/// The language a page or message is shown in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    De,
    En,
}

impl Lang {
    /// Parses a language tag such as `de`, `en`, `de-DE`; anything else is German.
    pub fn from_tag(tag: &str) -> Lang {
        if tag.to_ascii_lowercase().starts_with("en") {
            Lang::En
        } else {
            Lang::De
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::De => "de",
            Lang::En => "en",
        }
    }
}

/// A text in German with an optional English translation. In a workflow file it is either a plain
/// string (German) or a map `{de: ..., en: ...}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Text {
    Plain(String),
    Localized(Localized),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Localized {
    pub de: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

impl Text {
    pub fn de(s: impl Into<String>) -> Text {
        Text::Plain(s.into())
    }

    /// The text in `lang`, falling back to German where no translation exists.
    pub fn get(&self, lang: Lang) -> &str {
        match (self, lang) {
            (Text::Plain(s), _) => s,
            (Text::Localized(l), Lang::En) => l.en.as_deref().unwrap_or(&l.de),
            (Text::Localized(l), Lang::De) => &l.de,
        }
    }

    pub fn german(&self) -> &str {
        self.get(Lang::De)
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.german())
    }
}
