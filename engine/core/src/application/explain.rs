//! Explanations: why a step was skipped, which branch was taken, why a field is hidden, with the
//! values that decided it. Recorded in the application and the submission so that a designer or
//! a help desk can answer "why was I asked this?".

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::script::Expr;
use crate::text::Lang;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Explanation {
    StepSkipped {
        step: String,
        condition: String,
        values: BTreeMap<String, Value>,
    },
    BranchTaken {
        from: String,
        to: String,
        /// `None`: no condition held, the default was taken.
        condition: Option<String>,
        values: BTreeMap<String, Value>,
    },
    FieldHidden {
        field: String,
        condition: String,
        values: BTreeMap<String, Value>,
    },
}

impl Explanation {
    /// One sentence for a designer or help desk.
    pub fn describe(&self, lang: Lang) -> String {
        let vals = |values: &BTreeMap<String, Value>| {
            if values.is_empty() {
                String::new()
            } else {
                let list: Vec<String> = values.iter().map(|(k, v)| format!("{k} = {v}")).collect();
                format!(" ({})", list.join(", "))
            }
        };
        match (self, lang) {
            (
                Explanation::StepSkipped {
                    step,
                    condition,
                    values,
                },
                Lang::De,
            ) => format!(
                "Schritt „{step}“ wurde übersprungen, weil `{condition}` nicht zutrifft{}.",
                vals(values)
            ),
            (
                Explanation::StepSkipped {
                    step,
                    condition,
                    values,
                },
                Lang::En,
            ) => format!(
                "Step “{step}” was skipped because `{condition}` does not hold{}.",
                vals(values)
            ),
            (
                Explanation::BranchTaken {
                    from,
                    to,
                    condition: Some(c),
                    values,
                },
                Lang::De,
            ) => format!(
                "Nach „{from}“ ging es zu „{to}“, weil `{c}` zutrifft{}.",
                vals(values)
            ),
            (
                Explanation::BranchTaken {
                    from,
                    to,
                    condition: Some(c),
                    values,
                },
                Lang::En,
            ) => format!(
                "After “{from}” the assistant went to “{to}” because `{c}` holds{}.",
                vals(values)
            ),
            (
                Explanation::BranchTaken {
                    from,
                    to,
                    condition: None,
                    ..
                },
                Lang::De,
            ) => format!("Nach „{from}“ ging es zu „{to}“, weil keine der Bedingungen zutraf."),
            (
                Explanation::BranchTaken {
                    from,
                    to,
                    condition: None,
                    ..
                },
                Lang::En,
            ) => format!("After “{from}” the assistant went to “{to}” because no condition held."),
            (
                Explanation::FieldHidden {
                    field,
                    condition,
                    values,
                },
                Lang::De,
            ) => format!(
                "Das Feld „{field}“ wird nicht gezeigt, weil `{condition}` nicht zutrifft{}.",
                vals(values)
            ),
            (
                Explanation::FieldHidden {
                    field,
                    condition,
                    values,
                },
                Lang::En,
            ) => format!(
                "Field “{field}” is hidden because `{condition}` does not hold{}.",
                vals(values)
            ),
        }
    }
}

/// The values of the names an expression mentions, answers and computed values, as the
/// condition saw them (unanswered ones as `null`).
pub(crate) fn values_of(
    e: &Expr,
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
) -> BTreeMap<String, Value> {
    e.mentions
        .iter()
        .map(|m| {
            let v = answers.get(m).or_else(|| computed.get(m));
            (m.clone(), v.cloned().unwrap_or(Value::Null))
        })
        .collect()
}
