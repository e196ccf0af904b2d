//! The first passes: the workflow's own header, then every name it declares (steps, fields,
//! computed values), so that scripts can be checked against them.

use std::collections::HashMap;

use serde_saphyr::Spanned;

use super::super::raw::RawWorkflow;
use super::super::{REVIEW, Statement};
use super::{Ctx, pos};
use crate::problem::Pos;
use crate::script::Names;

/// Names a designer cannot use for fields: they mean something in scripts.
const RESERVED: &[&str] = &[
    "review", "today", "true", "false", "if", "else", "let", "const", "fn", "return", "this",
    "switch", "while", "loop", "for", "in", "do", "until", "break", "continue", "throw", "try",
    "catch", "import", "export", "as", "global", "private", "is", "eval",
];

/// The names a workflow declares, before anything that uses them is compiled.
pub(super) struct Declared {
    /// Step id → where it is first declared.
    pub(super) step_ids: HashMap<String, Pos>,
    /// Step ids in the order of the file.
    pub(super) step_order: Vec<String>,
    /// Every field id, in the order the steps ask them.
    pub(super) fields: Vec<String>,
    /// Every computed value's id, in order.
    pub(super) computed: Vec<String>,
    /// Fields and computed values: what a condition may use.
    pub(super) all: Names,
}

/// Id, version and the presence of steps.
pub(super) fn check_header(cx: &mut Ctx<'_>, raw: &RawWorkflow) {
    // The Lebenslagen are a fixed vocabulary: an unknown one is a mistake, not a new category.
    for l in &raw.lebenslagen {
        if crate::catalogue::lebenslage(&l.value).is_none() {
            cx.problems.push(crate::catalogue::load::unknown_lebenslage(
                cx.path,
                pos(l),
                &l.value,
            ));
        }
    }
    if !is_workflow_id(&raw.id.value) {
        cx.error_help(
            "LOT-E007",
            pos(&raw.id),
            format!("workflow id \"{}\" is not valid", raw.id.value),
            "use lowercase letters, digits and hyphens, e.g. hundesteuer-anmeldung",
        );
    }
    if raw.version.value == 0 {
        cx.error("LOT-E007", pos(&raw.version), "version must be 1 or higher");
    }
    if raw.steps.value.is_empty() {
        cx.error(
            "LOT-E024",
            pos(&raw.steps),
            "a workflow needs at least one step",
        );
    }
}

/// `applicant_name`: each alternative a list of field paths whose first part is a field.
pub(super) fn applicant_name(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    declared: &Declared,
) -> Vec<Vec<Vec<String>>> {
    let mut out = Vec::new();
    for alternative in &raw.applicant_name {
        let mut paths = Vec::new();
        for path in alternative.value.split_whitespace() {
            let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
            let known = parts
                .first()
                .is_some_and(|f| declared.fields.iter().any(|d| d == f));
            if !known || parts.iter().any(String::is_empty) {
                cx.error_help(
                    "LOT-E028",
                    pos(alternative),
                    format!("applicant_name: \"{path}\" is not a field of this workflow"),
                    "name a field id, or a group's field as group.field, e.g. person.nachname",
                );
            }
            paths.push(parts);
        }
        if paths.is_empty() {
            cx.error("LOT-E028", pos(alternative), "applicant_name: empty entry");
        }
        out.push(paths);
    }
    out
}

/// Names first: steps and every field, so that scripts can be checked against them.
pub(super) fn declare_names(cx: &mut Ctx<'_>, raw: &RawWorkflow) -> Declared {
    let step_ids = declare_steps(cx, raw);
    let mut field_names: HashMap<String, Pos> = HashMap::new();
    for s in &raw.steps.value {
        for f in &s.fields {
            check_name(cx, &mut field_names, &f.id, "field");
        }
    }
    let fields: Vec<String> = raw
        .steps
        .value
        .iter()
        .flat_map(|s| s.fields.iter().map(|f| f.id.value.clone()))
        .collect();
    let mut computed: Vec<String> = Vec::new();
    for c in &raw.computed {
        check_name(cx, &mut field_names, &c.id, "computed value");
        computed.push(c.id.value.clone());
    }
    let all = Names::new(fields.iter().chain(computed.iter()).cloned());
    Declared {
        step_ids,
        step_order: raw.steps.value.iter().map(|s| s.id.value.clone()).collect(),
        fields,
        computed,
        all,
    }
}

/// The declaration on the review page: valid, distinct statement ids (they name the
/// statements in the submission), and at least one statement where the key is written.
pub(super) fn declaration(cx: &mut Ctx<'_>, raw: &RawWorkflow) -> Vec<Statement> {
    let Some(list) = &raw.declaration else {
        return Vec::new();
    };
    if list.value.is_empty() {
        cx.error_help(
            "LOT-E018",
            pos(list),
            "the declaration has no statements",
            "add a statement (`- id: richtig` with a `label`) or remove `declaration`",
        );
    }
    let mut seen: HashMap<String, Pos> = HashMap::new();
    for s in &list.value {
        let id = &s.id.value;
        if !is_identifier(id) {
            cx.error_help(
                "LOT-E018",
                pos(&s.id),
                format!("declaration statement id \"{id}\" is not valid"),
                "use lowercase letters, digits and _, starting with a letter",
            );
        }
        if let Some(first) = seen.get(id) {
            let msg = format!(
                "declaration statement id \"{id}\" is used twice (first at line {})",
                first.line
            );
            cx.error("LOT-E018", pos(&s.id), msg);
        } else {
            seen.insert(id.clone(), pos(&s.id));
        }
    }
    list.value
        .iter()
        .map(|s| Statement {
            id: s.id.value.clone(),
            label: s.label.clone(),
        })
        .collect()
}

fn declare_steps(cx: &mut Ctx<'_>, raw: &RawWorkflow) -> HashMap<String, Pos> {
    let mut step_ids: HashMap<String, Pos> = HashMap::new();
    for s in &raw.steps.value {
        let id = &s.id.value;
        if !is_identifier(id) || id == REVIEW {
            cx.error_help(
                "LOT-E007",
                pos(&s.id),
                format!("step id \"{id}\" is not valid"),
                "use lowercase letters, digits and _, starting with a letter; \"review\" is reserved",
            );
        }
        if let Some(first) = step_ids.get(id) {
            let msg = format!(
                "step id \"{id}\" is used twice (first at line {})",
                first.line
            );
            cx.error("LOT-E010", pos(&s.id), msg);
        } else {
            step_ids.insert(id.clone(), pos(&s.id));
        }
    }
    step_ids
}

fn check_name(cx: &mut Ctx<'_>, seen: &mut HashMap<String, Pos>, id: &Spanned<String>, what: &str) {
    let name = &id.value;
    if !is_identifier(name) || RESERVED.contains(&name.as_str()) {
        cx.error_help(
            "LOT-E007",
            pos(id),
            format!("{what} id \"{name}\" is not valid"),
            "use lowercase letters, digits and _, starting with a letter (scripts use it as a name)",
        );
    }
    if let Some(first) = seen.get(name) {
        let msg = format!(
            "the name \"{name}\" is used twice (first at line {}); fields and computed values share one namespace",
            first.line
        );
        cx.error("LOT-E011", pos(id), msg);
    } else {
        seen.insert(name.clone(), pos(id));
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(in crate::definition) fn is_workflow_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.len() <= 64
}

/// `email:` names a field path of the workflow (`kontakt.email`).
pub(super) fn email(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    declared: &Declared,
) -> Option<crate::definition::EmailNotice> {
    let e = raw.email.as_ref()?;
    let path = e.address.value.trim();
    let parts: Vec<String> = path.split('.').map(str::to_owned).collect();
    let known = parts
        .first()
        .is_some_and(|f| declared.fields.iter().any(|d| d == f));
    if !known || parts.iter().any(String::is_empty) {
        cx.error_help(
            "LOT-E036",
            pos(&e.address),
            format!("email: \"{path}\" is not a field of this workflow"),
            "name the field with the citizen's e-mail address, or a group's field as group.field, e.g. kontakt.email",
        );
        return None;
    }
    Some(crate::definition::EmailNotice {
        address: parts,
        attach_receipt: e.attach_receipt,
    })
}

/// `sepa_mandate:` names a field of the workflow.
pub(super) fn sepa_mandate(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    declared: &Declared,
) -> Option<crate::definition::SepaMandate> {
    let m = raw.sepa_mandate.as_ref()?;
    let account = &m.account.value;
    if !declared.fields.iter().any(|f| f == account) {
        cx.error_help(
            "LOT-E019",
            pos(&m.account),
            format!("sepa_mandate: \"{account}\" is not a field of this workflow"),
            "name the field that asks for the bank account (a `$ref: bank-account.json` field)",
        );
        return None;
    }
    Some(crate::definition::SepaMandate {
        account: account.clone(),
    })
}

/// `login:`, `trust_level:` and `prefill:` (docs/login.md): a trust level or a prefill needs a
/// sign-in, and each prefill names a field of the workflow (`group.field` inside a group) and an
/// identity attribute Lotse knows.
pub(super) fn login(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    steps: &[crate::definition::Step],
) -> (
    crate::login::LoginMode,
    crate::login::TrustLevel,
    Vec<crate::login::Prefill>,
) {
    use crate::login::{IDENTITY_ATTRIBUTES, LoginMode, Prefill, TrustLevel};
    let mode = raw.login.as_ref().map(|m| m.value).unwrap_or_default();
    let level = raw
        .trust_level
        .as_ref()
        .map(|l| l.value)
        .unwrap_or(TrustLevel::Basic);
    if mode == LoginMode::None
        && let Some(l) = &raw.trust_level
    {
        cx.error_help(
            "LOT-E134",
            pos(l),
            "trust_level: without a sign-in (login: none)",
            "add `login: required` (or `optional`), or remove trust_level",
        );
    }
    let mut prefill = Vec::new();
    for p in &raw.prefill {
        if mode == LoginMode::None {
            cx.error_help(
                "LOT-E135",
                pos(&p.field),
                "prefill: without a sign-in (login: none)",
                "add `login: required` (or `optional`), or remove prefill",
            );
            continue;
        }
        let path: Vec<String> = p.field.value.trim().split('.').map(str::to_owned).collect();
        let field = steps
            .iter()
            .flat_map(|s| s.fields.iter())
            .find(|f| Some(&f.id) == path.first());
        let known = match (field, path.len()) {
            (Some(f), 1) => f.subfields.is_empty(),
            (Some(f), 2) => {
                f.repeat.is_none() && path.get(1).is_some_and(|sub| f.subfield(sub).is_some())
            }
            _ => false,
        };
        // A field of the file that did not compile has its own error already (a `$ref` that
        // does not resolve, say): a second one here would only hide the cause.
        let failed = field.is_none()
            && raw
                .steps
                .value
                .iter()
                .flat_map(|s| s.fields.iter())
                .any(|f| Some(&f.id.value) == path.first());
        if failed {
            continue;
        }
        if !known {
            cx.error_help(
                "LOT-E135",
                pos(&p.field),
                format!(
                    "prefill: \"{}\" is not a field of this workflow",
                    p.field.value
                ),
                "name a field, or a field of a group as group.field (not inside a repeated group)",
            );
            continue;
        }
        if !IDENTITY_ATTRIBUTES.contains(&p.from.value.as_str()) {
            cx.error_help(
                "LOT-E135",
                pos(&p.from),
                format!("prefill: unknown identity attribute \"{}\"", p.from.value),
                format!("use one of {}", IDENTITY_ATTRIBUTES.join(", ")),
            );
            continue;
        }
        prefill.push(Prefill {
            path,
            attribute: p.from.value.clone(),
            editable: p.editable,
        });
    }
    (mode, level, prefill)
}
