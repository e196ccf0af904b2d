//! `lotse check [DIR]`: every problem in every file, compiler style, non-zero exit on errors.

use std::path::Path;
use std::process::ExitCode;

use lotse_core::problem::{Problem, Severity};
use lotse_core::script::Sandbox;
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

/// A problem with its source, for miette's renderer.
#[derive(Debug)]
struct Report {
    problem: Problem,
    source: Option<NamedSource<String>>,
    span: Option<(usize, usize)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.problem.message)
    }
}

impl std::error::Error for Report {}

impl Diagnostic for Report {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(self.problem.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.problem.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.problem
            .help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let (offset, len) = self.span?;
        Some(Box::new(std::iter::once(LabeledSpan::new(
            Some("here".into()),
            offset,
            len,
        ))))
    }
}

/// Byte offset of a 1-based line and column (in characters), and the length of the token there.
fn offset(text: &str, line: usize, column: usize) -> Option<(usize, usize)> {
    if line == 0 {
        return None;
    }
    let mut start = 0usize;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            let col = column.max(1) - 1;
            let byte = l.char_indices().nth(col).map(|(b, _)| b).unwrap_or(l.len());
            let rest = &l[byte..];
            let len = rest
                .char_indices()
                .find(|(_, c)| c.is_whitespace() || *c == ':' || *c == ',')
                .map(|(b, _)| b)
                .unwrap_or(rest.len())
                .max(1);
            return Some((start + byte, len.min(rest.len().max(1))));
        }
        start += l.len();
    }
    None
}

fn report(problem: Problem) -> Report {
    let text = std::fs::read(&problem.file)
        .ok()
        .filter(|b| b.len() as u64 <= lotse_core::definition::MAX_FILE_BYTES_FOR_SNIPPETS)
        .and_then(|b| String::from_utf8(b).ok());
    let span = text
        .as_deref()
        .and_then(|t| offset(t, problem.line, problem.column));
    let source = text.map(|t| NamedSource::new(problem.file.display().to_string(), t));
    Report {
        problem,
        source: if span.is_some() { source } else { None },
        span,
    }
}

/// The project of a catalogue file (`PROJECT/portal/leistungen/FILE`), if `path` is one.
fn catalogue_project(path: &Path) -> Option<&Path> {
    let folder = path.parent()?;
    if !path.is_file() || !folder.ends_with(lotse_core::catalogue::load::DIR) {
        return None;
    }
    folder.parent()?.parent()
}

/// How the problems are reported: compiler style or one per line, and whether a warning fails
/// the check too (`--deny-warnings`, for a designers' CI).
#[derive(Clone, Copy)]
pub struct Output {
    pub short: bool,
    pub deny_warnings: bool,
}

pub fn run(dir: &Path, how: Output) -> ExitCode {
    let sandbox = Sandbox::default();
    if let Some(project) = catalogue_project(dir) {
        // One catalogue file: checked with the rest of the catalogue (duplicate ids) and the
        // project's workflows; only its own problems are reported.
        let library = lotse_core::load_library(project, &sandbox).0;
        let (portal, _) = crate::tenants::for_path(project);
        let (entries, problems) = crate::directory::load_entries(project, &library, &portal);
        let own = entries.iter().filter(|e| e.source == dir).count();
        let problems = problems.into_iter().filter(|p| p.file == dir).collect();
        return print(problems, how, &format!("checked {own} catalogue entr(ies)"));
    }
    let (mut library, mut problems) = lotse_core::load_library(dir, &sandbox);
    // The portal's files (or the built-in demo); overrides name a tenant: it must be one of the
    // portal's; every tenant's services must be workflows, and every workflow offered somewhere.
    let failed = problems.iter().any(|p| p.is_error());
    let (portal, portal_problems) = crate::tenants::for_path(dir);
    problems.extend(portal_problems);
    problems.extend(library.check_tenants(&portal.slugs()));
    let ids: std::collections::BTreeSet<String> = library.workflows.keys().cloned().collect();
    problems.extend(lotse_core::portal::check_services(&portal, &ids, failed));
    if portal.source.is_some() {
        problems.extend(lotse_core::portal::check_mandates(&portal, &library));
    }
    // Appointment schedules (portal/termine/<tenant>.yaml): offices, hours, services.
    let schedules = check_schedules(dir, &portal.slugs(), &mut problems);
    problems.extend(check_appointment_offers(&library, &portal, &schedules));
    // The offices' own mail texts (portal/mail/<tenant>/), rendered with sample values.
    if let Err(e) = crate::mail::check_templates(dir) {
        problems.push(
            Problem::error(
                "LOT-E037",
                &dir.join("portal").join("mail"),
                lotse_core::problem::Pos::new(1, 1),
                format!("{e:#}"),
            )
            .with_help(
                "see docs/email.md, \"Texts\": <event>.<lang>.txt, the subject on the first line",
            ),
        );
    }
    // A trial run with the scenarios' answers: a script that fails at run time with real
    // answers (`len()` on a number) is found here, at the script, not first by a citizen.
    if !failed {
        problems.extend(trial_run(dir, &sandbox, &portal.slugs()));
    }
    // The catalogue entries, where the project has them (a project without uses the demo's).
    let catalogue = if dir.join(lotse_core::catalogue::load::DIR).is_dir() {
        let (entries, found) = crate::directory::load_entries(dir, &library, &portal);
        problems.extend(found);
        format!(", {} catalogue entr(ies)", entries.len())
    } else {
        String::new()
    };
    let versions: usize = library.workflows.values().map(Vec::len).sum();
    // Projects without overrides read as before.
    let overrides = match library.overrides().len() {
        0 => String::new(),
        n => format!(", {n} override(s)"),
    };
    let schedules = match schedules.len() {
        0 => String::new(),
        n => format!(", {n} appointment schedule(s)"),
    };
    let summary = format!(
        "checked {} workflow(s) ({} version(s)){overrides}, {} form(s), {} template(s){catalogue}{schedules}",
        library.workflows.len(),
        versions,
        library.forms.names().count(),
        library.templates.len(),
    );
    print(problems, how, &summary)
}

/// `after_submission: appointment:` offers a service of the schedule of every tenant that has
/// one and offers the workflow (LOT-E136); a tenant without a schedule shows no offer.
fn check_appointment_offers(
    library: &lotse_core::Library,
    portal: &lotse_core::portal::Portal,
    schedules: &[(String, lotse_core::appointments::Schedule)],
) -> Vec<Problem> {
    let mut found = Vec::new();
    for versions in library.workflows.values() {
        for wf in versions {
            let Some(offer) = wf
                .after_submission
                .as_ref()
                .and_then(|a| a.appointment.as_ref())
            else {
                continue;
            };
            for (slug, schedule) in schedules {
                let offered = portal.find(slug).is_some_and(|t| t.services.offers(&wf.id));
                if offered && schedule.service(&offer.service).is_none() {
                    // The line of `service:` under `appointment:` (the key has no span).
                    let at = std::fs::read_to_string(&wf.source)
                        .ok()
                        .and_then(|text| {
                            let lines: Vec<&str> = text.lines().collect();
                            let from = lines.iter().position(|l| l.trim() == "appointment:")?;
                            let i = (from..lines.len())
                                .find(|i| lines[*i].trim_start().starts_with("service:"))?;
                            let column = lines[i].len() - lines[i].trim_start().len() + 1;
                            Some(lotse_core::problem::Pos::new(i + 1, column))
                        })
                        .unwrap_or(lotse_core::problem::Pos::new(1, 1));
                    found.push(
                        Problem::error(
                            "LOT-E136",
                            &wf.source,
                            at,
                            format!(
                                "after_submission: appointment: service \"{}\" is not a service of portal/termine/{slug}.yaml, and {slug} offers {}",
                                offer.service, wf.id
                            ),
                        )
                        .with_help("name a service of the tenant's appointment schedule (docs/appointments.md)"),
                    );
                }
            }
        }
    }
    found
}

/// Checks every `portal/termine/<tenant>.yaml`; returns those that are valid, by tenant.
fn check_schedules(
    dir: &Path,
    tenants: &[&str],
    problems: &mut Vec<Problem>,
) -> Vec<(String, lotse_core::appointments::Schedule)> {
    let mut valid = Vec::new();
    let folder = dir.join("portal").join("termine");
    let Ok(entries) = std::fs::read_dir(&folder) else {
        return valid;
    };
    let mut files: Vec<std::path::PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    for file in &files {
        let slug = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if !tenants.contains(&slug) {
            problems.push(Problem::error(
                "LOT-E130",
                file,
                lotse_core::problem::Pos::new(1, 1),
                format!("\"{slug}\" is not a tenant of the portal; name the file after one"),
            ));
            continue;
        }
        match std::fs::read_to_string(file) {
            Ok(text) => match lotse_core::appointments::Schedule::parse(file, &text) {
                Ok(schedule) => valid.push((slug.to_string(), schedule)),
                Err(found) => problems.extend(found),
            },
            Err(e) => problems.push(Problem::error(
                "LOT-E001",
                file,
                lotse_core::problem::Pos::new(1, 1),
                format!("cannot read: {e}"),
            )),
        }
    }
    valid
}

/// The scripts that failed while the scenarios ran (LOT-A005 in a scenario), as problems at the
/// script in its workflow file (LOT-E032), naming the scenario step whose answers made it fail.
fn trial_run(dir: &Path, sandbox: &Sandbox, tenants: &[&str]) -> Vec<Problem> {
    let run = lotse_core::scenario::run_all_with(dir, sandbox, Some(tenants));
    let mut out: Vec<Problem> = Vec::new();
    for r in &run.results {
        let Some(source) = r
            .workflow
            .as_deref()
            .and_then(|key| key.split(' ').next())
            .and_then(|key| {
                run.library
                    .all()
                    .find(|wf| wf.key() == key)
                    .map(|wf| wf.source.clone())
            })
        else {
            continue;
        };
        for f in r.failures.iter().filter(|f| f.message.contains("LOT-A005")) {
            let (line, column) = script_position(&f.message).unwrap_or((0, 0));
            let message = f
                .message
                .split_once("LOT-A005: ")
                .map_or(f.message.as_str(), |(_, m)| m);
            let problem = Problem::error(
                "LOT-E032",
                &source,
                lotse_core::problem::Pos { line, column },
                format!("{message} (in a trial run with the answers of {}:{})", r.file.display(), f.at.line),
            )
            .with_help("the script fails with these answers; guard it (`answered(x)`, `type_of(x)`) or fix it");
            if !out
                .iter()
                .any(|p| p.line == line && p.column == column && p.file == source)
            {
                out.push(problem);
            }
        }
    }
    out
}

/// `(line 26, column 12)` in an engine message: where the script is in its workflow file.
fn script_position(message: &str) -> Option<(usize, usize)> {
    let rest = &message[message.find("(line ")? + 6..];
    let (line, rest) = rest.split_once(", column ")?;
    let column = rest.split(')').next()?;
    Some((line.trim().parse().ok()?, column.trim().parse().ok()?))
}

/// Prints every problem (compiler style, or one per line with `short`) and the summary line;
/// fails when there is an error (or, with `deny_warnings`, a warning).
fn print(mut problems: Vec<Problem>, how: Output, summary: &str) -> ExitCode {
    let short = how.short;
    problems.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
    let errors = problems.iter().filter(|p| p.is_error()).count();
    let warnings = problems.len() - errors;
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor());
    for p in problems {
        if short {
            eprintln!("{p}");
            continue;
        }
        let header = format!("{}:{}:{}", p.file.display(), p.line, p.column);
        let r = report(p);
        let mut out = String::new();
        if handler.render_report(&mut out, &r).is_err() {
            out = r.problem.to_string();
        }
        if r.source.is_none() {
            eprintln!("{header}");
        }
        eprintln!("{out}");
    }
    eprintln!("{summary}: {errors} error(s), {warnings} warning(s)");
    if how.deny_warnings && warnings > 0 && errors == 0 {
        eprintln!("failed: --deny-warnings counts every warning as an error");
    }
    if errors > 0 || (how.deny_warnings && warnings > 0) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
