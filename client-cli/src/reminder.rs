//! Reminders of deadlines while the office app is closed: what `meldpunt inbox remind`
//! says, how it says it (a desktop notification through the freedesktop notification
//! service, else standard output), and the deadline summary kept beside the store.
//!
//! The summary lets a timer remind without the identity's passphrase, which it cannot ask
//! for. It must only ever hold days and counts: never a case id, a name, a status text or
//! anything a reporter or office wrote (it is the one file of the store that is not
//! encrypted). It is written with the store, mode 0600.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meldpunt_crypto::Day;
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Result};
use crate::paths::write_private;
use crate::store::State;

/// The file name of the summary, in the store folder.
const SUMMARY_FILE: &str = "deadlines.json";

/// How many open deadlines fall on one day.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DueCounts {
    /// Acknowledgements of receipt (7 days).
    pub acknowledgements: u32,
    /// Feedback to the reporter (3 months).
    pub feedback: u32,
    /// Aftercare check-ins (months after closing).
    #[serde(default)]
    pub aftercare: u32,
    /// Mailboxes of cases still worked on that the relay deletes that day for lack of
    /// activity (its retention).
    #[serde(default)]
    pub relay_deletions: u32,
}

/// The open deadlines of every case in a store, by day: what a reminder needs, and no more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadlineSummary {
    /// The day the store was last saved.
    pub written_on: Day,
    /// Open deadlines per due day.
    pub due: BTreeMap<Day, DueCounts>,
}

impl DeadlineSummary {
    /// The summary of `state` on `today`.
    pub fn of(state: &State, today: Day) -> DeadlineSummary {
        let mut due: BTreeMap<Day, DueCounts> = BTreeMap::new();
        for case in state.cases.values() {
            for (what, day) in case.open_deadlines() {
                let counts = due.entry(day).or_default();
                match what {
                    Deadline::Acknowledgement => {
                        counts.acknowledgements = counts.acknowledgements.saturating_add(1)
                    }
                    Deadline::Feedback => counts.feedback = counts.feedback.saturating_add(1),
                }
            }
            if let Some((day, None)) = case.aftercare(state.aftercare_months) {
                let counts = due.entry(day).or_default();
                counts.aftercare = counts.aftercare.saturating_add(1);
            }
            if let Some(day) = case.relay_deletion(state.relay_retention_days) {
                let counts = due.entry(day).or_default();
                counts.relay_deletions = counts.relay_deletions.saturating_add(1);
            }
        }
        DeadlineSummary {
            written_on: today,
            due,
        }
    }

    /// Where the summary of the store in `folder` is kept.
    pub fn path(folder: &Path) -> PathBuf {
        folder.join(SUMMARY_FILE)
    }

    /// Writes it beside the store in `folder`.
    pub fn save(&self, folder: &Path) -> Result<()> {
        let path = Self::path(folder);
        let bytes = serde_json::to_vec_pretty(self).expect("serialisable");
        write_private(&path, &bytes).map_err(|error| CliError::file(&path, error))
    }

    /// Reads the summary beside the store in `folder`.
    pub fn load(folder: &Path) -> Result<DeadlineSummary> {
        let path = Self::path(folder);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Err(CliError::Usage(format!(
                    "{} does not exist yet: run meldpunt inbox sync (or the office app) once",
                    path.display()
                )))
            }
            Err(error) => return Err(CliError::file(&path, error)),
        };
        serde_json::from_slice(&bytes).map_err(|error| {
            CliError::Local(format!(
                "{} is not a deadline summary ({error}); run meldpunt inbox sync to write it again",
                path.display()
            ))
        })
    }

    /// What to remind of on `today`, looking `within_days` ahead.
    pub fn reminder(&self, today: Day, within_days: u32) -> Reminder {
        let horizon = today.plus_days(i64::from(within_days));
        let mut reminder = Reminder::default();
        for (day, counts) in &self.due {
            let count = counts
                .acknowledgements
                .saturating_add(counts.feedback)
                .saturating_add(counts.aftercare);
            if *day < today {
                reminder.overdue = reminder.overdue.saturating_add(count);
            } else if *day <= horizon {
                // A mailbox the relay deletes is worth a reminder only before it is gone.
                reminder.due_soon = reminder
                    .due_soon
                    .saturating_add(count)
                    .saturating_add(counts.relay_deletions);
            }
        }
        reminder.within_days = within_days;
        reminder
    }
}

/// One of a case's two legal deadlines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deadline {
    /// The acknowledgement of receipt, 7 days after the report.
    Acknowledgement,
    /// Feedback to the reporter, 3 months after the report.
    Feedback,
}

impl Deadline {
    /// Its name in listings and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Deadline::Acknowledgement => "acknowledgement",
            Deadline::Feedback => "feedback",
        }
    }
}

/// What a reminder says.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Reminder {
    /// Deadlines already passed.
    pub overdue: u32,
    /// Deadlines from today up to `within_days` ahead.
    pub due_soon: u32,
    /// How far ahead it looked.
    pub within_days: u32,
    /// Messages that arrived in the sync just before (0 without one).
    pub new_messages: usize,
}

impl Reminder {
    /// Whether there is anything to say.
    pub fn is_empty(&self) -> bool {
        self.overdue == 0 && self.due_soon == 0 && self.new_messages == 0
    }

    /// The notification's text, in Dutch and in English.
    pub fn text(&self) -> String {
        let mut dutch = Vec::new();
        let mut english = Vec::new();
        if self.overdue > 0 {
            dutch.push(format!("{} termijn(en) verstreken", self.overdue));
            english.push(format!("{} deadline(s) overdue", self.overdue));
        }
        if self.due_soon > 0 {
            dutch.push(format!(
                "{} termijn(en) binnen {} dag(en)",
                self.due_soon, self.within_days
            ));
            english.push(format!(
                "{} deadline(s) due within {} day(s)",
                self.due_soon, self.within_days
            ));
        }
        if self.new_messages > 0 {
            dutch.push(format!("{} nieuw(e) bericht(en)", self.new_messages));
            english.push(format!("{} new message(s)", self.new_messages));
        }
        format!(
            "{}. Open de kantoor-app: meldpunt office\n{}. Open the office app: meldpunt office",
            dutch.join(", "),
            english.join(", ")
        )
    }
}

/// Shows `text` as a desktop notification through the session's freedesktop notification
/// service (D-Bus). The error says why not, for example when no service runs.
pub fn notify(text: &str) -> std::result::Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|error| error.to_string())?;
    let notification = notify_rust::Notification::new()
        .appname("Meldpunt")
        .summary("Meldpunt")
        .body(text)
        .urgency(notify_rust::Urgency::Critical)
        .finalize();
    runtime.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            notification.show_async(),
        )
        .await
        .map_err(|_| "the notification service did not answer within 10 s".to_owned())?
        .map(|_| ())
        .map_err(|error| error.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn summary(entries: &[(&str, u32, u32)]) -> DeadlineSummary {
        DeadlineSummary {
            written_on: day("2026-12-01"),
            due: entries
                .iter()
                .map(|(on, acknowledgements, feedback)| {
                    (
                        day(on),
                        DueCounts {
                            acknowledgements: *acknowledgements,
                            feedback: *feedback,
                            aftercare: 0,
                            relay_deletions: 0,
                        },
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn counts_overdue_and_due_soon_by_day() {
        let summary = summary(&[
            ("2026-11-20", 1, 0),
            ("2026-12-01", 0, 1),
            ("2026-12-02", 1, 1),
            ("2026-12-04", 1, 0),
            ("2026-12-05", 0, 7),
        ]);
        let reminder = summary.reminder(day("2026-12-02"), 2);
        assert_eq!(reminder.overdue, 2);
        assert_eq!(reminder.due_soon, 3);
        assert!(reminder.text().contains("2 deadline(s) overdue"));
        assert!(reminder
            .text()
            .contains("3 deadline(s) due within 2 day(s)"));
        assert!(reminder.text().contains("2 termijn(en) verstreken"));
    }

    #[test]
    fn nothing_due_is_nothing_to_say() {
        let reminder = summary(&[("2027-03-01", 0, 1)]).reminder(day("2026-12-02"), 2);
        assert!(reminder.is_empty());
        assert!(summary(&[]).reminder(day("2026-12-02"), 30).is_empty());
    }

    #[test]
    fn a_summary_with_anything_more_than_days_and_counts_is_refused() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(
            DeadlineSummary::path(folder.path()),
            r#"{"written_on":"2026-12-01","due":{},"case":"c0ffee"}"#,
        )
        .unwrap();
        let error = DeadlineSummary::load(folder.path())
            .unwrap_err()
            .to_string();
        assert!(error.contains("is not a deadline summary"), "{error}");
        std::fs::write(
            DeadlineSummary::path(folder.path()),
            r#"{"written_on":"2026-12-01","due":{"2026-12-01":{"acknowledgements":1,"feedback":0,"case":"c0ffee"}}}"#,
        )
        .unwrap();
        assert!(DeadlineSummary::load(folder.path()).is_err());
        std::fs::write(DeadlineSummary::path(folder.path()), b"\xff\x00").unwrap();
        assert!(DeadlineSummary::load(folder.path()).is_err());
    }

    #[test]
    fn written_and_read_back_private() {
        let folder = tempfile::tempdir().unwrap();
        let summary = summary(&[("2026-12-04", 1, 2)]);
        summary.save(folder.path()).unwrap();
        assert_eq!(DeadlineSummary::load(folder.path()).unwrap(), summary);
        #[cfg(unix)]
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(DeadlineSummary::path(folder.path()))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
