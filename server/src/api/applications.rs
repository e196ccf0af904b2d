//! Applications: start, resume, read, answer, go back or to a step, review, submit; and the
//! submission's status and receipt. Every command goes through the application service.

use super::*;
#[allow(unused_imports)]
use std::sync::Arc;

/// An open application of this tenant, or a problem.
pub(super) async fn open(p: &Shared, t: Arc<Tenant>, id: &str) -> Result<OpenDraft, Problem> {
    match open_draft(p, t.clone(), id).await {
        Ok(Some(Opened::Open(open))) => Ok(*open),
        Ok(Some(Opened::Submitted(sid))) => Err(already_submitted(&t, &sid)),
        Ok(Some(Opened::Paying(pid))) => Err(awaiting_payment(&t, &pid)),
        Ok(None) => Err(Problem::not_found("Diesen Antrag", "This application")),
        Err(e) => Err(service_problem(&e)),
    }
}

/// A command on an application that was sent and waits for its payment.
pub(super) fn awaiting_payment(t: &Tenant, pid: &lotse_store::PaymentId) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "LOT-H022",
        "Dieser Antrag ist abgeschickt und wartet auf die Zahlung.".into(),
        "This application was sent and waits for its payment.".into(),
    )
    .with(
        "payment",
        json!(format!("/api/v1/tenants/{}/payments/{pid}", t.slug)),
    )
}

/// Starting an application (the body may be left out).
#[derive(Deserialize, Default, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct StartBody {
    #[serde(default, deserialize_with = "present_lang")]
    #[schema(schema_with = body_lang)]
    lang: Option<LangTag>,
}

pub(super) async fn start(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, service)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let wf = service_of(&p, &t, &service)?;
    // `login: required`: only signed-in citizens, through the portal's pages (docs/login.md).
    if wf.login == lotse_core::login::LoginMode::Required {
        return Err(Problem::not_found("Diese Leistung", "This service"));
    }
    let b: StartBody = if bytes.is_empty() {
        StartBody::default()
    } else {
        body(&headers, &bytes)?
    };
    let lang = b.lang.map(Lang::from).unwrap_or(Lang::De);
    let now = p.now();
    let tc = t.clone();
    let open = draft_work(&p, move |p2| {
        p2.service(&p2.defs()).start(&tc, &wf, lang, now)
    })
    .await
    .map_err(|e| Problem::internal(&e))?
    .map_err(|e| service_problem(&e))?;
    bump(&p.metrics.drafts_started);
    let v = state_json(&p, &t, &open);
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

/// Resuming an application on another device.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ResumeBody {
    /// The resume code shown to the citizen, e.g. `K7QX-2M9D-8TFA-WN3E`.
    code: String,
}

pub(super) async fn resume(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    axum::Extension(client): axum::Extension<ClientKey>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: ResumeBody = body(&headers, &bytes)?;
    let now = p.now();
    let p2 = p.clone();
    let found = crate::telemetry::spawn_blocking(move || {
        resume_draft(&p2.store, &*p2.limiter, &client.0, &b.code, now)
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    match found {
        Ok(d) if d.tenant.slug() == t.slug => {
            let open = open(&p, t.clone(), &d.id.to_string()).await?;
            Ok(ok_bytes(StatusCode::OK, state_json(&p, &t, &open)))
        }
        Ok(_) | Err(StoreError::NotFound { .. }) => Err(Problem::new(
            StatusCode::NOT_FOUND,
            "LOT-H007",
            "Kein Antrag dieser Behörde hat diesen Code.".into(),
            "No application of this tenant has this code.".into(),
        )),
        Err(StoreError::RateLimited { .. }) => Err(Problem::new(
            StatusCode::TOO_MANY_REQUESTS,
            "LOT-H008",
            "Zu viele falsche Codes von diesem Gerät; bitte 15 Minuten warten.".into(),
            "Too many wrong codes from this client; wait 15 minutes.".into(),
        )),
        Err(e) => Err(Problem::internal(&e)),
    }
}

/// An open application's state; a submitted one answers with position `submitted` and the
/// links of its submission.
pub(super) async fn read_application(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    match open_draft(&p, t.clone(), &id).await {
        Ok(Some(Opened::Open(open))) => Ok(ok_bytes(StatusCode::OK, state_json(&p, &t, &open))),
        Ok(Some(Opened::Submitted(sid))) => submitted_state(&p, &t, &id, sid).await,
        Ok(Some(Opened::Paying(pid))) => {
            paying_application(&p, t.clone(), &id, pid, None, StatusCode::OK).await
        }
        Ok(None) => Err(Problem::not_found("Diesen Antrag", "This application")),
        Err(e) => Err(service_problem(&e)),
    }
}

/// The state of a submitted application: no step, no answers (they are in the receipt), the
/// submission and its links.
async fn submitted_state(p: &Shared, t: &Tenant, id: &str, sid: SubmissionId) -> ApiResult {
    let p2 = p.clone();
    let slug = t.slug.clone();
    let found = blocking(move || p2.store.submission(&sid))
        .await
        .map_err(|e| Problem::internal(&e))?
        .filter(|s| s.tenant.slug() == slug)
        .ok_or_else(|| Problem::not_found("Diesen Antrag", "This application"))?;
    let base = format!("/api/v1/tenants/{}/submissions/{}", t.slug, found.id);
    let out = StateOut {
        id: id.to_string(),
        tenant: &t.slug,
        service: &found.workflow_id,
        version: None,
        lang: None,
        revision: None,
        resume_code: None,
        expires: None,
        progress: None,
        route: None,
        answers: None,
        links: Links {
            this: Some(format!("/api/v1/tenants/{}/applications/{id}", t.slug)),
            receipt: Some(format!("{base}/receipt")),
            status_page: Some(format!("/{}/eingang/{}", t.slug, found.id)),
            submission: Some(base),
            ..Links::default()
        },
        position: PositionOut::Submitted,
        can_go_back: None,
        step: None,
        review: None,
        computed: None,
        sepa_mandate: None,
        pending: None,
        submission: Some(SubmissionRef {
            id: found.id.to_string(),
            reference: found.reference.to_string(),
            submitted: rfc3339(found.submitted),
        }),
    };
    Ok(ok_typed(StatusCode::OK, &out))
}

/// A time as the API writes it (RFC 3339).
pub(super) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// A body's `lang`: `de` or `en` (not null), from now on.
fn body_lang() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(
            [LangTag::De, LangTag::En].map(|l| Lang::from(l).tag()),
        ))
        .description(Some("Language of labels and messages from now on."))
        .build()
}

/// A revision: a non-negative whole number (`3` or `3.0`; JSON does not tell them apart).
pub(super) fn revision<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
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

/// The answers to one step.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AnswerBody {
    /// The revision the client last read; a stale one gives 409.
    #[serde(deserialize_with = "revision")]
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    revision: u64,
    /// The step's answers by field id; see the step's fields and the service schema.
    #[schema(value_type = Object)]
    values: Map<String, Value>,
    /// Go back to the review afterwards if the application is complete (the 'Ändern' link).
    #[serde(default)]
    then_review: bool,
    #[serde(default, deserialize_with = "present_lang")]
    #[schema(schema_with = body_lang)]
    lang: Option<LangTag>,
}

/// A command that changes only the position (back, review): the revision read last.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct RevisionBody {
    /// The revision the client last read; a stale one gives 409.
    #[serde(deserialize_with = "revision")]
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    revision: u64,
    #[serde(default, deserialize_with = "present_lang")]
    #[schema(schema_with = body_lang)]
    lang: Option<LangTag>,
}

/// A submit: the revision, and the statements of the workflow's declaration the citizen
/// ticked (`declaration` of the service; all are needed).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SubmitBody {
    /// The revision the client last read; a stale one gives 409.
    #[serde(deserialize_with = "revision")]
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    revision: u64,
    #[serde(default, deserialize_with = "present_lang")]
    #[schema(schema_with = body_lang)]
    lang: Option<LangTag>,
    /// The ids of the statements of the service's `declaration` the citizen ticked; every one
    /// is needed, or the submit is refused with 422 (errors at `/declaration/{id}`).
    #[serde(default)]
    declaration: Vec<String>,
}

/// Going to an answered step (the review's 'Ändern').
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct GotoBody {
    /// The revision the client last read; a stale one gives 409.
    #[serde(deserialize_with = "revision")]
    #[schema(minimum = 0, maximum = 9223372036854775807_i64)]
    revision: u64,
    /// An answered step on the route.
    step: String,
}

/// Applies a command to an open application at the given revision through the application
/// service, and answers with the new state or a problem.
pub(super) async fn run(
    p: &Shared,
    t: Arc<Tenant>,
    id: &str,
    revision: u64,
    lang: Option<LangTag>,
    command: Command,
) -> ApiResult {
    let acted = match act(p, t.clone(), id, revision, lang.map(Lang::from), command).await {
        Ok(Some(acted)) => acted,
        Ok(None) => return Err(Problem::not_found("Diesen Antrag", "This application")),
        Err(ServiceError::Apply(ApplyError::NotOnRoute(step)))
            if !step_exists(p, t.clone(), id, &step).await =>
        {
            return Err(Problem::not_found("Diesen Schritt", "This step").with("step", json!(step)));
        }
        Err(ServiceError::Apply(ApplyError::UnknownFields(step, fields))) => {
            let hints = field_hints(p, t.clone(), id, &step, &fields).await;
            return Err(unknown_fields(&step, &fields, &hints));
        }
        Err(e) => return Err(service_problem(&e)),
    };
    match acted {
        Acted::Saved(open) => Ok(ok_bytes(StatusCode::OK, state_json(p, &t, &open))),
        Acted::Rejected { open, step, errors } => Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "LOT-H010",
            format!(
                "{} Antwort(en) auf Schritt „{step}“ brauchen Ihre Aufmerksamkeit.",
                errors.len()
            ),
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
            format!("Schritt „{missing}“ muss zuerst beantwortet werden."),
            format!("Step \"{missing}\" must be answered first."),
        )
        .with("missing", json!(missing))
        .with("revision", json!(open.draft.revision))),
        Acted::Stale { current } => Err(Problem::stale(current)),
        Acted::AlreadySubmitted { submission } => Err(already_submitted(&t, &submission)),
        Acted::Submitted {
            submission,
            repeated,
        } => {
            let status = if repeated {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok(submitted_response(&t, &submission, status))
        }
        // Sent and kept as "payment pending": 202, with the payment and its pay page.
        Acted::PaymentRequired { payment, pay_url } => {
            paying_application(
                p,
                t.clone(),
                id,
                payment,
                pay_url.as_deref(),
                StatusCode::ACCEPTED,
            )
            .await
        }
    }
}

/// The problem for a service error: a command the engine refuses now is a conflict with its
/// engine code; everything else is internal (logged with a request id).
pub(super) fn service_problem(e: &ServiceError) -> Problem {
    match e {
        ServiceError::Apply(ApplyError::UnknownFields(step, fields)) => {
            unknown_fields(step, fields, &[])
        }
        ServiceError::Apply(refused) if e.is_refusal() => Problem::new(
            StatusCode::CONFLICT,
            "LOT-H005",
            format!("Das ist jetzt nicht möglich ({}).", refused.code()),
            refused.to_string(),
        )
        .with("engine_code", json!(refused.code())),
        _ => Problem::internal(e),
    }
}

/// Whether the application's workflow version has this step (asked only after a refusal, so
/// that an unknown step is a 404 and a known one not reached yet a 409).
/// LOT-H012 for answers to fields `step` does not have (`fields`, comma-separated), with
/// what the workflow suggests for each: the step that asks it, or a field of this step whose
/// id is one or two letters off.
fn unknown_fields(step: &str, fields: &str, hints: &[FieldHint]) -> Problem {
    let said = |de: bool| {
        let parts: Vec<String> = hints
            .iter()
            .map(|h| match (&h.hint, de) {
                (Hint::AskedOn(other), true) => {
                    format!("„{}“ wird auf Schritt „{other}“ gefragt", h.field)
                }
                (Hint::AskedOn(other), false) => {
                    format!("\"{}\" is asked on step \"{other}\"", h.field)
                }
                (Hint::DidYouMean(close), true) => format!("„{}“: meinten Sie „{close}“?", h.field),
                (Hint::DidYouMean(close), false) => {
                    format!("\"{}\": did you mean \"{close}\"?", h.field)
                }
            })
            .collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!(" ({})", parts.join("; "))
        }
    };
    let mut problem = Problem::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "LOT-H012",
        format!(
            "Schritt „{step}“ hat diese Felder nicht: {fields}{}.",
            said(true)
        ),
        format!(
            "Step \"{step}\" has no such fields: {fields}{}.",
            said(false)
        ),
    )
    .with("step", json!(step))
    .with("fields", json!(fields.split(", ").collect::<Vec<_>>()))
    .with("engine_code", json!("LOT-A006"));
    if !hints.is_empty() {
        let hints: Vec<Value> = hints
            .iter()
            .map(|h| match &h.hint {
                Hint::AskedOn(other) => json!({"field": h.field, "asked_on": other}),
                Hint::DidYouMean(close) => json!({"field": h.field, "did_you_mean": close}),
            })
            .collect();
        problem = problem.with("hints", Value::Array(hints));
    }
    problem
}

/// What the application's workflow suggests for the fields `step` does not have.
async fn field_hints(
    p: &Shared,
    t: Arc<Tenant>,
    id: &str,
    step: &str,
    fields: &str,
) -> Vec<FieldHint> {
    match open_draft(p, t, id).await {
        Ok(Some(Opened::Open(open))) => {
            let names: Vec<&str> = fields.split(", ").collect();
            open.wf.unknown_field_hints(step, &names)
        }
        _ => Vec::new(),
    }
}

async fn step_exists(p: &Shared, t: Arc<Tenant>, id: &str, step: &str) -> bool {
    match open_draft(p, t, id).await {
        Ok(Some(Opened::Open(open))) => open.wf.step(step).is_some(),
        _ => true,
    }
}

pub(super) fn already_submitted(t: &Tenant, sid: &SubmissionId) -> Problem {
    Problem::new(
        StatusCode::CONFLICT,
        "LOT-H006",
        "Dieser Antrag wurde eingereicht; er kann nicht mehr geändert werden.".into(),
        "This application was submitted; it can no longer be changed.".into(),
    )
    .with(
        "submission",
        json!(format!("/api/v1/tenants/{}/submissions/{sid}", t.slug)),
    )
}

/// A submission, as the submit answers.
#[derive(Serialize, ToSchema)]
pub(super) struct SubmissionCreated<'a> {
    #[schema(pattern = "^[0-9a-f]{32}$")]
    id: String,
    /// e.g. HEI-2026-000123
    reference: String,
    service: &'a str,
    #[schema(format = DateTime)]
    submitted: String,
    /// When the application was started.
    #[schema(value_type = Option<String>, format = DateTime)]
    started: Option<&'a Value>,
    /// The online payment made before the submission reached the office (state, amount in
    /// cents, method, transaction id, Kassenzeichen), if the service asked for one.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    payment: Option<&'a Value>,
    /// `self`, `receipt`, `status_page`.
    links: Links,
}

pub(super) fn submitted_response(
    t: &Tenant,
    s: &lotse_store::Submission,
    status: StatusCode,
) -> Response {
    let base = format!("/api/v1/tenants/{}/submissions/{}", t.slug, s.id);
    let mut r = ok_typed(
        status,
        &SubmissionCreated {
            id: s.id.to_string(),
            reference: s.reference.to_string(),
            service: &s.workflow_id,
            submitted: rfc3339(s.submitted),
            started: s.data.get("started_at"),
            payment: s.data.get("payment"),
            links: Links {
                this: Some(base.clone()),
                receipt: Some(format!("{base}/receipt")),
                status_page: Some(format!("/{}/eingang/{}", t.slug, s.id)),
                ..Links::default()
            },
        },
    );
    if let Ok(loc) = HeaderValue::from_str(&base) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    r
}

pub(super) async fn answer(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id, step)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: AnswerBody = body(&headers, &bytes)?;
    let then_review = b.then_review;
    let values = b.values;
    let command = Command::Answer {
        step,
        values,
        then_review,
    };
    run(&p, t.clone(), &id, b.revision, b.lang, command).await
}

pub(super) async fn back(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: RevisionBody = body(&headers, &bytes)?;
    run(&p, t.clone(), &id, b.revision, b.lang, Command::Back).await
}

pub(super) async fn goto(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: GotoBody = body(&headers, &bytes)?;
    let step = b.step;
    run(&p, t.clone(), &id, b.revision, None, Command::Goto { step }).await
}

pub(super) async fn review(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: RevisionBody = body(&headers, &bytes)?;
    run(&p, t.clone(), &id, b.revision, b.lang, Command::Review).await
}

pub(super) async fn submit(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: SubmitBody = body(&headers, &bytes)?;
    let submit = Command::Submit {
        declared: b.declaration,
    };
    run(&p, t, &id, b.revision, b.lang, submit).await
}

/// A submission's status, history and messages, as the citizen may see them.
#[derive(Serialize, ToSchema)]
pub(super) struct SubmissionStatus<'a> {
    id: String,
    reference: String,
    service: &'a str,
    #[schema(format = DateTime)]
    submitted: String,
    /// The status now (null before the first entry of the history).
    current: Option<CurrentStatus>,
    history: Vec<HistoryEntry>,
    /// Messages between the office and the citizen about this submission, oldest first.
    messages: Vec<MessageOut>,
    /// The office's reads of this submission (from its audit log), oldest first: what was read
    /// and when, never by whom (as the status page's "Wer hat Ihren Antrag eingesehen?").
    reads: Vec<ReadOut>,
    /// The online payment made before the submission reached the office, if any.
    #[schema(value_type = Option<Object>)]
    #[serde(skip_serializing_if = "Option::is_none")]
    payment: Option<&'a Value>,
    /// `self`, `receipt`.
    links: Links,
}

/// A status with its label in the request's language.
#[derive(Serialize, ToSchema)]
pub(super) struct CurrentStatus {
    #[schema(schema_with = status_codes)]
    status: &'static str,
    label: &'static str,
}

/// One change of a submission's status.
#[derive(Serialize, ToSchema)]
pub(super) struct HistoryEntry {
    #[schema(schema_with = status_codes)]
    status: &'static str,
    label: &'static str,
    #[schema(format = DateTime)]
    at: String,
    note: Option<String>,
}

/// Where a submission stands in the office: the codes of the status model.
fn status_codes() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(lotse_store::Status::ALL.iter().map(|s| s.code())))
        .build()
}

/// One read of a submission by the office.
#[derive(Serialize, ToSchema)]
#[schema(as = OfficeRead)]
pub(super) struct ReadOut {
    /// `page` (its page in the Postkorb), `api` (the office's system fetched it), `receipt`,
    /// `attachment` (one of its files), `link` (a file passed to the office's system) or
    /// `export` (in a data export).
    #[schema(schema_with = read_codes)]
    what: &'static str,
    /// What was read, in the request's language.
    label: &'static str,
    #[schema(format = DateTime)]
    at: String,
}

fn read_codes() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(lotse_store::ReadKind::ALL.iter().map(|r| r.code())))
        .build()
}

/// A message between the office and the citizen.
#[derive(Serialize, ToSchema)]
#[schema(as = Message)]
pub(super) struct MessageOut {
    /// Ascending in the order the store accepted the messages.
    seq: u64,
    submission: String,
    /// Who wrote it: the citizen, or the office (with the staff account).
    #[schema(value_type = Party)]
    from: lotse_store::Party,
    #[schema(format = DateTime)]
    at: String,
    body: String,
}

/// Who wrote a message: `kind` `citizen`, or `office` with the staff `account`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(super) struct Party {
    #[schema(inline)]
    kind: PartyKind,
    account: Option<String>,
}

/// Citizen or office.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(rename_all = "lowercase")]
pub(super) enum PartyKind {
    Citizen,
    Office,
}

pub(super) async fn read_submission(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    let lang = lang_query(&uri)?;
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return Err(Problem::not_found("Diese Einreichung", "This submission"));
    };
    let p2 = p.clone();
    let slug = t.slug.clone();
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
        let reads = crate::service::reads::office_reads(&p2.store, &sid)?;
        Ok(Some((s, history, messages, reads)))
    })
    .await
    .map_err(|e| Problem::internal(&e))?;
    let Some((s, history, messages, reads)) = found else {
        return Err(Problem::not_found("Diese Einreichung", "This submission"));
    };
    let fmt = rfc3339;
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
            status: c.status.code(),
            label: label(c.status),
            at: fmt(c.at),
            note: c.note.clone(),
        })
        .collect();
    let current = history.last().map(|h| CurrentStatus {
        status: h.status,
        label: h.label,
    });
    let messages = messages
        .iter()
        .map(|m| MessageOut {
            seq: m.seq,
            submission: m.submission.to_string(),
            from: m.from.clone(),
            at: fmt(m.at),
            body: m.body.clone(),
        })
        .collect();
    let reads = reads
        .iter()
        .map(|r| ReadOut {
            what: r.what.code(),
            label: crate::service::reads::label(r.what, lang),
            at: fmt(r.at),
        })
        .collect();
    let base = format!("/api/v1/tenants/{}/submissions/{}", t.slug, s.id);
    let out = SubmissionStatus {
        id: s.id.to_string(),
        reference: s.reference.to_string(),
        service: &s.workflow_id,
        submitted: fmt(s.submitted),
        current,
        history,
        messages,
        reads,
        payment: s.data.get("payment"),
        links: Links {
            this: Some(base.clone()),
            receipt: Some(format!("{base}/receipt")),
            ..Links::default()
        },
    };
    Ok(ok_typed(StatusCode::OK, &out))
}

pub(super) async fn receipt(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id)): Path<(String, String)>,
) -> ApiResult {
    let Ok(sid) = id.parse::<SubmissionId>() else {
        return Err(Problem::not_found("Diese Einreichung", "This submission"));
    };
    let p2 = p.clone();
    let slug = t.slug.clone();
    match blocking(move || p2.service(&p2.defs()).receipt_of(&slug, &sid))
        .await
        .map_err(|e| Problem::internal(&e))?
    {
        Some((reference, pdf)) => Ok(pdf_download(&reference, pdf)),
        None => Err(Problem::not_found("Diese Einreichung", "This submission")),
    }
}

/// The values typed on a step, to evaluate its conditions with.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct EvaluateBody {
    /// The values typed on the step so far, by field id (normalised as on an answer).
    #[schema(value_type = Object)]
    values: Map<String, Value>,
}

/// Which fields of a step are shown and required for the values sent.
#[derive(Serialize, ToSchema)]
pub(super) struct Evaluation {
    step: String,
    /// Every field of the step, in order.
    fields: Vec<lotse_core::application::FieldState>,
}

/// Which fields of a step are shown and required for values typed there and not sent: the
/// workflow's own conditions, evaluated by the engine; nothing is checked or saved.
pub(super) async fn evaluate(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id, step)): Path<(String, String, String)>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let b: EvaluateBody = body(&headers, &bytes)?;
    let open = open(&p, t, &id).await?;
    let today = p.now().date();
    match open
        .app
        .evaluate_step(&open.wf, &p.sandbox, &step, &b.values, today)
    {
        Ok(fields) => Ok(ok_typed(StatusCode::OK, &Evaluation { step, fields })),
        Err(ApplyError::NotOnRoute(step)) => {
            Err(Problem::not_found("Diesen Schritt", "This step").with("step", json!(step)))
        }
        Err(ApplyError::UnknownFields(step, fields)) => {
            let names: Vec<&str> = fields.split(", ").collect();
            let hints = open.wf.unknown_field_hints(&step, &names);
            Err(unknown_fields(&step, &fields, &hints))
        }
        Err(e) => Err(service_problem(&ServiceError::Apply(e))),
    }
}
