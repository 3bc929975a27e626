//! A thread check never panics on any sequence of messages, and what it admits is a thread:
//! it starts with the report, stays in its mailbox, fits the author the relay recorded, each
//! author's numbers only go up (the reporter's, and each office signing key's on its own;
//! a gap is admitted and reported as missing messages), and every
//! office message comes from a key the directory lists for a recipient the report chose.
//! A refused message changes nothing: the check goes on with the next one.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/thread_check.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use std::collections::HashMap;

use meldpunt_crypto::{
    Author, Day, IdentityKey, MailboxId, Message, MessageKind, OfficeKey, ReceiptCode,
    RecipientAddress, ThreadCheck,
};

fn from(recipient: &str) -> RecipientAddress {
    RecipientAddress {
        organisation: "demo".into(),
        recipient: recipient.into(),
    }
}

/// Office identities: two members of the integrity office, an adviser the report did not
/// choose, and a stranger whose key the directory does not list.
fn identity(index: u8) -> IdentityKey {
    ReceiptCode::from_entropy([10 + index; 16]).reply_identity()
}

fn signers() -> Vec<(RecipientAddress, OfficeKey)> {
    vec![
        (
            from("integrity-office"),
            identity(0).office_signing_key().office_key(),
        ),
        (
            from("integrity-office"),
            identity(1).office_signing_key().office_key(),
        ),
        (
            from("adviser"),
            identity(2).office_signing_key().office_key(),
        ),
    ]
}

fn message(byte: u8, sequence: u8) -> (Message, Author) {
    let office = identity((byte >> 3) % 4);
    let sender = if byte & 0x40 == 0 {
        "integrity-office"
    } else {
        "adviser"
    };
    let signer = office.office_signing_key().office_key();
    let kind = match byte % 4 {
        0 => MessageKind::Report {
            reply_key: "age1m5cq20hdfk8cwfhpgeryr38wrt6whtqus6fpd60pqrdf5unvwplspcl82r"
                .parse()
                .unwrap(),
            follow_up_key: ReceiptCode::from_entropy([1; 16])
                .follow_up_signing_key()
                .follow_up_key(),
            recipients: vec![from("integrity-office")],
            conversation: meldpunt_crypto::Conversation::Report,
            earlier_consultation: None,
        },
        1 => MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        2 => MessageKind::Reply {
            from: from(sender),
            signer,
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: None,
            opening: None,
        },
        _ => MessageKind::Acknowledgement {
            from: from(sender),
            signer,
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            opening: None,
        },
    };
    let mut message = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        kind,
        mailbox: MailboxId::from_bytes([(byte >> 7) & 1; 32]),
        sequence: u32::from(sequence & 0x7f),
        written_on: Day::from_calendar_date(2026, 11, 28).unwrap(),
        body: String::new().into(),
        attachments: vec![],
    };
    // Every author signs, except when the top bit of the sequence byte says a forger wrote
    // it (the reporter's key from another code; the office's signature left off).
    let forged = sequence & 0x80 != 0;
    match message.kind {
        MessageKind::FollowUp { .. } => ReceiptCode::from_entropy([if forged { 2 } else { 1 }; 16])
            .follow_up_signing_key()
            .sign(&mut message),
        MessageKind::Reply { .. } | MessageKind::Acknowledgement { .. } => {
            office.office_signing_key().sign(&mut message).unwrap();
            if forged {
                message.body = String::from("altered").into();
            }
        }
        MessageKind::Report { .. } => {}
    }
    // The relay's recorded author: right, unless bit 5 says it lies.
    let honest = matches!(
        message.kind,
        MessageKind::Report { .. } | MessageKind::FollowUp { .. }
    );
    let recorded = if (byte & 0x20 == 0) == honest {
        Author::Reporter
    } else {
        Author::Office
    };
    (message, recorded)
}

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    let mailbox = MailboxId::from_bytes([0; 32]);
    let mut check = ThreadCheck::new(mailbox, signers());
    let mut reporter = 0u32;
    let mut office: HashMap<OfficeKey, u32> = HashMap::new();
    let listed = signers();
    for pair in bytes.chunks_exact(2) {
        let (message, recorded) = message(pair[0], pair[1]);
        if check.admit(&message, recorded).is_err() {
            continue;
        }
        assert_eq!(message.mailbox, mailbox);
        match &message.kind {
            MessageKind::Report { .. } | MessageKind::FollowUp { .. } => {
                assert_eq!(recorded, Author::Reporter);
                assert!(message.sequence > reporter, "a repeat or a step back");
                reporter = message.sequence;
                assert_eq!(
                    reporter == 1,
                    matches!(message.kind, MessageKind::Report { .. })
                );
            }
            MessageKind::Reply { from, signer, .. }
            | MessageKind::Acknowledgement { from, signer, .. } => {
                assert_eq!(recorded, Author::Office);
                assert!(reporter >= 1, "an office message before the report");
                assert_eq!(from.recipient, "integrity-office");
                assert!(listed.contains(&(from.clone(), *signer)));
                let last = office.entry(*signer).or_default();
                assert!(message.sequence > *last, "a repeat or a step back");
                *last = message.sequence;
            }
        }
        assert_eq!(check.next_reporter_sequence(), reporter + 1);
    }
}
