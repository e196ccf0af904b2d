//! Coverage of a workflow by scenarios: which steps were visited, which `next` branches (and
//! defaults) taken, which `applies_if` held and failed, which `visible_if` showed and hid a
//! field, which rules were violated and passed.
//!
//! Everything is read from what the state machine reports anyway (the route, the explanations,
//! the outcome), so coverage needs no hooks inside the engine: a skipped step and a default
//! branch are explained; a step on the route passed its `applies_if`; a field without a
//! "hidden" explanation on an answered step was shown; a rule whose field was accepted held.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::application::{Explanation, Position};
use crate::definition::{Library, Workflow};
use crate::{Application, Command, Outcome};

/// What the scenarios reached in one workflow version.
#[derive(Debug, Clone)]
pub struct Coverage {
    /// `id@version`.
    pub workflow: String,
    visited: BTreeSet<String>,
    /// Step id -> (held, failed).
    applies: BTreeMap<String, (bool, bool)>,
    /// (step id, branch index; `None` for the default).
    branches: BTreeSet<(String, Option<usize>)>,
    /// Field id -> (shown, hidden).
    visibility: BTreeMap<String, (bool, bool)>,
    /// Rule index -> (violated, passed).
    rules: BTreeMap<usize, (bool, bool)>,
    /// `group.sub` -> (held, waived): a sub-field's conditional `required`.
    requirements: BTreeMap<String, (bool, bool)>,
}

/// Something no scenario reached.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Gap {
    StepNeverVisited {
        step: String,
    },
    StepNeverApplied {
        step: String,
    },
    StepNeverSkipped {
        step: String,
    },
    BranchNeverTaken {
        from: String,
        to: String,
        condition: Option<String>,
    },
    FieldNeverShown {
        field: String,
    },
    FieldNeverHidden {
        field: String,
    },
    RuleNeverViolated {
        field: String,
        check: String,
    },
    RuleNeverPassed {
        field: String,
        check: String,
    },
    /// A sub-field's conditional `required` never held (no entry was refused for it).
    RequirementNeverHeld {
        field: String,
    },
    /// ... or never waived (no entry was accepted without it).
    RequirementNeverWaived {
        field: String,
    },
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gap::StepNeverVisited { step } => write!(f, "step \"{step}\" never visited"),
            Gap::StepNeverApplied { step } => write!(
                f,
                "step \"{step}\" never applied (its applies_if never held)"
            ),
            Gap::StepNeverSkipped { step } => write!(f, "step \"{step}\" never skipped"),
            Gap::BranchNeverTaken {
                from,
                to,
                condition: Some(c),
            } => {
                write!(f, "branch {from} → {to} never taken (if `{c}`)")
            }
            Gap::BranchNeverTaken {
                from,
                to,
                condition: None,
            } => {
                write!(f, "default branch {from} → {to} never taken")
            }
            Gap::FieldNeverShown { field } => write!(f, "field \"{field}\" never shown"),
            Gap::FieldNeverHidden { field } => write!(f, "field \"{field}\" never hidden"),
            Gap::RuleNeverViolated { field, check } => {
                write!(f, "rule on {field} never violated (`{check}`)")
            }
            Gap::RuleNeverPassed { field, check } => {
                write!(f, "rule on {field} never passed (`{check}`)")
            }
            Gap::RequirementNeverHeld { field } => {
                write!(
                    f,
                    "field \"{field}\" never required (its condition never held)"
                )
            }
            Gap::RequirementNeverWaived { field } => {
                write!(f, "field \"{field}\" never left out where not required")
            }
        }
    }
}

impl Coverage {
    fn new(wf: &Workflow) -> Coverage {
        Coverage {
            workflow: wf.key(),
            visited: BTreeSet::new(),
            applies: BTreeMap::new(),
            branches: BTreeSet::new(),
            visibility: BTreeMap::new(),
            rules: BTreeMap::new(),
            requirements: BTreeMap::new(),
        }
    }

    /// Records what one state (after a command, or at the start) shows.
    pub fn observe(
        &mut self,
        wf: &Workflow,
        state: &Application,
        command: Option<&Command>,
        outcome: Option<&Outcome>,
    ) {
        if let Position::Step(s) = &state.position {
            self.visited.insert(s.clone());
        }
        // Every step on the route was reached, and its applies_if (if any) held.
        for id in &state.route {
            self.visited.insert(id.clone());
            if wf.step(id).is_some_and(|s| s.applies_if.is_some()) {
                self.applies.entry(id.clone()).or_default().0 = true;
            }
        }
        let mut hidden = BTreeSet::new();
        for e in &state.explanations {
            match e {
                Explanation::StepSkipped { step, .. } => {
                    self.applies.entry(step.clone()).or_default().1 = true;
                }
                Explanation::BranchTaken {
                    from,
                    to,
                    condition,
                    ..
                } => {
                    let Some(step) = wf.step(from) else { continue };
                    let index = condition.as_ref().and_then(|c| {
                        step.branches
                            .iter()
                            .position(|b| b.condition.source() == c && b.target.label() == to)
                    });
                    self.branches.insert((from.clone(), index));
                }
                Explanation::FieldHidden { field, .. } => {
                    hidden.insert(field.as_str());
                }
            }
        }
        // Visibility counts on steps the citizen has answered: that is what they were shown.
        for id in state.route.iter().filter(|id| state.answered.contains(*id)) {
            let Some(step) = wf.step(id) else { continue };
            for f in step.fields.iter().filter(|f| f.visible_if.is_some()) {
                let entry = self.visibility.entry(f.id.clone()).or_default();
                if hidden.contains(f.id.as_str()) {
                    entry.1 = true;
                } else {
                    entry.0 = true;
                }
            }
        }
        self.observe_entries(wf, state, command, outcome);
        match (command, outcome) {
            (_, Some(Outcome::Rejected { errors, .. })) => {
                for e in errors.iter().filter(|e| e.kind == "rule") {
                    for (i, r) in wf.rules.iter().enumerate() {
                        if r.field == e.field && r.message.get(state.lang) == e.message {
                            self.rules.entry(i).or_default().0 = true;
                        }
                    }
                }
            }
            // An accepted step: every rule on one of its fields that kept its answer held.
            (Some(Command::Answer { step, .. }), Some(Outcome::Moved { .. })) => {
                let Some(s) = wf.step(step) else { return };
                for (i, r) in wf.rules.iter().enumerate() {
                    if s.fields.iter().any(|f| f.id == r.field)
                        && state.answers.contains_key(&r.field)
                    {
                        self.rules.entry(i).or_default().1 = true;
                    }
                }
            }
            _ => {}
        }
    }

    /// Sub-fields whose conditions read their entry: what an answer or a refusal shows.
    fn observe_entries(
        &mut self,
        wf: &Workflow,
        state: &Application,
        command: Option<&Command>,
        outcome: Option<&Outcome>,
    ) {
        let Some(Command::Answer { step, values, .. }) = command else {
            return;
        };
        let Some(s) = wf.step(step) else { return };
        for group in s.fields.iter().filter(|f| !f.subfields.is_empty()) {
            let conditional = |sub: &crate::definition::Field| {
                sub.visible_if.is_some()
                    || matches!(sub.required, crate::definition::Required::When(_))
            };
            if !group.subfields.iter().any(conditional) {
                continue;
            }
            let key = |sub: &str| format!("{}.{sub}", group.id);
            match outcome {
                Some(Outcome::Rejected { errors, .. }) => {
                    for e in errors.iter().filter(|e| e.kind == "required") {
                        for sub in &group.subfields {
                            let when = matches!(sub.required, crate::definition::Required::When(_));
                            if when
                                && e.field == group.id
                                && e.pointer.ends_with(&format!("/{}", sub.id))
                            {
                                self.requirements.entry(key(&sub.id)).or_default().0 = true;
                            }
                        }
                    }
                }
                Some(Outcome::Moved { .. }) => {
                    let entries = |v: Option<&serde_json::Value>| -> Vec<serde_json::Value> {
                        match v {
                            Some(serde_json::Value::Array(a)) => a.clone(),
                            Some(o @ serde_json::Value::Object(_)) => vec![o.clone()],
                            _ => Vec::new(),
                        }
                    };
                    let stored = entries(state.answers.get(&group.id));
                    let posted = entries(values.get(&group.id));
                    for (i, kept) in stored.iter().enumerate() {
                        for sub in &group.subfields {
                            let has = kept.get(&sub.id).is_some_and(crate::script::is_answered);
                            if sub.visible_if.is_some() {
                                let sent = posted
                                    .get(i)
                                    .and_then(|p| p.get(&sub.id))
                                    .is_some_and(crate::script::is_answered);
                                let entry = self.visibility.entry(key(&sub.id)).or_default();
                                if has {
                                    entry.0 = true;
                                } else if sent {
                                    entry.1 = true;
                                }
                            }
                            if matches!(sub.required, crate::definition::Required::When(_)) && !has
                            {
                                self.requirements.entry(key(&sub.id)).or_default().1 = true;
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// Everything not reached, in the order of the workflow file.
    pub fn gaps(&self, wf: &Workflow) -> Vec<Gap> {
        let mut out = Vec::new();
        for step in &wf.steps {
            if step.applies_if.is_none() && !self.visited.contains(&step.id) {
                out.push(Gap::StepNeverVisited {
                    step: step.id.clone(),
                });
            }
            // A step with a condition is visited exactly when the condition held.
            if step.applies_if.is_some() {
                let (held, failed) = self.applies.get(&step.id).copied().unwrap_or_default();
                if !held {
                    out.push(Gap::StepNeverApplied {
                        step: step.id.clone(),
                    });
                }
                if !failed && !never_skippable(wf, &step.id) {
                    out.push(Gap::StepNeverSkipped {
                        step: step.id.clone(),
                    });
                }
            }
            if !step.branches.is_empty() {
                for (i, b) in step.branches.iter().enumerate() {
                    if !self.branches.contains(&(step.id.clone(), Some(i))) {
                        out.push(Gap::BranchNeverTaken {
                            from: step.id.clone(),
                            to: b.target.label().to_string(),
                            condition: Some(b.condition.source().to_string()),
                        });
                    }
                }
                if !self.branches.contains(&(step.id.clone(), None)) {
                    out.push(Gap::BranchNeverTaken {
                        from: step.id.clone(),
                        to: step.default_next.label().to_string(),
                        condition: None,
                    });
                }
            }
            for group in &step.fields {
                for sub in &group.subfields {
                    let key = format!("{}.{}", group.id, sub.id);
                    if sub.visible_if.is_some() {
                        let (shown, hidden) =
                            self.visibility.get(&key).copied().unwrap_or_default();
                        if !shown {
                            out.push(Gap::FieldNeverShown { field: key.clone() });
                        }
                        if !hidden {
                            out.push(Gap::FieldNeverHidden { field: key.clone() });
                        }
                    }
                    if matches!(sub.required, crate::definition::Required::When(_)) {
                        let (held, waived) =
                            self.requirements.get(&key).copied().unwrap_or_default();
                        if !held {
                            out.push(Gap::RequirementNeverHeld { field: key.clone() });
                        }
                        if !waived {
                            out.push(Gap::RequirementNeverWaived { field: key });
                        }
                    }
                }
            }
            for f in step.fields.iter().filter(|f| f.visible_if.is_some()) {
                let (shown, hidden) = self.visibility.get(&f.id).copied().unwrap_or_default();
                if !shown {
                    out.push(Gap::FieldNeverShown {
                        field: f.id.clone(),
                    });
                }
                if !hidden {
                    out.push(Gap::FieldNeverHidden {
                        field: f.id.clone(),
                    });
                }
            }
        }
        for (i, r) in wf.rules.iter().enumerate() {
            let (violated, passed) = self.rules.get(&i).copied().unwrap_or_default();
            let check = r.check.source().trim().to_string();
            if !violated {
                out.push(Gap::RuleNeverViolated {
                    field: r.field.clone(),
                    check: check.clone(),
                });
            }
            if !passed {
                out.push(Gap::RuleNeverPassed {
                    field: r.field.clone(),
                    check,
                });
            }
        }
        out
    }

    /// (reached, total) over every item `gaps` can report.
    pub fn figures(&self, wf: &Workflow) -> (usize, usize) {
        let mut total = 2 * wf.rules.len();
        for s in &wf.steps {
            total += match &s.applies_if {
                Some(_) if never_skippable(wf, &s.id) => 1,
                Some(_) => 2,
                None => 1,
            };
            if !s.branches.is_empty() {
                total += s.branches.len() + 1;
            }
            total += 2 * s.fields.iter().filter(|f| f.visible_if.is_some()).count();
            for sub in s.fields.iter().flat_map(|f| &f.subfields) {
                total += 2 * usize::from(sub.visible_if.is_some());
                total +=
                    2 * usize::from(matches!(sub.required, crate::definition::Required::When(_)));
            }
        }
        let missing = self.gaps(wf).len();
        (total.saturating_sub(missing), total)
    }
}

/// A way through a script's `if` that no scenario took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScriptGap {
    /// `computed value "gebuehr"` or `rule on "anzahl"`.
    pub script: String,
    /// The line within the script.
    pub line: usize,
    pub condition: String,
    /// `true`: the body was never run; `false`: the other way (`else`, or past the `if`).
    pub body: bool,
}

impl fmt::Display for ScriptGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let way = if self.body { "true" } else { "false" };
        write!(
            f,
            "{}, script line {}: `if {}` never {way}",
            self.script, self.line, self.condition
        )
    }
}

/// The ways through the `if`s of computed values and rules that the scenarios run on a
/// traced sandbox never took, and how many ways there are: (gaps, total). Not part of
/// [`Coverage::figures`]: a script's ways are often there for inputs the steps already
/// refuse.
#[cfg(feature = "coverage")]
pub fn script_gaps(wf: &Workflow, trace: &crate::script::Trace) -> (Vec<ScriptGap>, usize) {
    let mut gaps = Vec::new();
    let mut total = 0;
    let scripts = wf
        .computed
        .iter()
        .map(|c| (format!("computed value \"{}\"", c.id), &c.expr))
        .chain(
            wf.rules
                .iter()
                .map(|r| (format!("rule on \"{}\"", r.field), &r.check)),
        );
    for (name, expr) in scripts {
        total += 2 * crate::script::branches(expr).len();
        for (line, condition, body) in trace.untaken(expr) {
            gaps.push(ScriptGap {
                script: name.clone(),
                line,
                condition,
                body,
            });
        }
    }
    (gaps, total)
}

/// Whether a step's `applies_if` can never be false: every way into the step is a branch with
/// the very same condition, evaluated on the same answers. Such a step cannot be skipped, so
/// "never skipped" is not counted as a gap; [`redundant_conditions`] names it instead.
pub fn never_skippable(wf: &Workflow, step: &str) -> bool {
    let Some(target) = wf.step(step) else {
        return false;
    };
    let Some(cond) = &target.applies_if else {
        return false;
    };
    if wf.steps.first().is_some_and(|s| s.id == step) {
        return false;
    }
    let into = |t: &crate::definition::Target| t.label() == step;
    let mut ways = 0usize;
    for s in &wf.steps {
        if into(&s.default_next) {
            return false;
        }
        for b in s.branches.iter().filter(|b| into(&b.target)) {
            if b.condition.source().trim() != cond.source().trim() {
                return false;
            }
            ways += 1;
        }
    }
    ways > 0
}

/// Steps whose `applies_if` repeats the condition of every branch into them (see
/// [`never_skippable`]).
pub fn redundant_conditions(wf: &Workflow) -> Vec<String> {
    wf.steps
        .iter()
        .filter(|s| never_skippable(wf, &s.id))
        .map(|s| s.id.clone())
        .collect()
}

/// Coverage of every workflow version in a library.
#[derive(Debug, Default, Clone)]
pub struct CoverageSet {
    by_workflow: BTreeMap<String, Coverage>,
}

impl CoverageSet {
    pub fn new(library: &Library) -> CoverageSet {
        CoverageSet {
            by_workflow: library
                .all()
                .map(|wf| (wf.key(), Coverage::new(wf)))
                .collect(),
        }
    }

    pub fn observe(
        &mut self,
        wf: &Workflow,
        state: &Application,
        command: Option<&Command>,
        outcome: Option<&Outcome>,
    ) {
        self.by_workflow
            .entry(wf.key())
            .or_insert_with(|| Coverage::new(wf))
            .observe(wf, state, command, outcome);
    }

    pub fn get(&self, key: &str) -> Option<&Coverage> {
        self.by_workflow.get(key)
    }
}
