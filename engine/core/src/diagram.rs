//! Diagrams of a workflow's steps for designers and reviewers: Mermaid (renders on GitLab,
//! GitHub and in many wikis) and Graphviz DOT. Steps are nodes, `next` branches are edges
//! labelled with their conditions, a step with `applies_if` is dashed and says "nur wenn …",
//! and the review page is the end node.
//!
//! Works on a compiled [`Workflow`] only; returns text and does no output.

use std::fmt::Write;

use crate::definition::{Step, Target, Workflow};
use crate::text::Lang;

/// The output format of [`render`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DiagramFormat {
    Mermaid,
    Dot,
}

/// The step graph of `wf` in the given format, with German titles: Mermaid text starts with
/// `flowchart TD`, DOT text with `digraph "<id>" {`.
pub fn render(wf: &Workflow, format: DiagramFormat) -> String {
    match format {
        DiagramFormat::Mermaid => mermaid(wf),
        DiagramFormat::Dot => dot(wf),
    }
}

/// One edge: from a step to a target, with the condition (`None`: the default).
struct Edge<'a> {
    from: &'a str,
    to: &'a Target,
    label: Option<String>,
}

fn edges(wf: &Workflow) -> Vec<Edge<'_>> {
    let mut out = Vec::new();
    for s in &wf.steps {
        // An end page leads nowhere (when it is skipped, on to its default).
        if s.end && s.applies_if.is_none() {
            continue;
        }
        for b in &s.branches {
            out.push(Edge {
                from: &s.id,
                to: &b.target,
                label: Some(one_line(b.condition.source())),
            });
        }
        out.push(Edge {
            from: &s.id,
            to: &s.default_next,
            // Only a step that branches needs to say that this is the other way.
            label: (!s.branches.is_empty()).then(|| "sonst".to_string()),
        });
    }
    out
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn condition_note(step: &Step) -> Option<String> {
    step.applies_if
        .as_ref()
        .map(|e| format!("nur wenn {}", one_line(e.source())))
}

const REVIEW_TITLE: &str = "Prüfen und absenden";

/// Mermaid node ids: a prefix keeps step ids such as `end` clear of Mermaid's keywords.
fn mermaid_id(t: &Target) -> String {
    match t {
        Target::Step(s) => format!("s_{s}"),
        Target::Review => "review".into(),
    }
}

/// Text inside a quoted Mermaid label: quotes, angle brackets, `&`, `#` and `|` as entity
/// codes, so that conditions such as `a || b` or `x == "ja"` survive.
pub fn mermaid_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '&' => out.push_str("#amp;"),
            '#' => out.push_str("#35;"),
            '|' => out.push_str("#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn mermaid(wf: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "flowchart TD");
    let _ = writeln!(out, "    classDef conditional stroke-dasharray: 5 5");
    let _ = writeln!(
        out,
        "    start((Start)) --> {}",
        match wf.steps.first() {
            Some(s) => format!("s_{}", s.id),
            None => "review".into(),
        }
    );
    for s in &wf.steps {
        let mut label = format!(
            "{}<br/>({})",
            mermaid_escape(s.title.get(Lang::De)),
            mermaid_escape(&s.id)
        );
        if let Some(note) = condition_note(s) {
            let _ = write!(label, "<br/><i>{}</i>", mermaid_escape(&note));
        }
        if s.end {
            // An end page: a rounded end like the review, marked as the end.
            let _ = writeln!(out, "    s_{}([\"{label}<br/><b>Ende</b>\"])", s.id);
        } else {
            let _ = writeln!(out, "    s_{}[\"{label}\"]", s.id);
        }
        if s.applies_if.is_some() {
            let _ = writeln!(out, "    class s_{} conditional", s.id);
        }
    }
    let _ = writeln!(out, "    review([\"{}\"])", mermaid_escape(REVIEW_TITLE));
    for e in edges(wf) {
        let from = format!("s_{}", e.from);
        let to = mermaid_id(e.to);
        match e.label {
            Some(l) => {
                let _ = writeln!(out, "    {from} -->|\"{}\"| {to}", mermaid_escape(&l));
            }
            None => {
                let _ = writeln!(out, "    {from} --> {to}");
            }
        }
    }
    out
}

/// Text inside a quoted DOT string.
pub fn dot_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

fn dot_id(t: &Target) -> String {
    match t {
        Target::Step(s) => format!("\"{}\"", dot_escape(s)),
        Target::Review => "\"review\"".into(),
    }
}

fn dot(wf: &Workflow) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph \"{}\" {{", dot_escape(&wf.id));
    let _ = writeln!(out, "    rankdir=TB;");
    let _ = writeln!(
        out,
        "    node [shape=box, style=rounded, fontname=\"sans-serif\"];"
    );
    let _ = writeln!(out, "    edge [fontname=\"sans-serif\", fontsize=10];");
    let _ = writeln!(out, "    start [shape=circle, label=\"Start\"];");
    if let Some(first) = wf.steps.first() {
        let _ = writeln!(out, "    start -> \"{}\";", dot_escape(&first.id));
    }
    for s in &wf.steps {
        // The label is escaped as a whole; `\n` between the parts is DOT's own line break.
        let mut parts = vec![s.title.get(Lang::De).to_string(), format!("({})", s.id)];
        if s.end {
            parts.push("Ende".to_string());
        }
        let style = match condition_note(s) {
            Some(note) => {
                parts.push(note);
                "rounded,dashed"
            }
            None => "rounded",
        };
        let label: Vec<String> = parts.iter().map(|p| dot_escape(p)).collect();
        let shape = if s.end { ", shape=octagon" } else { "" };
        let _ = writeln!(
            out,
            "    \"{}\" [label=\"{}\", style=\"{style}\"{shape}];",
            dot_escape(&s.id),
            label.join("\\n")
        );
    }
    let _ = writeln!(
        out,
        "    review [shape=doubleoctagon, label=\"{}\"];",
        dot_escape(REVIEW_TITLE)
    );
    for e in edges(wf) {
        let from = format!("\"{}\"", dot_escape(e.from));
        let to = dot_id(e.to);
        match e.label {
            Some(l) => {
                let _ = writeln!(out, "    {from} -> {to} [label=\"{}\"];", dot_escape(&l));
            }
            None => {
                let _ = writeln!(out, "    {from} -> {to};");
            }
        }
    }
    let _ = writeln!(out, "}}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mermaid_labels_keep_quotes_and_pipes_out_of_the_syntax() {
        assert_eq!(
            mermaid_escape(r#"a == "ja" || b < 3"#),
            "a == #quot;ja#quot; #124;#124; b #lt; 3"
        );
    }

    #[test]
    fn dot_labels_escape_quotes_and_backslashes() {
        assert_eq!(dot_escape(r#"x == "a\b""#), r#"x == \"a\\b\""#);
    }
}
