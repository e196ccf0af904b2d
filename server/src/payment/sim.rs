//! The payment platform simulator: a small HTTP server of its own on 127.0.0.1 that speaks the
//! platform side of [`super::wire`], so that tests, `.ci/run` and `lotse serve --dev` exercise
//! the real path (payment request, pay page, redirect back, signed notification, status query).
//!
//! On the pay page a tester chooses the outcome (paid, cancelled, failed, pending) and how the
//! notification comes: at once, late, twice, out of order (the final report, then a stale
//! "pending") or never, and may charge and report another amount than requested (an amount
//! mismatch). `POST /steuerung` sets the default for requests without a choice;
//! `GET /api/v1/uebersicht` lists every payment with what was charged, for tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use lotse_core::payment::{Method, PaymentState};
use lotse_store::{Entropy, OsEntropy};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::signature::{SIGNATURE_HEADER, sign, verify};
use super::wire::{CreateRequest, Created, Report};

/// How the notification of a payment's result is sent.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Notify {
    /// Right after the citizen leaves the pay page.
    #[default]
    Now,
    /// After the configured delay.
    Late,
    /// Twice, the same report.
    Twice,
    /// The final report, then a stale "pending" one.
    OutOfOrder,
    /// Never: only a status query finds the result.
    Never,
}

impl Notify {
    pub const ALL: [(Notify, &'static str, &'static str); 5] = [
        (Notify::Now, "now", "sofort"),
        (Notify::Late, "late", "verspätet"),
        (Notify::Twice, "twice", "doppelt"),
        (
            Notify::OutOfOrder,
            "out_of_order",
            "in falscher Reihenfolge",
        ),
        (Notify::Never, "never", "nie"),
    ];
}

/// One payment as the simulator keeps it.
#[derive(Clone, Debug, Serialize)]
pub struct SimPayment {
    pub id: String,
    pub request: CreateRequest,
    pub state: PaymentState,
    pub method: Option<Method>,
    pub transaction_id: Option<String>,
    /// How often the citizen was charged: 1 at most, whatever happens.
    pub charges: u32,
    /// The amount charged and reported, when a tester chose another one than requested (an
    /// amount mismatch); `None`: the amount requested.
    pub charged_cents: Option<i64>,
    pub notifications_sent: u32,
}

#[derive(Clone, Copy, Debug)]
struct Defaults {
    notify: Notify,
    delay: Duration,
}

struct Sim {
    secret: Vec<u8>,
    base: String,
    payments: Mutex<HashMap<String, SimPayment>>,
    defaults: Mutex<Defaults>,
}

type Shared = Arc<Sim>;

/// The simulator is a platform of its own: it signs with the system's time.
fn now() -> OffsetDateTime {
    lotse_core::Clock::now(&lotse_core::SystemClock)
}

fn random_hex(bytes: usize) -> Option<String> {
    let mut b = vec![0u8; bytes];
    OsEntropy.fill_bytes(&mut b).ok()?;
    Some(b.iter().map(|x| format!("{x:02x}")).collect())
}

/// A running simulator; [`RunningSim::stop`] ends it.
pub struct RunningSim {
    pub addr: SocketAddr,
    /// `http://127.0.0.1:PORT`
    pub base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningSim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSim")
            .field("addr", &self.addr)
            .finish()
    }
}

impl RunningSim {
    pub async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Starts the simulator on `listen` (port 0: any free port) with the shared `secret`.
pub async fn spawn(listen: SocketAddr, secret: Vec<u8>) -> anyhow::Result<RunningSim> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let base = format!("http://{addr}");
    let sim = Arc::new(Sim {
        secret,
        base: base.clone(),
        payments: Mutex::new(HashMap::new()),
        defaults: Mutex::new(Defaults {
            notify: Notify::Now,
            delay: Duration::from_secs(2),
        }),
    });
    let app = Router::new()
        .route("/api/v1/zahlungen", post(create))
        .route("/api/v1/zahlungen/{id}", get(status))
        .route("/api/v1/zahlungen/{id}/benachrichtigen", post(notify_again))
        .route("/api/v1/uebersicht", get(overview))
        .route("/steuerung", post(control))
        .route("/bezahlen/{id}", get(pay_page).post(pay))
        .with_state(sim);
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningSim {
        addr,
        base,
        stop: Some(tx),
        task,
    })
}

fn signed_json(secret: &[u8], status: StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (
                header::HeaderName::from_static("zahlung-signatur"),
                sign(secret, now(), &body),
            ),
        ],
        body,
    )
        .into_response()
}

fn report(p: &SimPayment) -> Report {
    Report {
        id: p.id.clone(),
        reference: p.request.reference.clone(),
        merchant_id: p.request.merchant_id.clone(),
        state: p.state,
        amount_cents: p.charged_cents.unwrap_or(p.request.amount_cents),
        method: p.method,
        transaction_id: p.transaction_id.clone(),
    }
}

async fn create(State(sim): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    if !verify(&sim.secret, sig, &body, now()) {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let Ok(request) = serde_json::from_slice::<CreateRequest>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad request").into_response();
    };
    if request.amount_cents <= 0 || request.methods.is_empty() {
        return (StatusCode::UNPROCESSABLE_ENTITY, "bad amount or methods").into_response();
    }
    let Some(id) = random_hex(16) else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let created = Created {
        id: id.clone(),
        pay_url: format!("{}/bezahlen/{id}", sim.base),
    };
    if let Ok(mut m) = sim.payments.lock() {
        m.insert(
            id.clone(),
            SimPayment {
                id,
                request,
                state: PaymentState::Open,
                method: None,
                transaction_id: None,
                charges: 0,
                charged_cents: None,
                notifications_sent: 0,
            },
        );
    }
    match serde_json::to_vec(&created) {
        Ok(b) => (
            StatusCode::CREATED,
            [(header::CONTENT_TYPE, "application/json")],
            b,
        )
            .into_response(),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

fn find(sim: &Sim, id: &str) -> Option<SimPayment> {
    sim.payments.lock().ok()?.get(id).cloned()
}

async fn status(State(sim): State<Shared>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let sig = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
    let message = format!("GET /api/v1/zahlungen/{id}");
    if !verify(&sim.secret, sig, message.as_bytes(), now()) {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    let Some(p) = find(&sim, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    match serde_json::to_vec(&report(&p)) {
        Ok(b) => signed_json(&sim.secret, StatusCode::OK, b),
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn pay_page(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(p) = find(&sim, &id) else {
        return (StatusCode::NOT_FOUND, Html(super::sim_page::not_found())).into_response();
    };
    let default = sim.defaults.lock().map(|d| d.notify).unwrap_or_default();
    Html(super::sim_page::page(&p, default)).into_response()
}

#[derive(Deserialize)]
struct PayForm {
    ergebnis: String,
    #[serde(default)]
    methode: Option<String>,
    #[serde(default)]
    benachrichtigung: Option<Notify>,
    /// Another amount to charge and report, in cents (empty: the amount requested).
    #[serde(default)]
    betrag_cents: Option<String>,
}

async fn pay(
    State(sim): State<Shared>,
    Path(id): Path<String>,
    Form(f): Form<PayForm>,
) -> Response {
    let outcome = match f.ergebnis.as_str() {
        "paid" => PaymentState::Paid,
        "cancelled" => PaymentState::Cancelled,
        "failed" => PaymentState::Failed,
        "pending" => PaymentState::Pending,
        _ => return (StatusCode::BAD_REQUEST, "unknown outcome").into_response(),
    };
    let charged = match f.betrag_cents.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(c) => match c.parse::<i64>() {
            Ok(c) if c > 0 => Some(c),
            _ => {
                return (StatusCode::BAD_REQUEST, "betrag_cents: whole cents above 0")
                    .into_response();
            }
        },
    };
    let defaults = sim.defaults.lock().map(|d| *d).ok();
    let notify = f
        .benachrichtigung
        .or(defaults.map(|d| d.notify))
        .unwrap_or_default();
    let delay = defaults.map(|d| d.delay).unwrap_or(Duration::from_secs(2));
    let updated = {
        let Ok(mut m) = sim.payments.lock() else {
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        };
        let Some(p) = m.get_mut(&id) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        // A final payment stays as it is: a second click on the pay page charges nothing.
        if !p.state.is_final() {
            let method = f
                .methode
                .as_deref()
                .and_then(Method::parse)
                .filter(|m| p.request.methods.contains(m))
                .or(p.request.methods.first().copied());
            p.state = outcome;
            p.method = method;
            if outcome == PaymentState::Paid {
                p.charges += 1;
                p.charged_cents = charged.filter(|c| *c != p.request.amount_cents);
                p.transaction_id = random_hex(8).map(|h| format!("TX-{}", h.to_uppercase()));
            }
        }
        p.clone()
    };
    send_notifications(sim.clone(), updated.clone(), notify, delay);
    Redirect::to(&updated.request.return_url).into_response()
}

fn send_notifications(sim: Shared, p: SimPayment, notify: Notify, delay: Duration) {
    let reports: Vec<(Duration, Report)> = match notify {
        Notify::Never => return,
        Notify::Now => vec![(Duration::ZERO, report(&p))],
        Notify::Late => vec![(delay, report(&p))],
        Notify::Twice => vec![
            (Duration::ZERO, report(&p)),
            (Duration::from_millis(50), report(&p)),
        ],
        Notify::OutOfOrder => {
            let stale = Report {
                state: PaymentState::Pending,
                method: None,
                transaction_id: None,
                ..report(&p)
            };
            vec![
                (Duration::ZERO, report(&p)),
                (Duration::from_millis(50), stale),
            ]
        }
    };
    tokio::spawn(async move {
        for (wait, r) in reports {
            tokio::time::sleep(wait).await;
            deliver(&sim, &p.id, &p.request.notify_url, &r).await;
        }
    });
}

/// Sends one notification, retried a few times like a platform does while the shop is down.
async fn deliver(sim: &Shared, id: &str, url: &str, r: &Report) {
    let Ok(body) = serde_json::to_vec(r) else {
        return;
    };
    for attempt in 0..4u32 {
        let (secret, url, body2) = (sim.secret.clone(), url.to_string(), body.clone());
        let sent = tokio::task::spawn_blocking(move || {
            super::client::request(
                "POST",
                &url,
                &[
                    ("Content-Type", "application/json".into()),
                    (SIGNATURE_HEADER, sign(&secret, now(), &body2)),
                ],
                &body2,
                Duration::from_secs(5),
            )
        })
        .await;
        if let Ok(Ok(a)) = sent
            && a.status < 300
        {
            if let Ok(mut m) = sim.payments.lock()
                && let Some(p) = m.get_mut(id)
            {
                p.notifications_sent += 1;
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt + 1))).await;
    }
}

async fn notify_again(State(sim): State<Shared>, Path(id): Path<String>) -> Response {
    let Some(p) = find(&sim, &id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let r = report(&p);
    deliver(&sim, &p.id, &p.request.notify_url, &r).await;
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct ControlForm {
    benachrichtigung: Notify,
    #[serde(default)]
    verzoegerung_ms: Option<u64>,
}

async fn control(State(sim): State<Shared>, Form(f): Form<ControlForm>) -> Response {
    if let Ok(mut d) = sim.defaults.lock() {
        d.notify = f.benachrichtigung;
        if let Some(ms) = f.verzoegerung_ms {
            d.delay = Duration::from_millis(ms.min(600_000));
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn overview(State(sim): State<Shared>) -> Response {
    let list: Vec<SimPayment> = sim
        .payments
        .lock()
        .map(|m| m.values().cloned().collect())
        .unwrap_or_default();
    axum::Json(list).into_response()
}
