//! Any message the encoder accepts decodes to itself, and sealed-then-opened it is the same.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/message_round_trip.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{
    AttachmentReference, Day, IdentityKey, MailboxId, Message, MessageKind, ReceiptCode,
    RecipientAddress,
};

/// The property, for one input.
pub(crate) fn check(bytes: &[u8]) {
    if bytes.len() < 8 {
        return;
    }
    let (head, rest) = bytes.split_at(8);
    let split = usize::from(head[0]) % (rest.len() + 1);
    let body = String::from_utf8_lossy(&rest[..split]).into_owned();
    let name = String::from_utf8_lossy(&rest[split..]).into_owned();
    let from = RecipientAddress {
        organisation: "demo".into(),
        recipient: "integrity-office".into(),
    };
    let signing_key = ReceiptCode::from_entropy([head[2]; 16])
        .reply_identity()
        .office_signing_key();
    let signer = signing_key.office_key();
    let kind = match head[1] % 3 {
        0 => MessageKind::FollowUp {
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            shared_identity: None,
        },
        1 => MessageKind::Reply {
            from,
            signer,
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: None,
            opening: None,
        },
        _ => MessageKind::Acknowledgement {
            from,
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
        mailbox: MailboxId::from_bytes([head[2]; 32]),
        sequence: u32::from_le_bytes([head[3], head[4], 0, 0]),
        written_on: Day::from_calendar_date(
            2000 + i32::from(head[5]),
            1 + head[6] % 12,
            1 + head[7] % 28,
        )
        .unwrap(),
        body: body.into(),
        attachments: if name.is_empty() {
            vec![]
        } else {
            vec![AttachmentReference {
                name,
                size: u64::from(head[2]),
                sha256: [head[3]; 32],
                location: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            }]
        },
    };
    if matches!(message.kind, MessageKind::FollowUp { .. }) {
        ReceiptCode::from_entropy([head[2]; 16])
            .follow_up_signing_key()
            .sign(&mut message);
    } else {
        signing_key.sign(&mut message).unwrap();
    }
    let Ok(encoded) = message.encode() else {
        return;
    };
    assert_eq!(Message::decode(&encoded).unwrap(), message);
    let office = IdentityKey::generate();
    let sealed = message.seal(&[office.recipient()]).unwrap();
    assert_eq!(
        Message::open(&[office], sealed.as_bytes()).unwrap(),
        message
    );
}
