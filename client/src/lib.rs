//! A typed client of a Meldpunt relay's `/api/v1`: every call the CLI, the end-to-end tests
//! and the benchmark make, with the wire crate's types on the way in and out and the relay's
//! errors as [`ClientError`]s. Async; [`blocking::Relay`] is the same client for a program
//! without a runtime of its own (the CLI).
//!
//! Sealed objects go up and down as raw bytes; attachments stream both ways. The office's
//! login (ask for a challenge, paying with proof-of-work when the relay is busy; open it with
//! the identity; trade the answer for a session) is written here once.
//!
//! This crate must never send anything but ciphertext, tokens in the `Authorization` header
//! (never in a URL), and control data; it sends no User-Agent, no cookies and no referrer,
//! follows no redirect, and talks plain `http://` only to this machine or an onion service.
//! It does no other I/O: no files, no terminal, no clock.

#![forbid(unsafe_code)]

mod address;
pub mod blocking;
mod error;
mod listing;

use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use meldpunt_crypto::{
    AttachmentId, Challenge, IdentityKey, MailboxId, MailboxToken, SessionToken,
};
use meldpunt_wire::{
    paths, AttachmentStored, CaseRecordEntry, CaseRecordStored, ChallengeOffer, ErrorBody,
    HandOverEntry, HandOverStored, MessageSummary, OfficeChallenge, OfficeChallengeRequest,
    OfficeEntry, OfficeStored, Session, SessionRequest, Stored,
};
use serde::de::DeserializeOwned;

pub use error::{ClientError, Result};
pub use listing::{Listed, Malformed};

/// Most messages asked for in one page of a listing (the relay's maximum).
pub const PAGE: u64 = 1000;

/// Most bytes a directory, sealed message or hand-over answer is read to (each is at most a
/// few MiB).
pub const MOST_BYTES: usize = 16 << 20;

/// Most messages a mailbox listing is read to (far above what a relay lets a mailbox hold):
/// a relay that lists more is not believed, so that it cannot keep a client paging for ever.
pub const MOST_LISTED: usize = 100_000;

/// Text from the relay (an error's sentence, a listing's complaint quoting the relay's
/// value) as it may be shown to people: control characters, which could move a terminal's
/// cursor or fake lines, replaced; at most 300 characters.
pub(crate) fn printable(text: &str) -> String {
    text.chars()
        .take(300)
        .map(|character| {
            if character.is_control() {
                '\u{fffd}'
            } else {
                character
            }
        })
        .collect()
}

/// Who reads an attachment: a reporter with its mailbox token, or an office with a session.
#[derive(Clone, Copy)]
pub enum Credential<'a> {
    /// A reporter's mailbox token.
    Mailbox(&'a MailboxToken),
    /// An office's session.
    Office(&'a SessionToken),
}

impl std::fmt::Debug for Credential<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(match self {
            Credential::Mailbox(_) => "Credential::Mailbox([redacted])",
            Credential::Office(_) => "Credential::Office([redacted])",
        })
    }
}

/// Where an attachment goes up: into the reporter's own mailbox, or by an office into a
/// reporter's mailbox.
#[derive(Clone, Copy)]
pub enum Upload<'a> {
    /// A reporter's attachment, with its mailbox token.
    Reporter(&'a MailboxToken),
    /// An office's attachment to a reply in `mailbox`.
    Office {
        /// The office's session.
        session: &'a SessionToken,
        /// The reporter's mailbox.
        mailbox: &'a MailboxId,
    },
}

impl std::fmt::Debug for Upload<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Upload::Reporter(_) => formatter.write_str("Upload::Reporter([redacted])"),
            Upload::Office { mailbox, .. } => formatter
                .debug_struct("Upload::Office")
                .field("session", &"[redacted]")
                .field("mailbox", mailbox)
                .finish(),
        }
    }
}

/// An office session and what the relay says of its terms.
#[derive(Debug)]
pub struct OfficeLogin {
    /// The session.
    pub token: SessionToken,
    /// Days after a mailbox's last activity at which the relay deletes it (its retention),
    /// when the relay says (older relays do not).
    pub retention_days: Option<u32>,
}

/// A relay at a base address.
#[derive(Debug, Clone)]
pub struct Relay {
    base: String,
    client: reqwest::Client,
    request_timeout: Option<Duration>,
}

/// A sealed attachment on its way down.
#[derive(Debug)]
pub struct Download {
    response: reqwest::Response,
    relay: String,
}

impl Download {
    /// Its sealed length, if the relay said.
    pub fn length(&self) -> Option<u64> {
        self.response.content_length()
    }

    /// The next piece, or `None` at the end.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>> {
        self.response
            .chunk()
            .await
            .map_err(|error| ClientError::Unreachable {
                relay: self.relay.clone(),
                detail: error::describe(&error),
            })
    }
}

/// The certificates in the PEM file at `path`, to trust as certificate authorities.
fn trust_anchors(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>> {
    let pem = std::fs::read(path).map_err(|error| {
        ClientError::Local(format!(
            "cannot read the CA file {}: {error}",
            path.display()
        ))
    })?;
    match reqwest::Certificate::from_pem_bundle(&pem) {
        Ok(certificates) if !certificates.is_empty() => Ok(certificates),
        _ => Err(ClientError::Local(format!(
            "the CA file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
            path.display()
        ))),
    }
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

impl Relay {
    /// A client for the relay at `url`, optionally through a proxy such as Tor's
    /// `socks5h://127.0.0.1:9050` (the `h` makes the proxy resolve names, so onion addresses
    /// work and no DNS query leaves this machine). An onion address without a proxy, plain
    /// `http://` to another machine, and an address with the API path are refused.
    pub fn new(url: &str, proxy: Option<&str>) -> Result<Relay> {
        Relay::trusting(url, proxy, None)
    }

    /// As [`Relay::new`], also trusting the certificate authorities in the PEM file
    /// `ca_file` (a relay with a private or self-signed certificate), beside the system's.
    pub fn trusting(
        url: &str,
        proxy: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Relay> {
        let base = url.trim_end_matches('/').to_owned();
        address::check_address(&base)?;
        if proxy.is_none() && address::is_onion(&base) {
            return Err(ClientError::Address(format!(
                "{base} is an onion address: reach it through Tor with --proxy socks5h://127.0.0.1:9050 \
                 (without Tor its name would go to this network's resolver)"
            )));
        }
        // No redirects: a relay (or something in front of it) could otherwise send the
        // client to plain http:// elsewhere, around the address rules above.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(30))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy();
        if let Some(proxy) = proxy {
            let proxy = reqwest::Proxy::all(proxy)
                .map_err(|error| ClientError::Address(format!("invalid proxy {proxy}: {error}")))?;
            builder = builder.proxy(proxy);
        }
        if let Some(path) = ca_file {
            for certificate in trust_anchors(path)? {
                builder = builder.add_root_certificate(certificate);
            }
        }
        let client = builder
            .build()
            .map_err(|error| ClientError::Local(format!("cannot set up HTTP: {error}")))?;
        Ok(Relay {
            base,
            client,
            request_timeout: None,
        })
    }

    /// The same client, each request (answer included) bounded by `timeout`. Without it only
    /// connecting is bounded (30 s), so that a slow upload of a large attachment can finish.
    pub fn with_request_timeout(mut self, timeout: Duration) -> Relay {
        self.request_timeout = Some(timeout);
        self
    }

    /// The base address.
    pub fn url(&self) -> &str {
        &self.base
    }

    fn endpoint(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn unreachable(&self, error: &reqwest::Error) -> ClientError {
        ClientError::Unreachable {
            relay: self.base.clone(),
            detail: error::describe(error),
        }
    }

    /// Sends a request; a non-success answer becomes [`ClientError::Refused`] with the
    /// relay's code and sentence.
    async fn send(&self, mut request: reqwest::RequestBuilder) -> Result<reqwest::Response> {
        if let Some(timeout) = self.request_timeout {
            request = request.timeout(timeout);
        }
        let response = request
            .send()
            .await
            .map_err(|error| self.unreachable(&error))?;
        if response.status().is_success() {
            return Ok(response);
        }
        let status = response.status().as_u16();
        Err(match response.json::<ErrorBody>().await {
            Ok(body) => ClientError::Refused {
                status,
                code: match body.error {
                    meldpunt_wire::ErrorCode::Other(code) => {
                        meldpunt_wire::ErrorCode::Other(printable(&code))
                    }
                    known => known,
                },
                message: printable(&body.message),
            },
            Err(_) => ClientError::Refused {
                status,
                code: meldpunt_wire::ErrorCode::Other(format!("http-{status}")),
                message: "the relay answered with an error and no explanation".into(),
            },
        })
    }

    /// The body of an answer that is a directory, a sealed message or a hand-over, read as
    /// it arrives and refused past [`MOST_BYTES`]: a relay cannot make a client hold more.
    async fn bytes(&self, mut response: reqwest::Response) -> Result<Vec<u8>> {
        let mut body = Vec::new();
        while let Some(piece) = response
            .chunk()
            .await
            .map_err(|error| self.unreachable(&error))?
        {
            if body.len() + piece.len() > MOST_BYTES {
                return Err(ClientError::Malformed(format!(
                    "the relay's answer is larger than {} MiB, more than any directory or sealed message can be",
                    MOST_BYTES >> 20
                )));
            }
            body.extend_from_slice(&piece);
        }
        Ok(body)
    }

    async fn json<T: DeserializeOwned>(&self, response: reqwest::Response) -> Result<T> {
        response
            .json()
            .await
            .map_err(|error| ClientError::Unreachable {
                relay: self.base.clone(),
                detail: format!(
                    "the answer was not the expected JSON: {}",
                    error::describe(&error)
                ),
            })
    }

    /// A page of a listing, each entry parsed on its own.
    async fn listing<T: DeserializeOwned>(
        &self,
        response: reqwest::Response,
        key: &str,
    ) -> Result<Vec<Listed<T>>> {
        let page: listing::Page = self.json(response).await?;
        Ok(listing::entries(page.messages, key))
    }

    /// The signed directory's bytes (verify them with the directory key before use).
    pub async fn directory(&self) -> Result<Vec<u8>> {
        let response = self
            .send(self.client.get(self.endpoint(paths::DIRECTORY)))
            .await?;
        self.bytes(response).await
    }

    /// The signed directories of the versions after `after` (each verified by the caller
    /// with [`meldpunt_crypto::verify_continuation`]), every page of them, at most
    /// `limit` in all (a relay that pages forever is cut off).
    pub async fn directory_history(&self, after: u64, limit: usize) -> Result<Vec<Vec<u8>>> {
        let mut directories = Vec::new();
        let mut after = after;
        let mut total = 0usize;
        loop {
            let response = self
                .send(
                    self.client
                        .get(self.endpoint(paths::DIRECTORY_HISTORY))
                        .query(&[("after", after)]),
                )
                .await?;
            // A page is at most a few MiB (the relay's budget): read it capped, like every
            // answer, and stop at a total no honest history reaches.
            let body = self.bytes(response).await?;
            let page: meldpunt_wire::DirectoryHistory =
                serde_json::from_slice(&body).map_err(|_| {
                    ClientError::Malformed(
                        "the relay's directory history is not the expected JSON".into(),
                    )
                })?;
            let count = page.directories.len();
            total += body.len();
            directories.extend(page.directories.into_iter().map(String::into_bytes));
            if total > MOST_HISTORY_BYTES {
                return Err(ClientError::Malformed(format!(
                    "the relay's directory history is larger than {} MiB",
                    MOST_HISTORY_BYTES >> 20
                )));
            }
            if !page.more || count == 0 || directories.len() >= limit {
                break;
            }
            // The relay pages by version: the next page starts after the last one here.
            let last = directories
                .last()
                .and_then(|bytes| meldpunt_crypto::SignedDirectory::from_bytes(bytes.clone()).ok())
                .and_then(|signed| directory_version(&signed));
            match last {
                Some(version) if version > after => after = version,
                _ => break,
            }
        }
        directories.truncate(limit);
        Ok(directories)
    }

    /// A proof-of-work challenge for a new mailbox, or `None` if the relay requires none.
    pub async fn challenge(&self) -> Result<Option<Challenge>> {
        self.challenge_for(paths::CHALLENGE).await
    }

    /// A proof-of-work challenge for an office login beyond the free ones (harder than a
    /// mailbox's: solved in native code), or `None` if the relay requires none.
    pub async fn office_login_challenge(&self) -> Result<Option<Challenge>> {
        self.challenge_for(&format!("{}?purpose=office", paths::CHALLENGE))
            .await
    }

    async fn challenge_for(&self, path: &str) -> Result<Option<Challenge>> {
        let response = self.send(self.client.get(self.endpoint(path))).await?;
        let offer: ChallengeOffer = self.json(response).await?;
        if !offer.required {
            return Ok(None);
        }
        Challenge::from_wire(offer.challenge.as_deref().unwrap_or_default())
            .map(Some)
            .map_err(|_| {
                ClientError::Malformed("the relay sent a malformed proof-of-work challenge".into())
            })
    }

    /// Creates a mailbox with its sealed report, for `recipients` (ids) of `organisation` —
    /// the recipients it is sealed to: only their office sessions will reach it — with a
    /// stamp (wire form) if the relay asks for one.
    pub async fn create_mailbox(
        &self,
        token: &MailboxToken,
        organisation: &str,
        recipients: &[String],
        stamp: Option<&str>,
        sealed: Vec<u8>,
    ) -> Result<Stored> {
        let mut request = self
            .client
            .post(self.endpoint(paths::MAILBOXES))
            .header("authorization", bearer(&token.to_wire()))
            .header("meldpunt-organisation", organisation)
            .header(meldpunt_wire::RECIPIENTS_HEADER, recipients.join(","))
            .header("content-type", "application/octet-stream")
            .body(sealed);
        if let Some(stamp) = stamp {
            request = request.header("meldpunt-stamp", stamp);
        }
        let response = self.send(request).await?;
        self.json(response).await
    }

    /// Addresses the mailbox to more recipients (ids) of its organisation, who then reach
    /// it and everything already in it; returns all its recipients.
    pub async fn add_recipients(
        &self,
        token: &MailboxToken,
        recipients: &[String],
    ) -> Result<Vec<String>> {
        let request = self
            .client
            .post(self.endpoint(paths::MAILBOX_RECIPIENTS))
            .header("authorization", bearer(&token.to_wire()))
            .json(&meldpunt_wire::AddRecipients {
                recipients: recipients.to_vec(),
            });
        let response = self.send(request).await?;
        let answer: meldpunt_wire::MailboxRecipients = self.json(response).await?;
        Ok(answer.recipients)
    }

    /// Every message of a mailbox, page by page until the end.
    pub async fn mailbox_messages(
        &self,
        token: &MailboxToken,
    ) -> Result<Vec<Listed<MessageSummary>>> {
        let mut listed = Vec::new();
        let mut after = 0;
        loop {
            let response = self
                .send(
                    self.client
                        .get(format!(
                            "{}?after={after}&limit={PAGE}",
                            self.endpoint(paths::MAILBOX_MESSAGES)
                        ))
                        .header("authorization", bearer(&token.to_wire())),
                )
                .await?;
            let page = self.listing::<MessageSummary>(response, "position").await?;
            let count = page.len() as u64;
            let last = listing::last_key(&page, |summary| u64::from(summary.position))
                .filter(|last| *last <= u64::from(u32::MAX));
            listed.extend(page);
            if listed.len() > MOST_LISTED {
                return Err(ClientError::Malformed(format!(
                    "the relay lists more than {MOST_LISTED} messages in one mailbox; it is not believed"
                )));
            }
            // A short page is the last; so is one that moves nowhere (a relay that lists the
            // same page again would otherwise keep us here).
            match last {
                Some(last) if count == PAGE && last > after => after = last,
                _ => return Ok(listed),
            }
        }
    }

    /// One sealed message of a mailbox.
    pub async fn mailbox_message(&self, token: &MailboxToken, position: u32) -> Result<Vec<u8>> {
        let response = self
            .send(
                self.client
                    .get(format!(
                        "{}/{position}",
                        self.endpoint(paths::MAILBOX_MESSAGES)
                    ))
                    .header("authorization", bearer(&token.to_wire())),
            )
            .await?;
        self.bytes(response).await
    }

    /// Posts a sealed follow-up into the reporter's own mailbox.
    pub async fn follow_up(&self, token: &MailboxToken, sealed: Vec<u8>) -> Result<Stored> {
        let response = self
            .send(
                self.client
                    .post(self.endpoint(paths::MAILBOX_MESSAGES))
                    .header("authorization", bearer(&token.to_wire()))
                    .header("content-type", "application/octet-stream")
                    .body(sealed),
            )
            .await?;
        self.json(response).await
    }

    /// Uploads a sealed attachment; `sealed` may be a stream of unknown length (sent chunked).
    pub async fn upload_attachment(
        &self,
        target: Upload<'_>,
        id: &AttachmentId,
        sealed: impl Into<reqwest::Body>,
    ) -> Result<AttachmentStored> {
        let id = id.to_wire();
        let (url, credential) = match target {
            Upload::Reporter(token) => (
                format!("{}/api/v1/mailbox/attachments/{id}", self.base),
                bearer(&token.to_wire()),
            ),
            Upload::Office { session, mailbox } => (
                format!(
                    "{}/api/v1/office/mailboxes/{}/attachments/{id}",
                    self.base,
                    mailbox.to_wire()
                ),
                bearer(&session.to_wire()),
            ),
        };
        let response = self
            .send(
                self.client
                    .put(url)
                    .header("authorization", credential)
                    .header("content-type", "application/octet-stream")
                    .body(sealed),
            )
            .await?;
        self.json(response).await
    }

    /// Starts downloading a sealed attachment.
    pub async fn download_attachment(
        &self,
        credential: Credential<'_>,
        id: &AttachmentId,
    ) -> Result<Download> {
        let id = id.to_wire();
        let (url, credential) = match credential {
            Credential::Mailbox(token) => (
                format!("{}/api/v1/mailbox/attachments/{id}", self.base),
                bearer(&token.to_wire()),
            ),
            Credential::Office(session) => (
                format!("{}/api/v1/office/attachments/{id}", self.base),
                bearer(&session.to_wire()),
            ),
        };
        let response = self
            .send(self.client.get(url).header("authorization", credential))
            .await?;
        Ok(Download {
            response,
            relay: self.base.clone(),
        })
    }

    /// Logs in as `recipient` of `organisation` with its identity; returns the session.
    /// See [`Relay::office_login`].
    pub async fn office_session(
        &self,
        organisation: &str,
        recipient: &str,
        identities: &[IdentityKey],
        before_work: impl FnOnce(),
    ) -> Result<SessionToken> {
        Ok(self
            .office_login(organisation, recipient, identities, before_work)
            .await?
            .token)
    }

    /// Logs in as `recipient` of `organisation` with its identity; returns the session and
    /// what the relay says of its terms (its retention).
    ///
    /// The relay gives each organisation a few free challenges a minute; beyond that it asks
    /// for proof-of-work, which this does (on a blocking thread) after calling `before_work`,
    /// so that a person can be told why it takes a moment.
    pub async fn office_login(
        &self,
        organisation: &str,
        recipient: &str,
        identities: &[IdentityKey],
        before_work: impl FnOnce(),
    ) -> Result<OfficeLogin> {
        let ask = |stamp: Option<String>| {
            let mut request = self
                .client
                .post(self.endpoint(paths::OFFICE_CHALLENGE))
                .json(&OfficeChallengeRequest {
                    organisation: organisation.to_owned(),
                    recipient: recipient.to_owned(),
                });
            if let Some(stamp) = stamp {
                request = request.header("meldpunt-stamp", stamp);
            }
            self.send(request)
        };
        let response = match ask(None).await {
            // Someone is asking for this organisation's challenges faster than the relay
            // gives them away: pay for one with proof-of-work instead.
            Err(ClientError::Refused { status: 429, .. }) => {
                let Some(challenge) = self.office_login_challenge().await? else {
                    return Err(ClientError::Refused {
                        status: 429,
                        code: meldpunt_wire::ErrorCode::RateLimited,
                        message: "the relay gives no more office challenges this minute; try again in a minute".into(),
                    });
                };
                before_work();
                let subject = meldpunt_crypto::office_stamp_subject(organisation);
                let stamp = tokio::task::spawn_blocking(move || {
                    challenge
                        .solve(&subject, |_| true)
                        .map(|stamp| stamp.to_wire())
                })
                .await
                .map_err(|error| ClientError::Local(format!("the proof-of-work failed: {error}")))?
                .ok_or_else(|| ClientError::Local("the proof-of-work was cancelled".into()))?;
                ask(Some(stamp)).await?
            }
            other => other?,
        };
        let challenge: OfficeChallenge = self.json(response).await?;
        let sealed = STANDARD
            .decode(challenge.sealed_challenge)
            .map_err(|_| ClientError::Malformed("the relay sent a malformed challenge".into()))?;
        let answer = meldpunt_crypto::ChallengeAnswer::open(identities, &sealed).map_err(
            |error| match error {
                meldpunt_crypto::Error::NotForThisIdentity => ClientError::NotForThisIdentity {
                    organisation: organisation.to_owned(),
                    recipient: recipient.to_owned(),
                },
                other => ClientError::Crypto(other),
            },
        )?;
        let response =
            self.send(self.client.post(self.endpoint(paths::OFFICE_SESSION)).json(
                &SessionRequest {
                    answer: answer.to_wire().to_string(),
                },
            ))
            .await?;
        let session: Session = self.json(response).await?;
        let token = SessionToken::from_wire(&session.session_token).map_err(|_| {
            ClientError::Malformed("the relay sent a malformed session token".into())
        })?;
        Ok(OfficeLogin {
            token,
            retention_days: session.retention_days,
        })
    }

    /// An office session's GET of `path` (with its query).
    async fn office_get(&self, session: &SessionToken, path: &str) -> Result<reqwest::Response> {
        self.send(
            self.client
                .get(self.endpoint(path))
                .header("authorization", bearer(&session.to_wire())),
        )
        .await
    }

    /// An office session's POST of sealed bytes to `path`, answered with JSON.
    async fn office_post_sealed<T: DeserializeOwned>(
        &self,
        session: &SessionToken,
        path: &str,
        sealed: Vec<u8>,
    ) -> Result<T> {
        let response = self
            .send(
                self.client
                    .post(self.endpoint(path))
                    .header("authorization", bearer(&session.to_wire()))
                    .header("content-type", "application/octet-stream")
                    .body(sealed),
            )
            .await?;
        self.json(response).await
    }

    /// One page of the organisation's messages after number `after`.
    pub async fn office_messages(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<OfficeEntry>>> {
        let path = format!("{}?after={after}&limit={PAGE}", paths::OFFICE_MESSAGES);
        let response = self.office_get(session, &path).await?;
        self.listing::<OfficeEntry>(response, "number").await
    }

    /// How the relay lists the message the session's recipient numbers `number` (`None` if
    /// it lists none by that number).
    pub async fn office_entry(
        &self,
        session: &SessionToken,
        number: u64,
    ) -> Result<Option<Listed<OfficeEntry>>> {
        let path = format!(
            "{}?after={}&limit=1",
            paths::OFFICE_MESSAGES,
            number.saturating_sub(1)
        );
        let response = self.office_get(session, &path).await?;
        let listed = self.listing::<OfficeEntry>(response, "number").await?;
        Ok(listed.into_iter().find(|entry| match entry {
            Ok(entry) => entry.number == number,
            Err(malformed) => malformed.key == Some(number),
        }))
    }

    /// One sealed message of the organisation.
    pub async fn office_message(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        let path = format!("{}/{number}", paths::OFFICE_MESSAGES);
        let response = self.office_get(session, &path).await?;
        self.bytes(response).await
    }

    /// Marks a message of the organisation fetched.
    pub async fn mark_fetched(&self, session: &SessionToken, number: u64) -> Result<()> {
        self.send(
            self.client
                .post(format!(
                    "{}/{number}/fetched",
                    self.endpoint(paths::OFFICE_MESSAGES)
                ))
                .header("authorization", bearer(&session.to_wire())),
        )
        .await
        .map(drop)
    }

    /// Posts a sealed office message (a reply) into a reporter's mailbox.
    pub async fn reply(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
    ) -> Result<OfficeStored> {
        let path = paths::OFFICE_MAILBOX_MESSAGES.replace("{mailbox}", &mailbox.to_wire());
        self.office_post_sealed(session, &path, sealed).await
    }

    /// Posts a sealed hand-over about a mailbox of the session's recipient, for a colleague
    /// of that recipient, or (`to`) for the members of another recipient of the case (a
    /// process guide appointed to it).
    pub async fn hand_over(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        to: Option<&str>,
        sealed: Vec<u8>,
    ) -> Result<HandOverStored> {
        let mut path = paths::OFFICE_MAILBOX_HAND_OVERS.replace("{mailbox}", &mailbox.to_wire());
        if let Some(recipient) = to {
            path = format!("{path}?to={recipient}");
        }
        self.office_post_sealed(session, &path, sealed).await
    }

    /// Appoints process guides (recipient ids of the mailbox's organisation) to a case of the
    /// session's recipient; returns every recipient the mailbox is addressed to.
    pub async fn add_process_guides(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        guides: &[String],
    ) -> Result<Vec<String>> {
        let path = paths::OFFICE_MAILBOX_PROCESS_GUIDES.replace("{mailbox}", &mailbox.to_wire());
        let request = self
            .client
            .post(self.endpoint(&path))
            .header("authorization", bearer(&session.to_wire()))
            .json(&meldpunt_wire::AddRecipients {
                recipients: guides.to_vec(),
            });
        let response = self.send(request).await?;
        let answer: meldpunt_wire::MailboxRecipients = self.json(response).await?;
        Ok(answer.recipients)
    }

    /// One page of the hand-overs to the session's recipient after `after`, each entry
    /// parsed on its own.
    pub async fn hand_overs(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<HandOverEntry>>> {
        let path = format!("{}?after={after}&limit={PAGE}", paths::OFFICE_HAND_OVERS);
        let response = self.office_get(session, &path).await?;
        self.listing::<HandOverEntry>(response, "number").await
    }

    /// One sealed hand-over.
    pub async fn fetch_hand_over(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        let path = format!("{}/{number}", paths::OFFICE_HAND_OVERS);
        let response = self.office_get(session, &path).await?;
        self.bytes(response).await
    }

    /// Posts a sealed case record (a change to a case's shared office state) about a
    /// mailbox of the session's recipient.
    pub async fn post_case_record(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
    ) -> Result<CaseRecordStored> {
        let path = paths::OFFICE_MAILBOX_CASE_RECORDS.replace("{mailbox}", &mailbox.to_wire());
        self.office_post_sealed(session, &path, sealed).await
    }

    /// One page of the case records of the session's recipient after `after`, each entry
    /// parsed on its own.
    pub async fn case_records(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<CaseRecordEntry>>> {
        let path = format!("{}?after={after}&limit={PAGE}", paths::OFFICE_CASE_RECORDS);
        let response = self.office_get(session, &path).await?;
        self.listing::<CaseRecordEntry>(response, "number").await
    }

    /// One sealed case record.
    pub async fn fetch_case_record(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        let path = format!("{}/{number}", paths::OFFICE_CASE_RECORDS);
        let response = self.office_get(session, &path).await?;
        self.bytes(response).await
    }
}

/// Most bytes of directory history one client fetches (about a hundred versions of a large
/// directory; thousands of a usual one).
const MOST_HISTORY_BYTES: usize = 256 << 20;

/// The version a signed directory claims, read without verifying it (only to page on).
fn directory_version(signed: &meldpunt_crypto::SignedDirectory) -> Option<u64> {
    signed
        .claimed_signing_key()
        .ok()
        .and_then(|key| signed.verify_history(&key).ok())
        .map(|directory| directory.version)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_relays_text_reaches_people_without_control_characters_and_cut_short() {
        let hostile = format!("refused\u{1b}[2J\u{1b}[H\r\n{}", "x".repeat(1000));
        let shown = super::printable(&hostile);
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.starts_with("refused"));
        assert_eq!(shown.chars().count(), 300);
    }
}
