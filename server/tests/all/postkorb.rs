//! The Postkorb for daily work through the router: the applicant in the list, search by name
//! or answer, assignment ("Mir zuweisen", a colleague, "Meine Anträge"), internal notes that
//! the citizen never sees, Wiedervorlage with the list of what is due; every change audited.
//! (Refusals without sign-in, for another tenant and for the form-designer role: the endpoint
//! lists in admin.rs include these routes.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use lotse_store::{AuditAction, AuditStore};
use serde_json::{Value, json};

use crate::admin::{Auth, Office, hidden};

async fn detail(o: &Office, token: &str, id: &str) -> Value {
    let r = o
        .get(
            &format!("/api/v1/verwaltung/heinsberg/antraege/{id}"),
            &Auth::Bearer(token),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    serde_json::from_str(&r.body).unwrap()
}

#[tokio::test]
async fn the_list_names_the_applicant_and_finds_by_name_or_answer() {
    let o = Office::new();
    let session = o.sign_in("heinsberg", "sb").await;
    let list = o
        .get("/verwaltung/heinsberg", &Auth::Cookie(&session))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("Antragsteller/in"));
    assert!(list.body.contains("Person h1") && list.body.contains("Person h2"));
    assert!(
        !list.body.contains("Person e"),
        "another tenant's applicant"
    );

    let found = o
        .get(
            "/verwaltung/heinsberg?suche=person+h2",
            &Auth::Cookie(&session),
        )
        .await;
    assert!(found.body.contains(&o.hei[1].reference.to_string()));
    assert!(!found.body.contains(&o.hei[0].reference.to_string()));
    assert!(
        found.body.contains("value=\"person h2\""),
        "the search stays in the form"
    );
    // Any answer: the service's id is in the search text of the test data.
    let api = o
        .get(
            "/api/v1/verwaltung/heinsberg/antraege?suche=bewohnerpark",
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    let v: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["applicant"], "Person h2");
    // The reference search takes the number alone.
    let by_number = o
        .get(
            "/api/v1/verwaltung/heinsberg/antraege?aktenzeichen=2",
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    let v: Value = serde_json::from_str(&by_number.body).unwrap();
    assert_eq!(v["total"], 1);
    assert_eq!(v["items"][0]["reference"], o.hei[1].reference.to_string());
    // Another tenant's applicant is never found.
    let theirs = o
        .get(
            "/api/v1/verwaltung/heinsberg/antraege?suche=person+e1",
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    let v: Value = serde_json::from_str(&theirs.body).unwrap();
    assert_eq!(v["total"], 0);
}

#[tokio::test]
async fn a_case_is_assigned_to_me_or_a_colleague_and_listed_as_mine() {
    let o = Office::new();
    let session = o.sign_in("heinsberg", "sb").await;
    let sub = &o.hei[0];
    let page = format!("/verwaltung/heinsberg/antrag/{}", sub.id);
    let d = o.get(&page, &Auth::Cookie(&session)).await;
    assert!(d.body.contains("Mir zuweisen"));
    let csrf = hidden(&d.body, "_csrf");

    // Without the form token nothing happens.
    let r = o
        .form(
            &format!("{page}/zuweisung"),
            &Auth::Cookie(&session),
            &[("_csrf", "falsch"), ("zustaendig", "mir")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        detail(&o, &o.hei_token, &sub.id.to_string()).await["case"]["assignee"],
        Value::Null
    );

    let r = o
        .form(
            &format!("{page}/zuweisung"),
            &Auth::Cookie(&session),
            &[("_csrf", &csrf), ("zustaendig", "mir")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let d = o.get(&page, &Auth::Cookie(&session)).await;
    assert!(d.body.contains("(Sie)"));
    assert!(!d.body.contains("Mir zuweisen"), "already mine");

    let mine = o
        .get(
            "/verwaltung/heinsberg?zustaendig=mir",
            &Auth::Cookie(&session),
        )
        .await;
    assert!(mine.body.contains(&sub.reference.to_string()));
    assert!(!mine.body.contains(&o.hei[1].reference.to_string()));

    // To the colleague (her id from her own /ich); an account of another tenant is refused.
    let her = o.sign_in("heinsberg", "kollegin").await;
    let me: Value = serde_json::from_str(
        &o.get("/api/v1/verwaltung/heinsberg/ich", &Auth::Cookie(&her))
            .await
            .body,
    )
    .unwrap();
    let her_id = me["id"].as_str().unwrap().to_string();
    let erk_session = o.sign_in("erkelenz", "sb").await;
    let erk_me: Value = serde_json::from_str(
        &o.get(
            "/api/v1/verwaltung/erkelenz/ich",
            &Auth::Cookie(&erk_session),
        )
        .await
        .body,
    )
    .unwrap();
    let api = format!("/api/v1/verwaltung/heinsberg/antraege/{}", sub.id);
    let r = o
        .json(
            &format!("{api}/zuweisung"),
            &Auth::Bearer(&o.hei_token),
            json!({"assignee": erk_me["id"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.body);
    let r = o
        .json(
            &format!("{api}/zuweisung"),
            &Auth::Bearer(&o.hei_token),
            json!({"assignee": her_id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["case"]["assignee"], her_id.as_str());
    let hers = o
        .get("/verwaltung/heinsberg?zustaendig=mir", &Auth::Cookie(&her))
        .await;
    assert!(hers.body.contains(&sub.reference.to_string()));
    let mine = o
        .get(
            "/verwaltung/heinsberg?zustaendig=mir",
            &Auth::Cookie(&session),
        )
        .await;
    assert!(!mine.body.contains(&sub.reference.to_string()));

    // Back to nobody.
    let r = o
        .json(
            &format!("{api}/zuweisung"),
            &Auth::Bearer(&o.hei_token),
            json!({"assignee": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let audit = o
        .portal
        .as_ref()
        .unwrap()
        .store()
        .audit_log(0, 1000)
        .unwrap();
    let assigned: Vec<Option<String>> = audit
        .iter()
        .filter_map(|e| match &e.action {
            AuditAction::CaseAssigned { submission, to } if *submission == sub.id => {
                Some(to.clone())
            }
            _ => None,
        })
        .collect();
    assert_eq!(assigned.len(), 3, "me, the colleague, nobody: {assigned:?}");
    assert_eq!(assigned[1].as_deref(), Some(her_id.as_str()));
    assert_eq!(assigned[2], None);
}

#[tokio::test]
async fn internal_notes_stay_in_the_office_and_are_audited_without_text() {
    let o = Office::new();
    let session = o.sign_in("heinsberg", "sb").await;
    let sub = &o.hei[0];
    let page = format!("/verwaltung/heinsberg/antrag/{}", sub.id);
    let csrf = hidden(&o.get(&page, &Auth::Cookie(&session)).await.body, "_csrf");
    let r = o
        .form(
            &format!("{page}/notiz"),
            &Auth::Cookie(&session),
            &[
                ("_csrf", &csrf),
                ("notiz", "Nachweis fehlt, Anruf am Montag"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = o
        .form(
            &format!("{page}/notiz"),
            &Auth::Cookie(&session),
            &[("_csrf", &csrf), ("notiz", "  ")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "an empty note");
    let r = o
        .json(
            &format!("/api/v1/verwaltung/heinsberg/antraege/{}/notizen", sub.id),
            &Auth::Bearer(&o.hei_token),
            json!({"text": "Zweite Notiz"}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let d = o.get(&page, &Auth::Cookie(&session)).await;
    assert!(d.body.contains("Nachweis fehlt, Anruf am Montag"));
    assert!(d.body.contains("Interne Notizen"));
    let v = detail(&o, &o.hei_token, &sub.id.to_string()).await;
    assert_eq!(v["case"]["notes"].as_array().unwrap().len(), 2);
    assert_eq!(
        v["messages"].as_array().unwrap().len(),
        0,
        "a note is no message"
    );

    // The citizen's status page and the citizen API never show it.
    let citizen = o
        .get(&format!("/heinsberg/eingang/{}", sub.id), &Auth::None)
        .await;
    assert_eq!(citizen.status, StatusCode::OK);
    assert!(!citizen.body.contains("Nachweis fehlt"));
    assert!(!citizen.body.contains("Zweite Notiz"));
    let audit = o
        .portal
        .as_ref()
        .unwrap()
        .store()
        .audit_log(0, 1000)
        .unwrap();
    let notes = audit
        .iter()
        .filter(|e| matches!(e.action, AuditAction::NoteAdded { .. }))
        .count();
    assert_eq!(notes, 2);
    let text = serde_json::to_string(&audit).unwrap();
    assert!(
        !text.contains("Nachweis fehlt"),
        "no note text in the audit log"
    );
}

#[tokio::test]
async fn a_wiedervorlage_is_listed_when_due_and_refused_in_the_past() {
    let o = Office::new();
    let session = o.sign_in("heinsberg", "sb").await;
    let sub = &o.hei[1];
    let page = format!("/verwaltung/heinsberg/antrag/{}", sub.id);
    let csrf = hidden(&o.get(&page, &Auth::Cookie(&session)).await.body, "_csrf");
    // Today as the portal's clock has it: the time of the sign-in's audit entry.
    let signed_in = o
        .portal
        .as_ref()
        .unwrap()
        .store()
        .audit_log(0, 1000)
        .unwrap();
    let today = lotse_receipt::to_berlin(signed_in.last().unwrap().at).date();
    let iso = |d: time::Date| format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day());
    let r = o
        .form(
            &format!("{page}/wiedervorlage"),
            &Auth::Cookie(&session),
            &[
                ("_csrf", &csrf),
                ("wiedervorlage", &iso(today - time::Duration::days(2))),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.body.contains("Wiedervorlage"));
    let r = o
        .form(
            &format!("{page}/wiedervorlage"),
            &Auth::Cookie(&session),
            &[("_csrf", &csrf), ("wiedervorlage", "kein Datum")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Later: not due yet.
    let later = iso(today + time::Duration::days(3));
    let r = o
        .form(
            &format!("{page}/wiedervorlage"),
            &Auth::Cookie(&session),
            &[("_csrf", &csrf), ("wiedervorlage", &later)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let due = o
        .get("/verwaltung/heinsberg?faellig=1", &Auth::Cookie(&session))
        .await;
    assert!(!due.body.contains(&sub.reference.to_string()));
    // Today: due.
    let r = o
        .json(
            &format!(
                "/api/v1/verwaltung/heinsberg/antraege/{}/wiedervorlage",
                sub.id
            ),
            &Auth::Bearer(&o.hei_token),
            json!({"date": iso(today)}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v: Value = serde_json::from_str(&r.body).unwrap();
    assert_eq!(v["case"]["due"], true);
    let due = o
        .get("/verwaltung/heinsberg?faellig=1", &Auth::Cookie(&session))
        .await;
    assert!(due.body.contains(&sub.reference.to_string()));
    assert!(due.body.contains("(fällig)"));
    assert!(!due.body.contains(&o.hei[0].reference.to_string()));
    // Removed: off the list again.
    let r = o
        .json(
            &format!(
                "/api/v1/verwaltung/heinsberg/antraege/{}/wiedervorlage",
                sub.id
            ),
            &Auth::Bearer(&o.hei_token),
            json!({"date": null}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let v = detail(&o, &o.hei_token, &sub.id.to_string()).await;
    assert_eq!(v["case"]["follow_up"], Value::Null);
    let set = o
        .portal
        .as_ref()
        .unwrap()
        .store()
        .audit_log(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.action, AuditAction::FollowUpSet { .. }))
        .count();
    assert_eq!(set, 3, "the refused dates are not recorded");
}

#[tokio::test]
async fn the_detail_page_lays_the_answers_out_beside_the_actions() {
    let o = Office::new();
    let session = o.sign_in("heinsberg", "sb").await;
    let d = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}", o.hei[0].id),
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(d.status, StatusCode::OK);
    let main = d.body.find("class=\"case-main\"").unwrap();
    let aside = d.body.find("class=\"case-actions\"").unwrap();
    let answers = d.body.find("id=\"angaben\"").unwrap();
    let status_form = d.body.find("Status speichern").unwrap();
    assert!(main < answers && answers < aside && aside < status_form);
    for action in [
        "Nachricht senden",
        "Mir zuweisen",
        "Zuweisung speichern",
        "Wiedervorlage speichern",
        "Notiz speichern",
    ] {
        let at = d.body.find(action).unwrap_or_else(|| panic!("{action}"));
        assert!(at > aside, "{action} in the side column");
    }
    assert!(!d.body.contains("Berechnete Werte"));
    assert!(d.body.contains("Person h1"), "the applicant in the header");
}

#[tokio::test]
async fn a_search_with_more_matches_than_it_counts_says_more_than_and_pages_on() {
    // 2 + 1,050 submissions with "Lindenweg" in Heinsberg: more than the 1,000 a search counts.
    let o = Office::with_more_in_heinsberg(1_050);
    let session = o.sign_in("heinsberg", "sb").await;
    let first = o
        .get(
            "/verwaltung/heinsberg?suche=lindenweg+person",
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(first.status, StatusCode::OK);
    assert!(
        first.body.contains("Mehr als 1000 Anträge gefunden"),
        "{}",
        first.body
    );
    assert!(first.body.contains("gezählt sind die neuesten 1.000"));
    assert!(first.body.contains("Seite 1 von mehr als 40"));
    assert!(first.body.contains("Nächste Seite"), "a next page");
    // Beyond the counted ones: page 43 holds the last two (1,052 = 42 × 25 + 2), the oldest.
    let last = o
        .get(
            "/verwaltung/heinsberg?suche=lindenweg+person&seite=43",
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(last.status, StatusCode::OK);
    assert!(
        last.body.contains(&o.hei[0].reference.to_string()),
        "the oldest match"
    );
    assert!(!last.body.contains("Nächste Seite"), "the end");
    let api = o
        .get(
            "/api/v1/verwaltung/heinsberg/antraege?suche=lindenweg",
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    let v: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v["total"], 1_000);
    assert_eq!(v["truncated"], true);
}
