//! Oral reports (EU Directive 2019/1937 art. 9(2), 18(2)–(4)): an office member records a
//! report made by telephone or in a meeting. Their client makes a new receipt code, seals the
//! transcript or minutes as the report, marked and signed as recorded by them, and shows the
//! receipt code once, to hand to the reporter on paper. The reporter reads the record with
//! the code and confirms or corrects it (`meldpunt confirm`).
//!
//! This module must never write the receipt code anywhere but the one answer it gives: not
//! the store, not a log, not a file.

use meldpunt_crypto::{
    Answers, Channel, Content, Day, IdentityKey, Message, ReceiptCode, RecipientAddress,
};
use zeroize::Zeroizing;

use crate::error::{CliError, Result};
use crate::inbox::Inbox;
use crate::store::Store;

/// A recorded report, sent: its case id and the receipt code to hand over (shown once).
pub struct Recorded {
    /// The case id it will have in the store.
    pub case: String,
    /// The receipt code, written for the reporter.
    pub receipt_code: Zeroizing<String>,
}

impl std::fmt::Debug for Recorded {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Recorded")
            .field("case", &self.case)
            .finish_non_exhaustive()
    }
}

impl Inbox {
    /// Records an oral report received over `channel`: `body` (the transcript or minutes)
    /// and `answers` (from `answers_of`, given the organisation) become a report to this
    /// identity's recipient, signed as recorded by it, in a new mailbox. Nothing is kept of
    /// the receipt code.
    pub fn record_oral_report(
        &self,
        identities: &[IdentityKey],
        channel: Channel,
        written_on: Day,
        body: Zeroizing<String>,
        answers_of: impl FnOnce(&meldpunt_crypto::Organisation) -> Result<Answers>,
    ) -> Result<Recorded> {
        if body.trim().is_empty() {
            return Err(CliError::Usage(
                "the record of the oral report is empty; nothing was sent".into(),
            ));
        }
        let session = {
            let mut store = Store::open(&self.store, identities)?;
            let session = self.session(identities, &mut store)?;
            store.save()?;
            session
        };
        session.require_office_key()?;
        let organisation = session
            .directory
            .organisation(&session.address.organisation)
            .ok_or_else(|| {
                CliError::Verification("this identity's organisation left the directory".into())
            })?;
        let answers = answers_of(organisation)?;
        let address: RecipientAddress = session.address.clone();
        let code = ReceiptCode::generate();
        let mut report = Message::report(
            &code,
            vec![address.clone()],
            Content::text(written_on, body.as_str()).with_answers(answers),
        );
        identities[0]
            .office_signing_key()
            .record(address.clone(), channel, &mut report)?;
        let mut keys = session.directory.keys_for(std::slice::from_ref(&address))?;
        keys.push(code.reply_identity().recipient());
        let sealed = report.seal(&keys)?.into_bytes();
        let token = code.mailbox_token();
        crate::reporter::create_mailbox(
            &session.relay,
            &token,
            &address.organisation,
            std::slice::from_ref(&address.recipient),
            sealed,
        )?;
        Ok(Recorded {
            case: crate::inbox::case_id(&token.mailbox_id().to_wire()),
            receipt_code: Zeroizing::new(code.to_written_form().as_str().to_owned()),
        })
    }
}
