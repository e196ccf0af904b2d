//! The reconciliation job of online payments: asks the tenants' platforms about payments that
//! are still open (requested, not final, or paid and not yet handed to the office) and settles
//! the answers through the application service, so that a confirmed payment is never lost when
//! the notification never comes or Lotse was down when it came (docs/payment.md).
//!
//! Uses the application service (not a front end): settling a payment is the same path
//! whether a notification, the citizen's return or this job learns of it.

use std::time::Duration;

use lotse_store::PaymentStore;

use crate::state::Shared;

/// Payments looked at per round.
const BATCH: usize = 100;

/// The running job; [`Reconciler::stop`] ends it after the round in progress.
pub struct Reconciler {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reconciler")
    }
}

impl Reconciler {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the job: a round every `every`, about payments unchanged for `after`.
pub fn start(state: Shared, every: Duration, after: Duration) -> Reconciler {
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let s = state.clone();
            match crate::telemetry::spawn_blocking(move || round(&s, after)).await {
                Ok(n) if n > 0 => tracing::info!(event = "payments_reconciled", count = n),
                Ok(_) => {}
                Err(e) => tracing::warn!(event = "payment_reconciliation_failed", cause = %e),
            }
        }
    });
    Reconciler { task, stop }
}

/// One round: every open payment unchanged for `after`, asked and settled. Returns how many
/// were asked about. Blocking.
pub fn round(state: &Shared, after: Duration) -> usize {
    let now = state.now();
    let before = now - time::Duration::try_from(after).unwrap_or(time::Duration::ZERO);
    let open = match state.store.open_payments(before, BATCH) {
        Ok(open) => open,
        Err(e) => {
            tracing::warn!(event = "payment_reconciliation_failed", cause = %e);
            return 0;
        }
    };
    let defs = state.defs();
    let service = state.service(&defs);
    let mut asked = 0;
    for p in open {
        let Some(t) = defs.portal.find(p.tenant.slug()) else {
            continue;
        };
        let id = p.id;
        asked += 1;
        if let Err(e) = service.reconcile(t, p, now) {
            tracing::warn!(event = "payment_reconciliation_failed", tenant = %t.slug, payment = %id, cause = %e);
        }
    }
    asked
}
