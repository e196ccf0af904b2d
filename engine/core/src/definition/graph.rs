//! Checks of the step graph: every step reachable from the first, no branching cycles.

use std::collections::HashMap;

use super::{Target, Workflow};
use crate::problem::{Pos, Problem};

/// The steps a step can lead to: its branch targets and its default.
pub(crate) fn successors(wf: &Workflow, step: usize) -> Vec<Target> {
    let s = &wf.steps[step];
    // Nothing follows an end page, unless it is skipped (its `applies_if` is false).
    if s.end {
        return if s.applies_if.is_some() {
            vec![s.default_next.clone()]
        } else {
            Vec::new()
        };
    }
    let mut out: Vec<Target> = s.branches.iter().map(|b| b.target.clone()).collect();
    out.push(s.default_next.clone());
    out
}

pub(super) fn check(wf: &Workflow, positions: &HashMap<String, Pos>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let n = wf.steps.len();
    if n == 0 {
        return problems;
    }
    let index = |t: &Target| match t {
        Target::Step(id) => wf.step_position(id),
        Target::Review => None,
    };
    let at = |i: usize| positions.get(&wf.steps[i].id).copied().unwrap_or_default();

    // Reachability from the first step.
    let mut reached = vec![false; n];
    let mut stack = vec![0usize];
    while let Some(i) = stack.pop() {
        if reached[i] {
            continue;
        }
        reached[i] = true;
        for t in successors(wf, i) {
            if let Some(j) = index(&t) {
                stack.push(j);
            }
        }
    }
    for (i, r) in reached.iter().enumerate() {
        if !r {
            problems.push(
                Problem::error(
                    "LOT-E021",
                    &wf.source,
                    at(i),
                    format!("step \"{}\" can never be reached", wf.steps[i].id),
                )
                .with_help("no step before it leads here; add a `goto` to it or remove it"),
            );
        }
    }

    // Cycles: depth-first search with colours; report each cycle once, naming its steps.
    #[derive(Clone, Copy, PartialEq)]
    enum Colour {
        White,
        Grey,
        Black,
    }
    let mut colour = vec![Colour::White; n];
    let mut path: Vec<usize> = Vec::new();
    let mut reported: Vec<Vec<usize>> = Vec::new();
    fn visit(
        i: usize,
        wf: &Workflow,
        colour: &mut Vec<Colour>,
        path: &mut Vec<usize>,
        cycles: &mut Vec<Vec<usize>>,
    ) {
        colour[i] = Colour::Grey;
        path.push(i);
        for t in successors(wf, i) {
            let Target::Step(id) = &t else { continue };
            let Some(j) = wf.step_position(id) else {
                continue;
            };
            match colour[j] {
                Colour::Grey => {
                    if let Some(start) = path.iter().position(|&p| p == j) {
                        let mut cycle = path[start..].to_vec();
                        let mut key = cycle.clone();
                        key.sort_unstable();
                        if !cycles.iter().any(|c| {
                            let mut k = c.clone();
                            k.sort_unstable();
                            k == key
                        }) {
                            cycle.push(j);
                            cycles.push(cycle);
                        }
                    }
                }
                Colour::White => visit(j, wf, colour, path, cycles),
                Colour::Black => {}
            }
        }
        path.pop();
        colour[i] = Colour::Black;
    }
    for i in 0..n {
        if colour[i] == Colour::White {
            visit(i, wf, &mut colour, &mut path, &mut reported);
        }
    }
    for cycle in reported {
        let names: Vec<&str> = cycle.iter().map(|&i| wf.steps[i].id.as_str()).collect();
        problems.push(
            Problem::error(
                "LOT-E022",
                &wf.source,
                at(cycle[0]),
                format!("the steps form a cycle: {}", names.join(" → ")),
            )
            .with_help("an assistant moves forward only; use `back` for going back, not a goto"),
        );
    }
    problems
}
