//! The application service: the one path through a citizen's application, used by every front
//! end (the HTML assistant, the JSON API, `lotse demo`). It opens a draft (read once), runs the
//! engine's pure state machine, and executes what must happen outside it (save the draft, store
//! the submission, issue the receipt, queue the delivery) in one place.
//!
//! Knows the store traits, the engine and the receipt crate; no HTTP, no HTML, no async runtime:
//! front ends decide where a call runs (on sled a draft call is cheap and runs inline, durable
//! work goes to a blocking pool) and turn the typed outcomes into pages or problem documents.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use lotse_core::application::{ApplyError, PendingAttempt, receipt_model};
use lotse_core::form::FieldError;
use lotse_core::script::Sandbox;
use lotse_core::{Application, Command, Lang, Library, Outcome, Workflow};
use lotse_receipt::{SigningIdentity, TemplateRegistry, render_receipt};
use lotse_store::{
    AnyStore, Draft, DraftId, DraftStore, IdempotencyKey, NewOutboxMessage, NewSubmission,
    OsEntropy, PaymentId, PaymentStore, StoreError, Submission, SubmissionId, SubmissionStore,
    TenantId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::tenants::Tenant;

pub(crate) mod files;
mod payment;
pub(crate) mod reads;

pub use payment::{PayOutcome, PaymentView};

/// How long a submitted draft's mark stays (for retries, the back button, a second tab).
const MARK_TTL: time::Duration = time::Duration::days(7);

/// What a draft holds: an application in progress, or the mark of the submission it became.
#[derive(Clone, Debug)]
pub enum DraftState {
    Open(Box<Application>),
    Submitted(SubmissionId),
    /// Sent with "Absenden und bezahlen": the application waits in its payment.
    Paying(PaymentId),
}

/// The stored form of [`DraftState::Submitted`]: only the submission it became, no answers.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmittedMark {
    submitted: SubmissionId,
}

/// The stored form of [`DraftState::Paying`].
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PayingMark {
    paying: PaymentId,
}

impl DraftState {
    /// Reads a stored draft state. An open application is stored as itself (the format drafts
    /// have always had), a submitted one as `{"submitted": id}`. Takes the value, so that its
    /// strings move into the application rather than being copied.
    pub fn from_value(v: Value) -> Result<DraftState, ServiceError> {
        if v.as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("submitted"))
        {
            let mark = SubmittedMark::deserialize(v).map_err(ServiceError::Decode)?;
            return Ok(DraftState::Submitted(mark.submitted));
        }
        if v.as_object()
            .is_some_and(|o| o.len() == 1 && o.contains_key("paying"))
        {
            let mark = PayingMark::deserialize(v).map_err(ServiceError::Decode)?;
            return Ok(DraftState::Paying(mark.paying));
        }
        Application::deserialize(v)
            .map(|a| DraftState::Open(Box::new(a)))
            .map_err(ServiceError::Decode)
    }

    /// The stored form; a state that cannot be written is an error, never a `null`.
    pub fn to_value(&self) -> Result<Value, ServiceError> {
        match self {
            DraftState::Open(app) => serde_json::to_value(app),
            DraftState::Submitted(id) => serde_json::to_value(SubmittedMark { submitted: *id }),
            DraftState::Paying(id) => serde_json::to_value(PayingMark { paying: *id }),
        }
        .map_err(ServiceError::Encode)
    }
}

/// Why the service could not do what was asked. Front ends map each to a page or a problem;
/// the message carries a code and never personal data.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("LOT-A007: the application state could not be written: {0}")]
    Encode(serde_json::Error),
    #[error("LOT-A008: a stored application state could not be read: {0}")]
    Decode(serde_json::Error),
    #[error("LOT-R012: no signing key for tenant {0}")]
    NoSigningKey(String),
    #[error("LOT-R013: the receipt could not be issued or kept: {0}")]
    Receipt(String),
    /// A payment could not be started, read or settled (docs/payment.md).
    #[error(transparent)]
    Payment(#[from] payment::PaymentError),
    /// The work was cut short (a panicked or cancelled task of the front end that ran it).
    #[error("LOT-A009: the work on the application was interrupted: {0}")]
    Interrupted(String),
}

impl ServiceError {
    /// A payment notification not signed with the tenant's secret.
    pub fn is_bad_signature(&self) -> bool {
        matches!(
            self,
            ServiceError::Payment(payment::PaymentError::Platform(
                crate::payment::PlatformError::BadSignature
            ))
        )
    }

    /// A command the state machine refuses for this application as it stands (a step that is
    /// not on its route or not reached yet, answers for fields the step does not have): the
    /// sender's mistake, answered as such (409 in the API, the current step again in the
    /// portal), not a failure of the service. A failed script or a draft of another workflow
    /// is a failure.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            ServiceError::Apply(e)
                if !matches!(e, ApplyError::Script { .. } | ApplyError::WrongWorkflow { .. })
        )
    }
}

/// An open application of one tenant: the draft as read (its `state` taken out: that is `app`,
/// written back when the draft is saved), the application and the workflow version it
/// runs on (the tenant's, with the rules the draft started with).
#[derive(Clone, Debug)]
pub struct OpenDraft {
    pub draft: Draft,
    pub app: Application,
    pub wf: Arc<Workflow>,
}

/// A draft as found.
#[derive(Debug)]
pub enum Opened {
    Open(Box<OpenDraft>),
    /// Submitted already: the draft only points at its submission.
    Submitted(SubmissionId),
    /// Sent and waiting for its payment (`payment:`): the draft points at the payment.
    Paying(PaymentId),
}

/// What one command did.
#[derive(Debug)]
pub enum Acted {
    /// The citizen moved on; the draft is saved.
    Saved(Box<OpenDraft>),
    /// The answers were not accepted; what was typed is saved in the draft (`pending`).
    Rejected {
        open: Box<OpenDraft>,
        step: String,
        errors: Vec<FieldError>,
    },
    /// Review or submit before every step is answered; the draft is saved at `missing`.
    Incomplete {
        open: Box<OpenDraft>,
        missing: String,
    },
    /// The application was submitted now (`repeated`: it had been before, this is the same
    /// submission again).
    Submitted {
        submission: Box<Submission>,
        repeated: bool,
    },
    /// The draft changed since the client read it (another tab, a retry): nothing was done.
    Stale { current: u64 },
    /// The application was submitted before; only a repeated submit is answered with it.
    AlreadySubmitted { submission: SubmissionId },
    /// The application is kept as "payment pending" and reaches the office once paid: the
    /// citizen goes to `pay_url` (the platform's pay page), or, without one (the platform
    /// was not reachable, or the payment is under way already), to the payment's own page.
    PaymentRequired {
        payment: PaymentId,
        pay_url: Option<String>,
    },
}

/// What must happen outside the state machine after a command: the state machine decides,
/// [`ApplicationService::execute`] does. New effects (a payment, an e-mail) join here.
#[derive(Debug)]
pub enum Effect {
    /// Save the draft with its new state (cheap; not durable before the answer, docs/store.md).
    SaveDraft {
        open: Box<OpenDraft>,
        expected_revision: u64,
        then: SavedAs,
    },
    /// Store the submission durably with its deliveries, issue and keep its receipt, and mark
    /// the draft as submitted.
    Submit {
        open: Box<OpenDraft>,
        submission: Box<lotse_core::Submission>,
        now: OffsetDateTime,
    },
    /// Keep the application durably as "payment pending" (not delivered), mark the draft, and
    /// ask the tenant's platform for a payment request (`payment:` with an amount to pay).
    RequestPayment {
        open: Box<OpenDraft>,
        submission: Box<lotse_core::Submission>,
        amount_cents: i64,
        now: OffsetDateTime,
    },
}

/// How a saved draft is reported.
#[derive(Debug)]
pub enum SavedAs {
    Moved,
    Rejected {
        step: String,
        errors: Vec<FieldError>,
    },
    Incomplete {
        missing: String,
    },
}

impl Effect {
    /// Whether executing this effect waits for the disk (a front end runs it on a blocking
    /// pool) rather than only touching the store's memory.
    pub fn is_durable(&self) -> bool {
        matches!(self, Effect::Submit { .. } | Effect::RequestPayment { .. })
    }
}

/// Where receipts are signed and deliveries go: one tenant's signing key, the offices' webhooks.
pub trait Offices {
    /// The signing key of a tenant's receipts.
    fn signing_identity(&self, tenant: &str) -> Option<Arc<SigningIdentity>>;
    /// The deliveries to queue with a new submission of `workflow` at `tenant`.
    fn notifications(
        &self,
        tenant: &str,
        workflow: &str,
        submission: &SubmissionId,
    ) -> Vec<NewOutboxMessage>;
    /// The confirmation mail to the citizen to queue with a new submission, if any.
    fn confirmation(
        &self,
        _t: &Tenant,
        _wf: &Workflow,
        _submission: &lotse_core::Submission,
        _id: &SubmissionId,
    ) -> Option<NewOutboxMessage> {
        None
    }
    /// The tenant's payment platform, if it has one.
    fn payment_platform(&self, _tenant: &str) -> Option<Arc<dyn crate::payment::PaymentProvider>> {
        None
    }
    /// The portal's address as the citizen's browser and the platform reach it
    /// (`http://127.0.0.1:8080`): the base of return and notification URLs.
    fn public_url(&self) -> String {
        String::new()
    }
}

/// Signing keys by tenant and no webhooks (the demo; tests).
impl Offices for HashMap<String, Arc<SigningIdentity>> {
    fn signing_identity(&self, tenant: &str) -> Option<Arc<SigningIdentity>> {
        self.get(tenant).cloned()
    }
    fn notifications(&self, _: &str, _: &str, _: &SubmissionId) -> Vec<NewOutboxMessage> {
        Vec::new()
    }
}

/// The application service over one store, one set of definitions and one set of keys. Cheap
/// to build per request: it only borrows.
pub struct ApplicationService<'a> {
    pub store: &'a AnyStore,
    pub sandbox: &'a Sandbox,
    pub library: &'a Library,
    pub receipts: &'a TemplateRegistry,
    pub offices: &'a dyn Offices,
    /// The data folder (receipts beside a sled store).
    pub data: &'a Path,
}

impl ApplicationService<'_> {
    /// Starts an application of `wf` for tenant `t` and stores its draft, which expires after
    /// the workflow's (or the tenant override's) draft expiry.
    pub fn start(
        &self,
        t: &Tenant,
        wf: &Arc<Workflow>,
        lang: Lang,
        now: OffsetDateTime,
    ) -> Result<OpenDraft, ServiceError> {
        self.start_as(t, wf, lang, now, None)
    }

    /// [`ApplicationService::start`] for a signed-in citizen: the workflow's `prefill:` answers come from
    /// the citizen's identity (docs/login.md).
    pub fn start_as(
        &self,
        t: &Tenant,
        wf: &Arc<Workflow>,
        lang: Lang,
        now: OffsetDateTime,
        citizen: Option<&lotse_store::CitizenSession>,
    ) -> Result<OpenDraft, ServiceError> {
        if wf.login == lotse_core::login::LoginMode::Required && citizen.is_none() {
            // Only a signed-in citizen starts it, through the portal's pages (the JSON API has
            // no citizen sign-in): for everyone else the service is not offered.
            return Err(StoreError::NotFound {
                what: "service",
                key: wf.id.clone(),
            }
            .into());
        }
        let mut app = Application::start(wf, lang, now);
        if let Some(c) = citizen {
            crate::identity::prefill::apply(wf, c, &mut app);
        }
        let state = serde_json::to_value(&app).map_err(ServiceError::Encode)?;
        let draft = Draft::new(
            &mut OsEntropy,
            TenantId::new(&t.slug, &t.prefix)?,
            &wf.id,
            wf.version.to_string(),
            state,
            now,
            draft_ttl(wf),
        )?;
        self.store.create_draft(&draft)?;
        if let Some(c) = citizen {
            crate::identity::link_to_account(
                self.store,
                c,
                &t.slug,
                &draft.id.to_string(),
                &wf.id,
                now,
            )?;
        }
        Ok(OpenDraft {
            draft,
            app,
            wf: wf.clone(),
        })
    }

    /// Opens a draft of tenant `t` (read once). Another tenant's, an expired or a malformed
    /// id is `None`. A draft whose submission is stored is submitted, even when its mark was
    /// lost in a crash: the submission's idempotency key is derived from the draft.
    pub fn open(
        &self,
        t: &Tenant,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Opened>, ServiceError> {
        let Ok(id) = id.parse::<DraftId>() else {
            return Ok(None);
        };
        // Where every call is a round trip (PostgreSQL), the submission of the draft's submit
        // key comes with the draft in one query; otherwise it is asked for below, and only
        // when it can matter.
        let (mut draft, submitted) = if self.store.draft_calls_block() {
            match self.store.draft_with_submission(&id)? {
                Some((draft, submitted)) => (draft, Some(submitted)),
                None => return Ok(None),
            }
        } else {
            match self.store.draft(&id)? {
                Some(draft) => (draft, None),
                None => return Ok(None),
            }
        };
        if draft.tenant.slug() != t.slug || draft.expires <= now {
            return Ok(None);
        }
        // The state moves into the application: `OpenDraft::draft` has none until it is saved.
        let app = match DraftState::from_value(std::mem::take(&mut draft.state))? {
            DraftState::Submitted(sid) => return Ok(Some(Opened::Submitted(sid))),
            DraftState::Paying(pid) => return Ok(Some(self.paying_or_submitted(&draft, pid)?)),
            DraftState::Open(app) => *app,
        };
        let Ok(version) = draft.workflow_version.parse::<u32>() else {
            return Ok(None);
        };
        // The tenant's own workflow, with the rules the draft started with (its content hash,
        // override included, is checked on every step).
        let Some(wf) = self
            .library
            .for_tenant_resuming(&t.slug, &draft.workflow_id, version, &app.content_hash)
            .cloned()
        else {
            return Ok(None);
        };
        // Only an application with every step answered can have been submitted.
        let complete = app.answered.len() >= app.route.len();
        if complete {
            let submitted = match submitted {
                Some(found) => found,
                None => self
                    .store
                    .submission_by_idempotency_key(&draft.tenant, &submit_key(&draft))?
                    .map(|s| s.id),
            };
            if let Some(sid) = submitted {
                return Ok(Some(Opened::Submitted(sid)));
            }
        }
        // Likewise a payment whose draft mark was lost.
        if complete
            && wf.payment.is_some()
            && let Some(p) = self
                .store
                .payment_by_key(&draft.tenant, &submit_key(&draft))?
        {
            return Ok(Some(Opened::Paying(p.id)));
        }
        Ok(Some(Opened::Open(Box::new(OpenDraft { draft, app, wf }))))
    }

    /// Runs `command` on an open application at `expected_revision` (in `lang`, when the
    /// citizen switched language) and says what must happen: the state machine's result as an
    /// [`Effect`], or `Err(Acted::Stale)` when the draft moved on. Does no I/O.
    pub fn decide(
        &self,
        open: OpenDraft,
        expected_revision: u64,
        lang: Option<Lang>,
        command: Command,
        now: OffsetDateTime,
    ) -> Result<Result<Effect, Acted>, ServiceError> {
        if open.draft.revision != expected_revision {
            return Ok(Err(Acted::Stale {
                current: open.draft.revision,
            }));
        }
        let mut app = open.app;
        if let Some(l) = lang {
            app.lang = l;
        }
        let transition = app.apply(&open.wf, self.sandbox, command, now)?;
        // The new state moves on with the draft as read: no copy of either.
        let next = Box::new(OpenDraft {
            draft: open.draft,
            app: transition.state,
            wf: open.wf,
        });
        let save = |open, then| Effect::SaveDraft {
            open,
            expected_revision,
            then,
        };
        Ok(Ok(match transition.outcome {
            Outcome::Moved { .. } => save(next, SavedAs::Moved),
            Outcome::Rejected { step, errors } => save(next, SavedAs::Rejected { step, errors }),
            Outcome::Incomplete { missing } => save(next, SavedAs::Incomplete { missing }),
            Outcome::Submitted { submission } => {
                match payment::amount_due(&next.wf, &submission)? {
                    Some(amount_cents) => Effect::RequestPayment {
                        open: next,
                        submission,
                        amount_cents,
                        now,
                    },
                    None => Effect::Submit {
                        open: next,
                        submission,
                        now,
                    },
                }
            }
        }))
    }

    /// Executes an effect: the one place that writes what the state machine decided.
    pub fn execute(&self, t: &Tenant, effect: Effect) -> Result<Acted, ServiceError> {
        match effect {
            Effect::SaveDraft {
                open,
                expected_revision,
                then,
            } => {
                // The draft as read becomes the one to save: its old state is replaced.
                let OpenDraft { mut draft, app, wf } = *open;
                draft.state = serde_json::to_value(&app).map_err(ServiceError::Encode)?;
                draft.touch(app.updated_at, draft_ttl(&wf));
                let draft = match self.store.save_draft(draft, expected_revision) {
                    Ok(saved) => saved,
                    Err(StoreError::Conflict { current, .. }) => {
                        return Ok(Acted::Stale {
                            current: current.revision,
                        });
                    }
                    Err(e) => return Err(e.into()),
                };
                let open = Box::new(OpenDraft { draft, app, wf });
                Ok(match then {
                    SavedAs::Moved => Acted::Saved(open),
                    SavedAs::Rejected { step, errors } => Acted::Rejected { open, step, errors },
                    SavedAs::Incomplete { missing } => Acted::Incomplete { open, missing },
                })
            }
            Effect::Submit {
                open,
                mut submission,
                now,
            } => {
                record_mandate(t, &open.wf, &mut submission, now);
                let stored = self.submit(t, &open, &submission, now)?;
                Ok(Acted::Submitted {
                    submission: Box::new(stored),
                    repeated: false,
                })
            }
            Effect::RequestPayment {
                open,
                mut submission,
                amount_cents,
                now,
            } => {
                record_mandate(t, &open.wf, &mut submission, now);
                self.request_payment(t, &open, *submission, amount_cents, now)
            }
        }
    }

    /// Opens the draft and runs one command to its end (decide, then execute): for callers
    /// that run everything in one place (the demo, tests). A repeated submit of a submitted
    /// application answers with the same submission.
    pub fn act(
        &self,
        t: &Tenant,
        id: &str,
        expected_revision: u64,
        lang: Option<Lang>,
        command: Command,
        now: OffsetDateTime,
    ) -> Result<Option<Acted>, ServiceError> {
        let open = match self.open(t, id, now)? {
            None => return Ok(None),
            Some(Opened::Submitted(sid)) => return self.already_submitted(t, &sid, &command),
            Some(Opened::Paying(pid)) => return Ok(Some(self.already_paying(t, &pid)?)),
            Some(Opened::Open(open)) => *open,
        };
        match self.decide(open, expected_revision, lang, command, now)? {
            Ok(effect) => self.execute(t, effect).map(Some),
            Err(acted) => Ok(Some(acted)),
        }
    }

    /// The answer to a command on an application that was submitted already: the same
    /// submission for a repeated submit, [`Acted::AlreadySubmitted`] for anything else.
    /// A repeated submit also issues the receipt if the first one stopped before it.
    pub fn already_submitted(
        &self,
        t: &Tenant,
        sid: &SubmissionId,
        command: &Command,
    ) -> Result<Option<Acted>, ServiceError> {
        if matches!(command, Command::Submit { .. })
            && let Some(s) = self.store.submission(sid)?
        {
            self.issue_receipt_once(t, &s)?;
            return Ok(Some(Acted::Submitted {
                submission: Box::new(s),
                repeated: true,
            }));
        }
        Ok(Some(Acted::AlreadySubmitted { submission: *sid }))
    }

    /// Stores a submitted application durably, renders and signs its receipt, and marks the
    /// draft as submitted. Safe to repeat: the same draft at the same revision always yields
    /// the same submission (and the receipt is written once). The mark itself may be lost in
    /// a crash; [`ApplicationService::open`] then finds the submission by its key.
    fn submit(
        &self,
        t: &Tenant,
        open: &OpenDraft,
        submission: &lotse_core::Submission,
        now: OffsetDateTime,
    ) -> Result<Submission, ServiceError> {
        let (draft, wf) = (&open.draft, &open.wf);
        let (stored, marked) =
            self.store_submission(t, wf, draft, submit_key(draft), submission, now, true)?;
        if !marked {
            self.mark_draft(draft.clone(), DraftState::Submitted(stored.id), now)?;
        }
        Ok(stored)
    }

    /// Stores a submission durably with its deliveries under `key`, and issues its receipt
    /// once. The same key always yields the same submission. With `mark`, the draft's mark
    /// (submitted) is saved with the receipt in one store call when a receipt is issued now;
    /// the flag returned says whether it was (otherwise the caller marks the draft itself).
    #[allow(clippy::too_many_arguments)]
    fn store_submission(
        &self,
        t: &Tenant,
        wf: &Workflow,
        draft: &Draft,
        key: IdempotencyKey,
        submission: &lotse_core::Submission,
        now: OffsetDateTime,
        mark: bool,
    ) -> Result<(Submission, bool), ServiceError> {
        let id = SubmissionId::generate(&mut OsEntropy)?;
        let stored = self.store.submit(
            NewSubmission {
                id,
                tenant: draft.tenant.clone(),
                idempotency_key: key,
                draft_id: Some(draft.id),
                workflow_id: wf.id.clone(),
                workflow_version: wf.version.to_string(),
                data: serde_json::to_value(submission).map_err(ServiceError::Encode)?,
                applicant: wf.applicant(&submission.answers),
                search_text: lotse_core::definition::answers_text(&submission.answers),
                notifications: self
                    .offices
                    .notifications(&t.slug, &wf.id, &id)
                    .into_iter()
                    .chain(self.offices.confirmation(t, wf, submission, &id))
                    .collect(),
            },
            now,
        )?;
        // Mein Konto keeps the submission with the citizen's link, so it stays listed after
        // the draft's mark expires (a repeat writes the same). Before the receipt and the
        // mark: a repeat after a crash finds the draft marked and links nothing.
        // The submission is stored already: a failure here is logged, not the citizen's.
        if let Some(who) = &submission.signed_in
            && let Err(e) = self.store.set_citizen_submission(
                &lotse_store::SecretHash::of(&who.subject),
                &draft.id.to_string(),
                &stored.id.to_string(),
            )
        {
            tracing::warn!(event = "citizen_link_update_failed", cause = %e);
        }
        // A submission stored by this call (its id is the one made here) has no receipt yet:
        // only a repeat asks the store whether one is kept.
        let repeat = stored.id != id;
        let mark = if mark {
            Some(marked(
                draft.clone(),
                DraftState::Submitted(stored.id),
                now,
            )?)
        } else {
            None
        };
        let marked = self.receipt_once(t, wf, submission, &stored, repeat, mark)?;
        Ok((stored, marked))
    }

    /// Replaces a draft's state by a mark (submitted, paying) at the revision it was read
    /// with. A concurrent repeat that got there first is fine: it wrote the same mark or a
    /// later one.
    fn mark_draft(
        &self,
        mark: Draft,
        state: DraftState,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        let revision = mark.revision;
        match self.store.save_draft(marked(mark, state, now)?, revision) {
            Ok(_) | Err(StoreError::Conflict { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// The reference and the signed receipt of a submission of tenant `slug`; `None` for
    /// another tenant's or an unknown submission.
    pub fn receipt_of(
        &self,
        slug: &str,
        sid: &SubmissionId,
    ) -> Result<Option<(String, Vec<u8>)>, ServiceError> {
        let Some(s) = self
            .store
            .submission(sid)?
            .filter(|s| s.tenant.slug() == slug)
        else {
            return Ok(None);
        };
        let pdf = crate::nodes::load_receipt(self.store, self.data, sid)
            .map_err(|e| ServiceError::Receipt(format!("{e:#}")))?;
        Ok(Some((s.reference.to_string(), pdf)))
    }

    /// Issues and keeps the receipt of a stored submission unless it is kept already (asked
    /// only when `may_have_one`; a second put keeps the first receipt anyway). A draft `mark`
    /// (made by [`marked`] at the revision it was read with) is saved with a receipt issued
    /// now, in one store call; returns whether it was (saved, or found moved on by a concurrent
    /// repeat, which is fine as in `mark_draft`).
    fn receipt_once(
        &self,
        t: &Tenant,
        wf: &Workflow,
        submission: &lotse_core::Submission,
        stored: &Submission,
        may_have_one: bool,
        mark: Option<Draft>,
    ) -> Result<bool, ServiceError> {
        if may_have_one
            && crate::nodes::has_receipt(self.store, self.data, &stored.id)
                .map_err(|e| ServiceError::Receipt(format!("{e:#}")))?
        {
            return Ok(false);
        }
        let mut model = receipt_model(
            wf,
            submission,
            crate::tenants::receipt_info(t, wf.office.get(submission.lang)),
            &stored.reference.to_string(),
            stored.submitted,
        );
        let reference = stored.reference.to_string();
        let answer = |id: &str| submission.answers.get(id).cloned();
        let mandate = match &submission.sepa_mandate {
            Some(given) => Some(crate::mandate::of_given(given, &reference)),
            None => crate::mandate::of(wf, &answer, t, Some(&reference), submission.lang),
        };
        if let Some(m) = mandate {
            model
                .sections
                .push(crate::mandate::receipt_section(&m, submission.lang));
        }
        if let Some(paid) = &submission.payment {
            model
                .sections
                .push(payment::receipt_section(paid, submission.lang));
        }
        let identity = self
            .offices
            .signing_identity(&t.slug)
            .ok_or_else(|| ServiceError::NoSigningKey(t.slug.to_string()))?;
        let pdf = render_receipt(&model, self.receipts, &identity)
            .map_err(|e| ServiceError::Receipt(e.to_string()))?;
        let saved = match mark {
            // A mark that could not be saved (the draft moved on: a concurrent repeat marked
            // it) is fine, as in `mark_draft`.
            Some(mark) => crate::nodes::save_receipt_and_mark(self.store, &stored.id, &pdf, mark)
                .map(|_| true),
            None => {
                crate::nodes::save_receipt(self.store, self.data, &stored.id, &pdf).map(|_| false)
            }
        };
        saved.map_err(|e| ServiceError::Receipt(format!("{e:#}")))
    }

    /// [`Self::receipt_once`] for a submission read back from the store (a repeated submit
    /// after a crash or a failed receipt): its data and workflow version are looked up.
    fn issue_receipt_once(&self, t: &Tenant, stored: &Submission) -> Result<(), ServiceError> {
        let has = crate::nodes::has_receipt(self.store, self.data, &stored.id)
            .map_err(|e| ServiceError::Receipt(format!("{e:#}")))?;
        if has {
            return Ok(());
        }
        let submission =
            lotse_core::Submission::deserialize(&stored.data).map_err(ServiceError::Decode)?;
        let wf = self
            .library
            .for_tenant_resuming(
                &t.slug,
                &submission.workflow_id,
                submission.workflow_version,
                &submission.content_hash,
            )
            .ok_or_else(|| {
                ServiceError::Receipt(format!(
                    "workflow {}@{} is no longer loaded",
                    submission.workflow_id, submission.workflow_version
                ))
            })?;
        // Asked just above.
        self.receipt_once(t, wf, &submission, stored, false, None)
            .map(|_| ())
    }

    /// The answers typed on the current step that were not accepted, with their errors as the
    /// step reports them now: what a page or the API shows again after a reload.
    pub fn pending(
        &self,
        open: &OpenDraft,
        now: OffsetDateTime,
    ) -> Result<Option<PendingAttempt>, ServiceError> {
        Ok(open.app.pending_attempt(&open.wf, self.sandbox, now)?)
    }
}

/// Records the SEPA direct debit mandate the answers give (`sepa_mandate:`) in the submission:
/// its text as shown on the review before sending, the tenant as creditor with its creditor id,
/// the account.
fn record_mandate(
    t: &Tenant,
    wf: &Workflow,
    submission: &mut lotse_core::Submission,
    now: OffsetDateTime,
) {
    if wf.sepa_mandate.is_none() {
        return;
    }
    let lang = submission.lang;
    // Exactly the mandate the review page showed: only with its account among the answers
    // reviewed.
    let review = lotse_core::application::ReviewView::build(
        wf,
        &submission.path,
        &submission.answers,
        &submission.computed,
        lang,
    );
    let given = crate::mandate::at_review(wf, &review, &submission.answers, t, lang)
        .map(|m| crate::mandate::given(&m, lang, now));
    submission.sepa_mandate = given;
}

/// The draft as read, with its state replaced by a mark (submitted, paying) that stays for
/// [`MARK_TTL`]; saved at the revision it was read with.
fn marked(mut mark: Draft, state: DraftState, now: OffsetDateTime) -> Result<Draft, ServiceError> {
    mark.state = state.to_value()?;
    mark.touch(now, MARK_TTL);
    Ok(mark)
}

/// The idempotency key of a draft's submit: the draft at the revision it was submitted from.
fn submit_key(draft: &Draft) -> IdempotencyKey {
    IdempotencyKey::for_draft(&draft.id, draft.revision)
}

/// How long a draft is kept after its last change: the workflow's setting, which a tenant's
/// override may change.
pub fn draft_ttl(wf: &Workflow) -> time::Duration {
    time::Duration::days(i64::from(wf.draft_expiry_days))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn a_submitted_mark_and_an_open_state_round_trip() {
        let sid: SubmissionId = SubmissionId::generate(&mut OsEntropy).unwrap();
        let v = DraftState::Submitted(sid).to_value().unwrap();
        assert_eq!(v, serde_json::json!({"submitted": sid.to_string()}));
        assert!(
            matches!(DraftState::from_value(v.clone()).unwrap(), DraftState::Submitted(s) if s == sid)
        );
    }

    #[test]
    fn a_state_that_is_neither_is_an_error_not_an_empty_application() {
        for bad in [
            Value::Null,
            serde_json::json!({}),
            serde_json::json!({"submitted": "nicht-eine-id"}),
            serde_json::json!({"workflow_id": "x"}),
        ] {
            let e = DraftState::from_value(bad.clone()).unwrap_err();
            assert!(e.to_string().starts_with("LOT-A008"), "{bad}: {e}");
        }
    }

    #[test]
    fn a_state_that_cannot_be_written_is_an_error_not_null() {
        // A map with non-string keys cannot be JSON: the error must surface, not a `null`.
        let mut m = std::collections::BTreeMap::new();
        m.insert(vec![1u8], 1);
        let e = serde_json::to_value(&m)
            .map_err(ServiceError::Encode)
            .unwrap_err();
        assert!(e.to_string().starts_with("LOT-A007"), "{e}");
    }
}
