//! Every page template rendered through its route, in German and English where the page has
//! both, in the states that change what a template reads: a step with errors, a repeat group
//! with entries added and removed, each field widget, the review with its change links, the
//! status page with an open Rückfrage and a refused answer, the message pages, the designers'
//! preview, and the Postkorb's sign-in, list with filters and pages, detail with its history,
//! messages and a refused change. The registries run in strict mode: a template that reads a
//! field its page struct lacks answers 500 and fails here.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::http::StatusCode;
use lotse_server::{Portal, router};

use crate::admin::{Auth, Office, Reply, hidden};
use crate::portal::{HALTER, copy_dir, project_root};

/// The templates seen rendered, by their file name under server/templates/.
#[derive(Default)]
struct Seen(BTreeSet<&'static str>);

impl Seen {
    /// Checks that `r` is the page `template` renders (found by `marker`, a piece of markup only
    /// that template writes) with `status`, and notes it.
    fn page(&mut self, template: &'static str, r: &Reply, status: StatusCode, marker: &str) {
        assert_eq!(
            r.status, status,
            "{template}: {} instead of {status}\n{}",
            r.status, r.body
        );
        assert!(
            r.body.contains(marker) && r.body.trim_end().ends_with("</html>"),
            "{template}: no {marker:?} in\n{}",
            r.body
        );
        self.0.insert(template);
    }
}

/// `url` in the language `lang` (`?lang=` wins over the cookie).
fn in_lang(url: &str, lang: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}lang={lang}")
}

/// The page at `url` as a browser shows it: redirects within the assistant (the draft's link to
/// its step, a refused step to its own URL) are followed.
async fn shown(o: &Office, url: &str, lang: &str) -> Reply {
    let mut r = o.get(&in_lang(url, lang), &Auth::None).await;
    for _ in 0..3 {
        match r.location.clone() {
            Some(to) if r.status == StatusCode::SEE_OTHER && to.contains("/antrag/") => {
                r = o.get(&to, &Auth::None).await;
            }
            _ => break,
        }
    }
    r
}

/// A refused step: the answer redirects to the step's own URL, which shows the errors.
async fn refused_step(o: &Office, url: &str, lang: &str, answers: &[(&str, &str)]) -> Reply {
    let r = answer(o, url, lang, "weiter", answers).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let to = r.location.unwrap();
    assert!(to.contains("/schritt/"), "{to}");
    o.get(&to, &Auth::None).await
}

/// Sends the form of the step at `url` (its token and revision) with `answers` and `action`.
async fn answer(
    o: &Office,
    url: &str,
    lang: &str,
    action: &str,
    answers: &[(&str, &str)],
) -> Reply {
    let page = shown(o, url, lang).await;
    let csrf = hidden(&page.body, "_csrf");
    let rev = hidden(&page.body, "_rev");
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("_rev", rev.as_str()),
        ("_action", action),
    ];
    form.extend_from_slice(answers);
    o.form(&in_lang(url, lang), &Auth::None, &form).await
}

/// Adds or removes an entry (`action`): the post redirects to the step's own URL, which shows
/// what was kept in the draft.
async fn kept(o: &Office, url: &str, lang: &str, action: &str, answers: &[(&str, &str)]) -> Reply {
    let r = answer(o, url, lang, action, answers).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{action}: {}", r.body);
    let to = r.location.unwrap();
    assert!(to.contains("/schritt/hunde"), "{to}");
    o.get(&to, &Auth::None).await
}

/// Starts `workflow` in Heinsberg and returns the draft's address.
async fn start(o: &Office, seen: &mut Seen, workflow: &str, lang: &str) -> String {
    let url = format!("/heinsberg/leistung/{workflow}");
    let service = o.get(&in_lang(&url, lang), &Auth::None).await;
    seen.page(
        "service",
        &service,
        StatusCode::OK,
        &format!("<form method=\"post\" action=\"{url}\">"),
    );
    let csrf = hidden(&service.body, "_csrf");
    let started = o
        .form(&in_lang(&url, lang), &Auth::None, &[("_csrf", &csrf)])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    started.location.unwrap()
}

const STEP: &str = "name=\"_step\"";

/// The citizen's pages in `lang`, up to a submitted dog tax application; returns the address of
/// its status page.
async fn citizen_pages(o: &Office, seen: &mut Seen, lang: &str) -> String {
    let en = lang == "en";
    seen.page(
        "home",
        &o.get(&in_lang("/", lang), &Auth::None).await,
        StatusCode::OK,
        "<span class=\"hint\">– ",
    );
    seen.page(
        "explain",
        &o.get(&in_lang("/leichte-sprache", lang), &Auth::None).await,
        StatusCode::OK,
        "Das ist das Service-Portal vom Kreis Heinsberg.",
    );
    seen.page(
        "explain",
        &o.get(&in_lang("/gebaerdensprache", lang), &Auth::None)
            .await,
        StatusCode::OK,
        ".mp4",
    );
    for q in ["", "?q=Hund", "?q=Zeppelinlandeplatz"] {
        let r = o
            .get(&in_lang(&format!("/heinsberg{q}"), lang), &Auth::None)
            .await;
        seen.page("catalogue", &r, StatusCode::OK, "role=\"search\"");
        assert!(r.body.contains(&format!("lang=\"{lang}\"")));
    }
    // A service without an assistant: its information and office; and on the county's
    // portal, a municipal one with the municipalities that offer it.
    for (url, mark) in [
        ("/heinsberg/leistung/personalausweis", "class=\"office\""),
        (
            "/kreis-heinsberg/leistung/hundesteuer",
            "class=\"providers\"",
        ),
    ] {
        let info = o.get(&in_lang(url, lang), &Auth::None).await;
        seen.page("service", &info, StatusCode::OK, mark);
        assert!(
            !info.body.contains("method=\"post\" action=\"/"),
            "no start button"
        );
    }
    let hits = o
        .get(&in_lang("/heinsberg?q=Hund", lang), &Auth::None)
        .await;
    assert!(
        hits.body
            .contains("/heinsberg/leistung/hundesteuer-anmeldung\">")
    );

    let url = start(o, seen, "hundesteuer-anmeldung", lang).await;
    // Groups of fields with hints; then the same step refused, with its error summary.
    let first = shown(o, &url, lang).await;
    seen.page("step", &first, StatusCode::OK, STEP);
    let mut wrong = HALTER.to_vec();
    wrong[6] = ("anschrift.plz", "5252");
    let refused = refused_step(o, &url, lang, &wrong).await;
    seen.page("step", &refused, StatusCode::OK, "class=\"error-summary\"");
    assert!(refused.body.contains("href=\"#f-anschrift-plz\""));
    assert_eq!(
        answer(o, &url, lang, "weiter", HALTER).await.status,
        StatusCode::SEE_OTHER
    );

    // A repeat group: an entry added, then removed again, each shown with its remove button.
    let dog = [
        ("hunde.0.name", "Bello"),
        ("hunde.0.rasse", "Labrador"),
        ("hunde.0.geburtsdatum", "2022-03-01"),
        ("hunde.0.kategorie", "normal"),
    ];
    let added = kept(o, &url, lang, "add:hunde", &dog).await;
    seen.page("step", &added, StatusCode::OK, "name=\"hunde.1.name\"");
    assert!(added.body.contains("value=\"remove:hunde:1\""));
    let mut two = dog.to_vec();
    two.push(("hunde.1.name", "Rex"));
    let removed = kept(o, &url, lang, "remove:hunde:1", &two).await;
    seen.page("step", &removed, StatusCode::OK, "value=\"add:hunde\"");
    assert!(!removed.body.contains("name=\"hunde.1.name\""));
    let undone = kept(o, &url, lang, "undo", &dog).await;
    seen.page("step", &undone, StatusCode::OK, "name=\"hunde.1.name\"");
    assert!(undone.body.contains("value=\"Rex\""));
    assert_eq!(
        answer(o, &url, lang, "weiter", &dog).await.status,
        StatusCode::SEE_OTHER
    );
    let beginn = [("haltungsbeginn", "2026-11-01"), ("zuzug", "nein")];
    assert_eq!(
        answer(o, &url, lang, "weiter", &beginn).await.status,
        StatusCode::SEE_OTHER
    );

    // A select that must be chosen, shown only after "Ja" (marked for the reveal script).
    let select = refused_step(o, &url, lang, &[("ermaessigung", "ja")]).await;
    seen.page(
        "step",
        &select,
        StatusCode::OK,
        "<select id=\"f-ermaessigung_grund\"",
    );
    assert!(
        select.body.contains(
            "class=\"field has-error conditional\" data-reveal-field=\"ermaessigung\" data-reveal-value=\"ja\">"
        ),
        "{}",
        select.body
    );
    let no = [("ermaessigung", "nein")];
    assert_eq!(
        answer(o, &url, lang, "weiter", &no).await.status,
        StatusCode::SEE_OTHER
    );
    let cash = [("lastschrift", "nein")];
    assert_eq!(
        answer(o, &url, lang, "weiter", &cash).await.status,
        StatusCode::SEE_OTHER
    );

    // The review: each step with its change link, the computed fees, the declaration.
    let review = shown(o, &url, lang).await;
    seen.page("review", &review, StatusCode::OK, "value=\"absenden\"");
    assert!(
        review
            .body
            .contains(&format!("href=\"{url}/aendern/hunde#f-hunde-0-name\""))
    );
    assert!(review.body.contains(if en { "Fees" } else { "Gebühren" }));
    assert!(review.body.contains("id=\"f-declaration-richtig\""));
    // Sent without the declaration: the review again, with the error.
    let unticked = answer(o, &url, lang, "absenden", &[]).await;
    assert_eq!(unticked.status, StatusCode::SEE_OTHER, "{}", unticked.body);
    let refused = shown(o, &url, lang).await;
    seen.page(
        "review",
        &refused,
        StatusCode::OK,
        "class=\"error-summary\"",
    );
    assert!(refused.body.contains("id=\"f-declaration-richtig-error\""));
    let sent = answer(o, &url, lang, "absenden", &[("_declare", "richtig")]).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    let done_url = sent.location.unwrap();
    let done = o.get(&in_lang(&done_url, lang), &Auth::None).await;
    seen.page("done", &done, StatusCode::OK, "class=\"status-now\"");
    assert!(!done.body.contains("name=\"antwort\""), "no query is open");

    // A textarea and number fields (street use: the applicant, the use, the place, the area).
    let url = start(o, seen, "sondernutzung-strasse", lang).await;
    let person: Vec<(String, &str)> = HALTER
        .iter()
        .map(|(k, v)| (k.replacen("halter.", "person.", 1), *v))
        .collect();
    let mut applicant: Vec<(&str, &str)> = person.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    applicant.push(("antragsteller_art", "privat"));
    let r = answer(o, &url, lang, "weiter", &applicant).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
    let textarea = shown(o, &url, lang).await;
    seen.page(
        "step",
        &textarea,
        StatusCode::OK,
        "<textarea id=\"f-anlass\"",
    );
    let container = [("art", "container")];
    assert_eq!(
        answer(o, &url, lang, "weiter", &container).await.status,
        StatusCode::SEE_OTHER
    );
    let place = [
        ("strasse", "Apfelstraße"),
        ("hausnummer", "7"),
        ("plz", "52525"),
        ("ort", "Heinsberg"),
        ("lage", "parkstreifen"),
    ];
    assert_eq!(
        answer(o, &url, lang, "weiter", &place).await.status,
        StatusCode::SEE_OTHER
    );
    let area = shown(o, &url, lang).await;
    seen.page("step", &area, StatusCode::OK, "type=\"number\"");

    // The message pages: an unknown draft, a resume code that does not exist.
    let missing = o
        .get(
            &in_lang("/heinsberg/antrag/gibt-es-nicht", lang),
            &Auth::None,
        )
        .await;
    let heading = if en {
        "<h1>Page not found</h1>"
    } else {
        "<h1>Seite nicht gefunden</h1>"
    };
    seen.page("message", &missing, StatusCode::NOT_FOUND, heading);
    let catalogue = o.get(&in_lang("/heinsberg", lang), &Auth::None).await;
    let csrf = hidden(&catalogue.body, "_csrf");
    let code = o
        .form(
            &in_lang("/heinsberg/fortsetzen", lang),
            &Auth::None,
            &[("_csrf", &csrf), ("code", "AAAA-BBBB-CCCC-DDDD")],
        )
        .await;
    // The code box again, with the error tied to it.
    seen.page(
        "resume",
        &code,
        StatusCode::NOT_FOUND,
        "aria-describedby=\"code-hint code-error\"",
    );
    done_url
}

/// The Postkorb's pages, and the citizen's status page with an open Rückfrage in both
/// languages. `submitted` is the status page of an application sent through the portal.
async fn office_pages(o: &Office, seen: &mut Seen, submitted: &str) {
    let login = o.get("/verwaltung/heinsberg/anmelden", &Auth::None).await;
    seen.page("admin/login", &login, StatusCode::OK, "name=\"passwort\"");
    let csrf = hidden(&login.body, "_csrf");
    let wrong = o
        .form(
            "/verwaltung/heinsberg/anmelden",
            &Auth::None,
            &[
                ("_csrf", &csrf),
                ("benutzername", "sb"),
                ("passwort", "falsch"),
            ],
        )
        .await;
    seen.page(
        "admin/login",
        &wrong,
        StatusCode::UNAUTHORIZED,
        "Anmeldung nicht möglich",
    );
    let session = o.sign_in("heinsberg", "sb").await;
    let me = Auth::Cookie(&session);

    // The list: all, filtered (every filter set), one entry per page, and an empty selection.
    seen.page(
        "admin/list",
        &o.get("/verwaltung/heinsberg", &me).await,
        StatusCode::OK,
        "class=\"filters\"",
    );
    let filtered = o
        .get(
            "/verwaltung/heinsberg?status=eingegangen&leistung=hundesteuer-anmeldung&von=2000-01-01&bis=2999-12-31&aktenzeichen=HEI",
            &me,
        )
        .await;
    seen.page(
        "admin/list",
        &filtered,
        StatusCode::OK,
        "value=\"eingegangen\" selected",
    );
    assert!(
        filtered
            .body
            .contains("value=\"hundesteuer-anmeldung\" selected")
    );
    let searched = o
        .get(
            "/verwaltung/heinsberg?suche=bello&zustaendig=mir&faellig=1",
            &me,
        )
        .await;
    seen.page(
        "admin/list",
        &searched,
        StatusCode::OK,
        "value=\"mir\" selected",
    );
    assert!(searched.body.contains("value=\"bello\""));
    assert!(searched.body.contains("value=\"1\" checked"));
    let paged = o
        .get("/verwaltung/heinsberg?pro_seite=1&seite=2", &me)
        .await;
    seen.page("admin/list", &paged, StatusCode::OK, "Vorherige Seite");
    assert!(paged.body.contains("Nächste Seite"));
    let none = o.get("/verwaltung/heinsberg?status=abgelehnt", &me).await;
    seen.page(
        "admin/list",
        &none,
        StatusCode::OK,
        "Keine Anträge für diese Auswahl.",
    );

    // The detail of the application sent through the portal: its answers, a valid signature.
    let id = submitted.rsplit('/').next().unwrap();
    let detail = o
        .get(&format!("/verwaltung/heinsberg/antrag/{id}"), &me)
        .await;
    seen.page(
        "admin/detail",
        &detail,
        StatusCode::OK,
        "id=\"status-aktuell\"",
    );
    assert!(detail.body.contains("Signatur gültig"), "{}", detail.body);
    assert!(detail.body.contains(">Gebühren und Beträge</h3>"));
    assert!(!detail.body.contains("Berechnete Werte"));
    // The declaration the citizen ticked on the review page, as the receipt shows it.
    let declared = detail
        .body
        .find("id=\"erklaerung\">Erklärung</h3>")
        .unwrap();
    assert!(detail.body[declared..].contains("<dd>Bestätigt</dd>"));
    assert!(
        detail.body.contains("<h4 class=\"group\">"),
        "groups under headings"
    );

    // A stored submission without labels or a signed receipt; a refused change; a Rückfrage
    // and a message, which its history and messages then show.
    let sub = &o.hei[0];
    let page = format!("/verwaltung/heinsberg/antrag/{}", sub.id);
    let bare = o.get(&page, &me).await;
    seen.page("admin/detail", &bare, StatusCode::OK, "Signatur ungültig");
    let csrf = hidden(&bare.body, "_csrf");
    let refused = o
        .form(
            &format!("{page}/status"),
            &me,
            &[
                ("_csrf", &csrf),
                ("status", "rueckfrage"),
                ("kommentar", " "),
            ],
        )
        .await;
    seen.page(
        "admin/detail",
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Nicht gespeichert",
    );
    let query = [
        ("_csrf", csrf.as_str()),
        ("status", "rueckfrage"),
        ("kommentar", "Welche Rasse?"),
    ];
    assert_eq!(
        o.form(&format!("{page}/status"), &me, &query).await.status,
        StatusCode::SEE_OTHER
    );
    let note = [
        ("_csrf", csrf.as_str()),
        ("nachricht", "Bitte antworten Sie bald."),
    ];
    assert_eq!(
        o.form(&format!("{page}/nachricht"), &me, &note)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let full = o.get(&page, &me).await;
    seen.page(
        "admin/detail",
        &full,
        StatusCode::OK,
        "<p class=\"body\">Welche Rasse?</p>",
    );
    assert!(full.body.contains("Bitte antworten Sie bald."));

    // Assigned to me, with a note and a Wiedervorlage; a date in the past refused.
    for (path, field, value) in [
        ("zuweisung", "zustaendig", "mir"),
        ("notiz", "notiz", "Intern: Rasse prüfen."),
        ("wiedervorlage", "wiedervorlage", "2999-12-31"),
    ] {
        let r = o
            .form(
                &format!("{page}/{path}"),
                &me,
                &[("_csrf", csrf.as_str()), (field, value)],
            )
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{path}");
    }
    let worked = o.get(&page, &me).await;
    seen.page(
        "admin/detail",
        &worked,
        StatusCode::OK,
        "<ol class=\"messages notes\">",
    );
    assert!(worked.body.contains("Am 31.12.2999"));
    assert!(worked.body.contains("(Sie)"));
    let past = o
        .form(
            &format!("{page}/wiedervorlage"),
            &me,
            &[("_csrf", csrf.as_str()), ("wiedervorlage", "2000-01-01")],
        )
        .await;
    seen.page(
        "admin/detail",
        &past,
        StatusCode::UNPROCESSABLE_ENTITY,
        "Wiedervorlage: bitte heute",
    );

    // The citizen's status page with the open query, and an empty answer refused.
    let status_page = format!("/heinsberg/eingang/{}", sub.id);
    for lang in ["de", "en"] {
        let open = o.get(&in_lang(&status_page, lang), &Auth::None).await;
        seen.page("done", &open, StatusCode::OK, "name=\"antwort\"");
        assert!(open.body.contains("Bitte antworten Sie bald."));
        // The question stands in the answer's box too, and describes the answer field.
        let query = open
            .body
            .split("class=\"query\"")
            .nth(1)
            .unwrap_or_default();
        assert!(
            query.contains("id=\"antwort-frage\"") && query.contains("Bitte antworten Sie bald."),
            "the question is where it is answered ({lang})"
        );
        assert!(query.contains("aria-describedby=\"antwort-frage antwort-hinweis"));
        let token = hidden(&open.body, "_csrf");
        let empty = o
            .form(
                &in_lang(&format!("{status_page}/antwort"), lang),
                &Auth::None,
                &[("_csrf", &token), ("antwort", " ")],
            )
            .await;
        seen.page(
            "done",
            &empty,
            StatusCode::UNPROCESSABLE_ENTITY,
            "id=\"antwort-fehler\"",
        );
    }

    // A closed application offers no further status.
    let other = format!("/verwaltung/heinsberg/antrag/{}", o.hei[1].id);
    let closing = [
        ("_csrf", csrf.as_str()),
        ("status", "abgelehnt"),
        ("kommentar", "Nein."),
    ];
    assert_eq!(
        o.form(&format!("{other}/status"), &me, &closing)
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    let closed = o.get(&other, &me).await;
    seen.page(
        "admin/detail",
        &closed,
        StatusCode::OK,
        "Dieser Antrag ist abgeschlossen",
    );

    // The message page, signed in (with the way back) and as another tenant's staff (without).
    let unknown = o.get("/verwaltung/heinsberg/antrag/kein-antrag", &me).await;
    seen.page(
        "admin/message",
        &unknown,
        StatusCode::NOT_FOUND,
        "Fehlercode LOT-V006",
    );
    assert!(unknown.body.contains("Zurück zum Postkorb"));
    let foreign = o.sign_in("erkelenz", "sb").await;
    let elsewhere = o
        .get("/verwaltung/heinsberg", &Auth::Cookie(&foreign))
        .await;
    seen.page(
        "admin/message",
        &elsewhere,
        StatusCode::FORBIDDEN,
        "Fehlercode LOT-V005",
    );
    assert!(elsewhere.body.contains("Zur Anmeldung"));
}

/// The designers' preview: a step with its explanation, and the list of errors that replaces
/// the assistant while a definition is broken.
async fn preview_pages(seen: &mut Seen) {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    for part in ["workflows", "forms", "pdf-templates"] {
        copy_dir(&project_root().join(part), &project.join(part));
    }
    let config = lotse_server::config::Config {
        project_dir: project.clone(),
        data_dir: dir.path().join("data"),
        ..lotse_server::config::Config::default()
    };
    let portal = Arc::new(Portal::build_mode(&config, true).unwrap());
    let o = Office::with_app(router(portal.clone()));
    let url = start(&o, seen, "hundesteuer-anmeldung", "de").await;
    assert_eq!(
        answer(&o, &url, "de", "weiter", HALTER).await.status,
        StatusCode::SEE_OTHER
    );
    let explained = shown(&o, &url, "de").await;
    seen.page("step", &explained, StatusCode::OK, "Warum dieser Schritt?");
    assert!(
        explained.body.contains("wenn <code>"),
        "the branches of the step"
    );

    let file = project.join("workflows/hundesteuer/workflow.yaml");
    let good = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, good.replacen("\ntitle:", "\ntilte:", 1)).unwrap();
    // The misspelt key, and the `title` the workflow then lacks.
    assert_eq!(portal.reload(), 2);
    for lang in ["de", "en"] {
        let broken = o.get(&in_lang("/heinsberg", lang), &Auth::None).await;
        seen.page(
            "problems",
            &broken,
            StatusCode::SERVICE_UNAVAILABLE,
            "class=\"problems\"",
        );
    }
}

/// The page templates in server/templates/ (layouts aside), as `admin/list` or `step`.
fn templates() -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut names = BTreeSet::new();
    for dir in [root.clone(), root.join("admin")] {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
                continue;
            };
            if path.extension().is_some_and(|x| x == "hbs") && stem != "layout" {
                let prefix = if dir == root { "" } else { "admin/" };
                names.insert(format!("{prefix}{stem}"));
            }
        }
    }
    names
}

/// The Verwaltung's settings: as shown, with a rule's preview, with a refused rule, and with a
/// new account's password.
async fn settings_pages(seen: &mut Seen) {
    let s = crate::settings::setup();
    let o = &s.office;
    let session = o.sign_in("gangelt", "admin").await;
    let me = Auth::Cookie(&session);
    let base = "/verwaltung/gangelt/einstellungen";
    let page = o.get(base, &me).await;
    seen.page(
        "admin/settings",
        &page,
        StatusCode::OK,
        "Online-Dienste speichern",
    );
    let csrf = hidden(&page.body, "_csrf");
    let url = format!("{base}/regeln/hundesteuer-anmeldung");
    let good = "tenant: gangelt\nworkflow: hundesteuer-anmeldung\ncomputed:\n  - id: jahressteuer\n    fixed: 50\n";
    let preview = o
        .form(
            &url,
            &me,
            &[("_csrf", &csrf), ("regel", good), ("aktion", "pruefen")],
        )
        .await;
    seen.page(
        "admin/settings",
        &preview,
        StatusCode::OK,
        "Musterquittung öffnen",
    );
    let refused = o
        .form(
            &url,
            &me,
            &[
                ("_csrf", &csrf),
                ("regel", "tenant: ["),
                ("aktion", "speichern"),
            ],
        )
        .await;
    seen.page(
        "admin/settings",
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "nichts wurde geändert",
    );
    let created = o
        .form(
            &format!("{base}/konten"),
            &me,
            &[
                ("_csrf", &csrf),
                ("aktion", "anlegen"),
                ("benutzername", "neu"),
                ("name", "Neu"),
                ("rolle", "case_worker"),
            ],
        )
        .await;
    seen.page(
        "admin/settings",
        &created,
        StatusCode::OK,
        "class=\"secret\"",
    );
    let list = o.get(&format!("{base}/leistungen"), &me).await;
    seen.page(
        "admin/leistungen",
        &list,
        StatusCode::OK,
        "Sperrmüll anmelden",
    );
    let entry = format!("{base}/leistungen/sperrmuell");
    let form = o.get(&entry, &me).await;
    seen.page(
        "admin/leistung",
        &form,
        StatusCode::OK,
        "Angabe des Kreises",
    );
    let refused = o
        .form(
            &entry,
            &me,
            &[("_csrf", &csrf), ("online", "ftp://x"), ("telefon", "1\n2")],
        )
        .await;
    seen.page(
        "admin/leistung",
        &refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "error-summary",
    );
    let saved = o
        .form(&entry, &me, &[("_csrf", &csrf), ("dauer", "eine Woche")])
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let notice = o.get(&format!("{entry}?gespeichert=ja"), &me).await;
    seen.page(
        "admin/leistung",
        &notice,
        StatusCode::OK,
        "Auf die Angaben des Kreises zurücksetzen",
    );
}

/// The payment page of a Bewohnerparkausweis sent with "Absenden und bezahlen" while no
/// platform is connected: kept as payment pending, with "Jetzt bezahlen".
async fn payment_pages(o: &Office, seen: &mut Seen) {
    let api = "/api/v1/tenants/heinsberg";
    let started = o
        .json(
            &format!("{api}/services/bewohnerparkausweis/applications"),
            &Auth::None,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(started.status, StatusCode::CREATED, "{}", started.body);
    let v: serde_json::Value = serde_json::from_str(&started.body).unwrap();
    let id = v["id"].as_str().unwrap().to_string();
    let mut rev = v["revision"].as_u64().unwrap();
    let beginn = lotse_core::Clock::now(&lotse_core::SystemClock)
        .date()
        .to_string();
    for (step, values) in [
        (
            "antragsteller",
            serde_json::json!({
                "person": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz", "geburtsdatum": "1985-04-12"},
                "meldeadresse": {"strasse": "Hochstraße", "hausnummer": "1", "plz": "52525", "ort": "Heinsberg"},
                "kontakt": {"email": "anna@example.org"}, "zone": "A", "wohnt_in_zone": true
            }),
        ),
        (
            "fahrzeug",
            serde_json::json!({"fahrzeug": {"kennzeichen": "HS-AS 1", "hersteller": "VW", "modell": "Polo", "fahrzeugart": "Pkw", "halter_art": "privat"}, "auf_sie_zugelassen": "ja"}),
        ),
        (
            "gueltigkeit",
            serde_json::json!({"jahre": 1, "beginn": beginn}),
        ),
        ("zahlung", serde_json::json!({"zahlungsart": "online"})),
    ] {
        let r = o
            .put_json(
                &format!("{api}/applications/{id}/steps/{step}"),
                serde_json::json!({"revision": rev, "values": values}),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{step}: {}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        rev = v["revision"].as_u64().unwrap();
    }
    let sent = o
        .json(
            &format!("{api}/applications/{id}/submit"),
            &Auth::None,
            serde_json::json!({"revision": rev, "declaration": ["richtig", "rueckgabe"]}),
        )
        .await;
    assert_eq!(sent.status, StatusCode::ACCEPTED, "{}", sent.body);
    let v: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    let pid = v["payment"]["id"].as_str().unwrap().to_string();
    for (lang, marker) in [("de", "Jetzt bezahlen"), ("en", "Pay now")] {
        let page = shown(o, &format!("/heinsberg/zahlung/{pid}"), lang).await;
        seen.page("payment", &page, StatusCode::OK, marker);
        assert!(
            page.body.contains("30,70 €") || page.body.contains("€30.70"),
            "{}",
            page.body
        );
    }
}

/// The appointment pages in each state: services, a day's times (and a refused time), held (and
/// a refused booking), booked, cancelled; the case workers' day view.
async fn visit_pages(o: &Office, seen: &mut Seen) {
    for lang in ["de", "en"] {
        let list = o
            .get(&in_lang("/heinsberg/termine", lang), &Auth::None)
            .await;
        seen.page(
            "visits",
            &list,
            StatusCode::OK,
            "/heinsberg/termine/personalausweis",
        );
    }
    let service = "/heinsberg/termine/personalausweis";
    let times = o.get(service, &Auth::None).await;
    seen.page("visits", &times, StatusCode::OK, "name=\"zeit\"");
    let csrf = hidden(&times.body, "_csrf");
    let refused = o
        .form(service, &Auth::None, &[("_csrf", &csrf), ("zeit", "1")])
        .await;
    seen.page("visits", &refused, StatusCode::CONFLICT, "error-summary");
    let marker = "name=\"zeit\" value=\"";
    let at = times.body.find(marker).unwrap() + marker.len();
    let zeit = times.body[at..at + times.body[at..].find('"').unwrap()].to_string();
    let r = o
        .form(service, &Auth::None, &[("_csrf", &csrf), ("zeit", &zeit)])
        .await;
    let visit = r.location.unwrap();
    let held = o.get(&visit, &Auth::None).await;
    seen.page("visit", &held, StatusCode::OK, "id=\"email\"");
    let vcsrf = hidden(&held.body, "_csrf");
    let wrong = o
        .form(
            &visit,
            &Auth::None,
            &[
                ("_csrf", &vcsrf),
                ("_action", "buchen"),
                ("name", ""),
                ("email", "x"),
            ],
        )
        .await;
    seen.page(
        "visit",
        &wrong,
        StatusCode::UNPROCESSABLE_ENTITY,
        "error-summary",
    );
    o.form(
        &visit,
        &Auth::None,
        &[
            ("_csrf", &vcsrf),
            ("_action", "buchen"),
            ("name", "Anna Schmitz"),
            ("email", "anna@example.org"),
        ],
    )
    .await;
    for lang in ["de", "en"] {
        let booked = o.get(&in_lang(&visit, lang), &Auth::None).await;
        seen.page("visit", &booked, StatusCode::OK, "termin.ics");
    }
    let session = o.sign_in("heinsberg", "sb").await;
    let day = o
        .get(
            "/verwaltung/heinsberg/termine?buero=buergerbuero",
            &Auth::Cookie(&session),
        )
        .await;
    seen.page("admin/termine", &day, StatusCode::OK, "Termine:");
    o.form(
        &visit,
        &Auth::None,
        &[("_csrf", &vcsrf), ("_action", "absagen")],
    )
    .await;
    let cancelled = o.get(&visit, &Auth::None).await;
    seen.page("visit", &cancelled, StatusCode::OK, "<h1>");
}

#[tokio::test]
async fn every_page_template_renders_in_strict_mode_in_each_of_its_states() {
    let o = Office::new();
    let mut seen = Seen::default();
    let mut submitted = String::new();
    for lang in ["de", "en"] {
        submitted = citizen_pages(&o, &mut seen, lang).await;
    }
    office_pages(&o, &mut seen, &submitted).await;
    settings_pages(&mut seen).await;
    preview_pages(&mut seen).await;
    payment_pages(&o, &mut seen).await;
    visit_pages(&o, &mut seen).await;
    // Mein Konto needs [login]: rendered by the sign-in tests' portal, signed out and in.
    for (status, body) in crate::login::konto_renderings().await {
        assert_eq!(status, StatusCode::OK, "{body}");
        assert!(
            body.contains("action=\"/konto/") || body.contains("/konto/anmelden"),
            "{body}"
        );
        assert!(body.trim_end().ends_with("</html>"));
        seen.0.insert("konto");
    }
    let rendered: BTreeSet<String> = seen.0.iter().map(|s| s.to_string()).collect();
    assert_eq!(
        rendered,
        templates(),
        "a page template without a rendering here"
    );
}
