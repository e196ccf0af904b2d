//! Tenants and services: the catalogue, one service, and its JSON Schema.

#[allow(unused_imports)]
use super::*;

/// The portal's tenants.
#[derive(Serialize, ToSchema)]
pub(super) struct TenantList<'a> {
    tenants: Vec<TenantOut<'a>>,
}

/// A tenant: the county or a municipality.
#[derive(Serialize, ToSchema)]
#[schema(as = Tenant)]
pub(super) struct TenantOut<'a> {
    /// The tenant's slug (the `{tenant}` of every path), e.g. `heinsberg`.
    slug: &'a str,
    /// The official name, e.g. `Stadt Erkelenz`.
    name: &'a str,
    /// `kreis`, `stadt` or `gemeinde`.
    kind: &'a str,
    /// The slug of the tenant above (the county), null for the top.
    parent: Option<&'a str>,
    /// The brand colour, `#rrggbb`.
    colour: &'a str,
    address: &'a [String],
    phone: &'a str,
    email: &'a str,
    /// How many assistants the tenant offers.
    services: usize,
    /// `services`.
    links: Links,
}

pub(super) async fn list_tenants(State(p): State<Shared>) -> Response {
    let defs = p.defs();
    let list: Vec<TenantOut> = defs
        .portal
        .tenants
        .iter()
        .map(|t| TenantOut {
            slug: &t.slug,
            name: &t.name,
            kind: t.kind.key(),
            parent: t.parent.as_deref(),
            colour: &t.colour,
            address: &t.address,
            phone: &t.phone,
            email: &t.email,
            services: defs
                .directory
                .tenant(&t.slug)
                .map(|c| c.assistants)
                .unwrap_or(0),
            links: Links {
                services: Some(format!("/api/v1/tenants/{}/services", t.slug)),
                ..Links::default()
            },
        })
        .collect();
    ok_typed(StatusCode::OK, &TenantList { tenants: list })
}

/// A service (one assistant) in a list.
#[derive(Serialize, ToSchema)]
pub(super) struct ServiceSummary<'a> {
    /// The workflow id, e.g. `hundesteuer-anmeldung`.
    id: &'a str,
    version: u32,
    title: &'a str,
    description: Option<&'a str>,
    /// The keys of its Lebenslagen (see GET /lebenslagen).
    lebenslagen: &'a [String],
    /// The office that handles it.
    office: &'a str,
    /// `self`, `schema`, `start`.
    links: Links,
}

pub(super) fn service_summary<'a>(t: &Tenant, wf: &'a Workflow, lang: Lang) -> ServiceSummary<'a> {
    ServiceSummary {
        id: &wf.id,
        version: wf.version,
        title: wf.title.get(lang),
        description: wf.description.as_ref().map(|d| d.get(lang)),
        lebenslagen: &wf.lebenslagen,
        office: wf.office.get(lang),
        links: Links {
            this: Some(format!("/api/v1/tenants/{}/services/{}", t.slug, wf.id)),
            schema: Some(format!(
                "/api/v1/tenants/{}/services/{}/schema",
                t.slug, wf.id
            )),
            start: Some(format!(
                "/api/v1/tenants/{}/services/{}/applications",
                t.slug, wf.id
            )),
            ..Links::default()
        },
    }
}

/// A tenant's services, ranked when searching.
#[derive(Serialize, ToSchema)]
pub(super) struct ServiceList<'a> {
    tenant: &'a str,
    /// The search words as used (at most 100 characters).
    query: String,
    services: Vec<ServiceSummary<'a>>,
}

pub(super) async fn list_services(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    uri: axum::http::Uri,
) -> ApiResult {
    let lang = lang_query(&uri)?;
    let defs = p.defs();
    let cat = &defs
        .directory
        .tenant(&t.slug)
        .ok_or_else(|| Problem::not_found("Diese Behörde", "This tenant"))?
        .index;
    let q: String = query_param(&uri, "q")
        .unwrap_or_default()
        .chars()
        .take(100)
        .collect();
    let lage = query_param(&uri, "lebenslage");
    if let Some(l) = &lage
        && lotse_core::catalogue::lebenslage(l).is_none()
    {
        return Err(
            Problem::not_found("Diese Lebenslage", "This Lebenslage").with("lebenslage", json!(l))
        );
    }
    let ids: Vec<String> = if !q.trim().is_empty() {
        cat.search(&q, 50).into_iter().map(|h| h.id).collect()
    } else if let Some(l) = &lage {
        cat.by_lebenslage(l).iter().map(|e| e.id.clone()).collect()
    } else {
        cat.entries().iter().map(|e| e.id.clone()).collect()
    };
    let offered: Vec<Arc<Workflow>> = ids.iter().filter_map(|id| offered(&p, &t, id)).collect();
    let services = offered
        .iter()
        .map(|wf| service_summary(&t, wf, lang))
        .collect();
    Ok(ok_typed(
        StatusCode::OK,
        &ServiceList {
            tenant: &t.slug,
            query: q,
            services,
        },
    ))
}

pub(super) fn service_of(p: &Shared, t: &Tenant, id: &str) -> Result<Arc<Workflow>, Problem> {
    offered(p, t, id).ok_or_else(|| Problem::not_found("Diese Leistung", "This service"))
}

/// One service with its steps and declaration.
#[derive(Serialize, ToSchema)]
pub(super) struct Service<'a> {
    #[serde(flatten)]
    summary: ServiceSummary<'a>,
    /// The steps in the workflow's order.
    steps: Vec<StepSummary<'a>>,
    /// The statements the citizen must tick before sending (empty: none), each one checkbox;
    /// their ids go into the submit's `declaration`.
    declaration: Vec<Statement<'a>>,
}

/// A step of a service, as listed before starting.
#[derive(Serialize, ToSchema)]
pub(super) struct StepSummary<'a> {
    id: &'a str,
    title: &'a str,
    /// True when a citizen may not see this step: it has `applies_if`, or it is reached only
    /// by a branch (or a branch can skip it).
    conditional: bool,
    /// The rhai condition under which the step applies (null: none).
    applies_if: Option<&'a str>,
}

/// A statement of a service's declaration.
#[derive(Serialize, ToSchema)]
pub(super) struct Statement<'a> {
    id: &'a str,
    label: &'a str,
}

pub(super) async fn get_service(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, service)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    let wf = service_of(&p, &t, &service)?;
    let lang = lang_query(&uri)?;
    let conditional = conditional_steps(&wf);
    let out = Service {
        summary: service_summary(&t, &wf, lang),
        steps: wf
            .steps
            .iter()
            .zip(conditional)
            .map(|(s, conditional)| StepSummary {
                id: &s.id,
                title: s.title.get(lang),
                conditional,
                applies_if: s.applies_if.as_ref().map(|e| e.source()),
            })
            .collect(),
        declaration: wf
            .declaration
            .iter()
            .map(|s| Statement {
                id: &s.id,
                label: s.label.get(lang),
            })
            .collect(),
    };
    Ok(ok_typed(StatusCode::OK, &out))
}

/// The data schema of a workflow version: one JSON Schema (2020-12) document with a property
/// per field, the reusable forms files embedded under `$defs` with their own `$id`, so that
/// every `$ref` resolves inside the document.
pub(super) async fn service_schema(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, service)): Path<(String, String)>,
) -> ApiResult {
    let wf = service_of(&p, &t, &service)?;
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

/// Whether a field must be answered: `always`, `never`, or `{when}`: a rhai condition over the
/// answers (evaluate it with the step's `evaluate` link).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = FieldRequired)]
pub(super) enum RequiredOut {
    Fixed(Fixed),
    When { when: String },
}

/// A requirement without a condition.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub(super) enum Fixed {
    Always,
    Never,
}

pub(super) fn required_of(f: &Field) -> RequiredOut {
    match &f.required {
        Required::Always => RequiredOut::Fixed(Fixed::Always),
        Required::Never => RequiredOut::Fixed(Fixed::Never),
        Required::When(e) => RequiredOut::When {
            when: e.source().to_string(),
        },
    }
}

/// A field as a front end needs it: label, help, widget, the schema its value must meet, and
/// the conditions under which it is required or shown.
#[derive(Serialize, ToSchema)]
#[schema(as = Field)]
pub(super) struct FieldOut {
    id: String,
    label: String,
    help: Option<String>,
    /// How the field is asked: a one-line text, a text area, a number, a date, radio buttons,
    /// a select, a checkbox, checkboxes (several of the options: a list of their values), a
    /// file upload, or a group of subfields (`fields`; with `repeat` a list of such
    /// groups).
    widget: Widget,
    #[serde(rename = "type")]
    value_type: lotse_core::definition::ValueType,
    required: RequiredOut,
    /// A rhai condition over the answers (null: always shown). The server drops answers of
    /// hidden fields; the step's `evaluate` link tells which fields are shown for the values
    /// typed.
    visible_if: Option<String>,
    autocomplete: Option<String>,
    placeholder: Option<String>,
    #[schema(schema_with = field_schema_doc)]
    schema: Value,
    /// The choices of a radio or select field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    options: Vec<ChoiceOut>,
    /// A group's subfields.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(no_recursion)]
    fields: Option<Vec<FieldOut>>,
    /// A repeated group: how many entries at least and at most.
    #[serde(skip_serializing_if = "Option::is_none")]
    repeat: Option<RepeatOut>,
}

pub(super) use lotse_core::definition::{FORMATS_DOC, NORMALISATION_DOC};

/// A field's `schema`: its JSON Schema as written, and the German formats.
fn field_schema_doc() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Object)
        .description(Some(format!(
            "The field's JSON Schema as written (`$ref`s resolve against the service's schema endpoint). {FORMATS_DOC}"
        )))
        .build()
}

/// A choice of a radio or select field.
#[derive(Serialize, ToSchema)]
#[schema(as = FieldOption)]
pub(super) struct ChoiceOut {
    /// The value sent as the answer (a string or a number).
    #[schema(value_type = Value)]
    value: Value,
    label: String,
}

/// How many entries a repeated group has at least and at most.
#[derive(Serialize, ToSchema)]
#[schema(as = Repeat)]
pub(super) struct RepeatOut {
    min: u32,
    max: u32,
}

/// A field as a front end needs it.
pub(super) fn field_out(f: &Field, lang: Lang) -> FieldOut {
    FieldOut {
        id: f.id.clone(),
        label: f.label.get(lang).to_string(),
        help: f.help.as_ref().map(|h| h.get(lang).to_string()),
        widget: f.widget,
        value_type: f.value_type,
        required: required_of(f),
        visible_if: f.visible_if.as_ref().map(|e| e.source().to_string()),
        autocomplete: f.autocomplete.clone(),
        placeholder: f.placeholder.as_ref().map(|p| p.get(lang).to_string()),
        schema: f.schema.clone(),
        options: f
            .options
            .iter()
            .map(|o| ChoiceOut {
                value: o.value.clone(),
                label: o.label.get(lang).to_string(),
            })
            .collect(),
        fields: (f.widget == Widget::Group)
            .then(|| f.subfields.iter().map(|s| field_out(s, lang)).collect()),
        repeat: f.repeat.as_ref().map(|r| RepeatOut {
            min: r.min,
            max: r.max,
        }),
    }
}

/// For each step: whether a citizen may not see it. A step is conditional when it has
/// `applies_if`, or when some path from the first step to the review passes it by (it is
/// reached only by a branch, or a branch can skip it).
pub(super) fn conditional_steps(wf: &Workflow) -> Vec<bool> {
    use lotse_core::definition::Target;
    let index = |t: &Target| match t {
        Target::Step(id) => wf.step_position(id),
        Target::Review => None,
    };
    // Whether the review is reachable from the first step without passing `avoid`.
    let review_without = |avoid: usize| -> bool {
        let mut seen = vec![false; wf.steps.len()];
        let mut todo = vec![0usize];
        while let Some(i) = todo.pop() {
            if i == avoid || seen[i] {
                continue;
            }
            seen[i] = true;
            let s = &wf.steps[i];
            for t in s
                .branches
                .iter()
                .map(|b| &b.target)
                .chain([&s.default_next])
            {
                match index(t) {
                    Some(j) => todo.push(j),
                    None => return true,
                }
            }
        }
        false
    };
    wf.steps
        .iter()
        .enumerate()
        .map(|(i, s)| s.applies_if.is_some() || (i > 0 && review_without(i)))
        .collect()
}

/// The Lebenslagen of the portal's vocabulary.
#[derive(Serialize, ToSchema)]
pub(super) struct LebenslageList<'a> {
    tenant: &'a str,
    lebenslagen: Vec<LebenslageOut>,
}

/// A Lebenslage (life situation) with its labels and this tenant's number of services.
#[derive(Serialize, ToSchema)]
#[schema(as = Lebenslage)]
pub(super) struct LebenslageOut {
    /// The key used in `?lebenslage=` and in a service's `lebenslagen`.
    id: &'static str,
    label: Labels,
    /// How many services of this tenant have it.
    #[schema(minimum = 0)]
    services: usize,
    /// `services`.
    links: Links,
}

/// A text in German and English.
#[derive(Serialize, ToSchema)]
pub(super) struct Labels {
    de: &'static str,
    en: &'static str,
}

/// The Lebenslagen (life situations) of the portal's vocabulary, with German and English
/// labels and how many services of this tenant each has.
pub(super) async fn list_lebenslagen(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
) -> ApiResult {
    let defs = p.defs();
    let counts = defs
        .directory
        .tenant(&t.slug)
        .map(|c| c.index.lebenslagen())
        .unwrap_or_default();
    let lebenslagen = lotse_core::catalogue::LEBENSLAGEN
        .iter()
        .map(|l| LebenslageOut {
            id: l.key,
            label: Labels { de: l.de, en: l.en },
            services: counts.get(l.key).copied().unwrap_or(0),
            links: Links {
                services: Some(format!(
                    "/api/v1/tenants/{}/services?lebenslage={}",
                    t.slug, l.key
                )),
                ..Links::default()
            },
        })
        .collect();
    Ok(ok_typed(
        StatusCode::OK,
        &LebenslageList {
            tenant: &t.slug,
            lebenslagen,
        },
    ))
}
