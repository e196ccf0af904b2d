//! The portal's page structs, one per template, and how the assistant's pages are built from
//! a draft: one step with its fields (values, errors, hints tied with aria-describedby, repeat
//! entries, options), or the review. Handlers in `catalogue`, `assistant` and `status` fill the
//! others.

use axum::response::Response;
use lotse_core::Lang;
use lotse_core::application::{Position, ReviewEntry, ReviewView};
use lotse_core::definition::{Field, Required, Step, Widget};
use lotse_core::form::FieldError;
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;

use crate::http::pages::{Layout, Page, not_found, tr};
use crate::service::OpenDraft;
use crate::state::AppState;
use crate::tenants::Tenant;

/// The status page of a submission (also the confirmation after sending): reference, status,
/// messages, timeline, and the form to answer an open Rückfrage.
#[derive(Serialize)]
pub(super) struct StatusPage<'a> {
    #[serde(flatten)]
    pub(super) layout: Layout,
    pub(super) st: &'static StatusTexts,
    pub(super) reference: String,
    /// The current status' label.
    pub(super) status: &'static str,
    pub(super) submission: &'a str,
    pub(super) timeline: Vec<TimelineEntry>,
    pub(super) messages: Vec<MessageView>,
    /// Only while the office waits for an answer.
    pub(super) answer: Option<AnswerForm<'a>>,
    /// "Wie geht es weiter?" from the workflow, if it says.
    pub(super) next: Option<NextView>,
    /// The direct debit mandate given with the application, with its reference.
    pub(super) mandate: Option<crate::mandate::MandateView>,
}

#[derive(Serialize)]
pub(super) struct NextView {
    pub(super) processing_time: Option<String>,
    pub(super) steps: Vec<String>,
}

impl Page for StatusPage<'_> {
    const TEMPLATE: &'static str = "done";
}

#[derive(Serialize)]
pub(super) struct TimelineEntry {
    pub(super) when: String,
    pub(super) status: &'static str,
    pub(super) note: Option<String>,
}

#[derive(Serialize)]
pub(super) struct MessageView {
    pub(super) when: String,
    /// Who wrote it, as the citizen reads it ("Sie", "Verwaltung").
    pub(super) from: &'static str,
    pub(super) body: String,
}

#[derive(Serialize)]
pub(super) struct AnswerForm<'a> {
    pub(super) csrf: String,
    /// Why the last answer was refused, and what it said.
    pub(super) error: Option<&'a str>,
    pub(super) value: Option<&'a str>,
}

/// The status page's own texts (`st.<name>`).
#[derive(Serialize)]
pub(super) struct StatusTexts {
    pub(super) timeline: &'static str,
    pub(super) messages: &'static str,
    pub(super) from_office: &'static str,
    pub(super) from_you: &'static str,
    pub(super) answer_heading: &'static str,
    pub(super) answer_label: &'static str,
    pub(super) answer_hint: &'static str,
    pub(super) answer_button: &'static str,
    pub(super) next_heading: &'static str,
    pub(super) processing_time: &'static str,
    pub(super) no_messages: &'static str,
}

impl StatusTexts {
    pub(super) fn of(lang: Lang) -> &'static StatusTexts {
        if lang == Lang::En {
            &STATUS_EN
        } else {
            &STATUS_DE
        }
    }
}

static STATUS_DE: StatusTexts = StatusTexts {
    timeline: "Verlauf",
    messages: "Nachrichten",
    from_office: "Verwaltung",
    from_you: "Sie",
    answer_heading: "Rückfrage beantworten",
    answer_label: "Ihre Antwort",
    answer_hint: "Bitte beantworten Sie die Frage der Verwaltung. Sie können einmal antworten; danach bearbeitet die Verwaltung Ihren Antrag weiter.",
    answer_button: "Antwort senden",
    next_heading: "Wie geht es weiter?",
    processing_time: "Bearbeitungszeit:",
    no_messages: "Noch keine Nachrichten.",
};

static STATUS_EN: StatusTexts = StatusTexts {
    timeline: "Progress",
    messages: "Messages",
    from_office: "Office",
    from_you: "You",
    answer_heading: "Answer the query",
    answer_label: "Your answer",
    answer_hint: "Please answer the office's question. You can answer once; the office then continues with your application.",
    answer_button: "Send answer",
    next_heading: "What happens next?",
    processing_time: "Processing time:",
    no_messages: "No messages yet.",
};

/// One step of the assistant with its fields.
#[derive(Serialize)]
struct StepPage<'a> {
    #[serde(flatten)]
    layout: Layout,
    step: &'a str,
    step_title: Cow<'a, str>,
    step_help: Option<Cow<'a, str>>,
    fields: Vec<FieldView<'a>>,
    /// The error summary at the top, each linked to its field.
    errors: Vec<ErrorLink<'a>>,
    /// Step n of m.
    progress: (usize, usize),
    /// Where "Zurück" leads (a link): the previous step, or the review from a change.
    back: Option<String>,
    /// An entry just removed, with "Rückgängig machen".
    removed: Option<RemovedView>,
    draft: String,
    csrf: String,
    revision: u64,
    resume_code: String,
    /// In the designers' preview: why the step applies and where it leads.
    dev: Option<DevView<'a>>,
    /// The day the draft expires (`31.12.2026`).
    expires: String,
    /// An end page: the assistant ends here (no "Speichern und weiter", nothing to send).
    end: bool,
    /// The step's links (on an end page: where to go instead).
    links: Vec<LinkView<'a>>,
}

/// A link on a step, in the citizen's language; `external` when it leaves the portal.
#[derive(Serialize)]
struct LinkView<'a> {
    label: Cow<'a, str>,
    href: &'a str,
    external: bool,
}

impl Page for StepPage<'_> {
    const TEMPLATE: &'static str = "step";
}

/// An entry removed from a repeatable group: its name ("Hund 2"); what it held stays in the
/// draft for "Rückgängig machen".
#[derive(Serialize)]
struct RemovedView {
    label: Option<String>,
}

impl RemovedView {
    fn of(step: &Step, removed: &Value, lang: Lang) -> RemovedView {
        let label = Some(removed).and_then(|v| {
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
        RemovedView { label }
    }
}

#[derive(Serialize)]
struct ErrorLink<'a> {
    /// The `id` of the field in error.
    target: String,
    message: &'a str,
}

#[derive(Serialize)]
struct DevView<'a> {
    applies_if: Option<&'a str>,
    branches: Vec<BranchView<'a>>,
    default: &'a str,
    explanations: Vec<String>,
    route: String,
}

#[derive(Serialize)]
struct BranchView<'a> {
    condition: &'a str,
    to: &'a str,
}

/// One field of a step, whatever its widget: the flags say which, and what a widget does not
/// use stays empty (`null`, `false`, `[]`).
#[derive(Serialize)]
struct FieldView<'a> {
    id: &'a str,
    /// The form field's name (`anschrift.plz`, `hunde.0.name`).
    name: String,
    html_id: String,
    /// The label and help, with the values they show (`{ersatzbaeume}`) filled in.
    label: Cow<'a, str>,
    help: Option<Cow<'a, str>>,
    error: Option<&'a str>,
    /// The ids of the hint and the error, for `aria-describedby` (may be empty).
    describedby: String,
    optional: bool,
    autocomplete: Option<&'a str>,
    placeholder: Option<&'a str>,
    is_group: bool,
    is_choice_group: bool,
    is_select: bool,
    is_checkbox: bool,
    is_textarea: bool,
    /// `text`, `date`, `number`, `email` or `tel` for an input; `None` for other widgets.
    input_type: Option<&'static str>,
    /// For a field that applies only after an answer on this step: "Nur wenn Sie bei „…“ „Ja“
    /// gewählt haben:" (the page works without JavaScript, so it shows the field with its
    /// condition; the server decides).
    condition: Option<String>,
    /// For such a field: the input it depends on and the answer that shows it, for the
    /// script that reveals it as the citizen answers (`data-reveal-*`).
    reveal: Option<Reveal>,
    /// A width class that fits the expected answer (`w-5` for a postcode, `w-10` for a date or
    /// house number, `w-20`), or `None` for the full width.
    width: Option<&'static str>,
    /// The text shown in an input or textarea; `None` for other widgets.
    value: Option<String>,
    checked: bool,
    options: Vec<OptionView<'a>>,
    /// The subfields of a group that is not repeated.
    fields: Vec<FieldView<'a>>,
    /// The entries of a repeated group.
    items: Vec<ItemView<'a>>,
    can_add: bool,
    add_label: Option<String>,
}

/// The name of the input a field depends on and the value (as the form posts it) that shows
/// the field.
#[derive(Serialize)]
struct Reveal {
    field: String,
    value: String,
}

#[derive(Serialize)]
struct OptionView<'a> {
    value: String,
    label: &'a str,
    selected: bool,
}

/// One entry of a repeated group.
#[derive(Serialize)]
struct ItemView<'a> {
    legend: String,
    index: usize,
    fields: Vec<FieldView<'a>>,
}

/// The review before sending: the answers by step with change links, the computed values.
#[derive(Serialize)]
struct ReviewPage<'a> {
    #[serde(flatten)]
    layout: Layout,
    review: ReviewSummary<'a>,
    /// Where "Zurück" leads: the last step.
    back: Option<String>,
    /// The "Ändern" links: this plus `/{step}`.
    change_base: &'a str,
    /// The direct debit mandate the answers give, shown in full before sending.
    mandate: Option<crate::mandate::MandateView>,
    /// The workflow's declaration, ticked above "Absenden" (empty: none).
    declaration: Vec<StatementView<'a>>,
    declaration_title: &'static str,
    /// The error summary: the statements not ticked at the last submit.
    errors: Vec<ErrorLink<'a>>,
    draft: String,
    csrf: String,
    revision: u64,
}

impl Page for ReviewPage<'_> {
    const TEMPLATE: &'static str = "review";
}

/// One statement of the declaration: a required checkbox.
#[derive(Serialize)]
struct StatementView<'a> {
    id: &'a str,
    html_id: String,
    label: &'a str,
    checked: bool,
    error: Option<&'a str>,
}

#[derive(Serialize)]
struct ReviewSummary<'a> {
    steps: Vec<ReviewStepView<'a>>,
    computed: Vec<ReviewLine<'a>>,
}

#[derive(Serialize)]
struct ReviewStepView<'a> {
    step: &'a str,
    title: &'a str,
    /// The answers of the step: a block of single answers, then one block per group and per
    /// repeated entry ("Hund 1", "Hund 2"), each answer a row with its own "Ändern".
    blocks: Vec<ReviewBlock>,
}

#[derive(Serialize, Default)]
struct ReviewBlock {
    heading: Option<String>,
    rows: Vec<ReviewRow>,
}

#[derive(Serialize)]
struct ReviewRow {
    label: String,
    value: String,
    /// The change page of the step, at this answer's input.
    change: String,
}

/// The rows of one step's answers, in blocks (see [`ReviewStepView::blocks`]).
fn review_blocks(entries: &[ReviewEntry], change: &str) -> Vec<ReviewBlock> {
    use lotse_core::application::Display;
    let row = |label: &str, value: String, name: &str| ReviewRow {
        label: label.to_string(),
        value,
        change: format!("{change}#{}", html_id(name)),
    };
    let mut blocks: Vec<ReviewBlock> = Vec::new();
    for e in entries {
        match &e.value {
            Display::Text { text } => {
                if blocks.last().is_none_or(|b| b.heading.is_some()) {
                    blocks.push(ReviewBlock::default());
                }
                if let Some(b) = blocks.last_mut() {
                    b.rows.push(row(&e.label, text.clone(), &e.field));
                }
            }
            Display::Group { entries } => blocks.push(ReviewBlock {
                heading: Some(e.label.clone()),
                rows: entries
                    .iter()
                    .map(|sub| {
                        row(
                            &sub.label,
                            sub.value.flat(),
                            &format!("{}.{}", e.field, sub.field),
                        )
                    })
                    .collect(),
            }),
            Display::List { items, item_label } => {
                for (i, item) in items.iter().enumerate() {
                    blocks.push(ReviewBlock {
                        heading: Some(format!("{item_label} {}", i + 1)),
                        rows: item
                            .iter()
                            .map(|sub| {
                                row(
                                    &sub.label,
                                    sub.value.flat(),
                                    &format!("{}.{i}.{}", e.field, sub.field),
                                )
                            })
                            .collect(),
                    });
                }
            }
        }
    }
    blocks
}

#[derive(Serialize)]
struct ReviewLine<'a> {
    label: &'a str,
    flat: String,
}

impl ReviewLine<'_> {
    fn of(e: &ReviewEntry) -> ReviewLine<'_> {
        ReviewLine {
            label: &e.label,
            flat: e.value.flat(),
        }
    }
}

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

/// The error at a JSON pointer; each shown once, at its field.
fn error_at<'a>(errors: &'a [FieldError], pointer: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.pointer == pointer)
        .map(|e| e.message.as_str())
}

/// Where the field a JSON pointer names (`/hunde/1/name`) stands on the step: the positions of
/// its field, entry and subfield, for sorting errors in page order.
fn page_order(step: &Step, pointer: &str) -> Vec<usize> {
    let mut key = Vec::new();
    let mut fields: &[Field] = &step.fields;
    for segment in pointer.trim_start_matches('/').split('/') {
        if let Ok(i) = segment.parse::<usize>() {
            key.push(i);
            continue;
        }
        match fields.iter().position(|f| f.id == segment) {
            Some(i) => {
                key.push(i);
                fields = &fields[i].subfields;
            }
            None => key.push(usize::MAX),
        }
    }
    key
}

/// The `id` of the first input of the field a JSON pointer names: the field itself, the first
/// option of a radio group, the first input inside a group.
fn first_input(step: &Step, pointer: &str) -> String {
    let name = pointer.trim_start_matches('/').replace('/', ".");
    let mut fields: &[Field] = &step.fields;
    let mut field: Option<&Field> = None;
    for segment in pointer.trim_start_matches('/').split('/') {
        if segment.parse::<usize>().is_ok() {
            continue;
        }
        field = fields.iter().find(|f| f.id == segment);
        fields = field.map_or(&[][..], |f| &f.subfields[..]);
    }
    let mut name = name;
    // Into a group: its first field (the first entry's, for a repeated one).
    while let Some(f) = field.filter(|f| f.widget == Widget::Group) {
        let Some(first) = f.subfields.first() else {
            break;
        };
        name = if f.repeat.is_some() && !name.ends_with(|c: char| c.is_ascii_digit()) {
            format!("{name}.0.{}", first.id)
        } else {
            format!("{name}.{}", first.id)
        };
        field = Some(first);
    }
    match field {
        Some(f) if f.widget == Widget::Radio => format!("{}-0", html_id(&name)),
        _ => html_id(&name),
    }
}

/// The condition of `f` in the citizen's words, when it is one answer of another field on this
/// step (`ermaessigung == "ja"`): which answer it needs.
fn condition_note(step: &Step, f: &Field, lang: Lang) -> Option<String> {
    let (name, value) = f.visible_if.as_ref()?.equality()?;
    let on = step.fields.iter().find(|o| o.id == name)?;
    note_for(on, &value, lang)
}

/// A sub-field's condition on another field of its own entry (`item.grund == "krank"`): the
/// sibling's id and the answer it needs.
fn entry_equality(f: &Field) -> Option<(&str, Value)> {
    let source = f.visible_if.as_ref()?.source().trim();
    let (left, right) = source.split_once("==")?;
    let sibling = left.trim().strip_prefix("item.")?;
    if !sibling
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        return None;
    }
    let right = right.trim();
    let value = match right {
        "true" => Value::Bool(true),
        _ => {
            let inner = right.strip_prefix('"')?.strip_suffix('"')?;
            if inner.contains(['"', '\\']) {
                return None;
            }
            Value::String(inner.to_string())
        }
    };
    Some((sibling, value))
}

/// For a sub-field of `group`'s entry named `entry` (`baeume.1`): its condition note and reveal
/// mark, when its condition is one answer of a sibling.
fn entry_condition(group: &Field, sf: &Field, entry: &str, lang: Lang) -> Option<(String, Reveal)> {
    let (sibling, value) = entry_equality(sf)?;
    let on = group.subfields.iter().find(|o| o.id == sibling)?;
    let note = note_for(on, &value, lang)?;
    Some((
        note,
        Reveal {
            field: format!("{entry}.{sibling}"),
            value: text_of(Some(&value)),
        },
    ))
}

/// Whether a text of `step` (its title, help, links, a field's label or help) shows a value.
fn step_shows_values(step: &Step, lang: Lang) -> bool {
    fn field_shows(f: &Field, lang: Lang) -> bool {
        let shows =
            |t: &lotse_core::Text| !lotse_core::application::placeholders(t.get(lang)).is_empty();
        shows(&f.label)
            || f.help.as_ref().is_some_and(shows)
            || f.subfields.iter().any(|s| field_shows(s, lang))
    }
    let shows =
        |t: &lotse_core::Text| !lotse_core::application::placeholders(t.get(lang)).is_empty();
    shows(&step.title)
        || step.help.as_ref().is_some_and(shows)
        || step.links.iter().any(|l| shows(&l.label))
        || step.fields.iter().any(|f| field_shows(f, lang))
}

/// Fills in the values the labels and help texts of `fields` show, sub-fields too.
fn fill_fields(fields: &mut [FieldView<'_>], filled: &dyn Fn(&str) -> Option<String>) {
    for v in fields {
        if let Some(label) = filled(&v.label) {
            v.label = Cow::Owned(label);
        }
        if let Some(help) = v.help.as_deref().and_then(filled) {
            v.help = Some(Cow::Owned(help));
        }
        fill_fields(&mut v.fields, filled);
        for item in &mut v.items {
            fill_fields(&mut item.fields, filled);
        }
    }
}

/// "Nur wenn Sie bei „…“ „…“ gewählt haben:" for the answer `value` of field `on`.
fn note_for(on: &Field, value: &Value, lang: Lang) -> Option<String> {
    let value = value.clone();
    let label = on.label.get(lang);
    if on.widget == Widget::Checkbox && value == Value::Bool(true) {
        return Some(tr_fmt(
            lang,
            format!("Nur wenn Sie „{label}“ angekreuzt haben:"),
            format!("Only if you ticked “{label}”:"),
        ));
    }
    let choice = on
        .options
        .iter()
        .find(|o| o.value == value)?
        .label
        .get(lang);
    Some(tr_fmt(
        lang,
        format!("Nur wenn Sie bei „{label}“ „{choice}“ gewählt haben:"),
        format!("Only if you chose “{choice}” for “{label}”:"),
    ))
}

/// What the reveal script needs for a field with a [`condition_note`]: the other field's input
/// name and the posted text of the answer.
fn reveal_of(f: &Field) -> Option<Reveal> {
    let (name, value) = f.visible_if.as_ref()?.equality()?;
    Some(Reveal {
        field: name.to_string(),
        value: text_of(Some(&value)),
    })
}

fn tr_fmt(lang: Lang, de: String, en: String) -> String {
    if lang == Lang::En { en } else { de }
}

/// The width of an input that fits what it expects: from the field's `maxLength`, its kind
/// (a date, a number) or its autocomplete token (a postcode).
fn input_width(f: &Field) -> Option<&'static str> {
    let max = f.schema.get("maxLength").and_then(Value::as_u64);
    match (f.widget, f.autocomplete.as_deref(), max) {
        (_, Some("postal-code"), _) => Some("w-5"),
        (Widget::Date, _, _) | (Widget::Number, _, _) => Some("w-10"),
        (_, _, Some(n)) if n <= 5 => Some("w-5"),
        (_, _, Some(n)) if n <= 10 => Some("w-10"),
        (_, _, Some(n)) if n <= 30 => Some("w-20"),
        _ => None,
    }
}

fn field_view<'a>(
    f: &'a Field,
    name: String,
    pointer: &str,
    value: Option<&Value>,
    errors: &'a [FieldError],
    required: bool,
    lang: Lang,
) -> FieldView<'a> {
    let id = html_id(&name);
    let error = error_at(errors, pointer);
    let mut described = Vec::new();
    if f.help.is_some() {
        described.push(format!("{id}-hint"));
    }
    if error.is_some() {
        described.push(format!("{id}-error"));
    }
    let mut v = FieldView {
        id: &f.id,
        html_id: id,
        label: Cow::Borrowed(f.label.get(lang)),
        help: f.help.as_ref().map(|h| Cow::Borrowed(h.get(lang))),
        error,
        describedby: described.join(" "),
        optional: !required && f.widget != Widget::Checkbox,
        autocomplete: f.autocomplete.as_deref(),
        placeholder: f.placeholder.as_ref().map(|p| p.get(lang)),
        is_group: false,
        is_choice_group: false,
        is_select: false,
        is_checkbox: false,
        is_textarea: false,
        input_type: None,
        condition: None,
        reveal: None,
        width: None,
        value: None,
        checked: false,
        options: Vec::new(),
        fields: Vec::new(),
        items: Vec::new(),
        can_add: false,
        add_label: None,
        name,
    };
    // A sub-field required only for some entries (`required: item.grund == "sonstiges"`) is
    // not marked "(freiwillig)": for the entries it concerns, it is not.
    let sub_required = |sf: &Field| !matches!(sf.required, Required::Never);
    match f.widget {
        Widget::Group => {
            v.is_group = true;
            if let Some(rep) = &f.repeat {
                let items: &[Value] = match value {
                    Some(Value::Array(a)) => a,
                    _ => &[],
                };
                let count = items.len().max(rep.min as usize).max(1);
                let item_label = rep
                    .item_label
                    .as_ref()
                    .map(|t| t.get(lang).to_string())
                    .unwrap_or_else(|| f.label.get(lang).to_string());
                v.items = (0..count)
                    .map(|i| {
                        let item = items.get(i);
                        ItemView {
                            legend: format!("{item_label} {}", i + 1),
                            index: i,
                            fields: f
                                .subfields
                                .iter()
                                .map(|sf| {
                                    let mut sv = field_view(
                                        sf,
                                        format!("{}.{i}.{}", v.name, sf.id),
                                        &format!("{pointer}/{i}/{}", sf.id),
                                        item.and_then(|it| it.get(&sf.id)),
                                        errors,
                                        sub_required(sf),
                                        lang,
                                    );
                                    let entry = format!("{}.{i}", v.name);
                                    if let Some((note, reveal)) =
                                        entry_condition(f, sf, &entry, lang)
                                    {
                                        sv.condition = Some(note);
                                        sv.reveal = Some(reveal);
                                    }
                                    sv
                                })
                                .collect(),
                        }
                    })
                    .collect();
                v.can_add = count < rep.max as usize;
                v.add_label = Some(
                    rep.add_label
                        .as_ref()
                        .map(|t| t.get(lang).to_string())
                        .unwrap_or_else(|| {
                            format!("{item_label} {}", tr(lang, "hinzufügen", "add"))
                        }),
                );
            } else {
                v.fields = f
                    .subfields
                    .iter()
                    .map(|sf| {
                        field_view(
                            sf,
                            format!("{}.{}", v.name, sf.id),
                            &format!("{pointer}/{}", sf.id),
                            value.and_then(|o| o.get(&sf.id)),
                            errors,
                            sub_required(sf),
                            lang,
                        )
                    })
                    .collect();
            }
        }
        Widget::Radio | Widget::Select => {
            if f.widget == Widget::Radio {
                v.is_choice_group = true;
            } else {
                v.is_select = true;
            }
            let current = text_of(value);
            v.options = f
                .options
                .iter()
                .map(|o| {
                    let value = text_of(Some(&o.value));
                    OptionView {
                        selected: !current.is_empty() && value == current,
                        value,
                        label: o.label.get(lang),
                    }
                })
                .collect();
        }
        Widget::Checkbox => {
            v.is_checkbox = true;
            v.checked = value == Some(&Value::Bool(true)) || text_of(value) == "true";
        }
        Widget::Textarea => {
            v.is_textarea = true;
            v.value = Some(text_of(value));
        }
        w => {
            v.input_type = Some(match (w, f.autocomplete.as_deref()) {
                (Widget::Date, _) => "date",
                (Widget::Number, _) => "number",
                (_, Some("email")) => "email",
                (_, Some("tel")) => "tel",
                _ => "text",
            });
            v.width = input_width(f);
            v.value = Some(text_of(value));
        }
    }
    v
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
    pub removed: Option<Value>,
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
            let ticked = posted.unwrap_or_default();
            let declaration = wf
                .declaration
                .iter()
                .map(|s| StatementView {
                    id: &s.id,
                    html_id: html_id(&format!("declaration.{}", s.id)),
                    label: s.label.get(lang),
                    checked: ticked.contains_key(&s.id),
                    error: error_at(&errors, &format!("/declaration/{}", s.id)),
                })
                .collect::<Vec<_>>();
            let summary = declaration
                .iter()
                .filter_map(|s| {
                    Some(ErrorLink {
                        target: s.html_id.clone(),
                        message: s.error?,
                    })
                })
                .collect::<Vec<_>>();
            let title = tr(lang, "Angaben prüfen", "Check your answers");
            let title = if summary.is_empty() {
                title.to_string()
            } else {
                format!("{}: {title}", tr(lang, "Fehler", "Error"))
            };
            // A mandate only when its account field is among the answers shown (it is hidden when
            // the citizen pays otherwise).
            let shown = |id: &str| {
                review.steps.iter().flat_map(|s| &s.entries).any(|e| {
                    e.field == id
                        || e.field.starts_with(&format!("{id}."))
                        || e.field.starts_with(&format!("{id}/"))
                })
            };
            let answer = |id: &str| {
                if shown(id) {
                    app.answers.get(id).cloned()
                } else {
                    None
                }
            };
            let mandate = crate::mandate::of(wf, &answer, t, None, lang);
            let page = ReviewPage {
                mandate,
                layout: Layout::new(&p.defs().portal, t, title, lang).at(&nav.here),
                review: ReviewSummary {
                    steps: review
                        .steps
                        .iter()
                        .map(|s| ReviewStepView {
                            step: &s.step,
                            title: &s.title,
                            blocks: review_blocks(
                                &s.entries,
                                &format!("{}/{}", nav.change_base, s.step),
                            ),
                        })
                        .collect(),
                    computed: review.computed.iter().map(ReviewLine::of).collect(),
                },
                back: nav.back.clone(),
                change_base: &nav.change_base,
                declaration,
                declaration_title: lotse_core::application::declaration_title(lang),
                errors: summary,
                draft: draft.id.to_string(),
                csrf,
                revision: draft.revision,
            };
            p.render(&page)
        }
        Position::Step(step_id) => {
            let Some(step) = wf.step(step_id) else {
                return not_found(p, Some(t), lang);
            };
            let values: Map<String, Value> = posted.unwrap_or_else(|| {
                step.fields
                    .iter()
                    .filter_map(|f| app.answers.get(&f.id).map(|v| (f.id.clone(), v.clone())))
                    .collect()
            });
            // Texts may show answers and computed values (`{ersatzbaeume}`): only then are the
            // computed values worked out for the page.
            let shows_values = step_shows_values(step, lang);
            let computed = if shows_values {
                app.computed(wf, &p.sandbox, p.now().date())
                    .unwrap_or_default()
            } else {
                Default::default()
            };
            let filled = |text: &str| -> Option<String> {
                if !shows_values {
                    return None;
                }
                match lotse_core::application::fill(wf, text, &app.answers, &computed, lang) {
                    Cow::Owned(s) => Some(s),
                    Cow::Borrowed(_) => None,
                }
            };
            let fill = |text| filled(text).map_or(Cow::Borrowed(text), Cow::Owned);
            let mut fields: Vec<FieldView<'_>> = step
                .fields
                .iter()
                .map(|f| {
                    let mut v = field_view(
                        f,
                        f.id.clone(),
                        &format!("/{}", f.id),
                        values.get(&f.id),
                        &errors,
                        !matches!(f.required, Required::Never),
                        lang,
                    );
                    v.condition = condition_note(step, f, lang);
                    v.reveal = v.condition.as_ref().and_then(|_| reveal_of(f));
                    v
                })
                .collect();
            if shows_values {
                fill_fields(&mut fields, &filled);
            }
            // In the order of the fields on the page, each linked to the first input it is about.
            let mut ordered: Vec<&FieldError> = errors.iter().collect();
            ordered.sort_by_cached_key(|e| page_order(step, &e.pointer));
            let summary = ordered
                .into_iter()
                .map(|e| ErrorLink {
                    target: first_input(step, &e.pointer),
                    message: &e.message,
                })
                .collect();
            let title = if errors.is_empty() {
                step.title.get(lang).to_string()
            } else {
                format!("{}: {}", tr(lang, "Fehler", "Error"), step.title.get(lang))
            };
            // Beside the step in the designers' preview: why it applies and where the branches
            // lead (the engine's own explanation).
            let dev = p.dev.then(|| DevView {
                applies_if: step.applies_if.as_ref().map(|e| e.source()),
                branches: step
                    .branches
                    .iter()
                    .map(|b| BranchView {
                        condition: b.condition.source(),
                        to: b.target.label(),
                    })
                    .collect(),
                default: step.default_next.label(),
                explanations: app.explanations.iter().map(|e| e.describe(lang)).collect(),
                route: app.route.join(" → "),
            });
            let e = draft.expires.date();
            let page = StepPage {
                layout: Layout::new(&p.defs().portal, t, title, lang).at(&nav.here),
                step: &step.id,
                step_title: fill(step.title.get(lang)),
                step_help: step.help.as_ref().map(|h| fill(h.get(lang))),
                fields,
                errors: summary,
                progress: app.progress(),
                back: nav.back.clone(),
                removed: removed.map(|r| RemovedView::of(step, &r, lang)),
                draft: draft.id.to_string(),
                csrf,
                revision: draft.revision,
                resume_code: draft.resume_code.to_string(),
                dev,
                expires: format!("{:02}.{:02}.{}", e.day(), e.month() as u8, e.year()),
                end: step.end,
                links: step
                    .links
                    .iter()
                    .map(|l| LinkView {
                        label: fill(l.label.get(lang)),
                        href: &l.href,
                        external: l.href.starts_with("https://"),
                    })
                    .collect(),
            };
            let mut r = p.render(&page);
            if !errors.is_empty() {
                *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
            }
            r
        }
        Position::Submitted => not_found(p, Some(t), lang),
    }
}
