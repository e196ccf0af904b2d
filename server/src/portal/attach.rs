//! The file fields of a posted step: the files the post carried are judged and kept
//! (crate::uploads::intake), a file the citizen removed goes, and each file field's answer
//! becomes the list of its files, which the step's command carries like any other answer.
//! The answer is built here from what the draft already holds, never from what the form
//! says about earlier files: a forged form cannot claim a file it did not upload.

use std::collections::HashMap;

use lotse_core::Lang;
use lotse_core::definition::Step;
use lotse_core::files::FileEntry;
use lotse_core::form::FieldError;
use serde_json::{Map, Value};

use crate::http::run::blocking;
use crate::service::OpenDraft;
use crate::state::Shared;
use crate::tenants::Tenant;
use crate::uploads::intake::{Checks, Judged, Spooled, judge, merged};

/// The file fields of `step` with the most bytes each file may have.
pub(crate) fn limits(step: Option<&Step>) -> HashMap<String, u64> {
    step.map(|s| {
        s.fields
            .iter()
            .filter_map(|f| Some((f.id.clone(), f.files.as_ref()?.max_bytes)))
            .collect()
    })
    .unwrap_or_default()
}

/// What the post did to the step's files.
#[derive(Default)]
pub(crate) struct Attached {
    /// File field → its files now (only for a step with file fields).
    pub(crate) values: Map<String, Value>,
    /// Files refused, at their field.
    pub(crate) errors: Vec<FieldError>,
    /// How many files were kept by this post: the draft that names them is made durable
    /// before the page answers ([`crate::http::run::durable`]).
    pub(crate) uploaded: usize,
}

/// The files of `step` after this post: kept ones (the answer, or what was typed on the
/// step), minus the one `action` removes (`removefile:{field}:{sha256}`), plus the uploads,
/// judged on a blocking thread.
pub(crate) async fn attach(
    p: &Shared,
    t: &Tenant,
    open: &OpenDraft,
    step: &Step,
    action: &str,
    files: Vec<Spooled>,
    lang: Lang,
) -> Result<Attached, String> {
    let mut out = Attached::default();
    if !step.fields.iter().any(|f| f.files.is_some()) {
        return Ok(out);
    }
    let removed = action
        .strip_prefix("removefile:")
        .and_then(|r| r.split_once(':'));
    let rules: HashMap<String, _> = step
        .fields
        .iter()
        .filter_map(|f| Some((f.id.clone(), f.files.clone()?)))
        .collect();
    let p2 = p.clone();
    let unscanned = p.config.uploads.unscanned(p.config.tenants.get(&t.slug));
    let judged = blocking(move || {
        let checks = Checks {
            clamd: p2.clamd.as_ref(),
            unscanned,
            lang,
        };
        files
            .into_iter()
            .filter_map(|s| {
                let r = rules.get(&s.field)?;
                Some(judge(&p2.store, &checks, r, s))
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .await?;
    let mut added: HashMap<String, Vec<FileEntry>> = HashMap::new();
    for j in judged {
        match j {
            Judged::Kept { field, entry } => {
                out.uploaded += 1;
                added.entry(field).or_default().push(entry);
            }
            Judged::Refused {
                field,
                message,
                log,
            } => {
                if let Some(line) = log {
                    tracing::warn!(tenant = %t.slug, draft = %open.draft.id, "{line}");
                }
                out.errors.push(FieldError {
                    pointer: format!("/{field}"),
                    field,
                    kind: "file".into(),
                    message,
                });
            }
        }
    }
    for f in step.fields.iter().filter(|f| f.files.is_some()) {
        let before = open
            .app
            .shown_value(&step.id, &f.id)
            .map(FileEntry::list)
            .unwrap_or_default();
        let gone = removed.filter(|(field, _)| *field == f.id).map(|(_, h)| h);
        let now = merged(&before, gone, added.remove(&f.id).unwrap_or_default());
        let list = serde_json::to_value(now).map_err(|e| e.to_string())?;
        out.values.insert(f.id.clone(), list);
    }
    Ok(out)
}
