//! Tenants and services: the catalogue, one service, and its JSON Schema.

#[allow(unused_imports)]
use super::*;

pub(super) async fn list_tenants(State(p): State<Shared>) -> Response {
    let defs = p.defs();
    let list: Vec<Value> = defs
        .portal
        .tenants
        .iter()
        .map(|t| {
            json!({
                "slug": t.slug, "name": t.name, "kind": t.kind.key(),
                "parent": t.parent, "colour": t.colour,
                "address": t.address, "phone": t.phone, "email": t.email,
                "services": defs.directory.tenant(&t.slug).map(|c| c.assistants).unwrap_or(0),
                "links": {"services": format!("/api/v1/tenants/{}/services", t.slug)},
            })
        })
        .collect();
    ok_json(StatusCode::OK, json!({ "tenants": list }))
}

pub(super) fn service_summary(t: &Tenant, wf: &Workflow, lang: Lang) -> Value {
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
    let services: Vec<Value> = ids
        .iter()
        .filter_map(|id| offered(&p, &t, id))
        .map(|wf| service_summary(&t, &wf, lang))
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        json!({"tenant": t.slug, "query": q, "services": services}),
    ))
}

pub(super) fn service_of(p: &Shared, t: &Tenant, id: &str) -> Result<Arc<Workflow>, Problem> {
    offered(p, t, id).ok_or_else(|| Problem::not_found("Diese Leistung", "This service"))
}

pub(super) async fn get_service(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, service)): Path<(String, String)>,
    uri: axum::http::Uri,
) -> ApiResult {
    let wf = service_of(&p, &t, &service)?;
    let lang = lang_query(&uri)?;
    let mut v = service_summary(&t, &wf, lang);
    let conditional = conditional_steps(&wf);
    v["steps"] = json!(
        wf.steps
            .iter()
            .zip(conditional)
            .map(|(s, conditional)| json!({
                "id": s.id, "title": s.title.get(lang),
                "conditional": conditional,
                "applies_if": s.applies_if.as_ref().map(|e| e.source()),
            }))
            .collect::<Vec<_>>()
    );
    v["declaration"] = json!(
        wf.declaration
            .iter()
            .map(|s| json!({"id": s.id, "label": s.label.get(lang)}))
            .collect::<Vec<_>>()
    );
    Ok(ok_json(StatusCode::OK, v))
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

pub(super) fn required_of(f: &Field) -> Value {
    match &f.required {
        Required::Always => json!("always"),
        Required::Never => json!("never"),
        Required::When(e) => json!({"when": e.source()}),
    }
}

/// A field as a front end needs it: label, help, widget, the schema its value must meet, and
/// the conditions under which it is required or shown.
pub(super) fn field_json(f: &Field, lang: Lang) -> Value {
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
    let list: Vec<Value> = lotse_core::catalogue::LEBENSLAGEN
        .iter()
        .map(|l| {
            json!({
                "id": l.key,
                "label": {"de": l.de, "en": l.en},
                "services": counts.get(l.key).copied().unwrap_or(0),
                "links": {"services": format!("/api/v1/tenants/{}/services?lebenslage={}", t.slug, l.key)},
            })
        })
        .collect();
    Ok(ok_json(
        StatusCode::OK,
        json!({"tenant": t.slug, "lebenslagen": list}),
    ))
}
