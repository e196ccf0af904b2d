//! Runs the application service for the async front ends: draft work where it costs least (on
//! the calling task with sled, on the blocking pool with PostgreSQL), durable work always on the
//! blocking pool. The HTML assistant and the JSON API both go through here.

use lotse_core::{Command, Lang};
use std::sync::Arc;

use crate::service::{Acted, Effect, OpenDraft, Opened, ServiceError};
use crate::state::Shared;
use crate::telemetry::bump;
use crate::tenants::Tenant;

/// Runs blocking store or file work off the async workers. A failed task (a panic) is an error
/// like any other: the citizen gets the calm error page, the log gets the cause.
pub(crate) async fn blocking<T, E>(
    work: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, String>
where
    T: Send + 'static,
    E: std::fmt::Display + Send + 'static,
{
    match crate::telemetry::spawn_blocking(work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Runs work on drafts (read, engine, save) where it costs least. On sled, draft reads and
/// saves wait for neither disk nor network (saves reach the disk with the background flush,
/// docs/store.md), so the work runs on the calling task: two thread hand-offs per request cost
/// more than the work. On PostgreSQL every call is a round trip, so it goes to the blocking
/// pool. Durable writes (submissions) always go to the blocking pool.
pub(crate) async fn draft_work<T: Send + 'static>(
    p: &Shared,
    work: impl FnOnce(&Shared) -> T + Send + 'static,
) -> Result<T, tokio::task::JoinError> {
    if !p.store.draft_calls_block() {
        return Ok(work(p));
    }
    let p2 = p.clone();
    crate::telemetry::spawn_blocking(move || work(&p2)).await
}

pub(crate) fn interrupted(e: tokio::task::JoinError) -> ServiceError {
    ServiceError::Interrupted(e.to_string())
}

/// Opens a draft of this tenant through the application service (read once).
pub(crate) async fn open_draft(
    p: &Shared,
    t: Arc<Tenant>,
    id: &str,
) -> Result<Option<Opened>, ServiceError> {
    let id = id.to_string();
    let now = p.now();
    draft_work(p, move |p| {
        timed(p, "open", || p.service(&p.defs()).open(&t, &id, now))
    })
    .await
    .map_err(interrupted)?
}

/// Runs `work` and records its time as the store call `call`.
fn timed<T>(p: &Shared, call: &'static str, work: impl FnOnce() -> T) -> T {
    let started = std::time::Instant::now();
    let out = work();
    p.metrics.store_call(call, started.elapsed().as_secs_f64());
    out
}

/// The store call an effect makes, for its latency histogram.
fn call_of(effect: &Effect) -> &'static str {
    if effect.is_durable() {
        "submit"
    } else {
        "save"
    }
}

/// Counts what a command did.
fn count(p: &Shared, acted: &Acted) {
    match acted {
        Acted::Submitted {
            repeated: false, ..
        } => bump(&p.metrics.submissions),
        Acted::Saved(_) | Acted::Incomplete { .. } => bump(&p.metrics.steps_answered),
        Acted::Rejected { .. } => bump(&p.metrics.steps_rejected),
        _ => {}
    }
}

/// Runs one command on an application that is open already: the state machine on this task,
/// a draft save where draft calls cost least, a submission on the blocking pool.
pub(crate) async fn run_command(
    p: &Shared,
    t: Arc<Tenant>,
    open: OpenDraft,
    expected_revision: u64,
    lang: Option<Lang>,
    command: Command,
    now: time::OffsetDateTime,
) -> Result<Acted, ServiceError> {
    let decided = p
        .service(&p.defs())
        .decide(open, expected_revision, lang, command, now)?;
    match decided {
        Err(acted) => Ok(acted),
        Ok(effect) => execute(p, t, effect).await,
    }
}

/// Opens the draft and runs one command (one hand-off for a step answer on PostgreSQL). A
/// repeated submit of a submitted application answers with the same submission.
pub(crate) async fn act(
    p: &Shared,
    t: Arc<Tenant>,
    id: &str,
    expected_revision: u64,
    lang: Option<Lang>,
    command: Command,
) -> Result<Option<Acted>, ServiceError> {
    let id = id.to_string();
    let now = p.now();
    let tc = t.clone();
    let decided = draft_work(
        p,
        move |p| -> Result<Option<Result<Effect, Acted>>, ServiceError> {
            let t = tc;
            let defs = p.defs();
            let service = p.service(&defs);
            let open = match timed(p, "open", || service.open(&t, &id, now))? {
                None => return Ok(None),
                Some(Opened::Submitted(sid)) => {
                    return Ok(service.already_submitted(&t, &sid, &command)?.map(Err));
                }
                Some(Opened::Paying(pid)) => {
                    return Ok(Some(Err(Acted::PaymentRequired {
                        payment: pid,
                        pay_url: None,
                    })));
                }
                Some(Opened::Open(open)) => *open,
            };
            // The files of a file field are the draft's (crate::api::files).
            let mut command = command;
            crate::service::files::known_files_only(&open, &mut command);
            match service.decide(open, expected_revision, lang, command, now)? {
                // Draft work runs on the blocking pool when draft calls block (PostgreSQL):
                // the durable work then runs here too, without a second hand-off.
                Ok(effect) if !effect.is_durable() || p.store.draft_calls_block() => {
                    let acted = timed(p, call_of(&effect), || service.execute(&t, effect))?;
                    count(p, &acted);
                    Ok(Some(Err(acted)))
                }
                other => Ok(Some(other)),
            }
        },
    )
    .await
    .map_err(interrupted)??;
    match decided {
        None => Ok(None),
        Some(Err(acted)) => Ok(Some(acted)),
        Some(Ok(effect)) => execute(p, t, effect).await.map(Some),
    }
}

/// Executes an effect of the application service where it belongs: durable ones on the
/// blocking pool, draft saves where draft calls cost least.
pub(crate) async fn execute(
    p: &Shared,
    t: Arc<Tenant>,
    effect: Effect,
) -> Result<Acted, ServiceError> {
    let durable = effect.is_durable();
    let call = call_of(&effect);
    let work = move |p: &Shared| timed(p, call, || p.service(&p.defs()).execute(&t, effect));
    let acted = if durable {
        let p2 = p.clone();
        crate::telemetry::spawn_blocking(move || work(&p2))
            .await
            .map_err(interrupted)??
    } else {
        draft_work(p, work).await.map_err(interrupted)??
    };
    count(p, &acted);
    Ok(acted)
}

/// Makes the draft write that named new files durable before the citizen sees them accepted
/// (a draft save alone may be lost in the last half second before a crash; an acknowledged
/// file must not be, docs/uploads.md).
pub(crate) async fn durable(p: &Shared) -> Result<(), String> {
    let p2 = p.clone();
    blocking(move || p2.store.flush()).await
}
