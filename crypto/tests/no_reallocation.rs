//! Encoding a message writes its plaintext into one buffer of exactly the right size and
//! never reallocates it: a reallocation would free an earlier copy of the text unwiped.
//!
//! Alone in its own test binary, with a counting global allocator, so that no other test
//! thread allocates while the counts are taken.

use meldpunt_crypto::{Day, MailboxId, Message, MessageKind, ReceiptCode};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn encoding_a_message_never_reallocates_its_plaintext() {
    let code = ReceiptCode::from_entropy([5; 16]);
    // Text whose JSON escaping makes it grow the most: quotes, backslashes and control
    // characters become two to six bytes each.
    for body in [
        String::from("kort"),
        "\"\\\u{1}".repeat(40_000),
        "Een lange melding over wat er gebeurt. ".repeat(10_000),
    ] {
        let mut message = Message {
            recording: Default::default(),
            answers: Default::default(),
            purpose: Default::default(),
            mailbox: MailboxId::from_bytes([1; 32]),
            sequence: 2,
            kind: MessageKind::FollowUp {
                signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
                shared_identity: None,
            },
            written_on: Day::from_calendar_date(2026, 11, 30).unwrap(),
            body: body.into(),
            attachments: vec![],
        };
        code.follow_up_signing_key().sign(&mut message);
        let region = Region::new(GLOBAL);
        let encoded = message.encode().unwrap();
        let counts = region.change();
        assert_eq!(counts.reallocations, 0, "{counts:?}");
        assert_eq!(encoded.capacity(), encoded.len());
    }
}
