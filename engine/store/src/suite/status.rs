//! Shared cases: status history, messages, the audit log.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

pub(crate) fn status_history_follows_the_status_model<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(8);
    let sub = s.submit(new_submission(&mut e, "k"), T0).unwrap();
    let h = s.status_history(&sub.id).unwrap();
    assert_eq!(h.len(), 1);
    assert_eq!(h[0].status, Status::Eingegangen);
    s.change_status(
        &sub.id,
        change(Status::InBearbeitung, T0 + Duration::hours(1)),
    )
    .unwrap();
    s.change_status(&sub.id, change(Status::Rueckfrage, T0 + Duration::hours(2)))
        .unwrap();
    s.change_status(
        &sub.id,
        change(Status::InBearbeitung, T0 + Duration::hours(3)),
    )
    .unwrap();
    s.change_status(
        &sub.id,
        change(Status::Abgeschlossen, T0 + Duration::hours(4)),
    )
    .unwrap();
    let err = s
        .change_status(
            &sub.id,
            change(Status::InBearbeitung, T0 + Duration::hours(5)),
        )
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S009");
    let statuses: Vec<_> = s
        .status_history(&sub.id)
        .unwrap()
        .iter()
        .map(|c| c.status.label_de())
        .collect();
    assert_eq!(
        statuses,
        [
            "Eingegangen",
            "In Bearbeitung",
            "Rückfrage",
            "In Bearbeitung",
            "Abgeschlossen"
        ]
    );
    let mut e2 = DeterministicEntropy::new(9);
    let unknown = SubmissionId::generate(&mut e2).unwrap();
    assert_eq!(s.status_history(&unknown).unwrap_err().code(), "LOT-S002");
}

pub(crate) fn a_status_change_enqueues_its_messages_in_the_same_transaction<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(31);
    let sub = s.submit(new_submission(&mut e, "k"), T0).unwrap();
    let mail = |n: &str| NewOutboxMessage {
        topic: "mail.status_changed".into(),
        target: "mail".into(),
        payload: json!({ "submission": sub.id.to_string(), "n": n }),
    };
    let at = T0 + Duration::hours(1);
    s.change_status_notifying(&sub.id, change(Status::InBearbeitung, at), vec![mail("1")])
        .unwrap();
    let claimed = s.claim(at, Duration::minutes(5), 10).unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].topic, "mail.status_changed");
    assert_eq!(claimed[0].payload["n"], "1");
    assert_eq!(claimed[0].tenant, Some(sub.tenant.clone()));
    // A change the status model refuses stores nothing: no history entry and no message.
    let err = s
        .change_status_notifying(
            &sub.id,
            change(Status::Eingegangen, at + Duration::minutes(1)),
            vec![mail("2")],
        )
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S009");
    assert_eq!(s.status_history(&sub.id).unwrap().len(), 2);
    assert_eq!(
        s.outbox_backlog(at + Duration::minutes(1)).unwrap(),
        (0, 1),
        "only the claimed message of the first change (its lease runs)"
    );
}

pub(crate) fn messages_are_kept_in_order<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(10);
    let sub = s.submit(new_submission(&mut e, "k"), T0).unwrap();
    let office = Party::Office {
        account: "acct-17".into(),
    };
    s.add_message(&sub.id, office.clone(), "Bitte Nachweis senden".into(), T0)
        .unwrap();
    s.add_message(
        &sub.id,
        Party::Citizen,
        "Anbei".into(),
        T0 + Duration::hours(1),
    )
    .unwrap();
    let msgs = s.messages(&sub.id).unwrap();
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[0].from, office);
    assert_eq!(msgs[1].body, "Anbei");
    assert!(msgs[0].seq < msgs[1].seq);
    let unknown = SubmissionId::generate(&mut e).unwrap();
    let err = s
        .add_message(&unknown, Party::Citizen, "x".into(), T0)
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S002");
}

pub(crate) fn audit_log_records_who_what_when_without_personal_data<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(11);
    let sub = s.submit(new_submission(&mut e, "k"), T0).unwrap();
    s.change_status(&sub.id, change(Status::InBearbeitung, T0))
        .unwrap();
    s.add_message(
        &sub.id,
        Party::Citizen,
        "Erika Mustermann schreibt".into(),
        T0,
    )
    .unwrap();
    s.append_audit(
        T0,
        office(),
        Some(&tenant()),
        AuditAction::Other {
            code: "admin.export".into(),
        },
    )
    .unwrap();
    let read = AuditAction::SubmissionRead {
        submission: sub.id,
        what: crate::ReadKind::Attachment,
        sha256: Some("ab".repeat(32)),
    };
    s.append_audit(T0, office(), Some(&tenant()), read.clone())
        .unwrap();
    let log = s.audit_log(0, 100).unwrap();
    assert_eq!(log.len(), 5);
    assert_eq!(log[4].action, read, "a read comes back as written");
    assert_eq!(log[4].action.submission(), Some(&sub.id));
    assert_eq!(log[3].action.submission(), None);
    assert!(log.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(matches!(
        log[0].action,
        AuditAction::SubmissionReceived { .. }
    ));
    assert!(matches!(log[1].action, AuditAction::StatusChanged { .. }));
    assert_eq!(log[1].actor, office());
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("Mustermann"),
        "personal data in the audit log: {text}"
    );
    assert_eq!(s.audit_log(log[1].seq, 100).unwrap().len(), 3);
    // Many at once (an export): in their order, after the others, by the same actor.
    let reads: Vec<AuditAction> = [crate::ReadKind::Export, crate::ReadKind::Page]
        .into_iter()
        .map(|what| AuditAction::SubmissionRead {
            submission: sub.id,
            what,
            sha256: None,
        })
        .collect();
    s.append_audits(T0, office(), Some(&tenant()), reads.clone())
        .unwrap();
    s.append_audits(T0, office(), Some(&tenant()), Vec::new())
        .unwrap();
    let after = s.audit_log(log[4].seq, 100).unwrap();
    assert_eq!(
        after.iter().map(|e| e.action.clone()).collect::<Vec<_>>(),
        reads
    );
    assert!(after[0].seq > log[4].seq && after[1].seq > after[0].seq);
    assert!(after.iter().all(|e| e.actor == office()));

    // By submission, from the index: every entry about it (received, status, message, the
    // reads one by one and in a batch), none about another or about none.
    let other = s.submit(new_submission(&mut e, "k2"), T0).unwrap();
    s.append_audit(
        T0,
        office(),
        Some(&tenant()),
        AuditAction::SubmissionRead {
            submission: other.id,
            what: crate::ReadKind::Page,
            sha256: None,
        },
    )
    .unwrap();
    let about = s.submission_audit(&sub.id).unwrap();
    let expected: Vec<AuditEntry> = s
        .audit_log(0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.action.submission() == Some(&sub.id))
        .collect();
    assert_eq!(about, expected);
    assert_eq!(about.len(), 6, "received, status, message, 3 reads");
    assert!(about.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(s.submission_audit(&other.id).unwrap().len(), 2);
    let unknown = SubmissionId::generate(&mut e).unwrap();
    assert!(s.submission_audit(&unknown).unwrap().is_empty());
}
