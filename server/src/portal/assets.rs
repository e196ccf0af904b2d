//! The stylesheet, the reveal script and each tenant's colours.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[allow(unused_imports)]
use super::{form, status, views};
use crate::tenants::{self};

pub(crate) async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/lotse.css"),
    )
}

/// The one script of the portal: it reveals conditional fields as the citizen answers. Every
/// page works without it.
pub(crate) async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/lotse.js"),
    )
}

pub(crate) async fn tenant_css(Path(file): Path<String>) -> Response {
    let slug = file.strip_suffix(".css").unwrap_or("");
    match tenants::find(slug) {
        Some(t) => (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            format!(":root {{ --brand: {}; }}\n", t.colour),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
