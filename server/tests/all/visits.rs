//! Appointments after booking, end to end with a real SMTP server (aiosmtpd) and Python's
//! `email` and `icalendar` reading what arrived: a booked visit moves to another free time
//! (a mail with the changed calendar file, the old time free again), the reminder the day
//! before goes out once (a manual clock, two rounds), and bookings with one address are
//! limited.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, header};
use lotse_core::ManualClock;
use lotse_server::config::Config;
use lotse_server::{Portal, router};
use serde_json::Value;
use time::macros::datetime;
use tower::ServiceExt;

use super::delivery::{Server, free_port, hidden, wait_for};
use super::mail::{Smtp, first_time, read_ics, write_config};

const SERVICE: &str = "/heinsberg/termine/personalausweis";

/// Every start time a page offers, as the form's values.
fn times(page: &str) -> Vec<String> {
    page.split("name=\"zeit\" value=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_string())
        .collect()
}

/// The first day on offer that has at least `n` free times: its page's address and the page.
/// Today may have fewer left, depending on the hour the test runs at.
async fn a_day_with_times(server: &Server, n: usize) -> (String, String) {
    let (_, _, page) = server.get(SERVICE).await;
    // The day links, `?tag=YYYY-MM-DD` (`=` escaped in the page).
    let days: Vec<String> = page
        .replace("&#x3D;", "=")
        .split("?tag=")
        .skip(1)
        .filter_map(|s| s.get(..10).map(str::to_string))
        .collect();
    for day in &days {
        let url = format!("{SERVICE}?tag={day}");
        let (_, _, page) = server.get(&url).await;
        if times(&page).len() >= n {
            return (url, page);
        }
    }
    panic!("no day offers {n} times: {days:?}");
}

/// Holds `zeit` and books it for `email`; the visit's path and the answer's status.
async fn book(server: &Server, zeit: &str, email: &str) -> (String, u16, String) {
    let (_, _, page) = server.get(SERVICE).await;
    let csrf = hidden(&page, "_csrf");
    let (code, to, _) = server
        .post(SERVICE, &[("_csrf", &csrf), ("zeit", zeit)])
        .await;
    assert_eq!(code, 303);
    let visit = to.unwrap();
    let (_, _, held) = server.get(&visit).await;
    let vcsrf = hidden(&held, "_csrf");
    let (code, _, page) = server
        .post(
            &visit,
            &[
                ("_csrf", &vcsrf),
                ("_action", "buchen"),
                ("name", "Jürgen Schmitz"),
                ("email", email),
            ],
        )
        .await;
    (visit, code, page)
}

fn utc_text(zeit: &str) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp(zeit.parse().unwrap()).unwrap();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:00+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booked_visit_moves_with_a_mail_and_frees_its_old_time() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start(&write_config(dir.path(), listen, smtp.port), listen).await;
    let (day, page) = a_day_with_times(&server, 2).await;
    let (zeit, old_time) = first_time(&page);
    let (visit, code, _) = book(&server, &zeit, "juergen@example.org").await;
    assert_eq!(code, 303);
    let (_, _, booked) = server.get(&visit).await;
    assert!(booked.contains("Termin verschieben"), "{booked}");
    // The page to move it offers the times of its day; the booked one stays until then.
    let (code, _, moving) = server.get(&format!("{visit}/verschieben")).await;
    assert_eq!(code, 200);
    assert!(moving.contains("Ihr gebuchter Termin:"), "{moving}");
    let new = times(&moving).into_iter().find(|z| *z != zeit).unwrap();
    let mcsrf = hidden(&moving, "_csrf");
    let path = format!("{visit}/verschieben");
    // A forged form and a time not offered are refused; nothing moves.
    assert_eq!(
        server
            .post(&path, &[("_csrf", "x"), ("zeit", &new)])
            .await
            .0,
        403
    );
    assert_eq!(
        server
            .post(&path, &[("_csrf", &mcsrf), ("zeit", "12345")])
            .await
            .0,
        409
    );
    let (code, to, _) = server
        .post(&path, &[("_csrf", &mcsrf), ("zeit", &new)])
        .await;
    assert_eq!((code, to.as_deref()), (303, Some(visit.as_str())));
    // The old time is free again, the new one has a place less.
    let (_, _, free) = server.get(&day).await;
    assert!(
        free.contains(&format!(
            "{old_time} Uhr <span class=\"hint\">(3 Plätze frei)"
        )),
        "{free}"
    );
    let new_text = {
        let at = free.find(&format!("value=\"{new}\"")).unwrap();
        let label = &free[at..];
        let text_at = label.find("<label").unwrap();
        let text_at = text_at + label[text_at..].find('>').unwrap() + 1;
        label[text_at..text_at + label[text_at..].find("</label>").unwrap()].to_string()
    };
    assert!(new_text.contains("(2 Plätze frei)"), "{new_text}");
    // The mail says so and carries the changed calendar file, which replaces the first one
    // (same UID, higher SEQUENCE).
    wait_for("the move's mail", Duration::from_secs(30), || {
        smtp.mails().len() == 2
    })
    .await;
    let mails = smtp.mails();
    let m = mails
        .iter()
        .find(|m| {
            m["subject"]
                .as_str()
                .unwrap()
                .starts_with("Ihr Termin ist verschoben")
        })
        .expect("a mail about the move");
    assert!(
        m["subject"]
            .as_str()
            .unwrap()
            .starts_with("Ihr Termin ist verschoben: Personalausweis beantragen am ")
    );
    assert_eq!(m["attachments"][0]["type"], "text/calendar");
    let link = format!("http://{listen}{visit}");
    assert!(m["text"].as_str().unwrap().contains(&link));
    let ics = reqwest_get(&format!("{link}/termin.ics"));
    assert!(String::from_utf8_lossy(&ics).contains("SEQUENCE:1"));
    let ev = read_ics(dir.path(), &ics);
    assert_eq!(ev["start"].as_str().unwrap(), utc_text(&new));
    assert!(
        ev["uid"]
            .as_str()
            .unwrap()
            .starts_with(&visit.rsplit('/').next().unwrap().to_string())
    );
    server.terminate();
}

fn reqwest_get(url: &str) -> Vec<u8> {
    let out = Command::new("curl").args(["-sf", url]).output().unwrap();
    assert!(out.status.success(), "GET {url}");
    out.stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_with_one_address_are_limited_per_day() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start(&write_config(dir.path(), listen, smtp.port), listen).await;
    let (_, day) = a_day_with_times(&server, 3).await;
    let offered = times(&day);
    // Six visits for a family with one address (two times, three counters each) ...
    for i in 0..6 {
        let (_, code, _) = book(&server, &offered[i / 3], "Familie@Example.org").await;
        assert_eq!(code, 303, "booking {i}");
    }
    // ... the seventh is refused with a calm word, the address in another spelling too; the
    // time is only held, and another address books it.
    let (visit, code, page) = book(&server, &offered[2], "familie@example.org").await;
    assert_eq!(code, 429);
    assert!(
        page.contains("Mit dieser E-Mail-Adresse wurden heute schon sehr viele Termine gebucht."),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\""));
    let (_, _, held) = server.get(&visit).await;
    assert!(held.contains("Termin reservieren"), "{held}");
    let (_, code, _) = book(&server, &offered[2], "nachbar@example.org").await;
    assert_eq!(code, 303);
    server.terminate();
}

/// One request to the in-process router: status, location, body.
async fn call(
    app: &axum::Router,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
) -> (u16, Option<String>, String) {
    let body = form
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencoding(v)))
        .collect::<Vec<_>>()
        .join("&");
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap();
    let r = app.clone().oneshot(req).await.unwrap();
    let code = r.status().as_u16();
    let to = r
        .headers()
        .get(header::LOCATION)
        .map(|v| v.to_str().unwrap().to_string());
    let bytes = axum::body::to_bytes(r.into_body(), 4_000_000)
        .await
        .unwrap();
    (code, to, String::from_utf8(bytes.to_vec()).unwrap())
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Late on Monday, when no time is left today, the page opens on the next day that has one;
/// today stays in the list of days, and asked for, it says that nothing is free.
#[tokio::test]
async fn without_a_day_asked_for_the_page_opens_on_the_first_day_with_a_free_time() {
    let dir = tempfile::tempdir().unwrap();
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = Config::load(Some(&write_config(dir.path(), listen, free_port()))).unwrap();
    // 17:00 in Heinsberg: the Bürgerbüro closed at 16:00.
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-07 16:00 UTC)));
    let portal = Arc::new(Portal::build_with_clock(&config, false, clock).unwrap());
    let app = router(portal);
    let (code, _, page) = call(&app, "GET", SERVICE, &[]).await;
    assert_eq!(code, 200);
    assert!(
        page.contains("Uhrzeit wählen: Dienstag, 08.12.2026"),
        "{page}"
    );
    assert!(!times(&page).is_empty(), "{page}");
    assert!(page.contains("Montag, 07.12.2026</a>"), "{page}");
    let (_, _, today) = call(&app, "GET", &format!("{SERVICE}?tag=2026-12-07"), &[]).await;
    assert!(
        today.contains("An diesem Tag ist leider keine Zeit mehr frei."),
        "{today}"
    );
    assert!(times(&today).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reminder_goes_out_once_the_day_before() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let config = Config::load(Some(&write_config(dir.path(), listen, smtp.port))).unwrap();
    // Monday morning; the visit on Wednesday.
    let clock = Arc::new(ManualClock::new(datetime!(2026-12-07 07:00 UTC)));
    let portal = Arc::new(Portal::build_with_clock(&config, false, clock.clone()).unwrap());
    let app = router(portal.clone());
    let delivery = portal.start_delivery();
    let day = format!("{SERVICE}?tag=2026-12-09");
    let (code, _, page) = call(&app, "GET", &day, &[]).await;
    assert_eq!(code, 200);
    let (zeit, _) = first_time(&page);
    let csrf = hidden(&page, "_csrf");
    let (code, to, _) = call(&app, "POST", SERVICE, &[("_csrf", &csrf), ("zeit", &zeit)]).await;
    assert_eq!(code, 303);
    let visit = to.unwrap();
    let (_, _, held) = call(&app, "GET", &visit, &[]).await;
    let vcsrf = hidden(&held, "_csrf");
    let form = [
        ("_csrf", vcsrf.as_str()),
        ("_action", "buchen"),
        ("name", "Jürgen Schmitz"),
        ("email", "juergen@example.org"),
    ];
    assert_eq!(call(&app, "POST", &visit, &form).await.0, 303);
    wait_for("the confirmation", Duration::from_secs(30), || {
        smtp.mails().len() == 1
    })
    .await;
    let state = portal.state().clone();
    let round = move || {
        let s = state.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                lotse_server::workers::reminders::round(&s).unwrap()
            })
            .await
            .unwrap()
        }
    };
    // Two days before: not yet.
    assert_eq!(round().await, 0);
    // The evening before (Tuesday, 17:00 in Berlin): once, however often the job runs.
    let start = time::OffsetDateTime::from_unix_timestamp(zeit.parse().unwrap()).unwrap();
    clock.advance((start - time::Duration::hours(15)) - datetime!(2026-12-07 07:00 UTC));
    assert_eq!(round().await, 1);
    assert_eq!(round().await, 0);
    wait_for("the reminder", Duration::from_secs(30), || {
        smtp.mails().len() == 2
    })
    .await;
    let mails = smtp.mails();
    let m = mails
        .iter()
        .find(|m| m["subject"].as_str().unwrap().starts_with("Erinnerung"))
        .expect("a reminder");
    assert_eq!(
        m["subject"],
        "Erinnerung an Ihren Termin: Personalausweis beantragen am Mittwoch, 09.12.2026, 08:00 Uhr"
    );
    assert!(
        m["text"]
            .as_str()
            .unwrap()
            .contains(&format!("http://{listen}{visit}"))
    );
    assert_eq!(m["attachments"][0]["type"], "text/calendar");
    delivery.stop().await;
}

/// A JSON request to the real server, by curl: the status and the answer.
fn api(listen: SocketAddr, path: &str, body: &Value, method: &str) -> (u16, Value) {
    let out = Command::new("curl")
        .args(["-s", "-w", "\n%{http_code}", "-X", method])
        .args(["-H", "content-type: application/json", "--data-binary"])
        .arg(body.to_string())
        .arg(format!("http://{listen}{path}"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let (body, code) = text.rsplit_once('\n').unwrap();
    (
        code.parse().unwrap(),
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_application_offers_a_pickup_appointment_that_carries_its_reference() {
    let dir = tempfile::tempdir().unwrap();
    let smtp = Smtp::start(&dir.path().join("maildir"), free_port());
    let listen: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = Server::start(&write_config(dir.path(), listen, smtp.port), listen).await;
    // A Bewohnerparkausweis paid on collection, through the JSON API.
    let base = "/api/v1/tenants/heinsberg";
    let (code, v) = api(
        listen,
        &format!("{base}/services/bewohnerparkausweis/applications"),
        &serde_json::json!({}),
        "POST",
    );
    assert_eq!(code, 201, "{v}");
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
        ("zahlung", serde_json::json!({"zahlungsart": "vorort"})),
    ] {
        let (code, v) = api(
            listen,
            &format!("{base}/applications/{id}/steps/{step}"),
            &serde_json::json!({"revision": rev, "values": values}),
            "PUT",
        );
        assert_eq!(code, 200, "{step}: {v}");
        rev = v["revision"].as_u64().unwrap();
    }
    let (code, sent) = api(
        listen,
        &format!("{base}/applications/{id}/submit"),
        &serde_json::json!({"revision": rev, "declaration": ["richtig", "rueckgabe"]}),
        "POST",
    );
    assert_eq!(code, 201, "{sent}");
    let reference = sent["reference"].as_str().unwrap().to_string();
    let status = sent["links"]["status_page"].as_str().unwrap().to_string();
    // The status page offers the appointment, with the reference in the link.
    let (_, _, page) = server.get(&status).await;
    assert!(
        page.contains("Termin wählen: Bewohnerparkausweis abholen"),
        "{page}"
    );
    let link = format!("/heinsberg/termine/parkausweis-abholen?vorgang={reference}");
    assert!(page.contains(&link.replace('=', "&#x3D;")), "{page}");
    let (_, _, times_page) = server.get(&link).await;
    assert!(
        times_page.contains(&format!(
            "Sie vereinbaren den Termin zu Ihrem Antrag {reference}."
        )),
        "{times_page}"
    );
    assert!(
        times_page.contains(&format!("name=\"vorgang\" value=\"{reference}\"")),
        "{times_page}"
    );
    // Something else in its place is never echoed.
    let (_, _, odd) = server
        .get("/heinsberg/termine/parkausweis-abholen?vorgang=%3Cb%3Ex")
        .await;
    assert!(!odd.contains("name=\"vorgang\"") && !odd.contains("<b>x"));
    let (zeit, _) = first_time(&times_page);
    let csrf = hidden(&times_page, "_csrf");
    let (code, to, _) = server
        .post(
            "/heinsberg/termine/parkausweis-abholen",
            &[("_csrf", &csrf), ("zeit", &zeit), ("vorgang", &reference)],
        )
        .await;
    assert_eq!(code, 303);
    let visit = to.unwrap();
    let (_, _, held) = server.get(&visit).await;
    assert!(
        held.contains(&format!("Zu Ihrem Antrag {reference}")),
        "{held}"
    );
    server.terminate();
}
