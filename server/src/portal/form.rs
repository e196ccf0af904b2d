//! The buttons of a step's form that change a repeatable group: adding, removing and bringing
//! back an entry. (The answers themselves are read by `lotse_core::form::answers_from_pairs`.)

use lotse_core::definition::Step;
use serde_json::{Map, Value, json};

/// Adds or removes an entry of a repeatable group in posted values (`add:hunde`,
/// `remove:hunde:1`). A removal returns what it removed (kept in the draft for "Rückgängig
/// machen").
pub fn change_items(
    step: &Step,
    values: &mut Map<String, Value>,
    action: &str,
    rest: &str,
) -> Option<Value> {
    let (field, index) = match rest.split_once(':') {
        Some((f, i)) => (f, i.parse::<usize>().ok()),
        None => (rest, None),
    };
    let f = step.fields.iter().find(|f| f.id == field)?;
    let rep = f.repeat.as_ref()?;
    let entry = values
        .entry(f.id.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = entry else {
        return None;
    };
    if action.starts_with("add:") {
        while items.len() < (rep.min as usize).max(1) {
            items.push(Value::Object(Map::new()));
        }
        if items.len() < rep.max as usize {
            items.push(Value::Object(Map::new()));
        }
        None
    } else if let Some(i) = index
        && i < items.len()
    {
        let item = items.remove(i);
        Some(json!({"field": f.id, "index": i, "item": item}))
    } else {
        None
    }
}

/// Puts an entry removed by [`change_items`] back where it was (`removed` as kept in the
/// draft). Anything that does not fit the step is ignored.
pub fn undo_removal(step: &Step, values: &mut Map<String, Value>, removed: Option<&Value>) {
    let Some(removed) = removed else {
        return;
    };
    let (Some(field), Some(index), Some(item @ Value::Object(_))) = (
        removed["field"].as_str(),
        removed["index"].as_u64(),
        removed.get("item"),
    ) else {
        return;
    };
    let Some(f) = step.fields.iter().find(|f| f.id == field) else {
        return;
    };
    let Some(rep) = &f.repeat else { return };
    // Only this group's own fields come back, as text like any posted value.
    let Value::Object(posted) = item else { return };
    let item: Map<String, Value> = f
        .subfields
        .iter()
        .filter_map(|sf| posted.get(&sf.id).map(|v| (sf.id.clone(), v.clone())))
        .collect();
    let entry = values
        .entry(f.id.clone())
        .or_insert_with(|| Value::Array(Vec::new()));
    let Value::Array(items) = entry else { return };
    if items.len() < rep.max as usize {
        let at = (index as usize).min(items.len());
        items.insert(at, Value::Object(item));
    }
}
