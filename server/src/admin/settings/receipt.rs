//! The receipt a rule being edited would give: the citizen's receipt for one of the workflow's
//! examples, rendered and signed like the real one, but marked as a Muster (a heading above the
//! template's own, the reference and so every page's footer, the service, a first note and the
//! closing sentence), so that it cannot pass as a receipt. Nothing is stored: no submission, no reference number, no audit entry.

use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::application::receipt_model;
use lotse_receipt::render_receipt;

use super::rules::{apply_rule, check_rule, samples};
use super::{Extra, Pairs, check_csrf, field, show};
use crate::admin::extractors::TenantAdmin;
use crate::admin::views::error_page;
use crate::admin::{AdminError, Shared, run};

/// Where a real receipt has its reference number; also in every page's footer.
pub(crate) const SPECIMEN_REFERENCE: &str = "MUSTER – keine Eingangsbestätigung";

pub(in crate::admin) async fn receipt_preview(
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
    if text.len() > 64 * 1024 {
        let extra = Extra {
            errors: vec!["Die Regel ist zu lang (höchstens 64 KB).".into()],
            ..Extra::default()
        };
        return show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let example = field(&pairs, "beispiel").to_string();
    let (p2, t2, w2) = (p.clone(), t.clone(), workflow.clone());
    let made = run(move || -> Result<Result<Vec<u8>, Extra>, AdminError> {
        let Ok(applied) = apply_rule(&p2, &t2, &w2, &text) else {
            let rule = check_rule(&p2, &t2, &w2, &text);
            return Ok(Err(Extra {
                errors: vec![format!(
                    "Die Regel für „{}“ enthält Fehler; eine Musterquittung gibt es erst, wenn sie in Ordnung ist.",
                    rule.title
                )],
                rule: Some(rule),
                ..Extra::default()
            }));
        };
        let all = samples(&p2, &t2, &w2, &applied, 20);
        let Some(sample) = all
            .iter()
            .find(|s| s.name == example)
            .or_else(|| all.first())
        else {
            return Ok(Err(Extra {
                errors: vec!["Für diesen Dienst gibt es kein Beispiel, das mit einem Absenden endet; eine Musterquittung ist deshalb nicht möglich.".into()],
                ..Extra::default()
            }));
        };
        let wf = &sample.workflow;
        let mut model = receipt_model(
            wf,
            &sample.after,
            crate::tenants::receipt_info(&t2, wf.office.german()),
            SPECIMEN_REFERENCE,
            p2.now(),
        );
        model.service_title = format!("MUSTER – {}", model.service_title);
        model.specimen = Some("MUSTER – keine Eingangsbestätigung, nur eine Vorschau".into());
        model.notes.insert(
            0,
            format!(
                "MUSTER: Vorschau aus der Verwaltung mit den Beispieldaten „{}“ und der Regel, wie sie gerade bearbeitet wird. Dies ist keine Eingangsbestätigung; es wurde kein Antrag gestellt.",
                sample.name
            ),
        );
        model.closing = Some(
            "MUSTER ohne jede Wirkung: Diese Quittung zeigt nur, wie eine echte aussehen würde.".into(),
        );
        let identity = p2
            .identity(&t2.slug)
            .ok_or_else(|| AdminError::Internal("no signing identity".into()))?;
        let defs = p2.defs();
        render_receipt(&model, &defs.receipts, &identity)
            .map(Ok)
            .map_err(|e| AdminError::Internal(e.to_string()))
    })
    .await;
    match made {
        Ok(Ok(pdf)) => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("inline; filename=\"Muster-Quittung-{workflow}.pdf\""),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            pdf,
        )
            .into_response(),
        Ok(Err(extra)) => show(&p, &t, &staff, extra, StatusCode::UNPROCESSABLE_ENTITY).await,
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}
