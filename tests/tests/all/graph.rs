//! `lotse graph`: diagrams of the example workflows.

use lotse_core::diagram::{DiagramFormat, render};
use lotse_tests::*;

#[test]
fn the_mermaid_graph_of_hundesteuer_has_every_step_the_branch_and_the_review() {
    let wf = library().latest("hundesteuer-anmeldung").unwrap();
    let graph = render(wf, DiagramFormat::Mermaid);
    assert!(graph.starts_with("flowchart TD"));
    for step in &wf.steps {
        assert!(
            graph.contains(&format!("s_{}[", step.id)),
            "{} missing:\n{graph}",
            step.id
        );
    }
    assert!(
        graph.contains(r#"s_hunde -->|"any_where(hunde, #quot;kategorie#quot;, #quot;gefaehrlich#quot;)"| s_gefaehrlich"#),
        "{graph}"
    );
    assert!(
        graph.contains(r#"s_hunde -->|"sonst"| s_beginn"#),
        "{graph}"
    );
    assert!(graph.contains("nur wenn any_where"), "{graph}");
    assert!(graph.contains("s_zahlung --> review"), "{graph}");
}

#[test]
fn the_dot_graph_escapes_quotes_in_conditions() {
    let wf = library().latest("hundesteuer-anmeldung").unwrap();
    let graph = render(wf, DiagramFormat::Dot);
    assert!(graph.starts_with("digraph \"hundesteuer-anmeldung\" {"));
    for step in &wf.steps {
        assert!(
            graph.contains(&format!("\"{}\" [label=", step.id)),
            "{} missing:\n{graph}",
            step.id
        );
    }
    assert!(
        graph.contains(r#""hunde" -> "gefaehrlich" [label="any_where(hunde, \"kategorie\", \"gefaehrlich\")"];"#),
        "{graph}"
    );
    assert!(graph.contains(r#""zahlung" -> "review";"#), "{graph}");
}
