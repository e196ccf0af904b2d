//! The Postkorb's exports (CSV and JSON Lines) of a filtered selection, pages and API alike:
//! each exported submission is a read in the audit log, written before the export is sent.

use lotse_store::{
    Account, AuditAction, AuditStore, PostkorbEntry, PostkorbQuery, ReadKind, Submission,
    SubmissionStore,
};
use serde_json::{Value, json};

use super::AdminError;
use super::service::{audit_refused, list, office, rfc3339};
use crate::state::AppState;
use crate::tenants::Tenant;

/// The selection's submissions with their current status, in list order.
fn selection(
    p: &AppState,
    t: &Tenant,
    q: &PostkorbQuery,
) -> Result<Vec<(PostkorbEntry, Submission)>, AdminError> {
    let tenant = super::tenant_id(t)?;
    let page = list(p, &tenant, q)?;
    let mut out = Vec::with_capacity(page.entries.len());
    for e in page.entries {
        // Belt and braces: the index is per tenant, the record says so too.
        if let Some(s) = p
            .store
            .submission(&e.id)?
            .filter(|s| s.tenant.slug() == t.slug)
        {
            out.push((e, s));
        }
    }
    Ok(out)
}

/// Writes a read (`export`) of every submission in an export to the audit log, before the
/// export is sent: in batches of 10,000 entries, each written at once and flushed.
fn audit_export(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    rows: &[(PostkorbEntry, Submission)],
) -> Result<(), AdminError> {
    let tenant = super::tenant_id(t)?;
    for chunk in rows.chunks(10_000) {
        let reads = chunk
            .iter()
            .map(|(_, s)| AuditAction::SubmissionRead {
                submission: s.id,
                what: ReadKind::Export,
                sha256: None,
            })
            .collect();
        p.store
            .append_audits(p.now(), office(me), Some(&tenant), reads)
            .map_err(|e| audit_refused(p, ReadKind::Export, e))?;
    }
    Ok(())
}

/// The selection of an export, each of its submissions a read in the audit log before
/// anything of it is sent.
fn audited_selection(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    q: &PostkorbQuery,
) -> Result<Vec<(PostkorbEntry, Submission)>, AdminError> {
    let rows = selection(p, t, q)?;
    audit_export(p, t, me, &rows)?;
    Ok(rows)
}

/// JSON Lines: one submission per line, exactly as stored, with its current status.
pub fn export_jsonl(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    q: &PostkorbQuery,
) -> Result<Vec<u8>, AdminError> {
    let rows = audited_selection(p, t, me, q)?;
    let mut out = Vec::new();
    for (e, s) in rows {
        let line = json!({
            "id": s.id, "reference": s.reference.to_string(), "tenant": s.tenant.slug(),
            "workflow_id": s.workflow_id, "workflow_version": s.workflow_version,
            "submitted": rfc3339(s.submitted), "status": e.status.code(),
            "status_at": rfc3339(e.status_at), "data": s.data,
        });
        out.extend_from_slice(line.to_string().as_bytes());
        out.push(b'\n');
    }
    Ok(out)
}

/// A CSV cell: quoted, and a leading `= + - @` (or tab, CR) neutralised with an apostrophe so
/// spreadsheets do not run it as a formula.
pub fn csv_cell(value: &str) -> String {
    let risky = value
        .chars()
        .next()
        .is_some_and(|c| matches!(c, '=' | '+' | '-' | '@' | '\t' | '\r'));
    let v = if risky {
        format!("'{value}")
    } else {
        value.to_string()
    };
    format!("\"{}\"", v.replace('"', "\"\""))
}

fn answer_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => if *b { "ja" } else { "nein" }.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

/// CSV (UTF-8 with BOM for spreadsheet programs, comma-separated, every cell quoted): fixed
/// columns, then one column per answer field of the selection (by field id).
pub fn export_csv(
    p: &AppState,
    t: &Tenant,
    me: &Account,
    q: &PostkorbQuery,
) -> Result<Vec<u8>, AdminError> {
    let rows = audited_selection(p, t, me, q)?;
    let mut fields: Vec<String> = Vec::new();
    for (_, s) in &rows {
        if let Some(answers) = s.data.get("answers").and_then(Value::as_object) {
            for k in answers.keys() {
                if !fields.contains(k) {
                    fields.push(k.clone());
                }
            }
        }
    }
    let mut out = String::from("\u{feff}");
    let mut header: Vec<String> = [
        "Aktenzeichen",
        "Leistung",
        "Version",
        "Eingang",
        "Status",
        "Status seit",
    ]
    .iter()
    .map(|h| csv_cell(h))
    .collect();
    header.extend(fields.iter().map(|f| csv_cell(f)));
    out.push_str(&header.join(","));
    out.push_str("\r\n");
    for (e, s) in &rows {
        let mut cells = vec![
            csv_cell(&s.reference.to_string()),
            csv_cell(&s.workflow_id),
            csv_cell(&s.workflow_version),
            csv_cell(&rfc3339(s.submitted)),
            csv_cell(e.status.label_de()),
            csv_cell(&rfc3339(e.status_at)),
        ];
        let answers = s.data.get("answers");
        cells.extend(fields.iter().map(|f| {
            csv_cell(
                &answers
                    .and_then(|a| a.get(f))
                    .map(answer_text)
                    .unwrap_or_default(),
            )
        }));
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    Ok(out.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_cannot_start_a_formula() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+49 2452"), "\"'+49 2452\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("Anna"), "\"Anna\"");
    }
}
