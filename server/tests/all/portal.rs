//! The portal through its router, as a browser without JavaScript uses it: catalogue, start,
//! a step with errors, every step, review, submit, receipt; and what it refuses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_server::{Portal, router};
use tower::ServiceExt;

pub(crate) struct Browser {
    pub(crate) app: axum::Router,
    pub(crate) _dir: tempfile::TempDir,
}

pub(crate) struct Page {
    pub(crate) status: StatusCode,
    pub(crate) location: Option<String>,
    pub(crate) body: String,
    pub(crate) bytes: Vec<u8>,
}

pub(crate) fn project_root() -> &'static Path {
    project()
}

fn project() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

impl Browser {
    fn new() -> Browser {
        let dir = tempfile::tempdir().unwrap();
        let portal = Portal::build(project(), &dir.path().join("data")).unwrap();
        Browser {
            app: router(Arc::new(portal)),
            _dir: dir,
        }
    }

    pub(crate) async fn send(&self, req: Request<Body>) -> Page {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), 10_000_000)
            .await
            .unwrap()
            .to_vec();
        Page {
            status,
            location,
            body: String::from_utf8_lossy(&bytes).to_string(),
            bytes,
        }
    }

    /// A GET as a browser makes it: a redirect within the assistant (the resume link to the
    /// step where the application stands) is followed; others are returned.
    pub(crate) async fn get(&self, url: &str) -> Page {
        let mut url = url.to_string();
        for _ in 0..5 {
            let page = self
                .send(Request::get(url.as_str()).body(Body::empty()).unwrap())
                .await;
            match &page.location {
                Some(next) if page.status == StatusCode::SEE_OTHER && next.contains("/antrag/") => {
                    url = next.clone();
                }
                _ => return page,
            }
        }
        panic!("too many redirects from {url}")
    }

    pub(crate) async fn post(&self, url: &str, form: &[(&str, &str)]) -> Page {
        let body = form
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::post(url)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub(crate) fn hidden<'a>(page: &'a str, name: &str) -> &'a str {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    &page[start..end]
}

/// The URL the page's form posts to.
pub(crate) fn form_action(page: &str) -> &str {
    let marker = "<form method=\"post\" action=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no form in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    &page[start..end]
}

/// Opens the draft's page and sends its form with `answers`, as a browser would.
async fn step(b: &Browser, url: &str, answers: &[(&str, &str)]) -> Page {
    let page = b.get(url).await;
    let action = form_action(&page.body).to_string();
    let csrf = hidden(&page.body, "_csrf").to_string();
    let rev = hidden(&page.body, "_rev").to_string();
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", "weiter"),
    ];
    form.extend_from_slice(answers);
    b.post(&action, &form).await
}

pub(crate) async fn start(b: &Browser, tenant: &str, workflow: &str) -> String {
    let page = b.get(&format!("/{tenant}/leistung/{workflow}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = hidden(&page.body, "_csrf").to_string();
    let started = b
        .post(
            &format!("/{tenant}/leistung/{workflow}"),
            &[("_csrf", &csrf)],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER);
    started.location.unwrap()
}

pub(crate) const HALTER: &[(&str, &str)] = &[
    ("halter.anrede", "Frau"),
    ("halter.vorname", "<script>alert(1)</script>"),
    ("halter.nachname", "Schmitz"),
    ("halter.geburtsdatum", "12.04.1985"),
    ("anschrift.strasse", "Valkenburger Straße"),
    ("anschrift.hausnummer", "45"),
    ("anschrift.plz", "52525"),
    ("anschrift.ort", "Heinsberg"),
    ("kontakt.email", "anna@example.org"),
];

#[tokio::test]
async fn a_citizen_applies_for_dog_tax_from_catalogue_to_signed_receipt() {
    let b = Browser::new();
    let home = b.get("/").await;
    assert_eq!(home.status, StatusCode::OK);
    for slug in ["kreis-heinsberg", "erkelenz", "uebach-palenberg", "wegberg"] {
        assert!(
            home.body.contains(&format!("href=\"/{slug}\"")),
            "{slug} missing on the portal's home"
        );
    }
    let cat = b.get("/heinsberg?q=Hundsteuer").await;
    assert_eq!(cat.status, StatusCode::OK);
    assert!(
        cat.body
            .contains("/heinsberg/leistung/hundesteuer-anmeldung")
    );
    assert!(cat.body.contains("lang=\"de\""));

    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let first = b.get(&url).await;
    assert!(first.body.contains("Schritt 1 von 5"), "{}", first.body);
    assert!(first.body.contains("autocomplete=\"given-name\""));

    // A mistake: errors at the top, linked to the fields, and at each field.
    let mut wrong = HALTER.to_vec();
    wrong[6] = ("anschrift.plz", "5252");
    let refused = step(&b, &url, &wrong).await;
    // Refused answers are kept with their errors and shown at the step's own URL (303), so a
    // reload never re-posts.
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let rejected = b.get(&refused.location.unwrap()).await;
    assert!(rejected.body.contains("Fehler: "), "the title says so");
    assert!(rejected.body.contains("href=\"#f-anschrift-plz\""));
    assert!(
        rejected
            .body
            .contains("Bitte geben Sie die Postleitzahl mit 5 Ziffern an.")
    );
    assert!(
        rejected
            .body
            .contains("aria-describedby=\"f-anschrift-plz-error\"")
            || rejected
                .body
                .contains("aria-describedby=\"f-anschrift-plz-hint f-anschrift-plz-error\""),
        "the error is tied to its field"
    );
    // The posted values come back, escaped.
    assert!(
        rejected
            .body
            .contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    assert!(!rejected.body.contains("<script>alert(1)"));

    assert_eq!(step(&b, &url, HALTER).await.status, StatusCode::SEE_OTHER);
    let dogs = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ];
    assert_eq!(step(&b, &url, &dogs).await.status, StatusCode::SEE_OTHER);
    step(
        &b,
        &url,
        &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")],
    )
    .await;
    step(&b, &url, &[("ermaessigung", "nein")]).await;
    step(&b, &url, &[("lastschrift", "nein")]).await;

    let review = b.get(&url).await;
    assert!(
        review.body.contains("Bitte prüfen Sie Ihre Angaben"),
        "{}",
        review.body
    );
    // Heinsberg's own rate (workflows/hundesteuer/overrides/heinsberg.yaml), not the county's 96 €.
    assert!(review.body.contains("84,00 €"));
    assert!(review.body.contains("&lt;script&gt;"));
    // The declaration is a checkbox on the review page, above "Absenden".
    assert!(
        review.body.contains("name=\"_declare\" value=\"richtig\""),
        "{}",
        review.body
    );
    let csrf = hidden(&review.body, "_csrf").to_string();
    let rev = hidden(&review.body, "_rev").to_string();
    // Sent without ticking it: the review page again at its own URL, with the error.
    let unticked = b
        .post(
            &url,
            &[("_csrf", &csrf), ("_rev", &rev), ("_action", "absenden")],
        )
        .await;
    let review_url = format!("{url}/pruefen");
    assert_eq!(unticked.location.as_deref(), Some(review_url.as_str()));
    let refused = b.get(&review_url).await;
    assert_eq!(refused.status, StatusCode::OK);
    assert!(
        refused.body.contains(
            "<a href=\"#f-declaration-richtig\">Bitte bestätigen Sie: „Ich versichere, dass meine Angaben richtig und vollständig sind.“</a>"
        ),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("<title>Fehler: Angaben prüfen"));
    let csrf = hidden(&refused.body, "_csrf").to_string();
    let rev = hidden(&refused.body, "_rev").to_string();
    let sent = b
        .post(
            &url,
            &[
                ("_csrf", &csrf),
                ("_rev", &rev),
                ("_declare", "richtig"),
                ("_action", "absenden"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let done_url = sent.location.unwrap();
    let done = b.get(&done_url).await;
    assert!(done.body.contains("HEI-"), "{}", done.body);
    assert!(done.body.contains("Eingegangen"));
    // What happens next, in the workflow's words.
    assert!(
        done.body.contains("<h2>Wie geht es weiter?</h2>"),
        "{}",
        done.body
    );
    assert!(done.body.contains("in der Regel zwei bis drei Wochen"));
    assert!(
        done.body
            .contains("<li>Sie erhalten einen Steuerbescheid per Post")
    );
    let pdf = b.get(&format!("{done_url}/quittung.pdf")).await;
    assert_eq!(pdf.status, StatusCode::OK);
    let v = lotse_receipt::verify_receipt(&pdf.bytes).unwrap();
    assert!(v.valid && v.covers_whole_file);
    // Once submitted, the draft's link (the back button) leads to the confirmation, and a
    // second click on "Absenden" yields the same submission, not another one.
    let back = b.get(&url).await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(back.location.as_deref(), Some(done_url.as_str()));
    let again = b
        .post(
            &url,
            &[("_csrf", &csrf), ("_rev", &rev), ("_action", "absenden")],
        )
        .await;
    assert_eq!(again.location.as_deref(), Some(done_url.as_str()));
}

#[tokio::test]
async fn another_municipality_cannot_open_a_draft_or_a_submission() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let other = url.replace("/heinsberg/", "/wegberg/");
    assert_eq!(b.get(&other).await.status, StatusCode::NOT_FOUND);
    // A service the municipality does not offer does not exist there.
    assert_eq!(
        b.get("/gangelt/leistung/bewohnerparkausweis").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        b.get("/heinsberg/antrag/nicht-hex").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn posts_without_the_token_or_from_another_site_are_refused() {
    let b = Browser::new();
    let no_token = b
        .post(
            "/heinsberg/leistung/hundesteuer-anmeldung",
            &[("_csrf", "0")],
        )
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let page = b.get("/heinsberg/leistung/hundesteuer-anmeldung").await;
    let csrf = hidden(&page.body, "_csrf").to_string();
    let cross = b
        .send(
            Request::post("/heinsberg/leistung/hundesteuer-anmeldung")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("sec-fetch-site", "cross-site")
                .body(Body::from(format!("_csrf={csrf}")))
                .unwrap(),
        )
        .await;
    assert_eq!(cross.status, StatusCode::FORBIDDEN);
    let csp = b
        .app
        .clone()
        .oneshot(Request::get("/heinsberg").body(Body::empty()).unwrap())
        .await
        .unwrap();
    let policy = csp.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(!policy.contains("unsafe-inline") && !policy.contains("'unsafe-eval'"));
    // Scripts from the portal only: its one script, as a file, never inline; WebAssembly (the
    // engine in the browser) and nothing more.
    assert!(
        policy.contains("script-src 'self' 'wasm-unsafe-eval';"),
        "{policy}"
    );
    let page = b.get("/heinsberg").await;
    assert_eq!(page.body.matches("<script").count(), 1, "{}", page.body);
    assert!(
        page.body
            .contains("<script src=\"/static/lotse.js\" defer></script>")
    );
    let js = b
        .app
        .clone()
        .oneshot(
            Request::get("/static/lotse.js")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(js.status(), StatusCode::OK);
    assert_eq!(
        js.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
}

#[tokio::test]
async fn what_was_typed_on_a_refused_step_comes_back_after_a_reload() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let mut wrong = HALTER.to_vec();
    wrong[6] = ("anschrift.plz", "5252");
    wrong[1] = ("halter.vorname", "Annegret");
    let rejected = step(&b, &url, &wrong).await;
    assert_eq!(rejected.status, StatusCode::SEE_OTHER);
    // Leaving and coming back: the typed answers and their errors are there again.
    let again = b.get(&url).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("value=\"5252\""), "{}", again.body);
    assert!(again.body.contains("value=\"Annegret\""));
    assert!(
        again
            .body
            .contains("Bitte geben Sie die Postleitzahl mit 5 Ziffern an.")
    );
    // Corrected, the step goes through and nothing is pending any more.
    assert_eq!(step(&b, &url, HALTER).await.status, StatusCode::SEE_OTHER);
    let dogs = b.get(&url).await;
    assert!(dogs.body.contains("Ihre Hunde"));
    let csrf = hidden(&dogs.body, "_csrf").to_string();
    let rev = hidden(&dogs.body, "_rev").to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", "zurueck"),
    ];
    assert_eq!(b.post(&url, &form).await.status, StatusCode::SEE_OTHER);
    let back = b.get(&url).await;
    assert!(back.body.contains("value=\"52525\""), "{}", back.body);
    assert!(!back.body.contains("value=\"5252\""));
    assert!(!back.body.contains("Postleitzahl mit 5 Ziffern"));
}

#[tokio::test]
async fn a_stale_tab_does_not_overwrite_newer_answers() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    let csrf = hidden(&page.body, "_csrf").to_string();
    // Tab 1 answers the first step (revision 0 → 1).
    assert_eq!(step(&b, &url, HALTER).await.status, StatusCode::SEE_OTHER);
    // Tab 2 still shows revision 0 and posts: nothing is stored, the current step is shown.
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", "0"),
        ("_action", "weiter"),
    ];
    form.extend_from_slice(HALTER);
    let stale = b.post(&url, &form).await;
    assert_eq!(stale.status, StatusCode::SEE_OTHER);
    assert!(b.get(&url).await.body.contains("Ihre Hunde"));
}

#[tokio::test]
async fn a_forged_step_change_shows_the_current_step_again() {
    // Found by fuzz_form_posts_never_fail_the_server: these were a 500 "technical error".
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    for action in ["goto:", "goto:zahlung", "goto:gibt-es-nicht"] {
        let page = b.get(&url).await;
        let csrf = hidden(&page.body, "_csrf").to_string();
        let rev = hidden(&page.body, "_rev").to_string();
        let form = [
            ("_csrf", csrf.as_str()),
            ("_rev", rev.as_str()),
            ("_action", action),
        ];
        let r = b.post(&url, &form).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
        assert_eq!(r.location.as_deref(), Some(url.as_str()));
    }
    assert!(b.get(&url).await.body.contains("name=\"halter.vorname\""));
}

#[tokio::test]
async fn a_resume_code_opens_the_draft_and_wrong_codes_are_limited() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await.body;
    let code_start = page.find("lautet <strong>").unwrap() + "lautet <strong>".len();
    let code = &page[code_start..code_start + 19];
    let cat = b.get("/heinsberg").await;
    let csrf = hidden(&cat.body, "_csrf").to_string();
    let resumed = b
        .post("/heinsberg/fortsetzen", &[("_csrf", &csrf), ("code", code)])
        .await;
    assert_eq!(resumed.location.as_deref(), Some(url.as_str()));
    let mut last = StatusCode::OK;
    for _ in 0..7 {
        last = b
            .post(
                "/heinsberg/fortsetzen",
                &[("_csrf", &csrf), ("code", "AAAA-BBBB-CCCC-DDDD")],
            )
            .await
            .status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_wrong_resume_code_shows_the_code_box_again() {
    let b = Browser::new();
    let cat = b.get("/heinsberg").await;
    let csrf = hidden(&cat.body, "_csrf").to_string();
    let wrong = b
        .post(
            "/heinsberg/fortsetzen",
            &[("_csrf", &csrf), ("code", "aaaa bbbb <b>")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::NOT_FOUND);
    // The box again, with what was typed (escaped), its error tied to it and in the summary.
    assert_eq!(form_action(&wrong.body), "/heinsberg/fortsetzen");
    assert!(
        wrong.body.contains("value=\"aaaa bbbb &lt;b&gt;\""),
        "{}",
        wrong.body
    );
    assert!(
        wrong
            .body
            .contains("aria-describedby=\"code-hint code-error\"")
    );
    assert!(wrong.body.contains("href=\"#code\""));
    assert!(!hidden(&wrong.body, "_csrf").is_empty());
}

/// The submit buttons of the page's form, in document order, as their `value`s.
fn submit_buttons(page: &str) -> Vec<String> {
    page.match_indices("<button type=\"submit\"")
        .map(|(i, _)| {
            let tag = &page[i..i + page[i..].find('>').unwrap()];
            let v = tag.find("value=\"").map(|j| {
                let rest = &tag[j + 7..];
                rest[..rest.find('"').unwrap()].to_string()
            });
            v.unwrap_or_default()
        })
        .collect()
}

#[tokio::test]
async fn counts_read_right_monograms_differ_and_every_page_leads_back_to_the_county() {
    let b = Browser::new();
    let home = b.get("/").await.body;
    // The county offers one service itself: singular.
    assert!(
        home.contains("Kreis Heinsberg</a> <span class=\"hint\">– 1 Online-Dienst</span>"),
        "{home}"
    );
    assert!(home.contains("4 Online-Dienste"));
    let mut seen = std::collections::HashMap::new();
    let (portal, _) = lotse_server::tenants::builtin();
    for t in &portal.tenants {
        if let Some(other) = seen.insert(t.initials.clone(), t.name.clone()) {
            panic!("{} and {other} share the monogram {}", t.name, t.initials);
        }
    }
    let gemeinde = b.get("/waldfeucht").await.body;
    assert!(gemeinde.contains(">WL</text>"), "{gemeinde}");
    assert!(gemeinde.contains("<a href=\"/\">Serviceportal des Kreises Heinsberg</a>"));
}

#[tokio::test]
async fn an_empty_group_marks_each_field_it_needs() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    step(&b, &url, HALTER).await;
    step(
        &b,
        &url,
        &[
            ("hunde.0.name", "Bello"),
            ("hunde.0.rasse", "Labrador"),
            ("hunde.0.geburtsdatum", "2022-03-01"),
            ("hunde.0.kategorie", "normal"),
        ],
    )
    .await;
    step(
        &b,
        &url,
        &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")],
    )
    .await;
    step(&b, &url, &[("ermaessigung", "nein")]).await;
    let r = step(&b, &url, &[("lastschrift", "ja")]).await;
    let page = b.get(&r.location.unwrap()).await.body;
    let summary = &page[page.find("class=\"error-summary\"").unwrap()..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    // Not one message for the whole group: each required input, linked and marked.
    assert!(!summary.contains("„Bankverbindung“"), "{summary}");
    for id in ["f-konto-kontoinhaber", "f-konto-iban"] {
        assert!(summary.contains(&format!("href=\"#{id}\"")), "{summary}");
        let input = &page[page.find(&format!("id=\"{id}\"")).unwrap()..];
        let tag = &input[..input.find('>').unwrap()];
        assert!(tag.contains("aria-invalid=\"true\""), "{tag}");
    }
}

#[tokio::test]
async fn the_error_summary_lists_errors_in_page_order_linked_to_their_first_input() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let refused = step(&b, &url, &[("anschrift.plz", "5")]).await;
    let page = b.get(&refused.location.unwrap()).await.body;
    let summary = &page[page.find("class=\"error-summary\"").unwrap()..];
    let summary = &summary[..summary.find("</div>").unwrap()];
    let targets: Vec<&str> = summary
        .split("href=\"#")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert!(targets.len() >= 5, "{summary}");
    // A radio group's error leads to its first option, which exists on the page.
    assert_eq!(targets[0], "f-halter-anrede-0", "{summary}");
    // Every link has its input, and they come in the order of the inputs on the page.
    let positions: Vec<usize> = targets
        .iter()
        .map(|t| {
            page.find(&format!("id=\"{t}\""))
                .unwrap_or_else(|| panic!("no input {t}"))
        })
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{targets:?}");
    // The summary takes the focus when the page loads, and inputs fit their answers.
    assert!(summary.contains("autofocus"));
    assert!(
        page.contains("id=\"f-anschrift-plz\" name=\"anschrift.plz\" value=\"5\" class=\"w-5\"")
    );
}

#[tokio::test]
async fn each_step_has_its_own_url_and_back_and_forward_land_on_it() {
    let b = Browser::new();
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let first = b.get(&url).await;
    let step1 = form_action(&first.body).to_string();
    assert_eq!(step1, format!("{url}/schritt/halter"));
    // A step not reached yet is not shown: the citizen lands where the application stands.
    let ahead = b.get(&format!("{url}/schritt/hunde")).await;
    assert_eq!(form_action(&ahead.body), step1);
    let review_early = b.get(&format!("{url}/pruefen")).await;
    assert_eq!(form_action(&review_early.body), step1);

    let moved = step(&b, &url, HALTER).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let step2 = moved.location.unwrap();
    assert_eq!(step2, format!("{url}/schritt/hunde"));
    let dogs = b.get(&step2).await;
    // "Zurück" is a link to the previous step's URL, not a post.
    assert!(
        dogs.body.contains(&format!("href=\"{step1}\"")),
        "{}",
        dogs.body
    );
    // The browser's Back: step 1 again with its answers, the application stays where it was.
    let back = b.get(&step1).await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(back.body.contains("value=\"Schmitz\""));
    assert_eq!(form_action(&back.body), step1);
    // And Forward.
    assert!(b.get(&step2).await.body.contains("Ihre Hunde"));
    // Sending step 1 again from there goes on to step 2.
    let again = step(&b, &step1, HALTER).await;
    assert_eq!(again.location.as_deref(), Some(step2.as_str()));
    // The language link keeps the citizen's place.
    assert!(
        dogs.body
            .contains(&format!("/sprache/en?zurueck={step2}\"")),
        "{}",
        dogs.body
    );

    // Enter in a text box sends the form with its first submit button: "Speichern und weiter",
    // never "Hund 1: entfernen".
    let buttons = submit_buttons(&dogs.body);
    assert_eq!(
        buttons.first().map(String::as_str),
        Some("weiter"),
        "{buttons:?}"
    );
    assert!(
        buttons.iter().any(|b| b.starts_with("remove:hunde:")),
        "{buttons:?}"
    );

    // Removing an entry can be undone (from the step as it is now: step 1 was sent again).
    let dogs = b.get(&step2).await;
    let csrf = hidden(&dogs.body, "_csrf").to_string();
    let rev = hidden(&dogs.body, "_rev").to_string();
    let two = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.1.name", "Rex"),
        ("hunde.1.rasse", "Dackel"),
    ];
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", "remove:hunde:0"),
    ];
    form.extend_from_slice(&two);
    // Removing answers with a redirect to the step (Post/Redirect/Get): a reload shows the
    // same page and never removes another dog.
    let posted = b.post(&step2, &form).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(posted.location.as_deref(), Some(step2.as_str()));
    let removed = b.get(&step2).await;
    assert_eq!(removed.status, StatusCode::OK);
    assert!(!removed.body.contains("value=\"Bello\""));
    assert!(removed.body.contains("value=\"Rex\""));
    assert!(removed.body.contains("wurde entfernt"), "{}", removed.body);
    // (The same but for the moment the page was made, which the engine in the browser counts
    // on from: `data-now`.)
    let without_now = |page: &str| {
        page.split(" data-now=\"")
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    part.split_once('"').map_or(part, |(_, rest)| rest)
                }
            })
            .collect::<String>()
    };
    assert_eq!(
        without_now(&b.get(&step2).await.body),
        without_now(&removed.body),
        "a reload shows the same"
    );
    // The removed dog waits in the draft, not in the page.
    assert!(!removed.body.contains("_removed"));
    let rev = hidden(&removed.body, "_rev").to_string();
    let form = [
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", "undo"),
        ("hunde.0.name", "Rex"),
        ("hunde.0.rasse", "Dackel"),
    ];
    let posted = b.post(&step2, &form).await;
    assert_eq!(posted.location.as_deref(), Some(step2.as_str()));
    let restored = b.get(&step2).await;
    assert_eq!(restored.status, StatusCode::OK);
    assert!(!restored.body.contains("wurde entfernt"));
    let bello = restored
        .body
        .find("value=\"Bello\"")
        .expect("Bello is back");
    let rex = restored.body.find("value=\"Rex\"").expect("Rex stays");
    assert!(bello < rex, "Bello is back in first place");

    // To the review; a change from there has its own URL and leads back to the review.
    let dogs_answer = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ];
    step(&b, &step2, &dogs_answer).await;
    step(
        &b,
        &url,
        &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")],
    )
    .await;
    step(&b, &url, &[("ermaessigung", "nein")]).await;
    let last = step(&b, &url, &[("lastschrift", "nein")]).await;
    let review_url = format!("{url}/pruefen");
    assert_eq!(last.location.as_deref(), Some(review_url.as_str()));
    let review = b.get(&review_url).await;
    let change = format!("{url}/aendern/hunde");
    // One "Ändern" per answer, at its input; one block per dog.
    assert!(
        review
            .body
            .contains(&format!("href=\"{change}#f-hunde-0-rasse\"")),
        "{}",
        review.body
    );
    assert!(review.body.contains("<h3>Hund 1</h3>"), "{}", review.body);
    assert!(!review.body.contains(" | "));
    let changing = b.get(&change).await;
    assert_eq!(form_action(&changing.body), change);
    assert!(
        changing.body.contains(&format!("href=\"{review_url}\"")),
        "Zurück leads to the review"
    );
    let saved = step(&b, &change, &dogs_answer).await;
    assert_eq!(saved.location.as_deref(), Some(review_url.as_str()));
    // Reloading the review is a plain GET: nothing is sent twice.
    assert_eq!(b.get(&review_url).await.status, StatusCode::OK);
}

#[tokio::test]
async fn the_language_switch_returns_only_to_paths_of_this_site() {
    let b = Browser::new();
    let back = b
        .get("/sprache/en?zurueck=/heinsberg/leistung/hundesteuer-anmeldung")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER);
    assert_eq!(
        back.location.as_deref(),
        Some("/heinsberg/leistung/hundesteuer-anmeldung")
    );
    // Paths a browser would read as another host go to the start page instead.
    for away in [
        "//evil.example/phish",
        "/%5C127.0.0.2/phish",
        "/%5C%5Cevil.example",
        "https://evil.example/",
        "evil.example",
        "/%C3%BCber",
    ] {
        let r = b.get(&format!("/sprache/de?zurueck={away}")).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{away}");
        assert_eq!(r.location.as_deref(), Some("/"), "{away}");
    }
    // Control characters are a bad request, not a server error.
    for bad in [
        "/%0a",
        "/%00",
        "/%0d%0aSet-Cookie:%20x=1",
        "/%09/evil.example",
    ] {
        let r = b.get(&format!("/sprache/de?zurueck={bad}")).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.location.is_none(), "{bad}");
    }
}

#[tokio::test]
async fn english_is_one_click_away_and_errors_follow_the_language() {
    let b = Browser::new();
    let switch = b.get("/sprache/en?zurueck=/heinsberg").await;
    assert_eq!(switch.status, StatusCode::SEE_OTHER);
    let cat = b.get("/heinsberg?lang=en").await;
    assert!(cat.body.contains("lang=\"en\"") && cat.body.contains("Online services of"));
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&format!("{url}?lang=en")).await;
    assert!(
        page.body.contains("Register a dog for dog tax")
            || page.body.contains("About the dog owner"),
        "{}",
        page.body
    );
    let csrf = hidden(&page.body, "_csrf").to_string();
    let mut wrong = HALTER.to_vec();
    wrong[6] = ("anschrift.plz", "5252");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", "0"),
        ("_action", "weiter"),
    ];
    form.extend_from_slice(&wrong);
    let req = Request::post(format!("{url}?lang=en"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(
            form.iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&"),
        ))
        .unwrap();
    let refused = b.send(req).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    let to = refused.location.unwrap();
    assert!(to.ends_with("/schritt/halter?lang=en"), "{to}");
    let rejected = b.get(&to).await;
    assert!(
        rejected
            .body
            .contains("Please enter the postcode with 5 digits."),
        "{}",
        rejected.body
    );
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A portal on a copy of the project's workflows, forms and templates, changed by `edit` before
/// it starts (`dev`: the designers' mode); with the copy's folder, which the browser keeps.
fn copied_project(dev: bool, edit: impl FnOnce(&Path)) -> (Browser, Arc<Portal>, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    for part in ["workflows", "forms", "pdf-templates"] {
        copy_dir(&project_root().join(part), &project.join(part));
    }
    edit(&project);
    let config = lotse_server::config::Config {
        project_dir: project.clone(),
        data_dir: dir.path().join("data"),
        ..lotse_server::config::Config::default()
    };
    let portal = Arc::new(Portal::build_mode(&config, dev).unwrap());
    let b = Browser {
        app: router(portal.clone()),
        _dir: dir,
    };
    (b, portal, project)
}

#[tokio::test]
async fn the_designers_preview_shows_errors_explains_steps_and_previews_receipts() {
    let (b, portal, project) = copied_project(true, |_| {});

    // The receipt with the answers of the first scenario that submits, signed.
    let pdf = b
        .get("/heinsberg/vorschau/hundesteuer-anmeldung/quittung.pdf")
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(lotse_receipt::verify_receipt(&pdf.bytes).unwrap().valid);

    // Beside each step: why it applies and where it leads.
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let step = b.get(&url).await;
    assert!(step.body.contains("Warum dieser Schritt?"), "{}", step.body);

    // A typo in a workflow: the errors replace the assistant until it is fixed.
    let file = project.join("workflows/hundesteuer/workflow.yaml");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, good.replacen("\ntitle:", "\ntilte:", 1)).unwrap();
    // The misspelt key, and the `title` the workflow then lacks.
    assert_eq!(portal.reload(), 2);
    let broken = b.get("/heinsberg").await;
    assert_eq!(broken.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(broken.body.contains("LOT-E004") && broken.body.contains("tilte"));
    std::fs::write(&file, good).unwrap();
    assert_eq!(portal.reload(), 0);
    assert_eq!(b.get("/heinsberg").await.status, StatusCode::OK);
}

/// A workflow translated only in part: on the English page what is German says so (`lang="de"`
/// on its element, WCAG 3.1.2), and nothing else does.
#[tokio::test]
async fn german_texts_on_an_english_step_page_are_marked_german() {
    let (b, _, _) = copied_project(false, |project| {
        let file = project.join("workflows/hundesteuer/workflow.yaml");
        let full = std::fs::read_to_string(&file).unwrap();
        let part = full
            .replacen(
                r#"help: { de: "Die Person, die den Hund hält, muss volljährig sein.", en: "The person who keeps the dog must be of age." }"#,
                "help: Die Person, die den Hund hält, muss volljährig sein.",
                1,
            )
            .replacen(
                "label: { de: Halterin oder Halter, en: Owner }",
                "label: Halterin oder Halter",
                1,
            )
            .replacen(
                r#"- { value: normal, label: { de: Nein, en: "No" } }"#,
                "- { value: normal, label: Nein }",
                1,
            )
            .replacen(
                "label: { de: Sind Sie mit dem Hund zugezogen?, en: Did you move here with the dog? }",
                "label: Sind Sie mit dem Hund zugezogen?",
                1,
            );
        assert_ne!(part, full, "the workflow's texts to untranslate are there");
        std::fs::write(&file, part).unwrap();
    });
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let en = b.get(&format!("{url}?lang=en")).await.body;
    assert!(
        en.contains(
            r#"id="step-hint" lang="de">Die Person, die den Hund hält, muss volljährig sein.</p>"#
        ),
        "{en}"
    );
    assert!(
        en.contains(r#"<span lang="de">Halterin oder Halter</span>"#),
        "{en}"
    );
    // Translated texts carry nothing: the title, the address group's legend.
    assert!(en.contains("<h1>About the dog owner</h1>"), "{en}");
    assert!(en.contains("<legend>Address</legend>"), "{en}");
    // In German nothing is marked.
    let de = b.get(&url).await.body;
    assert!(
        !de.contains(r#"lang="de">Die Person"#) && !de.contains(r#"<span lang="de">"#),
        "{de}"
    );

    // The review page the same way: the group's heading, a label and a chosen option's label.
    answer_one_dog(&b, &url).await;
    let review = b.get(&format!("{url}/pruefen?lang=en")).await.body;
    assert!(
        review.contains(r#"<h3 lang="de">Halterin oder Halter</h3>"#),
        "{review}"
    );
    assert!(
        review.contains(r#"<dt lang="de">Sind Sie mit dem Hund zugezogen?</dt><dd>No</dd>"#),
        "{review}"
    );
    assert!(review.contains(r#"<dd lang="de">Nein</dd>"#), "{review}");
    assert!(review.contains("<h3>Address</h3>"), "{review}");
    let review_de = b.get(&format!("{url}/pruefen")).await.body;
    assert!(
        ["<h2 lang", "<h3 lang", "<dt lang", "<dd lang"]
            .iter()
            .all(|m| !review_de.contains(m)),
        "{review_de}"
    );
}

#[tokio::test]
async fn without_dev_mode_there_is_no_preview() {
    let b = Browser::new();
    assert_eq!(
        b.get("/heinsberg/vorschau/hundesteuer-anmeldung/quittung.pdf")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// The receipt's words as a reader sees them (poppler's `pdftotext`), or `None` without it.
pub(crate) fn receipt_text(pdf: &[u8]) -> Option<String> {
    let found = std::process::Command::new("pdftotext")
        .arg("-v")
        .output()
        .is_ok();
    if !found && std::env::var_os("LOTSE_REQUIRE_POPPLER").is_some() {
        panic!("pdftotext is required (LOTSE_REQUIRE_POPPLER is set) but not installed");
    }
    if !found {
        eprintln!(
            "note: pdftotext is not installed (apt-get install poppler-utils); check skipped"
        );
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quittung.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// One ordinary dog in `tenant`, up to the review page; then submitted. Returns the review page
/// and the receipt.
/// Answers every step of the dog tax at `url` for one dog (Bello), paid by transfer: the
/// application stands at its review.
async fn answer_one_dog(b: &Browser, url: &str) {
    assert_eq!(step(b, url, HALTER).await.status, StatusCode::SEE_OTHER);
    let dogs = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ];
    assert_eq!(step(b, url, &dogs).await.status, StatusCode::SEE_OTHER);
    for answers in [
        &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")][..],
        &[("ermaessigung", "nein")],
        &[("lastschrift", "nein")],
    ] {
        assert_eq!(step(b, url, answers).await.status, StatusCode::SEE_OTHER);
    }
}

async fn register_one_dog(b: &Browser, tenant: &str) -> (String, Vec<u8>) {
    let url = start(b, tenant, "hundesteuer-anmeldung").await;
    answer_one_dog(b, &url).await;
    let review = b.get(&url).await;
    assert!(review.body.contains("Bitte prüfen Sie Ihre Angaben"));
    let csrf = hidden(&review.body, "_csrf").to_string();
    let rev = hidden(&review.body, "_rev").to_string();
    let sent = b
        .post(
            &url,
            &[
                ("_csrf", &csrf),
                ("_rev", &rev),
                ("_declare", "richtig"),
                ("_action", "absenden"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let pdf = b
        .get(&format!("{}/quittung.pdf", sent.location.unwrap()))
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(lotse_receipt::verify_receipt(&pdf.bytes).unwrap().valid);
    (review.body, pdf.bytes)
}

#[tokio::test]
async fn the_same_service_charges_and_names_what_each_municipality_decided() {
    let b = Browser::new();
    // Heinsberg overrides the county's Hundesteuer (workflows/hundesteuer/overrides/): its own
    // office on the service page, its own rate, its own note on the receipt. Gangelt runs the
    // workflow as written.
    let heinsberg = b.get("/heinsberg/leistung/hundesteuer-anmeldung").await;
    assert!(
        heinsberg
            .body
            .contains("Stadt Heinsberg – Steueramt, Hundesteuer"),
        "{}",
        heinsberg.body
    );
    let gangelt = b.get("/gangelt/leistung/hundesteuer-anmeldung").await;
    assert!(!gangelt.body.contains("Stadt Heinsberg – Steueramt"));
    assert!(gangelt.body.contains("Steueramt"), "{}", gangelt.body);
    let english = b
        .get("/heinsberg/leistung/hundesteuer-anmeldung?lang=en")
        .await;
    assert!(
        english
            .body
            .contains("Town of Heinsberg – Tax office, dog tax")
    );

    let (review_h, pdf_h) = register_one_dog(&b, "heinsberg").await;
    let (review_g, pdf_g) = register_one_dog(&b, "gangelt").await;
    assert!(review_h.contains("84,00 €") && !review_h.contains("96,00 €"));
    assert!(review_g.contains("96,00 €") && !review_g.contains("84,00 €"));

    let note = "Die Hundesteuermarke schickt Ihnen das Steueramt der Stadt Heinsberg mit dem Steuerbescheid zu.";
    if let (Some(h), Some(g)) = (receipt_text(&pdf_h), receipt_text(&pdf_g)) {
        assert!(h.contains("84,00 €"), "{h}");
        assert!(
            h.contains("Stadt Heinsberg – Steueramt, Hundesteuer"),
            "{h}"
        );
        assert!(h.contains(note), "{h}");
        assert!(g.contains("96,00 €"), "{g}");
        assert!(!g.contains(note) && !g.contains("Hinweise"), "{g}");
    }
}

#[tokio::test]
async fn a_direct_debit_shows_the_whole_sepa_mandate_before_sending_and_with_its_reference_after() {
    let b = Browser::new();
    let url = start(&b, "gangelt", "hundesteuer-anmeldung").await;
    step(&b, &url, HALTER).await;
    let dogs = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ];
    step(&b, &url, &dogs).await;
    step(
        &b,
        &url,
        &[("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")],
    )
    .await;
    step(&b, &url, &[("ermaessigung", "nein")]).await;
    // Paying by transfer: no mandate anywhere.
    step(&b, &url, &[("lastschrift", "nein")]).await;
    let review = b.get(&url).await;
    assert!(
        review.body.contains("Bitte prüfen Sie Ihre Angaben"),
        "{}",
        review.body
    );
    assert!(!review.body.contains("SEPA-Lastschriftmandat</h2>"));
    // By direct debit: the mandate's whole text, with the municipality as creditor.
    let change = b.get(&format!("{url}/aendern/zahlung")).await;
    assert_eq!(change.status, StatusCode::OK);
    let posted = b
        .post(
            &format!("{url}/aendern/zahlung"),
            &[
                ("_csrf", hidden(&change.body, "_csrf")),
                ("_rev", hidden(&change.body, "_rev")),
                ("_step", "zahlung"),
                ("lastschrift", "ja"),
                ("konto.kontoinhaber", "Anna Schmitz"),
                ("konto.iban", "DE89 3704 0044 0532 0130 00"),
                ("_action", "weiter"),
            ],
        )
        .await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let review = b.get(&format!("{url}/pruefen")).await;
    for text in [
        "SEPA-Lastschriftmandat</h2>",
        "Ich ermächtige Gemeinde Gangelt, Zahlungen von meinem Konto mittels Lastschrift einzuziehen.",
        "innerhalb von acht Wochen",
        "DE79ZZZ00000000002",
        "DE89 …3000",
        "Ihr Aktenzeichen; Sie erhalten es nach dem Absenden",
    ] {
        assert!(review.body.contains(text), "{text}: {}", review.body);
    }
    let sent = b
        .post(
            &url,
            &[
                ("_csrf", hidden(&review.body, "_csrf")),
                ("_rev", hidden(&review.body, "_rev")),
                ("_declare", "richtig"),
                ("_action", "absenden"),
            ],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let done = b.get(sent.location.as_deref().unwrap()).await;
    let reference = done
        .body
        .split("<strong>")
        .nth(1)
        .unwrap()
        .split("</strong>")
        .next()
        .unwrap()
        .to_string();
    assert!(reference.starts_with("GAN-"), "{reference}");
    assert!(
        done.body.contains("SEPA-Lastschriftmandat</h2>"),
        "{}",
        done.body
    );
    assert!(
        done.body
            .contains(&format!("<dt>Mandatsreferenz</dt><dd>{reference}</dd>")),
        "{}",
        done.body
    );
}

#[tokio::test]
async fn the_county_finds_what_its_municipalities_offer_and_says_who_offers_it() {
    let b = Browser::new();
    let home = b.get("/").await.body;
    assert!(
        home.contains("action=\"/kreis-heinsberg\" role=\"search\""),
        "the start page has the search box: {home}"
    );
    let hits = b.get("/kreis-heinsberg?q=Hundesteuer").await;
    assert_eq!(hits.status, StatusCode::OK);
    assert!(
        hits.body
            .contains("href=\"/kreis-heinsberg/leistung/hundesteuer\""),
        "{}",
        hits.body
    );
    assert!(
        hits.body
            .contains("bei Ihrer Gemeinde – Erkelenz, Gangelt, Geilenkirchen"),
        "{}",
        hits.body
    );
    // A typo, ß/ss and a compound part still find services without an assistant.
    for (q, id) in [
        ("Personalausweiss", "personalausweis"),
        ("Sperrmuell", "sperrmuell"),
        ("Führerschein", "fuehrerschein-ersterteilung"),
        ("Zulassung", "kfz-zulassung"),
    ] {
        let r = b.get(&format!("/kreis-heinsberg?q={q}")).await.body;
        assert!(
            r.contains(&format!("/kreis-heinsberg/leistung/{id}\"")),
            "{q} should find {id}"
        );
    }
    // An assistant's own keywords still find it ("Möbellift" is only in the workflow).
    let lift = b.get("/heinsberg?q=Möbellift").await.body;
    assert!(
        lift.contains("/heinsberg/leistung/sondernutzung-strasse\""),
        "{lift}"
    );
    // The county's page of a municipal service links to every municipality's page.
    let page = b.get("/kreis-heinsberg/leistung/hundesteuer").await.body;
    assert!(
        page.contains("href=\"/gangelt/leistung/hundesteuer-anmeldung\""),
        "{page}"
    );
    assert!(page.contains("Was kostet das?"));
}

#[tokio::test]
async fn a_service_without_an_assistant_shows_everything_a_citizen_needs() {
    let b = Browser::new();
    let page = b.get("/erkelenz/leistung/personalausweis").await;
    assert_eq!(page.status, StatusCode::OK);
    for part in [
        "<h1>Personalausweis beantragen</h1>",
        "Wer kann das beantragen?",
        "ein aktuelles biometrisches Passbild",
        "37,00 €",
        "etwa drei bis vier Wochen",
        "Ja, Sie müssen persönlich vorbeikommen.",
        "Bürgerbüro, Stadt Erkelenz",
        "Johannismarkt 17",
        "Personalausweisgesetz (PAuswG)",
    ] {
        assert!(page.body.contains(part), "{part} missing: {}", page.body);
    }
    assert!(
        !page.body.contains("Antrag starten"),
        "no assistant, no start button"
    );
    // A county service on a municipality's portal: the county's office with its hours.
    let kfz = b.get("/gangelt/leistung/kfz-zulassung").await.body;
    assert!(
        kfz.contains("Straßenverkehrsamt – Zulassungsstelle"),
        "{kfz}"
    );
    assert!(kfz.contains("Öffnungszeiten"));
    assert!(kfz.contains("href=\"tel:02452133333\""), "{kfz}");
    // English labels.
    let en = b
        .get("/erkelenz/leistung/personalausweis?lang=en")
        .await
        .body;
    assert!(en.contains("Apply for an identity card") && en.contains("Which documents do I need?"));
    // The translated title is the page's language; what the catalogue has only in German is
    // marked German (WCAG 3.1.2), on the service page and in search hits, and only in English.
    assert!(en.contains("<h1>Apply for an identity card</h1>"), "{en}");
    let dog = b
        .get("/heinsberg/leistung/hundesteuer-abmeldung?lang=en")
        .await
        .body;
    assert!(
        dog.contains("<h1 lang=\"de\">Hund von der Hundesteuer abmelden</h1>"),
        "{dog}"
    );
    assert!(
        dog.contains("<p lang=\"de\">Hundehalterinnen und Hundehalter.</p>"),
        "{dog}"
    );
    let hits = b.get("/heinsberg?q=Hund&lang=en").await.body;
    assert!(
        hits.contains("lang=\"de\">Hund von der Hundesteuer abmelden</a>"),
        "{hits}"
    );
    let german = b
        .get("/heinsberg/leistung/hundesteuer-abmeldung")
        .await
        .body;
    assert!(
        german.contains("<h1>Hund von der Hundesteuer abmelden</h1>"),
        "{german}"
    );
    // A service the municipality does not offer is not found there.
    assert_eq!(
        b.get("/erkelenz/leistung/babybegruessung").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_search_without_a_hit_names_the_contact_and_the_115() {
    let b = Browser::new();
    let none = b.get("/wegberg?q=Zeppelinlandeplatz").await.body;
    assert!(none.contains("Keine Dienstleistung gefunden"), "{none}");
    assert!(
        none.contains("02434 83-0") && none.contains("Rathausplatz 25"),
        "{none}"
    );
    assert!(none.contains("href=\"tel:115\""));
}
