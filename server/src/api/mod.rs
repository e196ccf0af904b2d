//! The JSON API (/api/v1) for other front ends: the same engine, the same store and the same
//! rules as the HTML assistant. Every error is RFC 9457 problem+json with a stable code
//! (`LOT-H…`, docs/errors.md); the document at /api/v1/openapi.json describes every route.
//!
//! The draft id in the path is the citizen's capability (about 128 unguessable bits, see
//! docs/store.md, "Drafts"), as in the HTML assistant. Bodies must be `application/json`: a
//! cross-site HTML form cannot send that without the browser asking first, which is this API's
//! CSRF protection (no cookies are used).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use lotse_core::application::{Position, ReviewView};
use lotse_core::definition::{Field, Required, Widget};
use lotse_core::form::FieldError;
use lotse_core::{Clock, Command, Lang, SystemClock, Workflow};
use lotse_store::{StatusStore, StoreError, SubmissionId, SubmissionStore, resume_draft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value, json};

use crate::http::extractors::ClientKey;
use crate::http::pages::pdf_download;
use crate::http::run::{act, blocking, draft_work, open_draft};
use crate::service::{Acted, OpenDraft, Opened, ServiceError};
use crate::state::{Defs, Shared, offered};
use crate::telemetry::bump;
use crate::tenants::{self, Tenant};

/// The OpenAPI 3.1 document of this API, written by hand and checked against the routes by
/// the tests and by schemathesis in CI.
const OPENAPI: &str = include_str!("openapi.json");

/// The media type of errors (RFC 9457).
const PROBLEM: &str = "application/problem+json";

/// An error answer: status, stable code, a short title, details for the developer, and for
/// rejected answers the field errors.
#[derive(Debug)]
pub struct Problem(Box<ProblemBody>);

#[derive(Debug)]
struct ProblemBody {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    extra: Map<String, Value>,
}

impl Problem {
    fn new(status: StatusCode, code: &'static str, title: &'static str, detail: String) -> Self {
        Problem(Box::new(ProblemBody {
            status,
            code,
            title,
            detail,
            extra: Map::new(),
        }))
    }

    fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.into(), value);
        self
    }

    fn not_found(what: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "LOT-H001",
            "Not found",
            format!("{what} does not exist here (or has expired)."),
        )
    }

    fn bad_body(detail: String) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "LOT-H002",
            "Malformed request body",
            detail,
        )
    }

    fn stale(current: u64) -> Self {
        Problem::new(
            StatusCode::CONFLICT,
            "LOT-H004",
            "Stale revision",
            format!(
                "The application was changed since you read it (now at revision {current}). Read it again, then retry."
            ),
        )
        .with("revision", json!(current))
    }

    fn internal(cause: &dyn std::fmt::Display) -> Self {
        // The cause goes to the log with a request id; the client gets only the id.
        let id = crate::telemetry::request_id();
        tracing::error!(event = "api_failed", cause = %cause);
        Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "LOT-H500",
            "Internal error",
            format!("Something went wrong on our side (request {id}). Nothing was lost; please retry later."),
        )
        .with("request_id", json!(id))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let p = *self.0;
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("/api/v1/problems/{}", p.code)));
        body.insert("title".into(), json!(p.title));
        body.insert("status".into(), json!(p.status.as_u16()));
        body.insert("code".into(), json!(p.code));
        body.insert("detail".into(), json!(p.detail));
        body.extend(p.extra);
        // The request's id, as in its X-Request-Id header and its log span.
        body.entry("request_id")
            .or_insert_with(|| json!(crate::telemetry::request_id()));
        let mut r = (p.status, Value::Object(body).to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM));
        r
    }
}

type ApiResult = Result<Response, Problem>;

fn ok_json(status: StatusCode, body: Value) -> Response {
    ok_bytes(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// A JSON answer already serialized.
fn ok_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Parses a JSON body, requiring the JSON media type.
fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Problem> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(Problem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "LOT-H003",
            "Unsupported media type",
            "Send the body as application/json.".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_body(e.to_string()))
}

fn tenant(slug: &str) -> Result<&'static Tenant, Problem> {
    tenants::find(slug).ok_or_else(|| Problem::not_found("This tenant"))
}

/// The languages a client may ask for.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum LangTag {
    De,
    En,
}

impl From<LangTag> for Lang {
    fn from(t: LangTag) -> Lang {
        match t {
            LangTag::De => Lang::De,
            LangTag::En => Lang::En,
        }
    }
}

/// `lang` may be left out, but not be `null`.
fn present_lang<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<LangTag>, D::Error> {
    LangTag::deserialize(d).map(Some)
}

/// The `lang` query parameter: German by default, `de` or `en`, anything else is refused.
fn lang_query(uri: &axum::http::Uri) -> Result<Lang, Problem> {
    match query_param(uri, "lang").as_deref() {
        None => Ok(Lang::De),
        Some("de") => Ok(Lang::De),
        Some("en") => Ok(Lang::En),
        Some(_) => Err(Problem::new(
            StatusCode::BAD_REQUEST,
            "LOT-H400",
            "Bad request",
            "`lang` is `de` or `en`.".into(),
        )),
    }
}

fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    let q = uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The routes below /api/v1 (state is the portal).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Shared: axum::extract::FromRef<S>,
{
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/tenants", get(list_tenants))
        .route("/tenants/{tenant}/services", get(list_services))
        .route("/tenants/{tenant}/services/{service}", get(get_service))
        .route(
            "/tenants/{tenant}/services/{service}/schema",
            get(service_schema),
        )
        .route(
            "/tenants/{tenant}/services/{service}/applications",
            post(start),
        )
        .route("/tenants/{tenant}/resume", post(resume))
        .route("/tenants/{tenant}/applications/{id}", get(read_application))
        .route(
            "/tenants/{tenant}/applications/{id}/steps/{step}",
            put(answer),
        )
        .route("/tenants/{tenant}/applications/{id}/back", post(back))
        .route("/tenants/{tenant}/applications/{id}/goto", post(goto))
        .route("/tenants/{tenant}/applications/{id}/review", post(review))
        .route("/tenants/{tenant}/applications/{id}/submit", post(submit))
        .route("/tenants/{tenant}/submissions/{id}", get(read_submission))
        .route("/tenants/{tenant}/submissions/{id}/receipt", get(receipt))
        .fallback(|| async { Problem::not_found("This resource") })
}

/// Turns the plain error answers of the outer layers (body too large, timeout, wrong method)
/// into problem+json for API paths.
pub async fn problems_everywhere(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let api = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !api || res.status().is_success() {
        return res;
    }
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM.as_bytes()));
    if is_problem {
        return res;
    }
    let status = res.status();
    let (code, title, detail) = match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "LOT-H413",
            "Request body too large",
            "The body is larger than 256 KiB.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "LOT-H408",
            "Request timeout",
            "The request took longer than 30 seconds.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => (
            "LOT-H405",
            "Method not allowed",
            "This resource does not support this method.",
        ),
        StatusCode::FORBIDDEN => (
            "LOT-H403",
            "Forbidden",
            "Requests from another site are refused.",
        ),
        StatusCode::NOT_FOUND => ("LOT-H001", "Not found", "This resource does not exist."),
        _ => ("LOT-H400", "Bad request", "The request was not understood."),
    };
    let mut out = Problem::new(status, code, title, detail.into()).into_response();
    if let Some(allow) = res.headers().get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

async fn openapi() -> Response {
    let mut r = OPENAPI.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

async fn list_tenants(State(p): State<Shared>) -> Response {
    let defs = p.defs();
    let list: Vec<Value> = tenants::DEMO
        .iter()
        .map(|t| {
            json!({
                "slug": t.slug, "name": t.name, "colour": t.colour,
                "address": t.address, "phone": t.phone,
                "services": defs.catalogues.get(t.slug).map(|c| c.entries().len()).unwrap_or(0),
                "links": {"services": format!("/api/v1/tenants/{}/services", t.slug)},
            })
        })
        .collect();
    ok_json(StatusCode::OK, json!({ "tenants": list }))
}

fn service_summary(t: &Tenant, wf: &Workflow, lang: Lang) -> Value {
    json!({
        "id": wf.id, "version": wf.version,
        "title": wf.title.get(lang),
        "description": wf.description.as_ref().map(|d| d.get(lang)),
        "lebenslagen": wf.lebenslagen, "office": wf.office.get(lang),
        "links": {
            "self": format!("/api/v1/tenants/{}/services/{}", t.slug, wf.id),
            "schema": format!("/api/v1/tenants/{}/services/{}/schema", t.slug, wf.id),
            "start": format!("/api/v1/tenants/{}/services/{}/applications", t.slug, wf.id),
        },
    })
}

async fn list_services(
    State(p): State<Shared>,
    Path(slug): Path<String>,
    uri: axum::http::Uri,
) -> ApiResult {
    let t = tenant(&slug)?;
    let lang = lang_query(&uri)?;
    let defs = p.defs();
    let cat = defs
        .catalogues
        .get(t.slug)
        .ok_or_else(|| Problem::not_found("This tenant"))?;
    let q: String = query_param(&uri, "q")
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    let lage = query_param(&uri, "lebenslage");
    let ids: Vec<String> = if !q.trim().is_empty() {
        cat.search(&q, 50).into_iter().map(|h| h.id).collect()
    } else if let Some(l) = &lage {
        cat.by_lebenslage(l).iter().map(|e| e.id.clone()).collect()
    } else {
        cat.entries().iter().map(|e| e.id.clone()).collect()
    };
    let services: Vec<Value> = ids
        .iter()
        .filter_map(|id| offered(&p, t, id))
        .map(|wf| service_summary(t, &wf, lang))
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        json!({"tenant": t.slug, "query": q, "services": services}),
    ))
}

fn service_of(p: &Shared, t: &Tenant, id: &str) -> Result<Arc<Workflow>, Problem> {
    offered(p, t, id).ok_or_else(|| Problem::not_found("This service"))
}

async fn get_service(
    State(p): State<Shared>,
    Path((slug, service)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    let t = tenant(&slug)?;
    let wf = service_of(&p, t, &service)?;
    let lang = lang_query(&uri)?;
    let mut v = service_summary(t, &wf, lang);
    v["steps"] = json!(
        wf.steps
            .iter()
            .map(|s| json!({"id": s.id, "title": s.title.get(lang)}))
            .collect::<Vec<_>>()
    );
    Ok(ok_json(StatusCode::OK, v))
}

/// The data schema of a workflow version: one JSON Schema (2020-12) document with a property
/// per field, the reusable forms files embedded under `$defs` with their own `$id`, so that
/// every `$ref` resolves inside the document.
async fn service_schema(
    State(p): State<Shared>,
    Path((slug, service)): Path<(String, String)>,
) -> ApiResult {
    let t = tenant(&slug)?;
    let wf = service_of(&p, t, &service)?;
    let defs = p.defs();
    let mut properties = Map::new();
    for f in wf.fields() {
        let mut s = f.schema.clone();
        if let Value::Object(o) = &mut s {
            o.entry("title").or_insert_with(|| json!(f.label.german()));
        }
        properties.insert(f.id.clone(), s);
    }
    let mut embedded = Map::new();
    for name in defs.library.forms.names() {
        let Some(schema) = defs.library.forms.get(name) else {
            continue;
        };
        let mut s = schema.clone();
        if let Value::Object(o) = &mut s {
            o.insert(
                "$id".into(),
                json!(format!("{}{name}", lotse_core::form::BASE_URI)),
            );
        }
        embedded.insert(name.to_string(), s);
    }
    let doc = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("{}{}-{}.json", lotse_core::form::BASE_URI, wf.id, wf.version),
        "title": wf.title.german(),
        "type": "object",
        "properties": properties,
        "$defs": embedded,
        "x-lotse-steps": wf.steps.iter().map(|s| json!({
            "id": s.id, "fields": s.fields.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    });
    let mut r = ok_json(StatusCode::OK, doc);
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/schema+json"),
    );
    Ok(r)
}

fn required_of(f: &Field) -> Value {
    match &f.required {
        Required::Always => json!("always"),
        Required::Never => json!("never"),
        Required::When(e) => json!({"when": e.source()}),
    }
}

/// A field as a front end needs it: label, help, widget, the schema its value must meet, and
/// the conditions under which it is required or shown.
fn field_json(f: &Field, lang: Lang) -> Value {
    let widget = serde_json::to_value(f.widget).unwrap_or(Value::Null);
    let mut v = json!({
        "id": f.id, "label": f.label.get(lang),
        "help": f.help.as_ref().map(|h| h.get(lang)),
        "widget": widget,
        "type": f.value_type,
        "required": required_of(f),
        "visible_if": f.visible_if.as_ref().map(|e| e.source()),
        "autocomplete": f.autocomplete,
        "placeholder": f.placeholder.as_ref().map(|p| p.get(lang)),
        "schema": f.schema,
    });
    if !f.options.is_empty() {
        v["options"] = json!(
            f.options
                .iter()
                .map(|o| json!({"value": o.value, "label": o.label.get(lang)}))
                .collect::<Vec<_>>()
        );
    }
    if f.widget == Widget::Group {
        v["fields"] = json!(
            f.subfields
                .iter()
                .map(|s| field_json(s, lang))
                .collect::<Vec<_>>()
        );
    }
    if let Some(r) = &f.repeat {
        v["repeat"] = json!({"min": r.min, "max": r.max});
    }
    v
}

fn errors_json(errors: &[FieldError]) -> Value {
    json!(
        errors
            .iter()
            .map(|e| json!({"pointer": e.pointer, "field": e.field, "kind": e.kind, "message": e.message}))
            .collect::<Vec<_>>()
    )
}

/// Each step's fields as the API shows them, serialized once per workflow content, step and
/// language: they are the largest part of every answer and never change for one content hash
/// (which covers the tenant's override too).
/// The fields of `step` as the API shows them, from the definitions' cache.
fn step_fields(
    defs: &Defs,
    wf: &Workflow,
    step: &lotse_core::definition::Step,
    lang: Lang,
) -> Arc<RawValue> {
    let key = format!("{}/{}/{}", wf.content_hash, step.id, lang.tag());
    defs.api_fields.get_or_build(key, || {
        let fields: Vec<Value> = step.fields.iter().map(|f| field_json(f, lang)).collect();
        serde_json::value::to_raw_value(&fields)
            .map(Arc::from)
            .unwrap_or_else(|_| Arc::from(empty_list()))
    })
}

fn empty_list() -> Box<RawValue> {
    RawValue::from_string("[]".into()).unwrap_or_default()
}

#[derive(Serialize)]
struct StateOut<'a> {
    id: String,
    tenant: &'a str,
    service: &'a str,
    version: u32,
    lang: &'static str,
    revision: u64,
    resume_code: String,
    expires: String,
    progress: Progress,
    route: &'a [String],
    answers: &'a std::collections::BTreeMap<String, Value>,
    links: StateLinks,
    position: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    can_go_back: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<StepOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<ReviewView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    computed: Option<std::collections::BTreeMap<String, Value>>,
    /// What was typed on the current step and not accepted, with its errors (as after the
    /// answer that was refused), so that a client shows it again after a reload.
    #[serde(skip_serializing_if = "Option::is_none")]
    pending: Option<PendingOut>,
}

#[derive(Serialize)]
struct PendingOut {
    values: Map<String, Value>,
    errors: Value,
}

#[derive(Serialize)]
struct Progress {
    current: usize,
    total: usize,
}

#[derive(Serialize)]
struct StateLinks {
    #[serde(rename = "self")]
    this: String,
    schema: String,
}

#[derive(Serialize)]
struct StepOut<'a> {
    id: &'a str,
    title: &'a str,
    help: Option<&'a str>,
    #[serde(serialize_with = "shared_raw")]
    fields: Arc<RawValue>,
    links: StepLinks,
}

fn shared_raw<S: serde::Serializer>(v: &Arc<RawValue>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

#[derive(Serialize)]
struct StepLinks {
    answer: String,
}

/// The state of an application as the API shows it, serialized.
fn state_json(p: &Shared, t: &Tenant, open: &OpenDraft) -> Vec<u8> {
    let (draft, app, wf) = (&open.draft, &open.app, &*open.wf);
    let lang = app.lang;
    let base = format!("/api/v1/tenants/{}/applications/{}", t.slug, draft.id);
    let (current, total) = app.progress();
    let mut out = StateOut {
        id: draft.id.to_string(),
        tenant: t.slug,
        service: &wf.id,
        version: wf.version,
        lang: lang.tag(),
        revision: draft.revision,
        resume_code: draft.resume_code.to_string(),
        expires: draft
            .expires
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default(),
        progress: Progress { current, total },
        route: &app.route,
        answers: &app.answers,
        links: StateLinks {
            schema: format!("/api/v1/tenants/{}/services/{}/schema", t.slug, wf.id),
            this: String::new(),
        },
        position: "submitted",
        can_go_back: None,
        step: None,
        review: None,
        computed: None,
        pending: None,
    };
    match &app.position {
        Position::Step(id) => {
            out.position = "step";
            if let Ok(Some(pending)) = p.service(&p.defs()).pending(open, SystemClock.now()) {
                out.pending = Some(PendingOut {
                    values: pending.values,
                    errors: errors_json(&pending.errors),
                });
            }
            out.can_go_back = Some(app.route.first() != Some(id));
            if let Some(step) = wf.step(id) {
                out.step = Some(StepOut {
                    id: &step.id,
                    title: step.title.get(lang),
                    help: step.help.as_ref().map(|h| h.get(lang)),
                    fields: step_fields(&p.defs(), wf, step, lang),
                    links: StepLinks {
                        answer: format!("{base}/steps/{}", step.id),
                    },
                });
            }
        }
        Position::Review => {
            out.position = "review";
            out.can_go_back = Some(true);
            let computed = app
                .computed(wf, &p.sandbox, SystemClock.now().date())
                .unwrap_or_default();
            out.review = Some(ReviewView::build(
                wf,
                &app.route,
                &app.answers,
                &computed,
                lang,
            ));
            out.computed = Some(computed);
        }
        Position::Submitted => {}
    }
    out.links.this = base;
    serde_json::to_vec(&out).unwrap_or_default()
}

/// An open application of this tenant, or a problem.
async fn open(p: &Shared, t: &'static Tenant, id: &str) -> Result<OpenDraft, Problem> {
    match open_draft(p, t, id).await {
        Ok(Some(Opened::Open(open))) => Ok(*open),
        Ok(Some(Opened::Submitted(sid))) => Err(already_submitted(t, &sid)),
        Ok(None) => Err(Problem::not_found("This application")),
        Err(e) => Err(service_problem(&e)),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct StartBody {
    #[serde(default, deserialize_with = "present_lang")]
    lang: Option<LangTag>,
}

async fn start(
    State(p): State<Shared>,
    Path((slug, service)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let wf = service_of(&p, t, &service)?;
    let b: StartBody = if bytes.is_empty() {
        StartBody::default()
    } else {
        body(&headers, &bytes)?
    };
    let lang = b.lang.map(Lang::from).unwrap_or(Lang::De);
    let now = SystemClock.now();
    let open = draft_work(&p, move |p2| {
        p2.service(&p2.defs()).start(t, &wf, lang, now)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
    .map_err(|e| service_problem(&e))?;
    bump(&p.metrics.drafts_started);
    let v = state_json(&p, t, &open);
    let draft = &open.draft;
    let mut r = ok_bytes(StatusCode::CREATED, v);
    if let Ok(loc) = HeaderValue::from_str(&format!(
        "/api/v1/tenants/{}/applications/{}",
        t.slug, draft.id
    )) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    Ok(r)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResumeBody {
    code: String,
}

async fn resume(
    State(p): State<Shared>,
    Path(slug): Path<String>,
    axum::Extension(client): axum::Extension<ClientKey>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: ResumeBody = body(&headers, &bytes)?;
    let now = SystemClock.now();
    let p2 = p.clone();
    let found = tokio::task::spawn_blocking(move || {
        resume_draft(&p2.store, &*p2.limiter, &client.0, &b.code, now)
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    match found {
        Ok(d) if d.tenant.slug() == t.slug => {
            let open = open(&p, t, &d.id.to_string()).await?;
            Ok(ok_bytes(StatusCode::OK, state_json(&p, t, &open)))
        }
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "LOT-H007",
            "Unknown resume code",
            "No application of this tenant has this code.".into(),
        )),
        Err(StoreError::RateLimited { .. }) => Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "LOT-H008",
            "Too many attempts",
            "Too many wrong codes from this client; wait 15 minutes.".into(),
        )),
        Err(e) => Err(Problem::internal(&e)),
    }
}

async fn read_application(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
) -> ApiResult {
    let t = tenant(&slug)?;
    let open = open(&p, t, &id).await?;
    Ok(ok_bytes(StatusCode::OK, state_json(&p, t, &open)))
}

/// A revision: a non-negative whole number (`3` or `3.0`; JSON does not tell them apart).
fn revision<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let n = serde_json::Number::deserialize(d)?;
    if let Some(u) = n.as_u64() {
        return Ok(u);
    }
    match n.as_f64() {
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 9.3e18 => Ok(f as u64),
        _ => Err(serde::de::Error::custom(format!(
            "revision must be a whole number from 0, not {n}"
        ))),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerBody {
    #[serde(deserialize_with = "revision")]
    revision: u64,
    values: Map<String, Value>,
    #[serde(default)]
    then_review: bool,
    #[serde(default, deserialize_with = "present_lang")]
    lang: Option<LangTag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RevisionBody {
    #[serde(deserialize_with = "revision")]
    revision: u64,
    #[serde(default, deserialize_with = "present_lang")]
    lang: Option<LangTag>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GotoBody {
    #[serde(deserialize_with = "revision")]
    revision: u64,
    step: String,
}

/// Applies a command to an open application at the given revision through the application
/// service, and answers with the new state or a problem.
async fn run(
    p: &Shared,
    t: &'static Tenant,
    id: &str,
    revision: u64,
    lang: Option<LangTag>,
    command: Command,
) -> ApiResult {
    let acted = act(p, t, id, revision, lang.map(Lang::from), command)
        .await
        .map_err(|e| service_problem(&e))?
        .ok_or_else(|| Problem::not_found("This application"))?;
    match acted {
        Acted::Saved(open) => Ok(ok_bytes(StatusCode::OK, state_json(p, t, &open))),
        Acted::Rejected { open, step, errors } => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "LOT-H010",
            "Answers not accepted",
            format!(
                "{} answer(s) on step \"{step}\" need attention.",
                errors.len()
            ),
        )
        .with("step", json!(step))
        .with("errors", errors_json(&errors))
        .with("revision", json!(open.draft.revision))),
        Acted::Incomplete { open, missing } => Err(Problem::new(
            StatusCode::CONFLICT,
            "LOT-H011",
            "Application incomplete",
            format!("Step \"{missing}\" must be answered first."),
        )
        .with("missing", json!(missing))
        .with("revision", json!(open.draft.revision))),
        Acted::Stale { current } => Err(Problem::stale(current)),
        Acted::AlreadySubmitted { submission } => Err(already_submitted(t, &submission)),
        Acted::Submitted {
            submission,
            repeated,
        } => {
            let status = if repeated {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(submitted_response(t, &submission, status))
        }
    }
}

/// The problem for a service error: a command the engine refuses now is a conflict with its
/// engine code; everything else is internal (logged with a request id).
fn service_problem(e: &ServiceError) -> Problem {
    use lotse_core::application::ApplyError;
    match e {
        ServiceError::Apply(ApplyError::Script { .. })
        | ServiceError::Apply(ApplyError::WrongWorkflow { .. }) => Problem::internal(e),
        ServiceError::Apply(other) => Problem::new(
            StatusCode::CONFLICT,
            "LOT-H005",
            "Not possible now",
            other.to_string(),
        )
        .with("engine_code", json!(other.code())),
        _ => Problem::internal(e),
    }
}

fn already_submitted(t: &Tenant, sid: &SubmissionId) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "LOT-H006",
        "Already submitted",
        "This application was submitted; it can no longer be changed.".into(),
    )
    .with(
        "submission",
        json!(format!("/api/v1/tenants/{}/submissions/{sid}", t.slug)),
    )
}

fn submitted_response(t: &Tenant, s: &lotse_store::Submission, status: StatusCode) -> Response {
    let base = format!("/api/v1/tenants/{}/submissions/{}", t.slug, s.id);
    let mut r = ok_json(
        status,
        json!({
            "id": s.id.to_string(),
            "reference": s.reference.to_string(),
            "service": s.workflow_id,
            "submitted": s.submitted.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "started": s.data.get("started_at"),
            "links": {"self": base, "receipt": format!("{base}/receipt"), "status_page": format!("/{}/eingang/{}", t.slug, s.id)},
        }),
    );
    if let Ok(loc) = HeaderValue::from_str(&base) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

async fn answer(
    State(p): State<Shared>,
    Path((slug, id, step)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: AnswerBody = body(&headers, &bytes)?;
    let then_review = b.then_review;
    let values = b.values;
    let command = Command::Answer {
        step,
        values,
        then_review,
    };
    run(&p, t, &id, b.revision, b.lang, command).await
}

async fn back(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: RevisionBody = body(&headers, &bytes)?;
    run(&p, t, &id, b.revision, b.lang, Command::Back).await
}

async fn goto(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: GotoBody = body(&headers, &bytes)?;
    let step = b.step;
    run(&p, t, &id, b.revision, None, Command::Goto { step }).await
}

async fn review(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: RevisionBody = body(&headers, &bytes)?;
    run(&p, t, &id, b.revision, b.lang, Command::Review).await
}

async fn submit(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let t = tenant(&slug)?;
    let b: RevisionBody = body(&headers, &bytes)?;
    run(&p, t, &id, b.revision, b.lang, Command::Submit).await
}

#[derive(Serialize)]
struct HistoryEntry {
    status: Value,
    label: &'static str,
    at: String,
    note: Option<String>,
}

async fn read_submission(
    State(p): State<Shared>,
    Path((slug, id)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    let t = tenant(&slug)?;
    let lang = lang_query(&uri)?;
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return Err(Problem::not_found("This submission"));
    };
    let p2 = p.clone();
    let slug = t.slug;
    let found = blocking(move || -> Result<Option<_>, StoreError> {
        let Some(s) = p2
            .store
            .submission(&sid)?
            .filter(|s| s.tenant.slug() == slug)
        else {
            return Ok(None);
        };
        let history = p2.store.status_history(&sid)?;
        let messages = p2.store.messages(&sid)?;
        Ok(Some((s, history, messages)))
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    let Some((s, history, messages)) = found else {
        return Err(Problem::not_found("This submission"));
    };
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default()
    };
    let label = |st: lotse_store::Status| {
        if lang == Lang::En {
            st.label_en()
        } else {
            st.label_de()
        }
    };
    let history: Vec<HistoryEntry> = history
        .iter()
        .map(|c| HistoryEntry {
            status: serde_json::to_value(c.status).unwrap_or(Value::Null),
            label: label(c.status),
            at: fmt(c.at),
            note: c.note.clone(),
        })
        .collect();
    let current = history
        .last()
        .map(|h| json!({"status": h.status, "label": h.label}));
    let messages: Vec<Value> = messages
        .iter()
        .map(|m| serde_json::to_value(m).unwrap_or(Value::Null))
        .collect();
    let base = format!("/api/v1/tenants/{}/submissions/{}", t.slug, s.id);
    Ok(ok_json(
        StatusCode::OK,
        json!({
            "id": s.id.to_string(), "reference": s.reference.to_string(),
            "service": s.workflow_id, "submitted": fmt(s.submitted),
            "current": current, "history": history, "messages": messages,
            "links": {"self": base, "receipt": format!("{base}/receipt")},
        }),
    ))
}

async fn receipt(State(p): State<Shared>, Path((slug, id)): Path<(String, String)>) -> ApiResult {
    let t = tenant(&slug)?;
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return Err(Problem::not_found("This submission"));
    };
    let p2 = p.clone();
    let slug = t.slug;
    match blocking(move || p2.service(&p2.defs()).receipt_of(slug, &sid))
        .await
        .map_err(|e| Problem::internal(&e))?
    {
        Some((reference, pdf)) => Ok(pdf_download(&reference, pdf)),
        None => Err(Problem::not_found("This submission")),
    }
}
