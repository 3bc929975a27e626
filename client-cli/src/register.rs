//! The register of reports (EU Directive 2019/1937, art. 18) and the monitoring figures of
//! the reporting process, computed on this workstation from the local case store — never on
//! the relay.
//!
//! Both hold dates, statuses, deadlines and the team's labels only: never a report's text,
//! a name or anything a reporter or an office member wrote. Figures are published with small
//! counts hidden ("fewer than 5", and no share or median over fewer than 5 cases), so that an
//! export cannot single anyone out.
//!
//! This module reads the store; it never writes anything, and never contacts the relay.

use std::collections::BTreeMap;

use meldpunt_crypto::{CaseStatus, Day};
use serde::Serialize;

use crate::store::Case;

/// Counts below this are shown as "fewer than 5".
pub const SMALLEST_SHOWN: u32 = 5;

/// How a legal deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeadlineStanding {
    /// Done on or before its day.
    Met,
    /// Done after its day, or not done and its day has passed.
    Missed,
    /// Not done, and its day has not passed.
    Open,
    /// Not done and no longer due: the case was closed first.
    Closed,
    /// No such deadline: a consultation is not a report.
    None,
}

impl DeadlineStanding {
    fn of(done: Option<Day>, due: Day, closed: Option<Day>, today: Day) -> DeadlineStanding {
        match (done, closed) {
            (Some(day), _) if day <= due => DeadlineStanding::Met,
            (Some(_), _) => DeadlineStanding::Missed,
            (None, Some(closed)) if closed <= due => DeadlineStanding::Closed,
            (None, _) if today > due => DeadlineStanding::Missed,
            (None, Some(_)) => DeadlineStanding::Closed,
            (None, None) => DeadlineStanding::Open,
        }
    }

    /// The word used in the CSV and on the page.
    pub fn as_str(self) -> &'static str {
        match self {
            DeadlineStanding::Met => "met",
            DeadlineStanding::Missed => "missed",
            DeadlineStanding::Open => "open",
            DeadlineStanding::Closed => "closed",
            DeadlineStanding::None => "none",
        }
    }
}

/// How a case's acknowledgement and feedback deadlines stand on `today` (`None` for a
/// consultation, which has none).
pub fn deadline_standings(case: &Case, today: Day) -> (DeadlineStanding, DeadlineStanding) {
    if case.is_consultation() {
        return (DeadlineStanding::None, DeadlineStanding::None);
    }
    let closed_on = case.closed_day();
    (
        DeadlineStanding::of(
            case.acknowledged_on,
            case.acknowledgement_due(),
            closed_on,
            today,
        ),
        DeadlineStanding::of(case.feedback_on, case.feedback_due(), closed_on, today),
    )
}

/// One line of the register: one case, without its content.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterLine {
    /// The case id.
    pub case: String,
    /// `report` or `consultation`.
    pub conversation: &'static str,
    /// The day the report was received.
    pub received_on: Day,
    /// The status shown.
    pub status: CaseStatus,
    /// When receipt was acknowledged.
    pub acknowledged_on: Option<Day>,
    /// The acknowledgement deadline (7 days).
    pub acknowledgement: DeadlineStanding,
    /// When feedback was first given.
    pub feedback_on: Option<Day>,
    /// The feedback deadline (3 months after the acknowledgement).
    pub feedback: DeadlineStanding,
    /// When the case was closed.
    pub closed_on: Option<Day>,
    /// The team's labels (its categories).
    pub labels: Vec<String>,
    /// The report's answers to the questionnaire's choice and yes/no questions (question id
    /// to option ids), never its free text.
    pub answers: BTreeMap<String, String>,
    /// The day its content may be purged (none while it is open).
    pub retention_until: Option<Day>,
    /// Whether a legal hold keeps it.
    pub legal_hold: bool,
    /// The day its content was purged.
    pub purged_on: Option<Day>,
}

impl RegisterLine {
    /// The register line of `case` on `today`, with `retention_months` as the default
    /// retention after closing.
    pub fn of(
        case: &Case,
        today: Day,
        retention_months: u32,
        questions: &[meldpunt_crypto::Question],
    ) -> RegisterLine {
        let closed_on = case.closed_day();
        let consultation = case.is_consultation();
        let (acknowledgement, feedback) = deadline_standings(case, today);
        RegisterLine {
            case: case.id.clone(),
            conversation: if consultation {
                "consultation"
            } else {
                "report"
            },
            received_on: case.received_on,
            status: case.current_status(),
            acknowledged_on: case.acknowledged_on,
            acknowledgement,
            feedback_on: case.feedback_on,
            feedback,
            closed_on,
            labels: case.team.labels.clone(),
            answers: case.categories(questions),
            retention_until: case.retention_until(retention_months),
            legal_hold: case.legal_hold.is_some(),
            purged_on: case.purged_on,
        }
    }

    /// The answers as `question=option; …`.
    pub fn answers_text(&self) -> String {
        self.answers
            .iter()
            .map(|(question, answer)| format!("{question}={answer}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The CSV header.
    pub const CSV_HEADER: &'static str = "case,conversation,received_on,status,acknowledged_on,acknowledgement,feedback_on,feedback,closed_on,labels,answers,retention_until,legal_hold,purged_on";

    /// The line as CSV (RFC 4180 quoting; a label that starts like a formula is prefixed
    /// with `'` so that a spreadsheet shows it rather than runs it).
    pub fn to_csv(&self) -> String {
        let day = |day: Option<Day>| day.map(|day| day.to_string()).unwrap_or_default();
        [
            self.case.clone(),
            self.conversation.to_owned(),
            self.received_on.to_string(),
            self.status.as_str().to_owned(),
            day(self.acknowledged_on),
            self.acknowledgement.as_str().to_owned(),
            day(self.feedback_on),
            self.feedback.as_str().to_owned(),
            day(self.closed_on),
            self.labels.join("; "),
            self.answers_text(),
            day(self.retention_until),
            if self.legal_hold { "yes" } else { "no" }.to_owned(),
            day(self.purged_on),
        ]
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
    }
}

/// A CSV field: quoted when it holds a comma, quote or line break, and defused when a
/// spreadsheet would read it as a formula.
pub fn csv_field(field: &str) -> String {
    let defused = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// A count as published: exact from 5 on (and zero), "fewer than 5" below, or withheld
/// when showing it would let a hidden count be worked out from a total (the smallest other
/// count of a group with exactly one hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Shown as it is.
    Exact(u32),
    /// 1 to 4: shown as "fewer than 5".
    FewerThanFive,
    /// Withheld to protect a small count beside it.
    Withheld,
}

impl Count {
    /// How `count` is published on its own.
    pub fn of(count: u32) -> Count {
        if count == 0 || count >= SMALLEST_SHOWN {
            Count::Exact(count)
        } else {
            Count::FewerThanFive
        }
    }

    /// The number, when it is shown.
    pub fn value(self) -> Option<u32> {
        match self {
            Count::Exact(count) => Some(count),
            _ => None,
        }
    }

    /// Whether it is shown exactly.
    pub fn is_shown(self) -> bool {
        matches!(self, Count::Exact(_))
    }

    /// Whether it is shown as zero.
    pub fn is_zero(self) -> bool {
        self == Count::Exact(0)
    }

    /// As text: the number, "fewer than 5" or "withheld".
    pub fn text(self) -> String {
        match self {
            Count::Exact(count) => count.to_string(),
            Count::FewerThanFive => format!("fewer than {SMALLEST_SHOWN}"),
            Count::Withheld => "withheld".to_owned(),
        }
    }
}

impl Serialize for Count {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Count::Exact(count) => serializer.serialize_u32(*count),
            other => serializer.serialize_str(&other.text()),
        }
    }
}

/// Publishes a group of counts whose total is published too: when exactly one is under 5,
/// the smallest other count above zero is withheld as well, so that the hidden one cannot be
/// worked out by subtraction.
fn published<K: Ord + Clone>(counts: &BTreeMap<K, u32>) -> BTreeMap<K, Count> {
    let mut published: BTreeMap<K, Count> = counts
        .iter()
        .map(|(key, count)| (key.clone(), Count::of(*count)))
        .collect();
    let hidden = published
        .values()
        .filter(|count| **count == Count::FewerThanFive)
        .count();
    if hidden == 1 {
        if let Some(key) = counts
            .iter()
            .filter(|(key, count)| **count >= SMALLEST_SHOWN && published[*key].is_shown())
            .min_by_key(|(_, count)| **count)
            .map(|(key, _)| key.clone())
        {
            published.insert(key, Count::Withheld);
        }
    }
    published
}

/// A share of cases, in percent, published only over at least 5 cases.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    /// How many of the cases it is over did it.
    pub of: Count,
    /// The percentage, when over at least 5 cases.
    pub percent: Option<u32>,
}

impl Share {
    fn of(done: u32, total: u32) -> Share {
        Share {
            of: Count::of(total),
            percent: (total >= SMALLEST_SHOWN).then(|| (done * 100 + total / 2) / total),
        }
    }
}

/// The monitoring figures of the reports received in a period.
#[derive(Debug, Clone, Serialize)]
pub struct Statistics {
    /// The first day counted.
    pub from: Option<Day>,
    /// The last day counted.
    pub to: Option<Day>,
    /// Reports received.
    pub reports: Count,
    /// Consultations opened (not reports).
    pub consultations: Count,
    /// Reports per month received (`YYYY-MM`).
    pub per_month: BTreeMap<String, Count>,
    /// Reports per label (a report with several labels counts under each); labels on fewer
    /// than 5 reports are counted together under "other labels", never named.
    pub per_label: BTreeMap<String, Count>,
    /// Reports without a label.
    pub unlabelled: Count,
    /// Reports per answer to the questionnaire's choice and yes/no questions (`question` →
    /// `option` → count; a report with several options counts under each).
    pub per_answer: BTreeMap<String, BTreeMap<String, Count>>,
    /// Reports whose reporter evaluated the process.
    pub evaluated: Count,
    /// The evaluations' answers to the choice and yes/no evaluation questions (`question`
    /// → `option` → count), counted as the answers per report are.
    pub evaluation: BTreeMap<String, BTreeMap<String, Count>>,
    /// Reports whose receipt was acknowledged within 7 days, of those whose acknowledgement
    /// was done or due.
    pub acknowledged_in_time: Share,
    /// Reports fed back within 3 months of the acknowledgement, of those whose feedback was
    /// done or due.
    pub fed_back_in_time: Share,
    /// The median days from receipt to acknowledgement (over at least 5 reports).
    pub median_days_to_acknowledgement: Option<i64>,
    /// The median days from receipt to first feedback (over at least 5 reports).
    pub median_days_to_feedback: Option<i64>,
    /// Reports still open, by age: under 1 month, 1–3, 3–6, 6–12, a year or more.
    pub open_by_age: BTreeMap<&'static str, Count>,
}

/// Where labels on fewer than 5 reports are counted together (never named).
pub const OTHER_LABELS: &str = "(other labels)";

/// The age groups of open reports, in order.
pub const AGE_GROUPS: [&str; 5] = [
    "under 1 month",
    "1 to 3 months",
    "3 to 6 months",
    "6 to 12 months",
    "a year or more",
];

/// Counts a report's answers (question → options, several joined by commas) into `counts`.
fn count_answers(
    counts: &mut BTreeMap<String, BTreeMap<String, u32>>,
    answers: BTreeMap<String, String>,
) {
    for (question, answer) in answers {
        let options = counts.entry(question).or_default();
        for option in answer.split(',') {
            *options.entry(option.to_owned()).or_default() += 1;
        }
    }
}

/// Each question's counts, published by the small-count rule.
fn publish_answers(
    counts: &BTreeMap<String, BTreeMap<String, u32>>,
) -> BTreeMap<String, BTreeMap<String, Count>> {
    counts
        .iter()
        .map(|(question, options)| (question.clone(), published(options)))
        .collect()
}

fn median(mut values: Vec<i64>) -> Option<i64> {
    if values.len() < SMALLEST_SHOWN as usize {
        return None;
    }
    values.sort_unstable();
    Some(values[values.len() / 2])
}

fn days_between(from: Day, to: Day) -> i64 {
    (to.date() - from.date()).whole_days()
}

impl Statistics {
    /// The figures of the cases received from `from` to `to` (both included), on `today`.
    pub fn of<'a>(
        cases: impl Iterator<Item = &'a Case>,
        questions: &[meldpunt_crypto::Question],
        evaluation_questions: &[meldpunt_crypto::Question],
        from: Option<Day>,
        to: Option<Day>,
        today: Day,
    ) -> Statistics {
        let in_period: Vec<&Case> = cases
            .filter(|case| case.has_report() || case.is_partial())
            .filter(|case| from.is_none_or(|from| case.received_on >= from))
            .filter(|case| to.is_none_or(|to| case.received_on <= to))
            .collect();
        let (consultations, reports): (Vec<&Case>, Vec<&Case>) = in_period
            .into_iter()
            .partition(|case| case.is_consultation());
        let mut per_month: BTreeMap<String, u32> = BTreeMap::new();
        let mut per_label: BTreeMap<String, u32> = BTreeMap::new();
        let mut unlabelled = 0u32;
        let mut per_answer: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
        let mut evaluation: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
        let mut evaluated = 0u32;
        let mut open_by_age: BTreeMap<&'static str, u32> =
            AGE_GROUPS.iter().map(|group| (*group, 0)).collect();
        let (mut acknowledged, mut acknowledgement_due) = (0, 0);
        let (mut fed_back, mut feedback_due) = (0, 0);
        let mut to_acknowledgement = Vec::new();
        let mut to_feedback = Vec::new();
        for case in &reports {
            let (acknowledgement, feedback) = deadline_standings(case, today);
            *per_month
                .entry(case.received_on.to_string()[..7].to_owned())
                .or_default() += 1;
            if case.team.labels.is_empty() {
                unlabelled += 1;
            }
            for label in &case.team.labels {
                *per_label.entry(label.clone()).or_default() += 1;
            }
            count_answers(&mut per_answer, case.categories(questions));
            if let Some(answers) = case.evaluation(evaluation_questions) {
                evaluated += 1;
                count_answers(&mut evaluation, answers);
            }
            if matches!(
                acknowledgement,
                DeadlineStanding::Met | DeadlineStanding::Missed
            ) {
                acknowledgement_due += 1;
                acknowledged += u32::from(acknowledgement == DeadlineStanding::Met);
            }
            if matches!(feedback, DeadlineStanding::Met | DeadlineStanding::Missed) {
                feedback_due += 1;
                fed_back += u32::from(feedback == DeadlineStanding::Met);
            }
            if let Some(day) = case.acknowledged_on {
                to_acknowledgement.push(days_between(case.received_on, day));
            }
            if let Some(day) = case.feedback_on {
                to_feedback.push(days_between(case.received_on, day));
            }
            if !case.current_status().is_closed() {
                let age = days_between(case.received_on, today);
                let group = match age {
                    ..=30 => AGE_GROUPS[0],
                    31..=91 => AGE_GROUPS[1],
                    92..=182 => AGE_GROUPS[2],
                    183..=364 => AGE_GROUPS[3],
                    _ => AGE_GROUPS[4],
                };
                *open_by_age.entry(group).or_default() += 1;
            }
        }
        // A label on fewer than 5 reports is not named: such labels count together.
        let mut other_labels = 0u32;
        per_label.retain(|_, count| {
            let named = *count >= SMALLEST_SHOWN;
            if !named {
                other_labels += *count;
            }
            named
        });
        if other_labels > 0 {
            per_label.insert(OTHER_LABELS.to_owned(), other_labels);
        }
        Statistics {
            from,
            to,
            reports: Count::of(reports.len() as u32),
            consultations: Count::of(consultations.len() as u32),
            per_month: published(&per_month),
            per_label: published(&per_label),
            unlabelled: Count::of(unlabelled),
            per_answer: publish_answers(&per_answer),
            evaluated: Count::of(evaluated),
            evaluation: publish_answers(&evaluation),
            acknowledged_in_time: Share::of(acknowledged, acknowledgement_due),
            fed_back_in_time: Share::of(fed_back, feedback_due),
            median_days_to_acknowledgement: median(to_acknowledgement),
            median_days_to_feedback: median(to_feedback),
            open_by_age: published(&open_by_age),
        }
    }

    /// The figures as CSV rows `figure,key,value`.
    pub fn to_csv(&self) -> String {
        std::iter::once("figure,key,value".to_owned())
            .chain(self.rows().iter().map(|(figure, key, value)| {
                format!(
                    "{},{},{}",
                    csv_field(figure),
                    csv_field(key),
                    csv_field(value)
                )
            }))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// The figures as rows (figure, key — empty for a single figure —, value as published).
    pub fn rows(&self) -> Vec<(String, String, String)> {
        let mut rows = Vec::new();
        let mut row = |figure: &str, key: &str, value: String| {
            rows.push((figure.to_owned(), key.to_owned(), value));
        };
        row("reports", "", self.reports.text());
        row("consultations", "", self.consultations.text());
        for (month, count) in &self.per_month {
            row("reports per month", month, count.text());
        }
        for (label, count) in &self.per_label {
            row("reports per label", label, count.text());
        }
        row("reports without a label", "", self.unlabelled.text());
        for (figure, answers) in [
            ("reports per answer", &self.per_answer),
            ("evaluations per answer", &self.evaluation),
        ] {
            for (question, options) in answers {
                for (option, count) in options {
                    row(figure, &format!("{question}={option}"), count.text());
                }
            }
        }
        row("reports evaluated", "", self.evaluated.text());
        for (figure, share) in [
            ("acknowledged within 7 days (%)", &self.acknowledged_in_time),
            ("fed back within 3 months (%)", &self.fed_back_in_time),
        ] {
            row(
                figure,
                "",
                share.percent.map_or_else(
                    || format!("over {} reports", share.of.text()),
                    |percent| percent.to_string(),
                ),
            );
        }
        for (figure, median) in [
            (
                "median days to acknowledgement",
                self.median_days_to_acknowledgement,
            ),
            ("median days to feedback", self.median_days_to_feedback),
        ] {
            row(
                figure,
                "",
                median.map_or_else(
                    || format!("fewer than {SMALLEST_SHOWN} reports"),
                    |days| days.to_string(),
                ),
            );
        }
        for (group, count) in &self.open_by_age {
            row("open reports by age", group, count.text());
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    #[test]
    fn deadlines_stand_met_missed_open_or_closed() {
        let due = day("2026-03-08");
        let today = day("2026-03-20");
        assert_eq!(
            DeadlineStanding::of(Some(day("2026-03-08")), due, None, today),
            DeadlineStanding::Met
        );
        assert_eq!(
            DeadlineStanding::of(Some(day("2026-03-09")), due, None, today),
            DeadlineStanding::Missed
        );
        assert_eq!(
            DeadlineStanding::of(None, due, None, today),
            DeadlineStanding::Missed
        );
        assert_eq!(
            DeadlineStanding::of(None, day("2026-04-01"), None, today),
            DeadlineStanding::Open
        );
        assert_eq!(
            DeadlineStanding::of(None, day("2026-04-01"), Some(today), today),
            DeadlineStanding::Closed
        );
        // Closed before it was due, it stays lapsed, however late it is now.
        assert_eq!(
            DeadlineStanding::of(None, due, Some(day("2026-03-01")), day("2027-01-01")),
            DeadlineStanding::Closed
        );
        // Closed after it was due without it: missed.
        assert_eq!(
            DeadlineStanding::of(None, due, Some(day("2026-03-10")), today),
            DeadlineStanding::Missed
        );
    }

    #[test]
    fn small_counts_are_hidden_and_shares_need_five() {
        assert_eq!(Count::of(0).text(), "0");
        assert_eq!(Count::of(4).text(), "fewer than 5");
        assert_eq!(Count::of(5).text(), "5");
        assert_eq!(serde_json::to_value(Count::of(3)).unwrap(), "fewer than 5");
        assert_eq!(serde_json::to_value(Count::of(7)).unwrap(), 7);
        // One hidden count beside a published total: the smallest other is withheld too.
        let counts: BTreeMap<&str, u32> = [("a", 9), ("b", 3), ("c", 6), ("d", 0)].into();
        let shown = published(&counts);
        assert_eq!(shown["a"], Count::Exact(9));
        assert_eq!(shown["b"], Count::FewerThanFive);
        assert_eq!(shown["c"], Count::Withheld);
        assert_eq!(shown["d"], Count::Exact(0));
        // Two hidden: neither can be worked out alone.
        let counts: BTreeMap<&str, u32> = [("a", 9), ("b", 3), ("c", 2)].into();
        assert_eq!(published(&counts)["a"], Count::Exact(9));
        assert_eq!(Share::of(3, 4).percent, None);
        assert_eq!(Share::of(4, 5).percent, Some(80));
        assert_eq!(median(vec![1, 2, 3, 4]), None);
        assert_eq!(median(vec![9, 1, 5, 3, 7]), Some(5));
    }

    #[test]
    fn csv_fields_are_quoted_and_formulas_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
