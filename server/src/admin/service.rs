//! What pages and API share: reading filters, the list, one submission with its labels and the
//! receipt's signature check, status changes, messages, audited reads. Blocking: callers run these
//! through `admin::run`. Every function takes the tenant of the request and treats another
//! tenant's submission as not found.

use lotse_core::Lang;
use lotse_core::application::{Display, ReviewView, Submission as AppSubmission};
use lotse_receipt::{Language, format_berlin, to_berlin, verify_receipt};
use lotse_store::{
    Account, Actor, AttachmentHash, AuditAction, AuditStore, Message, Party, PostkorbEntry,
    PostkorbPage, PostkorbQuery, ReadKind, Status, StatusChange, StatusStore, StoreError,
    Submission, SubmissionId, SubmissionStore, TenantId,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::AdminError;
pub use super::payments::{MandateLine, PaymentLine};
use crate::state::AppState;
use crate::tenants::Tenant;

/// The longest message or comment (characters).
pub const MAX_TEXT: usize = 5_000;

/// The filters of the list, as they arrive in the query string (pages and API alike). No
/// `Debug`: the search words may be a name.
#[derive(Default, Clone, Deserialize)]
pub struct Filters {
    pub status: Option<String>,
    pub leistung: Option<String>,
    /// First day, `YYYY-MM-DD` (Berlin time).
    pub von: Option<String>,
    /// Last day, inclusive.
    pub bis: Option<String>,
    pub aktenzeichen: Option<String>,
    /// Words of the applicant's name or of any answer.
    pub suche: Option<String>,
    /// `mir` (the signed-in staff member) or a colleague's account id: "Meine Anträge".
    pub zustaendig: Option<String>,
    /// `1`: only open cases whose Wiedervorlage is today or past.
    pub faellig: Option<String>,
    /// The signed-in staff member (for `zustaendig=mir`); set by the handler.
    #[serde(skip)]
    pub me: Option<lotse_store::AccountId>,
    /// Today in Berlin (for `faellig`); set by the handler.
    #[serde(skip)]
    pub today: Option<time::Date>,
    /// 1-based.
    pub seite: Option<usize>,
    pub pro_seite: Option<usize>,
}

fn non_empty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// The start of the day `text` (YYYY-MM-DD) in Berlin; `field` names it in the message.
pub(crate) fn day_start(text: &str, field: &str) -> Result<time::OffsetDateTime, AdminError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let invalid =
        || AdminError::Invalid(format!("{field}: bitte ein Datum wie 2026-11-28 angeben"));
    let date = time::Date::parse(text, &format).map_err(|_| invalid())?;
    // Submissions exist from the portal's start on; far dates would overflow the day's end.
    if !(2000..=9000).contains(&date.year()) {
        return Err(AdminError::Invalid(format!(
            "{field}: bitte ein Datum zwischen 2000 und 9000 angeben"
        )));
    }
    let offset = to_berlin(date.midnight().assume_utc()).offset();
    Ok(date.midnight().assume_offset(offset))
}

impl Filters {
    /// The store query; `page_size` when the request names none (capped at 200).
    pub fn query(&self, page_size: usize) -> Result<PostkorbQuery, AdminError> {
        let status = match non_empty(&self.status) {
            Some(code) => Some(
                Status::from_code(code)
                    .ok_or_else(|| AdminError::Invalid(format!("status: unbekannt: {code}")))?,
            ),
            None => None,
        };
        let size = self.pro_seite.unwrap_or(page_size).clamp(1, 200);
        let page = self.seite.unwrap_or(1).max(1);
        Ok(PostkorbQuery {
            status,
            workflow: non_empty(&self.leistung).map(str::to_string),
            from: non_empty(&self.von)
                .map(|d| day_start(d, "von"))
                .transpose()?,
            until: non_empty(&self.bis)
                .map(|d| {
                    day_start(d, "bis")?
                        .checked_add(time::Duration::days(1))
                        .ok_or_else(|| AdminError::Invalid("bis: Datum zu groß".into()))
                })
                .transpose()?,
            reference: non_empty(&self.aktenzeichen).map(str::to_string),
            assignee: match non_empty(&self.zustaendig) {
                None => None,
                Some("mir") => Some(self.me.ok_or(AdminError::NotSignedIn)?),
                Some(id) => Some(
                    id.parse()
                        .map_err(|_| AdminError::Invalid("zustaendig: unbekannte Person".into()))?,
                ),
            },
            due_by: match non_empty(&self.faellig) {
                None | Some("0") => None,
                Some(_) => Some(
                    self.today
                        .ok_or_else(|| AdminError::Internal("no date for faellig".into()))?,
                ),
            },
            text: non_empty(&self.suche).map(str::to_string),
            offset: (page - 1).saturating_mul(size),
            limit: size,
        })
    }

    /// The same filters for an export: every matching entry.
    pub fn export_query(&self) -> Result<PostkorbQuery, AdminError> {
        Ok(PostkorbQuery {
            offset: 0,
            limit: usize::MAX,
            ..self.query(1)?
        })
    }

    /// The query string of these filters (without the page), for links.
    pub fn query_string(&self) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("status", non_empty(&self.status)),
            ("leistung", non_empty(&self.leistung)),
            ("von", non_empty(&self.von)),
            ("bis", non_empty(&self.bis)),
            ("aktenzeichen", non_empty(&self.aktenzeichen)),
            ("suche", non_empty(&self.suche)),
            ("zustaendig", non_empty(&self.zustaendig)),
            ("faellig", non_empty(&self.faellig)),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k, v)))
        .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

pub fn when(at: time::OffsetDateTime) -> String {
    format_berlin(at, Language::De)
}

/// The tenant's services: (workflow id, German title), for filters and labels.
pub fn services(p: &AppState, t: &Tenant) -> Vec<(String, String)> {
    let defs = p.defs();
    defs.library
        .workflows
        .keys()
        .filter(|id| t.services.offers(id))
        .map(|id| {
            let title = defs
                .library
                .latest(id)
                .map(|wf| wf.title.german().to_string())
                .unwrap_or_else(|| (*id).to_string());
            ((*id).to_string(), title)
        })
        .collect()
}

fn service_title(p: &AppState, workflow: &str) -> String {
    p.defs()
        .library
        .latest(workflow)
        .map(|wf| wf.title.german().to_string())
        .unwrap_or_else(|| workflow.to_string())
}

pub fn list(
    p: &AppState,
    tenant: &TenantId,
    q: &PostkorbQuery,
) -> Result<PostkorbPage, AdminError> {
    Ok(lotse_store::SubmissionStore::postkorb(&p.store, tenant, q)?)
}

/// One line of the list (API and pages).
/// A submission in the Postkorb's list.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PostkorbEntry)]
pub struct EntryView {
    #[schema(value_type = String)]
    pub id: SubmissionId,
    pub reference: String,
    pub workflow_id: String,
    pub workflow_version: String,
    pub service_title: String,
    #[schema(format = DateTime)]
    pub submitted: String,
    pub submitted_text: String,
    pub status: &'static str,
    pub status_label: &'static str,
    #[schema(format = DateTime)]
    pub status_at: String,
    /// Who applied (workflow's `applicant_name`, else common name fields).
    pub applicant: Option<String>,
    /// Account id of the staff member the case is assigned to.
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    /// The Wiedervorlage, `YYYY-MM-DD` and as read (`01.12.2026`).
    #[schema(format = Date)]
    pub follow_up: Option<String>,
    pub follow_up_text: Option<String>,
    /// The Wiedervorlage is today or past and the case is open.
    pub due: bool,
}

/// What every line of a list needs besides its entry: staff names and today's date.
pub struct ListContext {
    pub names: std::collections::HashMap<lotse_store::AccountId, String>,
    pub today: time::Date,
}

impl ListContext {
    pub fn of(p: &AppState, tenant: &TenantId) -> Result<ListContext, AdminError> {
        Ok(ListContext {
            names: lotse_store::AccountStore::accounts(&p.store, tenant)?
                .into_iter()
                .map(|a| (a.id, a.display_name))
                .collect(),
            today: super::cases::today(p),
        })
    }
}

impl EntryView {
    pub fn of(p: &AppState, cx: &ListContext, e: &PostkorbEntry) -> EntryView {
        EntryView {
            applicant: e.applicant.clone(),
            assignee: e.assignee.map(|a| a.to_string()),
            assignee_name: e.assignee.and_then(|a| cx.names.get(&a).cloned()),
            follow_up: e.follow_up.map(super::cases::iso_date),
            follow_up_text: e.follow_up.map(super::cases::date_text),
            due: !e.status.is_closed() && e.follow_up.is_some_and(|d| d <= cx.today),
            id: e.id,
            reference: e.reference.to_string(),
            workflow_id: e.workflow_id.clone(),
            workflow_version: e.workflow_version.clone(),
            service_title: service_title(p, &e.workflow_id),
            submitted: rfc3339(e.submitted),
            submitted_text: when(e.submitted),
            status: e.status.code(),
            status_label: e.status.label_de(),
            status_at: rfc3339(e.status_at),
        }
    }
}

pub(crate) fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The tenant's submission, or `NotFound` (also for another tenant's).
pub(crate) fn own(p: &AppState, t: &Tenant, sid: &SubmissionId) -> Result<Submission, AdminError> {
    p.store
        .submission(sid)?
        .filter(|s| s.tenant.slug() == t.slug)
        .ok_or(AdminError::NotFound)
}

/// Writes to the audit log that `who` read `what` of the tenant's submission `sid` (a file's
/// hash for the files). Called once the submission was found and before anything of it is
/// sent: when the entry cannot be written, the caller answers with the error and nothing is
/// read unaccounted.
pub(crate) fn audit_read(
    p: &AppState,
    t: &Tenant,
    who: Actor,
    sid: &SubmissionId,
    what: ReadKind,
    sha256: Option<&AttachmentHash>,
) -> Result<(), AdminError> {
    p.store
        .append_audit(
            p.now(),
            who,
            Some(&super::tenant_id(t)?),
            AuditAction::SubmissionRead {
                submission: *sid,
                what,
                sha256: sha256.map(ToString::to_string),
            },
        )
        .map_err(|e| audit_refused(p, what, e))?;
    Ok(())
}

/// Counts and logs a read refused because the audit log did not take its entry (the
/// operator's alert: `lotse_audit_refused_total`); the submission is not named, its id is the
/// citizen's key to the status page.
pub(crate) fn audit_refused(p: &AppState, what: ReadKind, e: StoreError) -> StoreError {
    p.metrics.audit_refused(what.code());
    tracing::error!(event = "audit_refused", what = what.code(), cause = %e);
    e
}

/// The office's account as the audit log names it (its opaque id).
pub(crate) fn office(account: &Account) -> Actor {
    Actor::Office {
        account: account.id.to_string(),
    }
}

pub fn parse_id(id: &str) -> Result<SubmissionId, AdminError> {
    id.parse().map_err(|_| AdminError::NotFound)
}

/// What the receipt's signature check found.
pub struct SignatureCheck {
    pub present: bool,
    pub valid: bool,
    pub signer: Option<String>,
    /// The certificate is the tenant's current signing certificate.
    pub own_key: bool,
    pub problem: Option<String>,
}

/// Everything the detail view shows.
pub struct Detail {
    pub sub: Submission,
    pub history: Vec<StatusChange>,
    pub messages: Vec<Message>,
    /// The answers as the review page showed them, and the statements of the declaration the
    /// citizen ticked there (their labels).
    pub review: Option<(ReviewView, Vec<String>)>,
    pub service_title: String,
    pub signature: SignatureCheck,
    /// Deliveries of this submission to the office's system (webhooks), newest first.
    pub deliveries: Vec<crate::delivery::DeliveryView>,
    /// Assignment, Wiedervorlage and internal notes.
    pub case: super::cases::CaseView,
}

impl Detail {
    pub fn status(&self) -> Status {
        self.history
            .last()
            .map_or(Status::Eingegangen, |c| c.status)
    }

    /// The statuses a case worker may choose next.
    pub fn next_statuses(&self) -> Vec<Status> {
        let now = self.status();
        Status::ALL
            .into_iter()
            .filter(|s| now.may_change_to(*s))
            .collect()
    }
}

pub fn detail(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    sid: &SubmissionId,
) -> Result<Detail, AdminError> {
    let sub = own(p, t, sid)?;
    let history = p.store.status_history(sid)?;
    let closed = history.last().is_some_and(|c| c.status.is_closed());
    let case = super::cases::case_view(p, t, me, sid, closed)?;
    let messages = p.store.messages(sid)?;
    let defs = p.defs();
    let review = serde_json::from_value::<AppSubmission>(sub.data.clone())
        .ok()
        .and_then(|s| {
            let wf = defs.library.version(&s.workflow_id, s.workflow_version)?;
            let declared = wf
                .declaration
                .iter()
                .filter(|d| s.declared.contains(&d.id))
                .map(|d| d.label.get(Lang::De).to_string())
                .collect();
            Some((
                ReviewView::build(wf, &s.path, &s.answers, &s.computed, Lang::De),
                declared,
            ))
        });
    let signature = match crate::nodes::load_receipt(&p.store, &p.data, sid) {
        Ok(pdf) => match verify_receipt(&pdf) {
            Ok(v) => {
                let expected = p.identity(&t.slug).and_then(|i| i.certificate_sha256());
                SignatureCheck {
                    present: true,
                    valid: v.valid && v.covers_whole_file,
                    own_key: expected.is_some() && v.certificate_sha256 == expected,
                    signer: v.signer,
                    problem: v.problem,
                }
            }
            Err(e) => SignatureCheck {
                present: true,
                valid: false,
                signer: None,
                own_key: false,
                problem: Some(e.to_string()),
            },
        },
        Err(_) => SignatureCheck {
            present: false,
            valid: false,
            signer: None,
            own_key: false,
            problem: None,
        },
    };
    let own_id = sid.to_string();
    let deliveries = crate::delivery::deliveries(
        &p.store,
        &sub.tenant,
        crate::delivery::DeliveryFilter::All,
        None,
        1000,
    )?
    .into_iter()
    .filter(|d| d.submission.as_deref() == Some(own_id.as_str()))
    .collect();
    Ok(Detail {
        service_title: service_title(p, &sub.workflow_id),
        sub,
        history,
        messages,
        review,
        signature,
        deliveries,
        case,
    })
}

fn actor_label(a: &Actor, p: &AppState) -> String {
    match a {
        Actor::Citizen => "Antragstellende Person".into(),
        Actor::System => "System".into(),
        Actor::Office { account } => office_name(p, account),
    }
}

pub(crate) fn office_name(p: &AppState, account: &str) -> String {
    account
        .parse()
        .ok()
        .and_then(|id| {
            lotse_store::AccountStore::account(&p.store, &id)
                .ok()
                .flatten()
        })
        .map(|a: Account| a.display_name)
        .unwrap_or_else(|| "Verwaltung".into())
}

/// A status by its code and German label.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatusRef {
    pub code: &'static str,
    pub label: &'static str,
}

impl From<Status> for StatusRef {
    fn from(s: Status) -> Self {
        StatusRef {
            code: s.code(),
            label: s.label_de(),
        }
    }
}

/// One submission with its answers, status history, messages, receipt check and webhook deliveries.
///
/// Labelled in German (API and the detail page).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PostkorbSubmission)]
pub struct SubmissionView {
    #[schema(value_type = String)]
    pub id: SubmissionId,
    pub reference: String,
    pub workflow_id: String,
    pub workflow_version: String,
    pub service_title: String,
    pub submitted: String,
    pub submitted_text: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub next_statuses: Vec<StatusRef>,
    pub history: Vec<HistoryView>,
    pub messages: Vec<MessageView>,
    /// The answers with their labels; `None` when the workflow version is not loaded.
    pub answers: Option<AnswersView>,
    pub receipt: ReceiptView,
    pub deliveries: Vec<DeliveryLine>,
    /// Who applied, when the answers name someone.
    pub applicant: Option<String>,
    /// Assignment, Wiedervorlage and internal notes: the office's own, never the citizen's.
    pub case: super::cases::CaseView,
    /// The online payment made before the submission reached the office, if any.
    pub payment: Option<PaymentLine>,
    /// The SEPA direct debit mandate given with the application, if any.
    pub mandate: Option<MandateLine>,
    /// The files (Nachweise) the answers name, with their downloads.
    pub attachments: Vec<super::attachments::AttachmentView>,
    /// The submission's stored data (answers by field id, computed values, times).
    #[schema(value_type = Object)]
    pub data: Value,
}

/// One change of the status, with who made it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct HistoryView {
    pub status: &'static str,
    pub status_label: &'static str,
    pub at: String,
    pub at_text: String,
    /// Who changed it, by name.
    pub by: String,
    pub note: Option<String>,
}

/// A message between the office and the citizen.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MessageView {
    pub seq: u64,
    pub at: String,
    pub at_text: String,
    /// `citizen` or `office`.
    pub from: &'static str,
    /// Who wrote it, by name.
    pub by: String,
    pub body: String,
}

/// The answers with their labels, by step, the computed values and the declaration.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswersView {
    pub steps: Vec<AnswerStep>,
    pub computed: Vec<ComputedLine>,
    /// The statements of the workflow's declaration the citizen confirmed before sending.
    pub declaration: Vec<String>,
}

/// The answers of one step.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerStep {
    pub step: String,
    pub title: String,
    pub entries: Vec<AnswerLine>,
    /// The same answers laid out like the receipt: one row per answer, a block (with its
    /// heading) per group and per repeated entry.
    pub blocks: Vec<super::answers::AnswerBlock>,
}

/// One answer: field, label, the text as read and the value to show.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnswerLine {
    pub field: String,
    pub label: String,
    pub text: String,
    pub value: Display,
}

/// A computed value (such as the fee) as read.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ComputedLine {
    pub field: String,
    pub label: String,
    pub text: String,
}

/// The stored receipt and what its signature check found.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReceiptView {
    /// Where to download it (the API's address; the detail page puts its own).
    pub url: String,
    pub present: bool,
    pub signature_valid: bool,
    pub signed_with_tenant_key: bool,
    pub signer: Option<String>,
    pub problem: Option<String>,
}

/// One delivery to the office's system.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryLine {
    pub id: u64,
    pub target: String,
    pub status: crate::delivery::DeliveryStatus,
    pub status_label: &'static str,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub next_attempt: Option<String>,
    pub next_attempt_text: Option<String>,
    pub delivered_at: Option<String>,
    pub delivered_text: Option<String>,
    pub failed_at: Option<String>,
    pub failed_text: Option<String>,
    pub failed: bool,
}

impl SubmissionView {
    pub fn of(p: &AppState, t: &Tenant, d: &Detail) -> SubmissionView {
        let answers = d.review.as_ref().map(|(r, declared)| AnswersView {
            declaration: declared.clone(),
            steps: r
                .steps
                .iter()
                .map(|s| AnswerStep {
                    step: s.step.clone(),
                    title: s.title.clone(),
                    blocks: super::answers::blocks(&s.entries),
                    entries: s
                        .entries
                        .iter()
                        .map(|e| AnswerLine {
                            field: e.field.clone(),
                            label: e.label.clone(),
                            text: e.value.flat(),
                            value: e.value.clone(),
                        })
                        .collect(),
                })
                .collect(),
            computed: r
                .computed
                .iter()
                .map(|e| ComputedLine {
                    field: e.field.clone(),
                    label: e.label.clone(),
                    text: e.value.flat(),
                })
                .collect(),
        });
        SubmissionView {
            id: d.sub.id,
            reference: d.sub.reference.to_string(),
            workflow_id: d.sub.workflow_id.clone(),
            workflow_version: d.sub.workflow_version.clone(),
            service_title: d.service_title.clone(),
            submitted: rfc3339(d.sub.submitted),
            submitted_text: when(d.sub.submitted),
            status: d.status().code(),
            status_label: d.status().label_de(),
            next_statuses: d.next_statuses().into_iter().map(StatusRef::from).collect(),
            history: d
                .history
                .iter()
                .map(|c| HistoryView {
                    status: c.status.code(),
                    status_label: c.status.label_de(),
                    at: rfc3339(c.at),
                    at_text: when(c.at),
                    by: actor_label(&c.actor, p),
                    note: c.note.clone(),
                })
                .collect(),
            messages: d
                .messages
                .iter()
                .map(|m| MessageView {
                    seq: m.seq,
                    at: rfc3339(m.at),
                    at_text: when(m.at),
                    from: match &m.from {
                        Party::Citizen => "citizen",
                        Party::Office { .. } => "office",
                    },
                    by: match &m.from {
                        Party::Citizen => "Antragstellende Person".to_string(),
                        Party::Office { account } => office_name(p, account),
                    },
                    body: m.body.clone(),
                })
                .collect(),
            answers,
            payment: PaymentLine::of(&d.sub.data),
            mandate: MandateLine::of(&d.sub.data, &d.sub.reference.to_string()),
            receipt: ReceiptView {
                url: format!(
                    "/api/v1/verwaltung/{}/antraege/{}/quittung.pdf",
                    t.slug, d.sub.id
                ),
                present: d.signature.present,
                signature_valid: d.signature.valid,
                signed_with_tenant_key: d.signature.own_key,
                signer: d.signature.signer.clone(),
                problem: d.signature.problem.clone(),
            },
            deliveries: d
                .deliveries
                .iter()
                .map(|x| DeliveryLine {
                    id: x.id,
                    target: x.target.clone(),
                    status: x.status,
                    status_label: x.status.label_de(),
                    attempts: x.attempts,
                    last_error: x.last_error.clone(),
                    next_attempt: x.next_attempt.map(rfc3339),
                    next_attempt_text: x.next_attempt.map(when),
                    delivered_at: x.delivered_at.map(rfc3339),
                    delivered_text: x.delivered_at.map(when),
                    failed_at: x.failed_at.map(rfc3339),
                    failed_text: x.failed_at.map(when),
                    failed: x.failed_at.is_some(),
                })
                .collect(),
            applicant: d.sub.applicant.clone(),
            case: d.case.clone(),
            attachments: super::attachments::views(
                &t.slug,
                &d.sub,
                d.review.as_ref().map(|(r, _)| r),
            ),
            data: d.sub.data.clone(),
        }
    }
}

pub(crate) fn text(input: &str, what: &str, required: bool) -> Result<Option<String>, AdminError> {
    let t = input.trim();
    if t.is_empty() {
        return if required {
            Err(AdminError::Invalid(format!("Bitte {what} eingeben.")))
        } else {
            Ok(None)
        };
    }
    if t.chars().count() > MAX_TEXT {
        return Err(AdminError::Invalid(format!(
            "{what}: höchstens {MAX_TEXT} Zeichen."
        )));
    }
    // Line breaks are fine in a message; control and text-direction characters are not (the
    // citizen's page, exports and receipts would show them raw).
    if lotse_core::form::forbidden_character(t, true).is_some() {
        return Err(AdminError::Invalid(format!(
            "{what}: enthält unsichtbare Steuer- oder Richtungszeichen. Bitte entfernen Sie sie."
        )));
    }
    Ok(Some(lotse_core::form::nfc(t).into_owned()))
}

/// A status change by a staff member; a Rückfrage needs its question as the comment, which
/// the citizen reads on the status page.
pub fn change_status(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    sid: &SubmissionId,
    to: &str,
    comment: &str,
) -> Result<(), AdminError> {
    let to = Status::from_code(to.trim())
        .ok_or_else(|| AdminError::Invalid(format!("status: unbekannt: {to}")))?;
    let note = text(comment, "einen Kommentar", to == Status::Rueckfrage)?;
    let sub = own(p, t, sid)?;
    let mail = crate::mail::status_message(p.config.mail.as_ref(), &p.defs().library, t, &sub, to);
    p.store.change_status_notifying(
        sid,
        StatusChange {
            status: to,
            at: p.now(),
            actor: Actor::Office {
                account: by.id.to_string(),
            },
            note,
        },
        mail.into_iter().collect(),
    )?;
    Ok(())
}

pub fn add_message(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    sid: &SubmissionId,
    body: &str,
) -> Result<Message, AdminError> {
    let body = text(body, "eine Nachricht", true)?.unwrap_or_default();
    own(p, t, sid)?;
    Ok(p.store.add_message(
        sid,
        Party::Office {
            account: by.id.to_string(),
        },
        body,
        p.now(),
    )?)
}

/// The stored, signed receipt: (reference, PDF bytes).
pub fn receipt(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    sid: &SubmissionId,
) -> Result<(String, Vec<u8>), AdminError> {
    let sub = own(p, t, sid)?;
    let pdf =
        crate::nodes::load_receipt(&p.store, &p.data, sid).map_err(|_| AdminError::NotFound)?;
    audit_read(p, t, office(me), sid, ReadKind::Receipt, None)?;
    Ok((sub.reference.to_string(), pdf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_a_query() {
        let f = Filters {
            status: Some("rueckfrage".into()),
            von: Some("2026-11-01".into()),
            bis: Some("2026-11-30".into()),
            seite: Some(3),
            ..Filters::default()
        };
        let q = f.query(25).unwrap_or_default();
        assert_eq!(q.status, Some(Status::Rueckfrage));
        assert_eq!(q.offset, 50);
        assert_eq!(q.limit, 25);
        assert_eq!(
            q.until.map(|u| u.unix_timestamp()),
            Some(time::macros::datetime!(2026-11-30 23:00 UTC).unix_timestamp())
        );
        assert!(
            Filters {
                status: Some("kaputt".into()),
                ..Filters::default()
            }
            .query(25)
            .is_err()
        );
        assert_eq!(
            f.query_string(),
            "status=rueckfrage&von=2026-11-01&bis=2026-11-30"
        );
    }

    #[test]
    fn far_dates_are_refused_with_a_message_not_a_panic() {
        for (von, bis) in [
            (None, Some("9999-12-31")),
            (Some("-9999-01-01"), None),
            (Some("0000-01-01"), None),
            (None, Some("1999-12-31")),
        ] {
            let f = Filters {
                von: von.map(String::from),
                bis: bis.map(String::from),
                ..Filters::default()
            };
            match f.query(25) {
                Err(AdminError::Invalid(m)) => assert!(m.contains("Datum"), "{m}"),
                other => panic!("{von:?} {bis:?}: {other:?}"),
            }
            assert!(f.export_query().is_err());
        }
    }
}
