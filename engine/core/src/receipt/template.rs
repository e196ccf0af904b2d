//! Receipt templates: handlebars in strict mode with layout-language escaping, the built-in
//! default, per-workflow overrides from `pdf-templates/`, and `check_template` for `lotse check`.

use std::path::Path;

use handlebars::Handlebars;
use serde::Serialize;

use super::error::{ReceiptError, TemplateProblem};
use super::layout;
use super::model::{Entry, Language, ReceiptModel};

/// Name of the default template (`pdf-templates/receipt.hbs`).
pub const DEFAULT_TEMPLATE: &str = "receipt";
/// Name of the built-in partial that prints a list of entries, groups included.
pub const ENTRIES_PARTIAL: &str = "receipt-entries";

const BUILTIN_RECEIPT: &str = include_str!("../../../../pdf-templates/receipt.hbs");
const BUILTIN_ENTRIES: &str =
    include_str!("../../../../pdf-templates/partials/receipt-entries.hbs");

/// The compiled receipt templates. Build once at start-up and share.
pub struct TemplateRegistry {
    hb: Handlebars<'static>,
}

impl std::fmt::Debug for TemplateRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut names: Vec<&String> = self.hb.get_templates().keys().collect();
        names.sort();
        f.debug_struct("TemplateRegistry")
            .field("templates", &names)
            .finish()
    }
}

fn new_handlebars() -> Handlebars<'static> {
    let mut hb = Handlebars::new();
    hb.set_strict_mode(true);
    hb.register_escape_fn(layout::escape);
    hb.register_helper("value_of", Box::new(value_helper));
    hb
}

/// `{{value_of "ersatzbaeume"}}`: an answer or computed value of the submission by its id, as the
/// review page shows it (escaped like every value); "–" where the submission has none.
fn value_helper(
    h: &handlebars::Helper<'_>,
    _: &Handlebars<'_>,
    ctx: &handlebars::Context,
    _: &mut handlebars::RenderContext<'_, '_>,
    out: &mut dyn handlebars::Output,
) -> handlebars::HelperResult {
    let name = h.param(0).and_then(|p| p.value().as_str()).ok_or(
        handlebars::RenderErrorReason::ParamNotFoundForIndex("value_of", 0),
    )?;
    let text = ctx
        .data()
        .get("values")
        .and_then(|v| v.get(name))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("–");
    out.write(&layout::escape(text))?;
    Ok(())
}

/// `source` with its comments (`{{!-- … --}}`, `{{! … }}`, also with `~`) blanked out: each of
/// their characters becomes a space and line breaks stay, so a line and column in the result are
/// the same in the source. An unclosed comment runs to the end.
fn blank_comments(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut rest = source;
    while let Some(i) = rest.find("{{") {
        let after = &rest[i + 2..];
        let body = after.strip_prefix('~').unwrap_or(after);
        let Some(comment) = body.strip_prefix('!') else {
            out.push_str(&rest[..i + 2]);
            rest = after;
            continue;
        };
        out.push_str(&rest[..i]);
        let closed = if comment.starts_with("--") {
            [comment.find("--}}"), comment.find("--~}}")]
                .into_iter()
                .flatten()
                .min()
                .map(|e| {
                    e + if comment[e..].starts_with("--~") {
                        5
                    } else {
                        4
                    }
                })
        } else {
            comment.find("}}").map(|e| e + 2)
        };
        let end = closed.map_or(rest.len(), |e| rest.len() - comment.len() + e);
        out.extend(
            rest[i..end]
                .chars()
                .map(|c| if c == '\n' { '\n' } else { ' ' }),
        );
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// Every id a template prints with `{{value_of "…"}}`, with its line and column (1-based);
/// comments are left out.
pub fn value_of_ids(source: &str) -> Vec<(String, usize, usize)> {
    let source = blank_comments(source);
    let mut out = Vec::new();
    for (n, line) in source.lines().enumerate() {
        let mut rest = line;
        while let Some(i) = rest.find("value_of") {
            let after = &rest[i + "value_of".len()..];
            let quoted = after.trim_start();
            // The id's first character, counted in characters as an editor does.
            let column = line[..line.len() - quoted.len()].chars().count() + 2;
            if quoted.len() < after.len()
                && let Some(q) = quoted.strip_prefix('"')
                && let Some(end) = q.find('"')
            {
                out.push((q[..end].to_string(), n + 1, column));
            }
            rest = after;
        }
    }
    out
}

/// The partials a template calls (`{{> name}}`, `{{#> name}}`, also with `~`), in order, each
/// once; comments are left out.
pub fn partial_calls(source: &str) -> Vec<String> {
    let source = blank_comments(source);
    let mut out: Vec<String> = Vec::new();
    let mut rest = source.as_str();
    while let Some(i) = rest.find("{{") {
        rest = &rest[i + 2..];
        let call = rest.trim_start_matches('~').trim_start_matches('#');
        let Some(call) = call.strip_prefix('>') else {
            continue;
        };
        let name: String = call
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '/' | '.'))
            .collect();
        if !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

impl TemplateRegistry {
    /// The templates compiled into the binary: `receipt` and the `receipt-entries` partial.
    pub fn builtin() -> Result<Self, ReceiptError> {
        let mut registry = TemplateRegistry {
            hb: new_handlebars(),
        };
        registry.add_partial(ENTRIES_PARTIAL, BUILTIN_ENTRIES)?;
        registry.add_template(DEFAULT_TEMPLATE, BUILTIN_RECEIPT_FILE, BUILTIN_RECEIPT)?;
        Ok(registry)
    }

    /// The built-in templates, overridden and extended by `dir/*.hbs` (one per workflow id,
    /// `receipt.hbs` replaces the default) and `dir/partials/*.hbs`.
    pub fn load_dir(dir: &Path) -> Result<Self, ReceiptError> {
        let mut registry = Self::builtin()?;
        let partials = dir.join("partials");
        if partials.is_dir() {
            for (name, path, source) in read_hbs(&partials)? {
                registry.add_partial_checked(&name, &path, &source)?;
            }
        }
        for (name, path, source) in read_hbs(dir)? {
            registry.add_template(&name, &path, &source)?;
        }
        Ok(registry)
    }

    /// Adds or replaces a template after checking it like `lotse check` does.
    pub fn add_template(
        &mut self,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<(), ReceiptError> {
        let problems = lint(file, source);
        if !problems.is_empty() {
            return Err(ReceiptError::TemplateInvalid {
                file: file.to_string(),
                problems,
            });
        }
        self.hb
            .register_template_string(name, source)
            .map_err(|e| ReceiptError::TemplateInvalid {
                file: file.to_string(),
                problems: vec![template_error_problem(file, &e)],
            })?;
        // Render against samples (everything filled in German; nothing optional in English)
        // so unknown variables and broken layout are found at load time, not when a citizen
        // submits. Branches neither sample takes stay unchecked.
        for sample in sample_contexts() {
            let problem = match self.hb.render(name, &sample) {
                Err(e) => Some(render_error_problem(file, &e)),
                Ok(text) => layout::parse(&text).err().map(|p| TemplateProblem {
                    file: file.to_string(),
                    line: 0,
                    column: 0,
                    message: format!("generated layout line {}: {}", p.line, p.message),
                }),
            };
            if let Some(problem) = problem {
                self.hb.unregister_template(name);
                return Err(ReceiptError::TemplateInvalid {
                    file: file.to_string(),
                    problems: vec![problem],
                });
            }
        }
        Ok(())
    }

    fn add_partial_checked(
        &mut self,
        name: &str,
        file: &str,
        source: &str,
    ) -> Result<(), ReceiptError> {
        let problems = lint(file, source);
        if !problems.is_empty() {
            return Err(ReceiptError::TemplateInvalid {
                file: file.to_string(),
                problems,
            });
        }
        self.add_partial(name, source).map_err(|e| match e {
            ReceiptError::TemplateInvalid { problems, .. } => ReceiptError::TemplateInvalid {
                file: file.to_string(),
                problems: problems
                    .into_iter()
                    .map(|p| TemplateProblem {
                        file: file.to_string(),
                        ..p
                    })
                    .collect(),
            },
            other => other,
        })
    }

    fn add_partial(&mut self, name: &str, source: &str) -> Result<(), ReceiptError> {
        self.hb
            .register_partial(name, source)
            .map_err(|e| ReceiptError::TemplateInvalid {
                file: name.to_string(),
                problems: vec![template_error_problem(name, &e)],
            })
    }

    /// The template used for a workflow: its own, or the default.
    pub fn template_for(&self, workflow_id: &str) -> Result<String, ReceiptError> {
        if self.hb.has_template(workflow_id) {
            Ok(workflow_id.to_string())
        } else if self.hb.has_template(DEFAULT_TEMPLATE) {
            Ok(DEFAULT_TEMPLATE.to_string())
        } else {
            Err(ReceiptError::TemplateMissing(workflow_id.to_string()))
        }
    }

    /// Renders the layout text for a model (before layout and PDF).
    pub fn render_layout(&self, model: &ReceiptModel) -> Result<(String, String), ReceiptError> {
        let name = self.template_for(&model.workflow_id)?;
        let context = TemplateContext::new(model);
        let text = self
            .hb
            .render(&name, &context)
            .map_err(|e| ReceiptError::TemplateRender {
                template: name.clone(),
                message: e.to_string(),
            })?;
        let text = match &model.specimen {
            Some(mark) => with_specimen_mark(&text, mark),
            None => text,
        };
        Ok((name, text))
    }
}

/// The layout with `mark` as a heading right after the letterhead (or first): one line of
/// text, so that no template can leave it out.
fn with_specimen_mark(layout: &str, mark: &str) -> String {
    let mark: String = mark
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let heading = format!("# {}", mark.trim());
    let mut lines: Vec<&str> = layout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.trim() == "letterhead")
        .map_or(0, |i| i + 1);
    lines.insert(at, &heading);
    lines.join("\n") + "\n"
}

const BUILTIN_RECEIPT_FILE: &str = "pdf-templates/receipt.hbs";

fn read_hbs(dir: &Path) -> Result<Vec<(String, String, String)>, ReceiptError> {
    let io = |source| ReceiptError::TemplateIo {
        path: dir.display().to_string(),
        source,
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io)? {
        let path = entry.map_err(io)?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("hbs") {
            continue;
        }
        let Some(name) = path.file_stem().and_then(|s| s.to_str()) else {
            continue;
        };
        let source = std::fs::read_to_string(&path).map_err(|source| ReceiptError::TemplateIo {
            path: path.display().to_string(),
            source,
        })?;
        out.push((name.to_string(), path.display().to_string(), source));
    }
    out.sort();
    Ok(out)
}

/// Checks one template source: forbidden unescaped output, lines that do not start with a
/// layout directive, handlebars syntax, and (strict mode) variables the receipt model does
/// not have. `name` is the file name used in the problems.
pub fn check_template(name: &str, source: &str) -> Result<(), Vec<TemplateProblem>> {
    let mut registry = match TemplateRegistry::builtin() {
        Ok(r) => r,
        Err(e) => {
            return Err(vec![TemplateProblem {
                file: name.to_string(),
                line: 0,
                column: 0,
                message: e.to_string(),
            }]);
        }
    };
    // A template under test never shadows the default's own checks.
    match registry.add_template("__lotse_check__", name, source) {
        Ok(()) => Ok(()),
        Err(ReceiptError::TemplateInvalid { problems, .. }) => Err(problems),
        Err(other) => Err(vec![TemplateProblem {
            file: name.to_string(),
            line: 0,
            column: 0,
            message: other.to_string(),
        }]),
    }
}

/// Checks every template in a `pdf-templates/` folder and its `partials/` like
/// [`TemplateRegistry::load_dir`] loads them, but reports all problems instead of the first.
/// This is what `lotse check` should call for the folder.
pub fn check_template_dir(dir: &Path) -> Result<(), Vec<TemplateProblem>> {
    let mut problems = Vec::new();
    let as_problems = |file: &str, e: ReceiptError| match e {
        ReceiptError::TemplateInvalid { problems, .. } => problems,
        other => vec![TemplateProblem {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: other.to_string(),
        }],
    };
    let mut registry = match TemplateRegistry::builtin() {
        Ok(r) => r,
        Err(e) => return Err(as_problems("(built-in)", e)),
    };
    let partials = dir.join("partials");
    if partials.is_dir() {
        match read_hbs(&partials) {
            Ok(files) => {
                for (name, path, source) in files {
                    if let Err(e) = registry.add_partial_checked(&name, &path, &source) {
                        problems.extend(as_problems(&path, e));
                    }
                }
            }
            Err(e) => problems.extend(as_problems(&partials.display().to_string(), e)),
        }
    }
    match read_hbs(dir) {
        Ok(files) => {
            for (name, path, source) in files {
                if let Err(e) = registry.add_template(&name, &path, &source) {
                    problems.extend(as_problems(&path, e));
                }
            }
        }
        Err(e) => problems.extend(as_problems(&dir.display().to_string(), e)),
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// Line-by-line checks that handlebars itself does not make.
fn lint(file: &str, source: &str) -> Vec<TemplateProblem> {
    let mut problems = Vec::new();
    let mut in_comment = false;
    for (index, line) in source.lines().enumerate() {
        let line_no = index + 1;
        for pattern in ["{{{", "{{~{", "{{&", "{{~&"] {
            if let Some(col) = line.find(pattern) {
                problems.push(TemplateProblem {
                    file: file.to_string(),
                    line: line_no,
                    column: line[..col].chars().count() + 1,
                    message: format!(
                        "`{pattern}` prints a value without escaping and is not allowed in \
                         receipt templates; use `{{{{value}}}}`"
                    ),
                });
            }
        }
        let (rest, still_in_comment) = strip_tags(line, in_comment);
        in_comment = still_in_comment;
        let rest = rest.trim();
        if rest.is_empty() || layout::starts_with_directive(rest) {
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let message = if rest.starts_with("{{") {
            "a line must start with a layout directive (e.g. `p:` or `kv:`), not with a value"
                .to_string()
        } else {
            let shown: String = rest.chars().take(30).collect();
            format!(
                "{shown:?} is not a layout directive; lines start with #, ##, ###, p:, small:, \
                 note:, kv:, group:, list:, space, rule, end, pagebreak or letterhead"
            )
        };
        problems.push(TemplateProblem {
            file: file.to_string(),
            line: line_no,
            column: line[..indent].chars().count() + 1,
            message,
        });
    }
    problems
}

/// Removes block tags (`{{#…}}`, `{{/…}}`, `{{else}}`, `{{^…}}`), partial calls and comments from
/// a line, keeping value tags. Returns the rest and whether a `{{!-- … --}}` comment is still open.
fn strip_tags(line: &str, mut in_comment: bool) -> (String, bool) {
    let mut out = String::new();
    let mut rest = line;
    loop {
        if in_comment {
            match rest.find("--}}") {
                Some(end) => {
                    rest = &rest[end + 4..];
                    in_comment = false;
                }
                None => return (out, true),
            }
        }
        let Some(start) = rest.find("{{") else {
            out.push_str(rest);
            return (out, false);
        };
        out.push_str(&rest[..start]);
        let tag = &rest[start..];
        let inner = tag[2..].trim_start_matches('~').trim_start();
        if inner.starts_with("!--") {
            in_comment = true;
            rest = &tag[2..];
            rest = &rest[rest.find("!--").map_or(0, |i| i + 3)..];
            continue;
        }
        let Some(end) = tag.find("}}") else {
            out.push_str(tag);
            return (out, false);
        };
        let structural = inner.starts_with('#')
            || inner.starts_with('/')
            || inner.starts_with('^')
            || inner.starts_with('>')
            || inner.starts_with('!')
            || inner.starts_with("else");
        if !structural {
            out.push_str(&tag[..end + 2]);
        }
        rest = &tag[end + 2..];
    }
}

fn template_error_problem(file: &str, e: &handlebars::TemplateError) -> TemplateProblem {
    let (line, column) = e.pos().unwrap_or((0, 0));
    TemplateProblem {
        file: file.to_string(),
        line,
        column,
        message: e.reason().to_string(),
    }
}

fn render_error_problem(file: &str, e: &handlebars::RenderError) -> TemplateProblem {
    TemplateProblem {
        file: file.to_string(),
        line: e.line_no.unwrap_or(0),
        column: e.column_no.unwrap_or(0),
        message: e.reason().to_string(),
    }
}

/// What a template sees: the model's fields, plus `received_at_local` (Europe/Berlin) and
/// `texts` (the fixed sentences in the receipt's language).
#[derive(Serialize)]
pub struct TemplateContext<'a> {
    #[serde(flatten)]
    pub model: &'a ReceiptModel,
    pub received_at_local: String,
    pub texts: Texts,
}

impl<'a> TemplateContext<'a> {
    pub fn new(model: &'a ReceiptModel) -> Self {
        TemplateContext {
            model,
            received_at_local: super::berlin::format_berlin(model.received_at, model.language),
            texts: Texts::for_language(model.language).with_closing(model.closing.as_deref()),
        }
    }
}

/// Fixed texts of a receipt, German first.
#[derive(Debug, Clone, Serialize)]
pub struct Texts {
    pub title: &'static str,
    pub intro: &'static str,
    pub service: &'static str,
    pub leika: &'static str,
    pub reference: &'static str,
    pub received_at: &'static str,
    pub office: &'static str,
    pub answers: &'static str,
    pub computed: &'static str,
    /// The heading above the office's own notes.
    pub notes: &'static str,
    /// The closing sentence; an override's `closing` text replaces it.
    pub not_a_decision: String,
    pub signed: &'static str,
    pub attachment: &'static str,
}

impl Texts {
    pub fn for_language(language: Language) -> Self {
        match language {
            Language::De => Texts {
                title: "Eingangsbestätigung",
                intro: "Ihr Antrag ist bei uns eingegangen. Bitte geben Sie bei Rückfragen das Aktenzeichen an.",
                service: "Leistung",
                leika: "LeiKa-Schlüssel",
                reference: "Aktenzeichen",
                received_at: "Eingegangen am",
                office: "Zuständige Stelle",
                answers: "Ihre Angaben",
                computed: "Gebühren und Beträge",
                notes: "Hinweise",
                not_a_decision: "Diese Bestätigung dokumentiert den Eingang Ihres Antrags. Sie ist keine Entscheidung über den Antrag.".into(),
                signed: "Dieses Dokument ist elektronisch signiert. Ihre Angaben sind als Datei antrag.json angehängt.",
                attachment: "antrag.json",
            },
            Language::En => Texts {
                title: "Confirmation of receipt",
                intro: "We have received your application. Please quote the reference number in any enquiry.",
                service: "Service",
                leika: "LeiKa key",
                reference: "Reference",
                received_at: "Received on",
                office: "Responsible office",
                answers: "Your answers",
                computed: "Fees and amounts",
                notes: "Notes",
                not_a_decision: "This confirmation documents the receipt of your application. It is not a decision on the application.".into(),
                signed: "This document is signed electronically. Your answers are attached as the file antrag.json.",
                attachment: "antrag.json",
            },
        }
    }
}

impl Texts {
    /// The texts with another closing sentence, if one is given.
    pub fn with_closing(mut self, closing: Option<&str>) -> Self {
        if let Some(c) = closing {
            self.not_a_decision = c.to_string();
        }
        self
    }
}

/// A model with every field filled, used to check templates in strict mode.
pub fn sample_model() -> ReceiptModel {
    use super::model::{Logo, Section, TenantInfo};
    ReceiptModel {
        workflow_id: "beispiel".into(),
        tenant: TenantInfo {
            id: "heidestadt".into(),
            name: "Stadt Heidestadt".into(),
            address_lines: vec!["Marktplatz 1".into(), "12345 Heidestadt".into()],
            colour_hex: "#1f5fa8".into(),
            logo: Some(Logo::Initials {
                initials: "HS".into(),
            }),
            office: "Bürgerbüro".into(),
        },
        service_title: "Hundesteuer – Anmeldung".into(),
        leika: Some("99107004012000".into()),
        reference: "HEI-2026-000123".into(),
        received_at: time::OffsetDateTime::UNIX_EPOCH,
        sections: vec![Section {
            title: "Angaben".into(),
            entries: vec![
                Entry::value("Name", "Jörg Müller"),
                Entry::group("Hund 1", vec![Entry::value("Name", "Bello")]),
            ],
        }],
        computed: vec![Entry::value("Gebühr", "42,00 €")],
        submission_json: serde_json::json!({}),
        language: Language::De,
        notes: vec!["Die Hundesteuermarke erhalten Sie mit dem Bescheid.".into()],
        closing: Some("Sie erhalten einen Bescheid.".into()),
        specimen: None,
        values: [("jahressteuer".to_string(), "96,00 €".to_string())].into(),
    }
}

fn sample_contexts() -> [serde_json::Value; 2] {
    let full = sample_model();
    let mut sparse = sample_model();
    sparse.language = Language::En;
    sparse.leika = None;
    sparse.tenant.logo = None;
    sparse.tenant.address_lines.clear();
    sparse.sections.clear();
    sparse.computed.clear();
    sparse.notes.clear();
    sparse.closing = None;
    let context = |m: &ReceiptModel| {
        serde_json::to_value(TemplateContext::new(m)).unwrap_or(serde_json::Value::Null)
    };
    [context(&full), context(&sparse)]
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Comments hide what they hold from the designers' checks, and keep every line and
    /// column where the source has it.
    #[test]
    fn value_of_ids_and_partial_calls_skip_comments() {
        let source = "{{!-- {{value_of \"alt\"}} {{> alt}} --}}{{value_of \"a\"}}\n\
                      {{! kurz {{value_of \"b\" }}{{value_of \"c\"}} {{~!-- x --~}}{{> kopf}}\n\
                      Größe: {{value_of \"d\"}} {{!-- offen {{value_of \"e\"}}\n{{> fuss}}";
        let ids: Vec<(String, usize, usize)> = value_of_ids(source);
        assert_eq!(
            ids,
            [
                ("a".to_string(), 1, 52),
                // "b" is in the short comment, which ends at the first "}}".
                ("c".to_string(), 2, 39),
                ("d".to_string(), 3, 20),
            ]
        );
        assert_eq!(partial_calls(source), ["kopf"]);
        assert_eq!(blank_comments("ä{{! ü }}ö").chars().count(), 10);
    }

    #[test]
    fn shipped_template_folder_is_clean() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../pdf-templates");
        check_template_dir(&dir).unwrap();
        TemplateRegistry::load_dir(&dir).unwrap();
    }

    #[test]
    fn folder_check_reports_every_broken_template() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.hbs"), "p: {{{reference}}}\n").unwrap();
        std::fs::write(dir.path().join("b.hbs"), "p: {{nope}}\n").unwrap();
        std::fs::write(dir.path().join("c.hbs"), "p: {{reference}}\n").unwrap();
        let problems = check_template_dir(dir.path()).unwrap_err();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].file.ends_with("a.hbs"));
        assert!(problems[1].file.ends_with("b.hbs"));
    }

    #[test]
    fn builtin_templates_load() {
        TemplateRegistry::builtin().unwrap();
    }

    #[test]
    fn triple_braces_are_refused_with_line_and_column() {
        let problems = check_template("x.hbs", "# Titel\np: a {{{reference}}}\n").unwrap_err();
        assert_eq!(problems[0].file, "x.hbs");
        assert_eq!((problems[0].line, problems[0].column), (2, 6));
        assert!(problems[0].message.contains("{{{"));
    }

    #[test]
    fn ampersand_unescaped_output_is_refused() {
        assert!(check_template("x.hbs", "p: {{&reference}}").is_err());
    }

    #[test]
    fn unknown_variable_is_refused_in_strict_mode() {
        let problems = check_template("x.hbs", "# Titel\np: {{no_such_field}}\n").unwrap_err();
        assert_eq!(problems[0].line, 2);
        assert!(
            problems[0].message.contains("no_such_field"),
            "{:?}",
            problems
        );
    }

    #[test]
    fn value_at_line_start_is_refused() {
        let problems =
            check_template("x.hbs", "{{#each sections}}\n{{title}}\n{{/each}}").unwrap_err();
        assert_eq!((problems[0].line, problems[0].column), (2, 1));
    }

    #[test]
    fn the_english_branch_is_checked_too() {
        let source = "{{#if (eq language \"en\")}}\np: {{nope}}\n{{/if}}\n";
        assert!(check_template("x.hbs", source).is_err());
        let source = "{{#if (eq language \"en\")}}\np: {{reference}}\n{{/if}}\n";
        assert!(check_template("x.hbs", source).is_ok());
    }

    #[test]
    fn value_of_prints_a_value_by_id_escaped_or_a_dash() {
        let mut registry = TemplateRegistry {
            hb: new_handlebars(),
        };
        let source = "p: {{value_of \"jahressteuer\"}} / {{value_of \"gibt_es_nicht\"}} / {{value_of \"name\"}}\n";
        registry.add_template("beispiel", "x.hbs", source).unwrap();
        let mut model = sample_model();
        model.values.insert("name".into(), "Bello | kv: <b>".into());
        let (_, text) = registry.render_layout(&model).unwrap();
        assert!(
            text.starts_with("p: 96,00 € / – / Bello \\| kv\\: <b>"),
            "{text}"
        );
    }

    #[test]
    fn unbalanced_groups_are_found_at_load_time() {
        let problems = check_template("x.hbs", "group: {{reference}}\np: x\n").unwrap_err();
        assert!(problems[0].message.contains("not closed"), "{problems:?}");
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let problems = check_template("x.hbs", "p: {{#if reference}}x\n").unwrap_err();
        assert_eq!(problems[0].file, "x.hbs");
    }

    #[test]
    fn comments_and_blocks_are_not_layout_lines() {
        let source = "{{!-- a\nmulti-line comment --}}\n{{#each sections}}\n## {{title}}\n{{> receipt-entries}}\n{{/each}}\n";
        check_template("x.hbs", source).unwrap();
    }

    #[test]
    fn a_specimen_is_marked_below_the_letterhead_whatever_the_template() {
        let mut model = sample_model();
        model.specimen = Some("MUSTER – keine\nEingangsbestätigung".into());
        let registry = TemplateRegistry::builtin().unwrap();
        let (_, text) = registry.render_layout(&model).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "letterhead");
        assert_eq!(lines[1], "# MUSTER – keine Eingangsbestätigung");
        assert_eq!(
            with_specimen_mark("p: ohne Briefkopf\n", "MUSTER"),
            "# MUSTER\np: ohne Briefkopf\n"
        );
    }
}
