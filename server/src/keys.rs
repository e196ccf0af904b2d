//! Signing keys per tenant. Without configured keys, a development key and a self-signed
//! certificate are created on first use and kept under `<data>/keys/<tenant>/`; the log says
//! clearly that they are not for production.

use std::path::Path;

use anyhow::Context;
use lotse_receipt::SigningIdentity;
use time::OffsetDateTime;

use crate::config::Signing;

/// The identity configured for `tenant` (PEM or PKCS#12 files named in the configuration),
/// else `key.pem` and `cert.pem` under `<data>/keys/<tenant>/`, else a new development identity.
pub fn configured_identity(
    config: Option<&Signing>,
    data: &Path,
    tenant: &str,
    tenant_name: &str,
    now: OffsetDateTime,
) -> anyhow::Result<SigningIdentity> {
    match config {
        Some(Signing::Pem {
            key_file,
            certificate_file,
        }) => {
            let k = std::fs::read_to_string(key_file)
                .with_context(|| format!("reading {}", key_file.display()))?;
            let c = std::fs::read_to_string(certificate_file)
                .with_context(|| format!("reading {}", certificate_file.display()))?;
            SigningIdentity::from_pem(&k, &c)
                .with_context(|| format!("the signing key of {tenant}"))
        }
        Some(Signing::Pkcs12 {
            pkcs12_file,
            password_env,
        }) => {
            let password = std::env::var(password_env)
                .with_context(|| format!("the environment variable {password_env} is not set"))?;
            pkcs12_identity(pkcs12_file, &password, tenant)
        }
        None => tenant_identity(data, tenant, tenant_name, now),
    }
}

fn pkcs12_identity(file: &Path, password: &str, tenant: &str) -> anyhow::Result<SigningIdentity> {
    let der = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    SigningIdentity::from_pkcs12(&der, password)
        .with_context(|| format!("the PKCS#12 file of {tenant} ({})", file.display()))
}

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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use time::macros::datetime;

    #[test]
    fn configured_pem_and_pkcs12_files_are_used_instead_of_a_development_key() {
        let dir = tempfile::tempdir().unwrap();
        let now = datetime!(2026-11-28 10:00 UTC);
        let original = SigningIdentity::generate_development("Stadt Wegberg", now).unwrap();
        let pem = original.to_pem().unwrap();
        let key = dir.path().join("key.pem");
        let cert = dir.path().join("cert.pem");
        std::fs::write(&key, &pem.key_pem).unwrap();
        std::fs::write(&cert, &pem.certificate_pem).unwrap();
        let signing = Signing::Pem {
            key_file: key.clone(),
            certificate_file: cert.clone(),
        };
        let loaded =
            configured_identity(Some(&signing), dir.path(), "wegberg", "Stadt Wegberg", now)
                .unwrap();
        assert_eq!(loaded.certificate_sha256(), original.certificate_sha256());
        assert!(
            !dir.path().join("keys").exists(),
            "no development key when one is configured"
        );

        // The same identity exported by openssl as PKCS#12.
        let p12 = dir.path().join("id.p12");
        let exported = std::process::Command::new("openssl")
            .args(["pkcs12", "-export", "-passout", "pass:geheim", "-inkey"])
            .arg(&key)
            .arg("-in")
            .arg(&cert)
            .arg("-out")
            .arg(&p12)
            .status();
        match exported {
            Ok(s) if s.success() => {
                let signing = Signing::Pkcs12 {
                    pkcs12_file: p12.clone(),
                    password_env: "LOTSE_TEST_UNSET_PASSWORD_VARIABLE".into(),
                };
                assert!(
                    configured_identity(
                        Some(&signing),
                        dir.path(),
                        "wegberg",
                        "Stadt Wegberg",
                        now
                    )
                    .is_err(),
                    "no password set"
                );
                let loaded = pkcs12_identity(&p12, "geheim", "wegberg").unwrap();
                assert_eq!(loaded.certificate_sha256(), original.certificate_sha256());
                assert!(pkcs12_identity(&p12, "falsch", "wegberg").is_err());
            }
            _ => eprintln!(
                "note: openssl is not installed; the PKCS#12 part is covered in the receipt tests"
            ),
        }
    }
}
