//! `lotse demo`: the built-in demo, without any configuration. It loads the example workflows,
//! then walks one citizen through the Hundesteuer assistant in the terminal: each step with its
//! questions, a mistake and its German error messages, the explanations, the review and the
//! submission record.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;
use lotse_core::application::{Position, ReviewView, receipt_model};
use lotse_core::script::Sandbox;
use lotse_core::{
    Application, Clock, Command, Lang, Outcome, Submission, SystemClock, Workflow, load_library,
};
use lotse_receipt::{TemplateRegistry, render_receipt, verify_receipt};
use lotse_store::{
    DEFAULT_DRAFT_TTL, Draft, DraftStore, IdempotencyKey, NewSubmission, OsEntropy, SledStore,
    SubmissionId, SubmissionStore, TenantId,
};
use serde_json::{Value, json};

use crate::{keys, tenants};

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

pub fn run(dir: &Path, data: &Path) -> ExitCode {
    let sandbox = Sandbox::default();
    let (library, problems) = load_library(dir, &sandbox);
    if problems.iter().any(|p| p.is_error()) {
        eprintln!(
            "Die Beispiel-Workflows enthalten Fehler; `lotse check {}` zeigt sie.",
            dir.display()
        );
        return ExitCode::FAILURE;
    }
    // The demo citizen lives in Heinsberg: the town's own rates and office apply.
    let Some(wf) = library.latest_for_tenant("heinsberg", WORKFLOW) else {
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

    let store = match SledStore::open(data.join("store")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "Der Datenspeicher in {} lässt sich nicht öffnen: {e}",
                data.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let Some(tenant) = tenants::find("heinsberg") else {
        return ExitCode::FAILURE;
    };
    let tenant_id = match TenantId::new(tenant.slug, tenant.prefix) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "{} bietet {} Online-Dienste an; Fragen beantwortet das {} unter {}.",
        tenant.name,
        tenant.services.len(),
        tenant.office,
        tenant.phone
    );
    let mut app = Application::start(wf, Lang::De, now);
    let mut draft = match Draft::new(
        &mut OsEntropy,
        tenant_id.clone(),
        &wf.id,
        wf.version.to_string(),
        serde_json::to_value(&app).unwrap_or_default(),
        now,
        DEFAULT_DRAFT_TTL,
    )
    .and_then(|d| store.create_draft(&d).map(|()| d))
    {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Entwurf gespeichert. Weitermachen auf einem anderen Gerät mit dem Code {} (gültig bis {}).\n",
        draft.resume_code,
        draft.expires.date()
    );
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
                // Saved after every step, with the revision it was based on.
                let mut next = draft.clone();
                next.state = serde_json::to_value(&app).unwrap_or_default();
                next.touch(now, DEFAULT_DRAFT_TTL);
                match store.save_draft(next, draft.revision) {
                    Ok(saved) => draft = saved,
                    Err(e) => {
                        eprintln!("{e}");
                        return ExitCode::FAILURE;
                    }
                }
                println!(
                    "   ✓ beantwortet und gespeichert (Revision {})\n",
                    draft.revision
                );
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
                match deliver(wf, &submission, &store, &draft, tenant, data) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        eprintln!("Fehler: {e:#}");
                        ExitCode::FAILURE
                    }
                }
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

/// Stores the submission durably, issues the signed receipt and checks it.
fn deliver(
    wf: &Workflow,
    submission: &Submission,
    store: &SledStore,
    draft: &Draft,
    tenant: &tenants::Tenant,
    data: &Path,
) -> anyhow::Result<()> {
    let now = submission.submitted_at;
    let stored = store.submit(
        NewSubmission {
            id: SubmissionId::generate(&mut OsEntropy)?,
            tenant: draft.tenant.clone(),
            idempotency_key: IdempotencyKey::for_draft(&draft.id, draft.revision),
            draft_id: Some(draft.id),
            workflow_id: wf.id.clone(),
            workflow_version: wf.version.to_string(),
            data: serde_json::to_value(submission)?,
            notifications: Vec::new(),
        },
        now,
    )?;
    store.delete_draft(&draft.id)?;
    println!(
        "\n── Abgeschickt und gespeichert: Aktenzeichen {}",
        stored.reference
    );
    println!(
        "   Workflow {}@{} ({}), Weg: {}",
        submission.workflow_id,
        submission.workflow_version,
        submission.content_hash,
        submission.path.join(" → ")
    );
    let model = receipt_model(
        wf,
        submission,
        tenant.receipt_info(wf.office.german()),
        &stored.reference.to_string(),
        stored.submitted,
    );
    let project = wf
        .source
        .ancestors()
        .find(|a| a.join("pdf-templates").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let templates = TemplateRegistry::load_dir(&project.join("pdf-templates"))
        .context("loading pdf-templates/")?;
    let identity = keys::tenant_identity(data, tenant.slug, tenant.name, now)?;
    let pdf = render_receipt(&model, &templates, &identity)?;
    let out = data.join("demo-quittung.pdf");
    std::fs::write(&out, &pdf).with_context(|| format!("writing {}", out.display()))?;
    let json = data.join("demo-antrag.json");
    std::fs::write(&json, serde_json::to_vec_pretty(submission)?)
        .with_context(|| format!("writing {}", json.display()))?;
    let check = verify_receipt(&pdf)?;
    println!(
        "   Eingangsbestätigung: {} ({} KB, Signatur {})",
        out.display(),
        pdf.len() / 1024,
        if check.valid && check.covers_whole_file {
            "gültig"
        } else {
            "UNGÜLTIG"
        }
    );
    println!("   Prüfen mit: lotse verify {}", out.display());
    Ok(())
}
