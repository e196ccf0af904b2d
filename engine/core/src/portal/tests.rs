use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

fn project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn demo() -> Portal {
    let (portal, problems) = load_portal(&project()).expect("the demo has portal/portal.yaml");
    assert!(problems.is_empty(), "{problems:?}");
    portal.expect("the demo portal loads")
}

const PORTAL: &str = "name: Testportal\nroot: kreis\ncontact: {phone: '0123 4', email: a@b.example}\nlinks: {imprint: /i, privacy: /p, accessibility: /a}\nleichte_sprache: Das ist ein Test.\ngebaerdensprache: {video: 'https://v.example/x.mp4', description: Video}\n";

fn tenant(slug: &str, extra: &str) -> String {
    let base = format!(
        "slug: {slug}\nname: Gemeinde {slug}\nkind: gemeinde\nprefix: {}\ncolour: '#00587c'\naddress: [Markt 1, 12345 Ort]\noffice: Bürgerbüro\nphone: '0123 4'\nemail: info@{slug}.example\nservices: all\n",
        slug[..3].to_uppercase()
    );
    // A later key replaces the earlier one: write the changed keys over the base.
    let mut lines: Vec<String> = base.lines().map(str::to_string).collect();
    for l in extra.lines() {
        let key = l.split(':').next().unwrap_or_default();
        lines.retain(|b| !b.starts_with(&format!("{key}:")));
        lines.push(l.to_string());
    }
    lines.join("\n") + "\n"
}

fn run(tenants: &[(&str, String)]) -> (Option<Portal>, Vec<Problem>) {
    let p = PortalFile {
        path: "portal/portal.yaml".into(),
        text: PORTAL.into(),
    };
    let files: Vec<PortalFile> = tenants
        .iter()
        .map(|(name, text)| PortalFile {
            path: format!("portal/tenants/{name}.yaml").into(),
            text: text.clone(),
        })
        .collect();
    let logos = |_: &Path, name: &str| -> Result<(PathBuf, String), Problem> {
        let text = match name {
            "good.svg" => "<svg xmlns='http://www.w3.org/2000/svg'><path d='M0 0h1v1z'/></svg>",
            "script.svg" => "<svg>\n  <script>alert(1)</script>\n</svg>",
            "onload.svg" => "<svg onload='alert(1)'/>",
            "remote.svg" => "<svg><image href='https://x.example/a.png'/></svg>",
            "use.svg" => "<svg><use xlink:href='https://x.example/a.svg#x'/></svg>",
            "style.svg" => "<svg><rect style='fill: url(https://x.example/f)'/></svg>",
            "entity.svg" => "<!DOCTYPE svg [<!ENTITY a 'b'>]><svg/>",
            "broken.svg" => "<svg><path></svg>",
            _ => {
                return Err(Problem::error(
                    "LOT-E001",
                    Path::new(name),
                    Pos::UNKNOWN,
                    "cannot read the file",
                ));
            }
        };
        Ok((PathBuf::from(name), text.to_string()))
    };
    parse(&p, &files, &logos)
}

fn codes(problems: &[Problem]) -> Vec<&'static str> {
    problems.iter().map(|p| p.code).collect()
}

#[test]
fn the_demo_is_a_county_and_ten_municipalities() {
    let p = demo();
    assert_eq!(p.tenants.len(), 11);
    assert_eq!(p.root().slug, "kreis-heinsberg");
    assert_eq!(p.root().kind, TenantKind::Kreis);
    assert_eq!(p.children("kreis-heinsberg").count(), 10);
    let mut prefixes: Vec<&str> = p.tenants.iter().map(|t| t.prefix.as_str()).collect();
    prefixes.sort_unstable();
    prefixes.dedup();
    assert_eq!(prefixes.len(), 11);
    let initials = |s: &str| p.find(s).map(|t| t.initials.clone());
    assert_eq!(initials("uebach-palenberg").as_deref(), Some("ÜP"));
    assert_eq!(initials("heinsberg").as_deref(), Some("HE"));
    assert_eq!(initials("kreis-heinsberg").as_deref(), Some("KH"));
    assert_eq!(initials("waldfeucht").as_deref(), Some("WL"));
    assert_eq!(initials("wassenberg").as_deref(), Some("WS"));
    let gangelt = p.find("gangelt").expect("gangelt");
    assert_eq!(gangelt.at_phrase(Lang::De), "bei der Gemeinde Gangelt");
    assert_eq!(gangelt.place, "Gangelt");
    assert_eq!(p.root().at_phrase(Lang::De), "beim Kreis Heinsberg");
    assert!(
        p.root()
            .logo
            .as_deref()
            .is_some_and(|l| l.starts_with("<svg"))
    );
    assert!(p.find("heinsberg").is_some_and(|t| t.creditor_id.is_some()));
    assert!(!p.leichte_sprache.is_empty());
}

#[test]
fn services_name_workflows_and_every_workflow_is_offered() {
    let p = demo();
    let workflows: BTreeSet<String> = [
        "hundesteuer-anmeldung",
        "bewohnerparkausweis",
        "sondernutzung-strasse",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert!(check_services(&p, &workflows, false).is_empty());
    let (small, problems) = run(&[
        (
            "kreis",
            tenant("kreis", "kind: kreis\nservices: [bewohnerparkausweis]"),
        ),
        ("a", tenant("gangelt", "services: [hundesteuer-anmeldung]")),
    ]);
    assert!(problems.is_empty(), "{problems:?}");
    let found = check_services(&small.expect("loads"), &workflows, false);
    assert_eq!(codes(&found), ["LOT-E107"]);
    assert!(found[0].message.contains("sondernutzung-strasse"));
    assert!(
        !found[0].is_error(),
        "a workflow nobody offers is a warning"
    );
    let fewer: BTreeSet<String> = ["bewohnerparkausweis", "sondernutzung-strasse"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let found = check_services(&p, &fewer, false);
    assert!(found.iter().all(|f| f.code == "LOT-E106" && f.is_error()) && !found.is_empty());
    assert!(found[0].line > 0, "the problem points at `services:`");
}

#[test]
fn a_pale_colour_is_refused_with_a_darker_suggestion() {
    let (portal, problems) = run(&[("kreis", tenant("kreis", "kind: kreis\ncolour: '#ffcc00'"))]);
    assert!(portal.is_none());
    let p = problems
        .iter()
        .find(|p| p.code == "LOT-E102")
        .expect("contrast problem");
    assert!(p.message.contains("4.5:1"), "{}", p.message);
    let text = tenant("kreis", "kind: kreis\ncolour: '#ffcc00'");
    let line = text.lines().position(|l| l.starts_with("colour:")).unwrap() + 1;
    assert_eq!(p.line, line);
    let help = p.help.as_deref().unwrap_or_default();
    let hex = help
        .split_whitespace()
        .find(|w| w.starts_with('#'))
        .expect("a colour");
    let rgb = (
        u8::from_str_radix(&hex[1..3], 16).unwrap(),
        u8::from_str_radix(&hex[3..5], 16).unwrap(),
        u8::from_str_radix(&hex[5..7], 16).unwrap(),
    );
    assert!(contrast_ratio(rgb, (255, 255, 255)) >= 4.5);
    assert!((contrast_ratio((0, 0, 0), (255, 255, 255)) - 21.0).abs() < 0.01);
}

#[test]
fn duplicates_unknown_kinds_and_bad_values_are_errors_with_positions() {
    let (portal, problems) = run(&[
        ("kreis", tenant("kreis", "kind: kreis")),
        ("one", tenant("gangelt", "")),
        ("two", tenant("gangelt", "prefix: ZZZ")),
        ("three", tenant("selfkant", "prefix: GAN")),
        ("four", tenant("wegberg", "kind: dorf\nprefix: WEG")),
        ("five", tenant("verwaltung", "prefix: VER")),
        (
            "six",
            tenant("erkelenz", "creditor_id: DE00ZZZ09999999999\nemail: nobody"),
        ),
    ]);
    let portal = portal.expect("the good tenants load");
    assert_eq!(portal.slugs(), ["kreis", "gangelt"]);
    let c = codes(&problems);
    assert_eq!(
        c.iter().filter(|c| **c == "LOT-E104").count(),
        2,
        "{problems:?}"
    );
    let dorf = problems
        .iter()
        .find(|p| p.message.contains("dorf"))
        .expect("kind");
    let line = tenant("wegberg", "kind: dorf\nprefix: WEG")
        .lines()
        .position(|l| l == "kind: dorf")
        .unwrap()
        + 1;
    assert_eq!(
        (dorf.line, dorf.file.display().to_string()),
        (line, "portal/tenants/four.yaml".into())
    );
    assert!(
        problems
            .iter()
            .any(|p| p.message.contains("path of the portal"))
    );
    assert!(problems.iter().any(|p| p.message.contains("creditor_id")));
    assert!(problems.iter().any(|p| p.message.contains("\"nobody\"")));
}

#[test]
fn a_missing_root_or_parent_is_named() {
    let (portal, problems) = run(&[("a", tenant("gangelt", ""))]);
    assert!(portal.is_none());
    assert!(
        problems
            .iter()
            .any(|p| p.code == "LOT-E101" && p.message.contains("\"kreis\""))
    );
    let (portal, problems) = run(&[
        ("kreis", tenant("kreis", "kind: kreis")),
        ("a", tenant("gangelt", "parent: nirgendwo")),
    ]);
    assert!(portal.is_some());
    assert!(problems.iter().any(|p| p.message.contains("nirgendwo")));
}

#[test]
fn logos_without_scripts_or_external_references() {
    let (portal, problems) = run(&[("kreis", tenant("kreis", "kind: kreis\nlogo: good.svg"))]);
    assert!(problems.is_empty(), "{problems:?}");
    assert!(portal.is_some_and(|p| p.root().logo.is_some()));
    for (file, says) in [
        ("script.svg", "<script>"),
        ("onload.svg", "onload"),
        ("remote.svg", "<image>"),
        ("use.svg", "points outside"),
        ("style.svg", "outside the file"),
        ("entity.svg", "DTD"),
        ("broken.svg", "well-formed"),
        ("missing.svg", "cannot read"),
    ] {
        let (_, problems) = run(&[(
            "kreis",
            tenant("kreis", &format!("kind: kreis\nlogo: {file}")),
        )]);
        assert!(
            problems.iter().any(|p| p.message.contains(says)),
            "{file}: {problems:?}"
        );
    }
    let (_, problems) = run(&[("kreis", tenant("kreis", "kind: kreis\nlogo: script.svg"))]);
    let p = problems
        .iter()
        .find(|p| p.code == "LOT-E103")
        .expect("refused");
    assert_eq!((p.line, p.column), (2, 3), "the place of the <script>");
}

#[test]
fn creditor_ids_are_checked_with_their_check_digits() {
    assert!(check::creditor_id_valid_for_tests("DE98ZZZ09999999999"));
    assert!(!check::creditor_id_valid_for_tests("DE99ZZZ09999999999"));
    assert!(!check::creditor_id_valid_for_tests("DE98ZZZ0999999999"));
}

#[test]
fn a_tenants_own_catalogue_part_is_read_and_checked() {
    let good = "kind: kreis\ncatalogue: {sperrmuell: {fees: 'viermal im Jahr frei', documents: [Kassenzeichen], online: 'https://www.kreis.example/sperrmuell'}}";
    let (portal, problems) = run(&[("kreis", tenant("kreis", good))]);
    assert!(problems.is_empty(), "{problems:?}");
    let portal = portal.unwrap();
    let part = &portal.root().catalogue["sperrmuell"];
    assert_eq!(part.fees.as_deref(), Some("viermal im Jahr frei"));
    assert_eq!(part.documents, ["Kassenzeichen"]);
    let bad =
        "kind: kreis\ncatalogue: {sperrmuell: {online: 'http://www.kreis.example/sperrmuell'}}";
    let (portal, problems) = run(&[("kreis", tenant("kreis", bad))]);
    assert!(portal.is_none());
    let p = problems.iter().find(|p| p.code == "LOT-E099").unwrap();
    assert!(
        p.message.contains("sperrmuell") && p.message.contains("https://"),
        "{p}"
    );
    assert!(p.line > 0, "with its place: {p}");
    let unknown = "kind: kreis\ncatalogue: {sperrmuell: {price: 1}}";
    let (_, problems) = run(&[("kreis", tenant("kreis", unknown))]);
    assert!(codes(&problems).contains(&"LOT-E004"), "{problems:?}");
}
