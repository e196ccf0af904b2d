//! Signing keys per tenant. Without configured keys, a development key and a self-signed
//! certificate are created on first use and kept under `<data>/keys/<tenant>/`; the log says
//! clearly that they are not for production.

use std::path::Path;

use anyhow::Context;
use lotse_engine::receipt::SigningIdentity;
use time::OffsetDateTime;

/// Loads `key.pem` and `cert.pem` of `tenant`, or creates a development identity.
pub fn tenant_identity(
    data: &Path,
    tenant: &str,
    tenant_name: &str,
    now: OffsetDateTime,
) -> anyhow::Result<SigningIdentity> {
    let dir = data.join("keys").join(tenant);
    let key = dir.join("key.pem");
    let cert = dir.join("cert.pem");
    if key.is_file() && cert.is_file() {
        let k =
            std::fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?;
        let c = std::fs::read_to_string(&cert)
            .with_context(|| format!("reading {}", cert.display()))?;
        return SigningIdentity::from_pem(&k, &c).with_context(|| {
            format!("loading the signing key of {tenant} from {}", dir.display())
        });
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let identity = SigningIdentity::generate_development(tenant_name, now)
        .context("creating a development signing key")?;
    let pem = identity.to_pem().context("encoding the development key")?;
    write_secret(&key, &pem.key_pem)?;
    std::fs::write(&cert, &pem.certificate_pem)
        .with_context(|| format!("writing {}", cert.display()))?;
    eprintln!(
        "WARNUNG: Für {tenant_name} wurde ein Entwicklungsschlüssel mit selbst signiertem Zertifikat erzeugt ({}). \
         Er ist nicht für den Produktivbetrieb: Quittungen damit sind technisch gültig signiert, aber niemand vertraut dem Zertifikat. \
         Legen Sie für den Betrieb key.pem und cert.pem der Behörde dort ab.",
        dir.display()
    );
    Ok(identity)
}

fn write_secret(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}
