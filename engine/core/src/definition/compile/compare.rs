//! Comparisons that can never hold (LOT-E140, a warning).
//!
//! rhai compares values of different types without complaint: `erlaubnis == "Ja"` is simply
//! false when the options are `ja`, `beantragt` and `nein`, and so is `anzahl == "2"` for a
//! number or `hunde == "x"` for a list. The field is then never shown, the branch never taken,
//! and only a scenario that expected otherwise would tell. Here every comparison of a field with
//! a literal (`==`, `!=`, either way round) and every `count_where`, `any_where` and `sum_of`
//! of a repeated group is checked against what the field can hold: its options, its type, the
//! fields of the group.

use serde_json::Value;

use crate::definition::{Field, ValueType, Workflow};
use crate::problem::Pos;
use crate::script::tokens::{Kind, Token, tokens};

use super::ctx::{Ctx, script_pos};

const CODE: &str = "LOT-E140";

/// Warns about every comparison in the workflow's scripts that can never hold.
pub(super) fn check(cx: &mut Ctx<'_>, wf: &Workflow) {
    let mut found: Vec<(Pos, String)> = Vec::new();
    for (at, what, e) in &cx.compiled {
        let toks = tokens(e.source());
        let locals = locals(&toks);
        let field = |name: &str| -> Option<&Field> {
            let mut parts = name.split('.');
            let top = parts.next()?;
            if locals.iter().any(|l| l == top) {
                return None;
            }
            let (Some(f), sub, None) = (wf.field(top), parts.next(), parts.next()) else {
                // `item.grund` in a repeated group's sub-field: the entry's field, when only
                // one repeated group has a field of that name.
                let sub = (top == "item").then(|| name.strip_prefix("item."))??;
                let mut of_entries = wf
                    .steps
                    .iter()
                    .flat_map(|s| s.fields.iter())
                    .filter(|g| g.repeat.is_some())
                    .filter_map(|g| g.subfield(sub));
                return match (of_entries.next(), of_entries.next()) {
                    (Some(f), None) => Some(f),
                    _ => None,
                };
            };
            match sub {
                None => Some(f),
                Some(sub) if f.repeat.is_none() => f.subfield(sub),
                Some(_) => None,
            }
        };
        for (t, message) in comparisons(&toks, &field)
            .into_iter()
            .chain(where_calls(&toks, &field))
        {
            let pos = script_pos(cx.source, *at, t.line, t.column);
            found.push((pos, format!("{what}: {message}")));
        }
    }
    for (pos, message) in found {
        cx.warn(CODE, pos, message);
    }
}

/// Names the script binds itself (`let`, `const`, `for`, parameters of functions and
/// closures): a field of the same name is hidden behind them.
fn locals(toks: &[Token]) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_pipes = false;
    let mut in_params = false;
    for (i, t) in toks.iter().enumerate() {
        let before = i.checked_sub(1).and_then(|j| toks.get(j));
        if t.is_punct("|") {
            in_pipes = !in_pipes;
        }
        if before.and_then(Token::name) == Some("fn") {
            in_params = true;
        } else if in_params && t.is_punct(")") {
            in_params = false;
        }
        if let Some(name) = t.name() {
            let binds = matches!(before.and_then(Token::name), Some("let" | "const" | "for"))
                || in_pipes
                || in_params
                // `for (x, i) in …`: both names, up to `for`.
                || (before.is_some_and(|b| b.is_punct("(") || b.is_punct(","))
                    && toks
                        .iter()
                        .take(i)
                        .rev()
                        .take(4)
                        .any(|b| b.name() == Some("for")));
            if binds {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// A literal a field is compared with.
enum Literal {
    Str(String),
    Num(f64, String),
    Bool(bool),
}

impl Literal {
    fn of(t: &Token) -> Option<Literal> {
        match &t.kind {
            Kind::Str(s) => Some(Literal::Str(s.clone())),
            Kind::Num(n) => n
                .replace('_', "")
                .parse::<f64>()
                .ok()
                .map(|v| Literal::Num(v, n.clone())),
            Kind::Name(n) if n == "true" => Some(Literal::Bool(true)),
            Kind::Name(n) if n == "false" => Some(Literal::Bool(false)),
            _ => None,
        }
    }

    fn shown(&self) -> String {
        match self {
            Literal::Str(s) => format!("\"{s}\""),
            Literal::Num(_, n) => n.clone(),
            Literal::Bool(b) => b.to_string(),
        }
    }

    fn matches(&self, v: &Value) -> bool {
        match (self, v) {
            (Literal::Str(s), Value::String(o)) => s == o,
            (Literal::Num(n, _), Value::Number(o)) => o.as_f64() == Some(*n),
            (Literal::Bool(b), Value::Bool(o)) => b == o,
            _ => false,
        }
    }
}

/// Why `field` never equals `lit`, if it never does.
fn never_equal(field: &Field, name: &str, lit: &Literal) -> Option<String> {
    let choices = field.is_choice() && !field.options.is_empty();
    if field.value_type == ValueType::Array || field.repeat.is_some() {
        let hint = if choices {
            format!(", e.g. `{name}.contains({})`", lit.shown())
        } else {
            String::new()
        };
        return Some(format!(
            "`{name}` is a list, never {}: ask whether the list holds it{hint}",
            lit.shown()
        ));
    }
    if choices && field.value_type != ValueType::Boolean {
        if field.options.iter().any(|o| lit.matches(&o.value)) {
            return None;
        }
        let values: Vec<String> = field.options.iter().map(|o| shown(&o.value)).collect();
        return Some(format!(
            "`{name}` is never {}: its options are {}",
            lit.shown(),
            values.join(", ")
        ));
    }
    let kind = match (&field.value_type, lit) {
        (ValueType::Integer | ValueType::Number, Literal::Num(..))
        | (ValueType::String | ValueType::Date, Literal::Str(_))
        | (ValueType::Boolean, Literal::Bool(_))
        | (ValueType::Any, _) => return None,
        (ValueType::Integer | ValueType::Number, _) => "a number",
        (ValueType::String, _) => "a text",
        (ValueType::Date, _) => "a date (a text such as \"2027-01-31\")",
        (ValueType::Boolean, _) => "true or false",
        (ValueType::Object, _) => "a group",
        (ValueType::Array, _) => "a list",
    };
    Some(format!("`{name}` is {kind}, never {}", lit.shown()))
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("\"{s}\""),
        other => other.to_string(),
    }
}

/// Tokens that may stand before the first operand of a comparison, so that the operand is the
/// whole of that side (not `a + b == 1`).
fn opens(t: Option<&Token>) -> bool {
    match t {
        None => true,
        Some(t) => match &t.kind {
            Kind::Punct(p) => ["(", ",", "&&", "||", "{", ";", "=", "[", "?"].contains(&p.as_str()),
            Kind::Name(n) => ["if", "while", "until", "return"].contains(&n.as_str()),
            _ => false,
        },
    }
}

/// Tokens that may follow the second operand.
fn closes(t: Option<&Token>) -> bool {
    match t {
        None => true,
        Some(t) => match &t.kind {
            Kind::Punct(p) => [")", ",", "&&", "||", "}", ";", "]", "{", "?"].contains(&p.as_str()),
            _ => false,
        },
    }
}

/// A field's name as written (`halter.art`) from `toks[from..to]`, when that is all there is.
fn path(toks: &[Token]) -> Option<String> {
    let mut out = String::new();
    for (i, t) in toks.iter().enumerate() {
        match (&t.kind, i % 2) {
            (Kind::Name(n), 0) => out.push_str(n),
            (Kind::Punct(p), 1) if p == "." => out.push('.'),
            _ => return None,
        }
    }
    (toks.len() % 2 == 1).then_some(out)
}

type FieldOf<'f> = dyn Fn(&str) -> Option<&'f Field> + 'f;

/// `field == literal`, `literal != field`, ...: the comparisons that never hold.
fn comparisons<'t>(toks: &'t [Token], field: &FieldOf<'_>) -> Vec<(&'t Token, String)> {
    let mut out = Vec::new();
    for (i, op) in toks.iter().enumerate() {
        if !(op.is_punct("==") || op.is_punct("!=")) {
            continue;
        }
        let always = if op.is_punct("==") {
            "the comparison is never true"
        } else {
            "`!=` is always true"
        };
        // field == literal: the field's name runs back to a token that opens an operand.
        let next = toks.get(i + 1);
        if let Some(lit) = next.and_then(Literal::of)
            && closes(toks.get(i + 2))
        {
            let start = (0..i)
                .rev()
                .find(|&j| opens(j.checked_sub(1).and_then(|k| toks.get(k))));
            if let Some(start) = start
                && let Some(name) = toks.get(start..i).and_then(path)
                && let Some(f) = field(&name)
                && let Some(why) = never_equal(f, &name, &lit)
            {
                out.push((&toks[start], format!("{why}; {always}")));
            }
        }
        // literal == field
        if let Some(lit) = i
            .checked_sub(1)
            .and_then(|j| toks.get(j))
            .and_then(Literal::of)
            && opens(i.checked_sub(2).and_then(|j| toks.get(j)))
        {
            let end = (i + 1..=toks.len()).find(|&j| closes(toks.get(j)));
            if let Some(end) = end
                && let Some(name) = toks.get(i + 1..end).and_then(path)
                && let Some(f) = field(&name)
                && let Some(why) = never_equal(f, &name, &lit)
            {
                out.push((&toks[i + 1], format!("{why}; {always}")));
            }
        }
    }
    out
}

/// `count_where(group, "key", value)`, `any_where(…)` and `sum_of(group, "key")` of a repeated
/// group: the key must be a field of the group, and the value one it can hold.
fn where_calls<'t>(toks: &'t [Token], field: &FieldOf<'_>) -> Vec<(&'t Token, String)> {
    let mut out = Vec::new();
    for (i, t) in toks.iter().enumerate() {
        let Some(func) = t
            .name()
            .filter(|n| ["count_where", "any_where", "sum_of"].contains(n))
        else {
            continue;
        };
        let at = |k: usize| toks.get(i + k);
        let shape = at(1).is_some_and(|t| t.is_punct("("))
            && at(3).is_some_and(|t| t.is_punct(","))
            && matches!(at(4).map(|t| &t.kind), Some(Kind::Str(_)));
        let (Some(list), Some(Kind::Str(key))) =
            (at(2).and_then(Token::name), at(4).map(|t| &t.kind))
        else {
            continue;
        };
        let Some(group) = field(list).filter(|g| shape && g.repeat.is_some()) else {
            continue;
        };
        let Some(sub) = group.subfield(key) else {
            let ids: Vec<&str> = group.subfields.iter().map(|f| f.id.as_str()).collect();
            out.push((
                &toks[i + 4],
                format!(
                    "`{func}`: the entries of `{list}` have no field \"{key}\" (their fields: {}), so it counts nothing",
                    ids.join(", ")
                ),
            ));
            continue;
        };
        if func == "sum_of" {
            if !matches!(sub.value_type, ValueType::Integer | ValueType::Number) {
                out.push((
                    &toks[i + 4],
                    format!("`sum_of`: \"{key}\" of `{list}` is not a number, so the sum is 0"),
                ));
            }
            continue;
        }
        let value = at(6).filter(|_| {
            at(5).is_some_and(|t| t.is_punct(",")) && at(7).is_some_and(|t| t.is_punct(")"))
        });
        if let Some(lit) = value.and_then(Literal::of)
            && let Some(why) = never_equal(sub, &format!("{list}[…].{key}"), &lit)
        {
            out.push((
                &toks[i + 6],
                format!("`{func}`: {why}, so it matches no entry"),
            ));
        }
    }
    out
}
