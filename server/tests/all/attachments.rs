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

fn plan() -> Vec<u8> {
    b"\x89PNG\r\n\x1a\n a site plan".to_vec()
}

fn stray() -> Vec<u8> {
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

fn download_url(tenant: &str, sub: &Submission, file: &[u8]) -> String {
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
    assert!(b.contains("<td>1,2 MB</td>") && b.contains("<td>application/pdf</td>"));
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
    assert!(!plain.body.contains("Nachweise"));
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
