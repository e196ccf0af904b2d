//! Values in texts (`{ersatzbaeume}`): every name a step's title, help, links or a field's
//! label, help or placeholder shows must be a field or a computed value of the workflow.

use super::super::raw::{RawField, RawWorkflow};
use super::names::Declared;
use super::{Ctx, pos};
use crate::application::placeholders;
use crate::problem::Pos;
use crate::text::Text;

pub(super) fn check_texts(cx: &mut Ctx<'_>, raw: &RawWorkflow, names: &Declared) {
    for s in &raw.steps.value {
        let at = pos(&s.id);
        let step = format!("step \"{}\"", s.id.value);
        check(
            cx,
            names,
            at,
            &format!("the title of {step}"),
            Some(&s.title),
        );
        check(
            cx,
            names,
            at,
            &format!("the help of {step}"),
            s.help.as_ref(),
        );
        for l in &s.links {
            check(
                cx,
                names,
                pos(&l.href),
                &format!("a link of {step}"),
                Some(&l.label),
            );
        }
        for f in &s.fields {
            field(cx, names, f);
        }
    }
}

fn field(cx: &mut Ctx<'_>, names: &Declared, f: &RawField) {
    let at = pos(&f.id);
    let what = format!("field \"{}\"", f.id.value);
    check(
        cx,
        names,
        at,
        &format!("the label of {what}"),
        f.label.as_ref(),
    );
    check(
        cx,
        names,
        at,
        &format!("the help of {what}"),
        f.help.as_ref(),
    );
    check(
        cx,
        names,
        at,
        &format!("the placeholder of {what}"),
        f.placeholder.as_ref(),
    );
    for sub in &f.fields {
        field(cx, names, sub);
    }
}

fn check(cx: &mut Ctx<'_>, names: &Declared, at: Pos, what: &str, text: Option<&Text>) {
    let Some(text) = text else {
        return;
    };
    let strings: Vec<&str> = match text {
        Text::Plain(s) => vec![s],
        Text::Localized(l) => std::iter::once(l.de.as_str())
            .chain(l.en.as_deref())
            .collect(),
    };
    for s in strings {
        for name in placeholders(s) {
            let known = names
                .fields
                .iter()
                .chain(&names.computed)
                .any(|n| n == name);
            if !known {
                cx.error_help(
                    "LOT-E035",
                    at,
                    format!(
                        "{what} shows {{{name}}}, which is neither a field nor a computed value"
                    ),
                    format!(
                        "a text shows an answer or computed value by its id in braces; known: {}",
                        names
                            .fields
                            .iter()
                            .chain(&names.computed)
                            .map(String::as_str)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
        }
    }
}
