//! What a compiled workflow was compiled from, kept with it: the workflow file's text, the forms
//! files its schemas use, the name of its receipt template and a tenant's override. From these
//! alone [`compile_sources`] compiles the very same workflow again (the same content hash), so
//! that the browser can run the engine on a step page (`lotse-wasm`, docs/browser-engine.md)
//! with the rules the server applies and nothing read from disk.
//!
//! The browser gets them as [`ParsedSources`]: the workflow file and the override parsed by the
//! server (YAML read as JSON), so that the module needs no YAML parser (a quarter of its size);
//! [`compile_parsed`] compiles those.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Workflow;
use super::compile::compile;
use super::files::{from_json, parse_yaml};
use super::load::load_workflow_source;
use super::overrides;
use crate::form::{FormSet, SchemaCompiler};
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

/// The sources as the browser's engine takes them: [`Sources`] with the workflow file and the
/// override also parsed (YAML read as JSON values, by the server). The texts stay: the content
/// hash is taken over them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ParsedSources {
    pub path: String,
    pub text: String,
    /// The workflow file parsed.
    pub workflow: Value,
    pub forms: BTreeMap<String, Value>,
    pub receipt_template: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overrides: Option<ParsedOverride>,
}

/// A tenant's override as text and parsed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParsedOverride {
    pub path: String,
    pub text: String,
    pub parsed: Value,
}

/// The page that lists every key of a workflow file.
const WORKFLOW_DOC: &str = "docs/workflow-language.md";

impl Sources {
    /// The sources with the workflow file and the override parsed (on the server, which has
    /// the YAML parser), for [`compile_parsed`] in the browser.
    pub fn parsed(&self) -> Result<ParsedSources, Problem> {
        let workflow = parse_yaml::<Value>(Path::new(&self.path), &self.text, WORKFLOW_DOC)?;
        let overrides = match &self.overrides {
            None => None,
            Some(o) => Some(ParsedOverride {
                parsed: parse_yaml::<Value>(Path::new(&o.path), &o.text, overrides::DOC)?,
                path: o.path.clone(),
                text: o.text.clone(),
            }),
        };
        Ok(ParsedSources {
            path: self.path.clone(),
            text: self.text.clone(),
            workflow,
            forms: self.forms.clone(),
            receipt_template: self.receipt_template.clone(),
            overrides,
        })
    }
}

/// The forms of a workflow's sources and their schema compiler.
fn forms_of(
    path: &Path,
    docs: &BTreeMap<String, Value>,
) -> Result<(FormSet, SchemaCompiler), Vec<Problem>> {
    let mut forms = FormSet::default();
    for (name, doc) in docs {
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
    Ok((forms, compiler))
}

/// Compiles a workflow from its [`Sources`]. The result has the content hash of the workflow
/// they were taken from; any problem (a changed or incomplete source) is an error.
pub fn compile_sources(src: &Sources, sandbox: &Sandbox) -> Result<Workflow, Vec<Problem>> {
    let path = Path::new(&src.path);
    let (forms, compiler) = forms_of(path, &src.forms)?;
    let templates = [src.receipt_template.clone()];
    let (wf, _) = load_workflow_source(path, &src.text, &forms, &compiler, &templates, sandbox)?;
    match &src.overrides {
        None => Ok(wf),
        Some(o) => {
            overrides::apply_source(Path::new(&o.path), &o.text, &wf, &forms, &compiler, sandbox)
        }
    }
}

/// Compiles a workflow from its [`ParsedSources`], as [`compile_sources`] does from the texts:
/// the same workflow with the same content hash, but no YAML is read (the browser's engine).
pub fn compile_parsed(src: &ParsedSources, sandbox: &Sandbox) -> Result<Workflow, Vec<Problem>> {
    let path = Path::new(&src.path);
    let (forms, compiler) = forms_of(path, &src.forms)?;
    let templates = [src.receipt_template.clone()];
    let raw = from_json(path, &src.workflow, WORKFLOW_DOC).map_err(|p| vec![p])?;
    let (wf, _) = compile(path, &src.text, raw, &forms, &compiler, &templates, sandbox)?;
    match &src.overrides {
        None => Ok(wf),
        Some(o) => overrides::apply_parsed(
            Path::new(&o.path),
            &o.text,
            &o.parsed,
            &wf,
            &forms,
            &compiler,
            sandbox,
        ),
    }
}
