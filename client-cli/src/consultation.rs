//! The consultation a report carries, as an office member's clients show it: each carried
//! message with its author and whether it checked out (the advisers' replies against the
//! signed directory, the reporter's follow-ups against the consultation's key, and the
//! whole against the reporter's signature that carried it into this report).
//!
//! This module only reads what a report carries; it never fetches anything of the
//! consultation from the relay (the office has no access to that mailbox) and never writes.

use meldpunt_crypto::{Day, Message, MessageKind, OfficeKey, RecipientAddress};
use zeroize::Zeroizing;

/// One carried message, ready to show.
pub struct CarriedEntry {
    /// Who wrote it: `reporter`, or the adviser's `organisation/recipient`.
    pub author: String,
    /// Whether the office side (an adviser) wrote it.
    pub from_adviser: bool,
    /// The day it was written.
    pub written_on: Day,
    /// The text.
    pub body: Zeroizing<String>,
    /// Names of its attachments (they stay with the consultation, out of the office's reach).
    pub attachments: Vec<String>,
    /// Why it does not check out, if it does not (then it is shown marked).
    pub not_verified: Option<String>,
    /// Earlier messages of its author the reporter did not carry.
    pub missing_before: u32,
}

impl std::fmt::Debug for CarriedEntry {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CarriedEntry")
            .field("author", &self.author)
            .field("written_on", &self.written_on)
            .field(
                "body",
                &format_args!("[redacted, {} bytes]", self.body.len()),
            )
            .field("not_verified", &self.not_verified)
            .finish_non_exhaustive()
    }
}

/// The consultation `report` carries, checked for the report in `report`'s mailbox with the
/// directory's office keys: `None` when it carries none, `Err` with why when the reporter's
/// signature over it is missing or wrong (then nothing of it is to be shown as theirs).
pub fn carried(
    report: &Message,
    signers: &[(RecipientAddress, OfficeKey)],
) -> Option<Result<Vec<CarriedEntry>, String>> {
    let MessageKind::Report {
        earlier_consultation: Some(carried),
        ..
    } = &report.kind
    else {
        return None;
    };
    let checked = match carried.check(&report.mailbox, signers.to_vec()) {
        Ok(checked) => checked,
        Err(error) => return Some(Err(error.to_string())),
    };
    Some(Ok(checked
        .messages
        .into_iter()
        .map(|(message, outcome)| {
            let (author, from_adviser) = match &message.kind {
                MessageKind::Reply { from, .. } | MessageKind::Acknowledgement { from, .. } => {
                    (format!("{}/{}", from.organisation, from.recipient), true)
                }
                _ => ("reporter".to_owned(), false),
            };
            CarriedEntry {
                author,
                from_adviser,
                written_on: message.written_on,
                body: message.body.clone(),
                attachments: message
                    .attachments
                    .iter()
                    .map(|reference| reference.name.clone())
                    .collect(),
                missing_before: outcome
                    .as_ref()
                    .map_or(0, |admitted| admitted.missing_before),
                not_verified: outcome.err().map(|error| error.to_string()),
            }
        })
        .collect()))
}
