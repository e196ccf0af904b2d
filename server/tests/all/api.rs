//! The JSON API through the portal's router: a whole application from start to the signed
//! receipt, the errors it answers with (problem+json with stable codes), and that the OpenAPI
//! document describes exactly the routes that exist.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_server::{Portal, router};
use serde_json::{Value, json};
use tower::ServiceExt;

struct Client {
    app: axum::Router,
    portal: Arc<Portal>,
    dir: tempfile::TempDir,
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    content_type: String,
    location: Option<String>,
    json: Value,
    bytes: Vec<u8>,
}

fn project() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

impl Client {
    fn new() -> Client {
        let dir = tempfile::tempdir().unwrap();
        let portal = Arc::new(Portal::build(project(), &dir.path().join("data")).unwrap());
        Client {
            app: router(portal.clone()),
            portal,
            dir,
        }
    }

    async fn send(&self, req: Request<Body>) -> Reply {
        let res = self.app.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let content_type = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|v| v.to_str().unwrap().to_string());
        let bytes = axum::body::to_bytes(res.into_body(), 10_000_000)
            .await
            .unwrap()
            .to_vec();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            content_type,
            location,
            json,
            bytes,
        }
    }

    async fn get(&self, url: &str) -> Reply {
        self.send(Request::get(url).body(Body::empty()).unwrap())
            .await
    }

    async fn call_raw(&self, method: &str, url: &str, body: &str) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    async fn call(&self, method: &str, url: &str, body: Value) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(url)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }
}

fn assert_problem(r: &Reply, status: StatusCode, code: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.content_type, "application/problem+json");
    assert_eq!(r.json["code"], code, "{}", r.json);
    assert_eq!(r.json["status"], status.as_u16());
    assert!(r.json["title"].is_string() && r.json["detail"].is_string());
}

const BASE: &str = "/api/v1/tenants/heinsberg";

async fn start(c: &Client) -> Value {
    let r = c
        .call(
            "POST",
            &format!("{BASE}/services/hundesteuer-anmeldung/applications"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    assert_eq!(
        r.location.as_deref(),
        Some(format!("{BASE}/applications/{}", r.json["id"].as_str().unwrap()).as_str())
    );
    r.json
}

async fn answer(c: &Client, state: &Value, values: Value) -> Reply {
    let url = format!(
        "{BASE}/applications/{}/steps/{}",
        state["id"].as_str().unwrap(),
        state["step"]["id"].as_str().unwrap()
    );
    c.call(
        "PUT",
        &url,
        json!({"revision": state["revision"], "values": values}),
    )
    .await
}

fn halter() -> Value {
    json!({
        "halter": {"anrede": "Frau", "vorname": "<script>alert(1)</script>", "nachname": "Schmitz", "geburtsdatum": "1985-04-12"},
        "anschrift": {"strasse": "Valkenburger Straße", "hausnummer": "45", "plz": "52525", "ort": "Heinsberg"},
        "kontakt": {"email": "anna@example.org"},
    })
}

#[tokio::test]
async fn a_whole_application_through_the_api_ends_with_a_signed_receipt_and_a_status() {
    let c = Client::new();
    let tenants = c.get("/api/v1/tenants").await;
    assert_eq!(tenants.status, StatusCode::OK);
    assert_eq!(tenants.json["tenants"].as_array().unwrap().len(), 11);

    let found = c.get(&format!("{BASE}/services?q=Hundsteuer")).await;
    assert_eq!(
        found.json["services"][0]["id"], "hundesteuer-anmeldung",
        "one typo is tolerated: {}",
        found.json
    );

    let mut state = start(&c).await;
    assert_eq!(state["position"], "step");
    assert_eq!(state["step"]["id"], "halter");
    assert_eq!(state["revision"], 0);
    assert!(state["resume_code"].as_str().unwrap().len() >= 14);
    assert_eq!(state["step"]["fields"][0]["widget"], "group");

    // A mistake first: 422 with the field errors; what was sent is kept with the draft.
    let mut wrong = halter();
    wrong["anschrift"]["plz"] = json!("5252");
    wrong["kontakt"]["email"] = json!("anna at example");
    let r = answer(&c, &state, wrong).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H010");
    let pointers: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(pointers, ["/anschrift/plz", "/kontakt/email"], "{}", r.json);
    assert!(
        r.json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Postleitzahl")
    );
    assert_eq!(
        r.json["revision"], 1,
        "the typed answers were saved: {}",
        r.json
    );
    // A reload shows them again, with the same errors.
    let id = state["id"].as_str().unwrap().to_string();
    let reloaded = c.get(&format!("{BASE}/applications/{id}")).await;
    assert_eq!(reloaded.json["revision"], 1);
    assert_eq!(
        reloaded.json["pending"]["values"]["anschrift"]["plz"], "5252",
        "{}",
        reloaded.json
    );
    assert_eq!(reloaded.json["pending"]["errors"], r.json["errors"]);
    state = reloaded.json;

    let r = answer(&c, &state, halter()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["revision"], 2);
    assert_eq!(r.json["step"]["id"], "hunde");
    assert_eq!(r.json["progress"]["current"], 2);
    assert!(r.json.get("pending").is_none(), "{}", r.json);

    // The old revision is stale now: 409, and nothing is overwritten.
    let stale = answer(&c, &state, halter()).await;
    assert_problem(&stale, StatusCode::CONFLICT, "LOT-H004");
    assert_eq!(stale.json["revision"], 2);

    // Back and forth.
    let r = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/back"),
            json!({"revision": r.json["revision"]}),
        )
        .await;
    assert_eq!(r.json["step"]["id"], "halter", "{}", r.json);
    // The step as accepted, nothing pending: the old mistake is gone.
    assert!(r.json.get("pending").is_none(), "{}", r.json);
    let r = answer(&c, &r.json, halter()).await;
    state = r.json;

    for values in [
        json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]}),
        json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}),
        json!({"ermaessigung": "nein"}),
        json!({"lastschrift": "nein"}),
    ] {
        let r = answer(&c, &state, values).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        state = r.json;
    }
    assert_eq!(state["position"], "review", "{state}");
    // Stadt Heinsberg charges its own rate (an override of the county workflow): 84 €, not 96 €.
    assert_eq!(state["computed"]["jahressteuer"], 84);
    assert_eq!(state["review"]["steps"][0]["step"], "halter");

    // Resume by code finds the same application.
    let resumed = c
        .call(
            "POST",
            &format!("{BASE}/resume"),
            json!({"code": state["resume_code"]}),
        )
        .await;
    assert_eq!(resumed.status, StatusCode::OK);
    assert_eq!(resumed.json["id"], state["id"]);

    // The service names its declaration; a submit without it is refused at each statement.
    let service = c
        .get(&format!("{BASE}/services/hundesteuer-anmeldung"))
        .await;
    assert_eq!(
        service.json["declaration"][0]["id"], "richtig",
        "{}",
        service.json
    );
    let submit_url = format!("{BASE}/applications/{id}/submit");
    let refused = c
        .call("POST", &submit_url, json!({"revision": state["revision"]}))
        .await;
    assert_problem(&refused, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H010");
    assert_eq!(
        refused.json["errors"][0]["pointer"], "/declaration/richtig",
        "{}",
        refused.json
    );
    let revision = refused.json["revision"].clone();
    let r = c
        .call(
            "POST",
            &submit_url,
            json!({"revision": revision, "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let reference = r.json["reference"].as_str().unwrap().to_string();
    assert!(reference.starts_with("HEI-"), "{reference}");
    // A retry (say after a timeout) gives the same submission, not a second one.
    let again = c
        .call(
            "POST",
            &submit_url,
            json!({"revision": revision, "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["id"], r.json["id"]);
    assert_eq!(again.json["reference"], reference);
    // The application can no longer be changed; reading it shows where it went.
    let after = c.get(&format!("{BASE}/applications/{id}")).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.json);
    assert_eq!(after.json["position"], "submitted");
    assert_eq!(after.json["submission"]["reference"], reference);
    assert_eq!(after.json["links"]["submission"], r.json["links"]["self"]);
    assert_eq!(after.json["links"]["receipt"], r.json["links"]["receipt"]);
    assert!(after.json.get("step").is_none() && after.json.get("answers").is_none());

    let status = c.get(r.json["links"]["self"].as_str().unwrap()).await;
    assert_eq!(status.status, StatusCode::OK);
    assert_eq!(status.json["reference"], reference);
    assert_eq!(status.json["current"]["label"], "Eingegangen");

    let pdf = c.get(r.json["links"]["receipt"].as_str().unwrap()).await;
    assert_eq!(pdf.status, StatusCode::OK);
    // Answers and receipts are kept by no cache; the stylesheet is.
    assert_eq!(pdf.headers["cache-control"], "no-store");
    assert_eq!(after.headers["cache-control"], "no-store");
    let css = c.get("/static/lotse.css").await;
    assert_eq!(css.headers["cache-control"], "public, max-age=86400");
    assert_eq!(pdf.content_type, "application/pdf");
    assert!(pdf.bytes.starts_with(b"%PDF"));
    let file = c.dir.path().join("receipt.pdf");
    std::fs::write(&file, &pdf.bytes).unwrap();
    let report = lotse_receipt::verify_receipt(&pdf.bytes).unwrap();
    assert!(
        report.valid && report.covers_whole_file,
        "the receipt's signature holds"
    );

    // Another tenant does not see it.
    let other = c
        .get(&format!(
            "/api/v1/tenants/erkelenz/submissions/{}",
            r.json["id"].as_str().unwrap()
        ))
        .await;
    assert_problem(&other, StatusCode::NOT_FOUND, "LOT-H001");
}

/// Answers every step of the Hundesteuer assistant; returns the state at review.
async fn answer_all(c: &Client) -> Value {
    let mut state = start(c).await;
    for values in [
        halter(),
        json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]}),
        json!({"haltungsbeginn": "2026-11-01", "zuzug": "nein"}),
        json!({"ermaessigung": "nein"}),
        json!({"lastschrift": "nein"}),
    ] {
        let r = answer(c, &state, values).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        state = r.json;
    }
    assert_eq!(state["position"], "review", "{state}");
    state
}

#[tokio::test]
async fn a_submitted_application_whose_mark_was_lost_in_a_crash_never_reopens() {
    use lotse_store::{DraftId, DraftStore};
    let c = Client::new();
    let state = answer_all(&c).await;
    let id = state["id"].as_str().unwrap().to_string();
    let draft_id: DraftId = id.parse().unwrap();
    let before = c.portal.store().draft(&draft_id).unwrap().unwrap();
    let submit_url = format!("{BASE}/applications/{id}/submit");
    let first = c
        .call(
            "POST",
            &submit_url,
            json!({"revision": state["revision"], "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.json);

    // A kill -9 after the durable submission and before the draft's mark reached the disk
    // leaves the draft exactly as it was before the submit.
    c.portal.store().delete_draft(&draft_id).unwrap();
    c.portal.store().create_draft(&before).unwrap();

    // It opens as submitted, not as an editable application ...
    let after = c.get(&format!("{BASE}/applications/{id}")).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.json);
    assert_eq!(after.json["position"], "submitted");
    assert_eq!(after.json["submission"]["id"], first.json["id"]);
    let mut changed = state.clone();
    changed["position"] = json!("step");
    changed["step"] = json!({"id": "halter"});
    assert_problem(
        &answer(&c, &changed, halter()).await,
        StatusCode::CONFLICT,
        "LOT-H006",
    );
    // ... a repeated submit answers 200 with the same submission, and there is only one.
    let again = c
        .call(
            "POST",
            &submit_url,
            json!({"revision": state["revision"], "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(again.status, StatusCode::OK, "{}", again.json);
    assert_eq!(again.json["id"], first.json["id"]);
    assert_eq!(again.json["reference"], first.json["reference"]);
    let html = c.get(&format!("/heinsberg/antrag/{id}")).await;
    assert_eq!(html.status, StatusCode::SEE_OTHER);
    assert_eq!(
        html.location.as_deref(),
        Some(format!("/heinsberg/eingang/{}", first.json["id"].as_str().unwrap()).as_str())
    );
}

#[tokio::test]
async fn the_api_and_the_assistant_keep_drafts_for_the_workflows_expiry() {
    use lotse_store::{DraftId, DraftStore};
    let c = Client::new();
    let state = start(&c).await;
    let api_draft: DraftId = state["id"].as_str().unwrap().parse().unwrap();
    let api_draft = c.portal.store().draft(&api_draft).unwrap().unwrap();
    // The Hundesteuer workflow keeps drafts for 30 days (the default draft_expiry_days).
    assert_eq!((api_draft.expires - api_draft.created).whole_days(), 30);
    assert_eq!(
        state["expires"],
        api_draft
            .expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    );
    // The HTML assistant starts its drafts with the same expiry.
    let page = c.get("/heinsberg/leistung/hundesteuer-anmeldung").await;
    let html = String::from_utf8(page.bytes).unwrap();
    let token = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .expect("the start form has a CSRF token");
    let started = c
        .send(
            Request::post("/heinsberg/leistung/hundesteuer-anmeldung")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("_csrf={token}")))
                .unwrap(),
        )
        .await;
    let location = started.location.expect("a redirect to the new draft");
    let draft_id: DraftId = location.rsplit('/').next().unwrap().parse().unwrap();
    let draft = c.portal.store().draft(&draft_id).unwrap().unwrap();
    assert_eq!((draft.expires - draft.created).whole_days(), 30);
}

#[tokio::test]
async fn metrics_count_requests_by_route_without_ids_and_pass_promtool() {
    let c = Client::new();
    let state = answer_all(&c).await;
    let id = state["id"].as_str().unwrap().to_string();
    let submitted = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/submit"),
            json!({"revision": state["revision"], "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(submitted.status, StatusCode::CREATED);
    // A problem carries the id of its request, as the response header does.
    let missing = c
        .get(&format!("{BASE}/applications/{}", "0".repeat(32)))
        .await;
    assert_problem(&missing, StatusCode::NOT_FOUND, "LOT-H001");
    let rid = missing.json["request_id"].as_str().unwrap().to_string();
    assert_eq!(rid.len(), 16, "{rid}");

    let m = c.get("/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    let text = String::from_utf8(m.bytes).unwrap();
    let step_route = "route=\"/api/v1/tenants/{tenant}/applications/{id}/steps/{step}\"";
    assert!(
        text.lines().any(
            |l| l.starts_with("lotse_http_request_duration_seconds_bucket")
                && l.contains(step_route)
                && l.contains("method=\"PUT\"")
        ),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("lotse_http_requests_total")
                && l.contains(step_route)
                && l.contains("status=\"200\"")
                && l.ends_with(" 5")),
        "five steps answered: {text}"
    );
    assert!(text.contains("lotse_submissions_total 1"), "{text}");
    assert!(text.contains("lotse_drafts_started_total 1"), "{text}");
    assert!(
        text.contains("lotse_store_call_duration_seconds_bucket{call=\"submit\""),
        "{text}"
    );
    // Labels hold route templates, never the secret ids of the paths.
    assert!(!text.contains(&id));
    assert!(!text.contains(&rid));

    // Prometheus' own checker accepts the exposition.
    let promtool = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn();
    match promtool {
        Ok(mut child) => {
            use std::io::Write;
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "promtool: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Err(e) => assert!(
            std::env::var_os("LOTSE_REQUIRE_PROMTOOL").is_none(),
            "promtool is required here: {e}"
        ),
    }
}

#[tokio::test]
async fn a_draft_lives_as_long_as_its_expiry_by_the_portals_clock() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = time::macros::datetime!(2026-11-28 10:00 UTC);
    let clock = Arc::new(lotse_core::ManualClock::new(t0));
    let config = lotse_server::config::Config {
        project_dir: project().to_path_buf(),
        data_dir: dir.path().join("data"),
        ..Default::default()
    };
    let portal = Arc::new(Portal::build_with_clock(&config, false, clock.clone()).unwrap());
    let c = Client {
        app: router(portal.clone()),
        portal,
        dir,
    };
    let state = start(&c).await;
    assert_eq!(state["expires"], "2026-12-28T10:00:00Z");
    let url = format!("{BASE}/applications/{}", state["id"].as_str().unwrap());
    // An answer keeps it for another 30 days from then.
    clock.advance(time::Duration::days(29));
    let r = answer(&c, &state, halter()).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(r.json["expires"], "2027-01-26T10:00:00Z");
    clock.advance(time::Duration::days(30) - time::Duration::seconds(1));
    assert_eq!(c.get(&url).await.status, StatusCode::OK);
    clock.advance(time::Duration::seconds(1));
    assert_problem(&c.get(&url).await, StatusCode::NOT_FOUND, "LOT-H001");
}

#[tokio::test]
async fn wrong_requests_get_problem_details_with_codes() {
    let c = Client::new();
    assert_problem(
        &c.get("/api/v1/tenants/nirgendwo/services").await,
        StatusCode::NOT_FOUND,
        "LOT-H001",
    );
    assert_problem(
        &c.get("/api/v1/gibt-es-nicht").await,
        StatusCode::NOT_FOUND,
        "LOT-H001",
    );
    let state = start(&c).await;
    let id = state["id"].as_str().unwrap();
    // Not JSON.
    let r = c
        .send(
            Request::put(format!("{BASE}/applications/{id}/steps/halter"))
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from("{}"))
                .unwrap(),
        )
        .await;
    assert_problem(&r, StatusCode::UNSUPPORTED_MEDIA_TYPE, "LOT-H003");
    // Broken JSON, missing revision, unknown keys.
    for body in [
        "{",
        "{\"values\": {}}",
        "{\"revision\": 0, \"values\": {}, \"x\": 1}",
    ] {
        let r = c
            .send(
                Request::put(format!("{BASE}/applications/{id}/steps/halter"))
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "LOT-H002");
    }
    // A step that is not on the route yet.
    let r = c
        .call(
            "PUT",
            &format!("{BASE}/applications/{id}/steps/zahlung"),
            json!({"revision": 0, "values": {}}),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT, "LOT-H005");
    // Review before everything is answered.
    let r = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/review"),
            json!({"revision": 0}),
        )
        .await;
    assert_problem(&r, StatusCode::CONFLICT, "LOT-H011");
    // Unknown and malformed ids are simply not found, in every tenant.
    for url in [
        format!("{BASE}/applications/00000000000000000000000000000000"),
        format!("{BASE}/applications/nonsense"),
        format!("/api/v1/tenants/erkelenz/applications/{id}"),
        format!("{BASE}/submissions/nonsense"),
    ] {
        assert_problem(&c.get(&url).await, StatusCode::NOT_FOUND, "LOT-H001");
    }
    // A body that is not a JSON object, even one serde could read into the struct.
    for body in ["[]", "[null]", "\"x\"", "42"] {
        let r = c
            .call_raw(
                "POST",
                &format!("{BASE}/services/hundesteuer-anmeldung/applications"),
                body,
            )
            .await;
        assert_problem(&r, StatusCode::BAD_REQUEST, "LOT-H002");
    }
    // Wrong method, too large a body.
    let r = c
        .send(
            Request::delete("/api/v1/tenants")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_problem(&r, StatusCode::METHOD_NOT_ALLOWED, "LOT-H405");
    let big = format!("{{\"code\": \"{}\"}}", "A".repeat(300 * 1024));
    let r = c
        .send(
            Request::post(format!("{BASE}/resume"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_problem(&r, StatusCode::PAYLOAD_TOO_LARGE, "LOT-H413");
    // Refusals by the limits carry the security headers every other answer has.
    for h in [
        "content-security-policy",
        "x-content-type-options",
        "x-frame-options",
    ] {
        assert!(
            r.headers.contains_key(h),
            "413 without {h}: {:?}",
            r.headers
        );
    }
    assert_eq!(r.headers["cache-control"], "no-store");
    // Wrong resume codes are limited per client.
    let mut last = StatusCode::OK;
    for _ in 0..7 {
        let r = c
            .call(
                "POST",
                &format!("{BASE}/resume"),
                json!({"code": "AAAA-BBBB-CCCC-DDDD"}),
            )
            .await;
        last = r.status;
        assert!(
            r.json["code"] == "LOT-H007" || r.json["code"] == "LOT-H008",
            "{}",
            r.json
        );
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn the_schema_endpoint_gives_one_self_contained_json_schema_per_service() {
    let c = Client::new();
    let r = c
        .get(&format!("{BASE}/services/hundesteuer-anmeldung/schema"))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.content_type, "application/schema+json");
    let schema = r.json;
    assert!(schema["properties"]["halter"].is_object());
    // Every $ref resolves inside the document: a validator that cannot fetch anything
    // compiles it and checks data with it.
    let v = jsonschema::validator_for(&schema).unwrap();
    let mut ok = halter();
    ok["hunde"] = json!([{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]);
    assert!(
        v.is_valid(&ok),
        "{:?}",
        v.iter_errors(&ok)
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
    );
    let mut bad = ok.clone();
    bad["anschrift"]["plz"] = json!(52525);
    assert!(!v.is_valid(&bad));
}

/// The routes of a router's source: each `.route("path", method(handler)…)` as (path, method),
/// for every method the route chains (`get(a).post(b)`).
fn routes_in(source: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(") {
        rest = &rest[at + ".route(".len()..];
        let Some(path) = rest.trim_start().strip_prefix('"') else {
            continue;
        };
        let path = path.split('"').next().unwrap();
        // The route's own text: up to the next builder call.
        let end = [".route(", ".fallback(", ".layer(", ".merge(", ".nest("]
            .iter()
            .filter_map(|m| rest.find(m))
            .min()
            .unwrap_or(rest.len());
        let call = &rest[..end];
        for method in ["get", "post", "put", "delete", "patch"] {
            let pattern = format!("{method}(");
            let found = call.match_indices(&pattern).any(|(i, _)| {
                !call[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':')
            });
            if found {
                out.push((path.to_string(), method.to_string()));
            }
        }
    }
    out
}

#[test]
fn the_route_reader_sees_every_method_of_a_route() {
    let source = r#"Router::new()
        .route("/a", get(list_a))
        .route(
            "/b/{id}",
            get(api::read_b).post(api::change_b),
        )
        .route("/c", put(answer_c)) // not get_c(
        .fallback(|| async { get(x) })"#;
    assert_eq!(
        routes_in(source),
        [
            ("/a".to_string(), "get".to_string()),
            ("/b/{id}".into(), "get".into()),
            ("/b/{id}".into(), "post".into()),
            ("/c".into(), "put".into()),
        ]
    );
}

#[tokio::test]
async fn the_openapi_document_describes_exactly_the_routes_that_exist() {
    let c = Client::new();
    let r = c.get("/api/v1/openapi.json").await;
    assert_eq!(r.status, StatusCode::OK);
    let doc = r.json;
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route of the router (citizen API and Postkorb API) is documented with its
    // method, and every documented operation is routed: both directions.
    let mut routed: Vec<(String, String)> = routes_in(include_str!("../../src/api/mod.rs"))
        .into_iter()
        .map(|(path, method)| (format!("/api/v1{path}"), method))
        .collect();
    // The Postkorb's JSON API is routed with the Postkorb's pages (admin/mod.rs).
    routed.extend(
        routes_in(include_str!("../../src/admin/mod.rs"))
            .into_iter()
            .filter(|(path, _)| path.starts_with("/api/v1/")),
    );
    assert!(routed.contains(&("/api/v1/verwaltung/{tenant}/antraege".into(), "get".into())));
    assert!(routed.contains(&("/api/v1/openapi.json".into(), "get".into())));
    assert!(routed.len() >= 28, "{routed:?}");
    routed.sort();
    routed.dedup();
    let mut documented: Vec<(String, String)> = doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .unwrap()
                .keys()
                .map(move |m| (path.clone(), m.clone()))
        })
        .collect();
    documented.sort();
    let undocumented: Vec<_> = routed.iter().filter(|r| !documented.contains(r)).collect();
    assert!(
        undocumented.is_empty(),
        "routed, not documented: {undocumented:?}"
    );
    let unrouted: Vec<_> = documented.iter().filter(|d| !routed.contains(d)).collect();
    assert!(unrouted.is_empty(), "documented, not routed: {unrouted:?}");
    // The document served is the one `lotse openapi` prints.
    assert_eq!(
        r.bytes,
        lotse_server::openapi::document().as_bytes(),
        "served document"
    );
    // Every documented operation answers something other than 405 on its method.
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            if !["get", "post", "put"].contains(&method.as_str()) {
                continue;
            }
            let url = path
                .replace("{tenant}", "heinsberg")
                .replace("{service}", "hundesteuer-anmeldung")
                .replace("{id}", "00000000000000000000000000000000")
                .replace("{code}", "LOT-H001")
                .replace("{step}", "halter");
            let r = c.call(&method.to_uppercase(), &url, json!({})).await;
            assert_ne!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method} {url}");
            assert!(!r.status.is_server_error(), "{method} {url}: {}", r.json);
            // Every answer that is not a success is documented, with the problem schema.
            if !r.status.is_success() {
                let responses = &ops[method]["responses"];
                let documented = &responses[r.status.as_str()];
                let documented = if documented.is_null() {
                    &responses["default"]
                } else {
                    documented
                };
                assert!(
                    !documented.is_null(),
                    "{method} {url}: {} undocumented",
                    r.status
                );
                let schema = documented["content"]["application/problem+json"]["schema"]["$ref"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap();
                let mut full = doc["components"]["schemas"][schema].clone();
                full["components"] = doc["components"].clone();
                let v = jsonschema::validator_for(&full).unwrap();
                assert!(
                    v.is_valid(&r.json),
                    "{method} {url}: {} against {schema}",
                    r.json
                );
            }
        }
    }
}

#[tokio::test]
async fn unknown_fields_steps_and_lebenslagen_are_told_apart_from_conflicts() {
    let c = Client::new();
    let state = start(&c).await;
    let id = state["id"].as_str().unwrap();
    // An unknown field: 422, named, nothing saved.
    let mut values = halter();
    values["schuhgroesse"] = json!(42);
    let r = answer(&c, &state, values).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H012");
    assert_eq!(r.json["fields"], json!(["schuhgroesse"]));
    assert!(r.json.get("hints").is_none(), "nothing close: {}", r.json);
    let again = c.get(&format!("{BASE}/applications/{id}")).await;
    assert_eq!(again.json["revision"], state["revision"]);
    // A mistyped id and a field of a later step: what the workflow knows is in `hints`.
    let mut values = halter();
    values["kontackt"] = values["kontakt"].take();
    values["hunde"] = json!([]);
    let r = answer(&c, &state, values).await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H012");
    let mut hints = r.json["hints"].as_array().unwrap().clone();
    hints.sort_by_key(|h| h["field"].as_str().unwrap().to_string());
    assert_eq!(
        hints,
        vec![
            json!({"field": "hunde", "asked_on": "hunde"}),
            json!({"field": "kontackt", "did_you_mean": "kontakt"}),
        ]
    );
    let detail = r.json["detail"].as_str().unwrap();
    assert!(
        detail.contains("„kontackt“: meinten Sie „kontakt“?"),
        "{detail}"
    );
    assert!(
        detail.contains("„hunde“ wird auf Schritt „hunde“ gefragt"),
        "{detail}"
    );
    let evaluated = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/steps/halter/evaluate?lang=en"),
            json!({"values": {"kontackt": {}}}),
        )
        .await;
    assert_problem(&evaluated, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H012");
    assert_eq!(
        evaluated.json["hints"],
        json!([{"field": "kontackt", "did_you_mean": "kontakt"}])
    );
    assert!(
        evaluated.json["detail"]
            .as_str()
            .unwrap()
            .contains("\"kontackt\": did you mean \"kontakt\"?"),
        "{}",
        evaluated.json
    );
    // An unknown step: 404; a known step not reached yet stays a conflict.
    let url = format!("{BASE}/applications/{id}/steps/gibtsnicht");
    let r = c
        .call("PUT", &url, json!({"revision": 0, "values": {}}))
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "LOT-H001");
    assert_eq!(r.json["step"], "gibtsnicht");
    let r = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/goto"),
            json!({"revision": 0, "step": "gibtsnicht"}),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "LOT-H001");
    // An unknown Lebenslage: 404; a known one lists its services.
    let r = c
        .get(&format!("{BASE}/services?lebenslage=mondreise"))
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "LOT-H001");
    let r = c
        .get(&format!("{BASE}/services?lebenslage=haustiere"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
}

#[tokio::test]
async fn problems_speak_the_requested_language_and_their_type_explains_the_code() {
    let c = Client::new();
    let url = format!("{BASE}/services/gibtsnicht");
    let de = c.get(&url).await;
    assert_problem(&de, StatusCode::NOT_FOUND, "LOT-H001");
    assert_eq!(de.json["type"], "/probleme/LOT-H001");
    assert_eq!(de.json["title"], "Nicht gefunden");
    assert!(
        de.json["detail"]
            .as_str()
            .unwrap()
            .contains("gibt es hier nicht")
    );
    let en = c.get(&format!("{url}?lang=en")).await;
    assert_eq!(en.json["title"], "Not found");
    assert!(
        en.json["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    let en = c
        .send(
            Request::get(&url)
                .header(header::ACCEPT_LANGUAGE, "fr;q=1, en-GB;q=0.9, de;q=0.5")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert!(
        en.json["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist")
    );
    assert_eq!(en.headers[header::CONTENT_LANGUAGE], "en");
    // The type resolves to a page of the portal, German and English.
    let page = c.get(de.json["type"].as_str().unwrap()).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = String::from_utf8(page.bytes).unwrap();
    assert!(html.contains("LOT-H001 – Nicht gefunden"), "{html}");
    assert!(html.contains("HTTP 404"));
    let page = c.get("/probleme/LOT-H012?lang=en").await;
    let html = String::from_utf8(page.bytes).unwrap();
    assert!(html.contains("LOT-H012 – Unknown field"), "{html}");
    assert_eq!(
        c.get("/probleme/LOT-X999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[test]
fn docs_errors_md_lists_the_api_codes_with_the_texts_of_their_pages() {
    let doc = std::fs::read_to_string(project().join("docs/errors.md")).unwrap();
    let rows: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| LOT-H"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let codes = lotse_server::http::codes::CODES;
    assert_eq!(rows.len(), codes.len());
    for (row, c) in rows.iter().zip(codes) {
        assert_eq!(
            row,
            &[
                c.code.to_string(),
                c.status.to_string(),
                c.meaning_en.to_string(),
                c.meaning_de.to_string()
            ],
            "docs/errors.md and server/src/api/codes.rs differ at {}",
            c.code
        );
    }
}

#[test]
fn docs_errors_md_lists_the_postkorb_codes_with_the_meanings_of_their_pages() {
    let doc = std::fs::read_to_string(project().join("docs/errors.md")).unwrap();
    let rows: Vec<Vec<String>> = doc
        .lines()
        .filter(|l| l.starts_with("| LOT-V"))
        .map(|l| {
            l.trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect();
    let codes = lotse_server::http::codes::STAFF_CODES;
    assert_eq!(rows.len(), codes.len());
    for (row, c) in rows.iter().zip(codes) {
        assert_eq!(
            row[..3],
            [
                c.code.to_string(),
                c.status.to_string(),
                c.meaning_en.to_string()
            ],
            "docs/errors.md and server/src/api/codes.rs differ at {}",
            c.code
        );
    }
}

/// One problem of every kind the Postkorb can answer with. The match has an arm per kind, so a
/// new kind does not compile until it gets a number here, and the test then wants it listed.
fn every_admin_error() -> Vec<lotse_server::admin::AdminError> {
    use lotse_server::admin::AdminError;
    let all = vec![
        AdminError::NotSignedIn,
        AdminError::WrongCredentials,
        AdminError::Throttled(30),
        AdminError::Forbidden,
        AdminError::OtherTenant,
        AdminError::NotFound,
        AdminError::Transition {
            from: "abgeschlossen",
            to: "eingegangen",
        },
        AdminError::Invalid("Filter".into()),
        AdminError::Csrf,
        AdminError::Internal("test".into()),
    ];
    let mut kinds: Vec<usize> = all
        .iter()
        .map(|e| match e {
            AdminError::NotSignedIn => 0,
            AdminError::WrongCredentials => 1,
            AdminError::Throttled(_) => 2,
            AdminError::Forbidden => 3,
            AdminError::OtherTenant => 4,
            AdminError::NotFound => 5,
            AdminError::Transition { .. } => 6,
            AdminError::Invalid(_) => 7,
            AdminError::Csrf => 8,
            AdminError::Internal(_) => 9,
        })
        .collect();
    kinds.sort();
    kinds.dedup();
    assert_eq!(kinds, (0..=9).collect::<Vec<_>>(), "one of each kind");
    all
}

#[tokio::test]
async fn every_postkorb_problem_type_resolves_to_a_page_that_explains_its_code() {
    use axum::response::IntoResponse;
    let c = Client::new();
    for e in every_admin_error() {
        let status = e.status();
        let res = e.into_response();
        assert_eq!(res.status(), status);
        let body = axum::body::to_bytes(res.into_body(), 100_000)
            .await
            .unwrap();
        let problem: Value = serde_json::from_slice(&body).unwrap();
        let code = problem["code"].as_str().unwrap();
        assert!(code.starts_with("LOT-V"), "{problem}");
        let entry = lotse_server::http::codes::problem_code(code)
            .unwrap_or_else(|| panic!("{code} has no entry in STAFF_CODES"));
        assert_eq!(entry.status, status.as_u16(), "{code}");
        let uri = problem["type"].as_str().unwrap();
        assert_eq!(uri, format!("/probleme/{code}"));
        for lang in ["", "?lang=en"] {
            let page = c.get(&format!("{uri}{lang}")).await;
            assert_eq!(page.status, StatusCode::OK, "{uri}{lang}");
            let html = String::from_utf8(page.bytes).unwrap();
            assert!(html.contains(code), "{html}");
            assert!(html.contains(&format!("HTTP {}", entry.status)), "{html}");
        }
    }
    // A real answer of the Postkorb API: its type resolves too.
    let r = c.get("/api/v1/verwaltung/heinsberg/ich").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json["type"], "/probleme/LOT-V001");
    let page = c.get("/probleme/LOT-V001?lang=en").await;
    let html = String::from_utf8(page.bytes).unwrap();
    assert!(html.contains("LOT-V001 – Not signed in"), "{html}");
}

#[tokio::test]
async fn evaluating_a_step_tells_which_fields_show_and_are_required_and_saves_nothing() {
    let c = Client::new();
    let mut state = start(&c).await;
    let id = state["id"].as_str().unwrap().to_string();
    for values in [
        halter(),
        json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"}]}),
    ] {
        let r = answer(&c, &state, values).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        state = r.json;
    }
    assert_eq!(state["step"]["id"], "beginn");
    let evaluate = state["step"]["links"]["evaluate"]
        .as_str()
        .unwrap()
        .to_string();
    let field = |r: &Reply, id: &str| {
        r.json["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id)
            .cloned()
            .unwrap()
    };
    let r = c
        .call("POST", &evaluate, json!({"values": {"zuzug": "nein"}}))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    assert_eq!(field(&r, "vorgemeinde")["visible"], false);
    assert_eq!(field(&r, "vorgemeinde")["required"], false);
    assert_eq!(field(&r, "haltungsbeginn")["visible"], true);
    let r = c
        .call("POST", &evaluate, json!({"values": {"zuzug": "ja"}}))
        .await;
    assert_eq!(field(&r, "vorgemeinde")["visible"], true);
    // Nothing was saved.
    let now = c.get(&format!("{BASE}/applications/{id}")).await;
    assert_eq!(now.json["revision"], state["revision"]);
    assert!(now.json["answers"].get("zuzug").is_none());
    // Unknown fields and steps, as on an answer.
    let r = c
        .call("POST", &evaluate, json!({"values": {"gibtsnicht": 1}}))
        .await;
    assert_problem(&r, StatusCode::UNPROCESSABLE_ENTITY, "LOT-H012");
    let r = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/steps/gibtsnicht/evaluate"),
            json!({"values": {}}),
        )
        .await;
    assert_problem(&r, StatusCode::NOT_FOUND, "LOT-H001");
}

#[tokio::test]
async fn lebenslagen_have_ids_and_labels_and_steps_say_whether_they_are_conditional() {
    let c = Client::new();
    let r = c.get(&format!("{BASE}/lebenslagen")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.json);
    let list = r.json["lebenslagen"].as_array().unwrap();
    assert_eq!(list.len(), lotse_core::catalogue::LEBENSLAGEN.len());
    let umzug = list.iter().find(|l| l["id"] == "umzug").unwrap();
    assert_eq!(umzug["label"], json!({"de": "Umzug", "en": "Moving house"}));
    assert!(list.iter().any(|l| l["services"].as_u64().unwrap() > 0));
    let services = c.get(umzug["links"]["services"].as_str().unwrap()).await;
    assert_eq!(services.status, StatusCode::OK);
    // docs/catalogue.md lists the same vocabulary.
    let doc = std::fs::read_to_string(project().join("docs/catalogue.md")).unwrap();
    for l in list {
        let row = format!(
            "| `{}` | {} | {} |",
            l["id"].as_str().unwrap(),
            l["label"]["de"].as_str().unwrap(),
            l["label"]["en"].as_str().unwrap()
        );
        assert!(doc.contains(&row), "docs/catalogue.md lacks {row}");
    }

    let s = c
        .get(&format!("{BASE}/services/hundesteuer-anmeldung"))
        .await;
    let steps = s.json["steps"].as_array().unwrap();
    let step = |id: &str| steps.iter().find(|s| s["id"] == id).unwrap().clone();
    assert_eq!(step("halter")["conditional"], false);
    assert_eq!(step("zahlung")["conditional"], false);
    assert_eq!(step("gefaehrlich")["conditional"], true);
    assert!(step("gefaehrlich")["applies_if"].is_string());
}

#[tokio::test]
async fn the_review_links_to_submit_and_a_step_to_its_evaluation() {
    let c = Client::new();
    let state = start(&c).await;
    assert!(state["step"]["links"]["evaluate"].is_string());
    assert!(state["links"].get("submit").is_none());
    let review = answer_all(&c).await;
    let submit = review["links"]["submit"].as_str().unwrap();
    assert!(submit.ends_with("/submit"));
    let r = c
        .call(
            "POST",
            submit,
            json!({"revision": review["revision"], "declaration": ["richtig"]}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
}

#[tokio::test]
async fn cors_opens_the_citizen_api_to_configured_origins_only_and_never_with_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let config = lotse_server::config::Config {
        project_dir: project().to_path_buf(),
        data_dir: dir.path().join("data"),
        api: lotse_server::config::ApiConfig {
            cors_origins: vec!["http://front.example:8081".into()],
        },
        ..lotse_server::config::Config::default()
    };
    let app = router(Arc::new(Portal::build_with(&config).unwrap()));
    let send = |req: Request<Body>| {
        let app = app.clone();
        async move { app.oneshot(req).await.unwrap() }
    };
    let start = format!("{BASE}/services/hundesteuer-anmeldung/applications");
    let preflight = |origin: &str, url: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri(url)
            .header(header::ORIGIN, origin)
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "POST")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "content-type")
            .body(Body::empty())
            .unwrap()
    };
    let ok = send(preflight("http://front.example:8081", &start)).await;
    assert!(ok.status().is_success(), "{}", ok.status());
    let h = ok.headers();
    assert_eq!(
        h[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://front.example:8081"
    );
    assert!(
        h[header::ACCESS_CONTROL_ALLOW_METHODS]
            .to_str()
            .unwrap()
            .contains("POST")
    );
    assert!(h.get(header::ACCESS_CONTROL_ALLOW_CREDENTIALS).is_none());
    let other = send(preflight("http://evil.example", &start)).await;
    assert!(
        other
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    // The Postkorb's API is not opened.
    let staff = send(preflight(
        "http://front.example:8081",
        "/api/v1/verwaltung/heinsberg/antraege",
    ))
    .await;
    assert!(
        staff
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    // The request itself: the allowed origin's POST passes the cross-site check, another's not.
    let post = |origin: &str| {
        Request::post(&start)
            .header(header::ORIGIN, origin)
            .header("sec-fetch-site", "cross-site")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from("{}"))
            .unwrap()
    };
    let r = send(post("http://front.example:8081")).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    assert_eq!(
        r.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN],
        "http://front.example:8081"
    );
    let r = send(post("http://evil.example")).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Without configured origins nothing changes: no CORS headers at all.
    let c = Client::new();
    let r = c.send(preflight("http://front.example:8081", &start)).await;
    assert!(r.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}

/// Checks an answer against what the OpenAPI document says the operation answers with that
/// status, so that the hand-written document cannot drift from the answers unnoticed.
fn conforms(doc: &Value, method: &str, path: &str, r: &Reply) {
    let response = &doc["paths"][path][method]["responses"][r.status.as_str()];
    assert!(
        !response.is_null(),
        "{method} {path}: {} is not documented",
        r.status
    );
    let media = r.content_type.split(';').next().unwrap().trim().to_string();
    let schema = &response["content"][&media]["schema"];
    assert!(
        !schema.is_null(),
        "{method} {path}: {media} is not documented for {}",
        r.status
    );
    let mut full = schema.clone();
    if full.get("$ref").is_some() {
        full = json!({"allOf": [schema]});
    }
    full["components"] = doc["components"].clone();
    let v = jsonschema::validator_for(&full).unwrap();
    let errors: Vec<String> = v.iter_errors(&r.json).map(|e| e.to_string()).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {}: {errors:?}\n{}",
        r.status,
        r.json
    );
}

#[tokio::test]
async fn every_answer_of_a_whole_application_matches_the_openapi_document() {
    let c = Client::new();
    let doc = c.get("/api/v1/openapi.json").await.json;
    let t = "/api/v1/tenants/{tenant}";
    conforms(
        &doc,
        "get",
        "/api/v1/tenants",
        &c.get("/api/v1/tenants").await,
    );
    conforms(
        &doc,
        "get",
        &format!("{t}/lebenslagen"),
        &c.get(&format!("{BASE}/lebenslagen")).await,
    );
    conforms(
        &doc,
        "get",
        &format!("{t}/services"),
        &c.get(&format!("{BASE}/services?lebenslage=umzug")).await,
    );
    conforms(
        &doc,
        "get",
        &format!("{t}/services/{{service}}"),
        &c.get(&format!("{BASE}/services/hundesteuer-anmeldung?lang=en"))
            .await,
    );
    let r = c
        .call(
            "POST",
            &format!("{BASE}/services/hundesteuer-anmeldung/applications"),
            json!({}),
        )
        .await;
    conforms(
        &doc,
        "post",
        &format!("{t}/services/{{service}}/applications"),
        &r,
    );
    let mut state = r.json;
    let id = state["id"].as_str().unwrap().to_string();
    let step_path = format!("{t}/applications/{{id}}/steps/{{step}}");
    // A refused answer, an unknown field, an evaluation.
    let refused = answer(&c, &state, json!({"halter": {"vorname": ""}})).await;
    conforms(&doc, "put", &step_path, &refused);
    state["revision"] = refused.json["revision"].clone();
    let unknown = answer(&c, &state, json!({"gibtsnicht": 1})).await;
    conforms(&doc, "put", &step_path, &unknown);
    let evaluated = c
        .call(
            "POST",
            state["step"]["links"]["evaluate"].as_str().unwrap(),
            json!({"values": {}}),
        )
        .await;
    conforms(&doc, "post", &format!("{step_path}/evaluate"), &evaluated);
    for values in [
        halter(),
        json!({"hunde": [{"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "gefaehrlich"}]}),
        json!({"erlaubnis": "ja", "erlaubnis_aktenzeichen": "32-2026-7", "versicherung": "Haftpflicht AG 12345"}),
        json!({"haltungsbeginn": "01.11.2026", "zuzug": "ja", "vorgemeinde": "Aachen"}),
        json!({"ermaessigung": "nein"}),
        json!({"lastschrift": "nein"}),
    ] {
        let current = c.get(&format!("{BASE}/applications/{id}")).await;
        conforms(&doc, "get", &format!("{t}/applications/{{id}}"), &current);
        let r = answer(&c, &current.json, values).await;
        conforms(&doc, "put", &step_path, &r);
        state = r.json;
    }
    assert_eq!(state["position"], "review", "{state}");
    let r = c
        .call(
            "POST",
            state["links"]["submit"].as_str().unwrap(),
            json!({"revision": state["revision"], "declaration": ["richtig"]}),
        )
        .await;
    conforms(&doc, "post", &format!("{t}/applications/{{id}}/submit"), &r);
    let submission = r.json;
    let after = c.get(&format!("{BASE}/applications/{id}")).await;
    conforms(&doc, "get", &format!("{t}/applications/{{id}}"), &after);
    let status = c.get(submission["links"]["self"].as_str().unwrap()).await;
    conforms(&doc, "get", &format!("{t}/submissions/{{id}}"), &status);
    conforms(
        &doc,
        "get",
        &format!("{t}/services/{{service}}"),
        &c.get(&format!("{BASE}/services/gibtsnicht")).await,
    );
}

#[tokio::test]
async fn an_end_page_is_a_step_without_fields_review_or_answer_in_the_api_and_the_assistant() {
    let c = Client::new();
    let r = c
        .call(
            "POST",
            &format!("{BASE}/services/faellgenehmigung/applications"),
            json!({}),
        )
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
    let mut state = r.json;
    for values in [
        json!({
            "rolle": "eigentum",
            "person": {"anrede": "Frau", "vorname": "Lea", "nachname": "Dahmen", "geburtsdatum": "1990-09-09"},
            "anschrift": {"strasse": "Gartenstraße", "hausnummer": "1", "plz": "52525", "ort": "Heinsberg"},
            "kontakt": {"email": "lea@example.org"},
        }),
        json!({"lage": {"strasse": "Gartenstraße", "hausnummer": "1", "plz": "52525", "ort": "Heinsberg"}}),
        json!({"geschuetzt": "nein"}),
    ] {
        let r = answer(&c, &state, values).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.json);
        state = r.json;
    }
    assert_eq!(state["position"], "step", "{state}");
    assert_eq!(state["step"]["id"], "keine_genehmigung");
    assert_eq!(state["step"]["end"], true);
    assert_eq!(state["step"]["fields"], json!([]));
    assert!(state["links"]["review"].is_null(), "{state}");
    assert_eq!(state["step"]["see_also"][1]["href"], "/");
    // Answering it or asking for the review is refused: the assistant ends here.
    let refused = answer(&c, &state, json!({})).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.json);
    let id = state["id"].as_str().unwrap();
    let review = c
        .call(
            "POST",
            &format!("{BASE}/applications/{id}/review"),
            json!({"revision": state["revision"]}),
        )
        .await;
    assert_eq!(review.status, StatusCode::CONFLICT, "{}", review.json);
    // The assistant's page: the explanation and the links, no "Speichern und weiter".
    let page = c
        .get(&format!("/heinsberg/antrag/{id}/schritt/keine_genehmigung"))
        .await;
    let html = String::from_utf8_lossy(&page.bytes).to_string();
    assert_eq!(page.status, StatusCode::OK, "{html}");
    assert!(
        html.contains("<h1>Keine Genehmigung erforderlich</h1>"),
        "{html}"
    );
    assert!(html.contains("Sie müssen hier nichts absenden."), "{html}");
    assert!(html.contains("href=\"https://www.gesetze-im-internet.de/bnatschg_2009/__39.html\""));
    assert!(!html.contains("value=\"weiter\""), "{html}");
}
