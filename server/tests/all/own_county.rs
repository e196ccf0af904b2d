//! A county that is not Heinsberg: a fresh project with its own portal, two municipalities and
//! one new workflow, written from docs/tenants.md only, served with its own names, colours and
//! services; and the demo's tenants are nowhere in it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use lotse_server::{Portal, router};
use tower::ServiceExt;

const PORTAL: &str = r#"
name: {de: Bürgerportal Kreis Musterland, en: Citizen portal of Kreis Musterland}
root: kreis-musterland
contact: {phone: 01234 5678-0, email: portal@musterland.example, behoerdennummer_115: true}
links:
  imprint: https://www.musterland.example/impressum
  privacy: https://www.musterland.example/datenschutz
  accessibility: /barrierefreiheit
leichte_sprache: |
  Das ist das Bürger-Portal vom Kreis Musterland.

  Hier stellen Sie Anträge im Internet.
gebaerdensprache:
  video: https://www.musterland.example/dgs.mp4
  description: Ein Video in Deutscher Gebärdensprache erklärt das Portal.
"#;

const COUNTY: &str = r##"
slug: kreis-musterland
name: Kreis Musterland
kind: kreis
prefix: KML
colour: "#1b4332"
address: [Kreishaus 1, 12345 Musterstadt]
office: Kreisverwaltung
phone: 01234 5678-0
email: info@musterland.example
services: []
"##;

const TOWN: &str = r##"
slug: musterstadt
name: Stadt Musterstadt
kind: stadt
parent: kreis-musterland
prefix: MST
colour: "#7b2cbf"
address: [Rathausplatz 1, 12345 Musterstadt]
office: Bürgeramt
phone: 01234 99-0
email: buergeramt@musterstadt.example
opening_hours: ["Montag bis Freitag 8–12 Uhr"]
services: [sperrmuell-abholung]
"##;

const VILLAGE: &str = r##"
slug: beispieldorf
name: Gemeinde Beispieldorf
kind: gemeinde
parent: kreis-musterland
prefix: BSD
colour: "#9d0208"
address: [Dorfstraße 2, 12346 Beispieldorf]
office: Gemeindebüro
phone: 01234 77-0
email: info@beispieldorf.example
services: []
"##;

const WORKFLOW: &str = r#"
id: sperrmuell-abholung
version: 1
title: Sperrmüll-Abholung anmelden
description: Melden Sie Ihren Sperrmüll {bei_kommune} zur Abholung an.
lebenslagen: [umzug]
office: Abfallberatung
steps:
  - id: menge
    title: Wie viel Sperrmüll?
    fields:
      - id: kubikmeter
        label: Menge in Kubikmetern
        schema: { type: integer, minimum: 1, maximum: 5 }
"#;

fn write(root: &Path, path: &str, text: &str) {
    let p = root.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(root, "portal/portal.yaml", PORTAL);
    write(root, "portal/tenants/kreis.yaml", COUNTY);
    write(root, "portal/tenants/musterstadt.yaml", TOWN);
    write(root, "portal/tenants/beispieldorf.yaml", VILLAGE);
    write(root, "workflows/sperrmuell/workflow.yaml", WORKFLOW);
    dir
}

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, String) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let bytes = axum::body::to_bytes(res.into_body(), 1_000_000)
        .await
        .unwrap();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

#[tokio::test]
async fn a_new_county_is_served_with_its_own_names_colours_and_services() {
    let project = project();
    let data = tempfile::tempdir().unwrap();
    let portal = Portal::build(project.path(), &data.path().join("data")).unwrap();
    let app = router(Arc::new(portal));

    let (status, home) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Bürgerportal Kreis Musterland"), "{home}");
    assert!(home.contains("Stadt Musterstadt") && home.contains("Gemeinde Beispieldorf"));
    assert!(home.contains("/leichte-sprache") && home.contains("/gebaerdensprache"));
    assert!(home.contains("https://www.musterland.example/impressum"));
    assert!(
        !home.contains("Heinsberg"),
        "no demo tenant in another county's portal"
    );

    let (_, css) = get(&app, "/static/tenant/musterstadt.css").await;
    assert!(css.contains("#7b2cbf"), "{css}");

    // The town offers the new workflow, with its own kind in the text; the village does not.
    let (status, catalogue) = get(&app, "/musterstadt").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        catalogue.contains("Sperrmüll-Abholung anmelden"),
        "{catalogue}"
    );
    let (status, service) = get(&app, "/musterstadt/leistung/sperrmuell-abholung").await;
    assert_eq!(status, StatusCode::OK, "{service}");
    assert!(
        service.contains("bei der Stadt Musterstadt zur Abholung an"),
        "{service}"
    );
    let (status, _) = get(&app, "/beispieldorf/leistung/sperrmuell-abholung").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = get(&app, "/heinsberg").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, easy) = get(&app, "/leichte-sprache").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        easy.contains("<p>Hier stellen Sie Anträge im Internet.</p>"),
        "{easy}"
    );
    let (status, dgs) = get(&app, "/gebaerdensprache").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dgs.contains("https://www.musterland.example/dgs.mp4"));
}

#[tokio::test]
async fn a_project_without_portal_files_serves_the_demo() {
    let data = tempfile::tempdir().unwrap();
    let empty = tempfile::tempdir().unwrap();
    let portal = Portal::build(empty.path(), &data.path().join("data")).unwrap();
    let app = router(Arc::new(portal));
    let (status, home) = get(&app, "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(home.contains("Serviceportal des Kreises Heinsberg"));
    assert!(home.contains("Gemeinde Gangelt"));
    // The county's logo comes from the compiled-in files, with a policy against scripts.
    let res = app
        .clone()
        .oneshot(
            Request::get("/static/logo/kreis-heinsberg.svg")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("sandbox"));
    let (status, _) = get(&app, "/static/logo/gangelt.svg").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "a tenant without a logo has none"
    );
}

#[test]
fn lotse_check_names_mistakes_in_the_tenant_files_with_their_place() {
    let project = project();
    let root = project.path();
    write(
        root,
        "portal/tenants/beispieldorf.yaml",
        &VILLAGE
            .replace("\"#9d0208\"", "\"#ffd60a\"")
            .replace("prefix: BSD", "prefix: MST"),
    );
    write(
        root,
        "portal/tenants/musterstadt.yaml",
        &TOWN.replace(
            "[sperrmuell-abholung]",
            "[sperrmuell-abholung, gibt-es-nicht]",
        ),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["check", "--short"])
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains("beispieldorf.yaml:7:") && text.contains("LOT-E102"),
        "{text}"
    );
    assert!(
        text.contains("gibt-es-nicht") && text.contains("LOT-E106"),
        "{text}"
    );
    // Fixed colour but the prefix is taken twice.
    write(
        root,
        "portal/tenants/beispieldorf.yaml",
        &VILLAGE.replace("prefix: BSD", "prefix: MST"),
    );
    write(root, "portal/tenants/musterstadt.yaml", TOWN);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["check", "--short"])
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("LOT-E104") && text.contains("\"MST\""),
        "{text}"
    );
}

#[test]
fn a_workflow_no_tenant_offers_is_a_warning_with_a_hint() {
    let project = project();
    let root = project.path();
    write(
        root,
        "workflows/neu/workflow.yaml",
        &WORKFLOW.replace("id: sperrmuell-abholung", "id: neuer-dienst"),
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["check", "--short"])
        .arg(root)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "a warning does not fail the check: {text}"
    );
    assert!(
        text.contains("LOT-E107") && text.contains("neuer-dienst"),
        "{text}"
    );
}
