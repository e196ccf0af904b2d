//! Calls of functions that do not exist, found when a script is compiled.
//!
//! rhai resolves a function by its name and the types of its arguments only when the call runs,
//! so `any_wher(hunde, "kategorie", "gefaehrlich")` compiles and fails on the first citizen
//! whose answers reach it. The sandbox knows every function a script can call (rhai's packages
//! it registers, the keyword functions and the form library), so `lotse check` can say so at
//! once, with the name meant where one is close.

use super::tokens::{Token, tokens};

/// The functions of the packages the sandbox registers (`Sandbox::new`). A test compares this
/// list with what the engine reports (`script::tests`).
pub(super) const RHAI: &[&str] = &[
    "E",
    "PI",
    "abs",
    "acos",
    "acosh",
    "all",
    "append",
    "asin",
    "asinh",
    "atan",
    "atanh",
    "bytes",
    "ceiling",
    "chop",
    "clear",
    "contains",
    "cos",
    "cosh",
    "crop",
    "debug",
    "dedup",
    "drain",
    "ends_with",
    "exp",
    "extract",
    "fill_with",
    "filter",
    "find",
    "find_map",
    "floor",
    "for_each",
    "fraction",
    "get",
    "hypot",
    "index_of",
    "insert",
    "int",
    "is_empty",
    "is_even",
    "is_finite",
    "is_infinite",
    "is_nan",
    "is_odd",
    "is_zero",
    "keys",
    "len",
    "ln",
    "log",
    "make_lower",
    "make_upper",
    "map",
    "max",
    "min",
    "mixin",
    "order",
    "order_by",
    "order_desc",
    "pad",
    "parse_float",
    "parse_int",
    "pop",
    "print",
    "push",
    "reduce",
    "reduce_rev",
    "remove",
    "replace",
    "retain",
    "reverse",
    "round",
    "set",
    "shift",
    "sign",
    "sin",
    "sinh",
    "some",
    "sort",
    "sort_by",
    "sort_desc",
    "splice",
    "split",
    "split_rev",
    "sqrt",
    "starts_with",
    "sub_string",
    "tan",
    "tanh",
    "to_binary",
    "to_blob",
    "to_chars",
    "to_debug",
    "to_degrees",
    "to_float",
    "to_hex",
    "to_int",
    "to_json",
    "to_lower",
    "to_octal",
    "to_radians",
    "to_string",
    "to_upper",
    "trim",
    "truncate",
    "values",
    "zip",
];

/// rhai's keyword functions: part of the language, not of a package.
const KEYWORD_FUNCTIONS: &[&str] = &[
    "Fn",
    "call",
    "curry",
    "type_of",
    "is_def_fn",
    "is_def_var",
    "is_shared",
];

/// Words of the language that may stand before a parenthesis without calling anything.
const KEYWORDS: &[&str] = &[
    "if", "else", "while", "loop", "do", "until", "for", "in", "return", "throw", "try", "catch",
    "switch", "let", "const", "fn", "private", "true", "false", "this", "break", "continue",
];

/// The first call in `source` of a function that neither rhai, the library (`library`) nor
/// the script itself defines: its name, line and column (1-based, as rhai counts) and the
/// known name it is closest to, if one is close.
///
/// A name that the script also uses without calling it (a variable holding a function, a
/// property of a map, a field) is left alone: it may hold a function pointer.
pub(super) fn unknown_call(source: &str, library: &[&str]) -> Option<UnknownCall> {
    let tokens = tokens(source);
    let called = |i: usize| tokens.get(i + 1).is_some_and(|t| t.is_punct("("));
    let after_fn = |i: usize| i > 0 && tokens.get(i - 1).and_then(Token::name) == Some("fn");
    let name_at = |i: usize| tokens.get(i).and_then(Token::name);
    let defined = |name: &str| {
        (0..tokens.len()).any(|i| name_at(i) == Some(name) && (!called(i) || after_fn(i)))
    };
    let known = |name: &str| {
        RHAI.contains(&name) || KEYWORD_FUNCTIONS.contains(&name) || library.contains(&name)
    };
    let (t, name) = (0..tokens.len()).find_map(|i| {
        let name = name_at(i)?;
        let unknown = called(i)
            && !after_fn(i)
            && !KEYWORDS.contains(&name)
            && !known(name)
            && !defined(name);
        unknown.then_some((&tokens[i], name))
    })?;
    let closest = closest(
        name,
        RHAI.iter()
            .chain(library)
            .copied()
            .filter(|k| k.chars().next().is_some_and(char::is_lowercase)),
    )
    .map(str::to_string);
    Some(UnknownCall {
        name: name.to_string(),
        line: t.line,
        column: t.column,
        closest,
    })
}

/// A call of a function that does not exist.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct UnknownCall {
    pub name: String,
    pub line: usize,
    pub column: usize,
    pub closest: Option<String>,
}

impl UnknownCall {
    pub(super) fn message(&self) -> String {
        match &self.closest {
            Some(k) => format!("unknown function `{}`: did you mean `{k}`?", self.name),
            None => format!(
                "unknown function `{}`: neither the form library nor rhai has a function of this name",
                self.name
            ),
        }
    }
}

/// The name of `known` closest to `name`: at most two edits away, and fewer edits than either
/// name is long (so that `x` is not "meant" for `y`).
pub(crate) fn closest<'k>(name: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|k| (distance(name, k), k))
        .filter(|(d, k)| *d <= 2 && *d < k.chars().count().min(name.chars().count()))
        .min()
        .map(|(_, k)| k)
}

/// Edit distance (insertions, deletions, substitutions, swaps of neighbours).
fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, v) in d[0].iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[a.len()][b.len()]
}
