//! From a raw workflow file to a checked [`Workflow`]: ids, schemas, `$ref`s, scripts, branches.
//! Every problem is collected with its position; a workflow with an error is not returned.
//!
//! One pass per module, in the order they run: [`names`] (the header and every declared name),
//! [`steps`] (with [`fields`] and the schema helpers in [`schema`]), [`rules`] (computed values,
//! rules, the receipt template) and [`finish`] (lookup tables, hash, late conditions, a trial
//! run). The order of the passes is the order of the problems reported.

// Designers' checks: the browser compiles only workflows the server has checked already.
#[cfg(not(target_family = "wasm"))]
mod answerable;
#[cfg(not(target_family = "wasm"))]
mod compare;
mod ctx;
#[cfg(not(target_family = "wasm"))]
mod english;
mod fields;
mod finish;
mod names;
mod payment;
mod rules;
mod schema;
mod steps;
mod texts;

use std::collections::HashMap;
use std::path::Path;

use super::raw::RawWorkflow;
use super::{Workflow, graph};
use crate::form::{FormSet, SchemaCompiler};
use crate::problem::{Pos, Problem};
use crate::script::Sandbox;

#[cfg(not(target_family = "wasm"))]
pub(super) use answerable::in_form;
pub(super) use ctx::{Ctx, pos};
pub(super) use names::is_workflow_id;

const DEFAULT_EXPIRY_DAYS: u32 = 30;

pub(super) fn compile(
    path: &Path,
    source: &str,
    raw: RawWorkflow,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    templates: &[String],
    sandbox: &Sandbox,
) -> Result<(Workflow, Vec<Problem>), Vec<Problem>> {
    let mut cx = Ctx {
        path,
        source,
        forms,
        compiler,
        sandbox,
        problems: Vec::new(),
        compiled: Vec::new(),
    };

    names::check_header(&mut cx, &raw);
    let declared = names::declare_names(&mut cx, &raw);
    let (steps, schema_deps) = steps::compile_steps(&mut cx, &raw, &declared);
    let computed = rules::compile_computed(&mut cx, &raw, &declared);
    let rules = rules::compile_rules(&mut cx, &raw, &declared, &steps);
    texts::check_texts(&mut cx, &raw, &declared);
    let declaration = names::declaration(&mut cx, &raw);
    let sepa_mandate = names::sepa_mandate(&mut cx, &raw, &declared);
    let email = names::email(&mut cx, &raw, &declared);
    let payment = payment::payment(&mut cx, &raw, &declared);
    let receipt_template = rules::receipt_template(&mut cx, &raw, templates);
    let applicant_name = names::applicant_name(&mut cx, &raw, &declared);
    let (login, trust_level, prefill) = names::login(&mut cx, &raw, &steps);

    let step_pos: Vec<Pos> = raw.steps.value.iter().map(|s| pos(&s.id)).collect();
    #[cfg(not(target_family = "wasm"))]
    let id_at = pos(&raw.id);
    let names = finish::script_names(
        &steps,
        &computed,
        &rules,
        &declared.fields,
        &declared.computed,
    );
    let sources = finish::sources(path, source, forms, &schema_deps, &receipt_template);
    let wf = Workflow {
        id: raw.id.value.clone(),
        version: raw.version.value,
        content_hash: finish::content_hash(source, forms, schema_deps),
        title: raw.title,
        description: raw.description,
        lebenslagen: raw.lebenslagen.iter().map(|l| l.value.clone()).collect(),
        leika: raw.leika,
        office: raw.office,
        keywords: raw.keywords,
        receipt_template,
        draft_expiry_days: raw.draft_expiry_days.unwrap_or(DEFAULT_EXPIRY_DAYS),
        after_submission: raw.after_submission,
        declaration,
        sepa_mandate,
        email,
        payment,
        applicant_name,
        login,
        trust_level,
        prefill,
        step_index: finish::step_index(&steps),
        field_index: finish::field_index(&steps),
        empty_values: finish::empty_values(&steps),
        steps,
        computed,
        rules,
        receipt_note: None,
        receipt_closing: None,
        tenant: None,
        override_source: None,
        source: path.to_path_buf(),
        sources,
        names,
    };

    finish::warn_late_answers(&mut cx, &wf, &step_pos);
    #[cfg(not(target_family = "wasm"))]
    compare::check(&mut cx, &wf);
    #[cfg(not(target_family = "wasm"))]
    english::check(&mut cx, &wf, id_at);
    finish::trial_run(&mut cx, &wf);
    if !cx.errors_since(0) {
        // Graph checks need a structurally sound workflow.
        check_graph(&mut cx, &wf, declared.step_ids);
    }
    if cx.errors_since(0) {
        Err(cx.problems)
    } else {
        Ok((wf, cx.problems))
    }
}

fn check_graph(cx: &mut Ctx<'_>, wf: &Workflow, positions: HashMap<String, Pos>) {
    for p in graph::check(wf, &positions) {
        cx.problems.push(Problem {
            file: cx.path.to_path_buf(),
            ..p
        });
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
