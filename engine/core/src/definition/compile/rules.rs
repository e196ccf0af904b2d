//! What follows the steps: computed values, cross-field rules and the receipt template.

use super::super::raw::RawWorkflow;
use super::super::{Computed, Rule, Step};
use super::names::Declared;
use super::{Ctx, pos};
use crate::script::{ITEM, Names};

const DEFAULT_TEMPLATE: &str = "receipt";

/// Computed values may use fields and the computed values before them.
pub(super) fn compile_computed(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    names: &Declared,
) -> Vec<Computed> {
    let mut computed = Vec::new();
    for (i, c) in raw.computed.iter().enumerate() {
        let visible = Names::new(
            names
                .fields
                .iter()
                .chain(names.computed[..i].iter())
                .cloned(),
        );
        let what = format!("computed value \"{}\"", c.id.value);
        let expr = match (&c.value, &c.script) {
            (Some(v), None) => cx.expr(&what, v, &visible, false),
            (None, Some(s)) => cx.expr(&what, s, &visible, true),
            _ => {
                cx.error(
                    "LOT-E005",
                    pos(&c.id),
                    format!("{what} needs exactly one of `value` (an expression) or `script`"),
                );
                None
            }
        };
        if let Some(expr) = expr {
            computed.push(Computed {
                id: c.id.value.clone(),
                label: c.label.clone(),
                expr,
                format: c.format.unwrap_or_default(),
                internal: c.internal,
            });
        }
    }
    computed
}

/// Cross-field rules: each names a field of this workflow and a check over every name. A
/// rule on a sub-field (`baeume.begruendung`) is checked for each entry of its group, which
/// the check reads as `item`, and its message goes to that entry's field.
pub(super) fn compile_rules(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    names: &Declared,
    steps: &[Step],
) -> Vec<Rule> {
    let with_item = Names::new(
        names
            .all
            .iter()
            .map(str::to_string)
            .chain(std::iter::once(ITEM.to_string())),
    );
    let mut rules = Vec::new();
    for r in &raw.rules {
        let (field, entry) = match r.field.value.split_once('.') {
            Some((group, sub)) => (group, Some(sub)),
            None => (r.field.value.as_str(), None),
        };
        if !names.fields.iter().any(|f| f == field) {
            cx.error_help(
                "LOT-E025",
                pos(&r.field),
                format!(
                    "rule refers to field \"{}\", which this workflow does not have",
                    r.field.value
                ),
                format!("fields: {}", names.fields.join(", ")),
            );
            continue;
        }
        if let Some(sub) = entry {
            let group = steps.iter().flat_map(|s| &s.fields).find(|f| f.id == field);
            if !group.is_some_and(|g| g.subfields.iter().any(|s| s.id == sub)) {
                let known: Vec<&str> = group
                    .map(|g| g.subfields.iter().map(|s| s.id.as_str()).collect())
                    .unwrap_or_default();
                cx.error_help(
                    "LOT-E025",
                    pos(&r.field),
                    format!(
                        "rule refers to \"{}\", but group \"{field}\" has no field \"{sub}\"",
                        r.field.value
                    ),
                    format!("fields of the group: {}", known.join(", ")),
                );
                continue;
            }
        }
        if let Some(check) = cx.expr(
            &format!("rule for field \"{}\"", r.field.value),
            &r.check,
            if entry.is_some() {
                &with_item
            } else {
                &names.all
            },
            false,
        ) {
            rules.push(Rule {
                field: field.to_string(),
                entry: entry.map(str::to_string),
                check,
                message: r.message.clone(),
            });
        }
    }
    rules
}

/// The receipt template named, which must exist in pdf-templates/, or the default.
pub(super) fn receipt_template(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    templates: &[String],
) -> String {
    match &raw.receipt {
        Some(t) => {
            if t.value != DEFAULT_TEMPLATE && !templates.contains(&t.value) {
                let help = match t.value.strip_suffix(".hbs") {
                    Some(stem)
                        if stem == DEFAULT_TEMPLATE || templates.iter().any(|n| n == stem) =>
                    {
                        format!("write `receipt: {stem}`: a template is named without .hbs")
                    }
                    _ => format!("templates: {}", templates.join(", ")),
                };
                cx.error_help(
                    "LOT-E027",
                    pos(t),
                    format!(
                        "receipt template \"{}\" does not exist in pdf-templates/",
                        t.value
                    ),
                    help,
                );
            }
            t.value.clone()
        }
        None => DEFAULT_TEMPLATE.to_string(),
    }
}
