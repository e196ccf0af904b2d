//! Housekeeping while `lotse serve` runs: once at start and then every `interval_minutes`
//! (`[maintenance]`, docs/configuration.md) it
//! - deletes drafts past their expiry (citizens no longer see them anyway),
//! - on sled, moves drafts not edited for an hour out of the small tree of recent drafts, so
//!   the drafts being worked on stay fast however many are stored (docs/store.md),
//! - deletes expired Postkorb sign-ins, and expired citizen sessions, sign-ins in progress and
//!   replay-cache entries (docs/login.md),
//! - purges the closed submissions of every tenant with `retention_days`, older than that,
//!   with their status history, messages and receipts (each purge is in the audit log),
//! - deletes uploaded files (attachments) that no draft and no submission names any more and
//!   that were stored longer than `attachment_grace_minutes` ago (docs/uploads.md): a file
//!   goes at the first run after its draft expired or its submission was purged, and a file
//!   two drafts share stays while one of them names it.
//! - deletes the links of Mein Konto whose draft and submission are both gone (docs/login.md).
//!
//! Each run writes one log line with counts only. On PostgreSQL every node runs it; the
//! deletes are idempotent, so running twice costs a query and changes nothing.

use std::sync::Arc;

use lotse_core::Clock;
use lotse_store::{
    AccountStore, AnyStore, AttachmentStore, DraftStore, LoginStore, StoreError, SubmissionStore,
    TenantId,
};

/// What the housekeeping does, from the configuration.
#[derive(Clone, Debug)]
pub struct Settings {
    pub interval: std::time::Duration,
    /// Tenants whose closed submissions are purged, with the days they are kept after closing.
    pub retention: Vec<(TenantId, u32)>,
    /// How long an attachment nothing references is kept (an upload before its draft's save).
    pub attachment_grace: time::Duration,
}

/// The counts of one run.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub drafts_expired: u64,
    pub drafts_archived: u64,
    /// Staff sessions and citizen sign-in records.
    pub sessions_expired: u64,
    /// Per tenant slug: submissions purged.
    pub purged: Vec<(String, u64)>,
    pub receipts_removed: u64,
    /// Attachments nothing referenced any more, and their bytes.
    pub attachments_removed: u64,
    pub attachment_bytes_removed: u64,
    /// Mein Konto links whose draft and submission are both gone.
    pub citizen_links_removed: u64,
}

/// One run of the housekeeping. Blocking: call it from a blocking thread.
pub fn run_once(
    store: &AnyStore,
    settings: &Settings,
    now: time::OffsetDateTime,
) -> Result<Report, StoreError> {
    let mut report = Report {
        drafts_expired: store.sweep_expired(now)?,
        drafts_archived: store.archive_idle_drafts(now - time::Duration::hours(1))?,
        sessions_expired: store.sweep_sessions(now)? + store.sweep_login(now)?,
        ..Report::default()
    };
    for (tenant, days) in &settings.retention {
        let n = store.purge_closed(tenant, time::Duration::days(i64::from(*days)), now)?;
        report.purged.push((tenant.slug().to_string(), n));
    }
    if report.purged.iter().any(|(_, n)| *n > 0) {
        report.receipts_removed = store.remove_orphan_blobs()?;
    }
    // After the drafts and submissions above are gone, so their files go in the same run.
    let swept = store.sweep_attachments(now - settings.attachment_grace)?;
    report.attachments_removed = swept.removed;
    report.attachment_bytes_removed = swept.bytes;
    // Mein Konto's links to applications that are gone (docs/login.md).
    report.citizen_links_removed = store.sweep_citizen_links()?;
    Ok(report)
}

/// Runs the housekeeping now and then every `settings.interval`, until the process ends.
/// Returns the task: `lotse serve` aborts it on shutdown, so that the store it holds is let go
/// and the store can close with a fresh snapshot.
pub fn start(
    store: AnyStore,
    settings: Settings,
    clock: Arc<dyn Clock>,
) -> tokio::task::JoinHandle<()> {
    let settings = Arc::new(settings);
    tokio::spawn(async move {
        loop {
            let (store2, settings2) = (store.clone(), settings.clone());
            let now = clock.now();
            let ran = crate::telemetry::spawn_blocking(move || run_once(&store2, &settings2, now))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| e.to_string()));
            match ran {
                Ok(r) => {
                    let purged: Vec<String> = r
                        .purged
                        .iter()
                        .map(|(slug, n)| format!("{slug}:{n}"))
                        .collect();
                    tracing::info!(event = "maintenance", drafts_expired = r.drafts_expired,
                        drafts_archived = r.drafts_archived,
                        sessions_expired = r.sessions_expired,
                        purged = %purged.join(","),
                        receipts_removed = r.receipts_removed,
                        attachments_removed = r.attachments_removed,
                        attachment_bytes_removed = r.attachment_bytes_removed,
                        citizen_links_removed = r.citizen_links_removed);
                }
                Err(e) => tracing::error!(event = "maintenance_failed", error = %e),
            }
            tokio::time::sleep(settings.interval).await;
        }
    })
}
