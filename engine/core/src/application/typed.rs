//! What the citizen typed on a step without sending it: after adding or removing an entry of a
//! repeatable group the page is shown again from the draft (Post/Redirect/Get), so a reload
//! never re-posts. Nothing here is checked or becomes an answer; sending the step does that.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Application, ApplyError, Outcome, Position};
use crate::definition::Workflow;

/// The values of one step as typed, and the entry just removed from one of its repeatable
/// groups (what "Rückgängig machen" puts back), kept in the draft until the step is sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Typed {
    pub step: String,
    pub values: Map<String, Value>,
    /// `{"field": "hunde", "index": 1, "item": {…}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed: Option<Value>,
}

impl Application {
    /// Keeps `values` typed on `step` (reachable now) without checking them; the citizen stays
    /// on the step.
    pub(super) fn keep(
        &mut self,
        wf: &Workflow,
        step: String,
        values: Map<String, Value>,
        removed: Option<Value>,
    ) -> Result<Outcome, ApplyError> {
        let Some(s) = wf.step(&step).filter(|_| self.route.contains(&step)) else {
            return Err(ApplyError::NotOnRoute(step));
        };
        let first_open = self.route.iter().find(|r| !self.answered.contains(*r));
        if !self.answered.contains(&step) && first_open != Some(&step) {
            return Err(ApplyError::NotYet(step));
        }
        let unknown: Vec<&str> = values
            .keys()
            .filter(|k| s.field_position(k).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ApplyError::UnknownFields(step, unknown.join(", ")));
        }
        // The typed values replace a refused attempt of the same step.
        self.pending.remove(&step);
        self.position = Position::Step(step.clone());
        self.typed = Some(Typed {
            step,
            values,
            removed,
        });
        Ok(Outcome::Moved {
            to: self.position.clone(),
        })
    }

    /// What was typed on `step` and not sent, if anything.
    pub fn typed_on(&self, step: &str) -> Option<&Typed> {
        self.typed.as_ref().filter(|t| t.step == step)
    }

    /// The value of `field` on `step` as the step's page shows it: as typed and kept, else as
    /// sent in a refused answer, else the answer.
    pub fn shown_value(&self, step: &str, field: &str) -> Option<&Value> {
        match self.typed_on(step) {
            Some(t) => t.values.get(field),
            None => match self.pending.get(step) {
                Some(p) => p.get(field),
                None => self.answers.get(field),
            },
        }
    }
}
