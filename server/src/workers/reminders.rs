//! Reminders of appointments: the day before a booked visit, its citizen gets a mail with the
//! time, the place, what to bring and the link to move or cancel it (docs/appointments.md).
//! The store notes each reminder in the transaction that enqueues its mail, so that it goes out
//! once even when several nodes run this job or Lotse restarts in between.

use std::time::Duration;

use lotse_core::Lang;
use lotse_receipt::to_berlin;
use lotse_store::{StoreError, VisitStore};

use crate::mail::Event;
use crate::mail::visit::{self, VisitMail};
use crate::state::Shared;

/// How long before a visit its reminder is due.
pub const AHEAD: time::Duration = time::Duration::hours(24);

/// The running job; [`Reminders::stop`] ends it after the round in progress.
pub struct Reminders {
    task: tokio::task::JoinHandle<()>,
    stop: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Reminders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Reminders")
    }
}

impl Reminders {
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        let _ = self.task.await;
    }
}

/// Starts the job: a round every `every` (without `[mail]` there is nothing to send, and no
/// job).
pub fn start(state: Shared, every: Duration) -> Option<Reminders> {
    state.config.mail.as_ref()?;
    let (stop, mut stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stopped.changed() => return,
            }
            let s = state.clone();
            match crate::telemetry::spawn_blocking(move || round(&s)).await {
                Ok(Ok(n)) if n > 0 => tracing::info!(event = "visit_reminders_enqueued", count = n),
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(event = "visit_reminders_failed", cause = %e),
                Err(e) => tracing::warn!(event = "visit_reminders_failed", cause = %e),
            }
        }
    });
    Some(Reminders { task, stop })
}

/// One round: every booked visit that starts within [`AHEAD`] and has no reminder yet gets
/// one. Returns how many were enqueued. Blocking.
pub fn round(state: &Shared) -> Result<usize, StoreError> {
    let now = state.now();
    let today = to_berlin(now).date();
    let until = to_berlin(now + AHEAD).date();
    let defs = state.defs();
    let mut sent = 0;
    for v in state.store.visits_between(today, until)? {
        if !v.wants_reminder(now, AHEAD) {
            continue;
        }
        let Some(t) = defs.portal.find(v.tenant.slug()) else {
            continue;
        };
        let lang = Lang::from_tag(v.lang.as_deref().unwrap_or("de"));
        let mail = visit::message(
            state.config.mail.as_ref(),
            &VisitMail {
                event: Event::VisitReminder,
                schedule: defs.schedules.get(&t.slug).map(|s| &**s),
                tenant: t,
                visit: &v,
                name: v.name.as_deref().unwrap_or_default(),
                email: v.email.as_deref().unwrap_or_default(),
                lang,
                now,
            },
        );
        match state
            .store
            .remind_visit(&v.id, mail.into_iter().collect(), now)
        {
            Ok(_) => sent += 1,
            // Noted by another node meanwhile, or cancelled: nothing to send.
            Err(StoreError::VisitGone(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(sent)
}
