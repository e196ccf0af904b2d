//! Uploads through the API (docs/uploads.md): a file is sent as the raw body of
//! `POST …/applications/{id}/steps/{step}/files/{field}?revision=N&name=Mietvertrag.pdf`,
//! streamed into the spool, judged as on the HTML step (size, kind from the bytes, the virus
//! scan) and added to the field's files in the draft; `DELETE …/files/{field}/{sha256}`
//! removes one. The files of a file field are the server's: an answer (`PUT …/steps/{step}`)
//! can keep or leave out files the draft has, never name one it has not.

use super::*;

use axum::extract::Query;
use http_body_util::BodyExt;
use lotse_core::files::FileEntry;

use crate::http::run::run_command;
use crate::uploads::intake::{Checks, Judged, judge, merged};

/// `?revision=…&name=…` of an upload; `?revision=…` of a removal.
#[derive(Deserialize, ToSchema, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(super) struct FileQuery {
    /// The revision the client last read.
    revision: u64,
    /// The file's name as the citizen knows it (shown and offered for download, cleaned).
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    lang: Option<LangTag>,
}

/// The file field `field` of `step`, with its rules, or a 404 problem.
fn file_field<'a>(
    open: &'a OpenDraft,
    step: &str,
    field: &str,
) -> Result<&'a lotse_core::definition::Field, Problem> {
    open.wf
        .step(step)
        .and_then(|s| s.fields.iter().find(|f| f.id == field))
        .filter(|f| f.files.is_some())
        .ok_or_else(|| Problem::not_found("Dieses Dateifeld", "This file field"))
}

/// Keeps the step's typed answers with `field` set to `files`; a list that cannot be written is
/// an error (LOT-A007), never an empty list.
fn keep(
    open: &OpenDraft,
    step: &str,
    field: &str,
    files: Vec<FileEntry>,
) -> Result<Command, Problem> {
    let mut values = open
        .app
        .typed_on(step)
        .map(|t| t.values.clone())
        .or_else(|| open.app.pending.get(step).cloned())
        .unwrap_or_default();
    let list =
        serde_json::to_value(files).map_err(|e| service_problem(&ServiceError::Encode(e)))?;
    values.insert(field.to_string(), list);
    Ok(Command::Keep {
        step: step.to_string(),
        values,
        removed: None,
    })
}

pub(super) async fn upload(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id, step, field)): Path<(String, String, String, String)>,
    Query(q): Query<FileQuery>,
    mut body: axum::body::Body,
) -> ApiResult {
    let open = super::applications::open(&p, t.clone(), &id).await?;
    let f = file_field(&open, &step, &field)?;
    let rules = f.files.clone().unwrap_or_default();
    let lang = q.lang.map(Lang::from).unwrap_or(open.app.lang);
    let name = q.name.as_deref().unwrap_or("Datei");
    let mut spooling = p
        .spool
        .begin(&field, name, rules.max_bytes)
        .map_err(|e| service_problem(&ServiceError::Interrupted(e.to_string())))?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|_| {
            Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "LOT-H413",
                "Die Datei ist zu groß oder kam nicht vollständig an.".into(),
                "The file is too large or did not arrive completely.".into(),
            )
        })?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        spooling
            .push(&chunk)
            .map_err(|e| service_problem(&ServiceError::Interrupted(e.to_string())))?;
    }
    let Some(spooled) = spooling.finish() else {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "LOT-H012",
            "Die Datei ist leer.".into(),
            "The file is empty.".into(),
        ));
    };
    let unscanned = p.config.uploads.unscanned(p.config.tenants.get(&t.slug));
    let p2 = p.clone();
    let judged = blocking(move || {
        let checks = Checks {
            clamd: p2.clamd.as_ref(),
            unscanned,
            lang,
        };
        judge(&p2.store, &checks, &rules, spooled)
    })
    .await
    .map_err(|e| service_problem(&ServiceError::Interrupted(e)))?;
    let entry = match judged {
        Judged::Kept { entry, .. } => entry,
        Judged::Refused { message, log, .. } => {
            if let Some(line) = log {
                tracing::warn!(tenant = %t.slug, draft = %open.draft.id, "{line}");
            }
            return Err(Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "LOT-H024",
                message.clone(),
                message,
            )
            .with("field", json!(field)));
        }
    };
    let files = merged(
        &crate::service::files::known(&open, &step, &field),
        None,
        vec![entry],
    );
    let command = keep(&open, &step, &field, files)?;
    let answer = done(&p, t, open, q.revision, lang, command).await?;
    // An acknowledged file is never lost: the draft that names it is made durable first.
    crate::http::run::durable(&p)
        .await
        .map_err(|e| service_problem(&ServiceError::Interrupted(e)))?;
    Ok(answer)
}

pub(super) async fn remove(
    State(p): State<Shared>,
    ApiTenant(t): ApiTenant,
    Path((_, id, step, field, sha256)): Path<(String, String, String, String, String)>,
    Query(q): Query<FileQuery>,
) -> ApiResult {
    let open = super::applications::open(&p, t.clone(), &id).await?;
    file_field(&open, &step, &field)?;
    let before = crate::service::files::known(&open, &step, &field);
    if !before.iter().any(|e| e.sha256 == sha256) {
        return Err(Problem::not_found("Diese Datei", "This file"));
    }
    let files = merged(&before, Some(&sha256), Vec::new());
    let lang = q.lang.map(Lang::from).unwrap_or(open.app.lang);
    let command = keep(&open, &step, &field, files)?;
    done(&p, t, open, q.revision, lang, command).await
}

async fn done(
    p: &Shared,
    t: Arc<Tenant>,
    open: OpenDraft,
    revision: u64,
    lang: Lang,
    command: Command,
) -> ApiResult {
    match run_command(p, t.clone(), open, revision, Some(lang), command, p.now()).await {
        Ok(Acted::Saved(open)) => Ok(ok_bytes(StatusCode::OK, state_json(p, &t, &open))),
        Ok(Acted::Stale { current }) => Err(Problem::stale(current)),
        Ok(_) => Err(Problem::not_found("Diesen Schritt", "This step")),
        Err(e) => Err(service_problem(&e)),
    }
}
