//! Shared cases: the Postkorb for daily work (applicant, search, assignment, follow-up dates,
//! internal notes) and the indexes and counters behind it.

use super::*;

fn pk(s: &impl Store, q: PostkorbQuery) -> PostkorbPage {
    s.postkorb(
        &tenant(),
        &PostkorbQuery {
            limit: if q.limit == 0 { 50 } else { q.limit },
            ..q
        },
    )
    .unwrap()
}

fn ids(page: &PostkorbPage) -> Vec<SubmissionId> {
    page.entries.iter().map(|e| e.id).collect()
}

fn submit_as(
    s: &impl Store,
    e: &mut DeterministicEntropy,
    key: &str,
    applicant: Option<&str>,
    text: &str,
    at: OffsetDateTime,
) -> Submission {
    let mut n = new_submission(e, key);
    n.applicant = applicant.map(str::to_owned);
    n.search_text = text.to_owned();
    s.submit(n, at).unwrap()
}

fn account(e: &mut DeterministicEntropy) -> AccountId {
    let mut b = [0u8; 16];
    e.fill_bytes(&mut b).unwrap();
    AccountId::from_key(&b).unwrap()
}

pub(crate) fn postkorb_lists_applicants_and_finds_them_by_name_or_answer<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(71);
    let anna = submit_as(
        s,
        &mut e,
        "a",
        Some("Anna Müller"),
        "Frau Anna Müller Hauptstraße 5 52525 Heinsberg Dackel Bello",
        T0,
    );
    let bernd = submit_as(
        s,
        &mut e,
        "b",
        Some("Bernd Schmidt"),
        "Herr Bernd Schmidt Lindenweg 2 Wegberg Pudel",
        T0 + Duration::hours(1),
    );
    let firma = submit_as(
        s,
        &mut e,
        "c",
        Some("Bau GmbH"),
        "Bau GmbH Anna Schmidt Gerüst",
        T0 + Duration::hours(2),
    );
    let mut foreign = new_submission(&mut e, "a");
    foreign.tenant = TenantId::new("wegberg", "WEG").unwrap();
    foreign.applicant = Some("Anna Müller".into());
    foreign.search_text = "Anna Müller".into();
    s.submit(foreign, T0).unwrap();

    let all = pk(s, PostkorbQuery::default());
    assert_eq!(ids(&all), vec![firma.id, bernd.id, anna.id]);
    assert_eq!(all.entries[2].applicant.as_deref(), Some("Anna Müller"));
    assert!(!all.truncated);

    let search = |text: &str| {
        ids(&pk(
            s,
            PostkorbQuery {
                text: Some(text.into()),
                ..Default::default()
            },
        ))
    };
    assert_eq!(search("Anna"), vec![firma.id, anna.id], "name and answer");
    assert_eq!(search("mül"), vec![anna.id], "ü typed, ü stored");
    assert_eq!(search("Mueller"), vec![anna.id], "ue typed, ü stored");
    assert_eq!(
        search("anna schm"),
        vec![firma.id],
        "every word, as a prefix"
    );
    assert_eq!(
        search("STRASSE"),
        Vec::<SubmissionId>::new(),
        "words begin terms"
    );
    assert_eq!(search("hauptstr"), vec![anna.id]);
    assert_eq!(search("pudel"), vec![bernd.id], "any answer");
    assert_eq!(search("52525"), vec![anna.id]);
    assert_eq!(search("anna berlin"), Vec::<SubmissionId>::new());
    assert_eq!(
        search("  "),
        vec![firma.id, bernd.id, anna.id],
        "no words: no search"
    );

    let found = pk(
        s,
        PostkorbQuery {
            text: Some("anna".into()),
            status: Some(Status::InBearbeitung),
            ..Default::default()
        },
    );
    assert_eq!(found.total, 0);
    assert_eq!(
        found.counts[&Status::Eingegangen],
        2,
        "counts of the search"
    );

    // A search combines with the other filters.
    s.change_status(
        &anna.id,
        change(Status::InBearbeitung, T0 + Duration::days(1)),
    )
    .unwrap();
    let found = pk(
        s,
        PostkorbQuery {
            text: Some("anna".into()),
            status: Some(Status::InBearbeitung),
            ..Default::default()
        },
    );
    assert_eq!(ids(&found), vec![anna.id]);
    assert_eq!(found.counts[&Status::Eingegangen], 1);
    assert_eq!(found.counts[&Status::InBearbeitung], 1);
}

pub(crate) fn reference_search_finds_by_number_year_or_whole_reference<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(72);
    let subs: Vec<Submission> = (0..12)
        .map(|i| {
            submit_as(
                s,
                &mut e,
                &format!("r{i}"),
                None,
                "",
                T0 + Duration::minutes(i),
            )
        })
        .collect();
    let find = |text: &str| {
        ids(&pk(
            s,
            PostkorbQuery {
                reference: Some(text.into()),
                ..Default::default()
            },
        ))
    };
    let eleven = vec![subs[10].id];
    assert_eq!(find("HEI-2026-000011"), eleven);
    assert_eq!(find("hei-2026-11"), eleven);
    assert_eq!(find("2026-000011"), eleven);
    assert_eq!(find("11"), eleven);
    assert_eq!(find(" 000011 "), eleven);
    assert!(find("2025-11").is_empty(), "another year");
    assert!(
        find("WEG-2026-000011").is_empty(),
        "another tenant's prefix"
    );
    assert!(find("Müller").is_empty(), "no number");
    assert!(find("999").is_empty());
    let page = pk(
        s,
        PostkorbQuery {
            reference: Some("11".into()),
            ..Default::default()
        },
    );
    assert_eq!(page.total, 1);
    assert_eq!(page.counts[&Status::Eingegangen], 1);
}

pub(crate) fn assignment_filters_and_counts_the_postkorb<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(73);
    let (me, colleague) = (account(&mut e), account(&mut e));
    let subs: Vec<Submission> = (0..6)
        .map(|i| {
            submit_as(
                s,
                &mut e,
                &format!("z{i}"),
                None,
                "",
                T0 + Duration::hours(i),
            )
        })
        .collect();
    for sub in &subs[..3] {
        s.assign(&sub.id, Some(me), office(), T0 + Duration::days(1))
            .unwrap();
    }
    s.assign(
        &subs[3].id,
        Some(colleague),
        office(),
        T0 + Duration::days(1),
    )
    .unwrap();
    s.change_status(
        &subs[0].id,
        change(Status::InBearbeitung, T0 + Duration::days(2)),
    )
    .unwrap();
    assert_eq!(s.case_file(&subs[0].id).unwrap().assignee, Some(me));
    assert_eq!(s.case_file(&subs[5].id).unwrap(), CaseFile::default());

    let mine = pk(
        s,
        PostkorbQuery {
            assignee: Some(me),
            ..Default::default()
        },
    );
    assert_eq!(ids(&mine), vec![subs[2].id, subs[1].id, subs[0].id]);
    assert_eq!(mine.total, 3);
    assert_eq!(mine.counts[&Status::Eingegangen], 2);
    assert_eq!(mine.counts[&Status::InBearbeitung], 1);
    assert_eq!(mine.entries[0].assignee, Some(me));

    let mine_open = pk(
        s,
        PostkorbQuery {
            assignee: Some(me),
            status: Some(Status::Eingegangen),
            limit: 1,
            offset: 1,
            ..Default::default()
        },
    );
    assert_eq!(ids(&mine_open), vec![subs[1].id], "second page of one");
    assert_eq!(mine_open.total, 2);

    // Reassigned and unassigned: the old assignee's list and counts follow at once.
    s.assign(
        &subs[1].id,
        Some(colleague),
        office(),
        T0 + Duration::days(3),
    )
    .unwrap();
    s.assign(&subs[2].id, None, office(), T0 + Duration::days(3))
        .unwrap();
    let mine = pk(
        s,
        PostkorbQuery {
            assignee: Some(me),
            ..Default::default()
        },
    );
    assert_eq!(ids(&mine), vec![subs[0].id]);
    assert_eq!(mine.counts.values().sum::<u64>(), 1);
    let theirs = pk(
        s,
        PostkorbQuery {
            assignee: Some(colleague),
            ..Default::default()
        },
    );
    assert_eq!(ids(&theirs), vec![subs[3].id, subs[1].id]);

    let audit = s.audit_log(0, 1000).unwrap();
    let assigned: Vec<_> = audit
        .iter()
        .filter(|a| matches!(a.action, AuditAction::CaseAssigned { .. }))
        .collect();
    assert_eq!(assigned.len(), 6);
    assert!(assigned.iter().all(|a| a.actor == office()));
    assert_eq!(
        assigned[5].action,
        AuditAction::CaseAssigned {
            submission: subs[2].id,
            to: None
        }
    );
    let unknown = SubmissionId::generate(&mut e).unwrap();
    assert!(matches!(
        s.assign(&unknown, Some(me), office(), T0),
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        s.case_file(&unknown),
        Err(StoreError::NotFound { .. })
    ));
}

pub(crate) fn follow_up_dates_list_what_is_due<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(74);
    let today = T0.date() + Duration::days(10);
    let subs: Vec<Submission> = (0..5)
        .map(|i| {
            submit_as(
                s,
                &mut e,
                &format!("w{i}"),
                None,
                "",
                T0 + Duration::hours(i),
            )
        })
        .collect();
    let set = |i: usize, d: Option<time::Date>| {
        s.set_follow_up(&subs[i].id, d, office(), T0 + Duration::days(1))
            .unwrap();
    };
    set(0, Some(today - Duration::days(3))); // overdue
    set(1, Some(today)); // due today
    set(2, Some(today + Duration::days(1))); // not yet
    set(3, Some(today - Duration::days(1))); // overdue, but closed below
    set(4, Some(today)); // removed below
    set(4, None);
    s.change_status(
        &subs[3].id,
        change(Status::Abgelehnt, T0 + Duration::days(2)),
    )
    .unwrap();
    assert_eq!(
        s.case_file(&subs[0].id).unwrap().follow_up,
        Some(today - Duration::days(3))
    );

    let due = pk(
        s,
        PostkorbQuery {
            due_by: Some(today),
            ..Default::default()
        },
    );
    assert_eq!(ids(&due), vec![subs[1].id, subs[0].id]);
    assert_eq!(due.total, 2);
    assert_eq!(due.counts[&Status::Eingegangen], 2);
    assert_eq!(due.entries[1].follow_up, Some(today - Duration::days(3)));

    // Closing a due case takes it off the list; a later date too.
    s.change_status(
        &subs[0].id,
        change(Status::Abgeschlossen, T0 + Duration::days(3)),
    )
    .unwrap();
    set(1, Some(today + Duration::days(7)));
    let due = pk(
        s,
        PostkorbQuery {
            due_by: Some(today),
            ..Default::default()
        },
    );
    assert!(due.entries.is_empty());
    let later = pk(
        s,
        PostkorbQuery {
            due_by: Some(today + Duration::days(7)),
            ..Default::default()
        },
    );
    assert_eq!(ids(&later), vec![subs[2].id, subs[1].id]);
    let set_entries = s
        .audit_log(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|a| matches!(a.action, AuditAction::FollowUpSet { .. }))
        .count();
    assert_eq!(set_entries, 7);
}

pub(crate) fn notes_are_internal_audited_without_text_and_purged<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(75);
    let sub = submit_as(s, &mut e, "n", None, "", T0);
    let other = submit_as(s, &mut e, "o", None, "", T0);
    let first = s
        .add_note(
            &sub.id,
            office(),
            "Ausweis fehlt noch".into(),
            T0 + Duration::hours(1),
        )
        .unwrap();
    let second = s
        .add_note(
            &sub.id,
            office(),
            "Telefonat: kommt Montag".into(),
            T0 + Duration::hours(2),
        )
        .unwrap();
    s.add_note(&other.id, office(), "anderer Fall".into(), T0)
        .unwrap();
    assert!(first.seq < second.seq);
    let notes = s.notes(&sub.id).unwrap();
    assert_eq!(
        notes.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(),
        vec!["Ausweis fehlt noch", "Telefonat: kommt Montag"]
    );
    assert_eq!(notes[0].author, office());
    // Notes are not messages: the citizen's side reads messages only.
    assert!(s.messages(&sub.id).unwrap().is_empty());
    let audit = s.audit_log(0, 1000).unwrap();
    let noted: Vec<_> = audit
        .iter()
        .filter(|a| matches!(a.action, AuditAction::NoteAdded { .. }))
        .collect();
    assert_eq!(noted.len(), 3);
    let text = serde_json::to_string(&audit).unwrap();
    assert!(!text.contains("Ausweis"), "no note text in the audit log");
    let unknown = SubmissionId::generate(&mut e).unwrap();
    assert!(matches!(
        s.add_note(&unknown, office(), "x".into(), T0),
        Err(StoreError::NotFound { .. })
    ));

    s.change_status(
        &sub.id,
        change(Status::Abgeschlossen, T0 + Duration::days(1)),
    )
    .unwrap();
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(1), T0 + Duration::days(30))
            .unwrap(),
        1
    );
    assert!(s.notes(&sub.id).unwrap().is_empty());
    assert_eq!(s.notes(&other.id).unwrap().len(), 1);
}

/// The counters agree with a count of the entries (a date filter makes the store count the
/// entries themselves) after every kind of change, for every status, service and assignee.
pub(crate) fn counters_agree_with_the_entries_after_every_change<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(76);
    let (a, b) = (account(&mut e), account(&mut e));
    let mut subs = Vec::new();
    for i in 0..24i64 {
        let mut n = new_submission(&mut e, &format!("k{i}"));
        if i % 3 == 0 {
            n.workflow_id = "hundesteuer".into();
        }
        subs.push(s.submit(n, T0 + Duration::hours(i)).unwrap());
    }
    for (i, sub) in subs.iter().enumerate() {
        match i % 4 {
            0 => s.assign(&sub.id, Some(a), office(), T0).unwrap(),
            1 => s.assign(&sub.id, Some(b), office(), T0).unwrap(),
            _ => {}
        }
        if i % 5 == 0 {
            s.change_status(
                &sub.id,
                change(Status::InBearbeitung, T0 + Duration::days(1)),
            )
            .unwrap();
        }
        if i % 7 == 0 {
            s.change_status(
                &sub.id,
                change(Status::Abgeschlossen, T0 + Duration::days(1)),
            )
            .unwrap();
        }
        if i % 6 == 0 {
            s.assign(&sub.id, Some(b), office(), T0).unwrap();
        }
    }
    s.purge_closed(&tenant(), Duration::days(1), T0 + Duration::days(30))
        .unwrap();
    for workflow in [None, Some("wohngeld"), Some("hundesteuer")] {
        for assignee in [None, Some(a), Some(b)] {
            for status in [None, Some(Status::Eingegangen), Some(Status::InBearbeitung)] {
                let q = PostkorbQuery {
                    workflow: workflow.map(str::to_owned),
                    assignee,
                    status,
                    limit: 3,
                    offset: 1,
                    ..Default::default()
                };
                let counted = pk(s, q.clone());
                let walked = pk(
                    s,
                    PostkorbQuery {
                        from: Some(T0 - Duration::days(1)),
                        ..q
                    },
                );
                assert_eq!(counted.counts, walked.counts, "{workflow:?} {assignee:?}");
                assert_eq!(counted.total, walked.total, "{workflow:?} {assignee:?}");
                assert_eq!(ids(&counted), ids(&walked), "{workflow:?} {assignee:?}");
            }
        }
    }
}

pub(crate) fn a_batch_submits_like_one_by_one_and_refuses_a_taken_key<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(77);
    let first = submit_as(s, &mut e, "single", Some("Eva Klein"), "Eva Klein", T0);
    let batch: Vec<NewSubmission> = (0..3)
        .map(|i| {
            let mut n = new_submission(&mut e, &format!("batch{i}"));
            n.applicant = Some(format!("Person {i}"));
            n.search_text = format!("Person {i} Lindenweg");
            n
        })
        .collect();
    let stored = s.submit_batch(batch, T0 + Duration::hours(1)).unwrap();
    let refs: Vec<String> = stored.iter().map(|x| x.reference.to_string()).collect();
    assert_eq!(
        refs,
        vec!["HEI-2026-000002", "HEI-2026-000003", "HEI-2026-000004"],
        "consecutive after the single one ({})",
        first.reference
    );
    assert_eq!(s.status_history(&stored[1].id).unwrap().len(), 1);
    let page = pk(
        s,
        PostkorbQuery {
            text: Some("lindenweg".into()),
            ..Default::default()
        },
    );
    assert_eq!(page.total, 3);
    let mut names: Vec<_> = page
        .entries
        .iter()
        .filter_map(|x| x.applicant.clone())
        .collect();
    names.sort();
    assert_eq!(names, vec!["Person 0", "Person 1", "Person 2"]);
    let again = vec![new_submission(&mut e, "batch1")];
    assert!(matches!(
        s.submit_batch(again, T0 + Duration::hours(2)),
        Err(StoreError::AlreadyExists { .. })
    ));
    let received = s
        .audit_log(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|a| matches!(a.action, AuditAction::SubmissionReceived { .. }))
        .count();
    assert_eq!(received, 4);
}
