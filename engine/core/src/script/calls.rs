//! Calls of functions that do not exist, found when a script is compiled.
//!
//! rhai resolves a function by its name and the types of its arguments only when the call runs,
//! so `any_wher(hunde, "kategorie", "gefaehrlich")` compiles and fails on the first citizen
//! whose answers reach it. The sandbox knows every function a script can call (rhai's packages
//! it registers, the keyword functions and the form library), so `lotse check` can say so at
//! once, with the name meant where one is close.

/// The functions of the packages the sandbox registers (`Sandbox::new`) and rhai's keyword
/// functions. A test compares this list with what the engine reports (`script::tests`).
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
    // Keyword functions: part of the language, not of a package.
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
    let tokens = names(source);
    let defined = |name: &str| {
        tokens
            .iter()
            .any(|t| t.name == name && (!t.called || t.after_fn))
    };
    let known = |name: &str| RHAI.contains(&name) || library.contains(&name);
    let t = tokens.iter().find(|t| {
        t.called
            && !t.after_fn
            && !KEYWORDS.contains(&t.name.as_str())
            && !known(&t.name)
            && !defined(&t.name)
    })?;
    let closest = RHAI
        .iter()
        .chain(library)
        .filter(|k| k.chars().next().is_some_and(char::is_lowercase))
        .map(|k| (distance(&t.name, k), *k))
        .filter(|(d, k)| *d <= 2 && *d < k.chars().count().min(t.name.chars().count()))
        .min()
        .map(|(_, k)| k.to_string());
    Some(UnknownCall {
        name: t.name.clone(),
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

/// A name in code (not in a string or comment).
struct Token {
    name: String,
    line: usize,
    column: usize,
    /// Followed by `(`, maybe after spaces.
    called: bool,
    /// Right after the keyword `fn`: the script defines it.
    after_fn: bool,
}

/// The names in a script's code, with where they stand. Strings and comments are skipped;
/// inside a backtick string only the `${…}` parts are code.
fn names(source: &str) -> Vec<Token> {
    let chars: Vec<char> = source.chars().collect();
    let mut s = Scanner {
        chars: &chars,
        i: 0,
        line: 1,
        column: 1,
        out: Vec::new(),
    };
    s.code(false);
    s.out
}

struct Scanner<'a> {
    chars: &'a [char],
    i: usize,
    line: usize,
    column: usize,
    out: Vec<Token>,
}

impl Scanner<'_> {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.i + ahead).copied()
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek(0) {
            self.i += 1;
            if c == '\n' {
                self.line += 1;
                self.column = 1;
            } else {
                self.column += 1;
            }
        }
    }

    /// Code up to the end, or (inside `${…}`) up to its closing brace.
    fn code(&mut self, interpolation: bool) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                '"' | '\'' => self.quoted(c),
                '`' => self.backtick(),
                '/' if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '/' if self.peek(1) == Some('*') => self.block_comment(),
                '{' => {
                    depth += 1;
                    self.bump();
                }
                '}' if interpolation && depth == 0 => {
                    self.bump();
                    return;
                }
                '}' => {
                    depth = depth.saturating_sub(1);
                    self.bump();
                }
                c if c.is_ascii_alphabetic() || c == '_' => self.name(),
                c if c.is_ascii_digit() => {
                    // A number's digits and suffixes (`1e5`, `0x1F`) are no names.
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.bump();
                    }
                }
                _ => self.bump(),
            }
        }
    }

    fn name(&mut self) {
        let (line, column, start) = (self.line, self.column, self.i);
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            self.bump();
        }
        let name: String = self.chars[start..self.i].iter().collect();
        let mut ahead = 0;
        while self.peek(ahead).is_some_and(|c| c == ' ' || c == '\t') {
            ahead += 1;
        }
        let called = self.peek(ahead) == Some('(');
        let after_fn = self.out.last().is_some_and(|t| t.name == "fn");
        self.out.push(Token {
            name,
            line,
            column,
            called,
            after_fn,
        });
    }

    fn quoted(&mut self, quote: char) {
        self.bump();
        while let Some(c) = self.peek(0) {
            self.bump();
            if c == '\\' {
                self.bump();
            } else if c == quote {
                return;
            }
        }
    }

    fn backtick(&mut self) {
        self.bump();
        while let Some(c) = self.peek(0) {
            if c == '`' {
                self.bump();
                return;
            }
            if c == '$' && self.peek(1) == Some('{') {
                self.bump();
                self.bump();
                self.code(true);
            } else {
                self.bump();
            }
        }
    }

    fn block_comment(&mut self) {
        // Block comments nest in rhai.
        let mut depth = 0usize;
        while self.peek(0).is_some() {
            if self.peek(0) == Some('/') && self.peek(1) == Some('*') {
                depth += 1;
                self.bump();
                self.bump();
            } else if self.peek(0) == Some('*') && self.peek(1) == Some('/') {
                depth = depth.saturating_sub(1);
                self.bump();
                self.bump();
                if depth == 0 {
                    return;
                }
            } else {
                self.bump();
            }
        }
    }
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
