//! Behaviour of the PostgreSQL backend beyond the shared suite: several nodes (stores) on one
//! database, calls from async code, shared secrets and limits, format versions, and the
//! migration path sled → PostgreSQL → sled.

use super::*;

/// A second node: another store (own runtime, own pool) on the same database.
fn second_node(url: &str) -> PgStore {
    PgStore::connect(&PgOptions::new(url)).unwrap()
}

#[test]
fn blocking_calls_work_from_spawn_blocking_and_from_async_code() {
    let Some((s, _url)) = pg_store() else { return };
    let mut e = DeterministicEntropy::new(40);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    // The worst case: a one-thread runtime, its only thread calling the store directly, and
    // many calls from its blocking pool at once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let found = rt.block_on(async {
        let direct = s.draft(&d.id).unwrap().is_some();
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let s = s.clone();
                let id = d.id;
                tokio::task::spawn_blocking(move || s.draft(&id).unwrap().is_some())
            })
            .collect();
        let mut all = direct;
        for t in tasks {
            all &= tokio::time::timeout(std::time::Duration::from_secs(30), t)
                .await
                .expect("a store call from spawn_blocking hung")
                .unwrap();
        }
        all
    });
    assert!(found);
    // Dropping the last clone inside async code must not panic either.
    let rt2 = tokio::runtime::Runtime::new().unwrap();
    rt2.block_on(async move { drop(s) });
}

#[test]
fn two_nodes_never_issue_a_reference_twice() {
    let Some((a, url)) = pg_store() else { return };
    let b = second_node(&url);
    let refs: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6u64)
            .map(|t| {
                let node = if t % 2 == 0 { a.clone() } else { b.clone() };
                scope.spawn(move || {
                    let mut e = DeterministicEntropy::new(300 + t);
                    (0..20)
                        .map(|i| {
                            let n = new_submission(&mut e, &format!("n{t}-{i}"));
                            node.submit(n, T0).unwrap().reference.to_string()
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let unique: HashSet<_> = refs.iter().collect();
    assert_eq!(unique.len(), 120);
    assert!(unique.contains(&"HEI-2026-000120".to_string()));
    // The same idempotency key through both nodes at once: one submission.
    let both: HashSet<String> = std::thread::scope(|scope| {
        let hs: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                scope.spawn(move || {
                    let mut e = DeterministicEntropy::new(400 + i as u64);
                    node.submit(new_submission(&mut e, "draft:twice:1"), T0)
                        .unwrap()
                        .reference
                        .to_string()
                })
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(both.len(), 1);
    assert_eq!(a.submissions(&tenant(), None, 1000).unwrap().len(), 121);
    // The losers of that race gave their numbers back: references stay dense.
    let mut e = DeterministicEntropy::new(450);
    let next = b.submit(new_submission(&mut e, "after-race"), T0).unwrap();
    assert_eq!(next.reference.to_string(), "HEI-2026-000122");
}

#[test]
fn outbox_deliveries_are_claimed_by_exactly_one_node() {
    let Some((a, url)) = pg_store() else { return };
    let b = second_node(&url);
    for i in 0..40 {
        a.enqueue(
            None,
            NewOutboxMessage {
                topic: "t".into(),
                target: "x".into(),
                payload: json!(i),
            },
            T0,
        )
        .unwrap();
    }
    let lease = Duration::minutes(5);
    let claimed: Vec<u64> = std::thread::scope(|scope| {
        let hs: Vec<_> = [a.clone(), b.clone(), a.clone(), b.clone()]
            .into_iter()
            .map(|node| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for _ in 0..10 {
                        mine.extend(node.claim(T0, lease, 3).unwrap().into_iter().map(|m| m.id));
                    }
                    mine
                })
            })
            .collect();
        hs.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let unique: HashSet<_> = claimed.iter().collect();
    assert_eq!(claimed.len(), 40, "every delivery claimed once");
    assert_eq!(unique.len(), 40);
    // After the lease, another node may take them over.
    assert_eq!(b.claim(T0 + lease, lease, 100).unwrap().len(), 40);
}

#[test]
fn the_shared_secret_is_the_first_one_stored_even_when_nodes_race() {
    let Some((a, url)) = pg_store() else { return };
    let b = second_node(&url);
    let got: HashSet<Vec<u8>> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..8u8)
            .map(|i| {
                let node = if i % 2 == 0 { a.clone() } else { b.clone() };
                scope.spawn(move || node.secret_or_insert("csrf", &[i; 32]).unwrap())
            })
            .collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(got.len(), 1);
    assert_eq!(a.secret("csrf").unwrap(), got.into_iter().next());
    assert_eq!(a.secret("other").unwrap(), None);
}

#[test]
fn wrong_resume_codes_are_counted_across_nodes() {
    let Some((a, url)) = pg_store() else { return };
    let b = second_node(&url);
    let mut e = DeterministicEntropy::new(41);
    let d = new_draft(&mut e, T0);
    a.create_draft(&d).unwrap();
    let window = Duration::minutes(15);
    let la = PgResumeLimiter::new(a.clone(), 4, window);
    let lb = PgResumeLimiter::new(b.clone(), 4, window);
    for (i, (store, limiter)) in [(&a, &la), (&b, &lb), (&a, &la), (&b, &lb)]
        .into_iter()
        .enumerate()
    {
        let err = resume_draft(store, limiter, "10.0.0.9", "ABCD-EFGH-JKMN-PQRS", T0).unwrap_err();
        assert_eq!(err.code(), "LOT-S002", "attempt {i}");
    }
    let typed = d.resume_code.to_string();
    let err = resume_draft(&b, &lb, "10.0.0.9", &typed, T0).unwrap_err();
    assert_eq!(
        err.code(),
        "LOT-S014",
        "node B knows about node A's failures"
    );
    // Other clients are not affected; after the window the client may try again.
    assert_eq!(
        resume_draft(&a, &la, "10.0.0.10", &typed, T0).unwrap().id,
        d.id
    );
    assert_eq!(
        resume_draft(&a, &la, "10.0.0.9", &typed, T0 + window)
            .unwrap()
            .id,
        d.id
    );
}

#[test]
fn parallel_attempts_on_two_nodes_reserve_no_more_than_the_limit() {
    let Some((a, url)) = pg_store() else { return };
    let b = second_node(&url);
    let la = PgResumeLimiter::new(a.clone(), 5, Duration::minutes(15));
    let lb = PgResumeLimiter::new(b.clone(), 5, Duration::minutes(15));
    let granted: usize = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..40)
            .map(|i| {
                let l = if i % 2 == 0 { la.clone() } else { lb.clone() };
                scope.spawn(move || l.reserve("konto:sb", T0).is_ok())
            })
            .collect();
        hs.into_iter().map(|h| usize::from(h.join().unwrap())).sum()
    });
    assert_eq!(granted, 5, "40 parallel attempts, a limit of 5");
    // A refund gives back one attempt, never the whole count.
    la.refund("konto:sb", T0).unwrap();
    lb.reserve("konto:sb", T0).unwrap();
    assert_eq!(la.reserve("konto:sb", T0).unwrap_err().code(), "LOT-S014");

    // The slowdown: the same waits on every node, and short.
    let slow = LimitPolicy::Slowdown {
        free: 2,
        base: Duration::seconds(1),
        cap: Duration::seconds(8),
        idle: Duration::minutes(15),
    };
    let sa = PgResumeLimiter::with_policy(a.clone(), slow);
    let sb = PgResumeLimiter::with_policy(b.clone(), slow);
    sa.reserve("langsam", T0).unwrap();
    sb.reserve("langsam", T0).unwrap();
    match sa.reserve("langsam", T0).unwrap_err() {
        StoreError::RateLimited { retry_after } => assert_eq!(retry_after, Duration::seconds(1)),
        other => panic!("{other}"),
    }
    sb.reserve("langsam", T0 + Duration::seconds(1)).unwrap();
    match sa
        .reserve("langsam", T0 + Duration::seconds(2))
        .unwrap_err()
    {
        StoreError::RateLimited { retry_after } => assert_eq!(retry_after, Duration::seconds(1)),
        other => panic!("{other}"),
    }
    sa.reserve("langsam", T0 + Duration::seconds(3)).unwrap();
}

#[test]
fn a_record_from_a_newer_version_is_refused_by_key() {
    let Some((s, url)) = pg_store() else { return };
    let mut e = DeterministicEntropy::new(42);
    let d = new_draft(&mut e, T0);
    s.create_draft(&d).unwrap();
    pg_testing::execute(&url, "UPDATE drafts SET v = 99").unwrap();
    let err = s.draft(&d.id).unwrap_err();
    assert_eq!(err.code(), "LOT-S005");
    assert!(err.to_string().contains(&d.id.to_string()));
}

#[test]
fn references_made_in_the_submit_statement_read_as_in_rust() {
    // The submit statement writes the reference into the records itself: the same text as
    // `Reference`'s `Display`, past six digits too, and in the Postkorb's column.
    let Some((s, url)) = pg_store() else { return };
    let mut e = DeterministicEntropy::new(44);
    let first = s.submit(new_submission(&mut e, "r1"), T0).unwrap();
    assert_eq!(first.reference.to_string(), "HEI-2026-000001");
    pg_testing::execute(&url, "UPDATE reference_counters SET last = 999998").unwrap();
    for (key, want) in [("r2", "HEI-2026-999999"), ("r3", "HEI-2026-1000000")] {
        let sub = s.submit(new_submission(&mut e, key), T0).unwrap();
        assert_eq!(sub.reference.to_string(), want);
        let stored = s.submission(&sub.id).unwrap().unwrap();
        assert_eq!(stored, sub);
        let by_ref = s
            .submission_by_reference(&tenant(), &sub.reference)
            .unwrap();
        assert_eq!(by_ref.map(|b| b.id), Some(sub.id));
    }
    let audit = s.audit_log(0, 100).unwrap();
    let refs: Vec<String> = audit
        .iter()
        .filter_map(|a| match &a.action {
            AuditAction::SubmissionReceived { reference, .. } => Some(reference.to_string()),
            _ => None,
        })
        .collect();
    assert!(refs.contains(&"HEI-2026-1000000".to_string()), "{refs:?}");
    // A repeat gives its number back: the next one follows without a gap.
    let again = s.submit(new_submission(&mut e, "r3"), T0).unwrap();
    assert_eq!(again.reference.to_string(), "HEI-2026-1000000");
    let next = s.submit(new_submission(&mut e, "r4"), T0).unwrap();
    assert_eq!(next.reference.to_string(), "HEI-2026-1000001");
}

#[test]
fn migrations_run_once_however_many_nodes_start() {
    let Some((a, url)) = pg_store() else { return };
    let nodes: Vec<PgStore> = std::thread::scope(|scope| {
        let hs: Vec<_> = (0..3).map(|_| scope.spawn(|| second_node(&url))).collect();
        hs.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(a.migrate().unwrap(), 11);
    let mut e = DeterministicEntropy::new(43);
    let d = new_draft(&mut e, T0);
    nodes[0].create_draft(&d).unwrap();
    assert!(nodes[2].draft(&d.id).unwrap().is_some());
}

/// Every line of an export as JSON: PostgreSQL keeps records as JSONB, which does not keep the
/// order of object keys, so exports are compared as JSON values, line by line.
fn lines(export: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8(export.to_vec())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sled_to_postgres_to_sled_keeps_every_record() {
    let Some((pg, _url)) = pg_store() else { return };
    let (sled, _dir) = sled_only::filled_store();
    sled.change_status(
        &sled.submissions(&tenant(), None, 1).unwrap()[0].id,
        StatusChange {
            status: Status::Abgelehnt,
            at: T0 + Duration::days(1),
            actor: Actor::System,
            note: Some("Frist".into()),
        },
    )
    .unwrap();
    // Staff: an account with an API token travel; a session does not (as on sled).
    let mut e = DeterministicEntropy::new(45);
    let staff = Account {
        id: AccountId::generate(&mut e).unwrap(),
        tenant: tenant(),
        login: "e.muster".into(),
        display_name: "Erika Mustermann".into(),
        role: Role::CaseWorker,
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA".into(),
        disabled: false,
        created: T0,
        totp_secret: Some("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP".into()),
    };
    sled.create_account(&staff).unwrap();
    let token = ApiToken {
        id: ApiTokenId::generate(&mut e).unwrap(),
        hash: SecretHash::of("lotse_token"),
        tenant: tenant(),
        account: staff.id,
        label: "Fachverfahren".into(),
        created: T0,
        revoked: false,
    };
    sled.create_api_token(&token).unwrap();
    let session = Session {
        hash: SecretHash::of("cookie"),
        account: staff.id,
        tenant: tenant(),
        created: T0,
        expires: T0 + Duration::hours(8),
    };
    sled.create_session(&session).unwrap();
    let mut first = Vec::new();
    let n = sled.export_jsonl(&mut first, |_| {}).unwrap();

    let imported = pg.import_jsonl(&mut first.as_slice(), |_| {}).unwrap();
    assert_eq!(imported, n);
    assert_eq!(
        pg.import_jsonl(&mut first.as_slice(), |_| {})
            .unwrap_err()
            .code(),
        "LOT-S010"
    );
    let mut second = Vec::new();
    assert_eq!(pg.export_jsonl(&mut second, |_| {}).unwrap(), n);
    assert_eq!(lines(&first), lines(&second));
    sled_only::assert_attachments_as_in_filled_store(&pg);
    // PostgreSQL to PostgreSQL, and a changed byte in a file refused there too.
    let (other_pg, _u2) = pg_store().unwrap();
    other_pg
        .import_jsonl(&mut second.as_slice(), |_| {})
        .unwrap();
    sled_only::assert_attachments_as_in_filled_store(&other_pg);
    let (tampered_pg, _u3) = pg_store().unwrap();
    let err = tampered_pg
        .import_jsonl(&mut sled_only::tampered_export(&second).as_bytes(), |_| {})
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S011", "{err}");
    assert!(tampered_pg.attachment_hashes().unwrap().len() < 3);
    assert_eq!(
        pg.account_by_login(&tenant(), "E.Muster").unwrap().unwrap(),
        staff
    );
    assert_eq!(pg.api_token(&token.hash).unwrap().unwrap(), token);
    assert!(pg.session(&session.hash).unwrap().is_none());
    // Payments, in flight and settled, as on sled (checked before `back` saves anything).
    let (back_check, _dir3) = sled_store();
    back_check
        .import_jsonl(&mut second.as_slice(), |_| {})
        .unwrap();
    sled_only::assert_payments_as_in_filled_store(&sled, &back_check);
    sled_only::assert_payments_as_in_filled_store(&sled, &pg);
    let listed = pg
        .postkorb(
            &tenant(),
            &PostkorbQuery {
                limit: usize::MAX,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(
        listed.total, 5,
        "the imported submissions are in the Postkorb"
    );
    assert_eq!(listed.counts[&Status::Abgelehnt], 1);
    // The booked visit came along and takes its counter.
    let mut ve = DeterministicEntropy::new(98);
    assert!(matches!(
        pg.hold_visit(sled_only::visit_at(&mut ve, sled_only::VISIT_AT), 1, T0),
        Err(StoreError::SlotTaken)
    ));

    let (back, _dir2) = sled_store();
    back.import_jsonl(&mut second.as_slice(), |_| {}).unwrap();
    assert!(matches!(
        back.hold_visit(sled_only::visit_at(&mut ve, sled_only::VISIT_AT), 1, T0),
        Err(StoreError::SlotTaken)
    ));
    let mut third = Vec::new();
    back.export_jsonl(&mut third, |_| {}).unwrap();
    assert_eq!(lines(&first), lines(&third));
    sled_only::assert_attachments_as_in_filled_store(&back);

    // The imported store works on: references continue, ids stay above the imported ones.
    let mut e = DeterministicEntropy::new(44);
    let next = pg
        .submit(new_submission(&mut e, "after-import"), T0)
        .unwrap();
    assert_eq!(next.reference.to_string(), "HEI-2026-000006");
    let max_seq = pg
        .audit_log(0, 1000)
        .unwrap()
        .iter()
        .map(|a| a.seq)
        .max()
        .unwrap();
    let seq = pg
        .append_audit(
            T0,
            Actor::System,
            None,
            AuditAction::Other { code: "x".into() },
        )
        .unwrap();
    assert!(seq > max_seq);
    let d = sled.submissions(&tenant(), None, 1).unwrap();
    assert_eq!(pg.status_history(&d[0].id).unwrap().len(), 2);
    assert_eq!(pg.messages(&d[0].id).unwrap().len(), 1);

    // A truncated file is refused and leaves nothing behind.
    let (empty, _u) = pg_store().unwrap();
    let text = String::from_utf8(first).unwrap();
    let truncated: String = text.lines().take(40).map(|l| format!("{l}\n")).collect();
    let err = empty
        .import_jsonl(&mut truncated.as_bytes(), |_| {})
        .unwrap_err();
    assert_eq!(err.code(), "LOT-S011");
    assert_eq!(empty.draft_count().unwrap(), 0);
}

#[test]
fn submissions_from_before_the_postings_are_found_after_the_upgrade() {
    let Some(url) = pg_testing::test_database().unwrap() else {
        return;
    };
    let old = PgStore::connect_only(&PgOptions::new(url.clone())).unwrap();
    old.migrate_to(5).unwrap();
    let mut e = DeterministicEntropy::new(93);
    let mut ids = Vec::new();
    for (i, text) in [
        "Anna Kochweg Heinsberg",
        "Bernd Kochstraße Heinsberg",
        "Anna Wegberg",
    ]
    .into_iter()
    .enumerate()
    {
        let mut n = new_submission(&mut e, &format!("old-{i}"));
        n.search_text = text.into();
        ids.push(old.submit(n, T0 + Duration::hours(i as i64)).unwrap().id);
    }
    drop(old);
    // The next release opens the database: migration 0006 builds the postings.
    let s = PgStore::connect(&PgOptions::new(url.clone())).unwrap();
    let search = |text: &str| -> Vec<SubmissionId> {
        s.postkorb(
            &tenant(),
            &PostkorbQuery {
                text: Some(text.into()),
                limit: 10,
                ..Default::default()
            },
        )
        .unwrap()
        .entries
        .iter()
        .map(|e| e.id)
        .collect()
    };
    assert_eq!(search("koch heinsberg"), vec![ids[1], ids[0]]);
    assert_eq!(search("anna"), vec![ids[2], ids[0]]);
    // New submissions and a purge keep the postings with the rows.
    let mut n = new_submission(&mut e, "new-0");
    n.search_text = "Anna Kochweg".into();
    let new = s.submit(n, T0 + Duration::hours(5)).unwrap().id;
    assert_eq!(search("anna koch"), vec![new, ids[0]]);
    s.change_status(
        &ids[2],
        StatusChange {
            status: Status::Abgelehnt,
            at: T0 + Duration::days(1),
            actor: Actor::System,
            note: None,
        },
    )
    .unwrap();
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(1), T0 + Duration::days(30))
            .unwrap(),
        1
    );
    assert_eq!(search("anna"), vec![new, ids[0]]);
    pg_testing::execute(
        &url,
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM postkorb_postings x WHERE NOT EXISTS \
         (SELECT 1 FROM postkorb p WHERE p.submission = x.submission)) \
         THEN RAISE EXCEPTION 'postings of a purged submission'; END IF; END $$",
    )
    .unwrap();
}
