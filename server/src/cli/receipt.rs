//! `lotse render` and `lotse verify`: receipts for designers and offices.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};
use lotse_core::application::receipt_model;
use lotse_core::script::Sandbox;
use lotse_core::{Clock, Submission, SystemClock, load_library};
use lotse_receipt::{
    Language, ReceiptModel, TemplateRegistry, format_berlin, render_receipt, verify_receipt,
};

use crate::{keys, tenants};

pub struct RenderArgs<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub project: &'a Path,
    pub data: &'a Path,
    pub tenant: &'a str,
    pub reference: &'a str,
}

/// Renders and signs a receipt from a submission (as the engine records it) or from a receipt
/// model (JSON).
pub fn render(args: RenderArgs<'_>) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    let tenant = tenants::find(args.tenant)
        .with_context(|| format!("unknown tenant \"{}\"", args.tenant))?;
    let now = SystemClock.now();
    let model: ReceiptModel = if json.get("workflow_id").is_some() && json.get("answers").is_some()
    {
        let submission: Submission =
            serde_json::from_value(json).context("reading the submission")?;
        let sandbox = Sandbox::default();
        let (library, problems) = load_library(args.project, &sandbox);
        if let Some(p) = problems.iter().find(|p| p.is_error()) {
            bail!("the workflows have errors, first: {p}");
        }
        // As the tenant runs the workflow: its office and receipt texts.
        let wf = library
            .for_tenant(
                tenant.slug,
                &submission.workflow_id,
                submission.workflow_version,
            )
            .with_context(|| {
                format!(
                    "workflow {}@{} is not in {}",
                    submission.workflow_id,
                    submission.workflow_version,
                    args.project.display()
                )
            })?;
        receipt_model(
            wf,
            &submission,
            tenant.receipt_info(wf.office.get(submission.lang)),
            args.reference,
            submission.submitted_at,
        )
    } else {
        serde_json::from_value(json).context("reading the receipt model")?
    };
    let templates = TemplateRegistry::load_dir(&args.project.join("pdf-templates"))
        .context("loading pdf-templates/")?;
    let identity = keys::tenant_identity(args.data, tenant.slug, tenant.name, now)?;
    let pdf = render_receipt(&model, &templates, &identity).context("rendering the receipt")?;
    std::fs::write(args.output, &pdf)
        .with_context(|| format!("writing {}", args.output.display()))?;
    eprintln!(
        "{} geschrieben ({} Bytes, signiert für {}).",
        args.output.display(),
        pdf.len(),
        tenant.name
    );
    Ok(())
}

/// Checks a receipt's signature and embedded data; exit status 0 only when it is valid and
/// covers the whole file.
pub fn verify(file: &Path) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    match verify_receipt(&bytes) {
        Ok(v) => {
            println!("Datei:        {}", file.display());
            println!(
                "Unterzeichner: {}",
                v.signer.as_deref().unwrap_or("unbekannt")
            );
            if let Some(t) = v.signing_time {
                println!("Signiert am:  {}", format_berlin(t, Language::De));
            }
            if let Some(h) = &v.certificate_sha256 {
                println!("Zertifikat:   SHA-256 {h}");
            }
            println!(
                "Antragsdaten: {}",
                if v.embedded_json.is_some() {
                    "eingebettet (antrag.json)"
                } else {
                    "fehlen"
                }
            );
            let ok = v.valid && v.covers_whole_file;
            if ok {
                println!("Ergebnis:     GÜLTIG – die Datei ist seit der Signatur unverändert.");
                ExitCode::SUCCESS
            } else {
                println!(
                    "Ergebnis:     UNGÜLTIG – {}",
                    v.problem
                        .as_deref()
                        .unwrap_or("die Signatur deckt nicht die ganze Datei ab")
                );
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            println!("Ergebnis:     UNGÜLTIG – {e}");
            ExitCode::FAILURE
        }
    }
}
