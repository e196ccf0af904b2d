//! The one rhai sandbox. Every expression a designer writes (conditions, computed values,
//! cross-field rules) is compiled here once, at load time, and evaluated here with hard limits.
//!
//! Scripts see the answers, the computed values and a small library ([`library`]); they cannot
//! reach files, the network, the real clock or the host. Nothing outside this module touches rhai:
//! what it takes and returns are `serde_json` values and plain Rust types.

// What `lotse check` finds beyond rhai; the browser compiles only workflows the server has
// checked already, so its module goes without.
#[cfg(not(target_family = "wasm"))]
mod calls;
mod library;
mod simple;
#[cfg(not(target_family = "wasm"))]
pub mod tokens;
#[cfg(feature = "coverage")]
mod trace;
mod value;

#[cfg(not(target_family = "wasm"))]
pub(crate) use calls::closest;
#[cfg(feature = "coverage")]
pub use trace::{Branch, Trace, branches};

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use wall::Instant;

/// The monotonic clock of the wall-clock limit.
#[cfg(not(target_family = "wasm"))]
mod wall {
    pub(super) use std::time::Instant;
}

/// In the browser (`lotse-wasm`) the core reads no clock: the operations limit alone bounds a
/// script there, and every script already ran within both limits on the server when its
/// workflow was compiled.
#[cfg(target_family = "wasm")]
mod wall {
    #[derive(Clone, Copy, PartialEq, PartialOrd)]
    pub(super) struct Instant;

    impl Instant {
        pub(super) fn now() -> Instant {
            Instant
        }
    }

    impl std::ops::Add<std::time::Duration> for Instant {
        type Output = Instant;
        fn add(self, _: std::time::Duration) -> Instant {
            Instant
        }
    }
}

use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicMapPackage, BasicMathPackage, BasicStringPackage,
    LogicPackage, MoreStringPackage, Package,
};
use rhai::{AST, Dynamic, Engine, EvalAltResult, OptimizationLevel, Scope};
use time::Date;

use simple::{Scalar, Simple};
use value::{from_dynamic, to_dynamic};

/// Limits for every evaluation. The defaults are generous for forms and tight for abuse.
#[derive(Clone, Debug)]
pub struct Limits {
    pub max_operations: u64,
    pub max_call_levels: usize,
    pub max_expr_depth: usize,
    pub max_string_size: usize,
    pub max_array_size: usize,
    pub max_map_size: usize,
    pub max_variables: usize,
    pub wall_clock: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_operations: 100_000,
            max_call_levels: 16,
            max_expr_depth: 48,
            max_string_size: 20_000,
            max_array_size: 2_000,
            max_map_size: 500,
            max_variables: 200,
            wall_clock: Duration::from_millis(50),
        }
    }
}

/// What went wrong with a script. Compile errors carry the position inside the script text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScriptError {
    #[error("{message}")]
    Syntax {
        message: String,
        line: usize,
        column: usize,
    },
    #[error("script stopped: {0}")]
    Limit(String),
    #[error("script failed: {0}")]
    Runtime(String),
    #[error("script returned {found}, expected {expected}")]
    Type {
        expected: &'static str,
        found: String,
    },
}

impl ScriptError {
    pub fn code(&self) -> &'static str {
        match self {
            ScriptError::Syntax { .. } => "LOT-E030",
            ScriptError::Limit(_) => "LOT-E031",
            ScriptError::Runtime(_) => "LOT-E032",
            ScriptError::Type { .. } => "LOT-E033",
        }
    }
}

/// A compiled expression or script, with its source kept for explanations.
#[derive(Clone, Debug)]
pub struct Expr {
    ast: Arc<AST>,
    source: Arc<str>,
    /// Names of answers and computed values the expression mentions, for explanations.
    pub mentions: Vec<String>,
    /// The expression as a simple condition, decided without rhai where it can be.
    simple: Option<Arc<Simple>>,
    /// Where the script starts in its workflow file (line, column), once the workflow's
    /// compiler has placed it: a failure at run time names it.
    at: Option<(usize, usize)>,
}

impl Expr {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The expression placed at `line`, `column` of its workflow file.
    pub fn placed(mut self, line: usize, column: usize) -> Expr {
        self.at = Some((line, column));
        self
    }

    /// Where the script starts in its workflow file (line, column), when known.
    pub fn at(&self) -> Option<(usize, usize)> {
        self.at
    }

    /// The same for every clone of this compiled script, different for every other.
    #[cfg(feature = "coverage")]
    fn key(&self) -> usize {
        Arc::as_ptr(&self.ast) as usize
    }

    /// The answer and value this expression asks for when it is one comparison `name ==
    /// literal` (`ermaessigung == "ja"`, `lastschrift == true`), for texts like "Nur wenn Sie
    /// oben ‚Ja' gewählt haben". `None` for anything else.
    pub fn equality(&self) -> Option<(&str, serde_json::Value)> {
        let simple = self.simple.as_deref()?;
        let Simple::Compare(left, simple::Op::Eq, right) = simple else {
            return None;
        };
        let (name, literal) = match (left.as_ref(), right.as_ref()) {
            (Simple::Name(n), lit) | (lit, Simple::Name(n)) => (n, lit),
            _ => return None,
        };
        let value = match literal {
            Simple::Str(s) => serde_json::Value::from(s.as_str()),
            Simple::Int(i) => serde_json::Value::from(*i),
            Simple::Bool(b) => serde_json::Value::from(*b),
            _ => return None,
        };
        Some((name.as_str(), value))
    }
}

thread_local! {
    static CONTEXT: Cell<Option<(Date, Instant)>> = const { Cell::new(None) };
    /// The script being evaluated ([`Expr::key`]), for a traced sandbox.
    #[cfg(feature = "coverage")]
    static CURRENT_SCRIPT: Cell<usize> = const { Cell::new(0) };
}

/// The date a script sees as `today()`. Set per evaluation from the application's clock.
pub(crate) fn script_today() -> Option<Date> {
    CONTEXT.with(|c| c.get()).map(|(d, _)| d)
}

/// The sandbox: one configured rhai engine, shared by all workflows.
pub struct Sandbox {
    engine: Engine,
    limits: Limits,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new(Limits::default())
    }
}

/// The names a script may use: answers, computed values. Unknown names are compile errors.
#[derive(Clone, Debug, Default)]
pub struct Names {
    names: Vec<String>,
}

impl Names {
    pub fn new(names: impl IntoIterator<Item = String>) -> Self {
        Names {
            names: names.into_iter().collect(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.names.iter().any(|n| n == name)
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(String::as_str)
    }

    fn scope(&self) -> Scope<'static> {
        let mut scope = Scope::new();
        for n in &self.names {
            scope.push_dynamic(n.clone(), Dynamic::UNIT);
        }
        scope
    }
}

/// Where an [`Env`] finds the value of a name that is not in its scope yet.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<&'a serde_json::Value> + 'a>;

/// The values scripts see during one batch of evaluations (one check of a step, one route).
///
/// Values are converted to script values lazily: an evaluation loads only the names its
/// expression mentions, once per environment, so a condition that reads two answers does not
/// pay for converting all of them.
pub struct Env<'a> {
    scope: Scope<'static>,
    lookup: Lookup<'a>,
    names: &'a Names,
    today: Date,
}

impl<'a> Env<'a> {
    /// The environment over the answers and computed values: every known name is defined,
    /// unanswered ones as `()`.
    pub fn new(
        names: &'a Names,
        values: impl Fn(&str) -> Option<&'a serde_json::Value> + 'a,
        today: Date,
    ) -> Self {
        Env {
            scope: Scope::new(),
            lookup: Box::new(values),
            names,
            today,
        }
    }

    /// Sets or replaces one value (computed values are added as they are computed).
    pub fn set(&mut self, name: &str, value: &serde_json::Value) {
        self.scope.set_or_push(name, to_dynamic(value));
    }

    pub fn today(&self) -> Date {
        self.today
    }

    /// The answer `name` as the environment's lookup gives it (not a computed value set
    /// later), if any.
    pub fn answer(&self, name: &str) -> Option<&'a serde_json::Value> {
        (self.lookup)(name)
    }

    /// Loads the names an expression mentions that are not in the scope yet.
    fn load(&mut self, mentions: &[String]) {
        for m in mentions {
            self.load_one(m);
        }
    }

    fn load_one(&mut self, name: &str) {
        if !self.scope.contains(name) {
            let v = (self.lookup)(name).map_or(Dynamic::UNIT, to_dynamic);
            self.scope.push_dynamic(name, v);
        }
    }

    /// A simple condition's value, when it can be decided without rhai. Names read what rhai
    /// would: the scope where a name is in it (computed values), else the answers.
    fn decide(&self, simple: &Simple) -> Option<bool> {
        simple.eval(&|name: &str| match self.scope.get(name) {
            Some(d) => scalar_of(d),
            None => (self.lookup)(name).map_or(Scalar::Unit, Scalar::of_json),
        })
    }

    /// Loads every known name: the fallback for a script whose mentions missed a name.
    fn load_all(&mut self) {
        let names = self.names;
        for n in &names.names {
            self.load_one(n);
        }
    }
}

impl Sandbox {
    pub fn new(limits: Limits) -> Self {
        // `new_raw`: no packages, no module resolver, no print, no eval. We add only what a form
        // needs; in particular not the time package (`timestamp()` reads the real clock) and not
        // the core language package (`sleep`, `parse_json`).
        let mut engine = Engine::new_raw();
        let packages = [
            ArithmeticPackage::new().as_shared_module(),
            LogicPackage::new().as_shared_module(),
            BasicStringPackage::new().as_shared_module(),
            MoreStringPackage::new().as_shared_module(),
            BasicArrayPackage::new().as_shared_module(),
            BasicMapPackage::new().as_shared_module(),
            BasicMathPackage::new().as_shared_module(),
        ];
        for p in packages {
            engine.register_global_module(p);
        }
        library::register(&mut engine);
        engine
            .set_optimization_level(OptimizationLevel::Simple)
            .set_strict_variables(true)
            .set_fail_on_invalid_map_property(false)
            .set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.max_call_levels)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
            .set_max_string_size(limits.max_string_size)
            .set_max_array_size(limits.max_array_size)
            .set_max_map_size(limits.max_map_size)
            .set_max_variables(limits.max_variables)
            .set_max_functions(32);
        // Modules are not built at all (rhai's `no_module`): `import` and `export` are words
        // a script cannot use, like `eval`.
        engine.disable_symbol("eval");
        engine.disable_symbol("import");
        engine.disable_symbol("export");
        engine.on_print(|_| {});
        engine.on_debug(|_, _, _| {});
        engine.on_progress(|ops| {
            // Checked every 256 operations: reading the monotonic clock is not free.
            if ops % 256 != 0 {
                return None;
            }
            let over = CONTEXT
                .with(|c| c.get())
                .is_some_and(|(_, deadline)| Instant::now() > deadline);
            if over {
                Some(Dynamic::from("wall-clock limit"))
            } else {
                None
            }
        });
        Sandbox { engine, limits }
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Compiles a single expression (no `let`, loops or function definitions).
    pub fn compile_expression(&self, source: &str, names: &Names) -> Result<Expr, ScriptError> {
        let scope = names.scope();
        let ast = self
            .engine
            .compile_expression_with_scope(&scope, source)
            .map_err(parse_error)?;
        known_calls_only(source)?;
        Ok(self.expr(ast, source, names))
    }

    /// Compiles a full script (statements, loops, functions), for computed values that need them.
    pub fn compile_script(&self, source: &str, names: &Names) -> Result<Expr, ScriptError> {
        let scope = names.scope();
        let ast = self
            .engine
            .compile_with_scope(&scope, source)
            .map_err(parse_error)?;
        known_calls_only(source)?;
        Ok(self.expr(ast, source, names))
    }

    fn expr(&self, ast: AST, source: &str, names: &Names) -> Expr {
        let mentions: Vec<String> = identifiers(source)
            .into_iter()
            .filter(|id| names.contains(id))
            .collect();
        let simple = Simple::parse(source, &mentions).map(Arc::new);
        Expr {
            ast: Arc::new(ast),
            source: Arc::from(source),
            mentions,
            simple,
            at: None,
        }
    }

    /// Evaluates to any value (computed values), as JSON: whole numbers are integers,
    /// non-finite numbers `null`.
    pub fn eval(&self, expr: &Expr, env: &mut Env<'_>) -> Result<serde_json::Value, ScriptError> {
        self.eval_dynamic(expr, env).map(|d| from_dynamic(&d))
    }

    fn eval_dynamic(&self, expr: &Expr, env: &mut Env<'_>) -> Result<Dynamic, ScriptError> {
        env.load(&expr.mentions);
        match self.eval_loaded(expr, env) {
            // The mentions are found by a scan of the source that cannot see everything a
            // script may do (an apostrophe in a comment hides what follows): with every name
            // loaded, the evaluation means what it did before it was lazy.
            Err(e) if matches!(*e, EvalAltResult::ErrorVariableNotFound(..)) => {
                env.load_all();
                self.eval_loaded(expr, env).map_err(|e| runtime_error(*e))
            }
            result => result.map_err(|e| runtime_error(*e)),
        }
    }

    fn eval_loaded(&self, expr: &Expr, env: &mut Env<'_>) -> Result<Dynamic, Box<EvalAltResult>> {
        let deadline = Instant::now() + self.limits.wall_clock;
        CONTEXT.with(|c| c.set(Some((env.today, deadline))));
        #[cfg(feature = "coverage")]
        CURRENT_SCRIPT.with(|c| c.set(expr.key()));
        // A full script's own `let` variables end with it: they never shadow an answer for the
        // expressions evaluated after it in the same environment.
        let len = env.scope.len();
        let result = self
            .engine
            .eval_ast_with_scope::<Dynamic>(&mut env.scope, &expr.ast);
        env.scope.rewind(len);
        CONTEXT.with(|c| c.set(None));
        result
    }

    /// Evaluates a condition; anything but a boolean is an error.
    pub fn eval_bool(&self, expr: &Expr, env: &mut Env<'_>) -> Result<bool, ScriptError> {
        if let Some(decided) = expr.simple.as_ref().and_then(|s| env.decide(s)) {
            return Ok(decided);
        }
        self.eval_bool_by_rhai(expr, env)
    }

    /// As [`Self::eval_bool`], always by rhai.
    fn eval_bool_by_rhai(&self, expr: &Expr, env: &mut Env<'_>) -> Result<bool, ScriptError> {
        let v = self.eval_dynamic(expr, env)?;
        v.as_bool().map_err(|found| ScriptError::Type {
            expected: "true oder false",
            found: found.to_string(),
        })
    }
}

/// The name under which a sub-field's conditions (and a rule on a repeated entry's field) see
/// the entry they are about: `item.grund == "sonstiges"`.
pub const ITEM: &str = "item";

/// Whether a value counts as answered, as the library's `answered(x)` says: neither `null`, an
/// empty or blank text, nor an empty list or map.
pub fn is_answered(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::String(s) => !s.trim().is_empty(),
        serde_json::Value::Array(a) => !a.is_empty(),
        serde_json::Value::Object(m) => !m.is_empty(),
        _ => true,
    }
}

/// A script value as simple conditions see it.
fn scalar_of(d: &Dynamic) -> Scalar<'static> {
    if d.is_unit() {
        Scalar::Unit
    } else if let Ok(b) = d.as_bool() {
        Scalar::Bool(b)
    } else if let Ok(i) = d.as_int() {
        Scalar::Int(i)
    } else if d.is_string() {
        d.clone()
            .into_string()
            .map_or(Scalar::Other, |s| Scalar::Str(s.into()))
    } else {
        Scalar::Other
    }
}

fn parse_error(e: rhai::ParseError) -> ScriptError {
    let pos = e.1;
    ScriptError::Syntax {
        message: e.0.to_string(),
        line: pos.line().unwrap_or(1),
        column: pos.position().unwrap_or(1),
    }
}

/// A script that rhai compiles may still call a function that does not exist; rhai would
/// only find out when the call runs.
#[cfg(not(target_family = "wasm"))]
fn known_calls_only(source: &str) -> Result<(), ScriptError> {
    match calls::unknown_call(source, library::NAMES) {
        None => Ok(()),
        Some(call) => Err(ScriptError::Syntax {
            message: call.message(),
            line: call.line,
            column: call.column,
        }),
    }
}

#[cfg(target_family = "wasm")]
fn known_calls_only(_: &str) -> Result<(), ScriptError> {
    Ok(())
}

fn runtime_error(e: EvalAltResult) -> ScriptError {
    match e {
        EvalAltResult::ErrorTooManyOperations(_) => {
            ScriptError::Limit("too many operations (endless loop?)".into())
        }
        EvalAltResult::ErrorStackOverflow(_) => {
            ScriptError::Limit("calls nested too deeply (endless recursion?)".into())
        }
        EvalAltResult::ErrorDataTooLarge(what, _) => {
            ScriptError::Limit(format!("{what} grew beyond its limit"))
        }
        EvalAltResult::ErrorTerminated(_, _) => {
            ScriptError::Limit("took longer than the wall-clock limit".into())
        }
        EvalAltResult::ErrorTooManyVariables(_) => ScriptError::Limit("too many variables".into()),
        EvalAltResult::ErrorTooManyModules(_) => {
            ScriptError::Limit("modules are not allowed".into())
        }
        other => ScriptError::Runtime(other.to_string()),
    }
}

/// The identifiers in a script, outside string literals and comments. Used to tell which
/// answers an expression depends on.
fn identifiers(source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let chars: Vec<char> = source.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        // Backtick strings are scanned too: `${name}` interpolates. Listing a name too many
        // is harmless, missing one is not.
        if c == '"' || c == '\'' {
            let quote = c;
            i += 1;
            while i < chars.len() && chars[i] != quote {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
        } else if c == '/' && chars.get(i + 1) == Some(&'/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            // Block comments nest in rhai.
            let mut depth = 0usize;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            // A name after a dot is a property, not a variable.
            let after_dot = start > 0 && chars[start - 1] == '.';
            let id: String = chars[start..i].iter().collect();
            if !after_dot && !out.contains(&id) {
                out.push(id);
            }
        } else {
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests;
