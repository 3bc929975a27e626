//! The integrity office's inbox: `sync`, `list`, `show`, `reply`, `close` and `export`.
//!
//! `sync` authenticates with the office identity, fetches what is new for the organisation,
//! opens it locally and files it into cases in the encrypted store. Deadlines follow the EU
//! Whistleblower Directive: acknowledge within 7 days, give feedback within 3 months of the
//! acknowledgement.

use std::path::{Path, PathBuf};

use meldpunt_crypto::{
    Directory, IdentityKey, Message, MessageKind, RecipientAddress, RecipientKey, SessionToken,
};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::attachments;
use crate::error::{CliError, Result};
use crate::input;
use crate::paths::today;
use crate::pins::verified_directory;
use crate::relay::Relay;
use crate::store::{Case, Status, Store, StoredMessage};

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
    /// The identity file.
    pub identity: PathBuf,
    /// The relay, if the command talks to one.
    pub relay: Option<Relay>,
    /// A pinned directory key.
    pub directory_key: Option<String>,
    /// Machine-readable output.
    pub json: bool,
}

struct Session {
    relay: Relay,
    directory: Directory,
    token: SessionToken,
    address: RecipientAddress,
}

impl Inbox {
    fn relay(&self) -> Result<&Relay> {
        self.relay.as_ref().ok_or_else(|| {
            CliError::Usage("this command needs --relay URL (or MELDPUNT_RELAY)".into())
        })
    }

    fn open(&self) -> Result<(Vec<IdentityKey>, Store)> {
        let identities = input::identities(&self.identity)?;
        let store = Store::open(&self.store, &identities)?;
        Ok((identities, store))
    }

    fn session(&self, identities: &[IdentityKey], store: &mut Store) -> Result<Session> {
        let relay = self.relay()?.clone();
        let directory = verified_directory(&relay, self.directory_key.as_deref())?;
        let own: Vec<RecipientKey> = identities.iter().map(IdentityKey::recipient).collect();
        let address = directory
            .organisations
            .iter()
            .flat_map(|organisation| {
                organisation.recipients.iter().map(move |recipient| (organisation, recipient))
            })
            .find(|(_, recipient)| recipient.keys.iter().any(|key| own.contains(key)))
            .map(|(organisation, recipient)| RecipientAddress { organisation: organisation.id.clone(), recipient: recipient.id.clone() })
            .ok_or_else(|| {
                CliError::Usage(format!(
                    "the relay's directory does not list this identity's public key ({}); add it with meldpunt directory add-recipient and sign",
                    own[0]
                ))
            })?;
        let token = relay.office_session(&address.organisation, &address.recipient, identities)?;
        store.state.relay = Some(relay.url().to_owned());
        store.state.organisation = Some(address.organisation.clone());
        store.state.recipient = Some(address.recipient.clone());
        Ok(Session {
            relay,
            directory,
            token,
            address,
        })
    }

    /// `meldpunt inbox sync`.
    pub fn sync(&self) -> Result<()> {
        let (identities, mut store) = self.open()?;
        let session = self.session(&identities, &mut store)?;
        let mut arrived = Vec::new();
        let mut unreadable = 0;
        let mut known: std::collections::HashSet<u64> = store
            .state
            .cases
            .values()
            .flat_map(|case| case.messages.iter().map(|message| message.number))
            .collect();
        loop {
            let entries = session
                .relay
                .office_messages(&session.token, store.state.cursor)?;
            if entries.is_empty() {
                break;
            }
            for entry in entries {
                store.state.cursor = store.state.cursor.max(entry.number);
                if known.contains(&entry.number) {
                    continue;
                }
                let sealed = session.relay.office_message(&session.token, entry.number)?;
                let message = match Message::open(&identities, &sealed) {
                    Ok(message) => message,
                    Err(meldpunt_crypto::Error::NotForThisIdentity) => {
                        // Addressed to another recipient of the organisation only.
                        unreadable += 1;
                        continue;
                    }
                    Err(error) => {
                        return Err(CliError::Verification(format!(
                            "message {} cannot be opened ({error}); it may have been tampered with. Nothing after it was synced.",
                            entry.number
                        )))
                    }
                };
                store.keep_original(entry.number, &sealed)?;
                let day: meldpunt_crypto::Day = entry.day.parse().unwrap_or_else(|_| today());
                let case_id = entry
                    .mailbox
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .take(10)
                    .collect::<String>();
                let case = store
                    .state
                    .cases
                    .entry(case_id.clone())
                    .or_insert_with(|| Case {
                        id: case_id.clone(),
                        mailbox: entry.mailbox.clone(),
                        received_on: day,
                        status: Status::New,
                        acknowledged_on: None,
                        feedback_on: None,
                        closed_on: None,
                        last_activity: day,
                        reply_key: None,
                        recipients: Vec::new(),
                        messages: Vec::new(),
                        sent_sequence: 0,
                    });
                case.thread_check()
                    .and_then(|mut check| Ok(check.admit(&message)?))
                    .map_err(|error| {
                        CliError::Verification(format!(
                            "message {} of case {case_id} does not fit the case ({error}). Nothing after it was synced.",
                            entry.number
                        ))
                    })?;
                apply(case, &message, day);
                case.messages.push(StoredMessage {
                    number: entry.number,
                    position: entry.position,
                    author: entry.author.clone(),
                    stored_on: entry.day.clone(),
                    message_json: String::from_utf8(message.encode()?.to_vec())
                        .expect("JSON is UTF-8"),
                });
                case.messages.sort_by_key(|message| message.position);
                session.relay.mark_fetched(&session.token, entry.number)?;
                known.insert(entry.number);
                arrived.push((case_id, message.kind.as_str(), entry.author.clone()));
            }
            store.save()?;
        }
        store.save()?;
        if self.json {
            let arrived: Vec<_> = arrived
                .iter()
                .map(|(case, kind, author)| json!({"case": case, "kind": kind, "author": author}))
                .collect();
            println!(
                "{}",
                json!({ "arrived": arrived, "not_addressed_to_this_identity": unreadable, "organisation": session.address.organisation })
            );
        } else if arrived.is_empty() {
            println!(
                "Nothing new for {} ({}).",
                session.address.organisation, session.address.recipient
            );
        } else {
            for (case, kind, author) in &arrived {
                println!("case {case}: new {kind} from the {author}");
            }
            println!(
                "{} new message(s) stored, encrypted, in {}.",
                arrived.len(),
                self.store.display()
            );
        }
        if unreadable > 0 && !self.json {
            println!("{unreadable} message(s) were addressed only to other recipients of the organisation.");
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
                    json!({
                        "case": case.id,
                        "received_on": case.received_on.to_string(),
                        "status": case.status,
                        "last_activity": case.last_activity.to_string(),
                        "acknowledgement_due": case.acknowledgement_due().to_string(),
                        "feedback_due": case.feedback_due().to_string(),
                        "overdue": case.overdue(today),
                        "messages": case.messages.len(),
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
        for case in &cases {
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
            println!(
                "{:<10}  {:<10}  {:<14}  {:<10}  {:<14}  {:<14}",
                case.id,
                case.received_on,
                case.status.as_str(),
                case.last_activity,
                mark(
                    "acknowledgement",
                    case.acknowledgement_due(),
                    case.acknowledged_on.is_some() || case.status == Status::Closed
                ),
                mark(
                    "feedback",
                    case.feedback_due(),
                    case.feedback_on.is_some() || case.status == Status::Closed
                ),
            );
        }
        let count = |status: Status| {
            store
                .state
                .cases
                .values()
                .filter(|case| case.status == status)
                .count()
        };
        println!(
            "\n{} case(s): {} new, {} acknowledged, {} feedback given, {} closed; {} overdue.",
            store.state.cases.len(),
            count(Status::New),
            count(Status::Acknowledged),
            count(Status::FeedbackGiven),
            count(Status::Closed),
            overdue_count
        );
        Ok(())
    }

    /// `meldpunt inbox show`.
    pub fn show(&self, id: &str) -> Result<()> {
        let (_, mut store) = self.open()?;
        let case = store.case_mut(id)?.clone();
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
                        "body": message.body.as_str(),
                        "attachments": message.attachments.iter().map(|a| json!({"name": a.name, "size": a.size, "id": a.location})).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!(
                "{}",
                json!({ "case": case.id, "status": case.status, "messages": messages })
            );
            return Ok(());
        }
        println!(
            "Case {} — {} — received {}, acknowledgement due {}, feedback due {}",
            case.id,
            case.status.as_str(),
            case.received_on,
            case.acknowledgement_due(),
            case.feedback_due()
        );
        for (stored, message) in &thread {
            println!(
                "\n── {} · {} · {} · written {} ──",
                stored.position,
                stored.author,
                message.kind.as_str(),
                message.written_on
            );
            println!("{}", message.body.trim_end());
            for reference in &message.attachments {
                println!(
                    "  attachment: {} ({} bytes)",
                    reference.name, reference.size
                );
            }
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
        let (identities, mut store) = self.open()?;
        let case = store.case_mut(id)?.clone();
        if case.status == Status::Closed {
            return Err(CliError::Usage(format!("case {} is closed", case.id)));
        }
        let reply_key = case.reply_key.clone().ok_or_else(|| {
            CliError::Usage(format!(
                "case {} has no report yet; run meldpunt inbox sync",
                case.id
            ))
        })?;
        let session = self.session(&identities, &mut store)?;
        let mut keys = session.directory.keys_for(&case.recipients)?;
        keys.push(reply_key);
        let body = if acknowledgement {
            match message_file {
                Some(path) => input::message(Some(path), "acknowledgement")?,
                None => zeroize::Zeroizing::new(ACKNOWLEDGEMENT_TEXT.to_owned()),
            }
        } else {
            input::message(message_file, "reply")?
        };
        let mut references = Vec::new();
        for path in files {
            let (planned, note) = attachments::plan(path, keep_metadata)?;
            eprintln!("{note}");
            references.push(planned.reference.clone());
            planned.upload(
                &session.relay,
                &session.token.to_wire(),
                Some(&case.mailbox),
                &keys,
            )?;
        }
        let kind = if acknowledgement {
            MessageKind::Acknowledgement {
                from: session.address.clone(),
            }
        } else {
            MessageKind::Reply {
                from: session.address.clone(),
            }
        };
        let sequence = case
            .thread_check()?
            .next_office_sequence(&session.address)
            .max(case.sent_sequence + 1);
        let message = Message {
            mailbox: meldpunt_crypto::MailboxId::from_wire(&case.mailbox)?,
            sequence,
            signature: None,
            kind,
            written_on: today(),
            body: body.to_string().into(),
            attachments: references,
        };
        session.relay.reply(
            &session.token,
            &case.mailbox,
            message.seal(&keys)?.into_bytes(),
        )?;
        let updated = store.case_mut(id)?;
        updated.sent_sequence = sequence;
        apply(updated, &message, today());
        store.save()?;
        if self.json {
            println!(
                "{}",
                json!({ "case": case.id, "sent": message.kind.as_str() })
            );
        } else {
            println!(
                "Sent the {} to case {}. Run meldpunt inbox sync to see it in the thread.",
                message.kind.as_str(),
                case.id
            );
        }
        Ok(())
    }

    /// `meldpunt inbox close`.
    pub fn close(&self, id: &str) -> Result<()> {
        let (_, mut store) = self.open()?;
        let case = store.case_mut(id)?;
        case.status = Status::Closed;
        case.closed_on = Some(today());
        let case_id = case.id.clone();
        store.save()?;
        if self.json {
            println!("{}", json!({ "case": case_id, "status": "closed" }));
        } else {
            println!("Closed case {case_id}.");
        }
        Ok(())
    }

    /// `meldpunt inbox export`.
    pub fn export(&self, id: &str, out: &Path) -> Result<()> {
        let (identities, mut store) = self.open()?;
        let case = store.case_mut(id)?.clone();
        if out.exists()
            && std::fs::read_dir(out)
                .map(|mut entries| entries.next().is_some())
                .unwrap_or(true)
        {
            return Err(CliError::Usage(format!(
                "{} exists and is not empty; choose a new folder",
                out.display()
            )));
        }
        let mut files: Vec<PathBuf> = Vec::new();
        for folder in ["originals", "plaintext", "attachments"] {
            std::fs::create_dir_all(out.join(folder))
                .map_err(|error| CliError::file(out, error))?;
        }
        for stored in &case.messages {
            let message = stored.message()?;
            let stem = format!("{:03}-{}", stored.position, message.kind.as_str());
            let original = out.join("originals").join(format!("{stem}.age"));
            std::fs::copy(store.original_path(stored.number), &original)
                .map_err(|error| CliError::file(&original, error))?;
            files.push(original);
            let json_path = out.join("plaintext").join(format!("{stem}.json"));
            std::fs::write(&json_path, &stored.message_json)
                .map_err(|error| CliError::file(&json_path, error))?;
            files.push(json_path);
            let text_path = out.join("plaintext").join(format!("{stem}.txt"));
            let text = format!(
                "Case {}\nMessage {} ({}), from the {}\nWritten on {}; stored by the relay on {}\n\n{}\n",
                case.id,
                stored.position,
                message.kind.as_str(),
                stored.author,
                message.written_on,
                stored.stored_on,
                message.body.as_str()
            );
            std::fs::write(&text_path, text).map_err(|error| CliError::file(&text_path, error))?;
            files.push(text_path);
        }
        if !case.attachments().is_empty() {
            let session = self.session(&identities, &mut store)?;
            for (_, reference) in case.attachments() {
                let path = attachments::download(
                    &session.relay,
                    &session.token.to_wire(),
                    true,
                    &reference,
                    &identities,
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
        let manifest_path = out.join("manifest.json");
        let document = json!({
            "case": case.id,
            "mailbox": case.mailbox,
            "status": case.status,
            "received_on": case.received_on.to_string(),
            "acknowledged_on": case.acknowledged_on.map(|day| day.to_string()),
            "feedback_on": case.feedback_on.map(|day| day.to_string()),
            "closed_on": case.closed_on.map(|day| day.to_string()),
            "exported_on": today().to_string(),
            "files": manifest,
        });
        std::fs::write(
            &manifest_path,
            serde_json::to_vec_pretty(&document).expect("serialisable"),
        )
        .map_err(|error| CliError::file(&manifest_path, error))?;
        if self.json {
            println!(
                "{}",
                json!({ "case": case.id, "folder": out, "files": files.len() + 1 })
            );
        } else {
            println!(
                "Exported case {} to {}: sealed originals (open with age -d -i IDENTITY), opened texts, attachments, manifest.json with SHA-256 of every file.\n\
                 WARNING: this folder holds the report in plaintext; keep it in the investigation file's protected storage.",
                case.id,
                out.display()
            );
        }
        Ok(())
    }
}

/// Updates a case's status from a message in its thread.
fn apply(case: &mut Case, message: &Message, day: meldpunt_crypto::Day) {
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
            if case.status == Status::New {
                case.status = Status::Acknowledged;
            }
        }
        MessageKind::Reply { .. } => {
            if case.acknowledged_on.is_some() && case.feedback_on.is_none() {
                case.feedback_on = Some(day);
            }
            if matches!(case.status, Status::New | Status::Acknowledged)
                && case.acknowledged_on.is_some()
            {
                case.status = Status::FeedbackGiven;
            }
        }
        MessageKind::FollowUp => {}
    }
}
