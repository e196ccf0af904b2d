//! The engine in the browser on the portal (docs/browser-engine.md): the module, the script
//! that runs it on a step page and per workflow version the sources the module compiles it
//! from, and the engine's part of a step page. Everything is an enhancement: a portal without
//! the module, a browser without JavaScript or WebAssembly, or a module that fails to load
//! leave the pages exactly as they are, and the server decides every post.

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::{Application, Workflow};
use serde::Serialize;

use crate::browser_engine::{IMMUTABLE, checked_brotli, gzipped, now_text, workflow_url};
use crate::state::Shared;

/// What a step page needs to run the engine: the attributes of its form and the state.
#[derive(Serialize)]
pub(super) struct EngineView {
    module: String,
    workflow: String,
    content_hash: String,
    /// The server's time when the page was made (the page counts on from there).
    now: String,
    /// The application's state as JSON, safe inside a `<script type="application/json">`.
    state: String,
}

/// The engine's part of a step page, when the portal has the module.
pub(super) fn view(
    p: &crate::state::AppState,
    tenant: &str,
    wf: &Workflow,
    app: &Application,
) -> Option<EngineView> {
    let engine = p.engine.as_ref()?;
    let state = serde_json::to_string(app).ok()?;
    Some(EngineView {
        module: engine.url(),
        workflow: workflow_url(tenant, wf),
        content_hash: wf.content_hash.clone(),
        now: now_text(p.now())?,
        state: script_safe(&state),
    })
}

/// JSON that cannot end its `<script>` element or open a comment: `<`, `>` and `&` (only ever
/// inside strings) written as escapes, and the two line separators JavaScript once rejected.
fn script_safe(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// `GET /static/engine/{hash}.wasm`: the module, compressed where the browser accepts it:
/// brotli (when the build left it) or gzip.
pub(crate) async fn module(
    State(p): State<Shared>,
    UrlPath(file): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    let Some(engine) = p.engine.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if file.strip_suffix(".wasm") != Some(engine.hash.as_str()) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let common = [
        (header::CONTENT_TYPE, "application/wasm"),
        (header::CACHE_CONTROL, IMMUTABLE),
        (header::VARY, "accept-encoding"),
    ];
    // Brotli where the browser takes it and the build left it (about a third smaller than gzip).
    if engine.brotli_file.is_some() && accepts(&headers, "br") {
        let (wasm, cell, file) = (
            engine.wasm.clone(),
            engine.brotli.clone(),
            engine.brotli_file.clone(),
        );
        let checked =
            tokio::task::spawn_blocking(move || checked_brotli(&cell, file.as_ref(), &wasm)).await;
        if let Ok(Some(br)) = checked {
            return (
                common,
                [(header::CONTENT_ENCODING, "br")],
                axum::body::Bytes::from_owner(br),
            )
                .into_response();
        }
    }
    if accepts(&headers, "gzip") {
        let (wasm, cell) = (engine.wasm.clone(), engine.gzip.clone());
        let gzip = match tokio::task::spawn_blocking(move || gzipped(&cell, &wasm)).await {
            Ok(gzip) if !gzip.is_empty() => gzip,
            _ => {
                return (common, axum::body::Bytes::from_owner(engine.wasm.clone()))
                    .into_response();
            }
        };
        (
            common,
            [(header::CONTENT_ENCODING, "gzip")],
            axum::body::Bytes::from_owner(gzip),
        )
            .into_response()
    } else {
        (common, axum::body::Bytes::from_owner(engine.wasm.clone())).into_response()
    }
}

/// `GET /static/lotse-engine.js`: loads the module and runs it on a step page.
pub(crate) async fn script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/lotse-engine.js"),
    )
}

/// `GET /{tenant}/engine/{hash}.json`: the sources of a workflow version this tenant runs
/// (by its content hash), the workflow file and its override parsed, for the module to compile.
pub(crate) async fn workflow(
    State(p): State<Shared>,
    UrlPath((tenant, file)): UrlPath<(String, String)>,
) -> Response {
    let Some(hex) = file.strip_suffix(".json") else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(engine) = p.engine.as_ref() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if p.tenant(&tenant).is_none() {
        return StatusCode::NOT_FOUND.into_response();
    }
    let hash = format!("sha256:{hex}");
    let defs = p.defs();
    let lib = &defs.library;
    let found = lib
        .all()
        .chain(lib.tenant_variants())
        .find(|w| w.content_hash == hash)
        // Only what this tenant runs: its own variant, or the workflow as written where it
        // has none (or for a draft started before its override).
        .filter(|w| w.tenant.is_none() || w.tenant.as_deref() == Some(tenant.as_str()));
    let Some(wf) = found else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(body) = engine.sources_json(wf) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, IMMUTABLE),
        ],
        body,
    )
        .into_response()
}

/// Whether the request accepts the content coding `coding` (`Accept-Encoding`; `q=0` refuses).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(coding) && !refused
        })
}
