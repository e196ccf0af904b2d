//! Steps: when each applies, its fields, and where it goes next.

use super::super::raw::{RawStep, RawWorkflow};
use super::super::{Branch, Link, REVIEW, Step, Target};
use super::fields::compile_field;
use super::names::Declared;
use super::{Ctx, pos};
use crate::problem::Pos;

/// Compiles every step in order; also returns the forms files the fields' schemas use.
pub(super) fn compile_steps(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    names: &Declared,
) -> (Vec<Step>, Vec<String>) {
    let mut steps = Vec::new();
    let mut schema_deps: Vec<String> = Vec::new();
    for (i, s) in raw.steps.value.iter().enumerate() {
        steps.push(compile_step(cx, raw, s, i, names, &mut schema_deps));
    }
    (steps, schema_deps)
}

fn compile_step(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    s: &RawStep,
    i: usize,
    names: &Declared,
    schema_deps: &mut Vec<String>,
) -> Step {
    let applies_if = s.applies_if.as_ref().and_then(|e| {
        cx.expr(
            &format!("applies_if of step \"{}\"", s.id.value),
            e,
            &names.all,
            false,
        )
    });
    let mut fields = Vec::new();
    for f in &s.fields {
        if let Some(field) = compile_field(cx, f, &names.all, true) {
            schema_deps.extend(cx.forms.dependencies(&field.schema));
            fields.push(field);
        }
    }
    let (branches, default_next) = compile_branches(cx, raw, s, i, names);
    let end = s.is_end();
    if let Some(flag) = s.end.as_ref().filter(|_| end) {
        if !s.fields.is_empty() {
            cx.error_help(
                "LOT-E029",
                pos(flag),
                format!("end page \"{}\" has fields", s.id.value),
                "an end page asks nothing: it tells the citizen why the assistant ends here; move the fields to a step before it",
            );
        }
        if let Some(n) = s.next.first() {
            cx.error_help(
                "LOT-E029",
                pos(&n.goto),
                format!("end page \"{}\" has `next`", s.id.value),
                "nothing follows an end page; remove `next`",
            );
        }
    }
    let links = s
        .links
        .iter()
        .filter_map(|l| {
            let href = l.href.value.trim();
            let internal = href.starts_with('/') && !href.starts_with("//");
            let ok = (internal || href.starts_with("https://"))
                && !href.chars().any(|c| c.is_whitespace() || c.is_control());
            if !ok {
                cx.error_help(
                    "LOT-E029",
                    pos(&l.href),
                    format!(
                        "link \"{href}\" of step \"{}\" is not an address",
                        s.id.value
                    ),
                    "a link is `https://…` or a path of the portal starting with `/`",
                );
            }
            ok.then(|| Link {
                label: l.label.clone(),
                href: href.to_string(),
            })
        })
        .collect();
    let mut fields_by_id: Vec<usize> = (0..fields.len()).collect();
    fields_by_id.sort_by(|&a, &b| fields[a].id.cmp(&fields[b].id));
    Step {
        id: s.id.value.clone(),
        title: s.title.clone(),
        help: s.help.clone(),
        applies_if,
        fields,
        branches,
        default_next,
        end,
        links,
        fields_by_id,
    }
}

/// The conditional branches of step `i` in order, and where it goes when none holds: the
/// unconditional `goto`, or else the next step in the file that is not an end page (an end
/// page is only ever reached by a `goto`).
fn compile_branches(
    cx: &mut Ctx<'_>,
    raw: &RawWorkflow,
    s: &RawStep,
    i: usize,
    names: &Declared,
) -> (Vec<Branch>, Target) {
    let mut branches = Vec::new();
    let following = raw.steps.value.iter().skip(i + 1).position(|n| !n.is_end());
    let mut default_next = match following.and_then(|k| names.step_order.get(i + 1 + k)) {
        Some(next) => Target::Step(next.clone()),
        None => Target::Review,
    };
    let mut unconditional_seen: Option<Pos> = None;
    for n in &s.next {
        let target_name = &n.goto.value;
        let target = resolve_target(cx, s, &n.goto, names);
        if let Some(first) = unconditional_seen {
            cx.error(
                "LOT-E023",
                pos(&n.goto),
                format!(
                    "this branch of step \"{}\" is never taken: the unconditional `goto` at line {} comes first",
                    s.id.value, first.line
                ),
            );
            continue;
        }
        match &n.condition {
            Some(cond) => {
                let e = cx.expr(
                    &format!("condition of step \"{}\" → \"{target_name}\"", s.id.value),
                    cond,
                    &names.all,
                    false,
                );
                if let (Some(condition), Some(target)) = (e, target) {
                    branches.push(Branch { condition, target });
                }
            }
            None => {
                unconditional_seen = Some(pos(&n.goto));
                if let Some(t) = target {
                    default_next = t;
                }
            }
        }
    }
    (branches, default_next)
}

fn resolve_target(
    cx: &mut Ctx<'_>,
    s: &RawStep,
    goto: &serde_saphyr::Spanned<String>,
    names: &Declared,
) -> Option<Target> {
    let target_name = &goto.value;
    if target_name == REVIEW {
        Some(Target::Review)
    } else if names.step_ids.contains_key(target_name) {
        Some(Target::Step(target_name.clone()))
    } else {
        let mut known: Vec<&str> = names.step_order.iter().map(String::as_str).collect();
        known.push(REVIEW);
        cx.error_help(
            "LOT-E020",
            pos(goto),
            format!(
                "step \"{}\" goes to \"{target_name}\", but there is no such step",
                s.id.value
            ),
            format!("known targets: {}", known.join(", ")),
        );
        None
    }
}
