//! The engine in the browser (docs/browser-engine.md): the core built for WebAssembly
//! (`lotse-wasm`, by `scripts/wasm/build.sh`), the script that runs it on a step page, and per
//! workflow version the sources the module compiles it from. Everything is an enhancement: a
//! portal without the module, a browser without JavaScript or WebAssembly, or a module that
//! fails to load leave the pages exactly as they are, and the server decides every post.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::{Application, Workflow};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::state::Shared;

/// Where `scripts/wasm/build.sh` leaves the module, below the project folder.
pub const DEFAULT_MODULE: &str = "target/wasm/lotse_wasm.wasm";

/// Files cached for a year: their addresses carry their content's hash.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The module, loaded once at start.
#[derive(Debug)]
pub struct BrowserEngine {
    wasm: Arc<[u8]>,
    /// The module gzip-compressed: begun on a thread of its own at start (some seconds for the
    /// best level in a debug build), so the start is not held up; asked for, it is waited for.
    gzip: Arc<OnceLock<Arc<[u8]>>>,
    /// The module brotli-compressed, as `scripts/wasm/build.sh` leaves it beside the module
    /// (`lotse_wasm.wasm.br`), if it is there ...
    brotli_file: Option<Arc<[u8]>>,
    /// ... and once checked (on the same thread) to decompress to exactly the module: `None`
    /// when it does not (a module built again without brotli), and then gzip is sent.
    brotli: Arc<OnceLock<Option<Arc<[u8]>>>>,
    /// The first 16 hex digits of the module's SHA-256: its address.
    hash: String,
    /// The workflow route's answers by content hash: a version's sources never change, so each
    /// is read from YAML once (at most [`SOURCES_KEPT`] are kept; more empty the cache).
    sources: Mutex<HashMap<String, Bytes>>,
}

/// How many workflow versions' answers [`BrowserEngine`] keeps.
const SOURCES_KEPT: usize = 256;

impl BrowserEngine {
    /// The module at `path`, or at [`DEFAULT_MODULE`] below `project`; `None` (the portal runs
    /// without it) when there is none. A module that is there but unreadable or not
    /// WebAssembly is an error.
    pub fn load(path: Option<&Path>, project: &Path) -> anyhow::Result<Option<BrowserEngine>> {
        let (file, explicit): (PathBuf, bool) = match path {
            Some(p) if p.as_os_str().is_empty() => return Ok(None),
            Some(p) => (p.to_path_buf(), true),
            None => (project.join(DEFAULT_MODULE), false),
        };
        if !explicit && !file.is_file() {
            return Ok(None);
        }
        let wasm = std::fs::read(&file)
            .map_err(|e| anyhow::anyhow!("[browser_engine] module {}: {e}", file.display()))?;
        if !wasm.starts_with(b"\0asm") {
            anyhow::bail!(
                "[browser_engine] module {} is not a WebAssembly module",
                file.display()
            );
        }
        let digest = Sha256::digest(&wasm);
        let hash: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
        let mut br_name = file.clone().into_os_string();
        br_name.push(".br");
        let engine = BrowserEngine {
            wasm: wasm.into(),
            gzip: Arc::new(OnceLock::new()),
            brotli_file: std::fs::read(PathBuf::from(br_name)).ok().map(Arc::from),
            brotli: Arc::new(OnceLock::new()),
            hash,
            sources: Mutex::new(HashMap::new()),
        };
        let (wasm, gzip) = (engine.wasm.clone(), engine.gzip.clone());
        let (file, brotli) = (engine.brotli_file.clone(), engine.brotli.clone());
        std::thread::Builder::new()
            .name("lotse-engine-gzip".into())
            .spawn(move || {
                checked_brotli(&brotli, file.as_ref(), &wasm);
                gzipped(&gzip, &wasm);
            })?;
        Ok(Some(engine))
    }

    /// The module's address.
    pub fn url(&self) -> String {
        format!("/static/engine/{}.wasm", self.hash)
    }

    /// Sizes of the module as sent: plain and gzip-compressed.
    pub fn sizes(&self) -> (usize, usize) {
        (self.wasm.len(), gzipped(&self.gzip, &self.wasm).len())
    }
}

/// The module gzip-compressed, made once; waits while another thread (the one begun at start)
/// is making it.
fn gzipped(cell: &OnceLock<Arc<[u8]>>, wasm: &[u8]) -> Arc<[u8]> {
    cell.get_or_init(|| compress(wasm)).clone()
}

/// The brotli file beside the module if it decompresses to exactly the module; checked once,
/// waits while another thread is checking it.
fn checked_brotli(
    cell: &OnceLock<Option<Arc<[u8]>>>,
    file: Option<&Arc<[u8]>>,
    wasm: &[u8],
) -> Option<Arc<[u8]>> {
    cell.get_or_init(|| {
        let file = file?;
        let same = decompresses_to(file, wasm);
        if !same {
            tracing::warn!(
                event = "engine_brotli_stale",
                cause = "the .br file beside the module is not the module compressed; gzip is sent"
            );
        }
        same.then(|| file.clone())
    })
    .clone()
}

/// Whether `br` is `expected` brotli-compressed (reading at most one byte more than that).
fn decompresses_to(br: &[u8], expected: &[u8]) -> bool {
    let mut out = Vec::with_capacity(expected.len());
    let limit = u64::try_from(expected.len())
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    let read = brotli_decompressor::Decompressor::new(br, 1 << 16)
        .take(limit)
        .read_to_end(&mut out);
    read.is_ok() && out == expected
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

/// `bytes` gzip-compressed at the best level (writing into memory cannot fail).
fn compress(bytes: &[u8]) -> Arc<[u8]> {
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(bytes.len() / 3),
        flate2::Compression::best(),
    );
    let written = gz.write_all(bytes).and_then(|()| gz.finish());
    match written {
        Ok(gzip) => gzip.into(),
        Err(_) => Arc::from(&[][..]),
    }
}

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
        now: now_text(p)?,
        state: script_safe(&state),
    })
}

/// Where a workflow version's sources are served (see [`workflow`]).
pub(crate) fn workflow_url(tenant: &str, wf: &Workflow) -> String {
    format!(
        "/{tenant}/engine/{}.json",
        wf.content_hash.trim_start_matches("sha256:")
    )
}

/// The portal's time now, as the module takes it (RFC 3339).
pub(crate) fn now_text(p: &crate::state::AppState) -> Option<String> {
    p.now()
        .format(&time::format_description::well_known::Rfc3339)
        .ok()
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

impl BrowserEngine {
    /// The workflow route's answer for `wf`: its content hash and its sources, the workflow
    /// file and its override as JSON values (the module has no YAML parser). Made once per
    /// version; `None` when the sources cannot be read as JSON.
    fn sources_json(&self, wf: &Workflow) -> Option<Bytes> {
        let kept = |c: &HashMap<String, Bytes>| c.get(&wf.content_hash).cloned();
        if let Some(body) = self.sources.lock().ok().as_deref().and_then(kept) {
            return Some(body);
        }
        let sources = wf.sources.parsed().ok()?;
        let body = Bytes::from(
            serde_json::json!({
                "content_hash": wf.content_hash,
                "sources": sources,
            })
            .to_string(),
        );
        if let Ok(mut cache) = self.sources.lock() {
            if cache.len() >= SOURCES_KEPT {
                cache.clear();
            }
            cache.insert(wf.content_hash.clone(), body.clone());
        }
        Some(body)
    }
}
