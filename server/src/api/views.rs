//! The application's state as the API shows it, and field errors.

#[allow(unused_imports)]
use super::*;

pub(super) fn field_errors(errors: &[FieldError]) -> Vec<FieldErrorOut> {
    errors
        .iter()
        .map(|e| FieldErrorOut {
            pointer: e.pointer.clone(),
            field: e.field.clone(),
            kind: e.kind.to_string(),
            message: e.message.clone(),
        })
        .collect()
}

pub(super) fn errors_json(errors: &[FieldError]) -> Value {
    serde_json::to_value(field_errors(errors)).unwrap_or(Value::Null)
}

/// Each step's fields as the API shows them, serialized once per workflow content, step and
/// language: they are the largest part of every answer and never change for one content hash
/// (which covers the tenant's override too).
/// The fields of `step` as the API shows them, from the definitions' cache.
pub(super) fn step_fields(
    defs: &Defs,
    wf: &Workflow,
    step: &lotse_core::definition::Step,
    lang: Lang,
) -> Arc<RawValue> {
    let key = format!("{}/{}/{}", wf.content_hash, step.id, lang.tag());
    defs.api_fields.get_or_build(key, || {
        let fields: Vec<FieldOut> = step.fields.iter().map(|f| field_out(f, lang)).collect();
        serde_json::value::to_raw_value(&fields)
            .map(Arc::from)
            .unwrap_or_else(|_| Arc::from(empty_list()))
    })
}

pub(super) fn empty_list() -> Box<RawValue> {
    RawValue::from_string("[]".into()).unwrap_or_default()
}

/// Where an application stands. `position` `step`: `step` holds the current step with its
/// fields; `review`: `review` and `computed` hold what the citizen checks before submitting,
/// `links.submit` submits; `submitted`: the application was submitted and can no longer
/// change: `submission` and `links.submission` / `links.receipt` lead to it (the draft's other
/// keys are absent then).
#[derive(Serialize, ToSchema)]
#[schema(as = ApplicationState)]
pub(super) struct StateOut<'a> {
    /// The application's secret id (the citizen's capability).
    #[schema(pattern = "^[0-9a-f]{32}$")]
    pub(super) id: String,
    pub(super) tenant: &'a str,
    pub(super) service: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) version: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) lang: Option<LangTag>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(minimum = 0)]
    pub(super) revision: Option<u64>,
    /// Typed on another device to resume, e.g. `K7QX-2M9D-8TFA-WN3E`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) resume_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(format = DateTime)]
    pub(super) expires: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) progress: Option<Progress>,
    /// The steps on the application's route so far, in order.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) route: Option<&'a [String]>,
    /// The answers so far by field id, as the server keeps them (normalised).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Object)]
    pub(super) answers: Option<&'a std::collections::BTreeMap<String, Value>>,
    pub(super) links: Links,
    pub(super) position: PositionOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) can_go_back: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) step: Option<StepOut<'a>>,
    /// At the review: every answer as the citizen reads it (formatted in the application's
    /// language), grouped by step in route order, and the computed values shown to the citizen
    /// (such as the fee).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) review: Option<ReviewView>,
    /// At the review: the workflow's computed values by id, as raw JSON (for example the fee in
    /// euros); `null` where a value cannot be computed from the answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    #[schema(value_type = Object, additional_properties)]
    pub(super) computed: Option<std::collections::BTreeMap<String, Value>>,
    /// At the review, where the answers give a SEPA direct debit mandate (`sepa_mandate:`):
    /// its full text with the tenant as creditor and its creditor id (Gläubiger-ID), to show
    /// before submitting. Submitting gives the mandate; it is recorded in the submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false, value_type = Object)]
    pub(super) sepa_mandate: Option<crate::mandate::MandateView>,
    /// On a step: what was sent for it and not accepted (a 422 LOT-H010 keeps it with the
    /// application), with its errors as the step reports them now, so that a client can show
    /// it again after a reload. Absent when nothing is pending.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) pending: Option<PendingOut>,
    /// When submitted: the submission.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) submission: Option<SubmissionRef>,
}

/// `step`: answering a step; `review`: checking before submitting; `submitted`: done.
#[derive(Serialize, ToSchema, Clone, Copy)]
#[serde(rename_all = "lowercase")]
#[schema(as = Position)]
pub(super) enum PositionOut {
    Step,
    Review,
    Submitted,
}

/// A submitted application's submission.
#[derive(Serialize, ToSchema)]
pub(super) struct SubmissionRef {
    pub(super) id: String,
    pub(super) reference: String,
    #[schema(format = DateTime)]
    pub(super) submitted: String,
}

/// What was sent for the current step and not accepted, with its errors.
#[derive(Serialize, ToSchema)]
#[schema(as = Pending)]
pub(super) struct PendingOut {
    #[schema(value_type = Object)]
    values: Map<String, Value>,
    errors: Vec<FieldErrorOut>,
}

/// A rejected answer.
#[derive(Serialize, ToSchema)]
#[schema(as = FieldError)]
pub(super) struct FieldErrorOut {
    /// JSON pointer into the step's values, e.g. `/hunde/0/name`.
    pointer: String,
    field: String,
    /// What is wrong, e.g. `required`, `format`, `minimum`, `characters`.
    kind: String,
    /// A friendly message in the application's language.
    message: String,
}

/// How far the application is: the current step's number and the number of steps on the
/// route as it stands.
#[derive(Serialize, ToSchema)]
pub(super) struct Progress {
    current: usize,
    total: usize,
}

/// Addresses of what can be done next; which names appear depends on the resource and
/// position.
#[derive(Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct Links {
    /// This resource.
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) this: Option<String>,
    /// GET: the service's JSON Schema (2020-12) of all fields.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) schema: Option<String>,
    /// POST: start an application of this service.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) start: Option<String>,
    /// GET: the services (of this tenant, or of this Lebenslage).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) services: Option<String>,
    /// POST {revision}: one step back (absent on the first step).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) back: Option<String>,
    /// POST {revision, step}: to an answered step on the route (the review's 'Ändern').
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) goto: Option<String>,
    /// POST {revision}: to the review; 409 LOT-H011 while a step is unanswered. Absent on an
    /// end page.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) review: Option<String>,
    /// POST {revision, declaration}: submit the application (at the review only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) submit: Option<String>,
    /// PUT {revision, values}: answer this step.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) answer: Option<String>,
    /// POST {values}: which fields of this step are shown and required for these values;
    /// saves nothing.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) evaluate: Option<String>,
    /// GET: the signed receipt (PDF).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) receipt: Option<String>,
    /// The submission's status page for the citizen (HTML).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) status_page: Option<String>,
    /// GET: the submission's status, history and messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub(super) submission: Option<String>,
}

/// The current step of an application.
#[derive(Serialize, ToSchema)]
#[schema(as = Step)]
pub(super) struct StepOut<'a> {
    id: &'a str,
    title: &'a str,
    help: Option<&'a str>,
    #[serde(serialize_with = "shared_raw")]
    #[schema(value_type = Vec<FieldOut>)]
    fields: Arc<RawValue>,
    /// `answer` and `evaluate`.
    links: Links,
    /// An end page (`end: true` in the workflow): the assistant ends here without a
    /// submission. It has no fields; `review` and `submit` are not offered, and answering it is
    /// refused (409, LOT-A010 in the log).
    end: bool,
    /// The step's links to elsewhere (on an end page: where the citizen can go instead).
    see_also: Vec<SeeAlso<'a>>,
}

/// A link of a step: its text and address.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SeeAlso<'a> {
    label: &'a str,
    /// `https://…` or a path of the portal (`/heinsberg`).
    href: &'a str,
}

pub(super) fn shared_raw<S: serde::Serializer>(v: &Arc<RawValue>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

/// The state of an application as the API shows it, serialized.
pub(super) fn state_json(p: &Shared, t: &Tenant, open: &OpenDraft) -> Vec<u8> {
    let (draft, app, wf) = (&open.draft, &open.app, &*open.wf);
    let lang = app.lang;
    let base = format!("/api/v1/tenants/{}/applications/{}", t.slug, draft.id);
    let (current, total) = app.progress();
    let mut out = StateOut {
        id: draft.id.to_string(),
        tenant: &t.slug,
        service: &wf.id,
        version: Some(wf.version),
        lang: Some(LangTag::from(lang)),
        revision: Some(draft.revision),
        resume_code: Some(draft.resume_code.to_string()),
        expires: Some(
            draft
                .expires
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
        ),
        progress: Some(Progress { current, total }),
        route: Some(&app.route),
        answers: Some(&app.answers),
        links: Links {
            schema: Some(format!(
                "/api/v1/tenants/{}/services/{}/schema",
                t.slug, wf.id
            )),
            ..Links::default()
        },
        position: PositionOut::Submitted,
        can_go_back: None,
        step: None,
        review: None,
        computed: None,
        sepa_mandate: None,
        pending: None,
        submission: None,
    };
    match &app.position {
        Position::Step(id) => {
            out.position = PositionOut::Step;
            if let Ok(Some(pending)) = p.service(&p.defs()).pending(open, p.now()) {
                out.pending = Some(PendingOut {
                    values: pending.values,
                    errors: field_errors(&pending.errors),
                });
            } else if let Some(typed) = app.typed_on(id) {
                // Kept without being sent (an uploaded file, an entry added): not checked yet.
                out.pending = Some(PendingOut {
                    values: typed.values.clone(),
                    errors: Vec::new(),
                });
            }
            out.can_go_back = Some(app.route.first() != Some(id));
            if out.can_go_back == Some(true) {
                out.links.back = Some(format!("{base}/back"));
            }
            out.links.goto = Some(format!("{base}/goto"));
            let end = wf.step(id).is_some_and(|s| s.end);
            if !end {
                out.links.review = Some(format!("{base}/review"));
            }
            if let Some(step) = wf.step(id) {
                out.step = Some(StepOut {
                    id: &step.id,
                    title: step.title.get(lang),
                    help: step.help.as_ref().map(|h| h.get(lang)),
                    fields: step_fields(&p.defs(), wf, step, lang),
                    end: step.end,
                    see_also: step
                        .links
                        .iter()
                        .map(|l| SeeAlso {
                            label: l.label.get(lang),
                            href: &l.href,
                        })
                        .collect(),
                    links: Links {
                        answer: Some(format!("{base}/steps/{}", step.id)),
                        evaluate: Some(format!("{base}/steps/{}/evaluate", step.id)),
                        ..Links::default()
                    },
                });
            }
        }
        Position::Review => {
            out.position = PositionOut::Review;
            out.can_go_back = Some(true);
            out.links.back = Some(format!("{base}/back"));
            out.links.goto = Some(format!("{base}/goto"));
            out.links.submit = Some(format!("{base}/submit"));
            let computed = app
                .computed(wf, &p.sandbox, p.now().date())
                .unwrap_or_default();
            let review = ReviewView::build(wf, &app.route, &app.answers, &computed, lang);
            out.sepa_mandate = crate::mandate::at_review(wf, &review, &app.answers, t, lang);
            out.review = Some(review);
            out.computed = Some(computed);
        }
        Position::Submitted => {}
    }
    out.links.this = Some(base);
    serde_json::to_vec(&out).unwrap_or_default()
}
