//! The browser's engine: the core's own code (definitions, rhai conditions, JSON Schema checks,
//! German messages), built for `wasm32-unknown-unknown` by `scripts/wasm/build.sh` and run on a
//! step page by `/static/lotse-engine.js`. Two calls, each JSON in and JSON out, so that the
//! same functions run natively in the tests (the parity test compares the two builds):
//!
//! - [`load`]: compiles a workflow from its [`ParsedSources`] (served by the portal per
//!   content hash, the YAML already read as JSON, so that the module has no YAML parser) and
//!   keeps it; the answer names the content hash it got, which must be the one asked for;
//! - [`preview`]: a step of an application for the values typed there
//!   ([`Application::preview_step`]).
//!
//! The module reads no clock (the time comes with each call), no file and no network.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::sync::Arc;

use lotse_core::definition::{ParsedSources, compile_parsed};
use lotse_core::script::Sandbox;
use lotse_core::{Application, Lang, Workflow};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;

#[cfg(target_family = "wasm")]
mod abi;

/// What [`load`] is given.
#[derive(Debug, Deserialize)]
pub struct LoadRequest {
    /// The content hash the sources must compile to.
    pub content_hash: String,
    pub sources: ParsedSources,
}

/// What [`preview`] is given.
#[derive(Debug, Serialize, Deserialize)]
pub struct PreviewRequest {
    /// The workflow, loaded before by [`load`].
    pub content_hash: String,
    /// The application as the server keeps it (the draft's state).
    pub state: Value,
    pub step: String,
    /// The values typed, as JSON values (the API's front ends) ...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Map<String, Value>>,
    /// ... or as an HTML form posts them: name and text (the portal's step page).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pairs: Option<Vec<(String, String)>>,
    #[serde(default)]
    pub lang: Lang,
    /// The moment of the check (RFC 3339); `today()` in scripts is its date in Berlin.
    #[serde(with = "time::serde::rfc3339")]
    pub now: OffsetDateTime,
}

thread_local! {
    static ENGINE: RefCell<Engine> = RefCell::new(Engine::default());
}

/// The workflows loaded so far, by content hash, and one sandbox as on the server.
#[derive(Default)]
struct Engine {
    sandbox: Sandbox,
    workflows: BTreeMap<String, Arc<Workflow>>,
}

/// Compiles and keeps a workflow; `{"content_hash": …}` or `{"error": …}`.
pub fn load(input: &str) -> String {
    let answer = match serde_json::from_str::<LoadRequest>(input) {
        Err(e) => json!({ "error": format!("LOT-B001: the load request is not valid: {e}") }),
        Ok(req) => ENGINE.with(|e| e.borrow_mut().load(req)),
    };
    answer.to_string()
}

/// A step's preview as JSON ([`lotse_core::application::StepPreview`]) or `{"error": …}`.
pub fn preview(input: &str) -> String {
    let answer = match serde_json::from_str::<PreviewRequest>(input) {
        Err(e) => json!({ "error": format!("LOT-B002: the preview request is not valid: {e}") }),
        Ok(req) => ENGINE.with(|e| e.borrow().preview(req)),
    };
    answer.to_string()
}

impl Engine {
    fn load(&mut self, req: LoadRequest) -> Value {
        if self.workflows.contains_key(&req.content_hash) {
            return json!({ "content_hash": req.content_hash });
        }
        match compile_parsed(&req.sources, &self.sandbox) {
            Err(problems) => {
                let first = problems
                    .first()
                    .map(|p| format!("{}: {}", p.code, p.message))
                    .unwrap_or_default();
                json!({ "error": format!("LOT-B003: the workflow does not compile: {first}") })
            }
            Ok(wf) if wf.content_hash != req.content_hash => json!({
                "error": format!(
                    "LOT-B004: the sources compile to {}, not to {}",
                    wf.content_hash, req.content_hash
                )
            }),
            Ok(wf) => {
                self.workflows
                    .insert(req.content_hash.clone(), Arc::new(wf));
                json!({ "content_hash": req.content_hash })
            }
        }
    }

    fn preview(&self, req: PreviewRequest) -> Value {
        let Some(wf) = self.workflows.get(&req.content_hash) else {
            return json!({ "error": format!("LOT-B005: workflow {} is not loaded", req.content_hash) });
        };
        let app: Application = match serde_json::from_value(req.state) {
            Ok(a) => a,
            Err(e) => {
                return json!({ "error": format!("LOT-B006: the state is not an application: {e}") });
            }
        };
        let values = match (req.values, req.pairs) {
            (Some(v), _) => v,
            (None, pairs) => match wf.step(&req.step) {
                Some(step) => {
                    lotse_core::form::answers_from_pairs(step, &pairs.unwrap_or_default())
                }
                None => Map::new(),
            },
        };
        match app.preview_step(wf, &self.sandbox, &req.step, values, req.lang, req.now) {
            Ok(p) => serde_json::to_value(p)
                .unwrap_or_else(|e| json!({ "error": format!("LOT-B007: {e}") })),
            Err(e) => json!({ "error": e.to_string(), "code": e.code() }),
        }
    }
}
