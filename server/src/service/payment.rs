//! Payment in the application service (`payment:` in a workflow, docs/payment.md): "Absenden
//! und bezahlen" keeps the application durably as *payment pending* in a payment record (not a
//! submission: the office's Postkorb and webhook never see it unpaid), the tenant's platform
//! makes a payment request, and the application is stored as a submission, with amount, method
//! and transaction id, only when the platform reports it paid: by notification, by the
//! citizen's return, or by the reconciliation job's status query, whichever comes first.
//!
//! Every path is idempotent: a final state of a platform request is never left, a repeated
//! or stale report changes nothing, the submission's idempotency key is the application's own,
//! and a paid application gets no second payment request.

use lotse_core::payment::{Method, PaidPayment, PaymentState, amount_cents, format_cents};
use lotse_core::{Lang, Workflow};
use lotse_store::{
    DraftId, DraftStore, OsEntropy, Payment, PaymentId, PaymentStore, SubmissionId, SubmissionStore,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::{Acted, ApplicationService, DraftState, OpenDraft, Opened, ServiceError, submit_key};
use crate::payment::{CreateRequest, PaymentProvider, PlatformError, Report};
use crate::tenants::Tenant;

/// Why a payment could not be started, read or settled. Messages carry codes, never answers.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error(transparent)]
    Amount(#[from] lotse_core::payment::AmountError),
    #[error("LOT-P003: tenant {0} has no payment platform configured")]
    NoPlatform(String),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error("LOT-P004: the platform reported a payment this application does not know")]
    UnknownAttempt,
    #[error("LOT-P005: the platform reported {reported} cents for a payment of {expected} cents")]
    AmountMismatch { expected: i64, reported: i64 },
    #[error("LOT-P006: a stored payment could not be read: {0}")]
    Decode(serde_json::Error),
    #[error("LOT-P007: the workflow {0} of a paid application is no longer loaded")]
    WorkflowGone(String),
}

/// One request at the platform: the first, or a new one after a cancelled or failed one.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Attempt {
    platform_id: String,
    /// Sent to the platform: the Kassenzeichen and the attempt's number.
    reference: String,
    pay_url: String,
    state: PaymentState,
    #[serde(with = "time::serde::rfc3339")]
    created: OffsetDateTime,
}

/// What the service keeps in a payment record (`Payment::data`).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Pending {
    state: PaymentState,
    amount_cents: i64,
    kassenzeichen: String,
    purpose: String,
    methods: Vec<Method>,
    lang: Lang,
    draft: DraftId,
    /// The application as sent, waiting for its payment.
    submission: lotse_core::Submission,
    attempts: Vec<Attempt>,
    paid: Option<PaidPayment>,
    /// The submission it became once paid and stored.
    delivered: Option<SubmissionId>,
}

impl Pending {
    fn of(p: &Payment) -> Result<Pending, PaymentError> {
        Pending::deserialize(&p.data).map_err(PaymentError::Decode)
    }

    /// Whether the reconciliation job still has to look: a request not final at the
    /// platform, or paid and not yet stored as a submission.
    fn is_open(&self) -> bool {
        self.delivered.is_none()
            && (self.paid.is_some() || self.attempts.last().is_some_and(|a| !a.state.is_final()))
    }
}

fn store(p: &mut Payment, data: &Pending, now: OffsetDateTime) -> Result<(), ServiceError> {
    p.data = serde_json::to_value(data).map_err(ServiceError::Encode)?;
    p.open = data.is_open();
    p.updated = now;
    Ok(())
}

/// The amount a submitted application must pay online first, if its workflow asks for a
/// payment and the computed amount is more than nothing.
pub(super) fn amount_due(
    wf: &Workflow,
    submission: &lotse_core::Submission,
) -> Result<Option<i64>, PaymentError> {
    let Some(spec) = &wf.payment else {
        return Ok(None);
    };
    Ok(amount_cents(submission.computed.get(&spec.amount))?)
}

/// A payment as the citizen's pages and the API show it.
#[derive(Clone, Debug, Serialize)]
pub struct PaymentView {
    pub id: PaymentId,
    pub state: PaymentState,
    pub amount_cents: i64,
    /// `61,40 €`, in the application's language.
    pub amount: String,
    pub purpose: String,
    pub kassenzeichen: String,
    pub methods: Vec<Method>,
    pub lang: Lang,
    pub workflow_id: String,
    /// With state `amount_mismatch`: the amount the platform reported instead (not paid).
    pub reported_amount_cents: Option<i64>,
    /// Paid: how, and the platform's transaction id.
    pub method: Option<Method>,
    pub transaction_id: Option<String>,
    /// The submission it became, once paid and handed to the office.
    pub submission: Option<SubmissionId>,
    /// Whether a platform request exists (the citizen may have left its pay page).
    pub requested: bool,
}

impl PaymentView {
    fn of(p: &Payment, d: &Pending) -> PaymentView {
        PaymentView {
            id: p.id,
            state: d.state,
            amount_cents: d.amount_cents,
            amount: format_cents(d.amount_cents, d.lang),
            purpose: d.purpose.clone(),
            kassenzeichen: d.kassenzeichen.clone(),
            methods: d.methods.clone(),
            lang: d.lang,
            workflow_id: d.submission.workflow_id.clone(),
            reported_amount_cents: d.paid.as_ref().and_then(|x| x.reported_amount_cents),
            method: d.paid.as_ref().map(|x| x.method),
            transaction_id: d.paid.as_ref().map(|x| x.transaction_id.clone()),
            submission: d.delivered,
            requested: !d.attempts.is_empty(),
        }
    }
}

/// What "bezahlen" leads to.
#[derive(Debug)]
pub enum PayOutcome {
    /// To the platform's pay page (a new request, or the open one again).
    PayPage(String),
    /// Paid already: no second payment request.
    AlreadyPaid(PaymentView),
    /// The platform is still checking the last payment: nothing to do but wait.
    Waiting(PaymentView),
}

/// The Kassenzeichen of a payment: the tenant's prefix and 12 hex digits of a hash of the
/// payment id. It stands on bank statements and at the platform, so it must not give away any
/// part of the id, which is the capability in the citizen's payment link.
fn kassenzeichen(t: &Tenant, id: &PaymentId) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    let hex: String = digest[..6].iter().map(|b| format!("{b:02X}")).collect();
    format!("{}-Z-{hex}", t.prefix)
}

impl ApplicationService<'_> {
    /// An application whose draft is marked as paying: its submission once paid and stored.
    pub(super) fn paying_or_submitted(
        &self,
        _draft: &lotse_store::Draft,
        pid: PaymentId,
    ) -> Result<Opened, ServiceError> {
        if let Some(p) = self.store.payment(&pid)?
            && let Some(sid) = Pending::of(&p)?.delivered
        {
            return Ok(Opened::Submitted(sid));
        }
        Ok(Opened::Paying(pid))
    }

    /// The answer to any command on an application waiting for its payment.
    pub(super) fn already_paying(
        &self,
        _t: &Tenant,
        pid: &PaymentId,
    ) -> Result<Acted, ServiceError> {
        Ok(Acted::PaymentRequired {
            payment: *pid,
            pay_url: None,
        })
    }

    /// "Absenden und bezahlen": keeps the application durably as payment pending, marks the
    /// draft, and makes the first payment request. A repeat (double click, a retry after a
    /// crash) finds the same payment and makes no second request while one is open.
    pub(super) fn request_payment(
        &self,
        t: &Tenant,
        open: &OpenDraft,
        submission: lotse_core::Submission,
        amount_cents: i64,
        now: OffsetDateTime,
    ) -> Result<Acted, ServiceError> {
        let (draft, wf) = (&open.draft, &open.wf);
        let Some(spec) = &wf.payment else {
            return Err(PaymentError::NoPlatform(t.slug.clone()).into());
        };
        let id = PaymentId::generate(&mut OsEntropy)?;
        let kz = kassenzeichen(t, &id);
        let lang = submission.lang;
        let data = Pending {
            state: PaymentState::Open,
            amount_cents,
            purpose: lotse_core::payment::purpose(spec, &kz, lang),
            kassenzeichen: kz,
            methods: spec.methods.clone(),
            lang,
            draft: draft.id,
            submission,
            attempts: Vec::new(),
            paid: None,
            delivered: None,
        };
        let mut new = Payment {
            id,
            tenant: draft.tenant.clone(),
            key: submit_key(draft),
            revision: 0,
            open: false,
            data: serde_json::Value::Null,
            created: now,
            updated: now,
        };
        store(&mut new, &data, now)?;
        let payment = self.store.create_payment(&new)?;
        self.mark_draft(draft.clone(), DraftState::Paying(payment.id), now)?;
        tracing::info!(event = "payment_pending", tenant = %t.slug, payment = %payment.id, amount_cents);
        let pay_url = match self.pay(t, &payment.id, now) {
            Ok(PayOutcome::PayPage(url)) => Some(url),
            Ok(_) => None,
            // The application is kept: the citizen can pay later from the payment's page.
            Err(e) => {
                tracing::warn!(event = "payment_request_failed", tenant = %t.slug, payment = %payment.id, cause = %e);
                None
            }
        };
        Ok(Acted::PaymentRequired {
            payment: payment.id,
            pay_url,
        })
    }

    fn platform(&self, t: &Tenant) -> Result<std::sync::Arc<dyn PaymentProvider>, PaymentError> {
        self.offices
            .payment_platform(&t.slug)
            .ok_or_else(|| PaymentError::NoPlatform(t.slug.clone()))
    }

    /// The tenant's payment `id`, or `None` (another tenant's, unknown).
    fn tenant_payment(&self, t: &Tenant, id: &PaymentId) -> Result<Option<Payment>, ServiceError> {
        Ok(self
            .store
            .payment(id)?
            .filter(|p| p.tenant.slug() == t.slug))
    }

    /// The payment as pages show it; `None` for an unknown or another tenant's payment.
    pub fn payment_view(
        &self,
        t: &Tenant,
        id: &PaymentId,
    ) -> Result<Option<PaymentView>, ServiceError> {
        let Some(p) = self.tenant_payment(t, id)? else {
            return Ok(None);
        };
        let d = Pending::of(&p)?;
        Ok(Some(PaymentView::of(&p, &d)))
    }

    /// "Bezahlen" (again): the open request's pay page, or a new request after a cancelled
    /// or failed one. A paid application is refused a second request.
    pub fn pay(
        &self,
        t: &Tenant,
        id: &PaymentId,
        now: OffsetDateTime,
    ) -> Result<PayOutcome, ServiceError> {
        let platform = self.platform(t)?;
        let Some(mut p) = self.tenant_payment(t, id)? else {
            return Err(PaymentError::UnknownAttempt.into());
        };
        for _ in 0..5 {
            let mut d = Pending::of(&p)?;
            if d.paid.is_some() {
                return Ok(PayOutcome::AlreadyPaid(PaymentView::of(&p, &d)));
            }
            match d.attempts.last() {
                Some(a) if a.state == PaymentState::Open => {
                    return Ok(PayOutcome::PayPage(a.pay_url.clone()));
                }
                Some(a) if a.state == PaymentState::Pending => {
                    return Ok(PayOutcome::Waiting(PaymentView::of(&p, &d)));
                }
                _ => {}
            }
            let reference = format!("{}-{}", d.kassenzeichen, d.attempts.len() + 1);
            let base = self.offices.public_url();
            let request = CreateRequest {
                merchant_id: platform.merchant_id().to_string(),
                reference: reference.clone(),
                amount_cents: d.amount_cents,
                currency: "EUR".into(),
                purpose: d.purpose.clone(),
                methods: d.methods.clone(),
                return_url: format!("{base}/{}/zahlung/{}/zurueck", t.slug, p.id),
                notify_url: format!("{base}/{}/zahlung/{}/benachrichtigung", t.slug, p.id),
                lang: d.lang.tag().into(),
            };
            let created = platform.create(&request, now).map_err(PaymentError::from)?;
            d.attempts.push(Attempt {
                platform_id: created.id,
                reference,
                pay_url: created.pay_url.clone(),
                state: PaymentState::Open,
                created: now,
            });
            d.state = PaymentState::Open;
            let expected = p.revision;
            store(&mut p, &d, now)?;
            match self.store.save_payment(p, expected)? {
                Ok(_) => return Ok(PayOutcome::PayPage(created.pay_url)),
                // Another click made a request first: use that one (this one is never shown,
                // so nobody can pay it).
                Err(current) => p = current,
            }
        }
        Err(ServiceError::Interrupted(
            "the payment kept changing".into(),
        ))
    }

    /// The pay page of the payment's open request, if there is one (nothing is requested).
    pub fn pay_page_if_open(
        &self,
        t: &Tenant,
        id: &PaymentId,
        _now: OffsetDateTime,
    ) -> Result<Option<String>, ServiceError> {
        let Some(p) = self.tenant_payment(t, id)? else {
            return Ok(None);
        };
        let d = Pending::of(&p)?;
        Ok(d.attempts
            .last()
            .filter(|a| a.state == PaymentState::Open && d.paid.is_none())
            .map(|a| a.pay_url.clone()))
    }

    /// The citizen came back from the pay page: the platform is asked (the redirect itself
    /// proves nothing) and its answer settled. A reload asks again and changes nothing more.
    pub fn payment_returned(
        &self,
        t: &Tenant,
        id: &PaymentId,
        now: OffsetDateTime,
    ) -> Result<Option<PaymentView>, ServiceError> {
        let Some(p) = self.tenant_payment(t, id)? else {
            return Ok(None);
        };
        let d = Pending::of(&p)?;
        let Some(last) = d.attempts.last() else {
            return Ok(Some(PaymentView::of(&p, &d)));
        };
        if d.delivered.is_none() && (d.paid.is_some() || !last.state.is_final()) {
            match self.platform(t)?.status(&last.platform_id, now) {
                Ok(report) => {
                    self.settle(t, p, &report, now)?;
                }
                // The platform is slow or down: the notification or the reconciliation job
                // settles it later; the page says where it stands now.
                Err(e) => {
                    tracing::warn!(event = "payment_status_failed", tenant = %t.slug, payment = %id, cause = %e);
                }
            }
        }
        self.payment_view(t, id)
    }

    /// A notification from the platform: believed only when signed with the tenant's secret.
    pub fn payment_notified(
        &self,
        t: &Tenant,
        id: &PaymentId,
        signature: Option<&str>,
        body: &[u8],
        now: OffsetDateTime,
    ) -> Result<Option<PaymentView>, ServiceError> {
        let report = self
            .platform(t)?
            .notification(signature, body, now)
            .map_err(PaymentError::from)?;
        let Some(p) = self.tenant_payment(t, id)? else {
            return Ok(None);
        };
        self.settle(t, p, &report, now)?;
        self.payment_view(t, id)
    }

    /// Asks the platform about one open payment and settles the answer (the reconciliation
    /// job; a paid one not yet stored is stored).
    pub fn reconcile(
        &self,
        t: &Tenant,
        p: Payment,
        now: OffsetDateTime,
    ) -> Result<PaymentState, ServiceError> {
        let d = Pending::of(&p)?;
        if d.paid.is_some() {
            let state = d.state;
            self.deliver(t, p, now)?;
            return Ok(state);
        }
        let Some(last) = d.attempts.last() else {
            return Ok(d.state);
        };
        let report = self
            .platform(t)?
            .status(&last.platform_id, now)
            .map_err(PaymentError::from)?;
        let state = report.state;
        self.settle(t, p, &report, now)?;
        Ok(state)
    }

    /// Records what the platform reported for one of the payment's requests. A request in a
    /// final state stays in it (a late "pending" after "paid" changes nothing); paid means
    /// stored as a submission and handed to the office.
    fn settle(
        &self,
        t: &Tenant,
        mut p: Payment,
        report: &Report,
        now: OffsetDateTime,
    ) -> Result<(), ServiceError> {
        for _ in 0..8 {
            let mut d = Pending::of(&p)?;
            let Some(i) = d
                .attempts
                .iter()
                .position(|a| a.platform_id == report.id && a.reference == report.reference)
            else {
                return Err(PaymentError::UnknownAttempt.into());
            };
            // A request in a final state never leaves it: whatever a late, repeated or stale
            // report says (another amount included), nothing changes and nothing is logged.
            if d.attempts[i].state.is_final() {
                break;
            }
            // Another amount than requested is never taken as paid (LOT-P005). Reported paid,
            // it is recorded as such and the application goes to the office marked so (the
            // office clears it up with the citizen and the platform; no second payment is
            // requested); any other report with another amount is refused.
            let mismatch = report.amount_cents != d.amount_cents;
            if mismatch && report.state != PaymentState::Paid {
                tracing::error!(event = "payment_amount_mismatch", code = "LOT-P005", tenant = %t.slug, payment = %p.id, state = %report.state, expected = d.amount_cents, reported = report.amount_cents);
                return Err(PaymentError::AmountMismatch {
                    expected: d.amount_cents,
                    reported: report.amount_cents,
                }
                .into());
            }
            if report.state == PaymentState::AmountMismatch {
                return Err(PaymentError::from(PlatformError::Malformed(
                    "a state only Lotse sets".into(),
                ))
                .into());
            }
            let reported_state = if mismatch {
                PaymentState::AmountMismatch
            } else {
                report.state
            };
            let current = d.attempts[i].state;
            let moves = reported_state != current && reported_state != PaymentState::Open;
            if !moves {
                break;
            }
            d.attempts[i].state = reported_state;
            let charged = matches!(
                reported_state,
                PaymentState::Paid | PaymentState::AmountMismatch
            );
            if i + 1 == d.attempts.len() || charged {
                d.state = reported_state;
            }
            if charged && d.paid.is_none() {
                let (Some(method), Some(tx)) = (report.method, report.transaction_id.clone())
                else {
                    return Err(PlatformError::Malformed(
                        "a paid payment without method or transaction id".into(),
                    ))
                    .map_err(|e| PaymentError::from(e).into());
                };
                d.paid = Some(PaidPayment {
                    state: reported_state,
                    amount_cents: d.amount_cents,
                    reported_amount_cents: mismatch.then_some(report.amount_cents),
                    currency: "EUR".into(),
                    purpose: d.purpose.clone(),
                    kassenzeichen: d.kassenzeichen.clone(),
                    method,
                    transaction_id: tx,
                    merchant_id: report.merchant_id.clone(),
                    paid_at: now,
                });
            }
            let expected = p.revision;
            store(&mut p, &d, now)?;
            match self.store.save_payment(p, expected)? {
                Ok(saved) => {
                    // Logged once: by the one report that recorded it.
                    if mismatch {
                        tracing::error!(event = "payment_amount_mismatch", code = "LOT-P005", tenant = %t.slug, payment = %saved.id, state = %report.state, expected = d.amount_cents, reported = report.amount_cents);
                    }
                    tracing::info!(event = "payment_settled", tenant = %t.slug, payment = %saved.id, state = %reported_state);
                    p = saved;
                    break;
                }
                Err(current) => p = current,
            }
        }
        let d = Pending::of(&p)?;
        if d.paid.is_some() && d.delivered.is_none() {
            self.deliver(t, p, now)?;
        }
        Ok(())
    }

    /// Stores a paid application as a submission (with its payment, its deliveries to the
    /// office and its receipt), marks the draft and the payment. Safe to repeat at any point:
    /// the submission's key is the application's.
    fn deliver(&self, t: &Tenant, mut p: Payment, now: OffsetDateTime) -> Result<(), ServiceError> {
        let d = Pending::of(&p)?;
        let Some(paid) = d.paid.clone() else {
            return Ok(());
        };
        let mut submission = d.submission.clone();
        submission.payment = Some(paid);
        let wf = self
            .library
            .for_tenant_resuming(
                &t.slug,
                &submission.workflow_id,
                submission.workflow_version,
                &submission.content_hash,
            )
            .ok_or_else(|| PaymentError::WorkflowGone(submission.workflow_id.clone()))?;
        let draft = self.store.draft(&d.draft)?;
        let stored = match &draft {
            Some(draft) => {
                self.store_submission(t, wf, draft, p.key.clone(), &submission, now, false)?
                    .0
            }
            None => {
                // The draft expired while the payment was open: the submission is stored all
                // the same, from the payment's own record.
                let stand_in = lotse_store::Draft {
                    id: d.draft,
                    tenant: p.tenant.clone(),
                    ..lotse_store::Draft::new(
                        &mut OsEntropy,
                        p.tenant.clone(),
                        &wf.id,
                        wf.version.to_string(),
                        serde_json::Value::Null,
                        now,
                        time::Duration::days(1),
                    )?
                };
                self.store_submission(t, wf, &stand_in, p.key.clone(), &submission, now, false)?
                    .0
            }
        };
        if let Some(draft) = draft
            && matches!(
                DraftState::from_value(draft.state.clone()),
                Ok(DraftState::Paying(_))
            )
        {
            self.mark_draft(draft, DraftState::Submitted(stored.id), now)?;
        }
        for _ in 0..8 {
            let mut d = Pending::of(&p)?;
            if d.delivered.is_some() {
                break;
            }
            d.delivered = Some(stored.id);
            let expected = p.revision;
            store(&mut p, &d, now)?;
            match self.store.save_payment(p, expected)? {
                Ok(_) => {
                    tracing::info!(event = "payment_delivered", tenant = %t.slug, submission = %stored.id);
                    break;
                }
                Err(current) => p = current,
            }
        }
        Ok(())
    }
}

/// The payment as a section of the receipt: amount, method, transaction id, Kassenzeichen.
pub(super) fn receipt_section(p: &PaidPayment, lang: Lang) -> lotse_core::receipt::Section {
    use lotse_core::receipt::Entry;
    let en = lang == Lang::En;
    let l = |de: &'static str, en_text: &'static str| if en { en_text } else { de };
    let mut section = lotse_core::receipt::Section {
        title: l("Zahlung", "Payment").to_string(),
        entries: vec![
            Entry::value(l("Status", "Status"), p.state.label(lang)),
            Entry::value(l("Betrag", "Amount"), format_cents(p.amount_cents, lang)),
        ],
    };
    if let Some(reported) = p.reported_amount_cents {
        section.entries.push(Entry::value(
            l(
                "Von der Zahlungsplattform gemeldet",
                "Reported by the payment platform",
            ),
            format_cents(reported, lang),
        ));
    }
    section.entries.extend([
        Entry::value(l("Zahlart", "Method"), p.method.label(lang)),
        Entry::value(
            l("Transaktionsnummer", "Transaction id"),
            p.transaction_id.clone(),
        ),
        Entry::value(
            l("Kassenzeichen", "Payment reference"),
            p.kassenzeichen.clone(),
        ),
        Entry::value(l("Verwendungszweck", "Purpose"), p.purpose.clone()),
    ]);
    section
}

// Keeps the import used when only some paths need it.
#[allow(dead_code)]
fn _uses(_: &dyn SubmissionStore, _: &dyn DraftStore) {}
