//! A workflow translated in part (LOT-E148, a warning).
//!
//! A text without `en:` is shown in German on the English pages (marked `lang="de"`). That is
//! right for a workflow written in German only; in a workflow that has English elsewhere, it is
//! a text the designer forgot, and a citizen reading English meets one German question among
//! English ones.

use super::super::{Field, Workflow};
use super::Ctx;
use crate::problem::Pos;
use crate::text::{Lang, Text};

/// How many of the untranslated texts the warning names.
const NAMED: usize = 6;

/// Warns at `at` when some of the workflow's citizen-facing texts have English and others not.
pub(super) fn check(cx: &mut Ctx<'_>, wf: &Workflow, at: Pos) {
    let mut texts = Texts::default();
    texts.see(|| "the title".into(), Some(&wf.title));
    texts.see(|| "the description".into(), wf.description.as_ref());
    for s in &wf.steps {
        texts.see(|| format!("the title of step \"{}\"", s.id), Some(&s.title));
        texts.see(|| format!("the help of step \"{}\"", s.id), s.help.as_ref());
        for l in &s.links {
            texts.see(|| format!("a link of step \"{}\"", s.id), Some(&l.label));
        }
        for f in &s.fields {
            texts.field(f);
        }
    }
    for c in wf.computed.iter().filter(|c| !c.internal) {
        texts.see(|| format!("the label of \"{}\"", c.id), Some(&c.label));
    }
    for st in &wf.declaration {
        texts.see(|| format!("the declaration \"{}\"", st.id), Some(&st.label));
    }
    let Texts { all, missing } = texts;
    // None translated: a workflow in German only. All translated: nothing to say.
    if missing.is_empty() || missing.len() == all {
        return;
    }
    let more = if missing.len() > NAMED { ", …" } else { "" };
    let named: Vec<&str> = missing.iter().take(NAMED).map(String::as_str).collect();
    cx.warn(
        "LOT-E148",
        at,
        format!(
            "{} of the workflow's {all} texts have no English (`en:`), so the English pages show \
             them in German: {}{more}",
            missing.len(),
            named.join("; ")
        ),
    );
}

#[derive(Default)]
struct Texts {
    all: usize,
    missing: Vec<String>,
}

impl Texts {
    fn see(&mut self, what: impl FnOnce() -> String, text: Option<&Text>) {
        let Some(text) = text else {
            return;
        };
        self.all += 1;
        if text.lang_of(Lang::En) == Lang::De {
            self.missing.push(what());
        }
    }

    fn field(&mut self, f: &Field) {
        let id = &f.id;
        self.see(|| format!("the label of \"{id}\""), Some(&f.label));
        self.see(|| format!("the help of \"{id}\""), f.help.as_ref());
        self.see(
            || format!("the placeholder of \"{id}\""),
            f.placeholder.as_ref(),
        );
        for o in &f.options {
            self.see(
                || format!("the choice \"{}\" of \"{id}\"", o.label.german()),
                Some(&o.label),
            );
        }
        if let Some(r) = &f.repeat {
            self.see(
                || format!("the item_label of \"{id}\""),
                r.item_label.as_ref(),
            );
            self.see(
                || format!("the add_label of \"{id}\""),
                r.add_label.as_ref(),
            );
        }
        for sub in &f.subfields {
            self.field(sub);
        }
    }
}
