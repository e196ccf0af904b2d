//! Problem documents (RFC 9457) with stable codes, JSON bodies and the small parsers every
//! endpoint shares (bodies, tenants, languages).

use super::*;
#[allow(unused_imports)]
use std::sync::Arc;

/// The media type of errors (RFC 9457).
pub(super) const PROBLEM: &str = "application/problem+json";

/// An error of the citizen API (RFC 9457), as [`Problem`]'s `IntoResponse` writes it: the keys
/// every problem has and the ones some codes add. Only the document uses this type; the tests
/// check real problems against it.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(
    as = Problem,
    description = "An error of the citizen API (RFC 9457, `application/problem+json`): the keys every problem has, and the ones some codes add."
)]
pub(super) struct ProblemDoc {
    /// `/probleme/{code}`: a page of this portal that explains the code (German; `?lang=en`
    /// for English).
    #[schema(format = "uri-reference")]
    r#type: String,
    /// The code's short title, in the request's language.
    title: String,
    status: u16,
    #[schema(schema_with = citizen_codes)]
    code: String,
    /// What happened, in the request's language (`?lang=` or Accept-Language; German by
    /// default).
    detail: String,
    /// With LOT-H004/LOT-H010: the current revision.
    revision: Option<u64>,
    /// With LOT-H001 (unknown step), LOT-H010 and LOT-H012: the step.
    step: Option<String>,
    /// With LOT-H011: the first step still to answer.
    missing: Option<String>,
    /// With LOT-H005 and LOT-H012: the engine's code (LOT-A…, docs/errors.md).
    engine_code: Option<String>,
    /// With LOT-H006: the submission's address.
    submission: Option<String>,
    /// The request's id, as in its X-Request-Id header and its log line.
    request_id: Option<String>,
    /// With LOT-H010: every answer not accepted.
    errors: Option<Vec<FieldErrorOut>>,
    /// With LOT-H012: the fields the step does not have.
    fields: Option<Vec<String>>,
    /// With LOT-H012, for the fields the workflow knows something about: the step that asks
    /// it, or a field of this step whose id is close.
    hints: Option<Vec<FieldHintDoc>>,
    /// With LOT-H001 on a services list: the unknown Lebenslage.
    lebenslage: Option<String>,
}

/// A hint of LOT-H012: `field` and either `asked_on` or `did_you_mean`.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = FieldHint)]
pub(super) struct FieldHintDoc {
    /// A field the step does not have, as sent.
    field: String,
    /// The step that asks it.
    asked_on: Option<String>,
    /// The field of this step whose id is close (one or two letters off).
    did_you_mean: Option<String>,
}

/// The `code` of a citizen API problem: every code of [`crate::http::codes::CODES`].
fn citizen_codes() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .pattern(Some("^LOT-H[0-9]{3}$"))
        .enum_values(Some(crate::http::codes::CODES.iter().map(|c| c.code)))
        .description(Some(
            "The stable code (docs/errors.md); `type` leads to its explanation.",
        ))
        .build()
}

/// An error answer: status, stable code, details for the developer in German and English
/// (the request's language picks one: `?lang=` or Accept-Language), and for rejected answers the
/// field errors. The title comes from the code's entry in [`super::codes`].
#[derive(Debug)]
pub struct Problem(Box<ProblemBody>);

#[derive(Debug)]
pub(super) struct ProblemBody {
    status: StatusCode,
    code: &'static str,
    detail_de: String,
    detail_en: String,
    extra: Map<String, Value>,
}

tokio::task_local! {
    /// The language a problem's title and detail are written in, for the request being answered.
    static PROBLEM_LANG: Lang;
}

/// The language of problems for this request: `?lang=de|en` first, then the best of `de` and
/// `en` in Accept-Language, German by default.
pub fn problem_lang(uri: &axum::http::Uri, headers: &HeaderMap) -> Lang {
    match query_param(uri, "lang").as_deref() {
        Some("en") => return Lang::En,
        Some("de") => return Lang::De,
        _ => {}
    }
    let Some(accept) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return Lang::De;
    };
    let mut best: Option<(f32, Lang)> = None;
    for part in accept.split(',') {
        let mut pieces = part.split(';');
        let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let lang = if tag == "en" || tag.starts_with("en-") {
            Lang::En
        } else if tag == "de" || tag.starts_with("de-") {
            Lang::De
        } else {
            continue;
        };
        if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or(Lang::De)
}

impl Problem {
    /// A problem with its detail in German and English.
    pub(super) fn new(
        status: StatusCode,
        code: &'static str,
        detail_de: String,
        detail_en: String,
    ) -> Self {
        Problem(Box::new(ProblemBody {
            status,
            code,
            detail_de,
            detail_en,
            extra: Map::new(),
        }))
    }

    pub(super) fn with(mut self, key: &str, value: Value) -> Self {
        self.0.extra.insert(key.into(), value);
        self
    }

    /// `what_de` and `what_en` name the thing: "Diese Leistung", "This service".
    pub(super) fn not_found(what_de: &str, what_en: &str) -> Self {
        Problem::new(
            StatusCode::NOT_FOUND,
            "LOT-H001",
            format!("{what_de} gibt es hier nicht (oder nicht mehr)."),
            format!("{what_en} does not exist here (or has expired)."),
        )
    }

    fn bad_body(detail: String) -> Self {
        Problem::new(
            StatusCode::BAD_REQUEST,
            "LOT-H002",
            format!("Der Inhalt der Anfrage ist ungültig: {detail}"),
            format!("The request body is malformed: {detail}"),
        )
    }

    pub(super) fn bad_request(de: &str, en: &str) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, "LOT-H400", de.into(), en.into())
    }

    pub(super) fn stale(current: u64) -> Self {
        Problem::new(
            StatusCode::CONFLICT,
            "LOT-H004",
            format!(
                "Der Antrag wurde geändert, seit Sie ihn gelesen haben (jetzt Stand {current}). Bitte neu lesen und dann wiederholen."
            ),
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
            format!("Bei uns ist etwas schiefgegangen (Anfrage {id}). Nichts ging verloren; bitte später erneut versuchen."),
            format!("Something went wrong on our side (request {id}). Nothing was lost; please retry later."),
        )
        .with("request_id", json!(id))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let p = *self.0;
        let lang = PROBLEM_LANG.try_with(|l| *l).unwrap_or(Lang::De);
        let title = crate::http::codes::problem_code(p.code)
            .map(|c| c.title(lang))
            .unwrap_or(p.code);
        let detail = if lang == Lang::En {
            p.detail_en
        } else {
            p.detail_de
        };
        let mut body = Map::new();
        body.insert("type".into(), json!(crate::http::codes::type_uri(p.code)));
        body.insert("title".into(), json!(title));
        body.insert("status".into(), json!(p.status.as_u16()));
        body.insert("code".into(), json!(p.code));
        body.insert("detail".into(), json!(detail));
        body.extend(p.extra);
        // The request's id, as in its X-Request-Id header and its log span.
        body.entry("request_id")
            .or_insert_with(|| json!(crate::telemetry::request_id()));
        let mut r = (p.status, Value::Object(body).to_string()).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM));
        r.headers_mut().insert(
            header::CONTENT_LANGUAGE,
            HeaderValue::from_static(lang.tag()),
        );
        r
    }
}

pub(super) type ApiResult = Result<Response, Problem>;

pub(super) fn ok_json(status: StatusCode, body: Value) -> Response {
    ok_bytes(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// A JSON answer of a typed body.
pub(super) fn ok_typed<T: Serialize>(status: StatusCode, body: &T) -> Response {
    ok_bytes(status, serde_json::to_vec(body).unwrap_or_default())
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
            "Bitte den Inhalt als application/json senden.".into(),
            "Send the body as application/json.".into(),
        ));
    }
    // Every body is a JSON object; serde would also fill a struct from an array (`[]`).
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(Problem::bad_body("the body must be a JSON object".into()));
    }
    serde_json::from_slice(bytes).map_err(|e| Problem::bad_body(e.to_string()))
}

/// A language: `de` or `en`.
#[derive(Deserialize, Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
#[schema(as = Lang)]
pub(super) enum LangTag {
    De,
    En,
}

impl From<Lang> for LangTag {
    fn from(l: Lang) -> LangTag {
        if l == Lang::En {
            LangTag::En
        } else {
            LangTag::De
        }
    }
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
        Some(_) => Err(Problem::bad_request(
            "`lang` ist `de` oder `en`.",
            "`lang` is `de` or `en`.",
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
pub async fn problems_everywhere<F, Fut>(req: axum::extract::Request, inner: F) -> Response
where
    F: FnOnce(axum::extract::Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let api = req.uri().path().starts_with("/api/");
    if !api {
        return inner(req).await;
    }
    let lang = problem_lang(req.uri(), req.headers());
    PROBLEM_LANG
        .scope(lang, async move {
            let res = inner(req).await;
            if res.status().is_success() {
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
            let (code, de, en) = match status {
                StatusCode::PAYLOAD_TOO_LARGE => (
                    "LOT-H413",
                    "Der Inhalt ist größer als 256 KiB.",
                    "The body is larger than 256 KiB.",
                ),
                StatusCode::REQUEST_TIMEOUT => (
                    "LOT-H408",
                    "Die Anfrage dauerte länger als 30 Sekunden.",
                    "The request took longer than 30 seconds.",
                ),
                StatusCode::METHOD_NOT_ALLOWED => (
                    "LOT-H405",
                    "Diese Methode gibt es für diese Adresse nicht.",
                    "This resource does not support this method.",
                ),
                StatusCode::FORBIDDEN => (
                    "LOT-H403",
                    "Anfragen von einer anderen Website werden abgewiesen.",
                    "Requests from another site are refused.",
                ),
                StatusCode::NOT_FOUND => (
                    "LOT-H001",
                    "Diese Adresse gibt es nicht.",
                    "This resource does not exist.",
                ),
                _ => (
                    "LOT-H400",
                    "Die Anfrage wurde nicht verstanden.",
                    "The request was not understood.",
                ),
            };
            let mut out = Problem::new(status, code, de.into(), en.into()).into_response();
            for h in [header::ALLOW, header::VARY] {
                if let Some(v) = res.headers().get(&h) {
                    out.headers_mut().insert(h, v.clone());
                }
            }
            // CORS answers keep their headers, so that a browser can read the problem.
            for (name, value) in res.headers() {
                if name.as_str().starts_with("access-control-") {
                    out.headers_mut().insert(name.clone(), value.clone());
                }
            }
            out
        })
        .await
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
            .ok_or_else(|| Problem::not_found("Diese Behörde", "This tenant"))
    }
}
