//! `lotse demo`: the built-in demo, without any configuration. It loads the example workflows,
//! then walks one citizen through the Hundesteuer assistant in the terminal: each step with its
//! questions, a mistake and its German error messages, the explanations, the review and the
//! submission record.

use std::path::Path;
use std::process::ExitCode;

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use lotse_core::application::{Position, ReviewView};
use lotse_core::script::Sandbox;
use lotse_core::{Clock, Command, Lang, Library, Submission, SystemClock, Workflow, load_library};
use lotse_receipt::{TemplateRegistry, verify_receipt};
use lotse_store::{AnyStore, SledStore};
use time::OffsetDateTime;

use crate::service::{Acted, ApplicationService};
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
    // The demo citizen lives where the workflow is adapted by an override (the town's own rates
    // and office apply), else in a municipality that offers it.
    let (portal, _) = tenants::for_path(dir);
    let tenant = tenants::showcase(&portal, &library, WORKFLOW);
    let Some(wf) = library.latest_for_tenant(&tenant.slug, WORKFLOW).cloned() else {
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

    let store: AnyStore = match SledStore::open(data.join("store")) {
        Ok(s) => s.into(),
        Err(e) => {
            eprintln!(
                "Der Datenspeicher in {} lässt sich nicht öffnen: {e}",
                data.display()
            );
            return ExitCode::FAILURE;
        }
    };
    let offered = library
        .workflows
        .keys()
        .filter(|id| tenant.services.offers(id))
        .count();
    println!(
        "{} bietet {offered} Online-Dienste an; Fragen beantwortet das {} unter {}.",
        tenant.name,
        tenant.office.german(),
        tenant.phone
    );
    match walk(&library, &wf, &sandbox, &store, &tenant, data, now) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("Fehler: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The citizen's way through the assistant: every step through the application service, as
/// the portal and the API go, then the receipt checked.
fn walk(
    library: &Library,
    wf: &Arc<Workflow>,
    sandbox: &Sandbox,
    store: &AnyStore,
    tenant: &tenants::Tenant,
    data: &Path,
    now: OffsetDateTime,
) -> anyhow::Result<()> {
    let project = wf
        .source
        .ancestors()
        .find(|a| a.join("pdf-templates").is_dir())
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let templates = TemplateRegistry::load_dir(&project.join("pdf-templates"))
        .context("die Vorlagen in pdf-templates/ lassen sich nicht laden")?;
    let mut keys = HashMap::new();
    keys.insert(
        tenant.slug.clone(),
        Arc::new(keys::tenant_identity(
            data,
            &tenant.slug,
            &tenant.name,
            now,
        )?),
    );
    let service = ApplicationService {
        store,
        sandbox,
        library,
        receipts: &templates,
        offices: &keys,
        data,
    };
    let mut open = service.start(tenant, wf, Lang::De, now)?;
    println!(
        "Entwurf gespeichert. Weitermachen auf einem anderen Gerät mit dem Code {} (gültig bis {}).\n",
        open.draft.resume_code,
        open.draft.expires.date()
    );
    let id = open.draft.id.to_string();
    let mut first = true;
    for values in answers() {
        let Position::Step(step_id) = open.app.position.clone() else {
            break;
        };
        let Some(step) = wf.step(&step_id) else { break };
        let (n, total) = open.app.progress();
        println!("── Schritt {n} von {total}: {}", step.title.german());
        for f in &step.fields {
            println!("   • {}", f.label.german());
        }
        let answer = |values: &Value| Command::Answer {
            step: step_id.clone(),
            values: values.as_object().cloned().unwrap_or_default(),
            then_review: false,
        };
        if first {
            // Show what a citizen sees after a typo: the answers stay in the draft.
            first = false;
            let mut wrong = values.clone();
            wrong["anschrift"]["plz"] = json!("5252");
            wrong["halter"]["vorname"] = json!("");
            let acted = service.act(tenant, &id, open.draft.revision, None, answer(&wrong), now)?;
            if let Some(Acted::Rejected {
                open: kept, errors, ..
            }) = acted
            {
                println!("   Mit Tippfehlern abgeschickt, Lotse antwortet:");
                for e in errors {
                    println!("     ✗ {} ({})", e.message, e.pointer);
                }
                println!(
                    "   (Das Eingegebene bleibt im Entwurf, Revision {}.)",
                    kept.draft.revision
                );
                open = *kept;
            }
        }
        match service.act(tenant, &id, open.draft.revision, None, answer(&values), now)? {
            Some(Acted::Saved(saved)) => open = *saved,
            Some(Acted::Rejected { errors, .. }) => {
                for e in errors {
                    println!("     ✗ {}", e.message);
                }
                anyhow::bail!(
                    "die Beispielantworten für Schritt {step_id} wurden nicht angenommen"
                );
            }
            other => anyhow::bail!("unerwartete Antwort auf Schritt {step_id}: {other:?}"),
        }
        println!(
            "   ✓ beantwortet und gespeichert (Revision {})\n",
            open.draft.revision
        );
    }
    println!("── Warum diese Schritte?");
    for e in &open.app.explanations {
        println!("   {}", e.describe(Lang::De));
    }
    let computed = open.app.computed(wf, sandbox, now.date())?;
    let review = ReviewView::build(wf, &open.app.route, &open.app.answers, &computed, Lang::De);
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
    // Anna ticks the declaration on the review page.
    if !wf.declaration.is_empty() {
        println!("\n── Erklärung (auf der Prüfseite angekreuzt)");
        for s in &wf.declaration {
            println!("   [x] {}", s.label.get(Lang::De));
        }
    }
    let declared = wf.declaration.iter().map(|s| s.id.clone()).collect();
    let submit = Command::Submit { declared };
    let Some(Acted::Submitted { submission, .. }) =
        service.act(tenant, &id, open.draft.revision, None, submit, now)?
    else {
        anyhow::bail!("der Beispielantrag wurde nicht eingereicht");
    };
    let certificate = keys
        .get(&tenant.slug)
        .context("kein Signaturschlüssel für die Gemeinde")?
        .to_pem()?
        .certificate_pem;
    report(&submission, store, data, &certificate)
}

/// Shows what was stored, writes the receipt and the submitted data beside the store, and
/// checks the receipt's signature.
fn report(
    stored: &lotse_store::Submission,
    store: &AnyStore,
    data: &Path,
    certificate_pem: &str,
) -> anyhow::Result<()> {
    let submission: Submission = serde_json::from_value(stored.data.clone())?;
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
    let pdf = crate::nodes::load_receipt(store, data, &stored.id)?;
    let out = data.join("demo-quittung.pdf");
    std::fs::write(&out, &pdf)
        .with_context(|| format!("{} lässt sich nicht schreiben", out.display()))?;
    let json = data.join("demo-antrag.json");
    std::fs::write(&json, serde_json::to_vec_pretty(&submission)?)
        .with_context(|| format!("{} lässt sich nicht schreiben", json.display()))?;
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
    let cert = data.join("demo-zertifikat.pem");
    std::fs::write(&cert, certificate_pem)
        .with_context(|| format!("{} lässt sich nicht schreiben", cert.display()))?;
    println!(
        "   Prüfen mit: lotse verify --trust {} {}",
        cert.display(),
        out.display()
    );
    Ok(())
}
