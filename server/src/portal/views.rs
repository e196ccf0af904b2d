//! View models of the assistant's pages: one step with its fields (values, errors, hints tied
//! with aria-describedby), or the review page.

use axum::response::Response;
use lotse_core::Lang;
use lotse_core::application::{Position, ReviewView};
use lotse_core::definition::{Field, Step, Widget};
use lotse_core::form::FieldError;
use serde_json::{Map, Value, json};

use crate::http::pages::base;
use crate::service::OpenDraft;
use crate::state::AppState;
use crate::tenants::Tenant;

fn html_id(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// Errors by JSON pointer; each shown once, at its field.
fn error_at(errors: &[FieldError], pointer: &str) -> Option<String> {
    errors
        .iter()
        .find(|e| e.pointer == pointer)
        .map(|e| e.message.clone())
}

fn field_view(
    f: &Field,
    name: &str,
    pointer: &str,
    value: Option<&Value>,
    errors: &[FieldError],
    required: bool,
    lang: Lang,
) -> Value {
    let id = html_id(name);
    let error = error_at(errors, pointer);
    let mut described = Vec::new();
    if f.help.is_some() {
        described.push(format!("{id}-hint"));
    }
    if error.is_some() {
        described.push(format!("{id}-error"));
    }
    let mut v = json!({
        "id": f.id, "name": name, "html_id": id,
        "label": f.label.get(lang), "help": f.help.as_ref().map(|h| h.get(lang)),
        "error": error, "describedby": described.join(" "),
        "optional": !required && f.widget != Widget::Checkbox,
        "autocomplete": f.autocomplete, "placeholder": f.placeholder.as_ref().map(|p| p.get(lang)),
    });
    match f.widget {
        Widget::Group => {
            v["is_group"] = json!(true);
            if let Some(rep) = &f.repeat {
                let items: Vec<Value> = match value {
                    Some(Value::Array(a)) => a.clone(),
                    _ => Vec::new(),
                };
                let count = items.len().max(rep.min as usize).max(1);
                let item_label = rep
                    .item_label
                    .as_ref()
                    .map(|t| t.get(lang).to_string())
                    .unwrap_or_else(|| f.label.get(lang).to_string());
                let views: Vec<Value> = (0..count)
                    .map(|i| {
                        let item = items.get(i);
                        json!({
                            "legend": format!("{item_label} {}", i + 1), "index": i,
                            "fields": f.subfields.iter().map(|sf| {
                                let sub_required = matches!(sf.required, lotse_core::definition::Required::Always);
                                field_view(sf, &format!("{name}.{i}.{}", sf.id), &format!("{pointer}/{i}/{}", sf.id), item.and_then(|it| it.get(&sf.id)), errors, sub_required, lang)
                            }).collect::<Vec<_>>(),
                        })
                    })
                    .collect();
                v["items"] = json!(views);
                v["can_add"] = json!(count < rep.max as usize);
                v["add_label"] = json!(
                    rep.add_label
                        .as_ref()
                        .map(|t| t.get(lang).to_string())
                        .unwrap_or_else(|| format!(
                            "{item_label} {}",
                            crate::http::pages::tr(lang, "hinzufügen", "add")
                        ))
                );
            } else {
                v["fields"] = json!(
                    f.subfields
                        .iter()
                        .map(|sf| {
                            let sub_required =
                                matches!(sf.required, lotse_core::definition::Required::Always);
                            field_view(
                                sf,
                                &format!("{name}.{}", sf.id),
                                &format!("{pointer}/{}", sf.id),
                                value.and_then(|o| o.get(&sf.id)),
                                errors,
                                sub_required,
                                lang,
                            )
                        })
                        .collect::<Vec<_>>()
                );
            }
        }
        Widget::Radio | Widget::Select => {
            v[if f.widget == Widget::Radio {
                "is_choice_group"
            } else {
                "is_select"
            }] = json!(true);
            let current = text_of(value);
            v["options"] = json!(f.options.iter().map(|o| {
                let val = text_of(Some(&o.value));
                json!({"value": val, "label": o.label.get(lang), "selected": !current.is_empty() && val == current})
            }).collect::<Vec<_>>());
        }
        Widget::Checkbox => {
            v["is_checkbox"] = json!(true);
            v["checked"] = json!(value == Some(&Value::Bool(true)) || text_of(value) == "true");
        }
        Widget::Textarea => {
            v["is_textarea"] = json!(true);
            v["value"] = json!(text_of(value));
        }
        w => {
            let input_type = match (w, f.autocomplete.as_deref()) {
                (Widget::Date, _) => "date",
                (Widget::Number, _) => "number",
                (_, Some("email")) => "email",
                (_, Some("tel")) => "tel",
                _ => "text",
            };
            v["input_type"] = json!(input_type);
            v["value"] = json!(text_of(value));
        }
    }
    v
}

/// Adds or removes an entry of a repeatable group in posted values (`add:hunde`,
/// `remove:hunde:1`). A removal returns what it removed (for "Rückgängig machen", as the
/// hidden `_removed` field of the page).
pub fn change_items(
    step: &Step,
    values: &mut Map<String, Value>,
    action: &str,
    rest: &str,
) -> Option<String> {
    let (field, index) = match rest.split_once(':') {
        Some((f, i)) => (f, i.parse::<usize>().ok()),
        None => (rest, None),
    };
    let f = step.fields.iter().find(|f| f.id == field)?;
    let rep = f.repeat.as_ref()?;
    let entry = values
        .entry(f.id.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = entry else {
        return None;
    };
    if action.starts_with("add:") {
        while items.len() < (rep.min as usize).max(1) {
            items.push(Value::Object(Map::new()));
        }
        if items.len() < rep.max as usize {
            items.push(Value::Object(Map::new()));
        }
        None
    } else if let Some(i) = index
        && i < items.len()
    {
        let item = items.remove(i);
        Some(json!({"field": f.id, "index": i, "item": item}).to_string())
    } else {
        None
    }
}

/// Puts an entry removed by [`change_items`] back where it was (`removed` is the page's
/// `_removed` field). Anything that does not fit the step is ignored.
pub fn undo_removal(step: &Step, values: &mut Map<String, Value>, removed: Option<&str>) {
    let Some(removed) = removed.and_then(|r| serde_json::from_str::<Value>(r).ok()) else {
        return;
    };
    let (Some(field), Some(index), Some(item @ Value::Object(_))) = (
        removed["field"].as_str(),
        removed["index"].as_u64(),
        removed.get("item"),
    ) else {
        return;
    };
    let Some(f) = step.fields.iter().find(|f| f.id == field) else {
        return;
    };
    let Some(rep) = &f.repeat else { return };
    // Only this group's own fields come back, as text like any posted value.
    let Value::Object(posted) = item else { return };
    let item: Map<String, Value> = f
        .subfields
        .iter()
        .filter_map(|sf| posted.get(&sf.id).map(|v| (sf.id.clone(), v.clone())))
        .collect();
    let entry = values
        .entry(f.id.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = entry else { return };
    if items.len() < rep.max as usize {
        let at = (index as usize).min(items.len());
        items.insert(at, Value::Object(item));
    }
}

/// The URLs of an assistant page (see `assistant::Place`).
pub struct Nav {
    /// The page's own URL, where its form posts.
    pub here: String,
    /// Where "Zurück" leads: the previous step, or the review from a change.
    pub back: Option<String>,
    /// The review's "Ändern" links: this plus `/{step}`.
    pub change_base: String,
}

/// What the citizen just posted and what was wrong with it (empty when simply showing).
#[derive(Default)]
pub struct Attempt {
    pub values: Option<Map<String, Value>>,
    pub errors: Vec<FieldError>,
    /// An entry just removed from a repeatable group, which the page offers to restore.
    pub removed: Option<String>,
}

/// The page for the draft's current position: a step (with posted values and errors after a
/// rejected answer) or the review.
pub fn page(
    p: &AppState,
    t: &Tenant,
    open: &OpenDraft,
    attempt: Attempt,
    nav: &Nav,
    lang: Lang,
) -> Response {
    let (draft, app, wf) = (&open.draft, &open.app, &*open.wf);
    let Attempt {
        values: posted,
        errors,
        removed,
    } = attempt;
    let csrf = p.token(&format!("draft:{}", draft.id));
    match &app.position {
        Position::Review => {
            let computed = app
                .computed(wf, &p.sandbox, p.now().date())
                .unwrap_or_default();
            let review = ReviewView::build(wf, &app.route, &app.answers, &computed, lang);
            let steps: Vec<Value> = review.steps.iter().map(|s| json!({
                "step": s.step, "title": s.title,
                "entries": s.entries.iter().map(|e| json!({"label": e.label, "flat": e.value.flat()})).collect::<Vec<_>>(),
            })).collect();
            let computed: Vec<Value> = review
                .computed
                .iter()
                .map(|e| json!({"label": e.label, "flat": e.value.flat()}))
                .collect();
            let mut v = base(
                t,
                crate::http::pages::tr(lang, "Angaben prüfen", "Check your answers"),
                lang,
            );
            v["review"] = json!({"steps": steps, "computed": computed});
            v["here"] = json!(nav.here);
            v["back"] = json!(nav.back);
            v["change_base"] = json!(nav.change_base);
            v["draft"] = json!(draft.id.to_string());
            v["csrf"] = json!(csrf);
            v["revision"] = json!(draft.revision);
            p.render("review", &v)
        }
        Position::Step(step_id) => {
            let Some(step) = wf.step(step_id) else {
                return crate::http::pages::not_found(p, Some(t), lang);
            };
            let values: Map<String, Value> = posted.unwrap_or_else(|| {
                step.fields
                    .iter()
                    .filter_map(|f| app.answers.get(&f.id).map(|v| (f.id.clone(), v.clone())))
                    .collect()
            });
            let fields: Vec<Value> = step
                .fields
                .iter()
                .map(|f| {
                    let required = !matches!(f.required, lotse_core::definition::Required::Never);
                    field_view(
                        f,
                        &f.id,
                        &format!("/{}", f.id),
                        values.get(&f.id),
                        &errors,
                        required,
                        lang,
                    )
                })
                .collect();
            let summary: Vec<Value> = errors
                .iter()
                .map(|e| {
                    let name = e.pointer.trim_start_matches('/').replace('/', ".");
                    json!({"target": html_id(&name), "message": e.message})
                })
                .collect();
            let title = if errors.is_empty() {
                step.title.get(lang).to_string()
            } else {
                format!(
                    "{}: {}",
                    crate::http::pages::tr(lang, "Fehler", "Error"),
                    step.title.get(lang)
                )
            };
            let mut v = base(t, &title, lang);
            v["step"] = json!(step.id);
            v["step_title"] = json!(step.title.get(lang));
            v["step_help"] = json!(step.help.as_ref().map(|h| h.get(lang)));
            v["fields"] = json!(fields);
            v["errors"] = json!(summary);
            v["progress"] = json!([app.progress().0, app.progress().1]);
            v["here"] = json!(nav.here);
            v["back"] = json!(nav.back);
            v["removed"] = json!(removed.as_ref().map(|r| {
                let label = serde_json::from_str::<Value>(r).ok().and_then(|v| {
                    let f = step
                        .fields
                        .iter()
                        .find(|f| Some(f.id.as_str()) == v["field"].as_str())?;
                    let rep = f.repeat.as_ref()?;
                    let name = rep
                        .item_label
                        .as_ref()
                        .map(|t| t.get(lang).to_string())
                        .unwrap_or_else(|| f.label.get(lang).to_string());
                    Some(format!("{name} {}", v["index"].as_u64()? + 1))
                });
                json!({"data": r, "label": label})
            }));
            v["draft"] = json!(draft.id.to_string());
            v["csrf"] = json!(csrf);
            v["revision"] = json!(draft.revision);
            v["resume_code"] = json!(draft.resume_code.to_string());
            if p.dev {
                // Beside the step: why it applies and where the branches lead (the engine's own
                // explanation).
                v["dev"] = json!({
                    "applies_if": step.applies_if.as_ref().map(|e| e.source().to_string()),
                    "branches": step.branches.iter().map(|b| json!({"condition": b.condition.source(), "to": b.target.label()})).collect::<Vec<_>>(),
                    "default": step.default_next.label(),
                    "explanations": app.explanations.iter().map(|e| e.describe(lang)).collect::<Vec<_>>(),
                    "route": app.route.join(" → "),
                });
            }
            let e = draft.expires.date();
            v["expires"] = json!(format!(
                "{:02}.{:02}.{}",
                e.day(),
                e.month() as u8,
                e.year()
            ));
            let mut r = p.render("step", &v);
            if !errors.is_empty() {
                *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            r
        }
        Position::Submitted => crate::http::pages::not_found(p, Some(t), lang),
    }
}
