//! What a node keeps across requests, per store backend. With sled (one node) it lives in the
//! data folder and in memory; with PostgreSQL (several nodes on one database) it lives in the
//! database, so that every node sees the same: the CSRF secret, development signing keys, the
//! count of wrong resume codes, and receipts. Configured signing keys are files that every node
//! reads (docs/operations.md).

use std::path::Path;

use anyhow::Context;
use lotse_receipt::SigningIdentity;
use lotse_store::{
    AnyStore, AttemptLimiter, Entropy, OsEntropy, PgOptions, PgResumeLimiter, PgStore,
    ResumeLimiter, SledStore, SubmissionId, redact_url,
};
use time::{Duration, OffsetDateTime};

use crate::config::{Backend, Config};

/// Five wrong resume codes per client and 15 minutes, then a pause.
const RESUME_FAILURES: u32 = 5;
const RESUME_WINDOW: Duration = Duration::minutes(15);

/// Opens the configured store: sled under `<data_dir>/store`, or PostgreSQL (migrating it).
pub fn open_store(config: &Config) -> anyhow::Result<AnyStore> {
    match config.store.backend {
        Backend::Sled => {
            let dir = config.data_dir.join("store");
            Ok(SledStore::open(&dir)
                .with_context(|| format!("opening the store in {}", dir.display()))?
                .into())
        }
        Backend::Postgres => Ok(connect(config, true)?.into()),
    }
}

/// Connects to the configured PostgreSQL database; `migrate` runs pending migrations.
pub fn connect(config: &Config, migrate: bool) -> anyhow::Result<PgStore> {
    let url = config.store.database_url()?;
    let mut options = PgOptions::new(url.clone());
    options.max_connections = config.store.max_connections;
    let store = if migrate {
        PgStore::connect(&options)
    } else {
        PgStore::connect_only(&options)
    };
    store.with_context(|| format!("opening the PostgreSQL store at {}", redact_url(&url)))
}

fn random32() -> anyhow::Result<[u8; 32]> {
    let mut s = [0u8; 32];
    OsEntropy
        .fill_bytes(&mut s)
        .map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(s)
}

/// The secret behind the CSRF tokens: `<data>/csrf.key` with sled; with PostgreSQL one secret
/// in the database, created by whichever node starts first.
pub fn csrf_secret(store: &AnyStore, data: &Path) -> anyhow::Result<[u8; 32]> {
    if let AnyStore::Postgres(pg) = store {
        let stored = pg.shared_secret("csrf", &random32()?)?;
        return stored
            .try_into()
            .map_err(|_| anyhow::anyhow!("the stored CSRF secret is not 32 bytes"));
    }
    let secret_file = data.join("csrf.key");
    match std::fs::read(&secret_file) {
        Ok(b) if b.len() == 32 => {
            let mut s = [0u8; 32];
            s.copy_from_slice(&b);
            Ok(s)
        }
        _ => {
            let s = random32()?;
            std::fs::write(&secret_file, s)
                .with_context(|| format!("writing {}", secret_file.display()))?;
            Ok(s)
        }
    }
}

/// Counts wrong resume codes: in memory with sled, in the database with PostgreSQL.
pub fn resume_limiter(store: &AnyStore) -> Box<dyn AttemptLimiter + Send + Sync> {
    match store {
        AnyStore::Postgres(pg) => Box::new(PgResumeLimiter::new(
            pg.clone(),
            RESUME_FAILURES,
            RESUME_WINDOW,
        )),
        _ => Box::new(ResumeLimiter::new(RESUME_FAILURES, RESUME_WINDOW, 100_000)),
    }
}

/// A limit of wrong attempts (e.g. passwords at sign-in) under its own `namespace`: in memory
/// with sled, in the database with PostgreSQL so that all nodes count together.
pub fn attempt_limiter(
    store: &AnyStore,
    namespace: &'static str,
    max_failures: u32,
    window: Duration,
) -> Box<dyn AttemptLimiter + Send + Sync> {
    match store {
        AnyStore::Postgres(pg) => Box::new(Namespaced {
            namespace,
            inner: PgResumeLimiter::new(pg.clone(), max_failures, window),
        }),
        _ => Box::new(ResumeLimiter::new(max_failures, window, 100_000)),
    }
}

/// Keys of one limiter kept apart from the others in the shared table.
struct Namespaced<L> {
    namespace: &'static str,
    inner: L,
}

impl<L: AttemptLimiter> AttemptLimiter for Namespaced<L> {
    fn check(&self, key: &str, now: OffsetDateTime) -> Result<(), lotse_store::StoreError> {
        self.inner.check(&format!("{}:{key}", self.namespace), now)
    }
    fn record_failure(
        &self,
        key: &str,
        now: OffsetDateTime,
    ) -> Result<(), lotse_store::StoreError> {
        self.inner
            .record_failure(&format!("{}:{key}", self.namespace), now)
    }
    fn record_success(&self, key: &str) -> Result<(), lotse_store::StoreError> {
        self.inner
            .record_success(&format!("{}:{key}", self.namespace))
    }
}

/// The signing identity of a tenant. Configured files win on every backend. Without them, sled
/// keeps a development identity under `<data>/keys/<tenant>/`; PostgreSQL keeps it in the
/// database, so receipts of every node carry the same certificate.
pub fn signing_identity(
    config: &Config,
    store: &AnyStore,
    tenant: &str,
    tenant_name: &str,
    now: OffsetDateTime,
) -> anyhow::Result<SigningIdentity> {
    let configured = config.signing(tenant);
    let AnyStore::Postgres(pg) = store else {
        return crate::keys::configured_identity(
            configured,
            &config.data_dir,
            tenant,
            tenant_name,
            now,
        );
    };
    if configured.is_some() {
        return crate::keys::configured_identity(
            configured,
            &config.data_dir,
            tenant,
            tenant_name,
            now,
        );
    }
    let name = format!("signing-dev:{tenant}");
    let stored = match pg.stored_secret(&name)? {
        Some(bytes) => bytes,
        None => {
            let fresh = SigningIdentity::generate_development(tenant_name, now)
                .context("creating a development signing key")?;
            let pem = fresh.to_pem().context("encoding the development key")?;
            let both = serde_json::to_vec(&serde_json::json!({
                "key_pem": pem.key_pem,
                "certificate_pem": pem.certificate_pem,
            }))?;
            let stored = pg.shared_secret(&name, &both)?;
            if stored == both {
                eprintln!(
                    "WARNUNG: Für {tenant_name} wurde ein Entwicklungsschlüssel mit selbst signiertem Zertifikat erzeugt und in der Datenbank abgelegt. \
                     Er ist nicht für den Produktivbetrieb: Konfigurieren Sie für jede Kommune [tenants.<slug>.signing] mit Dateien, die alle Knoten lesen."
                );
            }
            stored
        }
    };
    let pem: serde_json::Value =
        serde_json::from_slice(&stored).context("the stored development key is not JSON")?;
    let field = |name: &str| {
        pem.get(name)
            .and_then(serde_json::Value::as_str)
            .with_context(|| format!("the stored development key has no {name}"))
    };
    SigningIdentity::from_pem(field("key_pem")?, field("certificate_pem")?)
        .with_context(|| format!("loading the development key of {tenant} from the database"))
}

/// Keeps a receipt durably: a file under `<data>/receipts/` with sled, a row with PostgreSQL.
pub fn save_receipt(
    store: &AnyStore,
    data: &Path,
    id: &SubmissionId,
    pdf: &[u8],
) -> anyhow::Result<()> {
    if let AnyStore::Postgres(pg) = store {
        pg.put_receipt(id, pdf)?;
        return Ok(());
    }
    let dir = data.join("receipts");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(format!("{id}.pdf"));
    let tmp = dir.join(format!("{id}.tmp"));
    std::fs::write(&tmp, pdf)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

/// The receipt of a submission, as kept by [`save_receipt`].
pub fn load_receipt(store: &AnyStore, data: &Path, id: &SubmissionId) -> anyhow::Result<Vec<u8>> {
    find_receipt(store, &data.join("receipts"), id)?
        .with_context(|| format!("no receipt stored for {id}"))
}

/// Whether a receipt of the submission is kept already (a repeated submit renders none).
pub fn has_receipt(store: &AnyStore, data: &Path, id: &SubmissionId) -> anyhow::Result<bool> {
    if let AnyStore::Postgres(pg) = store {
        return Ok(pg.receipt(id)?.is_some());
    }
    Ok(data.join("receipts").join(format!("{id}.pdf")).exists())
}

/// The receipt of a submission, `None` if none is kept: a row with PostgreSQL, the file
/// `<receipts>/<id>.pdf` with sled (for callers that know the receipts folder, such as the
/// delivery worker).
pub fn find_receipt(
    store: &AnyStore,
    receipts: &Path,
    id: &SubmissionId,
) -> anyhow::Result<Option<Vec<u8>>> {
    if let AnyStore::Postgres(pg) = store {
        return Ok(pg.receipt(id)?);
    }
    match std::fs::read(receipts.join(format!("{id}.pdf"))) {
        Ok(pdf) => Ok(Some(pdf)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}
