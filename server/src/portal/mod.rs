//! The citizen portal: the catalogue per tenant and the step-by-step assistant as
//! server-rendered HTML that works without JavaScript. Handlers turn a request into a call of the
//! application service and the result into a page.

mod about;
mod assets;
mod assistant;
mod attach;
mod catalogue;
mod catalogue_views;
mod dev;
pub(crate) mod engine;
mod extractors;
mod field_views;
mod form;
mod payment;
mod status;
mod step_post;
mod views;
mod visits;

/// The posts of an application's pages may carry files (a step with a file field): the
/// extractors' own 2 MB default does not apply there; `http::middleware::limits` bounds the
/// request, `step_post` each part.
fn uploads() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::disable()
}

use axum::Router;
use axum::handler::Handler;
use axum::routing::{get, post};

use crate::state::Shared;

/// The portal's routes (HTML).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Shared: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/", get(catalogue::home))
        .route("/leichte-sprache", get(about::leichte_sprache))
        .route("/gebaerdensprache", get(about::gebaerdensprache))
        .route("/probleme/{code}", get(about::problem_code))
        .route("/static/lotse.css", get(assets::css))
        .route("/static/lotse.js", get(assets::js))
        .route("/static/lotse-engine.js", get(engine::script))
        .route("/static/engine/{file}", get(engine::module))
        .route("/{tenant}/engine/{file}", get(engine::workflow))
        .route("/static/tenant/{file}", get(assets::tenant_css))
        .route("/static/logo/{file}", get(assets::tenant_logo))
        .route("/{tenant}", get(catalogue::catalogue))
        .route("/sprache/{lang}", get(catalogue::switch_language))
        .route("/{tenant}/fortsetzen", post(catalogue::resume))
        .route("/{tenant}/termine", get(visits::services))
        .route(
            "/{tenant}/termine/{service}",
            get(visits::service).post(visits::hold),
        )
        .route(
            "/{tenant}/termin/{visit}",
            get(visits::show).post(visits::act),
        )
        .route(
            "/{tenant}/termin/{visit}/verschieben",
            get(visits::move_page).post(visits::move_to),
        )
        .route("/{tenant}/termin/{visit}/termin.ics", get(visits::calendar))
        .route(
            "/{tenant}/leistung/{workflow}",
            get(catalogue::service).post(assistant::start),
        )
        .route(
            "/{tenant}/antrag/{draft}",
            get(assistant::show_draft).post(assistant::post_draft.layer(uploads())),
        )
        .route(
            "/{tenant}/antrag/{draft}/schritt/{step}",
            get(assistant::show_step).post(assistant::post_step.layer(uploads())),
        )
        .route(
            "/{tenant}/antrag/{draft}/aendern/{step}",
            get(assistant::show_change).post(assistant::post_change.layer(uploads())),
        )
        .route(
            "/{tenant}/antrag/{draft}/pruefen",
            get(assistant::show_review).post(assistant::post_review.layer(uploads())),
        )
        .route(
            "/{tenant}/eingang/{submission}",
            get(assistant::show_submission),
        )
        .route(
            "/{tenant}/eingang/{submission}/quittung.pdf",
            get(assistant::receipt_pdf),
        )
        .route(
            "/{tenant}/eingang/{submission}/antwort",
            post(status::answer),
        )
        .route(
            "/{tenant}/zahlung/{payment}",
            get(payment::show).post(payment::request),
        )
        .route(
            "/{tenant}/zahlung/{payment}/zurueck",
            get(payment::returned),
        )
        .route(
            "/{tenant}/zahlung/{payment}/benachrichtigung",
            post(payment::notified),
        )
        .route(
            "/{tenant}/vorschau/{workflow}/quittung.pdf",
            get(dev::receipt_preview),
        )
}
