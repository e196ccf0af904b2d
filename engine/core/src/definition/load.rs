//! Loading a project directory: `workflows/` (one folder per workflow, every YAML or JSON file in
//! it a version), `forms/` (reusable JSON Schemas) and `pdf-templates/` (receipt templates).
//! Every problem in every file is collected; nothing stops at the first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use super::Workflow;
use super::compile::compile;
use super::files::{files_with_ext, read_text};
use super::overrides::{self, OVERRIDES_DIR, OverrideInfo};
use super::raw::RawWorkflow;
use crate::form::{FormSet, SchemaCompiler};
use crate::problem::{Pos, Problem};
use crate::script::Sandbox;

/// Everything loaded from a project directory.
#[derive(Debug, Default)]
pub struct Library {
    /// Workflows by id, each with its versions in ascending order.
    pub workflows: BTreeMap<String, Vec<Arc<Workflow>>>,
    pub forms: FormSet,
    /// Receipt templates by name (file stem), with their source.
    pub templates: BTreeMap<String, (PathBuf, String)>,
    /// Where each part was found.
    pub root: PathBuf,
    /// Tenant → workflow id → versions with that tenant's override applied (built at load
    /// time; see [`Library::for_tenant`]).
    tenant_workflows: BTreeMap<String, BTreeMap<String, Vec<Arc<Workflow>>>>,
    /// Every override that loaded.
    overrides: Vec<OverrideInfo>,
    /// The tenants that exist, once the caller has named them ([`Library::check_tenants`]).
    known_tenants: Option<BTreeSet<String>>,
}

impl Library {
    /// The newest version of a workflow.
    pub fn latest(&self, id: &str) -> Option<&Arc<Workflow>> {
        self.workflows.get(id).and_then(|v| v.last())
    }

    /// One exact version.
    pub fn version(&self, id: &str, version: u32) -> Option<&Arc<Workflow>> {
        self.workflows
            .get(id)
            .and_then(|v| v.iter().find(|w| w.version == version))
    }

    pub fn all(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.workflows.values().flatten()
    }

    /// The workflow `tenant` runs for `id` in `version`: the workflow with the tenant's override
    /// applied, or the workflow as written when the tenant overrides nothing in it. The derived
    /// workflows are built at load time; this is a lookup.
    ///
    /// ```no_run
    /// # let library = lotse_core::Library::default();
    /// let wf = library.for_tenant("heinsberg", "hundesteuer-anmeldung", 1);
    /// ```
    pub fn for_tenant(&self, tenant: &str, id: &str, version: u32) -> Option<&Arc<Workflow>> {
        self.tenant_workflows
            .get(tenant)
            .and_then(|by_id| by_id.get(id))
            .and_then(|v| v.iter().find(|w| w.version == version))
            .or_else(|| self.version(id, version))
    }

    /// The workflow a stored application of `tenant` continues on: the one whose content hash it
    /// recorded. That is the tenant's workflow, or (for a draft started before the tenant's
    /// override existed) the workflow as written. When neither matches, the tenant's workflow
    /// is returned and applying a command reports the mismatch (`LOT-A001`).
    pub fn for_tenant_resuming(
        &self,
        tenant: &str,
        id: &str,
        version: u32,
        content_hash: &str,
    ) -> Option<&Arc<Workflow>> {
        let current = self.for_tenant(tenant, id, version)?;
        if current.content_hash == content_hash {
            return Some(current);
        }
        match self.version(id, version) {
            Some(base) if base.content_hash == content_hash => Some(base),
            _ => Some(current),
        }
    }

    /// The newest version of a workflow as `tenant` runs it.
    pub fn latest_for_tenant(&self, tenant: &str, id: &str) -> Option<&Arc<Workflow>> {
        let latest = self.latest(id)?;
        self.for_tenant(tenant, id, latest.version)
    }

    /// Every loaded override.
    pub fn overrides(&self) -> &[OverrideInfo] {
        &self.overrides
    }

    /// Checks an override given as text (`path` names it in problems), as `lotse check` checks
    /// an override file: the derived workflow versions, or every problem. Changes nothing.
    pub fn check_override_text(
        &self,
        path: &Path,
        text: &str,
        sandbox: &Sandbox,
    ) -> Result<(OverrideInfo, Vec<Arc<Workflow>>), Vec<Problem>> {
        let compiler = self.forms.compiler().map_err(|e| {
            vec![Problem::error(
                "LOT-E050",
                path,
                Pos::UNKNOWN,
                e.to_string(),
            )]
        })?;
        let cx = overrides::Context {
            workflows: &self.workflows,
            forms: &self.forms,
            compiler: &compiler,
            sandbox,
        };
        let (info, applied) = overrides::from_text(path, text, &cx)?;
        if !self.is_known_tenant(&info.tenant) {
            return Err(vec![Problem::error(
                "LOT-E072",
                path,
                info.tenant_at,
                format!(
                    "the override is for tenant \"{}\", which does not exist",
                    info.tenant
                ),
            )]);
        }
        Ok((info, applied))
    }

    /// Puts an override given as text in place of the tenant's override of that workflow (from
    /// a file or an earlier text): all or nothing, as [`Library::check_override_text`] checks it.
    pub fn apply_override_text(
        &mut self,
        path: &Path,
        text: &str,
        sandbox: &Sandbox,
    ) -> Result<OverrideInfo, Vec<Problem>> {
        let (info, applied) = self.check_override_text(path, text, sandbox)?;
        self.overrides
            .retain(|o| !(o.tenant == info.tenant && o.workflow == info.workflow));
        self.overrides.push(info.clone());
        self.tenant_workflows
            .entry(info.tenant.clone())
            .or_default()
            .insert(info.workflow.clone(), applied);
        Ok(info)
    }

    /// Every workflow a tenant runs differently, with its override applied.
    pub fn tenant_variants(&self) -> impl Iterator<Item = &Arc<Workflow>> {
        self.tenant_workflows
            .values()
            .flat_map(|m| m.values().flatten())
    }

    /// Names the tenants that exist. An override for any other tenant is an error (`LOT-E072`,
    /// at its `tenant:` key) and is dropped. Scenarios with a `tenant:` are checked against
    /// this list too.
    pub fn check_tenants(&mut self, known: &[&str]) -> Vec<Problem> {
        let known_set: BTreeSet<String> = known.iter().map(|s| s.to_string()).collect();
        let mut problems = Vec::new();
        let mut list: Vec<&str> = known.to_vec();
        list.sort_unstable();
        for o in &self.overrides {
            if !known_set.contains(&o.tenant) {
                problems.push(
                    Problem::error(
                        "LOT-E072",
                        &o.file,
                        o.tenant_at,
                        format!(
                            "the override is for tenant \"{}\", which does not exist",
                            o.tenant
                        ),
                    )
                    .with_help(format!("tenants: {}", list.join(", "))),
                );
            }
        }
        self.overrides.retain(|o| known_set.contains(&o.tenant));
        self.tenant_workflows.retain(|t, _| known_set.contains(t));
        self.known_tenants = Some(known_set);
        problems
    }

    /// Whether `tenant` exists: always true until [`Library::check_tenants`] named them.
    pub fn is_known_tenant(&self, tenant: &str) -> bool {
        self.known_tenants
            .as_ref()
            .is_none_or(|k| k.contains(tenant))
    }
}

/// Where a project's parts live. `root` is either a project root (with `workflows/`) or a
/// workflows folder itself (then `forms/` and `pdf-templates/` are looked for beside it).
pub(crate) struct Layout {
    pub workflows: PathBuf,
    /// A single workflow file to check, instead of a folder.
    pub single: Option<PathBuf>,
    pub forms: Option<PathBuf>,
    pub templates: Option<PathBuf>,
}

pub(crate) fn layout(root: &Path) -> Layout {
    let existing = |p: PathBuf| p.is_dir().then_some(p);
    // An override file is checked with the workflow folder it belongs to.
    if root.is_file()
        && let Some(folder) = root
            .parent()
            .filter(|p| p.file_name().is_some_and(|n| n == OVERRIDES_DIR))
            .and_then(Path::parent)
    {
        return layout(folder);
    }
    if root.is_file() {
        // One file: forms and templates come from the nearest project folder above it.
        let base = root
            .ancestors()
            .skip(1)
            .find(|a| a.join("forms").is_dir())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        return Layout {
            workflows: root.parent().map(Path::to_path_buf).unwrap_or_default(),
            single: Some(root.to_path_buf()),
            forms: existing(base.join("forms")),
            templates: existing(base.join("pdf-templates")),
        };
    }
    let (workflows, base) = if root.join("workflows").is_dir() {
        (root.join("workflows"), root.to_path_buf())
    } else {
        // A workflows folder, or one workflow's folder inside it: forms and templates come
        // from the nearest project folder above.
        let parent = root.parent().map(Path::to_path_buf).unwrap_or_default();
        // Absolute, so that `.` inside a workflow's folder finds the project too.
        let absolute = root.canonicalize().unwrap_or_else(|_| root.to_path_buf());
        let base = absolute
            .ancestors()
            .skip(1)
            .find(|a| a.join("forms").is_dir())
            .map(Path::to_path_buf)
            .unwrap_or(parent);
        (root.to_path_buf(), base)
    };
    Layout {
        workflows,
        single: None,
        forms: existing(base.join("forms")),
        templates: existing(base.join("pdf-templates")),
    }
}

fn workflow_files(dir: &Path) -> Vec<PathBuf> {
    const EXTS: &[&str] = &["yaml", "yml", "json"];
    let mut out = files_with_ext(dir, EXTS);
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                // A workflow folder's `scenarios/` holds tests and `overrides/` the tenants'
                // changes, not versions.
                .filter(|p| {
                    p.is_dir()
                        && p.file_name()
                            .is_none_or(|n| n != "scenarios" && n != OVERRIDES_DIR)
                })
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    for sub in subdirs {
        // One folder per workflow.
        out.extend(files_with_ext(&sub, EXTS));
    }
    out
}

/// Loads `forms/`: every `*.json` must be a JSON Schema whose `$id`, if present, is its file name.
fn load_forms(dir: &Path, problems: &mut Vec<Problem>) -> FormSet {
    let mut forms = FormSet::default();
    for path in files_with_ext(dir, &["json"]) {
        let text = match read_text(&path) {
            Ok(t) => t,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let value: Value = match serde_json::from_str(&text) {
            Ok(v) => v,
            Err(e) => {
                problems.push(Problem::error(
                    "LOT-E050",
                    &path,
                    Pos::new(e.line(), e.column()),
                    format!("not valid JSON: {e}"),
                ));
                continue;
            }
        };
        if let Err(e) = jsonschema::draft202012::meta::validate(&value) {
            problems.push(Problem::error(
                "LOT-E050",
                &path,
                Pos::UNKNOWN,
                format!(
                    "not a valid JSON Schema (draft 2020-12) at {}: {e}",
                    e.instance_path()
                ),
            ));
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if let Some(id) = value.get("$id").and_then(Value::as_str)
            && id != name
        {
            problems.push(Problem::error(
                "LOT-E050",
                &path,
                Pos::UNKNOWN,
                format!("\"$id\" is \"{id}\" but must be the file name \"{name}\""),
            ));
            continue;
        }
        #[cfg(not(target_family = "wasm"))]
        problems.extend(super::compile::in_form(&path, &value));
        forms.insert(name, value);
    }
    // References between forms files must resolve too.
    let names: Vec<String> = forms.names().map(str::to_string).collect();
    for name in names {
        if let Some(doc) = forms.get(&name) {
            for e in forms.unresolved_refs(Some(&name), doc) {
                problems.push(Problem::error(
                    "LOT-E013",
                    &dir.join(&name),
                    Pos::UNKNOWN,
                    e.to_string(),
                ));
            }
        }
    }
    forms
}

/// Loads receipt templates (by name) and checks them all with the receipt renderer's own
/// checks: strict mode, escaping, no triple braces, and a trial render into the layout language.
fn load_templates(dir: &Path, problems: &mut Vec<Problem>) -> BTreeMap<String, (PathBuf, String)> {
    let mut out = BTreeMap::new();
    for path in files_with_ext(dir, &["hbs"]) {
        match read_text(&path) {
            Ok(text) => {
                let name = path
                    .file_stem()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string();
                out.insert(name, (path, text));
            }
            Err(p) => problems.push(p),
        }
    }
    if let Err(found) = crate::receipt::check_template_dir(dir) {
        for t in found {
            let code = if t.message.contains("{{{") || t.message.contains("triple") {
                "LOT-E041"
            } else {
                "LOT-E040"
            };
            problems.push(Problem::error(
                code,
                Path::new(&t.file),
                Pos::new(t.line, t.column),
                format!("receipt template: {}", t.message),
            ));
        }
    }
    out
}

/// The partials of `pdf-templates/partials/` by name, with their source (unreadable ones are
/// reported by the templates' own check).
fn load_partials(dir: &Path) -> BTreeMap<String, (PathBuf, String)> {
    files_with_ext(&dir.join("partials"), &["hbs"])
        .into_iter()
        .filter_map(|path| {
            let text = read_text(&path).ok()?;
            let name = path.file_stem()?.to_str()?.to_string();
            Some((name, (path, text)))
        })
        .collect()
}

/// `{{value_of "…"}}` in the workflow's receipt template, or in a partial it calls (and the
/// partials those call), naming neither a field nor a computed value of the workflow (LOT-E038,
/// a warning: the template may serve other workflows too). It would print "–" on every
/// receipt.
fn unknown_values(
    wf: &Workflow,
    (file, source): &(PathBuf, String),
    partials: &BTreeMap<String, (PathBuf, String)>,
) -> Vec<Problem> {
    let known = |id: &str| wf.field(id).is_some() || wf.computed.iter().any(|c| c.id == id);
    let mut problems = Vec::new();
    // The template first, then each partial it reaches, each once.
    let mut queue: Vec<(&Path, &str, Option<&Path>)> = vec![(file, source, None)];
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    while let Some((at, text, called_from)) = queue.pop() {
        for (id, line, column) in crate::receipt::template::value_of_ids(text) {
            if known(&id) {
                continue;
            }
            let via = called_from
                .and_then(Path::file_name)
                .map(|t| {
                    format!(
                        " (a partial the receipt template {} calls)",
                        t.to_string_lossy()
                    )
                })
                .unwrap_or_default();
            problems.push(Problem::warning(
                "LOT-E038",
                at,
                Pos::new(line, column),
                format!(
                    "`value_of \"{id}\"`: workflow \"{}\" has no field or computed value \"{id}\", so every receipt would print \"–\"{via}",
                    wf.id
                ),
            ));
        }
        for name in crate::receipt::template::partial_calls(text) {
            if let Some((name, (path, partial))) = partials.get_key_value(name.as_str())
                && seen.insert(name.as_str())
            {
                queue.push((path, partial, Some(called_from.unwrap_or(file))));
            }
        }
    }
    problems
}

/// Parses one workflow file into its raw form, or a located problem.
pub(crate) fn parse_raw(path: &Path, text: &str) -> Result<RawWorkflow, Vec<Problem>> {
    super::files::parse_yaml_all(path, text, "docs/workflow-language.md")
}

/// Loads and checks one workflow source against a set of forms and templates.
pub fn load_workflow_source(
    path: &Path,
    text: &str,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    templates: &[String],
    sandbox: &Sandbox,
) -> Result<(Workflow, Vec<Problem>), Vec<Problem>> {
    let raw = parse_raw(path, text)?;
    compile(path, text, raw, forms, compiler, templates, sandbox)
}

/// Loads everything under `root` and reports every problem found. The library holds every
/// workflow that passed its checks.
pub fn load_library(root: &Path, sandbox: &Sandbox) -> (Library, Vec<Problem>) {
    let mut problems = Vec::new();
    let layout = layout(root);
    let forms = layout
        .forms
        .as_deref()
        .map(|d| load_forms(d, &mut problems))
        .unwrap_or_default();
    let templates = layout
        .templates
        .as_deref()
        .map(|d| load_templates(d, &mut problems))
        .unwrap_or_default();
    let template_names: Vec<String> = templates.keys().cloned().collect();
    let partials = layout
        .templates
        .as_deref()
        .map(load_partials)
        .unwrap_or_default();
    let compiler = match forms.compiler() {
        Ok(c) => c,
        Err(e) => {
            problems.push(Problem::error(
                "LOT-E050",
                layout.forms.as_deref().unwrap_or(root),
                Pos::UNKNOWN,
                e.to_string(),
            ));
            return (Library::default(), problems);
        }
    };
    if layout.single.is_none() && !layout.workflows.is_dir() {
        problems.push(Problem::error(
            "LOT-E001",
            &layout.workflows,
            Pos::UNKNOWN,
            "no workflows folder here",
        ));
    }
    let mut library = Library {
        forms: forms.clone(),
        templates,
        root: root.to_path_buf(),
        ..Library::default()
    };
    let mut seen: BTreeMap<(String, u32), PathBuf> = BTreeMap::new();
    let files = match &layout.single {
        Some(f) => vec![f.clone()],
        None => workflow_files(&layout.workflows),
    };
    // Folders holding workflows (their `overrides/` are read below), and those where a
    // workflow file failed.
    let mut folders: BTreeSet<PathBuf> = BTreeSet::new();
    let mut failed: BTreeSet<PathBuf> = BTreeSet::new();
    for path in files {
        let folder = path.parent().map(Path::to_path_buf).unwrap_or_default();
        folders.insert(folder.clone());
        let text = match read_text(&path) {
            Ok(t) => t,
            Err(p) => {
                problems.push(p);
                failed.insert(folder);
                continue;
            }
        };
        match load_workflow_source(&path, &text, &forms, &compiler, &template_names, sandbox) {
            Ok((wf, warnings)) => {
                problems.extend(warnings);
                if let Some(template) = library.templates.get(&wf.receipt_template) {
                    problems.extend(unknown_values(&wf, template, &partials));
                }
                let key = (wf.id.clone(), wf.version);
                if let Some(other) = seen.get(&key) {
                    problems.push(Problem::error(
                        "LOT-E006",
                        &path,
                        Pos::new(1, 1),
                        format!(
                            "workflow \"{}\" version {} is also defined in {}; versions are immutable, give this one a new version number",
                            wf.id,
                            wf.version,
                            other.display()
                        ),
                    ));
                    continue;
                }
                seen.insert(key, path.clone());
                library
                    .workflows
                    .entry(wf.id.clone())
                    .or_default()
                    .push(Arc::new(wf));
            }
            Err(ps) => {
                problems.extend(ps);
                failed.insert(folder);
            }
        }
    }
    for versions in library.workflows.values_mut() {
        versions.sort_by_key(|w| w.version);
    }
    let loaded = overrides::load(
        &folders,
        &failed,
        &overrides::Context {
            workflows: &library.workflows,
            forms: &forms,
            compiler: &compiler,
            sandbox,
        },
        &mut problems,
    );
    library.tenant_workflows = loaded.by_tenant;
    library.overrides = loaded.overrides;
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    (library, problems)
}
