//! How long the office keeps a case (EU Directive 2019/1937, art. 18: no longer than
//! necessary): `meldpunt inbox retention`, `inbox hold` and `inbox purge`.
//!
//! A closed case is kept `retention_months` (config.json) after closing unless the office
//! sets another date, with a reason; a legal hold keeps it whatever the date. At the date the
//! office purges the content from its store — messages, sealed originals, the team's notes —
//! and keeps the register line. Decisions and reasons are kept in the encrypted store only.
//!
//! This module never touches the relay: what the relay keeps is its own retention's.

use std::path::Path;

use meldpunt_crypto::Day;
use serde_json::json;

use crate::clock::today;
use crate::error::{CliError, Result};
use crate::inbox::Inbox;
use crate::input;
use crate::store::{RetentionDecision, Store};

impl Inbox {
    /// `meldpunt inbox retention CASE --until DAY`: a new retention date, with a reason.
    pub fn set_retention(&self, id: &str, until: Day, reason_file: Option<&Path>) -> Result<()> {
        let reason = input::message(reason_file, "reason for the new retention date")?;
        let identities = input::identities(&self.identity)?;
        let mut store = Store::open(&self.store, &identities)?;
        let case = store.case_mut(id)?;
        if case.purged_on.is_some() {
            return Err(CliError::Usage(format!(
                "case {} was purged already",
                case.id
            )));
        }
        match case.closed_day() {
            None => {
                return Err(CliError::Usage(format!(
                    "case {} is open: a retention date runs from its closing",
                    case.id
                )))
            }
            Some(closed) if until < closed => {
                return Err(CliError::Usage(format!(
                    "case {} was closed on {closed}; its retention date cannot be before that",
                    case.id
                )))
            }
            Some(_) => {}
        }
        case.retention = Some(RetentionDecision {
            until: Some(until),
            reason: zeroize::Zeroizing::new(reason.trim().to_owned()),
            decided_on: today(),
        });
        let id = case.id.clone();
        store.save()?;
        self.say(
            json!({ "case": id, "retention_until": until.to_string() }),
            &format!("Case {id} is kept until {until}."),
        );
        Ok(())
    }

    /// `meldpunt inbox hold CASE` (with a reason) or `--release`.
    pub fn set_hold(&self, id: &str, release: bool, reason_file: Option<&Path>) -> Result<()> {
        let reason = if release {
            None
        } else {
            Some(input::message(reason_file, "reason for the legal hold")?)
        };
        let identities = input::identities(&self.identity)?;
        let mut store = Store::open(&self.store, &identities)?;
        let case = store.case_mut(id)?;
        case.legal_hold = reason.map(|reason| RetentionDecision {
            until: None,
            reason: zeroize::Zeroizing::new(reason.trim().to_owned()),
            decided_on: today(),
        });
        let id = case.id.clone();
        store.save()?;
        self.say(
            json!({ "case": id, "legal_hold": !release }),
            &if release {
                format!("Case {id}: legal hold released; its retention date applies again.")
            } else {
                format!("Case {id} is under a legal hold: it is kept whatever its retention date.")
            },
        );
        Ok(())
    }

    /// `meldpunt inbox purge CASE`: the content goes, the register line stays.
    pub fn purge(&self, id: &str) -> Result<()> {
        let identities = input::identities(&self.identity)?;
        let mut store = Store::open(&self.store, &identities)?;
        store.state.retention_months = self.retention_months;
        let day = today();
        let id = store.purge(id, day)?;
        self.say(
            json!({ "case": id, "purged_on": day.to_string() }),
            &format!(
                "Case {id}: its content was removed from this store; its register line stays. \
                 Colleagues purge their own stores; the relay deletes the mailbox by its own retention."
            ),
        );
        Ok(())
    }

    fn say(&self, value: serde_json::Value, text: &str) {
        if self.json {
            println!("{value}");
        } else {
            println!("{text}");
        }
    }
}
