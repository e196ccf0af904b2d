//! The answers of a submission laid out for the case worker like the receipt: one row per
//! answer, a block with a heading per group, a block per repeated entry ("Hund 1", "Hund 2").
//! Groups nested deeper are one row with their parts joined (as the receipt does).

use lotse_core::application::{Display, ReviewEntry};
use serde::Serialize;

/// One row: a label and its answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerRow {
    pub label: String,
    pub text: String,
}

/// A run of rows, under a heading for a group or a repeated entry (none for plain answers).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerBlock {
    pub heading: Option<String>,
    /// `true` for an entry of a repeated group (indented under the group's heading).
    pub entry: bool,
    pub rows: Vec<AnswerRow>,
}

fn rows(entries: &[ReviewEntry]) -> Vec<AnswerRow> {
    entries
        .iter()
        .map(|e| AnswerRow {
            label: e.label.clone(),
            text: e.value.flat(),
        })
        .collect()
}

/// The blocks of one step's answers, in the step's order.
pub fn blocks(entries: &[ReviewEntry]) -> Vec<AnswerBlock> {
    let mut out: Vec<AnswerBlock> = Vec::new();
    for e in entries {
        match &e.value {
            Display::Text { text } => {
                let row = AnswerRow {
                    label: e.label.clone(),
                    text: text.clone(),
                };
                match out.last_mut() {
                    Some(b) if b.heading.is_none() => b.rows.push(row),
                    _ => out.push(AnswerBlock {
                        heading: None,
                        entry: false,
                        rows: vec![row],
                    }),
                }
            }
            Display::Group { entries } => out.push(AnswerBlock {
                heading: Some(e.label.clone()),
                entry: false,
                rows: rows(entries),
            }),
            Display::List { items, item_label } => {
                out.push(AnswerBlock {
                    heading: Some(e.label.clone()),
                    entry: false,
                    rows: if items.is_empty() {
                        vec![AnswerRow {
                            label: e.label.clone(),
                            text: "keine Angabe".into(),
                        }]
                    } else {
                        Vec::new()
                    },
                });
                for (i, item) in items.iter().enumerate() {
                    out.push(AnswerBlock {
                        heading: Some(format!("{item_label} {}", i + 1)),
                        entry: true,
                        rows: rows(item),
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use lotse_core::Lang;

    fn text(label: &str, t: &str) -> ReviewEntry {
        ReviewEntry {
            field: label.to_lowercase(),
            label: label.into(),
            value: Display::Text { text: t.into() },
            label_lang: Lang::De,
            value_lang: Lang::De,
        }
    }

    #[test]
    fn groups_and_repeated_entries_become_blocks_of_rows() {
        let entries = vec![
            ReviewEntry {
                field: "halter".into(),
                label: "Halterin oder Halter".into(),
                value: Display::Group {
                    entries: vec![text("Anrede", "Frau"), text("Vorname", "Anna")],
                },
                label_lang: Lang::De,
                value_lang: Lang::De,
            },
            text("Beginn", "01.12.2026"),
            text("Zuzug", "nein"),
            ReviewEntry {
                field: "hunde".into(),
                label: "Hunde".into(),
                value: Display::List {
                    item_label: "Hund".into(),
                    items: vec![vec![text("Name", "Bello")], vec![text("Name", "Luna")]],
                },
                label_lang: Lang::De,
                value_lang: Lang::De,
            },
        ];
        let b = blocks(&entries);
        let shape: Vec<(Option<&str>, bool, usize)> = b
            .iter()
            .map(|b| (b.heading.as_deref(), b.entry, b.rows.len()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (Some("Halterin oder Halter"), false, 2),
                (None, false, 2),
                (Some("Hunde"), false, 0),
                (Some("Hund 1"), true, 1),
                (Some("Hund 2"), true, 1),
            ]
        );
        assert_eq!(
            b[0].rows[1].text, "Anna",
            "one row per answer, not one line"
        );
        assert_eq!(b[4].rows[0].text, "Luna");
    }
}
