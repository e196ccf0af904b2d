//! Conversions between answers (JSON) and script values. Private to the sandbox: callers of
//! [`super::Sandbox`] give and get `serde_json` values only.

use rhai::{Array, Dynamic, Map};
use serde_json::{Number, Value};

/// Converts an answer into a script value. Integers stay integers, so `anzahl * 96` is exact.
pub(super) fn to_dynamic(v: &Value) -> Dynamic {
    match v {
        Value::Null => Dynamic::UNIT,
        Value::Bool(b) => Dynamic::from_bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Dynamic::from_int(i)
            } else {
                Dynamic::from_float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => Dynamic::from(s.clone()),
        Value::Array(items) => {
            let arr: Array = items.iter().map(to_dynamic).collect();
            Dynamic::from_array(arr)
        }
        Value::Object(map) => {
            let mut m = Map::new();
            for (k, v) in map {
                m.insert(k.as_str().into(), to_dynamic(v));
            }
            Dynamic::from_map(m)
        }
    }
}

/// Converts a script result back into JSON. Floats that are whole stay floats only when they
/// carry a fraction; non-finite numbers become `null`.
pub(super) fn from_dynamic(d: &Dynamic) -> Value {
    if d.is_unit() {
        return Value::Null;
    }
    if let Ok(b) = d.as_bool() {
        return Value::Bool(b);
    }
    if let Ok(i) = d.as_int() {
        return Value::Number(i.into());
    }
    if let Ok(f) = d.as_float() {
        // 70.0 € is 70 €: whole amounts stay integers in submissions.
        if f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0 {
            return Value::Number((f as i64).into());
        }
        return Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null);
    }
    if d.is_string() {
        return Value::String(d.clone().into_string().unwrap_or_default());
    }
    if let Some(arr) = d.read_lock::<Array>() {
        return Value::Array(arr.iter().map(from_dynamic).collect());
    }
    if let Some(map) = d.read_lock::<Map>() {
        return Value::Object(
            map.iter()
                .map(|(k, v)| (k.to_string(), from_dynamic(v)))
                .collect(),
        );
    }
    Value::String(d.to_string())
}
