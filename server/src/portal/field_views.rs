//! The fields of a step as the page shows them: labels and help with the values they show,
//! conditions in the citizen's words, the reveal marks for the page's script, choices, groups
//! and repeated entries.

use std::borrow::Cow;

use lotse_core::Lang;
use lotse_core::definition::{Field, Repeat, Required, Step, Widget};
use lotse_core::form::FieldError;
use serde::Serialize;
use serde_json::Value;

use crate::http::pages::{Shown, tr};

/// One field of a step, whatever its widget: the flags say which, and what a widget does not
/// use stays empty (`null`, `false`, `[]`).
#[derive(Serialize)]
pub(super) struct FieldView<'a> {
    pub(super) id: &'a str,
    /// The form field's name (`anschrift.plz`, `hunde.0.name`).
    pub(super) name: String,
    pub(super) html_id: String,
    /// The label and help, with the values they show (`{ersatzbaeume}`) filled in.
    pub(super) label: Cow<'a, str>,
    pub(super) help: Option<Cow<'a, str>>,
    /// `Some("de")` where the label or the help is German on an English page (no translation).
    pub(super) label_lang: Option<&'static str>,
    pub(super) help_lang: Option<&'static str>,
    /// Where the label or the help shows values: the key under which the engine in the browser
    /// sends it filled again as the citizen answers (`anschrift.plz.label`, `data-text`).
    pub(super) label_key: Option<String>,
    pub(super) help_key: Option<String>,
    pub(super) error: Option<&'a str>,
    /// The ids of the hint and the error, for `aria-describedby` (may be empty).
    pub(super) describedby: String,
    pub(super) optional: bool,
    pub(super) autocomplete: Option<&'a str>,
    pub(super) placeholder: Option<&'a str>,
    pub(super) is_group: bool,
    pub(super) is_choice_group: bool,
    /// `radio`, or `checkbox` for checkboxes (several answers), in a choice group.
    pub(super) choice_type: &'static str,
    /// For checkboxes: "Sie können mehrere Antworten wählen." under the question.
    pub(super) several: Option<&'static str>,
    pub(super) is_select: bool,
    pub(super) is_checkbox: bool,
    pub(super) is_textarea: bool,
    /// For a text area: its limit in characters and "Höchstens 1.000 Zeichen." under it (the
    /// page's script counts down as the citizen types).
    pub(super) max_length: Option<u64>,
    pub(super) limit: Option<String>,
    /// `text`, `date`, `number`, `email` or `tel` for an input; `None` for other widgets.
    pub(super) input_type: Option<&'static str>,
    /// For a field that applies only after an answer on this step: "Nur wenn Sie bei „…“ „Ja“
    /// gewählt haben:" (the page works without JavaScript, so it shows the field with its
    /// condition; the server decides).
    pub(super) condition: Option<String>,
    /// For such a field: the input it depends on and the answer that shows it, for the
    /// script that reveals it as the citizen answers (`data-reveal-*`).
    pub(super) reveal: Option<Reveal>,
    /// A width class that fits the expected answer (`w-5` for a postcode, `w-10` for a date or
    /// house number, `w-20`), or `None` for the full width.
    pub(super) width: Option<&'static str>,
    /// The text shown in an input or textarea; `None` for other widgets.
    pub(super) value: Option<String>,
    /// "aus Ihrem BundID-Konto" beside an answer taken from the citizen's identity.
    pub(super) from_account: Option<String>,
    /// Such an answer the designer locked (`editable: false`): shown, not changed.
    pub(super) readonly: bool,
    pub(super) checked: bool,
    pub(super) options: Vec<OptionView<'a>>,
    /// The subfields of a group that is not repeated.
    pub(super) fields: Vec<FieldView<'a>>,
    /// The entries of a repeated group.
    pub(super) items: Vec<ItemView<'a>>,
    pub(super) can_add: bool,
    pub(super) add_label: Option<String>,
    /// A file field: its files, each with a remove button, and the input for another one.
    pub(super) is_file: bool,
    pub(super) files: Vec<FileView>,
    /// The file input's `accept` (a hint for the picker; the server judges the bytes).
    pub(super) accept: Option<String>,
    pub(super) can_upload: bool,
}

/// One file of a file field, as the step shows it.
#[derive(Serialize)]
pub(super) struct FileView {
    pub(super) name: String,
    /// "PDF, 1,2 MB".
    pub(super) meta: String,
    pub(super) sha256: String,
}

impl FileView {
    fn of(e: lotse_core::files::FileEntry, lang: Lang) -> FileView {
        FileView {
            meta: format!(
                "{}, {}",
                e.kind().map_or("?", |k| k.label_in(lang)),
                lotse_core::files::human_size(e.size, lang)
            ),
            name: e.name,
            sha256: e.sha256,
        }
    }
}

/// The name of the input a field depends on and the value (as the form posts it) that shows
/// the field.
#[derive(Serialize)]
pub(super) struct Reveal {
    pub(super) field: String,
    pub(super) value: String,
}

#[derive(Serialize)]
pub(super) struct OptionView<'a> {
    pub(super) value: String,
    pub(super) label: &'a str,
    /// `Some("de")` where the label is German on an English page.
    pub(super) lang: Option<&'static str>,
    pub(super) selected: bool,
}

/// One entry of a repeated group.
#[derive(Serialize)]
pub(super) struct ItemView<'a> {
    pub(super) legend: String,
    pub(super) index: usize,
    pub(super) fields: Vec<FieldView<'a>>,
}

/// The condition of `f` in the citizen's words, when it is one answer of another field on this
/// step (`ermaessigung == "ja"`): which answer it needs.
pub(super) fn condition_note(step: &Step, f: &Field, lang: Lang) -> Option<String> {
    let (name, value) = one_answer(f)?;
    let on = step.fields.iter().find(|o| o.id == name)?;
    note_for(on, &value, lang)
}

/// The field and the answer `f`'s condition needs, when it needs one answer of one field:
/// `art == "geruest"`, or one box of checkboxes ticked, `sicherung.contains("umleitung")`.
fn one_answer(f: &Field) -> Option<(&str, Value)> {
    let expr = f.visible_if.as_ref()?;
    if let Some(pair) = expr.equality() {
        return Some(pair);
    }
    let (name, rest) = expr.source().trim().split_once(".contains(")?;
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let literal = rest.strip_suffix(')')?.trim();
    let value = match literal.strip_prefix('"').and_then(|l| l.strip_suffix('"')) {
        Some(inner) if !inner.contains(['"', '\\']) => Value::String(inner.to_string()),
        Some(_) => return None,
        None => Value::from(literal.parse::<i64>().ok()?),
    };
    Some((name, value))
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
pub(super) fn step_shows_values(step: &Step, lang: Lang) -> bool {
    fn shows(t: &lotse_core::Text, lang: Lang) -> bool {
        !lotse_core::application::placeholders(t.get(lang)).is_empty()
    }
    fn field_shows(f: &Field, lang: Lang) -> bool {
        shows(&f.label, lang)
            || f.help.as_ref().is_some_and(|h| shows(h, lang))
            || f.subfields.iter().any(|s| field_shows(s, lang))
    }
    shows(&step.title, lang)
        || step.help.as_ref().is_some_and(|h| shows(h, lang))
        || step.links.iter().any(|l| shows(&l.label, lang))
        || step.fields.iter().any(|f| field_shows(f, lang))
}

/// Fills in the values the labels and help texts of `fields` show, sub-fields too, and keys each
/// filled text as the engine in the browser names it (`<field>.label`, `<group>.<field>.help`;
/// the same for every entry of a repeated group), so that it follows the answers live.
pub(super) fn fill_fields(
    fields: &mut [FieldView<'_>],
    prefix: &str,
    filled: &dyn Fn(&str) -> Option<String>,
) {
    for v in fields {
        let key = format!("{prefix}{}", v.id);
        if let Some(label) = filled(&v.label) {
            v.label = Cow::Owned(label);
            v.label_key = Some(format!("{key}.label"));
        }
        if let Some(help) = v.help.as_deref().and_then(filled) {
            v.help = Some(Cow::Owned(help));
            v.help_key = Some(format!("{key}.help"));
        }
        let prefix = format!("{key}.");
        fill_fields(&mut v.fields, &prefix, filled);
        for item in &mut v.items {
            fill_fields(&mut item.fields, &prefix, filled);
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
    if on.widget == Widget::Checkboxes {
        return Some(tr_fmt(
            lang,
            format!("Nur wenn Sie bei „{label}“ „{choice}“ angekreuzt haben:"),
            format!("Only if you ticked “{choice}” for “{label}”:"),
        ));
    }
    Some(tr_fmt(
        lang,
        format!("Nur wenn Sie bei „{label}“ „{choice}“ gewählt haben:"),
        format!("Only if you chose “{choice}” for “{label}”:"),
    ))
}

/// What the reveal script needs for a field with a [`condition_note`]: the other field's input
/// name and the posted text of the answer.
pub(super) fn reveal_of(f: &Field) -> Option<Reveal> {
    let (name, value) = one_answer(f)?;
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

pub(super) fn field_view<'a>(
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
        label_lang: Shown::lang_attr(&f.label, lang),
        help_lang: f.help.as_ref().and_then(|h| Shown::lang_attr(h, lang)),
        label_key: None,
        help_key: None,
        error,
        describedby: described.join(" "),
        optional: !required && f.widget != Widget::Checkbox,
        autocomplete: f.autocomplete.as_deref(),
        placeholder: f.placeholder.as_ref().map(|p| p.get(lang)),
        is_group: false,
        is_choice_group: false,
        choice_type: "radio",
        several: None,
        is_select: false,
        is_checkbox: false,
        is_textarea: false,
        max_length: None,
        limit: None,
        input_type: None,
        condition: None,
        reveal: None,
        width: None,
        value: None,
        from_account: None,
        readonly: false,
        checked: false,
        options: Vec::new(),
        fields: Vec::new(),
        items: Vec::new(),
        can_add: false,
        add_label: None,
        is_file: false,
        files: Vec::new(),
        accept: None,
        can_upload: false,
        name,
    };
    match f.widget {
        Widget::Group => {
            v.is_group = true;
            match &f.repeat {
                Some(rep) => entries(&mut v, f, rep, pointer, value, errors, lang),
                None => {
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
        }
        Widget::Radio | Widget::Select => {
            if f.widget == Widget::Radio {
                v.is_choice_group = true;
            } else {
                v.is_select = true;
            }
            let current = text_of(value);
            v.options = option_views(f, lang, |o| !current.is_empty() && o == current);
        }
        Widget::Checkboxes => {
            v.is_choice_group = true;
            v.choice_type = "checkbox";
            v.several = Some(tr(
                lang,
                "Sie können mehrere Antworten wählen.",
                "You can choose more than one answer.",
            ));
            v.describedby = format!("{} {}-several", v.describedby, v.html_id)
                .trim()
                .to_string();
            let ticked: Vec<String> = match value {
                Some(Value::Array(items)) => items.iter().map(|i| text_of(Some(i))).collect(),
                _ => Vec::new(),
            };
            v.options = option_views(f, lang, |o| ticked.iter().any(|t| t == o));
        }
        Widget::File => {
            v.is_file = true;
            let files = value
                .map(lotse_core::files::FileEntry::list)
                .unwrap_or_default();
            if let Some(rules) = &f.files {
                v.accept = Some(rules.accept_attribute());
                v.can_upload = files.len() < rules.max_files as usize;
            }
            v.files = files.into_iter().map(|e| FileView::of(e, lang)).collect();
        }
        Widget::Checkbox => {
            v.is_checkbox = true;
            v.checked = value == Some(&Value::Bool(true)) || text_of(value) == "true";
        }
        Widget::Textarea => {
            v.is_textarea = true;
            v.value = Some(text_of(value));
            if let Some(max) = f.schema.get("maxLength").and_then(Value::as_u64) {
                let n = lotse_core::application::format_value(
                    &Value::from(max),
                    lotse_core::definition::ValueFormat::Number,
                    lang,
                );
                v.limit = Some(tr_fmt(
                    lang,
                    format!("Höchstens {n} Zeichen."),
                    format!("At most {n} characters."),
                ));
                v.max_length = Some(max);
                v.describedby = format!("{} {}-count", v.describedby, v.html_id)
                    .trim()
                    .to_string();
            }
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

/// The options of a choice as the page shows them, each selected where `selected` says so (it
/// gets the option's value as posted).
fn option_views<'a>(
    f: &'a Field,
    lang: Lang,
    selected: impl Fn(&str) -> bool,
) -> Vec<OptionView<'a>> {
    f.options
        .iter()
        .map(|o| {
            let value = text_of(Some(&o.value));
            OptionView {
                selected: selected(&value),
                value,
                label: o.label.get(lang),
                lang: Shown::lang_attr(&o.label, lang),
            }
        })
        .collect()
}

/// A sub-field required only for some entries (`required: item.grund == "sonstiges"`) is not
/// marked "(freiwillig)": for the entries it concerns, it is not.
fn sub_required(sf: &Field) -> bool {
    !matches!(sf.required, Required::Never)
}

/// The entries of the repeated group `f` (at least `rep.min`, at least one), each with its
/// sub-fields, and the button that adds one while there is room.
fn entries<'a>(
    v: &mut FieldView<'a>,
    f: &'a Field,
    rep: &'a Repeat,
    pointer: &str,
    value: Option<&Value>,
    errors: &'a [FieldError],
    lang: Lang,
) {
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
            let entry = format!("{}.{i}", v.name);
            ItemView {
                legend: format!("{item_label} {}", i + 1),
                index: i,
                fields: f
                    .subfields
                    .iter()
                    .map(|sf| {
                        let mut sv = field_view(
                            sf,
                            format!("{entry}.{}", sf.id),
                            &format!("{pointer}/{i}/{}", sf.id),
                            item.and_then(|it| it.get(&sf.id)),
                            errors,
                            sub_required(sf),
                            lang,
                        );
                        if let Some((note, reveal)) = entry_condition(f, sf, &entry, lang) {
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
            .unwrap_or_else(|| format!("{item_label} {}", tr(lang, "hinzufügen", "add"))),
    );
}

/// The note beside an answer taken from the citizen's account, for the provider's name as
/// citizens read it: "aus Ihrem BundID-Konto", but "aus Ihrem Servicekonto" for a name that
/// already says it is an account ("Servicekonto", the OpenID provider's default label,
/// "Servicekonto.NRW", "Nutzerkonto Bund"), never "Servicekonto-Konto".
pub(super) fn from_account_note(provider: &str, lang: lotse_core::Lang) -> String {
    let name = provider.trim();
    let lower = name.to_lowercase();
    match lang {
        lotse_core::Lang::En if lower.contains("account") || lower.contains("konto") => {
            format!("from your {name}")
        }
        lotse_core::Lang::En => format!("from your {name} account"),
        _ if lower.contains("konto") => format!("aus Ihrem {name}"),
        _ => format!("aus Ihrem {name}-Konto"),
    }
}

/// Marks the fields a workflow prefilled from the citizen's identity (`prefill:`): the note
/// beside them, and `readonly` where the designer locked them; only on the application of a
/// signed-in citizen, for the fields that were prefilled there.
pub(super) fn mark_prefilled(
    wf: &lotse_core::Workflow,
    app: &lotse_core::Application,
    fields: &mut [FieldView<'_>],
    note: &str,
) {
    for v in fields.iter_mut() {
        if let Some(editable) = crate::identity::prefill::prefilled(wf, app, &v.name)
            && v.value.as_deref().is_some_and(|s| !s.is_empty())
        {
            v.from_account = Some(note.to_string());
            v.readonly = !editable;
        }
        mark_prefilled(wf, app, &mut v.fields, note);
    }
}

/// The id of a field's input on the page (`anschrift.plz` → `f-anschrift-plz`).
pub(super) fn html_id(name: &str) -> String {
    format!("f-{}", name.replace('.', "-"))
}

/// A value as an input shows it: text, a number, `true`/`false`; nothing for the rest.
pub(super) fn text_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The error at a JSON pointer; each shown once, at its field.
pub(super) fn error_at<'a>(errors: &'a [FieldError], pointer: &str) -> Option<&'a str> {
    errors
        .iter()
        .find(|e| e.pointer == pointer)
        .map(|e| e.message.as_str())
}

#[cfg(test)]
mod tests {
    use super::from_account_note;
    use lotse_core::Lang;

    #[test]
    fn the_note_names_the_account_once() {
        for (provider, lang, note) in [
            ("BundID", Lang::De, "aus Ihrem BundID-Konto"),
            ("Servicekonto", Lang::De, "aus Ihrem Servicekonto"),
            ("Servicekonto.NRW", Lang::De, "aus Ihrem Servicekonto.NRW"),
            ("Nutzerkonto Bund", Lang::De, "aus Ihrem Nutzerkonto Bund"),
            ("BundID", Lang::En, "from your BundID account"),
            ("Servicekonto", Lang::En, "from your Servicekonto"),
            ("Citizen account", Lang::En, "from your Citizen account"),
        ] {
            assert_eq!(from_account_note(provider, lang), note);
        }
    }
}
