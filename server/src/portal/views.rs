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

use crate::http::pages::{Layout, Page, Shown, not_found, tr};
use crate::service::OpenDraft;
use crate::state::AppState;
use crate::tenants::Tenant;

use super::field_views::{
    FieldView, condition_note, error_at, field_view, fill_fields, html_id, reveal_of,
    step_shows_values,
};

/// The status page of a submission (also the confirmation after sending): reference, status,
/// messages, timeline, and the form to answer an open Rückfrage.
#[derive(Serialize)]
pub(super) struct StatusPage<'a> {
    #[serde(flatten)]
    pub(super) layout: Layout,
    /// "Antrag eingegangen" right after sending; what stands now later ("Ihr Antrag ist
    /// abgeschlossen").
    pub(super) heading: &'static str,
    pub(super) intro: &'static str,
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
    /// The online payment made before sending, if any.
    pub(super) payment: Option<PaymentLine>,
    /// "Termin zur Abholung": the workflow offers an appointment after sending.
    pub(super) appointment: Option<AppointmentLink>,
    /// The office's reads of the application (from the audit log), newest first.
    pub(super) reads: Vec<ReadView>,
}

/// One line of "Wer hat Ihren Antrag eingesehen?": what the office read, when, and how often
/// within the hour (a case worker opening the page again and again is one line).
#[derive(Serialize)]
pub(super) struct ReadView {
    pub(super) when: String,
    pub(super) what: &'static str,
    /// "3-mal" when more than once.
    pub(super) times: Option<String>,
}

/// The offer of an appointment after sending, with the link to its free times.
#[derive(Serialize)]
pub(super) struct AppointmentLink {
    pub(super) heading: &'static str,
    pub(super) text: String,
    pub(super) href: String,
    pub(super) label: String,
}

/// A paid online payment on the status page.
#[derive(Serialize)]
pub(super) struct PaymentLine {
    pub(super) heading: &'static str,
    pub(super) state_label: &'static str,
    pub(super) state: &'static str,
    pub(super) amount_label: &'static str,
    pub(super) amount: String,
    /// With a different amount reported by the platform (not paid): that amount.
    pub(super) reported_label: &'static str,
    pub(super) reported: Option<String>,
    pub(super) method_label: &'static str,
    pub(super) method: &'static str,
    pub(super) transaction_label: &'static str,
    pub(super) transaction_id: String,
    pub(super) kassenzeichen_label: &'static str,
    pub(super) kassenzeichen: String,
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
    /// The office's question, as its Rückfrage recorded it: shown above the answer field.
    pub(super) question: Option<String>,
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
    pub(super) question_label: &'static str,
    pub(super) answer_label: &'static str,
    pub(super) answer_hint: &'static str,
    pub(super) answer_button: &'static str,
    pub(super) next_heading: &'static str,
    pub(super) processing_time: &'static str,
    pub(super) no_messages: &'static str,
    pub(super) reads_heading: &'static str,
    pub(super) reads_intro: &'static str,
    pub(super) no_reads: &'static str,
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
    question_label: "Frage der Verwaltung:",
    answer_label: "Ihre Antwort",
    answer_hint: "Bitte beantworten Sie die Frage der Verwaltung. Sie können einmal antworten; danach bearbeitet die Verwaltung Ihren Antrag weiter.",
    answer_button: "Antwort senden",
    next_heading: "Wie geht es weiter?",
    processing_time: "Bearbeitungszeit:",
    no_messages: "Noch keine Nachrichten.",
    reads_heading: "Wer hat Ihren Antrag eingesehen?",
    reads_intro: "Die Verwaltung protokolliert jeden Zugriff auf Ihre Angaben. Hier sehen Sie, wann Ihr Antrag, Ihre Quittung oder Ihre Nachweise geöffnet, abgerufen oder weitergegeben wurden.",
    no_reads: "Ihr Antrag wurde noch nicht geöffnet.",
};

static STATUS_EN: StatusTexts = StatusTexts {
    timeline: "Progress",
    messages: "Messages",
    from_office: "Office",
    from_you: "You",
    answer_heading: "Answer the query",
    question_label: "The office's question:",
    answer_label: "Your answer",
    answer_hint: "Please answer the office's question. You can answer once; the office then continues with your application.",
    answer_button: "Send answer",
    next_heading: "What happens next?",
    processing_time: "Processing time:",
    no_messages: "No messages yet.",
    reads_heading: "Who has viewed your application?",
    reads_intro: "The office logs every access to your details. Here you see when your application, your receipt or your documents were opened, fetched or passed on.",
    no_reads: "Nobody at the office has opened your application yet.",
};

/// One step of the assistant with its fields.
#[derive(Serialize)]
struct StepPage<'a> {
    #[serde(flatten)]
    layout: Layout,
    step: &'a str,
    step_title: Cow<'a, str>,
    step_help: Option<Cow<'a, str>>,
    /// `Some("de")` where the title or the help is German on an English page.
    step_title_lang: Option<&'static str>,
    step_help_lang: Option<&'static str>,
    /// The title or the help shows values: the engine in the browser fills it again as the
    /// citizen answers (`data-text`).
    title_live: bool,
    help_live: bool,
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
    /// A step with a file field posts `multipart/form-data` (and not in place by script).
    multipart: bool,
    /// The engine in the browser, where the portal has it.
    engine: Option<super::engine::EngineView>,
}

/// A link on a step, in the citizen's language; `external` when it leaves the portal.
#[derive(Serialize)]
struct LinkView<'a> {
    label: Cow<'a, str>,
    /// `link.<n>` where the label shows values (the engine in the browser fills it again).
    key: Option<String>,
    lang: Option<&'static str>,
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
    /// What is paid online before the application reaches the office, if anything.
    payment: Option<ReviewPayment>,
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

/// The payment on the review page: the amount exactly as it will be charged (from the same
/// whole cents), what it is for, the methods, and the button "Absenden und bezahlen".
#[derive(Serialize)]
pub(super) struct ReviewPayment {
    pub(super) heading: &'static str,
    pub(super) amount_label: &'static str,
    pub(super) amount: String,
    pub(super) purpose_label: &'static str,
    pub(super) purpose: String,
    pub(super) methods_label: &'static str,
    pub(super) methods: String,
    pub(super) note: &'static str,
    pub(super) button: &'static str,
}

impl ReviewPayment {
    fn of(
        wf: &lotse_core::Workflow,
        computed: &std::collections::BTreeMap<String, Value>,
        lang: Lang,
    ) -> Option<ReviewPayment> {
        let spec = wf.payment.as_ref()?;
        let cents = lotse_core::payment::amount_cents(computed.get(&spec.amount)).ok()??;
        let methods: Vec<&str> = spec.methods.iter().map(|m| m.label(lang)).collect();
        Some(ReviewPayment {
            heading: tr(lang, "Gebühr online bezahlen", "Pay the fee online"),
            amount_label: tr(lang, "Betrag", "Amount"),
            amount: lotse_core::payment::format_cents(cents, lang),
            purpose_label: tr(lang, "Verwendungszweck", "Purpose"),
            purpose: lotse_core::payment::purpose(
                spec,
                tr(
                    lang,
                    "(Kassenzeichen nach dem Absenden)",
                    "(payment reference after sending)",
                ),
                lang,
            ),
            methods_label: tr(lang, "Zahlarten", "Payment methods"),
            methods: methods.join(", "),
            note: tr(
                lang,
                "Nach dem Absenden gelangen Sie zur Bezahlseite der Zahlungsplattform. Ihr Antrag ist gespeichert und geht an das Amt, sobald die Zahlung bestätigt ist.",
                "After sending, you go on to the payment platform's pay page. Your application is saved and goes to the office as soon as the payment is confirmed.",
            ),
            button: tr(lang, "Absenden und bezahlen", "Send and pay"),
        })
    }
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
    /// `Some("de")` where the title, a heading, a label or a chosen option's label is German on
    /// an English page (here and in the blocks and rows below).
    title_lang: Option<&'static str>,
    /// The answers of the step: a block of single answers, then one block per group and per
    /// repeated entry ("Hund 1", "Hund 2"), each answer a row with its own "Ändern".
    blocks: Vec<ReviewBlock>,
}

#[derive(Serialize, Default)]
struct ReviewBlock {
    heading: Option<String>,
    heading_lang: Option<&'static str>,
    rows: Vec<ReviewRow>,
}

#[derive(Serialize)]
struct ReviewRow {
    label: String,
    value: String,
    label_lang: Option<&'static str>,
    value_lang: Option<&'static str>,
    /// The change page of the step, at this answer's input.
    change: String,
}

/// The rows of one step's answers, in blocks (see [`ReviewStepView::blocks`]).
fn review_blocks(entries: &[ReviewEntry], change: &str, page: Lang) -> Vec<ReviewBlock> {
    use lotse_core::application::Display;
    let marked = |lang: Lang| Shown::mark(lang, page);
    let row = |e: &ReviewEntry, value: String, name: &str| ReviewRow {
        label: e.label.clone(),
        value,
        label_lang: marked(e.label_lang),
        value_lang: marked(e.value_lang),
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
                    b.rows.push(row(e, text.clone(), &e.field));
                }
            }
            Display::Group { entries } => blocks.push(ReviewBlock {
                heading: Some(e.label.clone()),
                heading_lang: marked(e.label_lang),
                rows: entries
                    .iter()
                    .map(|sub| row(sub, sub.value.flat(), &format!("{}.{}", e.field, sub.field)))
                    .collect(),
            }),
            Display::List { items, item_label } => {
                for (i, item) in items.iter().enumerate() {
                    blocks.push(ReviewBlock {
                        heading: Some(format!("{item_label} {}", i + 1)),
                        heading_lang: None,
                        rows: item
                            .iter()
                            .map(|sub| {
                                row(
                                    sub,
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
    label_lang: Option<&'static str>,
    flat: String,
}

impl ReviewLine<'_> {
    fn of(e: &ReviewEntry, page: Lang) -> ReviewLine<'_> {
        ReviewLine {
            label: &e.label,
            label_lang: Shown::mark(e.label_lang, page),
            flat: e.value.flat(),
        }
    }
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
        Some(f) if matches!(f.widget, Widget::Radio | Widget::Checkboxes) => {
            format!("{}-0", html_id(&name))
        }
        _ => html_id(&name),
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
    match &open.app.position {
        Position::Review => review_page(p, t, open, attempt, nav, lang),
        Position::Step(step_id) => match open.wf.step(step_id) {
            Some(step) => step_page(p, t, open, step, attempt, nav, lang),
            None => not_found(p, Some(t), lang),
        },
        Position::Submitted => not_found(p, Some(t), lang),
    }
}

/// The review page: every answer by step, the computed values, the mandate and the payment, and
/// the declarations to tick.
fn review_page(
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
        ..
    } = attempt;
    let csrf = p.token(&format!("draft:{}", draft.id));
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
    let mandate = crate::mandate::at_review(wf, &review, &app.answers, t, lang);
    let payment = ReviewPayment::of(wf, &computed, lang);
    let page = ReviewPage {
        mandate,
        payment,
        layout: Layout::new(&p.defs().portal, t, title, lang).at(&nav.here),
        review: ReviewSummary {
            steps: review
                .steps
                .iter()
                .map(|s| ReviewStepView {
                    step: &s.step,
                    title: &s.title,
                    title_lang: Shown::mark(s.title_lang, lang),
                    blocks: review_blocks(
                        &s.entries,
                        &format!("{}/{}", nav.change_base, s.step),
                        lang,
                    ),
                })
                .collect(),
            computed: review
                .computed
                .iter()
                .map(|e| ReviewLine::of(e, lang))
                .collect(),
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

/// A step's page: its fields with what the citizen typed (or the saved answers), the errors in
/// the fields' order, the texts filled with answers and computed values, and the designers' notes
/// in the preview.
fn step_page(
    p: &AppState,
    t: &Tenant,
    open: &OpenDraft,
    step: &Step,
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
        fill_fields(&mut fields, "", &filled);
    }
    if let Some(signed_in) = &app.signed_in {
        let note = super::field_views::from_account_note(&signed_in.provider, lang);
        super::field_views::mark_prefilled(wf, app, &mut fields, &note);
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
        title_live: filled(step.title.get(lang)).is_some(),
        help_live: step
            .help
            .as_ref()
            .is_some_and(|h| filled(h.get(lang)).is_some()),
        step_title_lang: Shown::lang_attr(&step.title, lang),
        step_help_lang: step.help.as_ref().and_then(|h| Shown::lang_attr(h, lang)),
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
        multipart: step.fields.iter().any(|f| f.files.is_some()),
        engine: if step.end {
            None
        } else {
            super::engine::view(p, &t.slug, wf, app)
        },
        links: step
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| LinkView {
                key: filled(l.label.get(lang)).map(|_| format!("link.{i}")),
                label: fill(l.label.get(lang)),
                lang: Shown::lang_attr(&l.label, lang),
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
