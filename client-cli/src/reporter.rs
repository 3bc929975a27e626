//! The reporter's commands: `report`, `ask`, `check`, `follow-up` and `share-identity`.
//!
//! `ask` opens a *consultation* with the organisation's confidential advisers instead of a
//! report: the same receipt code, no deadlines, readable only by the advisers chosen.
//! `report --carry-consultation` turns a consultation into a report: this client reads the
//! consultation with its code and carries its messages into the new report, signed over
//! with the consultation's own key — only when the reporter asks (protocol §13).
//!
//! Everything is sealed here, on the reporter's device, before anything is sent. The receipt
//! code is generated here and shown only after the relay has durably accepted the report.
//! Reports and follow-ups are sealed to the chosen recipients *and* to the reporter's own
//! reply key, so that `check` can show the whole thread.

use std::path::{Path, PathBuf};

use meldpunt_crypto::{
    Author, Content, Conversation, Directory, MailboxToken, Message, MessageKind, ReceiptCode,
    RecipientAddress, Role, ThreadCheck,
};
use serde_json::json;

use crate::attachments;
use crate::clock::today;
use crate::error::{CliError, Result};
use crate::input;
use crate::pins::verified_directory;
use crate::relay::{Credential, Relay, Upload};

/// Options shared by the reporter's commands.
#[derive(Debug)]
pub struct Common {
    /// The relay.
    pub relay: Relay,
    /// A pinned directory key, if given.
    pub directory_key: Option<String>,
    /// Machine-readable output.
    pub json: bool,
}

/// The addresses `--to ORG --role ROLE…` pick in the directory.
pub fn choose_recipients(
    directory: &Directory,
    organisation: &str,
    roles: &[String],
) -> Result<Vec<RecipientAddress>> {
    let found = directory.organisation(organisation).ok_or_else(|| {
        let known: Vec<&str> = directory
            .organisations
            .iter()
            .map(|o| o.id.as_str())
            .collect();
        CliError::Usage(format!(
            "the directory lists no organisation \"{organisation}\"; it lists: {}",
            known.join(", ")
        ))
    })?;
    let wanted: Vec<String> = if roles.is_empty() {
        vec![Role::IntegrityOffice.as_str().to_owned()]
    } else {
        roles.to_vec()
    };
    let mut addresses = Vec::new();
    for role in &wanted {
        let matching: Vec<&meldpunt_crypto::DirectoryRecipient> = found
            .recipients
            .iter()
            .filter(|recipient| recipient.id == *role || recipient.role.as_str() == role)
            .collect();
        if matching.is_empty() {
            let known: Vec<String> = found
                .recipients
                .iter()
                .map(|recipient| {
                    format!(
                        "{} ({}, {})",
                        recipient.id,
                        recipient.role.as_str(),
                        recipient.name.en
                    )
                })
                .collect();
            return Err(CliError::Usage(format!(
                "{organisation} has no recipient with role or id \"{role}\"; it has: {}",
                known.join("; ")
            )));
        }
        for recipient in matching {
            let address = RecipientAddress {
                organisation: found.id.clone(),
                recipient: recipient.id.clone(),
            };
            if !addresses.contains(&address) {
                addresses.push(address);
            }
        }
    }
    Ok(addresses)
}

/// The advisers `ask --to ORG [--role …]` picks: every confidential adviser of the
/// organisation when no role is given, else those named, each of whom must be an adviser.
pub fn choose_advisers(
    directory: &Directory,
    organisation: &str,
    roles: &[String],
) -> Result<Vec<RecipientAddress>> {
    let wanted: Vec<String> = if roles.is_empty() {
        [
            Role::InternalConfidentialAdviser,
            Role::ExternalConfidentialAdviser,
        ]
        .into_iter()
        .filter(|role| {
            directory.organisation(organisation).is_some_and(|found| {
                found
                    .recipients
                    .iter()
                    .any(|recipient| recipient.role == *role)
            })
        })
        .map(|role| role.as_str().to_owned())
        .collect()
    } else {
        roles.to_vec()
    };
    if wanted.is_empty() && directory.organisation(organisation).is_some() {
        return Err(CliError::Usage(format!(
            "{organisation} lists no confidential adviser in the directory; make a report instead (meldpunt report)"
        )));
    }
    let addresses = choose_recipients(directory, organisation, &wanted)?;
    for address in &addresses {
        let recipient = directory.recipient(address)?;
        if !recipient.role.is_confidential_adviser() {
            return Err(CliError::Usage(format!(
                "a consultation goes to confidential advisers only; {} is a {} (make a report to reach them)",
                address.recipient,
                recipient.role.as_str()
            )));
        }
    }
    Ok(addresses)
}

/// The consultation a report carries: its messages as `consultation_code` reads them (those
/// that opened and fit), refused if that code opens a report rather than a consultation.
fn consultation_to_carry(
    relay: &Relay,
    consultation_code: &ReceiptCode,
    directory: &Directory,
) -> Result<Vec<Message>> {
    let thread = read_thread(relay, consultation_code, directory)?;
    if thread.check.conversation() != Conversation::Consultation {
        return Err(CliError::Usage(
            "that receipt code opens a report, not a consultation; only a consultation is carried into a report".into(),
        ));
    }
    Ok(thread
        .entries
        .into_iter()
        .filter_map(|(_, checked)| checked.ok().map(|checked| checked.message))
        .collect())
}

/// What a new conversation is, as `report` and `ask` open it.
#[derive(Debug)]
pub struct Opening<'a> {
    /// A report or a consultation.
    pub conversation: Conversation,
    /// The organisation's id.
    pub organisation: &'a str,
    /// Roles or recipient ids chosen.
    pub roles: &'a [String],
    /// Files to attach.
    pub files: &'a [PathBuf],
    /// Where the text comes from.
    pub message_file: Option<&'a Path>,
    /// Send images as they are.
    pub keep_metadata: bool,
    /// For a report after a consultation: where that consultation's receipt code comes from
    /// (`Some(None)`: asked for, hidden).
    pub carry_consultation: Option<Option<&'a Path>>,
    /// `--answer QUESTION=ANSWER` arguments.
    pub answers: &'a [String],
    /// `--answers-file`.
    pub answers_file: Option<&'a Path>,
}

fn solve(relay: &Relay, token: &MailboxToken) -> Result<Option<String>> {
    let Some(challenge) = relay.challenge()? else {
        return Ok(None);
    };
    let expected = 1u64 << challenge.difficulty();
    let bar = attachments::progress(expected, "anti-abuse work");
    bar.set_style(
        indicatif::ProgressStyle::with_template("{msg} {spinner} {pos} hashes ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let stamp = challenge
        .solve(&token.mailbox_id(), |tried| {
            bar.set_position(tried);
            true
        })
        .ok_or_else(|| CliError::Local("the proof-of-work was cancelled".into()))?;
    bar.finish_and_clear();
    Ok(Some(stamp.to_wire()))
}

/// The questions a message's answers are to: a report's, its organisation's questionnaire;
/// an evaluation's, its evaluation questions (none for other messages). `organisation` is
/// the one the conversation's report went to.
pub fn questions_for(
    directory: &meldpunt_crypto::Directory,
    organisation: Option<&str>,
    message: &Message,
) -> Vec<meldpunt_crypto::Question> {
    let Some(organisation) = organisation.and_then(|id| directory.organisation(id)) else {
        return Vec::new();
    };
    match (&message.kind, message.purpose) {
        (MessageKind::Report { .. }, _) => organisation.questions.clone(),
        (MessageKind::FollowUp { .. }, meldpunt_crypto::Purpose::Evaluation) => {
            organisation.evaluation_questions()
        }
        _ => Vec::new(),
    }
}

/// Opens the mailbox of `token` on the relay with the sealed report, for `recipients` of
/// `organisation`, doing the anti-abuse work the relay asks for. A stamp can go stale while
/// it is solved (the relay raised its difficulty, or the challenge expired): then a new
/// challenge is solved, up to three times.
pub fn create_mailbox(
    relay: &Relay,
    token: &MailboxToken,
    organisation: &str,
    recipients: &[String],
    sealed: Vec<u8>,
) -> Result<()> {
    let mut attempt = 1;
    loop {
        let stamp = solve(relay, token)?;
        match relay.create_mailbox(
            token,
            organisation,
            recipients,
            stamp.as_deref(),
            sealed.clone(),
        ) {
            Err(meldpunt_client::ClientError::Refused { code, .. })
                if attempt < 3
                    && matches!(
                        code,
                        meldpunt_wire::ErrorCode::StampOutdated
                            | meldpunt_wire::ErrorCode::StampExpired
                    ) =>
            {
                eprintln!("The relay asks for a new anti-abuse stamp; solving again.");
                attempt += 1;
            }
            other => return other.map(drop).map_err(Into::into),
        }
    }
}

/// `meldpunt report` and `meldpunt ask`.
pub fn report(common: &Common, opening: &Opening<'_>) -> Result<()> {
    let Opening {
        conversation,
        organisation,
        roles,
        files,
        message_file,
        keep_metadata,
        carry_consultation,
        answers,
        answers_file,
    } = *opening;
    let directory = verified_directory(&common.relay, common.directory_key.as_deref())?;
    let addresses = match conversation {
        Conversation::Report => choose_recipients(&directory, organisation, roles)?,
        Conversation::Consultation => choose_advisers(&directory, organisation, roles)?,
    };
    let answers = match (conversation, directory.organisation(organisation)) {
        (Conversation::Report, Some(chosen)) => {
            // Asked on the terminal only when the text does not come from standard input.
            let may_ask = message_file != Some(Path::new("-"));
            crate::questionnaire::gather(chosen, answers, answers_file, may_ask)?
        }
        _ if answers.is_empty() && answers_file.is_none() => meldpunt_crypto::Answers::none(),
        _ => {
            return Err(CliError::Usage(
                "a consultation takes no answers; leave out --answer and --answers-file".into(),
            ))
        }
    };
    let mut keys = directory.keys_for(&addresses)?;
    let carried = match carry_consultation {
        None => None,
        Some(file) => {
            let consultation_code = input::receipt_code_asking(
                file,
                "Receipt code of your consultation (typing is hidden): ",
            )?;
            let messages = consultation_to_carry(&common.relay, &consultation_code, &directory)?;
            Some((consultation_code, messages))
        }
    };
    let planned = attachments::plan_files(files, keep_metadata)?;
    let body = input::message(
        message_file,
        match conversation {
            Conversation::Report => "report",
            Conversation::Consultation => "question",
        },
    )?;

    let code = ReceiptCode::generate();
    let token = code.mailbox_token();
    let reply = code.reply_identity();
    keys.push(reply.recipient());
    let content = Content {
        purpose: Default::default(),
        answers,
        written_on: today(),
        body: body.to_string().into(),
        attachments: planned.iter().map(|plan| plan.reference.clone()).collect(),
    };
    let carried_count = carried.as_ref().map_or(0, |(_, messages)| messages.len());
    let message = match carried {
        None => Message::opening(&code, addresses.clone(), conversation, content),
        Some((consultation_code, messages)) => Message::report_after_consultation(
            &code,
            addresses.clone(),
            content,
            &consultation_code,
            messages,
        )?,
    };
    let sealed = match message.seal(&keys) {
        Err(meldpunt_crypto::Error::TooLarge {
            what: "an encoded message",
            ..
        }) if carried_count > 0 => {
            return Err(CliError::Usage(
                "your consultation and report together are larger than one message may be (1 MiB); nothing was sent. Report without --carry-consultation and quote what matters"
                    .into(),
            ))
        }
        other => other?.into_bytes(),
    };
    // The relay learns which recipients the report went to (not what it says), so that only
    // their office sessions reach the mailbox.
    let recipients: Vec<String> = addresses
        .iter()
        .map(|address| address.recipient.clone())
        .collect();
    create_mailbox(&common.relay, &token, organisation, &recipients, sealed)?;

    // From here on the report exists: the receipt code must be shown whatever happens next.
    let mut failures = Vec::new();
    for plan in planned {
        let name = plan.reference.name.clone();
        if let Err(error) = plan.upload(&common.relay, Upload::Reporter(&token), &keys) {
            failures.push(format!("{name}: {error}"));
        }
    }
    let written = code.to_written_form();
    if common.json {
        println!(
            "{}",
            json!({
                "receipt_code": written.as_str(),
                "organisation": organisation,
                "recipients": addresses.iter().map(|a| &a.recipient).collect::<Vec<_>>(),
                "attachment_failures": failures,
                "post_quantum": meldpunt_crypto::all_post_quantum(&keys),
                "conversation": conversation.as_str(),
                "carried_consultation_messages": carried_count,
            })
        );
    } else {
        let names: Vec<String> = addresses
            .iter()
            .filter_map(|address| directory.recipient(address).ok())
            .map(|recipient| recipient.name.en.clone())
            .collect();
        match conversation {
            Conversation::Report => println!(
                "Your report was received by the relay, sealed for: {}.",
                names.join(", ")
            ),
            Conversation::Consultation => {
                println!(
                    "Your question was received by the relay, sealed for: {} (and nobody else).",
                    names.join(", ")
                );
                println!(
                    "This is a consultation, not a report: no deadlines run. If you decide to report, \
                     meldpunt report --carry-consultation takes this conversation along, or leave it out."
                );
            }
        }
        if carried_count > 0 {
            println!(
                "It carries your consultation ({carried_count} message(s)), signed over with your consultation's code. \
                 The advisers were not told; your consultation's code still opens the consultation."
            );
        }
        if !meldpunt_crypto::all_post_quantum(&keys) {
            println!(
                "(Sealed with classic keys: the office has not moved all its keys to post-quantum ones yet.)"
            );
        }
        println!();
        println!("    Your receipt code:   {}", written.as_str());
        println!();
        println!("Write it down on paper now and keep it somewhere safe, away from work devices.");
        println!("It is shown only this once and cannot be recovered. With it, and only with it,");
        println!(
            "you can read replies and send more information: meldpunt check / meldpunt follow-up."
        );
        println!("Anyone who has it can do the same, so do not store it in a file, mail or photo.");
        for failure in &failures {
            println!(
                "Attachment NOT sent: {failure}. Send it later with meldpunt follow-up --attach."
            );
        }
    }
    if failures.is_empty() {
        Ok(())
    } else {
        Err(CliError::Local(format!(
            "{} attachment(s) could not be sent",
            failures.len()
        )))
    }
}

/// The reporter's view of the mailbox: every message, opened and checked, or why it could
/// not be. One bad message (a colleague's, a relay's, a tampered one) is marked in its
/// place; it never hides the others or stops a follow-up.
struct Thread {
    entries: Vec<(Listing, std::result::Result<Checked, String>)>,
    check: ThreadCheck,
}

/// What the relay listed for a message: its position, and what else it said if its entry
/// was well-formed.
struct Listing {
    position: u32,
    summary: Option<meldpunt_wire::MessageSummary>,
}

impl Listing {
    /// The day the relay stored it, if it said so well-formed.
    fn stored_on(&self) -> Option<String> {
        self.summary.map(|summary| summary.day.to_string())
    }
}

/// A message that opened and fits the thread.
struct Checked {
    message: Message,
    /// Earlier messages of its author that never arrived (withheld by the relay).
    missing_before: u32,
}

fn read_thread(relay: &Relay, code: &ReceiptCode, directory: &Directory) -> Result<Thread> {
    let token = &code.mailbox_token();
    // Every reply key the code derives: reports made before hybrid reply keys carry the
    // classic one.
    let reply = &code.reply_identities();
    let listed = relay.mailbox_messages(token).map_err(|error| match error.relay_code() {
        Some("mailbox-not-found") => CliError::Usage(
            "no mailbox answers to this receipt code: it may be mistyped in a way the checksum cannot catch, \
             the mailbox may have been deleted after a long time without activity, or this is another relay"
                .into(),
        ),
        _ => CliError::from(error),
    })?;
    let mut entries = Vec::new();
    let mut check = ThreadCheck::new(token.mailbox_id(), directory.office_signers());
    check.set_process_guides(directory.process_guides());
    check.expect_reporter(code);
    for entry in listed {
        let summary = match entry {
            Ok(summary) => summary,
            Err(malformed) => {
                let position = malformed
                    .key
                    .and_then(|key| u32::try_from(key).ok())
                    .unwrap_or(0);
                let listing = Listing {
                    position,
                    summary: None,
                };
                entries.push((listing, Err(malformed.reason)));
                continue;
            }
        };
        let sealed = relay.mailbox_message(token, summary.position)?;
        let checked = Message::open(reply, &sealed)
            .and_then(|message| {
                check
                    .admit(&message, summary.author)
                    .map(|admitted| Checked {
                        message,
                        missing_before: admitted.missing_before,
                    })
            })
            .map_err(|error| error.to_string());
        let listing = Listing {
            position: summary.position,
            summary: Some(summary),
        };
        entries.push((listing, checked));
    }
    match entries.first() {
        Some((_, Ok(_))) => Ok(Thread { entries, check }),
        Some((_, Err(reason))) => Err(CliError::Verification(format!(
            "your report cannot be read ({reason}); it may have been tampered with, so the conversation cannot be shown"
        ))),
        None => Err(CliError::Verification(
            "the relay lists no messages in your mailbox".into(),
        )),
    }
}

fn author(message: &Message, directory: &Directory) -> String {
    match &message.kind {
        MessageKind::Report {
            conversation: Conversation::Consultation,
            ..
        } => "you (question)".into(),
        MessageKind::Report { .. } if message.recording.is_some() => {
            "the record of your oral report".into()
        }
        MessageKind::Report { .. } => "you (report)".into(),
        MessageKind::FollowUp { .. } => match message.purpose {
            meldpunt_crypto::Purpose::Evaluation => "you (evaluation)".into(),
            meldpunt_crypto::Purpose::Confirmation => "you (you confirmed the record)".into(),
            meldpunt_crypto::Purpose::Correction => "you (corrections to the record)".into(),
            _ => "you (follow-up)".into(),
        },
        MessageKind::Reply { from, .. } | MessageKind::Acknowledgement { from, .. } => {
            let name = directory.recipient(from).map_or_else(
                |_| format!("{}/{}", from.organisation, from.recipient),
                |recipient| recipient.name.en.clone(),
            );
            if matches!(message.kind, MessageKind::Acknowledgement { .. }) {
                format!("{name} (acknowledgement of receipt)")
            } else if message.purpose == meldpunt_crypto::Purpose::Closing {
                format!("{name} (closing the case)")
            } else {
                name
            }
        }
    }
}

/// `meldpunt check`.
pub fn check(
    common: &Common,
    receipt_file: Option<&Path>,
    save_attachments: Option<&Path>,
) -> Result<()> {
    let code = input::receipt_code(receipt_file)?;
    let token = code.mailbox_token();
    let reply = code.reply_identities();
    // The directory says which office keys may write to you: without it no reply is checked.
    let directory = verified_directory(&common.relay, common.directory_key.as_deref())?;
    let thread = read_thread(&common.relay, &code, &directory)?;
    let mut saved = Vec::new();
    if let Some(folder) = save_attachments {
        for (_, checked) in &thread.entries {
            let Ok(Checked { message, .. }) = checked else {
                continue;
            };
            if matches!(
                message.kind,
                MessageKind::Reply { .. } | MessageKind::Acknowledgement { .. }
            ) {
                for reference in &message.attachments {
                    let path = attachments::download(
                        &common.relay,
                        Credential::Mailbox(&token),
                        reference,
                        &reply,
                        folder,
                    )?;
                    saved.push(path);
                }
            }
        }
    }
    let unreadable = thread
        .entries
        .iter()
        .filter(|(_, checked)| checked.is_err())
        .count();
    if common.json {
        let messages: Vec<_> = thread
            .entries
            .iter()
            .map(|(entry, checked)| match checked {
                Ok(Checked {
                    message,
                    missing_before,
                }) => json!({
                    "position": entry.position,
                    "missing_before": missing_before,
                    "kind": message.kind.as_str(),
                    "author": author(message, &directory),
                    "written_on": message.written_on.to_string(),
                    "stored_on": entry.stored_on(),
                    "body": message.body.as_str(),
                    "answers": &message.answers,
                    "purpose": message.purpose.as_str(),
                    "recorded": message.recording.as_ref().map(|recording| json!({"by": recording.by.recipient, "channel": recording.channel.as_str()})),
                    "attachments": message.attachments.iter().map(|a| json!({"name": a.name, "size": a.size})).collect::<Vec<_>>(),
                    "identity_shared_with": shared_with(message),
                    "carried_consultation_messages": carried_messages(message),
                }),
                Err(reason) => json!({
                    "position": entry.position,
                    "unreadable": true,
                    "reason": reason,
                    "stored_on": entry.stored_on(),
                }),
            })
            .collect();
        println!(
            "{}",
            json!({ "conversation": thread.check.conversation().as_str(), "messages": messages, "unreadable": unreadable, "saved_attachments": saved })
        );
        return Ok(());
    }
    if thread.check.conversation() == Conversation::Consultation {
        println!(
            "This is a consultation with the advisers you chose, not a report: no deadlines run.\n"
        );
    }
    for (entry, checked) in &thread.entries {
        match checked {
            Ok(Checked {
                message,
                missing_before,
            }) => {
                if *missing_before > 0 {
                    println!(
                        "── {missing_before} earlier message(s) of this author are missing here: the relay withheld them ──\n"
                    );
                }
                println!(
                    "── {} · {} · written {} ──",
                    entry.position,
                    author(message, &directory),
                    message.written_on
                );
                println!("{}", crate::inbox::printable(message.body.trim_end(), 0));
                let organisation = thread
                    .check
                    .addressed()
                    .and_then(|addressed| addressed.first())
                    .map(|address| address.organisation.as_str());
                let questions = questions_for(&directory, organisation, message);
                for line in crate::questionnaire::lines(&questions, &message.answers) {
                    println!("  answer · {}", crate::inbox::printable(&line, 0));
                }
                if let Some(with) = shared_with(message) {
                    println!("  [you shared your identity with {with} only]");
                }
                if let Some(carried) = carried_messages(message) {
                    println!("  [it carries your consultation: {carried} message(s)]");
                }
                if let Some(recording) = &message.recording {
                    let by = directory.recipient(&recording.by).map_or_else(
                        |_| recording.by.recipient.clone(),
                        |recipient| recipient.name.en.clone(),
                    );
                    let channel = match recording.channel {
                        meldpunt_crypto::Channel::Telephone => "telephone call",
                        meldpunt_crypto::Channel::Meeting => "meeting",
                    };
                    if thread.check.recording_verified() == Some(true) {
                        println!(
                            "  [recorded by {by} from a {channel}; check it, then confirm it (meldpunt confirm --agree) or correct it (meldpunt confirm --corrections-file FILE)]"
                        );
                    } else {
                        println!(
                            "  [it says {by} recorded it from a {channel}, but that CANNOT BE VERIFIED: the directory does not list the signing key for them (any more), or the signature fails. The report itself is yours.]"
                        );
                    }
                }
                if message.purpose == meldpunt_crypto::Purpose::Closing {
                    println!("  [your case is closed; you are invited to evaluate how it went: meldpunt evaluate]");
                }
                for reference in &message.attachments {
                    println!(
                        "  attachment: {} ({} bytes)",
                        reference.name, reference.size
                    );
                }
            }
            Err(reason) => {
                println!("── {} · a message could not be read ──", entry.position);
                println!(
                    "It was not written by you or by a recipient you chose, or it was altered on the way ({reason}).\n\
                     The other messages were checked; this one is not shown."
                );
            }
        }
        println!();
    }
    let replies = thread
        .entries
        .iter()
        .filter(|(entry, checked)| {
            entry
                .summary
                .is_some_and(|summary| summary.author == Author::Office)
                && checked.is_ok()
        })
        .count();
    if replies == 0 {
        match thread.check.conversation() {
            Conversation::Report => println!(
                "No reply yet. An acknowledgement of receipt is due within 7 days of your report."
            ),
            Conversation::Consultation => println!("No reply yet."),
        }
    }
    for path in saved {
        println!("Saved {}", path.display());
    }
    Ok(())
}

/// `meldpunt follow-up`.
pub fn follow_up(
    common: &Common,
    receipt_file: Option<&Path>,
    message_file: Option<&Path>,
    files: &[PathBuf],
    keep_metadata: bool,
) -> Result<()> {
    let code = input::receipt_code(receipt_file)?;
    let token = code.mailbox_token();
    let directory = verified_directory(&common.relay, common.directory_key.as_deref())?;
    let thread = read_thread(&common.relay, &code, &directory)?;
    // A message the relay listed malformed may be one of your own follow-ups: numbering the
    // next one without it could repeat its number, and the office would set it aside.
    if let Some((listing, _)) = thread
        .entries
        .iter()
        .find(|(listing, _)| listing.summary.is_none())
    {
        return Err(CliError::Verification(format!(
            "the relay listed message {} of your mailbox malformed, so the next follow-up cannot be numbered safely; nothing was sent. Try again later, or through another relay address",
            listing.position
        )));
    }
    let conversation = meldpunt_crypto::Thread::from_check(thread.check)?;
    let keys = conversation.seal_keys(&directory)?;
    let planned = attachments::plan_files(files, keep_metadata)?;
    let body = input::message(message_file, "follow-up")?;
    let references = planned.iter().map(|plan| plan.reference.clone()).collect();
    for plan in planned {
        plan.upload(&common.relay, Upload::Reporter(&token), &keys)?;
    }
    let message = conversation.follow_up(
        &code.follow_up_signing_key(),
        Content {
            purpose: Default::default(),
            answers: Default::default(),
            written_on: today(),
            body: body.to_string().into(),
            attachments: references,
        },
    )?;
    common
        .relay
        .follow_up(&token, message.seal(&keys)?.into_bytes())?;
    if common.json {
        println!("{}", json!({ "sent": true }));
    } else {
        println!("Your follow-up was received by the relay.");
    }
    Ok(())
}

/// `meldpunt evaluate`: after the office closed the case (a verified closing message), the
/// reporter's evaluation of the process, answers to the organisation's evaluation questions
/// (asked on a terminal, or `--answer`/`--answers-file`) and an optional text, sealed in a
/// signed follow-up to the recipients of the report. Optional, and possible at any time
/// after closing.
pub fn evaluate(
    common: &Common,
    receipt_file: Option<&Path>,
    answers: &[String],
    answers_file: Option<&Path>,
    message_file: Option<&Path>,
) -> Result<()> {
    let (code, directory, thread) = read_own(common, receipt_file)?;
    let closed = thread.entries.iter().any(|(_, checked)| {
        checked
            .as_ref()
            .is_ok_and(|checked| checked.message.purpose == meldpunt_crypto::Purpose::Closing)
    });
    if !closed {
        return Err(CliError::Usage(
            "the office has not closed your case (no closing message in your conversation); an evaluation is asked for once it has. Nothing was sent"
                .into(),
        ));
    }
    if thread.check.conversation() == Conversation::Consultation {
        return Err(CliError::Usage(
            "a consultation is not evaluated; nothing was sent".into(),
        ));
    }
    let conversation = meldpunt_crypto::Thread::from_check(thread.check)?;
    let organisation = conversation
        .recipients()
        .first()
        .and_then(|address| directory.organisation(&address.organisation))
        .ok_or_else(|| {
            CliError::Verification(
                "the organisation your report went to is no longer in the directory".into(),
            )
        })?;
    let questions = meldpunt_crypto::Organisation {
        questions: organisation.evaluation_questions(),
        ..organisation.clone()
    };
    let given = crate::questionnaire::gather(
        &questions,
        answers,
        answers_file,
        message_file != Some(Path::new("-")),
    )?;
    let body = match message_file {
        Some(path) => input::message(Some(path), "evaluation")?,
        None => zeroize::Zeroizing::new(String::new()),
    };
    if given.is_empty() && body.trim().is_empty() {
        return Err(CliError::Usage(
            "an evaluation needs an answer or a text; nothing was sent".into(),
        ));
    }
    send_follow_up(
        common,
        &code,
        &directory,
        &conversation,
        Content::text(today(), body.as_str())
            .with_answers(given)
            .for_purpose(meldpunt_crypto::Purpose::Evaluation),
    )?;
    if common.json {
        println!("{}", json!({ "sent": true, "purpose": "evaluation" }));
    } else {
        println!("Thank you: your evaluation was received by the relay.");
    }
    Ok(())
}

/// The receipt code (asked for, or from `receipt_file`), the verified directory and the
/// conversation the code opens, read and checked.
fn read_own(
    common: &Common,
    receipt_file: Option<&Path>,
) -> Result<(ReceiptCode, Directory, Thread)> {
    let code = input::receipt_code(receipt_file)?;
    let directory = verified_directory(&common.relay, common.directory_key.as_deref())?;
    let thread = read_thread(&common.relay, &code, &directory)?;
    Ok((code, directory, thread))
}

/// Writes `content` as the reporter's next follow-up in `conversation`, signed with the
/// code's key, sealed to the conversation's recipients, and sends it.
fn send_follow_up(
    common: &Common,
    code: &ReceiptCode,
    directory: &Directory,
    conversation: &meldpunt_crypto::Thread,
    content: Content,
) -> Result<()> {
    let keys = conversation.seal_keys(directory)?;
    let message = conversation.follow_up(&code.follow_up_signing_key(), content)?;
    common
        .relay
        .follow_up(&code.mailbox_token(), message.seal(&keys)?.into_bytes())?;
    Ok(())
}

/// `meldpunt confirm`: the reporter of an oral report agrees with the office's record of it
/// (`corrections` `None`) or corrects it, in a signed follow-up.
pub fn confirm(
    common: &Common,
    receipt_file: Option<&Path>,
    corrections: Option<&Path>,
) -> Result<()> {
    let (code, directory, thread) = read_own(common, receipt_file)?;
    let recorded = thread.entries.iter().any(|(_, checked)| {
        checked.as_ref().is_ok_and(|checked| {
            matches!(checked.message.kind, MessageKind::Report { .. })
                && checked.message.recording.is_some()
        })
    });
    if !recorded {
        return Err(CliError::Usage(
            "this report was not recorded by the office from a telephone call or meeting: there is no record to confirm; send a follow-up instead. Nothing was sent".into(),
        ));
    }
    let (purpose, body) = match corrections {
        None => (
            meldpunt_crypto::Purpose::Confirmation,
            zeroize::Zeroizing::new(String::new()),
        ),
        Some(path) => {
            let body = input::message(Some(path), "corrections")?;
            if body.trim().is_empty() {
                return Err(CliError::Usage(
                    "the corrections are empty; nothing was sent (to agree, use --agree)".into(),
                ));
            }
            (meldpunt_crypto::Purpose::Correction, body)
        }
    };
    let conversation = meldpunt_crypto::Thread::from_check(thread.check)?;
    send_follow_up(
        common,
        &code,
        &directory,
        &conversation,
        Content::text(today(), body.as_str()).for_purpose(purpose),
    )?;
    if common.json {
        println!("{}", json!({ "sent": true, "purpose": purpose.as_str() }));
    } else if purpose == meldpunt_crypto::Purpose::Confirmation {
        println!("You confirmed the record of your report; the office was told.");
    } else {
        println!("Your corrections to the record were sent to the office.");
    }
    Ok(())
}

/// `meldpunt share-identity --with RECIPIENT`: the reporter's name or contact details
/// (from `identity_file`, or standard input; never an argument), sealed to the keys of one
/// recipient their report chose and to nobody else, in a signed follow-up every recipient
/// reads: the others see that the identity was shared, and with whom, never what.
pub fn share_identity(
    common: &Common,
    receipt_file: Option<&Path>,
    with: &str,
    identity_file: Option<&Path>,
    message_file: Option<&Path>,
) -> Result<()> {
    let code = input::receipt_code(receipt_file)?;
    let token = code.mailbox_token();
    let directory = verified_directory(&common.relay, common.directory_key.as_deref())?;
    let thread = read_thread(&common.relay, &code, &directory)?;
    let conversation = meldpunt_crypto::Thread::from_check(thread.check)?;
    let chosen = conversation
        .recipients()
        .iter()
        .find(|address| address.recipient == with)
        .cloned()
        .ok_or_else(|| {
            CliError::Usage(format!(
                "your report went to {}; share your identity with one of them",
                conversation
                    .recipients()
                    .iter()
                    .map(|address| address.recipient.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })?;
    let name = directory.recipient(&chosen)?.name.en.clone();
    let identity = input::message(identity_file, "identity (your name or contact details)")?;
    let shared = meldpunt_crypto::SharedIdentity::seal(
        chosen.clone(),
        &directory.keys_for(std::slice::from_ref(&chosen))?,
        identity.trim(),
    )?;
    let body = match message_file {
        Some(path) => input::message(Some(path), "message")?,
        None => zeroize::Zeroizing::new(format!(
            "Ik deel mijn naam en contactgegevens alleen met {name}. / I share my name and contact details with {name} only."
        )),
    };
    let message = conversation.follow_up_sharing_identity(
        &code.follow_up_signing_key(),
        Content {
            purpose: Default::default(),
            answers: Default::default(),
            written_on: today(),
            body: body.to_string().into(),
            attachments: Vec::new(),
        },
        shared,
    )?;
    common.relay.follow_up(
        &token,
        message
            .seal(&conversation.seal_keys(&directory)?)?
            .into_bytes(),
    )?;
    if common.json {
        println!(
            "{}",
            json!({ "sent": true, "shared_with": chosen.recipient })
        );
    } else {
        println!(
            "Your identity was sealed for {name} ({}) only and sent. The other recipients see that you shared it with them, not what.",
            chosen.recipient
        );
    }
    Ok(())
}

/// How many messages of an earlier consultation a report carries, if it carries one.
pub(crate) fn carried_messages(message: &Message) -> Option<usize> {
    match &message.kind {
        MessageKind::Report {
            earlier_consultation: Some(carried),
            ..
        } => Some(carried.messages.len()),
        _ => None,
    }
}

/// Whom a message shares the reporter's identity with, if it does.
pub(crate) fn shared_with(message: &meldpunt_crypto::Message) -> Option<String> {
    match &message.kind {
        meldpunt_crypto::MessageKind::FollowUp {
            shared_identity: Some(shared),
            ..
        } => Some(format!(
            "{}/{}",
            shared.with.organisation, shared.with.recipient
        )),
        _ => None,
    }
}
