//! Tenant overrides: a municipality takes over a county workflow and changes only named parts
//! (a computed value such as the fee, the office, receipt texts) in a small file beside it,
//! `workflows/<folder>/overrides/<name>.yaml`. Each override is compiled against every workflow
//! version it applies to, in the same sandbox and with the same names as the value it replaces;
//! the derived workflows are built once at load time and carry their own content hash.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use super::Workflow;

/// The longest a tenant may keep drafts (days after the last edit).
const MAX_DRAFT_EXPIRY_DAYS: u32 = 365;
use super::compile::{Ctx, hex, is_workflow_id, pos};
use super::files::{files_with_ext, from_json, parse_yaml, read_text};
use crate::form::{FormSet, SchemaCompiler};
use crate::problem::{Pos, Problem};
use crate::script::{Names, Sandbox, ScriptError};
use crate::text::Text;

/// The folder beside a workflow that holds its overrides.
pub(crate) const OVERRIDES_DIR: &str = "overrides";

/// The override file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOverride {
    pub tenant: Spanned<String>,
    pub workflow: Spanned<String>,
    #[serde(default)]
    pub versions: Option<Spanned<RawVersions>>,
    #[serde(default)]
    pub office: Option<Text>,
    #[serde(default)]
    pub computed: Vec<RawComputedOverride>,
    #[serde(default)]
    pub receipt: Option<RawReceiptTexts>,
    /// Days the tenant keeps a draft after its last edit (replaces the workflow's).
    #[serde(default)]
    pub draft_expiry_days: Option<Spanned<u32>>,
}

/// Which versions of the workflow the override applies to (both ends included).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVersions {
    #[serde(default)]
    pub from: Option<u32>,
    #[serde(default)]
    pub to: Option<u32>,
}

/// A new definition for one computed value of the workflow.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawComputedOverride {
    pub id: Spanned<String>,
    #[serde(default)]
    pub value: Option<Spanned<String>>,
    #[serde(default)]
    pub script: Option<Spanned<String>>,
    #[serde(default)]
    pub fixed: Option<Spanned<serde_json::Number>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReceiptTexts {
    #[serde(default)]
    pub note: Option<Text>,
    #[serde(default)]
    pub closing: Option<Text>,
}

/// One loaded override: who changes which workflow, and where that is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverrideInfo {
    pub tenant: String,
    pub workflow: String,
    /// The workflow versions it was applied to.
    pub versions: Vec<u32>,
    pub file: PathBuf,
    /// Where the `tenant:` key is, for problems about the tenant.
    pub tenant_at: Pos,
}

/// What loading the overrides produced.
#[derive(Debug, Default)]
pub(crate) struct Loaded {
    /// tenant → workflow id → versions (ascending) with the override applied.
    pub by_tenant: BTreeMap<String, BTreeMap<String, Vec<Arc<Workflow>>>>,
    pub overrides: Vec<OverrideInfo>,
}

/// Everything an override is compiled with.
pub(crate) struct Context<'a> {
    pub workflows: &'a BTreeMap<String, Vec<Arc<Workflow>>>,
    pub forms: &'a FormSet,
    pub compiler: &'a SchemaCompiler,
    pub sandbox: &'a Sandbox,
}

/// Loads `<folder>/overrides/*.yaml` for each workflow folder. `failed` holds folders where a
/// workflow file did not load: an override there naming an unknown workflow is not reported
/// again (the workflow's own errors are).
pub(crate) fn load(
    folders: &BTreeSet<PathBuf>,
    failed: &BTreeSet<PathBuf>,
    cx: &Context<'_>,
    problems: &mut Vec<Problem>,
) -> Loaded {
    let mut out = Loaded::default();
    // (tenant, workflow, version) → the file that overrides it.
    let mut taken: BTreeMap<(String, String, u32), PathBuf> = BTreeMap::new();
    for folder in folders {
        let dir = folder.join(OVERRIDES_DIR);
        if !dir.is_dir() {
            continue;
        }
        for path in files_with_ext(&dir, &["yaml", "yml", "json"]) {
            let text = match read_text(&path) {
                Ok(t) => t,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let raw: RawOverride = match parse_yaml(&path, &text, "docs/overrides.md") {
                Ok(r) => r,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let here: Vec<&Arc<Workflow>> = cx
                .workflows
                .values()
                .flatten()
                .filter(|w| w.source.parent() == Some(folder.as_path()))
                .collect();
            let Some(versions) = matching_versions(&path, &raw, &here, failed, folder, problems)
            else {
                continue;
            };
            let tenant = raw.tenant.value.clone();
            let mut applied = Vec::new();
            let mut found: Vec<Problem> = Vec::new();
            for base in versions {
                let key = (tenant.clone(), base.id.clone(), base.version);
                if let Some(other) = taken.get(&key) {
                    found.push(Problem::error(
                        "LOT-E073",
                        &path,
                        pos(&raw.tenant),
                        format!(
                            "tenant \"{tenant}\" already overrides {} in {}; one override per tenant and version",
                            base.key(),
                            other.display()
                        ),
                    ).with_help("give each file its own `versions: {from: .., to: ..}`"));
                    continue;
                }
                match apply(&path, &text, &raw, base, cx) {
                    Ok((wf, warnings)) => {
                        taken.insert(key, path.clone());
                        applied.push(Arc::new(wf));
                        found.extend(warnings);
                    }
                    Err(ps) => found.extend(ps),
                }
            }
            // One mistake in a file that applies to several versions is reported once.
            let mut seen = HashSet::new();
            found.retain(|p| seen.insert((p.code, p.line, p.column, p.message.clone())));
            let failed_here = found.iter().any(Problem::is_error);
            problems.extend(found);
            if failed_here {
                continue;
            }
            out.overrides.push(OverrideInfo {
                tenant: tenant.clone(),
                workflow: raw.workflow.value.clone(),
                versions: applied.iter().map(|w| w.version).collect(),
                file: path.clone(),
                tenant_at: pos(&raw.tenant),
            });
            let list = out
                .by_tenant
                .entry(tenant)
                .or_default()
                .entry(raw.workflow.value.clone())
                .or_default();
            list.extend(applied);
            list.sort_by_key(|w| w.version);
        }
    }
    out
}

/// The workflow versions in this folder the override applies to, or `None` after reporting why
/// there are none.
fn matching_versions<'w>(
    path: &Path,
    raw: &RawOverride,
    here: &[&'w Arc<Workflow>],
    failed: &BTreeSet<PathBuf>,
    folder: &Path,
    problems: &mut Vec<Problem>,
) -> Option<Vec<&'w Arc<Workflow>>> {
    let tenant = &raw.tenant.value;
    if !is_workflow_id(tenant) {
        problems.push(
            Problem::error(
                "LOT-E072",
                path,
                pos(&raw.tenant),
                format!("tenant \"{tenant}\" is not a valid tenant key"),
            )
            .with_help(
                "a tenant key is the municipality's slug, e.g. heinsberg or uebach-palenberg",
            ),
        );
        return None;
    }
    let id = &raw.workflow.value;
    let of_id: Vec<&Arc<Workflow>> = here.iter().copied().filter(|w| &w.id == id).collect();
    if of_id.is_empty() {
        if failed.contains(folder) {
            // The workflow itself did not load; its errors say why.
            return None;
        }
        let mut ids: Vec<&str> = here.iter().map(|w| w.id.as_str()).collect();
        ids.dedup();
        problems.push(
            Problem::error(
                "LOT-E070",
                path,
                pos(&raw.workflow),
                format!(
                    "the override is for workflow \"{id}\", but {} defines no such workflow",
                    folder.display()
                ),
            )
            .with_help(if ids.is_empty() {
                "put the override into the folder of the workflow it changes".to_string()
            } else {
                format!("workflows here: {}", ids.join(", "))
            }),
        );
        return None;
    }
    let (from, to, at) = match &raw.versions {
        Some(v) => (
            v.value.from.unwrap_or(0),
            v.value.to.unwrap_or(u32::MAX),
            pos(v),
        ),
        None => (0, u32::MAX, pos(&raw.workflow)),
    };
    if from > to {
        problems.push(Problem::error(
            "LOT-E070",
            path,
            at,
            format!("`versions` runs from {from} to {to}: `from` must not be after `to`"),
        ));
        return None;
    }
    let chosen: Vec<&Arc<Workflow>> = of_id
        .iter()
        .copied()
        .filter(|w| (from..=to).contains(&w.version))
        .collect();
    if chosen.is_empty() {
        let have: Vec<String> = of_id.iter().map(|w| w.version.to_string()).collect();
        problems.push(Problem::error(
            "LOT-E070",
            path,
            at,
            format!(
                "no version of workflow \"{id}\" lies in `versions` (it has version {})",
                have.join(", ")
            ),
        ));
        return None;
    }
    Some(chosen)
}

/// Applies one override to one workflow version.
fn apply(
    path: &Path,
    source: &str,
    raw: &RawOverride,
    base: &Workflow,
    cx: &Context<'_>,
) -> Result<(Workflow, Vec<Problem>), Vec<Problem>> {
    let mut ctx = Ctx {
        path,
        source,
        forms: cx.forms,
        compiler: cx.compiler,
        sandbox: cx.sandbox,
        problems: Vec::new(),
        compiled: Vec::new(),
    };
    let mut wf = base.clone();
    if let Some(office) = &raw.office {
        wf.office = office.clone();
    }
    if let Some(days) = &raw.draft_expiry_days {
        if (1..=MAX_DRAFT_EXPIRY_DAYS).contains(&days.value) {
            wf.draft_expiry_days = days.value;
        } else {
            ctx.error(
                "LOT-E075",
                pos(days),
                format!(
                    "draft_expiry_days must be between 1 and {MAX_DRAFT_EXPIRY_DAYS}, not {}",
                    days.value
                ),
            );
        }
    }
    if let Some(receipt) = &raw.receipt {
        if let Some(note) = &receipt.note {
            wf.receipt_note = Some(note.clone());
        }
        if let Some(closing) = &receipt.closing {
            wf.receipt_closing = Some(closing.clone());
        }
    }

    let fields: Vec<String> = base.fields().map(|f| f.id.clone()).collect();
    let mut done: BTreeMap<String, Pos> = BTreeMap::new();
    let mut new_mentions: Vec<String> = Vec::new();
    for c in &raw.computed {
        let id = &c.id.value;
        let Some(index) = base.computed.iter().position(|x| &x.id == id) else {
            let known: Vec<&str> = base.computed.iter().map(|x| x.id.as_str()).collect();
            ctx.error_help(
                "LOT-E071",
                pos(&c.id),
                format!(
                    "workflow \"{}\" has no computed value \"{id}\" to override",
                    base.id
                ),
                if known.is_empty() {
                    "this workflow computes nothing".to_string()
                } else {
                    format!("computed values: {}", known.join(", "))
                },
            );
            continue;
        };
        if let Some(first) = done.get(id) {
            let msg = format!(
                "computed value \"{id}\" is overridden twice (first at line {})",
                first.line
            );
            ctx.error("LOT-E071", pos(&c.id), msg);
            continue;
        }
        done.insert(id.clone(), pos(&c.id));
        // The same names the original sees: every field, and the computed values before it.
        let names = Names::new(
            fields
                .iter()
                .cloned()
                .chain(base.computed[..index].iter().map(|x| x.id.clone())),
        );
        let what = format!("computed value \"{id}\" (override)");
        let expr = match (&c.value, &c.script, &c.fixed) {
            (Some(v), None, None) => ctx.expr(&what, v, &names, false),
            (None, Some(s), None) => ctx.expr(&what, s, &names, true),
            (None, None, Some(n)) => {
                // A fixed amount: a literal number, compiled like any expression.
                let literal = Spanned {
                    value: n.value.to_string(),
                    referenced: n.referenced,
                    defined: n.defined,
                };
                ctx.expr(&what, &literal, &names, false)
            }
            _ => {
                ctx.error(
                    "LOT-E005",
                    pos(&c.id),
                    format!(
                        "{what} needs exactly one of `value` (an expression), `script` or `fixed` (an amount)"
                    ),
                );
                None
            }
        };
        if let Some(expr) = expr {
            new_mentions.extend(expr.mentions.iter().cloned());
            wf.computed[index].expr = expr;
        }
    }
    if raw.office.is_none()
        && raw.receipt.is_none()
        && raw.computed.is_empty()
        && raw.draft_expiry_days.is_none()
    {
        ctx.problems.push(Problem::warning(
            "LOT-E074",
            path,
            pos(&raw.workflow),
            format!(
                "the override of \"{}\" changes nothing: name `office`, `computed`, `receipt` or `draft_expiry_days`",
                base.id
            ),
        ));
    }

    // Scripts see the names some script mentions: add the fields only the override reads.
    let mut names: Vec<String> = base.names.iter().map(str::to_string).collect();
    for m in new_mentions {
        if !names.contains(&m) {
            names.push(m);
        }
    }
    wf.names = Names::new(names);

    // A trial run before any answer, as for the workflow's own scripts.
    let today = time::macros::date!(2026 - 01 - 01);
    for (at, what, e) in std::mem::take(&mut ctx.compiled) {
        let mut env = crate::script::Env::new(&wf.names, |k| wf.empty_values.get(k), today);
        if let Err(err @ ScriptError::Limit(_)) = cx.sandbox.eval(&e, &mut env) {
            ctx.error("LOT-E031", at, format!("{what}: {err}"));
        }
    }
    if ctx.problems.iter().any(Problem::is_error) {
        return Err(ctx.problems);
    }

    // The tenant's workflow is another workflow: a draft started on it resumes only on it.
    let mut hasher = Sha256::new();
    hasher.update(base.content_hash.as_bytes());
    hasher.update([0]);
    hasher.update(raw.tenant.value.as_bytes());
    hasher.update([0]);
    hasher.update(source.as_bytes());
    wf.content_hash = format!("sha256:{}", hex(&hasher.finalize()));
    wf.tenant = Some(raw.tenant.value.clone());
    wf.override_source = Some(path.to_path_buf());
    Arc::make_mut(&mut wf.sources).overrides = Some(super::OverrideSource {
        path: path.display().to_string(),
        text: source.to_string(),
    });
    Ok((wf, ctx.problems))
}

/// Applies an override given as text to the workflow it was written for, as
/// [`super::compile_sources`] needs it: the tenant and the versions it names are not looked up
/// again (the sources are of one version the override applied to).
pub(crate) fn apply_source(
    path: &Path,
    text: &str,
    base: &Workflow,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    sandbox: &Sandbox,
) -> Result<Workflow, Vec<Problem>> {
    let raw: RawOverride = parse_yaml(path, text, DOC).map_err(|p| vec![p])?;
    apply_raw(path, text, &raw, base, forms, compiler, sandbox)
}

/// As [`apply_source`], with the override parsed already (as JSON, for the browser's engine).
pub(crate) fn apply_parsed(
    path: &Path,
    text: &str,
    parsed: &serde_json::Value,
    base: &Workflow,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    sandbox: &Sandbox,
) -> Result<Workflow, Vec<Problem>> {
    let raw: RawOverride = from_json(path, parsed, DOC).map_err(|p| vec![p])?;
    apply_raw(path, text, &raw, base, forms, compiler, sandbox)
}

/// The page that lists every key of an override file.
pub(crate) const DOC: &str = "docs/overrides.md";

fn apply_raw(
    path: &Path,
    text: &str,
    raw: &RawOverride,
    base: &Workflow,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    sandbox: &Sandbox,
) -> Result<Workflow, Vec<Problem>> {
    let workflows = BTreeMap::new();
    let cx = Context {
        workflows: &workflows,
        forms,
        compiler,
        sandbox,
    };
    apply(path, text, raw, base, &cx).map(|(wf, _)| wf)
}

/// An override written as text (stored by a tenant administrator rather than a file): checked
/// exactly as a file is, against every version of the workflow it names. Either every version
/// applies, or nothing does and the problems say why.
pub(crate) fn from_text(
    path: &Path,
    text: &str,
    cx: &Context<'_>,
) -> Result<(OverrideInfo, Vec<Arc<Workflow>>), Vec<Problem>> {
    let raw: RawOverride = parse_yaml(path, text, "docs/overrides.md").map_err(|p| vec![p])?;
    let all: Vec<&Arc<Workflow>> = cx.workflows.values().flatten().collect();
    let folder = all
        .iter()
        .find(|w| w.id == raw.workflow.value)
        .and_then(|w| w.source.parent().map(Path::to_path_buf))
        .unwrap_or_default();
    let here: Vec<&Arc<Workflow>> = all
        .into_iter()
        .filter(|w| w.source.parent() == Some(folder.as_path()))
        .collect();
    let mut problems = Vec::new();
    let Some(versions) =
        matching_versions(path, &raw, &here, &BTreeSet::new(), &folder, &mut problems)
    else {
        return Err(problems);
    };
    let mut applied = Vec::new();
    for base in versions {
        match apply(path, text, &raw, base, cx) {
            Ok((wf, _warnings)) => applied.push(Arc::new(wf)),
            Err(ps) => problems.extend(ps),
        }
    }
    let mut seen = HashSet::new();
    problems.retain(|p| seen.insert((p.code, p.line, p.column, p.message.clone())));
    if problems.iter().any(Problem::is_error) {
        return Err(problems);
    }
    applied.sort_by_key(|w| w.version);
    Ok((
        OverrideInfo {
            tenant: raw.tenant.value.clone(),
            workflow: raw.workflow.value.clone(),
            versions: applied.iter().map(|w| w.version).collect(),
            file: path.to_path_buf(),
            tenant_at: pos(&raw.tenant),
        },
        applied,
    ))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::application::receipt_model;
    use crate::receipt::TenantInfo;
    use crate::text::Lang;
    use crate::{Application, Command, Library, Outcome};
    use serde_json::json;

    const WORKFLOW: &str = r#"
id: gebuehr
version: 1
title: Eine Gebühr
office: { de: Kreisverwaltung, en: County administration }
steps:
  - id: a
    title: A
    fields:
      - id: anzahl
        label: Anzahl
        widget: number
      - id: zone
        label: Zone
        widget: radio
        options: [{ value: innen, label: Innen }, { value: aussen, label: Außen }]
computed:
  - id: gebuehr
    label: Gebühr
    format: euro
    value: anzahl * 10
  - id: gesamt
    label: Gesamt
    format: euro
    value: gebuehr + 5
"#;

    fn project(overrides: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let wf = dir.path().join("workflows/gebuehr");
        std::fs::create_dir_all(wf.join("overrides")).unwrap();
        std::fs::write(wf.join("workflow.yaml"), WORKFLOW).unwrap();
        for (name, text) in overrides {
            std::fs::write(wf.join("overrides").join(name), text).unwrap();
        }
        dir
    }

    fn load(dir: &tempfile::TempDir) -> (Library, Vec<Problem>) {
        let (mut lib, mut problems) = crate::load_library(dir.path(), &Sandbox::default());
        problems.extend(lib.check_tenants(&["stadt-a", "stadt-b"]));
        (lib, problems)
    }

    fn fees(wf: &Workflow, answers: serde_json::Value) -> BTreeMap<String, serde_json::Value> {
        let now = time::macros::datetime!(2026-11-28 10:00 UTC);
        let mut app = Application::start(wf, Lang::De, now);
        app.answers = serde_json::from_value(answers).unwrap();
        app.computed(wf, &Sandbox::default(), now.date()).unwrap()
    }

    #[test]
    fn an_override_changes_fee_office_and_receipt_for_its_tenant_only() {
        let dir = project(&[(
            "stadt-a.yaml",
            "tenant: stadt-a\nworkflow: gebuehr\noffice: { de: Stadt A – Ordnungsamt, en: Town A – Public order office }\ncomputed:\n  - id: gebuehr\n    value: anzahl * 7\nreceipt:\n  note: { de: Bitte Ausweis mitbringen., en: Please bring your ID. }\n  closing: Stadt A entscheidet bald.\ndraft_expiry_days: 14\n",
        )]);
        let (lib, problems) = load(&dir);
        assert!(problems.is_empty(), "{problems:#?}");
        let base = lib.version("gebuehr", 1).unwrap();
        let a = lib.for_tenant("stadt-a", "gebuehr", 1).unwrap();
        let b = lib.for_tenant("stadt-b", "gebuehr", 1).unwrap();
        assert!(
            Arc::ptr_eq(base, b),
            "a tenant without override runs the workflow as written"
        );
        assert!(Arc::ptr_eq(
            a,
            lib.latest_for_tenant("stadt-a", "gebuehr").unwrap()
        ));

        let answers = json!({"anzahl": 3});
        assert_eq!(fees(base, answers.clone())["gebuehr"], json!(30));
        assert_eq!(fees(a, answers.clone())["gebuehr"], json!(21));
        // Values computed from the overridden one follow it.
        assert_eq!(fees(a, answers)["gesamt"], json!(26));

        assert_eq!(a.office.get(Lang::En), "Town A – Public order office");
        assert_eq!(base.office.german(), "Kreisverwaltung");
        assert_eq!((a.draft_expiry_days, base.draft_expiry_days), (14, 30));
        assert_eq!(a.key(), base.key());
        assert_ne!(a.content_hash, base.content_hash);
        assert_eq!(a.tenant.as_deref(), Some("stadt-a"));
        assert_eq!(lib.overrides().len(), 1);
        assert_eq!(lib.overrides()[0].versions, [1]);

        // The receipt carries the note and the closing sentence in the citizen's language.
        let now = time::macros::datetime!(2026-11-28 10:00 UTC);
        let mut app = Application::start(a, Lang::En, now);
        let sandbox = Sandbox::default();
        let values = json!({"anzahl": 2, "zone": "innen"});
        let t = app
            .apply(
                a,
                &sandbox,
                Command::Answer {
                    step: "a".into(),
                    values: serde_json::from_value(values).unwrap(),
                    then_review: false,
                },
                now,
            )
            .unwrap();
        app = t.state;
        let Outcome::Submitted { submission } = app
            .apply(a, &sandbox, Command::submit(), now)
            .unwrap()
            .outcome
        else {
            panic!("not submitted")
        };
        let model = receipt_model(a, &submission, sample_tenant(), "A-1", now);
        assert_eq!(model.notes, ["Please bring your ID."]);
        assert_eq!(model.closing.as_deref(), Some("Stadt A entscheidet bald."));
        let plain = receipt_model(base, &submission, sample_tenant(), "A-1", now);
        assert!(plain.notes.is_empty() && plain.closing.is_none());
    }

    fn sample_tenant() -> TenantInfo {
        crate::receipt::sample_model().tenant
    }

    #[test]
    fn a_draft_started_with_an_override_does_not_continue_on_other_rules() {
        let dir = project(&[(
            "a.yaml",
            "tenant: stadt-a\nworkflow: gebuehr\ncomputed:\n  - id: gebuehr\n    fixed: 40\n",
        )]);
        let (lib, problems) = load(&dir);
        assert!(problems.is_empty(), "{problems:#?}");
        let a = lib.for_tenant("stadt-a", "gebuehr", 1).unwrap();
        let base = lib.version("gebuehr", 1).unwrap();
        assert_eq!(fees(a, json!({"anzahl": 3}))["gebuehr"], json!(40));
        let now = time::macros::datetime!(2026-11-28 10:00 UTC);
        let app = Application::start(a, Lang::De, now);
        let err = app
            .apply(base, &Sandbox::default(), Command::Back, now)
            .unwrap_err();
        assert_eq!(err.code(), "LOT-A001");
        // A draft resumes on the rules whose hash it recorded: the tenant's, or the county's
        // when it was started before the override existed.
        let resume = |hash: &str| lib.for_tenant_resuming("stadt-a", "gebuehr", 1, hash);
        assert!(Arc::ptr_eq(resume(&a.content_hash).unwrap(), a));
        assert!(Arc::ptr_eq(resume(&base.content_hash).unwrap(), base));
        assert!(Arc::ptr_eq(resume("sha256:anders").unwrap(), a));
    }

    #[test]
    fn an_override_may_read_fields_no_script_of_the_workflow_reads() {
        let dir = project(&[(
            "a.yaml",
            "tenant: stadt-a\nworkflow: gebuehr\ncomputed:\n  - id: gebuehr\n    script: |\n      if zone == \"innen\" { anzahl * 12 } else { anzahl * 6 }\n",
        )]);
        let (lib, problems) = load(&dir);
        assert!(problems.is_empty(), "{problems:#?}");
        let a = lib.for_tenant("stadt-a", "gebuehr", 1).unwrap();
        assert_eq!(
            fees(a, json!({"anzahl": 2, "zone": "innen"}))["gebuehr"],
            json!(24)
        );
        assert_eq!(
            fees(a, json!({"anzahl": 2, "zone": "aussen"}))["gebuehr"],
            json!(12)
        );
    }

    #[test]
    fn an_override_applies_to_the_versions_it_names_only() {
        let dir = project(&[(
            "a.yaml",
            "tenant: stadt-a\nworkflow: gebuehr\nversions: { from: 2 }\ncomputed:\n  - id: gebuehr\n    fixed: 1\n",
        )]);
        std::fs::write(
            dir.path().join("workflows/gebuehr/workflow-v2.yaml"),
            WORKFLOW.replace("version: 1", "version: 2"),
        )
        .unwrap();
        let (lib, problems) = load(&dir);
        assert!(problems.is_empty(), "{problems:#?}");
        let v1 = lib.for_tenant("stadt-a", "gebuehr", 1).unwrap();
        let v2 = lib.for_tenant("stadt-a", "gebuehr", 2).unwrap();
        assert!(Arc::ptr_eq(v1, lib.version("gebuehr", 1).unwrap()));
        assert_eq!(v2.tenant.as_deref(), Some("stadt-a"));
        assert_eq!(fees(v2, json!({"anzahl": 3}))["gebuehr"], json!(1));
        assert_eq!(lib.overrides()[0].versions, [2]);
        assert_eq!(lib.tenant_variants().count(), 1);
    }

    #[test]
    fn broken_overrides_are_precise_errors_and_are_not_applied() {
        let dir = project(&[
            (
                "1.yaml",
                "tenant: stadt-a\nworkflow: gebuehr\ncomputed:\n  - id: gebuhr\n    fixed: 1\n",
            ),
            (
                "2.yaml",
                "tenant: stadt-b\nworkflow: gebuehr\ncomputed:\n  - id: gebuehr\n    value: anzhal * 7\n",
            ),
            (
                "3.yaml",
                "tenant: nirgendwo\nworkflow: gebuehr\noffice: X\n",
            ),
            (
                "4.yaml",
                "tenant: stadt-c\nworkflow: gebuehr\ndraft_expiry_days: 0\n",
            ),
        ]);
        let (lib, problems) = load(&dir);
        let found: Vec<(&str, String, usize, usize)> = problems
            .iter()
            .map(|p| {
                (
                    p.code,
                    p.file.file_name().unwrap().to_string_lossy().to_string(),
                    p.line,
                    p.column,
                )
            })
            .collect();
        assert!(
            found.contains(&("LOT-E071", "1.yaml".into(), 4, 9)),
            "{problems:#?}"
        );
        assert!(
            found.contains(&("LOT-E030", "2.yaml".into(), 5, 12)),
            "{problems:#?}"
        );
        assert!(
            found.contains(&("LOT-E072", "3.yaml".into(), 1, 9)),
            "{problems:#?}"
        );
        assert!(
            found.contains(&("LOT-E075", "4.yaml".into(), 3, 20)),
            "{problems:#?}"
        );
        assert!(lib.overrides().is_empty());
        let base = lib.version("gebuehr", 1).unwrap();
        for t in ["stadt-a", "stadt-b", "nirgendwo", "stadt-c"] {
            assert!(Arc::ptr_eq(lib.for_tenant(t, "gebuehr", 1).unwrap(), base));
        }
    }
}
