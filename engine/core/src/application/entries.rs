//! Conditions per entry of a group: a sub-field's `visible_if` and `required` read the entry
//! they are in as `item` (`required: item.grund == "sonstiges"`), so each entry of a repeated
//! group decides for itself. A sub-field hidden for an entry loses that entry's answer before
//! anything reads it, as a hidden top-level field does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;

use super::eval::{Eval, step_env};
use super::{ApplyError, field_error};
use crate::definition::{Field, Required, Rule};
use crate::form::{ErrorKind, FieldError};
use crate::script::{Env, ITEM, is_answered};
use crate::text::Lang;

/// Whether a group field has sub-fields whose visibility or requirement is a condition.
pub(super) fn has_entry_logic(f: &Field) -> bool {
    f.subfields
        .iter()
        .any(|s| s.visible_if.is_some() || matches!(s.required, Required::When(_)))
}

/// The entries of a group's value with their pointers (relative to the step): each entry of a
/// repeated group's list, or the group's object itself.
fn entries<'v>(f: &Field, value: &'v Value) -> Vec<(String, Option<usize>, &'v Value)> {
    match (value, f.repeat.is_some()) {
        (Value::Array(items), true) => items
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("/{}/{i}", f.id), Some(i), v))
            .collect(),
        (Value::Object(_), false) => vec![(format!("/{}", f.id), None, value)],
        _ => Vec::new(),
    }
}

/// Whether sub-field `sub` applies to the entry bound as `item` in `env`.
pub(super) fn applies(ev: &Eval<'_>, env: &mut Env<'_>, sub: &Field) -> Result<bool, ApplyError> {
    match &sub.visible_if {
        Some(e) => ev.condition(env, e, || format!("visible_if of sub-field \"{}\"", sub.id)),
        None => Ok(true),
    }
}

/// Takes out of the group answers given on step `index` the answers of sub-fields hidden for
/// their entry; whether it took out any.
pub(super) fn hidden_entry_answers_dropped(
    ev: &Eval<'_>,
    index: usize,
    answers: &BTreeMap<String, Value>,
    given: &mut [Option<Cow<'_, Value>>],
) -> Result<bool, ApplyError> {
    let mut any = false;
    let step = &ev.wf.steps[index];
    for (fi, f) in step.fields.iter().enumerate() {
        if !f.subfields.iter().any(|s| s.visible_if.is_some()) {
            continue;
        }
        let Some(value) = given[fi].as_deref() else {
            continue;
        };
        let mut hidden: Vec<(Option<usize>, &str)> = Vec::new();
        {
            let mut env = step_env(ev, index, answers, given);
            for (_, at, entry) in entries(f, value) {
                env.set(ITEM, entry);
                for sub in &f.subfields {
                    if entry.get(&sub.id).is_some() && !applies(ev, &mut env, sub)? {
                        hidden.push((at, &sub.id));
                    }
                }
            }
        }
        if hidden.is_empty() {
            continue;
        }
        any = true;
        let Some(value) = given[fi].as_mut() else {
            continue;
        };
        let value = value.to_mut();
        for (at, sub) in hidden {
            let entry = match at {
                Some(i) => value.get_mut(i),
                None => Some(&mut *value),
            };
            if let Some(Value::Object(map)) = entry {
                map.remove(sub);
            }
        }
    }
    Ok(any)
}

/// The errors of sub-fields that are required for their entry (a `required` condition that
/// holds) and were left empty, at the entry's field (`/baeume/2/begruendung`). Sub-fields that
/// are always required are the schema's to check.
pub(super) fn entry_requirement_errors(
    ev: &Eval<'_>,
    env: &mut Env<'_>,
    f: &Field,
    value: &Value,
    lang: Lang,
) -> Result<Vec<FieldError>, ApplyError> {
    let mut errors = Vec::new();
    for (pointer, _, entry) in entries(f, value) {
        env.set(ITEM, entry);
        for sub in &f.subfields {
            let Required::When(e) = &sub.required else {
                continue;
            };
            if entry.get(&sub.id).is_some_and(is_answered) || !applies(ev, env, sub)? {
                continue;
            }
            if ev.condition(env, e, || format!("required of sub-field \"{}\"", sub.id))? {
                let mut error = field_error(
                    sub,
                    &format!("{pointer}/{}", sub.id),
                    &ErrorKind::Required,
                    lang,
                );
                error.field = f.id.clone();
                errors.push(error);
            }
        }
    }
    Ok(errors)
}

/// The messages of a rule on sub-field `sub` of `group` (the rule's field) with its `value`:
/// one at each entry whose check does not hold (`/baeume/2/begruendung`).
pub(super) fn entry_rule_errors(
    ev: &Eval<'_>,
    env: &mut Env<'_>,
    (group, value): (&Field, &Value),
    rule: &Rule,
    sub: &str,
    lang: Lang,
) -> Result<Vec<FieldError>, ApplyError> {
    let mut errors = Vec::new();
    for (pointer, _, entry) in entries(group, value) {
        env.set(ITEM, entry);
        let holds = ev.condition(env, &rule.check, || {
            format!("rule for field \"{}.{sub}\"", rule.field)
        })?;
        if !holds {
            errors.push(FieldError {
                pointer: format!("{pointer}/{sub}"),
                field: rule.field.clone(),
                kind: "rule".into(),
                message: rule.message.get(lang).to_string(),
            });
        }
    }
    Ok(errors)
}
