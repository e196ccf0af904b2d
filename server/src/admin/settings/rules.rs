//! A tenant's rules (an override of a county workflow: fee rates, office, receipt texts):
//! checked exactly as `lotse check` checks an override file, previewed on the workflow's
//! scenarios, then stored all or nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use lotse_core::application::{Submission, format_value};
use lotse_core::{Lang, Workflow};
use serde_json::Value;

use super::{Extra, Pairs, PreviewRow, RuleView, answer, change, check_csrf, field, finish, show};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::error_page;
use crate::admin::{AdminError, Shared, run};
use crate::settings;
use crate::tenants::Tenant;

/// Checks a rule as `lotse check` checks an override file and previews it on the workflow's
/// scenarios: the computed values before and after.
pub(super) fn check_rule(p: &Shared, t: &Tenant, workflow: &str, text: &str) -> RuleView {
    let defs = p.defs();
    let mut view = RuleView {
        id: workflow.to_string(),
        title: defs
            .library
            .latest(workflow)
            .map(|wf| wf.title.german().to_string())
            .unwrap_or_default(),
        text: text.to_string(),
        checked: true,
        ..RuleView::default()
    };
    match apply_rule(p, t, workflow, text) {
        Err(errors) => view.errors = errors,
        Ok(applied) => {
            let samples = samples(p, t, workflow, &applied, 20);
            view.examples = samples.iter().map(|s| s.name.clone()).collect();
            view.preview = preview(&samples);
        }
    }
    view
}

/// The workflow's versions with the rule applied, checked as `lotse check` checks an override
/// file and for this tenant and workflow; else the errors, in German where they are ours.
pub(super) fn apply_rule(
    p: &Shared,
    t: &Tenant,
    workflow: &str,
    text: &str,
) -> Result<Vec<Arc<Workflow>>, Vec<String>> {
    let path = settings::rule_path(&t.slug, workflow);
    let (info, applied) = p
        .defs()
        .library
        .check_override_text(&path, text, &p.sandbox)
        .map_err(|problems| {
            problems
                .iter()
                .map(|pr| format!("Zeile {}, Spalte {}: {}", pr.line, pr.column, pr.message))
                .collect::<Vec<_>>()
        })?;
    let mut errors = Vec::new();
    if info.tenant != t.slug {
        errors.push(format!("`tenant:` muss {} sein.", t.slug));
    }
    if info.workflow != workflow {
        errors.push(format!("`workflow:` muss {workflow} sein."));
    }
    if errors.is_empty() {
        Ok(applied)
    } else {
        Err(errors)
    }
}

/// One example of a workflow's scenarios, run on the county's workflow (as the tenant runs it
/// now) and on the rule being checked.
pub(super) struct Sample {
    pub(super) name: String,
    pub(super) before: Submission,
    pub(super) workflow: Arc<Workflow>,
    pub(super) after: Submission,
}

/// The scenarios of `workflow` that end in a submission, before and with the rule (`applied`:
/// the workflow's versions with the rule applied); at most `limit`.
pub(super) fn samples(
    p: &Shared,
    t: &Tenant,
    workflow: &str,
    applied: &[Arc<Workflow>],
    limit: usize,
) -> Vec<Sample> {
    let defs = p.defs();
    let mut out = Vec::new();
    for file in lotse_core::scenario::scenario_files(&defs.library) {
        if out.len() >= limit {
            break;
        }
        let Ok(scenario) = lotse_core::scenario::load_scenario(&file) else {
            continue;
        };
        let Some((wf, before)) = lotse_core::scenario::sample_submission_for(
            &defs.library,
            &p.sandbox,
            &scenario,
            &t.slug,
        ) else {
            continue;
        };
        if wf.id != workflow {
            continue;
        }
        let Some(candidate) = applied.iter().find(|w| w.version == wf.version) else {
            continue;
        };
        let Some((cwf, after)) =
            lotse_core::scenario::sample_submission_on(candidate.clone(), &p.sandbox, &scenario)
        else {
            continue;
        };
        out.push(Sample {
            name: scenario.name.clone(),
            before,
            workflow: cwf,
            after,
        });
    }
    out
}

/// The computed values of each example before and with the rule.
fn preview(samples: &[Sample]) -> Vec<PreviewRow> {
    let mut rows = Vec::new();
    for sample in samples {
        for c in &sample.workflow.computed {
            let show = |m: &BTreeMap<String, Value>| {
                m.get(&c.id)
                    .map(|v| format_value(v, c.format, Lang::De))
                    .unwrap_or_else(|| "–".into())
            };
            let (b, a) = (show(&sample.before.computed), show(&sample.after.computed));
            rows.push(PreviewRow {
                example: sample.name.clone(),
                value: c.label.german().to_string(),
                changed: a != b,
                before: b,
                after: a,
            });
        }
        if rows.len() > 60 {
            break;
        }
    }
    rows
}

pub(in crate::admin) async fn rule(
    State(p): State<Shared>,
    TenantAdmin { tenant: t, staff }: TenantAdmin,
    Path((_, workflow)): Path<(String, String)>,
    Form(pairs): Form<Pairs>,
) -> Response {
    if let Err(e) = check_csrf(&p, &staff, &pairs) {
        return error_page(&p, &t, Some(&staff), e);
    }
    if !p.defs().library.workflows.contains_key(&workflow) || !t.services.offers(&workflow) {
        return error_page(&p, &t, Some(&staff), AdminError::NotFound);
    }
    let text = field(&pairs, "regel").replace("\r\n", "\n");
    let action = field(&pairs, "aktion").to_string();
    if action == "zuruecksetzen" {
        let (p2, t2, s2, w2) = (p.clone(), t.clone(), staff.clone(), workflow.clone());
        let r = run(move || {
            Ok(change(
                &p2,
                &t2,
                &s2,
                &format!("rules:{w2}"),
                |s| {
                    s.rules.remove(&w2);
                },
                |s| serde_json::json!(s.rules.get(&w2)),
            ))
        })
        .await;
        let outcome = finish(&t, r, &format!("regel-{workflow}"));
        return answer(&p, &t, &staff, outcome).await;
    }
    if text.len() > 64 * 1024 {
        let extra = Extra {
            errors: vec!["Die Regel ist zu lang (höchstens 64 KB).".into()],
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let (p2, t2, w2, text2) = (p.clone(), t.clone(), workflow.clone(), text.clone());
    let checked = match run(move || Ok(check_rule(&p2, &t2, &w2, &text2))).await {
        Ok(v) => v,
        Err(e) => return error_page(&p, &t, Some(&staff), e),
    };
    if !checked.errors.is_empty() || action != "speichern" {
        let status = if checked.errors.is_empty() {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let extra = Extra {
            notice: checked.errors.is_empty().then(|| {
                format!("Die Regel für „{}“ ist in Ordnung. Die Vorschau zeigt, was sie ändert; gespeichert ist noch nichts.", checked.title)
            }),
            errors: if checked.errors.is_empty() {
                Vec::new()
            } else {
                vec![format!("Die Regel für „{}“ enthält Fehler; nichts wurde geändert.", checked.title)]
            },
            rule: Some(checked),
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, status).await;
    }
    let (p2, t2, s2, w2) = (p.clone(), t.clone(), staff.clone(), workflow.clone());
    let r = run(move || {
        Ok(change(
            &p2,
            &t2,
            &s2,
            &format!("rules:{w2}"),
            |s| {
                s.rules.insert(w2.clone(), text);
            },
            |s| serde_json::json!(s.rules.get(&w2)),
        ))
    })
    .await;
    let outcome = finish(&t, r, &format!("regel-{workflow}"));
    answer(&p, &t, &staff, outcome).await
}
