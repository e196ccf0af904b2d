//! The application's state as the API shows it, and field errors.

#[allow(unused_imports)]
use super::*;

pub(super) fn errors_json(errors: &[FieldError]) -> Value {
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
pub(super) fn step_fields(
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

pub(super) fn empty_list() -> Box<RawValue> {
    RawValue::from_string("[]".into()).unwrap_or_default()
}

#[derive(Serialize)]
pub(super) struct StateOut<'a> {
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
pub(super) struct PendingOut {
    values: Map<String, Value>,
    errors: Value,
}

#[derive(Serialize)]
pub(super) struct Progress {
    current: usize,
    total: usize,
}

#[derive(Serialize)]
pub(super) struct StateLinks {
    #[serde(rename = "self")]
    this: String,
    schema: String,
    /// POST {revision}: one step back (where there is one).
    #[serde(skip_serializing_if = "Option::is_none")]
    back: Option<String>,
    /// POST {revision, step}: to an answered step on the route.
    #[serde(skip_serializing_if = "Option::is_none")]
    goto: Option<String>,
    /// POST {revision}: to the review once every step is answered.
    #[serde(skip_serializing_if = "Option::is_none")]
    review: Option<String>,
    /// POST {revision, declaration}: submit, from the review.
    #[serde(skip_serializing_if = "Option::is_none")]
    submit: Option<String>,
}

#[derive(Serialize)]
pub(super) struct StepOut<'a> {
    id: &'a str,
    title: &'a str,
    help: Option<&'a str>,
    #[serde(serialize_with = "shared_raw")]
    fields: Arc<RawValue>,
    links: StepLinks,
    /// An end page: the assistant ends here; nothing is answered, reviewed or sent.
    end: bool,
    /// The step's links to elsewhere (on an end page: where to go instead).
    see_also: Vec<SeeAlso<'a>>,
}

/// A link of a step: its text and address (`https://…` or a path of the portal).
#[derive(Serialize)]
pub(super) struct SeeAlso<'a> {
    label: &'a str,
    href: &'a str,
}

pub(super) fn shared_raw<S: serde::Serializer>(v: &Arc<RawValue>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

#[derive(Serialize)]
pub(super) struct StepLinks {
    answer: String,
    evaluate: String,
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
            back: None,
            goto: None,
            review: None,
            submit: None,
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
            if let Ok(Some(pending)) = p.service(&p.defs()).pending(open, p.now()) {
                out.pending = Some(PendingOut {
                    values: pending.values,
                    errors: errors_json(&pending.errors),
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
                    links: StepLinks {
                        answer: format!("{base}/steps/{}", step.id),
                        evaluate: format!("{base}/steps/{}/evaluate", step.id),
                    },
                });
            }
        }
        Position::Review => {
            out.position = "review";
            out.can_go_back = Some(true);
            out.links.back = Some(format!("{base}/back"));
            out.links.goto = Some(format!("{base}/goto"));
            out.links.submit = Some(format!("{base}/submit"));
            let computed = app
                .computed(wf, &p.sandbox, p.now().date())
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
