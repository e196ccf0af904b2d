//! Nachweise in the Postkorb: a submission's page lists the files its answers name, and a
//! case worker of its tenant downloads them, streamed, with headers that keep the browser
//! from running them; another tenant's case worker and any other hash find nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use axum::http::{StatusCode, header};
use lotse_store::{
    AttachmentHash, AttachmentStore, IdempotencyKey, NewSubmission, OsEntropy, SledStore,
    Submission, SubmissionId, SubmissionStore, TenantId,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::macros::datetime;

use crate::admin::{Auth, Office};

/// A lease of 1,234,567 bytes (shown as "1,2 MB").
pub(crate) fn lease() -> Vec<u8> {
    let mut b = b"%PDF-1.7\n".to_vec();
    b.extend((0..1_234_567 - 9).map(|i: u32| (i % 253) as u8));
    b
}

pub(crate) fn plan() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n a site plan".to_vec()
}

pub(crate) fn stray() -> Vec<u8> {
    b"%PDF-1.7 nobody names me".to_vec()
}

fn theirs() -> Vec<u8> {
    b"%PDF-1.7 Erkelenz".to_vec()
}

fn reference(store: &SledStore, name: &str, ty: &str, file: &[u8], scan: &str) -> Value {
    let hash = AttachmentHash::of(file);
    store
        .put_attachment(&hash, &mut &file[..], 50 << 20)
        .unwrap();
    json!({"name": name, "type": ty, "size": file.len(), "sha256": hash.to_string(), "scan": scan})
}

fn submit(store: &SledStore, t: &TenantId, key: &str, answers: Value) -> Submission {
    store
        .submit(
            NewSubmission {
                id: SubmissionId::generate(&mut OsEntropy).unwrap(),
                tenant: t.clone(),
                idempotency_key: IdempotencyKey::try_from(key.to_string()).unwrap(),
                draft_id: None,
                workflow_id: "bewohnerparkausweis".into(),
                workflow_version: "1".into(),
                data: json!({"answers": answers}),
                applicant: Some(format!("Person {key}")),
                search_text: format!("Person {key}"),
                notifications: vec![],
            },
            datetime!(2026-11-20 10:30 UTC),
        )
        .unwrap()
}

/// The office of admin.rs with one more submission per tenant that names files: Heinsberg's
/// (`hei[2]`) a lease (clean) and a site plan (unchecked), Erkelenz's (`erk[2]`) one of its
/// own; and a stored file nobody names.
pub(crate) fn office_with_files() -> Office {
    Office::with_extra(&|store, hei, erk| {
        let lease = reference(
            store,
            "../Miet\"vertrag Küche.pdf",
            "application/pdf",
            &lease(),
            "clean",
        );
        let plan = reference(store, "Lageplan.png", "image/png", &plan(), "unchecked");
        reference(store, "x.pdf", "application/pdf", &stray(), "clean");
        let theirs = reference(store, "E.pdf", "application/pdf", &theirs(), "clean");
        vec![
            submit(
                store,
                hei,
                "h3",
                json!({"name": "Person h3", "mietvertrag": [lease], "lageplan": [plan]}),
            ),
            submit(store, erk, "e3", json!({"nachweis": [theirs]})),
        ]
    })
}

pub(crate) fn download_url(tenant: &str, sub: &Submission, file: &[u8]) -> String {
    format!(
        "/verwaltung/{tenant}/antrag/{}/nachweis/{}",
        sub.id,
        AttachmentHash::of(file)
    )
}

#[tokio::test]
async fn the_case_page_lists_the_files_with_size_hash_and_an_unchecked_badge() {
    let o = office_with_files();
    let session = o.sign_in("heinsberg", "sb").await;
    let page = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}", o.hei[2].id),
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let b = &page.body;
    assert!(b.contains("<h2 id=\"nachweise\">Nachweise</h2>"), "{b}");
    assert!(b.contains("Mietvertrag Küche.pdf") && b.contains("Lageplan.png"));
    assert!(b.contains("<td>mietvertrag</td>") && b.contains("<td>lageplan</td>"));
    assert!(b.contains("<td>1,2 MB</td>") && b.contains("<td>PDF</td>"));
    assert!(b.contains(&AttachmentHash::of(&lease()).to_string()));
    assert!(b.contains(&download_url("heinsberg", &o.hei[2], &lease())));
    assert!(b.contains(&download_url("heinsberg", &o.hei[2], &plan())));
    // The site plan was not scanned: said once, for it alone.
    assert_eq!(
        b.matches("nicht geprüft (Virenscanner war nicht erreichbar)")
            .count(),
        1
    );
    // A submission without files has no such section.
    let plain = o
        .get(
            &format!("/verwaltung/heinsberg/antrag/{}", o.hei[0].id),
            &Auth::Cookie(&session),
        )
        .await;
    assert!(!plain.body.contains("<h2 id=\"nachweise\">"));
    // The API's submission lists them too.
    let api = o
        .get(
            &format!("/api/v1/verwaltung/heinsberg/antraege/{}", o.hei[2].id),
            &Auth::Bearer(&o.hei_token),
        )
        .await;
    let v: Value = serde_json::from_str(&api.body).unwrap();
    assert_eq!(v["attachments"][1]["scan"], "unchecked");
    assert_eq!(v["attachments"][0]["size_text"], "1,2 MB");
}

#[tokio::test]
async fn a_case_worker_downloads_the_bytes_with_headers_that_keep_them_inert() {
    let o = office_with_files();
    let session = o.sign_in("heinsberg", "sb").await;
    let r = o
        .get(
            &download_url("heinsberg", &o.hei[2], &lease()),
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes == lease(), "the bytes as stored");
    assert_eq!(
        hex(&Sha256::digest(&r.bytes)),
        AttachmentHash::of(&lease()).to_string()
    );
    let h = |name| r.headers.get(name).unwrap().to_str().unwrap().to_string();
    assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
    assert_eq!(h(header::CONTENT_LENGTH), "1234567");
    assert_eq!(
        h(header::CONTENT_DISPOSITION),
        "attachment; filename=\"Mietvertrag Kueche.pdf\"; \
         filename*=UTF-8''Mietvertrag%20K%C3%BCche.pdf"
    );
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(h(header::CONTENT_SECURITY_POLICY).starts_with("sandbox;"));
    assert_eq!(h(header::CACHE_CONTROL), "no-store");

    let png = o
        .get(
            &download_url("heinsberg", &o.hei[2], &plan()),
            &Auth::Cookie(&session),
        )
        .await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.content_type, "image/png");
    assert!(png.bytes == plan());
}

#[tokio::test]
async fn another_tenant_and_any_other_hash_find_nothing() {
    let o = office_with_files();
    let hei = o.sign_in("heinsberg", "sb").await;
    let erk = o.sign_in("erkelenz", "sb").await;
    let not_found = |r: crate::admin::Reply| {
        assert_eq!(r.status, StatusCode::NOT_FOUND);
        assert!(
            !r.bytes.windows(8).any(|w| w == b"%PDF-1.7"),
            "no file bytes"
        );
    };
    // Erkelenz's case worker, asking for Heinsberg's submission under Erkelenz.
    not_found(
        o.get(
            &download_url("erkelenz", &o.hei[2], &lease()),
            &Auth::Cookie(&erk),
        )
        .await,
    );
    // Heinsberg's case worker, asking for Erkelenz's submission and file.
    not_found(
        o.get(
            &download_url("heinsberg", &o.erk[2], &theirs()),
            &Auth::Cookie(&hei),
        )
        .await,
    );
    // A stored file the submission does not name, a file of another of the tenant's
    // submissions, and no hash at all.
    not_found(
        o.get(
            &download_url("heinsberg", &o.hei[2], &stray()),
            &Auth::Cookie(&hei),
        )
        .await,
    );
    not_found(
        o.get(
            &download_url("heinsberg", &o.hei[0], &lease()),
            &Auth::Cookie(&hei),
        )
        .await,
    );
    not_found(
        o.get(
            &format!("/verwaltung/heinsberg/antrag/{}/nachweis/abc", o.hei[2].id),
            &Auth::Cookie(&hei),
        )
        .await,
    );
    // Erkelenz's own file is there for Erkelenz.
    let own = o
        .get(
            &download_url("erkelenz", &o.erk[2], &theirs()),
            &Auth::Cookie(&erk),
        )
        .await;
    assert_eq!(own.status, StatusCode::OK);
    assert!(own.bytes == theirs());
}

pub(crate) fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// An office's system on loopback that takes every delivery (200) and keeps its body.
async fn receiving_office() -> (u16, std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>>) {
    let got: std::sync::Arc<std::sync::Mutex<Vec<Vec<u8>>>> = Default::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let g = got.clone();
    let app = axum::Router::new().route(
        "/eingang",
        axum::routing::post(move |body: axum::body::Bytes| {
            let g = g.clone();
            async move {
                g.lock().unwrap().push(body.to_vec());
                StatusCode::OK
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, got)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhook_delivery_lists_the_files_with_signed_expiring_links() {
    use lotse_server::config::{Config, TenantConfig, Webhook};
    use lotse_server::delivery;
    use lotse_server::uploads::links::AttachmentLinks;
    use std::time::Duration;

    let (port, got) = receiving_office().await;
    let mut config = Config::default();
    config.tenants.insert(
        "heinsberg".into(),
        TenantConfig {
            webhook: Some(Webhook {
                url: format!("http://127.0.0.1:{port}/eingang"),
                secret_env: "SECRET".into(),
                timeout_seconds: Some(5),
                ca_file: None,
            }),
            ..TenantConfig::default()
        },
    );
    config.delivery.poll_seconds = Duration::from_millis(50);
    let links = std::sync::Arc::new(AttachmentLinks::new(
        &[9; 32],
        "https://portal.example/",
        time::Duration::days(7),
    ));
    let webhooks =
        delivery::Webhooks::from_config(&config, &|_| Some(crate::delivery::SECRET.to_string()))
            .unwrap()
            .with_links(links.clone());

    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(dir.path().join("store")).unwrap();
    let receipts = dir.path().join("receipts");
    std::fs::create_dir_all(&receipts).unwrap();
    let hei = TenantId::new("heinsberg", "HEI").unwrap();
    let lease_ref = reference(
        &store,
        "Mietvertrag.pdf",
        "application/pdf",
        &lease(),
        "clean",
    );
    let plan_ref = reference(&store, "Lageplan.png", "image/png", &plan(), "unchecked");
    let id = SubmissionId::generate(&mut OsEntropy).unwrap();
    let sub = store
        .submit(
            NewSubmission {
                id,
                tenant: hei.clone(),
                idempotency_key: IdempotencyKey::try_from("w1".to_string()).unwrap(),
                draft_id: None,
                workflow_id: "bewohnerparkausweis".into(),
                workflow_version: "1".into(),
                data: json!({"answers": {"mietvertrag": [lease_ref], "lageplan": [plan_ref]}}),
                applicant: None,
                search_text: String::new(),
                notifications: delivery::notifications(
                    &webhooks,
                    "heinsberg",
                    "bewohnerparkausweis",
                    &id,
                ),
            },
            lotse_core::Clock::now(&lotse_core::SystemClock),
        )
        .unwrap();
    std::fs::write(receipts.join(format!("{}.pdf", sub.id)), b"%PDF-1.7 test").unwrap();
    let sent_at = lotse_core::Clock::now(&lotse_core::SystemClock);
    let worker = delivery::Worker::start(store.clone(), std::sync::Arc::new(webhooks), receipts);
    crate::delivery::wait_for("the delivery", Duration::from_secs(20), || {
        !got.lock().unwrap().is_empty()
    })
    .await;
    worker.stop().await;

    let body: Value = serde_json::from_slice(&got.lock().unwrap()[0]).unwrap();
    let files = body["attachments"].as_array().unwrap();
    assert_eq!(files.len(), 2, "{body}");
    let lease_hash = AttachmentHash::of(&lease()).to_string();
    let lease_part = files.iter().find(|f| f["field"] == "mietvertrag").unwrap();
    assert_eq!(lease_part["name"], "Mietvertrag.pdf");
    assert_eq!(lease_part["type"], "application/pdf");
    assert_eq!(lease_part["size"], 1_234_567);
    assert_eq!(lease_part["sha256"], lease_hash.as_str());
    assert_eq!(lease_part["scan"], "clean");
    let plan_part = files.iter().find(|f| f["field"] == "lageplan").unwrap();
    assert_eq!(plan_part["scan"], "unchecked");
    // The link: the portal's address, the tenant, submission and file, signed; it expires in
    // seven days.
    let url = lease_part["url"].as_str().unwrap();
    let prefix = format!(
        "https://portal.example/nachweise/heinsberg/{}/{lease_hash}?bis=",
        sub.id
    );
    assert!(url.starts_with(&prefix), "{url}");
    let expires = time::OffsetDateTime::parse(
        lease_part["url_expires"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let week = expires - sent_at;
    assert!(
        week > time::Duration::days(7) - time::Duration::minutes(1)
            && week <= time::Duration::days(7) + time::Duration::minutes(1),
        "{week}"
    );
    let (bis, sig) = url[prefix.len()..].split_once("&sig=").unwrap();
    assert_eq!(bis.parse::<i64>().unwrap(), expires.unix_timestamp());
    assert!(links.check(
        "heinsberg",
        &sub.id.to_string(),
        &lease_hash,
        expires.unix_timestamp(),
        sig,
        sent_at
    ));
}

/// The path and query of a signed link to `file` of `sub` made at `at`.
pub(crate) fn signed_path(
    o: &Office,
    tenant: &str,
    sub: &Submission,
    file: &[u8],
    at: time::OffsetDateTime,
) -> String {
    let portal = o.portal.as_ref().unwrap();
    let link = portal.state().attachment_links().unwrap().link(
        tenant,
        &sub.id,
        &AttachmentHash::of(file),
        at,
    );
    let start = link.url.find("/nachweise/").unwrap();
    link.url[start..].to_string()
}

#[tokio::test]
async fn a_signed_link_serves_its_file_until_it_expires_and_only_unchanged() {
    let o = office_with_files();
    let now = lotse_core::Clock::now(&lotse_core::SystemClock);
    let path = signed_path(&o, "heinsberg", &o.hei[2], &lease(), now);
    let r = o.get(&path, &Auth::None).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.bytes == lease());
    let h = |name| r.headers.get(name).unwrap().to_str().unwrap().to_string();
    assert_eq!(h(header::CONTENT_TYPE), "application/pdf");
    assert!(
        h(header::CONTENT_DISPOSITION)
            .starts_with("attachment; filename=\"Mietvertrag Kueche.pdf\"")
    );
    assert_eq!(h(header::X_CONTENT_TYPE_OPTIONS), "nosniff");
    assert!(h(header::CONTENT_SECURITY_POLICY).starts_with("sandbox;"));
    assert_eq!(h(header::CACHE_CONTROL), "no-store");

    let refused = |r: crate::admin::Reply| {
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
        assert!(r.bytes.len() < 200, "no file bytes");
    };
    // One character of the signature changed.
    let last = path.chars().last().unwrap();
    let tampered = format!(
        "{}{}",
        &path[..path.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    refused(o.get(&tampered, &Auth::None).await);
    // The signed file swapped for another of the same submission.
    let swapped = path.replace(
        &AttachmentHash::of(&lease()).to_string(),
        &AttachmentHash::of(&plan()).to_string(),
    );
    refused(o.get(&swapped, &Auth::None).await);
    // The expiry moved a day on.
    let (head, rest) = path.split_once("?bis=").unwrap();
    let (bis, sig) = rest.split_once("&sig=").unwrap();
    let later = bis.parse::<i64>().unwrap() + 86_400;
    refused(
        o.get(&format!("{head}?bis={later}&sig={sig}"), &Auth::None)
            .await,
    );
    // Made eight days ago: expired a day ago.
    let old = signed_path(
        &o,
        "heinsberg",
        &o.hei[2],
        &lease(),
        now - time::Duration::days(8),
    );
    refused(o.get(&old, &Auth::None).await);
    // No signature at all.
    refused(o.get(head, &Auth::None).await);

    // Validly signed, but for a file the submission does not name, or under another tenant:
    // not found.
    let stray_link = signed_path(&o, "heinsberg", &o.hei[2], &stray(), now);
    assert_eq!(
        o.get(&stray_link, &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
    let wrong_tenant = signed_path(&o, "erkelenz", &o.hei[2], &lease(), now);
    assert_eq!(
        o.get(&wrong_tenant, &Auth::None).await.status,
        StatusCode::NOT_FOUND
    );
}
