//! One case, one state, for the whole team: the office's shared case records (see
//! `meldpunt_crypto::CaseBoard`).
//!
//! `meldpunt inbox status|assign|label|note` (and the office app's forms) write one signed
//! record each, sealed to the keys of every recipient the case is addressed to — never to
//! the reporter — and post it to the relay, which lists it to those recipients' sessions
//! only. `meldpunt inbox sync` takes in colleagues' records: each is opened, its signature
//! checked, filed with its case, and the case's records folded again. A record that does not
//! open or read is set aside with why, and never stops the sync.
//!
//! This module never seals a record to a key the signed directory does not list for one of
//! the case's recipients, and never shows a note's text anywhere but `inbox show` and the
//! office app's case page.

use std::collections::HashSet;

use meldpunt_crypto::{
    CaseChange, CaseStatus, IdentityKey, OfficeKey, RecipientAddress, SignedCaseRecord, Standing,
};
use serde_json::json;
use zeroize::Zeroizing;

use crate::clock::today;
use crate::error::{CliError, Result};
use crate::inbox::{case_id, printable, Inbox, Session};
use crate::input;
use crate::store::{Case, Store, StoredRecord};

/// What taking in colleagues' records did in one sync.
#[derive(Debug, Default)]
pub(crate) struct TeamReceived {
    /// Filed: the cases they belong to.
    pub filed: Vec<String>,
    /// Set aside: record number and why.
    pub refused: Vec<(u64, String)>,
}

impl Inbox {
    /// Records `change` into case `id` as `identities`: signs it with this member's office
    /// key, seals it to the case's recipients, posts it and files it. Returns the case id.
    pub fn record_change(
        &self,
        identities: &[IdentityKey],
        id: &str,
        change: CaseChange,
    ) -> Result<String> {
        change
            .check()
            .map_err(|error| CliError::Usage(error.to_string()))?;
        let mut store = Store::open(&self.store, identities)?;
        if store.case_mut(id)?.purged_on.is_some() {
            return Err(CliError::Usage(format!(
                "case {id} was purged at its retention date; the team's records went with it"
            )));
        }
        let case_id = store.case_mut(id)?.id.clone();
        let session = self.session(identities, &mut store)?;
        session.require_office_key()?;
        // What an earlier command could not deliver goes first, so that numbers stay in order.
        post_pending(&session, &mut store)?;
        let signers = organisation_signers(&session);
        let case = store.case_mut(&case_id)?;
        let key = identities[0].office_signing_key();
        let board = case.board(&signers, Some(&session.address));
        let signed = board
            .next_record(
                &key,
                case.check.mailbox(),
                session.address.clone(),
                today(),
                change,
                case.unopened_records.len() as u64,
            )
            .sign(&key)?;
        // Kept first, as not yet delivered (number 0): if the relay stored it but its answer
        // was lost, the next command delivers the same record again rather than writing
        // another one under the same sequence number.
        case.records.push(StoredRecord {
            number: PENDING,
            encoded: encoded_text(&signed),
        });
        case.refresh_team(&signers, Some(&session.address));
        store.save()?;
        post_pending(&session, &mut store)?;
        store.save()?;
        Ok(case_id)
    }

    /// `meldpunt inbox status CASE STATUS`.
    pub fn set_status(&self, id: &str, status: &str) -> Result<()> {
        let status: CaseStatus = status.parse().map_err(|_| {
            CliError::Usage(format!(
                "the statuses are {}",
                CaseStatus::ALL.map(CaseStatus::as_str).join(", ")
            ))
        })?;
        let identities = input::identities(&self.identity)?;
        let case_id = self.record_change(&identities, id, CaseChange::Status(status))?;
        self.done(
            &case_id,
            "status",
            json!(status.as_str()),
            &format!("Case {case_id} is now {}.", status.as_str()),
        )
    }

    /// `meldpunt inbox assign CASE (--me | --to OFFICE_KEY | --nobody)`.
    pub fn assign(&self, id: &str, to: Option<&str>, me: bool) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let assignee = match (to, me) {
            (_, true) => Some(identities[0].office_signing_key().office_key()),
            (Some(key), false) => Some(key.trim().parse::<OfficeKey>().map_err(|_| {
                CliError::Usage("--to takes a colleague's office key (mpok1…)".into())
            })?),
            (None, false) => None,
        };
        let case_id = self.record_change(&identities, id, CaseChange::Assignee(assignee))?;
        let shown = assignee.map_or_else(|| "nobody".to_owned(), |key| key.to_string());
        self.done(
            &case_id,
            "assignee",
            json!(assignee.map(|key| key.to_string())),
            &format!("Case {case_id} is assigned to {shown}."),
        )
    }

    /// `meldpunt inbox label CASE LABEL [--remove]`.
    pub fn label(&self, id: &str, label: &str, remove: bool) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let change = if remove {
            CaseChange::RemoveLabel(label.to_owned())
        } else {
            CaseChange::AddLabel(label.to_owned())
        };
        let case_id = self.record_change(&identities, id, change)?;
        let verb = if remove { "removed" } else { "added" };
        self.done(
            &case_id,
            "label",
            json!({ "label": label, verb: true }),
            &format!("Label {:?} {verb} on case {case_id}.", printable(label, 0)),
        )
    }

    /// `meldpunt inbox note CASE [--message-file F]`: the note's text from the file or
    /// standard input (never from the command line, which other users can see).
    pub fn note(&self, id: &str, message_file: Option<&std::path::Path>) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let text = input::message(message_file, "note")?;
        let case_id = self.record_change(
            &identities,
            id,
            CaseChange::Note(Zeroizing::new(text.trim_end().to_owned())),
        )?;
        self.done(
            &case_id,
            "note",
            json!(true),
            &format!("Note added to case {case_id} (only the office team reads it)."),
        )
    }

    fn done(
        &self,
        case_id: &str,
        field: &str,
        value: serde_json::Value,
        sentence: &str,
    ) -> Result<()> {
        if self.json {
            println!("{}", json!({ "case": case_id, field: value }));
        } else {
            println!("{sentence}");
        }
        Ok(())
    }
}

/// The number of a record this member wrote that the relay has not confirmed storing.
const PENDING: u64 = 0;

/// The keys a record of `case` is sealed to: every key the directory lists for the case's
/// recipients and for the member's own recipient.
fn record_keys(case: &Case, session: &Session) -> Result<Vec<meldpunt_crypto::RecipientKey>> {
    let mut addressed: Vec<RecipientAddress> = case.recipients.clone();
    if !addressed.contains(&session.address) {
        addressed.push(session.address.clone());
    }
    Ok(session.directory.keys_for(&addressed)?)
}

/// Delivers the records this member wrote that the relay has not confirmed. A record the
/// relay refuses (its mailbox gone, full) is dropped with a warning: it never reached the
/// team, and keeping it would stop every later command. A relay that cannot be reached
/// stops here; the records wait for the next command.
fn post_pending(session: &Session, store: &mut Store) -> Result<()> {
    let signers = organisation_signers(session);
    for case in store.state.cases.values_mut() {
        if !case.records.iter().any(|record| record.number == PENDING) {
            continue;
        }
        let keys = record_keys(case, session)?;
        let mailbox = case.check.mailbox();
        let mut index = 0;
        while index < case.records.len() {
            if case.records[index].number != PENDING {
                index += 1;
                continue;
            }
            let record = case.records[index].record()?;
            match session.relay.post_case_record(
                &session.token,
                &mailbox,
                record.seal(&keys)?.into_bytes(),
            ) {
                Ok(stored) => {
                    case.records[index].number = stored.number;
                    index += 1;
                }
                Err(meldpunt_client::ClientError::Refused {
                    status, message, ..
                }) if (400..500).contains(&status) && status != 429 => {
                    eprintln!(
                        "Warning: the relay refused a change to case {} ({}); it was not recorded for the team.",
                        case.id,
                        printable(&message, 200)
                    );
                    case.records.remove(index);
                }
                Err(error) => return Err(error.into()),
            }
        }
        case.refresh_team(&signers, Some(&session.address));
    }
    Ok(())
}

/// The office keys the directory lists for the session's organisation.
pub(crate) fn organisation_signers(session: &Session) -> Vec<(RecipientAddress, OfficeKey)> {
    session
        .directory
        .office_signers()
        .into_iter()
        .filter(|(address, _)| address.organisation == session.address.organisation)
        .collect()
}

fn encoded_text(record: &SignedCaseRecord) -> String {
    // A record's encoding is a base64url line and JSON: always UTF-8.
    String::from_utf8_lossy(&record.encode()).into_owned()
}

/// Takes in the case records listed to this member since the store's record cursor, files
/// them with their cases and folds each case's records again. A record that does not open
/// or read is set aside with why; an error reaching the relay stops the sync before the
/// cursor passes the record it was fetching.
pub(crate) fn receive(
    identities: &[IdentityKey],
    session: &Session,
    store: &mut Store,
    signers: &[(RecipientAddress, OfficeKey)],
    received: &mut TeamReceived,
) -> Result<()> {
    let mut known: HashSet<u64> = store
        .state
        .cases
        .values()
        .flat_map(|case| case.records.iter().map(|record| record.number))
        .chain(
            store
                .state
                .unfiled_records
                .iter()
                .map(|(_, record)| record.number),
        )
        .chain(
            store
                .state
                .refused_records
                .iter()
                .map(|(number, _)| *number),
        )
        .chain(
            store
                .state
                .cases
                .values()
                .flat_map(|case| case.unopened_records.iter().copied()),
        )
        .collect();
    post_pending(session, store)?;
    let own = Some(&session.address);
    // A case missing records before later ones (a relay withheld them, say) is listed again
    // from the start: what was seen is skipped, what turns up is filed.
    if store.state.cases.values().any(|case| case.team.missing > 0) {
        store.state.record_cursor = 0;
    }
    loop {
        let before = store.state.record_cursor;
        let listed = match session.relay.case_records(&session.token, before) {
            Ok(listed) => listed,
            // A relay from before case records: there are none.
            Err(meldpunt_client::ClientError::Refused { status: 404, .. }) => return Ok(()),
            Err(error) => return Err(error.into()),
        };
        for entry in listed {
            let entry = match entry {
                Ok(entry) => entry,
                Err(malformed) => {
                    let number = malformed.key.unwrap_or(0);
                    if known.insert(number) {
                        set_aside(store, received, number, malformed.reason);
                    }
                    store.state.record_cursor = store.state.record_cursor.max(number);
                    continue;
                }
            };
            if known.insert(entry.number) {
                let sealed = session
                    .relay
                    .fetch_case_record(&session.token, entry.number)?;
                let listed_case = case_id(&entry.mailbox.to_wire());
                match SignedCaseRecord::open(identities, &sealed) {
                    Ok(record) if !record.record().mailbox.matches(&entry.mailbox) => set_aside(
                        store,
                        received,
                        entry.number,
                        "listed under another case than the one it names".to_owned(),
                    ),
                    Ok(record) => {
                        let stored = StoredRecord {
                            number: entry.number,
                            encoded: encoded_text(&record),
                        };
                        file_record(store, listed_case.clone(), stored);
                        received.filed.push(listed_case);
                    }
                    // Written before this member's key was listed: counted, so that this
                    // member's own records come after it.
                    Err(meldpunt_crypto::Error::NotForThisIdentity) => {
                        match store.state.cases.get_mut(&listed_case) {
                            Some(case) if !case.unopened_records.contains(&entry.number) => {
                                case.unopened_records.push(entry.number)
                            }
                            _ => {}
                        }
                    }
                    Err(error) => set_aside(store, received, entry.number, error.to_string()),
                }
            }
            store.state.record_cursor = store.state.record_cursor.max(entry.number);
        }
        store.save()?;
        if store.state.record_cursor == before {
            break;
        }
    }
    // Records that came before their case (it arrived in this sync, say).
    let waiting = std::mem::take(&mut store.state.unfiled_records);
    for (case, record) in waiting {
        file_record(store, case, record);
    }
    for case in store.state.cases.values_mut() {
        case.refresh_team(signers, own);
    }
    Ok(())
}

fn set_aside(store: &mut Store, received: &mut TeamReceived, number: u64, reason: String) {
    store.state.refused_records.push((number, reason.clone()));
    received.refused.push((number, reason));
}

fn file_record(store: &mut Store, case: String, record: StoredRecord) {
    match store.state.cases.get_mut(&case) {
        // A purged case's notes went with its content: none are filed again.
        Some(held) if held.purged_on.is_some() => {}
        Some(held) => match held
            .records
            .iter_mut()
            .find(|known| known.encoded == record.encoded)
        {
            // This member's own record, not yet confirmed: the relay has it.
            Some(known) if known.number == PENDING => known.number = record.number,
            Some(_) => {}
            None => held.records.push(record),
        },
        None => {
            if !store
                .state
                .unfiled_records
                .iter()
                .any(|(_, known)| known.encoded == record.encoded)
            {
                store.state.unfiled_records.push((case, record));
            }
        }
    }
}

/// The team's records of `case`, for `inbox show --json` and the office app: every record in
/// record order, with whether it counts.
pub fn history(
    case: &Case,
    signers: &[(RecipientAddress, OfficeKey)],
    own: Option<&RecipientAddress>,
) -> Vec<HistoryEntry> {
    case.board(signers, own)
        .entries
        .into_iter()
        .map(|entry| {
            let record = entry.record.record();
            HistoryEntry {
                written_on: record.written_on.to_string(),
                from: format!("{}/{}", record.from.organisation, record.from.recipient),
                signer: entry.record.signer(),
                change: record.change.clone(),
                standing: match entry.standing {
                    Standing::Admitted => None,
                    Standing::Waiting => Some("waits for earlier records".to_owned()),
                    Standing::Conflicting => Some(
                        "its writer wrote another record under the same number: neither counts"
                            .to_owned(),
                    ),
                    Standing::Refused(reason) => Some(reason.to_owned()),
                },
            }
        })
        .collect()
}

/// One line of a case's team history.
#[derive(Debug, Clone)]
pub struct HistoryEntry {
    /// The day it was written.
    pub written_on: String,
    /// The recipient its writer acts for.
    pub from: String,
    /// The writer's office key.
    pub signer: OfficeKey,
    /// What it changed.
    pub change: CaseChange,
    /// Why it does not count (`None`: it counts).
    pub standing: Option<String>,
}

impl HistoryEntry {
    /// The change in words (a note's text included).
    pub fn describe(&self) -> String {
        match &self.change {
            CaseChange::Status(status) => format!("status: {}", status.as_str()),
            CaseChange::Assignee(Some(key)) => format!("assigned to {key}"),
            CaseChange::Assignee(None) => "assigned to nobody".to_owned(),
            CaseChange::AddLabel(label) => format!("label added: {}", printable(label, 0)),
            CaseChange::RemoveLabel(label) => format!("label removed: {}", printable(label, 0)),
            // A note that does not count is not shown: it may come from someone the case is
            // not addressed to.
            CaseChange::Note(_) if self.standing.is_some() => "note (not shown)".to_owned(),
            CaseChange::Note(text) => format!("note: {}", printable(text, 0)),
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "written_on": self.written_on,
            "from": self.from,
            "signer": self.signer.to_string(),
            "change": self.change.as_str(),
            "text": self.describe(),
            "counts": self.standing.is_none(),
            "why_not": self.standing,
        })
    }
}
