//! The crates' arrows, checked on the real dependency tree: the core stays free of I/O runtimes,
//! stores and PDF; the store knows no HTTP and no PDF; the receipt crate knows no store and no
//! HTTP. A forbidden crate that comes back (directly or through another) fails this test.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::process::Command;

/// The crates in the normal (non-dev, non-build) dependency tree of `package`.
fn normal_dependencies(package: &str) -> BTreeSet<String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "tree",
            "--offline",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .args(["--all-features", "-p", package])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "cargo tree -p {package} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

fn assert_free_of(package: &str, forbidden: &[&str]) {
    let deps = normal_dependencies(package);
    assert!(
        deps.contains(package),
        "cargo tree did not list {package} itself: {deps:?}"
    );
    let found: Vec<&&str> = forbidden.iter().filter(|f| deps.contains(**f)).collect();
    assert!(
        found.is_empty(),
        "{package} must not depend on {found:?} (docs/architecture.md, allowed arrows)"
    );
}

#[test]
fn the_core_has_no_runtime_store_http_or_pdf_in_its_tree() {
    assert_free_of(
        "lotse-core",
        &[
            "sled",
            "sqlx",
            "tokio",
            "axum",
            "hyper",
            "printpdf",
            "lopdf",
            "lotse-store",
            "lotse-receipt",
        ],
    );
}

#[test]
fn the_store_knows_no_http_pdf_or_workflows() {
    assert_free_of(
        "lotse-store",
        &[
            "axum",
            "hyper",
            "printpdf",
            "lopdf",
            "rhai",
            "jsonschema",
            "lotse-core",
        ],
    );
}

#[test]
fn the_receipt_crate_knows_no_store_and_no_http() {
    assert_free_of(
        "lotse-receipt",
        &["sled", "sqlx", "tokio", "axum", "hyper", "lotse-store"],
    );
}

#[test]
fn the_browser_engine_is_the_core_and_nothing_of_the_server() {
    assert_free_of(
        "lotse-wasm",
        &[
            "sled",
            "sqlx",
            "tokio",
            "axum",
            "hyper",
            "printpdf",
            "lopdf",
            "wasm-bindgen",
            "lotse-store",
            "lotse-receipt",
            "lotse-server",
        ],
    );
}

#[test]
fn the_check_sees_a_dependency_that_is_there() {
    // Guards the test itself: a tree that really holds sled must be reported as holding it.
    assert!(normal_dependencies("lotse-store").contains("sled"));
}
