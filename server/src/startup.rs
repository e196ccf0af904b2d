//! The composition root: builds the state from the configuration, composes the routers of the
//! portal, the API and the Postkorb with the middleware, starts the workers and serves until a
//! signal, then closes the store.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use lotse_store::{AnyStore, DraftId, DraftStore, TenantId};

use crate::admin::AdminState;
use crate::http::middleware;
use crate::state::{AppState, Shared};
use crate::telemetry;

/// The whole application: the handlers' state, the Postkorb's state and the housekeeping
/// settings. What `lotse serve` runs and what tests build on a temporary folder.
pub struct Portal {
    state: Shared,
    admin: Arc<AdminState>,
    maintenance: crate::maintenance::Settings,
    connections: crate::config::ConnectionsConfig,
    proxies: Arc<crate::config::proxy::TrustedProxies>,
    cors: Arc<crate::http::cors::CorsOrigins>,
    /// The payment reconciliation job: every, after (docs/payment.md).
    reconcile: (std::time::Duration, std::time::Duration),
}

/// The router's state: each front end takes the part it needs (`FromRef`).
#[derive(Clone)]
pub struct RouterState {
    state: Shared,
    admin: Arc<AdminState>,
}

impl FromRef<RouterState> for Arc<telemetry::Metrics> {
    fn from_ref(r: &RouterState) -> Arc<telemetry::Metrics> {
        r.state.metrics.clone()
    }
}

impl FromRef<RouterState> for Shared {
    fn from_ref(r: &RouterState) -> Shared {
        r.state.clone()
    }
}

impl FromRef<RouterState> for crate::admin::Admin {
    fn from_ref(r: &RouterState) -> crate::admin::Admin {
        crate::admin::Admin::new(r.state.clone(), r.admin.clone())
    }
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
        Portal::build_with_clock(config, dev, Arc::new(lotse_core::SystemClock))
    }

    /// [`Portal::build_mode`] with a clock of the caller's (tests move time with
    /// `lotse_core::ManualClock`).
    pub fn build_with_clock(
        config: &crate::config::Config,
        dev: bool,
        clock: Arc<dyn lotse_core::Clock>,
    ) -> anyhow::Result<Portal> {
        Portal::build_with_env(config, dev, clock, &|k| std::env::var(k).ok())
    }

    /// [`Portal::build_with_clock`] with the secrets of webhooks, mail and payment platforms
    /// read through `env` instead of the process environment (tests: no `set_var` in a
    /// process with threads).
    pub fn build_with_env(
        config: &crate::config::Config,
        dev: bool,
        clock: Arc<dyn lotse_core::Clock>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Portal> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let store = crate::nodes::open_store(config)?;
        let admin = AdminState::new(&config.admin, &store)?;
        let state = AppState::build_env(config, store, dev, clock, env)?;
        let mut retention = Vec::new();
        let portal = state.defs().portal.clone();
        for (slug, tc) in &config.tenants {
            if let (Some(days), Some(t)) = (tc.retention_days, portal.find(slug)) {
                retention.push((TenantId::new(&t.slug, &t.prefix)?, days));
            }
        }
        let maintenance = crate::maintenance::Settings {
            interval: std::time::Duration::from_secs(
                u64::from(config.maintenance.interval_minutes) * 60,
            ),
            retention,
            attachment_grace: time::Duration::minutes(i64::from(
                config.maintenance.attachment_grace_minutes,
            )),
        };
        Ok(Portal {
            state: Arc::new(state),
            admin: Arc::new(admin),
            maintenance,
            connections: config.connections.clone(),
            proxies: Arc::new(crate::config::proxy::TrustedProxies::from_config(
                &config.proxy,
            )?),
            cors: Arc::new(crate::http::cors::CorsOrigins::from_config(
                &config.api.cors_origins,
            )?),
            reconcile: (
                seconds(
                    "payment.reconcile_seconds",
                    config.payment.reconcile_seconds,
                )?,
                seconds(
                    "payment.reconcile_after_seconds",
                    config.payment.reconcile_after_seconds,
                )?,
            ),
        })
    }

    /// Starts the delivery worker (webhooks and mails) on this portal's store (crate::delivery); stop it
    /// before the store is closed.
    pub fn start_delivery(&self) -> crate::delivery::Worker {
        crate::delivery::Worker::start_observed(
            self.state.store.clone(),
            crate::delivery::Senders {
                webhooks: self.state.webhooks.clone(),
                mail: self.state.mail.clone(),
            },
            self.state.data.join("receipts"),
            self.state.metrics.clone(),
            self.state.clock.clone(),
        )
    }

    /// Starts the payment reconciliation job (crate::workers::payments); stop it before the
    /// store is closed.
    pub fn start_reconciliation(&self) -> crate::workers::payments::Reconciler {
        crate::workers::payments::start(self.state.clone(), self.reconcile.0, self.reconcile.1)
    }

    /// Loads the definitions again (after a change on disk); returns the number of errors.
    pub fn reload(&self) -> usize {
        self.state.reload()
    }

    /// The portal's store (for operators' tools and tests; handlers go through the service).
    /// One run of the housekeeping now (`lotse housekeeping`), with another grace period for
    /// unreferenced attachments if `attachment_grace` is given.
    pub fn housekeeping_once(
        &self,
        attachment_grace: Option<time::Duration>,
    ) -> anyhow::Result<crate::maintenance::Report> {
        let mut settings = self.maintenance.clone();
        if let Some(g) = attachment_grace {
            settings.attachment_grace = g;
        }
        Ok(crate::maintenance::run_once(
            self.store(),
            &settings,
            self.state.now(),
        )?)
    }

    pub fn store(&self) -> &AnyStore {
        &self.state.store
    }

    /// The handlers' state (for operators' tools and tests).
    pub fn state(&self) -> &Shared {
        &self.state
    }
}

/// The router of the whole portal: the citizen pages, the JSON API, the Postkorb, health and
/// metrics, with the middleware of every route. Tests build the same router on a temporary
/// data folder.
pub fn router(portal: Arc<Portal>) -> Router {
    let state = portal.state.clone();
    let routes = RouterState {
        state: state.clone(),
        admin: portal.admin.clone(),
    };
    // Other origins named in the configuration may call the citizen API from a browser; the
    // Postkorb's API is not opened to them.
    let api = match portal.cors.layer() {
        Some(cors) => crate::api::routes(crate::openapi::document()).layer(cors),
        None => crate::api::routes(crate::openapi::document()),
    };
    let router = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .merge(crate::portal::routes())
        .merge(crate::login::routes())
        .nest("/api/v1", api)
        .merge(crate::admin::routes());
    // The preview gate only where it can act: in `--dev` mode.
    let router = if state.dev {
        router.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::dev_gate,
        ))
    } else {
        router
    };
    let edge = Arc::new(Edge {
        cors: portal.cors.clone(),
        proxies: portal.proxies.clone(),
    });
    router
        .with_state(routes)
        // Security headers, the client's address, problem documents and the limits per route
        // (256 KiB and 30 s, uploads more): refusals (403, 408, 413) carry the headers too.
        .layer(axum::middleware::from_fn_with_state(edge, self::edge))
        // A panicking handler answers a calm 500 (counted); outermost, the request's id, span,
        // latency and status, so that refusals by the layers above count too.
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            telemetry::panic_response,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.metrics.clone(),
            telemetry::observe,
        ))
}

/// Serves the portal until Ctrl-C or SIGTERM, finishing requests in flight, then closes the store
/// so that the next start opens quickly.
pub async fn serve(portal: Portal, listen: std::net::SocketAddr, dev: bool) -> anyhow::Result<()> {
    // First of all: from here on a SIGTERM stops the portal cleanly.
    let stop = shutdown_signal();
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    {
        let defs = portal.state.defs();
        let origin = match &defs.portal.source {
            Some(dir) => format!("aus {}", dir.display()),
            None => "eingebaute Demo".to_string(),
        };
        eprintln!(
            "Lotse läuft auf http://{listen}/ ({}: {} Mandanten, {origin})",
            defs.portal.name.german(),
            defs.portal.tenants.len()
        );
    }
    let portal = Arc::new(portal);
    if dev {
        eprintln!(
            "Vorschau-Modus: Änderungen in workflows/, forms/, pdf-templates/ und portal/ werden sofort geladen."
        );
        watch(portal.clone());
    }
    // `--dev`: the payment platform simulator for every tenant without a platform of its own.
    let paysim = if dev {
        Some(start_dev_paysim(&portal).await?)
    } else {
        None
    };
    let delivery = portal.start_delivery();
    let reconciler = portal.start_reconciliation();
    // Reminders of appointments, the day before (with `[mail]` only).
    let reminders =
        crate::workers::reminders::start(portal.state.clone(), std::time::Duration::from_secs(60));
    // The histograms' samples drain into their buckets every few seconds, scraped or not.
    let metrics = portal.state.metrics.clone();
    let upkeep = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
        loop {
            every.tick().await;
            metrics.upkeep();
        }
    });
    // What a tenant administrator changed on another node arrives within two seconds.
    let settings_state = portal.state.clone();
    let settings = tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            every.tick().await;
            let s = settings_state.clone();
            match crate::telemetry::spawn_blocking(move || s.poll_settings()).await {
                Ok(Ok(true)) => tracing::info!(event = "tenant_settings_loaded"),
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(event = "tenant_settings_poll_failed", cause = %e),
                Err(e) => tracing::warn!(event = "tenant_settings_poll_failed", cause = %e),
            }
        }
    });
    let maintenance = crate::maintenance::start(
        portal.state.store.clone(),
        portal.maintenance.clone(),
        portal.state.clock.clone(),
    );
    let served = accept(
        listener,
        router(portal.clone()),
        &portal.connections,
        &portal.state.metrics,
        stop,
    )
    .await;
    delivery.stop().await;
    reconciler.stop().await;
    if let Some(r) = reminders {
        r.stop().await;
    }
    if let Some(sim) = paysim {
        sim.stop().await;
    }
    upkeep.abort();
    settings.abort();
    let _ = settings.await;
    // The housekeeping holds a clone of the store; without it, the store can close with a
    // fresh snapshot. (A run in progress keeps its clone until it ends, as a blocking task;
    // then the store is only flushed.)
    maintenance.abort();
    let _ = maintenance.await;
    served?;
    // Only the state's last owner may close the store: drop the portal's other handles first.
    let state = match Arc::try_unwrap(portal) {
        Ok(portal) => portal.state,
        Err(portal) => portal.state.clone(),
    };
    match Arc::try_unwrap(state) {
        Ok(state) => {
            let closed = crate::telemetry::spawn_blocking(move || state.store.close())
                .await
                .context("closing the store")??;
            eprintln!(
                "Lotse beendet; Speicher geschlossen{}.",
                if closed { "" } else { " (nur gesichert)" }
            );
        }
        Err(state) => {
            state.store.flush()?;
            eprintln!("Lotse beendet; Speicher gesichert.");
        }
    }
    Ok(())
}

/// A positive, finite number of seconds from the configuration.
fn seconds(key: &str, v: f64) -> anyhow::Result<std::time::Duration> {
    if !(v.is_finite() && v > 0.0 && v <= 86_400.0) {
        anyhow::bail!("LOT-P020: {key} must be more than 0 and at most 86400 seconds");
    }
    Ok(std::time::Duration::from_secs_f64(v))
}

/// Starts the payment platform simulator on a free loopback port with a fresh secret and
/// connects every tenant that has no platform configured to it (`lotse serve --dev`).
async fn start_dev_paysim(portal: &Portal) -> anyhow::Result<crate::payment::sim::RunningSim> {
    let mut secret = [0u8; 32];
    lotse_store::Entropy::fill_bytes(&mut lotse_store::OsEntropy, &mut secret)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let sim = crate::payment::sim::spawn(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        secret.to_vec(),
    )
    .await?;
    let configured = portal.state.payment_tenants();
    for t in &portal.state.defs().portal.tenants {
        if configured.contains(&t.slug) {
            continue;
        }
        portal.state.set_payment_platform(
            &t.slug,
            Arc::new(crate::payment::HttpPlatform::new(
                &sim.base,
                &format!("{}-dev", t.slug),
                secret.to_vec(),
                std::time::Duration::from_secs(10),
            )),
        );
    }
    eprintln!(
        "Zahlungsplattform-Simulator: {}/ (für Mandanten ohne eigene Plattform)",
        sim.base
    );
    Ok(sim)
}

/// The future that ends at Ctrl-C or SIGTERM. The SIGTERM handler is installed when this is
/// called, not when the future is first polled: a SIGTERM that comes while the portal is still
/// starting (the housekeeping already runs) ends it cleanly instead of killing it.
pub(crate) fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        #[cfg(unix)]
        {
            match term {
                Some(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                None => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// In `--dev` mode: watch the project's files and reload on every change.
pub fn watch(portal: Arc<Portal>) {
    std::thread::spawn(move || {
        let mut last = fingerprint(&portal.state.project);
        loop {
            std::thread::sleep(std::time::Duration::from_millis(700));
            let now = fingerprint(&portal.state.project);
            if now != last {
                last = now;
                let errors = portal.reload();
                tracing::info!(event = "definitions_reloaded", errors);
            }
        }
    });
}

/// Names, sizes and modification times of every file under workflows/, forms/, pdf-templates/
/// and portal/ (the catalogue entries).
pub(crate) fn fingerprint(
    project: &std::path::Path,
) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = ["workflows", "forms", "pdf-templates", "portal"]
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

/// Ready when the store answers.
async fn readyz(State(p): State<Shared>) -> Response {
    let p2 = p.clone();
    let probe = "00000000000000000000000000000000".parse::<DraftId>();
    let ok = match probe {
        Ok(id) => matches!(
            crate::telemetry::spawn_blocking(move || p2.store.draft(&id)).await,
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

/// Serves connections until `shutdown`, then lets the requests in flight finish (at most 30 s).
/// Each connection has `header_timeout_seconds` to send a request's headers, also while it idles
/// between requests; beyond `max` connections at once a new one is closed at once, counted and
/// logged (at most every ten seconds), so that slow or half-open clients cannot use up the
/// process's file handles.
async fn accept(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &crate::config::ConnectionsConfig,
    metrics: &Arc<telemetry::Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt as _;
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max as usize));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let header_timeout = std::time::Duration::from_secs(u64::from(limits.header_timeout_seconds));
    let mut warned: Option<std::time::Instant> = None;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                Err(e) => {
                    // Out of file handles, for example: wait a moment instead of spinning.
                    tracing::warn!(event = "accept_failed", cause = %e);
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(permit) = permits.clone().try_acquire_owned() else {
            metrics.connection_refused();
            if warned.is_none_or(|at| at.elapsed() > std::time::Duration::from_secs(10)) {
                warned = Some(std::time::Instant::now());
                tracing::warn!(event = "connections_full", max = limits.max);
            }
            drop(stream);
            continue;
        };
        let app =
            app.clone()
                .map_request(move |mut req: axum::http::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    req
                });
        let mut http = hyper::server::conn::http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(header_timeout);
        let conn = http.serve_connection(
            TokioIo::new(stream),
            hyper_util::service::TowerToHyperService::new(app),
        );
        let conn = graceful.watch(conn);
        let open = limits.max as usize - permits.available_permits();
        metrics.connections_open(open);
        let (permits2, metrics2, max) = (permits.clone(), metrics.clone(), limits.max as usize);
        tokio::spawn(async move {
            // A client that stops sending ends here with an error; nothing to report.
            let _ = conn.await;
            drop(permit);
            metrics2.connections_open(max - permits2.available_permits());
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
    }
    Ok(())
}

/// The metrics, for the configured monitoring addresses only (`metrics.allow`); everyone else
/// gets 404. A request without a peer address (the router called in-process, as tests do) is
/// answered.
async fn metrics(State(p): State<Shared>, req: axum::extract::Request) -> Response {
    let peer = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
    if let Some(axum::extract::ConnectInfo(addr)) = peer
        && !p.metrics_allow.contains(&addr.ip())
    {
        return StatusCode::NOT_FOUND.into_response();
    }
    telemetry::metrics(State(p.metrics.clone())).await
}

/// What every request passes on its way in and out, outermost first: the cross-site check and
/// the security headers ([`middleware::security_headers`]), the client's address
/// ([`middleware::client_address`]), the API's problem documents
/// ([`crate::api::problems_everywhere`]) and the limits ([`middleware::limits`]). Composed here,
/// where every room may be used: `http` stays below the front ends.
/// One middleware rather than four: each layer of its own costs the request a boxed future
/// and a copy of the service behind it (docs/BENCHMARKS.md, "The request's log line").
pub(crate) struct Edge {
    pub(crate) cors: Arc<crate::http::cors::CorsOrigins>,
    pub(crate) proxies: Arc<crate::config::proxy::TrustedProxies>,
}

pub(crate) async fn edge(
    State(edge): State<Arc<Edge>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    middleware::security_headers(&edge.cors, req, |req| {
        let req = middleware::client_address(&edge.proxies, req);
        crate::api::problems_everywhere(req, |req| middleware::limits(req, next))
    })
    .await
}
