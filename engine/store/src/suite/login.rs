//! Shared cases: citizen sessions, sign-ins in progress, the replay cache.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use super::*;

fn session(secret: &str, expires: OffsetDateTime) -> CitizenSession {
    CitizenSession {
        hash: SecretHash::of(secret),
        subject: "pseudonym-1".into(),
        provider: "bundid".into(),
        trust_level: 2,
        attributes: BTreeMap::from([("family_name".to_string(), "Mustermann".to_string())]),
        logout_hint: Some("eyJ.id-token.sig".into()),
        created: T0,
        expires,
    }
}

pub(crate) fn citizen_sessions_are_found_by_hash_end_and_expire<S: Store>(s: &S) {
    let a = session("a", T0 + Duration::hours(1));
    s.create_citizen_session(&a).unwrap();
    assert_eq!(s.citizen_session(&SecretHash::of("a")).unwrap().unwrap(), a);
    assert_eq!(s.create_citizen_session(&a).unwrap_err().code(), "LOT-S004");
    assert!(s.citizen_session(&SecretHash::of("b")).unwrap().is_none());
    // A staff session with the same secret is another thing.
    assert!(s.session(&SecretHash::of("a")).unwrap().is_none());
    assert!(s.delete_citizen_session(&SecretHash::of("a")).unwrap());
    assert!(!s.delete_citizen_session(&SecretHash::of("a")).unwrap());
    assert!(s.citizen_session(&SecretHash::of("a")).unwrap().is_none());

    s.create_citizen_session(&session("old", T0)).unwrap();
    s.create_citizen_session(&session("new", T0 + Duration::hours(1)))
        .unwrap();
    assert_eq!(s.sweep_login(T0).unwrap(), 1);
    assert!(s.citizen_session(&SecretHash::of("old")).unwrap().is_none());
    assert!(s.citizen_session(&SecretHash::of("new")).unwrap().is_some());
}

pub(crate) fn a_pending_sign_in_is_taken_once_and_assertions_are_used_once<
    S: Store + Send + Sync,
>(
    s: &S,
) {
    let pending = PendingSignIn {
        hash: SecretHash::of("id-1"),
        request_id: "_request-1".into(),
        provider: "bundid".into(),
        trust_level: 2,
        return_to: "/heinsberg/leistung/hundesteuer".into(),
        secret: None,
        expires: T0 + Duration::minutes(10),
    };
    s.put_pending_sign_in(&pending).unwrap();
    assert!(s.put_pending_sign_in(&pending).is_err());
    let racers: Vec<_> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| s.take_pending_sign_in(&SecretHash::of("id-1")).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let taken: Vec<_> = racers.into_iter().flatten().collect();
    assert_eq!(taken, vec![pending]);

    let id = SecretHash::of("assertion-7");
    let until = T0 + Duration::minutes(5);
    let firsts = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| scope.spawn(|| s.first_use(&id, until).unwrap()))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(|first| *first)
            .count()
    });
    assert_eq!(
        firsts, 1,
        "exactly one of racing nodes accepts an assertion"
    );
    assert!(!s.first_use(&id, until).unwrap());
    assert_eq!(s.sweep_login(until).unwrap(), 1);
}

pub(crate) fn a_citizens_drafts_are_listed_across_tenants_once_each<S: Store>(s: &S) {
    let erika = SecretHash::of("erika");
    let link = |tenant: &str, draft: &str, minutes: i64| CitizenLink {
        citizen: erika,
        tenant: tenant.into(),
        draft: draft.into(),
        workflow_id: "hundesteuer-anmeldung".into(),
        submission: None,
        created: T0 + Duration::minutes(minutes),
    };
    s.link_citizen(&link("wegberg", "d2", 2)).unwrap();
    s.link_citizen(&link("heinsberg", "d1", 1)).unwrap();
    s.link_citizen(&link("heinsberg", "d1", 5)).unwrap();
    s.link_citizen(&CitizenLink {
        citizen: SecretHash::of("max"),
        ..link("heinsberg", "d3", 3)
    })
    .unwrap();
    let mine = s.citizen_links(&erika).unwrap();
    assert_eq!(
        mine.iter().map(|l| l.draft.as_str()).collect::<Vec<_>>(),
        ["d1", "d2"]
    );
    assert_eq!(
        mine[0].created,
        T0 + Duration::minutes(1),
        "the first link stays"
    );
    assert!(
        s.citizen_links(&SecretHash::of("nobody"))
            .unwrap()
            .is_empty()
    );
}

pub(crate) fn a_logout_index_is_replaced_by_a_newer_session_and_taken_once<S: Store>(s: &S) {
    let hash = SecretHash::of("slo:bPK2-erika");
    let first = LogoutIndex {
        hash,
        session: SecretHash::of("session-1"),
        expires: T0 + Duration::hours(1),
    };
    s.put_logout_index(&first).unwrap();
    let second = LogoutIndex {
        session: SecretHash::of("session-2"),
        ..first.clone()
    };
    s.put_logout_index(&second).unwrap();
    assert_eq!(s.take_logout_index(&hash).unwrap(), Some(second));
    assert_eq!(s.take_logout_index(&hash).unwrap(), None);
    // It expires with its session.
    s.put_logout_index(&first).unwrap();
    assert!(s.sweep_login(T0 + Duration::hours(2)).unwrap() >= 1);
    assert_eq!(s.take_logout_index(&hash).unwrap(), None);
}

pub(crate) fn links_go_when_their_draft_and_submission_are_both_gone<S: Store>(s: &S) {
    let mut e = DeterministicEntropy::new(41);
    let erika = SecretHash::of("erika");
    let link = |draft: &Draft, submission: Option<String>| CitizenLink {
        citizen: erika,
        tenant: "heinsberg".into(),
        draft: draft.id.to_string(),
        workflow_id: "wohngeld".into(),
        submission,
        created: T0,
    };
    // An open draft; a draft sent as a submission that is later purged; a draft that expires
    // unsent; and a link to a submission whose draft mark is gone but which is still kept.
    let open = new_draft(&mut e, T0 + Duration::days(20));
    s.create_draft(&open).unwrap();
    let sent = new_draft(&mut e, T0);
    s.create_draft(&sent).unwrap();
    let sub = s.submit(new_submission(&mut e, "link-a"), T0).unwrap();
    let unsent = new_draft(&mut e, T0);
    s.create_draft(&unsent).unwrap();
    let kept_draft = new_draft(&mut e, T0);
    let kept_sub = s.submit(new_submission(&mut e, "link-b"), T0).unwrap();
    for l in [
        link(&open, None),
        link(&sent, Some(sub.id.to_string())),
        link(&unsent, None),
        link(&kept_draft, Some(kept_sub.id.to_string())),
    ] {
        s.link_citizen(&l).unwrap();
    }
    assert_eq!(
        s.sweep_citizen_links().unwrap(),
        0,
        "every link names something kept"
    );
    // The two drafts of T0 expire (the open one lives longer); the submission of the first is
    // closed and purged.
    assert_eq!(s.sweep_expired(sent.expires).unwrap(), 2);
    s.change_status(&sub.id, change(Status::Abgeschlossen, T0))
        .unwrap();
    assert_eq!(
        s.purge_closed(&tenant(), Duration::days(30), T0 + Duration::days(31))
            .unwrap(),
        1
    );
    assert_eq!(s.sweep_citizen_links().unwrap(), 2);
    let left: Vec<String> = s
        .citizen_links(&erika)
        .unwrap()
        .into_iter()
        .map(|l| l.draft)
        .collect();
    let mut want = vec![open.id.to_string(), kept_draft.id.to_string()];
    want.sort();
    let mut left = left;
    left.sort();
    assert_eq!(left, want);
}
