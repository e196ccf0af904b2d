//! Fuzzing what citizens send, through the portal's router: HTML form posts (the form decoder,
//! `portal/form.rs`, and the engine's reading of text as numbers, dates and choices) and JSON
//! API bodies (the body decoder of `api/problem.rs` and the engine's normalising of values),
//! on applications of every example workflow at every step of one of its scenarios, and at the
//! review. Whatever arrives, the answer is never a server error or a timeout, an API error is
//! a problem document, and the application still opens afterwards.
//!
//! Cases: LOTSE_FUZZ_CASES per test (default 160, a few seconds in a debug build); e.g.
//! `LOTSE_FUZZ_CASES=5000 cargo test -p lotse-server --test all fuzz::` for a longer run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_core::scenario::{Action, load_scenario};
use lotse_server::{Portal, router};
use proptest::prelude::*;
use proptest::sample::{Index, select};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use tower::ServiceExt;

fn project() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn cases() -> u32 {
    std::env::var("LOTSE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(160)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// A field of a step, as the API describes it.
#[derive(Debug, Clone)]
enum Field {
    Plain(String),
    Group(String, Vec<String>),
    Repeat(String, Vec<String>),
}

impl Field {
    /// The names a form post uses for it.
    fn form_keys(&self) -> Vec<String> {
        match self {
            Field::Plain(id) => vec![id.clone()],
            Field::Group(id, subs) => subs.iter().map(|s| format!("{id}.{s}")).collect(),
            Field::Repeat(id, subs) => subs
                .iter()
                .flat_map(|s| {
                    [
                        "0",
                        "1",
                        "2",
                        "99",
                        "100",
                        "-1",
                        "x",
                        "18446744073709551616",
                    ]
                    .map(|n| format!("{id}.{n}.{s}"))
                })
                .collect(),
        }
    }
}

fn fields_of(state: &Value) -> Vec<Field> {
    let ids = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| f["id"].as_str().map(str::to_owned))
            .collect()
    };
    state["step"]["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let id = f["id"].as_str()?.to_owned();
            Some(match (f.get("fields"), f.get("repeat")) {
                (Some(subs), Some(_)) => Field::Repeat(id, ids(subs)),
                (Some(subs), None) => Field::Group(id, ids(subs)),
                _ => Field::Plain(id),
            })
        })
        .collect()
}

/// One application to send things to: where it stood when the rig was built.
#[derive(Debug, Clone)]
struct Target {
    workflow: String,
    tenant: String,
    id: String,
    /// Every field of its workflow that the scenario walked past.
    fields: Arc<Vec<Field>>,
    steps: Arc<Vec<String>>,
}

struct Reply {
    status: StatusCode,
    content_type: String,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

struct Rig {
    app: axum::Router,
    rt: tokio::runtime::Runtime,
    targets: Vec<Target>,
    _dir: tempfile::TempDir,
}

impl Rig {
    fn send(&self, req: Request<Body>) -> Reply {
        self.rt.block_on(async {
            let res = self.app.clone().oneshot(req).await.unwrap();
            let status = res.status();
            let content_type = res
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = axum::body::to_bytes(res.into_body(), 10_000_000)
                .await
                .unwrap()
                .to_vec();
            Reply {
                status,
                content_type,
                body,
            }
        })
    }

    fn get(&self, url: &str) -> Reply {
        self.send(Request::get(url).body(Body::empty()).unwrap())
    }

    fn call(&self, method: &str, url: &str, content_type: &str, body: Vec<u8>) -> Reply {
        self.send(
            Request::builder()
                .method(method)
                .uri(url)
                .header(header::CONTENT_TYPE, content_type)
                .header("sec-fetch-site", "same-origin")
                .body(Body::from(body))
                .unwrap(),
        )
    }

    fn json(&self, method: &str, url: &str, body: &Value) -> Reply {
        self.call(
            method,
            url,
            "application/json",
            body.to_string().into_bytes(),
        )
    }

    /// Applications of every example workflow: one per position of its longest scenario
    /// without expected errors (each step answered as the scenario does, on the scenario's
    /// day), from the first step to the review.
    fn build() -> Rig {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let day = lotse_core::scenario::DEFAULT_TODAY
            .with_hms(9, 0, 0)
            .unwrap();
        let portal = Portal::build_with_clock(
            &lotse_server::config::Config {
                project_dir: project().to_path_buf(),
                data_dir: dir.path().join("data"),
                ..lotse_server::config::Config::default()
            },
            false,
            Arc::new(lotse_core::FixedClock(day.assume_utc())),
        )
        .unwrap();
        let mut rig = Rig {
            app: router(Arc::new(portal)),
            rt,
            targets: Vec::new(),
            _dir: dir,
        };
        let (library, problems) =
            lotse_core::load_library(project(), &lotse_core::script::Sandbox::default());
        assert!(problems.is_empty(), "{problems:?}");
        let mut workflows: Vec<_> = library.all().map(|wf| wf.id.clone()).collect();
        workflows.sort();
        workflows.dedup();
        for wf in workflows {
            let folder = library
                .all()
                .find(|w| w.id == wf)
                .and_then(|w| w.source.parent().map(Path::to_path_buf))
                .unwrap();
            let walk = longest_walk(&folder.join("scenarios"));
            rig.walk(&wf, &walk);
        }
        assert!(
            rig.targets.len() >= 12,
            "only {} targets",
            rig.targets.len()
        );
        rig
    }

    /// Starts one application per prefix of `walk` and answers that prefix.
    fn walk(&mut self, wf: &str, walk: &[(String, Map<String, Value>)]) {
        let tenant = "heinsberg";
        let base = format!("/api/v1/tenants/{tenant}");
        let mut fields = Vec::new();
        let mut steps = Vec::new();
        let mut started = Vec::new();
        for prefix in 0..=walk.len() {
            let r = self.json(
                "POST",
                &format!("{base}/services/{wf}/applications"),
                &json!({}),
            );
            if r.status == StatusCode::NOT_FOUND {
                return; // not offered by this tenant
            }
            assert_eq!(r.status, StatusCode::CREATED);
            let mut state = r.json();
            let id = state["id"].as_str().unwrap().to_owned();
            for (step, answers) in &walk[..prefix] {
                if prefix == walk.len() {
                    fields.extend(fields_of(&state));
                    steps.push(step.clone());
                }
                let r = self.json(
                    "PUT",
                    &format!("{base}/applications/{id}/steps/{step}"),
                    &json!({"revision": state["revision"], "values": answers}),
                );
                assert_eq!(r.status, StatusCode::OK, "{wf} {step}: {}", r.json());
                state = r.json();
            }
            started.push(id);
        }
        let fields = Arc::new(fields);
        let steps = Arc::new(steps);
        for id in started {
            self.targets.push(Target {
                workflow: wf.into(),
                tenant: tenant.into(),
                id,
                fields: fields.clone(),
                steps: steps.clone(),
            });
        }
    }

    /// After whatever was sent: the application still opens (as a step, the review or
    /// submitted), in the API and as a page.
    fn still_opens(&self, t: &Target) -> Result<(), TestCaseError> {
        let r = self.get(&format!(
            "/api/v1/tenants/{}/applications/{}",
            t.tenant, t.id
        ));
        let submitted = r.status == StatusCode::CONFLICT && r.json()["code"] == "LOT-H006";
        prop_assert!(
            r.status == StatusCode::OK || submitted,
            "the application no longer opens: {} {}",
            r.status,
            r.json()
        );
        let page = self.get(&format!("/{}/antrag/{}", t.tenant, t.id));
        prop_assert!(
            page.status == StatusCode::OK || page.status == StatusCode::SEE_OTHER,
            "its page answers {}",
            page.status
        );
        Ok(())
    }
}

/// The accepted answers of the scenario that walks furthest before it goes back.
fn longest_walk(folder: &Path) -> Vec<(String, Map<String, Value>)> {
    let mut best = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for file in files {
        let Ok(s) = load_scenario(&file) else {
            continue;
        };
        if s.tenant.is_some() || s.today != lotse_core::scenario::DEFAULT_TODAY {
            continue;
        }
        let mut walk = Vec::new();
        // Accepted answers in order; refused ones change no position, a review request
        // neither; going back or to a step ends the walk.
        for (_, action) in s.actions {
            match action {
                Action::Answer {
                    step,
                    answers,
                    expect_errors: None,
                    ..
                } => walk.push((step, answers)),
                Action::Answer { .. } | Action::Review { .. } => {}
                Action::Back { .. } | Action::Goto { .. } => break,
            }
        }
        if walk.len() > best.len() {
            best = walk;
        }
    }
    assert!(
        !best.is_empty(),
        "no scenario to walk in {}",
        folder.display()
    );
    best
}

/// Text that German formats, schemas and HTML find hard.
const TRICKY: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "1e309",
    "-1e309",
    "NaN",
    "Infinity",
    "18446744073709551616",
    "-9223372036854775809",
    "1.000.000,50",
    "1,5",
    "3,",
    ",5",
    "12.5.",
    "31.02.2026",
    "29.02.2025",
    "00.00.0000",
    "2026-13-01",
    "9999-12-31",
    "+10000-01-01",
    "0000-01-01",
    "01.01.-1",
    "2026-11-28T10:00:00Z",
    "ja",
    "nein",
    "true",
    "on",
    "<script>alert(1)</script>",
    "{{x}}",
    "{{{x}}}",
    "\u{0}",
    "\u{202e}gnp.exe",
    "ẞ€„“",
    "DE89 3704 0044 0532 0130 00",
    "52525",
    "a@b",
    "%ZZ",
    "&=&=",
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(TRICKY).prop_map(str::to_owned),
        3 => "[0-9.,+ -]{0,14}",
        2 => ".{0,40}",
        1 => "\\PC{200,2000}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Bytes that decoders find hard: arbitrary, or deep nesting.
fn raw_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        (select(vec!["[", "{\"a\":", "a[", "%"]), 1..5000usize)
            .prop_map(|(s, n)| s.repeat(n).into_bytes()),
        Just(b"{\"revision\":1e400,\"values\":{}}".to_vec()),
        Just(b"{\"revision\":0,\"values\":{},\"revision\":1}".to_vec()),
    ]
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_owned())
}

#[derive(Debug, Clone)]
enum FormBody {
    /// Named pairs: the token, the revision, an action and fields of the workflow, with
    /// tricky values; `raw` leaves them unescaped.
    Pairs {
        token: bool,
        revision: Option<String>,
        action: String,
        fields: Vec<(Index, String)>,
        extra: Vec<(String, String)>,
        raw: bool,
    },
    Bytes(Vec<u8>),
}

fn form_body() -> impl Strategy<Value = FormBody> {
    let action = prop_oneof![
        Just("weiter".to_owned()),
        Just("zurueck".to_owned()),
        Just("absenden".to_owned()),
        Just("add:hunde".to_owned()),
        ".{0,6}".prop_map(|s| format!("remove:hunde.{s}")),
        ".{0,12}".prop_map(|s| format!("goto:{s}")),
        ".{0,12}",
    ];
    let revision = proptest::option::of(prop_oneof![
        Just("current".to_owned()),
        "[0-9]{1,22}",
        ".{0,6}"
    ]);
    prop_oneof![
        4 => (
            proptest::bool::weighted(0.9),
            revision,
            action,
            proptest::collection::vec((any::<Index>(), text()), 0..24),
            proptest::collection::vec((".{0,10}", text()), 0..3),
            proptest::bool::weighted(0.1),
        )
            .prop_map(|(token, revision, action, fields, extra, raw)| FormBody::Pairs {
                token,
                revision,
                action,
                fields,
                extra,
                raw,
            }),
        1 => raw_bytes().prop_map(FormBody::Bytes),
    ]
}

#[test]
fn fuzz_form_posts_never_fail_the_server() {
    let rig = Rig::build();
    let strategy = (
        any::<Index>(),
        form_body(),
        select(vec![
            "draft", "draft", "draft", "resume", "start", "antwort",
        ]),
    );
    runner()
        .run(&strategy, |(which, body, route)| {
            let t = which.get(&rig.targets);
            let draft_url = format!("/{}/antrag/{}", t.tenant, t.id);
            let page = rig.get(&draft_url);
            let page = String::from_utf8_lossy(&page.body);
            let (url, token) = match route {
                "resume" => (format!("/{}/fortsetzen", t.tenant), None),
                "start" => {
                    let url = format!("/{}/leistung/hundesteuer-anmeldung", t.tenant);
                    let service = rig.get(&url);
                    (
                        url,
                        hidden(&String::from_utf8_lossy(&service.body), "_csrf"),
                    )
                }
                "antwort" => (format!("/{}/eingang/{}/antwort", t.tenant, t.id), None),
                _ => (draft_url.clone(), hidden(&page, "_csrf")),
            };
            let bytes = match &body {
                FormBody::Bytes(b) => b.clone(),
                FormBody::Pairs {
                    token: with_token,
                    revision,
                    action,
                    fields,
                    extra,
                    raw,
                } => {
                    let keys: Vec<String> = t.fields.iter().flat_map(Field::form_keys).collect();
                    let mut pairs: Vec<(String, String)> = Vec::new();
                    if *with_token && let Some(tok) = &token {
                        pairs.push(("_csrf".into(), tok.clone()));
                    }
                    if let Some(r) = revision {
                        let current = hidden(&page, "_rev").unwrap_or_default();
                        pairs.push((
                            "_rev".into(),
                            if r == "current" { current } else { r.clone() },
                        ));
                    }
                    pairs.push(("_action".into(), action.clone()));
                    pairs.push(("code".into(), "K7QX-2M9D-8TFA-WN3E".into()));
                    for (i, v) in fields {
                        if !keys.is_empty() {
                            pairs.push((i.get(&keys).clone(), v.clone()));
                        }
                    }
                    pairs.extend(extra.iter().cloned());
                    let enc = |s: &str| if *raw { s.to_owned() } else { percent(s) };
                    pairs
                        .iter()
                        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                        .collect::<Vec<_>>()
                        .join("&")
                        .into_bytes()
                }
            };
            let r = rig.call("POST", &url, "application/x-www-form-urlencoded", bytes);
            prop_assert!(
                !r.status.is_server_error() && r.status != StatusCode::REQUEST_TIMEOUT,
                "POST {url} answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            rig.still_opens(t)
        })
        .unwrap();
}

#[derive(Debug, Clone)]
enum ApiBody {
    /// A step answer shaped like the real thing: the revision, values for the workflow's
    /// fields (objects for groups, lists of objects for repeated groups), extra keys.
    Answer {
        revision: Option<Value>,
        values: Vec<(Index, Value, Vec<Value>)>,
        extra: Vec<(String, Value)>,
        then_review: Option<Value>,
        lang: Option<Value>,
    },
    Json(Value),
    Bytes(Vec<u8>, &'static str),
}

fn api_body() -> impl Strategy<Value = ApiBody> {
    let answer = (
        proptest::option::of(prop_oneof![Just(json!("current")), json_value()]),
        proptest::collection::vec(
            (
                any::<Index>(),
                json_value(),
                proptest::collection::vec(json_value(), 0..4),
            ),
            0..12,
        ),
        proptest::collection::vec((".{0,8}", json_value()), 0..2),
        proptest::option::of(json_value()),
        proptest::option::of(prop_oneof![Just(json!("en")), json_value()]),
    )
        .prop_map(
            |(revision, values, extra, then_review, lang)| ApiBody::Answer {
                revision,
                values,
                extra,
                then_review,
                lang,
            },
        );
    let media = select(vec![
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "text/plain",
        "application/x-www-form-urlencoded",
        "",
    ]);
    prop_oneof![
        4 => answer,
        2 => json_value().prop_map(ApiBody::Json),
        1 => (raw_bytes(), media).prop_map(|(b, m)| ApiBody::Bytes(b, m)),
    ]
}

/// Values for `fields`: a group gets an object of its subfields, a repeated group a list of
/// them, a plain field the value.
fn values_for(fields: &[Field], picks: &[(Index, Value, Vec<Value>)]) -> Map<String, Value> {
    let mut out = Map::new();
    if fields.is_empty() {
        return out;
    }
    for (i, v, more) in picks {
        let object = |subs: &[String], v: &Value, more: &[Value]| {
            let mut m = Map::new();
            for (s, x) in subs.iter().zip(std::iter::once(v).chain(more)) {
                m.insert(s.clone(), x.clone());
            }
            Value::Object(m)
        };
        match i.get(fields) {
            Field::Plain(id) => {
                out.insert(id.clone(), v.clone());
            }
            Field::Group(id, subs) => {
                out.insert(id.clone(), object(subs, v, more));
            }
            Field::Repeat(id, subs) => {
                let items: Vec<Value> = more
                    .iter()
                    .map(|x| object(subs, x, std::slice::from_ref(v)))
                    .collect();
                out.insert(id.clone(), Value::Array(items));
            }
        }
    }
    out
}

#[test]
fn fuzz_api_bodies_never_fail_the_server() {
    let rig = Rig::build();
    let routes = vec![
        "answer", "answer", "answer", "answer", "start", "resume", "back", "goto", "review",
        "submit",
    ];
    let strategy = (any::<Index>(), api_body(), select(routes), any::<Index>());
    runner()
        .run(&strategy, |(which, body, route, step)| {
            let t = which.get(&rig.targets);
            let base = format!("/api/v1/tenants/{}", t.tenant);
            let app = format!("{base}/applications/{}", t.id);
            let state = rig.get(&app).json();
            let current_step = state["step"]["id"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| step.get(&t.steps).clone());
            let (method, url) = match route {
                "start" => (
                    "POST",
                    format!("{base}/services/hundesteuer-anmeldung/applications"),
                ),
                "resume" => ("POST", format!("{base}/resume")),
                "answer" => ("PUT", format!("{app}/steps/{current_step}")),
                other => ("POST", format!("{app}/{other}")),
            };
            let (bytes, media) = match body {
                ApiBody::Answer {
                    revision,
                    values,
                    extra,
                    then_review,
                    lang,
                } => {
                    let mut b = Map::new();
                    match revision {
                        Some(r) if r == json!("current") => {
                            b.insert("revision".into(), state["revision"].clone());
                        }
                        Some(r) => {
                            b.insert("revision".into(), r);
                        }
                        None => {}
                    }
                    b.insert(
                        "values".into(),
                        Value::Object(values_for(&t.fields, &values)),
                    );
                    if let Some(x) = then_review {
                        b.insert("then_review".into(), x);
                    }
                    if let Some(x) = lang {
                        b.insert("lang".into(), x);
                    }
                    if route == "goto" {
                        b.insert("step".into(), json!(step.get(&t.steps)));
                    }
                    b.extend(extra);
                    (
                        Value::Object(b).to_string().into_bytes(),
                        "application/json",
                    )
                }
                ApiBody::Json(v) => (v.to_string().into_bytes(), "application/json"),
                ApiBody::Bytes(b, m) => (b, m),
            };
            let r = rig.call(method, &url, media, bytes);
            prop_assert!(
                !r.status.is_server_error() && r.status != StatusCode::REQUEST_TIMEOUT,
                "{method} {url} answered {}: {}",
                r.status,
                String::from_utf8_lossy(&r.body)
            );
            if r.status.is_client_error() {
                let p = r.json();
                prop_assert_eq!(&r.content_type, "application/problem+json");
                prop_assert!(
                    p["code"].as_str().is_some_and(|c| c.starts_with("LOT-"))
                        && p["status"] == r.status.as_u16(),
                    "not a problem document: {}",
                    p
                );
            } else {
                prop_assert!(r.json().is_object(), "{} without a JSON object", r.status);
            }
            rig.still_opens(t)
        })
        .unwrap();
}

/// The keys the rig collects are real: each workflow contributes fields, and form keys name
/// groups and repeated groups the way the pages do.
#[test]
fn fuzz_rig_reaches_every_step_of_the_walked_scenarios() {
    let rig = Rig::build();
    let positions: Vec<(String, Value)> = rig
        .targets
        .iter()
        .map(|t| {
            let state = rig
                .get(&format!(
                    "/api/v1/tenants/{}/applications/{}",
                    t.tenant, t.id
                ))
                .json();
            (t.workflow.clone(), state["position"].clone())
        })
        .collect();
    let workflows: BTreeSet<&String> = positions.iter().map(|(w, _)| w).collect();
    for wf in &workflows {
        assert!(
            positions.iter().any(|(w, p)| w == *wf && p == "review"),
            "no application of {wf} reached the review: {positions:?}"
        );
    }
    assert!(workflows.len() >= 3, "{workflows:?}");
    let keys: BTreeSet<String> = rig
        .targets
        .iter()
        .flat_map(|t| t.fields.iter().flat_map(Field::form_keys))
        .collect();
    for k in ["halter.vorname", "hunde.0.name", "haltungsbeginn"] {
        assert!(keys.contains(k), "{k} not among {keys:?}");
    }
}
