//! Prefill from the citizen's identity (`prefill:` in a workflow, docs/login.md): the answers
//! a workflow maps onto its fields when a signed-in citizen starts it, and the fields the
//! designer locked, whose posted values are replaced by the stored ones.

use std::collections::BTreeMap;

use lotse_core::login::{SignedIn, TrustLevel};
use lotse_core::{Application, Workflow};
use lotse_store::CitizenSession;
use serde_json::{Map, Value};

/// Records the signed-in citizen on a new application and puts the identity's attributes into
/// the fields `prefill:` names (answers of steps not answered yet: the citizen sees them on the
/// step and confirms or, where allowed, changes them).
pub fn apply(wf: &Workflow, citizen: &CitizenSession, app: &mut Application) {
    let mut prefilled = Vec::new();
    let answers = &mut app.answers;
    for p in &wf.prefill {
        let Some(v) = citizen.attributes.get(&p.attribute) else {
            continue;
        };
        prefilled.push(p.path.join("."));
        let v = Value::String(v.clone());
        match p.path.as_slice() {
            [field] => {
                answers.insert(field.clone(), v);
            }
            [group, sub] => {
                let entry = answers
                    .entry(group.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(m) = entry {
                    m.insert(sub.clone(), v);
                }
            }
            _ => {}
        }
    }
    app.signed_in = Some(SignedIn {
        provider: citizen.provider.clone(),
        trust_level: TrustLevel::from_rank(citizen.trust_level).unwrap_or(TrustLevel::Basic),
        subject: citizen.subject.clone(),
        prefilled,
    });
}

/// The stored value at `path` in `answers`.
fn at<'a>(answers: &'a BTreeMap<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut v = answers.get(first)?;
    for part in rest {
        v = v.get(part)?;
    }
    Some(v)
}

/// Locked prefilled fields keep the stored value, whatever was posted for them.
pub fn enforce(wf: &Workflow, app: &Application, posted: &mut Map<String, Value>) {
    let Some(signed_in) = &app.signed_in else {
        return;
    };
    let stored = &app.answers;
    for p in wf.prefill.iter().filter(|p| !p.editable) {
        if !signed_in.prefilled.contains(&p.path.join(".")) {
            continue;
        }
        let Some(value) = at(stored, &p.path) else {
            continue;
        };
        match p.path.as_slice() {
            [field] if posted.contains_key(field) => {
                posted.insert(field.clone(), value.clone());
            }
            [group, sub] => {
                if let Some(Value::Object(m)) = posted.get_mut(group) {
                    m.insert(sub.clone(), value.clone());
                }
            }
            _ => {}
        }
    }
}

/// Whether the field with this form name (`halter.nachname`) was prefilled on this
/// application, and whether the citizen may change it: `None` when it was not.
pub fn prefilled(wf: &Workflow, app: &Application, name: &str) -> Option<bool> {
    let signed_in = app.signed_in.as_ref()?;
    if !signed_in.prefilled.iter().any(|p| p == name) {
        return None;
    }
    wf.prefill
        .iter()
        .find(|p| p.path.join(".") == name)
        .map(|p| p.editable)
}
