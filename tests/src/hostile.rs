//! A hostile relay for tests: a proxy on loopback in front of a real relay that forwards
//! every request and then misbehaves in one chosen way, as a relay operator could.
//!
//! It is part of the test harness only — never of the real server — and is what the
//! client tests point the CLI (or the browser) at to show each misbehaviour is caught.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// What the relay does wrong.
#[derive(Debug, Clone)]
pub enum Misbehaviour {
    /// Leaves the message at this position out of every listing (reporter's and office's).
    Withhold {
        /// Its position in its mailbox.
        position: u32,
    },
    /// Lists one more message in the reporter's mailbox and serves an older one for it.
    Replay {
        /// The position whose message is served again.
        original: u32,
    },
    /// Serves the messages at two positions in each other's place.
    Swap {
        /// One position.
        first: u32,
        /// The other.
        second: u32,
    },
    /// Lists every message twice in the reporter's listing.
    Duplicate,
    /// Serves, for this position, that message of another mailbox (fetched with its token).
    FromOtherMailbox {
        /// The position replaced.
        position: u32,
        /// The other mailbox's token (wire form).
        other_token: String,
    },
    /// Lists an office message under another mailbox than its own.
    Move {
        /// The mailbox (wire form) whose messages are moved.
        from: String,
        /// The mailbox (wire form) they are listed under.
        to: String,
    },
    /// Cuts the message at this position in half.
    Truncate {
        /// Its position.
        position: u32,
    },
    /// Serves this signed directory instead of the relay's.
    Directory(Vec<u8>),
    /// Serves this signed directory, and this history of signed directories (every version
    /// from the first), instead of the relay's.
    DirectoryHistory {
        /// The current directory.
        current: Vec<u8>,
        /// The versions it claims came before, and itself.
        history: Vec<Vec<u8>>,
    },
    /// Answers the first request for this office message with 503, then behaves.
    FailOnce {
        /// The relay's number of the message.
        number: u64,
    },
    /// Lists one of the office's messages with an author that is neither `reporter` nor
    /// `office` (a malformed entry among well-formed ones).
    MalformOfficeEntry {
        /// The organisation's number of the message.
        number: u64,
    },
    /// Lists one of the reporter's messages with an author that is a terminal escape
    /// sequence (a malformed entry among well-formed ones).
    MalformMailboxEntry {
        /// The message's position in the mailbox.
        position: u32,
    },
    /// Lists the office's messages with every position moved up and this day.
    RelabelOfficeListing {
        /// Added to every position.
        position_offset: u32,
        /// The day given for every message.
        day: String,
    },
    /// Answers every office listing with the first page, whatever cursor is asked for.
    RepeatOfficeListing,
    /// Answers an office's login with these sealed bytes as the challenge (an attachment
    /// sealed to the office, say), hoping the office opens them and answers with the content.
    Challenge(Vec<u8>),
    /// Leaves the office's case record with this number out of every record listing.
    WithholdRecord {
        /// The recipient's record number.
        number: u64,
    },
    /// Lists the office's case records in reverse order.
    ReverseRecords,
    /// Serves, for one case record, another one (of another case, say).
    SwapRecord {
        /// The record asked for.
        asked: u64,
        /// The record served instead.
        served: u64,
    },
    /// Stores the first case record posted, then answers 503 as if it had not.
    LoseRecordAnswer,
    /// Flips one byte in the middle of this case record as served.
    CorruptRecord {
        /// The recipient's record number.
        number: u64,
    },
    /// Serves one attachment's bytes for another's (to the reporter or the office).
    SwapAttachment {
        /// The attachment asked for.
        asked: String,
        /// The attachment served instead (from the same mailbox).
        served: String,
    },
}

struct Hostile {
    upstream: String,
    misbehaviour: Misbehaviour,
    client: reqwest::Client,
    failed: std::sync::atomic::AtomicBool,
}

/// A running hostile relay; stops when dropped.
#[derive(Debug)]
pub struct HostileRelay {
    /// Its URL, to give clients instead of the real relay's.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl HostileRelay {
    /// Starts one in front of the relay at `upstream`, misbehaving as told.
    pub async fn start(upstream: &str, misbehaviour: Misbehaviour) -> HostileRelay {
        Self::start_at("http://127.0.0.1:0", upstream, misbehaviour).await
    }

    /// Starts one on a given address (`http://127.0.0.1:PORT`, say the address an earlier
    /// one had, so that a client's pins apply).
    pub async fn start_at(
        address: &str,
        upstream: &str,
        misbehaviour: Misbehaviour,
    ) -> HostileRelay {
        let state = Arc::new(Hostile {
            upstream: upstream.to_owned(),
            misbehaviour,
            client: crate::client(),
            failed: std::sync::atomic::AtomicBool::new(false),
        });
        let router = axum::Router::new().fallback(forward).with_state(state);
        let mut listener = None;
        for _ in 0..100 {
            match tokio::net::TcpListener::bind(address.trim_start_matches("http://")).await {
                Ok(bound) => {
                    listener = Some(bound);
                    break;
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        let listener = listener.expect("hostile relay listens");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        HostileRelay { url, task }
    }
}

impl Drop for HostileRelay {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Hostile {
    async fn send(
        &self,
        method: Method,
        path: &str,
        headers: &HeaderMap,
        body: Bytes,
    ) -> (StatusCode, HeaderMap, Bytes) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.upstream))
            .body(body);
        for name in [
            "authorization",
            "content-type",
            "meldpunt-organisation",
            "meldpunt-recipients",
            "meldpunt-stamp",
        ] {
            if let Some(value) = headers.get(name) {
                request = request.header(name, value);
            }
        }
        let response = request.send().await.expect("the real relay answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("the real relay's body");
        (status, headers, bytes)
    }

    async fn get_with(&self, path: &str, authorization: &str) -> Bytes {
        let mut headers = HeaderMap::new();
        headers.insert(
            "authorization",
            authorization.parse().expect("a header value"),
        );
        self.send(Method::GET, path, &headers, Bytes::new()).await.2
    }
}

fn message_position(path: &str) -> Option<u32> {
    path.strip_prefix("/api/v1/mailbox/messages/")
        .and_then(|rest| rest.parse().ok())
}

fn rewrite_listing(body: &Bytes, change: impl FnOnce(&mut Vec<Value>)) -> Bytes {
    rewrite_list(body, "messages", change)
}

fn rewrite_list(body: &Bytes, field: &str, change: impl FnOnce(&mut Vec<Value>)) -> Bytes {
    let mut listing: Value = serde_json::from_slice(body).expect("a JSON listing");
    if let Some(entries) = listing[field].as_array_mut() {
        change(entries);
    }
    Bytes::from(listing.to_string())
}

fn record_number(path: &str) -> Option<u64> {
    path.strip_prefix("/api/v1/office/records/")
        .and_then(|rest| rest.parse().ok())
}

async fn forward(State(hostile): State<Arc<Hostile>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |value| value.as_str().to_owned());
    let plain_path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let body = axum::body::to_bytes(request.into_body(), 512 << 20)
        .await
        .unwrap_or_default();
    let authorization = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if let Misbehaviour::FailOnce { number } = &hostile.misbehaviour {
        if plain_path == format!("/api/v1/office/messages/{number}")
            && !hostile
                .failed
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
        }
    }
    let path = match &hostile.misbehaviour {
        Misbehaviour::RepeatOfficeListing if plain_path == "/api/v1/office/messages" => {
            "/api/v1/office/messages?after=0&limit=1000".to_owned()
        }
        _ => path,
    };
    let (mut status, answer_headers, mut answer) =
        hostile.send(method.clone(), &path, &headers, body).await;
    if method == Method::GET {
        let reporter_listing = plain_path == "/api/v1/mailbox/messages";
        let office_listing = plain_path == "/api/v1/office/messages";
        match &hostile.misbehaviour {
            Misbehaviour::Withhold { position } if reporter_listing || office_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    messages.retain(|entry| entry["position"] != *position)
                });
            }
            Misbehaviour::Replay { original } => {
                if reporter_listing {
                    answer = rewrite_listing(&answer, |messages| {
                        let next = messages.len() as u32 + 1;
                        let mut extra = messages[0].clone();
                        extra["position"] = next.into();
                        messages.push(extra);
                    });
                } else if let Some(position) = message_position(&plain_path) {
                    let listed = hostile
                        .get_with("/api/v1/mailbox/messages", &authorization)
                        .await;
                    let count = serde_json::from_slice::<Value>(&listed).expect("JSON")["messages"]
                        .as_array()
                        .map_or(0, Vec::len) as u32;
                    if position > count {
                        status = StatusCode::OK;
                        answer = hostile
                            .get_with(
                                &format!("/api/v1/mailbox/messages/{original}"),
                                &authorization,
                            )
                            .await;
                    }
                }
            }
            Misbehaviour::Swap { first, second } => {
                let swapped = match message_position(&plain_path) {
                    Some(position) if position == *first => Some(*second),
                    Some(position) if position == *second => Some(*first),
                    _ => None,
                };
                if let Some(other) = swapped {
                    answer = hostile
                        .get_with(&format!("/api/v1/mailbox/messages/{other}"), &authorization)
                        .await;
                }
            }
            Misbehaviour::Duplicate if reporter_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    let copies = messages.clone();
                    messages.extend(copies);
                });
            }
            Misbehaviour::FromOtherMailbox {
                position,
                other_token,
            } if message_position(&plain_path) == Some(*position) => {
                answer = hostile
                    .get_with(
                        &format!("/api/v1/mailbox/messages/{position}"),
                        &format!("Bearer {other_token}"),
                    )
                    .await;
            }
            Misbehaviour::Move { from, to } if office_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    for entry in messages.iter_mut() {
                        if entry["mailbox"] == from.as_str() {
                            entry["mailbox"] = to.as_str().into();
                        }
                    }
                });
            }
            Misbehaviour::Truncate { position }
                if message_position(&plain_path) == Some(*position) =>
            {
                answer = answer.slice(..answer.len() / 2);
            }
            Misbehaviour::MalformOfficeEntry { number } if office_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    for entry in messages.iter_mut() {
                        if entry["number"] == *number {
                            entry["author"] = "someone".into();
                        }
                    }
                });
            }
            Misbehaviour::MalformMailboxEntry { position } if reporter_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    for entry in messages.iter_mut() {
                        if entry["position"] == *position {
                            entry["author"] = "\u{1b}[2J\u{1b}[Hoffice".into();
                        }
                    }
                });
            }
            Misbehaviour::RelabelOfficeListing {
                position_offset,
                day,
            } if office_listing => {
                answer = rewrite_listing(&answer, |messages| {
                    for entry in messages.iter_mut() {
                        let position = entry["position"].as_u64().unwrap_or(0);
                        entry["position"] = (position + u64::from(*position_offset)).into();
                        entry["day"] = day.as_str().into();
                    }
                });
            }
            Misbehaviour::Directory(bytes) if plain_path == "/api/v1/directory" => {
                answer = Bytes::from(bytes.clone());
            }
            Misbehaviour::DirectoryHistory { current, .. } if plain_path == "/api/v1/directory" => {
                answer = Bytes::from(current.clone());
            }
            Misbehaviour::DirectoryHistory { history, .. }
                if plain_path == "/api/v1/directory/history" =>
            {
                let directories: Vec<String> = history
                    .iter()
                    .map(|bytes| String::from_utf8(bytes.clone()).expect("JSON"))
                    .collect();
                answer = Bytes::from(
                    serde_json::json!({ "directories": directories, "more": false }).to_string(),
                );
            }
            Misbehaviour::WithholdRecord { number } if plain_path == "/api/v1/office/records" => {
                answer = rewrite_list(&answer, "case_records", |records| {
                    records.retain(|entry| entry["number"] != *number)
                });
            }
            Misbehaviour::ReverseRecords if plain_path == "/api/v1/office/records" => {
                answer = rewrite_list(&answer, "case_records", |records| records.reverse());
            }
            Misbehaviour::SwapRecord { asked, served }
                if record_number(&plain_path) == Some(*asked) =>
            {
                answer = hostile
                    .get_with(&format!("/api/v1/office/records/{served}"), &authorization)
                    .await;
            }
            Misbehaviour::CorruptRecord { number }
                if record_number(&plain_path) == Some(*number) =>
            {
                let mut bytes = answer.to_vec();
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x01;
                answer = Bytes::from(bytes);
            }
            Misbehaviour::SwapAttachment { asked, served }
                if plain_path.ends_with(&format!("/attachments/{asked}")) =>
            {
                answer = hostile
                    .get_with(&plain_path.replace(asked.as_str(), served), &authorization)
                    .await;
            }
            _ => {}
        }
    }
    if let (&Method::POST, Misbehaviour::LoseRecordAnswer) = (&method, &hostile.misbehaviour) {
        if plain_path.ends_with("/records")
            && status.is_success()
            && !hostile
                .failed
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return (StatusCode::SERVICE_UNAVAILABLE, "").into_response();
        }
    }
    if let (&Method::POST, Misbehaviour::Challenge(sealed)) = (&method, &hostile.misbehaviour) {
        if plain_path == "/api/v1/office/challenge" {
            use base64::Engine as _;
            let mut challenge: Value = serde_json::from_slice(&answer).expect("a JSON challenge");
            challenge["sealed_challenge"] = base64::engine::general_purpose::STANDARD
                .encode(sealed)
                .into();
            answer = Bytes::from(challenge.to_string());
        }
    }
    let mut response = (status, Body::from(answer)).into_response();
    if let Some(content_type) = answer_headers.get("content-type") {
        response
            .headers_mut()
            .insert("content-type", content_type.clone());
    }
    response
}
