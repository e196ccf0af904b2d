//! What a compiled workflow was compiled from, kept with it: the workflow file's text, the forms
//! files its schemas use, the name of its receipt template and a tenant's override. From these
//! alone [`compile_sources`] compiles the very same workflow again (the same content hash), so
//! that the browser can run the engine on a step page (`lotse-wasm`, docs/browser-engine.md)
//! with the rules the server applies and nothing read from disk.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Workflow;
use super::load::load_workflow_source;
use super::overrides;
use crate::form::FormSet;
use crate::problem::{Pos, Problem};
use crate::script::Sandbox;

/// The sources of one workflow version as it runs (with its tenant's override, if any).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Sources {
    /// The workflow file's name, for messages only.
    pub path: String,
    /// The workflow file's text.
    pub text: String,
    /// The forms files (by name) the workflow's schemas use, directly or through others.
    pub forms: BTreeMap<String, Value>,
    /// The receipt template the workflow names.
    pub receipt_template: String,
    /// A tenant's override applied to the workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<OverrideSource>,
}

/// A tenant's override as text.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverrideSource {
    pub path: String,
    pub text: String,
}

/// Compiles a workflow from its [`Sources`]. The result has the content hash of the workflow
/// they were taken from; any problem (a changed or incomplete source) is an error.
pub fn compile_sources(src: &Sources, sandbox: &Sandbox) -> Result<Workflow, Vec<Problem>> {
    let path = Path::new(&src.path);
    let mut forms = FormSet::default();
    for (name, doc) in &src.forms {
        forms.insert(name.clone(), doc.clone());
    }
    let compiler = forms.compiler().map_err(|e| {
        vec![Problem::error(
            "LOT-E050",
            path,
            Pos::UNKNOWN,
            e.to_string(),
        )]
    })?;
    let templates = [src.receipt_template.clone()];
    let (wf, _) = load_workflow_source(path, &src.text, &forms, &compiler, &templates, sandbox)?;
    match &src.overrides {
        None => Ok(wf),
        Some(o) => {
            overrides::apply_source(Path::new(&o.path), &o.text, &wf, &forms, &compiler, sandbox)
        }
    }
}
