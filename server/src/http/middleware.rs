//! Middleware of every route: security headers and the cross-site check, the client's address,
//! the limits of body and time (called in turn by `startup::edge`, one middleware for these
//! and the API's problem documents), and the designers' preview gate that shows definition
//! errors instead of pages.

use std::future::Future;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::Lang;

use crate::config::proxy::TrustedProxies;
use crate::http::cors::CorsOrigins;
use crate::http::extractors::ClientKey;
use crate::http::pages::{Layout, ProblemView, ProblemsPage};
use crate::state::Shared;

/// Who is asking, for the limits on guessing: the peer address, or the client address named
/// by a trusted reverse proxy (crate::config::proxy). A request without a peer address (the
/// router called in-process) counts as `unbekannt`.
pub(crate) fn client_address(
    proxies: &TrustedProxies,
    mut req: axum::extract::Request,
) -> axum::extract::Request {
    let client = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| proxies.client(c.0.ip(), req.headers()).to_string())
        .unwrap_or_else(|| "unbekannt".into());
    req.extensions_mut().insert(ClientKey(client));
    req
}

pub(crate) async fn security_headers<F, Fut>(
    cors: &CorsOrigins,
    req: axum::extract::Request,
    inner: F,
) -> Response
where
    F: FnOnce(axum::extract::Request) -> Fut,
    Fut: Future<Output = Response>,
{
    // Cross-site form posts are refused: the browser says where a request comes from. A
    // front end on an origin the configuration allows may call the citizen API (its bodies are
    // JSON, which needs the browser's preflight, and it uses no cookies).
    let allowed_api_call = req.uri().path().starts_with("/api/v1/tenants/")
        && cors.allows(req.headers().get(axum::http::header::ORIGIN));
    // The identity provider posts its answer from its own site (SAML HTTP-POST binding); the
    // answer is bound to the browser's sign-in by its own checks (crate::login).
    let provider_answer = req.uri().path() == "/konto/saml/acs";
    if req.method() == axum::http::Method::POST && !allowed_api_call && !provider_answer {
        let site = req
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        if matches!(site, Some("cross-site") | Some("same-site")) {
            return (
                StatusCode::FORBIDDEN,
                "Anfrage von einer fremden Seite abgelehnt.",
            )
                .into_response();
        }
    }
    let mut res = inner(req).await;
    let h = res.headers_mut();
    // Scripts only from the portal itself (the reveal script, /static/lotse.js): no inline
    // script, no eval. A response with a stricter policy of its own (a tenant's logo) keeps it.
    h.entry(header::CONTENT_SECURITY_POLICY)
        .or_insert(HeaderValue::from_static(CSP));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Pages and documents carry answers: no cache keeps them, unless a route says otherwise
    // (the stylesheet is cached for a day).
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// The pages' content security policy.
const CSP: &str = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The same policy with forms allowed to lead (by redirect) to `origin` as well: Mein Konto's
/// sign-out, which ends at the identity provider's logout (single logout).
pub(crate) fn csp_with_form_target(origin: &str) -> Option<HeaderValue> {
    let ok = origin
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ".:/-[]".contains(c));
    if !ok || origin.is_empty() {
        return None;
    }
    HeaderValue::from_str(&CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    ))
    .ok()
}

/// In `--dev` mode, definition errors replace every page of the assistant.
pub(crate) async fn dev_gate(
    State(p): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path();
    let exempt = [
        "/static/",
        "/healthz",
        "/readyz",
        "/metrics",
        "/sprache/",
        "/verwaltung/",
        "/api/v1/verwaltung/",
    ]
    .iter()
    .any(|x| path.starts_with(x));
    if p.dev && !exempt {
        let defs = p.defs();
        if !defs.problems.is_empty() {
            let t = path
                .trim_start_matches('/')
                .split('/')
                .next()
                .and_then(|slug| defs.portal.find(slug))
                .unwrap_or_else(|| defs.portal.root())
                .clone();
            let page = ProblemsPage {
                layout: Layout::new(&defs.portal, &t, "Fehler in den Definitionen", Lang::De),
                problems: defs.problems.iter().map(ProblemView::from).collect(),
            };
            let mut r = p.render(&page);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return r;
        }
    }
    next.run(req).await
}

/// The most bytes of a request body: 256 KiB, except where files are uploaded.
pub(crate) const BODY_LIMIT: usize = 256 * 1024;
/// Where files are uploaded (a step's form, the API's upload): the largest file a field may
/// allow (`files.max_mb` up to 50) twice, and the form around them. Each file is streamed to
/// the spool and cut off at its own field's limit; this bounds the request as a whole.
pub(crate) const UPLOAD_BODY_LIMIT: usize =
    2 * (lotse_core::files::MAX_MB_LIMIT as usize) * 1024 * 1024 + 1024 * 1024;
/// How long a request may take: 30 seconds, an upload 15 minutes (20 MB over a slow mobile
/// connection).
const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const UPLOAD_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Whether a request uploads files: a post of an application's page (a step with a file
/// field posts `multipart/form-data`) or the API's upload.
pub(crate) fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    if method != axum::http::Method::POST {
        return false;
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        // /{tenant}/antrag/{draft}[/...]
        [_, "antrag", _, ..] => true,
        // /api/v1/tenants/{tenant}/applications/{id}/steps/{step}/files/{field}
        [
            "api",
            "v1",
            "tenants",
            _,
            "applications",
            _,
            "steps",
            _,
            "files",
            _,
        ] => true,
        _ => false,
    }
}

/// The body limit and the time limit of each route (see [`is_upload`]): a body over the limit
/// is refused with 413 (by its declared length at once, else when it passes the limit), a
/// request over its time with 408.
pub(crate) async fn limits(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let upload = is_upload(req.method(), req.uri().path());
    let (limit, time) = if upload {
        (UPLOAD_BODY_LIMIT, UPLOAD_TIMEOUT)
    } else {
        (BODY_LIMIT, TIMEOUT)
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    }
    let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, limit)));
    match tokio::time::timeout(time, next.run(req)).await {
        Ok(res) => res,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}
