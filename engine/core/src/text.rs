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

    /// The language of what [`Text::get`] gives for `lang`: German where no translation exists.
    pub fn lang_of(&self, lang: Lang) -> Lang {
        match (self, lang) {
            (Text::Localized(Localized { en: Some(_), .. }), Lang::En) => Lang::En,
            _ => Lang::De,
        }
    }
}

impl std::fmt::Display for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.german())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_without_translation_is_german_on_an_english_page() {
        let plain = Text::de("Hund anmelden");
        let both = Text::Localized(Localized {
            de: "Hund anmelden".into(),
            en: Some("Register a dog".into()),
        });
        let german_only = Text::Localized(Localized {
            de: "Hund abmelden".into(),
            en: None,
        });
        assert_eq!(plain.lang_of(Lang::En), Lang::De);
        assert_eq!(german_only.lang_of(Lang::En), Lang::De);
        assert_eq!(both.lang_of(Lang::En), Lang::En);
        assert_eq!(both.lang_of(Lang::De), Lang::De);
        assert_eq!(both.get(Lang::En), "Register a dog");
    }
}
