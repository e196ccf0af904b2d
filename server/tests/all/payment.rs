//! Online payment end to end, over real HTTP on both store backends: Lotse on a port of its
//! own, the payment platform simulator on another, a citizen using the JSON API and the portal's
//! pages, the platform's pay page and its notifications. What must hold: a confirmed payment is
//! never lost (notification, return or reconciliation all lead to the office), nothing is
//! charged twice, an unpaid application never reaches the office, the amount charged is the
//! amount shown and printed, and a tampered notification is refused.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use lotse_server::Portal;
use lotse_server::payment::client::{Answer, request};
use lotse_server::payment::sim::{self, RunningSim};
use lotse_server::payment::{HttpPlatform, signature};
use lotse_store::{SubmissionStore, TenantId};
use serde_json::{Value, json};

const SECRET: &[u8] = b"ein-geheimnis-nur-fuer-tests-0001";
const TENANT: &str = "heinsberg";
const WF: &str = "bewohnerparkausweis";

struct PayApp {
    base: String,
    sim: Option<RunningSim>,
    portal: Arc<Portal>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

enum Backend {
    Sled,
    Postgres,
}

impl PayApp {
    /// Lotse and the simulator, each on its own loopback port; `None`: PostgreSQL is not
    /// available here (and not required).
    async fn spawn(backend: Backend) -> Option<PayApp> {
        let dir = tempfile::tempdir().unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut config = lotse_server::config::Config {
            listen: addr,
            project_dir: crate::portal::project_root().to_path_buf(),
            data_dir: dir.path().join("data"),
            ..Default::default()
        };
        if let Backend::Postgres = backend {
            let url = tokio::task::spawn_blocking(lotse_store::pg_testing::test_database)
                .await
                .unwrap()
                .unwrap()?;
            config.store.backend = lotse_server::config::Backend::Postgres;
            config.store.url = Some(url);
        }
        let sim = sim::spawn(SocketAddr::from(([127, 0, 0, 1], 0)), SECRET.to_vec())
            .await
            .unwrap();
        let built = tokio::task::spawn_blocking(move || Portal::build_with(&config))
            .await
            .unwrap()
            .unwrap();
        let portal = Arc::new(built);
        portal.state().set_payment_platform(
            TENANT,
            Arc::new(HttpPlatform::new(
                &sim.base,
                "HEI-TEST",
                SECRET.to_vec(),
                Duration::from_secs(5),
            )),
        );
        let base = format!("http://{addr}");
        portal.state().set_public_url(&base);
        let app = lotse_server::router(portal.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Some(PayApp {
            base,
            sim: Some(sim),
            portal,
            server,
            _dir: dir,
        })
    }

    fn sim_base(&self) -> String {
        self.sim.as_ref().unwrap().base.clone()
    }

    async fn call(&self, method: &str, url: &str, body: Option<Value>) -> (u16, Value, Answer) {
        let url = if url.starts_with("http") {
            url.to_string()
        } else {
            format!("{}{url}", self.base)
        };
        let method = method.to_string();
        let (headers, bytes) = match &body {
            Some(b) => (
                vec![("Content-Type", "application/json".to_string())],
                serde_json::to_vec(b).unwrap(),
            ),
            None => (vec![], vec![]),
        };
        let a = tokio::task::spawn_blocking(move || {
            request(&method, &url, &headers, &bytes, Duration::from_secs(20))
        })
        .await
        .unwrap()
        .unwrap();
        let v = serde_json::from_slice(&a.body).unwrap_or(Value::Null);
        (a.status, v, a)
    }

    async fn form(&self, url: &str, pairs: &[(&str, &str)]) -> Answer {
        let body = serde_urlencoded::to_string(pairs).unwrap().into_bytes();
        let url = url.to_string();
        tokio::task::spawn_blocking(move || {
            request(
                "POST",
                &url,
                &[
                    (
                        "Content-Type",
                        "application/x-www-form-urlencoded".to_string(),
                    ),
                    ("Sec-Fetch-Site", "same-origin".to_string()),
                ],
                &body,
                Duration::from_secs(20),
            )
        })
        .await
        .unwrap()
        .unwrap()
    }

    async fn page(&self, path: &str) -> Answer {
        let (_, _, a) = self.call("GET", path, None).await;
        a
    }

    /// A Bewohnerparkausweis for `jahre` years, paid online, through the JSON API up to
    /// "Absenden und bezahlen": the 202 answer's payment.
    async fn apply_and_send(&self, jahre: i64) -> (String, Value) {
        let api = format!("/api/v1/tenants/{TENANT}");
        let (s, v, _) = self
            .call(
                "POST",
                &format!("{api}/services/{WF}/applications"),
                Some(json!({})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        let id = v["id"].as_str().unwrap().to_string();
        let mut rev = v["revision"].as_u64().unwrap();
        let today = self.portal.state().now().date();
        let beginn = format!(
            "{:04}-{:02}-{:02}",
            today.year(),
            u8::from(today.month()),
            today.day()
        );
        let steps = [
            (
                "antragsteller",
                json!({
                    "person": {"anrede": "Herr", "vorname": "Jan", "nachname": "Hermanns", "geburtsdatum": "1979-08-23"},
                    "meldeadresse": {"strasse": "Hochstraße", "hausnummer": "112", "plz": "52525", "ort": "Heinsberg"},
                    "kontakt": {"email": "jan.hermanns@example.org"},
                    "zone": "A",
                    "wohnt_in_zone": true
                }),
            ),
            (
                "fahrzeug",
                json!({"fahrzeug": {"kennzeichen": "HS-JH 112", "hersteller": "Volkswagen", "modell": "Golf", "fahrzeugart": "Pkw", "halter_art": "privat"}, "auf_sie_zugelassen": "ja"}),
            ),
            ("gueltigkeit", json!({"jahre": jahre, "beginn": beginn})),
            ("zahlung", json!({"zahlungsart": "online"})),
        ];
        for (step, values) in steps {
            let (s, v, _) = self
                .call(
                    "PUT",
                    &format!("{api}/applications/{id}/steps/{step}"),
                    Some(json!({"revision": rev, "values": values})),
                )
                .await;
            assert_eq!(s, 200, "{step}: {v}");
            rev = v["revision"].as_u64().unwrap();
        }
        let (s, v, _) = self
            .call(
                "POST",
                &format!("{api}/applications/{id}/submit"),
                Some(json!({"revision": rev, "declaration": ["richtig", "rueckgabe"]})),
            )
            .await;
        assert_eq!(s, 202, "{v}");
        assert_eq!(v["position"], "payment_pending", "{v}");
        (id, v["payment"].clone())
    }

    /// The citizen at the pay page: chooses `outcome` and how the platform notifies; returns
    /// where the platform sends the browser back to.
    async fn pay_at_platform(&self, pay_page: &str, outcome: &str, notify: &str) -> String {
        let page = self.page(pay_page).await;
        assert_eq!(page.status, 200);
        let a = self
            .form(
                pay_page,
                &[
                    ("methode", "giropay"),
                    ("ergebnis", outcome),
                    ("benachrichtigung", notify),
                ],
            )
            .await;
        assert_eq!(a.status, 303);
        a.header("location").unwrap().to_string()
    }

    fn tenant(&self) -> TenantId {
        TenantId::new(TENANT, "HEI").unwrap()
    }

    /// The tenant's submissions, as the office's Postkorb has them.
    async fn submissions(&self) -> Vec<lotse_store::Submission> {
        let p = self.portal.clone();
        let t = self.tenant();
        tokio::task::spawn_blocking(move || p.store().submissions(&t, None, 100).unwrap())
            .await
            .unwrap()
    }

    async fn wait_for_submissions(&self, n: usize) -> Vec<lotse_store::Submission> {
        for _ in 0..100 {
            let s = self.submissions().await;
            if s.len() >= n {
                return s;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no submission arrived")
    }

    async fn platform_overview(&self) -> Vec<Value> {
        let (_, v, _) = self
            .call(
                "GET",
                &format!("{}/api/v1/uebersicht", self.sim_base()),
                None,
            )
            .await;
        v.as_array().unwrap().clone()
    }

    async fn reconcile(&self) -> usize {
        let state = self.portal.state().clone();
        tokio::task::spawn_blocking(move || {
            lotse_server::workers::payments::round(&state, Duration::ZERO)
        })
        .await
        .unwrap()
    }

    async fn stop(mut self) {
        if let Some(s) = self.sim.take() {
            s.stop().await;
        }
        self.server.abort();
    }
}

fn pay_page(payment: &Value) -> String {
    payment["links"]["pay_page"].as_str().unwrap().to_string()
}

fn paid_of(s: &lotse_store::Submission) -> &Value {
    &s.data["payment"]
}

async fn a_paid_application_reaches_the_office_once_with_amount_method_and_transaction(
    app: PayApp,
) {
    let (draft, payment) = app.apply_and_send(2).await;
    assert_eq!(payment["amount_cents"], 6140);
    assert_eq!(payment["amount"], "61,40 €");
    assert!(
        payment["purpose"]
            .as_str()
            .unwrap()
            .starts_with("Bewohnerparkausweis HEI-Z-")
    );
    // Sent, but not in the Postkorb: payment pending.
    assert!(app.submissions().await.is_empty());
    let pid = payment["id"].as_str().unwrap().to_string();
    let page = app.page(&format!("/{TENANT}/zahlung/{pid}")).await;
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("<strong>offen</strong>"), "{html}");
    assert!(html.contains("61,40 €"), "{html}");
    // The draft leads to the payment now.
    let (s, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/applications/{draft}"),
            None,
        )
        .await;
    assert_eq!((s, v["position"].as_str()), (200, Some("payment_pending")));
    // At the platform: the amount the citizen saw.
    let back = app
        .pay_at_platform(&pay_page(&payment), "paid", "twice")
        .await;
    assert_eq!(back, format!("{}/{TENANT}/zahlung/{pid}/zurueck", app.base));
    let ret = app.page(&back).await;
    assert_eq!(ret.status, 303);
    let page = app.page(&format!("/{TENANT}/zahlung/{pid}")).await;
    let html = String::from_utf8_lossy(&page.body).to_string();
    assert!(html.contains("<strong>bezahlt</strong>"), "{html}");
    let subs = app.wait_for_submissions(1).await;
    // Reloading the return URL and the repeated notification change nothing.
    app.page(&back).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let subs2 = app.submissions().await;
    assert_eq!(subs2.len(), 1);
    assert_eq!(subs2[0].id, subs[0].id);
    let platform = app.platform_overview().await;
    assert_eq!(platform.len(), 1);
    assert_eq!(platform[0]["charges"], 1);
    assert_eq!(platform[0]["request"]["amount_cents"], 6140);
    let paid = paid_of(&subs[0]);
    assert_eq!(paid["state"], "paid");
    assert_eq!(paid["amount_cents"], 6140);
    assert_eq!(paid["method"], "giropay");
    assert_eq!(paid["transaction_id"], platform[0]["transaction_id"]);
    assert!(html.contains(paid["transaction_id"].as_str().unwrap()));
    // The webhook delivers the stored submission as it is (the body's `submission`): with
    // its payment.
    let body = lotse_server::delivery::submission_json(&subs[0]).unwrap();
    let delivered: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(delivered["data"]["payment"], *paid);
    // The citizen's status page shows the payment too.
    let status = app.page(&format!("/{TENANT}/eingang/{}", subs[0].id)).await;
    let status = String::from_utf8_lossy(&status.body).to_string();
    assert!(
        status.contains("Transaktionsnummer")
            && status.contains(paid["transaction_id"].as_str().unwrap())
            && status.contains("61,40 €"),
        "{status}"
    );
    // A second payment request for the paid application is refused.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(v["code"], "LOT-H020");
    // The receipt carries amount, method and transaction id.
    let (s, _, pdf) = app
        .call(
            "GET",
            &format!("/{TENANT}/eingang/{}/quittung.pdf", subs[0].id),
            None,
        )
        .await;
    assert_eq!(s, 200);
    if let Some(text) = pdftotext(&pdf.body) {
        for want in [
            "61,40 €",
            "giropay",
            paid["transaction_id"].as_str().unwrap(),
            "Transaktionsnummer",
        ] {
            assert!(text.contains(want), "{want} not in the receipt: {text}");
        }
    }
    app.stop().await;
}

/// The receipt's text, when poppler's pdftotext is installed (required in CI).
fn pdftotext(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("q.pdf");
    std::fs::write(&file, pdf).unwrap();
    match std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
    {
        Ok(o) => Some(String::from_utf8_lossy(&o.stdout).to_string()),
        Err(_) if std::env::var("LOTSE_REQUIRE_POPPLER").is_err() => None,
        Err(e) => panic!("pdftotext is required: {e}"),
    }
}

async fn a_citizen_who_closes_the_browser_on_the_pay_page_still_reaches_the_office(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    // Paid; the browser never comes back: the notification alone carries it.
    app.pay_at_platform(&pay_page(&payment), "paid", "now")
        .await;
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(paid_of(&subs[0])["amount_cents"], 3070);
    app.stop().await;
}

async fn without_return_or_notification_the_reconciliation_job_finds_the_payment(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    app.pay_at_platform(&pay_page(&payment), "paid", "never")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.submissions().await.is_empty());
    assert!(app.reconcile().await >= 1);
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(paid_of(&subs[0])["state"], "paid");
    // Settled: nothing open is left to ask about, and another round changes nothing.
    assert_eq!(app.reconcile().await, 0);
    assert_eq!(app.submissions().await.len(), 1);
    app.stop().await;
}

async fn cancelled_and_failed_payments_never_reach_the_office_and_can_be_tried_again(app: PayApp) {
    let (_, payment) = app.apply_and_send(2).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    let back = app
        .pay_at_platform(&pay_page(&payment), "cancelled", "now")
        .await;
    app.page(&back).await;
    let html = String::from_utf8_lossy(&app.page(&format!("/{TENANT}/zahlung/{pid}")).await.body)
        .to_string();
    assert!(html.contains("<strong>abgebrochen</strong>"), "{html}");
    assert!(html.contains("Erneut versuchen"), "{html}");
    // Try again: a new request at the platform.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let second = v["links"]["pay_page"].as_str().unwrap().to_string();
    assert_ne!(second, pay_page(&payment));
    // Asking again while it is open gives the same request, not a third one.
    let (_, again, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    assert_eq!(again["links"]["pay_page"], second.as_str());
    let back = app.pay_at_platform(&second, "failed", "now").await;
    app.page(&back).await;
    let html = String::from_utf8_lossy(&app.page(&format!("/{TENANT}/zahlung/{pid}")).await.body)
        .to_string();
    assert!(html.contains("<strong>fehlgeschlagen</strong>"), "{html}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        app.submissions().await.is_empty(),
        "unpaid reached the office"
    );
    // A third request, paid: one submission, one charge over all three requests.
    let (_, third, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}/pay"),
            None,
        )
        .await;
    let back = app
        .pay_at_platform(third["links"]["pay_page"].as_str().unwrap(), "paid", "now")
        .await;
    app.page(&back).await;
    let subs = app.wait_for_submissions(1).await;
    assert_eq!(subs.len(), 1);
    let platform = app.platform_overview().await;
    assert_eq!(platform.len(), 3);
    let charges: u64 = platform
        .iter()
        .map(|p| p["charges"].as_u64().unwrap())
        .sum();
    assert_eq!(charges, 1);
    app.stop().await;
}

async fn a_tampered_or_unsigned_notification_is_refused(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    let platform = app.platform_overview().await;
    let body = serde_json::to_vec(&json!({
        "id": platform[0]["id"],
        "reference": platform[0]["request"]["reference"],
        "merchant_id": "HEI-TEST",
        "state": "paid",
        "amount_cents": 3070,
        "method": "giropay",
        "transaction_id": "TX-GEFAELSCHT"
    }))
    .unwrap();
    let url = format!("{}/{TENANT}/zahlung/{pid}/benachrichtigung", app.base);
    let now = app.portal.state().now();
    for sig in [
        None,
        Some(signature::sign(b"falsches-geheimnis-0000000", now, &body)),
        // Signed right, but for another body.
        Some(signature::sign(SECRET, now, b"{}")),
    ] {
        let (url, body, sig) = (url.clone(), body.clone(), sig.clone());
        let a = tokio::task::spawn_blocking(move || {
            let mut h = vec![("Content-Type", "application/json".to_string())];
            if let Some(s) = sig {
                h.push((signature::SIGNATURE_HEADER, s));
            }
            request("POST", &url, &h, &body, Duration::from_secs(10)).unwrap()
        })
        .await
        .unwrap();
        assert_eq!(a.status, 401);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(app.submissions().await.is_empty());
    let (_, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "open");
    app.stop().await;
}

async fn late_and_out_of_order_notifications_change_nothing_once_paid(app: PayApp) {
    let (_, payment) = app.apply_and_send(1).await;
    let pid = payment["id"].as_str().unwrap().to_string();
    app.pay_at_platform(&pay_page(&payment), "paid", "out_of_order")
        .await;
    app.wait_for_submissions(1).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, v, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/payments/{pid}"),
            None,
        )
        .await;
    assert_eq!(v["state"], "paid", "{v}");
    assert_eq!(app.submissions().await.len(), 1);
    let platform = app.platform_overview().await;
    assert_eq!(platform[0]["notifications_sent"], 2);
    app.stop().await;
}

async fn a_double_click_on_send_makes_one_payment_request(app: PayApp) {
    let (id, payment) = app.apply_and_send(1).await;
    // The same submit again (a double click, a retry): the same payment, no second request.
    let (s, v, _) = app
        .call(
            "POST",
            &format!("/api/v1/tenants/{TENANT}/applications/{id}/submit"),
            Some(json!({"revision": 4, "declaration": ["richtig", "rueckgabe"]})),
        )
        .await;
    assert!(s == 409 || s == 202, "{s} {v}");
    let (_, state, _) = app
        .call(
            "GET",
            &format!("/api/v1/tenants/{TENANT}/applications/{id}"),
            None,
        )
        .await;
    assert_eq!(state["payment"]["id"], payment["id"]);
    assert_eq!(app.platform_overview().await.len(), 1);
    app.stop().await;
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sled {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let app = super::PayApp::spawn(super::Backend::Sled).await.unwrap();
                    super::$case(app).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let Some(app) = super::PayApp::spawn(super::Backend::Postgres).await else {
                        return;
                    };
                    super::$case(app).await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_paid_application_reaches_the_office_once_with_amount_method_and_transaction,
    a_citizen_who_closes_the_browser_on_the_pay_page_still_reaches_the_office,
    without_return_or_notification_the_reconciliation_job_finds_the_payment,
    cancelled_and_failed_payments_never_reach_the_office_and_can_be_tried_again,
    a_tampered_or_unsigned_notification_is_refused,
    late_and_out_of_order_notifications_change_nothing_once_paid,
    a_double_click_on_send_makes_one_payment_request,
);
