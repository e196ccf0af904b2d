//! The declaration on the review page (`declaration:` in the workflow): every statement must be
//! ticked to send. A refused submit keeps what was ticked in the draft (`pending` under
//! [`REVIEW`]), so the review page shows it again with its errors.

use serde_json::{Map, Value};

use super::{Application, PendingAttempt};
use crate::definition::{REVIEW, Workflow};
use crate::form::FieldError;
use crate::text::Lang;

/// The errors of a submit with `declared` ticked: one per statement not ticked, at
/// `/declaration/{id}`, in the order of the workflow.
pub fn declaration_errors(wf: &Workflow, declared: &[String], lang: Lang) -> Vec<FieldError> {
    wf.declaration
        .iter()
        .filter(|s| !declared.contains(&s.id))
        .map(|s| {
            let label = s.label.get(lang);
            FieldError {
                pointer: format!("/declaration/{}", s.id),
                field: s.id.clone(),
                kind: "required".into(),
                message: if lang == Lang::En {
                    format!("Please confirm: “{label}”")
                } else {
                    format!("Bitte bestätigen Sie: „{label}“")
                },
            }
        })
        .collect()
}

/// The statements of the workflow that were ticked, in its order (unknown ids dropped).
pub(super) fn ticked(wf: &Workflow, declared: &[String]) -> Vec<String> {
    wf.declaration
        .iter()
        .filter(|s| declared.contains(&s.id))
        .map(|s| s.id.clone())
        .collect()
}

impl Application {
    /// Keeps what was ticked at a refused submit.
    pub(super) fn keep_declared(&mut self, declared: &[String]) {
        let ticked: Map<String, Value> = declared
            .iter()
            .map(|id| (id.clone(), Value::Bool(true)))
            .collect();
        self.pending.insert(REVIEW.to_string(), ticked);
    }

    /// The declaration as last ticked at a refused submit, with its errors now; `None` when no
    /// submit was refused for it.
    pub fn declaration_attempt(&self, wf: &Workflow) -> Option<PendingAttempt> {
        let values = self.pending.get(REVIEW)?;
        let declared: Vec<String> = values.keys().cloned().collect();
        Some(PendingAttempt {
            values: values.clone(),
            errors: declaration_errors(wf, &declared, self.lang),
        })
    }
}
