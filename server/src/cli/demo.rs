//! `lotse demo`: the built-in demo, without any configuration. It loads the example workflows,
//! then walks one citizen through the Hundesteuer assistant in the terminal: each step with its
//! questions, a mistake and its German error messages, the explanations, the review and the
//! submission record.

use std::path::Path;
use std::process::ExitCode;

use lotse_engine::application::{Position, ReviewView};
use lotse_engine::script::Sandbox;
use lotse_engine::{Application, Clock, Command, Lang, Outcome, SystemClock, load_library};
use serde_json::{Value, json};

const WORKFLOW: &str = "hundesteuer-anmeldung";

fn answers() -> Vec<Value> {
    vec![
        json!({
            "halter": {"anrede": "Frau", "vorname": "Anna", "nachname": "Schmitz", "geburtsdatum": "12.04.1985"},
            "anschrift": {"strasse": "Valkenburger Straße", "hausnummer": "45", "plz": "52525", "ort": "Heinsberg"},
            "kontakt": {"email": "anna.schmitz@example.org"}
        }),
        json!({"hunde": [
            {"name": "Bello", "rasse": "Labrador", "geburtsdatum": "2022-03-01", "kategorie": "normal"},
            {"name": "Luna", "rasse": "Mischling", "geburtsdatum": "2023-07-10", "kategorie": "normal"}
        ]}),
        json!({"haltungsbeginn": "01.11.2026", "zuzug": "nein"}),
        json!({"ermaessigung": "nein"}),
        json!({"lastschrift": "ja", "konto": {"kontoinhaber": "Anna Schmitz", "iban": "DE89 3704 0044 0532 0130 00"}}),
        json!({"richtig": true}),
    ]
}

pub fn run(dir: &Path) -> ExitCode {
    let sandbox = Sandbox::default();
    let (library, problems) = load_library(dir, &sandbox);
    if problems.iter().any(|p| p.is_error()) {
        eprintln!(
            "Die Beispiel-Workflows enthalten Fehler; `lotse check {}` zeigt sie.",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    let Some(wf) = library.latest(WORKFLOW) else {
        eprintln!(
            "Der Beispiel-Workflow {WORKFLOW} fehlt in {}.",
            dir.display()
        );
        return ExitCode::FAILURE;
    };
    let now = SystemClock.now();
    println!(
        "Lotse-Demo: {} ({}, Version {})",
        wf.title.german(),
        wf.office.german(),
        wf.version
    );
    println!(
        "Geladen: {} Workflows aus {}\n",
        library.all().count(),
        dir.display()
    );

    let mut app = Application::start(wf, Lang::De, now);
    let mut first = true;
    for values in answers() {
        let Position::Step(step_id) = app.position.clone() else {
            break;
        };
        let Some(step) = wf.step(&step_id) else { break };
        let (n, total) = app.progress();
        println!("── Schritt {n} von {total}: {}", step.title.german());
        for f in &step.fields {
            println!("   • {}", f.label.german());
        }
        if first {
            // Show what a citizen sees after a typo.
            first = false;
            let mut wrong = values.clone();
            wrong["anschrift"]["plz"] = json!("5252");
            wrong["halter"]["vorname"] = json!("");
            let cmd = Command::Answer {
                step: step_id.clone(),
                values: wrong.as_object().cloned().unwrap_or_default(),
                then_review: false,
            };
            if let Ok(t) = app.apply(wf, &sandbox, cmd, now)
                && let Outcome::Rejected { errors, .. } = t.outcome
            {
                println!("   Mit Tippfehlern abgeschickt, Lotse antwortet:");
                for e in errors {
                    println!("     ✗ {} ({})", e.message, e.pointer);
                }
            }
        }
        let cmd = Command::Answer {
            step: step_id.clone(),
            values: values.as_object().cloned().unwrap_or_default(),
            then_review: false,
        };
        match app.apply(wf, &sandbox, cmd, now) {
            Ok(t) => {
                if let Outcome::Rejected { errors, .. } = &t.outcome {
                    for e in errors {
                        println!("     ✗ {}", e.message);
                    }
                    return ExitCode::FAILURE;
                }
                app = t.state;
                println!("   ✓ beantwortet\n");
            }
            Err(e) => {
                eprintln!("{e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("── Warum diese Schritte?");
    for e in &app.explanations {
        println!("   {}", e.describe(Lang::De));
    }
    let computed = match app.computed(wf, &sandbox, now.date()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    let review = ReviewView::build(wf, &app.route, &app.answers, &computed, Lang::De);
    println!("\n── Ihre Angaben im Überblick");
    for s in &review.steps {
        println!("   {}", s.title);
        for e in &s.entries {
            println!("     {}: {}", e.label, e.value.flat());
        }
    }
    for c in &review.computed {
        println!("   {}: {}", c.label, c.value.flat());
    }
    match app.apply(wf, &sandbox, Command::Submit, now) {
        Ok(t) => match t.outcome {
            Outcome::Submitted { submission } => {
                println!("\n── Abgeschickt. Der Datensatz (Auszug):");
                println!(
                    "   Workflow {}@{} ({}), Weg: {}",
                    submission.workflow_id,
                    submission.workflow_version,
                    submission.content_hash,
                    submission.path.join(" → ")
                );
                ExitCode::SUCCESS
            }
            other => {
                eprintln!("unerwartet: {other:?}");
                ExitCode::FAILURE
            }
        },
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
