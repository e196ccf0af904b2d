//! Which parts of the scripts ran, for `lotse test`'s coverage of script branches: a sandbox
//! made with [`Sandbox::traced`] counts, per script, how often each statement and expression
//! was reached (through rhai's debugging interface, stepping into everything); [`branches`]
//! lists the `if`s of a script with where each of their ways starts. A way whose first
//! statement never ran was never taken; an `if` without `else` took its silent way whenever it
//! ran more often than its body started. An `if` with an empty body cannot tell, and is left
//! out.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use rhai::debugger::DebuggerCommand;
use rhai::{ASTNode, Position, Stmt, StmtBlock};

use super::{CURRENT_SCRIPT, Expr, Limits, Sandbox};

/// How often each (script, line, column) was reached.
#[derive(Default, Debug)]
pub struct Trace {
    counts: Mutex<HashMap<(usize, usize, usize), u64>>,
}

impl Trace {
    fn hit(&self, script: usize, at: Position) {
        if let (Some(line), Some(column)) = (at.line(), at.position())
            && let Ok(mut c) = self.counts.lock()
        {
            *c.entry((script, line, column)).or_default() += 1;
        }
    }

    /// How often the part of `expr` at `at` (line, column within the script) was reached.
    pub fn count(&self, expr: &Expr, at: (usize, usize)) -> u64 {
        self.counts
            .lock()
            .ok()
            .and_then(|c| c.get(&(expr.key(), at.0, at.1)).copied())
            .unwrap_or(0)
    }

    /// The ways of every `if` in `expr` that no evaluation took, as (line within the script,
    /// the `if`'s condition as written, `true` for the body / `false` for the other way).
    pub fn untaken(&self, expr: &Expr) -> Vec<(usize, String, bool)> {
        let mut out = Vec::new();
        for b in branches(expr) {
            let ran = self.count(expr, b.at);
            if ran == 0 {
                // The `if` itself never ran: both ways are open.
                out.push((b.at.0, b.condition.clone(), true));
                out.push((b.at.0, b.condition, false));
                continue;
            }
            let body = self.count(expr, b.body);
            if body == 0 {
                out.push((b.at.0, b.condition.clone(), true));
            }
            let other = match b.other {
                Some(at) => self.count(expr, at) > 0,
                None => ran > body,
            };
            if !other {
                out.push((b.at.0, b.condition, false));
            }
        }
        out
    }
}

/// One `if` of a script: where it is, where its body and its other way start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Branch {
    pub at: (usize, usize),
    pub condition: String,
    pub body: (usize, usize),
    /// The first statement of `else` (an `else if` is the next `if`); `None` without `else`.
    pub other: Option<(usize, usize)>,
}

fn first(block: &StmtBlock) -> Option<(usize, usize)> {
    let p = block.statements().first()?.position();
    Some((p.line()?, p.position()?))
}

/// The condition as written on the `if`'s line: after `if`, up to the `{`.
fn condition_text(source: &str, at: (usize, usize)) -> String {
    let line = source
        .lines()
        .nth(at.0.saturating_sub(1))
        .unwrap_or_default();
    let rest: String = line.chars().skip(at.1.saturating_sub(1)).collect();
    let rest = rest.trim_start().strip_prefix("if").unwrap_or(&rest);
    rest.split('{')
        .next()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Every `if` of `expr` whose body is not empty, in the order of the source.
pub fn branches(expr: &Expr) -> Vec<Branch> {
    let mut out = Vec::new();
    expr.ast.walk(&mut |path: &[ASTNode]| {
        if let Some(ASTNode::Stmt(Stmt::If(flow, pos))) = path.last()
            && let (Some(line), Some(column)) = (pos.line(), pos.position())
            && let Some(body) = first(&flow.body)
        {
            out.push(Branch {
                at: (line, column),
                condition: condition_text(expr.source(), (line, column)),
                body,
                other: first(&flow.branch),
            });
        }
        true
    });
    out.sort_by_key(|b| b.at);
    out.dedup();
    out
}

impl Sandbox {
    /// A sandbox that records which parts of the scripts it runs reached (slower: for
    /// `lotse test`, never for the portal).
    pub fn traced(limits: Limits) -> (Sandbox, Arc<Trace>) {
        let mut sandbox = Sandbox::new(limits);
        let trace = Arc::new(Trace::default());
        let t = trace.clone();
        // rhai marks its debugging interface as volatile (it may change between versions);
        // it is used here only for this count, which a version change would show in tests.
        #[allow(deprecated)]
        sandbox.engine.register_debugger(
            |_, debugger| debugger,
            move |_, _, _, _, pos| {
                t.hit(CURRENT_SCRIPT.with(std::cell::Cell::get), pos);
                Ok(DebuggerCommand::StepInto)
            },
        );
        (sandbox, trace)
    }
}
