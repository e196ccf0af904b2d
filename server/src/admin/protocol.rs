//! The audit log for people: a tenant's entries, all of them, one submission's or those from a
//! day on, as JSON lines (for tools) or as a CSV table in German (for the Datenschutz officer's
//! spreadsheet: when in Berlin time, who by login, what in words, the reference). Written by
//! `lotse admin audit` and by the download on the Verwaltung's settings page.

use std::collections::HashMap;

use lotse_store::{
    AccountStore, Actor, AnyStore, AuditAction, AuditEntry, AuditStore, ReadKind, Reference,
    StoreError, SubmissionId, SubmissionStore, TenantId,
};

/// How `lotse admin audit` writes the entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One JSON object per line, as stored (with the login of an office account).
    Jsonl,
    /// A table with a header row, in German, UTF-8 with a byte order mark (for spreadsheets).
    Csv,
}

/// Which entries `lotse admin audit` prints.
pub(crate) struct Filter {
    pub(crate) submission: Option<SubmissionId>,
    pub(crate) since: Option<time::OffsetDateTime>,
}

/// What a submission's name (its id or its reference) found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Named {
    Found(SubmissionId),
    /// Neither an id nor a reference.
    NotAName,
    /// A reference this tenant never had.
    Unknown(Reference),
}

/// The submission `text` names: its id, or its reference (Aktenzeichen, `HEI-2026-000123`),
/// also one purged since (found by the audit entries that name the reference).
pub(crate) fn submission_named(
    store: &AnyStore,
    t: &TenantId,
    text: &str,
) -> Result<Named, StoreError> {
    let text = text.trim();
    if let Ok(id) = text.parse::<SubmissionId>() {
        return Ok(Named::Found(id));
    }
    let Ok(reference) = text.parse::<Reference>() else {
        return Ok(Named::NotAName);
    };
    if let Some(s) = store.submission_by_reference(t, &reference)? {
        return Ok(Named::Found(s.id));
    }
    let mut after = 0;
    loop {
        let page = store.audit_log(after, 1_000)?;
        let Some(last) = page.last() else {
            return Ok(Named::Unknown(reference));
        };
        after = last.seq;
        if let Some(id) = page
            .iter()
            .filter(|e| e.tenant.as_deref() == Some(t.slug()))
            .find_map(|e| match &e.action {
                AuditAction::SubmissionReceived {
                    submission,
                    reference: r,
                }
                | AuditAction::SubmissionPurged {
                    submission,
                    reference: r,
                } if *r == reference => Some(*submission),
                _ => None,
            })
        {
            return Ok(Named::Found(id));
        }
    }
}

/// Writes the tenant's audit entries that pass `filter` to `out`, oldest first, in `format`.
/// Reads the log in pages of 1,000, so its length does not matter; one submission's entries
/// through the store's index by submission.
pub(crate) fn print(
    store: &AnyStore,
    t: &TenantId,
    filter: &Filter,
    format: Format,
    out: &mut impl std::io::Write,
) -> anyhow::Result<()> {
    let logins: HashMap<String, String> = store
        .accounts(t)?
        .into_iter()
        .map(|a| (a.id.to_string(), a.login))
        .collect();
    // Each submission's reference, from its `submission_received` entry (which comes before
    // every other entry about it), for the table's column.
    let mut references: HashMap<SubmissionId, String> = HashMap::new();
    if format == Format::Csv {
        out.write_all(
            "\u{feff}\"Zeitpunkt (Berlin)\",\"Wer\",\"Was\",\"Aktenzeichen\",\"Antrag\",\"Nachweis (SHA-256)\",\"Anfrage\"\r\n"
                .as_bytes(),
        )?;
    }
    let mut emit = |e: AuditEntry| -> anyhow::Result<()> {
        if e.tenant.as_deref() != Some(t.slug()) {
            return Ok(());
        }
        if let AuditAction::SubmissionReceived {
            submission,
            reference,
        } = &e.action
        {
            references.insert(*submission, reference.to_string());
        }
        if filter.since.is_some_and(|s| e.at < s)
            || filter
                .submission
                .as_ref()
                .is_some_and(|s| e.action.submission() != Some(s))
        {
            return Ok(());
        }
        match format {
            Format::Jsonl => writeln!(out, "{}", json_line(&e, &logins)?)?,
            Format::Csv => write!(out, "{}", csv_row(&e, &logins, &references))?,
        }
        Ok(())
    };
    // One submission's entries come from the store's index (its `submission_received` first).
    if let Some(id) = &filter.submission {
        for e in store.submission_audit(id)? {
            emit(e)?;
        }
        return Ok(());
    }
    let mut after = 0;
    loop {
        let page = store.audit_log(after, 1_000)?;
        let Some(last) = page.last() else {
            break;
        };
        after = last.seq;
        for e in page {
            emit(e)?;
        }
    }
    Ok(())
}

/// The entry as stored, with the login of an office account beside its id.
fn json_line(e: &AuditEntry, logins: &HashMap<String, String>) -> anyhow::Result<String> {
    let mut line = serde_json::to_value(e)?;
    if let Actor::Office { account } = &e.actor
        && let Some(login) = logins.get(account)
        && let Some(actor) = line.get_mut("actor").and_then(|a| a.as_object_mut())
    {
        actor.insert("login".into(), login.clone().into());
    }
    Ok(line.to_string())
}

/// One row of the table, ending in CRLF; every cell quoted and safe from formulas.
fn csv_row(
    e: &AuditEntry,
    logins: &HashMap<String, String>,
    references: &HashMap<SubmissionId, String>,
) -> String {
    use crate::admin::csv_cell;
    let when = lotse_receipt::to_berlin(e.at);
    let when = format!(
        "{:02}.{:02}.{:04} {:02}:{:02}:{:02}",
        when.day(),
        u8::from(when.month()),
        when.year(),
        when.hour(),
        when.minute(),
        when.second()
    );
    let who = match &e.actor {
        Actor::Citizen => "Bürgerin oder Bürger".to_string(),
        Actor::System => "System".to_string(),
        Actor::Office { account } => logins
            .get(account)
            .cloned()
            .unwrap_or_else(|| format!("Konto {account}")),
    };
    let submission = e.action.submission();
    let reference = submission
        .and_then(|s| references.get(s).cloned())
        .or_else(|| match &e.action {
            AuditAction::SubmissionPurged { reference, .. } => Some(reference.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let sha256 = match &e.action {
        AuditAction::SubmissionRead { sha256, .. } => sha256.clone().unwrap_or_default(),
        _ => String::new(),
    };
    let cells = [
        when,
        who,
        what(&e.action, logins),
        reference,
        submission.map(ToString::to_string).unwrap_or_default(),
        sha256,
        e.request_id.clone().unwrap_or_default(),
    ];
    let mut row = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

/// What happened, in German words.
fn what(action: &AuditAction, logins: &HashMap<String, String>) -> String {
    match action {
        AuditAction::SubmissionReceived { .. } => "Antrag eingegangen".into(),
        AuditAction::StatusChanged { from, to, .. } => {
            format!("Status geändert: {} → {}", from.label_de(), to.label_de())
        }
        AuditAction::MessageAdded { .. } => "Nachricht geschrieben".into(),
        AuditAction::SubmissionPurged { .. } => {
            "Antrag gelöscht (Aufbewahrungsfrist abgelaufen)".into()
        }
        AuditAction::CaseAssigned { to: Some(to), .. } => format!(
            "zugewiesen an {}",
            logins
                .get(to)
                .cloned()
                .unwrap_or_else(|| format!("Konto {to}"))
        ),
        AuditAction::CaseAssigned { to: None, .. } => "Zuweisung aufgehoben".into(),
        AuditAction::NoteAdded { .. } => "interne Notiz hinzugefügt".into(),
        AuditAction::FollowUpSet { on: Some(on), .. } => format!(
            "Wiedervorlage gesetzt: {:02}.{:02}.{:04}",
            on.day(),
            u8::from(on.month()),
            on.year()
        ),
        AuditAction::FollowUpSet { on: None, .. } => "Wiedervorlage entfernt".into(),
        AuditAction::DraftsExpired { count } => format!("{count} Entwürfe abgelaufen"),
        AuditAction::Other { code } => match code.as_str() {
            "admin.login" => "angemeldet".into(),
            "admin.logout" => "abgemeldet".into(),
            "admin.export" => "Postkorb exportiert".into(),
            "admin.settings_export" => "Einstellungen exportiert".into(),
            "admin.audit_export" => "Protokoll heruntergeladen".into(),
            "admin.account_created" => "Konto angelegt".into(),
            "admin.account_disabled" => "Konto gesperrt".into(),
            "admin.account_enabled" => "Konto entsperrt".into(),
            "admin.account_reset" => "neues Passwort für ein Konto gesetzt".into(),
            other => other.to_string(),
        },
        AuditAction::SubmissionRead { what, .. } => match what {
            ReadKind::Page => "Antrag geöffnet (Postkorb)",
            ReadKind::Api => "Antrag gelesen (API)",
            ReadKind::Receipt => "Eingangsbestätigung heruntergeladen",
            ReadKind::Attachment => "Nachweis heruntergeladen",
            ReadKind::Link => "Nachweis über signierten Link abgerufen",
            ReadKind::Export => "Antrag exportiert",
        }
        .into(),
        AuditAction::TenantSettingsChanged { part, .. } => {
            format!("Einstellungen geändert: {part}")
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::admin::accounts::{self, NewAccount};
    use lotse_store::{
        IdempotencyKey, NewSubmission, OsEntropy, Role, SledStore, StatusStore, Submission,
    };
    use time::macros::datetime;

    fn submit(store: &AnyStore, t: &TenantId, key: &str) -> Submission {
        store
            .submit(
                NewSubmission {
                    id: SubmissionId::generate(&mut OsEntropy).unwrap(),
                    tenant: t.clone(),
                    idempotency_key: IdempotencyKey::try_from(key.to_string()).unwrap(),
                    draft_id: None,
                    workflow_id: "hundesteuer".into(),
                    workflow_version: "1".into(),
                    data: serde_json::json!({"answers": {}}),
                    applicant: None,
                    search_text: String::new(),
                    notifications: vec![],
                },
                datetime!(2026-11-20 10:00 UTC),
            )
            .unwrap()
    }

    /// A submission is named by its id or its reference, also once it is purged; another
    /// tenant's reference and nonsense are clear errors.
    #[test]
    fn a_submission_is_named_by_id_or_reference_even_after_its_purge() {
        let dir = tempfile::tempdir().unwrap();
        let store: AnyStore = SledStore::open(dir.path().join("store")).unwrap().into();
        let hei = TenantId::new("heinsberg", "HEI").unwrap();
        let erk = TenantId::new("erkelenz", "ERK").unwrap();
        let kept = submit(&store, &hei, "a");
        let gone = submit(&store, &hei, "b");
        let theirs = submit(&store, &erk, "c");
        let by = |text: &str| submission_named(&store, &hei, text).unwrap();
        assert_eq!(by(&kept.id.to_string()), Named::Found(kept.id));
        assert_eq!(by(&kept.reference.to_string()), Named::Found(kept.id));
        // Closed long ago and purged: found through the audit log's entries.
        store
            .change_status(
                &gone.id,
                lotse_store::StatusChange {
                    status: lotse_store::Status::Abgeschlossen,
                    at: datetime!(2026-11-21 10:00 UTC),
                    actor: Actor::System,
                    note: None,
                },
            )
            .unwrap();
        let purged = store
            .purge_closed(
                &hei,
                time::Duration::days(30),
                datetime!(2027-12-01 00:00 UTC),
            )
            .unwrap();
        assert_eq!(purged, 1);
        assert!(store.submission(&gone.id).unwrap().is_none());
        assert_eq!(by(&gone.reference.to_string()), Named::Found(gone.id));
        assert_eq!(
            by(&theirs.reference.to_string()),
            Named::Unknown(theirs.reference.clone())
        );
        assert_eq!(by("Antrag 7"), Named::NotAName);
        store.close().unwrap();
    }

    /// The table: a header, one row per entry of the tenant in German words, Berlin time, the
    /// login for an office account, the reference also on the rows after the submission's
    /// first; cells quoted and a login that starts like a formula neutralised.
    #[test]
    fn the_csv_table_says_when_who_and_what_in_german() {
        let dir = tempfile::tempdir().unwrap();
        let store: AnyStore = SledStore::open(dir.path().join("store")).unwrap().into();
        let hei = TenantId::new("heinsberg", "HEI").unwrap();
        let erk = TenantId::new("erkelenz", "ERK").unwrap();
        let sb = accounts::create_account(
            &store,
            &hei,
            NewAccount {
                login: "-sb",
                display_name: "",
                role: Role::CaseWorker,
                password: "ein-langes-passwort",
            },
            argon2::Params::new(8, 1, 1, None).unwrap(),
            datetime!(2026-11-20 09:00 UTC),
        )
        .unwrap();
        let sub = submit(&store, &hei, "a");
        submit(&store, &erk, "b");
        store
            .change_status(
                &sub.id,
                lotse_store::StatusChange {
                    status: lotse_store::Status::InBearbeitung,
                    at: datetime!(2026-11-21 10:00 UTC),
                    actor: Actor::Office {
                        account: sb.id.to_string(),
                    },
                    note: Some("Frau Schmitz".into()),
                },
            )
            .unwrap();
        store
            .append_audit(
                datetime!(2026-07-01 12:00 UTC),
                Actor::Office {
                    account: sb.id.to_string(),
                },
                Some(&hei),
                AuditAction::SubmissionRead {
                    submission: sub.id,
                    what: ReadKind::Attachment,
                    sha256: Some("ab".repeat(32)),
                },
            )
            .unwrap();
        let table = |filter: &Filter| {
            let mut out = Vec::new();
            print(&store, &hei, filter, Format::Csv, &mut out).unwrap();
            String::from_utf8(out).unwrap()
        };
        let all = table(&Filter {
            submission: None,
            since: None,
        });
        let rows: Vec<&str> = all.split_terminator("\r\n").collect();
        assert_eq!(
            rows,
            [
                "\u{feff}\"Zeitpunkt (Berlin)\",\"Wer\",\"Was\",\"Aktenzeichen\",\"Antrag\",\"Nachweis (SHA-256)\",\"Anfrage\"".to_string(),
                format!(
                    "\"20.11.2026 11:00:00\",\"Bürgerin oder Bürger\",\"Antrag eingegangen\",\"{}\",\"{}\",\"\",\"\"",
                    sub.reference, sub.id
                ),
                format!(
                    "\"21.11.2026 11:00:00\",\"'-sb\",\"Status geändert: Eingegangen → In Bearbeitung\",\"{}\",\"{}\",\"\",\"\"",
                    sub.reference, sub.id
                ),
                // Summer time: two hours ahead of UTC.
                format!(
                    "\"01.07.2026 14:00:00\",\"'-sb\",\"Nachweis heruntergeladen\",\"{}\",\"{}\",\"{}\",\"\"",
                    sub.reference,
                    sub.id,
                    "ab".repeat(32)
                ),
            ]
        );
        assert!(!all.contains("Schmitz"), "no note text: {all}");
        // From a day on (Berlin time): the status change only.
        let since = table(&Filter {
            submission: None,
            since: Some(crate::admin::day_start("2026-11-21", "--since").unwrap()),
        });
        assert_eq!(since.split_terminator("\r\n").count(), 2, "{since}");
        assert!(since.contains("Status geändert"));
    }
}
