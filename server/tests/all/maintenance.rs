//! Housekeeping: expired drafts go, closed submissions past their tenant's retention go with
//! their receipts, everything else stays; and `lotse serve` runs it at start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lotse_core::{Clock, SystemClock};
use lotse_server::maintenance::{Settings, run_once};
use lotse_store::{
    Actor, AnyStore, AttachmentHash, AttachmentStore, Draft, DraftStore, IdempotencyKey,
    NewSubmission, OsEntropy, SledStore, Status, StatusChange, StatusStore, SubmissionId,
    SubmissionStore, TenantId,
};
use serde_json::json;
use time::OffsetDateTime;

fn tenant(slug: &str, prefix: &str) -> TenantId {
    TenantId::new(slug, prefix).unwrap()
}

fn draft(t: &TenantId, created: OffsetDateTime) -> Draft {
    Draft::new(
        &mut OsEntropy,
        t.clone(),
        "hundesteuer-anmeldung",
        "1",
        json!({"answers": {"name": "Erika Mustermann"}}),
        created,
        time::Duration::days(30),
    )
    .unwrap()
}

fn closed_submission(
    s: &impl SubmissionStore,
    status: &impl StatusStore,
    t: &TenantId,
    key: &str,
    closed: Option<OffsetDateTime>,
    receipts: &Path,
) -> SubmissionId {
    let data = json!({"name": "Erika Mustermann"});
    closed_submission_with(s, status, t, key, closed, receipts, data)
}

fn closed_submission_with(
    s: &impl SubmissionStore,
    status: &impl StatusStore,
    t: &TenantId,
    key: &str,
    closed: Option<OffsetDateTime>,
    receipts: &Path,
    data: serde_json::Value,
) -> SubmissionId {
    let sub = s
        .submit(
            NewSubmission {
                id: SubmissionId::generate(&mut OsEntropy).unwrap(),
                tenant: t.clone(),
                idempotency_key: IdempotencyKey::try_from(key.to_owned()).unwrap(),
                draft_id: None,
                workflow_id: "hundesteuer-anmeldung".into(),
                workflow_version: "1".into(),
                data,
                applicant: None,
                search_text: String::new(),
                notifications: vec![],
            },
            SystemClock.now() - time::Duration::days(400),
        )
        .unwrap();
    if let Some(at) = closed {
        status
            .change_status(
                &sub.id,
                StatusChange {
                    status: Status::Abgeschlossen,
                    at,
                    actor: Actor::Office {
                        account: "acct-1".into(),
                    },
                    note: None,
                },
            )
            .unwrap();
    }
    std::fs::write(receipts.join(format!("{}.pdf", sub.id)), b"%PDF-1.7 test").unwrap();
    sub.id
}

#[test]
fn expired_drafts_and_long_closed_submissions_go_with_their_receipts_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let sled = SledStore::open(dir.path().join("store")).unwrap();
    let store = AnyStore::from(sled.clone());
    let now = SystemClock.now();
    let hei = tenant("heinsberg", "HEI");
    let erk = tenant("erkelenz", "ERK");

    let expired = draft(&hei, now - time::Duration::days(40));
    let live = draft(&hei, now - time::Duration::days(2));
    let fresh = draft(&hei, now - time::Duration::minutes(5));
    store.create_draft(&expired).unwrap();
    store.create_draft(&live).unwrap();
    store.create_draft(&fresh).unwrap();

    let old = now - time::Duration::days(200);
    let purged = closed_submission(&store, &store, &hei, "a", Some(old), &receipts);
    let recent = closed_submission(
        &store,
        &store,
        &hei,
        "b",
        Some(now - time::Duration::days(10)),
        &receipts,
    );
    let open = closed_submission(&store, &store, &hei, "c", None, &receipts);
    // Erkelenz keeps its submissions: no retention configured.
    let other = closed_submission(&store, &store, &erk, "d", Some(old), &receipts);

    let settings = Settings {
        interval: Duration::from_secs(3600),
        retention: vec![(hei.clone(), 180)],
        attachment_grace: time::Duration::hours(1),
    };
    let report = run_once(&store, &settings, now).unwrap();
    assert_eq!(report.drafts_expired, 1);
    // The draft nobody touched for two days leaves the small tree of recent drafts.
    assert_eq!(report.drafts_archived, 1);
    assert_eq!(sled.recent_draft_count(), 1);
    assert_eq!(store.draft(&fresh.id).unwrap(), Some(fresh));
    assert_eq!(store.draft(&live.id).unwrap(), Some(live.clone()));
    assert_eq!(report.purged, vec![("heinsberg".to_string(), 1)]);
    assert_eq!(report.receipts_removed, 1);

    assert!(store.draft(&expired.id).unwrap().is_none());
    assert!(store.draft(&live.id).unwrap().is_some());
    assert!(store.submission(&purged).unwrap().is_none());
    assert!(!receipts.join(format!("{purged}.pdf")).exists());
    for kept in [recent, open, other] {
        assert!(store.submission(&kept).unwrap().is_some());
        assert!(receipts.join(format!("{kept}.pdf")).exists());
    }

    // A second run finds nothing more to do.
    let again = run_once(&store, &settings, now).unwrap();
    assert_eq!(again.drafts_expired, 0);
    assert_eq!(again.drafts_archived, 0);
    assert_eq!(again.purged, vec![("heinsberg".to_string(), 0)]);
    assert_eq!(again.receipts_removed, 0);
}

/// Keeps `file` as an attachment and returns a file field's answer naming it.
fn upload(store: &AnyStore, name: &str, file: &[u8]) -> serde_json::Value {
    let hash = AttachmentHash::of(file);
    store
        .put_attachment(&hash, &mut &file[..], 1 << 20)
        .unwrap();
    json!([{"name": name, "type": "application/pdf", "size": file.len(),
            "sha256": hash.to_string(), "scan": "clean"}])
}

fn kept(store: &AnyStore, file: &[u8]) -> bool {
    store
        .attachment_size(&AttachmentHash::of(file))
        .unwrap()
        .is_some()
}

#[test]
fn attachments_go_at_the_first_run_after_their_draft_expired_or_submission_was_purged() {
    let dir = tempfile::tempdir().unwrap();
    let store = AnyStore::from(SledStore::open(dir.path().join("store")).unwrap());
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let hei = tenant("heinsberg", "HEI");
    let settings = Settings {
        interval: Duration::from_secs(3600),
        retention: vec![(hei.clone(), 180)],
        attachment_grace: time::Duration::hours(1),
    };
    let (lease, plan, loose) = (
        b"%PDF lease".to_vec(),
        b"%PDF plan".to_vec(),
        b"%PDF x".to_vec(),
    );
    let now = SystemClock.now();

    // The same lease in an expired draft and in one still open; a site plan in a submission
    // closed long ago; a file uploaded a moment ago whose draft is not saved yet.
    let mut expired = draft(&hei, now - time::Duration::days(40));
    expired.state = json!({"answers": {"mietvertrag": upload(&store, "Mietvertrag.pdf", &lease)}});
    let mut open = draft(&hei, now - time::Duration::days(2));
    open.state = json!({"answers": {"mietvertrag": upload(&store, "Vertrag.pdf", &lease)}});
    store.create_draft(&expired).unwrap();
    store.create_draft(&open).unwrap();
    let purged = closed_submission_with(
        &store,
        &store,
        &hei,
        "p",
        Some(now - time::Duration::days(200)),
        &receipts,
        json!({"name": "Erika Mustermann", "lageplan": upload(&store, "Lageplan.pdf", &plan)}),
    );
    upload(&store, "Neu.pdf", &loose);

    // Within the grace period: the draft and the submission go, every file stays (the plan
    // was referenced by nothing else than the purged submission, but it is new).
    let report = run_once(&store, &settings, now).unwrap();
    assert_eq!(report.drafts_expired, 1);
    assert!(store.submission(&purged).unwrap().is_none());
    assert_eq!(report.attachments_removed, 0);
    assert!(kept(&store, &lease) && kept(&store, &plan) && kept(&store, &loose));

    // Two hours later: the shared lease stays for the open draft; the rest goes.
    let later = now + time::Duration::hours(2);
    let report = run_once(&store, &settings, later).unwrap();
    assert_eq!(report.attachments_removed, 2);
    assert_eq!(
        report.attachment_bytes_removed,
        (plan.len() + loose.len()) as u64
    );
    assert!(kept(&store, &lease) && !kept(&store, &plan) && !kept(&store, &loose));

    // The open draft is deleted (submitted elsewhere, or expired): its lease goes next time.
    store.delete_draft(&open.id).unwrap();
    let report = run_once(&store, &settings, later).unwrap();
    assert_eq!(report.attachments_removed, 1);
    assert!(!kept(&store, &lease));
}

#[test]
fn lotse_serve_tidies_up_at_start_and_logs_only_counts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    {
        let store = SledStore::open(data.join("store")).unwrap();
        let hei = tenant("heinsberg", "HEI");
        store
            .create_draft(&draft(&hei, SystemClock.now() - time::Duration::days(40)))
            .unwrap();
        store.close().unwrap();
    }
    let config = dir.path().join("lotse.toml");
    std::fs::write(
        &config,
        "[maintenance]\ninterval_minutes = 5\n\n[tenants.heinsberg]\nretention_days = 365\n",
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(["serve", "--config"])
        .arg(&config)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .env("LOTSE_DATA_DIR", &data)
        .env("LOTSE_LISTEN", format!("127.0.0.1:{port}"))
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    // Should an assertion fail, the server must not outlive the test.
    let _reaper = Reaper(child.id());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("\"event\":\"maintenance") || line.starts_with("Lotse beendet") {
                let _ = tx.send(line);
            }
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let line = rx
        .recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .expect("no maintenance line within 60 s");
    // A graceful stop lets go of the housekeeping's store and closes it with a snapshot.
    let term = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(term.success());
    let bye = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("no goodbye within 30 s of SIGTERM");
    assert_eq!(bye, "Lotse beendet; Speicher geschlossen.");
    child.wait().unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v["event"], "maintenance", "{line}");
    assert_eq!(v["drafts_expired"], 1, "{line}");
    assert_eq!(v["purged"], "heinsberg:0", "{line}");
    assert_eq!(v["attachments_removed"], 0, "{line}");
    assert!(!line.contains("Erika"), "{line}");
}

/// Kills a child process by id when dropped (after a failed assertion); harmless once it ended.
struct Reaper(u32);

impl Drop for Reaper {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let _ = Command::new("kill")
                .args(["-KILL", &self.0.to_string()])
                .status();
        }
    }
}
