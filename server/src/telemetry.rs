//! Logs and metrics: structured log lines without personal data, request counting and timing,
//! the Prometheus exposition, and health probes.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_core::{Clock, SystemClock};
use lotse_store::{DraftId, DraftStore, OsEntropy};
use serde_json::{Value, json};

use crate::state::Shared;

/// Counters for /metrics (Prometheus text format). No personal data, no ids.
#[derive(Default)]
pub struct Metrics {
    pub(crate) requests: std::sync::atomic::AtomicU64,
    pub(crate) server_errors: std::sync::atomic::AtomicU64,
    pub(crate) drafts_started: std::sync::atomic::AtomicU64,
    pub(crate) steps_answered: std::sync::atomic::AtomicU64,
    pub(crate) steps_rejected: std::sync::atomic::AtomicU64,
    pub(crate) submissions: std::sync::atomic::AtomicU64,
}

/// One structured log line (JSON) on stderr. Only codes, route templates, tenants and counts go
/// in: never answers, names or the secret ids in draft links.
pub fn log(level: &str, event: &str, fields: &[(&str, Value)]) {
    let ts = SystemClock
        .now()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let mut line = serde_json::Map::new();
    line.insert("ts".into(), json!(ts));
    line.insert("level".into(), json!(level));
    line.insert("event".into(), json!(event));
    for (k, v) in fields {
        line.insert((*k).into(), v.clone());
    }
    // One write per line: stderr is unbuffered, and formatting straight into it cost one system
    // call per JSON token (a sixth of a step answer's time under load).
    let mut text = Value::Object(line).to_string();
    text.push('\n');
    use std::io::Write as _;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

pub(crate) fn bump(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

pub(crate) async fn count(
    State(p): State<Shared>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    bump(&p.metrics.requests);
    // The route template, not the path: paths carry the secret ids of drafts.
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let method = req.method().to_string();
    let started = std::time::Instant::now();
    let res = next.run(req).await;
    log(
        "info",
        "request",
        &[
            ("method", json!(method)),
            ("route", json!(route)),
            ("status", json!(res.status().as_u16())),
            (
                "ms",
                json!((started.elapsed().as_secs_f64() * 1000.0 * 100.0).round() / 100.0),
            ),
        ],
    );
    if res.status().is_server_error() {
        bump(&p.metrics.server_errors);
    }
    res
}

/// Ready when the store answers.
pub(crate) async fn readyz(State(p): State<Shared>) -> Response {
    let p2 = p.clone();
    let probe = "00000000000000000000000000000000".parse::<DraftId>();
    let ok = match probe {
        Ok(id) => matches!(
            tokio::task::spawn_blocking(move || p2.store.draft(&id)).await,
            Ok(Ok(_))
        ),
        Err(_) => false,
    };
    if ok {
        (StatusCode::OK, "ready").into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "store not ready").into_response()
    }
}

pub(crate) async fn metrics(State(p): State<Shared>) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    let m = &p.metrics;
    let body = format!(
        "# HELP lotse_http_requests_total HTTP requests served.\n# TYPE lotse_http_requests_total counter\nlotse_http_requests_total {}\n\
         # HELP lotse_http_server_errors_total Responses with a 5xx status.\n# TYPE lotse_http_server_errors_total counter\nlotse_http_server_errors_total {}\n\
         # HELP lotse_drafts_started_total Applications started.\n# TYPE lotse_drafts_started_total counter\nlotse_drafts_started_total {}\n\
         # HELP lotse_steps_answered_total Steps accepted.\n# TYPE lotse_steps_answered_total counter\nlotse_steps_answered_total {}\n\
         # HELP lotse_steps_rejected_total Steps sent back with field errors.\n# TYPE lotse_steps_rejected_total counter\nlotse_steps_rejected_total {}\n\
         # HELP lotse_submissions_total Durable submissions.\n# TYPE lotse_submissions_total counter\nlotse_submissions_total {}\n",
        m.requests.load(Relaxed),
        m.server_errors.load(Relaxed),
        m.drafts_started.load(Relaxed),
        m.steps_answered.load(Relaxed),
        m.steps_rejected.load(Relaxed),
        m.submissions.load(Relaxed),
    );
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

pub(crate) fn getrandom_fill(buf: &mut [u8]) -> anyhow::Result<()> {
    use lotse_store::Entropy;
    OsEntropy
        .fill_bytes(buf)
        .map_err(|e| anyhow::anyhow!("no randomness: {e}"))
}
