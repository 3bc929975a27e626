//! Case records: the state an integrity office shares about a case — its status, who is
//! assigned to it, its labels and the team's internal notes — written by its members and
//! read by every one of them, never by the reporter.
//!
//! Each change is one [`CaseRecord`], signed with its writer's office key and sealed to the
//! keys of the recipients the case is addressed to (the relay keeps records apart from the
//! mailbox and never lists them to the reporter's token). A member's client folds every
//! record it holds into one [`CaseBoard`]. The fold is a function of the *set* of records,
//! not of the order they arrived in, so every member converges on the same state whatever
//! order they sync in:
//!
//! - records are ordered by their Lamport clock (one more than the highest clock its writer
//!   had seen in the case), then by the signer's office key (bytes), then by the signer's
//!   sequence number: the *record order*;
//! - status and assignee are last-writer-wins registers in record order; each label is one
//!   too (the last add or remove of that label wins); notes are kept, all of them, in
//!   record order; the history lists every record in record order.
//!
//! So when two members change the same field at once (the same clock), the one whose office
//! key sorts higher wins, on every workstation. That is arbitrary but deterministic, and the
//! history shows both changes.
//!
//! What a reader refuses, and says so: a record for another mailbox (a relay replaying one
//! case's record into another), one whose signer the signed directory does not list for the
//! recipient it names, one from a recipient the case is not addressed to, and both of two
//! different records under one signer's sequence number (a colleague saying two things at
//! once: neither counts). A record whose clock is ahead of what the reader holds (its clock
//! is more than [`CLOCK_SLACK`] + 1 above the number of this case's records before it in
//! record order, of any standing) waits: an honest writer's clock never runs ahead of the records it held,
//! so a colleague cannot jump the clock out of reach with a huge one, and a record whose
//! predecessors were withheld waits for them. A new record's clock is one more than every
//! record of the case its writer holds ([`CaseBoard::next_clock`]), so it comes after all
//! of them: a record that stops counting (its signer retired from the directory, say) never
//! holds later ones back, and a later change never loses to an earlier one. Each signer numbers its
//! records 1, 2, 3…, so records withheld from the middle are counted as missing; records
//! withheld from the end cannot be seen (nothing follows them yet).
//!
//! The encoding is the base64url signature (86 characters), a newline, and the record as
//! compact JSON. The signature covers [`CASE_RECORD_SIGNATURE_CONTEXT`] and exactly those
//! JSON bytes, so nothing is re-encoded to verify it.
//!
//! This module does no I/O and never shows a note's text in `Debug` or an error.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use ed25519_dalek::{Signature, Signer};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::message::describe_json_error;
use crate::seal::open_content;
use crate::{
    seal, Day, Error, IdentityKey, MailboxId, MessageSignature, OfficeKey, OfficeSigningKey,
    RecipientAddress, RecipientKey, SealedObject,
};

/// Version marker of the case record format.
pub const CASE_RECORD_FORMAT_VERSION: u64 = 1;
/// Prefix of the bytes a case record's signature covers.
pub const CASE_RECORD_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/case-record\n";
/// Longest encoded case record.
pub const MAXIMUM_CASE_RECORD_LENGTH: u64 = 24 * 1024;
/// Longest internal note, in bytes of UTF-8.
pub const MAXIMUM_NOTE_LENGTH: usize = 16 * 1024;
/// How far a record's clock may run ahead of the records before it (in record order) and
/// still count: a writer who could not open some of the case's records (a newcomer) counts
/// them without knowing their clocks. A record further ahead waits.
pub const CLOCK_SLACK: u64 = 64;
/// Longest label, in characters.
pub const MAXIMUM_LABEL_LENGTH: usize = 40;

/// Where a case stands, as the office team records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseStatus {
    /// Received, not yet acknowledged.
    New,
    /// Receipt acknowledged.
    Acknowledged,
    /// Being investigated.
    InInvestigation,
    /// Feedback given to the reporter.
    FeedbackGiven,
    /// Closed.
    Closed,
    /// Closed, and in aftercare (the reporter is looked after).
    Aftercare,
}

impl CaseStatus {
    /// Every status, in the order of the process.
    pub const ALL: [CaseStatus; 6] = [
        CaseStatus::New,
        CaseStatus::Acknowledged,
        CaseStatus::InInvestigation,
        CaseStatus::FeedbackGiven,
        CaseStatus::Closed,
        CaseStatus::Aftercare,
    ];

    /// The wire name, e.g. `in-investigation`.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::New => "new",
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::InInvestigation => "in-investigation",
            CaseStatus::FeedbackGiven => "feedback-given",
            CaseStatus::Closed => "closed",
            CaseStatus::Aftercare => "aftercare",
        }
    }

    /// Whether the legal deadlines no longer run (closed or in aftercare).
    pub fn is_closed(self) -> bool {
        matches!(self, CaseStatus::Closed | CaseStatus::Aftercare)
    }
}

impl std::str::FromStr for CaseStatus {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        CaseStatus::ALL
            .into_iter()
            .find(|status| status.as_str() == text)
            .ok_or(Error::MalformedValue {
                what: "case status",
                expected:
                    "new, acknowledged, in-investigation, feedback-given, closed or aftercare",
            })
    }
}

/// What one record changes.
#[derive(Clone, PartialEq, Eq)]
pub enum CaseChange {
    /// Sets the status.
    Status(CaseStatus),
    /// Assigns the case to the member with this office key, or to nobody.
    Assignee(Option<OfficeKey>),
    /// Adds a label.
    AddLabel(String),
    /// Removes a label.
    RemoveLabel(String),
    /// An internal note. Zeroized on drop.
    Note(Zeroizing<String>),
}

impl fmt::Debug for CaseChange {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseChange::Status(status) => write!(formatter, "Status({})", status.as_str()),
            CaseChange::Assignee(assignee) => write!(formatter, "Assignee({assignee:?})"),
            CaseChange::AddLabel(label) => write!(formatter, "AddLabel({label:?})"),
            CaseChange::RemoveLabel(label) => write!(formatter, "RemoveLabel({label:?})"),
            CaseChange::Note(text) => write!(formatter, "Note([redacted, {} bytes])", text.len()),
        }
    }
}

impl CaseChange {
    /// Checks what the change carries: a label 1 to [`MAXIMUM_LABEL_LENGTH`] characters
    /// without control characters or spaces at either end, a note 1 to
    /// [`MAXIMUM_NOTE_LENGTH`] bytes.
    pub fn check(&self) -> Result<(), Error> {
        match self {
            CaseChange::AddLabel(label) | CaseChange::RemoveLabel(label) => check_label(label),
            CaseChange::Note(text) if text.is_empty() || text.len() > MAXIMUM_NOTE_LENGTH => Err(
                malformed(format!("a note is 1 to {MAXIMUM_NOTE_LENGTH} bytes")),
            ),
            _ => Ok(()),
        }
    }

    /// The wire name of the change: `status`, `assignee`, `add-label`, `remove-label` or
    /// `note`.
    pub fn as_str(&self) -> &'static str {
        match self {
            CaseChange::Status(_) => "status",
            CaseChange::Assignee(_) => "assignee",
            CaseChange::AddLabel(_) => "add-label",
            CaseChange::RemoveLabel(_) => "remove-label",
            CaseChange::Note(_) => "note",
        }
    }
}

/// One change to a case's shared state, before it is signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    /// The case's mailbox.
    pub mailbox: MailboxId,
    /// The recipient the writer acts for.
    pub from: RecipientAddress,
    /// The writer's own numbering of their records in this case, from 1.
    pub sequence: u32,
    /// One more than the highest clock the writer had seen in this case
    /// ([`CaseBoard::next_clock`]).
    pub clock: u64,
    /// The day it was written.
    pub written_on: Day,
    /// What it changes.
    pub change: CaseChange,
}

/// A case record with its writer's signature: built by [`CaseRecord::sign`] or decoded
/// (the signature is checked against the signer it names; whether that signer may write
/// into the case is the [`CaseBoard`]'s question).
#[derive(Clone, PartialEq, Eq)]
pub struct SignedCaseRecord {
    record: CaseRecord,
    signer: OfficeKey,
    encoded_record: Zeroizing<Vec<u8>>,
    signature: MessageSignature,
}

impl fmt::Debug for SignedCaseRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SignedCaseRecord")
            .field("record", &self.record)
            .field("signer", &self.signer)
            .finish()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum WireChange {
    Status,
    Assignee,
    AddLabel,
    RemoveLabel,
    Note,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireRecord {
    #[serde(rename = "meldpunt-case-record")]
    version: u64,
    mailbox: String,
    from: RecipientAddress,
    signer: OfficeKey,
    sequence: u32,
    clock: u64,
    written_on: Day,
    change: WireChange,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<CaseStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    assignee: Option<OfficeKey>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    text: Option<Zeroizing<String>>,
}

fn malformed(reason: impl Into<String>) -> Error {
    Error::MalformedMessage(format!("case record: {}", reason.into()))
}

/// Labels: 1 to [`MAXIMUM_LABEL_LENGTH`] characters, no control characters, no space at
/// either end.
fn check_label(label: &str) -> Result<(), Error> {
    let length = label.chars().count();
    if length == 0
        || length > MAXIMUM_LABEL_LENGTH
        || label.chars().any(char::is_control)
        || label.trim() != label
    {
        return Err(malformed(format!(
            "a label is 1 to {MAXIMUM_LABEL_LENGTH} characters, without control characters or spaces at either end"
        )));
    }
    Ok(())
}

impl CaseRecord {
    fn check(&self) -> Result<(), Error> {
        if self.sequence == 0 || self.clock == 0 {
            return Err(malformed("sequence numbers and clocks start at 1"));
        }
        if !crate::message::is_valid_id(&self.from.organisation)
            || !crate::message::is_valid_id(&self.from.recipient)
        {
            return Err(malformed(
                "organisation and recipient ids are 1 to 64 lower-case letters, digits and dashes",
            ));
        }
        self.change.check()
    }

    /// Signs the record with `key`, which it will name as its signer.
    pub fn sign(self, key: &OfficeSigningKey) -> Result<SignedCaseRecord, Error> {
        self.check()?;
        let signer = key.office_key();
        let (change, status, assignee, label, text) = match &self.change {
            CaseChange::Status(status) => (WireChange::Status, Some(*status), None, None, None),
            CaseChange::Assignee(assignee) => (WireChange::Assignee, None, *assignee, None, None),
            CaseChange::AddLabel(label) => {
                (WireChange::AddLabel, None, None, Some(label.clone()), None)
            }
            CaseChange::RemoveLabel(label) => (
                WireChange::RemoveLabel,
                None,
                None,
                Some(label.clone()),
                None,
            ),
            CaseChange::Note(text) => (WireChange::Note, None, None, None, Some(text.clone())),
        };
        let wire = WireRecord {
            version: CASE_RECORD_FORMAT_VERSION,
            mailbox: self.mailbox.to_wire(),
            from: self.from.clone(),
            signer,
            sequence: self.sequence,
            clock: self.clock,
            written_on: self.written_on,
            change,
            status,
            assignee,
            label,
            text,
        };
        let encoded_record = Zeroizing::new(
            serde_json::to_vec(&wire).map_err(|error| malformed(describe_json_error(&error)))?,
        );
        let signature = MessageSignature(
            key.signing_key()
                .sign(&signing_bytes(&encoded_record))
                .to_bytes(),
        );
        Ok(SignedCaseRecord {
            record: self,
            signer,
            encoded_record,
            signature,
        })
    }
}

fn signing_bytes(encoded_record: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(
        CASE_RECORD_SIGNATURE_CONTEXT.len() + encoded_record.len(),
    ));
    bytes.extend_from_slice(CASE_RECORD_SIGNATURE_CONTEXT);
    bytes.extend_from_slice(encoded_record);
    bytes
}

impl SignedCaseRecord {
    /// The record.
    pub fn record(&self) -> &CaseRecord {
        &self.record
    }

    /// The office key it is signed with.
    pub fn signer(&self) -> OfficeKey {
        self.signer
    }

    /// The encoding: signature, newline, the record's JSON. Zeroized on drop.
    pub fn encode(&self) -> Zeroizing<Vec<u8>> {
        let signature = self.signature.to_wire();
        let mut encoded = Zeroizing::new(Vec::with_capacity(
            signature.len() + 1 + self.encoded_record.len(),
        ));
        encoded.extend_from_slice(signature.as_bytes());
        encoded.push(b'\n');
        encoded.extend_from_slice(&self.encoded_record);
        encoded
    }

    /// Decodes a record and checks its signature against the signer it names.
    pub fn decode(encoded: &[u8]) -> Result<SignedCaseRecord, Error> {
        if encoded.len() as u64 > MAXIMUM_CASE_RECORD_LENGTH {
            return Err(Error::TooLarge {
                what: "a case record",
                limit: MAXIMUM_CASE_RECORD_LENGTH,
            });
        }
        let newline = encoded
            .iter()
            .position(|byte| *byte == b'\n')
            .ok_or_else(|| malformed("no signature line"))?;
        let signature = std::str::from_utf8(&encoded[..newline])
            .ok()
            .and_then(|text| MessageSignature::from_wire(text).ok())
            .ok_or_else(|| malformed("the first line is not a signature"))?;
        let encoded_record = Zeroizing::new(encoded[newline + 1..].to_vec());
        let wire: WireRecord = serde_json::from_slice(&encoded_record)
            .map_err(|error| malformed(describe_json_error(&error)))?;
        if wire.version != CASE_RECORD_FORMAT_VERSION {
            return Err(Error::UnsupportedMessageVersion(wire.version));
        }
        wire.signer
            .verifying_key()
            .verify_strict(
                &signing_bytes(&encoded_record),
                &Signature::from_bytes(&signature.0),
            )
            .map_err(|_| Error::ForgedOfficeMessage)?;
        let change = match (wire.change, wire.status, wire.assignee, wire.label, wire.text) {
            (WireChange::Status, Some(status), None, None, None) => CaseChange::Status(status),
            (WireChange::Assignee, None, assignee, None, None) => CaseChange::Assignee(assignee),
            (WireChange::AddLabel, None, None, Some(label), None) => CaseChange::AddLabel(label),
            (WireChange::RemoveLabel, None, None, Some(label), None) => {
                CaseChange::RemoveLabel(label)
            }
            (WireChange::Note, None, None, None, Some(text)) => CaseChange::Note(text),
            _ => {
                return Err(malformed(
                    "fields do not fit the change: status has status, assignee at most assignee, a label change label, a note text",
                ))
            }
        };
        let record = CaseRecord {
            mailbox: MailboxId::from_wire(&wire.mailbox)
                .map_err(|_| malformed("the mailbox is not 43 characters of base64url"))?,
            from: wire.from,
            sequence: wire.sequence,
            clock: wire.clock,
            written_on: wire.written_on,
            change,
        };
        record.check()?;
        Ok(SignedCaseRecord {
            record,
            signer: wire.signer,
            encoded_record,
            signature,
        })
    }

    /// Seals the record to `recipients` (the keys of the case's recipients: never the
    /// reporter's).
    pub fn seal(&self, recipients: &[RecipientKey]) -> Result<SealedObject, Error> {
        seal(recipients, &self.encode())
    }

    /// Opens and decodes a sealed record.
    pub fn open(identities: &[IdentityKey], sealed: &[u8]) -> Result<SignedCaseRecord, Error> {
        SignedCaseRecord::decode(&open_content(
            identities,
            sealed,
            MAXIMUM_CASE_RECORD_LENGTH,
        )?)
    }

    /// The record order's key: clock, signer (bytes), sequence.
    fn order(&self) -> (u64, [u8; 32], u32) {
        (
            self.record.clock,
            *self.signer.as_bytes(),
            self.record.sequence,
        )
    }
}

/// A record the board holds, with what the board made of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BoardEntry {
    /// The record.
    pub record: SignedCaseRecord,
    /// Whether it counts; if not, why.
    pub standing: Standing,
}

/// What a [`CaseBoard`] made of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// It counts.
    Admitted,
    /// Its clock is ahead of the records before it: it waits for them.
    Waiting,
    /// Refused: for another mailbox, by a signer the directory does not list for the
    /// recipient it names, or from a recipient the case is not addressed to.
    Refused(&'static str),
    /// Its signer wrote another record under the same sequence number: neither counts.
    Conflicting,
}

/// A case's shared state, folded from every record a member holds.
#[derive(Debug, Clone, Default)]
pub struct CaseBoard {
    /// Every distinct record, in record order, with what the board made of it.
    pub entries: Vec<BoardEntry>,
    /// The status the last record of status set (`None`: nobody set one).
    pub status: Option<CaseStatus>,
    /// The member the case is assigned to (`None`: nobody).
    pub assignee: Option<OfficeKey>,
    /// The labels the case has.
    pub labels: BTreeSet<String>,
    /// For each signer, how many of their records are missing before their last one that
    /// counts, waits or conflicts (withheld by the relay, or not sealed to this member).
    pub missing: BTreeMap<OfficeKey, u32>,
    /// How many distinct records of this case the board holds whose clock is in range
    /// (not ahead of the records before them), whatever their standing.
    pub held: u64,
    /// The highest clock among them.
    pub highest_clock: u64,
}

impl CaseBoard {
    /// Folds `records` (in any order, repeats allowed) for the case in `mailbox`, addressed
    /// to `addressed` (`None` when the reader could not open the report), with the office
    /// keys the signed directory lists (`signers`).
    pub fn fold(
        mailbox: &MailboxId,
        addressed: Option<&[RecipientAddress]>,
        signers: &[(RecipientAddress, OfficeKey)],
        records: impl IntoIterator<Item = SignedCaseRecord>,
    ) -> CaseBoard {
        let mut seen = HashSet::new();
        let mut distinct: Vec<SignedCaseRecord> = records
            .into_iter()
            .filter(|record| seen.insert(<[u8; 32]>::from(Sha256::digest(&*record.encode()))))
            .collect();
        // A total order: ties (the same clock, signer and sequence) by the bytes.
        distinct.sort_by(|one, other| {
            one.order()
                .cmp(&other.order())
                .then_with(|| one.encoded_record.cmp(&other.encoded_record))
                .then_with(|| one.signature.0.cmp(&other.signature.0))
        });
        let mut numbers: HashMap<(OfficeKey, u32), u32> = HashMap::new();
        for record in &distinct {
            *numbers
                .entry((record.signer, record.record.sequence))
                .or_default() += 1;
        }
        let mut board = CaseBoard::default();
        let mut held = 0u64;
        let mut highest: BTreeMap<OfficeKey, (u32, u32)> = BTreeMap::new();
        for record in &distinct {
            let inner = &record.record;
            let this_case = inner.mailbox.matches(mailbox);
            // In range: its clock is at most [`CLOCK_SLACK`] more than one above the records of
            // this case in range before it, whatever their standing.
            let in_range =
                this_case && inner.clock <= held.saturating_add(1).saturating_add(CLOCK_SLACK);
            let standing = if !this_case {
                Standing::Refused("written for another case")
            } else if !signers
                .iter()
                .any(|(address, key)| *address == inner.from && *key == record.signer)
            {
                Standing::Refused("signed by a key the directory does not list for its sender")
            } else if addressed.is_some_and(|addressed| !addressed.contains(&inner.from)) {
                Standing::Refused("from a recipient the case is not addressed to")
            } else if numbers[&(record.signer, inner.sequence)] > 1 {
                Standing::Conflicting
            } else if !in_range {
                Standing::Waiting
            } else {
                Standing::Admitted
            };
            if in_range {
                held += 1;
                board.highest_clock = board.highest_clock.max(inner.clock);
            }
            if matches!(
                standing,
                Standing::Admitted | Standing::Waiting | Standing::Conflicting
            ) {
                let (count, last) = highest.entry(record.signer).or_default();
                *count += 1;
                *last = (*last).max(inner.sequence);
            }
            if standing == Standing::Admitted {
                match &inner.change {
                    CaseChange::Status(status) => board.status = Some(*status),
                    CaseChange::Assignee(assignee) => board.assignee = *assignee,
                    CaseChange::AddLabel(label) => {
                        board.labels.insert(label.clone());
                    }
                    CaseChange::RemoveLabel(label) => {
                        board.labels.remove(label);
                    }
                    CaseChange::Note(_) => {}
                }
            }
            board.entries.push(BoardEntry {
                record: record.clone(),
                standing,
            });
        }
        board.held = held;
        board.missing = highest
            .into_iter()
            .filter(|(_, (count, last))| last > count)
            .map(|(signer, (count, last))| (signer, last - count))
            .collect();
        board
    }

    /// The admitted records, in record order.
    pub fn admitted(&self) -> impl Iterator<Item = &SignedCaseRecord> {
        self.entries
            .iter()
            .filter(|entry| entry.standing == Standing::Admitted)
            .map(|entry| &entry.record)
    }

    /// The clock a new record takes: one more than every record of the case this member
    /// holds in range ([`CaseBoard::held`], whatever their standing, and the highest clock
    /// among them), counting `unopened` more, the records the relay listed for the case that
    /// were not sealed to this member (sealed before their key was listed). So it comes after
    /// every record there is, and a member who holds them all does not make it wait.
    pub fn next_clock(&self, unopened: u64) -> u64 {
        self.held
            .saturating_add(unopened)
            .max(self.highest_clock)
            .saturating_add(1)
    }

    /// The sequence number `signer`'s next record takes: one more than the highest it used
    /// in any record the board holds (refused ones included, so that a number is never
    /// used twice).
    pub fn next_sequence(&self, signer: &OfficeKey) -> u32 {
        self.entries
            .iter()
            .filter(|entry| entry.record.signer == *signer)
            .map(|entry| entry.record.record.sequence)
            .max()
            .unwrap_or(0)
            .saturating_add(1)
    }

    /// The next record `key` writes into this case, ready to sign.
    #[allow(clippy::too_many_arguments)]
    pub fn next_record(
        &self,
        key: &OfficeSigningKey,
        mailbox: MailboxId,
        from: RecipientAddress,
        written_on: Day,
        change: CaseChange,
        unopened: u64,
    ) -> CaseRecord {
        CaseRecord {
            mailbox,
            from,
            sequence: self.next_sequence(&key.office_key()),
            clock: self.next_clock(unopened),
            written_on,
            change,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn office() -> RecipientAddress {
        RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        }
    }

    fn member(seed: u8) -> IdentityKey {
        crate::ReceiptCode::from_entropy([seed; 16]).reply_identity()
    }

    fn mailbox() -> MailboxId {
        MailboxId::from_bytes([7; 32])
    }

    fn signers(members: &[&IdentityKey]) -> Vec<(RecipientAddress, OfficeKey)> {
        members
            .iter()
            .map(|member| (office(), member.office_signing_key().office_key()))
            .collect()
    }

    fn record(
        member: &IdentityKey,
        sequence: u32,
        clock: u64,
        change: CaseChange,
    ) -> SignedCaseRecord {
        CaseRecord {
            mailbox: mailbox(),
            from: office(),
            sequence,
            clock,
            written_on: "2026-12-03".parse().unwrap(),
            change,
        }
        .sign(&member.office_signing_key())
        .unwrap()
    }

    fn fold(members: &[&IdentityKey], records: Vec<SignedCaseRecord>) -> CaseBoard {
        CaseBoard::fold(&mailbox(), Some(&[office()]), &signers(members), records)
    }

    #[test]
    fn records_round_trip_sealed_and_hide_notes_from_debug() {
        let alice = member(1);
        let note = record(
            &alice,
            1,
            1,
            CaseChange::Note(Zeroizing::new("geheime notitie".into())),
        );
        assert!(!format!("{note:?}").contains("geheime"));
        let sealed = note.seal(&[alice.recipient()]).unwrap();
        let opened =
            SignedCaseRecord::open(std::slice::from_ref(&alice), sealed.as_bytes()).unwrap();
        assert_eq!(opened, note);
        for change in [
            CaseChange::Status(CaseStatus::InInvestigation),
            CaseChange::Assignee(Some(alice.office_signing_key().office_key())),
            CaseChange::Assignee(None),
            CaseChange::AddLabel("fraude".into()),
            CaseChange::RemoveLabel("fraude".into()),
        ] {
            let signed = record(&alice, 2, 2, change);
            assert_eq!(SignedCaseRecord::decode(&signed.encode()).unwrap(), signed);
        }
    }

    #[test]
    fn a_changed_byte_or_a_wrong_signer_is_refused() {
        let alice = member(1);
        let signed = record(&alice, 1, 1, CaseChange::Status(CaseStatus::Closed));
        let encoded = signed.encode();
        let text = String::from_utf8(encoded.to_vec()).unwrap();
        let tampered = text.replace("\"closed\"", "\"new\"");
        assert!(matches!(
            SignedCaseRecord::decode(tampered.as_bytes()),
            Err(Error::ForgedOfficeMessage)
        ));
        let mallory = member(9).office_signing_key().office_key().to_string();
        let alice_key = alice.office_signing_key().office_key().to_string();
        let resigned = text.replace(&alice_key, &mallory);
        assert!(SignedCaseRecord::decode(resigned.as_bytes()).is_err());
        for bad in [
            &b""[..],
            b"no newline",
            b"short\n{}",
            &encoded[..encoded.len() - 1],
        ] {
            assert!(SignedCaseRecord::decode(bad).is_err());
        }
        let label = CaseRecord {
            mailbox: mailbox(),
            from: office(),
            sequence: 1,
            clock: 1,
            written_on: "2026-12-03".parse().unwrap(),
            change: CaseChange::AddLabel(" padded ".into()),
        };
        assert!(label.sign(&alice.office_signing_key()).is_err());
    }

    #[test]
    fn every_order_of_the_same_records_folds_to_the_same_board() {
        let alice = member(1);
        let bob = member(2);
        let alice_key = alice.office_signing_key().office_key();
        let bob_key = bob.office_signing_key().office_key();
        // Both see nothing and write at clock 1; then each writes on top of both.
        let records = vec![
            record(
                &alice,
                1,
                1,
                CaseChange::Status(CaseStatus::InInvestigation),
            ),
            record(&bob, 1, 1, CaseChange::Status(CaseStatus::Acknowledged)),
            record(&alice, 2, 3, CaseChange::AddLabel("fraude".into())),
            record(&bob, 2, 3, CaseChange::Assignee(Some(alice_key))),
            record(&bob, 3, 4, CaseChange::AddLabel("urgent".into())),
            record(&alice, 3, 5, CaseChange::RemoveLabel("urgent".into())),
            record(
                &bob,
                4,
                6,
                CaseChange::Note(Zeroizing::new("eerste gesprek".into())),
            ),
        ];
        let expected = fold(&[&alice, &bob], records.clone());
        // Same-clock status: the higher office key wins, on every workstation.
        let winner = if alice_key.as_bytes() > bob_key.as_bytes() {
            CaseStatus::InInvestigation
        } else {
            CaseStatus::Acknowledged
        };
        assert_eq!(expected.status, Some(winner));
        assert_eq!(expected.assignee, Some(alice_key));
        assert_eq!(expected.labels.iter().collect::<Vec<_>>(), vec!["fraude"]);
        assert!(expected.missing.is_empty());
        assert_eq!(expected.admitted().count(), 7);
        let mut shuffled = records.clone();
        for rotation in 0..shuffled.len() {
            shuffled.rotate_left(1);
            let mut reversed = shuffled.clone();
            reversed.reverse();
            for order in [shuffled.clone(), reversed] {
                let mut repeated = order.clone();
                repeated.extend(order.into_iter().take(rotation));
                let board = fold(&[&alice, &bob], repeated);
                assert_eq!(board.status, expected.status);
                assert_eq!(board.assignee, expected.assignee);
                assert_eq!(board.labels, expected.labels);
                assert_eq!(board.entries, expected.entries);
            }
        }
    }

    #[test]
    fn hostile_records_are_refused_waiting_or_missing_and_never_count() {
        let alice = member(1);
        let bob = member(2);
        let stranger = member(3);
        let first = record(&alice, 1, 1, CaseChange::Status(CaseStatus::Acknowledged));
        // A colleague pins the status with a huge clock: it waits, it never wins.
        let pinned = record(&bob, 1, 1_000_000, CaseChange::Status(CaseStatus::Closed));
        // A key the directory does not list.
        let forged = record(&stranger, 1, 2, CaseChange::Status(CaseStatus::Closed));
        // A record of another case, replayed by the relay into this one.
        let other_case = CaseRecord {
            mailbox: MailboxId::from_bytes([8; 32]),
            from: office(),
            sequence: 2,
            clock: 2,
            written_on: "2026-12-03".parse().unwrap(),
            change: CaseChange::Status(CaseStatus::Closed),
        }
        .sign(&alice.office_signing_key())
        .unwrap();
        // Two different records under one sequence number: neither counts.
        let once = record(&bob, 2, 2, CaseChange::AddLabel("a".into()));
        let twice = record(&bob, 2, 2, CaseChange::AddLabel("b".into()));
        // Alice's record 4 arrives, her 3 was withheld.
        let later = record(&alice, 4, 2, CaseChange::AddLabel("c".into()));
        let board = fold(
            &[&alice, &bob],
            vec![first, pinned, forged, other_case, once, twice, later],
        );
        assert_eq!(board.status, Some(CaseStatus::Acknowledged));
        assert_eq!(board.labels.iter().collect::<Vec<_>>(), vec!["c"]);
        let standings: Vec<_> = board.entries.iter().map(|entry| entry.standing).collect();
        assert!(standings.contains(&Standing::Waiting));
        assert_eq!(
            standings
                .iter()
                .filter(|standing| **standing == Standing::Conflicting)
                .count(),
            2
        );
        assert_eq!(
            standings
                .iter()
                .filter(|standing| matches!(standing, Standing::Refused(_)))
                .count(),
            2
        );
        assert_eq!(
            board.missing.get(&alice.office_signing_key().office_key()),
            Some(&2)
        );
        // A record from a recipient the case is not addressed to.
        let adviser = RecipientAddress {
            organisation: "demo".into(),
            recipient: "adviser".into(),
        };
        let from_adviser = CaseRecord {
            mailbox: mailbox(),
            from: adviser.clone(),
            sequence: 1,
            clock: 1,
            written_on: "2026-12-03".parse().unwrap(),
            change: CaseChange::Status(CaseStatus::Closed),
        }
        .sign(&stranger.office_signing_key())
        .unwrap();
        let board = CaseBoard::fold(
            &mailbox(),
            Some(&[office()]),
            &[(adviser, stranger.office_signing_key().office_key())],
            vec![from_adviser],
        );
        assert_eq!(board.status, None);
    }

    #[test]
    fn next_record_continues_the_clock_and_the_signers_numbering() {
        let alice = member(1);
        let bob = member(2);
        let board = fold(
            &[&alice, &bob],
            vec![
                record(&alice, 1, 1, CaseChange::Status(CaseStatus::New)),
                record(&bob, 1, 2, CaseChange::Status(CaseStatus::Acknowledged)),
            ],
        );
        let next = board.next_record(
            &alice.office_signing_key(),
            mailbox(),
            office(),
            "2026-12-03".parse().unwrap(),
            CaseChange::Status(CaseStatus::Closed),
            0,
        );
        assert_eq!((next.sequence, next.clock), (2, 3));
        let signed = next.sign(&alice.office_signing_key()).unwrap();
        let mut records: Vec<_> = board.admitted().cloned().collect();
        records.push(signed);
        assert_eq!(
            fold(&[&alice, &bob], records).status,
            Some(CaseStatus::Closed)
        );
    }

    #[test]
    fn a_record_that_stops_counting_never_holds_later_ones_back_and_later_changes_win() {
        let alice = member(1);
        let bob = member(2);
        let retired = member(3);
        // The retired member set the status first; then Alice and Bob worked on the case.
        let records = vec![
            record(
                &retired,
                1,
                1,
                CaseChange::Status(CaseStatus::InInvestigation),
            ),
            record(&alice, 1, 2, CaseChange::AddLabel("fraude".into())),
            record(
                &bob,
                1,
                3,
                CaseChange::Assignee(Some(alice.office_signing_key().office_key())),
            ),
            // Bob says two things under one number, and a colleague tries a huge clock.
            record(&bob, 2, 4, CaseChange::Status(CaseStatus::Closed)),
            record(&bob, 2, 4, CaseChange::Status(CaseStatus::New)),
            record(
                &alice,
                2,
                1_000_000,
                CaseChange::Status(CaseStatus::Aftercare),
            ),
            record(&alice, 3, 5, CaseChange::AddLabel("kas".into())),
        ];
        // The directory no longer lists the retired member.
        let board = fold(&[&alice, &bob], records.clone());
        assert_eq!(board.status, None);
        assert_eq!(
            board.assignee,
            Some(alice.office_signing_key().office_key())
        );
        assert_eq!(
            board.labels.iter().collect::<Vec<_>>(),
            vec!["fraude", "kas"]
        );
        // The next change comes after everything held, and every member admits it.
        let next = board
            .next_record(
                &bob.office_signing_key(),
                mailbox(),
                office(),
                "2026-12-03".parse().unwrap(),
                CaseChange::Status(CaseStatus::FeedbackGiven),
                0,
            )
            .sign(&bob.office_signing_key())
            .unwrap();
        assert_eq!(next.record().sequence, 3);
        let mut more = records.clone();
        more.push(next.clone());
        let after = fold(&[&alice, &bob], more);
        assert_eq!(after.status, Some(CaseStatus::FeedbackGiven));
        // A newcomer who could open none of them, told of 7 records it cannot open, writes a
        // change that comes after all of them for the members who hold them.
        let carol = member(4);
        let newcomer_board = fold(&[&alice, &bob, &carol], Vec::new());
        let late = newcomer_board
            .next_record(
                &carol.office_signing_key(),
                mailbox(),
                office(),
                "2026-12-03".parse().unwrap(),
                CaseChange::Status(CaseStatus::Closed),
                8,
            )
            .sign(&carol.office_signing_key())
            .unwrap();
        let mut all = records;
        all.push(next);
        all.push(late);
        assert_eq!(
            fold(&[&alice, &bob, &carol], all).status,
            Some(CaseStatus::Closed)
        );
    }
}
