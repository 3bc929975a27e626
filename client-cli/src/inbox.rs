//! The integrity office's inbox: `sync`, `list`, `show`, `reply`, `close` and `export`.
//!
//! `sync` authenticates with the office identity, fetches what is new for the organisation,
//! opens it locally and files it into cases in the encrypted store. Deadlines follow the EU
//! Whistleblower Directive: acknowledge within 7 days, give feedback within 3 months of the
//! acknowledgement.

use std::path::{Path, PathBuf};

use std::collections::HashSet;

use meldpunt_crypto::{
    AttachmentReference, Authenticity, CaseChange, CaseStatus, Content, Directory, IdentityKey,
    Message, MessageKind, OfficeKey, RecipientAddress, RecipientKey, SessionToken,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::attachments;
use crate::clock::today;
use crate::error::{CliError, Result};
use crate::hand_over;
use crate::input;
use crate::paths::{create_private, create_private_dir};
use crate::pins::verified_directory;
use crate::register::{RegisterLine, Statistics};
use crate::relay::{Credential, Relay, Upload};
use crate::reminder::{self, DeadlineSummary, Reminder};
use crate::store::{Case, QuarantinedMessage, Store, StoredMessage};
use crate::team;
use meldpunt_wire::OfficeEntry;

/// The closing message sent when none is given: the case is closed, and the reporter is
/// invited to evaluate the process (Dutch, then English).
pub const CLOSING_TEXT: &str = "Wij hebben de behandeling van uw melding afgerond. Dank voor uw melding. \
U kunt dit gesprek blijven lezen en ons nog berichten sturen. Wij stellen het op prijs als u het proces \
beoordeelt: dat duurt een minuut en helpt ons het beter te doen.\n\n\
We have finished handling your report. Thank you for reporting. You can keep reading this conversation \
and still send us messages. We would value your evaluation of the process: it takes a minute and helps us do better.";

/// The standard acknowledgement of receipt.
pub const ACKNOWLEDGEMENT_TEXT: &str = "Wij hebben uw melding ontvangen. U hoort binnen drie maanden van ons wat er met uw melding gebeurt. \
U kunt ons via dit kanaal aanvullende informatie sturen; bewaar uw ontvangstcode goed.\n\n\
We have received your report. You will hear from us within three months what is being done with it. \
You can send us more information through this channel; keep your receipt code safe.";

/// What every inbox command needs.
#[derive(Debug)]
pub struct Inbox {
    /// The store folder.
    pub store: PathBuf,
    /// Months after closing at which aftercare is due (`aftercare_months` in config.json).
    pub aftercare_months: u32,
    /// Months after closing a case's content is kept (`retention_months` in config.json).
    pub retention_months: u32,
    /// The identity file.
    pub identity: PathBuf,
    /// The relay, if the command talks to one.
    pub relay: Option<Relay>,
    /// A pinned directory key.
    pub directory_key: Option<String>,
    /// Machine-readable output.
    pub json: bool,
}

/// A relay session of this member, with the relay's verified directory.
pub(crate) struct Session {
    pub(crate) relay: Relay,
    pub(crate) directory: Directory,
    pub(crate) token: SessionToken,
    pub(crate) address: RecipientAddress,
    /// Whether the directory lists this identity's office key: without it (a recovery key)
    /// it reads, and cannot answer or hand over.
    pub(crate) answers: bool,
}

impl Session {
    /// Refuses, before anything is sent, to write as an identity whose office key the
    /// directory does not list: the reporter (or a colleague) would refuse what it signs.
    pub(crate) fn require_office_key(&self) -> Result<()> {
        if self.answers {
            return Ok(());
        }
        Err(CliError::Usage(format!(
            "the directory lists this identity under {}/{} without its office key (a recovery key): \
             it reads, but what it signs would be refused; nothing was sent. Answer with a member's \
             identity, or add this one's office key with meldpunt directory add-member",
            self.address.organisation, self.address.recipient
        )))
    }
}

impl Inbox {
    fn relay(&self) -> Result<&Relay> {
        self.relay.as_ref().ok_or_else(|| {
            CliError::Usage("this command needs --relay URL (or MELDPUNT_RELAY)".into())
        })
    }

    fn open(&self) -> Result<(Vec<IdentityKey>, Store)> {
        let identities = input::identities(&self.identity)?;
        let mut store = Store::open(&self.store, &identities)?;
        store.state.aftercare_months = self.aftercare_months;
        store.state.retention_months = self.retention_months;
        Ok((identities, store))
    }

    pub(crate) fn session(&self, identities: &[IdentityKey], store: &mut Store) -> Result<Session> {
        store.state.aftercare_months = self.aftercare_months;
        store.state.retention_months = self.retention_months;
        let relay = self.relay()?.clone();
        let directory = verified_directory(&relay, self.directory_key.as_deref())?;
        let own: Vec<RecipientKey> = identities.iter().map(IdentityKey::recipient).collect();
        let listed_under: Vec<String> = directory
            .organisations
            .iter()
            .flat_map(|organisation| {
                organisation
                    .recipients
                    .iter()
                    .filter(|recipient| recipient.keys.iter().any(|key| own.contains(key)))
                    .map(move |recipient| format!("{}/{}", organisation.id, recipient.id))
            })
            .collect();
        if listed_under.len() > 1 {
            eprintln!(
                "Warning: this identity's key is listed under {}; only the first one's cases are synced \
                 into this store (walls between recipients). Give each recipient its own identity.",
                listed_under.join(" and ")
            );
        }
        let address = directory
            .organisations
            .iter()
            .flat_map(|organisation| {
                organisation.recipients.iter().map(move |recipient| (organisation, recipient))
            })
            .find(|(_, recipient)| recipient.keys.iter().any(|key| own.contains(key)))
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "the relay's directory does not list this identity's public key ({}); add it with meldpunt directory add-recipient and sign",
                    own[0]
                ))
            })
            .map(|(organisation, recipient)| {
                // Replies are checked against the office keys the directory lists: without
                // this identity's, every reader would show them as unreadable. A key listed
                // without its office key is a recovery key (or a member added halfway): it
                // reads, and is refused where it would write ([`Session::require_office_key`]).
                let office_key = identities[0].office_signing_key().office_key();
                let answers = recipient.signing_keys.contains(&office_key);
                if !answers {
                    eprintln!(
                        "Note: the directory lists this identity's public key under {}/{} without its \
                         office key {office_key}: it reads (a recovery key), it cannot answer. If it is a \
                         member's key, add the office key with meldpunt directory add-member.",
                        organisation.id, recipient.id
                    );
                }
                (
                    RecipientAddress {
                        organisation: organisation.id.clone(),
                        recipient: recipient.id.clone(),
                    },
                    answers,
                )
            })?;
        let (address, answers) = address;
        let login = relay.office_login(
            &address.organisation,
            &address.recipient,
            identities,
            || {
                eprintln!(
                    "The relay is busy with logins for {}; doing anti-abuse work first.",
                    address.organisation
                );
            },
        )?;
        // One store keeps one recipient's cases, in its numbering: an identity that now acts
        // for another recipient (moved by the directory) starts a new store.
        if let (Some(organisation), Some(recipient)) =
            (&store.state.organisation, &store.state.recipient)
        {
            if *organisation != address.organisation || *recipient != address.recipient {
                return Err(CliError::Usage(format!(
                    "the store {} holds the cases of {organisation}/{recipient}, but the directory now \
                     lists this identity under {}/{}; use a new store (--store) for those",
                    self.store.display(),
                    address.organisation,
                    address.recipient
                )));
            }
        }
        store.state.relay = Some(relay.url().to_owned());
        store.state.relay_retention_days = login.retention_days;
        let token = login.token;
        store.state.organisation = Some(address.organisation.clone());
        store.state.recipient = Some(address.recipient.clone());
        Ok(Session {
            relay,
            directory,
            token,
            address,
            answers,
        })
    }

    /// `meldpunt inbox sync`. Never stops on one message: a message sealed to this office
    /// that does not open as a Meldpunt message, or does not fit its thread, is quarantined
    /// (kept sealed, with the reason, its case flagged) and everything else is filed; the
    /// cursor is saved as it goes.
    pub fn sync(&self) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let (address, report) = self.sync_store(&identities)?;
        if self.json {
            let arrived: Vec<_> = report
                .arrived
                .iter()
                .map(|(case, author, filed)| {
                    json!({
                        "case": case,
                        "kind": filed.kind,
                        "author": author,
                        "unverified": filed.unverified,
                        "missing_before": filed.missing_before,
                    })
                })
                .collect();
            let quarantined: Vec<_> = report
                .quarantined
                .iter()
                .map(|(case, number, reason)| json!({"case": case, "number": number, "reason": reason}))
                .collect();
            println!(
                "{}",
                json!({
                    "arrived": arrived,
                    "quarantined": quarantined,
                    "partial_cases": report.partial,
                    "not_addressed_to_this_identity": report.not_addressed,
                    "handed_over": report.received.handed.iter().map(|(case, position)| json!({"case": case, "position": position})).collect::<Vec<_>>(),
                    "refused_hand_overs": report.received.refused.iter().map(|refused| json!({"number": refused.number, "case": refused.case, "reason": refused.reason})).collect::<Vec<_>>(),
                    "case_records": report.team.filed,
                    "refused_case_records": report.team.refused.iter().map(|(number, reason)| json!({"number": number, "reason": reason})).collect::<Vec<_>>(),
                    "organisation": address.organisation,
                })
            );
            return Ok(());
        }
        if report.arrived.is_empty()
            && report.quarantined.is_empty()
            && report.received.handed.is_empty()
            && report.received.refused.is_empty()
            && report.team.filed.is_empty()
            && report.team.refused.is_empty()
        {
            println!(
                "Nothing new for {} ({}).",
                address.organisation, address.recipient
            );
        }
        for (case, author, filed) in &report.arrived {
            let unverified = if filed.unverified {
                " (not verified: this case's report was not sealed to your key)"
            } else {
                ""
            };
            println!(
                "case {case}: new {} from the {author}{unverified}{}",
                filed.kind,
                missing_note(filed.missing_before)
            );
        }
        if !report.arrived.is_empty() {
            println!(
                "{} new message(s) stored, encrypted, in {}.",
                report.arrived.len(),
                self.store.display()
            );
        }
        for (case, number, reason) in &report.quarantined {
            println!("case {case}: message {number} QUARANTINED: {reason}");
        }
        if !report.quarantined.is_empty() {
            println!(
                "{} message(s) could not be filed and were quarantined (kept sealed; see meldpunt inbox show). \
                 Everything else was filed.",
                report.quarantined.len()
            );
        }
        for case in &report.partial {
            println!(
                "case {case}: partial — its earlier messages were sealed before your key was in the directory; \
                 a colleague hands them over with meldpunt inbox hand-over --to {} --case {case}",
                identities[0].recipient()
            );
        }
        let mut handed: Vec<&str> = report
            .received
            .handed
            .iter()
            .map(|(case, _)| case.as_str())
            .collect();
        handed.dedup();
        for case in handed {
            let count = report
                .received
                .handed
                .iter()
                .filter(|(handed, _)| handed == case)
                .count();
            println!("case {case}: {count} message(s) handed over by a colleague and filed.");
        }
        for refused in &report.received.refused {
            println!(
                "hand-over {}{}: REFUSED: {} (nothing of it was filed)",
                refused.number,
                refused
                    .case
                    .as_ref()
                    .map(|case| format!(" for case {case}"))
                    .unwrap_or_default(),
                refused.reason
            );
        }
        let mut updated = report.team.filed.clone();
        updated.dedup();
        for case in updated {
            println!("case {case}: the team's status, assignee, labels or notes changed.");
        }
        for (number, reason) in &report.team.refused {
            println!("case record {number}: SET ASIDE: {reason} (it does not count)");
        }
        if report.not_addressed > 0 {
            println!(
                "{} message(s) were addressed only to other recipients of the organisation.",
                report.not_addressed
            );
        }
        Ok(())
    }

    /// Syncs the store with the relay as `identities`; returns what it did. What was filed
    /// before a failure (the relay gone, say) is kept.
    fn sync_store(&self, identities: &[IdentityKey]) -> Result<(RecipientAddress, SyncReport)> {
        let mut store = Store::open(&self.store, identities)?;
        let session = self.session(identities, &mut store)?;
        let mut report = SyncReport::default();
        let signers: Vec<_> = session
            .directory
            .office_signers()
            .into_iter()
            .filter(|(address, _)| address.organisation == session.address.organisation)
            .collect();
        let outcome = self
            .sync_into(identities, &session, &mut store, &mut report, &signers)
            .and_then(|()| {
                hand_over::receive(
                    identities,
                    &session,
                    &mut store,
                    &signers,
                    &mut report.received,
                )
            })
            .and_then(|()| {
                store.state.office_signers = signers.clone();
                team::receive(identities, &session, &mut store, &signers, &mut report.team)
            });
        store.save()?;
        outcome?;
        Ok((session.address, report))
    }

    /// Syncs as `identities` (an identity already opened, as the office app holds it).
    pub fn sync_with(&self, identities: &[IdentityKey]) -> Result<SyncSummary> {
        let (_, report) = self.sync_store(identities)?;
        Ok(SyncSummary {
            arrived: report.arrived.len() + report.received.handed.len(),
            quarantined: report.quarantined.len() + report.received.refused.len(),
            partial: report.partial.len(),
            not_addressed: report.not_addressed,
        })
    }

    /// Opens the attachment at `location` of case `id` into `output` as it arrives from the
    /// relay, digest-checked at the end. `before` hears its reference first (its name and
    /// size, for the answer's headers) once it is known to exist. The store is let go before
    /// the download: a long one keeps no other command waiting.
    pub fn open_attachment(
        &self,
        identities: &[IdentityKey],
        id: &str,
        location: &str,
        before: impl FnOnce(&AttachmentReference),
        output: impl std::io::Write,
    ) -> Result<()> {
        let mut store = Store::open(&self.store, identities)?;
        let case = store.case_mut(id)?.clone();
        let (_, reference) = case
            .attachments()
            .into_iter()
            .find(|(_, reference)| reference.location == location)
            .ok_or_else(|| CliError::Usage(format!("case {} has no such attachment", case.id)))?;
        let session = self.session(identities, &mut store)?;
        // The session noted which relay and recipient this store is for.
        store.save()?;
        drop(store);
        before(&reference);
        attachments::open_into(
            &session.relay,
            Credential::Office(&session.token),
            &case.fetch_reference(&reference),
            identities,
            output,
        )
    }

    /// What the store holds, as `identities` opens it.
    pub fn state(&self, identities: &[IdentityKey]) -> Result<crate::store::State> {
        Ok(Store::open(&self.store, identities)?.state)
    }

    fn sync_into(
        &self,
        identities: &[IdentityKey],
        session: &Session,
        store: &mut Store,
        report: &mut SyncReport,
        signers: &[(RecipientAddress, OfficeKey)],
    ) -> Result<()> {
        // The office keys of this organisation, given once to every case (a check keeps its
        // numbering in the store, not the keys: the directory may have changed since).
        let process_guides = session
            .directory
            .process_guides()
            .into_iter()
            .filter(|guide| guide.organisation == session.address.organisation)
            .collect::<Vec<_>>();
        let advisers = session
            .directory
            .confidential_advisers()
            .into_iter()
            .filter(|adviser| adviser.organisation == session.address.organisation)
            .collect::<Vec<_>>();
        store.state.roles = crate::store::Roles {
            process_guides: process_guides.clone(),
            advisers: advisers.clone(),
        };
        let organisation = session
            .directory
            .organisation(&session.address.organisation);
        store.state.questions = organisation
            .map(|organisation| organisation.questions.clone())
            .unwrap_or_default();
        store.state.evaluation_questions = organisation
            .map(meldpunt_crypto::Organisation::evaluation_questions)
            .unwrap_or_default();
        for case in store.state.cases.values_mut() {
            case.check.set_signers(signers.to_vec());
            case.check.set_process_guides(process_guides.clone());
            case.check.set_advisers(advisers.clone());
        }
        let mut known: HashSet<u64> = store
            .state
            .cases
            .values()
            .flat_map(|case| {
                case.messages
                    .iter()
                    .map(|message| message.number)
                    .chain(case.quarantined.iter().map(|message| message.number))
            })
            .collect();
        loop {
            let entries = session
                .relay
                .office_messages(&session.token, store.state.cursor)?;
            let before = store.state.cursor;
            for entry in entries {
                let entry = match entry {
                    Ok(entry) => entry,
                    // A malformed entry is reported and passed (when its number can be
                    // read); it never stops the others.
                    Err(malformed) => {
                        let number = malformed.key.unwrap_or(0);
                        if !known.contains(&number) {
                            report
                                .quarantined
                                .push(("-".into(), number, malformed.reason));
                            known.insert(number);
                        }
                        store.state.cursor = store.state.cursor.max(number);
                        continue;
                    }
                };
                if !known.contains(&entry.number) {
                    // An error here (the relay gone, a full disk) stops the sync before the
                    // cursor passes this message, so the next sync lists it again.
                    file_entry(identities, session, store, report, signers, &entry)?;
                    known.insert(entry.number);
                }
                store.state.cursor = store.state.cursor.max(entry.number);
            }
            store.save()?;
            // An empty page ends the sync; so does a page that moves the cursor nowhere (a
            // relay that keeps listing what was seen would otherwise keep us here).
            if store.state.cursor == before {
                return Ok(());
            }
        }
    }

    /// `meldpunt inbox remind`: fetches new messages when the identity needs no passphrase
    /// and a relay is configured (a timer cannot ask for a passphrase; a protected identity
    /// is reminded from the deadline summary the last save left), then says what is overdue,
    /// what falls due within `within_days` and what arrived — as a desktop notification
    /// unless `print_only`, and always on standard output. Silent when nothing is due.
    pub fn remind(&self, within_days: u32, print_only: bool) -> Result<()> {
        let today = today();
        let mut new_messages = 0;
        let summary = if input::identity_is_protected(&self.identity)? {
            let summary = DeadlineSummary::load(&self.store)?;
            eprintln!(
                "{} has a passphrase: reminding from the deadlines as saved on {} (new messages are fetched when the office app or an inbox command runs).",
                self.identity.display(),
                summary.written_on
            );
            summary
        } else {
            let identities = input::identities(&self.identity)?;
            if self.relay.is_some() {
                match self.sync_with(&identities) {
                    Ok(synced) => new_messages = synced.arrived,
                    Err(error) => {
                        eprintln!("Could not fetch new messages ({error}); reminding from the store as it is.")
                    }
                }
            }
            let store = Store::open(&self.store, &identities)?;
            let summary = DeadlineSummary::of(&store.state, today);
            summary.save(&self.store)?;
            summary
        };
        let reminder = Reminder {
            new_messages,
            ..summary.reminder(today, within_days)
        };
        let notified = if reminder.is_empty() || print_only {
            false
        } else {
            match reminder::notify(&reminder.text()) {
                Ok(()) => true,
                Err(reason) => {
                    eprintln!("No desktop notification ({reason}); the reminder is below.");
                    false
                }
            }
        };
        if self.json {
            println!(
                "{}",
                json!({
                    "overdue": reminder.overdue,
                    "due_soon": reminder.due_soon,
                    "within_days": within_days,
                    "new_messages": reminder.new_messages,
                    "notified": notified,
                    "deadlines_as_of": summary.written_on.to_string(),
                })
            );
        } else if reminder.is_empty() {
            println!("Nothing overdue, nothing due within {within_days} day(s), nothing new.");
        } else {
            println!("{}", reminder.text());
        }
        Ok(())
    }

    /// `meldpunt inbox register`.
    pub fn register(&self, csv: bool) -> Result<()> {
        let (_, store) = self.open()?;
        let today = today();
        let lines: Vec<RegisterLine> = store
            .state
            .cases
            .values()
            .filter(|case| (case.has_report() || case.is_partial()) && !case.is_consultation())
            .map(|case| {
                RegisterLine::of(
                    case,
                    today,
                    store.state.retention_months,
                    &store.state.questions,
                )
            })
            .collect();
        if self.json {
            println!("{}", json!({ "cases": lines }));
        } else if csv {
            println!("{}", RegisterLine::CSV_HEADER);
            for line in &lines {
                println!("{}", line.to_csv());
            }
        } else {
            println!(
                "{:<10}  {:<12}  {:<10}  {:<16}  {:<15}  {:<15}  {:<10}  labels · answers",
                "case",
                "conversation",
                "received",
                "status",
                "acknowledgement",
                "feedback",
                "closed"
            );
            for line in &lines {
                println!(
                    "{:<10}  {:<12}  {:<10}  {:<16}  {:<15}  {:<15}  {:<10}  {}",
                    line.case,
                    line.conversation,
                    line.received_on,
                    line.status.as_str(),
                    line.acknowledgement.as_str(),
                    line.feedback.as_str(),
                    line.closed_on
                        .map(|day| day.to_string())
                        .unwrap_or_default(),
                    printable(
                        &format!("{} · {}", line.labels.join(", "), line.answers_text()),
                        0
                    )
                );
            }
        }
        Ok(())
    }

    /// `meldpunt inbox stats`.
    pub fn stats(
        &self,
        csv: bool,
        from: Option<meldpunt_crypto::Day>,
        to: Option<meldpunt_crypto::Day>,
    ) -> Result<()> {
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(CliError::Usage(format!(
                    "the period runs from {from} to {to}: --from must not be after --to"
                )));
            }
        }
        let (_, store) = self.open()?;
        let figures = Statistics::of(
            store.state.cases.values(),
            &store.state.questions,
            &store.state.evaluation_questions,
            from,
            to,
            today(),
        );
        if self.json {
            println!("{}", serde_json::to_string(&figures).expect("serialisable"));
        } else if csv {
            println!("{}", figures.to_csv());
        } else {
            for (figure, key, value) in figures.rows() {
                if key.is_empty() {
                    println!("{figure}: {value}");
                } else {
                    println!("{figure}, {}: {value}", printable(&key, 0));
                }
            }
        }
        Ok(())
    }

    /// `meldpunt inbox list`.
    pub fn list(&self, overdue_only: bool) -> Result<()> {
        let (_, store) = self.open()?;
        let today = today();
        let cases: Vec<&Case> = store
            .state
            .cases
            .values()
            .filter(|case| !overdue_only || !case.overdue(today).is_empty())
            .collect();
        if self.json {
            let listed: Vec<_> = cases
                .iter()
                .map(|case| {
                    let consultation = case.is_consultation();
                    let aftercare = case.aftercare(store.state.aftercare_months);
                    json!({
                        "case": case.id,
                        "conversation": if consultation { "consultation" } else { "report" },
                        "received_on": case.received_on.to_string(),
                        "status": case.current_status(),
                        "assignee": case.team.assignee.map(|key| key.to_string()),
                        "labels": case.team.labels,
                        "notes": case.team.notes,
                        "last_activity": case.last_activity.to_string(),
                        "acknowledgement_due": (!consultation).then(|| case.acknowledgement_due().to_string()),
                        "feedback_due": (!consultation).then(|| case.feedback_due().to_string()),
                        "overdue": case.overdue(today),
                        "aftercare_due": aftercare.map(|(due, _)| due.to_string()),
                        "retention_until": case.retention_until(store.state.retention_months).map(|day| day.to_string()),
                        "legal_hold": case.legal_hold.is_some(),
                        "purge_due": case.purge_due(store.state.retention_months, today),
                        "purged_on": case.purged_on.map(|day| day.to_string()),
                        "relay_deletes_on": case.relay_deletion(store.state.relay_retention_days).map(|day| day.to_string()),
                        "aftercare_done": aftercare.and_then(|(_, done)| done.map(|day| day.to_string())),
                        "messages": case.messages.len(),
                        "quarantined": case.quarantined.len(),
                        "partial": case.is_partial(),
                    })
                })
                .collect();
            println!("{}", json!({ "cases": listed }));
            return Ok(());
        }
        println!(
            "{:<10}  {:<10}  {:<14}  {:<10}  {:<14}  {:<14}",
            "case", "received", "status", "activity", "ack due", "feedback due"
        );
        let mut overdue_count = 0;
        let mut flagged = 0;
        let (consultations, reports): (Vec<&Case>, Vec<&Case>) =
            cases.iter().partition(|case| case.is_consultation());
        for (index, case) in reports.iter().chain(&consultations).enumerate() {
            if index == reports.len() {
                println!(
                    "\nConsultations (with confidential advisers; not reports, no deadlines):\n{:<10}  {:<10}  {:<14}  {:<10}",
                    "case", "received", "status", "activity"
                );
            }
            let overdue = case.overdue(today);
            if !overdue.is_empty() {
                overdue_count += 1;
            }
            let mark = |what: &str, due: meldpunt_crypto::Day, done: bool| {
                if done {
                    "done".to_owned()
                } else if overdue.contains(&what) {
                    format!("{due} OVERDUE")
                } else {
                    due.to_string()
                }
            };
            if case.is_consultation() {
                println!(
                    "{:<10}  {:<10}  {:<14}  {:<10}",
                    case.id,
                    case.received_on,
                    case.current_status().as_str(),
                    case.last_activity,
                );
            } else {
                println!(
                    "{:<10}  {:<10}  {:<14}  {:<10}  {:<14}  {:<14}",
                    case.id,
                    case.received_on,
                    case.current_status().as_str(),
                    case.last_activity,
                    mark(
                        "acknowledgement",
                        case.acknowledgement_due(),
                        case.acknowledged_on.is_some() || case.current_status().is_closed()
                    ),
                    mark(
                        "feedback",
                        case.feedback_due(),
                        case.feedback_on.is_some() || case.current_status().is_closed()
                    ),
                );
            }
            if case.team.assignee.is_some() || !case.team.labels.is_empty() {
                println!(
                    "{:<10}  assigned to {}{}",
                    "",
                    case.team
                        .assignee
                        .map_or_else(|| "nobody".to_owned(), |key| short_key(&key)),
                    if case.team.labels.is_empty() {
                        String::new()
                    } else {
                        format!("; labels: {}", printable(&case.team.labels.join(", "), 0))
                    }
                );
            }
            if let Some(deletion) = case.relay_deletion(store.state.relay_retention_days) {
                if deletion <= today.plus_days(30) {
                    println!(
                        "{:<10}  ! the relay deletes this mailbox on {deletion} after {} days without activity: write to the reporter or export the case",
                        "",
                        store.state.relay_retention_days.unwrap_or_default()
                    );
                }
            }
            if case.legal_hold.is_some() {
                println!("{:<10}  under a legal hold", "");
            } else if case.purge_due(store.state.retention_months, today) {
                println!(
                    "{:<10}  retention date reached: purge its content with meldpunt inbox purge {}",
                    "", case.id
                );
            }
            if let Some((due, done)) = case.aftercare(store.state.aftercare_months) {
                println!(
                    "{:<10}  aftercare check-in {}",
                    "",
                    match done {
                        Some(day) => format!("done on {day}"),
                        None if today > due => format!("due {due}, OVERDUE"),
                        None => format!("due {due}"),
                    }
                );
            }
            if !case.quarantined.is_empty() {
                flagged += 1;
                println!(
                    "{:<10}  ! {} quarantined message(s): meldpunt inbox show {}",
                    "",
                    case.quarantined.len(),
                    case.id
                );
            }
            if case.is_partial() {
                println!(
                    "{:<10}  ! partial: its beginning was sealed before your key was in the directory",
                    ""
                );
            }
        }
        let counts: Vec<String> = CaseStatus::ALL
            .into_iter()
            .map(|status| {
                let count = store
                    .state
                    .cases
                    .values()
                    .filter(|case| case.current_status() == status)
                    .count();
                format!("{count} {}", status.as_str())
            })
            .collect();
        println!(
            "\n{} case(s), {} of them consultations: {}; {} overdue; {} with quarantined messages.",
            store.state.cases.len(),
            store
                .state
                .cases
                .values()
                .filter(|case| case.is_consultation())
                .count(),
            counts.join(", "),
            overdue_count,
            flagged
        );
        Ok(())
    }

    /// `meldpunt inbox show`.
    pub fn show(&self, id: &str) -> Result<()> {
        let (identities, mut store) = self.open()?;
        let case = store.case_mut(id)?.clone();
        let refused_hand_overs: Vec<_> = store
            .state
            .refused_hand_overs
            .iter()
            .filter(|refused| refused.case.as_deref() == Some(case.id.as_str()))
            .cloned()
            .collect();
        let history = team::history(
            &case,
            &store.state.office_signers,
            store.state.address().as_ref(),
        );
        let thread: Vec<(StoredMessage, Message)> = case
            .messages
            .iter()
            .map(|stored| stored.message().map(|message| (stored.clone(), message)))
            .collect::<Result<_>>()?;
        if self.json {
            let messages: Vec<_> = thread
                .iter()
                .map(|(stored, message)| {
                    json!({
                        "position": stored.position,
                        "author": stored.author,
                        "kind": message.kind.as_str(),
                        "written_on": message.written_on.to_string(),
                        "stored_on": stored.stored_on,
                        "unverified": stored.unverified,
                        "missing_before": stored.missing_before,
                        "handed_over_by": stored.handed_over_by.map(|key| key.to_string()),
                        "body": message.body.as_str(),
                        "answers": &message.answers,
                        "purpose": message.purpose.as_str(),
                        "attachments": message.attachments.iter().map(|a| json!({"name": a.name, "size": a.size, "id": a.location})).collect::<Vec<_>>(),
                        "identity_shared_with": crate::reporter::shared_with(message),
                        "shared_identity": shared_identity(message, &identities).as_deref().map(String::as_str),
                        "carried_consultation": carried_json(message, &store.state.office_signers),
                    })
                })
                .collect();
            let quarantined: Vec<_> = case
                .quarantined
                .iter()
                .map(|message| {
                    json!({
                        "number": message.number,
                        "position": message.position,
                        "author": message.author,
                        "stored_on": message.stored_on,
                        "reason": message.reason,
                    })
                })
                .collect();
            let refused: Vec<_> = refused_hand_overs
                .iter()
                .map(|refused| json!({"number": refused.number, "reason": refused.reason}))
                .collect();
            println!(
                "{}",
                json!({
                    "case": case.id,
                    "conversation": case.check.conversation().as_str(),
                    "status": case.current_status(),
                    "assignee": case.team.assignee.map(|key| key.to_string()),
                    "labels": case.team.labels,
                    "team_history": history.iter().map(team::HistoryEntry::to_json).collect::<Vec<_>>(),
                    "team_records_missing": case.team.missing,
                    "partial": case.is_partial(),
                    "oral_record": case.record().map(|record| json!({
                        "by": record.by.recipient,
                        "channel": record.channel.as_str(),
                        "verified": record.verified,
                        "standing": record.standing.describe(),
                    })),
                    "messages": messages,
                    "quarantined": quarantined,
                    "refused_hand_overs": refused,
                })
            );
            return Ok(());
        }
        if case.is_consultation() {
            println!(
                "Consultation {} — {} — received {} (not a report: no deadlines; readable only by the advisers the reporter chose)",
                case.id,
                case.current_status().as_str(),
                case.received_on,
            );
        } else {
            println!(
                "Case {} — {} — received {}, acknowledgement due {}, feedback due {}",
                case.id,
                case.current_status().as_str(),
                case.received_on,
                case.acknowledgement_due(),
                case.feedback_due()
            );
        }
        if let Some(record) = case.record() {
            println!(
                "Oral report ({}) recorded by {}{}: {}",
                record.channel.as_str(),
                record.by.recipient,
                if record.verified {
                    ""
                } else {
                    " (NOT VERIFIED: the directory does not list the recording key for it)"
                },
                record.standing.describe()
            );
        }
        if !history.is_empty() {
            println!(
                "Team: assigned to {}; labels: {}",
                case.team
                    .assignee
                    .map_or_else(|| "nobody".to_owned(), |key| short_key(&key)),
                if case.team.labels.is_empty() {
                    "none".to_owned()
                } else {
                    printable(&case.team.labels.join(", "), 0)
                }
            );
            for entry in &history {
                println!(
                    "  {} · {} ({}) · {}{}",
                    entry.written_on,
                    entry.from,
                    short_key(&entry.signer),
                    entry.describe(),
                    entry
                        .standing
                        .as_ref()
                        .map(|why| format!(" — DOES NOT COUNT: {why}"))
                        .unwrap_or_default()
                );
            }
            if case.team.missing > 0 {
                println!(
                    "  ! {} of the team's records are missing before later ones (withheld by the relay?)",
                    case.team.missing
                );
            }
        }
        if case.is_partial() {
            println!(
                "PARTIAL: the beginning of this case was sealed before your key was in the directory; \
                 what is shown is what you can open. Follow-ups cannot be verified without the report."
            );
        }
        for (stored, message) in &thread {
            println!(
                "\n── {} · {} · {}{} · written {}{}{} ──{}",
                stored.position,
                stored.author,
                message.kind.as_str(),
                match message.purpose {
                    meldpunt_crypto::Purpose::Message => "",
                    meldpunt_crypto::Purpose::Closing => " (closing)",
                    meldpunt_crypto::Purpose::Evaluation => " (evaluation of the process)",
                    meldpunt_crypto::Purpose::Confirmation => " (the reporter CONFIRMS the record)",
                    meldpunt_crypto::Purpose::Correction => " (the reporter CORRECTS the record)",
                },
                message.written_on,
                if stored.unverified {
                    " · NOT VERIFIED"
                } else {
                    ""
                },
                handed_note(stored.handed_over_by.as_ref(), message),
                missing_note(stored.missing_before)
            );
            println!("{}", printable(message.body.trim_end(), 0));
            for line in
                crate::questionnaire::lines(store.state.questions_for(message), &message.answers)
            {
                println!("  answer · {}", printable(&line, 0));
            }
            if let Some(with) = crate::reporter::shared_with(message) {
                match shared_identity(message, &identities) {
                    Some(identity) => println!(
                        "  IDENTITY, shared with {with} only (yours to protect):\n  {}",
                        printable(identity.trim_end(), 0).replace('\n', "\n  ")
                    ),
                    None => println!(
                        "  [the reporter shared their identity with {with} only; it is not readable here]"
                    ),
                }
            }
            for reference in &message.attachments {
                println!(
                    "  attachment: {} ({} bytes)",
                    reference.name, reference.size
                );
            }
            print_carried(message, &store.state.office_signers);
        }
        for message in &case.quarantined {
            println!(
                "\n── {} · {} · QUARANTINED (relay message {}, stored {}) ──\n{}\n  The sealed original is kept in the store; it is not shown.",
                message.position, message.author, message.number, message.stored_on, message.reason
            );
        }
        for refused in &refused_hand_overs {
            println!(
                "\n── hand-over {} REFUSED ──\n{}\n  Nothing of it was filed.",
                refused.number, refused.reason
            );
        }
        Ok(())
    }

    /// `meldpunt inbox intake`: records an oral report and prints its receipt code once.
    pub fn intake(
        &self,
        channel: meldpunt_crypto::Channel,
        message_file: Option<&Path>,
        answers: &[String],
        answers_file: Option<&Path>,
    ) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let body = input::message(message_file, "record of the oral report")?;
        let recorded =
            self.record_oral_report(&identities, channel, today(), body, |organisation| {
                crate::questionnaire::gather(organisation, answers, answers_file, false)
            })?;
        if self.json {
            println!(
                "{}",
                json!({ "case": recorded.case, "receipt_code": recorded.receipt_code.as_str() })
            );
        } else {
            println!(
                "Recorded as case {} (it arrives with the next sync).

                 Receipt code for the reporter — write it down for them on paper, now; it is shown only this once and kept nowhere:

    {}

                 With it they read this record (meldpunt check, or the web form), confirm or correct it, and keep talking with you.
                 Do not keep a copy: whoever holds the code can read the replies and write as the reporter.",
                recorded.case,
                recorded.receipt_code.as_str()
            );
        }
        Ok(())
    }

    /// `meldpunt inbox reply`.
    pub fn reply(
        &self,
        id: &str,
        acknowledgement: bool,
        message_file: Option<&Path>,
        files: &[PathBuf],
        keep_metadata: bool,
    ) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let (case_id, message) = self.send_with(
            &identities,
            id,
            acknowledgement,
            meldpunt_crypto::Purpose::Message,
            || {
                if acknowledgement {
                    match message_file {
                        Some(path) => input::message(Some(path), "acknowledgement"),
                        None => Ok(zeroize::Zeroizing::new(ACKNOWLEDGEMENT_TEXT.to_owned())),
                    }
                } else {
                    input::message(message_file, "reply")
                }
            },
            || attachments::plan_files(files, keep_metadata),
        )?;
        if self.json {
            println!(
                "{}",
                json!({ "case": case_id, "sent": message.kind.as_str() })
            );
        } else {
            println!(
                "Sent the {} to case {case_id}. Run meldpunt inbox sync to see it in the thread.",
                message.kind.as_str(),
            );
        }
        Ok(())
    }

    /// Sends an office message with `body` and the `planned` attachments into case `id` as
    /// `identities` (the office app's way: text and files come from its form).
    pub fn send(
        &self,
        identities: &[IdentityKey],
        id: &str,
        acknowledgement: bool,
        purpose: meldpunt_crypto::Purpose,
        body: &str,
        planned: Vec<attachments::Planned>,
    ) -> Result<Message> {
        self.send_with(
            identities,
            id,
            acknowledgement,
            purpose,
            || Ok(zeroize::Zeroizing::new(body.to_owned())),
            || Ok(planned),
        )
        .map(|(_, message)| message)
    }

    /// Sends a reply or acknowledgement, its text read by `body` once the case is known to
    /// take one.
    fn send_with(
        &self,
        identities: &[IdentityKey],
        id: &str,
        acknowledgement: bool,
        purpose: meldpunt_crypto::Purpose,
        body: impl FnOnce() -> Result<zeroize::Zeroizing<String>>,
        attachments: impl FnOnce() -> Result<Vec<attachments::Planned>>,
    ) -> Result<(String, Message)> {
        let mut store = Store::open(&self.store, identities)?;
        let case = store.case_mut(id)?.clone();
        if case.purged_on.is_some() {
            return Err(CliError::Usage(format!(
                "case {} was purged at its retention date; nothing is sent from it",
                case.id
            )));
        }
        // A case in aftercare stays open for messages: the check-in is one.
        if case.current_status() == CaseStatus::Closed {
            return Err(CliError::Usage(format!(
                "case {} is closed; to write to the reporter after closing (aftercare), set its status first: meldpunt inbox status {} aftercare",
                case.id, case.id
            )));
        }
        if acknowledgement && case.is_consultation() {
            return Err(CliError::Usage(format!(
                "{} is a consultation, not a report: it takes no acknowledgement of receipt; reply instead",
                case.id
            )));
        }
        let reply_key = case.reply_key.clone().ok_or_else(|| {
            CliError::Usage(if case.is_partial() {
                format!(
                    "case {} is partial: its report was sealed before your key was in the directory, \
                     so the reporter's reply key is not known here; ask a colleague who has the report to reply",
                    case.id
                )
            } else {
                format!("case {} has no report yet; run meldpunt inbox sync", case.id)
            })
        })?;
        let session = self.session(identities, &mut store)?;
        session.require_office_key()?;
        let participants = case
            .check
            .participants()
            .unwrap_or_else(|| case.recipients.clone());
        if !participants.contains(&session.address) {
            return Err(CliError::Usage(format!(
                "case {} was addressed to {}; this identity is {}, whose replies the reporter would not accept",
                case.id,
                participants
                    .iter()
                    .map(|address| address.recipient.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                session.address.recipient
            )));
        }
        let conversation = meldpunt_crypto::Thread::new(case.check.clone(), reply_key)?;
        let keys = conversation.seal_keys(&session.directory)?;
        let body = body()?;
        let mailbox = case.check.mailbox();
        let mut references = Vec::new();
        for planned in attachments()? {
            references.push(planned.reference.clone());
            planned.upload(
                &session.relay,
                Upload::Office {
                    session: &session.token,
                    mailbox: &mailbox,
                },
                &keys,
            )?;
        }
        // Signed by this identity's office key; numbered in that key's own sequence (and after
        // what it sent that the thread does not show yet), so that colleagues replying at the
        // same time never collide.
        let message = conversation.office_message(
            &identities[0].office_signing_key(),
            session.address.clone(),
            acknowledgement,
            case.sent_sequence,
            Content {
                purpose,
                answers: Default::default(),
                written_on: today(),
                body: body.to_string().into(),
                attachments: references,
            },
        )?;
        session
            .relay
            .reply(&session.token, &mailbox, message.seal(&keys)?.into_bytes())?;
        let updated = store.case_mut(id)?;
        updated.sent_sequence = message.sequence;
        apply(updated, &message, today());
        // What the message did to the case's status (by what was sent, never by a status
        // this store kept from before the team's records), recorded for the whole team when
        // it moves the status on.
        let reached = if acknowledgement {
            CaseStatus::Acknowledged
        } else if updated.acknowledged_on.is_some() {
            CaseStatus::FeedbackGiven
        } else {
            CaseStatus::New
        };
        let shown = updated.current_status();
        let moves_on = shown < reached && !shown.is_closed();
        store.save()?;
        drop(store);
        if moves_on {
            // The message is sent whatever happens here: a failure is a warning, never an
            // error that would make the office send it again.
            if let Err(error) = self.record_change(identities, id, CaseChange::Status(reached)) {
                eprintln!(
                    "Warning: the {} was sent, but the case's status could not be recorded for the team: {error}",
                    message.kind.as_str()
                );
            }
        }
        Ok((case.id, message))
    }

    /// `meldpunt inbox close`.
    ///
    /// A report is closed with a closing message to the reporter (`message_file`, else
    /// [`CLOSING_TEXT`]) that invites them to evaluate the process, unless `silently`; a
    /// consultation is closed without one.
    pub fn close(&self, id: &str, message_file: Option<&Path>, silently: bool) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let (case_id, tell) =
            self.close_telling(&identities, id, silently, || match message_file {
                Some(path) => input::message(Some(path), "closing message"),
                None => Ok(zeroize::Zeroizing::new(CLOSING_TEXT.to_owned())),
            })?;
        if self.json {
            println!(
                "{}",
                json!({ "case": case_id, "status": "closed", "closing_message_sent": tell })
            );
        } else if tell {
            println!(
                "Closed case {case_id}; the reporter was told and invited to evaluate the process."
            );
        } else {
            println!("Closed case {case_id}.");
        }
        Ok(())
    }

    /// Closes case `id` as `identities`: a report not closed yet first gets the closing
    /// message `body` gives (a reply that invites the reporter to evaluate), unless
    /// `silently`. Returns the case id and whether the reporter was told.
    pub fn close_telling(
        &self,
        identities: &[IdentityKey],
        id: &str,
        silently: bool,
        body: impl FnOnce() -> Result<zeroize::Zeroizing<String>>,
    ) -> Result<(String, bool)> {
        let (report, already_closed) = {
            let mut store = Store::open(&self.store, identities)?;
            let case = store.case_mut(id)?;
            (
                !case.is_consultation() && case.has_report(),
                case.current_status() == CaseStatus::Closed,
            )
        };
        let tell = !silently && report && !already_closed;
        if tell {
            self.send_with(
                identities,
                id,
                false,
                meldpunt_crypto::Purpose::Closing,
                body,
                || Ok(Vec::new()),
            )?;
        }
        Ok((self.set_closed(identities, id, true)?, tell))
    }

    /// `meldpunt inbox reopen`.
    pub fn reopen(&self, id: &str) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let case_id = self.set_closed(&identities, id, false)?;
        if self.json {
            println!("{}", json!({ "case": case_id, "status": "reopened" }));
        } else {
            println!("Reopened case {case_id}.");
        }
        Ok(())
    }

    /// Closes case `id` (today), or reopens it with the status its thread gives; returns
    /// its id.
    ///
    /// The status is the team's: it is recorded for every member (a case record) rather
    /// than kept in this store alone.
    pub fn set_closed(&self, identities: &[IdentityKey], id: &str, closed: bool) -> Result<String> {
        let status = {
            let mut store = Store::open(&self.store, identities)?;
            let case = store.case_mut(id)?;
            if closed {
                CaseStatus::Closed
            } else if case.feedback_on.is_some() {
                CaseStatus::FeedbackGiven
            } else if case.acknowledged_on.is_some() {
                CaseStatus::Acknowledged
            } else {
                CaseStatus::New
            }
        };
        self.record_change(identities, id, CaseChange::Status(status))
    }

    /// `meldpunt inbox export`. Checks everything it needs (the case, an empty target, the
    /// relay and a session when there are attachments) before it writes anything; writes
    /// every folder 0700 and every file 0600 (the folder holds the report in plaintext); and
    /// removes what it wrote if it fails halfway.
    pub fn export(&self, id: &str, out: &Path) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let (case_id, files) = self.export_with(&identities, id, out)?;
        if self.json {
            println!(
                "{}",
                json!({ "case": case_id, "folder": out, "files": files })
            );
        } else {
            println!(
                "Exported case {case_id} to {}: sealed originals (open with age -d -i IDENTITY), opened texts, attachments, manifest.json with SHA-256 of every file.\n\
                 WARNING: this folder holds the report in plaintext; keep it in the investigation file's protected storage.",
                out.display()
            );
        }
        Ok(())
    }

    /// Exports case `id` into `out` as `identities` (the office app's way); returns the
    /// case's id and how many files were written.
    pub fn export_with(
        &self,
        identities: &[IdentityKey],
        id: &str,
        out: &Path,
    ) -> Result<(String, usize)> {
        let mut store = Store::open(&self.store, identities)?;
        let case = store.case_mut(id)?.clone();
        let existed = out.exists();
        if existed
            && std::fs::read_dir(out)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(true)
        {
            return Err(CliError::Usage(format!(
                "{} exists and is not empty; choose a new folder",
                out.display()
            )));
        }
        let session = if case.attachments().is_empty() {
            None
        } else {
            Some(self.session(identities, &mut store)?)
        };
        let written = self.write_export(&case, out, &store, identities, session.as_ref());
        let files = match written {
            Ok(files) => files,
            Err(error) => {
                let cleaned = if existed {
                    std::fs::read_dir(out).and_then(|entries| {
                        entries.flatten().try_for_each(|entry| {
                            let path = entry.path();
                            if path.is_dir() {
                                std::fs::remove_dir_all(path)
                            } else {
                                std::fs::remove_file(path)
                            }
                        })
                    })
                } else {
                    std::fs::remove_dir_all(out)
                };
                if let Err(cleanup) = cleaned {
                    eprintln!(
                        "WARNING: the export failed and {} could not be removed ({cleanup}); it may hold plaintext, delete it",
                        out.display()
                    );
                }
                return Err(error);
            }
        };
        Ok((case.id, files))
    }

    /// Writes the export folder; returns how many files it wrote.
    fn write_export(
        &self,
        case: &Case,
        out: &Path,
        store: &Store,
        identities: &[IdentityKey],
        session: Option<&Session>,
    ) -> Result<usize> {
        // Never overwrite: two messages the relay gave one position must not replace each
        // other's file in an evidence folder.
        let write = |path: &Path, contents: &[u8]| {
            create_private(path, contents).map_err(|error| CliError::file(path, error))
        };
        for folder in ["originals", "plaintext", "attachments"] {
            create_private_dir(&out.join(folder))
                .map_err(|error| CliError::file(&out.join(folder), error))?;
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for stored in &case.messages {
            let message = stored.message()?;
            let stem = format!(
                "{:03}-{}-{}",
                stored.position,
                stored.number,
                message.kind.as_str()
            );
            let (original, source) = match stored.hand_over {
                Some(number) => (
                    out.join("originals")
                        .join(format!("{stem}-handed-over.age")),
                    store.hand_over_path(number),
                ),
                None => (
                    out.join("originals").join(format!("{stem}.age")),
                    store.original_path(stored.number),
                ),
            };
            let sealed = std::fs::read(&source).map_err(|error| CliError::file(&source, error))?;
            write(&original, &sealed)?;
            files.push(original);
            let json_path = out.join("plaintext").join(format!("{stem}.json"));
            write(&json_path, stored.message_json.as_bytes())?;
            files.push(json_path);
            let text_path = out.join("plaintext").join(format!("{stem}.txt"));
            let text = zeroize::Zeroizing::new(format!(
                "Case {}\nMessage {} ({}), from the {}{}\nWritten on {}; stored by the relay on {}\n\n{}\n",
                case.id,
                stored.position,
                message.kind.as_str(),
                stored.author,
                match (stored.unverified, &stored.handed_over_by) {
                    (true, _) => " (NOT VERIFIED: the report was not sealed to this identity)".to_owned(),
                    (false, Some(key)) => format!(" (handed over by the colleague with office key {key})"),
                    (false, None) => String::new(),
                },
                message.written_on,
                stored.stored_on,
                message.body.as_str()
            ));
            write(&text_path, text.as_bytes())?;
            files.push(text_path);
        }
        for quarantined in &case.quarantined {
            let original = out.join("originals").join(format!(
                "{:03}-{}-quarantined.age",
                quarantined.position, quarantined.number
            ));
            let source = store.original_path(quarantined.number);
            let sealed = std::fs::read(&source).map_err(|error| CliError::file(&source, error))?;
            write(&original, &sealed)?;
            files.push(original);
        }
        if let Some(session) = session {
            for (_, reference) in case.attachments() {
                let path = attachments::download(
                    &session.relay,
                    Credential::Office(&session.token),
                    &case.fetch_reference(&reference),
                    identities,
                    &out.join("attachments"),
                )?;
                files.push(path);
            }
        }
        let mut manifest = Vec::new();
        for path in &files {
            let mut file =
                std::fs::File::open(path).map_err(|error| CliError::file(path, error))?;
            let mut digest = Sha256::new();
            let length = std::io::copy(&mut file, &mut digest)
                .map_err(|error| CliError::file(path, error))?;
            let relative = path.strip_prefix(out).unwrap_or(path);
            manifest.push(json!({
                "file": relative,
                "sha256": digest.finalize().iter().map(|byte| format!("{byte:02x}")).collect::<String>(),
                "bytes": length,
            }));
        }
        let document = json!({
            "case": case.id,
            "mailbox": case.mailbox,
            "status": case.current_status(),
            "partial": case.is_partial(),
            "received_on": case.received_on.to_string(),
            "acknowledged_on": case.acknowledged_on.map(|day| day.to_string()),
            "feedback_on": case.feedback_on.map(|day| day.to_string()),
            "closed_on": case.closed_day().map(|day| day.to_string()),
            "exported_on": today().to_string(),
            "quarantined": case.quarantined.iter().map(|message| json!({"position": message.position, "reason": message.reason})).collect::<Vec<_>>(),
            "files": manifest,
        });
        write(
            &out.join("manifest.json"),
            &serde_json::to_vec_pretty(&document).expect("serialisable"),
        )?;
        Ok(files.len() + 1)
    }
}

/// How much one sync did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SyncSummary {
    /// Messages filed (handed over by colleagues included).
    pub arrived: usize,
    /// Messages quarantined and hand-overs refused.
    pub quarantined: usize,
    /// Cases created partial.
    pub partial: usize,
    /// Messages sealed only to other recipients of the organisation.
    pub not_addressed: usize,
}

/// What one sync did.
#[derive(Debug, Default)]
struct SyncReport {
    /// Filed: case, author, what.
    arrived: Vec<(String, String, Filed)>,
    /// Quarantined: case, relay number, reason.
    quarantined: Vec<(String, u64, String)>,
    /// Cases created partial.
    partial: Vec<String>,
    /// Messages sealed only to other recipients.
    not_addressed: usize,
    /// Hand-overs from colleagues taken in or refused.
    received: hand_over::Received,
    /// Colleagues' case records taken in or set aside.
    team: team::TeamReceived,
}

/// The identity a follow-up shares, when it is sealed to one of `identities` (the chosen
/// recipient's); `None` for everyone else, and for messages that share none.
pub(crate) fn shared_identity(
    message: &Message,
    identities: &[IdentityKey],
) -> Option<zeroize::Zeroizing<String>> {
    match &message.kind {
        MessageKind::FollowUp {
            shared_identity: Some(shared),
            ..
        } => shared.open(identities).ok(),
        _ => None,
    }
}

/// An office key shortened for a terminal line: `mpok1` and its next 8 characters.
pub(crate) fn short_key(key: &OfficeKey) -> String {
    key.to_string().chars().take(13).collect::<String>() + "…"
}

/// What to say of messages missing before one (withheld by the relay, or not sealed to
/// this identity).
fn missing_note(missing: u32) -> String {
    if missing == 0 {
        String::new()
    } else {
        format!(
            " — WARNING: {missing} earlier message(s) of its author never arrived here \
             (withheld by the relay, or not sealed to your key)"
        )
    }
}

/// What to say of a message a colleague handed over: who, and for a report that it rests on
/// their word (a report is never signed; every other kind was checked against its author).
fn handed_note(by: Option<&OfficeKey>, message: &Message) -> String {
    match (by, &message.kind) {
        (None, _) => String::new(),
        (Some(key), MessageKind::Report { .. }) => {
            format!(" · handed over by {key} (a report is not signed: on their word)")
        }
        (Some(key), _) => format!(" · handed over by {key}"),
    }
}

/// The short case id shown to people: from the mailbox id.
pub(crate) fn case_id(mailbox: &str) -> String {
    mailbox
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(10)
        .collect()
}

/// Fetches, opens and files (or quarantines) one listed message.
fn file_entry(
    identities: &[IdentityKey],
    session: &Session,
    store: &mut Store,
    report: &mut SyncReport,
    signers: &[(RecipientAddress, OfficeKey)],
    entry: &OfficeEntry,
) -> Result<()> {
    let sealed = session.relay.office_message(&session.token, entry.number)?;
    let opened = match Message::open(identities, &sealed) {
        // Addressed to another recipient of the organisation only (or sealed before this
        // member's recipient joined the case: noted, for a hand-over of it).
        Err(meldpunt_crypto::Error::NotForThisIdentity) => {
            report.not_addressed += 1;
            store.state.sealed_elsewhere.insert(
                format!("{}/{}", entry.mailbox.to_wire(), entry.position),
                entry.number,
            );
            return Ok(());
        }
        other => other,
    };
    // The relay's day, never one after today (a far-future day would break deadlines).
    let day = entry.day.min(today());
    let author = entry.author.as_str().to_owned();
    let mailbox = entry.mailbox;
    let case_id = case_id(&mailbox.to_wire());
    // A purged case's content stays purged: what the relay stored up to the day of the purge
    // is not filed again (what a reporter writes after it is).
    if store
        .state
        .cases
        .get(&case_id)
        .and_then(|case| case.purged_through)
        .is_some_and(|purged_through| entry.number <= purged_through)
    {
        return Ok(());
    }
    store.keep_original(entry.number, &sealed)?;
    if !store.state.cases.contains_key(&case_id) {
        // Partial only when the first message this identity can open is not the mailbox's
        // report: decided by what the message is, not by the position the relay claims.
        let is_report = matches!(
            &opened,
            Ok(Message {
                kind: MessageKind::Report { .. },
                ..
            })
        );
        let partial = entry.position > 1 && !is_report;
        let case = Case::new(
            case_id.clone(),
            mailbox,
            day,
            partial,
            signers.to_vec(),
            &store.state.roles,
        );
        if partial {
            report.partial.push(case_id.clone());
        }
        store.state.cases.insert(case_id.clone(), case);
    }
    let case = store.state.cases.get_mut(&case_id).expect("just inserted");
    match file(case, entry, opened, day) {
        Ok(filed) => report.arrived.push((case_id, author, filed)),
        Err(reason) => {
            case.quarantined.push(QuarantinedMessage {
                number: entry.number,
                position: entry.position,
                author,
                stored_on: day.to_string(),
                reason: reason.clone(),
            });
            report.quarantined.push((case_id, entry.number, reason));
        }
    }
    session.relay.mark_fetched(&session.token, entry.number)?;
    Ok(())
}

/// `text` as it may be shown in a terminal: control characters (escape sequences that could
/// move the cursor, erase a line or fake a header) replaced, except newlines and tabs; cut
/// to `limit` characters when a limit is given (0: none).
pub fn printable(text: &str, limit: usize) -> String {
    text.chars()
        .take(if limit == 0 { usize::MAX } else { limit })
        .map(|character| {
            if character.is_control() && character != '\n' && character != '\t' {
                '\u{FFFD}'
            } else {
                character
            }
        })
        .collect()
}

/// A message filed by a sync.
#[derive(Debug)]
struct Filed {
    kind: &'static str,
    unverified: bool,
    missing_before: u32,
}

/// Files one opened message into its case, or says why it must be quarantined (then the
/// case is unchanged but for the caller's quarantine entry).
fn file(
    case: &mut Case,
    entry: &OfficeEntry,
    opened: meldpunt_crypto::Result<Message>,
    day: meldpunt_crypto::Day,
) -> std::result::Result<Filed, String> {
    let message =
        opened.map_err(|error| format!("it does not open as a Meldpunt message: {error}"))?;
    let admitted = case
        .check
        .admit(&message, entry.author)
        .map_err(|error| format!("it does not fit the case: {error}"))?;
    let unverified = admitted.authenticity == Authenticity::UnverifiedFollowUp;
    apply(case, &message, day);
    let message_json = match message.encode() {
        Ok(encoded) => String::from_utf8(encoded.to_vec()).expect("JSON is UTF-8"),
        Err(error) => return Err(format!("it cannot be stored: {error}")),
    };
    // Kept in position order; a message that arrives in order goes at the end, so filing a
    // case's messages one by one stays linear in their number (no sort per message).
    let at = case
        .messages
        .partition_point(|stored| stored.position <= entry.position);
    case.messages.insert(
        at,
        StoredMessage {
            number: entry.number,
            position: entry.position,
            author: entry.author.as_str().to_owned(),
            stored_on: day.to_string(),
            message_json,
            unverified,
            missing_before: admitted.missing_before,
            handed_over_by: None,
            hand_over: None,
            attachment_copies: Default::default(),
        },
    );
    Ok(Filed {
        kind: message.kind.as_str(),
        unverified,
        missing_before: admitted.missing_before,
    })
}

/// The consultation a report carries, as `inbox show` prints it after the report.
fn print_carried(message: &Message, signers: &[(RecipientAddress, OfficeKey)]) {
    match crate::consultation::carried(message, signers) {
        None => {}
        Some(Err(why)) => println!("  ! It carries a consultation that is NOT SHOWN: {why}"),
        Some(Ok(entries)) => {
            println!(
                "  ┌ The consultation before this report, carried by the reporter ({} message(s)):",
                entries.len()
            );
            for entry in entries {
                if entry.missing_before > 0 {
                    println!(
                        "  │ ({} earlier message(s) of this author not carried)",
                        entry.missing_before
                    );
                }
                println!(
                    "  │ ── {} · written {}{} ──",
                    printable(&entry.author, 0),
                    entry.written_on,
                    entry
                        .not_verified
                        .as_ref()
                        .map(|why| format!(" · NOT VERIFIED: {why}"))
                        .unwrap_or_default()
                );
                println!(
                    "  │ {}",
                    printable(entry.body.trim_end(), 0).replace('\n', "\n  │ ")
                );
                for name in &entry.attachments {
                    println!(
                        "  │ attachment {} (stayed with the consultation)",
                        printable(name, 0)
                    );
                }
            }
            println!("  └");
        }
    }
}

/// The consultation a report carries, for `inbox show --json`.
fn carried_json(message: &Message, signers: &[(RecipientAddress, OfficeKey)]) -> serde_json::Value {
    match crate::consultation::carried(message, signers) {
        None => serde_json::Value::Null,
        Some(Err(why)) => json!({ "refused": why }),
        Some(Ok(entries)) => json!({
            "messages": entries.iter().map(|entry| json!({
                "author": entry.author,
                "written_on": entry.written_on.to_string(),
                "body": entry.body.as_str(),
                "attachments": entry.attachments,
                "verified": entry.not_verified.is_none(),
                "reason": entry.not_verified,
                "missing_before": entry.missing_before,
            })).collect::<Vec<_>>(),
        }),
    }
}

/// Updates a case's status from a message in its thread.
pub(crate) fn apply(case: &mut Case, message: &Message, day: meldpunt_crypto::Day) {
    case.last_activity = case.last_activity.max(day);
    match &message.kind {
        MessageKind::Report {
            reply_key,
            recipients,
            ..
        } => {
            case.reply_key = Some(reply_key.clone());
            case.recipients = recipients.clone();
            case.received_on = day;
        }
        MessageKind::Acknowledgement { .. } => {
            if case.acknowledged_on.is_none() {
                case.acknowledged_on = Some(day);
            }
            if case.status == CaseStatus::New {
                case.status = CaseStatus::Acknowledged;
            }
        }
        MessageKind::Reply { .. } => {
            if case.acknowledged_on.is_some() && case.feedback_on.is_none() {
                case.feedback_on = Some(day);
            }
            if matches!(case.status, CaseStatus::New | CaseStatus::Acknowledged)
                && case.acknowledged_on.is_some()
            {
                case.status = CaseStatus::FeedbackGiven;
            }
        }
        MessageKind::FollowUp { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let hostile = "Echt.\n\x1b[1A\x1b[2K── 3 · office · reply ──\r\u{9b}2J\ttab";
        let shown = printable(hostile, 0);
        assert!(!shown.contains('\x1b') && !shown.contains('\r') && !shown.contains('\u{9b}'));
        assert!(shown.starts_with("Echt.\n") && shown.ends_with("\ttab"));
        assert_eq!(printable("reporter\x07extra", 8), "reporter");
    }
}
