//! Telemetry on the ecosystem's crates: `tracing` events with one span per request (JSON lines
//! on stderr: tracing-subscriber's registry and filter with a formatting layer of ours,
//! [`lines`], set up by [`init_logging`]), and `metrics` recorded
//! into a Prometheus recorder of each portal, rendered at `/metrics`. Health probes.
//!
//! No personal data goes into a field or a label: route templates (never paths, which carry the
//! secret ids of drafts), methods, statuses, codes, tenants and counts.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use lotse_store::{Entropy, OsEntropy};
use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Metadata, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use tracing::Instrument;
use tracing_subscriber::filter::Targets;

pub mod lines;

/// Upper bounds of the latency histograms, in seconds: from half a millisecond (a step answer
/// on sled) to ten seconds (a slow webhook).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

const METADATA: Metadata<'static> =
    Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

/// The portal's metrics: a Prometheus recorder of its own (tests build many portals in one
/// process; none shares a global), with the application's counters registered once.
pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    pub(crate) drafts_started: Counter,
    pub(crate) steps_answered: Counter,
    pub(crate) steps_rejected: Counter,
    pub(crate) submissions: Counter,
    panics: Counter,
    connections_refused: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let builder = PrometheusBuilder::new();
        // The buckets are constants; should they ever be refused, summaries are the fallback.
        let builder = builder
            .set_buckets(LATENCY_BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        for (name, help) in [
            (
                "lotse_http_requests_total",
                "HTTP requests answered, by route template, method and status.",
            ),
            (
                "lotse_http_refused_total",
                "Requests refused before a handler ran: cross-site (403), too slow (408), too large (413), too many (429).",
            ),
            (
                "lotse_panics_total",
                "Handlers that panicked (answered 500; the cause is in the log).",
            ),
            (
                "lotse_connections_refused_total",
                "Connections closed at once because connections.max were open.",
            ),
            ("lotse_drafts_started_total", "Applications started."),
            (
                "lotse_steps_answered_total",
                "Commands that moved an application on (steps accepted, back, review).",
            ),
            (
                "lotse_steps_rejected_total",
                "Steps sent back with field errors.",
            ),
            ("lotse_submissions_total", "Durable submissions."),
            (
                "lotse_deliveries_total",
                "Webhook delivery attempts, by outcome.",
            ),
            (
                "lotse_audit_refused_total",
                "Reads of a submission refused because the audit log did not take their entry, by what was to be read.",
            ),
        ] {
            recorder.describe_counter(KeyName::from(name), None, help.into());
        }
        for (name, help) in [
            (
                "lotse_http_request_duration_seconds",
                "Time to answer a request, by route template and method.",
            ),
            (
                "lotse_store_call_duration_seconds",
                "Time of the application service's store work, by call.",
            ),
        ] {
            recorder.describe_histogram(
                KeyName::from(name),
                Some(metrics::Unit::Seconds),
                help.into(),
            );
        }
        recorder.describe_gauge(
            KeyName::from("lotse_delivery_batch"),
            None,
            "Webhook deliveries taken up in the delivery worker's latest round (0 when the queue is empty).".into(),
        );
        recorder.describe_gauge(
            KeyName::from("lotse_connections_open"),
            None,
            "Connections being served now (at most `connections.max`).".into(),
        );
        recorder.describe_gauge(
            KeyName::from("lotse_delivery_queue"),
            None,
            "Webhook deliveries still to be made, by state: due now, or waiting for a retry or a running attempt.".into(),
        );
        let counter =
            |name: &'static str| recorder.register_counter(&Key::from_static_name(name), &METADATA);
        Metrics {
            drafts_started: counter("lotse_drafts_started_total"),
            steps_answered: counter("lotse_steps_answered_total"),
            steps_rejected: counter("lotse_steps_rejected_total"),
            submissions: counter("lotse_submissions_total"),
            panics: counter("lotse_panics_total"),
            connections_refused: counter("lotse_connections_refused_total"),
            recorder,
            handle,
        }
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn histogram(&self, name: &'static str, labels: Vec<Label>) -> Histogram {
        self.recorder
            .register_histogram(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str) -> Gauge {
        self.recorder
            .register_gauge(&Key::from_static_name(name), &METADATA)
    }

    /// One answered request: its latency by route and method, its count by status.
    pub fn request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let route = Label::new("route", route.to_string());
        let method = Label::new("method", method.to_string());
        self.histogram(
            "lotse_http_request_duration_seconds",
            vec![route.clone(), method.clone()],
        )
        .record(seconds);
        self.counter(
            "lotse_http_requests_total",
            vec![route, method, Label::new("status", status.to_string())],
        )
        .increment(1);
        if matches!(status, 403 | 408 | 413 | 429) {
            self.counter(
                "lotse_http_refused_total",
                vec![Label::new("status", status.to_string())],
            )
            .increment(1);
        }
    }

    /// A connection closed at once because the limit of open connections was reached.
    pub fn connection_refused(&self) {
        self.connections_refused.increment(1);
    }

    /// The number of open connections (served ones; refused ones are never counted).
    pub fn connections_open(&self, n: usize) {
        self.gauge("lotse_connections_open").set(n as f64);
    }

    /// The application service's store work of one call (`open`, `save`, `submit`, ...).
    pub fn store_call(&self, call: &'static str, seconds: f64) {
        self.histogram(
            "lotse_store_call_duration_seconds",
            vec![Label::new("call", call)],
        )
        .record(seconds);
    }

    /// One webhook delivery attempt with its outcome (`delivered`, `retry`, `failed`).
    pub fn delivery(&self, outcome: &'static str) {
        self.counter(
            "lotse_deliveries_total",
            vec![Label::new("outcome", outcome)],
        )
        .increment(1);
    }

    /// A read of a submission (`page`, `api`, `receipt`, `attachment`, `link`, `export`) that
    /// was refused because its audit entry could not be written.
    pub fn audit_refused(&self, what: &'static str) {
        self.counter("lotse_audit_refused_total", vec![Label::new("what", what)])
            .increment(1);
    }

    /// How many deliveries the worker took up in its latest round.
    pub fn delivery_batch(&self, n: usize) {
        self.gauge("lotse_delivery_batch").set(n as f64);
    }

    /// The outbox's length, as the delivery worker saw it in its latest round.
    pub fn delivery_queue(&self, due: u64, waiting: u64) {
        for (state, n) in [("due", due), ("waiting", waiting)] {
            self.recorder
                .register_gauge(
                    &Key::from_parts("lotse_delivery_queue", vec![Label::new("state", state)]),
                    &METADATA,
                )
                .set(n as f64);
        }
    }

    /// The exposition in Prometheus' text format.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Drains the histograms' recent samples into their buckets; `lotse serve` calls it every
    /// few seconds, so that memory stays flat between scrapes.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

/// Sets up the JSON log lines on stderr ([`lines::JsonLines`]; `LOTSE_LOG` filters by level
/// and target, `info` by default, e.g. `warn` or `info,lotse_server::workers=debug`): one object
/// per event with the time, level, fields, and the request span (id, method, route).
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let parsed = std::env::var("LOTSE_LOG")
        .ok()
        .map(|f| f.parse::<Targets>());
    let filter = match &parsed {
        Some(Ok(targets)) => targets.clone(),
        _ => Targets::new().with_default(tracing::Level::INFO),
    };
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(lines::JsonLines::new(lines::Stderr))
        .try_init();
    if let Some(Err(e)) = parsed {
        tracing::warn!(event = "log_filter_unreadable", cause = %e, using = "info");
    }
}

tokio::task_local! {
    static REQUEST_ID: Arc<str>;
}

/// The id of the request being answered (also in its log span, its `X-Request-Id` header and
/// its problem documents), or a fresh one outside a request.
pub fn request_id() -> String {
    REQUEST_ID
        .try_with(|id| id.to_string())
        .unwrap_or_else(|_| new_request_id())
}

/// The id of the request being answered, `None` outside a request.
pub fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(|id| id.to_string()).ok()
}

/// Runs blocking store work on the blocking pool inside the current request's audit scope
/// (its audit entries carry the request id, [`lotse_store::with_request_id`]).
pub(crate) fn spawn_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> tokio::task::JoinHandle<T> {
    let id = current_request_id();
    tokio::task::spawn_blocking(move || lotse_store::with_request_id(id, work))
}

/// A request id: 16 hex digits, different for every request. Ids only tie a request's log
/// lines, problem documents and audit entries together and grant nothing, so they come from a
/// generator per thread (seeded from the operating system once) rather than a system call per
/// request: the SplitMix64 sequence of the seed, each value passed through its mixing function.
fn new_request_id() -> String {
    thread_local! {
        static NEXT: Cell<u64> = Cell::new(request_id_seed());
    }
    let x = NEXT.with(|next| {
        let x = next.get().wrapping_add(0x9e37_79b9_7f4a_7c15);
        next.set(x);
        x
    });
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    format!("{z:016x}")
}

fn request_id_seed() -> u64 {
    let mut b = [0u8; 8];
    match OsEntropy.fill_bytes(&mut b) {
        Ok(()) => u64::from_le_bytes(b),
        // Without the system's randomness: the thread, hashed with the standard library's
        // own randomly keyed hasher; still distinct per thread.
        Err(_) => std::hash::BuildHasher::hash_one(
            &std::collections::hash_map::RandomState::new(),
            std::thread::current().id(),
        ),
    }
}

/// Marks a response made from a panic, so that [`observe`] counts it.
#[derive(Clone, Copy)]
pub(crate) struct Panicked;

/// The answer to a handler that panicked: a calm 500 with the request id; the panic itself
/// was printed by the panic hook.
pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let id = request_id();
    tracing::error!(event = "handler_panicked", request_id = %id);
    let mut r = (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("Interner Fehler (Anfrage {id})."),
    )
        .into_response();
    r.extensions_mut().insert(Panicked);
    r
}

/// Middleware of every route: gives the request an id and a span, and records its latency,
/// status and whether it was refused. The route is the template (`/{tenant}/antrag/{draft}`),
/// never the path.
pub(crate) async fn observe(
    State(metrics): State<Arc<Metrics>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| "(unmatched)".into());
    let method = req.method().clone();
    let id: Arc<str> = Arc::from(new_request_id());
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let started = Instant::now();
    let mut res = REQUEST_ID
        .scope(id.clone(), next.run(req).instrument(span.clone()))
        .await;
    let seconds = started.elapsed().as_secs_f64();
    let status = res.status().as_u16();
    metrics.request(method.as_str(), &route, status, seconds);
    if res.extensions().get::<Panicked>().is_some() {
        metrics.panics.increment(1);
    }
    span.in_scope(|| tracing::info!(event = "request", status, ms = seconds * 1000.0));
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert("x-request-id", v);
    }
    res
}

pub(crate) fn bump(c: &Counter) {
    c.increment(1);
}

/// The metrics in Prometheus' text exposition format.
pub(crate) async fn metrics(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
        .into_response()
}
