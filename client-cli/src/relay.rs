//! Talking to a relay over HTTP(S): every endpoint the CLI uses, with the relay's errors
//! turned into [`CliError`]s. Sealed objects go up and down as raw bytes; attachments stream.
//!
//! This module never sends anything but ciphertext, tokens in the Authorization header (never
//! in a URL), and control data.

use std::io::Read;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use meldpunt_crypto::{MailboxToken, SessionToken};
use meldpunt_wire::{ChallengeOffer, MessageSummary, OfficeEntry};
use reqwest::blocking::{Client, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{CliError, Result};

/// One entry of a listing: the relay's entry, typed, or why it is malformed. One malformed
/// entry (a hostile relay's) never spoils the others: the caller marks it and goes on.
pub type Listed<T> = std::result::Result<T, Malformed>;

/// An entry of a listing that does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// Its position (reporter) or number (office), if at least that much could be read.
    pub key: Option<u64>,
    /// What is wrong with it.
    pub reason: String,
}

/// Most messages asked for in one page of a listing (the relay's maximum).
const PAGE: u64 = 1000;

/// Each entry of a listing parsed on its own, `key` naming the field that identifies it.
fn entries<T: DeserializeOwned>(listed: Vec<serde_json::Value>, key: &str) -> Vec<Listed<T>> {
    listed
        .into_iter()
        .map(|value| {
            let key = value.get(key).and_then(serde_json::Value::as_u64);
            serde_json::from_value(value).map_err(|error| Malformed {
                key,
                reason: format!("the relay listed it with a malformed field: {error}"),
            })
        })
        .collect()
}

/// A relay at a base URL.
#[derive(Debug, Clone)]
pub struct Relay {
    base: String,
    client: Client,
    proxy: Option<String>,
}

/// Size of the pieces a streamed upload is sent in.
const UPLOAD_PIECE: usize = 256 * 1024;

#[derive(Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl Relay {
    /// A client for the relay at `url`. It sends no User-Agent, no cookies and no referrer:
    /// nothing that could tell one reporter's client from another's. Optionally through a proxy such as Tor's
    /// `socks5h://127.0.0.1:9050` (the `h` makes the proxy resolve names, so onion
    /// addresses work and no DNS query leaves this machine).
    pub fn new(url: &str, proxy: Option<&str>) -> Result<Relay> {
        let base = url.trim_end_matches('/').to_owned();
        check_address(&base)?;
        if proxy.is_none() && is_onion(&base) {
            return Err(CliError::Usage(format!(
                "{base} is an onion address: reach it through Tor with --proxy socks5h://127.0.0.1:9050 \
                 (without Tor its name would go to this network's resolver)"
            )));
        }
        // No redirects: a relay (or something in front of it) could otherwise send the
        // client to plain http:// elsewhere, around the address rules above.
        let mut builder = Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .timeout(None::<Duration>)
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(proxy) = proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|error| CliError::Usage(format!("invalid proxy {proxy}: {error}")))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|error| CliError::Local(format!("cannot set up HTTP: {error}")))?;
        Ok(Relay {
            base,
            client,
            proxy: proxy.map(str::to_owned),
        })
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn send(&self, request: RequestBuilder) -> Result<Response> {
        let response = request.send().map_err(|error| CliError::Unreachable {
            relay: self.base.clone(),
            detail: describe(&error),
        })?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        let body: Option<ErrorBody> = response.json().ok();
        Err(match body {
            Some(body) => CliError::Refused {
                status,
                code: body.error,
                message: body.message,
            },
            None => CliError::Refused {
                status,
                code: format!("http-{status}"),
                message: "the relay answered with an error and no explanation".into(),
            },
        })
    }

    fn bytes(&self, response: Response) -> Result<Vec<u8>> {
        response
            .bytes()
            .map(|bytes| bytes.to_vec())
            .map_err(|error| CliError::Unreachable {
                relay: self.base.clone(),
                detail: describe(&error),
            })
    }

    fn json<T: DeserializeOwned>(&self, response: Response) -> Result<T> {
        response.json().map_err(|error| CliError::Unreachable {
            relay: self.base.clone(),
            detail: format!("the answer was not the expected JSON: {}", describe(&error)),
        })
    }

    /// The signed directory's bytes.
    pub fn directory(&self) -> Result<Vec<u8>> {
        let response = self.send(self.client.get(format!("{}/api/v1/directory", self.base)))?;
        self.bytes(response)
    }

    /// A proof-of-work challenge, or `None` if the relay requires none.
    pub fn challenge(&self) -> Result<Option<meldpunt_crypto::Challenge>> {
        let response = self.send(self.client.get(format!("{}/api/v1/challenge", self.base)))?;
        let offer: ChallengeOffer = self.json(response)?;
        if !offer.required {
            return Ok(None);
        }
        meldpunt_crypto::Challenge::from_wire(offer.challenge.as_deref().unwrap_or_default())
            .map(Some)
            .map_err(|_| {
                CliError::Verification("the relay sent a malformed proof-of-work challenge".into())
            })
    }

    fn bearer(token: &str) -> String {
        format!("Bearer {token}")
    }

    /// Creates a mailbox with its report.
    pub fn create_mailbox(
        &self,
        token: &MailboxToken,
        organisation: &str,
        stamp: Option<&str>,
        sealed: Vec<u8>,
    ) -> Result<()> {
        let mut request = self
            .client
            .post(format!("{}/api/v1/mailboxes", self.base))
            .header("authorization", Self::bearer(&token.to_wire()))
            .header("meldpunt-organisation", organisation)
            .header("content-type", "application/octet-stream")
            .body(sealed);
        if let Some(stamp) = stamp {
            request = request.header("meldpunt-stamp", stamp);
        }
        self.send(request).map(drop)
    }

    /// Lists every message of a mailbox, page by page.
    pub fn mailbox_messages(&self, token: &MailboxToken) -> Result<Vec<Listed<MessageSummary>>> {
        let mut listed = Vec::new();
        let mut after = 0;
        loop {
            let response = self.send(
                self.client
                    .get(format!(
                        "{}/api/v1/mailbox/messages?after={after}&limit={PAGE}",
                        self.base
                    ))
                    .header("authorization", Self::bearer(&token.to_wire())),
            )?;
            let page = self.listing::<MessageSummary>(response, "position")?;
            let count = page.len() as u64;
            let last = page
                .iter()
                .filter_map(|entry| match entry {
                    Ok(summary) => Some(u64::from(summary.position)),
                    Err(malformed) => malformed.key,
                })
                .max();
            listed.extend(page);
            // A short page is the last; so is one that moves nowhere (a relay that lists the
            // same page again would otherwise keep us here).
            match last {
                Some(last) if count == PAGE && last > after => after = last,
                _ => return Ok(listed),
            }
        }
    }

    /// A page of a listing: `{"messages": [...]}`, each entry parsed on its own.
    fn listing<T: DeserializeOwned>(
        &self,
        response: Response,
        key: &str,
    ) -> Result<Vec<Listed<T>>> {
        #[derive(Deserialize)]
        struct Page {
            messages: Vec<serde_json::Value>,
        }
        let page: Page = self.json(response)?;
        Ok(entries(page.messages, key))
    }

    /// Fetches one sealed message of a mailbox.
    pub fn mailbox_message(&self, token: &MailboxToken, position: u32) -> Result<Vec<u8>> {
        let response = self.send(
            self.client
                .get(format!("{}/api/v1/mailbox/messages/{position}", self.base))
                .header("authorization", Self::bearer(&token.to_wire())),
        )?;
        self.bytes(response)
    }

    /// Posts a sealed follow-up.
    pub fn follow_up(&self, token: &MailboxToken, sealed: Vec<u8>) -> Result<()> {
        self.send(
            self.client
                .post(format!("{}/api/v1/mailbox/messages", self.base))
                .header("authorization", Self::bearer(&token.to_wire()))
                .header("content-type", "application/octet-stream")
                .body(sealed),
        )
        .map(drop)
    }

    /// Uploads a sealed attachment of unknown length (chunked transfer), streamed from `sealed`
    /// in 256 KiB pieces. (reqwest's blocking body reads 8 KiB at a time, which made uploads
    /// CPU-bound; this path uses its async client on a small runtime of its own.)
    pub fn upload_chunked<R: Read + Send + 'static>(
        &self,
        credential: &str,
        mailbox: Option<&str>,
        id: &str,
        sealed: R,
    ) -> Result<()> {
        let url = match mailbox {
            None => format!("{}/api/v1/mailbox/attachments/{id}", self.base),
            Some(mailbox) => format!(
                "{}/api/v1/office/mailboxes/{mailbox}/attachments/{id}",
                self.base
            ),
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| CliError::Local(format!("cannot start the upload: {error}")))?;
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .no_proxy();
        if let Some(proxy) = &self.proxy {
            builder = builder.proxy(
                reqwest::Proxy::all(proxy)
                    .map_err(|error| CliError::Usage(format!("invalid proxy {proxy}: {error}")))?,
            );
        }
        let client = builder
            .build()
            .map_err(|error| CliError::Local(format!("cannot set up HTTP: {error}")))?;
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
        let reader = std::thread::spawn(move || {
            let mut sealed = sealed;
            loop {
                let mut piece = vec![0u8; UPLOAD_PIECE];
                let mut filled = 0;
                while filled < piece.len() {
                    match sealed.read(&mut piece[filled..]) {
                        Ok(0) => break,
                        Ok(read) => filled += read,
                        Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(error) => {
                            let _ = sender.blocking_send(Err(error));
                            return;
                        }
                    }
                }
                if filled == 0 {
                    return;
                }
                piece.truncate(filled);
                if sender.blocking_send(Ok(bytes::Bytes::from(piece))).is_err() {
                    return;
                }
            }
        });
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        let credential = Self::bearer(credential);
        let result = runtime.block_on(async {
            let response = client
                .put(url)
                .header("authorization", credential)
                .header("content-type", "application/octet-stream")
                .body(reqwest::Body::wrap_stream(stream))
                .send()
                .await;
            match response {
                Err(error) => Err(CliError::Unreachable {
                    relay: self.base.clone(),
                    detail: describe(&error),
                }),
                Ok(response) if response.status().is_success() => Ok(()),
                Ok(response) => {
                    let status = response.status().as_u16();
                    Err(match response.json::<ErrorBody>().await {
                        Ok(body) => CliError::Refused {
                            status,
                            code: body.error,
                            message: body.message,
                        },
                        Err(_) => CliError::Refused {
                            status,
                            code: format!("http-{status}"),
                            message: "the relay answered with an error and no explanation".into(),
                        },
                    })
                }
            }
        });
        let _ = reader.join();
        result
    }

    /// Downloads a sealed attachment as a reader, as a reporter (`office` false) or office.
    pub fn download_attachment(
        &self,
        credential: &str,
        office: bool,
        id: &str,
    ) -> Result<(Response, Option<u64>)> {
        let url = if office {
            format!("{}/api/v1/office/attachments/{id}", self.base)
        } else {
            format!("{}/api/v1/mailbox/attachments/{id}", self.base)
        };
        let response = self.send(
            self.client
                .get(url)
                .header("authorization", Self::bearer(credential)),
        )?;
        let length = response.content_length();
        Ok((response, length))
    }

    /// Authenticates as an office recipient with its identity; returns the session token.
    pub fn office_session(
        &self,
        organisation: &str,
        recipient: &str,
        identities: &[meldpunt_crypto::IdentityKey],
    ) -> Result<SessionToken> {
        let ask = |stamp: Option<String>| {
            let mut request = self
                .client
                .post(format!("{}/api/v1/office/challenge", self.base))
                .json(&meldpunt_wire::OfficeChallengeRequest {
                    organisation: organisation.to_owned(),
                    recipient: recipient.to_owned(),
                });
            if let Some(stamp) = stamp {
                request = request.header("meldpunt-stamp", stamp);
            }
            self.send(request)
        };
        let response = match ask(None) {
            // Someone is asking for this organisation's challenges faster than the relay
            // gives them away: pay for one with proof-of-work instead.
            Err(CliError::Refused { status: 429, .. }) => {
                let Some(challenge) = self.challenge()? else {
                    return Err(CliError::Refused {
                        status: 429,
                        code: "rate-limited".into(),
                        message: "the relay gives no more office challenges this minute; try again in a minute".into(),
                    });
                };
                eprintln!("The relay is busy with logins for {organisation}; doing anti-abuse work first.");
                let stamp = challenge
                    .solve(&meldpunt_crypto::office_stamp_subject(organisation), |_| {
                        true
                    })
                    .ok_or_else(|| CliError::Local("the proof-of-work was cancelled".into()))?;
                ask(Some(stamp.to_wire()))?
            }
            other => other?,
        };
        let challenge: meldpunt_wire::OfficeChallenge = self.json(response)?;
        let sealed = STANDARD
            .decode(challenge.sealed_challenge)
            .map_err(|_| CliError::Verification("the relay sent a malformed challenge".into()))?;
        let answer = meldpunt_crypto::ChallengeAnswer::open(identities, &sealed).map_err(|error| match error {
            meldpunt_crypto::Error::NotForThisIdentity => CliError::Verification(format!(
                "the relay's challenge for {recipient} in {organisation} is not addressed to this identity: \
                 is this identity's public key in the directory?"
            )),
            other => CliError::from(other),
        })?;
        let response = self.send(
            self.client
                .post(format!("{}/api/v1/office/session", self.base))
                .json(&meldpunt_wire::SessionRequest {
                    answer: answer.to_wire().to_string(),
                }),
        )?;
        let session: meldpunt_wire::Session = self.json(response)?;
        SessionToken::from_wire(&session.session_token)
            .map_err(|_| CliError::Verification("the relay sent a malformed session token".into()))
    }

    /// Lists the organisation's messages after `after`.
    pub fn office_messages(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<OfficeEntry>>> {
        let response = self.send(
            self.client
                .get(format!(
                    "{}/api/v1/office/messages?after={after}&limit={PAGE}",
                    self.base
                ))
                .header("authorization", Self::bearer(&session.to_wire())),
        )?;
        self.listing::<OfficeEntry>(response, "number")
    }

    /// Fetches one sealed message of the organisation.
    pub fn office_message(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        let response = self.send(
            self.client
                .get(format!("{}/api/v1/office/messages/{number}", self.base))
                .header("authorization", Self::bearer(&session.to_wire())),
        )?;
        self.bytes(response)
    }

    /// Marks a message fetched.
    pub fn mark_fetched(&self, session: &SessionToken, number: u64) -> Result<()> {
        self.send(
            self.client
                .post(format!(
                    "{}/api/v1/office/messages/{number}/fetched",
                    self.base
                ))
                .header("authorization", Self::bearer(&session.to_wire())),
        )
        .map(drop)
    }

    /// Posts a sealed reply into a mailbox.
    pub fn reply(&self, session: &SessionToken, mailbox: &str, sealed: Vec<u8>) -> Result<()> {
        self.send(
            self.client
                .post(format!(
                    "{}/api/v1/office/mailboxes/{mailbox}/messages",
                    self.base
                ))
                .header("authorization", Self::bearer(&session.to_wire()))
                .header("content-type", "application/octet-stream")
                .body(sealed),
        )
        .map(drop)
    }
}

/// Whether the address's host is a Tor onion service.
fn is_onion(base: &str) -> bool {
    reqwest::Url::parse(base).is_ok_and(|url| {
        url.host_str()
            .is_some_and(|host| host.to_ascii_lowercase().ends_with(".onion"))
    })
}

/// Refuses relay addresses that would leak a report or mislead: anything but `https://`,
/// except plain `http://` to this machine (a development relay, or Tor's local proxy port)
/// and to `.onion` addresses (Tor encrypts and authenticates those itself); and an address
/// with the API path in it, which would reach no endpoint.
fn check_address(base: &str) -> Result<()> {
    let url = reqwest::Url::parse(base).map_err(|_| {
        CliError::Usage(format!(
            "{base} is not a relay address; give one like https://meldpunt.example.nl"
        ))
    })?;
    let local_or_onion = match url.host() {
        Some(url::Host::Domain(name)) => {
            let name = name.to_ascii_lowercase();
            name == "localhost" || name.ends_with(".onion")
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => {}
        "http" if local_or_onion => {}
        "http" => {
            return Err(CliError::Usage(format!(
                "{base} uses plain http://, which anyone on the way can read and change; \
                 use https://, or http:// only for this machine (127.0.0.1, ::1, localhost) \
                 or a .onion address"
            )))
        }
        _ => {
            return Err(CliError::Usage(format!(
                "the relay address must start with https:// (or http:// for this machine or a .onion address), not {base}"
            )))
        }
    }
    if url.path().trim_end_matches('/').ends_with("/api/v1") || url.path().contains("/api/") {
        let mut root = url.clone();
        root.set_path("");
        return Err(CliError::Usage(format!(
            "give the relay's base address, without the API path: {}",
            root.as_str().trim_end_matches('/')
        )));
    }
    Ok(())
}

fn describe(error: &reqwest::Error) -> String {
    if error.is_connect() {
        "the connection was refused or failed (is the relay running, the address right, Tor started?)".into()
    } else if error.is_timeout() {
        "the relay did not answer in time".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_is_refused_except_for_loopback_and_onion_addresses() {
        for allowed in [
            "https://meldpunt.example.nl",
            "http://127.0.0.1:8080",
            "http://127.8.9.1",
            "http://[::1]:8080/",
            "http://localhost:8080",
            "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion",
        ] {
            assert!(
                check_address(allowed.trim_end_matches('/')).is_ok(),
                "{allowed}"
            );
        }
        for refused in [
            "http://meldpunt.example.nl",
            "http://192.168.1.10:8080",
            "http://10.0.0.1",
            "http://[2001:db8::1]",
            "http://onion.example.nl",
            "ftp://127.0.0.1",
            "127.0.0.1:8080",
            "meldpunt.example.nl",
        ] {
            assert!(
                matches!(check_address(refused), Err(CliError::Usage(_))),
                "{refused}"
            );
        }
    }

    #[test]
    fn redirects_are_not_followed() {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).unwrap();
            stream
                .write_all(b"HTTP/1.1 302 Found\r\nLocation: http://example.invalid/api/v1/directory\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .unwrap();
        });
        let relay = Relay::new(&format!("http://{address}"), None).unwrap();
        let error = relay.directory().unwrap_err();
        assert!(
            matches!(error, CliError::Refused { status: 302, .. }),
            "{error:?}"
        );
        server.join().unwrap();
    }

    #[test]
    fn an_onion_address_needs_tor() {
        let onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion";
        assert!(matches!(Relay::new(onion, None), Err(CliError::Usage(_))));
        assert!(Relay::new(onion, Some("socks5h://127.0.0.1:9050")).is_ok());
        assert!(Relay::new("http://127.0.0.1:8080", None).is_ok());
    }

    #[test]
    fn an_address_with_the_api_path_is_refused_with_the_base_address() {
        let Err(CliError::Usage(message)) = check_address("http://127.0.0.1:8080/api/v1") else {
            panic!("accepted");
        };
        assert!(message.contains("http://127.0.0.1:8080"), "{message}");
        assert!(!message.contains("8080/api"), "{message}");
    }

    #[test]
    fn a_malformed_entry_is_marked_and_the_others_are_read() {
        let listed: Vec<serde_json::Value> = serde_json::from_str(
            r#"[
                {"position":1,"author":"reporter","day":"2026-11-30","size":4400},
                {"position":2,"author":"nobody","day":"2026-11-30","size":4400},
                {"position":3,"author":"office","day":"2026-02-30","size":4400},
                {"author":"office"},
                {"position":5,"author":"office","day":"2026-11-30","size":4400}
            ]"#,
        )
        .unwrap();
        let entries = entries::<MessageSummary>(listed, "position");
        let keys: Vec<_> = entries
            .iter()
            .map(|entry| match entry {
                Ok(summary) => (true, Some(u64::from(summary.position))),
                Err(malformed) => (false, malformed.key),
            })
            .collect();
        assert_eq!(
            keys,
            [
                (true, Some(1)),
                (false, Some(2)),
                (false, Some(3)),
                (false, None),
                (true, Some(5))
            ]
        );
        let Err(malformed) = &entries[1] else {
            unreachable!()
        };
        assert!(
            malformed.reason.contains("malformed"),
            "{}",
            malformed.reason
        );
    }
}
