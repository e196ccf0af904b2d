//! The stylesheet, the reveal script and each tenant's colours.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

#[allow(unused_imports)]
use super::{form, status, views};
use crate::state::Shared;

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

pub(crate) async fn tenant_css(State(p): State<Shared>, Path(file): Path<String>) -> Response {
    let slug = file.strip_suffix(".css").unwrap_or("");
    match p.tenant(slug) {
        Some(t) => (
            [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
            format!(":root {{ --brand: {}; }}\n", t.colour),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A tenant's logo (checked when the portal loaded: no scripts, no external references), served
/// with a policy that would stop a script even if one got through.
pub(crate) async fn tenant_logo(State(p): State<Shared>, Path(file): Path<String>) -> Response {
    let slug = file.strip_suffix(".svg").unwrap_or("");
    match p.tenant(slug).and_then(|t| t.logo.clone()) {
        Some(svg) => (
            [
                (header::CONTENT_TYPE, "image/svg+xml"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    "default-src 'none'; style-src 'unsafe-inline'; sandbox",
                ),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            svg,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
