//! Nachweise end to end: a citizen without JavaScript uploads the lease to the
//! Bewohnerparkausweis (multipart form on the step, a real clamd from Debian's clamav-daemon
//! on loopback), the EICAR test file and a renamed program are refused, a file survives a
//! refused step and can be removed, and the receipt names every file with its SHA-256; with
//! the scanner down the tenant's rule decides; the JSON API uploads and removes files and an
//! answer cannot claim a file the application never uploaded. docs/uploads.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_server::{Portal, router};
use lotse_store::{AttachmentHash, AttachmentStore};
use tower::ServiceExt;

use lotse_server::uploads::intake::Unscanned;

use crate::delivery::free_port;
use crate::portal::{project_root, receipt_text};
use crate::uploads::{EICAR, TestClamd};

const FIXTURES: &str = "workflows/bewohnerparken/scenarios/fixtures";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(project_root().join(FIXTURES).join(name)).unwrap()
}

struct Reply {
    status: StatusCode,
    location: Option<String>,
    body: String,
    bytes: Vec<u8>,
}

struct Citizen {
    app: axum::Router,
    portal: Arc<Portal>,
}

/// A part of a multipart form: a text field, or a file with its name and bytes.
enum Part<'a> {
    Text(&'a str, &'a str),
    File(&'a str, &'a str, &'a [u8]),
}

impl Citizen {
    fn new(data: &Path, clamd: Option<String>, unscanned: Option<Unscanned>) -> Citizen {
        let mut config = lotse_server::config::Config {
            project_dir: project_root().to_path_buf(),
            data_dir: data.to_path_buf(),
            ..Default::default()
        };
        config.uploads.clamd = clamd;
        if let Some(rule) = unscanned {
            let t = lotse_server::config::TenantConfig {
                unscanned_uploads: Some(rule),
                ..Default::default()
            };
            config.tenants.insert("heinsberg".into(), t);
        }
        let portal = Arc::new(Portal::build_with(&config).unwrap());
        Citizen {
            app: router(portal.clone()),
            portal,
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), 50_000_000)
            .await
            .unwrap()
            .to_vec();
        Reply {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).to_string(),
            bytes,
        }
    }

    async fn get(&self, url: &str) -> Reply {
        let mut url = url.to_string();
        for _ in 0..5 {
            let r = self
                .send(Request::get(url.as_str()).body(Body::empty()).unwrap())
                .await;
            match &r.location {
                Some(next) if r.status == StatusCode::SEE_OTHER && next.contains("/antrag/") => {
                    url = next.clone();
                }
                _ => return r,
            }
        }
        panic!("too many redirects from {url}")
    }

    async fn multipart(&self, url: &str, parts: &[Part<'_>]) -> Reply {
        let boundary = "----lotse-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for p in parts {
            body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
            match p {
                Part::Text(k, v) => {
                    body.extend_from_slice(
                        format!("Content-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                            .as_bytes(),
                    );
                }
                Part::File(k, name, bytes) => {
                    body.extend_from_slice(
                        format!(
                            "Content-Disposition: form-data; name=\"{k}\"; filename=\"{name}\"\r\n\
                             Content-Type: application/pdf\r\n\r\n"
                        )
                        .as_bytes(),
                    );
                    body.extend_from_slice(bytes);
                    body.extend_from_slice(b"\r\n");
                }
            }
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        self.send(
            Request::post(url)
                .header(
                    header::CONTENT_TYPE,
                    format!("multipart/form-data; boundary={boundary}"),
                )
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Opens `url` and posts its form with `action`, `fields` and `files`.
    async fn post_page(
        &self,
        url: &str,
        action: &str,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &[u8])],
    ) -> Reply {
        let page = self.get(url).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(
            page.body.contains("enctype=\"multipart/form-data\"") || files.is_empty(),
            "a step with a file field posts multipart: {}",
            page.body
        );
        let csrf = hidden(&page.body, "_csrf");
        let rev = hidden(&page.body, "_rev");
        let mut parts = vec![
            Part::Text("_csrf", &csrf),
            Part::Text("_rev", &rev),
            Part::Text("_action", action),
        ];
        parts.extend(fields.iter().map(|(k, v)| Part::Text(k, v)));
        parts.extend(files.iter().map(|(k, n, b)| Part::File(k, n, b)));
        let action_url = form_action(&page.body);
        self.multipart(&action_url, &parts).await
    }

    async fn start(&self) -> String {
        let page = self.get("/heinsberg/leistung/bewohnerparkausweis").await;
        let csrf = hidden(&page.body, "_csrf");
        let r = self
            .send(
                Request::post("/heinsberg/leistung/bewohnerparkausweis")
                    .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                    .header("sec-fetch-site", "same-origin")
                    .body(Body::from(format!("_csrf={csrf}")))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        r.location.unwrap()
    }
}

fn hidden(page: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

fn form_action(page: &str) -> String {
    let marker = "<form method=\"post\" action=\"";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    page[start..end].to_string()
}

const PERSON: &[(&str, &str)] = &[
    ("person.anrede", "Frau"),
    ("person.vorname", "Mia"),
    ("person.nachname", "Schmitz"),
    ("person.geburtsdatum", "11.02.1990"),
    ("meldeadresse.strasse", "Kirchstraße"),
    ("meldeadresse.hausnummer", "4"),
    ("meldeadresse.plz", "52525"),
    ("meldeadresse.ort", "Heinsberg"),
    ("kontakt.email", "mia.schmitz@example.org"),
    ("zone", "A"),
    ("wohnt_in_zone", "true"),
];

fn sha(bytes: &[u8]) -> String {
    AttachmentHash::of(bytes).to_string()
}

#[tokio::test]
async fn a_lease_is_uploaded_scanned_kept_and_sealed_into_the_receipt_and_eicar_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let clamd = TestClamd::start(&dir.path().join("clamd"), "30M");
    let addr = match &clamd.client.addr {
        lotse_server::uploads::scan::ClamdAddr::Tcp(a) => a.to_string(),
        other => panic!("{other:?}"),
    };
    let c = Citizen::new(&dir.path().join("data"), Some(addr), None);
    let draft = c.start().await;
    let step = format!("{draft}/schritt/antragsteller");
    let pdf = fixture("mietvertrag.pdf");
    let jpeg = fixture("mietvertrag-seite2.jpg");

    // The lease with a refused step (no surname): the file is kept, the step shown again.
    let without_name: Vec<_> = PERSON
        .iter()
        .copied()
        .filter(|(k, _)| *k != "person.nachname")
        .collect();
    let r = c
        .post_page(
            &step,
            "weiter",
            &without_name,
            &[("nachweis_wohnung", "C:\\Scans\\Mietvertrag.pdf", &pdf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let page = c.get(&step).await;
    assert!(page.body.contains("Mietvertrag.pdf"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("removefile:nachweis_wohnung:{}", sha(&pdf)))
    );
    assert!(
        page.body.contains("Familienname"),
        "the refused field: {}",
        page.body
    );

    // EICAR is refused by the scanner with a calm message; a renamed program by its bytes.
    let r = c
        .post_page(
            &step,
            "upload",
            PERSON,
            &[("nachweis_wohnung", "eicar.pdf", EICAR)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(
        r.body
            .contains("Virenscanner hat in dieser Datei Schadsoftware gefunden"),
        "{}",
        r.body
    );
    assert!(
        r.body.contains("Mietvertrag.pdf"),
        "the lease stays: {}",
        r.body
    );
    let exe = fixture("programm.pdf");
    let r = c
        .post_page(
            &step,
            "upload",
            PERSON,
            &[("nachweis_wohnung", "programm.pdf", &exe)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        r.body.contains("keine der erlaubten Dateiarten"),
        "{}",
        r.body
    );
    let store = c.portal.store();
    assert_eq!(
        store.attachment_size(&AttachmentHash::of(EICAR)).unwrap(),
        None
    );
    assert_eq!(
        store.attachment_size(&AttachmentHash::of(&exe)).unwrap(),
        None
    );

    // A photo of page two, then the step is answered.
    let r = c
        .post_page(
            &step,
            "weiter",
            PERSON,
            &[("nachweis_wohnung", "Seite 2.jpg", &jpeg)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    assert!(
        r.location
            .as_deref()
            .unwrap()
            .ends_with("/schritt/fahrzeug"),
        "{:?}",
        r.location
    );

    // Removing a file and uploading it again.
    let r = c
        .post_page(
            &step,
            &format!("removefile:nachweis_wohnung:{}", sha(&jpeg)),
            PERSON,
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = c.get(&step).await;
    // What the page shows (the state for the engine in the browser, after the form, still has
    // the step's last accepted answer).
    let shown = page
        .body
        .split("<script type=\"application/json\"")
        .next()
        .unwrap();
    assert!(!shown.contains("Seite 2.jpg") && shown.contains("Mietvertrag.pdf"));
    let r = c
        .post_page(
            &step,
            "weiter",
            PERSON,
            &[("nachweis_wohnung", "Seite 2.jpg", &jpeg)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);

    let r = c
        .post_page(
            &format!("{draft}/schritt/fahrzeug"),
            "weiter",
            &[
                ("fahrzeug.kennzeichen", "HS-MS 4"),
                ("fahrzeug.hersteller", "Opel"),
                ("fahrzeug.modell", "Corsa"),
                ("fahrzeug.fahrzeugart", "Pkw"),
                ("fahrzeug.halter_art", "privat"),
                ("auf_sie_zugelassen", "ja"),
            ],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let today = c.portal.state().now().date();
    let beginn = format!(
        "{:02}.{:02}.{}",
        today.day(),
        today.month() as u8,
        today.year()
    );
    let r = c
        .post_page(
            &format!("{draft}/schritt/gueltigkeit"),
            "weiter",
            &[("jahre", "1"), ("beginn", &beginn)],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let r = c
        .post_page(
            &format!("{draft}/schritt/zahlung"),
            "weiter",
            &[("zahlungsart", "ueberweisung")],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let review = c.get(&format!("{draft}/pruefen")).await;
    assert!(review.body.contains(&sha(&pdf)) && review.body.contains(&sha(&jpeg)));
    let r = c
        .post_page(
            &format!("{draft}/pruefen"),
            "absenden",
            &[("_declare", "richtig"), ("_declare", "rueckgabe")],
            &[],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let done = r.location.unwrap();
    assert!(done.contains("/eingang/"), "{done}");

    // The receipt seals which files were handed in.
    let pdf_receipt = c.get(&format!("{done}/quittung.pdf")).await;
    assert_eq!(pdf_receipt.status, StatusCode::OK);
    if let Some(text) = receipt_text(&pdf_receipt.bytes) {
        let compact: String = text.split_whitespace().collect();
        for (name, bytes) in [("Mietvertrag.pdf", &pdf), ("Seite2.jpg", &jpeg)] {
            assert!(compact.contains(name), "{name} in {text}");
            assert!(
                compact.contains(&sha(bytes)),
                "the SHA-256 of {name} in {text}"
            );
        }
    }
    // Both files are kept, byte for byte.
    for bytes in [&pdf, &jpeg] {
        let mut out = Vec::new();
        let size = store
            .read_attachment(&AttachmentHash::of(bytes), &mut out)
            .unwrap();
        assert_eq!(size, Some(bytes.len() as u64));
        assert_eq!(&out, bytes);
    }
}

#[tokio::test]
async fn with_the_scanner_down_the_tenant_decides_and_an_unchecked_file_is_marked() {
    let dir = tempfile::tempdir().unwrap();
    let nobody = format!("127.0.0.1:{}", free_port());
    let pdf = fixture("mietvertrag.pdf");

    // Default with a scanner configured: refuse, and nothing is kept.
    let c = Citizen::new(&dir.path().join("a"), Some(nobody.clone()), None);
    let draft = c.start().await;
    let step = format!("{draft}/schritt/antragsteller");
    let r = c
        .post_page(
            &step,
            "upload",
            PERSON,
            &[("nachweis_wohnung", "a.pdf", &pdf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("nicht auf Viren prüfen"), "{}", r.body);
    assert!(
        r.body.contains("value=\"Schmitz\""),
        "what was typed stays: {}",
        r.body
    );
    assert_eq!(
        c.portal
            .store()
            .attachment_size(&AttachmentHash::of(&pdf))
            .unwrap(),
        None
    );

    // The tenant accepts unchecked files: kept and marked for the office. A file of several
    // megabytes, more than the body extractors take by default, goes through the step's form.
    let c = Citizen::new(&dir.path().join("b"), Some(nobody), Some(Unscanned::Accept));
    let draft = c.start().await;
    let step = format!("{draft}/schritt/antragsteller");
    let mut pdf = b"%PDF-1.7\n".to_vec();
    pdf.extend((0..3_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8));
    pdf.extend_from_slice(b"\ntrailer\n%%EOF\n");
    let r = c
        .post_page(
            &step,
            "weiter",
            PERSON,
            &[("nachweis_wohnung", "a.pdf", &pdf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let store = c.portal.store();
    assert_eq!(
        store.attachment_size(&AttachmentHash::of(&pdf)).unwrap(),
        Some(pdf.len() as u64)
    );
    let id = draft.rsplit('/').next().unwrap();
    let api = c
        .get(&format!("/api/v1/tenants/heinsberg/applications/{id}"))
        .await;
    assert!(api.body.contains("\"unchecked\""), "{}", api.body);
}

#[tokio::test]
async fn the_api_uploads_and_removes_files_and_an_answer_cannot_claim_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let c = Citizen::new(&dir.path().join("data"), None, None);
    let started = c
        .send(
            Request::post("/api/v1/tenants/heinsberg/services/bewohnerparkausweis/applications")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let state: serde_json::Value = serde_json::from_slice(&started.bytes).unwrap();
    let id = state["id"].as_str().unwrap().to_string();
    let rev = state["revision"].as_u64().unwrap();
    let base = format!("/api/v1/tenants/heinsberg/applications/{id}/steps/antragsteller");
    let pdf = fixture("mietvertrag.pdf");
    let up = |rev: u64, name: &str, bytes: Vec<u8>| {
        Request::post(format!(
            "{base}/files/nachweis_wohnung?revision={rev}&name={name}"
        ))
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .body(Body::from(bytes))
        .unwrap()
    };
    let r = c.send(up(rev, "Mietvertrag.pdf", pdf.clone())).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains(&sha(&pdf)), "{}", r.body);
    let rev = serde_json::from_slice::<serde_json::Value>(&r.bytes).unwrap()["revision"]
        .as_u64()
        .unwrap();
    let r = c.send(up(rev, "x.pdf", fixture("programm.pdf"))).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    assert!(r.body.contains("LOT-H024"), "{}", r.body);
    let r = c.send(up(rev, "f.pdf", Vec::new())).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);

    // An answer naming a file this application never uploaded: left out.
    let forged = serde_json::json!([{"name": "fremd.pdf", "type": "application/pdf", "size": 10,
        "sha256": "ab".repeat(32), "scan": "clean"}]);
    let mut values = serde_json::Map::new();
    for (k, v) in PERSON {
        let (group, field) = k.split_once('.').unwrap_or((k, ""));
        if field.is_empty() {
            let v = if *v == "true" {
                serde_json::json!(true)
            } else {
                serde_json::json!(v)
            };
            values.insert(group.to_string(), v);
        } else {
            values
                .entry(group.to_string())
                .or_insert_with(|| serde_json::json!({}))
                .as_object_mut()
                .unwrap()
                .insert(field.to_string(), serde_json::json!(v));
        }
    }
    values.insert("person".into(), serde_json::json!({"anrede": "Frau", "vorname": "Mia", "nachname": "Schmitz", "geburtsdatum": "1990-02-11"}));
    let mut with_forged = values.clone();
    let mut files = forged.as_array().unwrap().clone();
    files.push(
        serde_json::json!({"name": "egal.pdf", "type": "application/pdf", "size": 1,
        "sha256": sha(&pdf), "scan": "clean"}),
    );
    with_forged.insert("nachweis_wohnung".into(), serde_json::Value::Array(files));
    let r = c
        .send(
            Request::put(base.clone())
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(
                    serde_json::json!({"revision": rev, "values": with_forged}).to_string(),
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let app = c
        .get(&format!("/api/v1/tenants/heinsberg/applications/{id}"))
        .await;
    assert!(!app.body.contains(&"ab".repeat(32)), "{}", app.body);
    // The lease is kept as the draft knows it (its own name, not the one the answer said).
    assert!(
        app.body.contains(&sha(&pdf)) && !app.body.contains("egal.pdf"),
        "{}",
        app.body
    );

    // Back to the step, the lease kept with the answer; then removed through the API.
    let rev = serde_json::from_slice::<serde_json::Value>(&r.bytes).unwrap()["revision"]
        .as_u64()
        .unwrap();
    let r = c
        .send(
            Request::delete(format!(
                "{base}/files/nachweis_wohnung/{}?revision={rev}",
                sha(&pdf)
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let r = c
        .send(
            Request::delete(format!(
                "{base}/files/nachweis_wohnung/{}?revision=999",
                sha(&pdf)
            ))
            .body(Body::empty())
            .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{}", r.body);
}
