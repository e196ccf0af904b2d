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

/// The signing identity the portal of `data` uses for `tenant`: `key.pem` and `cert.pem` in
/// `data/keys/<tenant>/`, else the development key in its store. A data folder with neither is
/// an error: no key or store is made up in a folder that is not a portal's.
fn portal_identity(
    data: &Path,
    tenant: &tenants::Tenant,
    now: time::OffsetDateTime,
) -> anyhow::Result<lotse_receipt::SigningIdentity> {
    let dir = data.join("keys").join(&tenant.slug);
    if dir.join("key.pem").is_file() && dir.join("cert.pem").is_file() {
        return keys::tenant_identity(data, &tenant.slug, &tenant.name, now);
    }
    let store: lotse_store::AnyStore = crate::nodes::open_existing_sled(data)?.into();
    let config = crate::config::Config {
        data_dir: data.to_path_buf(),
        ..crate::config::Config::default()
    };
    let identity = crate::nodes::signing_identity(&config, &store, &tenant.slug, &tenant.name, now);
    store.close()?;
    identity
}

pub struct RenderArgs<'a> {
    pub input: &'a Path,
    pub output: &'a Path,
    pub project: &'a Path,
    pub data: &'a Path,
    pub tenant: Option<&'a str>,
    pub reference: &'a str,
}

/// Renders and signs a receipt from a submission (as the engine records it) or from a receipt
/// model (JSON).
pub fn render(args: RenderArgs<'_>) -> anyhow::Result<()> {
    let bytes =
        std::fs::read(args.input).with_context(|| format!("reading {}", args.input.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{} is not JSON", args.input.display()))?;
    let (portal, _) = tenants::for_path(args.project);
    let named = match args.tenant {
        Some(slug) => Some(portal.find(slug).cloned().with_context(|| {
            format!(
                "unknown tenant \"{slug}\"; tenants: {}",
                portal.slugs().join(", ")
            )
        })?),
        None => None,
    };
    let now = SystemClock.now();
    let mut issuer = named.clone();
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
        let tenant =
            named.unwrap_or_else(|| tenants::showcase(&portal, &library, &submission.workflow_id));
        issuer = Some(tenant.clone());
        let wf = library
            .for_tenant(
                &tenant.slug,
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
            tenants::receipt_info(&tenant, wf.office.get(submission.lang)),
            args.reference,
            submission.submitted_at,
        )
    } else {
        let model: ReceiptModel =
            serde_json::from_value(json).context("reading the receipt model")?;
        if issuer.is_none() {
            issuer = portal.find(&model.tenant.id).cloned();
        }
        model
    };
    let tenant = issuer.unwrap_or_else(|| portal.root().clone());
    let templates = TemplateRegistry::load_dir(&args.project.join("pdf-templates"))
        .context("loading pdf-templates/")?;
    let identity = portal_identity(args.data, &tenant, now)?;
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
/// Exit code of `lotse verify` when the file is unchanged since it was signed, but its signer
/// is not one of the trusted certificates (or none were given): intact, not proven genuine.
pub const VERIFY_UNTRUSTED: u8 = 2;

/// Checks a receipt: the signature over the whole file and, with `trusted` certificates (PEM
/// files, for example the tenant's signing certificate), that it was signed by one of them.
/// Exit codes: 0 valid and trusted, 1 altered or not a signed receipt, 2 intact but the signer
/// is unknown or not trusted.
pub fn verify(file: &Path, trusted: &[std::path::PathBuf]) -> ExitCode {
    let bytes = match std::fs::read(file) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    };
    let mut anchors = Vec::new();
    for path in trusted {
        match trusted_certificates(path) {
            Ok(found) if !found.is_empty() => anchors.extend(found),
            Ok(_) => {
                eprintln!("{}: enthält kein Zertifikat (PEM)", path.display());
                return ExitCode::FAILURE;
            }
            Err(e) => {
                eprintln!("{}: {e:#}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let v = match verify_receipt(&bytes) {
        Ok(v) => v,
        Err(e) => {
            println!("Ergebnis:     UNGÜLTIG – {e}");
            return ExitCode::FAILURE;
        }
    };
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
    if !(v.valid && v.covers_whole_file) {
        println!(
            "Ergebnis:     UNGÜLTIG – {}",
            v.problem
                .as_deref()
                .unwrap_or("die Signatur deckt nicht die ganze Datei ab")
        );
        return ExitCode::FAILURE;
    }
    let trusted_signer = v
        .certificate_sha256
        .as_ref()
        .is_some_and(|h| anchors.iter().any(|a| a == h));
    if trusted_signer {
        println!(
            "Ergebnis:     GÜLTIG – unverändert seit der Signatur, unterzeichnet mit einem vertrauenswürdigen Zertifikat."
        );
        ExitCode::SUCCESS
    } else if anchors.is_empty() {
        println!(
            "Ergebnis:     SIGNATUR INTAKT, UNTERZEICHNER NICHT GEPRÜFT – die Datei ist seit der Signatur unverändert; ob das Zertifikat der Behörde gehört, zeigt erst --trust ZERTIFIKAT.pem."
        );
        ExitCode::from(VERIFY_UNTRUSTED)
    } else {
        println!(
            "Ergebnis:     SIGNATUR INTAKT, UNTERZEICHNER NICHT VERTRAUENSWÜRDIG – die Datei wurde mit einem anderen als den angegebenen Zertifikaten signiert."
        );
        ExitCode::from(VERIFY_UNTRUSTED)
    }
}

/// The SHA-256 (lower-case hex, over the DER) of every certificate in a PEM file.
fn trusted_certificates(path: &Path) -> anyhow::Result<Vec<String>> {
    use base64::Engine as _;
    use sha2::Digest as _;
    let text = std::fs::read_to_string(path).context("lesen")?;
    let mut out = Vec::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
        let body = &rest[start + "-----BEGIN CERTIFICATE-----".len()..];
        let Some(end) = body.find("-----END CERTIFICATE-----") else {
            bail!("ein Zertifikat ohne END-Zeile");
        };
        let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .context("kein gültiges PEM-Zertifikat")?;
        let hash = sha2::Sha256::digest(&der);
        out.push(hash.iter().map(|b| format!("{b:02x}")).collect());
        rest = &body[end..];
    }
    Ok(out)
}
