//! The office's reads of a submission as its citizen sees them (the status page's "Wer hat Ihren
//! Antrag eingesehen?" and the citizen API's `reads`): from the audit log's index by
//! submission, what was read and when; never who in the office (that is the Protokoll's).

use lotse_core::Lang;
use lotse_store::{Actor, AnyStore, AuditAction, AuditStore, ReadKind, StoreError, SubmissionId};
use time::OffsetDateTime;

use crate::http::pages::tr;

/// One read of a submission by the office.
pub(crate) struct OfficeRead {
    pub(crate) at: OffsetDateTime,
    pub(crate) what: ReadKind,
    /// Who read it: for grouping repeated reads only, never shown to the citizen.
    pub(crate) by: Actor,
}

/// The office's reads of `sid`, oldest first.
pub(crate) fn office_reads(
    store: &AnyStore,
    sid: &SubmissionId,
) -> Result<Vec<OfficeRead>, StoreError> {
    Ok(store
        .submission_audit(sid)?
        .into_iter()
        .filter_map(|e| match e.action {
            AuditAction::SubmissionRead { what, .. } => Some(OfficeRead {
                at: e.at,
                what,
                by: e.actor,
            }),
            _ => None,
        })
        .collect())
}

/// What the citizen reads about one kind of access.
pub(crate) fn label(what: ReadKind, lang: Lang) -> &'static str {
    match what {
        ReadKind::Page => tr(
            lang,
            "In der Sachbearbeitung geöffnet",
            "Opened by a case worker",
        ),
        ReadKind::Api => tr(
            lang,
            "Von der Fachanwendung der Verwaltung abgerufen",
            "Fetched by the office's case management system",
        ),
        ReadKind::Receipt => tr(
            lang,
            "Quittung (PDF) von der Verwaltung geöffnet",
            "Receipt (PDF) opened by the office",
        ),
        ReadKind::Attachment => tr(
            lang,
            "Ein Nachweis in der Sachbearbeitung geöffnet",
            "A supporting document opened by a case worker",
        ),
        ReadKind::Link => tr(
            lang,
            "Ein Nachweis an die Fachanwendung übermittelt",
            "A supporting document passed to the case management system",
        ),
        ReadKind::Export => tr(
            lang,
            "In einem Datenexport der Verwaltung enthalten",
            "Included in a data export of the office",
        ),
    }
}
