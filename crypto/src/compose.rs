//! Writing messages: the one way every client (the CLI, the web form without JavaScript, the
//! tests, the benchmark) builds a report, a follow-up or an office's message, so that the
//! keys a message carries come from the one place they belong (a report's reply key and
//! follow-up key from its receipt code) and every message but a report leaves here signed.
//! A [`Thread`] writes the next message of a conversation that was read: numbered after
//! what its author wrote, signed, and with the keys it is to be sealed to.

use zeroize::Zeroizing;

use crate::{
    Answers, AttachmentReference, CarriedConsultation, Conversation, Day, Directory, Error,
    FollowUpKey, FollowUpSigningKey, MailboxId, Message, MessageKind, OfficeSigningKey, Purpose,
    ReceiptCode, RecipientAddress, RecipientKey, ThreadCheck,
};

/// What a writer says: the day, the text and the attachments (already sealed and uploaded,
/// or about to be).
#[derive(Clone, Debug)]
pub struct Content {
    /// The day it is written.
    pub written_on: Day,
    /// The text.
    pub body: Zeroizing<String>,
    /// References to the attachments sealed separately.
    pub attachments: Vec<AttachmentReference>,
    /// Answers to the organisation's questionnaire (a report's, or an evaluation's).
    pub answers: Answers,
    /// What the message is for beyond its text (a closing reply, an evaluation).
    pub purpose: Purpose,
}

impl Content {
    /// Text without attachments.
    pub fn text(written_on: Day, body: impl Into<String>) -> Content {
        Content {
            written_on,
            body: Zeroizing::new(body.into()),
            attachments: Vec::new(),
            answers: Answers::none(),
            purpose: Purpose::Message,
        }
    }

    /// The same content for `purpose`.
    pub fn for_purpose(mut self, purpose: Purpose) -> Content {
        self.purpose = purpose;
        self
    }

    /// The same content with these answers.
    pub fn with_answers(mut self, answers: Answers) -> Content {
        self.answers = answers;
        self
    }
}

impl Message {
    /// A reporter's report to `recipients`: number 1 of the mailbox that `code` opens, with
    /// the reply key and the follow-up key that `code` derives.
    pub fn report(
        code: &ReceiptCode,
        recipients: Vec<RecipientAddress>,
        content: Content,
    ) -> Message {
        Message::opening(code, recipients, Conversation::Report, content)
    }

    /// The first message of the conversation that `code` opens, to `recipients`: a report, or
    /// a consultation with confidential advisers (no deadlines, not a report).
    pub fn opening(
        code: &ReceiptCode,
        recipients: Vec<RecipientAddress>,
        conversation: Conversation,
        content: Content,
    ) -> Message {
        Message {
            recording: Default::default(),
            mailbox: code.mailbox_token().mailbox_id(),
            sequence: 1,
            kind: MessageKind::Report {
                reply_key: code.reply_identity().recipient(),
                follow_up_key: code.follow_up_signing_key().follow_up_key(),
                recipients,
                conversation,
                earlier_consultation: None,
            },
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
            answers: content.answers,
            purpose: content.purpose,
        }
    }

    /// A report to `recipients` that carries the consultation before it: `consultation` are
    /// the consultation's messages as the holder of `consultation_code` read them; the report
    /// is the first message of the new conversation that `code` opens.
    pub fn report_after_consultation(
        code: &ReceiptCode,
        recipients: Vec<RecipientAddress>,
        content: Content,
        consultation_code: &ReceiptCode,
        consultation: Vec<Message>,
    ) -> Result<Message, Error> {
        let mut report = Message::report(code, recipients, content);
        let carried = CarriedConsultation::new(consultation_code, report.mailbox, consultation)?;
        if let MessageKind::Report {
            earlier_consultation,
            ..
        } = &mut report.kind
        {
            *earlier_consultation = Some(Box::new(carried));
        }
        Ok(report)
    }

    /// A reporter's follow-up numbered `sequence` and signed with `signing_key` (the key the
    /// receipt code derives). Clients write follow-ups with [`Thread::follow_up`], which
    /// numbers them after the thread read; this is for tests that need a given number.
    pub fn follow_up_signed(
        signing_key: &FollowUpSigningKey,
        mailbox: MailboxId,
        sequence: u32,
        content: Content,
    ) -> Message {
        let mut message = Message {
            recording: Default::default(),
            mailbox,
            sequence,
            kind: MessageKind::FollowUp {
                signature: crate::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
            answers: content.answers,
            purpose: content.purpose,
        };
        signing_key.sign(&mut message);
        message
    }

    /// An office's reply (or, with `acknowledgement`, its acknowledgement of receipt) into
    /// `mailbox`, from `from`, numbered `sequence` in the signing key's own numbering and
    /// signed with it.
    pub fn from_office(
        signing_key: &OfficeSigningKey,
        from: RecipientAddress,
        mailbox: MailboxId,
        acknowledgement: bool,
        sequence: u32,
        content: Content,
    ) -> Result<Message, Error> {
        let signer = signing_key.office_key();
        let kind = if acknowledgement {
            MessageKind::Acknowledgement {
                from,
                signer,
                signature: crate::MessageSignature::from_bytes([0; 64]),
                opening: None,
            }
        } else {
            MessageKind::Reply {
                from,
                signer,
                signature: crate::MessageSignature::from_bytes([0; 64]),
                process_guide: None,
                opening: None,
            }
        };
        let mut message = Message {
            recording: Default::default(),
            mailbox,
            sequence,
            kind,
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
            answers: content.answers,
            purpose: content.purpose,
        };
        signing_key.sign(&mut message)?;
        Ok(message)
    }
}

impl Message {
    /// An office message numbered `sequence` answering `opening` (a conversation's first
    /// message): written into its mailbox and bound to it ([`Message::opening_digest`]).
    /// Clients write office messages with [`Thread::office_message`]; this is for tests and
    /// vectors that need a given number.
    pub fn answering(
        signing_key: &OfficeSigningKey,
        from: RecipientAddress,
        opening: &Message,
        acknowledgement: bool,
        sequence: u32,
        content: Content,
    ) -> Result<Message, Error> {
        let digest = opening.opening_digest().ok_or(Error::ThreadWithoutReport)?;
        let mut message = Message::from_office(
            signing_key,
            from,
            opening.mailbox,
            acknowledgement,
            sequence,
            content,
        )?;
        if let MessageKind::Reply { opening, .. } | MessageKind::Acknowledgement { opening, .. } =
            &mut message.kind
        {
            *opening = Some(digest);
        }
        signing_key.sign(&mut message)?;
        Ok(message)
    }
}

/// A conversation as one of its writers knows it after reading it with a [`ThreadCheck`]:
/// the report's recipients and keys, and each author's numbering so far. It writes the next
/// follow-up or office message, numbered and signed, and names the keys to seal it to (the
/// report's recipients and the reporter's reply key): no client numbers, signs or addresses
/// a message by hand.
#[derive(Debug, Clone)]
pub struct Thread {
    mailbox: MailboxId,
    recipients: Vec<RecipientAddress>,
    reply_key: RecipientKey,
    follow_up_key: FollowUpKey,
    check: ThreadCheck,
}

impl Thread {
    /// The conversation `check` read, whose reporter reads replies with `reply_key`. The check
    /// must have admitted the report: a partial check (its reader never saw the report) knows
    /// neither its recipients nor its keys, and gives [`Error::ThreadWithoutReport`].
    pub fn new(check: ThreadCheck, reply_key: RecipientKey) -> Result<Thread, Error> {
        let (Some(recipients), Some(follow_up_key)) = (check.participants(), check.follow_up_key())
        else {
            return Err(Error::ThreadWithoutReport);
        };
        Ok(Thread {
            mailbox: check.mailbox(),
            recipients,
            reply_key,
            follow_up_key,
            check,
        })
    }

    /// The conversation `check` read, with the reply key its report carries (the reporter's
    /// side: whichever of the code's reply keys the report was made with).
    pub fn from_check(check: ThreadCheck) -> Result<Thread, Error> {
        let reply_key = check
            .reply_key()
            .cloned()
            .ok_or(Error::ThreadWithoutReport)?;
        Thread::new(check, reply_key)
    }

    /// The recipients the reporter chose, and the process guides appointed since.
    pub fn recipients(&self) -> &[RecipientAddress] {
        &self.recipients
    }

    /// The check the conversation was read with.
    pub fn check(&self) -> &ThreadCheck {
        &self.check
    }

    /// Every key a message of this conversation is sealed to: each chosen recipient's keys as
    /// `directory` lists them, and the reporter's reply key.
    pub fn seal_keys(&self, directory: &Directory) -> Result<Vec<RecipientKey>, Error> {
        let mut keys = Vec::new();
        for address in &self.recipients {
            match directory.keys_for(std::slice::from_ref(address)) {
                Ok(listed) => {
                    for key in listed {
                        if !keys.contains(&key) {
                            keys.push(key);
                        }
                    }
                }
                // A process guide the directory no longer lists is no longer sealed to; a
                // recipient the reporter chose must be listed.
                Err(_) if self.check.guides().contains(address) => {}
                Err(error) => return Err(error),
            }
        }
        if !keys.contains(&self.reply_key) {
            keys.push(self.reply_key.clone());
        }
        Ok(keys)
    }

    /// The reporter's next follow-up, signed with `signing_key` (the receipt code's follow-up
    /// key; another key gives [`Error::ForeignReport`]: the report does not carry it).
    pub fn follow_up(
        &self,
        signing_key: &FollowUpSigningKey,
        content: Content,
    ) -> Result<Message, Error> {
        if signing_key.follow_up_key() != self.follow_up_key {
            return Err(Error::ForeignReport);
        }
        Ok(Message::follow_up_signed(
            signing_key,
            self.mailbox,
            self.check.next_reporter_sequence(),
            content,
        ))
    }

    /// The reporter's next follow-up, sharing their identity with one chosen recipient
    /// (`shared`, sealed to that recipient's keys only; it must be one of the recipients the
    /// report chose, else [`Error::SenderNotAddressed`]). Signed like every follow-up, the
    /// identity's recipient and ciphertext included.
    pub fn follow_up_sharing_identity(
        &self,
        signing_key: &FollowUpSigningKey,
        content: Content,
        shared: crate::SharedIdentity,
    ) -> Result<Message, Error> {
        if !self.recipients.contains(&shared.with) {
            return Err(Error::SenderNotAddressed);
        }
        let mut message = self.follow_up(signing_key, content)?;
        if let MessageKind::FollowUp {
            shared_identity, ..
        } = &mut message.kind
        {
            *shared_identity = Some(shared);
        }
        signing_key.sign(&mut message);
        Ok(message)
    }

    /// A reply from `from` (a recipient the report chose) announcing that the process guide
    /// `change` names joins or leaves the case, signed and numbered like every office
    /// message. Sealed with [`Thread::seal_keys`] and the guide's keys, so that a joining
    /// guide reads it.
    pub fn process_guide_message(
        &self,
        signing_key: &OfficeSigningKey,
        from: RecipientAddress,
        change: crate::ProcessGuideChange,
        already_sent: u32,
        content: Content,
    ) -> Result<Message, Error> {
        if !self
            .check
            .addressed()
            .is_some_and(|addressed| addressed.contains(&from))
        {
            return Err(Error::SenderNotAddressed);
        }
        let mut message = self.office_message(signing_key, from, false, already_sent, content)?;
        if let MessageKind::Reply { process_guide, .. } = &mut message.kind {
            *process_guide = Some(change);
        }
        signing_key.sign(&mut message)?;
        Ok(message)
    }

    /// An office's next reply (or acknowledgement) from `from`, signed with `signing_key` and
    /// numbered after the messages that key wrote in the thread, and after `already_sent`
    /// (the highest number it used that the thread may not show yet). A sender the reporter
    /// did not choose gives [`Error::SenderNotAddressed`]: the reporter would refuse it.
    pub fn office_message(
        &self,
        signing_key: &OfficeSigningKey,
        from: RecipientAddress,
        acknowledgement: bool,
        already_sent: u32,
        content: Content,
    ) -> Result<Message, Error> {
        if !self.recipients.contains(&from) {
            return Err(Error::SenderNotAddressed);
        }
        let sequence = self
            .check
            .next_office_sequence(&signing_key.office_key())
            .max(already_sent.saturating_add(1));
        let mut message = Message::from_office(
            signing_key,
            from,
            self.mailbox,
            acknowledgement,
            sequence,
            content,
        )?;
        // Bound to the opening it answers, where the thread's reader saw it.
        if let Some(digest) = self.check.opening() {
            if let MessageKind::Reply { opening, .. }
            | MessageKind::Acknowledgement { opening, .. } = &mut message.kind
            {
                *opening = Some(digest);
            }
            signing_key.sign(&mut message)?;
        }
        Ok(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{IdentityKey, ThreadCheck};

    fn day() -> Day {
        "2026-11-30".parse().unwrap()
    }

    #[test]
    fn a_thread_written_with_the_builders_is_admitted_by_both_readers() {
        let code = ReceiptCode::generate();
        let office = IdentityKey::generate();
        let address = RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        };
        let signing_key = office.office_signing_key();
        let mailbox = code.mailbox_token().mailbox_id();
        let report = Message::report(
            &code,
            vec![address.clone()],
            Content::text(day(), "melding"),
        );
        let reply = Message::from_office(
            &signing_key,
            address.clone(),
            mailbox,
            false,
            1,
            Content::text(day(), "antwoord"),
        )
        .unwrap();
        let follow_up = Message::follow_up_signed(
            &code.follow_up_signing_key(),
            mailbox,
            2,
            Content::text(day(), "aanvulling"),
        );
        let signers = vec![(address, signing_key.office_key())];
        let mut reporter = ThreadCheck::new(mailbox, signers.clone());
        reporter.expect_reporter(&code);
        let mut office_check = ThreadCheck::new(mailbox, signers);
        for (message, author) in [
            (&report, crate::Author::Reporter),
            (&reply, crate::Author::Office),
            (&follow_up, crate::Author::Reporter),
        ] {
            // What a reader sees: the message as encoded and decoded again.
            let decoded = Message::decode(&message.encode().unwrap()).unwrap();
            reporter.admit(&decoded, author).unwrap();
            office_check.admit(&decoded, author).unwrap();
        }
    }

    fn address(recipient: &str) -> RecipientAddress {
        RecipientAddress {
            organisation: "demo".into(),
            recipient: recipient.into(),
        }
    }

    #[test]
    fn a_thread_writes_the_next_messages_numbered_signed_and_sealed_to_the_right_keys() {
        let code = ReceiptCode::generate();
        let office = IdentityKey::generate();
        let colleague = IdentityKey::generate();
        let signing_key = office.office_signing_key();
        let mailbox = code.mailbox_token().mailbox_id();
        let recipient = |id: &str, role, identity: &IdentityKey| crate::DirectoryRecipient {
            id: id.into(),
            role,
            name: crate::LocalisedName {
                nl: id.into(),
                en: id.into(),
            },
            keys: vec![identity.recipient()],
            signing_keys: vec![identity.office_signing_key().office_key()],
        };
        let mut directory = crate::Directory::new(day(), "2027-11-30".parse().unwrap());
        directory.organisations.push(crate::Organisation {
            questions: Vec::new(),
            channels: Vec::new(),
            evaluation: Vec::new(),
            id: "demo".into(),
            name: crate::LocalisedName {
                nl: "Demo".into(),
                en: "Demo".into(),
            },
            recipients: vec![
                recipient("integrity-office", crate::Role::IntegrityOffice, &office),
                recipient(
                    "adviser",
                    crate::Role::ExternalConfidentialAdviser,
                    &colleague,
                ),
            ],
        });
        let signers = directory.office_signers();
        let mut check = ThreadCheck::new(mailbox, signers.clone());
        let report = Message::report(
            &code,
            vec![address("integrity-office")],
            Content::text(day(), "melding"),
        );
        check.admit(&report, crate::Author::Reporter).unwrap();
        let thread = Thread::new(check.clone(), code.reply_identity().recipient()).unwrap();

        // Sealed to the chosen recipient and the reporter, not to the colleague nobody chose.
        let keys = thread.seal_keys(&directory).unwrap();
        assert_eq!(
            keys,
            vec![office.recipient(), code.reply_identity().recipient()]
        );

        // The office's first reply is 1, or after what it already sent.
        let reply = thread
            .office_message(
                &signing_key,
                address("integrity-office"),
                false,
                0,
                Content::text(day(), "antwoord"),
            )
            .unwrap();
        assert_eq!(reply.sequence, 1);
        let later = thread
            .office_message(
                &signing_key,
                address("integrity-office"),
                true,
                4,
                Content::text(day(), "ontvangen"),
            )
            .unwrap();
        assert_eq!(later.sequence, 5);
        // A recipient the reporter did not choose cannot write into the thread.
        assert!(matches!(
            thread.office_message(
                &colleague.office_signing_key(),
                address("adviser"),
                false,
                0,
                Content::text(day(), "x"),
            ),
            Err(Error::SenderNotAddressed)
        ));

        // The reporter's follow-up comes after the report, signed with the code's key only.
        let follow_up = thread
            .follow_up(
                &code.follow_up_signing_key(),
                Content::text(day(), "aanvulling"),
            )
            .unwrap();
        assert_eq!(follow_up.sequence, 2);
        assert!(matches!(
            thread.follow_up(
                &ReceiptCode::generate().follow_up_signing_key(),
                Content::text(day(), "x")
            ),
            Err(Error::ForeignReport)
        ));
        let mut reader = check;
        reader.admit(&reply, crate::Author::Office).unwrap();
        reader.admit(&follow_up, crate::Author::Reporter).unwrap();

        // A reader who never saw the report cannot write.
        assert!(matches!(
            Thread::new(
                ThreadCheck::partial(mailbox, signers),
                code.reply_identity().recipient()
            ),
            Err(Error::ThreadWithoutReport)
        ));
    }
}

#[cfg(test)]
mod shared_identity_tests {
    use super::*;
    use crate::{IdentityKey, SharedIdentity};

    #[test]
    fn only_the_chosen_recipient_opens_a_shared_identity_and_its_signature_covers_it() {
        let code = ReceiptCode::generate();
        let office = IdentityKey::generate();
        let adviser = IdentityKey::generate();
        let to = |recipient: &str| RecipientAddress {
            organisation: "demo".into(),
            recipient: recipient.into(),
        };
        let report = Message::report(
            &code,
            vec![to("integrity-office"), to("adviser")],
            Content::text("2026-12-03".parse().unwrap(), "melding"),
        );
        let mut check = ThreadCheck::new(report.mailbox, Vec::new());
        check
            .admit(&report, crate::Author::Reporter)
            .expect("the report");
        let thread = Thread::from_check(check.clone()).unwrap();
        let shared = SharedIdentity::seal(
            to("adviser"),
            &[adviser.recipient()],
            "Jan Jansen, 06-12345678",
        )
        .unwrap();
        let content = Content::text("2026-12-03".parse().unwrap(), "Mijn naam, alleen voor u.");
        let message = thread
            .follow_up_sharing_identity(&code.follow_up_signing_key(), content.clone(), shared)
            .unwrap();
        // Sealed to everyone, decoded and admitted by every reader.
        let sealed = message
            .seal(&[office.recipient(), adviser.recipient()])
            .unwrap();
        let opened = Message::open(std::slice::from_ref(&office), sealed.as_bytes()).unwrap();
        assert_eq!(opened, message);
        check.admit(&opened, crate::Author::Reporter).unwrap();
        let MessageKind::FollowUp {
            shared_identity: Some(identity),
            ..
        } = &opened.kind
        else {
            panic!("a shared identity");
        };
        assert_eq!(identity.with, to("adviser"));
        assert!(!format!("{opened:?}").contains("Jan"));
        // The office sees that it was shared, never what.
        assert!(identity.open(std::slice::from_ref(&office)).is_err());
        assert_eq!(
            identity
                .open(std::slice::from_ref(&adviser))
                .unwrap()
                .as_str(),
            "Jan Jansen, 06-12345678"
        );
        // Moving it to another recipient breaks the reporter's signature.
        let mut moved = opened.clone();
        if let MessageKind::FollowUp {
            shared_identity: Some(identity),
            ..
        } = &mut moved.kind
        {
            identity.with = to("integrity-office");
        }
        let mut fresh = ThreadCheck::new(report.mailbox, Vec::new());
        fresh.admit(&report, crate::Author::Reporter).unwrap();
        assert!(matches!(
            fresh.admit(&moved, crate::Author::Reporter),
            Err(Error::ForgedFollowUp)
        ));
        // Only to a recipient the report chose; never on an office message.
        let elsewhere =
            SharedIdentity::seal(to("minister"), &[adviser.recipient()], "Jan").unwrap();
        assert!(matches!(
            thread.follow_up_sharing_identity(&code.follow_up_signing_key(), content, elsewhere),
            Err(Error::SenderNotAddressed)
        ));
        let encoded = String::from_utf8(opened.encode().unwrap().to_vec()).unwrap();
        let on_a_reply = encoded.replace(r#""kind":"follow-up""#, r#""kind":"reply""#);
        assert!(Message::decode(on_a_reply.as_bytes()).is_err());
        assert!(SharedIdentity::seal(to("adviser"), &[adviser.recipient()], " ").is_err());
    }
}

#[cfg(test)]
mod process_guide_tests {
    use super::*;
    use crate::{Author, IdentityKey, ProcessGuideChange};

    fn to(recipient: &str) -> RecipientAddress {
        RecipientAddress {
            organisation: "demo".into(),
            recipient: recipient.into(),
        }
    }

    #[test]
    fn a_guide_appointed_by_the_office_joins_the_thread_and_only_a_listed_guide_can_be() {
        let code = ReceiptCode::generate();
        let office = IdentityKey::generate();
        let guide = IdentityKey::generate();
        let day: Day = "2026-12-03".parse().unwrap();
        let signers = vec![
            (
                to("integrity-office"),
                office.office_signing_key().office_key(),
            ),
            (to("process-guide"), guide.office_signing_key().office_key()),
        ];
        let report = Message::report(&code, vec![to("integrity-office")], Content::text(day, "m"));
        let mut check = ThreadCheck::new(report.mailbox, signers.clone());
        check.set_process_guides(vec![to("process-guide")]);
        check.admit(&report, Author::Reporter).unwrap();
        let thread = Thread::from_check(check.clone()).unwrap();
        let joined = ProcessGuideChange {
            recipient: to("process-guide"),
            joined: true,
        };
        let notice = thread
            .process_guide_message(
                &office.office_signing_key(),
                to("integrity-office"),
                joined.clone(),
                0,
                Content::text(day, "Een procesbegeleider begeleidt uw melding."),
            )
            .unwrap();
        // A changed flag breaks the office's signature.
        let mut flipped = notice.clone();
        if let MessageKind::Reply {
            process_guide: Some(change),
            ..
        } = &mut flipped.kind
        {
            change.joined = false;
        }
        assert!(check.clone().admit(&flipped, Author::Office).is_err());
        // Without the directory's guides, nobody can be appointed.
        let mut blind = check.clone();
        blind.set_process_guides(Vec::new());
        assert!(blind.admit(&notice, Author::Office).is_err());
        check.admit(&notice, Author::Office).unwrap();
        assert_eq!(check.guides(), [to("process-guide")]);
        let thread = Thread::from_check(check.clone()).unwrap();
        assert!(thread.recipients().contains(&to("process-guide")));
        // The guide writes in the thread; a guide cannot appoint.
        let from_guide = thread
            .office_message(
                &guide.office_signing_key(),
                to("process-guide"),
                false,
                0,
                Content::text(day, "Ik ben uw procesbegeleider."),
            )
            .unwrap();
        check.admit(&from_guide, Author::Office).unwrap();
        assert!(matches!(
            thread.process_guide_message(
                &guide.office_signing_key(),
                to("process-guide"),
                joined,
                1,
                Content::text(day, "x"),
            ),
            Err(Error::SenderNotAddressed)
        ));
        // Someone who is not a process guide cannot be appointed.
        let thread = Thread::from_check(check.clone()).unwrap();
        let outsider = thread
            .process_guide_message(
                &office.office_signing_key(),
                to("integrity-office"),
                ProcessGuideChange {
                    recipient: to("manager"),
                    joined: true,
                },
                1,
                Content::text(day, "x"),
            )
            .unwrap();
        assert!(check.clone().admit(&outsider, Author::Office).is_err());
        // A guide from another organisation is refused.
        let foreign = thread
            .process_guide_message(
                &office.office_signing_key(),
                to("integrity-office"),
                ProcessGuideChange {
                    recipient: RecipientAddress {
                        organisation: "other".into(),
                        recipient: "process-guide".into(),
                    },
                    joined: true,
                },
                1,
                Content::text(day, "x"),
            )
            .unwrap();
        let mut across = check.clone();
        across.set_process_guides(vec![
            to("process-guide"),
            RecipientAddress {
                organisation: "other".into(),
                recipient: "process-guide".into(),
            },
        ]);
        assert!(across.admit(&foreign, Author::Office).is_err());
        // Leaving: no longer sealed to; their later messages are refused.
        let left = thread
            .process_guide_message(
                &office.office_signing_key(),
                to("integrity-office"),
                ProcessGuideChange {
                    recipient: to("process-guide"),
                    joined: false,
                },
                1,
                Content::text(day, "De procesbegeleider is gestopt."),
            )
            .unwrap();
        check.admit(&left, Author::Office).unwrap();
        assert!(check.guides().is_empty());
        assert!(!Thread::from_check(check.clone())
            .unwrap()
            .recipients()
            .contains(&to("process-guide")));
        let encoded = left.encode().unwrap();
        assert_eq!(Message::decode(&encoded).unwrap(), left);
        let after_leaving = Message::from_office(
            &guide.office_signing_key(),
            to("process-guide"),
            report.mailbox,
            false,
            2,
            Content::text(day, "Ik schrijf nog."),
        )
        .unwrap();
        assert!(matches!(
            check.admit(&after_leaving, Author::Office),
            Err(Error::SenderNotAddressed)
        ));
        // Where the report is not known (a partial reader), a process guide still cannot
        // appoint anyone.
        let mut partial = ThreadCheck::partial(report.mailbox, signers);
        partial.set_process_guides(vec![to("process-guide"), to("second-guide")]);
        let mut by_guide = Message::from_office(
            &guide.office_signing_key(),
            to("process-guide"),
            report.mailbox,
            false,
            3,
            Content::text(day, "x"),
        )
        .unwrap();
        if let MessageKind::Reply { process_guide, .. } = &mut by_guide.kind {
            *process_guide = Some(ProcessGuideChange {
                recipient: to("second-guide"),
                joined: true,
            });
        }
        guide.office_signing_key().sign(&mut by_guide).unwrap();
        assert!(matches!(
            partial.admit(&by_guide, Author::Office),
            Err(Error::SenderNotAddressed)
        ));
    }
}
