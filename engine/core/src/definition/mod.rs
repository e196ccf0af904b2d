//! Workflow definitions: the file format (typed, `deny_unknown_fields`), loading a directory of
//! workflows, forms and templates, and every load-time check. A [`Workflow`] that exists has passed
//! them all: its schemas compile, its scripts compile against the names it defines, its steps
//! are reachable and free of cycles.
//!
//! Depends on [`crate::form`] and [`crate::script`]; knows nothing of applications or storage.

mod compile;
pub(crate) mod files;
mod graph;
pub(crate) mod load;
mod overrides;
pub(crate) mod raw;
mod sources;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use rustc_hash::FxHashMap;
use serde::Serialize;
use serde_json::Value;

use crate::form::ErrorKind;
use crate::script::{Expr, Names};
use crate::text::Text;

pub use files::MAX_FILE_BYTES;
pub use load::{Library, load_library, load_workflow_source};
pub use overrides::OverrideInfo;
pub use sources::{
    OverrideSource, ParsedOverride, ParsedSources, Sources, compile_parsed, compile_sources,
};

/// Sources larger than this are reported without a snippet.
pub const MAX_FILE_BYTES_FOR_SNIPPETS: u64 = MAX_FILE_BYTES;
pub use raw::{ValueFormat, Widget};

/// The reserved target that leads to the review page.
pub const REVIEW: &str = "review";

/// A checked, compiled, immutable workflow version: as written, or as a tenant runs it with its
/// override applied (see [`Library::for_tenant`]).
/// A SEPA direct debit mandate the citizen gives by answering the account field: the portal shows
/// the mandate's text with the tenant as creditor before sending and on the confirmation, and
/// prints it on the receipt (`sepa_mandate:` in the workflow file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SepaMandate {
    /// The field (a bank account: `kontoinhaber`, `iban`) whose answer gives the mandate; when
    /// the field is not shown (the citizen pays otherwise), there is no mandate.
    pub account: String,
}

/// What the citizen reads after sending: how long processing takes and the next steps, in the
/// workflow's words (`after_submission:` in the workflow file).
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AfterSubmission {
    /// For example "in der Regel 2 Wochen".
    #[serde(default)]
    pub processing_time: Option<Text>,
    /// What happens next, in order.
    #[serde(default)]
    pub next_steps: Vec<Text>,
    /// An appointment the citizen books after sending ("Termin zur Abholung"): a service of
    /// the tenant's schedule (docs/appointments.md).
    #[serde(default)]
    pub appointment: Option<AppointmentOffer>,
}

/// `after_submission: appointment:` the service of the tenant's appointment schedule
/// (`portal/termine/<tenant>.yaml`) and what the status page says about it.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentOffer {
    pub service: String,
    #[serde(default)]
    pub text: Option<Text>,
}

/// One statement of a workflow's declaration ("Ich versichere, dass meine Angaben richtig und
/// vollständig sind."): its id in the submission, and its text.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Statement {
    pub id: String,
    pub label: Text,
}

#[derive(Clone, Debug)]
pub struct Workflow {
    pub id: String,
    pub version: u32,
    /// SHA-256 over the workflow file and every forms file it uses (and, for a tenant's
    /// workflow, the override file): what exactly ran.
    pub content_hash: String,
    pub title: Text,
    pub description: Option<Text>,
    pub lebenslagen: Vec<String>,
    pub leika: Option<String>,
    pub office: Text,
    pub keywords: Vec<String>,
    pub receipt_template: String,
    pub draft_expiry_days: u32,
    /// "Wie geht es weiter?": what happens after sending, shown on the confirmation page.
    pub after_submission: Option<AfterSubmission>,
    /// The declaration the citizen ticks on the review page before sending (`declaration:` in
    /// the workflow file): each statement one required checkbox above "Absenden". Empty: none.
    pub declaration: Vec<Statement>,
    /// The direct debit mandate the workflow asks for, if any.
    pub sepa_mandate: Option<SepaMandate>,
    /// Where the citizen's e-mail address is (`email:` in the workflow file); `None`: the
    /// workflow sends no mail.
    pub email: Option<EmailNotice>,
    /// Online payment before the submission reaches the office, if the workflow asks for it.
    pub payment: Option<crate::payment::PaymentSpec>,
    /// Whether the citizen signs in (`login:`), and how sure the identity must be.
    pub login: crate::login::LoginMode,
    pub trust_level: crate::login::TrustLevel,
    /// Answers taken from the signed-in citizen's identity (`prefill:`).
    pub prefill: Vec<crate::login::Prefill>,
    /// `applicant_name`: alternatives of field paths (see [`Workflow::applicant`]).
    pub applicant_name: Vec<Vec<Vec<String>>>,
    pub steps: Vec<Step>,
    pub computed: Vec<Computed>,
    pub rules: Vec<Rule>,
    /// An extra note on the receipt (from a tenant's override).
    pub receipt_note: Option<Text>,
    /// Replaces the receipt's closing sentence (from a tenant's override).
    pub receipt_closing: Option<Text>,
    /// The tenant whose override this workflow carries; `None`: the workflow as written.
    pub tenant: Option<String>,
    /// The override file applied, if any.
    pub override_source: Option<PathBuf>,
    pub source: PathBuf,
    /// What this workflow was compiled from (see [`compile_sources`]).
    pub sources: Arc<Sources>,
    /// The names scripts of this workflow read (fields some script mentions, computed values).
    pub(crate) names: Names,
    // The maps below are looked up for every name a condition reads, so they use a fast hash
    // rather than SipHash: their keys come from the definition only, never from a citizen,
    // so no one can choose keys that collide.
    pub(crate) step_index: FxHashMap<String, usize>,
    /// field id -> (step index, field index)
    pub(crate) field_index: FxHashMap<String, (usize, usize)>,
    /// What scripts see for an unanswered group: `{}` or `[]`.
    pub(crate) empty_values: FxHashMap<String, Value>,
}

/// `email:` the path of the field with the citizen's address (`kontakt.email`), and whether
/// the confirmation of a submission carries the signed receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailNotice {
    pub address: Vec<String>,
    pub attach_receipt: bool,
}

/// Field ids the Postkorb looks for when a workflow declares no `applicant_name`: first and
/// last name (at the top or in any group), else a company, else a name.
const NAME_FIELDS: [(&str, &str); 2] = [("vorname", "nachname"), ("vornamen", "familienname")];
const ONE_NAME_FIELDS: [&str; 4] = ["firma", "firmenname", "name", "nachname"];

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn find_name(answers: &serde_json::Map<String, Value>) -> Option<String> {
    for (first, last) in NAME_FIELDS {
        if let (Some(f), Some(l)) = (
            answers.get(first).and_then(text_of),
            answers.get(last).and_then(text_of),
        ) {
            return Some(format!("{f} {l}"));
        }
    }
    None
}

impl Workflow {
    /// The citizen's e-mail address in `answers`, at the path `email:` names; `None` when the
    /// workflow names none or the citizen gave none.
    pub fn email_address(
        &self,
        answers: &std::collections::BTreeMap<String, Value>,
    ) -> Option<String> {
        let (first, rest) = self.email.as_ref()?.address.split_first()?;
        let mut v = answers.get(first)?;
        for p in rest {
            v = v.get(p)?;
        }
        v.as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// Who applied, as the Postkorb shows it: the first alternative of `applicant_name` that
    /// gives a text (its paths' answers joined by a space), else first and last name (at the
    /// top of the answers or in a group), else a company or a single name field
    /// (docs/workflow-language.md, "applicant_name"). `None` when nothing fits.
    pub fn applicant(&self, answers: &std::collections::BTreeMap<String, Value>) -> Option<String> {
        for alternative in &self.applicant_name {
            let parts: Vec<String> = alternative
                .iter()
                .filter_map(|path| {
                    let (first, rest) = path.split_first()?;
                    let mut v = answers.get(first)?;
                    for p in rest {
                        v = v.get(p)?;
                    }
                    text_of(v)
                })
                .collect();
            if !parts.is_empty() {
                return Some(parts.join(" "));
            }
        }
        let top: serde_json::Map<String, Value> = answers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Some(n) = find_name(&top) {
            return Some(n);
        }
        for v in answers.values() {
            if let Some(n) = v.as_object().and_then(find_name) {
                return Some(n);
            }
        }
        ONE_NAME_FIELDS
            .iter()
            .find_map(|f| answers.get(*f).and_then(text_of))
    }
}

/// Every answer as text, for the Postkorb's search: strings and numbers anywhere in the
/// answers (groups and repeated entries too), separated by spaces.
pub fn answers_text(answers: &std::collections::BTreeMap<String, Value>) -> String {
    fn walk(v: &Value, out: &mut String) {
        match v {
            Value::String(s) => {
                out.push_str(s);
                out.push(' ');
            }
            Value::Number(n) => {
                out.push_str(&n.to_string());
                out.push(' ');
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Object(map) => map.values().for_each(|i| walk(i, out)),
            Value::Bool(_) | Value::Null => {}
        }
    }
    let mut out = String::new();
    for v in answers.values() {
        walk(v, &mut out);
    }
    out
}

impl Workflow {
    pub fn step(&self, id: &str) -> Option<&Step> {
        self.step_index.get(id).map(|&i| &self.steps[i])
    }

    pub fn step_position(&self, id: &str) -> Option<usize> {
        self.step_index.get(id).copied()
    }

    pub fn field(&self, id: &str) -> Option<&Field> {
        self.field_index
            .get(id)
            .map(|&(s, f)| &self.steps[s].fields[f])
    }

    /// The step that asks `field`.
    pub fn step_of_field(&self, field: &str) -> Option<&Step> {
        self.field_index.get(field).map(|&(s, _)| &self.steps[s])
    }

    /// For answers to fields step `step` does not have: for each of `names`, the step that
    /// asks it, or else the field of `step` whose id is close to it (one or two letters off).
    /// For the designer's `lotse test` and the API's LOT-H012, so a mistyped id is found at
    /// once; the browser never sends unknown fields.
    #[cfg(not(target_family = "wasm"))]
    pub fn unknown_field_hints(&self, step: &str, names: &[&str]) -> Vec<FieldHint> {
        let Some(here) = self.step(step) else {
            return Vec::new();
        };
        names
            .iter()
            .filter_map(|&name| {
                let hint = match self.step_of_field(name) {
                    Some(other) => Hint::AskedOn(other.id.clone()),
                    None => Hint::DidYouMean(
                        crate::script::closest(name, here.fields.iter().map(|f| f.id.as_str()))?
                            .to_string(),
                    ),
                };
                Some(FieldHint {
                    field: name.to_string(),
                    hint,
                })
            })
            .collect()
    }

    /// Every top-level field, in the order the steps ask them.
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.steps.iter().flat_map(|s| s.fields.iter())
    }

    /// `id@version`, as shown in logs and explanations.
    pub fn key(&self) -> String {
        format!("{}@{}", self.id, self.version)
    }
}

/// What [`Workflow::unknown_field_hints`] found for `field`, a field a step does not have.
#[cfg(not(target_family = "wasm"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldHint {
    pub field: String,
    pub hint: Hint,
}

/// Where a field a step does not have may belong.
#[cfg(not(target_family = "wasm"))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hint {
    /// Another step asks it.
    AskedOn(String),
    /// The step has a field whose id is close.
    DidYouMean(String),
}

/// One page of the assistant.
#[derive(Clone, Debug)]
pub struct Step {
    pub id: String,
    pub title: Text,
    pub help: Option<Text>,
    pub applies_if: Option<Expr>,
    pub fields: Vec<Field>,
    /// Ordered conditional branches; the first that holds is taken.
    pub branches: Vec<Branch>,
    /// Where to go when no branch holds (or the step is skipped).
    pub default_next: Target,
    /// An end page (`end: true`): the assistant ends here without a submission; nothing is
    /// asked, nothing follows, there is no review and no "Absenden".
    pub end: bool,
    /// Links shown on the step: on an end page, where the citizen can go instead.
    pub links: Vec<Link>,
    /// The indices of `fields` in the order of their ids: answers go into a tree sorted by id,
    /// and a tree is built fastest from sorted entries.
    pub(crate) fields_by_id: Vec<usize>,
}

impl Step {
    /// Where field `id` is on this step.
    pub fn field_position(&self, id: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.id == id)
    }
}

/// A link on a step: its text, and where it leads (`https://…` or a path of the portal).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Link {
    pub label: Text,
    pub href: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    Step(String),
    Review,
}

impl Target {
    pub fn label(&self) -> &str {
        match self {
            Target::Step(s) => s,
            Target::Review => REVIEW,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Branch {
    pub condition: Expr,
    pub target: Target,
}

/// Whether a field must be answered.
#[derive(Clone, Debug)]
pub enum Required {
    Always,
    Never,
    When(Expr),
}

/// A choice of a radio or select field.
#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: Value,
    pub label: Text,
}

/// Repetition of a group ("one entry per dog").
#[derive(Clone, Debug, Serialize)]
pub struct Repeat {
    pub min: u32,
    pub max: u32,
    pub item_label: Option<Text>,
    pub add_label: Option<Text>,
}

/// A date that must lie before or after the day of answering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Temporal {
    Past,
    Future,
}

/// One question (or a group of questions) on a step.
#[derive(Clone, Debug)]
pub struct Field {
    pub id: String,
    pub label: Text,
    pub help: Option<Text>,
    pub widget: Widget,
    pub autocomplete: Option<String>,
    pub placeholder: Option<Text>,
    pub options: Vec<Choice>,
    pub required: Required,
    pub visible_if: Option<Expr>,
    pub messages: HashMap<String, Text>,
    /// The field's JSON Schema (as written, `$ref`s unresolved), for API clients.
    pub schema: Value,
    /// Sub-fields of a group, for rendering and messages. Their values are validated by the
    /// group's schema.
    pub subfields: Vec<Field>,
    pub repeat: Option<Repeat>,
    /// Whether the value is a date that must lie in the past or future.
    pub temporal: Option<Temporal>,
    /// For a date: the earliest and latest day accepted (the schema's `formatMinimum` and
    /// `formatMaximum`, by default 1900-01-01 and 2100-12-31).
    pub date_bounds: Option<(time::Date, time::Date)>,
    /// The JSON type a form post is coerced to.
    pub value_type: ValueType,
    /// For a file field (`widget: file`): what it accepts.
    pub files: Option<crate::files::FileRules>,
    pub(crate) validator: Option<Arc<jsonschema::Validator>>,
}

/// What the normaliser does to answers before they are checked (see `application::values::normalise`), for
/// the API's document.
macro_rules! normalisation_doc {
    () => {
        "Answers are normalised by the server before they are checked, exactly as the HTML assistant does: text is trimmed and kept in Unicode NFC, and an empty string (or `null`) means \"not answered\"; for a field of `type` `integer` a string of digits becomes a number (\"2\" → 2, \"1.000\" → 1000); `number`: \"12,5\" → 12.5, \"2\" → 2; `boolean`: \"true\", \"ja\", \"yes\", \"on\", \"1\" → true and \"false\", \"nein\", \"no\", \"off\", \"0\" → false; `date`: a German date \"01.01.2027\" or \"1.1.2027\" → \"2027-01-01\" (ISO dates pass unchanged); a choice whose option values are numbers accepts \"2\" for 2. Within a group or a repeated group the same applies to each subfield."
    };
}

/// The German formats of the `format` keyword (see `form::formats`), for the API's document.
pub const FORMATS_DOC: &str = "German formats used in the `format` keyword of a field's `schema` (and checked by the server): `plz` (five digits, 01001–99998), `iban` (checksum verified; spaces allowed), `steuer-id` (the 11-digit Steuer-Identifikationsnummer with its check digit), `kfz-kennzeichen` (a German number plate such as `HS-AB 123`), `telefon` (optional `+`, digits, spaces, `/`, `-`, parentheses; 6–15 digits), `email`, `date` (ISO 8601 `YYYY-MM-DD`), `date-past` (a date not after today), `date-future` (a date not before today).";

/// What the normaliser does to answers before they are checked, for the API's document.
pub const NORMALISATION_DOC: &str = normalisation_doc!();

/// A field's `type` in the API's document.
pub const VALUE_TYPE_DOC: &str = concat!(
    "The JSON type the server keeps the answer as, after normalisation: ",
    normalisation_doc!()
);

/// The JSON type of a field's value, for coercing text from HTML forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(description = VALUE_TYPE_DOC))]
#[serde(rename_all = "lowercase")]
pub enum ValueType {
    String,
    Integer,
    Number,
    Boolean,
    Date,
    Object,
    Array,
    Any,
}

impl Field {
    pub fn is_choice(&self) -> bool {
        matches!(
            self.widget,
            Widget::Radio | Widget::Select | Widget::Checkbox | Widget::Checkboxes
        )
    }

    pub fn subfield(&self, id: &str) -> Option<&Field> {
        self.subfields.iter().find(|f| f.id == id)
    }

    /// The designer's message for an error kind, if they wrote one.
    /// The designer's own message for `kind`; for `const`, the one for `invalid` where there is
    /// none for `const` itself.
    pub fn custom_message(&self, kind: &ErrorKind) -> Option<&Text> {
        self.messages.get(kind.key()).or_else(|| match kind {
            ErrorKind::Const => self.messages.get("invalid"),
            _ => None,
        })
    }

    /// The label of a choice value, or the value itself.
    pub fn choice_label(&self, value: &Value) -> Option<&Text> {
        self.options
            .iter()
            .find(|c| &c.value == value)
            .map(|c| &c.label)
    }
}

/// A computed value (a fee, a deadline), from an expression or a script.
#[derive(Clone, Debug)]
pub struct Computed {
    pub id: String,
    pub label: Text,
    pub expr: Expr,
    pub format: ValueFormat,
    /// Not listed to citizens (review page, receipt's amounts); texts, conditions, rules and
    /// receipt templates still read it.
    pub internal: bool,
}

/// A cross-field rule: `check` must hold, or `message` is shown at `field`.
#[derive(Clone, Debug)]
pub struct Rule {
    pub field: String,
    /// A rule on a sub-field (`baeume.begruendung`): the sub-field; the check runs once per
    /// entry of the group `field`, reading it as `item`.
    pub entry: Option<String>,
    pub check: Expr,
    pub message: Text,
}
