//! Whatever file name a browser sends, the name the relay keeps is a base name that the
//! message format accepts: no folders, no control characters, at most 255 bytes.
//!
//! Shared by the fuzz target `fuzz/fuzz_targets/attachment_name.rs` and the replay test that
//! re-checks the corpus and regressions in an ordinary `cargo test`.
use meldpunt_crypto::{
    AttachmentReference, Day, MailboxId, Message, MessageKind, ReceiptCode, RecipientAddress,
};
use meldpunt_server::internal::attachment_name;

/// The property, for one input.
pub(crate) fn check(given: &str) {
    let Some(name) = attachment_name(given) else {
        return;
    };
    assert!(!name.is_empty() && name.len() <= 255);
    assert!(!name.contains(['/', '\\']) && !name.chars().any(char::is_control));
    assert!(name != "." && name != "..");
    let office = ReceiptCode::from_entropy([4; 16])
        .reply_identity()
        .office_signing_key();
    let mut message = Message {
        recording: Default::default(),
        answers: Default::default(),
        purpose: Default::default(),
        kind: MessageKind::Reply {
            from: RecipientAddress {
                organisation: "demo".into(),
                recipient: "integrity-office".into(),
            },
            signer: office.office_key(),
            signature: meldpunt_crypto::MessageSignature::from_bytes([0; 64]),
            process_guide: None,
            opening: None,
        },
        mailbox: MailboxId::from_bytes([0; 32]),
        sequence: 2,
        written_on: Day::from_calendar_date(2026, 11, 28).unwrap(),
        body: String::new().into(),
        attachments: vec![AttachmentReference {
            name,
            size: 1,
            sha256: [0; 32],
            location: "AAAAAAAAAAAAAAAAAAAAAA".into(),
        }],
    };
    office.sign(&mut message).unwrap();
    assert!(message.encode().is_ok());
}
