//! What a step would make of values typed but not sent, all at once: which fields it shows and
//! requires, the errors "Speichern und weiter" would report, the computed values for what is
//! typed, the texts that show them, and where the citizen would go next. Nothing is changed:
//! the browser runs this (`lotse-wasm`) as the citizen answers, the server decides on the post.

use super::evaluate::evaluated;
use super::*;

/// A step as the values typed on it make it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepPreview {
    /// Every field of the step, in the step's order.
    pub fields: Vec<FieldStateOwned>,
    /// What sending the values would report (empty: the step would be accepted).
    pub errors: Vec<FieldError>,
    /// The computed values (fees and the like) for the answers with the values typed here.
    pub computed: BTreeMap<String, Value>,
    /// The step's texts that show answers or computed values, filled in: `title`, `help`,
    /// `<field>.label`, `<field>.help` (also `<group>.<subfield>.…`) and `link.<n>`.
    pub texts: BTreeMap<String, String>,
    /// Where "Speichern und weiter" would lead: a step's id, `review`, or `None` when the step
    /// would be refused.
    pub next: Option<String>,
}

/// [`FieldState`] as it travels (the browser reads it back).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldStateOwned {
    pub id: String,
    pub visible: bool,
    pub required: bool,
}

impl Application {
    /// Previews `step_id` for the values typed there (as posted: text for numbers and dates,
    /// see [`crate::form::answers_from_pairs`]). A file field not among `values` keeps the
    /// files the draft has for it, as on the server's step post.
    pub fn preview_step(
        &self,
        wf: &Workflow,
        sandbox: &Sandbox,
        step_id: &str,
        values: Map<String, Value>,
        lang: Lang,
        now: OffsetDateTime,
    ) -> Result<StepPreview, ApplyError> {
        let Some(step) = wf.step(step_id) else {
            return Err(ApplyError::NotOnRoute(step_id.to_string()));
        };
        let mut values = values;
        for f in step.fields.iter().filter(|f| f.files.is_some()) {
            if !values.contains_key(&f.id)
                && let Some(v) = self.shown_value(step_id, &f.id)
            {
                values.insert(f.id.clone(), v.clone());
            }
        }
        let (states, computed, shown) = evaluated(self, wf, sandbox, step_id, &values, now.date())?;
        let t = self.apply(
            wf,
            sandbox,
            Command::Answer {
                step: step_id.to_string(),
                values,
                then_review: false,
            },
            now,
        )?;
        let (errors, next) = match t.outcome {
            Outcome::Rejected { errors, .. } => (errors, None),
            Outcome::Moved { to } => (Vec::new(), Some(position_name(&to))),
            Outcome::Incomplete { .. } | Outcome::Submitted { .. } => (Vec::new(), None),
        };
        let mut answers = self.answers.clone();
        answers.extend(shown);
        let texts = step_texts(wf, step, &answers, &computed, lang);
        Ok(StepPreview {
            fields: states
                .into_iter()
                .map(|s| FieldStateOwned {
                    id: s.id,
                    visible: s.visible,
                    required: s.required,
                })
                .collect(),
            errors,
            computed,
            texts,
            next,
        })
    }
}

fn position_name(p: &Position) -> String {
    match p {
        Position::Step(s) => s.clone(),
        Position::Review => crate::definition::REVIEW.to_string(),
        Position::Submitted => "submitted".to_string(),
    }
}

/// The step's texts with placeholders, filled in.
fn step_texts(
    wf: &Workflow,
    step: &Step,
    answers: &BTreeMap<String, Value>,
    computed: &BTreeMap<String, Value>,
    lang: Lang,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut put = |key: String, text: &str| {
        if !placeholders(text).is_empty() {
            out.insert(key, fill(wf, text, answers, computed, lang).into_owned());
        }
    };
    put("title".to_string(), step.title.get(lang));
    if let Some(h) = &step.help {
        put("help".to_string(), h.get(lang));
    }
    fn fields(put: &mut dyn FnMut(String, &str), prefix: &str, fs: &[Field], lang: Lang) {
        for f in fs {
            let key = format!("{prefix}{}", f.id);
            put(format!("{key}.label"), f.label.get(lang));
            if let Some(h) = &f.help {
                put(format!("{key}.help"), h.get(lang));
            }
            fields(put, &format!("{key}."), &f.subfields, lang);
        }
    }
    fields(&mut put, "", &step.fields, lang);
    for (i, l) in step.links.iter().enumerate() {
        put(format!("link.{i}"), l.label.get(lang));
    }
    out
}
