//! A thread check never panics on any sequence of messages, and what it admits is a thread:
//! it starts with the report, stays in its mailbox, and each author counts 1, 2, 3….
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/thread_check.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{
    Day, MailboxId, Message, MessageKind, ReceiptCode, RecipientAddress, ThreadCheck,
};

fn message(byte: u8, sequence: u8) -> Message {
    let from = |recipient: &str| RecipientAddress {
        organisation: "demo".into(),
        recipient: recipient.into(),
    };
    let kind = match byte % 5 {
        0 => MessageKind::Report {
            reply_key: "age1m5cq20hdfk8cwfhpgeryr38wrt6whtqus6fpd60pqrdf5unvwplspcl82r"
                .parse()
                .unwrap(),
            follow_up_key: ReceiptCode::from_entropy([1; 16])
                .follow_up_signing_key()
                .follow_up_key(),
            recipients: vec![from("integrity-office")],
        },
        1 => MessageKind::FollowUp,
        2 => MessageKind::Reply {
            from: from("integrity-office"),
        },
        3 => MessageKind::Acknowledgement {
            from: from("adviser"),
        },
        _ => MessageKind::Reply {
            from: from("adviser"),
        },
    };
    let mut message = Message {
        kind,
        mailbox: MailboxId::from_bytes([(byte >> 7) & 1; 32]),
        sequence: u32::from(sequence),
        signature: None,
        written_on: Day::from_calendar_date(2026, 11, 28).unwrap(),
        body: String::new().into(),
        attachments: vec![],
    };
    // The reporter signs follow-ups, except when the top bit of the sequence byte says a
    // forger wrote it.
    if matches!(message.kind, MessageKind::FollowUp) && sequence & 0x80 == 0 {
        ReceiptCode::from_entropy([1; 16])
            .follow_up_signing_key()
            .sign(&mut message);
    }
    message
}

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    let mut check = ThreadCheck::new(MailboxId::from_bytes([0; 32]));
    let mut reporter = 0u32;
    for pair in bytes.chunks_exact(2) {
        let message = message(pair[0], pair[1]);
        if check.admit(&message).is_err() {
            break;
        }
        assert_eq!(message.mailbox, MailboxId::from_bytes([0; 32]));
        if matches!(
            message.kind,
            MessageKind::Report { .. } | MessageKind::FollowUp
        ) {
            reporter += 1;
            assert_eq!(message.sequence, reporter);
            assert_eq!(
                reporter == 1,
                matches!(message.kind, MessageKind::Report { .. })
            );
        }
        assert_eq!(check.next_reporter_sequence(), reporter + 1);
    }
}
