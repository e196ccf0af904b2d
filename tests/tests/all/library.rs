use lotse_tests::*;

#[test]
fn every_definition_in_the_repository_loads_without_problems() {
    let (lib, problems) = lotse_engine::load_library(&repo_root(), sandbox());
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(
        lib.workflows.len() >= 3,
        "expected at least three example workflows"
    );
}
