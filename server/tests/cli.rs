//! The `lotse` binary as a user runs it: check, demo, verify, export and import.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn lotse(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lotse"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn check_passes_on_the_repository_and_fails_on_a_broken_file() {
    let ok = lotse(&["check", "."]);
    assert!(ok.status.success(), "{}", text(&ok));
    assert!(text(&ok).contains("0 error(s)"));
    let bad = lotse(&["check", "engine/tests/broken/02-unknown-key.yaml"]);
    assert!(!bad.status.success());
    let t = text(&bad);
    assert!(
        t.contains("LOT-E004") && t.contains("tilte") && t.contains("02-unknown-key.yaml:4:1"),
        "{t}"
    );
}

#[test]
fn the_demo_stores_a_submission_and_issues_a_receipt_that_verifies_until_tampered_with() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let demo = lotse(&["demo", "--data", data_s]);
    assert!(demo.status.success(), "{}", text(&demo));
    let t = text(&demo);
    assert!(
        t.contains("Aktenzeichen HEI-2026-") || t.contains("Aktenzeichen HEI-"),
        "{t}"
    );
    assert!(
        t.contains("nicht für den Produktivbetrieb"),
        "the dev key must be announced: {t}"
    );
    let pdf = data.join("demo-quittung.pdf");
    let verify = lotse(&["verify", pdf.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("GÜLTIG"));

    // One changed byte in the middle of the file breaks the signature.
    let mut bytes = std::fs::read(&pdf).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 0x01;
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, bytes).unwrap();
    let verify = lotse(&["verify", tampered.to_str().unwrap()]);
    assert!(!verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("UNGÜLTIG"));

    // The submission JSON renders again with `lotse render`.
    let again = dir.path().join("again.pdf");
    let render = lotse(&[
        "render",
        data.join("demo-antrag.json").to_str().unwrap(),
        "-o",
        again.to_str().unwrap(),
        "--data",
        data_s,
        "--tenant",
        "wegberg",
    ]);
    assert!(render.status.success(), "{}", text(&render));
    assert!(lotse(&["verify", again.to_str().unwrap()]).status.success());

    // Export, import into an empty store, export again: the same bytes.
    let first = dir.path().join("first.jsonl");
    let second = dir.path().join("second.jsonl");
    let restored = dir.path().join("restored");
    let store = data.join("store");
    assert!(
        lotse(&[
            "export",
            "--data",
            store.to_str().unwrap(),
            "-o",
            first.to_str().unwrap()
        ])
        .status
        .success()
    );
    let import = lotse(&[
        "import",
        first.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
    ]);
    assert!(import.status.success(), "{}", text(&import));
    assert!(
        lotse(&[
            "export",
            "--data",
            restored.to_str().unwrap(),
            "-o",
            second.to_str().unwrap()
        ])
        .status
        .success()
    );
    let a = std::fs::read(&first).unwrap();
    assert!(a.len() > 100);
    assert_eq!(a, std::fs::read(&second).unwrap());
    // Importing twice is refused: the store is no longer empty.
    let again = lotse(&[
        "import",
        first.to_str().unwrap(),
        "--data",
        restored.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
}

#[test]
fn check_and_test_refuse_overrides_and_scenarios_for_tenants_that_do_not_exist() {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows/gebuehr");
    std::fs::create_dir_all(wf.join("overrides")).unwrap();
    std::fs::create_dir_all(wf.join("scenarios")).unwrap();
    std::fs::write(
        wf.join("workflow.yaml"),
        "id: gebuehr\nversion: 1\ntitle: Gebühr\noffice: Kreis\nsteps:\n  - id: a\n    title: A\n    fields:\n      - id: anzahl\n        label: Anzahl\n        widget: number\ncomputed:\n  - id: gebuehr\n    label: Gebühr\n    format: euro\n    value: anzahl * 10\n",
    )
    .unwrap();
    let override_file = wf.join("overrides/heinsberg.yaml");
    std::fs::write(
        &override_file,
        "tenant: heinsbreg\nworkflow: gebuehr\ncomputed:\n  - id: gebuehr\n    fixed: 7\n",
    )
    .unwrap();
    let root = dir.path().to_str().unwrap();
    let check = lotse(&["check", root, "--short"]);
    assert!(!check.status.success());
    let t = text(&check);
    assert!(
        t.contains("overrides/heinsberg.yaml:1:9: error[LOT-E072]") && t.contains("heinsbreg"),
        "{t}"
    );

    // Fixed, the override loads; a scenario for it proves the tenant's fee.
    std::fs::write(
        &override_file,
        "tenant: heinsberg\nworkflow: gebuehr\ncomputed:\n  - id: gebuehr\n    fixed: 7\n",
    )
    .unwrap();
    let check = lotse(&["check", root]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(text(&check).contains("1 override(s)"), "{}", text(&check));
    let scenario = |tenant: &str, fee: u32| {
        format!(
            "name: Gebühr\ntenant: {tenant}\nsteps:\n  - step: a\n    answers: {{ anzahl: 3 }}\nexpect:\n  computed: {{ gebuehr: {fee} }}\n"
        )
    };
    std::fs::write(wf.join("scenarios/a.yaml"), scenario("heinsberg", 7)).unwrap();
    std::fs::write(wf.join("scenarios/b.yaml"), scenario("gangelt", 30)).unwrap();
    let test = lotse(&["test", root]);
    assert!(test.status.success(), "{}", text(&test));
    std::fs::write(wf.join("scenarios/b.yaml"), scenario("gangelt", 7)).unwrap();
    let test = lotse(&["test", root]);
    assert!(
        !test.status.success(),
        "the county's fee applies in Gangelt"
    );
    std::fs::write(wf.join("scenarios/b.yaml"), scenario("gangelt-typo", 30)).unwrap();
    let test = lotse(&["test", root]);
    assert!(!test.status.success());
    assert!(
        text(&test).contains("b.yaml:2:9") && text(&test).contains("no tenant \"gangelt-typo\""),
        "{}",
        text(&test)
    );
}
