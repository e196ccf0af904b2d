//! Shared cases: the Postkorb's free-text search at more matches than it counts (paging
//! reaches every match, the total is capped and says so) and between tenants.

use super::*;

/// `n` submissions of `tenant` in batches of 200 (one time per batch, ties by id), the
/// search text of each from `text(i)`.
fn submit_many<S: Store>(
    s: &S,
    e: &mut DeterministicEntropy,
    tenant: &TenantId,
    n: usize,
    text: impl Fn(usize) -> String,
) {
    for b in 0..n.div_ceil(200) {
        let batch: Vec<NewSubmission> = (b * 200..((b + 1) * 200).min(n))
            .map(|i| {
                let mut sub = new_submission(e, &format!("{}-{i}", tenant.slug()));
                sub.tenant = tenant.clone();
                sub.search_text = text(i);
                sub
            })
            .collect();
        s.submit_batch(batch, T0 + Duration::minutes(b as i64))
            .unwrap();
    }
}

/// Every match of `text` (and of the status, if given), paging by `size`: the pages in
/// order, and the first page.
fn page_through<S: Store>(
    s: &S,
    tenant: &TenantId,
    text: &str,
    status: Option<Status>,
    size: usize,
) -> (Vec<SubmissionId>, PostkorbPage) {
    let mut all = Vec::new();
    let mut first = None;
    loop {
        let page = s
            .postkorb(
                tenant,
                &PostkorbQuery {
                    text: Some(text.into()),
                    status,
                    offset: all.len(),
                    limit: size,
                    ..Default::default()
                },
            )
            .unwrap();
        let n = page.entries.len();
        all.extend(page.entries.iter().map(|e| e.id));
        first.get_or_insert(page);
        if n < size {
            break;
        }
    }
    (all, first.unwrap_or_default())
}

/// The submissions whose number (as `submit_many` gave it) `keys` takes, in list order:
/// what a search has to find, newest first.
fn expected<S: Store>(s: &S, tenant: &TenantId, keys: &dyn Fn(usize) -> bool) -> Vec<SubmissionId> {
    let all = s
        .postkorb(
            tenant,
            &PostkorbQuery {
                limit: usize::MAX,
                ..Default::default()
            },
        )
        .unwrap();
    let by_id: std::collections::HashMap<SubmissionId, usize> = s
        .submissions(tenant, None, usize::MAX)
        .unwrap()
        .iter()
        .map(|sub| {
            let i = sub
                .idempotency_key
                .as_str()
                .rsplit('-')
                .next()
                .unwrap()
                .parse()
                .unwrap();
            (sub.id, i)
        })
        .collect();
    all.entries
        .iter()
        .map(|e| e.id)
        .filter(|id| keys(by_id[id]))
        .collect()
}

fn street(i: usize) -> &'static str {
    if i.is_multiple_of(2) {
        "Kochweg"
    } else {
        "Kochstraße"
    }
}

/// 2,400 submissions: "Heinsberg" in three of four, a street beginning "Koch" in two of three
/// (half "Kochweg", half "Kochstraße"), a rare name in every 97th.
fn common_words(i: usize) -> String {
    let town = if !i.is_multiple_of(4) {
        "Heinsberg"
    } else {
        "Wegberg"
    };
    let street = if !i.is_multiple_of(3) {
        street(i)
    } else {
        "Lindenweg"
    };
    let name = if i.is_multiple_of(97) {
        "Quirinus"
    } else {
        "Anna"
    };
    format!("Frau {name} Muster {street} {} 52525 {town}", i % 120)
}

pub(crate) fn a_search_of_common_words_pages_through_every_match_and_caps_its_count<S: Store>(
    s: &S,
) {
    let mut e = DeterministicEntropy::new(91);
    let t = tenant();
    submit_many(s, &mut e, &t, 2_400, common_words);
    let both = |i: usize| !i.is_multiple_of(4) && !i.is_multiple_of(3);

    // Two words that begin one term each: 400 matches, fewer than counted: exact.
    let want = expected(s, &t, &|i| both(i) && street(i) == "Kochweg");
    assert_eq!(want.len(), 400);
    let (found, first) = page_through(s, &t, "kochweg heinsberg", None, 100);
    assert_eq!(found, want, "every match, newest first, none twice");
    assert_eq!(first.total, 400);
    assert!(!first.truncated);
    assert_eq!(first.counts.values().sum::<u64>(), 400);

    // A prefix of two terms and a prefix of one: 1,200 matches, more than counted.
    let want = expected(s, &t, &both);
    assert_eq!(want.len(), 1_200);
    let (found, first) = page_through(s, &t, "koch heinsb", None, 90);
    assert_eq!(
        found, want,
        "paging reaches matches beyond the counted ones"
    );
    assert!(first.truncated, "the total says there are more");
    assert_eq!(first.total, SEARCH_COUNT_LIMIT as u64);
    assert_eq!(
        first.counts.values().sum::<u64>(),
        SEARCH_COUNT_LIMIT as u64
    );
    assert_eq!(first.entries.len(), 90);

    // A far page by offset, as the server asks for it.
    let far = s
        .postkorb(
            &t,
            &PostkorbQuery {
                text: Some("Heinsberg KOCH".into()),
                offset: 1_150,
                limit: 25,
                ..Default::default()
            },
        )
        .unwrap();
    let far_ids: Vec<SubmissionId> = far.entries.iter().map(|e| e.id).collect();
    assert_eq!(far_ids, want[1_150..1_175].to_vec());
    assert!(far.truncated);
    assert!(far.total >= 1_175, "at least what the pages showed");

    // With a status: a few matches changed, found among the many.
    let changed: Vec<SubmissionId> = want.iter().step_by(150).copied().collect();
    for id in &changed {
        s.change_status(id, change(Status::Rueckfrage, T0 + Duration::days(1)))
            .unwrap();
    }
    let (found, first) = page_through(s, &t, "koch heinsberg", Some(Status::Rueckfrage), 3);
    assert_eq!(
        found, changed,
        "paging reaches the one beyond the counted ones too"
    );
    // Counted: those among the newest SEARCH_COUNT_LIMIT matches; the total says "more".
    let counted = (0..want.len())
        .step_by(150)
        .filter(|i| *i < SEARCH_COUNT_LIMIT)
        .count();
    assert_eq!(first.total, counted as u64);
    assert!(first.truncated);

    // A rare word with a common one: exact.
    let want = expected(s, &t, &|i| i.is_multiple_of(97) && !i.is_multiple_of(4));
    let (found, first) = page_through(s, &t, "heinsberg quirinus", None, 25);
    assert_eq!(found, want);
    assert_eq!(first.total, want.len() as u64);
    assert!(!first.truncated);

    // With another filter than the status: the service of a few.
    let (found, _) = page_through(s, &t, "koch heinsberg muster 52525", None, 500);
    assert_eq!(
        found.len(),
        1_200,
        "four words, two of them in every submission"
    );
    let none = s
        .postkorb(
            &t,
            &PostkorbQuery {
                text: Some("koch heinsberg".into()),
                workflow: Some("hundesteuer".into()),
                limit: 25,
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(none.total, 0);
    assert!(none.entries.is_empty());
}

pub(crate) fn search_keeps_tenants_apart<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(92);
    // One tenant's slug begins the other's.
    let hei = TenantId::new("hei", "HEX").unwrap();
    let heinsberg = tenant();
    submit_many(s, &mut e, &hei, 30, |i| {
        format!("Anna Kochweg {i} Heinsberg")
    });
    submit_many(s, &mut e, &heinsberg, 20, |i| {
        format!("Anna Kochweg {i} Heinsberg Pudel")
    });
    for (t, n) in [(&hei, 30), (&heinsberg, 20)] {
        let (found, first) = page_through(s, t, "anna kochweg heinsb", None, 7);
        assert_eq!(found.len(), n);
        assert_eq!(first.total, n as u64);
        for id in &found {
            assert_eq!(&s.submission(id).unwrap().unwrap().tenant, t);
        }
    }
    let (found, _) = page_through(s, &hei, "pudel", None, 10);
    assert!(
        found.is_empty(),
        "a word of the other tenant only finds nothing"
    );
    let (found, _) = page_through(s, &heinsberg, "pudel anna", None, 10);
    assert_eq!(found.len(), 20);
}
