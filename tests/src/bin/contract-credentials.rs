//! Credentials for the API contract test (`scripts/schemathesis/run.sh`), made with the
//! protocol's own code rather than a second implementation of it:
//!
//! - `contract-credentials mailbox RECEIPT-CODE` prints the mailbox token and mailbox id the
//!   receipt code stands for;
//! - `contract-credentials mailbox-id TOKEN` prints the id of a mailbox token;
//! - `contract-credentials office RELAY IDENTITY-FILE ORGANISATION RECIPIENT` logs in as
//!   that office (challenge, answer) and prints the session token.
//!
//! It talks only to the relay named, which must be on loopback. Tokens go to stdout for
//! the script that asked; this is test tooling against a throwaway development relay.

#![forbid(unsafe_code)]

use meldpunt_crypto::{IdentityKey, ReceiptCode};

fn fail(message: String) -> ! {
    eprintln!("contract-credentials: {message}");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let arguments: Vec<String> = std::env::args().skip(1).collect();
    match arguments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["mailbox", code] => {
            let code = ReceiptCode::parse(code)
                .unwrap_or_else(|error| fail(format!("not a receipt code: {error}")));
            let token = code.mailbox_token();
            println!("{} {}", token.to_wire().as_str(), token.mailbox_id().to_wire());
        }
        ["mailbox-id", token] => {
            let token = meldpunt_crypto::MailboxToken::from_wire(token)
                .unwrap_or_else(|error| fail(format!("not a mailbox token: {error}")));
            println!("{}", token.mailbox_id().to_wire());
        }
        ["office", relay, identity_file, organisation, recipient] => {
            let url = reqwest::Url::parse(relay)
                .unwrap_or_else(|error| fail(format!("not an address: {error}")));
            let host = url.host_str().unwrap_or_default();
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let loopback = host == "localhost"
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback());
            if !loopback {
                fail(format!("{relay} is not on loopback"));
            }
            let text = std::fs::read_to_string(identity_file)
                .unwrap_or_else(|error| fail(format!("cannot read {identity_file}: {error}")));
            let identity = text
                .lines()
                .find(|line| line.starts_with("AGE-SECRET-KEY-1"))
                .and_then(|line| IdentityKey::parse(line).ok())
                .unwrap_or_else(|| fail(format!("{identity_file} holds no age identity")));
            let session = meldpunt_client::Relay::new(relay, None)
                .unwrap_or_else(|error| fail(error.to_string()))
                .office_session(
                    organisation,
                    recipient,
                    std::slice::from_ref(&identity),
                    || {},
                )
                .await
                .unwrap_or_else(|error| fail(format!("no session: {error}")));
            println!("{}", session.to_wire().as_str());
        }
        _ => fail(
            "usage: contract-credentials mailbox RECEIPT-CODE | mailbox-id TOKEN | office RELAY IDENTITY-FILE ORGANISATION RECIPIENT"
                .into(),
        ),
    }
}
