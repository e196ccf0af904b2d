//! The step-by-step assistant as HTML forms: start, each step, review, submit, the
//! confirmation and the receipt. Every command goes through the application service.

use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::Command;
use lotse_store::SubmissionId;

#[allow(unused_imports)]
use super::{form, status, views};
use crate::http::extractors::{PortalTenant, UiLang, field};
use crate::http::pages::{
    PageContext, PageError, PageResult, not_found, pdf_download, server_error,
};
use crate::http::run::{blocking, draft_work, interrupted, open_draft, run_command};
use crate::service::{Acted, Opened};
use crate::state::{Shared, offered};
use crate::telemetry::bump;

pub(crate) async fn start(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, workflow)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let page = PageContext::new(&p, t, lang);
    let wf = offered(&p, t, &workflow).ok_or_else(|| page.fail(PageError::NotFound))?;
    if field(&pairs, "_csrf") != Some(p.token(&format!("start:{}", t.slug)).as_str()) {
        return Err(page.fail(PageError::Forbidden));
    }
    let now = p.now();
    let open = draft_work(&p, move |p| p.service(&p.defs()).start(t, &wf, lang, now))
        .await
        .map_err(interrupted)
        .and_then(|started| started)
        .map_err(|e| page.fail(e))?;
    bump(&p.metrics.drafts_started);
    Ok(Redirect::to(&format!("/{}/antrag/{}", t.slug, open.draft.id)).into_response())
}

pub(crate) async fn show_draft(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> PageResult {
    let page = PageContext::new(&p, t, lang);
    let opened = open_draft(&p, t, &id).await.map_err(|e| page.fail(e))?;
    let open = match opened {
        Some(Opened::Open(open)) => open,
        Some(Opened::Submitted(sid)) => {
            return Ok(Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response());
        }
        None => return Err(page.fail(PageError::NotFound)),
    };
    // What the citizen typed on this step and was not accepted comes back with its errors.
    let attempt = match p
        .service(&p.defs())
        .pending(&open, p.now())
        .map_err(|e| page.fail(e))?
    {
        Some(pending) => views::Attempt {
            values: Some(pending.values),
            errors: pending.errors,
        },
        None => views::Attempt::default(),
    };
    let mut shown = views::page(&p, t, &open.draft, &open.app, &open.wf, attempt, lang);
    // A reload of a step with errors is still a successful GET.
    if shown.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *shown.status_mut() = StatusCode::OK;
    }
    Ok(shown)
}

pub(crate) async fn post_draft(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let page = PageContext::new(&p, t, lang);
    let open = match open_draft(&p, t, &id).await.map_err(|e| page.fail(e))? {
        Some(Opened::Open(open)) => *open,
        // Sent already (a double click, the back button): the confirmation again.
        Some(Opened::Submitted(sid)) => {
            return Ok(Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response());
        }
        None => return Err(page.fail(PageError::NotFound)),
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("draft:{}", open.draft.id)).as_str()) {
        return Err(page.fail(PageError::Forbidden));
    }
    let url = format!("/{}/antrag/{}", t.slug, open.draft.id);
    // Another tab saved in between: show the current state instead of overwriting it.
    let Some(revision) = field(&pairs, "_rev").and_then(|r| r.parse::<u64>().ok()) else {
        return Ok(Redirect::to(&url).into_response());
    };
    let action = field(&pairs, "_action").unwrap_or("weiter").to_string();
    let step_id = open.app.current_step().unwrap_or_default().to_string();
    let command = if action == "zurueck" {
        Command::Back
    } else if let Some(step) = action.strip_prefix("goto:") {
        Command::Goto {
            step: step.to_string(),
        }
    } else if action == "absenden" {
        Command::Submit
    } else if let Some(rest) = action
        .strip_prefix("add:")
        .or_else(|| action.strip_prefix("remove:"))
    {
        // Adding or removing an entry of a repeatable group re-renders the step with the
        // posted values; nothing is stored until the step is sent.
        let Some(step) = open.wf.step(&step_id) else {
            return Ok(Redirect::to(&url).into_response());
        };
        let mut values = form::answers(step, &pairs);
        views::change_items(step, &mut values, &action, rest);
        let mut app = open.app;
        app.lang = lang;
        return Ok(views::page(
            &p,
            t,
            &open.draft,
            &app,
            &open.wf,
            views::Attempt {
                values: Some(values),
                errors: Vec::new(),
            },
            lang,
        ));
    } else {
        let Some(step) = open.wf.step(&step_id) else {
            return Ok(Redirect::to(&url).into_response());
        };
        Command::Answer {
            step: step.id.clone(),
            values: form::answers(step, &pairs),
            then_review: open.app.answered.len() >= open.app.route.len(),
        }
    };
    let now = p.now();
    // Messages come in the language the citizen reads now.
    let acted = match run_command(&p, t, open, revision, Some(lang), command, now).await {
        Ok(acted) => acted,
        // A command the engine refuses now (`goto:` a step off the route, answers for fields
        // the step does not have) comes from a forged or outdated form: the current step again,
        // as for a stale revision, rather than an error page.
        Err(e) if e.is_refusal() => return Ok(Redirect::to(&url).into_response()),
        Err(e) => return Err(page.fail(e)),
    };
    Ok(match acted {
        Acted::Rejected { open, step, errors } => {
            let values = open.app.pending.get(&step).cloned();
            views::page(
                &p,
                t,
                &open.draft,
                &open.app,
                &open.wf,
                views::Attempt { values, errors },
                lang,
            )
        }
        Acted::Submitted { submission, .. } => {
            Redirect::to(&format!("/{}/eingang/{}", t.slug, submission.id)).into_response()
        }
        Acted::AlreadySubmitted { submission } => {
            Redirect::to(&format!("/{}/eingang/{submission}", t.slug)).into_response()
        }
        Acted::Saved(_) | Acted::Incomplete { .. } | Acted::Stale { .. } => {
            Redirect::to(&url).into_response()
        }
    })
}

pub(crate) async fn show_submission(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    // The status timeline, messages and the answer to a Rückfrage: portal/status.rs.
    status::page(&p, t, &id, lang, None).await
}

pub(crate) async fn receipt_pdf(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return not_found(&p, Some(t), lang);
    };
    let p2 = p.clone();
    let slug = t.slug;
    match blocking(move || p2.service(&p2.defs()).receipt_of(slug, &sid)).await {
        Ok(Some((reference, pdf))) => pdf_download(&reference, pdf),
        Ok(None) => not_found(&p, Some(t), lang),
        Err(e) => server_error(&p, t, &e, lang),
    }
}
