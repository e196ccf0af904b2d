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
    let bad = lotse(&["check", "engine/core/tests/broken/02-unknown-key.yaml"]);
    assert!(!bad.status.success());
    let t = text(&bad);
    assert!(
        t.contains("LOT-E004") && t.contains("tilte") && t.contains("02-unknown-key.yaml:4:1"),
        "{t}"
    );
}

/// Warnings pass a check unless `--deny-warnings` (a project's CI) counts them as errors; the
/// repository's own workflows have none.
#[test]
fn deny_warnings_fails_a_check_that_has_only_warnings() {
    // Outside the repository: a file of the repository is checked with its portal's tenants.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("vergleiche.yaml");
    std::fs::copy(
        repo().join("engine/core/tests/broken/51-comparisons-that-never-hold.yaml"),
        &copy,
    )
    .unwrap();
    let file = copy.to_str().unwrap();
    let plain = lotse(&["check", "--short", file]);
    let t = text(&plain);
    assert!(
        plain.status.success() && t.contains("0 error(s), 11 warning(s)"),
        "{t}"
    );
    let strict = lotse(&["check", "--short", "--deny-warnings", file]);
    let t = text(&strict);
    assert!(
        !strict.status.success() && t.contains("--deny-warnings counts every warning as an error"),
        "{t}"
    );
    let own = lotse(&["check", "--deny-warnings", "."]);
    assert!(own.status.success(), "{}", text(&own));
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
    let cert = data.join("demo-zertifikat.pem");
    let verify = lotse(&[
        "verify",
        "--trust",
        cert.to_str().unwrap(),
        pdf.to_str().unwrap(),
    ]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(text(&verify).contains("GÜLTIG – unverändert"));
    // Without a certificate to trust, an intact signature is not proof of who signed.
    let unproven = lotse(&["verify", pdf.to_str().unwrap()]);
    assert_eq!(unproven.status.code(), Some(2), "{}", text(&unproven));
    assert!(text(&unproven).contains("UNTERZEICHNER NICHT GEPRÜFT"));

    // One changed byte in the middle of the file breaks the signature.
    let mut bytes = std::fs::read(&pdf).unwrap();
    let i = bytes.len() / 3;
    bytes[i] ^= 0x01;
    let tampered = dir.path().join("tampered.pdf");
    std::fs::write(&tampered, bytes).unwrap();
    let verify = lotse(&[
        "verify",
        "--trust",
        cert.to_str().unwrap(),
        tampered.to_str().unwrap(),
    ]);
    assert_eq!(verify.status.code(), Some(1), "{}", text(&verify));
    assert!(text(&verify).contains("UNGÜLTIG"));

    // The audit log names the submission the demo stored, as JSON lines; filters by day and
    // by submission, and says what is wrong with a bad one.
    let audit = |args: &[&str]| admin(&data, &[&["audit"], args].concat(), None, None);
    let all = audit(&["--tenant", "heinsberg"]);
    assert!(all.status.success(), "{}", text(&all));
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&all.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let received = lines
        .iter()
        .find(|l| l["action"] == "submission_received")
        .unwrap_or_else(|| panic!("{}", text(&all)));
    let id = received["submission"].as_str().unwrap();
    let since = audit(&["--tenant", "heinsberg", "--since", "2000-01-01"]);
    assert_eq!(since.stdout, all.stdout);
    let future = audit(&["--tenant", "heinsberg", "--since", "8999-12-31"]);
    assert!(
        future.status.success() && future.stdout.is_empty(),
        "{}",
        text(&future)
    );
    let one = audit(&["--tenant", "heinsberg", "--submission", id]);
    assert!(String::from_utf8_lossy(&one.stdout).contains(id));
    let other = audit(&["--tenant", "erkelenz"]);
    assert!(other.status.success() && !String::from_utf8_lossy(&other.stdout).contains(id));
    let bad_day = audit(&["--tenant", "heinsberg", "--since", "1.12.2026"]);
    assert!(!bad_day.status.success());
    assert!(
        text(&bad_day).contains("--since: bitte ein Datum wie 2026-11-28 angeben"),
        "{}",
        text(&bad_day)
    );
    // The reference (Aktenzeichen) names it as well as the id does.
    let reference = received["reference"].as_str().unwrap();
    let by_reference = audit(&["--tenant", "heinsberg", "--submission", reference]);
    assert_eq!(by_reference.stdout, one.stdout, "{}", text(&by_reference));
    // As a table for a spreadsheet.
    let table = audit(&["--tenant", "heinsberg", "--format", "csv"]);
    let table = String::from_utf8_lossy(&table.stdout).to_string();
    assert!(
        table.starts_with("\u{feff}\"Zeitpunkt (Berlin)\",\"Wer\",\"Was\""),
        "{table}"
    );
    assert!(
        table.contains(&format!(
            "\"Bürgerin oder Bürger\",\"Antrag eingegangen\",\"{reference}\",\"{id}\""
        )),
        "{table}"
    );
    let bad_id = audit(&["--tenant", "heinsberg", "--submission", "abc"]);
    assert!(
        text(&bad_id).contains("is neither a submission id"),
        "{}",
        text(&bad_id)
    );
    let unknown = audit(&["--tenant", "heinsberg", "--submission", "HEI-2026-999999"]);
    assert!(
        text(&unknown).contains("heinsberg has no submission HEI-2026-999999"),
        "{}",
        text(&unknown)
    );

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
    // Signed with another tenant's key: intact, but not by the certificate the office trusts
    // (a receipt re-signed with any other key must never pass as genuine).
    let other = lotse(&[
        "verify",
        "--trust",
        cert.to_str().unwrap(),
        again.to_str().unwrap(),
    ]);
    assert_eq!(other.status.code(), Some(2), "{}", text(&other));
    assert!(text(&other).contains("NICHT VERTRAUENSWÜRDIG"));
    assert_eq!(
        lotse(&["verify", again.to_str().unwrap()]).status.code(),
        Some(2)
    );

    // Export, import into a new data folder, export again: the same bytes. `--data` is the
    // data folder, as for `lotse serve`.
    let first = dir.path().join("first.jsonl");
    let second = dir.path().join("second.jsonl");
    let restored = dir.path().join("restored");
    let export = lotse(&["export", "--data", data_s, "-o", first.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export));
    assert!(
        text(&export).contains("Export: ") && !text(&export).contains("Export: 0 "),
        "{}",
        text(&export)
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
    assert!(restored.join("store").join("db").is_file());
}

/// A folder that holds no store is an error for export, admin and render, never a new empty
/// store (not even a stray one inside the folder); passing the store folder itself says so.
/// `lotse init` makes the empty store a first administrator needs.
#[test]
fn commands_never_make_up_a_store_in_a_folder_that_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let demo = lotse(&["demo", "--data", data_s]);
    assert!(demo.status.success(), "{}", text(&demo));
    let out = dir.path().join("out.jsonl");

    let empty = dir.path().join("leer");
    std::fs::create_dir_all(&empty).unwrap();
    let empty_s = empty.to_str().unwrap();
    let nothing = dir.path().join("gibt-es-nicht");
    for folder in [empty_s, nothing.to_str().unwrap()] {
        let export = lotse(&["export", "--data", folder, "-o", out.to_str().unwrap()]);
        assert!(!export.status.success(), "{}", text(&export));
        assert!(
            text(&export).contains("holds no store"),
            "{}",
            text(&export)
        );
        assert!(text(&export).contains("lotse init"), "{}", text(&export));
        let list = admin(
            Path::new(folder),
            &["list", "--tenant", "heinsberg"],
            None,
            None,
        );
        assert!(!list.status.success(), "{}", text(&list));
        assert!(text(&list).contains("holds no store"), "{}", text(&list));
        let render = lotse(&[
            "render",
            data.join("demo-antrag.json").to_str().unwrap(),
            "-o",
            dir.path().join("r.pdf").to_str().unwrap(),
            "--data",
            folder,
        ]);
        assert!(!render.status.success(), "{}", text(&render));
        assert!(
            text(&render).contains("holds no store"),
            "{}",
            text(&render)
        );
    }
    assert_eq!(
        std::fs::read_dir(&empty).unwrap().count(),
        0,
        "nothing created"
    );
    assert!(!nothing.exists(), "nothing created");

    // The store folder itself: named as such, and nothing is created inside it.
    let store = data.join("store");
    let export = lotse(&["export", "--data", store.to_str().unwrap()]);
    assert!(!export.status.success());
    assert!(
        text(&export).contains("is a store folder itself") && text(&export).contains(data_s),
        "{}",
        text(&export)
    );
    let import = lotse(&[
        "import",
        out.to_str().unwrap(),
        "--data",
        store.to_str().unwrap(),
    ]);
    assert!(!import.status.success());
    assert!(!store.join("store").exists(), "no store inside the store");

    // `lotse init`, then the first administrator; init again keeps the store.
    let init = lotse(&["init", "--data", empty_s]);
    assert!(init.status.success(), "{}", text(&init));
    let first = admin(
        &empty,
        &["create-admin", "--tenant", "heinsberg", "--login", "chefin"],
        Some("ein-langes-passwort"),
        None,
    );
    assert!(first.status.success(), "{}", text(&first));
    assert!(lotse(&["init", "--data", empty_s]).status.success());
    let list = admin(&empty, &["list", "--tenant", "heinsberg"], None, None);
    assert!(String::from_utf8_lossy(&list.stdout).contains("chefin"));
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

fn admin(data: &Path, args: &[&str], password: Option<&str>, stdin: Option<&str>) -> Output {
    use std::io::Write;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lotse"));
    cmd.arg("admin")
        .arg("--data")
        .arg(data)
        .args(args)
        .env_remove("LOTSE_ADMIN_PASSWORD")
        .env_remove("LOTSE_DATA_DIR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    if let Some(p) = password {
        cmd.env("LOTSE_ADMIN_PASSWORD", p);
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(s) = stdin {
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn admin_creates_the_first_administrator_accounts_and_tokens_without_passwords_in_args() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let init = lotse(&["init", "--data", data.to_str().unwrap()]);
    assert!(init.status.success(), "{}", text(&init));
    let no_pw = admin(
        &data,
        &["create-admin", "--tenant", "wegberg", "--login", "chefin"],
        None,
        None,
    );
    assert!(!no_pw.status.success());
    assert!(
        text(&no_pw).contains("LOTSE_ADMIN_PASSWORD"),
        "{}",
        text(&no_pw)
    );
    let short = admin(
        &data,
        &["create-admin", "--tenant", "wegberg", "--login", "chefin"],
        Some("kurz"),
        None,
    );
    assert!(!short.status.success());
    let ok = admin(
        &data,
        &[
            "create-admin",
            "--tenant",
            "wegberg",
            "--login",
            "Chefin",
            "--password-stdin",
        ],
        None,
        Some("ein-langes-passwort\n"),
    );
    assert!(ok.status.success(), "{}", text(&ok));
    let again = admin(
        &data,
        &["create-admin", "--tenant", "wegberg", "--login", "zweite"],
        Some("ein-langes-passwort"),
        None,
    );
    assert!(!again.status.success(), "only the first administrator");
    let sb = admin(
        &data,
        &[
            "add",
            "--tenant",
            "wegberg",
            "--login",
            "sb",
            "--role",
            "sachbearbeitung",
        ],
        Some("noch-ein-passwort"),
        None,
    );
    assert!(sb.status.success(), "{}", text(&sb));
    let role = admin(
        &data,
        &[
            "set-role",
            "--tenant",
            "wegberg",
            "--login",
            "sb",
            "--role",
            "form_designer",
        ],
        None,
        None,
    );
    assert!(role.status.success(), "{}", text(&role));
    let off = admin(
        &data,
        &["disable", "--tenant", "wegberg", "--login", "sb"],
        None,
        None,
    );
    assert!(off.status.success());
    let list = admin(&data, &["list", "--tenant", "wegberg"], None, None);
    let listed = String::from_utf8_lossy(&list.stdout).to_string();
    assert!(listed.contains("chefin\ttenant_admin\taktiv"), "{listed}");
    assert!(listed.contains("sb\tform_designer\tgesperrt"), "{listed}");
    assert!(!listed.contains("argon2"), "no hashes in the listing");
    // Another tenant has no accounts.
    let other = admin(&data, &["list", "--tenant", "erkelenz"], None, None);
    assert!(String::from_utf8_lossy(&other.stdout).trim().is_empty());

    let token = admin(
        &data,
        &[
            "token-create",
            "--tenant",
            "wegberg",
            "--login",
            "chefin",
            "--label",
            "Fachverfahren",
        ],
        None,
        None,
    );
    assert!(token.status.success(), "{}", text(&token));
    let secret = String::from_utf8_lossy(&token.stdout).trim().to_string();
    assert!(
        secret.starts_with("lotse_") && secret.len() == 70,
        "{secret}"
    );
    let tokens = admin(&data, &["token-list", "--tenant", "wegberg"], None, None);
    let listed = String::from_utf8_lossy(&tokens.stdout).to_string();
    assert!(!listed.contains(&secret), "the secret is shown once only");
    let id = listed.split('\t').next().unwrap().to_string();
    let wrong = admin(
        &data,
        &["token-revoke", "--tenant", "erkelenz", "--id", &id],
        None,
        None,
    );
    assert!(!wrong.status.success(), "another tenant cannot revoke it");
    let revoked = admin(
        &data,
        &["token-revoke", "--tenant", "wegberg", "--id", &id],
        None,
        None,
    );
    assert!(revoked.status.success(), "{}", text(&revoked));
    let tokens = admin(&data, &["token-list", "--tenant", "wegberg"], None, None);
    assert!(String::from_utf8_lossy(&tokens.stdout).contains("widerrufen"));
}

#[test]
fn check_reports_catalogue_mistakes_with_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("portal/leistungen");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("fehler.yaml"),
        "leistungen:\n  - id: a\n    title: A\n    leika: \"12\"\n    lebenslagen: [raumfahrt]\n    responsible: atlantis\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    let out = lotse(&["check", "--short", dir.path().to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("fehler.yaml:4:12: error[LOT-E093]"), "{t}");
    assert!(t.contains("fehler.yaml:5:19: error[LOT-E094]"), "{t}");
    assert!(t.contains("fehler.yaml:6:18: error[LOT-E095]"), "{t}");
    // One catalogue file alone, as a designer checks the file they edit.
    let one = lotse(&[
        "check",
        "--short",
        folder.join("fehler.yaml").to_str().unwrap(),
    ]);
    let t = text(&one);
    assert!(!one.status.success(), "{t}");
    assert!(t.contains("fehler.yaml:4:12: error[LOT-E093]"), "{t}");
    assert!(
        t.contains("checked 0 catalogue entr(ies): 3 error(s)"),
        "{t}"
    );
}

#[test]
fn catalogue_import_writes_a_checked_csv_table_into_the_project_and_refuses_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("workflows")).unwrap();
    let csv = dir.path().join("leistungen.csv");
    std::fs::write(
        &csv,
        "id;title;lebenslagen;responsible;visit\nstadtfuehrung;Stadtführung buchen;freizeit;erkelenz;nein\nzweite;;freizeit;gemeinde;\n",
    )
    .unwrap();
    let project = dir.path().to_str().unwrap();
    let bad = lotse(&[
        "catalogue",
        "import",
        csv.to_str().unwrap(),
        "--dir",
        project,
    ]);
    assert!(!bad.status.success());
    assert!(
        text(&bad).contains("leistungen.csv:3:8: error[LOT-E092]"),
        "{}",
        text(&bad)
    );
    assert!(!dir.path().join("portal").exists(), "nothing is written");

    std::fs::write(
        &csv,
        "id;title;lebenslagen;responsible;visit\nstadtfuehrung;Stadtführung buchen;freizeit;erkelenz;nein\n",
    )
    .unwrap();
    let ok = lotse(&[
        "catalogue",
        "import",
        csv.to_str().unwrap(),
        "--dir",
        project,
    ]);
    assert!(ok.status.success(), "{}", text(&ok));
    let check = lotse(&["check", project]);
    assert!(check.status.success(), "{}", text(&check));
    assert!(
        text(&check).contains("1 catalogue entr(ies)"),
        "{}",
        text(&check)
    );
    let again = lotse(&[
        "catalogue",
        "import",
        csv.to_str().unwrap(),
        "--dir",
        project,
    ]);
    assert!(!again.status.success(), "an existing file is kept");
}

#[test]
fn check_runs_the_scenarios_answers_and_finds_a_script_that_fails_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("workflows/probe");
    std::fs::create_dir_all(folder.join("scenarios")).unwrap();
    std::fs::write(
        folder.join("workflow.yaml"),
        "id: probe\nversion: 1\ntitle: Bäume\noffice: Umweltamt\nsteps:\n  - id: baeume\n    title: Bäume\n    fields:\n      - id: anzahl\n        label: Anzahl\n        widget: number\n        schema: { type: integer, minimum: 1 }\ncomputed:\n  - id: viele\n    label: Viele\n    value: len(anzahl) > 3\n",
    )
    .unwrap();
    std::fs::write(
        folder.join("scenarios/zahl.yaml"),
        "name: Eine Zahl\nsteps:\n  - step: baeume\n    answers: { anzahl: 5 }\n",
    )
    .unwrap();
    let o = lotse(&["check", "--short", dir.path().to_str().unwrap()]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    // At the script in the workflow file, naming the scenario step whose answers broke it.
    assert!(
        t.contains("workflow.yaml:16:12") && t.contains("LOT-E032"),
        "{t}"
    );
    assert!(t.contains("zahl.yaml:3"), "{t}");
}

#[test]
fn check_finds_an_appointment_offer_that_the_tenants_schedule_does_not_have() {
    let dir = tempfile::tempdir().unwrap();
    for part in ["workflows", "forms", "portal", "pdf-templates"] {
        let ok = std::process::Command::new("cp")
            .args(["-r"])
            .arg(repo().join(part))
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(ok.success());
    }
    let file = dir.path().join("workflows/bewohnerparken/workflow.yaml");
    let text_of = std::fs::read_to_string(&file).unwrap();
    assert!(text_of.contains("    service: parkausweis-abholen\n"));
    std::fs::write(
        &file,
        text_of.replace(
            "    service: parkausweis-abholen\n",
            "    service: parkausweis-abhlen\n",
        ),
    )
    .unwrap();
    let out = lotse(&["check", "--short", dir.path().to_str().unwrap()]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    let line = text_of
        .lines()
        .position(|l| l == "    service: parkausweis-abholen")
        .unwrap()
        + 1;
    assert!(
        t.contains(&format!("workflow.yaml:{line}:5: error[LOT-E136]")),
        "{t}"
    );
    assert!(t.contains("portal/termine/heinsberg.yaml"), "{t}");
}
