//! The step-by-step assistant as HTML forms: start, each step, review, submit, the
//! confirmation and the receipt. Every command goes through the application service.

use axum::extract::{Form, Path, RawQuery, State};

use super::{attach, step_post};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use lotse_core::application::Position;
use lotse_core::{Application, Command, Lang};
use lotse_store::SubmissionId;
use std::sync::Arc;

use super::extractors::PortalDraft;
#[allow(unused_imports)]
use super::{form, status, views};
use crate::http::extractors::{PortalTenant, UiLang, field};
use crate::http::pages::{
    PageContext, PageError, PageResult, not_found, pdf_download, server_error,
};
use crate::http::run::{blocking, draft_work, interrupted, run_command};
use crate::service::{Acted, OpenDraft};
use crate::state::{Shared, offered};
use crate::telemetry::bump;
use crate::tenants::Tenant;

pub(crate) async fn start(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, workflow)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let page = PageContext::new(&p, t.clone(), lang);
    let wf = offered(&p, &t, &workflow).ok_or_else(|| page.fail(PageError::NotFound))?;
    if field(&pairs, "_csrf") != Some(p.token(&format!("start:{}", t.slug)).as_str()) {
        return Err(page.fail(PageError::Forbidden));
    }
    // `login:`: the signed-in citizen (for `required`, at the workflow's level) prefills.
    let back = format!("/{}/leistung/{}", t.slug, wf.id);
    let citizen = match crate::login::gate(&p, &headers, &wf, lang, &back).await {
        Ok(c) => c,
        Err(to_sign_in) => return Ok(to_sign_in),
    };
    let now = p.now();
    let tc = t.clone();
    let open = draft_work(&p, move |p| {
        p.service(&p.defs())
            .start_as(&tc, &wf, lang, now, citizen.as_ref())
    })
    .await
    .map_err(interrupted)
    .and_then(|started| started)
    .map_err(|e| page.fail(e))?;
    bump(&p.metrics.drafts_started);
    Ok(Redirect::to(&format!("/{}/antrag/{}", t.slug, open.draft.id)).into_response())
}

/// Where in an application a page is: each has its own URL, so that the browser's Back and
/// Forward, reloads and bookmarks land on the right page without re-posting.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Place {
    /// `/antrag/{draft}`: wherever the application stands (the resume link).
    Current,
    /// `/antrag/{draft}/schritt/{step}`.
    Step(String),
    /// `/antrag/{draft}/aendern/{step}`: a step changed from the review page; "Zurück" and
    /// "Speichern" lead back to the review.
    Change(String),
    /// `/antrag/{draft}/pruefen`: the review page.
    Review,
}

impl Place {
    pub(crate) fn url(&self, tenant: &str, draft: &str) -> String {
        let base = format!("/{tenant}/antrag/{draft}");
        match self {
            Place::Current => base,
            Place::Step(s) => format!("{base}/schritt/{s}"),
            Place::Change(s) => format!("{base}/aendern/{s}"),
            Place::Review => format!("{base}/pruefen"),
        }
    }

    /// The page of the application's stored position.
    fn of(app: &Application) -> Place {
        match &app.position {
            Position::Step(s) => Place::Step(s.clone()),
            Position::Review | Position::Submitted => Place::Review,
        }
    }
}

/// `url` with the `lang` of the request's query (`?lang=en`), so that a redirect within the
/// assistant keeps the language a link chose; nothing else of the query is carried over.
fn keep_lang(url: String, query: Option<&str>) -> String {
    let lang = query.and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("lang=")));
    match lang.map(Lang::from_tag) {
        Some(l) => format!("{url}?lang={}", l.tag()),
        None => url,
    }
}

/// Whether the citizen may be on `step` now: on the route, and answered or the first open one.
fn reachable(app: &Application, step: &str) -> bool {
    let first_open = app.route.iter().find(|s| !app.answered.contains(*s));
    app.route.iter().any(|s| s == step)
        && (app.answered.contains(step) || first_open.map(String::as_str) == Some(step))
}

fn complete(app: &Application) -> bool {
    app.route.iter().all(|s| app.answered.contains(s))
}

/// Shows the page at `place`, or sends the citizen to where the application stands when that
/// page cannot be shown (a step not reached yet, a review before every step is answered).
async fn show(
    p: Shared,
    lang: Lang,
    t: Arc<Tenant>,
    mut open: Box<OpenDraft>,
    place: Place,
    query: Option<String>,
) -> PageResult {
    let page = PageContext::new(&p, t.clone(), lang);
    let draft = open.draft.id.to_string();
    let current = Place::of(&open.app);
    let shown = match &place {
        Place::Current => None,
        Place::Step(s) | Place::Change(s) if reachable(&open.app, s) => {
            Some(Position::Step(s.clone()))
        }
        Place::Review if complete(&open.app) => Some(Position::Review),
        _ => None,
    };
    let Some(position) = shown else {
        return Ok(
            Redirect::to(&keep_lang(current.url(&t.slug, &draft), query.as_deref()))
                .into_response(),
        );
    };
    // The page shows this position; the stored one changes only with a command.
    open.app.position = position;
    // What the citizen typed on this step comes back: after adding or removing an entry as
    // typed (with the entry just removed), after a refused answer with its errors; on the
    // review, the declaration as ticked at a refused submit.
    let typed = match &open.app.position {
        Position::Step(s) => open.app.typed_on(s).cloned(),
        _ => None,
    };
    let attempt = if let Some(typed) = typed {
        views::Attempt {
            values: Some(typed.values),
            errors: Vec::new(),
            removed: typed.removed,
        }
    } else if open.app.position == Position::Review {
        match open.app.declaration_attempt(&open.wf) {
            Some(ticked) => views::Attempt {
                values: Some(ticked.values),
                errors: ticked.errors,
                removed: None,
            },
            None => views::Attempt::default(),
        }
    } else {
        match p
            .service(&p.defs())
            .pending(&open, p.now())
            .map_err(|e| page.fail(e))?
        {
            Some(pending) => views::Attempt {
                values: Some(pending.values),
                errors: pending.errors,
                ..Default::default()
            },
            None => views::Attempt::default(),
        }
    };
    let nav = navigation(&t, &draft, &open.app, &place);
    let mut shown = views::page(&p, &t, &open, attempt, &nav, lang);
    // A reload of a step with errors is still a successful GET.
    if shown.status() == StatusCode::UNPROCESSABLE_ENTITY {
        *shown.status_mut() = StatusCode::OK;
    }
    Ok(shown)
}

/// The URLs of a page: where its form posts, where "Zurück" leads, the page itself.
fn navigation(t: &Tenant, draft: &str, app: &Application, place: &Place) -> views::Nav {
    let here = match place {
        Place::Current => Place::of(app),
        other => other.clone(),
    };
    let back = match &here {
        Place::Change(_) => Some(Place::Review),
        Place::Step(s) => {
            let i = app.route.iter().position(|r| r == s).unwrap_or(0);
            (i > 0).then(|| Place::Step(app.route[i - 1].clone()))
        }
        Place::Review => app.route.last().cloned().map(Place::Step),
        Place::Current => None,
    };
    views::Nav {
        here: here.url(&t.slug, draft),
        back: back.map(|b| b.url(&t.slug, draft)),
        change_base: format!("/{}/antrag/{draft}/aendern", t.slug),
    }
}

pub(crate) async fn show_draft(
    PortalTenant(t): PortalTenant,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
) -> Response {
    let to = Place::of(&open.app).url(&t.slug, &open.draft.id.to_string());
    Redirect::to(&keep_lang(to, query.as_deref())).into_response()
}

pub(crate) async fn show_step(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, _, step)): Path<(String, String, String)>,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
) -> PageResult {
    show(p, lang, t, open, Place::Step(step), query).await
}

pub(crate) async fn show_change(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, _, step)): Path<(String, String, String)>,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
) -> PageResult {
    show(p, lang, t, open, Place::Change(step), query).await
}

pub(crate) async fn show_review(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
) -> PageResult {
    show(p, lang, t, open, Place::Review, query).await
}

pub(crate) async fn post_draft(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
    req: axum::extract::Request,
) -> PageResult {
    post(p, lang, t, open, Place::Current, req, query).await
}

pub(crate) async fn post_step(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, _, step)): Path<(String, String, String)>,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
    req: axum::extract::Request,
) -> PageResult {
    post(p, lang, t, open, Place::Step(step), req, query).await
}

pub(crate) async fn post_change(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, _, step)): Path<(String, String, String)>,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
    req: axum::extract::Request,
) -> PageResult {
    post(p, lang, t, open, Place::Change(step), req, query).await
}

pub(crate) async fn post_review(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    PortalDraft(open): PortalDraft,
    RawQuery(query): RawQuery,
    req: axum::extract::Request,
) -> PageResult {
    post(p, lang, t, open, Place::Review, req, query).await
}

/// A form post on the page at `place`: answer the step, add or remove an entry (or undo a
/// removal), go back, or send the application. Answers are redirected (303) to the page where
/// the application then stands; a refused step is shown again at its own URL with its errors.
async fn post(
    p: Shared,
    lang: Lang,
    t: Arc<Tenant>,
    open: Box<OpenDraft>,
    place: Place,
    req: axum::extract::Request,
    query: Option<String>,
) -> PageResult {
    let page = PageContext::new(&p, t.clone(), lang);
    let to = |url: String| Redirect::to(&keep_lang(url, query.as_deref())).into_response();
    let open = *open;
    // The step this form belongs to: the URL's, or (old form URL) where the application stands.
    let step_id = match &place {
        Place::Step(s) | Place::Change(s) => s.clone(),
        Place::Current | Place::Review => open.app.current_step().unwrap_or_default().to_string(),
    };
    let csrf = p.token(&format!("draft:{}", open.draft.id));
    let limits = attach::limits(open.wf.step(&step_id).filter(|_| place != Place::Review));
    let posted = match step_post::read(req, &csrf, &limits, &p.spool).await {
        Ok(posted) => posted,
        Err(step_post::Unread::Forbidden) => return Err(page.fail(PageError::Forbidden)),
        Err(step_post::Unread::Rejected(r)) => return Ok(r),
    };
    let pairs = posted.pairs;
    if field(&pairs, "_csrf") != Some(csrf.as_str()) {
        return Err(page.fail(PageError::Forbidden));
    }
    let draft = open.draft.id.to_string();
    let here_url = place.url(&t.slug, &draft);
    // Another tab saved in between: show the current state instead of overwriting it.
    let Some(revision) = field(&pairs, "_rev").and_then(|r| r.parse::<u64>().ok()) else {
        return Ok(to(here_url));
    };
    let action = field(&pairs, "_action").unwrap_or("weiter").to_string();
    // The files of the step's file fields after this post (uploads judged and kept).
    let attached = match open.wf.step(&step_id).filter(|_| place != Place::Review) {
        Some(step) => attach::attach(&p, &t, &open, step, &action, posted.files, lang)
            .await
            .map_err(|e| page.fail(crate::service::ServiceError::Interrupted(e)))?,
        None => attach::Attached::default(),
    };
    let upload_errors = attached.errors;
    let uploaded = attached.uploaded;
    // Uploading, removing a file or a refused upload keeps the citizen on the step, with
    // everything typed kept in the draft.
    let file_action = action == "upload" || action.starts_with("removefile:");
    let action = if file_action || !upload_errors.is_empty() {
        "keep".to_string()
    } else {
        action
    };
    let (command, stay) = match command_of(
        &t,
        &open,
        &place,
        &step_id,
        &action,
        &pairs,
        attached.values,
    ) {
        Ok(asked) => asked,
        Err(url) => return Ok(to(url)),
    };
    let now = p.now();
    // Messages come in the language the citizen reads now.
    let acted = match run_command(&p, t.clone(), open, revision, Some(lang), command, now).await {
        Ok(acted) => acted,
        // A command the engine refuses now (`goto:` a step off the route, answers for fields
        // the step does not have) comes from a forged or outdated form: the current step again,
        // as for a stale revision, rather than an error page.
        Err(e) if e.is_refusal() => return Ok(to(here_url)),
        Err(e) => return Err(page.fail(e)),
    };
    if uploaded > 0 {
        crate::http::run::durable(&p)
            .await
            .map_err(|e| page.fail(crate::service::ServiceError::Interrupted(e)))?;
    }
    Ok(match acted {
        // What was typed is kept in the draft with its errors: the step's own URL shows them,
        // so a reload or Back never re-posts the form.
        Acted::Rejected { step, .. } => {
            let shown = match place {
                // A declaration not ticked: the review again, with its errors.
                _ if step == lotse_core::definition::REVIEW => Place::Review,
                Place::Change(_) => Place::Change(step),
                _ => Place::Step(step),
            };
            to(shown.url(&t.slug, &draft))
        }
        Acted::Submitted { submission, .. } => {
            Redirect::to(&format!("/{}/eingang/{}", t.slug, submission.id)).into_response()
        }
        Acted::AlreadySubmitted { submission } => {
            Redirect::to(&format!("/{}/eingang/{submission}", t.slug)).into_response()
        }
        // Kept as "payment pending": on to the payment's page, which links to the platform's
        // pay page (a form may only lead to the portal itself: `form-action 'self'`).
        Acted::PaymentRequired { payment, .. } => {
            Redirect::to(&format!("/{}/zahlung/{payment}", t.slug)).into_response()
        }
        // A refused upload: the step again with the refusal at its field (the rest of what
        // was typed is kept in the draft).
        Acted::Saved(mut open) if !upload_errors.is_empty() => {
            open.app.position = Position::Step(step_id.clone());
            let values = open.app.typed_on(&step_id).map(|t| t.values.clone());
            let nav = navigation(&t, &draft, &open.app, stay.as_ref().unwrap_or(&place));
            let attempt = views::Attempt {
                values,
                errors: upload_errors,
                removed: None,
            };
            views::page(&p, &t, &open, attempt, &nav, lang)
        }
        Acted::Saved(open) | Acted::Incomplete { open, .. } => to(stay
            .unwrap_or_else(|| Place::of(&open.app))
            .url(&t.slug, &draft)),
        Acted::Stale { .. } => to(here_url),
    })
}

/// The command a step's form asks for with its button (`_action`), and where a command that keeps
/// the citizen on the page leads back to; or, as `Err`, the address to send the citizen to instead
/// (a posted "Zurück" or change link, or a form for a step the application does not reach).
fn command_of(
    t: &Tenant,
    open: &OpenDraft,
    place: &Place,
    step_id: &str,
    action: &str,
    pairs: &[(String, String)],
    attached: serde_json::Map<String, serde_json::Value>,
) -> Result<(Command, Option<Place>), String> {
    let draft = open.draft.id.to_string();
    let here_url = place.url(&t.slug, &draft);
    let mut stay: Option<Place> = None;
    let command = if action == "zurueck" {
        // Without JavaScript "Zurück" is a link; a posted one (an older page) still works.
        let nav = navigation(t, &draft, &open.app, place);
        if let Some(back) = nav.back.filter(|_| *place != Place::Current) {
            return Err(back);
        }
        Command::Back
    } else if let Some(step) = action.strip_prefix("goto:") {
        if *place == Place::Review {
            return Err(Place::Change(step.to_string()).url(&t.slug, &draft));
        }
        Command::Goto {
            step: step.to_string(),
        }
    } else if action == "absenden" {
        // The statements of the declaration ticked on the review page.
        let declared = pairs
            .iter()
            .filter(|(k, _)| k == "_declare")
            .map(|(_, v)| v.clone())
            .collect();
        Command::Submit { declared }
    } else if action.starts_with("add:")
        || action.starts_with("remove:")
        || action == "undo"
        || action == "keep"
    {
        // Adding or removing an entry of a repeatable group keeps the posted values in the
        // draft, unchecked, and shows the step again from there (Post/Redirect/Get); nothing
        // is answered until the step is sent. A removal can be undone from the draft.
        let Some(step) = open
            .wf
            .step(step_id)
            .filter(|_| reachable(&open.app, step_id))
        else {
            return Err(here_url);
        };
        let mut values = lotse_core::form::answers_from_pairs(step, pairs);
        values.extend(attached);
        let removed = if action == "keep" {
            None
        } else if action == "undo" {
            let removed = open.app.typed_on(step_id).and_then(|t| t.removed.as_ref());
            form::undo_removal(step, &mut values, removed);
            None
        } else {
            let rest = action.split_once(':').map(|(_, r)| r).unwrap_or_default();
            form::change_items(step, &mut values, action, rest)
        };
        stay = Some(match place {
            Place::Current | Place::Review => Place::Step(step_id.to_string()),
            other => other.clone(),
        });
        Command::Keep {
            step: step_id.to_string(),
            values,
            removed,
        }
    } else {
        let Some(step) = open.wf.step(step_id) else {
            return Err(here_url);
        };
        let mut values = lotse_core::form::answers_from_pairs(step, pairs);
        values.extend(attached);
        crate::identity::prefill::enforce(&open.wf, &open.app, &mut values);
        Command::Answer {
            step: step.id.clone(),
            values,
            then_review: matches!(place, Place::Change(_)) || complete(&open.app),
        }
    };
    Ok((command, stay))
}

pub(crate) async fn show_submission(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    // The status timeline, messages and the answer to a Rückfrage: portal/status.rs.
    status::page(&p, &t, &id, lang, None).await
}

pub(crate) async fn receipt_pdf(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    PortalTenant(t): PortalTenant,
    Path((_, id)): Path<(String, String)>,
) -> Response {
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return not_found(&p, Some(&t), lang);
    };
    let p2 = p.clone();
    let slug = t.slug.clone();
    match blocking(move || p2.service(&p2.defs()).receipt_of(&slug, &sid)).await {
        Ok(Some((reference, pdf))) => pdf_download(&reference, pdf),
        Ok(None) => not_found(&p, Some(&t), lang),
        Err(e) => server_error(&p, &t, &e, lang),
    }
}
