//! From an HTML form post to the engine's answers: `name`, `gruppe.feld` for groups and
//! `liste.0.feld` for repeatable groups. Browsers send every value as text; the engine turns
//! text into numbers, dates and booleans. The server reads a step's post with this, and the
//! browser engine (`lotse-wasm`) reads the form as it is being filled in with the same code.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::definition::{Field, Step, Widget};

/// The answers of one step from the posted pairs (name, value), in the step's order.
pub fn answers_from_pairs(step: &Step, pairs: &[(String, String)]) -> Map<String, Value> {
    let mut out = Map::new();
    for f in &step.fields {
        match (f.widget, &f.repeat) {
            (Widget::Group, Some(_)) => {
                let mut items: BTreeMap<usize, Map<String, Value>> = BTreeMap::new();
                let prefix = format!("{}.", f.id);
                for (k, v) in pairs {
                    let Some(rest) = k.strip_prefix(&prefix) else {
                        continue;
                    };
                    let Some((n, sub)) = rest.split_once('.') else {
                        continue;
                    };
                    let Ok(n) = n.parse::<usize>() else { continue };
                    let Some(sf) = f.subfield(sub).filter(|_| n < 100) else {
                        continue;
                    };
                    put(items.entry(n).or_default(), sf, v);
                }
                out.insert(
                    f.id.clone(),
                    Value::Array(items.into_values().map(Value::Object).collect()),
                );
            }
            (Widget::Group, None) => {
                let prefix = format!("{}.", f.id);
                let mut obj = Map::new();
                for (k, v) in pairs {
                    if let Some(sf) = k.strip_prefix(&prefix).and_then(|sub| f.subfield(sub)) {
                        put(&mut obj, sf, v);
                    }
                }
                out.insert(f.id.clone(), Value::Object(obj));
            }
            // Every ticked box sends its value; none ticked sends nothing, which clears the
            // answer.
            (Widget::Checkboxes, _) => {
                let ticked = pairs
                    .iter()
                    .filter(|(k, v)| k == &f.id && !v.is_empty())
                    .map(|(_, v)| Value::String(v.clone()));
                out.insert(f.id.clone(), Value::Array(ticked.collect()));
            }
            (Widget::Checkbox, _) => {
                let on = pairs.iter().any(|(k, v)| k == &f.id && !v.is_empty());
                out.insert(f.id.clone(), Value::Bool(on));
            }
            _ => {
                if let Some((_, v)) = pairs.iter().find(|(k, _)| k == &f.id) {
                    out.insert(f.id.clone(), Value::String(v.clone()));
                }
            }
        }
    }
    out
}

/// A sub-field's posted text into its group's answer: the ticked boxes of checkboxes collect
/// into a list.
fn put(obj: &mut Map<String, Value>, sf: &Field, v: &str) {
    if sf.widget != Widget::Checkboxes {
        obj.insert(sf.id.clone(), Value::String(v.to_string()));
        return;
    }
    let list = obj
        .entry(sf.id.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(items) = list
        && !v.is_empty()
    {
        items.push(Value::String(v.to_string()));
    }
}
