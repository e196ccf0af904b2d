//! The route through a workflow for a set of answers: which steps apply and which branches
//! hold, with their explanations, and the steps likely to follow an unfinished route; and what
//! checking a step found that finding the route may reuse.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::explain::{self, Explanation};
use super::{ApplyError, Eval};
use crate::definition::{Target, Workflow};
use crate::script::Env;

/// What checking a step found that still holds once its answers are stored, so that the route
/// that follows need not evaluate it again.
pub(super) struct Known {
    /// The step, and the visibility of its fields.
    pub(super) step: usize,
    pub(super) visible: Vec<bool>,
    /// The computed values, when no answer was dropped (the stored answers are then exactly
    /// the ones they were computed from).
    pub(super) computed: Option<BTreeMap<String, Value>>,
}

/// What checking step `index` found that holds once its answers are stored: the visibility
/// of its fields stays valid unless a dropped (hidden) answer feeds a condition or computed
/// value; the computed values stay valid only when no answer was dropped at all.
pub(super) fn known_after_check(
    wf: &Workflow,
    index: usize,
    visible: Vec<bool>,
    given: &[Option<Cow<'_, Value>>],
    computed: BTreeMap<String, Value>,
) -> Option<Known> {
    let step = &wf.steps[index];
    let dropped: Vec<&str> = step
        .fields
        .iter()
        .zip(&visible)
        .zip(given)
        .filter(|((_, shown), g)| !**shown && g.is_some())
        .map(|((f, _), _)| f.id.as_str())
        .collect();
    let feeds = |e: &crate::script::Expr| e.mentions.iter().any(|m| dropped.contains(&m.as_str()));
    let reusable = dropped.is_empty()
        || !(step
            .fields
            .iter()
            .any(|f| f.visible_if.as_ref().is_some_and(feeds))
            || wf.computed.iter().any(|c| feeds(&c.expr)));
    // A value that failed while the answers were unchecked is computed again over the
    // accepted ones, where a failure with every input there is an error.
    let settled = dropped.is_empty() && !computed.values().any(Value::is_null);
    reusable.then(|| Known {
        step: index,
        visible,
        computed: settled.then_some(computed),
    })
}

/// The route through the workflow for a set of answers.
pub(super) struct Route {
    pub(super) steps: Vec<usize>,
    pub(super) complete: bool,
    pub(super) explanations: Vec<Explanation>,
    /// The computed values for the answers the route was found with.
    pub(super) computed: BTreeMap<String, Value>,
}

/// The route for `answers`: the steps that apply from the first on, each answered one
/// followed by the branch that holds, with an explanation of every skip and branch.
pub(super) fn compute_route(
    ev: &Eval<'_>,
    env: &mut Env<'_>,
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
    answered: &BTreeSet<String>,
) -> Result<Route, ApplyError> {
    let wf = ev.wf;
    let mut steps = Vec::new();
    let mut explanations = Vec::new();
    let mut visited = vec![false; wf.steps.len()];
    let mut i = 0usize;
    let mut complete = false;
    loop {
        if wf.steps.is_empty() || visited[i] {
            break;
        }
        visited[i] = true;
        let step = &wf.steps[i];
        let applies = match &step.applies_if {
            Some(e) => ev.condition(env, e, || format!("applies_if of step \"{}\"", step.id))?,
            None => true,
        };
        let next = if !applies {
            if let Some(e) = &step.applies_if {
                explanations.push(Explanation::StepSkipped {
                    step: step.id.clone(),
                    condition: e.source().to_string(),
                    values: explain::values_of(e, answers, computed),
                });
            }
            step.default_next.clone()
        } else {
            steps.push(i);
            // An end page ends the route: nothing is answered there, nothing follows.
            if step.end || !answered.contains(&step.id) {
                break;
            }
            let mut chosen = None;
            for b in &step.branches {
                if ev.condition(env, &b.condition, || {
                    format!("condition of step \"{}\"", step.id)
                })? {
                    explanations.push(Explanation::BranchTaken {
                        from: step.id.clone(),
                        to: b.target.label().to_string(),
                        condition: Some(b.condition.source().to_string()),
                        values: explain::values_of(&b.condition, answers, computed),
                    });
                    chosen = Some(b.target.clone());
                    break;
                }
            }
            match chosen {
                Some(t) => t,
                None => {
                    if !step.branches.is_empty() {
                        explanations.push(Explanation::BranchTaken {
                            from: step.id.clone(),
                            to: step.default_next.label().to_string(),
                            condition: None,
                            values: BTreeMap::new(),
                        });
                    }
                    step.default_next.clone()
                }
            }
        };
        match next {
            Target::Review => {
                complete = true;
                break;
            }
            Target::Step(id) => match wf.step_position(&id) {
                Some(j) => i = j,
                None => break,
            },
        }
    }
    Ok(Route {
        steps,
        complete,
        explanations,
        computed: BTreeMap::new(),
    })
}

/// Sets `ids` to the ids of the steps at `indices`, unless it holds them already.
pub(super) fn replace_ids(ids: &mut Vec<String>, wf: &Workflow, indices: &[usize]) {
    let new = indices.iter().map(|&i| wf.steps[i].id.as_str());
    if !new.clone().eq(ids.iter().map(String::as_str)) {
        *ids = new.map(str::to_string).collect();
    }
}

/// The indices of the steps likely to follow an unfinished route: conditions are evaluated
/// with what is known; one that cannot be decided yet counts its step as applying and takes
/// the default branch.
pub(super) fn project(ev: &Eval<'_>, env: &mut Env<'_>, route: &Route) -> Vec<usize> {
    let wf = ev.wf;
    let mut out = Vec::new();
    if route.complete {
        return out;
    }
    let Some(&last) = route.steps.last() else {
        return out;
    };
    if wf.steps[last].end {
        return out;
    }
    let mut seen = vec![false; wf.steps.len()];
    let mut next = wf.steps[last].default_next.clone();
    for b in &wf.steps[last].branches {
        if ev.sandbox.eval_bool(&b.condition, env).unwrap_or(false) {
            next = b.target.clone();
            break;
        }
    }
    while let Target::Step(id) = next {
        let Some(i) = wf.step_position(&id) else {
            break;
        };
        if seen[i] {
            break;
        }
        seen[i] = true;
        let step = &wf.steps[i];
        let applies = step
            .applies_if
            .as_ref()
            .is_none_or(|e| ev.sandbox.eval_bool(e, env).unwrap_or(true));
        if applies {
            out.push(i);
            if step.end {
                break;
            }
        }
        next = step
            .branches
            .iter()
            .find(|b| applies && ev.sandbox.eval_bool(&b.condition, env).unwrap_or(false))
            .map(|b| b.target.clone())
            .unwrap_or_else(|| step.default_next.clone());
    }
    out
}
