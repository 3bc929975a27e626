//! An organisation's questionnaire on the report form: its fields (rendered for the page
//! with and without JavaScript alike), what was posted into them, and their errors.
//!
//! Field names are `answer:ORGANISATION:QUESTION` (a period's two days add `:from` and
//! `:to`); the script reads the same names. Only the chosen organisation's answers are read.
//!
//! This module must never keep an answer anywhere but the page it answers with and the
//! report it seals.

use maud::{html, Markup};
use meldpunt_crypto::{AnswerProblem, Answers, Organisation, Question, QuestionKind};
use zeroize::Zeroizing;

use super::forms::PostedForm;
use super::pages::{described_by, field_error, localised, FieldErrors};
use super::text::{Language, Text};

/// Typed answers as posted: form field name and value, in form order.
pub(crate) type TypedAnswers = Vec<(String, Zeroizing<String>)>;

fn field_name(organisation: &str, question: &str) -> String {
    format!("answer:{organisation}:{question}")
}

fn field_id(organisation: &str, question: &str) -> String {
    format!("answer-{organisation}-{question}")
}

/// Every `answer:…` field of a posted form, to show again when the form is refused.
pub(crate) fn typed(form: &PostedForm) -> TypedAnswers {
    form.fields_starting_with("answer:")
}

/// Reads `organisation`'s answers from the posted fields and checks them; a problem is
/// added to `errors` next to its question.
pub(crate) fn read(
    organisation: &Organisation,
    typed: &TypedAnswers,
    language: Language,
    errors: &mut FieldErrors,
) -> Option<Answers> {
    let values = |name: &str| -> Vec<&str> {
        typed
            .iter()
            .filter(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    let answers = meldpunt_crypto::typed_from_fields(
        &organisation.questions,
        &format!("answer:{}:", organisation.id),
        values,
    );
    let answers = Zeroizing::new(answers);
    match organisation.answers(&answers) {
        Ok(answers) => Some(answers),
        Err(problems) => {
            for problem in problems {
                let label = organisation
                    .questions
                    .iter()
                    .find(|question| question.id == problem.question)
                    .map_or(problem.question.as_str(), |question| {
                        localised(&question.label, language)
                    });
                errors.add(
                    field_id(&organisation.id, &problem.question),
                    format!(
                        "{label}: {}",
                        problem_text(language.text(), problem.problem)
                    ),
                );
            }
            None
        }
    }
}

/// A problem in the page's language.
pub(crate) fn problem_text(text: &Text, problem: AnswerProblem) -> &'static str {
    match problem {
        AnswerProblem::Required | AnswerProblem::UnknownQuestion | AnswerProblem::Twice => {
            text.error_answer_required
        }
        AnswerProblem::NotAnOption => text.error_answer_not_option,
        AnswerProblem::NotADate => text.error_answer_not_date,
        AnswerProblem::NotAPeriod => text.error_answer_not_period,
        AnswerProblem::PeriodReversed => text.error_answer_period_reversed,
        AnswerProblem::TooLong => text.error_answer_too_long,
        AnswerProblem::ControlCharacters => text.error_answer_one_line,
        AnswerProblem::NotYesNo => text.error_answer_yes_no,
    }
}

/// The questions of one organisation, as a fieldset (`titled`: name the organisation, when
/// the form offers several).
pub(crate) fn fieldset(
    language: Language,
    organisation: &Organisation,
    titled: bool,
    typed: &[(String, Zeroizing<String>)],
    errors: &FieldErrors,
) -> Markup {
    let text = language.text();
    html! {
        fieldset id={ "questions-" (organisation.id) } class="questions" data-organisation=(organisation.id) {
            legend {
                (text.questions_legend)
                @if titled { " — " (localised(&organisation.name, language)) }
            }
            p class="hint" {
                (text.questions_hint)
                @if titled { " " (text.questions_for) " " (localised(&organisation.name, language)) "." }
            }
            @for question in &organisation.questions {
                (question_field(language, &organisation.id, question, typed, errors))
            }
        }
    }
}

pub(crate) fn question_field(
    language: Language,
    organisation: &str,
    question: &Question,
    typed: &[(String, Zeroizing<String>)],
    errors: &FieldErrors,
) -> Markup {
    let text = language.text();
    let name = field_name(organisation, &question.id);
    let id = field_id(organisation, &question.id);
    let typed_values = |field: &str| -> Vec<&str> {
        typed
            .iter()
            .filter(|(posted, _)| posted == field)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    let label = html! {
        (localised(&question.label, language))
        @if question.required { " *" }
    };
    let invalid = errors.get(&id).map(|_| "true");
    let options: Vec<(String, &str)> = match question.kind {
        QuestionKind::YesNo => vec![
            ("yes".to_owned(), text.answer_yes),
            ("no".to_owned(), text.answer_no),
        ],
        _ => question
            .options
            .iter()
            .map(|option| (option.id.clone(), localised(&option.label, language)))
            .collect(),
    };
    match question.kind {
        QuestionKind::Choice | QuestionKind::MultipleChoice | QuestionKind::YesNo => {
            let kind = if question.kind == QuestionKind::MultipleChoice {
                "checkbox"
            } else {
                "radio"
            };
            let chosen = typed_values(&name);
            html! {
                fieldset id=(id) class="question" aria-describedby=[invalid.map(|_| format!("{id}-error"))] {
                    legend { (label) }
                    (field_error(errors, &id))
                    @for (value, option_label) in &options {
                        div class="choice" {
                            input type=(kind) name=(name) id={ (id) "-" (value) } value=(value)
                                checked[chosen.contains(&value.as_str())];
                            label for={ (id) "-" (value) } { (option_label) }
                        }
                    }
                }
            }
        }
        QuestionKind::Date => html! {
            label for=(id) { (label) }
            p class="hint" id={ (id) "-hint" } { (text.answer_date_hint) }
            (field_error(errors, &id))
            input type="date" id=(id) name=(name) value=(typed_values(&name).concat())
                placeholder="2026-03-01" aria-describedby=(described_by(errors, &id)) aria-invalid=[invalid];
        },
        QuestionKind::Period => html! {
            fieldset id=(id) class="question" aria-describedby=(described_by(errors, &id)) {
                legend { (label) }
                p class="hint" id={ (id) "-hint" } { (text.answer_date_hint) }
                (field_error(errors, &id))
                label for={ (id) "-from" } { (text.answer_period_from) }
                input type="date" id={ (id) "-from" } name={ (name) ":from" } placeholder="2026-01-01"
                    value=(typed_values(&format!("{name}:from")).concat()) aria-invalid=[invalid];
                label for={ (id) "-to" } { (text.answer_period_to) }
                input type="date" id={ (id) "-to" } name={ (name) ":to" } placeholder="2026-03-01"
                    value=(typed_values(&format!("{name}:to")).concat()) aria-invalid=[invalid];
            }
        },
        QuestionKind::Text => html! {
            label for=(id) { (label) }
            (field_error(errors, &id))
            input type="text" id=(id) name=(name) maxlength="1000" value=(typed_values(&name).concat())
                aria-describedby=[invalid.map(|_| format!("{id}-error"))] aria-invalid=[invalid];
        },
    }
}
