//! What a step shows and requires for values a citizen has typed but not sent: the same
//! conditions (`visible_if`, `required`) and computed values as when the step is answered,
//! evaluated without changing the application, so that a front end without rhai can show
//! and hide fields as the citizen types.

use super::eval::Computed;
use super::*;

/// A field of a step as the values given make it: shown or hidden, required or optional.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldState {
    pub id: String,
    pub visible: bool,
    /// Never true for a hidden field.
    pub required: bool,
}

impl Application {
    /// Evaluates the visibility and requirement of every field of `step_id` for the `values`
    /// typed there, over the answers so far. Values are normalised as on an answer
    /// ([`normalise`]); nothing is validated or stored. An unknown field is refused as on an
    /// answer (`LOT-A006`), an unknown step with `LOT-A002`.
    pub fn evaluate_step(
        &self,
        wf: &Workflow,
        sandbox: &Sandbox,
        step_id: &str,
        values: &Map<String, Value>,
        today: Date,
    ) -> Result<Vec<FieldState>, ApplyError> {
        evaluated(self, wf, sandbox, step_id, values, today).map(|(states, _, _)| states)
    }
}

/// A step evaluated for values typed: its fields' states, the computed values, and the typed
/// values of the shown fields, normalised.
pub(super) type Evaluated = (Vec<FieldState>, Computed, BTreeMap<String, Value>);

/// [`Application::evaluate_step`] with the computed values for the values typed, and the
/// typed values of the shown fields, normalised (what the step's texts show).
pub(super) fn evaluated(
    app: &Application,
    wf: &Workflow,
    sandbox: &Sandbox,
    step_id: &str,
    values: &Map<String, Value>,
    today: Date,
) -> Result<Evaluated, ApplyError> {
    let Some(index) = wf.step_position(step_id) else {
        return Err(ApplyError::NotOnRoute(step_id.to_string()));
    };
    let step = &wf.steps[index];
    let unknown: Vec<&str> = values
        .keys()
        .filter(|k| step.field_position(k).is_none())
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ApplyError::UnknownFields(
            step_id.to_string(),
            unknown.join(", "),
        ));
    }
    let mut given: Vec<Option<Cow<'_, Value>>> = step
        .fields
        .iter()
        .map(|f| values.get(&f.id).and_then(|v| normalised(f, v)))
        .collect();
    let ev = Eval { wf, sandbox, today };
    // As when the step is answered: hidden answers dropped first (to a fixed point), then
    // this step's values as typed, over the answers so far.
    let (visible, computed) = hidden_dropped(&ev, index, &app.answers, &mut given)?;
    let mut env = step_env(&ev, index, &app.answers, &given);
    let computed = match computed {
        Some(c) => {
            c.iter().for_each(|(id, v)| env.set(id, v));
            c
        }
        None => ev.computed(&mut env, Strictness::Typing)?,
    };
    let mut out = Vec::with_capacity(step.fields.len());
    for (fi, f) in step.fields.iter().enumerate() {
        let visible = visible[fi];
        let required = visible && ev.required(&mut env, f)?;
        out.push(FieldState {
            id: f.id.clone(),
            visible,
            required,
        });
    }
    let shown = step
        .fields
        .iter()
        .zip(&given)
        .filter_map(|(f, g)| g.as_ref().map(|v| (f.id.clone(), v.clone().into_owned())))
        .collect();
    Ok((out, computed, shown))
}
