//! Problem documents (RFC 9457) with stable codes, JSON bodies and the small parsers every
//! endpoint shares (bodies, tenants, languages).

use super::*;
#[allow(unused_imports)]
use std::sync::Arc;

/// The media type of errors (RFC 9457).
pub(super) const PROBLEM: &str = "application/problem+json";

/// An error answer: status, stable code, a short title, details for the developer, and for
/// rejected answers the field errors.
#[derive(Debug)]
pub struct Problem(Box<ProblemBody>);

#[derive(Debug)]
pub(super) struct ProblemBody {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    extra: Map<String, Value>,
}

impl Problem {
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        title: &'static str,
        detail: String,
    ) -> Self {
        Problem(Box::new(ProblemBody {
            status,
            code,
            title,
            detail,
            extra: Map::new(),
        }))
    }

    pub(super) fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.into(), value);
        self
    }

    pub(super) fn not_found(what: &str) -> Self {
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

    pub(super) fn stale(current: u64) -> Self {
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

    pub(super) fn internal(cause: &dyn std::fmt::Display) -> Self {
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

pub(super) type ApiResult = Result<Response, Problem>;

pub(super) fn ok_json(status: StatusCode, body: Value) -> Response {
    ok_bytes(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// A JSON answer already serialized.
pub(super) fn ok_bytes(status: StatusCode, body: Vec<u8>) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// Parses a JSON body, requiring the JSON media type.
pub(super) fn body<T: DeserializeOwned>(headers: &HeaderMap, bytes: &Bytes) -> Result<T, Problem> {
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
    // Every body is a JSON object; serde would also fill a struct from an array (`[]`).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::bad_body("the body must be a JSON object".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_body(e.to_string()))
}

/// The languages a client may ask for.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
pub(super) enum LangTag {
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
pub(super) fn present_lang<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<LangTag>, D::Error> {
    LangTag::deserialize(d).map(Some)
}

/// The `lang` query parameter: German by default, `de` or `en`, anything else is refused.
pub(super) fn lang_query(uri: &axum::http::Uri) -> Result<Lang, Problem> {
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

pub(super) fn query_param(uri: &axum::http::Uri, name: &str) -> Option<String> {
    let q = uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(q)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
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

/// The tenant named by the route's `{tenant}` segment, for the JSON API: an unknown one is a
/// LOT-H001 problem before the handler runs.
pub struct ApiTenant(pub Arc<Tenant>);

impl<S> axum::extract::FromRequestParts<S> for ApiTenant
where
    S: Send + Sync,
    crate::state::Shared: axum::extract::FromRef<S>,
{
    type Rejection = Problem;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let p = <crate::state::Shared as axum::extract::FromRef<S>>::from_ref(state);
        crate::http::extractors::route_tenant(parts, state, &p)
            .await
            .map(ApiTenant)
            .ok_or_else(|| Problem::not_found("This tenant"))
    }
}
