use lotse_tests::*;

#[test]
fn every_definition_in_the_repository_loads_without_problems() {
    let (lib, problems) = lotse_core::load_library(&repo_root(), sandbox());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        lib.workflows.len() >= 3,
        "expected at least three example workflows"
    );
}

/// Two versions of one workflow, loaded side by side; JSON is accepted like YAML.
fn two_versions() -> (tempfile::TempDir, lotse_core::Library) {
    let dir = tempfile::tempdir().unwrap();
    let wf = dir.path().join("workflows/test");
    std::fs::create_dir_all(&wf).unwrap();
    std::fs::create_dir_all(dir.path().join("forms")).unwrap();
    std::fs::write(
        wf.join("v1.yaml"),
        "id: versionen\nversion: 1\ntitle: V\noffice: Amt\nsteps:\n  - id: a\n    title: A\n    fields:\n      - id: name\n        label: Name\n",
    )
    .unwrap();
    std::fs::write(
        wf.join("v2.json"),
        r#"{"id": "versionen", "version": 2, "title": "V", "office": "Amt",
            "steps": [{"id": "a", "title": "A", "fields": [
              {"id": "name", "label": "Name"},
              {"id": "alter", "label": "Alter", "widget": "number"}]}]}"#,
    )
    .unwrap();
    let (lib, problems) = lotse_core::load_library(dir.path(), sandbox());
    assert!(problems.is_empty(), "{problems:#?}");
    (dir, lib)
}

#[test]
fn an_application_stays_on_the_version_it_started_with() {
    use lotse_core::{Application, Command, Lang};
    let (_dir, lib) = two_versions();
    assert_eq!(lib.workflows["versionen"].len(), 2);
    let v1 = lib.version("versionen", 1).unwrap();
    let v2 = lib.latest("versionen").unwrap();
    assert_eq!(v2.version, 2);
    assert_ne!(v1.content_hash, v2.content_hash);
    let app = Application::start(v1, Lang::De, NOW);
    let answer = || Command::Answer {
        step: "a".into(),
        values: serde_json::json!({"name": "Anna"})
            .as_object()
            .cloned()
            .unwrap(),
        then_review: false,
    };
    // Version 2 asks for more; the draft started on version 1 is refused there ...
    let err = app.apply(v2, sandbox(), answer(), NOW).unwrap_err();
    assert_eq!(err.code(), "LOT-A001");
    // ... and finishes on version 1.
    let t = app.apply(v1, sandbox(), answer(), NOW).unwrap();
    let t = t
        .state
        .apply(v1, sandbox(), Command::submit(), NOW)
        .unwrap();
    match t.outcome {
        lotse_core::Outcome::Submitted { submission } => {
            assert_eq!(submission.workflow_version, 1);
            assert_eq!(submission.content_hash, v1.content_hash);
        }
        other => panic!("{other:?}"),
    }
}
