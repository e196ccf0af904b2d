//! From a raw workflow file to a checked [`Workflow`]: ids, schemas, `$ref`s, scripts, branches.
//! Every problem is collected with its position; a workflow with an error is not returned.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};

use super::raw::{RawField, RawRequired, RawWorkflow, Widget};
use super::{
    Branch, Choice, Computed, Field, REVIEW, Repeat, Required, Rule, Step, Target, Temporal,
    ValueType, Workflow, graph,
};
use crate::form::{ErrorKind, FormSet, SchemaCompiler};
use crate::problem::{Pos, Problem};
use crate::script::{Expr, Names, Sandbox, ScriptError};
use crate::text::Text;

const DEFAULT_TEMPLATE: &str = "receipt";
const DEFAULT_EXPIRY_DAYS: u32 = 30;

pub(super) struct Ctx<'a> {
    pub(super) path: &'a Path,
    pub(super) source: &'a str,
    pub(super) forms: &'a FormSet,
    pub(super) compiler: &'a SchemaCompiler,
    pub(super) sandbox: &'a Sandbox,
    pub(super) problems: Vec<Problem>,
    /// Every compiled script with where it came from, for a trial run at the end.
    pub(super) compiled: Vec<(Pos, String, Expr)>,
}

impl Ctx<'_> {
    pub(super) fn error(&mut self, code: &'static str, at: Pos, message: impl Into<String>) {
        self.problems
            .push(Problem::error(code, self.path, at, message));
    }

    pub(super) fn error_help(
        &mut self,
        code: &'static str,
        at: Pos,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.problems
            .push(Problem::error(code, self.path, at, message).with_help(help));
    }

    fn warn(&mut self, code: &'static str, at: Pos, message: impl Into<String>) {
        self.problems
            .push(Problem::warning(code, self.path, at, message));
    }

    /// Compiles an expression, mapping a syntax error's position into the file.
    pub(super) fn expr(
        &mut self,
        what: &str,
        src: &Spanned<String>,
        names: &Names,
        script: bool,
    ) -> Option<Expr> {
        let result = if script {
            self.sandbox.compile_script(&src.value, names)
        } else {
            self.sandbox.compile_expression(&src.value, names)
        };
        match result {
            Ok(e) => {
                self.compiled.push((pos(src), what.to_string(), e.clone()));
                Some(e)
            }
            Err(ScriptError::Syntax {
                message,
                line,
                column,
            }) => {
                let at = script_pos(self.source, pos(src), line, column);
                let help = if message.contains("Undefined variable")
                    || message.contains("Variable not found")
                {
                    Some("a script can use the fields and computed values of this workflow; see docs/workflow-language.md for the library".to_string())
                } else {
                    None
                };
                let msg = format!("{what}: {}", friendly_script_message(&message));
                match help {
                    Some(h) => self.error_help("LOT-E030", at, msg, h),
                    None => self.error("LOT-E030", at, msg),
                }
                None
            }
            Err(other) => {
                self.error(other.code(), pos(src), format!("{what}: {other}"));
                None
            }
        }
    }
}

fn friendly_script_message(m: &str) -> String {
    // rhai says "Undefined variable: x"; say what it means for a designer.
    for prefix in ["Undefined variable: ", "Variable not found: "] {
        if let Some(name) = m.strip_prefix(prefix) {
            return format!(
                "unknown name `{name}`: no field or computed value of this workflow is called so (a computed value sees only those defined before it)"
            );
        }
    }
    m.to_string()
}

pub(super) fn pos<T>(s: &Spanned<T>) -> Pos {
    Pos::from(s.referenced)
}

/// Maps a position inside a script to the file: the scalar may be quoted or a block scalar.
fn script_pos(source: &str, at: Pos, line: usize, column: usize) -> Pos {
    let Some(text_line) = source.lines().nth(at.line.saturating_sub(1)) else {
        return at;
    };
    let first: Option<char> = text_line.chars().nth(at.column.saturating_sub(1));
    let indent = |line: usize| {
        source
            .lines()
            .nth(line.saturating_sub(1))
            .map(|l| l.chars().take_while(|c| *c == ' ').count())
            .unwrap_or(0)
    };
    match first {
        // Block scalar marker: the script starts on the next line, indented.
        Some('|') | Some('>') => {
            let l = at.line + line;
            Pos::new(l, indent(l) + column)
        }
        Some('"') | Some('\'') if line == 1 => Pos::new(at.line, at.column + column),
        _ if line == 1 => Pos::new(at.line, at.column + column - 1),
        _ => {
            let l = at.line + line - 1;
            Pos::new(l, indent(l) + column)
        }
    }
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

pub(super) fn is_workflow_id(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && s.len() <= 64
}

/// Names a designer cannot use for fields: they mean something in scripts.
const RESERVED: &[&str] = &[
    "review", "today", "true", "false", "if", "else", "let", "const", "fn", "return", "this",
    "switch", "while", "loop", "for", "in", "do", "until", "break", "continue", "throw", "try",
    "catch", "import", "export", "as", "global", "private", "is", "eval",
];

pub(super) fn compile(
    path: &Path,
    source: &str,
    raw: RawWorkflow,
    forms: &FormSet,
    compiler: &SchemaCompiler,
    templates: &[String],
    sandbox: &Sandbox,
) -> Result<(Workflow, Vec<Problem>), Vec<Problem>> {
    let mut cx = Ctx {
        path,
        source,
        forms,
        compiler,
        sandbox,
        problems: Vec::new(),
        compiled: Vec::new(),
    };

    if !is_workflow_id(&raw.id.value) {
        cx.error_help(
            "LOT-E007",
            pos(&raw.id),
            format!("workflow id \"{}\" is not valid", raw.id.value),
            "use lowercase letters, digits and hyphens, e.g. hundesteuer-anmeldung",
        );
    }
    if raw.version.value == 0 {
        cx.error("LOT-E007", pos(&raw.version), "version must be 1 or higher");
    }
    if raw.steps.value.is_empty() {
        cx.error(
            "LOT-E024",
            pos(&raw.steps),
            "a workflow needs at least one step",
        );
    }

    // Names first: steps and every field, so that scripts can be checked against them.
    let mut step_ids: HashMap<String, Pos> = HashMap::new();
    for s in &raw.steps.value {
        let id = &s.id.value;
        if !is_identifier(id) || id == REVIEW {
            cx.error_help(
                "LOT-E007",
                pos(&s.id),
                format!("step id \"{id}\" is not valid"),
                "use lowercase letters, digits and _, starting with a letter; \"review\" is reserved",
            );
        }
        if let Some(first) = step_ids.get(id) {
            let msg = format!(
                "step id \"{id}\" is used twice (first at line {})",
                first.line
            );
            cx.error("LOT-E010", pos(&s.id), msg);
        } else {
            step_ids.insert(id.clone(), pos(&s.id));
        }
    }
    let mut field_names: HashMap<String, Pos> = HashMap::new();
    for s in &raw.steps.value {
        for f in &s.fields {
            check_name(&mut cx, &mut field_names, &f.id, "field");
        }
    }
    let field_name_list: Vec<String> = raw
        .steps
        .value
        .iter()
        .flat_map(|s| s.fields.iter().map(|f| f.id.value.clone()))
        .collect();
    let mut computed_names: Vec<String> = Vec::new();
    for c in &raw.computed {
        check_name(&mut cx, &mut field_names, &c.id, "computed value");
        computed_names.push(c.id.value.clone());
    }
    let all_names = Names::new(field_name_list.iter().chain(computed_names.iter()).cloned());

    // Steps and fields.
    let mut steps = Vec::new();
    let step_count = raw.steps.value.len();
    let step_order: Vec<String> = raw.steps.value.iter().map(|s| s.id.value.clone()).collect();
    let mut schema_deps: Vec<String> = Vec::new();
    for (i, s) in raw.steps.value.iter().enumerate() {
        let applies_if = s.applies_if.as_ref().and_then(|e| {
            cx.expr(
                &format!("applies_if of step \"{}\"", s.id.value),
                e,
                &all_names,
                false,
            )
        });
        let mut fields = Vec::new();
        for f in &s.fields {
            if let Some(field) = compile_field(&mut cx, f, &all_names, true) {
                schema_deps.extend(forms.dependencies(&field.schema));
                fields.push(field);
            }
        }
        let mut branches = Vec::new();
        let mut default_next = match step_order.get(i + 1) {
            Some(next) => Target::Step(next.clone()),
            None => Target::Review,
        };
        let mut unconditional_seen: Option<Pos> = None;
        for n in &s.next {
            let target_name = &n.goto.value;
            let target = if target_name == REVIEW {
                Some(Target::Review)
            } else if step_ids.contains_key(target_name) {
                Some(Target::Step(target_name.clone()))
            } else {
                let mut known: Vec<&str> = step_order.iter().map(String::as_str).collect();
                known.push(REVIEW);
                cx.error_help(
                    "LOT-E020",
                    pos(&n.goto),
                    format!(
                        "step \"{}\" goes to \"{target_name}\", but there is no such step",
                        s.id.value
                    ),
                    format!("known targets: {}", known.join(", ")),
                );
                None
            };
            if let Some(first) = unconditional_seen {
                cx.error(
                    "LOT-E023",
                    pos(&n.goto),
                    format!(
                        "this branch of step \"{}\" is never taken: the unconditional `goto` at line {} comes first",
                        s.id.value, first.line
                    ),
                );
                continue;
            }
            match &n.condition {
                Some(cond) => {
                    let e = cx.expr(
                        &format!("condition of step \"{}\" → \"{target_name}\"", s.id.value),
                        cond,
                        &all_names,
                        false,
                    );
                    if let (Some(condition), Some(target)) = (e, target) {
                        branches.push(Branch { condition, target });
                    }
                }
                None => {
                    unconditional_seen = Some(pos(&n.goto));
                    if let Some(t) = target {
                        default_next = t;
                    }
                }
            }
        }
        let _ = step_count;
        let mut fields_by_id: Vec<usize> = (0..fields.len()).collect();
        fields_by_id.sort_by(|&a, &b| fields[a].id.cmp(&fields[b].id));
        steps.push(Step {
            id: s.id.value.clone(),
            title: s.title.clone(),
            help: s.help.clone(),
            applies_if,
            fields,
            branches,
            default_next,
            fields_by_id,
        });
    }

    // Computed values may use fields and the computed values before them.
    let mut computed = Vec::new();
    for (i, c) in raw.computed.iter().enumerate() {
        let names = Names::new(
            field_name_list
                .iter()
                .chain(computed_names[..i].iter())
                .cloned(),
        );
        let what = format!("computed value \"{}\"", c.id.value);
        let expr = match (&c.value, &c.script) {
            (Some(v), None) => cx.expr(&what, v, &names, false),
            (None, Some(s)) => cx.expr(&what, s, &names, true),
            _ => {
                cx.error(
                    "LOT-E005",
                    pos(&c.id),
                    format!("{what} needs exactly one of `value` (an expression) or `script`"),
                );
                None
            }
        };
        if let Some(expr) = expr {
            computed.push(Computed {
                id: c.id.value.clone(),
                label: c.label.clone(),
                expr,
                format: c.format.unwrap_or_default(),
            });
        }
    }

    // Cross-field rules.
    let mut rules = Vec::new();
    for r in &raw.rules {
        if !field_name_list.contains(&r.field.value) {
            cx.error_help(
                "LOT-E025",
                pos(&r.field),
                format!(
                    "rule refers to field \"{}\", which this workflow does not have",
                    r.field.value
                ),
                format!("fields: {}", field_name_list.join(", ")),
            );
            continue;
        }
        if let Some(check) = cx.expr(
            &format!("rule for field \"{}\"", r.field.value),
            &r.check,
            &all_names,
            false,
        ) {
            rules.push(Rule {
                field: r.field.value.clone(),
                check,
                message: r.message.clone(),
            });
        }
    }

    let receipt_template = match &raw.receipt {
        Some(t) => {
            if t.value != DEFAULT_TEMPLATE && !templates.contains(&t.value) {
                cx.error_help(
                    "LOT-E027",
                    pos(t),
                    format!(
                        "receipt template \"{}\" does not exist in pdf-templates/",
                        t.value
                    ),
                    format!("templates: {}", templates.join(", ")),
                );
            }
            t.value.clone()
        }
        None => DEFAULT_TEMPLATE.to_string(),
    };

    let raw_steps_pos: Vec<Pos> = raw.steps.value.iter().map(|s| pos(&s.id)).collect();
    let step_index: HashMap<String, usize> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| (s.id.clone(), i))
        .collect();
    let mut field_index = HashMap::new();
    for (si, s) in steps.iter().enumerate() {
        for (fi, f) in s.fields.iter().enumerate() {
            field_index.insert(f.id.clone(), (si, fi));
        }
    }

    // Scripts only see the names some script mentions: building their environment is then
    // cheap however many fields a workflow has.
    let mut used: HashSet<String> = HashSet::new();
    let mut note = |e: &Expr| used.extend(e.mentions.iter().cloned());
    for s in &steps {
        if let Some(e) = &s.applies_if {
            note(e);
        }
        for b in &s.branches {
            note(&b.condition);
        }
        for f in &s.fields {
            if let Some(e) = &f.visible_if {
                note(e);
            }
            if let Required::When(e) = &f.required {
                note(e);
            }
        }
    }
    for c in &computed {
        note(&c.expr);
    }
    for r in &rules {
        note(&r.check);
    }
    let script_names = Names::new(
        field_name_list
            .iter()
            .filter(|n| used.contains(*n))
            .chain(computed_names.iter())
            .cloned(),
    );
    let mut empty_values = HashMap::new();
    for f in steps.iter().flat_map(|s| s.fields.iter()) {
        match f.value_type {
            ValueType::Array => {
                empty_values.insert(f.id.clone(), Value::Array(Vec::new()));
            }
            ValueType::Object => {
                empty_values.insert(f.id.clone(), Value::Object(serde_json::Map::new()));
            }
            _ => {}
        }
    }
    let mut hasher = Sha256::new();
    hasher.update(source.as_bytes());
    schema_deps.sort();
    schema_deps.dedup();
    for dep in &schema_deps {
        hasher.update(dep.as_bytes());
        if let Some(doc) = forms.get(dep) {
            hasher.update(doc.to_string().as_bytes());
        }
    }
    let content_hash = format!("sha256:{}", hex(&hasher.finalize()));

    let wf = Workflow {
        id: raw.id.value.clone(),
        version: raw.version.value,
        content_hash,
        title: raw.title,
        description: raw.description,
        lebenslagen: raw.lebenslagen,
        leika: raw.leika,
        office: raw.office,
        keywords: raw.keywords,
        receipt_template,
        draft_expiry_days: raw.draft_expiry_days.unwrap_or(DEFAULT_EXPIRY_DAYS),
        steps,
        computed,
        rules,
        receipt_note: None,
        receipt_closing: None,
        tenant: None,
        override_source: None,
        source: path.to_path_buf(),
        names: script_names,
        step_index,
        field_index,
        empty_values,
    };

    // Conditions that look at answers the citizen cannot have given yet.
    let step_of = |name: &str| wf.field_index.get(name).map(|&(s, _)| s);
    let mut late: Vec<(Pos, String)> = Vec::new();
    for (i, s) in wf.steps.iter().enumerate() {
        let raw_step = &raw_steps_pos[i];
        let mut look = |what: String, e: &Expr, own_step_ok: bool| {
            for m in &e.mentions {
                if let Some(j) = step_of(m)
                    && (j > i || (j == i && !own_step_ok))
                {
                    late.push((
                            *raw_step,
                            format!(
                                "{what} uses \"{m}\", which is only asked on step \"{}\"; it is not answered yet when this is decided",
                                wf.steps[j].id
                            ),
                        ));
                }
            }
        };
        if let Some(e) = &s.applies_if {
            look(format!("applies_if of step \"{}\"", s.id), e, false);
        }
        for b in &s.branches {
            look(
                format!("a condition of step \"{}\"", s.id),
                &b.condition,
                true,
            );
        }
        for f in &s.fields {
            if let Some(e) = &f.visible_if {
                look(format!("visible_if of field \"{}\"", f.id), e, true);
            }
        }
    }
    for (at, msg) in late {
        cx.warn("LOT-E026", at, msg);
    }

    // A trial run of every script before any answer: one that already goes over a limit (an
    // endless loop, runaway recursion) would stop for every citizen.
    let today = time::macros::date!(2026 - 01 - 01);
    for (at, what, e) in std::mem::take(&mut cx.compiled) {
        let mut env = crate::script::Env::new(&wf.names, |k| wf.empty_values.get(k), today);
        if let Err(err @ ScriptError::Limit(_)) = sandbox.eval(&e, &mut env) {
            cx.error("LOT-E031", at, format!("{what}: {err}"));
        }
    }

    if !cx.problems.iter().any(Problem::is_error) {
        // Graph checks need a structurally sound workflow.
        let positions: HashMap<String, Pos> = step_ids;
        for p in graph::check(&wf, &positions) {
            cx.problems.push(Problem {
                file: path.to_path_buf(),
                ..p
            });
        }
    }
    if cx.problems.iter().any(Problem::is_error) {
        Err(cx.problems)
    } else {
        Ok((wf, cx.problems))
    }
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn check_name(cx: &mut Ctx<'_>, seen: &mut HashMap<String, Pos>, id: &Spanned<String>, what: &str) {
    let name = &id.value;
    if !is_identifier(name) || RESERVED.contains(&name.as_str()) {
        cx.error_help(
            "LOT-E007",
            pos(id),
            format!("{what} id \"{name}\" is not valid"),
            "use lowercase letters, digits and _, starting with a letter (scripts use it as a name)",
        );
    }
    if let Some(first) = seen.get(name) {
        let msg = format!(
            "the name \"{name}\" is used twice (first at line {}); fields and computed values share one namespace",
            first.line
        );
        cx.error("LOT-E011", pos(id), msg);
    } else {
        seen.insert(name.clone(), pos(id));
    }
}

/// Compiles one field. `top` is false for sub-fields of a group, which have no validator of
/// their own and no scripts.
fn compile_field(cx: &mut Ctx<'_>, f: &RawField, names: &Names, top: bool) -> Option<Field> {
    let id = f.id.value.clone();
    let at = pos(&f.id);
    let before = cx.problems.len();

    for key in f.messages.keys() {
        if !ErrorKind::KEYS.contains(&key.as_str()) {
            cx.error_help(
                "LOT-E015",
                at,
                format!("field \"{id}\" has a message for \"{key}\", which is not a kind of error"),
                format!("kinds: {}", ErrorKind::KEYS.join(", ")),
            );
        }
    }

    // The schema: as written, or built from the widget and options, or from sub-fields.
    let explicit_subfields = !f.fields.is_empty();
    let mut widget = f.widget.as_ref().map(|w| w.value);
    if explicit_subfields && widget.is_none() {
        widget = Some(Widget::Group);
    }
    let schema_at = f.schema.as_ref().map(pos).unwrap_or(at);
    let mut subfields = Vec::new();
    let mut schema: Value = match (&f.schema, explicit_subfields) {
        (Some(s), false) => s.value.clone(),
        (Some(_), true) => {
            cx.error(
                "LOT-E016",
                schema_at,
                format!("group \"{id}\" has both `schema` and `fields`; use one of them"),
            );
            return None;
        }
        (None, true) => {
            let mut props = serde_json::Map::new();
            let mut required = Vec::new();
            for sf in &f.fields {
                if let Some(sub) = compile_field(cx, sf, names, false) {
                    props.insert(sub.id.clone(), sub.schema.clone());
                    if matches!(sub.required, Required::Always) {
                        required.push(Value::String(sub.id.clone()));
                    }
                    subfields.push(sub);
                }
            }
            json!({"type": "object", "properties": props, "required": required, "additionalProperties": false})
        }
        (None, false) => match widget {
            Some(Widget::Text) | None => json!({"type": "string", "maxLength": 200}),
            Some(Widget::Textarea) => json!({"type": "string", "maxLength": 5000}),
            Some(Widget::Number) => json!({"type": "number"}),
            Some(Widget::Date) => json!({"type": "string", "format": "date"}),
            Some(Widget::Checkbox) => json!({"type": "boolean"}),
            Some(Widget::Radio) | Some(Widget::Select) => json!({}),
            Some(Widget::Group) => {
                cx.error(
                    "LOT-E016",
                    at,
                    format!("group \"{id}\" needs `fields` or a `schema` (e.g. $ref: person.json)"),
                );
                return None;
            }
        },
    };

    // Every $ref must resolve locally, with a precise reason when not.
    let unresolved = cx.forms.unresolved_refs(None, &schema);
    for e in &unresolved {
        cx.error("LOT-E013", schema_at, format!("field \"{id}\": {e}"));
    }
    if !unresolved.is_empty() {
        return None;
    }

    // What the schema says a value looks like, through its $refs.
    let resolved = match cx.forms.deref(None, &schema, &schema) {
        Ok((file, s)) => (file.map(str::to_string), s.clone()),
        Err(e) => {
            cx.error("LOT-E013", schema_at, format!("field \"{id}\": {e}"));
            return None;
        }
    };

    // Options: from the field, or from the schema's enum / oneOf-const.
    let mut options: Vec<Choice> = f
        .options
        .iter()
        .map(|o| Choice {
            value: o.value.clone(),
            label: o.label.clone(),
        })
        .collect();
    if options.is_empty() {
        options = schema_choices(&resolved.1);
    } else if resolved.1.get("enum").is_none()
        && resolved.1.get("oneOf").is_none()
        && let Value::Object(map) = &mut schema
    {
        map.insert(
            "enum".into(),
            Value::Array(options.iter().map(|c| c.value.clone()).collect()),
        );
    }

    let is_object = resolved.1.get("type").and_then(Value::as_str) == Some("object")
        || resolved.1.get("properties").is_some();
    let widget = widget.unwrap_or_else(|| infer_widget(&resolved.1, is_object, options.len()));

    if matches!(widget, Widget::Radio | Widget::Select) && options.is_empty() {
        cx.error_help(
            "LOT-E014",
            at,
            format!(
                "field \"{id}\" is a {} but has no choices",
                if widget == Widget::Radio {
                    "radio"
                } else {
                    "select"
                }
            ),
            "add `options: [{value: ..., label: ...}]` or an `enum` in the schema",
        );
    }

    // A group given by schema ($ref: person.json): sub-fields come from its properties.
    if widget == Widget::Group && subfields.is_empty() {
        let item_schema = if f.repeat.is_some() {
            resolved
                .1
                .get("items")
                .cloned()
                .unwrap_or(resolved.1.clone())
        } else {
            resolved.1.clone()
        };
        match cx
            .forms
            .deref(resolved.0.as_deref(), &item_schema, &item_schema)
        {
            Ok((file, obj)) => {
                subfields = derive_subfields(cx.forms, file, obj);
            }
            Err(e) => cx.error("LOT-E013", schema_at, format!("field \"{id}\": {e}")),
        }
        if subfields.is_empty() {
            cx.error(
                "LOT-E016",
                schema_at,
                format!("group \"{id}\": its schema has no properties to ask for"),
            );
        }
    }

    // A repeatable group is an array of its items.
    let repeat = f.repeat.as_ref().map(|r| Repeat {
        min: r.min,
        max: r.max,
        item_label: r.item_label.clone(),
        add_label: r.add_label.clone(),
    });
    if let Some(r) = &repeat {
        if widget != Widget::Group {
            cx.error(
                "LOT-E016",
                at,
                format!("field \"{id}\": `repeat` is only for groups"),
            );
        }
        if r.max == 0 || r.min > r.max {
            cx.error(
                "LOT-E016",
                at,
                format!("field \"{id}\": repeat needs 0 <= min <= max and max >= 1"),
            );
        }
        if explicit_subfields || schema.get("type").and_then(Value::as_str) != Some("array") {
            schema =
                json!({"type": "array", "items": schema, "minItems": r.min, "maxItems": r.max});
        }
    }

    // Compile the schema (meta-validation included) for top-level fields.
    let validator = if top {
        match cx.compiler.compile(&schema) {
            Ok(v) => Some(Arc::new(v)),
            Err(e) => {
                cx.error("LOT-E012", schema_at, format!("field \"{id}\": {e}"));
                None
            }
        }
    } else {
        if let Err(e) = jsonschema::draft202012::meta::validate(&schema) {
            cx.error(
                "LOT-E012",
                schema_at,
                format!("field \"{id}\": not a valid JSON Schema (draft 2020-12): {e}"),
            );
        }
        None
    };

    let required = match &f.required {
        None => {
            if widget == Widget::Checkbox || (repeat.as_ref().is_some_and(|r| r.min == 0)) {
                Required::Never
            } else {
                Required::Always
            }
        }
        Some(r) => {
            match &r.value {
                RawRequired::Always(true) => Required::Always,
                RawRequired::Always(false) => Required::Never,
                RawRequired::When(src) => {
                    if !top {
                        cx.error(
                        "LOT-E016",
                        pos(r),
                        format!("sub-field \"{id}\": `required` must be true or false inside a group"),
                    );
                        Required::Always
                    } else {
                        let spanned = Spanned {
                            value: src.clone(),
                            referenced: r.referenced,
                            defined: r.defined,
                        };
                        match cx.expr(
                            &format!("required of field \"{id}\""),
                            &spanned,
                            names,
                            false,
                        ) {
                            Some(e) => Required::When(e),
                            None => Required::Always,
                        }
                    }
                }
            }
        }
    };
    let visible_if = match &f.visible_if {
        Some(src) if top => {
            let e = cx.expr(&format!("visible_if of field \"{id}\""), src, names, false);
            if let Some(e) = &e
                && e.mentions.contains(&id)
            {
                cx.error(
                    "LOT-E022",
                    pos(src),
                    format!("field \"{id}\" decides its own visibility; that is a cycle"),
                );
            }
            e
        }
        Some(src) => {
            cx.error(
                "LOT-E016",
                pos(src),
                format!("sub-field \"{id}\": `visible_if` is only for top-level fields"),
            );
            None
        }
        None => None,
    };

    let temporal = temporal_of(cx.forms, resolved.0.as_deref(), &resolved.1);
    let value_type = if repeat.is_some() {
        ValueType::Array
    } else {
        value_type_of(&resolved.1, widget)
    };
    let label = f.label.clone().or_else(|| {
        resolved
            .1
            .get("title")
            .and_then(Value::as_str)
            .map(Text::de)
    });
    let label = match label {
        Some(l) => l,
        None => {
            cx.error("LOT-E005", at, format!("field \"{id}\" needs a `label`"));
            Text::de(id.clone())
        }
    };

    if cx.problems[before..].iter().any(Problem::is_error) {
        return None;
    }
    Some(Field {
        id,
        label,
        help: f.help.clone().or_else(|| {
            resolved
                .1
                .get("description")
                .and_then(Value::as_str)
                .map(Text::de)
        }),
        widget,
        autocomplete: f.autocomplete.clone().or_else(|| {
            resolved
                .1
                .get("x-autocomplete")
                .and_then(Value::as_str)
                .map(str::to_string)
        }),
        placeholder: f.placeholder.clone(),
        options,
        required,
        visible_if,
        messages: f
            .messages
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        schema,
        subfields,
        repeat,
        temporal,
        value_type,
        validator,
    })
}

fn schema_choices(schema: &Value) -> Vec<Choice> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        let titles = schema.get("x-enum-titles");
        return values
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let label = titles
                    .and_then(|t| match t {
                        Value::Array(a) => a.get(i).and_then(Value::as_str).map(str::to_string),
                        Value::Object(o) => v
                            .as_str()
                            .and_then(|k| o.get(k))
                            .and_then(Value::as_str)
                            .map(str::to_string),
                        _ => None,
                    })
                    .unwrap_or_else(|| match v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    });
                Choice {
                    value: v.clone(),
                    label: Text::de(label),
                }
            })
            .collect();
    }
    if let Some(Value::Array(alts)) = schema.get("oneOf") {
        let choices: Vec<Choice> = alts
            .iter()
            .filter_map(|a| {
                let value = a.get("const")?.clone();
                let label = a
                    .get("title")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .unwrap_or_else(|| value.to_string());
                Some(Choice {
                    value,
                    label: Text::de(label),
                })
            })
            .collect();
        if choices.len() == alts.len() {
            return choices;
        }
    }
    Vec::new()
}

fn infer_widget(schema: &Value, is_object: bool, options: usize) -> Widget {
    if let Some(w) = schema.get("x-widget").and_then(Value::as_str) {
        let w: Result<Widget, _> = serde_json::from_value(Value::String(w.to_string()));
        if let Ok(w) = w {
            return w;
        }
    }
    if is_object {
        return Widget::Group;
    }
    if options > 0 {
        return if options <= 4 {
            Widget::Radio
        } else {
            Widget::Select
        };
    }
    match schema.get("type").and_then(Value::as_str) {
        Some("boolean") => Widget::Checkbox,
        Some("integer") | Some("number") => Widget::Number,
        Some("string") => match schema.get("format").and_then(Value::as_str) {
            Some("date") | Some("date-past") | Some("date-future") => Widget::Date,
            _ => {
                if schema
                    .get("maxLength")
                    .and_then(Value::as_u64)
                    .is_some_and(|n| n > 300)
                {
                    Widget::Textarea
                } else {
                    Widget::Text
                }
            }
        },
        _ => Widget::Text,
    }
}

fn value_type_of(schema: &Value, widget: Widget) -> ValueType {
    match schema.get("type").and_then(Value::as_str) {
        Some("integer") => ValueType::Integer,
        Some("number") => ValueType::Number,
        Some("boolean") => ValueType::Boolean,
        Some("object") => ValueType::Object,
        Some("array") => ValueType::Array,
        Some("string") => {
            if widget == Widget::Date {
                ValueType::Date
            } else {
                ValueType::String
            }
        }
        _ => match widget {
            Widget::Number => ValueType::Number,
            Widget::Checkbox => ValueType::Boolean,
            Widget::Date => ValueType::Date,
            Widget::Group => ValueType::Object,
            _ => ValueType::Any,
        },
    }
}

fn temporal_of(forms: &FormSet, file: Option<&str>, schema: &Value) -> Option<Temporal> {
    let _ = (forms, file);
    match schema.get("format").and_then(Value::as_str) {
        Some("date-past") => Some(Temporal::Past),
        Some("date-future") => Some(Temporal::Future),
        _ => None,
    }
}

/// Sub-fields of a group whose schema comes from forms/: one per property, labelled by `title`.
fn derive_subfields(forms: &FormSet, file: Option<&str>, obj: &Value) -> Vec<Field> {
    let Some(Value::Object(props)) = obj.get("properties") else {
        return Vec::new();
    };
    let required: HashSet<&str> = obj
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let root = file.and_then(|f| forms.get(f)).unwrap_or(obj);
    props
        .iter()
        .map(|(name, prop)| {
            let resolved = forms
                .deref(file, root, prop)
                .map(|(_, s)| s.clone())
                .unwrap_or_else(|_| prop.clone());
            // Keywords beside a $ref (title, x-autocomplete) win over the target's.
            let get = |k: &str| prop.get(k).or_else(|| resolved.get(k));
            let options = schema_choices(&resolved);
            let is_object = resolved.get("properties").is_some();
            let mut widget = infer_widget(&resolved, is_object, options.len());
            if let Some(w) = prop.get("x-widget").and_then(Value::as_str)
                && let Ok(w) = serde_json::from_value::<Widget>(Value::String(w.to_string()))
            {
                widget = w;
            }
            Field {
                id: name.clone(),
                label: Text::de(get("title").and_then(Value::as_str).unwrap_or(name)),
                help: get("description").and_then(Value::as_str).map(Text::de),
                widget,
                autocomplete: get("x-autocomplete")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                placeholder: None,
                options,
                required: if required.contains(name.as_str()) {
                    Required::Always
                } else {
                    Required::Never
                },
                visible_if: None,
                messages: HashMap::new(),
                schema: prop.clone(),
                subfields: Vec::new(),
                repeat: None,
                temporal: temporal_of(forms, file, &resolved),
                value_type: value_type_of(&resolved, widget),
                validator: None,
            }
        })
        .collect()
}
