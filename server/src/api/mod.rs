//! The JSON API (/api/v1) for other front ends: the same engine, the same store and the same
//! rules as the HTML assistant. Every error is RFC 9457 problem+json with a stable code
//! (`LOT-H…`, docs/errors.md); the document at /api/v1/openapi.json describes every route.
//!
//! The draft id in the path is the citizen's capability (about 128 unguessable bits, see
//! docs/store.md, "Drafts"), as in the HTML assistant. Bodies must be `application/json`: a
//! cross-site HTML form cannot send that without the browser asking first, which is this API's
//! CSRF protection (no cookies are used).

mod applications;
mod engine;
pub(crate) mod files;
pub mod openapi;
mod payments;
mod problem;
mod services;
mod views;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post, put};
use lotse_core::application::{ApplyError, Position, ReviewView};
use lotse_core::definition::{Field, FieldHint, Hint, Required, Widget};
use lotse_core::form::FieldError;
use lotse_core::{Command, Lang, Workflow};
use lotse_store::{StatusStore, StoreError, SubmissionId, SubmissionStore, resume_draft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::http::extractors::ClientKey;
use crate::http::pages::pdf_download;
use crate::http::run::{act, blocking, draft_work, open_draft};
use crate::service::{Acted, OpenDraft, Opened, ServiceError};
use crate::state::{Defs, Shared, offered};
use crate::telemetry::bump;
use crate::tenants::Tenant;

use applications::*;
use payments::*;
pub use problem::problems_everywhere;
use problem::*;
use services::*;
use views::*;

/// The routes below /api/v1 (state is the portal); `openapi` is the document to serve
/// ([`crate::openapi::document`], made above this front end).
pub fn routes<S>(openapi: &'static str) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Shared: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/openapi.json", get(move || serve_openapi(openapi)))
        .route("/tenants", get(list_tenants))
        .route("/tenants/{tenant}/services", get(list_services))
        .route("/tenants/{tenant}/lebenslagen", get(list_lebenslagen))
        .route("/tenants/{tenant}/services/{service}", get(get_service))
        .route(
            "/tenants/{tenant}/services/{service}/schema",
            get(service_schema),
        )
        .route(
            "/tenants/{tenant}/services/{service}/applications",
            post(start),
        )
        .route("/tenants/{tenant}/resume", post(resume))
        .route("/tenants/{tenant}/applications/{id}", get(read_application))
        .route(
            "/tenants/{tenant}/applications/{id}/steps/{step}",
            put(answer),
        )
        .route(
            "/tenants/{tenant}/applications/{id}/steps/{step}/evaluate",
            post(evaluate),
        )
        .route(
            "/tenants/{tenant}/applications/{id}/steps/{step}/files/{field}",
            post(files::upload),
        )
        .route(
            "/tenants/{tenant}/applications/{id}/steps/{step}/files/{field}/{sha256}",
            delete(files::remove),
        )
        .route(
            "/tenants/{tenant}/applications/{id}/engine",
            get(engine::engine),
        )
        .route("/tenants/{tenant}/applications/{id}/back", post(back))
        .route("/tenants/{tenant}/applications/{id}/goto", post(goto))
        .route("/tenants/{tenant}/applications/{id}/review", post(review))
        .route("/tenants/{tenant}/applications/{id}/submit", post(submit))
        .route("/tenants/{tenant}/payments/{id}", get(read_payment))
        .route("/tenants/{tenant}/payments/{id}/pay", post(pay))
        .route("/tenants/{tenant}/submissions/{id}", get(read_submission))
        .route("/tenants/{tenant}/submissions/{id}/receipt", get(receipt))
        .fallback(|| async { Problem::not_found("Diese Adresse", "This resource") })
}

/// The OpenAPI 3.1 document, generated from the API's types (see [`openapi`]).
async fn serve_openapi(document: &'static str) -> Response {
    let mut r = document.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
