//! The engine in the browser (docs/browser-engine.md), what the front ends share of it: the
//! module built by `scripts/wasm/build.sh` (`lotse-wasm`), loaded once and kept compressed, the
//! address of a workflow version's sources and their JSON, and the time the module counts on
//! from. The portal serves the module, the script and the sources and puts the engine on its
//! step pages (`portal/engine.rs`); the JSON API tells other front ends where they are
//! (`api/engine.rs`).

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::body::Bytes;
use lotse_core::Workflow;
use sha2::{Digest, Sha256};

/// Where `scripts/wasm/build.sh` leaves the module, below the project folder.
pub const DEFAULT_MODULE: &str = "target/wasm/lotse_wasm.wasm";

/// Files cached for a year: their addresses carry their content's hash.
pub(crate) const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The module, loaded once at start.
#[derive(Debug)]
pub struct BrowserEngine {
    pub(crate) wasm: Arc<[u8]>,
    /// The module gzip-compressed: begun on a thread of its own at start (some seconds for the
    /// best level in a debug build), so the start is not held up; asked for, it is waited for.
    pub(crate) gzip: Arc<OnceLock<Arc<[u8]>>>,
    /// The module brotli-compressed, as `scripts/wasm/build.sh` leaves it beside the module
    /// (`lotse_wasm.wasm.br`), if it is there ...
    pub(crate) brotli_file: Option<Arc<[u8]>>,
    /// ... and once checked (on the same thread) to decompress to exactly the module: `None`
    /// when it does not (a module built again without brotli), and then gzip is sent.
    pub(crate) brotli: Arc<OnceLock<Option<Arc<[u8]>>>>,
    /// The first 16 hex digits of the module's SHA-256: its address.
    pub(crate) hash: String,
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
pub(crate) fn gzipped(cell: &OnceLock<Arc<[u8]>>, wasm: &[u8]) -> Arc<[u8]> {
    cell.get_or_init(|| compress(wasm)).clone()
}

/// The brotli file beside the module if it decompresses to exactly the module; checked once,
/// waits while another thread is checking it.
pub(crate) fn checked_brotli(
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

/// Where a workflow version's sources are served (`portal::engine::workflow`).
pub(crate) fn workflow_url(tenant: &str, wf: &Workflow) -> String {
    format!(
        "/{tenant}/engine/{}.json",
        wf.content_hash.trim_start_matches("sha256:")
    )
}

/// The portal's time `now`, as the module takes it (RFC 3339).
pub(crate) fn now_text(now: time::OffsetDateTime) -> Option<String> {
    now.format(&time::format_description::well_known::Rfc3339)
        .ok()
}

impl BrowserEngine {
    /// The workflow route's answer for `wf`: its content hash and its sources, the workflow
    /// file and its override as JSON values (the module has no YAML parser). Made once per
    /// version; `None` when the sources cannot be read as JSON.
    pub(crate) fn sources_json(&self, wf: &Workflow) -> Option<Bytes> {
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
