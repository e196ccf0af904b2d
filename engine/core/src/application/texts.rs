//! Values in texts: a label, help text or end page may show an answer or a computed value by
//! its id in braces ("Sie müssen {ersatzbaeume} Ersatzbäume pflanzen oder {ausgleich} zahlen"),
//! formatted as the review page shows it (`2.000,00 €`, `15.01.2027`, an option's label).
//! `lotse check` refuses a name that is neither a field nor a computed value (LOT-E035).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::display::{display, format_value};
use crate::definition::Workflow;
use crate::text::Lang;

/// The names a text shows, in order: every `{name}` whose name is lowercase letters, digits
/// and `_` starting with a letter. Other braces are text.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) if is_name(&after[..close]) => {
                out.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    out
}

fn is_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `text` with every `{name}` replaced by the answer or computed value of that name, formatted
/// for `lang`; a value not there (yet) shows as "–". Borrowed when the text shows no value.
pub fn fill<'t>(
    wf: &Workflow,
    text: &'t str,
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
    lang: Lang,
) -> Cow<'t, str> {
    let names = placeholders(text);
    if names.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut out = text.to_string();
    for name in names {
        let shown = shown(wf, name, answers, computed, lang);
        out = out.replacen(&format!("{{{name}}}"), &shown, 1);
    }
    Cow::Owned(out)
}

/// The answer or computed value `name`, formatted for `lang` as the review page shows it; "–"
/// where there is none.
pub(crate) fn shown(
    wf: &Workflow,
    name: &str,
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
    lang: Lang,
) -> String {
    let text = if let Some(c) = wf.computed.iter().find(|c| c.id == name) {
        computed
            .get(name)
            .filter(|v| !v.is_null())
            .map(|v| format_value(v, c.format, lang))
    } else {
        match (wf.field(name), answers.get(name)) {
            (Some(f), Some(v)) => Some(display(f, v, lang).flat()),
            _ => None,
        }
    };
    match text {
        Some(t) if !t.is_empty() => t,
        _ => "–".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_names_in_braces() {
        assert_eq!(
            placeholders("Sie pflanzen {ersatzbaeume} Bäume oder zahlen {ausgleich_betrag}."),
            vec!["ersatzbaeume", "ausgleich_betrag"]
        );
        assert!(placeholders("{ nicht } {Gross} {} {a-b} ohne").is_empty());
        assert_eq!(placeholders("{{x}}"), vec!["x"]);
    }
}
