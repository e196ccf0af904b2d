//! The files an application names: only those its draft has (each uploaded, judged and
//! kept before), whatever a form or a request claims.

use lotse_core::Command;
use lotse_core::files::FileEntry;
use serde_json::json;

use super::OpenDraft;

/// The files the draft holds for `field` of `step`: as the step shows them (typed, sent in a
/// refused answer, or answered).
pub(crate) fn known(open: &OpenDraft, step: &str, field: &str) -> Vec<FileEntry> {
    open.app
        .shown_value(step, field)
        .map(FileEntry::list)
        .unwrap_or_default()
}

/// An answer's file fields hold only files the draft has (uploaded through the API's `upload` or the step form): an
/// entry the draft does not know is left out.
pub(crate) fn known_files_only(open: &OpenDraft, command: &mut Command) {
    let (Command::Answer { step, values, .. } | Command::Keep { step, values, .. }) = command
    else {
        return;
    };
    let Some(s) = open.wf.step(step) else {
        return;
    };
    for f in s.fields.iter().filter(|f| f.files.is_some()) {
        let Some(v) = values.get_mut(&f.id) else {
            continue;
        };
        let have = known(open, step, &f.id);
        let kept: Vec<FileEntry> = FileEntry::list(v)
            .into_iter()
            .filter_map(|e| have.iter().find(|h| h.sha256 == e.sha256).cloned())
            .collect();
        *v = serde_json::to_value(kept).unwrap_or_else(|_| json!([]));
    }
}
