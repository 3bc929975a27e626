//! Structured reports in the CLI: the organisation's questions asked on the terminal or
//! taken from `--answer QUESTION=VALUE` and `--answers-file`, checked before anything is
//! sent, and answers shown to their readers.
//!
//! This module must never send or keep an answer that the questionnaire refused, and never
//! log one.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;

use meldpunt_crypto::{AnswerProblem, Answers, Organisation, Question, QuestionKind};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};

/// What the reporter typed, question id and text.
type Typed = Zeroizing<Vec<(String, String)>>;

fn parse_pair(line: &str, source: &str) -> Result<(String, String)> {
    line.split_once('=')
        .map(|(question, value)| (question.trim().to_owned(), value.trim().to_owned()))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{source} takes QUESTION=ANSWER (see the questions with meldpunt directory show)"
            ))
        })
}

/// The answers to `organisation`'s questions: from `--answer` arguments, from
/// `answers_file` (one `QUESTION=ANSWER` per line), then, on a terminal, asked for each
/// question still unanswered. Every problem is reported at once (exit code 2), and nothing
/// is sent.
pub fn gather(
    organisation: &Organisation,
    arguments: &[String],
    answers_file: Option<&Path>,
    may_ask: bool,
) -> Result<Answers> {
    let mut typed: Typed = Zeroizing::new(Vec::new());
    for argument in arguments {
        typed.push(parse_pair(argument, "--answer")?);
    }
    if let Some(path) = answers_file {
        let text = Zeroizing::new(
            std::fs::read_to_string(path).map_err(|error| CliError::file(path, error))?,
        );
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            typed.push(parse_pair(line, "each line of --answers-file")?);
        }
    }
    if organisation.questions.is_empty() {
        if typed.is_empty() {
            return Ok(Answers::none());
        }
        return Err(CliError::Usage(format!(
            "{} asks no questions; leave out --answer and --answers-file",
            organisation.id
        )));
    }
    if may_ask && std::io::stdin().is_terminal() {
        ask(organisation, &mut typed)?;
    }
    organisation.answers(&typed).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|problem| {
                let question = organisation
                    .questions
                    .iter()
                    .find(|question| question.id == problem.question);
                match question {
                    Some(question) => format!(
                        "  {} ({}): {}{}",
                        question.id,
                        question.label.en,
                        problem.problem.describe(),
                        expected(question)
                    ),
                    None => format!("  {problem}"),
                }
            })
            .collect();
        CliError::Usage(format!(
            "the answers to {}'s questions were refused; nothing was sent:\n{}",
            organisation.id,
            lines.join("\n")
        ))
    })
}

/// What a question takes, for an error or a prompt.
fn expected(question: &Question) -> String {
    let options = || {
        question
            .options
            .iter()
            .map(|option| format!("{} ({})", option.id, option.label.en))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match question.kind {
        QuestionKind::Choice => format!("; one of: {}", options()),
        QuestionKind::MultipleChoice => format!("; any of, separated by commas: {}", options()),
        QuestionKind::Date => "; YYYY-MM-DD".into(),
        QuestionKind::Period => "; YYYY-MM-DD/YYYY-MM-DD".into(),
        QuestionKind::Text => "; one line".into(),
        QuestionKind::YesNo => "; yes or no".into(),
    }
}

/// Asks each question not answered yet, on the terminal, until its answer is accepted or
/// left empty.
fn ask(organisation: &Organisation, typed: &mut Typed) -> Result<()> {
    let mut stderr = std::io::stderr();
    let stdin = std::io::stdin();
    let _ = writeln!(
        stderr,
        "{} asks these questions with your report (encrypted with it; * required, Enter skips the others):",
        organisation.name.en
    );
    for question in &organisation.questions {
        if typed.iter().any(|(id, _)| *id == question.id) {
            continue;
        }
        loop {
            let _ = write!(
                stderr,
                "{}{} [{}{}]: ",
                question.label.en,
                if question.required { " *" } else { "" },
                question.id,
                expected(question)
            );
            let _ = stderr.flush();
            let mut line = Zeroizing::new(String::new());
            if stdin
                .lock()
                .read_line(&mut line)
                .map_err(|error| CliError::Local(format!("cannot read the terminal: {error}")))?
                == 0
            {
                return Ok(());
            }
            match question.check_answer(&line) {
                Ok(None) if question.required => {
                    let _ = writeln!(stderr, "  {}", AnswerProblem::Required.describe());
                }
                Ok(_) => {
                    typed.push((question.id.clone(), line.trim().to_owned()));
                    break;
                }
                Err(problem) => {
                    let _ = writeln!(stderr, "  {}", problem.describe());
                }
            }
        }
    }
    Ok(())
}

/// Answers as lines for a reader in the terminal: `Question: answer`.
pub fn lines(questions: &[Question], answers: &Answers) -> Vec<String> {
    meldpunt_crypto::describe_answers(questions, answers)
        .into_iter()
        .map(|described| {
            let question = described.label.map_or(described.question, |label| label.en);
            let value: Vec<&str> = described
                .value
                .iter()
                .map(|part| part.in_language(false))
                .collect();
            format!("{question}: {}", value.join(", "))
        })
        .collect()
}
