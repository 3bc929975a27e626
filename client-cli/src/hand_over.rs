//! Hand-overs between members of one recipient (see `meldpunt_crypto::HandOver`).
//!
//! `meldpunt inbox hand-over --to KEY` re-seals every message of the chosen (or all open)
//! cases to a colleague who joined the recipient later, each signed with this member's
//! office key, and posts them to the relay, which keeps them apart from the reporter's
//! mailbox. `meldpunt inbox sync` takes in what colleagues handed to this member: each
//! hand-over is checked against the signed directory (a member of this member's own
//! recipient signed it, for this member's key) and then, with the case's other messages,
//! through a fresh thread check, as if the relay had served it; one that does not fit is
//! refused with why, and never stops the sync or changes the case.
//!
//! This module never seals a case to a key the signed directory does not list for this
//! member's own recipient, and never lets a handed message replace one this member opened
//! from the relay.

use std::io::{BufReader, Read as _, Seek as _, SeekFrom};

use meldpunt_crypto::{
    AttachmentCopy, AttachmentId, AttachmentReference, Authenticity, Author, CaseStatus, Day,
    HandOver, HandedMessage, IdentityKey, Message, MessageKind, OfficeKey, RecipientAddress,
    RecipientKey,
};
use meldpunt_wire::HandOverEntry;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::clock::today;
use crate::error::{CliError, Result};
use crate::inbox::{apply, case_id, Inbox, Session};
use crate::input;
use crate::relay::{Credential, Upload};
use crate::store::{Case, QuarantinedMessage, Store, StoredMessage};

/// A hand-over this member's client refused, kept in the store to be shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefusedHandOver {
    /// The relay's hand-over number.
    pub number: u64,
    /// The case it was about, when that could be told.
    pub case: Option<String>,
    /// Why it was refused.
    pub reason: String,
}

/// What taking in hand-overs did in one sync.
#[derive(Debug, Default)]
pub(crate) struct Received {
    /// Filed: case, position.
    pub handed: Vec<(String, u32)>,
    /// Refused: hand-over number, case if known, reason.
    pub refused: Vec<RefusedHandOver>,
}

impl Inbox {
    /// `meldpunt inbox hand-over`: hands the cases `chosen` (ids or their first characters),
    /// or every open case when `open`, to the colleague whose age key is `to`.
    pub fn hand_over(&self, to: &str, chosen: &[String], open: bool) -> Result<()> {
        let to: RecipientKey = to.trim().parse().map_err(|_| {
            CliError::Usage("--to takes the colleague's age public key (age1…)".into())
        })?;
        let identities = input::identities(&self.identity)?;
        let mut store = Store::open(&self.store, &identities)?;
        let session = self.session(&identities, &mut store)?;
        session.require_office_key()?;
        store.save()?;
        if identities.iter().any(|identity| identity.recipient() == to) {
            return Err(CliError::Usage(
                "--to is your own key; give the key of the colleague who joined".into(),
            ));
        }
        let members = &session.directory.recipient(&session.address)?.keys;
        if !members.contains(&to) {
            return Err(CliError::Usage(format!(
                "{to} is not a member of {}/{} in the relay's signed directory: a case is handed only \
                 to a colleague of the same recipient (add them with meldpunt directory add-member and sign first)",
                session.address.organisation, session.address.recipient
            )));
        }
        let ids: Vec<String> = if open {
            store
                .state
                .cases
                .values()
                .filter(|case| !case.current_status().is_closed() && !case.messages.is_empty())
                .map(|case| case.id.clone())
                .collect()
        } else {
            chosen
                .iter()
                .map(|id| store.case_mut(id).map(|case| case.id.clone()))
                .collect::<Result<_>>()?
        };
        if ids.is_empty() {
            return Err(CliError::Usage(
                "there is no open case with messages to hand over".into(),
            ));
        }
        // Everything to send, gathered first: the store is let go before the relay is.
        let mut cases: Vec<(Case, Vec<(HandedMessage, bool)>)> = Vec::new();
        for id in &ids {
            let case = store.state.cases[id].clone();
            let handed = case
                .messages
                .iter()
                .map(|stored| handed_message(&store, stored))
                .collect::<Result<Vec<_>>>()?;
            cases.push((case, handed));
        }
        drop(store);
        let day = today();
        // One case that cannot be handed over (the relay refuses, an attachment fails) is
        // reported and the others are still handed over.
        let mut sent = Vec::new();
        let mut failed = Vec::new();
        for (case, handed) in cases {
            match send_case(&session, &identities, &case, &to, None, day, handed) {
                Ok(count) => sent.push((case.id, count)),
                Err(error) => failed.push((case.id, error)),
            }
        }
        if self.json {
            let cases: Vec<_> = sent
                .iter()
                .map(|(case, messages)| json!({"case": case, "messages": messages}))
                .collect();
            let failures: Vec<_> = failed
                .iter()
                .map(|(case, error)| json!({"case": case, "reason": error.to_string()}))
                .collect();
            println!(
                "{}",
                json!({"to": to.to_string(), "cases": cases, "failed": failures})
            );
        } else {
            for (case, messages) in &sent {
                println!("case {case}: {messages} message(s) handed over.");
            }
            for (case, error) in &failed {
                println!("case {case}: NOT handed over: {error}");
            }
            if !sent.is_empty() {
                println!(
                    "Sealed to {to} alone and signed with your office key; they appear in your colleague's \
                     store at their next meldpunt inbox sync."
                );
            }
        }
        match failed.into_iter().next() {
            None => Ok(()),
            Some((case, error)) => Err(CliError::Local(format!(
                "case {case} (and any other listed above) was not handed over: {error}"
            ))),
        }
    }
}

/// Hands over every message of `case`; returns how many.
fn send_case(
    session: &Session,
    identities: &[IdentityKey],
    case: &Case,
    to: &RecipientKey,
    to_recipient: Option<&str>,
    day: Day,
    handed: Vec<(HandedMessage, bool)>,
) -> Result<usize> {
    let signing_key = identities[0].office_signing_key();
    let mailbox = case.check.mailbox();
    let count = handed.len();
    for (mut message, hashed) in handed {
        if !hashed {
            let sealed_original = session
                .relay
                .office_message(&session.token, message.number)?;
            message.sealed_sha256 = Sha256::digest(&sealed_original).into();
        }
        message.copies = copy_attachments(session, identities, case, to, &message.message)?;
        let sealed = signing_key
            .hand_over(session.address.clone(), to.clone(), day, message)?
            .seal()?;
        session
            .relay
            .hand_over(&session.token, &mailbox, to_recipient, sealed.into_bytes())?;
    }
    Ok(count)
}

impl Inbox {
    /// `meldpunt inbox appoint-guide CASE --guide ID [--remove]`: appoints the process guide
    /// `guide` (a recipient of role `process-guide` in the directory) to case `id`: the relay
    /// addresses the case to them, a signed reply tells the reporter (whose clients seal to the
    /// guide from then on), and the case's history is handed over to each of the guide's keys.
    /// With `remove`, a signed reply says the guide left: nothing is sealed to them any more.
    pub fn appoint_guide(&self, id: &str, guide: &str, remove: bool) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let (case_id, handed_over) = self.appoint_guide_with(&identities, id, guide, remove)?;
        if self.json {
            println!(
                "{}",
                json!({"case": case_id, "guide": guide, "joined": !remove, "handed_over": handed_over})
            );
        } else if remove {
            println!("Process guide {guide} left case {case_id}; the reporter was told.");
        } else {
            println!(
                "Process guide {guide} joined case {case_id}: the reporter was told, and {handed_over} message(s) were handed over to the guide."
            );
        }
        Ok(())
    }

    /// Appoints (or, with `remove`, releases) the process guide `guide` to case `id` as
    /// `identities` (the office app's way); returns the case id and how many messages were
    /// handed over to the guide.
    pub fn appoint_guide_with(
        &self,
        identities: &[IdentityKey],
        id: &str,
        guide: &str,
        remove: bool,
    ) -> Result<(String, usize)> {
        let mut store = Store::open(&self.store, identities)?;
        let case = store.case_mut(id)?.clone();
        if case.is_consultation() {
            return Err(CliError::Usage(format!(
                "{} is a consultation, not a report: a process guide joins a report's case only",
                case.id
            )));
        }
        let session = self.session(identities, &mut store)?;
        session.require_office_key()?;
        let reply_key = case.reply_key.clone().ok_or_else(|| {
            CliError::Usage(format!(
                "case {} has no report here; a colleague who holds it appoints the guide",
                case.id
            ))
        })?;
        if !case.recipients.contains(&session.address) {
            return Err(CliError::Usage(format!(
                "case {} was not addressed to {}: only a recipient the reporter chose appoints a process guide",
                case.id, session.address.recipient
            )));
        }
        let address = RecipientAddress {
            organisation: session.address.organisation.clone(),
            recipient: guide.to_owned(),
        };
        let listed = session.directory.recipient(&address).map_err(|_| {
            CliError::Usage(format!(
                "the directory lists no recipient {guide} in {}",
                address.organisation
            ))
        })?;
        if listed.role != meldpunt_crypto::Role::ProcessGuide {
            return Err(CliError::Usage(format!(
                "{guide} is a {}, not a process guide",
                listed.role.as_str()
            )));
        }
        let name = listed.name.clone();
        let guide_keys = listed.keys.clone();
        let mailbox = case.check.mailbox();
        if !remove {
            session
                .relay
                .add_process_guides(&session.token, &mailbox, &[guide.to_owned()])?;
        }
        let mut check = case.check.clone();
        check.set_process_guides(store.state.roles.process_guides.clone());
        let thread = meldpunt_crypto::Thread::new(check, reply_key)?;
        let text = if remove {
            format!(
                "Procesbegeleider {} begeleidt uw melding niet langer. / Process guide {} no longer accompanies your report.",
                name.nl, name.en
            )
        } else {
            format!(
                "Procesbegeleider {} begeleidt vanaf nu uw melding: zij of hij let op het proces en op uw rechten, en leest mee. /                  Process guide {} now accompanies your report: they watch over the process and your rights, and read along.",
                name.nl, name.en
            )
        };
        let message = thread.process_guide_message(
            &identities[0].office_signing_key(),
            session.address.clone(),
            meldpunt_crypto::ProcessGuideChange {
                recipient: address.clone(),
                joined: !remove,
            },
            case.sent_sequence,
            meldpunt_crypto::Content::text(today(), text),
        )?;
        let mut keys = thread.seal_keys(&session.directory)?;
        for key in &guide_keys {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        session
            .relay
            .reply(&session.token, &mailbox, message.seal(&keys)?.into_bytes())?;
        store.case_mut(id)?.sent_sequence = message.sequence;
        store.save()?;
        let mut handed_over = 0;
        let mut failures = Vec::new();
        if !remove {
            let handed = case
                .messages
                .iter()
                .map(|stored| handed_message(&store, stored))
                .collect::<Result<Vec<_>>>()?;
            drop(store);
            for key in &guide_keys {
                // One key that cannot be handed the case (the relay refuses, an attachment
                // fails) does not keep the others from theirs.
                match send_case(
                    &session,
                    identities,
                    &case,
                    key,
                    Some(guide),
                    today(),
                    handed.clone(),
                ) {
                    Ok(count) => handed_over += count,
                    Err(error) => failures.push(format!("{key}: {error}")),
                }
            }
        } else {
            drop(store);
        }
        // Taken back in at once, so that the next reply is sealed to the guide too.
        self.sync_with(identities)?;
        if !failures.is_empty() {
            return Err(CliError::Local(format!(
                "the process guide joined case {} and the reporter was told, but the history was not handed over to every key of the guide ({}); \
                 run meldpunt inbox appoint-guide again to hand it over",
                case.id,
                failures.join("; ")
            )));
        }
        Ok((case.id, handed_over))
    }
}

/// A stored message as it is handed over, and whether it carries the SHA-256 of what the
/// relay serves under its number (which the colleague checks the hand-over against): taken
/// from the sealed original the store kept when it opened the message, else (a message
/// this store got handed over itself) to be fetched from the relay.
fn handed_message(store: &Store, stored: &StoredMessage) -> Result<(HandedMessage, bool)> {
    let original = match stored.hand_over {
        None => std::fs::read(store.original_path(stored.number)).ok(),
        Some(_) => None,
    };
    let message = HandedMessage {
        number: stored.number,
        position: stored.position,
        author: stored.author.parse().map_err(|_| {
            CliError::Local(format!(
                "the store holds an unknown author {}",
                stored.author
            ))
        })?,
        stored_on: stored.stored_on.parse().map_err(|_| {
            CliError::Local(format!(
                "the store holds an unknown day {}",
                stored.stored_on
            ))
        })?,
        sealed_sha256: original
            .as_deref()
            .map_or([0; 32], |sealed| Sha256::digest(sealed).into()),
        message: stored.message()?,
        copies: Vec::new(),
    };
    Ok((message, original.is_some()))
}

/// Opens each attachment of `message` (from where this store fetches it) and seals it again
/// to `to` alone, uploading the copy into the case's mailbox under a new id. The download is
/// spooled to an unnamed temporary file, as the ciphertext it is; the plaintext passes only
/// through a pipe, from opening to sealing, and is never held whole or written anywhere.
fn copy_attachments(
    session: &Session,
    identities: &[IdentityKey],
    case: &Case,
    to: &RecipientKey,
    message: &Message,
) -> Result<Vec<AttachmentCopy>> {
    let local = |error: std::io::Error| CliError::Local(error.to_string());
    let mailbox = case.check.mailbox();
    let mut copies = Vec::new();
    for original in &message.attachments {
        let fetched = case.fetch_reference(original);
        let mut spool = tempfile::tempfile().map_err(local)?;
        let mut download = session.relay.download_attachment(
            Credential::Office(&session.token),
            &AttachmentId::from_wire(&fetched.location)?,
        )?;
        // No more than an age file of the attachment's padded size can be: a relay cannot
        // fill the disk through the spool.
        let most = meldpunt_crypto::padded_length(original.size)
            .map_or(u64::MAX, |padded| padded + padded / 4096 + 65536);
        let spooled =
            std::io::copy(&mut (&mut download).take(most + 1), &mut spool).map_err(local)?;
        if spooled > most {
            return Err(CliError::Verification(format!(
                "the relay served more for the attachment {} than its size allows",
                original.name
            )));
        }
        spool.seek(SeekFrom::Start(0)).map_err(local)?;
        let copy = AttachmentId::generate();
        let location = copy.to_wire();
        let (plain_reader, plain_writer) = std::io::pipe().map_err(local)?;
        let (sealed_reader, sealed_writer) = std::io::pipe().map_err(local)?;
        let (opened, sealed, uploaded) = std::thread::scope(|scope| {
            let opening = scope
                .spawn(|| fetched.open_stream(identities, BufReader::new(spool), plain_writer));
            let sealing = scope.spawn(|| {
                // The pipe's writing end is closed here, when sealing ends (not when the
                // thread is joined): the upload reads to its end.
                AttachmentReference::seal_stream(
                    std::slice::from_ref(to),
                    &original.name,
                    &location,
                    plain_reader,
                    original.size,
                    sealed_writer,
                )
                .map(|(sealed, writer)| {
                    drop(writer);
                    sealed
                })
            });
            let uploaded = session.relay.upload_attachment(
                Upload::Office {
                    session: &session.token,
                    mailbox: &mailbox,
                },
                &copy,
                sealed_reader,
            );
            (opening.join(), sealing.join(), uploaded)
        });
        let failed = || CliError::Local("a thread copying an attachment failed".into());
        opened.map_err(|_| failed())??;
        let sealed = sealed.map_err(|_| failed())??;
        uploaded?;
        if sealed.sha256 != original.sha256 || sealed.size != original.size {
            return Err(CliError::Verification(format!(
                "the attachment {} did not open to what its message announced",
                original.name
            )));
        }
        copies.push(AttachmentCopy {
            location: original.location.clone(),
            copy: location,
        });
    }
    Ok(copies)
}

/// Most refused hand-overs the store remembers (the oldest are forgotten first).
const REMEMBERED_REFUSALS: usize = 1000;

/// Takes in the hand-overs to this member's recipient after the store's cursor: files what
/// is for this member and fits its case, refuses (and notes, once) what does not. What was
/// taken before a failure (the relay gone, a full disk) is kept, and the cursor never passes
/// a hand-over that was not dealt with: a local failure stops the sync before it.
pub(crate) fn receive(
    identities: &[IdentityKey],
    session: &Session,
    store: &mut Store,
    signers: &[(RecipientAddress, OfficeKey)],
    received: &mut Received,
) -> Result<()> {
    let own: Vec<RecipientKey> = identities.iter().map(IdentityKey::recipient).collect();
    loop {
        let before = store.state.hand_over_cursor;
        let entries = session.relay.hand_overs(&session.token, before)?;
        for entry in entries {
            let entry = match entry {
                Ok(entry) => entry,
                // Noted once (by its number, if it has one) and passed; it never moves the
                // cursor, so a relay cannot make the client skip what comes after it.
                Err(malformed) => {
                    let number = malformed.key.unwrap_or(0);
                    let known = store
                        .state
                        .refused_hand_overs
                        .iter()
                        .any(|refused| refused.number == number);
                    if number > store.state.hand_over_cursor && !known {
                        refuse(store, received, number, None, malformed.reason);
                    }
                    continue;
                }
            };
            // Listed before, or out of order: not taken again.
            if entry.number <= store.state.hand_over_cursor {
                continue;
            }
            let sealed = session
                .relay
                .fetch_hand_over(&session.token, entry.number)?;
            let case = case_id(&entry.mailbox.to_wire());
            // A purged case's content stays purged: nothing handed over for it is kept.
            let purged = store
                .state
                .cases
                .get(&case)
                .is_some_and(|held| held.purged_on.is_some());
            let outcome = match HandOver::open(identities, &sealed) {
                Ok(_) if purged => Ok(None),
                // Sealed to a colleague.
                Err(meldpunt_crypto::Error::NotForThisIdentity) => Ok(None),
                Err(error) => Err(format!("it does not open as a hand-over: {error}")),
                Ok(hand_over) => {
                    store.keep_hand_over(entry.number, &sealed)?;
                    take(&own, session, store, signers, &entry, &hand_over)?
                }
            };
            match outcome {
                Ok(Some(position)) => received.handed.push((case, position)),
                Ok(None) => {}
                Err(reason) => refuse(store, received, entry.number, Some(case), reason),
            }
            store.state.hand_over_cursor = entry.number;
        }
        store.save()?;
        if store.state.hand_over_cursor == before {
            return Ok(());
        }
    }
}

fn refuse(
    store: &mut Store,
    received: &mut Received,
    number: u64,
    case: Option<String>,
    reason: String,
) {
    let refused = RefusedHandOver {
        number,
        case,
        reason,
    };
    let remembered = &mut store.state.refused_hand_overs;
    remembered.push(refused.clone());
    if remembered.len() > REMEMBERED_REFUSALS {
        remembered.remove(0);
    }
    received.refused.push(refused);
}

/// Checks one opened hand-over and files its message. The outer error is a failure to talk
/// to the relay (the sync stops); the inner one why the hand-over is refused. `Ok(Ok(None))`:
/// a message this member holds already.
fn take(
    own: &[RecipientKey],
    session: &Session,
    store: &mut Store,
    signers: &[(RecipientAddress, OfficeKey)],
    entry: &HandOverEntry,
    hand_over: &HandOver,
) -> Result<std::result::Result<Option<u32>, String>> {
    // From the member's own recipient, or from a recipient that appointed this member's
    // recipient as the case's process guide (in a reply this member opened and filed).
    let mut accepted = vec![session.address.clone()];
    if let Some(case) = store.state.cases.get(&case_id(&entry.mailbox.to_wire())) {
        accepted.extend(appointed_by(case, &session.address));
    }
    let handed = match hand_over.verify_from(&accepted, own, signers) {
        Ok(handed) => handed,
        Err(error) => return Ok(Err(error.to_string())),
    };
    if !hand_over.mailbox().matches(&entry.mailbox) {
        return Ok(Err(
            "the relay listed it under another mailbox than the one its message belongs to".into(),
        ));
    }
    // A colleague of another recipient names the message by their own recipient's number:
    // this member's number for it is the one the relay listed at that position.
    let number = if *hand_over.from() == session.address {
        handed.number
    } else {
        match store.state.sealed_elsewhere.get(&format!(
            "{}/{}",
            entry.mailbox.to_wire(),
            handed.position
        )) {
            Some(number) => *number,
            None => {
                return Ok(Err(format!(
                    "it hands over position {} of the case, which the relay does not list to you",
                    handed.position
                )))
            }
        }
    };
    // The relay must list the message under its number, in its mailbox, at its position,
    // by its author, and serve under that number the very ciphertext the colleague opened:
    // a colleague cannot invent a message, move one, or put another in its place.
    let listed = match session.relay.office_entry(&session.token, number)? {
        Some(Ok(listed)) => listed,
        Some(Err(malformed)) => {
            return Ok(Err(format!(
                "the relay lists the message it names malformed: {}",
                malformed.reason
            )))
        }
        None => {
            return Ok(Err(format!(
                "it names message {}, which the relay does not list to you",
                handed.number
            )))
        }
    };
    if !listed.mailbox.matches(&hand_over.mailbox())
        || listed.position != handed.position
        || listed.author != handed.author
    {
        return Ok(Err(format!(
            "it does not match how the relay lists message {} (mailbox, position or author)",
            handed.number
        )));
    }
    let original = session.relay.office_message(&session.token, number)?;
    if <[u8; 32]>::from(Sha256::digest(&original)) != handed.sealed_sha256 {
        return Ok(Err(format!(
            "it is not the message the relay holds as number {}",
            handed.number
        )));
    }
    Ok(file(
        store,
        signers,
        hand_over,
        handed,
        number,
        entry.number,
    ))
}

/// The recipients that appointed `own` as the process guide of `case`, by the replies in it
/// this member opened.
fn appointed_by(case: &Case, own: &RecipientAddress) -> Vec<RecipientAddress> {
    case.messages
        .iter()
        .filter_map(|stored| stored.message().ok())
        .filter_map(|message| match message.kind {
            MessageKind::Reply {
                from,
                process_guide: Some(change),
                ..
            } if change.joined && change.recipient == *own => Some(from),
            _ => None,
        })
        .collect()
}

/// Files a verified handed message into its case (made if this member has none yet), or says
/// why not; the case is unchanged then.
fn file(
    store: &mut Store,
    signers: &[(RecipientAddress, OfficeKey)],
    hand_over: &HandOver,
    handed: &HandedMessage,
    message_number: u64,
    number: u64,
) -> std::result::Result<Option<u32>, String> {
    let message_json = String::from_utf8(
        handed
            .message
            .encode()
            .map_err(|error| error.to_string())?
            .to_vec(),
    )
    .expect("JSON is UTF-8");
    let id = case_id(&hand_over.mailbox().to_wire());
    let stored_on = handed.stored_on.min(today());
    let case = store.state.cases.get(&id).cloned().unwrap_or_else(|| {
        Case::new(
            id.clone(),
            hand_over.mailbox(),
            stored_on,
            true,
            signers.to_vec(),
            &store.state.roles,
        )
    });
    if let Some(held) = case
        .messages
        .iter()
        .find(|stored| stored.position == handed.position)
    {
        return if held.message_json == message_json {
            Ok(None)
        } else {
            Err(format!(
                "position {} of the case holds another message already{}; the one you hold is kept",
                handed.position,
                if held.handed_over_by.is_some() {
                    " (handed over before)"
                } else {
                    " (opened by you from the relay)"
                }
            ))
        };
    }
    let mut messages = case.messages.clone();
    messages.push(StoredMessage {
        number: message_number,
        position: handed.position,
        author: handed.author.as_str().to_owned(),
        stored_on: stored_on.to_string(),
        message_json,
        unverified: false,
        missing_before: 0,
        handed_over_by: Some(hand_over.signer()),
        hand_over: Some(number),
        attachment_copies: handed
            .copies
            .iter()
            .map(|copy| (copy.location.clone(), copy.copy.clone()))
            .collect(),
    });
    let rebuilt = rebuild(&case, messages, signers, handed.position)?;
    store.state.cases.insert(id, rebuilt);
    Ok(Some(handed.position))
}

/// The case again from `messages`, through a fresh thread check (complete if they start with
/// a report, else partial), keeping what only this store knows (closed, what it sent,
/// quarantined messages); or why it cannot be, naming the new message at `added` or the
/// message it would no longer let fit.
///
/// A message this member holds that was *not verified* (a follow-up in a partial case) and
/// does not fit the thread once its report is there is forged: it is quarantined, and the
/// rest goes on. A verified one that no longer fits makes the new message refused. Office
/// keys that signed a held message count as the directory's (a member retired since still
/// wrote what they wrote when it was filed).
fn rebuild(
    case: &Case,
    mut messages: Vec<StoredMessage>,
    signers: &[(RecipientAddress, OfficeKey)],
    added: u32,
) -> std::result::Result<Case, String> {
    messages.sort_by_key(|stored| stored.position);
    let opened: Vec<Message> = messages
        .iter()
        .map(StoredMessage::message)
        .collect::<Result<_>>()
        .map_err(|error| format!("a message of the case cannot be read: {error}"))?;
    let mut known_signers = signers.to_vec();
    for (stored, message) in messages.iter().zip(&opened) {
        if let (
            false,
            MessageKind::Reply { from, signer, .. }
            | MessageKind::Acknowledgement { from, signer, .. },
        ) = (stored.position == added, &message.kind)
        {
            if !known_signers.contains(&(from.clone(), *signer)) {
                known_signers.push((from.clone(), *signer));
            }
        }
    }
    let partial = !matches!(
        opened.first().map(|message| &message.kind),
        Some(MessageKind::Report { .. })
    );
    let first_day: Day = messages[0]
        .stored_on
        .parse()
        .map_err(|_| "a message of the case has no valid day".to_owned())?;
    let mut fresh = Case::new(
        case.id.clone(),
        case.check.mailbox(),
        first_day,
        partial,
        known_signers,
        &crate::store::Roles {
            process_guides: case.check.process_guides().to_vec(),
            advisers: case.check.advisers().to_vec(),
        },
    );
    fresh.sent_sequence = case.sent_sequence;
    fresh.quarantined = case.quarantined.clone();
    for (stored, message) in messages.into_iter().zip(opened) {
        let author: Author = stored.author.parse().map_err(|_| {
            format!(
                "a message of the case has an unknown author {}",
                stored.author
            )
        })?;
        let admitted = match fresh.check.admit(&message, author) {
            Ok(admitted) => admitted,
            Err(error) if stored.position == added => {
                return Err(format!("it does not fit the case: {error}"))
            }
            Err(error) if stored.unverified => {
                fresh.quarantined.push(QuarantinedMessage {
                    number: stored.number,
                    position: stored.position,
                    author: stored.author.clone(),
                    stored_on: stored.stored_on.clone(),
                    reason: format!(
                        "with the report a colleague handed over, it does not fit the case: {error}"
                    ),
                });
                continue;
            }
            Err(error) => {
                return Err(format!(
                    "with it, the message at position {} no longer fits the case: {error}",
                    stored.position
                ))
            }
        };
        let day: Day = stored
            .stored_on
            .parse()
            .map_err(|_| "a message of the case has no valid day".to_owned())?;
        apply(&mut fresh, &message, day);
        fresh.messages.push(StoredMessage {
            unverified: admitted.authenticity == Authenticity::UnverifiedFollowUp,
            missing_before: admitted.missing_before,
            ..stored
        });
    }
    if case.status == CaseStatus::Closed {
        fresh.status = CaseStatus::Closed;
        fresh.closed_on = case.closed_on;
    }
    fresh.records = case.records.clone();
    fresh.team = case.team.clone();
    fresh.unopened_records = case.unopened_records.clone();
    fresh.retention = case.retention.clone();
    fresh.legal_hold = case.legal_hold.clone();
    Ok(fresh)
}
