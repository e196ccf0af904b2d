//! The state machine of one citizen's application: `apply(command, now)` validates, evaluates the
//! rules, chooses the next step and returns the new state with an [`Outcome`]. It does no I/O: the
//! caller stores the state, renders pages, issues receipts.
//!
//! An application is pinned to the workflow version (and content hash) it started on.

mod declaration;
mod display;
mod entries;
mod errors;
mod eval;
mod evaluate;
mod explain;
mod preview;
mod receipt;
mod route;
mod texts;
mod typed;
mod values;

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use time::{Date, OffsetDateTime};

use crate::definition::{Field, Step, Target, Workflow};
use crate::form::{self, ErrorKind, FieldError};
use crate::script::{Sandbox, ScriptError};
use crate::text::Lang;

pub use declaration::declaration_errors;
pub use display::{Display, ReviewEntry, ReviewStep, ReviewView, format_value};
use errors::{character_errors, date_errors, field_error, missing_errors, subfield_for};
use eval::{Eval, Strictness, hidden_dropped, step_env};
pub use evaluate::FieldState;
pub use explain::Explanation;
pub use preview::{FieldStateOwned, StepPreview};
pub use receipt::{declaration_title, receipt_model};
use route::{Known, Route, compute_route, known_after_check, project, replace_ids};
pub use texts::{fill, placeholders};
pub use typed::Typed;
pub use values::normalise;
use values::normalised;

/// Where the citizen is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "at", content = "step", rename_all = "snake_case")]
pub enum Position {
    Step(String),
    Review,
    Submitted,
}

/// One citizen's application, as stored between requests.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Application {
    pub workflow_id: String,
    pub workflow_version: u32,
    pub content_hash: String,
    pub lang: Lang,
    /// Answers by field id; only fields that apply and are shown.
    pub answers: BTreeMap<String, Value>,
    /// Steps the citizen has completed.
    pub answered: BTreeSet<String>,
    pub position: Position,
    /// The steps that apply, in order, as far as the answers decide.
    pub route: Vec<String>,
    /// The steps expected after the route, as far as today's answers tell (for "Schritt 2 von 5").
    #[serde(default)]
    pub ahead: Vec<String>,
    /// Why steps were skipped, branches taken, fields hidden (for the latest answers).
    pub explanations: Vec<Explanation>,
    /// What the citizen typed on a step that was not accepted, by step: kept with the draft so a
    /// reload or a later visit shows it again with its errors ([`Application::pending_attempt`]).
    /// Never part of a submission; cleared when the step is accepted.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, Map<String, Value>>,
    /// What was typed on a step after adding or removing an entry, not sent yet
    /// ([`Command::Keep`]); cleared when that step is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typed: Option<Typed>,
    /// The signed-in citizen who started it (`login:`, docs/login.md); `None`: anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<crate::login::SignedIn>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// What a citizen (or an API client) asks for.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    /// Answers a step. With `then_review`, a complete application goes back to the review page
    /// (the "Ändern" link).
    Answer {
        step: String,
        values: Map<String, Value>,
        #[serde(default)]
        then_review: bool,
    },
    Back,
    Goto {
        step: String,
    },
    Review,
    /// Sends the application; `declared` names the statements of the workflow's declaration
    /// the citizen ticked (every one is needed).
    Submit {
        #[serde(default)]
        declared: Vec<String>,
    },
    /// Keeps what was typed on a step without sending it (an entry added to or removed from a
    /// repeatable group, `removed` the entry taken out); nothing is checked.
    Keep {
        step: String,
        values: Map<String, Value>,
        #[serde(default)]
        removed: Option<Value>,
    },
}

impl Command {
    /// Sends an application whose workflow has no declaration to tick.
    pub fn submit() -> Command {
        Command::Submit {
            declared: Vec::new(),
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// The citizen is now at `to`.
    Moved { to: Position },
    /// The answers were not accepted; the state only keeps what was typed (`pending`).
    Rejected {
        step: String,
        errors: Vec<FieldError>,
    },
    /// Review is not possible yet: `missing` must be answered first.
    Incomplete { missing: String },
    /// The application was submitted.
    Submitted { submission: Box<Submission> },
}

/// The immutable record of a submitted application.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Submission {
    pub workflow_id: String,
    pub workflow_version: u32,
    pub content_hash: String,
    pub lang: Lang,
    pub answers: BTreeMap<String, Value>,
    pub computed: BTreeMap<String, Value>,
    /// The steps the citizen went through, in order.
    pub path: Vec<String>,
    /// The statements of the workflow's declaration the citizen ticked on the review page.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub declared: Vec<String>,
    /// The online payment made before the office got the submission (`payment:`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment: Option<crate::payment::PaidPayment>,
    /// The SEPA direct debit mandate given with the application (`sepa_mandate:`), recorded
    /// by the service when it stores the submission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sepa_mandate: Option<crate::payment::GivenMandate>,
    /// The signed-in citizen (a pseudonymous id, the provider, the trust level); `None`:
    /// anonymous.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_in: Option<crate::login::SignedIn>,
    pub explanations: Vec<Explanation>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub submitted_at: OffsetDateTime,
}

/// What was typed on a step and not accepted, with the errors the step reports for it now.
#[derive(Clone, Debug, PartialEq)]
pub struct PendingAttempt {
    pub values: Map<String, Value>,
    pub errors: Vec<FieldError>,
}

/// The new state and what happened.
#[derive(Clone, Debug)]
pub struct Transition {
    pub state: Application,
    pub outcome: Outcome,
    /// The computed values (fees and the like) for the new state's answers, where `apply`
    /// computed them anyway: after an accepted answer, a review, a submit or an incomplete
    /// application. `None` after a rejected answer, `Back` and `Goto`, which compute nothing;
    /// [`Application::computed`] gives them then.
    pub computed: Option<BTreeMap<String, Value>>,
}

/// Why a command could not be applied at all. The citizen sees a calm message; the designer or
/// operator sees the code and details in the log.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("LOT-A001: the application belongs to {expected}, not to {found}")]
    WrongWorkflow { expected: String, found: String },
    #[error("LOT-A002: step \"{0}\" is not on this application's route")]
    NotOnRoute(String),
    #[error("LOT-A003: the application was already submitted")]
    AlreadySubmitted,
    #[error("LOT-A004: step \"{0}\" is not available yet; answer the steps before it first")]
    NotYet(String),
    #[error("LOT-A005: a script of {workflow} failed at {place}: {error}")]
    Script {
        workflow: String,
        place: String,
        error: ScriptError,
    },
    #[error("LOT-A006: step \"{0}\" got answers for unknown fields: {1}")]
    UnknownFields(String, String),
    #[error("LOT-A010: step \"{0}\" is an end page: nothing is answered or sent from it")]
    EndPage(String),
}

impl ApplyError {
    pub fn code(&self) -> &'static str {
        match self {
            ApplyError::WrongWorkflow { .. } => "LOT-A001",
            ApplyError::NotOnRoute(_) => "LOT-A002",
            ApplyError::AlreadySubmitted => "LOT-A003",
            ApplyError::NotYet(_) => "LOT-A004",
            ApplyError::Script { .. } => "LOT-A005",
            ApplyError::UnknownFields(..) => "LOT-A006",
            ApplyError::EndPage(_) => "LOT-A010",
        }
    }
}

/// The result of checking one step's answers.
struct StepCheck {
    /// The fields whose answers are accepted, by index on the step in ascending order, with
    /// the normalised value where it differs from the posted one (`None`: the posted value as
    /// it is).
    accepted: Vec<(usize, Option<Value>)>,
    errors: Vec<FieldError>,
    /// What the check found that stays valid after storing the answers.
    known: Option<Known>,
}

impl Application {
    /// Starts an application on a workflow version.
    pub fn start(wf: &Workflow, lang: Lang, now: OffsetDateTime) -> Application {
        let first = wf.steps.first().map(|s| s.id.clone()).unwrap_or_default();
        // Before any answer, expect the default path without the conditional steps.
        let mut ahead = Vec::new();
        let mut seen = vec![false; wf.steps.len()];
        let mut next = wf.steps.first().map(|s| s.default_next.clone());
        while let Some(Target::Step(id)) = next {
            let Some(i) = wf.step_position(&id) else {
                break;
            };
            if std::mem::replace(&mut seen[i], true) {
                break;
            }
            if wf.steps[i].applies_if.is_none() {
                ahead.push(id);
            }
            next = Some(wf.steps[i].default_next.clone());
        }
        Application {
            workflow_id: wf.id.clone(),
            workflow_version: wf.version,
            content_hash: wf.content_hash.clone(),
            lang,
            answers: BTreeMap::new(),
            answered: BTreeSet::new(),
            position: Position::Step(first.clone()),
            route: vec![first],
            ahead,
            explanations: Vec::new(),
            pending: BTreeMap::new(),
            typed: None,
            signed_in: None,
            started_at: now,
            updated_at: now,
        }
    }

    /// The answers typed on the current step that were not accepted, with their errors as the
    /// step would report them now (in the application's language), or `None` when the step has
    /// nothing pending. What a page shows again after a reload.
    pub fn pending_attempt(
        &self,
        wf: &Workflow,
        sandbox: &Sandbox,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAttempt>, ApplyError> {
        let Some(step) = self.current_step() else {
            return Ok(None);
        };
        let Some(values) = self.pending.get(step) else {
            return Ok(None);
        };
        let Some(index) = wf.step_position(step) else {
            return Ok(None);
        };
        let ev = Eval {
            wf,
            sandbox,
            today: now.date(),
        };
        let checked = self.check_step(&ev, index, values)?;
        Ok(Some(PendingAttempt {
            values: values.clone(),
            errors: checked.errors,
        }))
    }

    /// The end page the citizen is on (`end: true`), if any: the assistant ends there.
    pub fn at_end<'w>(&self, wf: &'w Workflow) -> Option<&'w Step> {
        let id = self.current_step()?;
        wf.steps.iter().find(|s| s.id == id && s.end)
    }

    /// The step the citizen is on, if any.
    pub fn current_step(&self) -> Option<&str> {
        match &self.position {
            Position::Step(s) => Some(s),
            _ => None,
        }
    }

    /// "Schritt 2 von 5": the position on the route, and the number of steps expected in all.
    pub fn progress(&self) -> (usize, usize) {
        let total = (self.route.len() + self.ahead.len()).max(1);
        match &self.position {
            Position::Step(s) => (
                self.route
                    .iter()
                    .position(|r| r == s)
                    .map(|i| i + 1)
                    .unwrap_or(1),
                total,
            ),
            _ => (total, total),
        }
    }

    /// Applies one command. The state in `self` is never changed; the new state is returned.
    pub fn apply(
        &self,
        wf: &Workflow,
        sandbox: &Sandbox,
        command: Command,
        now: OffsetDateTime,
    ) -> Result<Transition, ApplyError> {
        if wf.id != self.workflow_id
            || wf.version != self.workflow_version
            || wf.content_hash != self.content_hash
        {
            return Err(ApplyError::WrongWorkflow {
                expected: format!(
                    "{}@{} ({})",
                    self.workflow_id, self.workflow_version, self.content_hash
                ),
                found: format!("{} ({})", wf.key(), wf.content_hash),
            });
        }
        if self.position == Position::Submitted {
            return Err(ApplyError::AlreadySubmitted);
        }
        let ev = Eval {
            wf,
            sandbox,
            today: now.date(),
        };
        let mut next = self.clone();
        next.updated_at = now;
        // What was typed on a step and not sent lasts until that step is sent (or another
        // entry is added or removed): going back and forth never loses it.
        let sends_typed = match (&command, &next.typed) {
            (Command::Answer { step, .. }, Some(t)) => *step == t.step,
            (Command::Submit { .. }, _) => true,
            _ => false,
        };
        if sends_typed {
            next.typed = None;
        }
        let mut computed = None;
        let outcome = match command {
            Command::Answer {
                step,
                values,
                then_review,
            } => {
                let (outcome, c) = next.answer(&ev, &step, values, then_review)?;
                computed = c;
                outcome
            }
            Command::Back => {
                let to = match &self.position {
                    Position::Step(s) => {
                        let i = self.route.iter().position(|r| r == s).unwrap_or(0);
                        self.route[i.saturating_sub(1)].clone()
                    }
                    _ => self.route.last().cloned().unwrap_or_default(),
                };
                next.position = Position::Step(to);
                Outcome::Moved {
                    to: next.position.clone(),
                }
            }
            Command::Goto { step } => {
                if !self.route.contains(&step) {
                    return Err(ApplyError::NotOnRoute(step));
                }
                let first_open = self.route.iter().find(|s| !self.answered.contains(*s));
                if !self.answered.contains(&step) && first_open != Some(&step) {
                    return Err(ApplyError::NotYet(step));
                }
                next.position = Position::Step(step);
                Outcome::Moved {
                    to: next.position.clone(),
                }
            }
            Command::Review => match next.first_open(&ev, &mut computed)? {
                Some(missing) => {
                    next.position = Position::Step(missing.clone());
                    Outcome::Incomplete { missing }
                }
                None => {
                    next.position = Position::Review;
                    Outcome::Moved {
                        to: Position::Review,
                    }
                }
            },
            Command::Submit { declared } => match next.first_open(&ev, &mut computed)? {
                Some(missing) => {
                    next.position = Position::Step(missing.clone());
                    Outcome::Incomplete { missing }
                }
                None => {
                    let errors = declaration_errors(wf, &declared, next.lang);
                    if errors.is_empty() {
                        next.submit(&ev, declaration::ticked(wf, &declared), now)?
                    } else {
                        next.position = Position::Review;
                        next.keep_declared(&declaration::ticked(wf, &declared));
                        Outcome::Rejected {
                            step: crate::definition::REVIEW.to_string(),
                            errors,
                        }
                    }
                }
            },
            Command::Keep {
                step,
                values,
                removed,
            } => next.keep(wf, step, values, removed)?,
        };
        Ok(Transition {
            state: next,
            outcome,
            computed,
        })
    }

    /// The first step on the route that still needs answers, re-checking everything answered.
    /// The computed values of the answers go to `computed`.
    fn first_open(
        &mut self,
        ev: &Eval<'_>,
        computed: &mut Option<BTreeMap<String, Value>>,
    ) -> Result<Option<String>, ApplyError> {
        let mut route = self.reroute(ev)?;
        *computed = Some(std::mem::take(&mut route.computed));
        for &i in &route.steps {
            let step = &ev.wf.steps[i];
            if !self.answered.contains(&step.id) {
                return Ok(Some(step.id.clone()));
            }
            // Re-validate: the day may have changed, or an earlier answer changed a rule.
            let values: Map<String, Value> = step
                .fields
                .iter()
                .filter_map(|f| self.answers.get(&f.id).map(|v| (f.id.clone(), v.clone())))
                .collect();
            let checked = self.check_step(ev, i, &values)?;
            if !checked.errors.is_empty() {
                self.answered.remove(&step.id);
                return Ok(Some(step.id.clone()));
            }
        }
        if route.complete {
            Ok(None)
        } else {
            Ok(self.route.last().cloned())
        }
    }

    /// Answers a step; an accepted answer also gives the computed values of the new answers.
    fn answer(
        &mut self,
        ev: &Eval<'_>,
        step_id: &str,
        values: Map<String, Value>,
        then_review: bool,
    ) -> Result<(Outcome, Option<BTreeMap<String, Value>>), ApplyError> {
        let Some(index) = ev.wf.step_position(step_id) else {
            return Err(ApplyError::NotOnRoute(step_id.to_string()));
        };
        if !self.route.iter().any(|s| s == step_id) {
            return Err(ApplyError::NotOnRoute(step_id.to_string()));
        }
        let first_open = self.route.iter().find(|s| !self.answered.contains(*s));
        if !self.answered.contains(step_id) && first_open.map(String::as_str) != Some(step_id) {
            return Err(ApplyError::NotYet(step_id.to_string()));
        }
        let step = &ev.wf.steps[index];
        if step.end {
            return Err(ApplyError::EndPage(step_id.to_string()));
        }
        let mut cursor = FieldCursor::default();
        let unknown: Vec<&str> = values
            .keys()
            .filter(|k| cursor.find(step, k).is_none())
            .map(String::as_str)
            .collect();
        if !unknown.is_empty() {
            return Err(ApplyError::UnknownFields(
                step_id.to_string(),
                unknown.join(", "),
            ));
        }
        let checked = self.check_step(ev, index, &values)?;
        if !checked.errors.is_empty() {
            self.pending.insert(step_id.to_string(), values);
            let rejected = Outcome::Rejected {
                step: step_id.to_string(),
                errors: checked.errors,
            };
            return Ok((rejected, None));
        }
        self.pending.remove(step_id);
        // A changed answer is checked again on the review page, the declaration with it.
        self.pending.remove(crate::definition::REVIEW);
        self.store(step, values, checked.accepted);
        if !self.answered.contains(step_id) {
            self.answered.insert(step_id.to_string());
        }
        let route = self.reroute_with(ev, checked.known)?;
        let after = self
            .route
            .iter()
            .position(|s| s == step_id)
            .and_then(|i| self.route.get(i + 1))
            .cloned();
        let all_done = route.complete && self.route.iter().all(|s| self.answered.contains(s));
        self.position = if then_review && all_done {
            Position::Review
        } else {
            match after {
                Some(s) => Position::Step(s),
                None if all_done => Position::Review,
                None => Position::Step(step_id.to_string()),
            }
        };
        let moved = Outcome::Moved {
            to: self.position.clone(),
        };
        Ok((moved, Some(route.computed)))
    }

    /// Stores a step's accepted answers, moving them out of the posted values (their keys are
    /// the field ids) rather than copying them. An accepted answer replaces the field's earlier
    /// one; the step's other fields lose theirs.
    fn store(
        &mut self,
        step: &Step,
        posted: Map<String, Value>,
        mut accepted: Vec<(usize, Option<Value>)>,
    ) {
        let mut kept: Vec<Option<(String, Value)>> = step.fields.iter().map(|_| None).collect();
        let mut cursor = FieldCursor::default();
        for (key, value) in posted {
            let Some(fi) = cursor.find(step, &key) else {
                continue;
            };
            // `accepted` is in the order of the step's fields.
            if let Ok(at) = accepted.binary_search_by_key(&fi, |(i, _)| *i) {
                kept[fi] = Some((key, accepted[at].1.take().unwrap_or(value)));
            }
        }
        for (f, k) in step.fields.iter().zip(&kept) {
            if k.is_none() {
                self.answers.remove(&f.id);
            }
        }
        let count = kept.iter().filter(|k| k.is_some()).count();
        // In id order: a tree is built from sorted entries without sorting them again. Sized
        // exactly, so that neither this vector nor the tree's own (which reuses it) grows.
        let mut sorted: Vec<(String, Value)> = Vec::with_capacity(count);
        sorted.extend(step.fields_by_id.iter().filter_map(|&fi| kept[fi].take()));
        // Building a tree from many new answers at once is cheaper than inserting them one by
        // one; a few answers into many are inserted.
        if count * 8 < self.answers.len() {
            self.answers.extend(sorted);
        } else {
            let mut add: BTreeMap<String, Value> = sorted.into_iter().collect();
            self.answers.append(&mut add);
        }
    }

    /// Validates the answers of one step together with the answers so far: schema, visibility,
    /// required, dates, cross-field rules. Returns the accepted values (hidden fields dropped)
    /// and every error at once.
    fn check_step(
        &self,
        ev: &Eval<'_>,
        index: usize,
        values: &Map<String, Value>,
    ) -> Result<StepCheck, ApplyError> {
        let wf = ev.wf;
        let step = &wf.steps[index];
        let lang = self.lang;
        // Scripts see this step's answers as given, over the answers so far.
        let mut posted: Vec<Option<&Value>> = vec![None; step.fields.len()];
        let mut cursor = FieldCursor::default();
        for (k, v) in values {
            if let Some(fi) = cursor.find(step, k) {
                posted[fi] = Some(v);
            }
        }
        let mut given: Vec<Option<Cow<'_, Value>>> = step
            .fields
            .iter()
            .zip(posted)
            .map(|(f, v)| v.and_then(|v| normalised(f, v)))
            .collect();
        // A hidden field's answer decides nothing: it is dropped before anything reads it
        // (requirements, rules, computed values, the route). Dropping one may hide another.
        let (visible, computed) = hidden_dropped(ev, index, &self.answers, &mut given)?;
        let entry_dropped =
            entries::hidden_entry_answers_dropped(ev, index, &self.answers, &mut given)?;
        let answers = &self.answers;
        let seen = &given;
        let mut env = step_env(ev, index, answers, seen);
        // The values computed while finding what is hidden hold, unless an entry's answer
        // was dropped after them.
        let computed = match computed.filter(|_| !entry_dropped) {
            Some(c) => {
                for (id, v) in &c {
                    env.set(id, v);
                }
                c
            }
            None => ev.computed(&mut env, Strictness::Typing)?,
        };

        let mut accepted_at = Vec::with_capacity(step.fields.len());
        let mut errors: Vec<FieldError> = Vec::new();
        for (fi, f) in step.fields.iter().enumerate() {
            if !visible[fi] {
                continue;
            }
            let value = seen[fi].as_deref();
            let Some(value) = value else {
                if ev.required(&mut env, f)? {
                    errors.extend(missing_errors(f, lang));
                }
                continue;
            };
            if f.widget == crate::definition::Widget::Checkbox
                && value == &Value::Bool(false)
                && ev.required(&mut env, f)?
            {
                errors.push(field_error(
                    f,
                    &format!("/{}", f.id),
                    &ErrorKind::Required,
                    lang,
                ));
                continue;
            }
            let before = errors.len();
            // Control and text-direction characters first: the rest of the checks would only
            // confuse with a message about a character nobody can see.
            let refused = character_errors(f, value, lang);
            if !refused.is_empty() {
                errors.extend(refused);
                continue;
            }
            if let Some(validator) = &f.validator {
                for (pointer, kind) in form::validate(validator, value) {
                    let target = subfield_for(f, &pointer);
                    let full = format!("/{}{}", f.id, pointer);
                    let mut e = field_error(target.unwrap_or(f), &full, &kind, lang);
                    e.field = f.id.clone();
                    if let Some(custom) = f.custom_message(&kind) {
                        e.message = custom.get(lang).to_string();
                    }
                    errors.push(e);
                }
            }
            if entries::has_entry_logic(f) {
                for e in entries::entry_requirement_errors(ev, &mut env, f, value, lang)? {
                    if !errors.iter().any(|x| x.pointer == e.pointer) {
                        errors.push(e);
                    }
                }
            }
            for e in date_errors(f, value, ev.today, lang) {
                if !errors.iter().any(|x| x.pointer == e.pointer) {
                    errors.push(e);
                }
            }
            if errors.len() == before {
                accepted_at.push(fi);
            }
        }
        // Cross-field rules of fields on this step that are shown, answered and valid so far.
        for rule in &wf.rules {
            let on_step_and_accepted = accepted_at
                .iter()
                .any(|&fi| step.fields[fi].id == rule.field);
            if !on_step_and_accepted || errors.iter().any(|e| e.field == rule.field) {
                continue;
            }
            // A rule that reads a value the citizen still has to correct waits for it.
            if rule
                .check
                .mentions
                .iter()
                .any(|m| errors.iter().any(|e| &e.field == m))
            {
                continue;
            }
            if let Some(sub) = &rule.entry {
                // A rule on a sub-field: once per entry, with its message at the entry's field.
                let at = step.fields.iter().position(|f| f.id == rule.field);
                if let Some(fi) = at
                    && let Some(value) = seen[fi].as_deref()
                {
                    errors.extend(entries::entry_rule_errors(
                        ev,
                        &mut env,
                        (&step.fields[fi], value),
                        rule,
                        sub,
                        lang,
                    )?);
                }
                continue;
            }
            let holds = ev.condition(&mut env, &rule.check, || {
                format!("rule for field \"{}\"", rule.field)
            })?;
            if !holds {
                errors.push(FieldError {
                    pointer: format!("/{}", rule.field),
                    field: rule.field.clone(),
                    kind: "rule".into(),
                    message: rule.message.get(lang).to_string(),
                });
            }
        }
        drop(env);
        let known = known_after_check(wf, index, visible, &given, computed);
        let accepted = accepted_at
            .into_iter()
            .map(|fi| match given[fi].take() {
                Some(Cow::Owned(v)) => (fi, Some(v)),
                _ => (fi, None),
            })
            .collect();
        Ok(StepCheck {
            accepted,
            errors,
            known,
        })
    }

    /// Recomputes the route from the answers, dropping answers of steps that no longer apply and
    /// of fields that are hidden, until nothing changes.
    fn reroute(&mut self, ev: &Eval<'_>) -> Result<Route, ApplyError> {
        self.reroute_with(ev, None)
    }

    /// As [`Self::reroute`], reusing what checking a step found where it is known.
    fn reroute_with(
        &mut self,
        ev: &Eval<'_>,
        mut known: Option<Known>,
    ) -> Result<Route, ApplyError> {
        let wf = ev.wf;
        for _ in 0..=wf.steps.len() {
            let answers = &self.answers;
            let mut env = ev.env(answers);
            let computed = match known.as_mut().and_then(|k| k.computed.take()) {
                Some(c) => {
                    for (id, v) in &c {
                        env.set(id, v);
                    }
                    c
                }
                None => ev.computed(&mut env, Strictness::Answered)?,
            };
            let mut route = compute_route(ev, &mut env, answers, &computed, &self.answered)?;
            route.computed = computed;
            let mut on_route = vec![false; wf.steps.len()];
            for &i in &route.steps {
                on_route[i] = true;
            }
            // Steps that no longer apply lose their answers, hidden fields theirs.
            let mut gone: Vec<&str> = Vec::new();
            let mut gone_steps: Vec<&str> = Vec::new();
            for (step, _) in wf.steps.iter().zip(&on_route).filter(|(_, on)| !**on) {
                gone.extend(
                    step.fields
                        .iter()
                        .filter(|f| answers.contains_key(&f.id))
                        .map(|f| f.id.as_str()),
                );
                if self.answered.contains(&step.id) {
                    gone_steps.push(&step.id);
                }
            }
            let mut hidden: Vec<&Field> = Vec::new();
            for &i in &route.steps {
                for (fi, f) in wf.steps[i].fields.iter().enumerate() {
                    if f.visible_if.is_none() {
                        continue;
                    }
                    let shown = match &known {
                        Some(k) if k.step == i => k.visible[fi],
                        _ => ev.visible(&mut env, f)?,
                    };
                    if !shown {
                        hidden.push(f);
                        if answers.contains_key(&f.id) {
                            gone.push(&f.id);
                        }
                    }
                }
            }
            // Known visibility holds only for the answers it was computed with.
            known = None;
            if gone.is_empty() && gone_steps.is_empty() {
                let ahead = project(ev, &mut env, &route);
                drop(env);
                // Most answers leave the route and what lies ahead as they were: keep them
                // rather than build them again.
                replace_ids(&mut self.ahead, wf, &ahead);
                replace_ids(&mut self.route, wf, &route.steps);
                // Explanations are written for the route that holds, not for every round.
                let mut explanations = std::mem::take(&mut route.explanations);
                explanations.extend(hidden.into_iter().filter_map(|f| {
                    let cond = f.visible_if.as_ref()?;
                    Some(Explanation::FieldHidden {
                        field: f.id.clone(),
                        condition: cond.source().to_string(),
                        values: explain::values_of(cond, &self.answers, &route.computed),
                    })
                }));
                self.explanations = explanations;
                return Ok(route);
            }
            drop(env);
            for id in gone {
                self.answers.remove(id);
            }
            for id in gone_steps {
                self.answered.remove(id);
            }
        }
        Err(ev.script_error(
            "route".into(),
            ScriptError::Limit("answers kept changing the route".into()),
        ))
    }

    fn submit(
        &mut self,
        ev: &Eval<'_>,
        declared: Vec<String>,
        now: OffsetDateTime,
    ) -> Result<Outcome, ApplyError> {
        let mut env = ev.env(&self.answers);
        let computed = ev.computed(&mut env, Strictness::Submit)?;
        self.position = Position::Submitted;
        let submission = Submission {
            workflow_id: self.workflow_id.clone(),
            workflow_version: self.workflow_version,
            content_hash: self.content_hash.clone(),
            lang: self.lang,
            answers: self.answers.clone(),
            computed,
            path: self.route.clone(),
            declared,
            payment: None,
            sepa_mandate: None,
            signed_in: self.signed_in.clone(),
            explanations: self.explanations.clone(),
            started_at: self.started_at,
            submitted_at: now,
        };
        Ok(Outcome::Submitted {
            submission: Box::new(submission),
        })
    }

    /// Computed values for the current answers (for the review page).
    pub fn computed(
        &self,
        wf: &Workflow,
        sandbox: &Sandbox,
        today: Date,
    ) -> Result<BTreeMap<String, Value>, ApplyError> {
        let ev = Eval { wf, sandbox, today };
        let mut env = ev.env(&self.answers);
        ev.computed(&mut env, Strictness::Answered)
    }
}

/// Finds posted answers' fields on a step. Forms post their fields in the step's order, so the
/// field after the last one found is tried first; a hash lookup costs more than that.
#[derive(Default)]
struct FieldCursor {
    next: usize,
}

impl FieldCursor {
    fn find(&mut self, step: &Step, id: &str) -> Option<usize> {
        let fi = match step.fields.get(self.next) {
            Some(f) if f.id == id => self.next,
            _ => step.field_position(id)?,
        };
        self.next = fi + 1;
        Some(fi)
    }
}

#[cfg(test)]
mod tests;
