//! Comparisons that can never hold (LOT-E140, a warning).
//!
//! rhai compares values of different types without complaint: `erlaubnis == "Ja"` is simply
//! false when the options are `ja`, `beantragt` and `nein`, and so is `anzahl == "2"` for a
//! number or `hunde == "x"` for a list; `<`, `<=`, `>` and `>=` between a number and a text
//! (`age(geburtsdatum) >= "18"`) are false as well. The field is then never shown, the branch
//! never taken, and only a scenario that expected otherwise would tell. Here every comparison of
//! a literal (either way round) with a field, or with a call of a function whose result is
//! always of one type (`age(…)`, `count(…)`, `today()`), or with a computed value whose type is
//! known (its `format`: `number`, `euro`, `cents`, `date`, `yesno`; for `text`, the default, a
//! value that is one such call), and every `count_where`, `any_where` and `sum_of` of a repeated
//! group is checked against what the other side can hold: the field's options, its type, the
//! fields of the group, the function's result, the computed value's type.

use serde_json::Value;

use crate::definition::{Computed, Field, ValueFormat, ValueType, Workflow};
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
        let computed = |name: &str| -> Option<(ValueType, String)> {
            if locals.iter().any(|l| l == name) || wf.field(name).is_some() {
                return None;
            }
            computed_type(wf.computed.iter().find(|c| c.id == name)?)
        };
        for (t, message) in comparisons(&toks, &field, &computed)
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

/// The type of a computed value's result, and what says so: its `format`, or for `text` (the
/// default, which any value may have) an expression that is one call of a function whose
/// result is always of one type.
fn computed_type(c: &Computed) -> Option<(ValueType, String)> {
    let (t, format) = match c.format {
        ValueFormat::Number => (ValueType::Number, "number"),
        ValueFormat::Euro => (ValueType::Number, "euro"),
        ValueFormat::Cents => (ValueType::Integer, "cents"),
        ValueFormat::Date => (ValueType::Date, "date"),
        ValueFormat::YesNo => (ValueType::Boolean, "yesno"),
        ValueFormat::Text => {
            let toks = tokens(c.expr.source());
            let func = toks.first()?.name()?;
            let whole = toks.get(1).is_some_and(|t| t.is_punct("("))
                && matching(&toks, 1..toks.len(), "(", ")") == Some(toks.len() - 1);
            let t = gives(func).filter(|_| whole)?;
            return Some((t, format!("its value is `{func}(…)`")));
        }
    };
    Some((t, format!("`format: {format}`")))
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

    fn same_type(&self, v: &Value) -> bool {
        matches!(
            (self, v),
            (Literal::Str(_), Value::String(_))
                | (Literal::Num(..), Value::Number(_))
                | (Literal::Bool(_), Value::Bool(_))
        )
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
    let kind = other_kind(field.value_type, lit)?;
    Some(format!("`{name}` is {kind}, never {}", lit.shown()))
}

/// What a value of type `t` is, when `lit` is of another type (`None`: the same type).
fn other_kind(t: ValueType, lit: &Literal) -> Option<&'static str> {
    Some(match (t, lit) {
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
    })
}

/// Why `<`, `<=`, `>` or `>=` (`op`) between `side` and `lit` is never true, if it never is:
/// rhai compares values of different types (other than two numbers) as false.
fn never_ordered(side: &Side<'_>, name: &str, op: &str, lit: &Literal) -> Option<String> {
    let (t, verb) = match side {
        Side::Field(f) if f.value_type == ValueType::Array || f.repeat.is_some() => {
            let hint = if f.repeat.is_some() {
                format!(" (the number of entries is `count({name})`)")
            } else {
                String::new()
            };
            return Some(format!(
                "`{name}` is a list; `{op}` with {} is never true{hint}",
                lit.shown()
            ));
        }
        Side::Field(f) if f.is_choice() && !f.options.is_empty() => {
            if f.value_type == ValueType::Boolean
                || f.options.iter().any(|o| lit.same_type(&o.value))
            {
                return None;
            }
            let values: Vec<String> = f.options.iter().map(|o| shown(&o.value)).collect();
            return Some(format!(
                "`{name}` is one of {}; `{op}` with {} is never true",
                values.join(", "),
                lit.shown()
            ));
        }
        Side::Field(f) => (f.value_type, "is"),
        Side::Call(t) => (*t, "gives"),
        Side::Computed(t, _) => (*t, "is"),
    };
    // Two `true`/`false` have no order at all: rhai refuses them, it does not answer false.
    if t == ValueType::Boolean {
        return None;
    }
    let kind = other_kind(t, lit)?;
    Some(format!(
        "`{name}`{} {verb} {kind}; `{op}` with {} is never true",
        side.basis(),
        lit.shown()
    ))
}

/// The type of the result of a function that always gives the same type, when neither the
/// script defines a function of that name nor the form library gives it several types.
fn gives(func: &str) -> Option<ValueType> {
    Some(match func {
        "age" | "age_on" | "days_between" | "year" | "month" | "day" | "count" | "count_where"
        | "len" | "cents" => ValueType::Integer,
        "sum_of" | "round2" => ValueType::Number,
        "answered" | "is_date" | "any_where" | "contains" | "is_empty" | "starts_with"
        | "ends_with" => ValueType::Boolean,
        "today" | "add_days" | "add_months" | "add_years" => ValueType::Date,
        "lower" | "upper" | "to_lower" | "to_upper" | "sub_string" => ValueType::String,
        _ => return None,
    })
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

/// A computed value's type and what says so ([`computed_type`]), by its name.
type ComputedOf<'c> = dyn Fn(&str) -> Option<(ValueType, String)> + 'c;

/// One side of a comparison whose type the check knows.
enum Side<'f> {
    /// A field (`art`, `halter.art`, `item.grund`).
    Field(&'f Field),
    /// A call of a function whose result is always of one type (`age(…)`).
    Call(ValueType),
    /// A computed value of a known type, and what says so.
    Computed(ValueType, String),
}

impl Side<'_> {
    /// What the message adds after the name: why a computed value has its type.
    fn basis(&self) -> String {
        match self {
            Side::Computed(_, basis) => format!(" ({basis})"),
            _ => String::new(),
        }
    }

    /// The side's name at `name`: a field, else a computed value of a known type.
    fn named<'f>(name: &str, field: &FieldOf<'f>, computed: &ComputedOf<'_>) -> Option<Side<'f>> {
        match field(name) {
            Some(f) => Some(Side::Field(f)),
            None => computed(name).map(|(t, basis)| Side::Computed(t, basis)),
        }
    }
}

/// The comparisons of the language; rhai answers each with `false` (`!=`: `true`) when its
/// two sides are of different types, two numbers apart.
const OPERATORS: &[&str] = &["==", "!=", "<", "<=", ">", ">="];

/// `field == literal`, `literal != field`, `age(…) >= "18"`, ...: the comparisons that never
/// hold.
fn comparisons<'t>(
    toks: &'t [Token],
    field: &FieldOf<'_>,
    computed: &ComputedOf<'_>,
) -> Vec<(&'t Token, String)> {
    // A function the script defines itself may give anything.
    let own: Vec<&str> = toks
        .windows(2)
        .filter(|w| w[0].name() == Some("fn"))
        .filter_map(|w| w[1].name())
        .collect();
    let call = |name: &str| gives(name).filter(|_| !own.contains(&name));
    let mut out = Vec::new();
    for (i, op) in toks.iter().enumerate() {
        let Some(&op_text) = OPERATORS.iter().find(|o| op.is_punct(o)) else {
            continue;
        };
        // `<<` and `>>` come as two tokens.
        let neighbour = |t: Option<&Token>| t.is_some_and(|t| t.is_punct("<") || t.is_punct(">"));
        if neighbour(i.checked_sub(1).and_then(|j| toks.get(j))) || neighbour(toks.get(i + 1)) {
            continue;
        }
        let why = |side: &Side<'_>, name: &str, lit: &Literal| match (op_text, side) {
            ("==" | "!=", Side::Field(f)) => never_equal(f, name, lit),
            ("==" | "!=", Side::Call(t)) => other_kind(*t, lit)
                .map(|kind| format!("`{name}` gives {kind}, never {}", lit.shown())),
            ("==" | "!=", Side::Computed(t, _)) => other_kind(*t, lit)
                .map(|kind| format!("`{name}`{} is {kind}, never {}", side.basis(), lit.shown())),
            _ => never_ordered(side, name, op_text, lit),
        };
        let tail = match op_text {
            "==" => "; the comparison is never true",
            "!=" => "; `!=` is always true",
            _ => "",
        };
        // side op literal
        if let Some(lit) = toks.get(i + 1).and_then(Literal::of)
            && closes(toks.get(i + 2))
            && let Some((start, name, side)) = side_before(toks, i, field, computed, &call)
            && let Some(why) = why(&side, &name, &lit)
        {
            out.push((&toks[start], format!("{why}{tail}")));
        }
        // literal op side
        if let Some(lit) = i
            .checked_sub(1)
            .and_then(|j| toks.get(j))
            .and_then(Literal::of)
            && opens(i.checked_sub(2).and_then(|j| toks.get(j)))
            && let Some((name, side)) = side_after(toks, i, field, computed, &call)
            && let Some(why) = why(&side, &name, &lit)
        {
            out.push((&toks[i + 1], format!("{why}{tail}")));
        }
    }
    out
}

/// The side that ends just before `toks[op]`, when it is the whole of that side: a field, or a
/// call `f(…)` or `x.f(…)` of a function whose result's type is known. Its first token, its
/// name as the message shows it, and what it is.
fn side_before<'f>(
    toks: &[Token],
    op: usize,
    field: &FieldOf<'f>,
    computed: &ComputedOf<'_>,
    call: &dyn Fn(&str) -> Option<ValueType>,
) -> Option<(usize, String, Side<'f>)> {
    if toks.get(op.checked_sub(1)?)?.is_punct(")") {
        let open = matching(toks, (0..op).rev(), ")", "(")?;
        let func = open.checked_sub(1)?;
        let t = call(toks[func].name()?)?;
        // `x.contains(…)`: the receiver's path before the method's name.
        let mut start = func;
        while start >= 2 && toks[start - 1].is_punct(".") && toks[start - 2].name().is_some() {
            start -= 2;
        }
        if !opens(start.checked_sub(1).and_then(|j| toks.get(j))) {
            return None;
        }
        let shown = toks[start..=func]
            .iter()
            .map(shown_token)
            .collect::<String>();
        let args = if open + 2 == op { "()" } else { "(…)" };
        return Some((start, format!("{shown}{args}"), Side::Call(t)));
    }
    let start = (0..op)
        .rev()
        .find(|&j| opens(j.checked_sub(1).and_then(|k| toks.get(k))))?;
    let name = toks.get(start..op).and_then(path)?;
    let side = Side::named(&name, field, computed)?;
    Some((start, name, side))
}

/// The side that starts just after `toks[op]`, when it is the whole of that side.
fn side_after<'f>(
    toks: &[Token],
    op: usize,
    field: &FieldOf<'f>,
    computed: &ComputedOf<'_>,
    call: &dyn Fn(&str) -> Option<ValueType>,
) -> Option<(String, Side<'f>)> {
    // A path, then perhaps the parenthesis of a call.
    let mut end = op + 1;
    while toks.get(end)?.name().is_some() && toks.get(end + 1).is_some_and(|t| t.is_punct(".")) {
        end += 2;
    }
    toks.get(end)?.name()?;
    if toks.get(end + 1).is_some_and(|t| t.is_punct("(")) {
        let t = call(toks[end].name()?)?;
        let close = matching(toks, end + 1..toks.len(), "(", ")")?;
        if !closes(toks.get(close + 1)) {
            return None;
        }
        let shown = toks[op + 1..=end]
            .iter()
            .map(shown_token)
            .collect::<String>();
        let args = if close == end + 2 { "()" } else { "(…)" };
        return Some((format!("{shown}{args}"), Side::Call(t)));
    }
    if !closes(toks.get(end + 1)) {
        return None;
    }
    let name = toks.get(op + 1..=end).and_then(path)?;
    let side = Side::named(&name, field, computed)?;
    Some((name, side))
}

/// The parenthesis that closes the one at the first index of `order` (`(` forwards, `)`
/// backwards), walking `order`.
fn matching(
    toks: &[Token],
    order: impl Iterator<Item = usize>,
    first: &str,
    last: &str,
) -> Option<usize> {
    let mut depth = 0usize;
    for j in order {
        if toks[j].is_punct(first) {
            depth += 1;
        } else if toks[j].is_punct(last) {
            depth = depth.saturating_sub(1);
        }
        if depth == 0 {
            return Some(j);
        }
    }
    None
}

/// A name or a dot of a path, as written.
fn shown_token(t: &Token) -> &str {
    match &t.kind {
        Kind::Name(n) | Kind::Punct(n) => n,
        Kind::Str(_) | Kind::Num(_) => "",
    }
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
