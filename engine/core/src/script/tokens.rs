//! A script's tokens, for the checks `lotse check` makes beyond what rhai reports: calls of
//! functions that do not exist (`calls`) and comparisons that can never hold (`compare`).
//! Only what those checks need is told apart; anything else is punctuation.

/// What a token is.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    /// A name: a variable, a field, a function, a keyword, `true` and `false`.
    Name(String),
    /// A string literal in double quotes, its escapes resolved.
    Str(String),
    /// A number literal as written (`18`, `2.5`, `1_000`).
    Num(String),
    /// Anything else: a character literal, a backtick string (its `${…}` parts are tokens of
    /// their own, before it), an operator or a bracket.
    Punct(String),
}

/// A token and where it starts in the script (1-based, as rhai counts).
#[derive(Clone, Debug, PartialEq)]
pub struct Token {
    pub kind: Kind,
    pub line: usize,
    pub column: usize,
}

impl Token {
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.kind, Kind::Punct(q) if q == p)
    }

    pub fn name(&self) -> Option<&str> {
        match &self.kind {
            Kind::Name(n) => Some(n),
            _ => None,
        }
    }
}

/// Operators of two characters that the checks must not read as two.
const PAIRS: &[&str] = &[
    "==", "!=", "<=", ">=", "&&", "||", "??", "?.", "?[", "::", "=>", "+=", "-=", "*=", "/=", "%=",
    "**", "..",
];

/// The tokens of a script. Comments are skipped; a string that does not end ends the script.
pub fn tokens(source: &str) -> Vec<Token> {
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

    fn bump(&mut self) -> Option<char> {
        let c = self.peek(0)?;
        self.i += 1;
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn push(&mut self, kind: Kind, line: usize, column: usize) {
        self.out.push(Token { kind, line, column });
    }

    /// Code up to the end, or (inside `${…}`) up to its closing brace.
    fn code(&mut self, interpolation: bool) {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            let (line, column) = (self.line, self.column);
            match c {
                c if c.is_whitespace() => {
                    self.bump();
                }
                '"' => {
                    let text = self.quoted('"');
                    self.push(Kind::Str(text), line, column);
                }
                '\'' => {
                    let text = self.quoted('\'');
                    self.push(Kind::Punct(format!("'{text}'")), line, column);
                }
                '`' => {
                    self.backtick();
                    self.push(Kind::Punct("`".into()), line, column);
                }
                '/' if self.peek(1) == Some('/') => {
                    while self.peek(0).is_some_and(|c| c != '\n') {
                        self.bump();
                    }
                }
                '/' if self.peek(1) == Some('*') => self.block_comment(),
                '}' if interpolation && depth == 0 => {
                    self.bump();
                    return;
                }
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let name = self.word();
                    self.push(Kind::Name(name), line, column);
                }
                c if c.is_ascii_digit() => {
                    let num = self.number();
                    self.push(Kind::Num(num), line, column);
                }
                _ => {
                    if c == '{' {
                        depth += 1;
                    } else if c == '}' {
                        depth = depth.saturating_sub(1);
                    }
                    let pair: String = [Some(c), self.peek(1)].into_iter().flatten().collect();
                    let p = if PAIRS.contains(&pair.as_str()) {
                        self.bump();
                        self.bump();
                        pair
                    } else {
                        self.bump();
                        c.to_string()
                    };
                    self.push(Kind::Punct(p), line, column);
                }
            }
        }
    }

    fn word(&mut self) -> String {
        let mut w = String::new();
        while let Some(c) = self
            .peek(0)
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        {
            w.push(c);
            self.bump();
        }
        w
    }

    /// Digits, `_`, a decimal point followed by a digit, an exponent, hex and binary letters.
    fn number(&mut self) -> String {
        let mut n = String::new();
        while let Some(c) = self.peek(0) {
            let point = c == '.' && self.peek(1).is_some_and(|d| d.is_ascii_digit());
            if !(c.is_ascii_alphanumeric() || c == '_' || point) {
                break;
            }
            n.push(c);
            self.bump();
        }
        n
    }

    /// A quoted literal's text, its escapes resolved as far as the checks need.
    fn quoted(&mut self, quote: char) -> String {
        let mut text = String::new();
        self.bump();
        while let Some(c) = self.bump() {
            if c == '\\' {
                match self.bump() {
                    Some('n') => text.push('\n'),
                    Some('t') => text.push('\t'),
                    Some(other) => text.push(other),
                    None => {}
                }
            } else if c == quote {
                break;
            } else {
                text.push(c);
            }
        }
        text
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
