//! The case work of the Postkorb that the citizen never sees: who works on a case
//! (assignment), when to look at it again (Wiedervorlage) and internal notes. Blocking, like
//! `service`: callers run these through `admin::run`. Every change is a store call that writes
//! its audit entry in the same transaction; every function takes the tenant of the request and
//! treats another tenant's submission or account as not found or invalid.

use lotse_receipt::to_berlin;
use lotse_store::{
    Account, AccountId, AccountStore, Actor, CaseStore, Note, SubmissionId, TenantId,
};
use serde::Serialize;

use super::AdminError;
use super::service::{self, when};
use crate::state::AppState;
use crate::tenants::Tenant;

/// The day in Berlin: what "today" means for a follow-up date.
pub fn today(p: &AppState) -> time::Date {
    to_berlin(p.now()).date()
}

fn office(by: &Account) -> Actor {
    Actor::Office {
        account: by.id.to_string(),
    }
}

/// The tenant's staff who may work on submissions (for the choice of a colleague), by name.
pub fn colleagues(p: &AppState, tenant: &TenantId) -> Result<Vec<Account>, AdminError> {
    let mut all: Vec<Account> = p
        .store
        .accounts(tenant)?
        .into_iter()
        .filter(|a| !a.disabled && a.role.may_work_submissions())
        .collect();
    all.sort_by(|a, b| a.display_name.cmp(&b.display_name));
    Ok(all)
}

/// Who a value of the assignment form names: `mir` (the signed-in staff member), an account
/// id of a colleague of the same tenant, or empty (nobody).
fn assignee(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    value: &str,
) -> Result<Option<AccountId>, AdminError> {
    let value = value.trim();
    if value.is_empty() || value == "niemand" {
        return Ok(None);
    }
    if value == "mir" {
        return Ok(Some(by.id));
    }
    let invalid = || AdminError::Invalid("Bitte eine Person aus der Liste wählen.".into());
    let id: AccountId = value.parse().map_err(|_| invalid())?;
    let tenant = super::tenant_id(t)?;
    colleagues(p, &tenant)?
        .into_iter()
        .find(|a| a.id == id)
        .map(|a| Some(a.id))
        .ok_or_else(invalid)
}

/// Assigns a case (`mir`, a colleague's account id, or empty for nobody).
pub fn assign(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    sid: &SubmissionId,
    to: &str,
) -> Result<(), AdminError> {
    let to = assignee(p, t, by, to)?;
    service::own(p, t, sid)?;
    p.store.assign(sid, to, office(by), p.now())?;
    Ok(())
}

/// Sets the follow-up date (`YYYY-MM-DD`; empty removes it). A date in the past is refused:
/// a Wiedervorlage is for later (today is fine).
pub fn set_follow_up(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    sid: &SubmissionId,
    date: &str,
) -> Result<(), AdminError> {
    let date = date.trim();
    let on = if date.is_empty() {
        None
    } else {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        let d = time::Date::parse(date, &format).map_err(|_| {
            AdminError::Invalid("Wiedervorlage: bitte ein Datum wie 2026-12-01 angeben.".into())
        })?;
        if d < today(p) || d.year() > 9000 {
            return Err(AdminError::Invalid(
                "Wiedervorlage: bitte heute oder einen späteren Tag wählen.".into(),
            ));
        }
        Some(d)
    };
    service::own(p, t, sid)?;
    p.store.set_follow_up(sid, on, office(by), p.now())?;
    Ok(())
}

/// Adds an internal note.
pub fn add_note(
    p: &AppState,
    t: &Tenant,
    by: &Account,
    sid: &SubmissionId,
    body: &str,
) -> Result<Note, AdminError> {
    let body = service::text(body, "eine Notiz", true)?.unwrap_or_default();
    service::own(p, t, sid)?;
    Ok(p.store.add_note(sid, office(by), body, p.now())?)
}

/// One internal note as shown.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct NoteView {
    pub seq: u64,
    pub at: String,
    pub at_text: String,
    /// Who wrote it, by name.
    pub by: String,
    pub body: String,
}

/// The office's own case data, never shown to the citizen.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct CaseView {
    /// The account id the case is assigned to.
    pub assignee: Option<String>,
    pub assignee_name: Option<String>,
    /// Whether it is assigned to the staff member looking.
    pub assigned_to_me: bool,
    /// `YYYY-MM-DD`.
    pub follow_up: Option<String>,
    pub follow_up_text: Option<String>,
    /// The follow-up date is today or past (and the case is open).
    pub due: bool,
    pub notes: Vec<NoteView>,
    /// Colleagues to choose from (id, name, chosen).
    pub colleagues: Vec<ColleagueChoice>,
}

/// A colleague the case can be assigned to.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct ColleagueChoice {
    pub id: String,
    pub name: String,
    pub selected: bool,
    pub me: bool,
}

/// A date as case workers read it: `01.12.2026`.
pub fn date_text(d: time::Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

pub fn iso_date(d: time::Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Reads the case data of a submission already known to be the tenant's.
pub fn case_view(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    sid: &SubmissionId,
    closed: bool,
) -> Result<CaseView, AdminError> {
    let file = p.store.case_file(sid)?;
    let tenant = super::tenant_id(t)?;
    let staff = colleagues(p, &tenant)?;
    let name_of = |id: &AccountId| {
        staff
            .iter()
            .find(|a| a.id == *id)
            .map(|a| a.display_name.clone())
            .or_else(|| p.store.account(id).ok().flatten().map(|a| a.display_name))
    };
    let notes = p
        .store
        .notes(sid)?
        .into_iter()
        .map(|n| NoteView {
            seq: n.seq,
            at: service::rfc3339(n.at),
            at_text: when(n.at),
            by: match &n.author {
                Actor::Office { account } => service::office_name(p, account),
                _ => "System".into(),
            },
            body: n.body,
        })
        .collect();
    Ok(CaseView {
        assignee: file.assignee.map(|a| a.to_string()),
        assignee_name: file.assignee.as_ref().and_then(name_of),
        assigned_to_me: file.assignee == Some(me.id),
        follow_up: file.follow_up.map(iso_date),
        follow_up_text: file.follow_up.map(date_text),
        due: !closed && file.follow_up.is_some_and(|d| d <= today(p)),
        notes,
        colleagues: staff
            .iter()
            .map(|a| ColleagueChoice {
                id: a.id.to_string(),
                name: a.display_name.clone(),
                selected: file.assignee == Some(a.id),
                me: a.id == me.id,
            })
            .collect(),
    })
}
