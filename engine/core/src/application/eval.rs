//! Evaluating a workflow's scripts for one application: conditions, computed values, the
//! visibility and requirement of fields, with every failure reported with its place.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::Value;
use time::Date;

use super::ApplyError;
use crate::definition::{Field, Required, Workflow};
use crate::script::{Env, Expr, Sandbox, ScriptError};

/// How a failing computed value counts (see [`Eval::computed`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Strictness {
    /// A step's answers as typed, before they are checked.
    Typing,
    /// Accepted answers: the route, the review page.
    Answered,
    /// Sending the application.
    Submit,
}

/// Context of one evaluation: the workflow, the sandbox and the day.
pub(super) struct Eval<'a> {
    pub(super) wf: &'a Workflow,
    pub(super) sandbox: &'a Sandbox,
    pub(super) today: Date,
}

impl<'a> Eval<'a> {
    pub(super) fn env<'e>(&self, answers: &'e BTreeMap<String, Value>) -> Env<'e>
    where
        'a: 'e,
    {
        let wf: &'a Workflow = self.wf;
        // Unanswered groups are empty maps or lists, so `fahrzeug.art` or `count(hunde)` work
        // before the group is answered.
        Env::new(
            &wf.names,
            move |k| answers.get(k).or_else(|| wf.empty_values.get(k)),
            self.today,
        )
    }

    pub(super) fn script_error(&self, place: String, error: ScriptError) -> ApplyError {
        ApplyError::Script {
            workflow: self.wf.key(),
            place,
            error,
        }
    }

    /// A failure of `expr`, named with where the script is in its workflow file.
    pub(super) fn failed(&self, place: String, expr: &Expr, error: ScriptError) -> ApplyError {
        let place = match expr.at() {
            Some((line, column)) => format!("{place} (line {line}, column {column})"),
            None => place,
        };
        self.script_error(place, error)
    }

    pub(super) fn condition(
        &self,
        env: &mut Env<'_>,
        expr: &Expr,
        place: impl Fn() -> String,
    ) -> Result<bool, ApplyError> {
        self.sandbox
            .eval_bool(expr, env)
            .map_err(|e| self.failed(place(), expr, e))
    }

    /// Computed values in order. A script over its limits is always an error. Otherwise, how
    /// a failure counts depends on `strictness`: while a step is typed, the answers are not
    /// checked yet and a failing value is `null`; over accepted answers, it is `null` only
    /// while an answer or computed value it reads is missing, and an error (never a silent
    /// `null` that conditions then read as false) when everything it reads is there; on
    /// submit every failure is an error.
    pub(super) fn computed(
        &self,
        env: &mut Env<'_>,
        strictness: Strictness,
    ) -> Result<BTreeMap<String, Value>, ApplyError> {
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        for c in &self.wf.computed {
            let value = match self.sandbox.eval(&c.expr, env) {
                Ok(v) => v,
                Err(e) => {
                    let lenient = match strictness {
                        _ if matches!(e, ScriptError::Limit(_)) => false,
                        Strictness::Typing => true,
                        Strictness::Answered => c.expr.mentions.iter().any(|m| {
                            let v = out.get(m).or_else(|| env.answer(m));
                            v.is_none_or(|v| !crate::script::is_answered(v))
                        }),
                        Strictness::Submit => false,
                    };
                    if !lenient {
                        let place = format!("computed value \"{}\"", c.id);
                        return Err(self.failed(place, &c.expr, e));
                    }
                    Value::Null
                }
            };
            env.set(&c.id, &value);
            out.insert(c.id.clone(), value);
        }
        Ok(out)
    }

    pub(super) fn visible(&self, env: &mut Env<'_>, field: &Field) -> Result<bool, ApplyError> {
        match &field.visible_if {
            Some(e) => self.condition(env, e, || format!("visible_if of field \"{}\"", field.id)),
            None => Ok(true),
        }
    }

    pub(super) fn required(&self, env: &mut Env<'_>, field: &Field) -> Result<bool, ApplyError> {
        match &field.required {
            Required::Always => Ok(true),
            Required::Never => Ok(false),
            Required::When(e) => {
                self.condition(env, e, || format!("required of field \"{}\"", field.id))
            }
        }
    }
}

/// The environment of a step's check: this step's answers as given, over the answers so far.
pub(super) fn step_env<'e>(
    ev: &Eval<'e>,
    index: usize,
    answers: &'e BTreeMap<String, Value>,
    given: &'e [Option<Cow<'_, Value>>],
) -> Env<'e> {
    let wf = ev.wf;
    Env::new(
        &wf.names,
        move |k| match wf.field_index.get(k) {
            Some(&(si, fi)) if si == index => {
                given[fi].as_deref().or_else(|| wf.empty_values.get(k))
            }
            _ => answers.get(k).or_else(|| wf.empty_values.get(k)),
        },
        ev.today,
    )
}

/// Computed values by id.
pub(super) type Computed = BTreeMap<String, Value>;

/// The visibility of step `index`'s fields, with the answers of hidden fields taken out of
/// `given`, until no hidden field has an answer: where one field's visibility depends on
/// another's answer, dropping that answer may hide it too. Also the computed values of the
/// last round, which hold for `given` as it is left (`None` for a step without conditional
/// fields, which has nothing to decide and computes nothing here).
pub(super) fn hidden_dropped(
    ev: &Eval<'_>,
    index: usize,
    answers: &BTreeMap<String, Value>,
    given: &mut [Option<Cow<'_, Value>>],
) -> Result<(Vec<bool>, Option<Computed>), ApplyError> {
    let step = &ev.wf.steps[index];
    if step.fields.iter().all(|f| f.visible_if.is_none()) {
        return Ok((vec![true; step.fields.len()], None));
    }
    // Each round drops at least one answer, or ends.
    for _ in 0..=step.fields.len() {
        let (visible, computed) = {
            let mut env = step_env(ev, index, answers, given);
            let computed = ev.computed(&mut env, Strictness::Typing)?;
            let visible = step
                .fields
                .iter()
                .map(|f| ev.visible(&mut env, f))
                .collect::<Result<Vec<bool>, ApplyError>>()?;
            (visible, computed)
        };
        let mut dropped = false;
        for (g, shown) in given.iter_mut().zip(&visible) {
            if !shown && g.is_some() {
                *g = None;
                dropped = true;
            }
        }
        if !dropped {
            return Ok((visible, Some(computed)));
        }
    }
    Err(ev.script_error(
        format!("visible_if on step \"{}\"", step.id),
        ScriptError::Limit("visibility kept changing".into()),
    ))
}
