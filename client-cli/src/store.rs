//! The integrity office's local case store, encrypted at rest.
//!
//! Layout of the store folder:
//! - `key.age` — a random 32-byte store key, sealed (age) to the office identity, so only the
//!   identity unlocks the store;
//! - `cases.sealed` — the cases and the opened messages, as JSON encrypted with
//!   XChaCha20-Poly1305 under the store key (24-byte random nonce || ciphertext);
//! - `originals/<number>.age` — every sealed message exactly as the relay served it (age
//!   files: ciphertext already), quarantined ones included; `originals/hand-over-<number>.age`
//!   — every hand-over filed, as the relay served it;
//! - `lock` — held by the command using the store, so that two commands (two syncs, a sync
//!   and a reply) wait for each other instead of losing each other's changes.
//!
//! The folder and everything in it are readable by their owner only (0700, 0600).
//!
//! - `deadlines.json` — the open deadlines as days and counts only (crate::reminder), so that
//!   a timer can remind without the passphrase.
//!
//! Nothing else in the folder is plaintext. This module never writes an opened message
//! anywhere but into `cases.sealed`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meldpunt_crypto::{
    AttachmentReference, CaseBoard, CaseChange, CaseStatus, Day, IdentityKey, Message, OfficeKey,
    RecipientAddress, RecipientKey, SignedCaseRecord, Standing, StoreKey, ThreadCheck,
};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};
use crate::paths::{write_private, FileLock};
use crate::reminder::{Deadline, DeadlineSummary};

/// One message of a case, opened.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredMessage {
    /// The relay's number.
    pub number: u64,
    /// Position in the mailbox.
    pub position: u32,
    /// `reporter` or `office`.
    pub author: String,
    /// The day the relay stored it.
    pub stored_on: String,
    /// The opened message's JSON (see the protocol).
    pub message_json: String,
    /// A follow-up in a partial case: who wrote it could not be checked, because the report
    /// carrying the reporter's key was not sealed to this identity.
    #[serde(default)]
    pub unverified: bool,
    /// How many earlier messages of its author never reached this store (withheld by the
    /// relay, or not sealed to this identity).
    #[serde(default)]
    pub missing_before: u32,
    /// The office key of the colleague who handed it over, when it came in a hand-over
    /// rather than from the relay (sealed before this member's key was in the directory).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handed_over_by: Option<OfficeKey>,
    /// The relay's number of the hand-over it came in (its sealed original is kept under
    /// [`Store::hand_over_path`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hand_over: Option<u64>,
    /// For a handed-over message: its attachments' copies sealed to this member (original
    /// location → the copy's), fetched in their place and checked against the original
    /// reference's size and digest.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attachment_copies: BTreeMap<String, String>,
}

/// A message that was sealed to this office but could not be filed: it does not open as a
/// Meldpunt message, or does not fit its thread (forged, replayed, out of sequence, from the
/// wrong author). Its sealed original is kept; its content is never shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QuarantinedMessage {
    /// The relay's number.
    pub number: u64,
    /// Position in the mailbox.
    pub position: u32,
    /// `reporter` or `office`, as the relay recorded it.
    pub author: String,
    /// The day the relay stored it.
    pub stored_on: String,
    /// Why it was quarantined.
    pub reason: String,
}

impl StoredMessage {
    /// The opened message.
    pub fn message(&self) -> Result<Message> {
        Ok(Message::decode(self.message_json.as_bytes())?)
    }
}

/// A case: one mailbox, seen from the office.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Case {
    /// Short id shown to people (from the mailbox id).
    pub id: String,
    /// The relay's mailbox id.
    pub mailbox: String,
    /// Day the report was stored.
    pub received_on: Day,
    /// The status its thread gives (new, acknowledged, feedback given), or closed by this
    /// store before the team's records. What is shown is [`Case::current_status`]: the
    /// team's, once a member recorded one.
    pub status: CaseStatus,
    /// When receipt was acknowledged.
    pub acknowledged_on: Option<Day>,
    /// When feedback was first given.
    pub feedback_on: Option<Day>,
    /// When closed.
    pub closed_on: Option<Day>,
    /// Last message either way.
    pub last_activity: Day,
    /// The reporter's reply key, from the report.
    pub reply_key: Option<RecipientKey>,
    /// The recipients the reporter chose.
    pub recipients: Vec<RecipientAddress>,
    /// The thread.
    pub messages: Vec<StoredMessage>,
    /// The highest sequence number this store gave a message it sent into the case (its
    /// replies count before they come back in a sync).
    #[serde(default)]
    pub sent_sequence: u32,
    /// The thread check after the last filed message: where each author's numbering stands.
    pub check: ThreadCheck,
    /// Messages that could not be filed, with why.
    #[serde(default)]
    pub quarantined: Vec<QuarantinedMessage>,
    /// The team's case records (status, assignee, labels, notes), opened and verified.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub records: Vec<StoredRecord>,
    /// What the records fold into ([`Case::refresh_team`]).
    #[serde(default)]
    pub team: TeamState,
    /// The relay's numbers of records listed for this case that were not sealed to this
    /// member (written before their key was in the directory): counted when this member
    /// writes a record, so that it comes after them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unopened_records: Vec<u64>,
    /// The retention date the office set, with why (else the configured default applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionDecision>,
    /// A legal hold: the content is kept whatever the retention date.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_hold: Option<RetentionDecision>,
    /// The day its content was purged at its retention date (the register line stays).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_on: Option<Day>,
    /// The relay's highest message number synced when it was purged: nothing up to it is
    /// filed again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_through: Option<u64>,
    /// The report's answers to the questionnaire's choice and yes/no questions, kept in the
    /// register stub when the content is purged ([`Case::categories`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub purged_categories: BTreeMap<String, String>,
    /// The reporter's last evaluation's choice and yes/no answers, kept for the figures when
    /// the content is purged ([`Case::evaluation`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purged_evaluation: Option<BTreeMap<String, String>>,
}

/// An oral report's record, as the office sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OralRecord {
    /// The recipient whose member recorded it.
    pub by: RecipientAddress,
    /// Telephone or meeting.
    pub channel: meldpunt_crypto::Channel,
    /// Whether the recording verified against the directory when the report was filed.
    pub verified: bool,
    /// Where the reporter's confirmation stands.
    pub standing: RecordStanding,
}

/// Where the reporter's confirmation of a record stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordStanding {
    /// Neither confirmed nor corrected yet.
    Awaiting,
    /// Confirmed on this day (the last word was a confirmation).
    Confirmed(Day),
    /// Corrected on this day (the last word was a correction: the record needs amending).
    Corrected(Day),
}

impl RecordStanding {
    /// In words, for the CLI and JSON.
    pub fn describe(self) -> String {
        match self {
            RecordStanding::Awaiting => "awaiting the reporter's confirmation".into(),
            RecordStanding::Confirmed(day) => {
                format!("confirmed with the reporter's receipt code on {day}")
            }
            RecordStanding::Corrected(day) => {
                format!("corrected with the reporter's receipt code on {day}")
            }
        }
    }
}

/// The answers to the choice, multiple-choice and yes/no questions of `questions`, each only
/// as the questionnaire would have given it: a hostile client's free text in a choice
/// question never becomes a category.
fn categorical(
    answers: &meldpunt_crypto::Answers,
    questions: &[meldpunt_crypto::Question],
) -> BTreeMap<String, String> {
    answers
        .iter()
        .filter(|(question, answer)| {
            questions.iter().any(|known| {
                known.id == *question
                    && matches!(
                        known.kind,
                        meldpunt_crypto::QuestionKind::Choice
                            | meldpunt_crypto::QuestionKind::MultipleChoice
                            | meldpunt_crypto::QuestionKind::YesNo
                    )
                    && known.check_answer(answer).ok().flatten().as_deref() == Some(*answer)
            })
        })
        .map(|(question, answer)| (question.to_owned(), answer.to_owned()))
        .collect()
}

/// A decision on how long a case's content is kept: a retention date changed, or a legal
/// hold, with the office's reason and the day it was taken (kept in the encrypted store).
#[derive(Clone, Serialize, Deserialize)]
pub struct RetentionDecision {
    /// The new retention date (none for a legal hold).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<Day>,
    /// Why.
    pub reason: Zeroizing<String>,
    /// When it was decided.
    pub decided_on: Day,
}

impl std::fmt::Debug for RetentionDecision {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RetentionDecision")
            .field("until", &self.until)
            .field("decided_on", &self.decided_on)
            .finish_non_exhaustive()
    }
}

/// A case record as the relay served it, opened (its encoding: signature line and JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredRecord {
    /// The recipient's record number on the relay.
    pub number: u64,
    /// The record's encoding ([`SignedCaseRecord::encode`]).
    pub encoded: String,
}

impl StoredRecord {
    /// The signed record (its signature checked again).
    pub fn record(&self) -> Result<SignedCaseRecord> {
        Ok(SignedCaseRecord::decode(self.encoded.as_bytes())?)
    }
}

/// A case's shared state as the team's records give it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamState {
    /// The status a member recorded last, and the day it was written.
    pub status: Option<(CaseStatus, Day)>,
    /// The day a member last recorded it closed (kept when aftercare follows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_on: Option<Day>,
    /// Who the case is assigned to.
    pub assignee: Option<OfficeKey>,
    /// Its labels.
    pub labels: Vec<String>,
    /// How many internal notes it has.
    pub notes: usize,
    /// Records that do not count (refused, conflicting) or wait for earlier ones.
    pub not_counted: usize,
    /// Records of colleagues missing before their last one.
    pub missing: u32,
}
impl Case {
    /// A new case for `mailbox`, first seen on `day`. It is *partial* when its first message
    /// this identity can open is not the mailbox's first (the report was sealed before this
    /// identity's key was in the directory).
    pub fn new(
        id: String,
        mailbox: meldpunt_crypto::MailboxId,
        day: Day,
        partial: bool,
        signers: Vec<(RecipientAddress, OfficeKey)>,
        roles: &Roles,
    ) -> Case {
        let mut check = if partial {
            ThreadCheck::partial(mailbox, signers)
        } else {
            ThreadCheck::new(mailbox, signers)
        };
        check.set_process_guides(roles.process_guides.clone());
        check.set_advisers(roles.advisers.clone());
        Case {
            id,
            mailbox: mailbox.to_wire(),
            received_on: day,
            status: CaseStatus::New,
            acknowledged_on: None,
            feedback_on: None,
            closed_on: None,
            last_activity: day,
            reply_key: None,
            recipients: Vec::new(),
            messages: Vec::new(),
            sent_sequence: 0,
            check,
            quarantined: Vec::new(),
            records: Vec::new(),
            team: TeamState::default(),
            unopened_records: Vec::new(),
            retention: None,
            legal_hold: None,
            purged_on: None,
            purged_through: None,
            purged_categories: BTreeMap::new(),
            purged_evaluation: None,
        }
    }

    /// For an oral report the office recorded: who recorded it and how, and where the
    /// reporter's confirmation stands (their last confirmation or correction counts).
    pub fn record(&self) -> Option<OralRecord> {
        let mut messages = self
            .messages
            .iter()
            .filter(|stored| !stored.unverified)
            .filter_map(|stored| stored.message().ok());
        let report = messages
            .find(|message| matches!(message.kind, meldpunt_crypto::MessageKind::Report { .. }))?;
        let recording = report.recording?;
        let mut standing = RecordStanding::Awaiting;
        // The day the relay stored it, not the day the writer claims.
        for stored in self.messages.iter().filter(|stored| !stored.unverified) {
            let Ok(message) = stored.message() else {
                continue;
            };
            let day = stored.stored_on.parse().unwrap_or(message.written_on);
            match message.purpose {
                meldpunt_crypto::Purpose::Confirmation => standing = RecordStanding::Confirmed(day),
                meldpunt_crypto::Purpose::Correction => standing = RecordStanding::Corrected(day),
                _ => {}
            }
        }
        Some(OralRecord {
            by: recording.by,
            channel: recording.channel,
            verified: self.check.recording_verified() == Some(true),
            standing,
        })
    }

    /// The reporter's last evaluation of the process, if they gave one: its answers to the
    /// choice and yes/no questions of `questions` (the evaluation questions). After a purge,
    /// what was kept then.
    pub fn evaluation(
        &self,
        questions: &[meldpunt_crypto::Question],
    ) -> Option<BTreeMap<String, String>> {
        if self.purged_on.is_some() {
            return self.purged_evaluation.clone();
        }
        // Only after the office closed the case: an "evaluation" a modified client sent
        // before is not counted.
        let closed = self.messages.iter().any(|stored| {
            stored
                .message()
                .is_ok_and(|message| message.purpose == meldpunt_crypto::Purpose::Closing)
        });
        if !closed {
            return None;
        }
        self.messages
            .iter()
            .rev()
            .filter(|stored| !stored.unverified)
            .filter_map(|stored| stored.message().ok())
            .find(|message| {
                matches!(message.kind, meldpunt_crypto::MessageKind::FollowUp { .. })
                    && message.purpose == meldpunt_crypto::Purpose::Evaluation
            })
            .map(|message| categorical(&message.answers, questions))
    }
    /// The report's answers to the choice, multiple-choice and yes/no questions of
    /// `questions` (categories, never free text or dates): what the register and the figures
    /// show of a structured report. After a purge, what was kept then.
    pub fn categories(&self, questions: &[meldpunt_crypto::Question]) -> BTreeMap<String, String> {
        if self.purged_on.is_some() {
            return self.purged_categories.clone();
        }
        self.messages
            .iter()
            .filter_map(|stored| stored.message().ok())
            .find(|message| matches!(message.kind, meldpunt_crypto::MessageKind::Report { .. }))
            .map(|report| categorical(&report.answers, questions))
            .unwrap_or_default()
    }

    /// The day its content may be purged: the date the office set, else `months` after
    /// closing; none while it is open.
    pub fn retention_until(&self, months: u32) -> Option<Day> {
        let closed = self.closed_day()?;
        Some(
            self.retention
                .as_ref()
                .and_then(|decision| decision.until)
                .unwrap_or_else(|| closed.plus_months(i32::try_from(months).unwrap_or(i32::MAX))),
        )
    }

    /// Whether its content is due to be purged on `today`: its retention date has come, no
    /// legal hold keeps it, and it was not purged yet.
    pub fn purge_due(&self, months: u32, today: Day) -> bool {
        self.purged_on.is_none()
            && self.legal_hold.is_none()
            && self
                .retention_until(months)
                .is_some_and(|until| until <= today)
    }

    /// The day the relay deletes its mailbox for lack of activity, when the case is still
    /// being worked on (not closed) and the relay said its retention.
    pub fn relay_deletion(&self, relay_retention_days: Option<u32>) -> Option<Day> {
        let days = relay_retention_days?;
        (self.current_status() != CaseStatus::Closed && self.purged_on.is_none())
            .then(|| self.last_activity.plus_days(i64::from(days)))
    }

    /// The status shown: the team's last recorded one, else what the thread gives.
    pub fn current_status(&self) -> CaseStatus {
        self.team.status.map_or(self.status, |(status, _)| status)
    }

    /// The day the case was closed, when it is (closed, or in aftercare after closing: then
    /// the day it was closed, not the day aftercare began).
    pub fn closed_day(&self) -> Option<Day> {
        match self.team.status {
            Some((CaseStatus::Closed, day)) => Some(day),
            Some((CaseStatus::Aftercare, day)) => Some(self.team.closed_on.unwrap_or(day)),
            Some(_) => None,
            None => self.closed_on,
        }
    }

    /// The team's records folded into one board, with the office keys the directory lists
    /// (`signers`). A member who could not open the report (a partial case) does not know
    /// whom the case is addressed to, and takes records from their own recipient (`own`)
    /// only.
    pub fn board(
        &self,
        signers: &[(RecipientAddress, OfficeKey)],
        own: Option<&RecipientAddress>,
    ) -> CaseBoard {
        let own_only: Vec<RecipientAddress> = own.into_iter().cloned().collect();
        CaseBoard::fold(
            &self.check.mailbox(),
            Some(self.check.addressed().unwrap_or(&own_only)),
            signers,
            self.records
                .iter()
                .filter_map(|stored| stored.record().ok()),
        )
    }

    /// Folds the team's records again into [`Case::team`]. A purged case keeps the state
    /// it had (its records are gone with its content; the register line needs the rest).
    pub fn refresh_team(
        &mut self,
        signers: &[(RecipientAddress, OfficeKey)],
        own: Option<&RecipientAddress>,
    ) {
        if self.purged_on.is_some() {
            return;
        }
        let board = self.board(signers, own);
        let status_day = board
            .admitted()
            .filter(|record| matches!(record.record().change, CaseChange::Status(_)))
            .last()
            .map(|record| record.record().written_on);
        let closed_on = board
            .admitted()
            .filter(|record| {
                matches!(
                    record.record().change,
                    CaseChange::Status(CaseStatus::Closed)
                )
            })
            .last()
            .map(|record| record.record().written_on);
        self.team = TeamState {
            status: board.status.zip(status_day),
            closed_on,
            assignee: board.assignee,
            labels: board.labels.iter().cloned().collect(),
            notes: board
                .admitted()
                .filter(|record| matches!(record.record().change, CaseChange::Note(_)))
                .count(),
            not_counted: board
                .entries
                .iter()
                .filter(|entry| entry.standing != Standing::Admitted)
                .count(),
            missing: board.missing.values().sum(),
        };
    }

    /// Whether the beginning of the thread was not sealed to this identity.
    pub fn is_partial(&self) -> bool {
        self.check.is_partial()
    }

    /// Whether the conversation is a consultation with confidential advisers (not a report:
    /// no deadlines, listed apart).
    pub fn is_consultation(&self) -> bool {
        self.check.conversation() == meldpunt_crypto::Conversation::Consultation
    }

    /// Whether a report was filed (a case holding only quarantined messages has none).
    pub fn has_report(&self) -> bool {
        self.reply_key.is_some()
    }

    /// Acknowledgement is due 7 days after receipt.
    pub fn acknowledgement_due(&self) -> Day {
        self.received_on.plus_days(7)
    }

    /// Feedback is due 3 months after the acknowledgement (or after the 7 days for it).
    pub fn feedback_due(&self) -> Day {
        self.acknowledged_on
            .unwrap_or_else(|| self.acknowledgement_due())
            .plus_months(3)
    }

    /// The legal deadlines still open, with their day: none once the case is closed, and
    /// none for a consultation (it is not a report).
    pub fn open_deadlines(&self) -> Vec<(Deadline, Day)> {
        let mut open = Vec::new();
        if self.current_status().is_closed()
            || self.is_consultation()
            || !(self.has_report() || self.is_partial())
        {
            return open;
        }
        if self.acknowledged_on.is_none() {
            open.push((Deadline::Acknowledgement, self.acknowledgement_due()));
        }
        if self.feedback_on.is_none() {
            open.push((Deadline::Feedback, self.feedback_due()));
        }
        open
    }

    /// The aftercare check-in of a closed case (a report, not a consultation): due
    /// `months` after closing, done by the first reply the office sent after the day it
    /// closed. `None` while the case is open.
    pub fn aftercare(&self, months: u32) -> Option<(Day, Option<Day>)> {
        let closed = self.closed_day()?;
        if self.is_consultation() || self.purged_on.is_some() {
            return None;
        }
        // A reply counts from the day after closing, or from the day aftercare began if that
        // came later (the office sets it, then writes, the same day).
        let aftercare_began = match self.team.status {
            Some((CaseStatus::Aftercare, day)) if day > closed => Some(day),
            _ => None,
        };
        let done = self
            .messages
            .iter()
            .filter(|stored| stored.author == "office")
            .filter_map(|stored| stored.message().ok())
            .filter(|message| matches!(message.kind, meldpunt_crypto::MessageKind::Reply { .. }))
            .map(|message| message.written_on)
            .filter(|written| {
                *written > closed || aftercare_began.is_some_and(|began| *written >= began)
            })
            .min();
        Some((
            closed.plus_months(i32::try_from(months).unwrap_or(i32::MAX)),
            done,
        ))
    }

    /// What is overdue on `today`.
    pub fn overdue(&self, today: Day) -> Vec<&'static str> {
        self.open_deadlines()
            .into_iter()
            .filter(|(_, due)| today > *due)
            .map(|(deadline, _)| deadline.as_str())
            .collect()
    }

    /// Where to fetch the attachment `reference` from: the copy a colleague sealed to this
    /// member when they handed its message over, else where the message says. Size and
    /// digest stay the original's, so a copy is checked against what the author sealed.
    pub fn fetch_reference(&self, reference: &AttachmentReference) -> AttachmentReference {
        let copy = self
            .messages
            .iter()
            .find_map(|stored| stored.attachment_copies.get(&reference.location));
        AttachmentReference {
            location: copy.cloned().unwrap_or_else(|| reference.location.clone()),
            ..reference.clone()
        }
    }

    /// All attachment references in the thread, with the author of their message.
    pub fn attachments(&self) -> Vec<(String, AttachmentReference)> {
        self.messages
            .iter()
            .filter_map(|stored| {
                stored
                    .message()
                    .ok()
                    .map(|message| (stored.author.clone(), message))
            })
            .flat_map(|(author, message)| {
                message
                    .attachments
                    .into_iter()
                    .map(move |reference| (author.clone(), reference))
            })
            .collect()
    }
}

/// Who holds which role in the organisation, as the signed directory listed it at the last
/// sync: what a case's thread check needs besides the office keys.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Roles {
    /// The recipients of role `process-guide` (only they can be appointed to a case).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub process_guides: Vec<RecipientAddress>,
    /// The confidential advisers (a consultation addressed to anyone else is a report).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advisers: Vec<RecipientAddress>,
}

/// What the store holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct State {
    /// The relay last synced with.
    pub relay: Option<String>,
    /// The organisation and recipient this office is.
    pub organisation: Option<String>,
    /// The recipient id.
    pub recipient: Option<String>,
    /// The highest message number seen.
    pub cursor: u64,
    /// The highest hand-over number dealt with.
    #[serde(default)]
    pub hand_over_cursor: u64,
    /// Hand-overs refused, with why.
    #[serde(default)]
    pub refused_hand_overs: Vec<crate::hand_over::RefusedHandOver>,
    /// The office keys the signed directory listed for this organisation at the last sync
    /// (case records are folded against them when the relay is not asked).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub office_signers: Vec<(RecipientAddress, OfficeKey)>,
    /// Days after a mailbox's last activity at which the relay deletes it, as it said at the
    /// last login (a case still open is warned about before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relay_retention_days: Option<u32>,
    /// Months after closing a case's content is kept by default (`retention_months` in
    /// config.json; 60 by default).
    #[serde(default = "default_retention_months")]
    pub retention_months: u32,
    /// Months after closing at which the office checks in with the reporter (aftercare),
    /// as configured (`aftercare_months` in config.json; 3 by default).
    #[serde(default = "default_aftercare_months")]
    pub aftercare_months: u32,
    /// The roles the directory listed for this organisation at the last sync.
    #[serde(default, flatten)]
    pub roles: Roles,
    /// The organisation's questionnaire as the directory listed it at the last sync (what
    /// a structured report's answers are shown against).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<meldpunt_crypto::Question>,
    /// The organisation's evaluation questions as the directory listed them at the last
    /// sync (what an evaluation's answers are shown against).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluation_questions: Vec<meldpunt_crypto::Question>,
    /// Messages listed to this member that were not sealed to them (mailbox id and position
    /// → this recipient's number): a process guide finds there the number of a message an
    /// office member hands over to them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sealed_elsewhere: BTreeMap<String, u64>,
    /// The highest case record number dealt with.
    #[serde(default)]
    pub record_cursor: u64,
    /// Case records for cases this store does not hold yet (filed when the case arrives).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unfiled_records: Vec<(String, StoredRecord)>,
    /// Case records that could not be opened or read, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused_records: Vec<(u64, String)>,
    /// Cases by id.
    pub cases: BTreeMap<String, Case>,
}

/// Aftercare check-ins fall this many months after closing unless configured otherwise.
pub const DEFAULT_AFTERCARE_MONTHS: u32 = 3;

fn default_aftercare_months() -> u32 {
    DEFAULT_AFTERCARE_MONTHS
}

/// A closed case's content is kept this many months unless configured or decided otherwise.
pub const DEFAULT_RETENTION_MONTHS: u32 = 60;

fn default_retention_months() -> u32 {
    DEFAULT_RETENTION_MONTHS
}

impl Default for State {
    fn default() -> State {
        State {
            relay: None,
            relay_retention_days: None,
            organisation: None,
            recipient: None,
            cursor: 0,
            hand_over_cursor: 0,
            refused_hand_overs: Vec::new(),
            office_signers: Vec::new(),
            aftercare_months: DEFAULT_AFTERCARE_MONTHS,
            retention_months: DEFAULT_RETENTION_MONTHS,
            roles: Roles::default(),
            questions: Vec::new(),
            evaluation_questions: Vec::new(),
            sealed_elsewhere: BTreeMap::new(),
            record_cursor: 0,
            unfiled_records: Vec::new(),
            refused_records: Vec::new(),
            cases: BTreeMap::new(),
        }
    }
}

impl State {
    /// The questions a message's answers are to: a report's, the questionnaire; an
    /// evaluation's, the evaluation questions.
    pub fn questions_for(&self, message: &Message) -> &[meldpunt_crypto::Question] {
        match (&message.kind, message.purpose) {
            (meldpunt_crypto::MessageKind::Report { .. }, _) => &self.questions,
            (
                meldpunt_crypto::MessageKind::FollowUp { .. },
                meldpunt_crypto::Purpose::Evaluation,
            ) => &self.evaluation_questions,
            _ => &[],
        }
    }

    /// The recipient this store's cases belong to, once a session named it.
    pub fn address(&self) -> Option<RecipientAddress> {
        Some(RecipientAddress {
            organisation: self.organisation.clone()?,
            recipient: self.recipient.clone()?,
        })
    }
}

/// Counts the bytes written to it (to size a buffer before writing into it).
struct LengthCounter(usize);

impl std::io::Write for LengthCounter {
    fn write(&mut self, buffer: &[u8]) -> std::io::Result<usize> {
        self.0 += buffer.len();
        Ok(buffer.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// An open store, locked for this process until dropped.
pub struct Store {
    folder: PathBuf,
    key: StoreKey,
    /// Its contents.
    pub state: State,
    _lock: FileLock,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "Store({})", self.folder.display())
    }
}

impl Store {
    /// Opens the store in `folder`, creating it (sealed to `identities[0]`) if it is new.
    pub fn open(folder: &Path, identities: &[IdentityKey]) -> Result<Store> {
        let lock_path = folder.join("lock");
        let lock =
            FileLock::acquire(&lock_path).map_err(|error| CliError::file(&lock_path, error))?;
        let key_path = folder.join("key.age");
        let key = if key_path.exists() {
            let sealed =
                std::fs::read(&key_path).map_err(|error| CliError::file(&key_path, error))?;
            StoreKey::open(identities, &sealed).map_err(|error| match error {
                meldpunt_crypto::Error::NotForThisIdentity => CliError::Usage(format!(
                    "the store {} belongs to another identity; use --store to choose another folder",
                    folder.display()
                )),
                other => CliError::from(other),
            })?
        } else {
            let key = StoreKey::generate();
            let sealed = key.seal_to(&identities[0].recipient())?;
            write_private(&key_path, sealed.as_bytes())
                .map_err(|error| CliError::file(&key_path, error))?;
            key
        };
        let cases_path = folder.join("cases.sealed");
        let state = match std::fs::read(&cases_path) {
            Ok(bytes) if bytes.len() > 24 => {
                let plaintext = key.decrypt(&bytes).map_err(|_| {
                    CliError::Verification(format!(
                        "{} is damaged or was altered",
                        cases_path.display()
                    ))
                })?;
                serde_json::from_slice(&plaintext).map_err(|_| {
                    CliError::Local(format!(
                        "{} is not a store this version reads",
                        cases_path.display()
                    ))
                })?
            }
            Ok(_) => {
                return Err(CliError::Local(format!(
                    "{} is truncated",
                    cases_path.display()
                )))
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => State::default(),
            Err(error) => return Err(CliError::file(&cases_path, error)),
        };
        Ok(Store {
            folder: folder.to_owned(),
            key,
            state,
            _lock: lock,
        })
    }

    /// What changes whenever a command saves the store in `folder`: the random nonce it
    /// was last encrypted under (`None` before the first save).
    pub fn version(folder: &Path) -> Option<[u8; 24]> {
        use std::io::Read as _;
        let mut nonce = [0u8; 24];
        std::fs::File::open(folder.join("cases.sealed"))
            .and_then(|mut file| file.read_exact(&mut nonce))
            .ok()?;
        Some(nonce)
    }

    /// Writes the state back, encrypted.
    pub fn save(&self) -> Result<()> {
        // Measured first, then written into a buffer of exactly that size: a growing buffer
        // would leave copies of every report behind in freed memory, unwiped.
        let mut counter = LengthCounter(0);
        serde_json::to_writer(&mut counter, &self.state).expect("serialisable");
        let mut plaintext = Zeroizing::new(Vec::with_capacity(counter.0));
        serde_json::to_writer(&mut *plaintext, &self.state).expect("serialisable");
        let bytes = self.key.encrypt(&plaintext)?;
        let path = self.folder.join("cases.sealed");
        write_private(&path, &bytes).map_err(|error| CliError::file(&path, error))?;
        // Days and counts only, for a reminder that cannot ask for the passphrase.
        DeadlineSummary::of(&self.state, crate::clock::today()).save(&self.folder)
    }

    /// Keeps a sealed original as served.
    pub fn keep_original(&self, number: u64, sealed: &[u8]) -> Result<()> {
        let path = self.original_path(number);
        write_private(&path, sealed).map_err(|error| CliError::file(&path, error))
    }

    /// Keeps a sealed hand-over as served.
    pub fn keep_hand_over(&self, number: u64, sealed: &[u8]) -> Result<()> {
        let path = self.hand_over_path(number);
        write_private(&path, sealed).map_err(|error| CliError::file(&path, error))
    }

    /// Purges the content of case `id` — its messages, their sealed originals, quarantined
    /// ones, the team's records — keeping what its register line needs (dates, status,
    /// labels, deadlines). Refused under a legal hold or before its retention date.
    pub fn purge(&mut self, id: &str, today: Day) -> Result<String> {
        let months = self.state.retention_months;
        let cursor = self.state.cursor;
        let questions = self.state.questions.clone();
        let evaluation_questions = self.state.evaluation_questions.clone();
        let case = self.case_mut(id)?;
        if let Some(hold) = &case.legal_hold {
            return Err(CliError::Usage(format!(
                "case {} is under a legal hold since {}; release it first (meldpunt inbox hold {} --release)",
                case.id, hold.decided_on, case.id
            )));
        }
        if case.purged_on.is_some() {
            return Err(CliError::Usage(format!(
                "case {} was purged already",
                case.id
            )));
        }
        match case.retention_until(months) {
            None => {
                return Err(CliError::Usage(format!(
                    "case {} is open: its content is kept until a retention date after closing",
                    case.id
                )))
            }
            Some(until) if until > today => {
                return Err(CliError::Usage(format!(
                    "case {} is kept until {until}; it cannot be purged before (change the date with meldpunt inbox retention)",
                    case.id
                )))
            }
            Some(_) => {}
        }
        let numbers: Vec<u64> = case
            .messages
            .iter()
            .map(|stored| stored.number)
            .chain(case.quarantined.iter().map(|message| message.number))
            .collect();
        let hand_overs: Vec<u64> = case
            .messages
            .iter()
            .filter_map(|stored| stored.hand_over)
            .collect();
        case.purged_categories = case.categories(&questions);
        case.purged_evaluation = case.evaluation(&evaluation_questions);
        case.messages.clear();
        case.quarantined.clear();
        case.records.clear();
        case.unopened_records.clear();
        case.team.notes = 0;
        case.purged_on = Some(today);
        case.purged_through = Some(cursor);
        let id = case.id.clone();
        let paths: Vec<PathBuf> = numbers
            .into_iter()
            .map(|number| self.original_path(number))
            .chain(
                hand_overs
                    .into_iter()
                    .map(|number| self.hand_over_path(number)),
            )
            .collect();
        self.save()?;
        for path in paths {
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(CliError::file(&path, error)),
            }
        }
        Ok(id)
    }

    /// Where a sealed hand-over is kept.
    pub fn hand_over_path(&self, number: u64) -> PathBuf {
        self.folder
            .join("originals")
            .join(format!("hand-over-{number:08}.age"))
    }

    /// Where a sealed original is kept.
    pub fn original_path(&self, number: u64) -> PathBuf {
        self.folder
            .join("originals")
            .join(format!("{number:08}.age"))
    }

    /// The case with this id (or a unique prefix of it).
    pub fn case_mut(&mut self, id: &str) -> Result<&mut Case> {
        let matches: Vec<String> = self
            .state
            .cases
            .keys()
            .filter(|key| key.starts_with(id))
            .cloned()
            .collect();
        match matches.as_slice() {
            [one] => Ok(self.state.cases.get_mut(one).expect("present")),
            [] => Err(CliError::Usage(format!(
                "no case {id} in this store; run meldpunt inbox list"
            ))),
            _ => Err(CliError::Usage(format!(
                "{id} matches several cases; type more of the id"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_store_holds_no_plaintext_and_opens_only_with_its_identity() {
        let folder = tempfile::tempdir().unwrap();
        let identity = IdentityKey::generate();
        let mut store = Store::open(folder.path(), std::slice::from_ref(&identity)).unwrap();
        store.state.organisation = Some("GEHEIME-ORGANISATIE-MARKER".into());
        store.save().unwrap();
        drop(store);
        for entry in std::fs::read_dir(folder.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(10).any(|window| window == b"GEHEIME-OR"));
        }
        let reopened = Store::open(folder.path(), std::slice::from_ref(&identity)).unwrap();
        assert_eq!(
            reopened.state.organisation.as_deref(),
            Some("GEHEIME-ORGANISATIE-MARKER")
        );
        drop(reopened);
        assert!(matches!(
            Store::open(folder.path(), &[IdentityKey::generate()]),
            Err(CliError::Usage(_))
        ));
    }
}
