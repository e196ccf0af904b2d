//! Test support that speaks the domain: load the repository's workflows, start an application
//! on a fixed day, answer steps, go back, review, submit.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use lotse_core::application::{Position, ReviewView};
use lotse_core::form::FieldError;
use lotse_core::script::Sandbox;
use lotse_core::{Application, Command, Library, Outcome, Submission, Workflow, load_library};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::macros::datetime;

/// The fixed "now" of every test: 28 November 2026, 10:00 UTC.
pub const NOW: OffsetDateTime = datetime!(2026-11-28 10:00 UTC);

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn sandbox() -> &'static Sandbox {
    static S: OnceLock<Sandbox> = OnceLock::new();
    S.get_or_init(Sandbox::default)
}

/// The repository's library, loaded once; panics with every problem if it has errors.
pub fn library() -> &'static Library {
    static L: OnceLock<Library> = OnceLock::new();
    L.get_or_init(|| {
        let (lib, problems) = load_library(&repo_root(), sandbox());
        let errors: Vec<String> = problems
            .iter()
            .filter(|p| p.is_error())
            .map(|p| p.to_string())
            .collect();
        assert!(
            errors.is_empty(),
            "the repository's definitions have errors:\n{}",
            errors.join("\n")
        );
        lib
    })
}

/// One citizen going through one workflow.
pub struct Citizen {
    pub wf: Arc<Workflow>,
    pub app: Application,
    pub now: OffsetDateTime,
}

pub fn start_application(workflow: &str) -> Citizen {
    let wf = library()
        .latest(workflow)
        .unwrap_or_else(|| panic!("no workflow {workflow}"))
        .clone();
    let app = Application::start(&wf, lotse_core::Lang::De, NOW);
    Citizen { wf, app, now: NOW }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("answers must be an object, got {other}"),
    }
}

impl Citizen {
    pub fn apply(&mut self, command: Command) -> Outcome {
        let t = self
            .app
            .apply(&self.wf, sandbox(), command, self.now)
            .unwrap_or_else(|e| panic!("command failed: {e}"));
        // The computed values a transition returns are the ones its state would compute again.
        if let Some(computed) = &t.computed {
            let again = t
                .state
                .computed(&self.wf, sandbox(), self.now.date())
                .unwrap_or_else(|e| panic!("computed values failed: {e}"));
            assert_eq!(computed, &again, "the transition's computed values");
        }
        self.app = t.state;
        t.outcome
    }

    /// The step the citizen is on.
    pub fn at(&self) -> String {
        match &self.app.position {
            Position::Step(s) => s.clone(),
            Position::Review => "review".into(),
            Position::Submitted => "submitted".into(),
        }
    }

    /// Answers the current step and expects to move on; returns where the citizen is now.
    pub fn answer_step(&mut self, answers: Value) -> String {
        let step = self.at();
        match self.apply(Command::Answer {
            step: step.clone(),
            values: object(answers),
            then_review: false,
        }) {
            Outcome::Moved { .. } => self.at(),
            Outcome::Rejected { errors, .. } => {
                panic!("step {step} rejected: {errors:#?}")
            }
            other => panic!("step {step}: unexpected {other:?}"),
        }
    }

    /// Answers the current step and expects errors; the state must not change beyond keeping
    /// what was typed (`pending`).
    pub fn answer_with_errors(&mut self, answers: Value) -> Vec<FieldError> {
        let step = self.at();
        let mut before = self.app.clone();
        let typed = object(answers);
        match self.apply(Command::Answer {
            step: step.clone(),
            values: typed.clone(),
            then_review: false,
        }) {
            Outcome::Rejected { errors, .. } => {
                before.pending.insert(step.clone(), typed);
                before.updated_at = self.app.updated_at;
                assert_eq!(
                    serde_json::to_value(&before).unwrap(),
                    serde_json::to_value(&self.app).unwrap(),
                    "a rejected answer changed more than the pending answers"
                );
                errors
            }
            other => panic!("step {step}: expected errors, got {other:?}"),
        }
    }

    pub fn back(&mut self) -> String {
        self.apply(Command::Back);
        self.at()
    }

    pub fn review(&mut self) -> ReviewView {
        match self.apply(Command::Review) {
            Outcome::Moved {
                to: Position::Review,
            } => {}
            other => panic!("review not possible: {other:?}"),
        }
        let computed = self
            .app
            .computed(&self.wf, sandbox(), self.now.date())
            .unwrap();
        ReviewView::build(
            &self.wf,
            &self.app.route,
            &self.app.answers,
            &computed,
            self.app.lang,
        )
    }

    /// Sends the application, ticking every statement of the workflow's declaration.
    pub fn submit(&mut self) -> Submission {
        let declared = self.wf.declaration.iter().map(|s| s.id.clone()).collect();
        match self.apply(Command::Submit { declared }) {
            Outcome::Submitted { submission } => *submission,
            other => panic!("submit failed: {other:?}"),
        }
    }

    /// The explanations as sentences.
    pub fn why(&self) -> Vec<String> {
        self.app
            .explanations
            .iter()
            .map(|e| e.describe(lotse_core::Lang::De))
            .collect()
    }
}

/// The message at a pointer, for assertions.
pub fn message_at<'a>(errors: &'a [FieldError], pointer: &str) -> &'a str {
    errors
        .iter()
        .find(|e| e.pointer == pointer)
        .map(|e| e.message.as_str())
        .unwrap_or_else(|| panic!("no error at {pointer}: {errors:#?}"))
}
