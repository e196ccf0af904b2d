//! From a submission to the receipt's model: every answer of the steps that applied, with its
//! label and grouped by step, and the computed values, formatted for people.

use time::OffsetDateTime;

use super::Submission;
use super::display::{Display, ReviewEntry, ReviewView};
use crate::definition::Workflow;
use crate::receipt::{Entry, Language, ReceiptModel, Section, TenantInfo};
use crate::text::Lang;

fn entry(e: &ReviewEntry) -> Entry {
    match &e.value {
        Display::Text { text } => Entry::value(&e.label, text),
        Display::Group { entries } => Entry::group(&e.label, entries.iter().map(entry).collect()),
        Display::List { items, item_label } => Entry::group(
            &e.label,
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    Entry::group(
                        format!("{item_label} {}", i + 1),
                        item.iter().map(entry).collect(),
                    )
                })
                .collect(),
        ),
    }
}

/// The receipt of `submission` as issued by `tenant` under `reference`.
pub fn receipt_model(
    wf: &Workflow,
    submission: &Submission,
    tenant: TenantInfo,
    reference: &str,
    received_at: OffsetDateTime,
) -> ReceiptModel {
    let lang = submission.lang;
    let review = ReviewView::build(
        wf,
        &submission.path,
        &submission.answers,
        &submission.computed,
        lang,
    );
    let mut sections: Vec<Section> = review
        .steps
        .iter()
        .map(|s| Section {
            title: s.title.clone(),
            entries: s.entries.iter().map(entry).collect(),
        })
        .collect();
    // The declaration ticked on the review page, after the answers it is about.
    let declared: Vec<Entry> = wf
        .declaration
        .iter()
        .filter(|s| submission.declared.contains(&s.id))
        .map(|s| Entry::value(s.label.get(lang), confirmed(lang)))
        .collect();
    if !declared.is_empty() {
        sections.push(Section {
            title: declaration_title(lang).to_string(),
            entries: declared,
        });
    }
    ReceiptModel {
        workflow_id: wf.id.clone(),
        tenant,
        service_title: wf.title.get(lang).to_string(),
        leika: wf.leika.clone(),
        reference: reference.to_string(),
        received_at,
        sections,
        computed: review.computed.iter().map(entry).collect(),
        submission_json: serde_json::to_value(submission).unwrap_or_default(),
        language: match lang {
            Lang::De => Language::De,
            Lang::En => Language::En,
        },
        // A signed-in citizen's identity first ("Identität nachgewiesen über BundID, …").
        notes: submission
            .signed_in
            .iter()
            .map(|s| s.receipt_line(lang))
            .chain(wf.receipt_note.iter().map(|n| n.get(lang).to_string()))
            .collect(),
        closing: wf.receipt_closing.as_ref().map(|c| c.get(lang).to_string()),
        specimen: None,
        values: values_by_id(wf, submission, lang),
    }
}

/// Every top-level answer and computed value by id, as the review page shows it.
fn values_by_id(
    wf: &Workflow,
    submission: &Submission,
    lang: Lang,
) -> std::collections::BTreeMap<String, String> {
    let names: Vec<&str> = submission
        .answers
        .keys()
        .chain(submission.computed.keys())
        .map(String::as_str)
        .collect();
    names
        .into_iter()
        .map(|name| {
            let text =
                super::texts::shown(wf, name, &submission.answers, &submission.computed, lang);
            (name.to_string(), text)
        })
        .collect()
}

/// The heading of the declaration, on the receipt and the review page.
pub fn declaration_title(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Erklärung",
        Lang::En => "Declaration",
    }
}

fn confirmed(lang: Lang) -> &'static str {
    match lang {
        Lang::De => "Bestätigt",
        Lang::En => "Confirmed",
    }
}
