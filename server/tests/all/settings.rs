//! The Verwaltung of a municipality's own part: a tenant administrator switches services, keeps
//! contact data, changes a fee rule (checked, previewed, all or nothing), manages case-worker
//! accounts and exports the files; every change takes effect at once and is audited; nobody
//! else gets in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use lotse_server::admin::accounts::{self, NewAccount};
use lotse_server::{Portal, router};
use lotse_store::{AuditAction, AuditStore, Role, SledStore, TenantId};
use time::macros::datetime;

use crate::admin::{Auth, Office, PASSWORD, hidden};

fn project() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

pub(crate) struct Setup {
    pub(crate) office: Office,
    pub(crate) portal: Arc<Portal>,
    _dir: tempfile::TempDir,
}

/// Gangelt with an administrator, a case worker and a designer; Erkelenz with an administrator.
pub(crate) fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let store = SledStore::open(data.join("store")).unwrap();
    let cheap = argon2::Params::new(8, 1, 1, None).unwrap();
    let gan = TenantId::new("gangelt", "GAN").unwrap();
    let erk = TenantId::new("erkelenz", "ERK").unwrap();
    for (t, login, role) in [
        (&gan, "admin", Role::TenantAdmin),
        (&gan, "sb", Role::CaseWorker),
        (&gan, "gestaltung", Role::FormDesigner),
        (&erk, "admin", Role::TenantAdmin),
    ] {
        accounts::create_account(
            &store,
            t,
            NewAccount {
                login,
                display_name: "Test",
                role,
                password: PASSWORD,
            },
            cheap.clone(),
            datetime!(2026-11-20 09:00 UTC),
        )
        .unwrap();
    }
    store.close().unwrap();
    let portal = Arc::new(Portal::build(project(), &data).unwrap());
    Setup {
        office: Office::with_app(router(portal.clone())),
        portal,
        _dir: dir,
    }
}

const BASE: &str = "/verwaltung/gangelt/einstellungen";

async fn csrf(o: &Office, cookie: &str) -> String {
    let page = o.get(BASE, &Auth::Cookie(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    hidden(&page.body, "_csrf")
}

#[tokio::test]
async fn a_service_switched_off_leaves_the_catalogue_at_once_and_comes_back() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let catalogue = o.get("/gangelt", &Auth::None).await.body;
    assert!(catalogue.contains("Hund zur Hundesteuer anmelden"));
    // Every box unticked: Gangelt offers nothing.
    let r = o
        .form(
            &format!("{BASE}/dienste"),
            &Auth::Cookie(&admin),
            &[("_csrf", &token)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let catalogue = o.get("/gangelt", &Auth::None).await.body;
    assert!(
        !catalogue.contains("Hund zur Hundesteuer anmelden"),
        "{catalogue}"
    );
    let gone = o
        .get("/gangelt/leistung/hundesteuer-anmeldung", &Auth::None)
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    // Others are untouched.
    assert!(
        o.get("/erkelenz", &Auth::None)
            .await
            .body
            .contains("Hund zur Hundesteuer anmelden")
    );
    // Two services on.
    let r = o
        .form(
            &format!("{BASE}/dienste"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("dienst", "hundesteuer-anmeldung"),
                ("dienst", "bewohnerparkausweis"),
                ("dienst", "gibt-es-nicht"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let catalogue = o.get("/gangelt", &Auth::None).await.body;
    assert!(
        catalogue.contains("Hund zur Hundesteuer anmelden")
            && catalogue.contains("Bewohnerparkausweis"),
        "{catalogue}"
    );
    // The audit log holds both changes with before and after.
    let log = s.portal.state().store().audit_log(0, 1000).unwrap();
    let changes: Vec<_> = log
        .iter()
        .filter_map(|e| match &e.action {
            AuditAction::TenantSettingsChanged {
                part,
                before,
                after,
            } => Some((part.clone(), before.clone(), after.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(changes.len(), 2, "{changes:?}");
    assert_eq!(changes[0].0, "services");
    assert_eq!(changes[0].1, serde_json::Value::Null);
    assert_eq!(changes[0].2, serde_json::json!([]));
    assert_eq!(
        changes[1].2,
        serde_json::json!(["hundesteuer-anmeldung", "bewohnerparkausweis"])
    );
    // The export is the tenant file with the change, and it loads as one.
    let export = o
        .get(
            &format!("{BASE}/export/mandant.yaml"),
            &Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(
        export.body.contains("- bewohnerparkausweis"),
        "{}",
        export.body
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("portal/tenants")).unwrap();
    std::fs::copy(
        project().join("portal/portal.yaml"),
        dir.path().join("portal/portal.yaml"),
    )
    .unwrap();
    std::fs::copy(
        project().join("portal/tenants/kreis-heinsberg.yaml"),
        dir.path().join("portal/tenants/kreis-heinsberg.yaml"),
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("portal/logos")).unwrap();
    std::fs::copy(
        project().join("portal/logos/kreis-heinsberg.svg"),
        dir.path().join("portal/logos/kreis-heinsberg.svg"),
    )
    .unwrap();
    std::fs::write(dir.path().join("portal/tenants/gangelt.yaml"), &export.body).unwrap();
    let (loaded, problems) = lotse_core::portal::load_portal(dir.path()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let gangelt = loaded.unwrap().find("gangelt").cloned().unwrap();
    assert!(
        gangelt.services.offers("bewohnerparkausweis")
            && !gangelt.services.offers("sondernutzung-strasse")
    );
}

#[tokio::test]
async fn a_fee_rule_is_checked_previewed_and_then_charged() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let url = format!("{BASE}/regeln/hundesteuer-anmeldung");
    // A mistake: nothing changes, and the message says where.
    let bad = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    script: \"hunde +\"\n";
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", bad), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("Zeile 5") && r.body.contains("nichts wurde geändert"),
        "{}",
        r.body
    );
    let unknown = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: gibtsnicht\n    fixed: 1\n";
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", unknown), ("aktion", "pruefen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let other = "tenant: erkelenz\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 1\n";
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", other), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("muss gangelt sein"));
    // A good rule: the preview shows the examples before and after, nothing is stored yet.
    let good = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 55\n";
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", good), ("aktion", "pruefen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.body.contains("Vorschau an den Beispielen")
            && r.body.contains("<strong>55,00 €</strong>"),
        "{}",
        r.body
    );
    assert!(
        s.portal
            .state()
            .store()
            .audit_log(0, 1000)
            .unwrap()
            .iter()
            .all(|e| !matches!(e.action, AuditAction::TenantSettingsChanged { .. }))
    );
    // Saved: the next application in Gangelt is charged 55 €.
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", good), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let wf = s
        .portal
        .state()
        .workflow_for("gangelt", "hundesteuer-anmeldung")
        .unwrap();
    let scenario = lotse_core::scenario::load_scenario(
        &project().join("workflows/hundesteuer/scenarios/01-ein-gewoehnlicher-hund.yaml"),
    )
    .unwrap();
    let (_, sample) = lotse_core::scenario::sample_submission_on(
        wf,
        &lotse_core::script::Sandbox::default(),
        &scenario,
    )
    .unwrap();
    assert_eq!(sample.computed["jahressteuer"], serde_json::json!(55));
    let erkelenz = s
        .portal
        .state()
        .workflow_for("erkelenz", "hundesteuer-anmeldung")
        .unwrap();
    let (_, county) = lotse_core::scenario::sample_submission_on(
        erkelenz,
        &lotse_core::script::Sandbox::default(),
        &scenario,
    )
    .unwrap();
    assert_ne!(
        county.computed["jahressteuer"],
        serde_json::json!(55),
        "only Gangelt's fee changed"
    );
    let page = o.get(BASE, &Auth::Cookie(&admin)).await.body;
    assert!(page.contains("in der Verwaltung geändert"), "{page}");
    // Back to the county's rule.
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("regel", ""),
                ("aktion", "zuruecksetzen"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = o.get(BASE, &Auth::Cookie(&admin)).await.body;
    assert!(page.contains("wie der Kreis"), "{page}");
}

#[tokio::test]
async fn contact_data_shows_on_every_page_and_accounts_are_kept_in_the_browser() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let r = o
        .form(
            &format!("{BASE}/kontakt"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("amt", "Bürgerbüro Gangelt"),
                ("telefon", "02454 588-123"),
                ("email", "neu@gangelt.example"),
                ("anschrift", "Burgstraße 12\r\n52538 Gangelt"),
                ("zeiten", "Montag 8–12 Uhr"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let citizen = o.get("/gangelt", &Auth::None).await.body;
    assert!(
        citizen.contains("02454 588-123") && citizen.contains("Burgstraße 12, 52538 Gangelt"),
        "{citizen}"
    );
    let r = o
        .form(
            &format!("{BASE}/kontakt"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("amt", "X"),
                ("telefon", "1"),
                ("email", "kein-at"),
                ("anschrift", "A"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        o.get("/gangelt", &Auth::None)
            .await
            .body
            .contains("neu@gangelt.example"),
        "nothing half-applied"
    );

    // A new case worker: the password is shown once and works; disabled, it no longer does.
    let r = o
        .form(
            &format!("{BASE}/konten"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("aktion", "anlegen"),
                ("benutzername", "neu"),
                ("name", "Nina Neu"),
                ("rolle", "case_worker"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let start = r.body.find("<code class=\"secret\">").unwrap() + "<code class=\"secret\">".len();
    let password = &r.body[start..start + 20];
    let form = o.get("/verwaltung/gangelt/anmelden", &Auth::None).await;
    let login_csrf = hidden(&form.body, "_csrf");
    let signed = o
        .form(
            "/verwaltung/gangelt/anmelden",
            &Auth::None,
            &[
                ("_csrf", &login_csrf),
                ("benutzername", "neu"),
                ("passwort", password),
            ],
        )
        .await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let r = o
        .form(
            &format!("{BASE}/konten"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("aktion", "sperren"),
                ("benutzername", "neu"),
            ],
        )
        .await;
    assert!(r.body.contains("gesperrt"), "{}", r.body);
    let refused = o
        .form(
            "/verwaltung/gangelt/anmelden",
            &Auth::None,
            &[
                ("_csrf", &login_csrf),
                ("benutzername", "neu"),
                ("passwort", password),
            ],
        )
        .await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER);
    // One's own account cannot be locked out.
    let r = o
        .form(
            &format!("{BASE}/konten"),
            &Auth::Cookie(&admin),
            &[
                ("_csrf", &token),
                ("aktion", "sperren"),
                ("benutzername", "admin"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn nobody_but_the_tenant_s_administrator_gets_in() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let case_worker = o.sign_in("gangelt", "sb").await;
    let designer = o.sign_in("gangelt", "gestaltung").await;
    let other = o.sign_in("erkelenz", "admin").await;
    let gets = [
        BASE.to_string(),
        format!("{BASE}/export/mandant.yaml"),
        format!("{BASE}/export/regeln/hundesteuer-anmeldung.yaml"),
    ];
    let posts = [
        "dienste",
        "kontakt",
        "regeln/hundesteuer-anmeldung",
        "konten",
    ]
    .map(|p| format!("{BASE}/{p}"));
    for url in &gets {
        let none = o.get(url, &Auth::None).await;
        assert_eq!(none.status, StatusCode::SEE_OTHER, "{url}");
        assert!(none.location.unwrap_or_default().ends_with("/anmelden"));
        for who in [&case_worker, &designer, &other] {
            let r = o.get(url, &Auth::Cookie(who)).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{url}");
        }
    }
    for url in &posts {
        let pairs = [
            ("_csrf", token.as_str()),
            ("aktion", "speichern"),
            ("regel", "x"),
            ("dienst", "hundesteuer-anmeldung"),
        ];
        assert_eq!(
            o.form(url, &Auth::None, &pairs).await.status,
            StatusCode::SEE_OTHER,
            "{url}"
        );
        for who in [&case_worker, &designer, &other] {
            assert_eq!(
                o.form(url, &Auth::Cookie(who), &pairs).await.status,
                StatusCode::FORBIDDEN,
                "{url}"
            );
        }
        // The administrator's own session, but a form of another session: refused.
        let forged = [("_csrf", "0000"), ("aktion", "speichern"), ("regel", "x")];
        assert_eq!(
            o.form(url, &Auth::Cookie(&admin), &forged).await.status,
            StatusCode::FORBIDDEN,
            "{url}"
        );
    }
    assert!(
        s.portal
            .state()
            .store()
            .audit_log(0, 1000)
            .unwrap()
            .iter()
            .all(|e| !matches!(e.action, AuditAction::TenantSettingsChanged { .. }))
    );
}

#[tokio::test]
async fn a_change_stored_by_another_node_is_found_by_polling() {
    let s = setup();
    let state = s.portal.state();
    let changed = lotse_server::settings::TenantSettings {
        services: Some(vec![]),
        ..Default::default()
    };
    lotse_server::settings::save(state.store(), "gangelt", 0, &changed).unwrap();
    assert!(
        s.office
            .get("/gangelt", &Auth::None)
            .await
            .body
            .contains("Hund zur Hundesteuer")
    );
    assert!(state.poll_settings().unwrap());
    assert!(
        !s.office
            .get("/gangelt", &Auth::None)
            .await
            .body
            .contains("Hund zur Hundesteuer")
    );
    assert!(
        !state.poll_settings().unwrap(),
        "nothing new the second time"
    );
    // A second writer of the same record number loses.
    assert!(matches!(
        lotse_server::settings::save(state.store(), "gangelt", 0, &Default::default()),
        Err(lotse_server::settings::SaveError::Conflict)
    ));
}

#[tokio::test]
async fn all_services_again_is_the_file_s_choice_again() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("erkelenz", "admin").await;
    let base = "/verwaltung/erkelenz/einstellungen";
    let page = o.get(base, &Auth::Cookie(&admin)).await;
    let token = hidden(&page.body, "_csrf");
    let before = o.get("/erkelenz", &Auth::None).await.body;
    assert!(
        before.contains("Container, Gerüst oder Umzugslift"),
        "{before}"
    );
    let off = [
        ("_csrf", token.as_str()),
        ("dienst", "hundesteuer-anmeldung"),
        ("dienst", "bewohnerparkausweis"),
    ];
    assert_eq!(
        o.form(&format!("{base}/dienste"), &Auth::Cookie(&admin), &off)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    assert!(
        !o.get("/erkelenz", &Auth::None)
            .await
            .body
            .contains("Container, Gerüst oder Umzugslift")
    );
    let on = [
        ("_csrf", token.as_str()),
        ("dienst", "hundesteuer-anmeldung"),
        ("dienst", "bewohnerparkausweis"),
        ("dienst", "sondernutzung-strasse"),
    ];
    let r = o
        .form(&format!("{base}/dienste"), &Auth::Cookie(&admin), &on)
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let after = o.get("/erkelenz", &Auth::None).await.body;
    assert!(
        after.contains("Container, Gerüst oder Umzugslift"),
        "{after}"
    );
}

/// One JSON call through the router.
async fn call(
    app: &axum::Router,
    method: &str,
    uri: &str,
    body: Option<serde_json::Value>,
) -> (StatusCode, Vec<u8>) {
    use tower::ServiceExt;
    let mut b = axum::http::Request::builder().method(method).uri(uri);
    let body = match body {
        Some(v) => {
            b = b.header("content-type", "application/json");
            axum::body::Body::from(v.to_string())
        }
        None => axum::body::Body::empty(),
    };
    let res = app.clone().oneshot(b.body(body).unwrap()).await.unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 10_000_000)
        .await
        .unwrap()
        .to_vec();
    (status, bytes)
}

#[tokio::test]
async fn the_next_application_is_charged_the_new_rate_and_its_receipt_says_so() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let rule = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 55\nreceipt:\n  note: Die Steuermarke kommt mit dem Bescheid der Gemeinde Gangelt.\n";
    let r = o
        .form(
            &format!("{BASE}/regeln/hundesteuer-anmeldung"),
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("regel", rule), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let app = router(s.portal.clone());
    let base = "/api/v1/tenants/gangelt";
    let (status, body) = call(
        &app,
        "POST",
        &format!("{base}/services/hundesteuer-anmeldung/applications"),
        Some(serde_json::json!({})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let mut state: serde_json::Value = serde_json::from_slice(&body).unwrap();
    for values in [
        serde_json::json!({
            "halter": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz", "geburtsdatum": "1985-04-12"},
            "anschrift": {"strasse": "Burgstraße", "hausnummer": "1", "plz": "52538", "ort": "Gangelt"},
            "kontakt": {"email": "anna@example.org"},
        }),
        serde_json::json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]}),
        serde_json::json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}),
        serde_json::json!({"ermaessigung": "nein"}),
        serde_json::json!({"lastschrift": "nein"}),
    ] {
        let url = format!(
            "{base}/applications/{}/steps/{}",
            state["id"].as_str().unwrap(),
            state["step"]["id"].as_str().unwrap()
        );
        let (status, body) = call(
            &app,
            "PUT",
            &url,
            Some(serde_json::json!({"revision": state["revision"], "values": values})),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));
        state = serde_json::from_slice(&body).unwrap();
    }
    assert_eq!(state["computed"]["jahressteuer"], 55, "{state}");
    let url = format!(
        "{base}/applications/{}/submit",
        state["id"].as_str().unwrap()
    );
    let (status, body) = call(
        &app,
        "POST",
        &url,
        Some(serde_json::json!({"revision": state["revision"], "declaration": ["richtig"]})),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&body)
    );
    let done: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let (status, pdf) = call(
        &app,
        "GET",
        done["links"]["receipt"].as_str().unwrap(),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let report = lotse_receipt::verify_receipt(&pdf).unwrap();
    assert!(report.valid && report.covers_whole_file);
    let embedded = report
        .embedded_json
        .expect("the application data is sealed in");
    assert_eq!(embedded["computed"]["jahressteuer"], 55, "{embedded}");
}

#[tokio::test]
async fn the_appointment_schedule_is_checked_stored_offered_at_once_and_reset() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let url = format!("{BASE}/termine");
    // Gangelt has no schedule file: no appointments yet, and the page offers a starting point.
    assert_eq!(
        o.get("/gangelt/termine", &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
    let page = o.get(BASE, &Auth::Cookie(&admin)).await.body;
    assert!(page.contains("Geltender Terminplan: noch keine"), "{page}");
    // A mistake: nothing changes, and the message says where.
    let bad = "offices:\n  - id: rathaus\n    name: Rathaus\n    counters: 2\n    hours:\n      mo: [\"08:00-07:00\"]\nservices: []\n";
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("plan", bad), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body.contains("Zeile 6") && r.body.contains("nichts wurde geändert"),
        "{}",
        r.body
    );
    assert!(r.body.contains("aria-invalid=\"true\""));
    assert_eq!(
        o.get("/gangelt/termine", &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
    // A forged form changes nothing either.
    let good = "offices:\n  - id: rathaus\n    name: Rathaus Gangelt\n    address: [Burgstraße 10, 52538 Gangelt]\n    counters: 2\n    slot_minutes: 20\n    hours:\n      mo: [\"08:00-12:00\"]\n      do: [\"14:00-18:00\"]\nservices:\n  - id: meldebescheinigung\n    title: Meldebescheinigung abholen\n    office: rathaus\n    minutes: 20\n";
    let forged = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", "x"), ("plan", good), ("aktion", "speichern")],
        )
        .await;
    assert_ne!(forged.status, StatusCode::SEE_OTHER);
    // Checked, then stored: citizens can book at once.
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("plan", good), ("aktion", "pruefen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.contains("Der Terminplan ist in Ordnung"));
    assert_eq!(
        o.get("/gangelt/termine", &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("plan", good), ("aktion", "speichern")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let offered = o.get("/gangelt/termine", &Auth::None).await;
    assert_eq!(offered.status, StatusCode::OK);
    assert!(offered.body.contains("Meldebescheinigung abholen"));
    let times = o
        .get("/gangelt/termine/meldebescheinigung", &Auth::None)
        .await
        .body;
    assert!(
        times.contains("Rathaus Gangelt, Burgstraße 10, 52538 Gangelt"),
        "{times}"
    );
    // Audited, exported in the file format; Erkelenz is untouched.
    let audited = s
        .portal
        .store()
        .audit_log(0, 1000)
        .unwrap()
        .into_iter()
        .any(|e| matches!(&e.action, AuditAction::TenantSettingsChanged { part, .. } if part == "schedule"));
    assert!(audited);
    let export = o
        .get(
            &format!("{BASE}/export/termine.yaml"),
            &Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(export.body, good);
    assert_eq!(
        o.get("/erkelenz/termine", &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
    // Reset: the file's state again (none).
    let r = o
        .form(
            &url,
            &Auth::Cookie(&admin),
            &[("_csrf", &token), ("aktion", "zuruecksetzen")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        o.get("/gangelt/termine", &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
}

/// The audit log as a table for the tenant's administrators: who read or changed which
/// application, with the download itself in it; one application's rows by its reference;
/// clear errors for a wrong reference or day; nobody else gets it, and no other tenant's row is
/// in it.
#[tokio::test]
async fn the_administrator_downloads_the_audit_log_as_a_german_table() {
    use lotse_store::{IdempotencyKey, NewSubmission, OsEntropy, SubmissionId, SubmissionStore};
    let s = setup();
    let o = &s.office;
    let store = s.portal.state().store();
    let submit = |t: &str, prefix: &str, key: &str| {
        store
            .submit(
                NewSubmission {
                    id: SubmissionId::generate(&mut OsEntropy).unwrap(),
                    tenant: TenantId::new(t, prefix).unwrap(),
                    idempotency_key: IdempotencyKey::try_from(key.to_string()).unwrap(),
                    draft_id: None,
                    workflow_id: "hundesteuer".into(),
                    workflow_version: "1".into(),
                    data: serde_json::json!({"answers": {"name": "Frau Schmitz"}}),
                    applicant: Some("Frau Schmitz".into()),
                    search_text: "Frau Schmitz".into(),
                    notifications: vec![],
                },
                datetime!(2026-11-20 10:30 UTC),
            )
            .unwrap()
    };
    let ours = submit("gangelt", "GAN", "g1");
    let other = submit("gangelt", "GAN", "g2");
    let theirs = submit("erkelenz", "ERK", "e1");
    let sb = o.sign_in("gangelt", "sb").await;
    let page = o
        .get(
            &format!("/verwaltung/gangelt/antrag/{}", ours.id),
            &Auth::Cookie(&sb),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        !page.body.contains("Protokoll dieses Antrags"),
        "the log is for the tenant's administrators"
    );

    let admin = o.sign_in("gangelt", "admin").await;
    // The administrator's page of the application links to its own rows of the log.
    let admin_page = o
        .get(
            &format!("/verwaltung/gangelt/antrag/{}", other.id),
            &Auth::Cookie(&admin),
        )
        .await;
    let link = format!(
        "<a href=\"{BASE}/export/protokoll.csv?aktenzeichen={}\">Protokoll dieses Antrags herunterladen (CSV)</a>",
        other.reference
    );
    assert!(admin_page.body.contains(&link), "{}", admin_page.body);
    let settings = o.get(BASE, &Auth::Cookie(&admin)).await;
    assert!(settings.body.contains("Protokoll herunterladen (CSV)"));
    let url = format!("{BASE}/export/protokoll.csv");
    let all = o.get(&url, &Auth::Cookie(&admin)).await;
    assert_eq!(all.status, StatusCode::OK, "{}", all.body);
    assert_eq!(all.content_type, "text/csv; charset=utf-8");
    let rows: Vec<&str> = all.body.split_terminator("\r\n").collect();
    assert!(rows[0].starts_with("\u{feff}\"Zeitpunkt (Berlin)\",\"Wer\",\"Was\""));
    let row_of = |what: &str| {
        rows.iter()
            .find(|r| r.contains(what))
            .unwrap_or_else(|| panic!("no row {what}: {}", all.body))
            .to_string()
    };
    assert!(row_of("\"Antrag eingegangen\"").contains(&ours.reference.to_string()));
    let opened = row_of("\"Antrag geöffnet (Postkorb)\"");
    assert!(opened.contains("\"sb\"") && opened.contains(&ours.reference.to_string()));
    assert!(row_of("\"Protokoll heruntergeladen\"").contains("\"admin\""));
    assert!(!all.body.contains(&theirs.reference.to_string()));
    assert!(!all.body.contains("Schmitz"), "no answers in the log");

    // One application by its reference: its own rows only.
    let one = o
        .get(
            &format!("{url}?aktenzeichen={}&seit=", ours.reference),
            &Auth::Cookie(&admin),
        )
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body.split_terminator("\r\n").count(), 3, "{}", one.body);
    assert!(!one.body.contains(&other.reference.to_string()));
    // From a day after everything: the header alone.
    let later = o
        .get(&format!("{url}?seit=2999-01-01"), &Auth::Cookie(&admin))
        .await;
    assert_eq!(
        later.body.split_terminator("\r\n").count(),
        1,
        "{}",
        later.body
    );
    // Another tenant's reference, no reference at all, no day at all.
    for (query, says) in [
        (
            format!("aktenzeichen={}", theirs.reference),
            "gibt es bei Gemeinde Gangelt nicht",
        ),
        (
            "aktenzeichen=Hund".to_string(),
            "ist kein Aktenzeichen wie GAN-2026-000123",
        ),
        (
            "seit=gestern".to_string(),
            "bitte ein Datum wie 2026-11-28 angeben",
        ),
    ] {
        let r = o
            .get(&format!("{url}?{query}"), &Auth::Cookie(&admin))
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}");
        // The settings page again, the reason at the form.
        assert!(
            r.body
                .contains("<p class=\"error-message\" id=\"protokoll-fehler\" role=\"alert\">"),
            "{query}: {}",
            r.body
        );
        assert!(r.body.contains("aria-describedby=\"protokoll-fehler\""));
        assert!(r.body.contains(says), "{query}: {}", r.body);
    }
    // A case worker, and Erkelenz's administrator, get nothing.
    assert_eq!(
        o.get(&url, &Auth::Cookie(&sb)).await.status,
        StatusCode::FORBIDDEN
    );
    let erk = o.sign_in("erkelenz", "admin").await;
    let r = o.get(&url, &Auth::Cookie(&erk)).await;
    assert!(!r.body.contains(&ours.reference.to_string()));
    assert_ne!(r.status, StatusCode::OK);

    // A long log goes out as it is read, in many frames, every row whole and in order.
    use lotse_store::{Actor, AuditAction, AuditStore, ReadKind};
    let reads: Vec<AuditAction> = (0..3_000)
        .map(|_| AuditAction::SubmissionRead {
            submission: other.id,
            what: ReadKind::Export,
            sha256: None,
        })
        .collect();
    store
        .append_audits(
            datetime!(2026-11-21 08:00 UTC),
            Actor::System,
            Some(&TenantId::new("gangelt", "GAN").unwrap()),
            reads,
        )
        .unwrap();
    let long = o.get(&url, &Auth::Cookie(&admin)).await;
    assert_eq!(long.status, StatusCode::OK);
    assert!(long.body.len() > 4 * 64 * 1024, "{} bytes", long.body.len());
    let exported: Vec<&str> = long
        .body
        .split_terminator("\r\n")
        .filter(|r| r.contains("\"Antrag exportiert\""))
        .collect();
    assert_eq!(exported.len(), 3_000);
    assert!(
        exported
            .iter()
            .all(|r| r.starts_with("\"21.11.2026 09:00:00\"") && r.ends_with('"'))
    );
}
