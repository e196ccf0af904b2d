//! Reads of a submission are in the audit log: its page in the Postkorb, its record in the API,
//! its receipt and its files, each once per request, by the account that read it (its opaque
//! id), with the request's id; a file fetched through a webhook's signed link by the system. A
//! request that finds nothing (another tenant's submission, a file it does not name) writes
//! nothing, and no entry holds a file's name or anything a citizen wrote.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::StatusCode;
use lotse_store::{
    AccountStore, Actor, AttachmentHash, AuditAction, AuditEntry, AuditStore, ReadKind, TenantId,
};

use crate::admin::{Auth, Office};
use crate::attachments::{download_url, lease, office_with_files, signed_path, stray};

fn reads(o: &Office) -> Vec<AuditEntry> {
    o.portal
        .as_ref()
        .unwrap()
        .store()
        .audit_log(0, 10_000)
        .unwrap()
        .into_iter()
        .filter(|e| matches!(e.action, AuditAction::SubmissionRead { .. }))
        .collect()
}

fn account_id(o: &Office, tenant: &str, prefix: &str, login: &str) -> String {
    let t = TenantId::new(tenant, prefix).unwrap();
    o.portal
        .as_ref()
        .unwrap()
        .store()
        .accounts(&t)
        .unwrap()
        .into_iter()
        .find(|a| a.login == login)
        .unwrap()
        .id
        .to_string()
}

#[tokio::test]
async fn each_read_of_a_submission_is_written_with_who_what_and_the_request() {
    let o = office_with_files();
    let sb = account_id(&o, "heinsberg", "HEI", "sb");
    let session = o.sign_in("heinsberg", "sb").await;
    let cookie = Auth::Cookie(&session);
    let with_receipt = &o.hei[0];
    let with_files = &o.hei[2];
    let sub_ref = |s: &lotse_store::Submission| s.id;
    assert!(reads(&o).is_empty(), "signing in reads no submission");

    let page = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}", with_receipt.id),
            &cookie,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let receipt = o
        .get(
            &format!(
                "/verwaltung/heinsberg/antrag/{}/quittung.pdf",
                with_receipt.id
            ),
            &cookie,
        )
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let api = format!("/api/v1/verwaltung/heinsberg/antraege/{}", with_receipt.id);
    let record = o.get(&api, &Auth::Bearer(&o.hei_token)).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    let api_receipt = o
        .get(&format!("{api}/quittung.pdf"), &Auth::Bearer(&o.hei_token))
        .await;
    assert_eq!(api_receipt.status, StatusCode::OK);
    let file = o
        .get(&download_url("heinsberg", with_files, &lease()), &cookie)
        .await;
    assert_eq!(file.status, StatusCode::OK);

    let log = reads(&o);
    let seen: Vec<(ReadKind, Option<String>, lotse_store::SubmissionId)> = log
        .iter()
        .map(|e| match &e.action {
            AuditAction::SubmissionRead {
                submission,
                what,
                sha256,
            } => (*what, sha256.clone(), *submission),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (ReadKind::Page, None, sub_ref(with_receipt)),
            (ReadKind::Receipt, None, sub_ref(with_receipt)),
            (ReadKind::Api, None, sub_ref(with_receipt)),
            (ReadKind::Receipt, None, sub_ref(with_receipt)),
            (
                ReadKind::Attachment,
                Some(AttachmentHash::of(&lease()).to_string()),
                sub_ref(with_files)
            ),
        ]
    );
    // The page, the receipt and the file by the signed-in case worker; the API's two by the
    // token's account (the same case worker in this office).
    let token_account = match &log[2].actor {
        Actor::Office { account } => account.clone(),
        other => panic!("{other:?}"),
    };
    for (e, by) in log
        .iter()
        .zip([&sb, &sb, &token_account, &token_account, &sb])
    {
        assert_eq!(
            e.actor,
            Actor::Office {
                account: by.clone()
            }
        );
        assert_eq!(e.tenant.as_deref(), Some("heinsberg"));
    }
    assert_eq!(log[0].request_id.as_deref(), Some(page.request_id.as_str()));
    assert_eq!(log[4].request_id.as_deref(), Some(file.request_id.as_str()));
    // Ids and codes only: not the file's name, not the applicant's.
    let text = serde_json::to_string(&log).unwrap();
    assert!(
        !text.contains("Mietvertrag") && !text.contains("Person"),
        "{text}"
    );
}

#[tokio::test]
async fn an_export_reads_every_submission_it_holds() {
    let o = office_with_files();
    let session = o.sign_in("heinsberg", "sb").await;
    let csv = o
        .get("/verwaltung/heinsberg/export.csv", &Auth::Cookie(&session))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    let jsonl = o
        .get(
            "/api/v1/verwaltung/heinsberg/export.jsonl?status=eingegangen",
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    assert_eq!(jsonl.status, StatusCode::OK, "{}", jsonl.body);
    let exported: Vec<_> = reads(&o)
        .into_iter()
        .filter_map(|e| match e.action {
            AuditAction::SubmissionRead {
                submission,
                what: ReadKind::Export,
                sha256: None,
            } => Some((submission, e.request_id)),
            _ => None,
        })
        .collect();
    // Each export names each of Heinsberg's submissions once, and its own request; none of
    // Erkelenz's.
    let mut ids: Vec<_> = o.hei.iter().map(|s| s.id).collect();
    ids.sort();
    for (half, request) in [(0, &csv.request_id), (1, &jsonl.request_id)] {
        let mut got: Vec<_> = exported[half * ids.len()..(half + 1) * ids.len()]
            .iter()
            .map(|(id, r)| {
                assert_eq!(r.as_deref(), Some(request.as_str()));
                *id
            })
            .collect();
        got.sort();
        assert_eq!(got, ids);
    }
    assert_eq!(exported.len(), 2 * ids.len());
}

#[tokio::test]
async fn a_request_that_finds_nothing_writes_nothing() {
    let o = office_with_files();
    let hei = o.sign_in("heinsberg", "sb").await;
    let erk = o.sign_in("erkelenz", "sb").await;
    for (url, auth) in [
        // Heinsberg's submission asked for under Erkelenz, by Erkelenz.
        (
            format!("/verwaltung/erkelenz/antrag/{}", o.hei[0].id),
            Auth::Cookie(&erk),
        ),
        (
            format!("/verwaltung/erkelenz/antrag/{}/quittung.pdf", o.hei[0].id),
            Auth::Cookie(&erk),
        ),
        (
            format!("/api/v1/verwaltung/erkelenz/antraege/{}", o.hei[0].id),
            Auth::Bearer(&o.erk_token),
        ),
        (
            download_url("erkelenz", &o.hei[2], &lease()),
            Auth::Cookie(&erk),
        ),
        // A stored file the submission does not name; no submission at all.
        (
            download_url("heinsberg", &o.hei[2], &stray()),
            Auth::Cookie(&hei),
        ),
        (
            "/verwaltung/heinsberg/antrag/gibtesnicht".into(),
            Auth::Cookie(&hei),
        ),
    ] {
        let r = o.get(&url, &auth).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{url}");
    }
    assert!(reads(&o).is_empty(), "{:?}", reads(&o));
}

#[tokio::test]
async fn a_file_fetched_through_a_signed_link_is_read_by_the_system() {
    let o = office_with_files();
    let now = lotse_core::Clock::now(&lotse_core::SystemClock);
    let path = signed_path(&o, "heinsberg", &o.hei[2], &lease(), now);
    assert_eq!(o.get(&path, &Auth::None).await.status, StatusCode::OK);
    // A tampered link is refused before anything is read.
    let tampered = path.replace("&sig=", "&sig=0");
    assert_eq!(
        o.get(&tampered, &Auth::None).await.status,
        StatusCode::FORBIDDEN
    );
    let log = reads(&o);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].actor, Actor::System);
    assert_eq!(
        log[0].action,
        AuditAction::SubmissionRead {
            submission: o.hei[2].id,
            what: ReadKind::Link,
            sha256: Some(AttachmentHash::of(&lease()).to_string()),
        }
    );
}

/// The citizen's status page says who of the office read the application: what and when, never
/// the case worker's account; repeated opening within the hour is one line with its number.
#[tokio::test]
async fn the_citizen_sees_the_offices_reads_on_the_status_page() {
    let o = office_with_files();
    let sb = account_id(&o, "heinsberg", "HEI", "sb");
    let session = o.sign_in("heinsberg", "sb").await;
    let cookie = Auth::Cookie(&session);
    let sub = &o.hei[0];
    let other = &o.hei[1];
    let status_page = format!("/heinsberg/eingang/{}", sub.id);
    let before = o.get(&status_page, &Auth::None).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains("Wer hat Ihren Antrag eingesehen?"));
    assert!(
        before
            .body
            .contains("Ihr Antrag wurde noch nicht geöffnet."),
        "{}",
        before.body
    );

    for _ in 0..3 {
        let page = o
            .get(&format!("/verwaltung/heinsberg/antrag/{}", sub.id), &cookie)
            .await;
        assert_eq!(page.status, StatusCode::OK);
        // The case worker is told that the citizen sees the opening (without names).
        assert!(
            page.body
                .contains("Die antragstellende Person sieht auf ihrer Statusseite")
        );
    }
    let receipt = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}/quittung.pdf", sub.id),
            &cookie,
        )
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    let api = format!("/api/v1/verwaltung/heinsberg/antraege/{}", sub.id);
    assert_eq!(
        o.get(&api, &Auth::Bearer(&o.hei_token)).await.status,
        StatusCode::OK
    );
    // Another application's read is not this one's.
    let page = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}", other.id),
            &cookie,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);

    let after = o.get(&status_page, &Auth::None).await;
    let body = &after.body;
    let section = &body[body.find("zugriffe-titel").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    let lines: Vec<&str> = section
        .split("<li>")
        .skip(1)
        .map(|l| &l[..l.find("</li>").unwrap()])
        .collect();
    assert_eq!(lines.len(), 3, "{section}");
    // Newest first.
    assert!(
        lines[0].starts_with("<strong>Von der Fachanwendung der Verwaltung abgerufen</strong> · "),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("<strong>Quittung (PDF) von der Verwaltung geöffnet</strong> · "),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("<strong>In der Sachbearbeitung geöffnet</strong> (3-mal) · "),
        "{}",
        lines[2]
    );
    assert!(lines[2].contains(" Uhr"), "{}", lines[2]);
    assert!(!body.contains("noch nicht geöffnet"));
    assert!(!body.contains(&sb), "no account on the citizen's page");

    // The citizen API says the same, each read on its own, oldest first, with its label.
    let api = o
        .get(
            &format!("/api/v1/tenants/heinsberg/submissions/{}", sub.id),
            &Auth::None,
        )
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let codes: Vec<&str> = v["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["what"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["page", "page", "page", "receipt", "api"]);
    assert_eq!(v["reads"][0]["label"], "In der Sachbearbeitung geöffnet");
    assert!(v["reads"][0]["at"].as_str().unwrap().ends_with('Z'));
    assert!(!api.body.contains(&sb), "no account in the citizen API");
    let api_en = o
        .get(
            &format!("/api/v1/tenants/heinsberg/submissions/{}?lang=en", sub.id),
            &Auth::None,
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&api_en.body).unwrap();
    assert_eq!(
        v["reads"][4]["label"],
        "Fetched by the office's case management system"
    );

    // In English.
    let en = o.get(&format!("{status_page}?lang=en"), &Auth::None).await;
    assert!(en.body.contains("Who has viewed your application?"));
    assert!(
        en.body
            .contains("<strong>Opened by a case worker</strong> (3 times)"),
        "{}",
        en.body
    );
}
