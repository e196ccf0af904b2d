//! The citizen portal: the catalogue per tenant and the step-by-step assistant as
//! server-rendered HTML that works without JavaScript. Handlers turn a request into an engine
//! call and the result into a page; the engine, the store and the receipts do the work.

mod api;
mod form;
mod status;
mod texts;
mod views;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use handlebars::Handlebars;
use lotse_core::application::{Position, receipt_model};
use lotse_core::catalogue::{Catalogue, Entry};
use lotse_core::script::Sandbox;
use lotse_core::{Application, Clock, Command, Lang, Library, Outcome, SystemClock, Workflow};
use lotse_receipt::{SigningIdentity, TemplateRegistry, render_receipt};
use lotse_store::{
    AnyStore, AttemptLimiter, Draft, DraftId, DraftStore, IdempotencyKey, NewSubmission, OsEntropy,
    StoreError, SubmissionId, SubmissionStore, TenantId, resume_draft,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::tenants::{self, Tenant};

/// The definitions the portal serves: reloaded as a whole when files change (`--dev`).
pub struct Defs {
    pub(crate) library: Library,
    catalogues: HashMap<&'static str, Catalogue>,
    receipts: TemplateRegistry,
    /// Errors of the last load; in `--dev` mode they are shown instead of the assistant.
    problems: Vec<lotse_core::Problem>,
    /// The API's serialized step fields, built on first use (dropped with these definitions).
    pub(crate) api_fields: api::FieldsCache,
}

/// Everything the handlers share.
pub struct Portal {
    defs: std::sync::RwLock<Arc<Defs>>,
    dev: bool,
    project: PathBuf,
    sandbox: Sandbox,
    pub(crate) store: AnyStore,
    pages: Handlebars<'static>,
    pub(crate) identities: HashMap<&'static str, SigningIdentity>,
    pub(crate) data: PathBuf,
    secret: [u8; 32],
    limiter: Box<dyn AttemptLimiter + Send + Sync>,
    metrics: Metrics,
    /// The webhooks of the offices (crate::delivery).
    webhooks: Arc<crate::delivery::Webhooks>,
    /// The case workers' side: sessions, sign-in limits, Postkorb pages (crate::admin).
    pub(crate) admin: crate::admin::AdminState,
    /// Housekeeping settings (crate::maintenance).
    maintenance: crate::maintenance::Settings,
}

/// Counters for /metrics (Prometheus text format). No personal data, no ids.
#[derive(Default)]
struct Metrics {
    requests: std::sync::atomic::AtomicU64,
    server_errors: std::sync::atomic::AtomicU64,
    drafts_started: std::sync::atomic::AtomicU64,
    steps_answered: std::sync::atomic::AtomicU64,
    steps_rejected: std::sync::atomic::AtomicU64,
    submissions: std::sync::atomic::AtomicU64,
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

fn bump(c: &std::sync::atomic::AtomicU64) {
    c.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
}

/// The citizen's language: `?lang=en` or the `lotse_lang` cookie; German otherwise.
#[derive(Clone, Copy)]
pub struct UiLang(pub Lang);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let from_query = parts.uri.query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("lang="))
                .map(Lang::from_tag)
        });
        let from_cookie = parts
            .headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| c.trim().strip_prefix("lotse_lang=").map(Lang::from_tag));
        Ok(UiLang(from_query.or(from_cookie).unwrap_or(Lang::De)))
    }
}

/// German or English, by the citizen's language.
fn tr(lang: Lang, de: &'static str, en: &'static str) -> &'static str {
    if lang == Lang::En { en } else { de }
}

/// Who is asking, for rate limits: the peer address when known.
#[derive(Clone)]
pub(crate) struct ClientKey(pub(crate) String);

type Shared = Arc<Portal>;

fn page_registry() -> anyhow::Result<Handlebars<'static>> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(false);
    hb.set_dev_mode(false);
    for (name, src) in [
        ("layout", include_str!("../../templates/layout.hbs")),
        ("catalogue", include_str!("../../templates/catalogue.hbs")),
        ("service", include_str!("../../templates/service.hbs")),
        ("step", include_str!("../../templates/step.hbs")),
        ("review", include_str!("../../templates/review.hbs")),
        ("done", include_str!("../../templates/done.hbs")),
        ("message", include_str!("../../templates/message.hbs")),
        ("problems", include_str!("../../templates/problems.hbs")),
        ("home", include_str!("../../templates/home.hbs")),
    ] {
        if name == "layout" {
            hb.register_partial(name, src)
                .with_context(|| format!("template {name}"))?;
        } else {
            hb.register_template_string(name, src)
                .with_context(|| format!("template {name}"))?;
        }
    }
    Ok(hb)
}

impl Portal {
    /// Loads the project, opens the store, prepares keys and catalogues.
    pub fn build(project: &std::path::Path, data: &std::path::Path) -> anyhow::Result<Portal> {
        Portal::build_with(&crate::config::Config {
            project_dir: project.to_path_buf(),
            data_dir: data.to_path_buf(),
            ..crate::config::Config::default()
        })
    }

    /// Builds the portal from a configuration.
    pub fn build_with(config: &crate::config::Config) -> anyhow::Result<Portal> {
        Portal::build_mode(config, false)
    }

    /// Builds the portal; in `dev` mode definition errors are shown in the browser instead of
    /// stopping the start.
    pub fn build_mode(config: &crate::config::Config, dev: bool) -> anyhow::Result<Portal> {
        let project = config.project_dir.as_path();
        let data = config.data_dir.as_path();
        let sandbox = Sandbox::default();
        let defs = load_defs(project, &sandbox, dev);
        if !dev && let Some(p) = defs.problems.first() {
            anyhow::bail!("the workflows have errors (run `lotse check`); first: {p}");
        }
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
        let store = crate::nodes::open_store(config)?;
        let now = SystemClock.now();
        let mut identities = HashMap::new();
        for t in tenants::DEMO {
            let identity = crate::nodes::signing_identity(config, &store, t.slug, t.name, now)?;
            identities.insert(t.slug, identity);
        }
        let secret = crate::nodes::csrf_secret(&store, data)?;
        let limiter = crate::nodes::resume_limiter(&store);
        let webhooks = crate::delivery::Webhooks::from_config(config, &|k| std::env::var(k).ok())?;
        let admin = crate::admin::AdminState::new(&config.admin, &store)?;
        let mut retention = Vec::new();
        for (slug, tc) in &config.tenants {
            if let (Some(days), Some(t)) = (tc.retention_days, tenants::find(slug)) {
                retention.push((TenantId::new(t.slug, t.prefix)?, days));
            }
        }
        let maintenance = crate::maintenance::Settings {
            interval: std::time::Duration::from_secs(
                u64::from(config.maintenance.interval_minutes) * 60,
            ),
            retention,
        };
        Ok(Portal {
            defs: std::sync::RwLock::new(Arc::new(defs)),
            dev,
            project: project.to_path_buf(),
            sandbox,
            store,
            pages: page_registry()?,
            identities,
            data: data.to_path_buf(),
            secret,
            limiter,
            metrics: Metrics::default(),
            webhooks: Arc::new(webhooks),
            admin,
            maintenance,
        })
    }

    /// Starts the webhook delivery worker on this portal's store (crate::delivery); stop it
    /// before the store is closed.
    pub fn start_delivery(&self) -> crate::delivery::Worker {
        crate::delivery::Worker::start(
            self.store.clone(),
            self.webhooks.clone(),
            self.data.join("receipts"),
        )
    }

    /// The current definitions.
    pub(crate) fn defs(&self) -> Arc<Defs> {
        match self.defs.read() {
            Ok(d) => d.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Loads the definitions again (after a change on disk).
    pub fn reload(&self) -> usize {
        let defs = Arc::new(load_defs(&self.project, &self.sandbox, self.dev));
        let errors = defs.problems.len();
        match self.defs.write() {
            Ok(mut d) => *d = defs,
            Err(poisoned) => *poisoned.into_inner() = defs,
        }
        errors
    }

    pub(crate) fn token(&self, scope: &str) -> String {
        let mut h = Sha256::new();
        h.update(self.secret);
        h.update(scope.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    pub(crate) fn render(&self, name: &str, data: &Value) -> Response {
        match self.pages.render(name, data) {
            Ok(html) => Html(html).into_response(),
            Err(e) => {
                log(
                    "error",
                    "page_render_failed",
                    &[("page", json!(name)), ("cause", json!(e.to_string()))],
                );
                (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response()
            }
        }
    }
}

/// Workflows, forms and templates of `project`, with a catalogue per tenant.
fn load_defs(project: &std::path::Path, sandbox: &Sandbox, dev: bool) -> Defs {
    let (mut library, mut problems) = lotse_core::load_library(project, sandbox);
    problems.extend(library.check_tenants(&tenants::slugs()));
    let mut problems: Vec<lotse_core::Problem> =
        problems.into_iter().filter(|p| p.is_error()).collect();
    // Without a pdf-templates/ folder the built-in receipt template is used, as `lotse check`
    // and `lotse test` do.
    let template_dir = project.join("pdf-templates");
    let loaded = if template_dir.is_dir() {
        TemplateRegistry::load_dir(&template_dir)
    } else {
        TemplateRegistry::builtin()
    };
    let receipts = match loaded {
        Ok(r) => r,
        Err(e) => {
            problems.push(lotse_core::Problem::error(
                "LOT-E040",
                &project.join("pdf-templates"),
                lotse_core::problem::Pos::UNKNOWN,
                e.to_string(),
            ));
            TemplateRegistry::builtin().unwrap_or_else(|_| unreachable_registry())
        }
    };
    let mut catalogues = HashMap::new();
    for t in tenants::DEMO {
        let offered: Vec<Arc<Workflow>> = if dev {
            library
                .workflows
                .keys()
                .filter_map(|id| tenant_workflow(&library, t, id, None))
                .collect()
        } else {
            t.services
                .iter()
                .filter_map(|id| tenant_workflow(&library, t, id, None))
                .collect()
        };
        let entries = offered
            .iter()
            .map(|wf| Entry {
                id: wf.id.clone(),
                title: wf.title.german().to_string(),
                description: wf
                    .description
                    .as_ref()
                    .map(|d| d.german().to_string())
                    .unwrap_or_default(),
                keywords: wf.keywords.clone(),
                lebenslagen: wf.lebenslagen.clone(),
            })
            .collect();
        let mut synonyms = BTreeMap::new();
        synonyms.insert(
            "Umzug".to_string(),
            vec!["Ummeldung".into(), "Wohnsitz".into(), "Parken".into()],
        );
        synonyms.insert("Tier".to_string(), vec!["Hund".into(), "Haustier".into()]);
        catalogues.insert(t.slug, Catalogue::new(entries, &synonyms));
    }
    Defs {
        library,
        catalogues,
        receipts,
        problems,
        api_fields: api::FieldsCache::default(),
    }
}

/// The workflow tenant `t` runs: the county's workflow with the tenant's override (fee, office,
/// receipt texts) applied, or as written when the tenant overrides nothing. `None` is the newest
/// version. Every place that picks a workflow for a tenant goes through here; the derived
/// workflows are built when the definitions load.
pub(crate) fn tenant_workflow(
    library: &Library,
    t: &Tenant,
    id: &str,
    version: Option<u32>,
) -> Option<Arc<Workflow>> {
    match version {
        Some(v) => library.for_tenant(t.slug, id, v),
        None => library.latest_for_tenant(t.slug, id),
    }
    .cloned()
}

fn unreachable_registry() -> TemplateRegistry {
    // The built-in template is compiled into the binary and checked by its tests.
    match TemplateRegistry::builtin() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("the built-in receipt template failed: {e}");
            std::process::exit(70)
        }
    }
}

/// In `--dev` mode: watch the project's files and reload on every change.
pub fn watch(portal: Arc<Portal>) {
    std::thread::spawn(move || {
        let mut last = fingerprint(&portal.project);
        loop {
            std::thread::sleep(std::time::Duration::from_millis(700));
            let now = fingerprint(&portal.project);
            if now != last {
                last = now;
                let errors = portal.reload();
                log("info", "definitions_reloaded", &[("errors", json!(errors))]);
            }
        }
    });
}

/// Names, sizes and modification times of every file under workflows/, forms/, pdf-templates/.
fn fingerprint(project: &std::path::Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = ["workflows", "forms", "pdf-templates"]
        .iter()
        .map(|d| project.join(d))
        .collect();
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let path = e.path();
            match e.metadata() {
                Ok(m) if m.is_dir() => stack.push(path),
                Ok(m) => out.push((path, m.len(), m.modified().ok())),
                Err(_) => {}
            }
        }
    }
    out.sort();
    out
}

pub(crate) fn getrandom_fill(buf: &mut [u8]) -> anyhow::Result<()> {
    use lotse_store::Entropy;
    OsEntropy
        .fill_bytes(buf)
        .map_err(|e| anyhow::anyhow!("no randomness: {e}"))
}

/// The router of the portal.
pub fn router(portal: Arc<Portal>) -> Router {
    // Note: `Arc<Portal>` is the state; tests build the same router on a temporary data folder.
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/static/lotse.css", get(css))
        .route("/static/tenant/{file}", get(tenant_css))
        .route("/{tenant}", get(catalogue))
        .route("/sprache/{lang}", get(switch_language))
        .route("/{tenant}/fortsetzen", axum::routing::post(resume))
        .route("/{tenant}/leistung/{workflow}", get(service).post(start))
        .route("/{tenant}/antrag/{draft}", get(show_draft).post(post_draft))
        .route("/{tenant}/eingang/{submission}", get(show_submission))
        .route(
            "/{tenant}/eingang/{submission}/quittung.pdf",
            get(receipt_pdf),
        )
        .route(
            "/{tenant}/eingang/{submission}/antwort",
            axum::routing::post(status::answer),
        )
        .route(
            "/{tenant}/vorschau/{workflow}/quittung.pdf",
            get(receipt_preview),
        )
        .nest("/api/v1", api::routes())
        .merge(crate::admin::routes())
        .layer(axum::middleware::from_fn_with_state(
            portal.clone(),
            dev_gate,
        ))
        .layer(axum::middleware::from_fn_with_state(portal.clone(), count))
        .with_state(portal)
        .layer(axum::middleware::from_fn(security_headers))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            std::time::Duration::from_secs(30),
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(256 * 1024))
        .layer(axum::middleware::from_fn(api::problems_everywhere))
}

async fn security_headers(
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unbekannt".into());
    req.extensions_mut().insert(ClientKey(peer));
    // Cross-site form posts are refused: the browser says where a request comes from.
    if req.method() == axum::http::Method::POST {
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
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    res
}

async fn count(
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

/// In `--dev` mode, definition errors replace every page of the assistant.
async fn dev_gate(
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
                .and_then(tenants::find)
                .unwrap_or(&tenants::DEMO[0]);
            let mut v = base(t, "Fehler in den Definitionen", Lang::De);
            v["problems"] =
                json!(defs.problems.iter().map(|pr| json!({
                "file": pr.file.display().to_string(), "line": pr.line, "column": pr.column,
                "code": pr.code, "message": pr.message, "help": pr.help,
            })).collect::<Vec<_>>());
            let mut r = p.render("problems", &v);
            *r.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
            return r;
        }
    }
    next.run(req).await
}

/// In `--dev` mode: the receipt of a workflow with the answers of its first scenario that ends
/// in a submission, signed with the tenant's (development) key.
async fn receipt_preview(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, workflow)): Path<(String, String)>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    if !p.dev {
        return not_found(&p, Some(t), lang);
    }
    let p2 = p.clone();
    let made = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
        let defs = p2.defs();
        for file in lotse_core::scenario::scenario_files(&defs.library) {
            let Ok(scenario) = lotse_core::scenario::load_scenario(&file) else {
                continue;
            };
            if scenario.workflow.as_deref().is_some_and(|w| w != workflow)
                || scenario.tenant.as_ref().is_some_and(|(_, s)| s != t.slug)
            {
                continue;
            }
            let Some((wf, submission)) = lotse_core::scenario::sample_submission_for(
                &defs.library,
                &p2.sandbox,
                &scenario,
                t.slug,
            ) else {
                continue;
            };
            if wf.id != workflow {
                continue;
            }
            let model = receipt_model(
                &wf,
                &submission,
                t.receipt_info(wf.office.german()),
                "VORSCHAU-0000",
                SystemClock.now(),
            );
            let identity = p2.identities.get(t.slug).context("no signing key")?;
            return Ok(Some(render_receipt(&model, &defs.receipts, identity)?));
        }
        Ok(None)
    })
    .await;
    match made {
        Ok(Ok(Some(pdf))) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Ok(Ok(None)) => message_page(
            &p,
            t,
            lang,
            StatusCode::NOT_FOUND,
            "Keine Beispieldaten",
            "Keine Beispieldaten",
            "Für diesen Workflow gibt es kein Szenario, das mit einem Absenden endet (expect: submitted: true). Legen Sie eines in scenarios/ an, dann zeigt diese Seite die Quittung mit seinen Antworten.",
        ),
        Ok(Err(e)) => server_error(&p, t, &e, lang),
        Err(e) => server_error(&p, t, &e, lang),
    }
}

/// Ready when the store answers.
async fn readyz(State(p): State<Shared>) -> Response {
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

async fn metrics(State(p): State<Shared>) -> Response {
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

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_str!("../../static/lotse.css"),
    )
}

async fn tenant_css(Path(file): Path<String>) -> Response {
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

fn tenant_view(t: &Tenant) -> Value {
    json!({
        "slug": t.slug, "name": t.name, "colour": t.colour, "initials": t.initials(),
        "address": format!("{}, {}", t.address[0], t.address[1]), "phone": t.phone,
    })
}

pub(crate) fn base(t: &Tenant, title: &str, lang: Lang) -> Value {
    let other = if lang == Lang::En {
        ("de", "Deutsch")
    } else {
        ("en", "English")
    };
    json!({
        "lang": lang.tag(), "t": texts::texts(lang == Lang::En), "tenant": tenant_view(t), "title": title,
        "other_lang": other.0, "other_lang_name": other.1,
    })
}

/// The calm message page: a title, a heading, one paragraph, and the status code it answers with.
fn message_page(
    p: &Portal,
    t: &Tenant,
    lang: Lang,
    status: StatusCode,
    title: &str,
    heading: &str,
    text: &str,
) -> Response {
    let mut v = base(t, title, lang);
    v["heading"] = json!(heading);
    v["text"] = json!(text);
    let mut r = p.render("message", &v);
    *r.status_mut() = status;
    r
}

pub(crate) fn not_found(p: &Portal, t: Option<&Tenant>, lang: Lang) -> Response {
    message_page(
        p,
        t.unwrap_or(&tenants::DEMO[0]),
        lang,
        StatusCode::NOT_FOUND,
        tr(lang, "Nicht gefunden", "Not found"),
        tr(lang, "Seite nicht gefunden", "Page not found"),
        tr(
            lang,
            "Diese Seite gibt es nicht (mehr). Vielleicht ist der Link unvollständig oder Ihr Antrag ist abgelaufen.",
            "This page does not exist (any more). The link may be incomplete, or your application has expired.",
        ),
    )
}

pub(crate) fn server_error(
    p: &Portal,
    t: &Tenant,
    cause: &dyn std::fmt::Display,
    lang: Lang,
) -> Response {
    // The cause goes to the log, never to the page; no answers are in it.
    log(
        "error",
        "request_failed",
        &[
            ("tenant", json!(t.slug)),
            ("cause", json!(cause.to_string())),
        ],
    );
    message_page(
        p,
        t,
        lang,
        StatusCode::INTERNAL_SERVER_ERROR,
        tr(lang, "Fehler", "Error"),
        tr(
            lang,
            "Das hat leider nicht geklappt",
            "Sorry, that did not work",
        ),
        tr(
            lang,
            "Ein technischer Fehler ist aufgetreten. Ihre bisherigen Angaben sind gespeichert. Bitte versuchen Sie es in einigen Minuten noch einmal.",
            "A technical error occurred. Your answers so far are saved. Please try again in a few minutes.",
        ),
    )
}

/// Switches the language and goes back to the page the citizen came from (same site only).
async fn switch_language(Path(lang): Path<String>, Query(q): Query<BackTo>) -> Response {
    let lang = Lang::from_tag(&lang);
    let back = q
        .zurueck
        .filter(|b| b.starts_with('/') && !b.starts_with("//"))
        .unwrap_or_else(|| "/".into());
    let mut r = Redirect::to(&back).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "lotse_lang={}; Path=/; Max-Age=31536000; SameSite=Lax; HttpOnly",
        lang.tag()
    )) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

#[derive(Deserialize)]
struct BackTo {
    zurueck: Option<String>,
}

/// The county's portal: every municipality with its number of online services.
async fn home(State(p): State<Shared>, UiLang(lang): UiLang) -> Response {
    let county = &tenants::DEMO[0];
    let defs = p.defs();
    let mut v = base(county, tr(lang, "Serviceportal", "Service portal"), lang);
    v["tenants"] = json!(
        tenants::DEMO
            .iter()
            .map(|t| json!({
                "slug": t.slug, "name": t.name,
                "count": defs.catalogues.get(t.slug).map(|c| c.entries().len()).unwrap_or(0),
            }))
            .collect::<Vec<_>>()
    );
    p.render("home", &v)
}

#[derive(Deserialize)]
struct SearchQuery {
    q: Option<String>,
}

async fn catalogue(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path(tenant): Path<String>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    let defs = p.defs();
    let Some(cat) = defs.catalogues.get(t.slug) else {
        return not_found(&p, Some(t), lang);
    };
    let query =
        q.q.unwrap_or_default()
            .chars()
            .take(100)
            .collect::<String>();
    let title_of = |id: &str| cat.entries().iter().find(|e| e.id == id).cloned();
    let hits: Vec<Value> = if query.trim().is_empty() {
        Vec::new()
    } else {
        cat.search(&query, 20)
            .into_iter()
            .filter_map(|h| title_of(&h.id))
            .map(|e| json!({"id": e.id, "title": e.title, "description": e.description}))
            .collect()
    };
    let lagen: Vec<Value> = cat
        .lebenslagen()
        .keys()
        .map(|l| {
            let name = lebenslage_name(l);
            json!({"name": name, "services": cat.by_lebenslage(l).iter().map(|e| json!({"id": e.id, "title": e.title})).collect::<Vec<_>>()})
        })
        .collect();
    let mut v = base(
        t,
        &format!(
            "{} {}",
            tr(lang, "Online-Dienste:", "Online services of"),
            t.name
        ),
        lang,
    );
    v["query"] = json!(query);
    v["hits"] = json!(hits);
    v["lebenslagen"] = json!(lagen);
    v["csrf"] = json!(p.token(&format!("start:{}", t.slug)));
    p.render("catalogue", &v)
}

async fn resume(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path(tenant): Path<String>,
    axum::Extension(client): axum::Extension<ClientKey>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("start:{}", t.slug)).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    let code = field(&pairs, "code").unwrap_or("").to_string();
    let p2 = p.clone();
    let now = SystemClock.now();
    let found = tokio::task::spawn_blocking(move || {
        resume_draft(&p2.store, &*p2.limiter, &client.0, &code, now)
    })
    .await;
    match found {
        Ok(Ok(d)) if d.tenant.slug() == t.slug && d.expires > now => {
            Redirect::to(&format!("/{}/antrag/{}", t.slug, d.id)).into_response()
        }
        Ok(Err(StoreError::RateLimited { .. })) => message_page(
            &p,
            t,
            lang,
            StatusCode::TOO_MANY_REQUESTS,
            tr(lang, "Bitte warten", "Please wait"),
            tr(lang, "Zu viele Versuche", "Too many attempts"),
            tr(
                lang,
                "Der Code wurde mehrmals falsch eingegeben. Bitte warten Sie 15 Minuten und versuchen Sie es dann noch einmal.",
                "The code was entered wrongly several times. Please wait 15 minutes and try again.",
            ),
        ),
        Ok(_) => message_page(
            &p,
            t,
            lang,
            StatusCode::NOT_FOUND,
            tr(lang, "Code nicht gefunden", "Code not found"),
            tr(lang, "Code nicht gefunden", "Code not found"),
            tr(
                lang,
                "Zu diesem Code gibt es keinen Antrag. Bitte prüfen Sie die Schreibweise, zum Beispiel K7QX-2M9D-8TFA-WN3E.",
                "There is no application with this code. Please check the spelling, for example K7QX-2M9D-8TFA-WN3E.",
            ),
        ),
        Err(e) => server_error(&p, t, &e, lang),
    }
}

/// The name a citizen reads for a Lebenslage key.
fn lebenslage_name(key: &str) -> String {
    let known = [
        ("umzug", "Umzug"),
        ("haustiere", "Haustiere"),
        ("bauen", "Bauen und Wohnen"),
        ("mobilitaet", "Mobilität und Verkehr"),
        ("geburt", "Geburt"),
        ("arbeit", "Arbeit und Gewerbe"),
        ("veranstaltungen", "Veranstaltungen"),
    ];
    match known.iter().find(|(k, _)| *k == key) {
        Some((_, name)) => (*name).to_string(),
        None => {
            let mut c = key.chars();
            c.next()
                .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
                .unwrap_or_default()
        }
    }
}

fn offered(p: &Portal, t: &Tenant, workflow: &str) -> Option<Arc<Workflow>> {
    // In the designer's preview every workflow of the project is on offer everywhere.
    if p.dev || t.services.contains(&workflow) {
        tenant_workflow(&p.defs().library, t, workflow, None)
    } else {
        None
    }
}

async fn service(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, workflow)): Path<(String, String)>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    let Some(wf) = offered(&p, t, &workflow) else {
        return not_found(&p, Some(t), lang);
    };
    let mut v = base(t, wf.title.get(lang), lang);
    v["service"] = json!({
        "id": wf.id, "title": wf.title.get(lang),
        "description": wf.description.as_ref().map(|d| d.get(lang)).unwrap_or_default(),
        "office": wf.office.get(lang),
    });
    v["csrf"] = json!(p.token(&format!("start:{}", t.slug)));
    v["dev"] = json!(p.dev);
    p.render("service", &v)
}

async fn start(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, workflow)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    let Some(wf) = offered(&p, t, &workflow) else {
        return not_found(&p, Some(t), lang);
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("start:{}", t.slug)).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    let now = SystemClock.now();
    let app = Application::start(&wf, lang, now);
    let p2 = p.clone();
    let created = tokio::task::spawn_blocking(move || -> Result<Draft, StoreError> {
        let tenant_id = TenantId::new(t.slug, t.prefix)?;
        let ttl = time::Duration::days(i64::from(wf.draft_expiry_days));
        let d = Draft::new(
            &mut OsEntropy,
            tenant_id,
            &wf.id,
            wf.version.to_string(),
            serde_json::to_value(&app).unwrap_or_default(),
            now,
            ttl,
        )?;
        p2.store.create_draft(&d)?;
        Ok(d)
    })
    .await;
    match created {
        Ok(Ok(d)) => {
            bump(&p.metrics.drafts_started);
            Redirect::to(&format!("/{}/antrag/{}", t.slug, d.id)).into_response()
        }
        Ok(Err(e)) => server_error(&p, t, &e, lang),
        Err(e) => server_error(&p, t, &e, lang),
    }
}

/// Runs blocking store or file work off the async workers. A failed task (a panic) is an error
/// like any other: the citizen gets the calm error page, the log gets the cause.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A draft of this tenant as found in the store.
// Built once per request and taken apart at once: boxing would only add an allocation.
#[allow(clippy::large_enum_variant)]
pub(crate) enum Loaded {
    /// In progress: the draft, its application state and the workflow version it runs on.
    Open(Draft, Application, Arc<Workflow>),
    /// Already submitted: the draft now only points at its submission.
    Submitted(SubmissionId),
}

/// What a draft holds once its application is submitted: no answers, only the submission it
/// became, so that a repeated submit, the back button or an API retry lands on the same one.
#[derive(serde::Serialize, Deserialize)]
struct SubmittedMarker {
    submitted: SubmissionId,
}

/// How long a submitted draft's marker stays (for retries and the back button).
const MARKER_TTL: time::Duration = time::Duration::days(7);

/// Loads a draft of this tenant; another tenant's or an expired draft is "not found".
/// Blocking (the store is read): call it off the async workers.
pub(crate) fn load_draft_blocking(
    p: &Portal,
    t: &Tenant,
    id: &str,
) -> Result<Option<Loaded>, StoreError> {
    let Ok(id) = id.parse::<DraftId>() else {
        return Ok(None);
    };
    let Some(draft) = p.store.draft(&id)? else {
        return Ok(None);
    };
    if draft.tenant.slug() != t.slug || draft.expires <= SystemClock.now() {
        return Ok(None);
    }
    if let Ok(marker) = SubmittedMarker::deserialize(&draft.state) {
        return Ok(Some(Loaded::Submitted(marker.submitted)));
    }
    let Ok(version) = draft.workflow_version.parse::<u32>() else {
        return Ok(None);
    };
    let Ok(app) = Application::deserialize(&draft.state) else {
        return Ok(None);
    };
    // The tenant's own workflow, with the rules the draft started with (its content hash,
    // override included, is checked on every step).
    let Some(wf) = p
        .defs()
        .library
        .for_tenant_resuming(t.slug, &draft.workflow_id, version, &app.content_hash)
        .cloned()
    else {
        return Ok(None);
    };
    Ok(Some(Loaded::Open(draft, app, wf)))
}

/// Runs work on drafts (read, engine, save) where it costs least. On sled, draft reads and
/// saves wait for neither disk nor network (saves reach the disk with the background flush,
/// docs/store.md), so the work runs on the calling task: two thread hand-offs per request cost
/// more than the work. On PostgreSQL every call is a round trip, so it goes to the blocking
/// pool. Durable writes (submissions) always go to the blocking pool.
pub(crate) async fn draft_work<T: Send + 'static>(
    p: &Shared,
    work: impl FnOnce(&Shared) -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if !p.store.draft_calls_block() {
        return Ok(work(p));
    }
    let p2 = p.clone();
    tokio::task::spawn_blocking(move || work(&p2)).await
}

/// [`load_draft_blocking`] through [`draft_work`].
pub(crate) async fn load_draft(
    p: &Shared,
    t: &'static Tenant,
    id: &str,
) -> Result<Option<Loaded>, StoreError> {
    let id = id.to_string();
    draft_work(p, move |p| load_draft_blocking(p, t, &id))
        .await
        .map_err(|e| StoreError::Storage(e.to_string()))?
}

/// Stores a submitted application durably, renders and signs its receipt, and replaces the
/// draft's answers by a marker pointing at the submission. Safe to repeat: the same draft at
/// the same revision always yields the same submission (and the receipt is written once).
pub(crate) async fn finish_submission(
    p: &Shared,
    t: &'static Tenant,
    draft: &Draft,
    wf: &Arc<Workflow>,
    submission: Box<lotse_core::application::Submission>,
    now: time::OffsetDateTime,
) -> Result<lotse_store::Submission, String> {
    let p2 = p.clone();
    let draft = draft.clone();
    let wf = wf.clone();
    let stored = blocking(move || -> anyhow::Result<lotse_store::Submission> {
        let id = SubmissionId::generate(&mut OsEntropy)?;
        let notifications = crate::delivery::notifications(&p2.webhooks, t.slug, &wf.id, &id);
        let stored = p2.store.submit(
            NewSubmission {
                id,
                tenant: draft.tenant.clone(),
                idempotency_key: IdempotencyKey::for_draft(&draft.id, draft.revision),
                draft_id: Some(draft.id),
                workflow_id: wf.id.clone(),
                workflow_version: wf.version.to_string(),
                data: serde_json::to_value(&*submission)?,
                notifications,
            },
            now,
        )?;
        if !crate::nodes::has_receipt(&p2.store, &p2.data, &stored.id)? {
            let model = receipt_model(
                &wf,
                &submission,
                t.receipt_info(wf.office.get(submission.lang)),
                &stored.reference.to_string(),
                stored.submitted,
            );
            let identity = p2.identities.get(t.slug).context("no signing key")?;
            let pdf = render_receipt(&model, &p2.defs().receipts, identity)?;
            crate::nodes::save_receipt(&p2.store, &p2.data, &stored.id, &pdf)?;
        }
        let mut marker = draft.clone();
        marker.state = serde_json::to_value(SubmittedMarker {
            submitted: stored.id,
        })?;
        marker.touch(now, MARKER_TTL);
        match p2.store.save_draft(marker, draft.revision) {
            // A concurrent repeat of the same submit got there first: same submission.
            Ok(_) | Err(StoreError::Conflict { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        Ok(stored)
    })
    .await?;
    bump(&p.metrics.submissions);
    Ok(stored)
}

async fn show_draft(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    match load_draft(&p, t, &id).await {
        Ok(Some(Loaded::Open(draft, app, wf))) => {
            views::page(&p, t, &draft, &app, &wf, views::Attempt::default(), lang)
        }
        Ok(Some(Loaded::Submitted(sid))) => {
            Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response()
        }
        Ok(None) => not_found(&p, Some(t), lang),
        Err(e) => server_error(&p, t, &e, lang),
    }
}

async fn post_draft(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, id)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    let (draft, mut app, wf) = match load_draft(&p, t, &id).await {
        Ok(Some(Loaded::Open(d, a, w))) => (d, a, w),
        // Sent already (a double click, the back button): the confirmation again.
        Ok(Some(Loaded::Submitted(sid))) => {
            return Redirect::to(&format!("/{}/eingang/{sid}", t.slug)).into_response();
        }
        Ok(None) => return not_found(&p, Some(t), lang),
        Err(e) => return server_error(&p, t, &e, lang),
    };
    if field(&pairs, "_csrf") != Some(p.token(&format!("draft:{}", draft.id)).as_str()) {
        return (
            StatusCode::FORBIDDEN,
            "Sicherheitsprüfung fehlgeschlagen. Bitte laden Sie die Seite neu.",
        )
            .into_response();
    }
    let url = format!("/{}/antrag/{}", t.slug, draft.id);
    // Another tab saved in between: show the current state instead of overwriting it.
    if field(&pairs, "_rev").and_then(|r| r.parse::<u64>().ok()) != Some(draft.revision) {
        return Redirect::to(&url).into_response();
    }
    // Messages come in the language the citizen reads now.
    app.lang = lang;
    let action = field(&pairs, "_action").unwrap_or("weiter").to_string();
    let now = SystemClock.now();
    let step_id = match &app.position {
        Position::Step(s) => s.clone(),
        _ => String::new(),
    };
    let command = if action == "zurueck" {
        Command::Back
    } else if let Some(step) = action.strip_prefix("goto:") {
        Command::Goto {
            step: step.to_string(),
        }
    } else if action == "absenden" {
        Command::Submit
    } else if let Some(rest) = action
        .strip_prefix("add:")
        .or_else(|| action.strip_prefix("remove:"))
    {
        // Adding or removing an entry of a repeatable group re-renders the step with the
        // posted values; nothing is stored until the step is sent.
        let Some(step) = wf.step(&step_id) else {
            return Redirect::to(&url).into_response();
        };
        let mut values = form::answers(step, &pairs);
        views::change_items(step, &mut values, &action, rest);
        return views::page(
            &p,
            t,
            &draft,
            &app,
            &wf,
            views::Attempt {
                values: Some(values),
                errors: Vec::new(),
            },
            lang,
        );
    } else {
        let Some(step) = wf.step(&step_id) else {
            return Redirect::to(&url).into_response();
        };
        Command::Answer {
            step: step.id.clone(),
            values: form::answers(step, &pairs),
            then_review: app.answered.len() >= app.route.len(),
        }
    };
    let posted = match &command {
        Command::Answer { values, .. } => Some(values.clone()),
        _ => None,
    };
    let transition = match app.apply(&wf, &p.sandbox, command, now) {
        Ok(t) => t,
        Err(e) => {
            // A workflow's script failed: logged with its code, a calm page for the citizen.
            log(
                "error",
                "script_failed",
                &[
                    ("code", json!(e.code())),
                    ("tenant", json!(t.slug)),
                    ("workflow", json!(wf.key())),
                    ("cause", json!(e.to_string())),
                ],
            );
            return server_error(&p, t, &e.code(), lang);
        }
    };
    match transition.outcome {
        Outcome::Rejected { errors, .. } => {
            bump(&p.metrics.steps_rejected);
            views::page(
                &p,
                t,
                &draft,
                &transition.state,
                &wf,
                views::Attempt {
                    values: posted,
                    errors,
                },
                lang,
            )
        }
        Outcome::Submitted { submission } => {
            match finish_submission(&p, t, &draft, &wf, submission, now).await {
                Ok(stored) => {
                    Redirect::to(&format!("/{}/eingang/{}", t.slug, stored.id)).into_response()
                }
                Err(e) => server_error(&p, t, &e, lang),
            }
        }
        _ => {
            let mut next = draft.clone();
            next.state = serde_json::to_value(&transition.state).unwrap_or_default();
            next.touch(now, time::Duration::days(i64::from(wf.draft_expiry_days)));
            let expected = draft.revision;
            let p2 = p.clone();
            match tokio::task::spawn_blocking(move || p2.store.save_draft(next, expected)).await {
                Ok(Ok(_)) | Ok(Err(StoreError::Conflict { .. })) => {
                    bump(&p.metrics.steps_answered);
                    Redirect::to(&url).into_response()
                }
                Ok(Err(e)) => server_error(&p, t, &e, lang),
                Err(e) => server_error(&p, t, &e, lang),
            }
        }
    }
}

async fn show_submission(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    // The status timeline, messages and the answer to a Rückfrage: portal/status.rs.
    status::page(&p, t, &id, lang, None).await
}

async fn receipt_pdf(
    State(p): State<Shared>,
    UiLang(lang): UiLang,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let Some(t) = tenants::find(&tenant) else {
        return not_found(&p, None, lang);
    };
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return not_found(&p, Some(t), lang);
    };
    let p2 = p.clone();
    let slug = t.slug;
    match blocking(move || own_receipt(&p2, slug, &sid)).await {
        Ok(Some((reference, pdf))) => pdf_download(&reference, pdf),
        Ok(None) => not_found(&p, Some(t), lang),
        Err(e) => server_error(&p, t, &e, lang),
    }
}

/// The signed receipt of a submission of this tenant, with its reference; `None` for an unknown
/// submission or another tenant's (whose receipt is then not read at all). Blocking.
pub(crate) fn own_receipt(
    p: &Portal,
    slug: &str,
    sid: &SubmissionId,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let Some(s) = p.store.submission(sid)?.filter(|s| s.tenant.slug() == slug) else {
        return Ok(None);
    };
    let pdf = crate::nodes::load_receipt(&p.store, &p.data, sid)?;
    Ok(Some((s.reference.to_string(), pdf)))
}

/// A receipt as a download named after its reference.
pub(crate) fn pdf_download(reference: &str, pdf: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"Eingangsbestaetigung-{reference}.pdf\""),
            ),
        ],
        pdf,
    )
        .into_response()
}

/// Serves the portal until Ctrl-C or SIGTERM, finishing requests in flight, then closes the store
/// so that the next start opens quickly.
pub async fn serve(portal: Portal, listen: std::net::SocketAddr, dev: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    eprintln!("Lotse läuft auf http://{listen}/ (Demo: Kreis Heinsberg und zehn Kommunen)");
    let portal = Arc::new(portal);
    if dev {
        eprintln!(
            "Vorschau-Modus: Änderungen in workflows/, forms/ und pdf-templates/ werden sofort geladen."
        );
        watch(portal.clone());
    }
    let delivery = portal.start_delivery();
    let maintenance = crate::maintenance::start(
        portal.store.clone(),
        portal.data.join("receipts"),
        portal.maintenance.clone(),
    );
    let served = axum::serve(
        listener,
        router(portal.clone()).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving");
    delivery.stop().await;
    // The housekeeping holds a clone of the store; without it, the store can close with a
    // fresh snapshot. (A run in progress keeps its clone until it ends, as a blocking task;
    // then the store is only flushed.)
    maintenance.abort();
    let _ = maintenance.await;
    served?;
    match Arc::try_unwrap(portal) {
        Ok(portal) => {
            let closed = tokio::task::spawn_blocking(move || portal.store.close())
                .await
                .context("closing the store")??;
            eprintln!(
                "Lotse beendet; Speicher geschlossen{}.",
                if closed { "" } else { " (nur gesichert)" }
            );
        }
        Err(portal) => {
            portal.store.flush()?;
            eprintln!("Lotse beendet; Speicher gesichert.");
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
