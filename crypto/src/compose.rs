//! Writing messages: the one way every client (the CLI, the web form without JavaScript, the
//! tests, the benchmark) builds a report, a follow-up or an office's message, so that the
//! keys a message carries come from the one place they belong (a report's reply key and
//! follow-up key from its receipt code) and every message but a report leaves here signed.

use zeroize::Zeroizing;

use crate::{
    AttachmentReference, Day, Error, FollowUpSigningKey, MailboxId, Message, MessageKind,
    OfficeSigningKey, ReceiptCode, RecipientAddress,
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
}

impl Content {
    /// Text without attachments.
    pub fn text(written_on: Day, body: impl Into<String>) -> Content {
        Content {
            written_on,
            body: Zeroizing::new(body.into()),
            attachments: Vec::new(),
        }
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
        Message {
            mailbox: code.mailbox_token().mailbox_id(),
            sequence: 1,
            signature: None,
            kind: MessageKind::Report {
                reply_key: code.reply_identity().recipient(),
                follow_up_key: code.follow_up_signing_key().follow_up_key(),
                recipients,
            },
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
        }
    }

    /// A reporter's follow-up, numbered `sequence` (the next of the reporter's numbers in the
    /// thread read) and signed with the follow-up key that `code` derives.
    pub fn follow_up(code: &ReceiptCode, sequence: u32, content: Content) -> Message {
        Message::follow_up_signed(
            &code.follow_up_signing_key(),
            code.mailbox_token().mailbox_id(),
            sequence,
            content,
        )
    }

    /// A follow-up signed with a follow-up key kept without its receipt code (the web form
    /// without JavaScript keeps only the key while a conversation is open).
    pub fn follow_up_signed(
        signing_key: &FollowUpSigningKey,
        mailbox: MailboxId,
        sequence: u32,
        content: Content,
    ) -> Message {
        let mut message = Message {
            mailbox,
            sequence,
            signature: None,
            kind: MessageKind::FollowUp,
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
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
            MessageKind::Acknowledgement { from, signer }
        } else {
            MessageKind::Reply { from, signer }
        };
        let mut message = Message {
            mailbox,
            sequence,
            signature: None,
            kind,
            written_on: content.written_on,
            body: content.body,
            attachments: content.attachments,
        };
        signing_key.sign(&mut message)?;
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
        let follow_up = Message::follow_up(&code, 2, Content::text(day(), "aanvulling"));
        let signers = vec![(address, signing_key.office_key())];
        let mut reporter = ThreadCheck::new(mailbox, signers.clone());
        reporter.expect_reporter_keys(
            code.reply_identity().recipient(),
            code.follow_up_signing_key().follow_up_key(),
        );
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
}
