//! The designers' preview (`lotse serve --dev`): receipts rendered from a workflow's scenario.

use anyhow::Context;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::application::receipt_model;
use lotse_receipt::render_receipt;

#[allow(unused_imports)]
use super::{form, status, views};
use crate::http::extractors::PortalTenant;
use crate::http::extractors::UiLang;
use crate::http::pages::{message_page, not_found, server_error};
use crate::state::Shared;

/// In `--dev` mode: the receipt of a workflow with the answers of its first scenario that ends
/// in a submission, signed with the tenant's (development) key.
pub(crate) async fn receipt_preview(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, workflow)): Path<(String, String)>,
) -> Response {
    if !p.dev {
        return not_found(&p, Some(&t), lang);
    }
    let p2 = p.clone();
    let tc = t.clone();
    let made = crate::telemetry::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
        let t = tc;
        let defs = p2.defs();
        for file in lotse_core::scenario::scenario_files(&defs.library) {
            let Ok(scenario) = lotse_core::scenario::load_scenario(&file) else {
                continue;
            };
            if scenario.workflow.as_deref().is_some_and(|w| w != workflow)
                || scenario.tenant.as_ref().is_some_and(|(_, s)| *s != t.slug)
            {
                continue;
            }
            let Some((wf, submission)) = lotse_core::scenario::sample_submission_for(
                &defs.library,
                &p2.sandbox,
                &scenario,
                &t.slug,
            ) else {
                continue;
            };
            if wf.id != workflow {
                continue;
            }
            let model = receipt_model(
                &wf,
                &submission,
                crate::tenants::receipt_info(&t, wf.office.german()),
                "VORSCHAU-0000",
                p2.now(),
            );
            let identity = p2.identity(&t.slug).context("no signing key")?;
            return Ok(Some(render_receipt(&model, &defs.receipts, &identity)?));
        }
        Ok(None)
    })
    .await;
    match made {
        Ok(Ok(Some(pdf))) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Ok(Ok(None)) => message_page(
            &p,
            &t,
            lang,
            StatusCode::NOT_FOUND,
            "Keine Beispieldaten",
            "Keine Beispieldaten",
            "Für diesen Workflow gibt es kein Szenario, das mit einem Absenden endet (expect: submitted: true). Legen Sie eines in scenarios/ an, dann zeigt diese Seite die Quittung mit seinen Antworten.",
        ),
        Ok(Err(e)) => server_error(&p, &t, &e, lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}
