//! The workflow file as written: typed, with source positions, unknown keys refused. Nothing here
//! is checked beyond its shape; `compile` turns it into a [`super::Workflow`].

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::text::Text;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkflow {
    pub id: Spanned<String>,
    pub version: Spanned<u32>,
    pub title: Text,
    #[serde(default)]
    pub description: Option<Text>,
    #[serde(default)]
    pub lebenslagen: Vec<Spanned<String>>,
    #[serde(default)]
    pub leika: Option<String>,
    pub office: Text,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub receipt: Option<Spanned<String>>,
    #[serde(default)]
    pub draft_expiry_days: Option<u32>,
    #[serde(default)]
    pub after_submission: Option<super::AfterSubmission>,
    #[serde(default)]
    pub declaration: Option<Spanned<Vec<RawStatement>>>,
    #[serde(default)]
    pub sepa_mandate: Option<RawSepaMandate>,
    /// `email:` where the citizen's address is, for the mails Lotse sends (docs/email.md).
    #[serde(default)]
    pub email: Option<RawEmail>,
    /// Online payment through the tenant's payment platform (docs/payment.md).
    #[serde(default)]
    pub payment: Option<Spanned<RawPayment>>,
    /// Whether the citizen signs in (`none`, `optional`, `required`; docs/login.md).
    #[serde(default)]
    pub login: Option<Spanned<crate::login::LoginMode>>,
    /// The lowest trust level a signed-in citizen needs (`basic`, `substantial`, `high`).
    #[serde(default)]
    pub trust_level: Option<Spanned<crate::login::TrustLevel>>,
    /// Answers taken from the citizen's identity: field path → identity attribute.
    #[serde(default)]
    pub prefill: Vec<RawPrefill>,
    /// How the Postkorb names who applied: alternatives, the first that gives a text wins;
    /// each is one or more field paths (`firma`, `person.vorname person.nachname`).
    #[serde(default)]
    pub applicant_name: Vec<Spanned<String>>,
    pub steps: Spanned<Vec<RawStep>>,
    #[serde(default)]
    pub computed: Vec<RawComputed>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
}

/// One statement of the declaration on the review page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStatement {
    pub id: Spanned<String>,
    pub label: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub id: Spanned<String>,
    pub title: Text,
    #[serde(default)]
    pub help: Option<Text>,
    #[serde(default)]
    pub applies_if: Option<Spanned<String>>,
    #[serde(default)]
    pub fields: Vec<RawField>,
    #[serde(default)]
    pub next: Vec<RawNext>,
    /// An end page: shown last, without review or "Absenden" (`end: true`).
    #[serde(default)]
    pub end: Option<Spanned<bool>>,
    /// Links shown on the step (on an end page: where the citizen can go instead).
    #[serde(default)]
    pub links: Vec<RawLink>,
}

/// A link on a step: its text and where it leads (`https://…` or a path of the portal).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub label: Text,
    pub href: Spanned<String>,
}

impl RawStep {
    /// Whether this step is an end page.
    pub(crate) fn is_end(&self) -> bool {
        self.end.as_ref().is_some_and(|e| e.value)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNext {
    #[serde(rename = "if", default)]
    pub condition: Option<Spanned<String>>,
    pub goto: Spanned<String>,
}

/// How a field is asked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Widget {
    Text,
    Textarea,
    Number,
    Date,
    Radio,
    Select,
    Checkbox,
    /// Several of the options at once ("alles Zutreffende"): a list of their values.
    Checkboxes,
    Group,
    /// Uploaded files (Nachweise, docs/uploads.md); what it accepts is under `files:`.
    File,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum RawRequired {
    Always(bool),
    When(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawField {
    pub id: Spanned<String>,
    #[serde(default)]
    pub label: Option<Text>,
    #[serde(default)]
    pub help: Option<Text>,
    #[serde(default)]
    pub widget: Option<Spanned<Widget>>,
    #[serde(default)]
    pub schema: Option<Spanned<Value>>,
    #[serde(default)]
    pub required: Option<Spanned<RawRequired>>,
    #[serde(default)]
    pub visible_if: Option<Spanned<String>>,
    #[serde(default)]
    pub autocomplete: Option<String>,
    #[serde(default)]
    pub placeholder: Option<Text>,
    #[serde(default)]
    pub options: Vec<RawOption>,
    #[serde(default)]
    pub messages: BTreeMap<String, Text>,
    #[serde(default)]
    pub fields: Vec<RawField>,
    #[serde(default)]
    pub repeat: Option<RawRepeat>,
    /// For `widget: file`: the kinds accepted and the limits.
    #[serde(default)]
    pub files: Option<Spanned<RawFiles>>,
}

/// `files:` of a file field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFiles {
    /// `pdf`, `jpeg` (or `jpg`), `png`; all three when not given.
    #[serde(default)]
    pub accept: Vec<String>,
    /// The most megabytes per file (default 10).
    #[serde(default)]
    pub max_mb: Option<u32>,
    /// The most files (default 1).
    #[serde(default)]
    pub max_files: Option<u32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOption {
    pub value: Value,
    pub label: Text,
}

/// How many entries a repeatable group allows when `repeat.max` is not given.
pub const DEFAULT_REPEAT_MAX: u32 = 10;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRepeat {
    #[serde(default)]
    pub min: u32,
    /// At most this many entries; without it [`DEFAULT_REPEAT_MAX`] (or `min`, if larger).
    #[serde(default)]
    pub max: Option<u32>,
    #[serde(default)]
    pub item_label: Option<Text>,
    #[serde(default)]
    pub add_label: Option<Text>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ValueFormat {
    #[default]
    Text,
    Number,
    Euro,
    Date,
    YesNo,
    /// A whole number of cents, shown as euro (`6140` → `61,40 €`): what a payment reads.
    Cents,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawComputed {
    pub id: Spanned<String>,
    pub label: Text,
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    #[serde(default)]
    pub script: Option<Spanned<String>>,
    #[serde(default)]
    pub format: Option<ValueFormat>,
    /// Used by conditions, rules, texts and the receipt template, but not listed to citizens.
    #[serde(default)]
    pub internal: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub field: Spanned<String>,
    pub check: Spanned<String>,
    pub message: Text,
}

/// `email:` the field path of the citizen's e-mail address, and whether the confirmation
/// carries the receipt.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEmail {
    pub address: Spanned<String>,
    #[serde(default)]
    pub attach_receipt: bool,
}

/// One `prefill:` entry: the field (path) and the identity attribute it is filled from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrefill {
    pub field: Spanned<String>,
    pub from: Spanned<String>,
    /// The citizen may change the value (default); `false`: shown, kept as the identity says.
    #[serde(default = "yes")]
    pub editable: bool,
}

fn yes() -> bool {
    true
}

/// `sepa_mandate:` the field that holds the account of a direct debit (docs/workflow-language.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSepaMandate {
    pub account: Spanned<String>,
}

/// `payment:` online payment before the submission reaches the office (docs/payment.md).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPayment {
    /// The computed value (format `cents`) with the amount.
    pub amount: Spanned<String>,
    /// The purpose (Verwendungszweck) with `{kassenzeichen}`.
    pub purpose: Spanned<Text>,
    /// When the payment is due: `before_submission`.
    pub due: Spanned<String>,
    /// The methods offered: `giropay`, `kreditkarte`, `paypal`, `lastschrift`.
    pub methods: Spanned<Vec<Spanned<String>>>,
}
