//! The last passes, over the assembled workflow: lookup tables, the names scripts read, the
//! content hash, conditions that look ahead, and a trial run of every script.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::super::{Computed, Required, Rule, Sources, Step, ValueType, Workflow};
use super::{Ctx, hex};
use crate::form::FormSet;
use crate::problem::Pos;
use crate::script::{Expr, Names, ScriptError};

/// Step id → its index.
pub(super) fn step_index(steps: &[Step]) -> FxHashMap<String, usize> {
    steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect()
}

/// Field id → (step index, field index).
pub(super) fn field_index(steps: &[Step]) -> FxHashMap<String, (usize, usize)> {
    let mut field_index = FxHashMap::default();
    for (si, s) in steps.iter().enumerate() {
        for (fi, f) in s.fields.iter().enumerate() {
            field_index.insert(f.id.clone(), (si, fi));
        }
    }
    field_index
}

/// Scripts only see the names some script mentions: building their environment is then
/// cheap however many fields a workflow has.
pub(super) fn script_names(
    steps: &[Step],
    computed: &[Computed],
    rules: &[Rule],
    fields: &[String],
    computed_names: &[String],
) -> Names {
    let mut used: HashSet<String> = HashSet::new();
    let mut note = |e: &Expr| used.extend(e.mentions.iter().cloned());
    for s in steps {
        if let Some(e) = &s.applies_if {
            note(e);
        }
        for b in &s.branches {
            note(&b.condition);
        }
        for f in &s.fields {
            if let Some(e) = &f.visible_if {
                note(e);
            }
            if let Required::When(e) = &f.required {
                note(e);
            }
        }
    }
    for c in computed {
        note(&c.expr);
    }
    for r in rules {
        note(&r.check);
    }
    Names::new(
        fields
            .iter()
            .filter(|n| used.contains(*n))
            .chain(computed_names.iter())
            .cloned(),
    )
}

/// What scripts see for an unanswered group: `{}` or `[]`.
pub(super) fn empty_values(steps: &[Step]) -> FxHashMap<String, Value> {
    let mut empty_values = FxHashMap::default();
    for f in steps.iter().flat_map(|s| s.fields.iter()) {
        match f.value_type {
            ValueType::Array => {
                empty_values.insert(f.id.clone(), Value::Array(Vec::new()));
            }
            ValueType::Object => {
                empty_values.insert(f.id.clone(), Value::Object(serde_json::Map::new()));
            }
            _ => {}
        }
    }
    empty_values
}

/// What the workflow is compiled from, to compile it again elsewhere (the browser).
pub(super) fn sources(
    path: &Path,
    source: &str,
    forms: &FormSet,
    schema_deps: &[String],
    receipt_template: &str,
) -> Arc<Sources> {
    Arc::new(Sources {
        path: path.display().to_string(),
        text: source.to_string(),
        forms: schema_deps
            .iter()
            .filter_map(|d| forms.get(d).map(|doc| (d.clone(), doc.clone())))
            .collect(),
        receipt_template: receipt_template.to_string(),
        overrides: None,
    })
}

/// SHA-256 over the workflow's source and every forms file its schemas use.
pub(super) fn content_hash(source: &str, forms: &FormSet, mut schema_deps: Vec<String>) -> String {
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    schema_deps.sort();
    schema_deps.dedup();
    for dep in &schema_deps {
        hasher.update(dep.as_bytes());
        if let Some(doc) = forms.get(dep) {
            hasher.update(doc.to_string().as_bytes());
        }
    }
    format!("sha256:{}", hex(&hasher.finalize()))
}

/// Conditions that look at answers the citizen cannot have given yet. `step_pos` holds where
/// each step is declared.
pub(super) fn warn_late_answers(cx: &mut Ctx<'_>, wf: &Workflow, step_pos: &[Pos]) {
    let step_of = |name: &str| wf.field_index.get(name).map(|&(s, _)| s);
    let mut late: Vec<(Pos, String)> = Vec::new();
    for (i, s) in wf.steps.iter().enumerate() {
        let raw_step = &step_pos[i];
        let mut look = |what: String, e: &Expr, own_step_ok: bool| {
            for m in &e.mentions {
                if let Some(j) = step_of(m)
                    && (j > i || (j == i && !own_step_ok))
                {
                    late.push((
                            *raw_step,
                            format!(
                                "{what} uses \"{m}\", which is only asked on step \"{}\"; it is not answered yet when this is decided",
                                wf.steps[j].id
                            ),
                        ));
                }
            }
        };
        if let Some(e) = &s.applies_if {
            look(format!("applies_if of step \"{}\"", s.id), e, false);
        }
        for b in &s.branches {
            look(
                format!("a condition of step \"{}\"", s.id),
                &b.condition,
                true,
            );
        }
        for f in &s.fields {
            if let Some(e) = &f.visible_if {
                look(format!("visible_if of field \"{}\"", f.id), e, true);
            }
        }
    }
    for (at, msg) in late {
        cx.warn("LOT-E026", at, msg);
    }
}

/// A trial run of every script before any answer: one that already goes over a limit (an
/// endless loop, runaway recursion) would stop for every citizen.
pub(super) fn trial_run(cx: &mut Ctx<'_>, wf: &Workflow) {
    let today = time::macros::date!(2026 - 01 - 01);
    for (at, what, e) in std::mem::take(&mut cx.compiled) {
        let mut env = crate::script::Env::new(&wf.names, |k| wf.empty_values.get(k), today);
        if let Err(err @ ScriptError::Limit(_)) = cx.sandbox.eval(&e, &mut env) {
            cx.error("LOT-E031", at, format!("{what}: {err}"));
        }
    }
}
