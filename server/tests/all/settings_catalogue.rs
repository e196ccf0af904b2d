//! The Verwaltung's second half: a municipality's own part of the catalogue entries it offers
//! (checked, all or nothing, shown to citizens at once, audited, exported, reset), and the
//! receipt a fee rule would give, as a signed Muster that is never a submission. Nobody but the
//! tenant's administrator gets in.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use lotse_store::{AuditAction, AuditStore};

use crate::admin::{Auth, Office, hidden};
use crate::settings::setup;

const BASE: &str = "/verwaltung/gangelt/einstellungen";
const ENTRY: &str = "/verwaltung/gangelt/einstellungen/leistungen/sperrmuell";
const CITIZEN: &str = "/gangelt/leistung/sperrmuell";

async fn csrf(o: &Office, cookie: &str) -> String {
    let page = o.get(BASE, &Auth::Cookie(cookie)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    hidden(&page.body, "_csrf")
}

/// The catalogue changes in the audit log: (part, before, after).
fn catalogue_changes(
    s: &crate::settings::Setup,
) -> Vec<(String, serde_json::Value, serde_json::Value)> {
    s.portal
        .state()
        .store()
        .audit_log(0, 1000)
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.action {
            AuditAction::TenantSettingsChanged {
                part,
                before,
                after,
            } => Some((part, before, after)),
            _ => None,
        })
        .collect()
}

const GOOD: [(&str, &str); 7] = [
    ("stelle", "Bauhof Gangelt, Herr Beispiel"),
    ("gebuehren", "Gangelt: viermal im Jahr gebührenfrei"),
    ("dauer", "innerhalb einer Woche"),
    (
        "unterlagen",
        "Kassenzeichen\r\n\r\nFotos der Gegenstände\r\n",
    ),
    (
        "hinweis",
        "Bitte stellen Sie den Sperrmüll erst am Vorabend an die Straße.",
    ),
    ("online", "https://www.gangelt.example/sperrmuell"),
    ("formular", "https://www.gangelt.example/sperrmuell.pdf"),
];

#[tokio::test]
async fn a_municipality_s_own_catalogue_text_shows_at_once_and_resets_to_the_county_s() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let me = Auth::Cookie(&admin);
    let token = csrf(o, &admin).await;

    let list = o.get(&format!("{BASE}/leistungen"), &me).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        list.body.contains(&format!("href=\"{ENTRY}\"")) && list.body.contains("wie beim Kreis"),
        "{}",
        list.body
    );
    // The county's services are not Gangelt's to describe.
    assert!(!list.body.contains("leistungen/kfz-zulassung"));
    let form = o.get(ENTRY, &me).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        form.body
            .contains("Angabe des Kreises: zweimal im Jahr gebührenfrei, danach ab 25,00 €"),
        "{}",
        form.body
    );
    let county_page = o.get(CITIZEN, &Auth::None).await.body;
    assert!(county_page.contains("zweimal im Jahr gebührenfrei"));

    // Mistakes: every one named at the top and at its field; nothing changes.
    let long = "x".repeat(501);
    let bad = [
        ("_csrf", token.as_str()),
        ("aktion", "speichern"),
        ("gebuehren", long.as_str()),
        ("email", "bauhof(at)gangelt"),
        ("online", "http://www.gangelt.example/sperrmuell"),
        ("formular", "javascript:alert(1)"),
        ("stelle", "Bauhof Gangelt"),
    ];
    let r = o.form(ENTRY, &me, &bad).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    for expected in [
        "Nichts wurde geändert",
        "href=\"#feld-gebuehren\"",
        "„Gebühren“ darf höchstens 500 Zeichen lang sein.",
        "href=\"#feld-email\"",
        "href=\"#feld-online\"",
        "„Online-Dienst“ muss eine vollständige, sichere Internetadresse sein, die mit https:// beginnt",
        "„PDF-Formular“ muss eine vollständige, sichere Internetadresse sein",
        "aria-invalid=\"true\"",
        // What was typed stays in the form.
        "value=\"Bauhof Gangelt\"",
    ] {
        assert!(r.body.contains(expected), "{expected}: {}", r.body);
    }
    assert!(
        o.get(CITIZEN, &Auth::None)
            .await
            .body
            .contains("zweimal im Jahr gebührenfrei")
    );
    assert!(catalogue_changes(&s).is_empty());

    // Good values: stored, and the information page shows them at once.
    let mut pairs = vec![("_csrf", token.as_str()), ("aktion", "speichern")];
    pairs.extend(GOOD);
    let r = o.form(ENTRY, &me, &pairs).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert_eq!(
        r.location.as_deref(),
        Some(&*format!("{ENTRY}?gespeichert=ja"))
    );
    let page = o.get(CITIZEN, &Auth::None).await.body;
    for shown in [
        "Bauhof Gangelt, Herr Beispiel, Gemeinde Gangelt",
        "Burgstraße 10",
        "Gangelt: viermal im Jahr gebührenfrei",
        "innerhalb einer Woche",
        "<li>Kassenzeichen</li><li>Fotos der Gegenstände</li>",
        "Bitte stellen Sie den Sperrmüll erst am Vorabend an die Straße.",
        "href=\"https://www.gangelt.example/sperrmuell\"",
        "href=\"https://www.gangelt.example/sperrmuell.pdf\"",
    ] {
        assert!(page.contains(shown), "{shown}: {page}");
    }
    assert!(!page.contains("zweimal im Jahr gebührenfrei"), "{page}");
    // Only Gangelt's page: Erkelenz shows the county's text.
    let erkelenz = o
        .get("/erkelenz/leistung/sperrmuell", &Auth::None)
        .await
        .body;
    assert!(erkelenz.contains("zweimal im Jahr gebührenfrei") && !erkelenz.contains("viermal"));
    let saved = o.get(&format!("{ENTRY}?gespeichert=ja"), &me).await.body;
    assert!(saved.contains("Gespeichert.") && saved.contains("Gangelt: viermal im Jahr"));
    assert!(
        o.get(&format!("{BASE}/leistungen"), &me)
            .await
            .body
            .contains("eigene Angaben")
    );

    // In the audit log with before and after, and in the store for the other nodes.
    let changes = catalogue_changes(&s);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].0, "catalogue:sperrmuell");
    assert_eq!(changes[0].1, serde_json::Value::Null);
    assert_eq!(
        changes[0].2["fees"],
        serde_json::json!("Gangelt: viermal im Jahr gebührenfrei")
    );
    assert_eq!(
        changes[0].2["documents"],
        serde_json::json!(["Kassenzeichen", "Fotos der Gegenstände"])
    );
    let (_, stored) = lotse_server::settings::read_latest(s.portal.state().store(), "gangelt", 0)
        .unwrap()
        .unwrap();
    assert_eq!(
        stored.catalogue["sperrmuell"].online.as_deref(),
        Some("https://www.gangelt.example/sperrmuell")
    );

    // The export is a tenant file with `catalogue:`, and it loads with the same part.
    let export = o.get(&format!("{BASE}/export/mandant.yaml"), &me).await;
    assert!(
        export.body.contains("catalogue:\n  sperrmuell:\n"),
        "{}",
        export.body
    );
    let dir = tempfile::tempdir().unwrap();
    let root = crate::portal::project_root();
    for f in [
        "portal/portal.yaml",
        "portal/tenants/kreis-heinsberg.yaml",
        "portal/logos/kreis-heinsberg.svg",
    ] {
        std::fs::create_dir_all(dir.path().join(f).parent().unwrap()).unwrap();
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::write(dir.path().join("portal/tenants/gangelt.yaml"), &export.body).unwrap();
    let (loaded, problems) = lotse_core::portal::load_portal(dir.path()).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    let gangelt = loaded.unwrap().find("gangelt").cloned().unwrap();
    assert_eq!(
        gangelt.catalogue["sperrmuell"],
        stored.catalogue["sperrmuell"]
    );

    // Back to the county's entry.
    let r = o
        .form(
            ENTRY,
            &me,
            &[
                ("_csrf", token.as_str()),
                ("aktion", "zuruecksetzen"),
                ("gebuehren", "egal"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = o.get(CITIZEN, &Auth::None).await.body;
    assert!(
        page.contains("zweimal im Jahr gebührenfrei") && !page.contains("viermal"),
        "{page}"
    );
    let changes = catalogue_changes(&s);
    assert_eq!(changes.len(), 2);
    assert_eq!(changes[1].2, serde_json::Value::Null);
    // Sending the county's own texts back keeps nothing of Gangelt's: no change.
    let county = [
        ("_csrf", token.as_str()),
        ("aktion", "speichern"),
        (
            "gebuehren",
            "zweimal im Jahr gebührenfrei, danach ab 25,00 €",
        ),
        ("dauer", "  "),
    ];
    assert_eq!(
        o.form(ENTRY, &me, &county).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        catalogue_changes(&s).len(),
        2,
        "nothing of Gangelt's to keep"
    );
}

#[tokio::test]
async fn nobody_but_the_tenant_s_administrator_edits_catalogue_entries_or_opens_a_muster() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let token = csrf(o, &admin).await;
    let case_worker = o.sign_in("gangelt", "sb").await;
    let designer = o.sign_in("gangelt", "gestaltung").await;
    let other = o.sign_in("erkelenz", "admin").await;
    let receipt = format!("{BASE}/regeln/hundesteuer-anmeldung/quittung.pdf");
    let rule = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 55\n";
    for url in [format!("{BASE}/leistungen"), ENTRY.to_string()] {
        let none = o.get(&url, &Auth::None).await;
        assert_eq!(none.status, StatusCode::SEE_OTHER, "{url}");
        assert!(none.location.unwrap_or_default().ends_with("/anmelden"));
        for who in [&case_worker, &designer, &other] {
            assert_eq!(
                o.get(&url, &Auth::Cookie(who)).await.status,
                StatusCode::FORBIDDEN,
                "{url}"
            );
        }
    }
    for url in [ENTRY.to_string(), receipt.clone()] {
        let pairs = [
            ("_csrf", token.as_str()),
            ("aktion", "speichern"),
            ("gebuehren", "frei"),
            ("regel", rule),
        ];
        let none = o.form(&url, &Auth::None, &pairs).await;
        assert_eq!(none.status, StatusCode::SEE_OTHER, "{url}");
        assert!(none.location.unwrap_or_default().ends_with("/anmelden"));
        for who in [&case_worker, &designer, &other] {
            let r = o.form(&url, &Auth::Cookie(who), &pairs).await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{url}");
            assert!(!r.content_type.starts_with("application/pdf"));
        }
        let forged = [("_csrf", "0000"), ("gebuehren", "frei"), ("regel", rule)];
        let r = o.form(&url, &Auth::Cookie(&admin), &forged).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{url}");
        assert!(!r.content_type.starts_with("application/pdf"));
    }
    // Only the entries Gangelt itself offers: not the county's, not an unknown one.
    for id in ["kfz-zulassung", "gibt-es-nicht"] {
        let url = format!("{BASE}/leistungen/{id}");
        let me = Auth::Cookie(&admin);
        assert_eq!(o.get(&url, &me).await.status, StatusCode::NOT_FOUND, "{id}");
        let pairs = [("_csrf", token.as_str()), ("gebuehren", "frei")];
        assert_eq!(
            o.form(&url, &me, &pairs).await.status,
            StatusCode::NOT_FOUND
        );
    }
    // Erkelenz's administrator on Erkelenz's own entry: Gangelt's page does not change.
    let erk_token = hidden(
        &o.get("/verwaltung/erkelenz/einstellungen", &Auth::Cookie(&other))
            .await
            .body,
        "_csrf",
    );
    let r = o
        .form(
            "/verwaltung/erkelenz/einstellungen/leistungen/sperrmuell",
            &Auth::Cookie(&other),
            &[
                ("_csrf", erk_token.as_str()),
                ("gebuehren", "Erkelenz: gratis"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        !o.get(CITIZEN, &Auth::None)
            .await
            .body
            .contains("Erkelenz: gratis")
    );
    assert!(
        o.get("/erkelenz/leistung/sperrmuell", &Auth::None)
            .await
            .body
            .contains("Erkelenz: gratis")
    );
    let changes = catalogue_changes(&s);
    assert_eq!(changes.len(), 1, "only Erkelenz's own change: {changes:?}");
}

#[tokio::test]
async fn the_muster_receipt_is_signed_shows_the_changed_fee_and_is_never_a_submission() {
    let s = setup();
    let o = &s.office;
    let admin = o.sign_in("gangelt", "admin").await;
    let me = Auth::Cookie(&admin);
    let token = csrf(o, &admin).await;
    let rule = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 55\n";
    // The preview offers the Muster for its examples.
    let checked = o
        .form(
            &format!("{BASE}/regeln/hundesteuer-anmeldung"),
            &me,
            &[("_csrf", &token), ("regel", rule), ("aktion", "pruefen")],
        )
        .await;
    assert!(
        checked.body.contains("Musterquittung öffnen")
            && checked
                .body
                .contains("/regeln/hundesteuer-anmeldung/quittung.pdf"),
        "{}",
        checked.body
    );
    let example = checked
        .body
        .split("name=\"beispiel\"")
        .nth(1)
        .and_then(|rest| rest.split("<option value=\"").nth(1))
        .and_then(|rest| rest.split('"').next())
        .unwrap()
        .to_string();
    let url = format!("{BASE}/regeln/hundesteuer-anmeldung/quittung.pdf");
    let r = o
        .form(
            &url,
            &me,
            &[("_csrf", &token), ("regel", rule), ("beispiel", &example)],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.content_type, "application/pdf");
    let report = lotse_receipt::verify_receipt(&r.bytes).unwrap();
    assert!(
        report.valid && report.covers_whole_file,
        "signed like the citizen's"
    );
    assert_eq!(
        report.embedded_json.unwrap()["computed"]["jahressteuer"],
        55
    );
    if let Some(text) = crate::portal::receipt_text(&r.bytes) {
        assert!(text.contains("55,00 €"), "{text}");
        assert!(
            text.contains(
                "MUSTER – keine Eingangsbestätigung, nur eine Vorschau Eingangsbestätigung"
            ) && text.contains("Dies ist keine Eingangsbestätigung"),
            "the mark stands above the heading: {text}"
        );
        // The footer of every page says it too.
        assert!(text.matches("MUSTER – keine Eingangsbestätigung").count() >= 2);
    }
    // Nothing stored: no submission in the Postkorb, no rule, no settings change.
    let postkorb = o.get("/verwaltung/gangelt", &me).await.body;
    assert!(!postkorb.contains("MUSTER"));
    assert!(catalogue_changes(&s).is_empty());
    assert!(
        lotse_server::settings::read_latest(s.portal.state().store(), "gangelt", 0)
            .unwrap()
            .is_none()
    );
    // A rule with a mistake gives the page with the mistake, not a PDF.
    let bad = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    script: \"hunde +\"\n";
    let r = o
        .form(&url, &me, &[("_csrf", &token), ("regel", bad)])
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("enthält Fehler") && r.body.contains("Zeile 5"),
        "{}",
        r.body
    );
}

#[tokio::test]
async fn an_own_part_stored_by_another_node_shows_after_polling() {
    let s = setup();
    let state = s.portal.state();
    let mut changed = lotse_server::settings::TenantSettings::default();
    changed.catalogue.insert(
        "sperrmuell".into(),
        lotse_core::catalogue::LocalPart {
            fees: Some("Gebühren vom anderen Knoten".into()),
            ..Default::default()
        },
    );
    lotse_server::settings::save(state.store(), "gangelt", 0, &changed).unwrap();
    let before = s.office.get(CITIZEN, &Auth::None).await.body;
    assert!(!before.contains("Gebühren vom anderen Knoten"));
    assert!(state.poll_settings().unwrap());
    let after = s.office.get(CITIZEN, &Auth::None).await.body;
    assert!(after.contains("Gebühren vom anderen Knoten"), "{after}");
}
