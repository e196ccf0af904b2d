//! Simple conditions evaluated without rhai: comparisons of answers with literals joined by
//! `&&`, `||` and `!`, as most `visible_if`, `applies_if` and branch conditions are
//! (`zahlungsart == "lastschrift"`, `anzahl > 2 && zone != "A"`).
//!
//! An evaluation by rhai costs a few thousand instructions (runtime state, function
//! resolution, converting answers to script values); these conditions need a few dozen. The
//! result must be exactly rhai's: only operand types whose meaning is certain are decided here
//! (integers, strings, booleans compared with their own kind, an unanswered value tested with
//! `==` or `!=`); for anything else the evaluation returns `None` and rhai evaluates the whole
//! expression. A test compares both on every combination (`script/tests.rs`).

use std::borrow::Cow;
use std::cmp::Ordering;

/// A condition in the simple form, parsed from a source that rhai compiled.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Simple {
    Or(Box<Simple>, Box<Simple>),
    And(Box<Simple>, Box<Simple>),
    Not(Box<Simple>),
    Compare(Box<Simple>, Op, Box<Simple>),
    Name(String),
    Int(i64),
    Str(String),
    Bool(bool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A value as far as simple conditions understand it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'v> {
    Unit,
    Bool(bool),
    Int(i64),
    Str(Cow<'v, str>),
    /// Anything else (floats, lists, maps): rhai decides.
    Other,
}

impl<'v> Scalar<'v> {
    pub(crate) fn of_json(v: &'v serde_json::Value) -> Scalar<'v> {
        match v {
            serde_json::Value::Null => Scalar::Unit,
            serde_json::Value::Bool(b) => Scalar::Bool(*b),
            serde_json::Value::Number(n) => n.as_i64().map_or(Scalar::Other, Scalar::Int),
            serde_json::Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
            _ => Scalar::Other,
        }
    }
}

impl Simple {
    /// The simple form of `source`, or `None` when it is anything else. `names` are the
    /// names the expression may read; any other identifier is not simple.
    pub(crate) fn parse(source: &str, names: &[String]) -> Option<Simple> {
        let tokens = tokenize(source)?;
        let mut p = Parser {
            tokens: &tokens,
            at: 0,
            names,
        };
        let s = p.or()?;
        (p.at == tokens.len()).then_some(s)
    }

    /// The value of the condition, or `None` when rhai must decide. `value` gives a name's
    /// value as scripts see it.
    pub(crate) fn eval<'a>(&'a self, value: &impl Fn(&str) -> Scalar<'a>) -> Option<bool> {
        match self {
            // rhai's `&&` and `||` short-circuit and need booleans on both sides they evaluate:
            // `?` gives up on a side that is not one, and the right side is evaluated only
            // when the left one does not decide.
            Simple::Or(a, b) => Some(a.eval(value)? || b.eval(value)?),
            Simple::And(a, b) => Some(a.eval(value)? && b.eval(value)?),
            Simple::Not(a) => Some(!a.eval(value)?),
            Simple::Compare(a, op, b) => compare(&a.operand(value)?, *op, &b.operand(value)?),
            Simple::Name(n) => match value(n) {
                Scalar::Bool(b) => Some(b),
                _ => None,
            },
            Simple::Bool(b) => Some(*b),
            Simple::Int(_) | Simple::Str(_) => None,
        }
    }

    /// The value of one side of a comparison.
    fn operand<'a>(&'a self, value: &impl Fn(&str) -> Scalar<'a>) -> Option<Scalar<'a>> {
        Some(match self {
            Simple::Name(n) => value(n),
            Simple::Int(i) => Scalar::Int(*i),
            Simple::Str(s) => Scalar::Str(Cow::Borrowed(s)),
            Simple::Bool(b) => Scalar::Bool(*b),
            Simple::Or(..) | Simple::And(..) | Simple::Not(_) | Simple::Compare(..) => {
                Scalar::Bool(self.eval(value)?)
            }
        })
    }
}

fn compare(a: &Scalar<'_>, op: Op, b: &Scalar<'_>) -> Option<bool> {
    let ord = match (a, b) {
        (Scalar::Int(x), Scalar::Int(y)) => x.cmp(y),
        (Scalar::Str(x), Scalar::Str(y)) => x.as_ref().cmp(y.as_ref()),
        (Scalar::Bool(x), Scalar::Bool(y)) => x.cmp(y),
        // An unanswered value equals nothing but another one; ordering it is rhai's error.
        (Scalar::Unit, Scalar::Unit | Scalar::Int(_) | Scalar::Str(_) | Scalar::Bool(_))
        | (Scalar::Int(_) | Scalar::Str(_) | Scalar::Bool(_), Scalar::Unit) => {
            let same = matches!((a, b), (Scalar::Unit, Scalar::Unit));
            return match op {
                Op::Eq => Some(same),
                Op::Ne => Some(!same),
                _ => None,
            };
        }
        _ => return None,
    };
    Some(match op {
        Op::Eq => ord == Ordering::Equal,
        Op::Ne => ord != Ordering::Equal,
        Op::Lt => ord == Ordering::Less,
        Op::Le => ord != Ordering::Greater,
        Op::Gt => ord == Ordering::Greater,
        Op::Ge => ord != Ordering::Less,
    })
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Ident(String),
    Int(i64),
    Str(String),
    Op(Op),
    And,
    Or,
    Not,
    Open,
    Close,
}

/// Tokens of the simple form; `None` at the first character outside it.
fn tokenize(source: &str) -> Option<Vec<Token>> {
    let b = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let at = i;
        let two = move |s: &[u8]| b.get(at..at + 2) == Some(s);
        let (token, len) = match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'(' => (Token::Open, 1),
            b')' => (Token::Close, 1),
            _ if two(b"&&") => (Token::And, 2),
            _ if two(b"||") => (Token::Or, 2),
            _ if two(b"==") => (Token::Op(Op::Eq), 2),
            _ if two(b"!=") => (Token::Op(Op::Ne), 2),
            _ if two(b"<=") => (Token::Op(Op::Le), 2),
            _ if two(b">=") => (Token::Op(Op::Ge), 2),
            b'<' => (Token::Op(Op::Lt), 1),
            b'>' => (Token::Op(Op::Gt), 1),
            b'!' => (Token::Not, 1),
            b'"' => {
                // Plain strings only: no escapes, no line continuations.
                let end = b[i + 1..].iter().position(|&x| x == b'"')? + i + 1;
                let text = &source[i + 1..end];
                if text.contains('\\') {
                    return None;
                }
                (Token::Str(text.to_string()), end + 1 - i)
            }
            b'0'..=b'9' => {
                let len = b[i..].iter().take_while(|x| x.is_ascii_digit()).count();
                let n: i64 = source[i..i + len].parse().ok()?;
                (Token::Int(n), len)
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                let len = b[i..]
                    .iter()
                    .take_while(|x| x.is_ascii_alphanumeric() || **x == b'_')
                    .count();
                (Token::Ident(source[i..i + len].to_string()), len)
            }
            _ => return None,
        };
        // `1.5`, `x.y`, `f(x)` and the like are not simple.
        if let (Token::Int(_) | Token::Ident(_), Some(b'.' | b'(' | b'[' | b'#' | b'_')) =
            (&token, b.get(i + len))
        {
            return None;
        }
        out.push(token);
        i += len;
    }
    Some(out)
}

struct Parser<'t> {
    tokens: &'t [Token],
    at: usize,
    names: &'t [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.at)
    }

    fn or(&mut self) -> Option<Simple> {
        let mut left = self.and()?;
        while self.peek() == Some(&Token::Or) {
            self.at += 1;
            left = Simple::Or(Box::new(left), Box::new(self.and()?));
        }
        Some(left)
    }

    fn and(&mut self) -> Option<Simple> {
        let mut left = self.compare()?;
        while self.peek() == Some(&Token::And) {
            self.at += 1;
            left = Simple::And(Box::new(left), Box::new(self.compare()?));
        }
        Some(left)
    }

    /// One comparison at most: `a < b < c` is rhai's business (and an error there).
    fn compare(&mut self) -> Option<Simple> {
        let left = self.unary()?;
        if let Some(Token::Op(op)) = self.peek() {
            let op = *op;
            self.at += 1;
            let right = self.unary()?;
            return Some(Simple::Compare(Box::new(left), op, Box::new(right)));
        }
        Some(left)
    }

    fn unary(&mut self) -> Option<Simple> {
        match self.peek()? {
            Token::Not => {
                self.at += 1;
                Some(Simple::Not(Box::new(self.unary()?)))
            }
            Token::Open => {
                self.at += 1;
                let inner = self.or()?;
                (self.peek() == Some(&Token::Close)).then_some(())?;
                self.at += 1;
                Some(inner)
            }
            Token::Int(n) => {
                let n = *n;
                self.at += 1;
                Some(Simple::Int(n))
            }
            Token::Str(s) => {
                let s = Simple::Str(s.clone());
                self.at += 1;
                Some(s)
            }
            Token::Ident(id) => {
                let s = match id.as_str() {
                    "true" => Simple::Bool(true),
                    "false" => Simple::Bool(false),
                    name if self.names.iter().any(|n| n == name) => Simple::Name(name.to_string()),
                    _ => return None,
                };
                self.at += 1;
                Some(s)
            }
            _ => None,
        }
    }
}
