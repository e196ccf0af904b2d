//! Nachweise on a submission's page: the files its answers name (docs/uploads.md), each with
//! its field, name, type, size, SHA-256 and scan state, and their download. Only a case
//! worker of the submission's tenant gets a file, and only one the submission names: another
//! tenant's submission and any other hash are "not found", like every Postkorb route.

use axum::extract::{Path, State};
use axum::response::Response;
use lotse_core::application::ReviewView;
use lotse_store::{
    Actor, AttachmentHash, AttachmentRef, ReadKind, ScanState, Submission, attachment_refs,
};
use serde::Serialize;

use super::extractors::CaseWorker;
use super::views::error_page;
use super::{AdminError, Shared, run, service};

/// One file in the list on a submission's page (and in the API's submission).
#[derive(Serialize, utoipa::ToSchema)]
pub struct AttachmentView {
    /// The field's id in the answers, and its label where the workflow names it.
    pub field: String,
    pub label: String,
    pub name: String,
    pub content_type: String,
    /// The kind as the office reads it ("PDF", "JPEG-Bild").
    pub kind: String,
    pub size: u64,
    /// The size as German writes it ("1,2 MB").
    pub size_text: String,
    pub sha256: String,
    /// `clean` or `unchecked` (the virus scanner could not be asked).
    pub scan: &'static str,
    pub unchecked: bool,
    /// The download in the Postkorb (a signed-in case worker of the tenant).
    pub url: String,
}

/// The files `sub` names, in the order of its answers.
pub fn views(tenant: &str, sub: &Submission, review: Option<&ReviewView>) -> Vec<AttachmentView> {
    let label_of = |field: &str| {
        review
            .into_iter()
            .flat_map(|r| r.steps.iter().flat_map(|s| s.entries.iter()))
            .find(|e| e.field == field)
            .map(|e| e.label.clone())
    };
    attachment_refs(&sub.data)
        .into_iter()
        .map(|(field, r)| AttachmentView {
            label: label_of(&field).unwrap_or_else(|| field.clone()),
            url: format!(
                "/verwaltung/{tenant}/antrag/{}/nachweis/{}",
                sub.id, r.sha256
            ),
            field,
            size_text: size_text(r.size),
            name: crate::uploads::download::safe_file_name(&r.name),
            kind: lotse_core::files::Kind::ALL
                .into_iter()
                .find(|k| k.mime() == r.content_type)
                .map_or_else(|| r.content_type.clone(), |k| k.label().to_string()),
            content_type: r.content_type,
            size: r.size,
            sha256: r.sha256.to_string(),
            scan: match r.scan {
                ScanState::Clean => "clean",
                ScanState::Unchecked => "unchecked",
            },
            unchecked: r.scan == ScanState::Unchecked,
        })
        .collect()
}

/// A size as German writes it: "830 Byte", "12,4 kB", "1,2 MB".
pub fn size_text(bytes: u64) -> String {
    lotse_core::files::human_size(bytes, lotse_core::Lang::De)
}

/// `GET /verwaltung/{tenant}/antrag/{id}/nachweis/{sha256}`: the file, if the tenant's
/// submission names it.
pub(super) async fn download(
    State(p): State<Shared>,
    CaseWorker { tenant: t, staff }: CaseWorker,
    Path((_, id, hash)): Path<(String, String, String)>,
) -> Response {
    let (p2, tc) = (p.clone(), t.clone());
    let me = staff.account.clone();
    let found = run(move || {
        let sid = service::parse_id(&id)?;
        let sub = service::own(&p2, &tc, &sid)?;
        let found = named(&sub, &hash)?;
        service::audit_read(
            &p2,
            &tc,
            service::office(&me),
            &sid,
            ReadKind::Attachment,
            Some(&found.sha256),
        )?;
        Ok(found)
    })
    .await;
    match found {
        Ok(r) => crate::uploads::download::respond(p.store.clone(), r).await,
        Err(e) => error_page(&p, &t, Some(&staff), e),
    }
}

/// The file with the SHA-256 `hash` (hex) among those `sub` names, or `NotFound`.
fn named(sub: &Submission, hash: &str) -> Result<AttachmentRef, AdminError> {
    let hash: AttachmentHash = hash.parse().map_err(|_| AdminError::NotFound)?;
    attachment_refs(&sub.data)
        .into_iter()
        .map(|(_, r)| r)
        .find(|r| r.sha256 == hash)
        .ok_or(AdminError::NotFound)
}

/// The query of a signed link: when it expires (unix seconds) and its signature.
#[derive(serde::Deserialize)]
pub(super) struct LinkQuery {
    bis: i64,
    sig: String,
}

/// `GET /nachweise/{tenant}/{id}/{sha256}?bis=…&sig=…`: the file, for the holder of a link
/// a webhook delivery carried (`crate::uploads::links`), while it has not expired. A link
/// that was changed or has expired is refused (403); a file the submission no longer has
/// (purged) is not found.
pub(super) async fn signed_download(
    State(p): State<Shared>,
    Path((tenant, id, hash)): Path<(String, String, String)>,
    query: Result<axum::extract::Query<LinkQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    use axum::http::StatusCode;
    use axum::response::IntoResponse;
    let refused = || {
        (
            StatusCode::FORBIDDEN,
            "Dieser Link ist ungültig oder abgelaufen.",
        )
            .into_response()
    };
    let not_found = || (StatusCode::NOT_FOUND, "Nicht gefunden").into_response();
    let Ok(axum::extract::Query(q)) = query else {
        return refused();
    };
    let valid = p
        .webhooks
        .links()
        .is_some_and(|l| l.check(&tenant, &id, &hash, q.bis, &q.sig, p.now()));
    if !valid {
        tracing::info!(event = "attachment_link_refused");
        return refused();
    }
    let p2 = p.clone();
    let found = run(move || {
        let sid = service::parse_id(&id)?;
        let sub = lotse_store::SubmissionStore::submission(&p2.store, &sid)?
            .filter(|s| s.tenant.slug() == tenant)
            .ok_or(AdminError::NotFound)?;
        let found = named(&sub, &hash)?;
        let t = p2.tenant(&tenant).ok_or(AdminError::NotFound)?;
        service::audit_read(
            &p2,
            &t,
            Actor::System,
            &sid,
            ReadKind::Link,
            Some(&found.sha256),
        )?;
        Ok(found)
    })
    .await;
    match found {
        Ok(r) => crate::uploads::download::respond(p.store.clone(), r).await,
        Err(AdminError::NotFound) => not_found(),
        Err(e) => {
            tracing::error!(event = "attachment_link_failed", cause = %e.message_de());
            (StatusCode::INTERNAL_SERVER_ERROR, "Interner Fehler").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_german_writes_them() {
        assert_eq!(size_text(0), "0 Byte");
        assert_eq!(size_text(999), "999 Byte");
        assert_eq!(size_text(12_449), "12,4 kB");
        assert_eq!(size_text(1_234_567), "1,2 MB");
        assert_eq!(size_text(20_000_000), "20 MB");
    }
}
