//! Forms: compiled JSON Schemas for fields (draft 2020-12, `$ref` resolved locally against
//! `forms/`, never over the network), German formats, and field errors with friendly messages.
//!
//! Depends on jsonschema, nothing else of the engine but [`crate::text`].

pub mod formats;
mod messages;

use std::collections::BTreeMap;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, Resource, Validator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use messages::{Asked, ErrorKind, default_message};
mod posted;
pub use posted::answers_from_pairs;

/// The base URI that relative `$ref`s resolve against: `person.json` means
/// `json-schema:///person.json`, which is where every file in `forms/` is registered.
pub const BASE_URI: &str = "json-schema:///";

/// One error the citizen sees, at one field (a JSON pointer into the answers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// JSON pointer, e.g. `/hunde/1/name`.
    pub pointer: String,
    /// The top-level field this error belongs to.
    pub field: String,
    /// A stable key for the kind of error (`required`, `format`, `minLength`, `rule`, ...).
    pub kind: String,
    /// The message, in the citizen's language.
    pub message: String,
}

/// The reusable schemas from `forms/`, by file name.
#[derive(Clone, Debug, Default)]
pub struct FormSet {
    files: BTreeMap<String, Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("{0}")]
    Invalid(String),
    #[error("$ref \"{reference}\" cannot be resolved: {reason}")]
    Unresolved { reference: String, reason: String },
}

impl FormSet {
    pub fn insert(&mut self, name: String, schema: Value) {
        self.files.insert(name, schema);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.files.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// Resolves a `$ref` as seen from `base` (a forms file name, or `None` for an inline
    /// schema) to the schema it points at, and the file it lives in.
    pub fn resolve<'a>(
        &'a self,
        base: Option<&'a str>,
        root: &'a Value,
        reference: &str,
    ) -> Result<(Option<&'a str>, &'a Value), SchemaError> {
        let (file, fragment) = match reference.split_once('#') {
            Some((f, frag)) => (f, frag),
            None => (reference, ""),
        };
        let file = file.strip_prefix(BASE_URI).unwrap_or(file);
        let (doc_name, doc) = if file.is_empty() {
            (base, root)
        } else if file.contains("://") {
            return Err(SchemaError::Unresolved {
                reference: reference.to_string(),
                reason: "only files from forms/ can be referenced, never the network".into(),
            });
        } else {
            let known = self
                .files
                .get_key_value(file)
                .ok_or_else(|| SchemaError::Unresolved {
                    reference: reference.to_string(),
                    reason: if self.files.is_empty() {
                        format!(
                            "there is no forms/{file}: no forms/ folder was found beside workflows/ (copy or link the project's forms/ there)"
                        )
                    } else {
                        format!(
                            "there is no forms/{file} (known: {})",
                            self.files.keys().cloned().collect::<Vec<_>>().join(", ")
                        )
                    },
                })?;
            (Some(known.0.as_str()), known.1)
        };
        let target = if fragment.is_empty() {
            Some(doc)
        } else {
            doc.pointer(fragment)
        };
        let target = target.ok_or_else(|| SchemaError::Unresolved {
            reference: reference.to_string(),
            reason: format!(
                "{} has nothing at #{fragment}",
                doc_name
                    .map(|n| format!("forms/{n}"))
                    .unwrap_or("this schema".into())
            ),
        })?;
        Ok((doc_name, target))
    }

    /// Follows `$ref` chains (bounded) to the schema that says what a value looks like.
    pub fn deref<'a>(
        &'a self,
        base: Option<&'a str>,
        root: &'a Value,
        schema: &'a Value,
    ) -> Result<(Option<&'a str>, &'a Value), SchemaError> {
        let mut current = (base, schema);
        let mut doc_root = root;
        for _ in 0..16 {
            match current.1.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let (file, target) = self.resolve(current.0, doc_root, r)?;
                    if let Some(f) = file
                        && let Some(d) = self.files.get(f)
                    {
                        doc_root = d;
                    }
                    current = (file, target);
                }
                None => return Ok(current),
            }
        }
        Err(SchemaError::Invalid(
            "$ref chain is too long or circular".into(),
        ))
    }

    /// Every `$ref` in `schema` that cannot be resolved, with the reason.
    pub fn unresolved_refs(&self, base: Option<&str>, schema: &Value) -> Vec<SchemaError> {
        let mut out = Vec::new();
        let mut stack = vec![schema];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref")
                        && let Err(e) = self.resolve(base, schema, r)
                    {
                        out.push(e);
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        out
    }

    /// The forms files a schema needs, transitively (for the workflow's content hash).
    pub fn dependencies(&self, schema: &Value) -> Vec<String> {
        let mut seen: Vec<String> = Vec::new();
        let mut stack = vec![schema];
        while let Some(v) = stack.pop() {
            match v {
                Value::Object(map) => {
                    if let Some(Value::String(r)) = map.get("$ref") {
                        let file = r.split('#').next().unwrap_or("");
                        let file = file.strip_prefix(BASE_URI).unwrap_or(file);
                        if !file.is_empty()
                            && !seen.iter().any(|s| s == file)
                            && let Some(doc) = self.files.get(file)
                        {
                            seen.push(file.to_string());
                            stack.push(doc);
                        }
                    }
                    stack.extend(map.values());
                }
                Value::Array(items) => stack.extend(items),
                _ => {}
            }
        }
        seen.sort();
        seen
    }

    /// A compiler for field schemas, with every forms file registered and the German formats.
    pub fn compiler(&self) -> Result<SchemaCompiler, SchemaError> {
        let resources: Vec<(String, Resource)> = self
            .files
            .iter()
            .map(|(name, doc)| {
                (
                    format!("{BASE_URI}{name}"),
                    Resource::from_contents(doc.clone()),
                )
            })
            .collect();
        let registry = jsonschema::Registry::new()
            .draft(Draft::Draft202012)
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| SchemaError::Invalid(e.to_string()))?;
        Ok(SchemaCompiler { registry })
    }
}

/// Builds validators against the registry of `forms/`.
pub struct SchemaCompiler {
    registry: jsonschema::Registry<'static>,
}

impl std::fmt::Debug for SchemaCompiler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SchemaCompiler")
    }
}

impl SchemaCompiler {
    /// Checks `schema` against the draft 2020-12 meta-schema, then compiles it.
    pub fn compile(&self, schema: &Value) -> Result<Validator, SchemaError> {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            let at = e.instance_path().to_string();
            let at = if at.is_empty() {
                String::new()
            } else {
                format!(" at {at}")
            };
            return Err(SchemaError::Invalid(format!(
                "not a valid JSON Schema (draft 2020-12){at}: {e}"
            )));
        }
        let mut options = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_base_uri(BASE_URI)
            .with_registry(&self.registry)
            .should_validate_formats(true);
        for (name, check) in formats::FORMATS {
            options = options.with_format(*name, *check);
        }
        options
            .build(schema)
            .map_err(|e| SchemaError::Invalid(described(&e)))
    }
}

/// jsonschema's refusal of a schema; for a `pattern` that is not a regular expression, what is
/// wrong with it as the regex engine sees it (a designer's message: the browser compiles only
/// workflows the server has checked).
fn described(e: &jsonschema::ValidationError<'_>) -> String {
    #[cfg(not(target_family = "wasm"))]
    if let ValidationErrorKind::Format { format } = e.kind()
        && format == "regex"
        && let Value::String(pattern) = e.instance().as_ref()
    {
        let why = fancy_regex::Regex::new(pattern)
            .err()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return format!("the pattern \"{pattern}\" is not a regular expression{why}");
    }
    e.to_string()
}

/// The first character of `text` that no answer may contain: control characters (NUL, escape,
/// …) and the characters that reorder text on screen (right-to-left override, isolates and
/// marks), which could make a page, an export or a receipt show something else than was
/// stored. Line breaks (and tabs) are allowed only in a `multiline` field (a textarea); the
/// Unicode line and paragraph separators count as line breaks.
pub fn forbidden_character(text: &str, multiline: bool) -> Option<char> {
    // Printable ASCII is the common case and never forbidden.
    if text.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return None;
    }
    text.chars().find(|&c| match c {
        '\n' | '\r' | '\t' | '\u{2028}' | '\u{2029}' => !multiline,
        '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}'
        | '\u{200E}'
        | '\u{200F}'
        | '\u{061C}' => true,
        c => c.is_control(),
    })
}

/// `text` in Unicode normal form C (one code point for "ä", not "a" and a combining
/// diaeresis), so that the same answer is stored, searched and printed the same way however
/// it was typed; borrowed when it is already (every ASCII text is).
pub fn nfc(text: &str) -> std::borrow::Cow<'_, str> {
    use unicode_normalization::UnicodeNormalization;
    if text.is_ascii() || unicode_normalization::is_nfc(text) {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.nfc().collect())
    }
}

/// Validates one value; returns (JSON pointer relative to the value, error kind) for each error.
pub fn validate(validator: &Validator, value: &Value) -> Vec<(String, ErrorKind)> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    let mut out = Vec::new();
    for e in validator.iter_errors(value) {
        let mut pointer = e.instance_path().to_string();
        let kind = match e.kind() {
            ValidationErrorKind::Required { property } => {
                if let Some(p) = property.as_str() {
                    pointer.push('/');
                    pointer.push_str(&p.replace('~', "~0").replace('/', "~1"));
                }
                ErrorKind::Required
            }
            ValidationErrorKind::Format { format } => ErrorKind::Format(format.clone()),
            ValidationErrorKind::MinLength { limit } => ErrorKind::MinLength(*limit),
            ValidationErrorKind::MaxLength { limit } => ErrorKind::MaxLength(*limit),
            ValidationErrorKind::Minimum { limit }
            | ValidationErrorKind::ExclusiveMinimum { limit } => {
                ErrorKind::Minimum(number_text(limit))
            }
            ValidationErrorKind::Maximum { limit }
            | ValidationErrorKind::ExclusiveMaximum { limit } => {
                ErrorKind::Maximum(number_text(limit))
            }
            ValidationErrorKind::Type { kind } => {
                let text = format!("{kind:?}").to_lowercase();
                if text.contains("integer") {
                    ErrorKind::Type("integer")
                } else if text.contains("number") {
                    ErrorKind::Type("number")
                } else if text.contains("boolean") {
                    ErrorKind::Type("boolean")
                } else {
                    ErrorKind::Type("text")
                }
            }
            ValidationErrorKind::Enum { .. } => ErrorKind::Enum,
            ValidationErrorKind::Constant { .. } => ErrorKind::Const,
            ValidationErrorKind::Pattern { .. } => ErrorKind::Pattern,
            ValidationErrorKind::MinItems { limit } => ErrorKind::MinItems(*limit),
            ValidationErrorKind::MaxItems { limit } => ErrorKind::MaxItems(*limit),
            ValidationErrorKind::AdditionalProperties { .. }
            | ValidationErrorKind::UnevaluatedProperties { .. } => ErrorKind::Unexpected,
            _ => ErrorKind::Invalid,
        };
        // One message per place is enough for a citizen: the most specific one.
        match out.iter_mut().find(|(p, _)| *p == pointer) {
            Some(existing) => {
                if rank(&kind) < rank(&existing.1) {
                    existing.1 = kind;
                }
            }
            None => out.push((pointer, kind)),
        }
    }
    out
}

/// Lower is more helpful to a citizen: "5 Ziffern" says more than "mindestens 5 Zeichen".
fn rank(kind: &ErrorKind) -> u8 {
    match kind {
        ErrorKind::Required => 0,
        ErrorKind::Format(_) => 1,
        ErrorKind::Type(_) => 2,
        ErrorKind::Enum | ErrorKind::Const => 3,
        ErrorKind::Pattern => 4,
        _ => 5,
    }
}

fn number_text(v: &Value) -> String {
    match v {
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.to_string()
            } else {
                n.to_string().replace('.', ",")
            }
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_direction_characters_are_found_line_breaks_only_in_one_line_fields() {
        for (text, one_line, multi_line) in [
            ("Heinsberg", None, None),
            ("Übach-Palenberg 12 a", None, None),
            ("a\u{0}b", Some('\u{0}'), Some('\u{0}')),
            ("evil\u{202E}gpj.exe", Some('\u{202E}'), Some('\u{202E}')),
            ("x\u{2066}y", Some('\u{2066}'), Some('\u{2066}')),
            ("Zeile 1\nZeile 2", Some('\n'), None),
            ("Zeile 1\r\nZeile 2\tTab", Some('\r'), None),
            ("a\u{2028}b", Some('\u{2028}'), None),
            ("Esc\u{1b}[31m", Some('\u{1b}'), Some('\u{1b}')),
            ("C1\u{85}", Some('\u{85}'), Some('\u{85}')),
            ("مرحبا שלום", None, None),
        ] {
            assert_eq!(forbidden_character(text, false), one_line, "{text:?}");
            assert_eq!(forbidden_character(text, true), multi_line, "{text:?}");
        }
    }

    #[test]
    fn text_is_kept_in_nfc() {
        assert_eq!(nfc("Mu\u{308}ller"), "Müller");
        assert!(matches!(nfc("Müller"), std::borrow::Cow::Borrowed(_)));
        assert!(matches!(nfc("Mueller"), std::borrow::Cow::Borrowed(_)));
    }
}
