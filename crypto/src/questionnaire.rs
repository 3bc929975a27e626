//! Structured reports: the short questionnaire an organisation may define in the signed
//! directory, and the answers a report carries under its seal.
//!
//! A [`Question`] has a kind (choice, multiple choice, date, period, short text, yes/no),
//! Dutch and English labels, and is required or not. A client turns what the reporter typed
//! into [`Answers`] with [`Organisation::answers`](crate::Organisation::answers), which
//! refuses every bad answer with an [`AnswerError`] naming its question; a reader shows
//! answers with [`Organisation::describe_answers`](crate::Organisation::describe_answers),
//! against the questionnaire it knows (a question removed since, or a value it does not
//! recognise, is shown as written, never dropped).
//!
//! On the wire an answer is a string in one normal form per kind: an option id; option ids
//! joined by commas in the questionnaire's order; `YYYY-MM-DD`; `YYYY-MM-DD/YYYY-MM-DD`;
//! the text; `yes` or `no`. Answers are covered by a follow-up's signature and by a report's
//! opening digest ([`crate::Message::signing_bytes`]).
//!
//! This module must never accept an answer it has not put in normal form, and never read
//! answers as anything but text to show.

use std::collections::{BTreeMap, HashSet};
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::directory::{check_name, LocalisedName};
use crate::message::is_valid_id;
use crate::{Day, Error};

/// Most questions one organisation asks.
pub const MAXIMUM_QUESTIONS: usize = 32;
/// Most options of one choice question.
pub const MAXIMUM_OPTIONS: usize = 64;
/// Longest short-text answer, in bytes.
pub const MAXIMUM_TEXT_ANSWER_LENGTH: usize = 1000;
/// Longest answer of any kind on the wire, in bytes (a multiple choice of every option).
pub const MAXIMUM_ANSWER_LENGTH: usize = 64 * 65;

/// What kind of answer a question takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionKind {
    /// One of the options.
    Choice,
    /// Any number of the options (at least one when required).
    MultipleChoice,
    /// A day.
    Date,
    /// Two days, the first not after the second.
    Period,
    /// One line of text, at most [`MAXIMUM_TEXT_ANSWER_LENGTH`] bytes.
    Text,
    /// Yes or no.
    YesNo,
}

impl QuestionKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Choice => "choice",
            QuestionKind::MultipleChoice => "multiple-choice",
            QuestionKind::Date => "date",
            QuestionKind::Period => "period",
            QuestionKind::Text => "text",
            QuestionKind::YesNo => "yes-no",
        }
    }

    fn has_options(self) -> bool {
        matches!(self, QuestionKind::Choice | QuestionKind::MultipleChoice)
    }
}

/// One option of a choice question.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuestionOption {
    /// Id, unique within the question: lower-case letters, digits, dashes.
    pub id: String,
    /// What the reporter reads.
    pub label: LocalisedName,
}

/// One question of an organisation's questionnaire.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Question {
    /// Id, unique within the questionnaire: lower-case letters, digits, dashes.
    pub id: String,
    /// The question as the reporter reads it.
    pub label: LocalisedName,
    /// The kind of answer.
    pub kind: QuestionKind,
    /// The options, for a choice or multiple-choice question (2 to [`MAXIMUM_OPTIONS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<QuestionOption>,
    /// Whether a report must answer it.
    #[serde(default)]
    pub required: bool,
}

impl Question {
    /// The option with this id.
    pub fn option(&self, id: &str) -> Option<&QuestionOption> {
        self.options.iter().find(|option| option.id == id)
    }

    /// One typed answer in normal form (`None`: no answer; a required question's own check
    /// is [`Organisation::answers`](crate::Organisation::answers)'s), or why it is refused.
    pub fn check_answer(&self, typed: &str) -> Result<Option<String>, AnswerProblem> {
        normal_form(self, typed)
    }
}

/// The evaluation questions of an organisation whose directory entry names none: how safe
/// the reporter felt, whether they were kept informed, whether feedback came in time, and
/// what could be better. None is required: evaluating is optional.
pub fn default_evaluation_questions() -> Vec<Question> {
    let name = |nl: &str, en: &str| LocalisedName {
        nl: nl.to_owned(),
        en: en.to_owned(),
    };
    let option = |id: &str, nl: &str, en: &str| QuestionOption {
        id: id.to_owned(),
        label: name(nl, en),
    };
    let question = |id: &str, label: LocalisedName, kind, options| Question {
        id: id.to_owned(),
        label,
        kind,
        options,
        required: false,
    };
    vec![
        question(
            "safe",
            name(
                "Hoe veilig voelde u zich bij het melden?",
                "How safe did you feel reporting?",
            ),
            QuestionKind::Choice,
            vec![
                option("safe", "Veilig", "Safe"),
                option("partly", "Deels veilig", "Partly safe"),
                option("unsafe", "Niet veilig", "Not safe"),
            ],
        ),
        question(
            "informed",
            name(
                "Werd u goed op de hoogte gehouden?",
                "Were you kept informed?",
            ),
            QuestionKind::YesNo,
            Vec::new(),
        ),
        question(
            "timely",
            name(
                "Kwam de terugkoppeling op tijd?",
                "Was the feedback timely?",
            ),
            QuestionKind::YesNo,
            Vec::new(),
        ),
        question(
            "better",
            name("Wat kan beter? (kort)", "What could be better? (briefly)"),
            QuestionKind::Text,
            Vec::new(),
        ),
    ]
}

/// Checks a questionnaire's rules (part of [`crate::Directory::check`]).
pub(crate) fn check_questions(questions: &[Question]) -> Result<(), Error> {
    let invalid = |reason: String| Error::MalformedDirectory(reason);
    if questions.len() > MAXIMUM_QUESTIONS {
        return Err(invalid(format!(
            "a questionnaire has at most {MAXIMUM_QUESTIONS} questions"
        )));
    }
    let mut ids = HashSet::new();
    for question in questions {
        if !is_valid_id(&question.id) || !ids.insert(question.id.as_str()) {
            return Err(invalid(format!(
                "question ids are unique, 1 to 64 lower-case letters, digits and dashes (\"{}\")",
                question.id
            )));
        }
        check_name(&question.label)?;
        if question.kind.has_options() {
            if question.options.len() < 2 || question.options.len() > MAXIMUM_OPTIONS {
                return Err(invalid(format!(
                    "question \"{}\" needs 2 to {MAXIMUM_OPTIONS} options",
                    question.id
                )));
            }
            let mut option_ids = HashSet::new();
            for option in &question.options {
                if !is_valid_id(&option.id) || !option_ids.insert(option.id.as_str()) {
                    return Err(invalid(format!(
                        "the options of \"{}\" need unique ids of lower-case letters, digits and dashes",
                        question.id
                    )));
                }
                check_name(&option.label)?;
            }
        } else if !question.options.is_empty() {
            return Err(invalid(format!(
                "question \"{}\" is a {} question and takes no options",
                question.id,
                question.kind.as_str()
            )));
        }
    }
    Ok(())
}

/// Why an answer was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerProblem {
    /// The questionnaire has no such question.
    UnknownQuestion,
    /// A required question was not answered.
    Required,
    /// Not one of the question's options.
    NotAnOption,
    /// Not a day written `YYYY-MM-DD`.
    NotADate,
    /// Not two days written `YYYY-MM-DD/YYYY-MM-DD`.
    NotAPeriod,
    /// A period that ends before it starts.
    PeriodReversed,
    /// A text longer than [`MAXIMUM_TEXT_ANSWER_LENGTH`] bytes.
    TooLong,
    /// A text with control characters (a short text is one line).
    ControlCharacters,
    /// Not yes or no.
    NotYesNo,
    /// Answered twice.
    Twice,
}

impl AnswerProblem {
    /// The problem in English (clients with other languages map the problem themselves).
    pub fn describe(self) -> &'static str {
        match self {
            AnswerProblem::UnknownQuestion => "there is no such question",
            AnswerProblem::Required => "an answer is required",
            AnswerProblem::NotAnOption => "not one of the options",
            AnswerProblem::NotADate => "not a date (YYYY-MM-DD)",
            AnswerProblem::NotAPeriod => "not a period (YYYY-MM-DD/YYYY-MM-DD)",
            AnswerProblem::PeriodReversed => "the period ends before it starts",
            AnswerProblem::TooLong => "longer than 1000 bytes",
            AnswerProblem::ControlCharacters => "one line, without control characters",
            AnswerProblem::NotYesNo => "answer yes or no",
            AnswerProblem::Twice => "answered twice",
        }
    }
}

/// A refused answer: the question's id and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerError {
    /// The question's id, as typed.
    pub question: String,
    /// Why.
    pub problem: AnswerProblem,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.question, self.problem.describe())
    }
}

/// The answers a report or follow-up carries: question id to the answer in normal form.
/// Built only by [`Organisation::answers`](crate::Organisation::answers) (checked against a
/// questionnaire) or read from a message (checked for shape only). Debug shows the
/// question ids, never the answers.
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Answers(BTreeMap<String, String>);

/// Reads answers refusing a question id twice (a map would keep the last, and the browser
/// script refuses the message: both must read one message alike).
impl<'de> Deserialize<'de> for Answers {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Answers;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("an object of answers by question id")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<Answers, M::Error> {
                let mut answers = BTreeMap::new();
                while let Some((question, answer)) = map.next_entry::<String, String>()? {
                    if answers.insert(question, answer).is_some() {
                        return Err(serde::de::Error::custom("a question is answered twice"));
                    }
                }
                Ok(Answers(answers))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        self.0.values_mut().for_each(zeroize::Zeroize::zeroize);
    }
}

impl fmt::Debug for Answers {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.debug_list().entries(self.0.keys()).finish()
    }
}

impl Answers {
    /// No answers.
    pub fn none() -> Answers {
        Answers::default()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Question id and answer, by question id.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .map(|(question, answer)| (question.as_str(), answer.as_str()))
    }

    /// The answer to one question.
    pub fn get(&self, question: &str) -> Option<&str> {
        self.0.get(question).map(String::as_str)
    }

    /// Checks the shape a message's answers have: valid ids, at most [`MAXIMUM_QUESTIONS`]
    /// answers, none empty, longer than [`MAXIMUM_ANSWER_LENGTH`] or of more than one line.
    pub(crate) fn check_shape(&self) -> Result<(), Error> {
        if self.0.len() > MAXIMUM_QUESTIONS {
            return Err(Error::MalformedMessage(format!(
                "at most {MAXIMUM_QUESTIONS} answers"
            )));
        }
        for (question, answer) in &self.0 {
            if !is_valid_id(question)
                || answer.is_empty()
                || answer.len() > MAXIMUM_ANSWER_LENGTH
                || answer.chars().any(char::is_control)
            {
                return Err(Error::MalformedMessage(
                    "answers are keyed by question ids and are 1 to 4160 bytes of one line".into(),
                ));
            }
        }
        Ok(())
    }
}

/// One answer as a reader shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedAnswer {
    /// The question's id.
    pub question: String,
    /// The question's label, or `None` when the questionnaire has no such question (any
    /// more): show the id.
    pub label: Option<LocalisedName>,
    /// The answer in words: option labels (Dutch and English) or the value as written.
    pub value: Vec<AnswerText>,
}

/// A piece of an answer as shown: an option's labels, or text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerText {
    /// An option of the question, with its labels.
    Option(LocalisedName),
    /// Text, a day, a period, yes/no, or an option the questionnaire does not know.
    Written(String),
}

impl AnswerText {
    /// In Dutch (`dutch`) or English.
    pub fn in_language(&self, dutch: bool) -> &str {
        match self {
            AnswerText::Option(label) if dutch => &label.nl,
            AnswerText::Option(label) => &label.en,
            AnswerText::Written(text) => text,
        }
    }
}

fn normal_form(question: &Question, typed: &str) -> Result<Option<String>, AnswerProblem> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    let normal = match question.kind {
        QuestionKind::Choice => question
            .option(typed)
            .map(|option| option.id.clone())
            .ok_or(AnswerProblem::NotAnOption)?,
        QuestionKind::MultipleChoice => {
            let chosen: Vec<&str> = typed
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .collect();
            if chosen.iter().any(|part| question.option(part).is_none()) {
                return Err(AnswerProblem::NotAnOption);
            }
            let normal: Vec<&str> = question
                .options
                .iter()
                .filter(|option| chosen.contains(&option.id.as_str()))
                .map(|option| option.id.as_str())
                .collect();
            if normal.is_empty() {
                return Ok(None);
            }
            normal.join(",")
        }
        QuestionKind::Date => typed
            .parse::<Day>()
            .map_err(|_| AnswerProblem::NotADate)?
            .to_string(),
        QuestionKind::Period => {
            let (from, to) = typed.split_once('/').ok_or(AnswerProblem::NotAPeriod)?;
            let from: Day = from.trim().parse().map_err(|_| AnswerProblem::NotAPeriod)?;
            let to: Day = to.trim().parse().map_err(|_| AnswerProblem::NotAPeriod)?;
            if to < from {
                return Err(AnswerProblem::PeriodReversed);
            }
            format!("{from}/{to}")
        }
        QuestionKind::Text => {
            if typed.len() > MAXIMUM_TEXT_ANSWER_LENGTH {
                return Err(AnswerProblem::TooLong);
            }
            if typed.chars().any(char::is_control) {
                return Err(AnswerProblem::ControlCharacters);
            }
            typed.to_owned()
        }
        QuestionKind::YesNo => match typed.to_lowercase().as_str() {
            "yes" | "y" | "ja" | "j" | "true" => "yes".to_owned(),
            "no" | "n" | "nee" | "false" => "no".to_owned(),
            _ => return Err(AnswerProblem::NotYesNo),
        },
    };
    Ok(Some(normal))
}

/// What a form with fields per question says, as typed answers (question id, text): a
/// question's field is `{prefix}{id}` (several values of a multiple choice are joined by
/// commas), a period's two days `{prefix}{id}:from` and `:to` (joined as `from/to`, or
/// nothing when both are empty). `values` gives every value posted under a field name.
/// Every form that asks a questionnaire (the web form, the office app) reads it so.
pub fn typed_from_fields<'a>(
    questions: &[Question],
    prefix: &str,
    values: impl Fn(&str) -> Vec<&'a str>,
) -> Vec<(String, String)> {
    questions
        .iter()
        .map(|question| {
            let name = format!("{prefix}{}", question.id);
            let value = match question.kind {
                QuestionKind::MultipleChoice => values(&name).join(","),
                QuestionKind::Period => {
                    let from = values(&format!("{name}:from")).concat();
                    let to = values(&format!("{name}:to")).concat();
                    if from.trim().is_empty() && to.trim().is_empty() {
                        String::new()
                    } else {
                        format!("{from}/{to}")
                    }
                }
                _ => values(&name).concat(),
            };
            (question.id.clone(), value)
        })
        .collect()
}

/// Turns typed answers (question id, text; an empty text is no answer) into [`Answers`]
/// against `questions`, or every problem found, in the questionnaire's order.
pub(crate) fn answers(
    questions: &[Question],
    typed: &[(String, String)],
) -> Result<Answers, Vec<AnswerError>> {
    let mut problems = Vec::new();
    let mut answers = BTreeMap::new();
    let mut seen = HashSet::new();
    for (question_id, _) in typed {
        if !seen.insert(question_id.as_str()) {
            problems.push(AnswerError {
                question: question_id.clone(),
                problem: AnswerProblem::Twice,
            });
        } else if !questions.iter().any(|question| &question.id == question_id) {
            problems.push(AnswerError {
                question: question_id.clone(),
                problem: AnswerProblem::UnknownQuestion,
            });
        }
    }
    for question in questions {
        let typed_answer = typed
            .iter()
            .find(|(id, _)| *id == question.id)
            .map(|(_, text)| text.as_str())
            .unwrap_or_default();
        match normal_form(question, typed_answer) {
            Ok(Some(normal)) => {
                answers.insert(question.id.clone(), normal);
            }
            Ok(None) if question.required => problems.push(AnswerError {
                question: question.id.clone(),
                problem: AnswerProblem::Required,
            }),
            Ok(None) => {}
            Err(problem) => problems.push(AnswerError {
                question: question.id.clone(),
                problem,
            }),
        }
    }
    if problems.is_empty() {
        Ok(Answers(answers))
    } else {
        Err(problems)
    }
}

/// Shows `answers` against `questions`: in the questionnaire's order, then answers to
/// questions it does not have (any more), by id.
pub fn describe_answers(questions: &[Question], answers: &Answers) -> Vec<DescribedAnswer> {
    describe(questions, answers)
}

pub(crate) fn describe(questions: &[Question], answers: &Answers) -> Vec<DescribedAnswer> {
    let mut described: Vec<DescribedAnswer> = questions
        .iter()
        .filter_map(|question| {
            let answer = answers.get(&question.id)?;
            let value =
                if question.kind == QuestionKind::YesNo && (answer == "yes" || answer == "no") {
                    let yes = answer == "yes";
                    vec![AnswerText::Option(LocalisedName {
                        nl: if yes { "ja" } else { "nee" }.to_owned(),
                        en: answer.to_owned(),
                    })]
                } else if question.kind.has_options() {
                    answer
                        .split(',')
                        .map(|part| match question.option(part) {
                            Some(option) => AnswerText::Option(option.label.clone()),
                            None => AnswerText::Written(part.to_owned()),
                        })
                        .collect()
                } else {
                    vec![AnswerText::Written(answer.to_owned())]
                };
            Some(DescribedAnswer {
                question: question.id.clone(),
                label: Some(question.label.clone()),
                value,
            })
        })
        .collect();
    for (question, answer) in answers.iter() {
        if !questions.iter().any(|known| known.id == question) {
            described.push(DescribedAnswer {
                question: question.to_owned(),
                label: None,
                value: vec![AnswerText::Written(answer.to_owned())],
            });
        }
    }
    described
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> LocalisedName {
        LocalisedName {
            nl: format!("{text} (nl)"),
            en: text.to_owned(),
        }
    }

    fn option(id: &str) -> QuestionOption {
        QuestionOption {
            id: id.to_owned(),
            label: name(id),
        }
    }

    fn question(id: &str, kind: QuestionKind, required: bool) -> Question {
        Question {
            id: id.to_owned(),
            label: name(id),
            kind,
            options: if kind.has_options() {
                vec![option("fraud"), option("bullying"), option("other")]
            } else {
                Vec::new()
            },
            required,
        }
    }

    fn questionnaire() -> Vec<Question> {
        vec![
            question("kind", QuestionKind::Choice, true),
            question("areas", QuestionKind::MultipleChoice, false),
            question("since", QuestionKind::Date, false),
            question("period", QuestionKind::Period, false),
            question("unit", QuestionKind::Text, false),
            question("meeting", QuestionKind::YesNo, false),
        ]
    }

    fn typed(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(id, text)| ((*id).to_owned(), (*text).to_owned()))
            .collect()
    }

    #[test]
    fn answers_are_put_in_normal_form() {
        let answers = answers(
            &questionnaire(),
            &typed(&[
                ("kind", " fraud "),
                ("areas", "other, fraud,fraud"),
                ("since", "2026-03-01"),
                ("period", "2026-01-01 / 2026-02-01"),
                ("unit", "Finance"),
                ("meeting", "Ja"),
            ]),
        )
        .unwrap();
        let pairs: Vec<_> = answers.iter().collect();
        assert_eq!(
            pairs,
            [
                ("areas", "fraud,other"),
                ("kind", "fraud"),
                ("meeting", "yes"),
                ("period", "2026-01-01/2026-02-01"),
                ("since", "2026-03-01"),
                ("unit", "Finance"),
            ]
        );
        assert!(!format!("{answers:?}").contains("Finance"));
    }

    #[test]
    fn every_bad_answer_is_named() {
        let problems = answers(
            &questionnaire(),
            &typed(&[
                ("areas", "fraud,theft"),
                ("since", "yesterday"),
                ("period", "2026-02-01/2026-01-01"),
                ("unit", "two\nlines"),
                ("meeting", "maybe"),
                ("colour", "blue"),
                ("unit", "again"),
            ]),
        )
        .unwrap_err();
        let found: Vec<(&str, AnswerProblem)> = problems
            .iter()
            .map(|error| (error.question.as_str(), error.problem))
            .collect();
        assert_eq!(
            found,
            [
                ("colour", AnswerProblem::UnknownQuestion),
                ("unit", AnswerProblem::Twice),
                ("kind", AnswerProblem::Required),
                ("areas", AnswerProblem::NotAnOption),
                ("since", AnswerProblem::NotADate),
                ("period", AnswerProblem::PeriodReversed),
                ("unit", AnswerProblem::ControlCharacters),
                ("meeting", AnswerProblem::NotYesNo),
            ]
        );
        let long = "x".repeat(MAXIMUM_TEXT_ANSWER_LENGTH + 1);
        let problems = answers(
            &questionnaire(),
            &typed(&[("kind", "fraud"), ("unit", &long)]),
        )
        .unwrap_err();
        assert_eq!(problems[0].problem, AnswerProblem::TooLong);
    }

    #[test]
    fn form_fields_become_typed_answers() {
        let fields = [
            ("q:areas", "fraud"),
            ("q:areas", "other"),
            ("q:period:from", "2026-01-01"),
            ("q:period:to", ""),
            ("q:meeting", "yes"),
        ];
        let values = |name: &str| -> Vec<&str> {
            fields
                .iter()
                .filter(|(field, _)| *field == name)
                .map(|(_, value)| *value)
                .collect()
        };
        let typed = typed_from_fields(&questionnaire(), "q:", values);
        let find = |id: &str| {
            typed
                .iter()
                .find(|(question, _)| question == id)
                .unwrap()
                .1
                .clone()
        };
        assert_eq!(find("areas"), "fraud,other");
        assert_eq!(find("period"), "2026-01-01/");
        assert_eq!(find("meeting"), "yes");
        assert_eq!(find("kind"), "");
        let empty = |_: &str| -> Vec<&str> { Vec::new() };
        assert!(typed_from_fields(&questionnaire(), "q:", empty)
            .iter()
            .all(|(_, value)| value.is_empty()));
    }

    #[test]
    fn no_questionnaire_takes_no_answers() {
        assert!(answers(&[], &[]).unwrap().is_empty());
        assert_eq!(
            answers(&[], &typed(&[("kind", "fraud")])).unwrap_err()[0].problem,
            AnswerProblem::UnknownQuestion
        );
    }

    #[test]
    fn a_reader_shows_what_its_questionnaire_does_not_know_as_written() {
        let answers = answers(
            &questionnaire(),
            &typed(&[("kind", "bullying"), ("areas", "fraud,other")]),
        )
        .unwrap();
        let mut older = questionnaire();
        older.retain(|question| question.id != "areas");
        older[0].options.retain(|option| option.id != "bullying");
        let described = describe(&older, &answers);
        assert_eq!(described[0].question, "kind");
        assert_eq!(
            described[0].value,
            [AnswerText::Written("bullying".to_owned())]
        );
        assert_eq!(described[1].label, None);
        assert_eq!(described[1].value[0].in_language(false), "fraud,other");
        let described = describe(&questionnaire(), &answers);
        assert_eq!(described[1].value[1].in_language(true), "other (nl)");
    }

    #[test]
    fn questionnaire_rules() {
        assert!(check_questions(&questionnaire()).is_ok());
        assert!(check_questions(&default_evaluation_questions()).is_ok());
        let mut twice = questionnaire();
        twice.push(question("kind", QuestionKind::Text, false));
        assert!(check_questions(&twice).is_err());
        let mut one_option = questionnaire();
        one_option[0].options.truncate(1);
        assert!(check_questions(&one_option).is_err());
        let mut text_with_options = questionnaire();
        text_with_options[4].options = vec![option("a"), option("b")];
        assert!(check_questions(&text_with_options).is_err());
        let many: Vec<Question> = (0..=MAXIMUM_QUESTIONS)
            .map(|index| question(&format!("q{index}"), QuestionKind::Text, false))
            .collect();
        assert!(check_questions(&many).is_err());
    }
}
