//! One field, in passes: its messages, its schema (written, built from the widget or from
//! sub-fields), `$ref`s, choices, widget, a group's sub-fields, repetition, the validator,
//! `required`, `visible_if` and the label. A field with an error is not returned.

use std::sync::Arc;

use serde_json::{Value, json};
use serde_saphyr::Spanned;

use super::super::raw::{RawField, RawRequired, Widget};
use super::super::{Choice, Field, Repeat, Required, ValueType};
use super::schema::{
    date_bounds_of, derive_subfields, infer_widget, schema_choices, temporal_of, value_type_of,
};
use super::{Ctx, pos};
use crate::files::{FileRules, Kind, MAX_FILES_LIMIT, MAX_MB_LIMIT};
use crate::form::ErrorKind;
use crate::problem::Pos;
use crate::script::{Expr, ITEM, Names};
use crate::text::Text;

/// A raw field with what every pass over it reports against.
struct FieldCx<'f> {
    f: &'f RawField,
    id: String,
    /// Where the field's id is.
    at: Pos,
    /// Where its schema is, or its id when it has none.
    schema_at: Pos,
    /// False for sub-fields of a group, which have no validator of their own and no scripts.
    top: bool,
}

/// The field's schema after its `$ref`s: the file it came from (if any) and the schema itself.
type Resolved = (Option<String>, Value);

/// Compiles one field. `top` is false for sub-fields of a group, which have no validator of
/// their own and no scripts.
pub(super) fn compile_field(
    cx: &mut Ctx<'_>,
    f: &RawField,
    names: &Names,
    top: bool,
) -> Option<Field> {
    let at = pos(&f.id);
    let fx = FieldCx {
        f,
        id: f.id.value.clone(),
        at,
        schema_at: f.schema.as_ref().map(pos).unwrap_or(at),
        top,
    };
    let before = cx.problems.len();
    check_message_keys(cx, &fx);

    let explicit_subfields = !f.fields.is_empty();
    let mut widget = f.widget.as_ref().map(|w| w.value);
    if explicit_subfields && widget.is_none() {
        widget = Some(Widget::Group);
    }
    let files = files_of(cx, &fx, widget);
    let (mut schema, mut subfields) = written_schema(cx, &fx, names, widget, files.as_ref())?;
    let resolved = resolve_schema(cx, &fx, &schema)?;
    let options = options_of(f, widget, &resolved.1, &mut schema);
    let is_object = resolved.1.get("type").and_then(Value::as_str) == Some("object")
        || resolved.1.get("properties").is_some();
    let widget = widget.unwrap_or_else(|| infer_widget(&resolved.1, is_object, options.len()));
    check_choices(cx, &fx, widget, &options);
    #[cfg(not(target_family = "wasm"))]
    super::answerable::check(
        cx,
        &fx.id,
        (fx.at, fx.schema_at),
        widget,
        &options,
        &resolved.1,
    );
    // A group whose own fields all failed has their errors already: its schema is no cause.
    if widget == Widget::Group && subfields.is_empty() && !explicit_subfields {
        subfields = schema_subfields(cx, &fx, &resolved);
    }
    let repeat = repeat_of(cx, &fx, widget, explicit_subfields, &mut schema);
    let validator = validator_of(cx, &fx, &schema);
    let required = required_of(cx, &fx, names, widget, repeat.as_ref());
    let visible_if = visible_if_of(cx, &fx, names);
    let temporal = temporal_of(cx.forms, resolved.0.as_deref(), &resolved.1);
    let date_bounds = match date_bounds_of(&resolved.1, widget) {
        Ok(b) => b,
        Err(why) => {
            cx.error(
                "LOT-E017",
                fx.schema_at,
                format!("date field \"{}\": {why}", fx.id),
            );
            None
        }
    };
    let value_type = if repeat.is_some() {
        ValueType::Array
    } else {
        value_type_of(&resolved.1, widget)
    };
    let label = label_of(cx, &fx, &resolved.1);

    if cx.errors_since(before) {
        return None;
    }
    let (help, autocomplete) = texts_of(f, &resolved.1);
    // A designer's warning: the browser compiles only workflows the server has checked.
    #[cfg(not(target_family = "wasm"))]
    warn_marked_optional(cx, &fx, (&label, help.as_ref()), &required, widget);
    Some(Field {
        id: fx.id,
        label,
        help,
        widget,
        autocomplete,
        placeholder: f.placeholder.clone(),
        options,
        required,
        visible_if,
        messages: f
            .messages
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        schema,
        subfields,
        repeat,
        temporal,
        date_bounds,
        value_type,
        files,
        validator,
    })
}

/// The rules of a file field (`widget: file` with its `files:`), with a precise error for
/// `files:` on another widget, a file field inside a group, an unknown kind or a limit out of
/// range.
fn files_of(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, widget: Option<Widget>) -> Option<FileRules> {
    let id = &fx.id;
    let written = fx.f.files.as_ref();
    if widget != Some(Widget::File) {
        if let Some(w) = written {
            cx.error(
                "LOT-E137",
                pos(w),
                format!("field \"{id}\" has `files:` but is not a file field; add `widget: file`"),
            );
        }
        return None;
    }
    if !fx.top {
        cx.error(
            "LOT-E137",
            fx.at,
            format!(
                "file field \"{id}\" is inside a group; a file field stands on the step itself"
            ),
        );
        return None;
    }
    let mut rules = FileRules::default();
    let Some(w) = written else {
        return Some(rules);
    };
    let at = pos(w);
    let raw = &w.value;
    if !raw.accept.is_empty() {
        rules.accept.clear();
        for name in &raw.accept {
            match Kind::from_name(&name.to_lowercase()) {
                Some(k) if !rules.accept.contains(&k) => rules.accept.push(k),
                Some(_) => {}
                None => cx.error_help(
                    "LOT-E138",
                    at,
                    format!(
                        "file field \"{id}\": \"{name}\" is not a kind of file Lotse can check"
                    ),
                    "accept: pdf, jpeg (or jpg), png",
                ),
            }
        }
    }
    if let Some(mb) = raw.max_mb {
        if (1..=MAX_MB_LIMIT).contains(&mb) {
            rules.max_bytes = u64::from(mb) * 1_000_000;
        } else {
            cx.error(
                "LOT-E138",
                at,
                format!("file field \"{id}\": max_mb is {mb}; it must be 1 to {MAX_MB_LIMIT}"),
            );
        }
    }
    if let Some(n) = raw.max_files {
        if (1..=MAX_FILES_LIMIT).contains(&n) {
            rules.max_files = n;
        } else {
            cx.error(
                "LOT-E138",
                at,
                format!("file field \"{id}\": max_files is {n}; it must be 1 to {MAX_FILES_LIMIT}"),
            );
        }
    }
    Some(rules)
}

fn check_message_keys(cx: &mut Ctx<'_>, fx: &FieldCx<'_>) {
    let id = &fx.id;
    for key in fx.f.messages.keys() {
        if !ErrorKind::KEYS.contains(&key.as_str()) {
            cx.error_help(
                "LOT-E015",
                fx.at,
                format!("field \"{id}\" has a message for \"{key}\", which is not a kind of error"),
                format!("kinds: {}", ErrorKind::KEYS.join(", ")),
            );
        }
    }
}

/// The schema: as written, or built from the widget and options, or from sub-fields (which are
/// compiled here and returned with it).
fn written_schema(
    cx: &mut Ctx<'_>,
    fx: &FieldCx<'_>,
    names: &Names,
    widget: Option<Widget>,
    files: Option<&FileRules>,
) -> Option<(Value, Vec<Field>)> {
    let id = &fx.id;
    if let Some(rules) = files {
        // The answer of a file field is the list of stored files; its shape is the engine's.
        if fx.f.schema.is_some() || !fx.f.fields.is_empty() {
            cx.error(
                "LOT-E137",
                fx.schema_at,
                format!("file field \"{id}\" has a `schema` or `fields`; what it accepts is written under `files:` (accept, max_mb, max_files)"),
            );
            return None;
        }
        return Some((rules.schema(), Vec::new()));
    }
    let schema = match (&fx.f.schema, !fx.f.fields.is_empty()) {
        (Some(s), false) => s.value.clone(),
        (Some(_), true) => {
            cx.error(
                "LOT-E016",
                fx.schema_at,
                format!("group \"{id}\" has both `schema` and `fields`; use one of them"),
            );
            return None;
        }
        (None, true) => return Some(group_schema(cx, fx.f, names)),
        (None, false) => match widget {
            Some(Widget::Text) | None => json!({"type": "string", "maxLength": 200}),
            Some(Widget::Textarea) => json!({"type": "string", "maxLength": 5000}),
            Some(Widget::Number) => json!({"type": "number"}),
            Some(Widget::Date) => json!({"type": "string", "format": "date"}),
            Some(Widget::Checkbox) => json!({"type": "boolean"}),
            Some(Widget::Radio) | Some(Widget::Select) => json!({}),
            // The options' values go into `items` (`options_of`).
            Some(Widget::Checkboxes) => json!({"type": "array", "items": {}, "uniqueItems": true}),
            // Without rules (a sub-field, refused in `files_of`): never reached with a value.
            Some(Widget::File) => json!({"type": "array"}),
            Some(Widget::Group) => {
                cx.error(
                    "LOT-E016",
                    fx.at,
                    format!("group \"{id}\" needs `fields` or a `schema` (e.g. $ref: person.json)"),
                );
                return None;
            }
        },
    };
    Some((schema, Vec::new()))
}

/// A group written with `fields`: an object of its sub-fields' schemas.
fn group_schema(cx: &mut Ctx<'_>, f: &RawField, names: &Names) -> (Value, Vec<Field>) {
    let mut subfields = Vec::new();
    let mut props = serde_json::Map::new();
    let mut required = Vec::new();
    // A sub-field's conditions read the entry they are in as `item` (`item.grund`), besides
    // every answer of the workflow.
    let with_item = Names::new(
        names
            .iter()
            .map(str::to_string)
            .chain(std::iter::once(ITEM.to_string())),
    );
    for sf in &f.fields {
        if let Some(sub) = compile_field(cx, sf, &with_item, false) {
            props.insert(sub.id.clone(), sub.schema.clone());
            if matches!(sub.required, Required::Always) {
                required.push(Value::String(sub.id.clone()));
            }
            subfields.push(sub);
        }
    }
    let schema = json!({"type": "object", "properties": props, "required": required, "additionalProperties": false});
    (schema, subfields)
}

/// Every $ref must resolve locally, with a precise reason when not; then what the schema says
/// a value looks like, through its $refs.
fn resolve_schema(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, schema: &Value) -> Option<Resolved> {
    let id = &fx.id;
    let unresolved = cx.forms.unresolved_refs(None, schema);
    for e in &unresolved {
        cx.error("LOT-E013", fx.schema_at, format!("field \"{id}\": {e}"));
    }
    if !unresolved.is_empty() {
        return None;
    }
    match cx.forms.deref(None, schema, schema) {
        Ok((file, s)) => Some((file.map(str::to_string), s.clone())),
        Err(e) => {
            cx.error("LOT-E013", fx.schema_at, format!("field \"{id}\": {e}"));
            None
        }
    }
}

/// Options: from the field (then also the schema's `enum` when it has none), or from the
/// schema's enum / oneOf-const.
fn options_of(
    f: &RawField,
    widget: Option<Widget>,
    resolved: &Value,
    schema: &mut Value,
) -> Vec<Choice> {
    // Checkboxes answer with a list: their choices are the values of its items.
    if widget == Some(Widget::Checkboxes) {
        let items = resolved.get("items").cloned().unwrap_or(Value::Null);
        let mut item_schema = schema.get("items").cloned().unwrap_or_else(|| json!({}));
        let options = options_of(f, None, &items, &mut item_schema);
        if let Value::Object(map) = schema {
            map.insert("items".into(), item_schema);
        }
        return options;
    }
    let options: Vec<Choice> = f
        .options
        .iter()
        .map(|o| Choice {
            value: o.value.clone(),
            label: o.label.clone(),
        })
        .collect();
    if options.is_empty() {
        return schema_choices(resolved);
    }
    if resolved.get("enum").is_none()
        && resolved.get("oneOf").is_none()
        && let Value::Object(map) = schema
    {
        map.insert(
            "enum".into(),
            Value::Array(options.iter().map(|c| c.value.clone()).collect()),
        );
    }
    options
}

fn check_choices(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, widget: Widget, options: &[Choice]) {
    if matches!(widget, Widget::Radio | Widget::Select | Widget::Checkboxes) && options.is_empty() {
        cx.error_help(
            "LOT-E014",
            fx.at,
            format!(
                "field \"{}\" (widget: {}) has no choices",
                fx.id,
                match widget {
                    Widget::Radio => "radio",
                    Widget::Checkboxes => "checkboxes",
                    _ => "select",
                }
            ),
            "add `options: [{value: ..., label: ...}]` or an `enum` in the schema",
        );
    }
    // A checkbox is one yes-or-no question: its answer is true or false, and options would be
    // offered nowhere and compared with nothing.
    if widget == Widget::Checkbox && !fx.f.options.is_empty() {
        cx.error_help(
            "LOT-E141",
            fx.at,
            format!(
                "field \"{}\" is a checkbox with options: a checkbox asks one yes-or-no question \
                 (its answer is true or false), so its options would never be offered",
                fx.id
            ),
            "for one of several choices use `widget: radio` (or `select`); for a yes-or-no \
             question remove `options` and put the question in the label",
        );
    }
    // A closed list shows one line of its choice: on a phone about 35 to 40 characters.
    if widget == Widget::Select {
        let long = options
            .iter()
            .flat_map(|c| [c.label.german(), c.label.get(crate::text::Lang::En)])
            .find(|l| l.chars().count() > LONGEST_LIST_CHOICE);
        if let Some(label) = long {
            cx.warn(
                "LOT-E139",
                fx.at,
                format!(
                    "field \"{}\" is a select list whose choice \"{label}\" has {} characters: \
                     a phone shows about {LONGEST_LIST_CHOICE} of them in the closed list and cuts \
                     the rest; offer the choices as `widget: radio` or shorten them",
                    fx.id,
                    label.chars().count()
                ),
            );
        }
    }
}

/// The longest choice (in characters) a select list shows whole on a phone.
const LONGEST_LIST_CHOICE: usize = 40;

/// A group given by schema ($ref: person.json): sub-fields come from its properties.
fn schema_subfields(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, resolved: &Resolved) -> Vec<Field> {
    let id = &fx.id;
    let item_schema = if fx.f.repeat.is_some() {
        resolved
            .1
            .get("items")
            .cloned()
            .unwrap_or(resolved.1.clone())
    } else {
        resolved.1.clone()
    };
    let mut subfields = Vec::new();
    match cx
        .forms
        .deref(resolved.0.as_deref(), &item_schema, &item_schema)
    {
        Ok((file, obj)) => {
            subfields = derive_subfields(cx.forms, file, obj);
        }
        Err(e) => cx.error("LOT-E013", fx.schema_at, format!("field \"{id}\": {e}")),
    }
    if subfields.is_empty() {
        cx.error(
            "LOT-E016",
            fx.schema_at,
            format!("group \"{id}\": its schema has no properties to ask for"),
        );
    }
    subfields
}

/// A repeatable group is an array of its items.
fn repeat_of(
    cx: &mut Ctx<'_>,
    fx: &FieldCx<'_>,
    widget: Widget,
    explicit_subfields: bool,
    schema: &mut Value,
) -> Option<Repeat> {
    let id = &fx.id;
    let r = fx.f.repeat.as_ref()?;
    let repeat = Repeat {
        min: r.min,
        max: r
            .max
            .unwrap_or(super::super::raw::DEFAULT_REPEAT_MAX.max(r.min)),
        item_label: r.item_label.clone(),
        add_label: r.add_label.clone(),
    };
    if widget != Widget::Group {
        cx.error(
            "LOT-E016",
            fx.at,
            format!("field \"{id}\": `repeat` is only for groups"),
        );
    }
    if repeat.max == 0 || repeat.min > repeat.max {
        cx.error(
            "LOT-E016",
            fx.at,
            format!("field \"{id}\": repeat needs 0 <= min <= max and max >= 1"),
        );
    }
    if explicit_subfields || schema.get("type").and_then(Value::as_str) != Some("array") {
        *schema = json!({"type": "array", "items": schema.take(), "minItems": repeat.min, "maxItems": repeat.max});
    }
    Some(repeat)
}

/// Compiles the schema (meta-validation included) for top-level fields; a sub-field's schema
/// is only meta-validated (the group's validator checks its values).
fn validator_of(
    cx: &mut Ctx<'_>,
    fx: &FieldCx<'_>,
    schema: &Value,
) -> Option<Arc<jsonschema::Validator>> {
    let id = &fx.id;
    if fx.top {
        match cx.compiler.compile(schema) {
            Ok(v) => Some(Arc::new(v)),
            Err(e) => {
                cx.error("LOT-E012", fx.schema_at, format!("field \"{id}\": {e}"));
                None
            }
        }
    } else {
        if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
            cx.error(
                "LOT-E012",
                fx.schema_at,
                format!("field \"{id}\": not a valid JSON Schema (draft 2020-12): {e}"),
            );
        }
        None
    }
}

fn required_of(
    cx: &mut Ctx<'_>,
    fx: &FieldCx<'_>,
    names: &Names,
    widget: Widget,
    repeat: Option<&Repeat>,
) -> Required {
    let id = &fx.id;
    let Some(r) = &fx.f.required else {
        return if widget == Widget::Checkbox || repeat.is_some_and(|r| r.min == 0) {
            Required::Never
        } else {
            Required::Always
        };
    };
    match &r.value {
        RawRequired::Always(true) => Required::Always,
        RawRequired::Always(false) => Required::Never,
        RawRequired::When(src) => {
            let spanned = Spanned {
                value: src.clone(),
                referenced: r.referenced,
                defined: r.defined,
            };
            match cx.expr(
                &format!("required of field \"{id}\""),
                &spanned,
                names,
                false,
            ) {
                Some(e) => Required::When(e),
                None => Required::Always,
            }
        }
    }
}

fn visible_if_of(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, names: &Names) -> Option<Expr> {
    let id = &fx.id;
    let src = fx.f.visible_if.as_ref()?;
    let e = cx.expr(&format!("visible_if of field \"{id}\""), src, names, false);
    if let Some(e) = &e
        && e.mentions.contains(id)
    {
        cx.error(
            "LOT-E022",
            pos(src),
            format!("field \"{id}\" decides its own visibility; that is a cycle"),
        );
    }
    e
}

/// The label: written, or the schema's `title`.
fn label_of(cx: &mut Ctx<'_>, fx: &FieldCx<'_>, resolved: &Value) -> Text {
    let label =
        fx.f.label
            .clone()
            .or_else(|| super::schema::schema_text(&[resolved], "title"));
    match label {
        Some(l) => l,
        None => {
            cx.error(
                "LOT-E005",
                fx.at,
                format!("field \"{}\" needs a `label`", fx.id),
            );
            Text::de(fx.id.clone())
        }
    }
}

/// Help and autocomplete: written, or the schema's `description` and `x-autocomplete`.
fn texts_of(f: &RawField, resolved: &Value) -> (Option<Text>, Option<String>) {
    let help = f
        .help
        .clone()
        .or_else(|| super::schema::schema_text(&[resolved], "description"));
    let autocomplete = f.autocomplete.clone().or_else(|| {
        resolved
            .get("x-autocomplete")
            .and_then(Value::as_str)
            .map(str::to_string)
    });
    (help, autocomplete)
}

/// The step page marks a field that may stay empty with "(freiwillig)" itself: a label that
/// says so too would read "Anlass (freiwillig) (freiwillig)", and a help text that starts with
/// "Freiwillig" says it a second time under the label (LOT-E142, a warning).
#[cfg(not(target_family = "wasm"))]
fn warn_marked_optional(
    cx: &mut Ctx<'_>,
    fx: &FieldCx<'_>,
    (label, help): (&Text, Option<&Text>),
    required: &Required,
    widget: Widget,
) {
    if !matches!(required, Required::Never) || widget == Widget::Checkbox {
        return;
    }
    let en = crate::text::Lang::En;
    let marked = [
        (label.german(), "(freiwillig)"),
        (label.get(en), "(optional)"),
    ]
    .into_iter()
    .find(|(text, mark)| text.trim_end().to_lowercase().ends_with(mark));
    if let Some((text, mark)) = marked {
        cx.warn(
            "LOT-E142",
            fx.at,
            format!(
                "field \"{}\": the label \"{text}\" ends with \"{mark}\", which the page adds \
                 itself to a field that may stay empty; remove it from the label",
                fx.id
            ),
        );
    }
    let said = help.and_then(|h| {
        [h.german(), h.get(en)]
            .into_iter()
            .find(|text| super::answerable::says_optional(text))
    });
    if let Some(text) = said {
        cx.warn(
            "LOT-E142",
            fx.at,
            format!(
                "field \"{}\": the help \"{text}\" says the field may stay empty, which the \
                 page's \"(freiwillig)\" after the label says already; start with what the \
                 answer is for",
                fx.id
            ),
        );
    }
}
