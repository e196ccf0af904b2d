//! What a node keeps across requests, through the store, so that every node of an installation
//! sees the same: the CSRF secret and development signing keys (`SecretStore`), the count of
//! attempts at resume codes and passwords (`Backend::attempt_limiter`), and receipts
//! (`BlobStore`). Where each backend keeps them is the store's business (docs/store.md).
//! Configured signing keys are files that every node reads (docs/operations.md). Also: opening
//! a data folder's sled store for the command line, which never makes up a store where none is.

use std::path::Path;

use anyhow::Context;
use lotse_receipt::SigningIdentity;
use lotse_store::{
    AnyStore, AttemptLimiter, BlobKey, BlobStore, Entropy, LimitPolicy, OsEntropy, PgOptions,
    PgStore, SecretStore, SledStore, SubmissionId, redact_url,
};
use time::{Duration, OffsetDateTime};

use crate::config::{Backend, Config};

/// Five wrong resume codes per client and 15 minutes, then a pause. A right code is not
/// counted, but forgives none of the wrong ones before it.
const RESUME_LIMIT: LimitPolicy = LimitPolicy::Window {
    max: 5,
    window: Duration::minutes(15),
};

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

/// Whether `dir` holds a sled database (its `conf` and `db` files).
fn is_sled_store(dir: &Path) -> bool {
    dir.join("conf").is_file() && dir.join("db").is_file()
}

/// Why a data folder's store cannot be opened by a command that needs one already, with what
/// to do instead.
fn no_store(data: &Path) -> anyhow::Error {
    let store = data.join("store");
    let mut text = format!(
        "{} holds no store: there is no {}. `--data` names the portal's data folder (data_dir of `lotse serve`, LOTSE_DATA_DIR), which keeps its store in store/.",
        data.display(),
        store.display()
    );
    if is_sled_store(data) {
        let parent = data.parent().unwrap_or(Path::new("."));
        text.push_str(&format!(
            " {} is a store folder itself: pass the folder above it (--data {}).",
            data.display(),
            parent.display()
        ));
    } else {
        text.push_str(&format!(
            " For a new installation, `lotse init --data {}` creates an empty store (so does the first start of `lotse serve`).",
            data.display()
        ));
    }
    anyhow::anyhow!(text)
}

/// The sled store of a data folder that must hold one already (`<data>/store`): for the
/// commands that read or change a portal's records (export, admin, render). A folder without
/// a store is an error, never a new empty store.
pub fn open_existing_sled(data: &Path) -> anyhow::Result<SledStore> {
    let dir = data.join("store");
    if !is_sled_store(&dir) {
        return Err(no_store(data));
    }
    SledStore::open(&dir).with_context(|| {
        format!(
            "opening the store in {} (is `lotse serve` running on it? stop it first)",
            dir.display()
        )
    })
}

/// The sled store of a data folder, created if the folder has none yet (`lotse init`,
/// `lotse import`). A folder that is a store itself is refused: the new store would end up
/// inside it.
pub fn open_or_create_sled(data: &Path) -> anyhow::Result<(SledStore, bool)> {
    let dir = data.join("store");
    let existed = is_sled_store(&dir);
    if !existed {
        if is_sled_store(data) {
            let parent = data.parent().unwrap_or(Path::new("."));
            anyhow::bail!(
                "{} is a store folder itself, not a data folder: pass the folder above it (--data {})",
                data.display(),
                parent.display()
            );
        }
        if dir.exists() && std::fs::read_dir(&dir).is_ok_and(|mut d| d.next().is_some()) {
            anyhow::bail!(
                "{} exists but holds no store; move it away or pass another data folder",
                dir.display()
            );
        }
        std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    }
    let store = SledStore::open(&dir).with_context(|| {
        format!(
            "opening the store in {} (is `lotse serve` running on it? stop it first)",
            dir.display()
        )
    })?;
    Ok((store, !existed))
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

/// The secret behind the CSRF tokens, created by whichever node starts first. A secret that
/// an earlier version kept in `<data>/csrf.key` is taken over, so that forms open during an
/// update stay valid.
pub fn csrf_secret(store: &AnyStore, data: &Path) -> anyhow::Result<[u8; 32]> {
    let fresh = match std::fs::read(data.join("csrf.key")) {
        Ok(b) if b.len() == 32 => b,
        _ => random32()?.to_vec(),
    };
    store
        .secret_or_insert("csrf", &fresh)?
        .try_into()
        .map_err(|_| anyhow::anyhow!("the stored CSRF secret is not 32 bytes"))
}

/// Counts resume code attempts where every node sees them (see `Backend::attempt_limiter`).
pub fn resume_limiter(store: &AnyStore) -> Box<dyn AttemptLimiter + Send + Sync> {
    store.attempt_limiter(RESUME_LIMIT)
}

/// Attempts (e.g. passwords at sign-in) limited by `policy` under their own `namespace`,
/// counted where every node sees them.
pub fn attempt_limiter(
    store: &AnyStore,
    namespace: &'static str,
    policy: LimitPolicy,
) -> Box<dyn AttemptLimiter + Send + Sync> {
    Box::new(Namespaced {
        namespace,
        inner: store.attempt_limiter(policy),
    })
}

/// Keys of one limiter kept apart from the others in the shared table.
struct Namespaced<L> {
    namespace: &'static str,
    inner: L,
}

impl<L: AttemptLimiter + ?Sized> AttemptLimiter for Namespaced<Box<L>> {
    fn reserve(&self, key: &str, now: OffsetDateTime) -> Result<(), lotse_store::StoreError> {
        self.inner
            .reserve(&format!("{}:{key}", self.namespace), now)
    }
    fn refund(&self, key: &str, now: OffsetDateTime) -> Result<(), lotse_store::StoreError> {
        self.inner.refund(&format!("{}:{key}", self.namespace), now)
    }
}

/// The signing identity of a tenant: configured files win; then `key.pem` and `cert.pem` under
/// `<data>/keys/<tenant>/` (where earlier versions kept the development key with sled, and
/// where an operator may put the office's key); else a development identity kept in the store,
/// so that the receipts of every node carry the same certificate.
pub fn signing_identity(
    config: &Config,
    store: &AnyStore,
    tenant: &str,
    tenant_name: &str,
    now: OffsetDateTime,
) -> anyhow::Result<SigningIdentity> {
    let configured = config.signing(tenant);
    let key_dir = config.data_dir.join("keys").join(tenant);
    if configured.is_some()
        || (key_dir.join("key.pem").is_file() && key_dir.join("cert.pem").is_file())
    {
        return crate::keys::configured_identity(
            configured,
            &config.data_dir,
            tenant,
            tenant_name,
            now,
        );
    }
    let name = format!("signing-dev:{tenant}");
    let stored = match store.secret(&name)? {
        Some(bytes) => bytes,
        None => {
            let fresh = SigningIdentity::generate_development(tenant_name, now)
                .context("creating a development signing key")?;
            let pem = fresh.to_pem().context("encoding the development key")?;
            let both = serde_json::to_vec(&serde_json::json!({
                "key_pem": pem.key_pem,
                "certificate_pem": pem.certificate_pem,
            }))?;
            let stored = store.secret_or_insert(&name, &both)?;
            if stored == both {
                eprintln!(
                    "WARNUNG: Für {tenant_name} wurde ein Entwicklungsschlüssel mit selbst signiertem Zertifikat erzeugt und im Datenspeicher abgelegt. \
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
        .with_context(|| format!("loading the development key of {tenant} from the store"))
}

/// Keeps a receipt durably (see `BlobStore`; the first one kept stays).
pub fn save_receipt(
    store: &AnyStore,
    _data: &Path,
    id: &SubmissionId,
    pdf: &[u8],
) -> anyhow::Result<()> {
    store.put_blob(&BlobKey::Receipt(*id), pdf)?;
    Ok(())
}

/// [`save_receipt`] and the save of the draft's `mark` at the revision it holds, in one store
/// call (one statement on PostgreSQL). Returns whether the mark was saved (not when the draft
/// moved on or is gone).
pub fn save_receipt_and_mark(
    store: &AnyStore,
    id: &SubmissionId,
    pdf: &[u8],
    mark: lotse_store::Draft,
) -> anyhow::Result<bool> {
    let revision = mark.revision;
    let (_, saved) = store.put_blob_and_save_draft(&BlobKey::Receipt(*id), pdf, mark, revision)?;
    Ok(saved)
}

/// The receipt of a submission, as kept by [`save_receipt`].
pub fn load_receipt(store: &AnyStore, data: &Path, id: &SubmissionId) -> anyhow::Result<Vec<u8>> {
    find_receipt(store, &data.join("receipts"), id)?
        .with_context(|| format!("no receipt stored for {id}"))
}

/// Whether a receipt of the submission is kept already (a repeated submit renders none).
pub fn has_receipt(store: &AnyStore, _data: &Path, id: &SubmissionId) -> anyhow::Result<bool> {
    Ok(store.has_blob(&BlobKey::Receipt(*id))?)
}

/// The receipt of a submission, `None` if none is kept. `_receipts` is unused: the store knows
/// where its receipts are (with sled `<data>/receipts/`, as before).
pub fn find_receipt(
    store: &AnyStore,
    _receipts: &Path,
    id: &SubmissionId,
) -> anyhow::Result<Option<Vec<u8>>> {
    Ok(store.blob(&BlobKey::Receipt(*id))?)
}

/// Limits against bulk booking (docs/appointments.md), counted where every node sees them:
/// holds per client and hour, bookings per e-mail address and tenant and day (the address
/// only as a hash).
pub(crate) struct VisitLimits {
    pub(crate) per_client: Box<dyn lotse_store::AttemptLimiter + Send + Sync>,
    pub(crate) per_email: Box<dyn lotse_store::AttemptLimiter + Send + Sync>,
}

/// Holds one client may make in an hour.
pub(crate) const HOLDS_PER_CLIENT: lotse_store::LimitPolicy = lotse_store::LimitPolicy::Window {
    max: 30,
    window: Duration::hours(1),
};

/// Bookings with one e-mail address at one tenant in a day (a family books for each of its
/// members).
pub(crate) const BOOKINGS_PER_EMAIL: lotse_store::LimitPolicy = lotse_store::LimitPolicy::Window {
    max: 6,
    window: Duration::days(1),
};

impl VisitLimits {
    pub(crate) fn new(store: &lotse_store::AnyStore) -> VisitLimits {
        VisitLimits {
            per_client: attempt_limiter(store, "visit-hold", HOLDS_PER_CLIENT),
            per_email: attempt_limiter(store, "visit-email", BOOKINGS_PER_EMAIL),
        }
    }

    /// The key of an e-mail address at a tenant: a hash, so the limiter's table holds no
    /// address.
    pub(crate) fn email_key(tenant: &str, email: &str) -> String {
        use sha2::{Digest, Sha256};
        let digest = Sha256::digest(format!("{tenant}\u{0}{}", email.to_lowercase()));
        digest.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    #[test]
    fn every_limit_is_one_the_store_can_keep() {
        for policy in [
            super::RESUME_LIMIT,
            crate::admin::PER_ACCOUNT,
            crate::admin::PER_CLIENT,
            crate::admin::TOTP_ONCE,
        ] {
            policy.checked().unwrap();
        }
    }
}
