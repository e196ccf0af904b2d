//! The server's part of the engine in the browser (docs/browser-engine.md): step pages carry the
//! module, the workflow and the state, safely escaped; the module and a workflow version's
//! sources are served by hash, the sources only to a tenant that runs that version, and they
//! compile to the very workflow the server runs; without a module nothing of it is there.
//! (The module itself and the parity of both builds: engine/wasm/tests/parity.rs; the page's
//! script in a browser: tests/browser/engine.sh.)
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use lotse_core::Application;
use lotse_core::definition::{ParsedSources, compile_parsed};
use lotse_core::script::Sandbox;
use lotse_server::{Portal, router};
use serde_json::Value;

use crate::portal::{Browser, copy_dir, form_action, hidden, project_root, start};

/// The smallest valid WebAssembly module: the portal only serves it.
const MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// [`MODULE`] brotli-compressed (`brotli -q 11`).
const MODULE_BR: &[u8] = &[
    0x8f, 0x03, 0x80, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x03,
];

/// Another module (version 2) brotli-compressed: a stale `.br` beside [`MODULE`].
const OTHER_BR: &[u8] = &[
    0x8f, 0x03, 0x80, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00, 0x03,
];

fn portal(module: Option<&[u8]>) -> Browser {
    portal_with(module, None)
}

/// A portal with `module` and, beside it, `br` as the build's brotli file.
fn portal_with(module: Option<&[u8]>, br: Option<&[u8]>) -> Browser {
    portal_on(project_root(), tempfile::tempdir().unwrap(), module, br)
}

/// [`portal_with`] on the project in `project`, its data and module in `dir`.
fn portal_on(
    project: &std::path::Path,
    dir: tempfile::TempDir,
    module: Option<&[u8]>,
    br: Option<&[u8]>,
) -> Browser {
    let file = dir.path().join("engine.wasm");
    if let Some(br) = br {
        std::fs::write(dir.path().join("engine.wasm.br"), br).unwrap();
    }
    let module = match module {
        Some(bytes) => {
            std::fs::write(&file, bytes).unwrap();
            Some(file)
        }
        None => Some(std::path::PathBuf::new()),
    };
    let config = lotse_server::config::Config {
        project_dir: project.to_path_buf(),
        data_dir: dir.path().join("data"),
        browser_engine: lotse_server::config::BrowserEngineConfig { module },
        ..lotse_server::config::Config::default()
    };
    let portal = Portal::build_with(&config).unwrap();
    Browser {
        app: router(Arc::new(portal)),
        _dir: dir,
    }
}

fn attr<'a>(page: &'a str, name: &str) -> &'a str {
    let marker = format!("{name}=\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {page}"))
        + marker.len();
    let end = page[start..].find('"').unwrap() + start;
    &page[start..end]
}

fn state_json(page: &str) -> &str {
    let marker = "<script type=\"application/json\" id=\"lotse-state\">";
    let start = page.find(marker).unwrap() + marker.len();
    let end = page[start..].find("</script>").unwrap() + start;
    &page[start..end]
}

#[tokio::test]
async fn a_step_page_carries_the_module_the_workflow_and_the_state_escaped() {
    let b = portal(Some(MODULE));
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    assert_eq!(page.status, StatusCode::OK);
    let module = attr(&page.body, "data-engine").to_string();
    assert!(module.starts_with("/static/engine/") && module.ends_with(".wasm"));
    assert!(
        page.body
            .contains("<script src=\"/static/lotse-engine.js\" defer></script>")
    );

    // A refused step keeps what was typed in the state: even a closing script tag there cannot
    // end the element.
    let hostile = "</script><script>alert(1)</script><!--";
    let csrf = hidden(&page.body, "_csrf").to_string();
    let rev = hidden(&page.body, "_rev").to_string();
    let step = hidden(&page.body, "_step").to_string();
    let action = form_action(&page.body).replace("&amp;", "&");
    let refused = b
        .post(
            &action,
            &[
                ("_csrf", &csrf),
                ("_rev", &rev),
                ("_step", &step),
                ("halter.vorname", hostile),
                ("_action", "weiter"),
            ],
        )
        .await;
    let again = if refused.status == StatusCode::SEE_OTHER {
        b.get(refused.location.as_deref().unwrap()).await
    } else {
        refused
    };
    assert!(!again.body.contains("<script>alert(1)"), "{}", again.body);
    let json = state_json(&again.body);
    assert!(!json.contains('<') && !json.contains('>'));
    let state: Application = serde_json::from_str(json).unwrap();
    let typed = serde_json::to_string(&state).unwrap();
    assert!(
        typed.contains(hostile),
        "the state keeps the value as typed: {typed}"
    );

    // The module, compressed where the browser takes gzip, cached by its hash.
    let plain = b.get(&module).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(plain.bytes, MODULE);
    let gz = b
        .send(
            Request::get(&module)
                .header(header::ACCEPT_ENCODING, "gzip, br")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gz.status, StatusCode::OK);
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.bytes[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, MODULE);
    assert_eq!(
        b.get("/static/engine/0000000000000000.wasm").await.status,
        StatusCode::NOT_FOUND
    );
    let js = b.get("/static/lotse-engine.js").await;
    assert!(js.body.contains("lotse_preview"));
}

/// The module as sent for `accept` (an `Accept-Encoding`), decompressed by what it was sent as:
/// `(coding, bytes)`.
async fn module_as_sent(b: &Browser, module: &str, accept: &str) -> (&'static str, Vec<u8>) {
    let got = b
        .send(
            Request::get(module)
                .header(header::ACCEPT_ENCODING, accept)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(got.status, StatusCode::OK);
    if got.bytes == MODULE_BR {
        return ("br", MODULE.to_vec());
    }
    let mut unzipped = Vec::new();
    match std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&got.bytes[..]),
        &mut unzipped,
    ) {
        Ok(_) => ("gzip", unzipped),
        Err(_) => ("identity", got.bytes),
    }
}

#[tokio::test]
async fn the_module_goes_brotli_compressed_where_the_build_left_it_and_it_is_the_module() {
    let b = portal_with(Some(MODULE), Some(MODULE_BR));
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    let module = attr(&page.body, "data-engine").to_string();
    assert_eq!(
        module_as_sent(&b, &module, "gzip, deflate, br").await,
        ("br", MODULE.to_vec())
    );
    assert_eq!(
        module_as_sent(&b, &module, "gzip").await,
        ("gzip", MODULE.to_vec())
    );
    assert_eq!(
        module_as_sent(&b, &module, "br;q=0, gzip").await,
        ("gzip", MODULE.to_vec())
    );
    assert_eq!(
        module_as_sent(&b, &module, "identity").await,
        ("identity", MODULE.to_vec())
    );

    // A brotli file of another module (the module built again without brotli) is not sent.
    let b = portal_with(Some(MODULE), Some(OTHER_BR));
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    let module = attr(&page.body, "data-engine").to_string();
    assert_eq!(
        module_as_sent(&b, &module, "br, gzip").await,
        ("gzip", MODULE.to_vec())
    );
}

#[tokio::test]
async fn the_sources_compile_to_the_workflow_the_tenant_runs_and_only_it_gets_them() {
    let b = portal(Some(MODULE));
    // Heinsberg runs the dog tax with its own override.
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    let hash = attr(&page.body, "data-content-hash").to_string();
    let workflow = attr(&page.body, "data-workflow").to_string();
    assert_eq!(
        workflow,
        format!(
            "/heinsberg/engine/{}.json",
            hash.trim_start_matches("sha256:")
        )
    );
    let served = b.get(&workflow).await;
    assert_eq!(served.status, StatusCode::OK);
    // Asked again, the answer comes from the versions already read: the very same bytes.
    assert_eq!(b.get(&workflow).await.bytes, served.bytes);
    let body: Value = serde_json::from_slice(&served.bytes).unwrap();
    assert_eq!(body["content_hash"], hash.as_str());
    let sources: ParsedSources = serde_json::from_value(body["sources"].clone()).unwrap();
    assert!(
        sources.overrides.is_some(),
        "Heinsberg's override travels with the workflow"
    );
    // Parsed by the server: the module reads no YAML.
    assert!(sources.workflow["steps"].is_array());
    assert!(sources.overrides.as_ref().unwrap().parsed.is_object());
    let wf = compile_parsed(&sources, &Sandbox::default()).unwrap();
    assert_eq!(
        wf.content_hash, hash,
        "the sources compile to the same workflow"
    );
    assert_eq!(wf.tenant.as_deref(), Some("heinsberg"));

    // Another tenant does not get Heinsberg's variant; unknown hashes and tenants are not found.
    let other = workflow.replacen("/heinsberg/", "/erkelenz/", 1);
    assert_eq!(b.get(&other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        b.get("/heinsberg/engine/00.json").await.status,
        StatusCode::NOT_FOUND
    );
    let unknown = workflow.replacen("/heinsberg/", "/nirgendwo/", 1);
    assert_eq!(b.get(&unknown).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn without_a_module_the_pages_and_routes_are_as_before() {
    let b = portal(None);
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    assert!(!page.body.contains("data-engine"));
    assert!(!page.body.contains("lotse-state"));
    assert_eq!(
        page.body.matches("<script").count(),
        1,
        "only the page script"
    );
    let hash = page.body.find("data-content-hash").is_none();
    assert!(hash);
    assert_eq!(
        b.get("/static/engine/0000000000000000.wasm").await.status,
        StatusCode::NOT_FOUND
    );
    let id = url
        .split("/antrag/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let api = b
        .get(&format!(
            "/api/v1/tenants/heinsberg/applications/{id}/engine"
        ))
        .await;
    assert_eq!(api.status, StatusCode::NOT_FOUND);
    assert!(api.body.contains("LOT-H025"), "{}", api.body);
}

#[tokio::test]
async fn the_api_gives_a_front_end_what_it_needs_to_run_the_engine() {
    let b = portal(Some(MODULE));
    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await;
    let id = url
        .split("/antrag/")
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap();
    let api = b
        .get(&format!(
            "/api/v1/tenants/heinsberg/applications/{id}/engine"
        ))
        .await;
    assert_eq!(api.status, StatusCode::OK, "{}", api.body);
    let v: Value = serde_json::from_slice(&api.bytes).unwrap();
    assert_eq!(v["module"], attr(&page.body, "data-engine"));
    assert_eq!(v["workflow"], attr(&page.body, "data-workflow"));
    assert_eq!(v["content_hash"], attr(&page.body, "data-content-hash"));
    let state: Application = serde_json::from_value(v["state"].clone()).unwrap();
    assert_eq!(state.workflow_id, "hundesteuer-anmeldung");
    assert!(
        time::OffsetDateTime::parse(
            v["now"].as_str().unwrap(),
            &time::format_description::well_known::Rfc3339
        )
        .is_ok()
    );
    // Another tenant's path does not open Heinsberg's application.
    let foreign = b
        .get(&format!(
            "/api/v1/tenants/erkelenz/applications/{id}/engine"
        ))
        .await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

/// The texts of a step that show values (title, help, a field's label and help) carry the key
/// under which the engine's preview sends them filled again, so that the page script can put
/// them in place as the citizen answers; texts without values carry none.
#[tokio::test]
async fn texts_that_show_values_carry_the_keys_of_the_engines_preview() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    for part in ["workflows", "forms", "pdf-templates"] {
        copy_dir(&project_root().join(part), &project.join(part));
    }
    let file = project.join("workflows/hundesteuer/workflow.yaml");
    let full = std::fs::read_to_string(&file).unwrap();
    let shows = full
        .replacen(
            "      de: Angaben zur Halterin oder zum Halter\n",
            "      de: \"Angaben zur Halterin oder zum Halter ({anzahl_hunde} Hunde)\"\n",
            1,
        )
        .replacen(
            "label: { de: Kontakt, en: Contact }",
            r#"label: { de: "Kontakt für {jahressteuer}", en: Contact }"#,
            1,
        );
    assert_ne!(shows, full, "the texts to change are there");
    std::fs::write(&file, shows).unwrap();
    let data = tempfile::tempdir().unwrap();
    let b = portal_on(&project, data, Some(MODULE), None);

    let url = start(&b, "heinsberg", "hundesteuer-anmeldung").await;
    let page = b.get(&url).await.body;
    let keyed: Vec<(String, String)> = page
        .split("data-text=\"")
        .skip(1)
        .map(|rest| {
            let (key, after) = rest.split_once('"').unwrap();
            let text = after.split_once('>').unwrap().1.split('<').next().unwrap();
            (key.to_string(), text.to_string())
        })
        .collect();
    // What the engine in the browser computes for this step with nothing typed yet.
    let state: Application = serde_json::from_str(state_json(&page)).unwrap();
    let served = b.get(attr(&page, "data-workflow")).await;
    let body: Value = serde_json::from_slice(&served.bytes).unwrap();
    let sources: ParsedSources = serde_json::from_value(body["sources"].clone()).unwrap();
    let sandbox = Sandbox::default();
    let wf = compile_parsed(&sources, &sandbox).unwrap();
    let preview = state
        .preview_step(
            &wf,
            &sandbox,
            "halter",
            serde_json::Map::new(),
            lotse_core::Lang::De,
            time::macros::datetime!(2026-12-07 12:00 UTC),
        )
        .unwrap();
    let expected: Vec<(String, String)> = preview.texts.into_iter().collect();
    let mut keyed_sorted = keyed.clone();
    keyed_sorted.sort();
    assert_eq!(keyed_sorted, expected, "{page}");
    assert_eq!(
        expected.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        ["kontakt.label", "title"]
    );
    // The label's text sits in its own element, beside nothing else of the label.
    assert!(
        page.contains(r#"<span data-text="kontakt.label">Kontakt für "#),
        "{page}"
    );
    assert!(page.contains("<legend>Anschrift</legend>"), "{page}");
    assert!(!page.contains(r#"id="step-hint" data-text"#), "{page}");
}
