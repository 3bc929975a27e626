//! The same client for a program without a runtime of its own (the CLI): each call runs the
//! async one to completion on a small runtime this face owns. Uploads read from any
//! [`Read`] on a thread of their own; downloads are a [`Read`].

use std::io::Read;
use std::sync::Arc;

use meldpunt_crypto::{
    AttachmentId, Challenge, IdentityKey, MailboxId, MailboxToken, SessionToken,
};
use meldpunt_wire::{
    AttachmentStored, CaseRecordEntry, CaseRecordStored, HandOverEntry, HandOverStored,
    MessageSummary, OfficeEntry, OfficeStored, Stored,
};

use crate::{ClientError, Credential, Listed, Result, Upload};

/// Size of the pieces a streamed upload is sent in (large enough that an upload is not
/// bound by per-piece work).
const UPLOAD_PIECE: usize = 256 * 1024;

/// A relay at a base address, called without async.
#[derive(Debug, Clone)]
pub struct Relay {
    inner: crate::Relay,
    runtime: Arc<tokio::runtime::Runtime>,
}

impl Relay {
    /// See [`crate::Relay::new`].
    pub fn new(url: &str, proxy: Option<&str>) -> Result<Relay> {
        Relay::trusting(url, proxy, None)
    }

    /// See [`crate::Relay::trusting`].
    pub fn trusting(
        url: &str,
        proxy: Option<&str>,
        ca_file: Option<&std::path::Path>,
    ) -> Result<Relay> {
        let inner = crate::Relay::trusting(url, proxy, ca_file)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| ClientError::Local(format!("cannot start HTTP: {error}")))?;
        Ok(Relay {
            inner,
            runtime: Arc::new(runtime),
        })
    }

    /// The base address.
    pub fn url(&self) -> &str {
        self.inner.url()
    }

    /// See [`crate::Relay::directory`].
    pub fn directory(&self) -> Result<Vec<u8>> {
        self.runtime.block_on(self.inner.directory())
    }

    /// See [`crate::Relay::directory_history`].
    pub fn directory_history(&self, after: u64, limit: usize) -> Result<Vec<Vec<u8>>> {
        self.runtime
            .block_on(self.inner.directory_history(after, limit))
    }

    /// See [`crate::Relay::challenge`].
    pub fn challenge(&self) -> Result<Option<Challenge>> {
        self.runtime.block_on(self.inner.challenge())
    }

    /// See [`crate::Relay::create_mailbox`].
    pub fn create_mailbox(
        &self,
        token: &MailboxToken,
        organisation: &str,
        recipients: &[String],
        stamp: Option<&str>,
        sealed: Vec<u8>,
    ) -> Result<Stored> {
        self.runtime.block_on(self.inner.create_mailbox(
            token,
            organisation,
            recipients,
            stamp,
            sealed,
        ))
    }

    /// See [`crate::Relay::add_recipients`].
    pub fn add_recipients(
        &self,
        token: &MailboxToken,
        recipients: &[String],
    ) -> Result<Vec<String>> {
        self.runtime
            .block_on(self.inner.add_recipients(token, recipients))
    }

    /// See [`crate::Relay::mailbox_messages`].
    pub fn mailbox_messages(&self, token: &MailboxToken) -> Result<Vec<Listed<MessageSummary>>> {
        self.runtime.block_on(self.inner.mailbox_messages(token))
    }

    /// See [`crate::Relay::mailbox_message`].
    pub fn mailbox_message(&self, token: &MailboxToken, position: u32) -> Result<Vec<u8>> {
        self.runtime
            .block_on(self.inner.mailbox_message(token, position))
    }

    /// See [`crate::Relay::follow_up`].
    pub fn follow_up(&self, token: &MailboxToken, sealed: Vec<u8>) -> Result<Stored> {
        self.runtime.block_on(self.inner.follow_up(token, sealed))
    }

    /// Uploads a sealed attachment of unknown length (chunked), read from `sealed` on a thread
    /// of its own in large pieces while the last ones are sent.
    pub fn upload_attachment<R: Read + Send + 'static>(
        &self,
        target: Upload<'_>,
        id: &AttachmentId,
        sealed: R,
    ) -> Result<AttachmentStored> {
        let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<bytes::Bytes>>(4);
        let reader = std::thread::spawn(move || read_in_pieces(sealed, &sender));
        let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|item| (item, receiver))
        });
        let result = self.runtime.block_on(self.inner.upload_attachment(
            target,
            id,
            reqwest::Body::wrap_stream(stream),
        ));
        // Waited for on the runtime, which goes on driving the connection: a relay that
        // answered before the end of the body (a refusal) leaves the body to be taken or
        // dropped there, and the reader is never left blocked on a full channel.
        let _ = self
            .runtime
            .block_on(async move { tokio::task::spawn_blocking(move || reader.join()).await });
        result
    }

    /// Starts downloading a sealed attachment; read it from the answer.
    pub fn download_attachment(
        &self,
        credential: Credential<'_>,
        id: &AttachmentId,
    ) -> Result<Download> {
        let download = self
            .runtime
            .block_on(self.inner.download_attachment(credential, id))?;
        Ok(Download {
            download,
            runtime: Arc::clone(&self.runtime),
            pending: bytes::Bytes::new(),
        })
    }

    /// See [`crate::Relay::office_session`].
    pub fn office_session(
        &self,
        organisation: &str,
        recipient: &str,
        identities: &[IdentityKey],
        before_work: impl FnOnce(),
    ) -> Result<SessionToken> {
        self.runtime.block_on(self.inner.office_session(
            organisation,
            recipient,
            identities,
            before_work,
        ))
    }

    /// See [`crate::Relay::office_login`].
    pub fn office_login(
        &self,
        organisation: &str,
        recipient: &str,
        identities: &[IdentityKey],
        before_work: impl FnOnce(),
    ) -> Result<crate::OfficeLogin> {
        self.runtime.block_on(self.inner.office_login(
            organisation,
            recipient,
            identities,
            before_work,
        ))
    }

    /// See [`crate::Relay::office_messages`].
    pub fn office_messages(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<OfficeEntry>>> {
        self.runtime
            .block_on(self.inner.office_messages(session, after))
    }

    /// See [`crate::Relay::office_entry`].
    pub fn office_entry(
        &self,
        session: &SessionToken,
        number: u64,
    ) -> Result<Option<Listed<OfficeEntry>>> {
        self.runtime
            .block_on(self.inner.office_entry(session, number))
    }

    /// See [`crate::Relay::office_message`].
    pub fn office_message(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        self.runtime
            .block_on(self.inner.office_message(session, number))
    }

    /// See [`crate::Relay::mark_fetched`].
    pub fn mark_fetched(&self, session: &SessionToken, number: u64) -> Result<()> {
        self.runtime
            .block_on(self.inner.mark_fetched(session, number))
    }

    /// See [`crate::Relay::reply`].
    pub fn reply(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
    ) -> Result<OfficeStored> {
        self.runtime
            .block_on(self.inner.reply(session, mailbox, sealed))
    }

    /// See [`crate::Relay::hand_over`].
    pub fn hand_over(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        to: Option<&str>,
        sealed: Vec<u8>,
    ) -> Result<HandOverStored> {
        self.runtime
            .block_on(self.inner.hand_over(session, mailbox, to, sealed))
    }

    /// See [`crate::Relay::add_process_guides`].
    pub fn add_process_guides(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        guides: &[String],
    ) -> Result<Vec<String>> {
        self.runtime
            .block_on(self.inner.add_process_guides(session, mailbox, guides))
    }

    /// See [`crate::Relay::hand_overs`].
    pub fn hand_overs(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<HandOverEntry>>> {
        self.runtime.block_on(self.inner.hand_overs(session, after))
    }

    /// See [`crate::Relay::fetch_hand_over`].
    pub fn fetch_hand_over(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        self.runtime
            .block_on(self.inner.fetch_hand_over(session, number))
    }

    /// See [`crate::Relay::post_case_record`].
    pub fn post_case_record(
        &self,
        session: &SessionToken,
        mailbox: &MailboxId,
        sealed: Vec<u8>,
    ) -> Result<CaseRecordStored> {
        self.runtime
            .block_on(self.inner.post_case_record(session, mailbox, sealed))
    }

    /// See [`crate::Relay::case_records`].
    pub fn case_records(
        &self,
        session: &SessionToken,
        after: u64,
    ) -> Result<Vec<Listed<CaseRecordEntry>>> {
        self.runtime
            .block_on(self.inner.case_records(session, after))
    }

    /// See [`crate::Relay::fetch_case_record`].
    pub fn fetch_case_record(&self, session: &SessionToken, number: u64) -> Result<Vec<u8>> {
        self.runtime
            .block_on(self.inner.fetch_case_record(session, number))
    }
}

/// Reads `source` in [`UPLOAD_PIECE`]s into `sender` until the end, an error (sent on, so
/// that the upload fails) or the upload stops listening.
fn read_in_pieces(
    mut source: impl Read,
    sender: &tokio::sync::mpsc::Sender<std::io::Result<bytes::Bytes>>,
) {
    loop {
        let mut piece = vec![0u8; UPLOAD_PIECE];
        let mut filled = 0;
        while filled < piece.len() {
            match source.read(&mut piece[filled..]) {
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
}

/// A sealed attachment on its way down, read like a file.
#[derive(Debug)]
pub struct Download {
    download: crate::Download,
    runtime: Arc<tokio::runtime::Runtime>,
    pending: bytes::Bytes,
}

impl Download {
    /// Its sealed length, if the relay said.
    pub fn length(&self) -> Option<u64> {
        self.download.length()
    }
}

impl Read for Download {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.pending.is_empty() {
            match self.runtime.block_on(self.download.chunk()) {
                Ok(Some(piece)) => self.pending = piece,
                Ok(None) => return Ok(0),
                Err(error) => return Err(std::io::Error::other(error.to_string())),
            }
        }
        let count = buffer.len().min(self.pending.len());
        buffer[..count].copy_from_slice(&self.pending.split_to(count));
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_are_not_followed() {
        use std::io::Write;
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
            matches!(error, ClientError::Refused { status: 302, .. }),
            "{error:?}"
        );
        server.join().unwrap();
    }

    #[test]
    fn an_onion_address_needs_tor() {
        let onion = "http://abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrstuvwx.onion";
        assert!(matches!(
            Relay::new(onion, None),
            Err(ClientError::Address(_))
        ));
        assert!(Relay::new(onion, Some("socks5h://127.0.0.1:9050")).is_ok());
        assert!(Relay::new("http://127.0.0.1:8080", None).is_ok());
    }

    #[test]
    fn an_upload_reads_its_source_in_large_pieces_and_passes_on_its_error() {
        let (sender, mut receiver) = tokio::sync::mpsc::channel(8);
        let source = std::io::Read::chain(
            std::io::Cursor::new(vec![7u8; UPLOAD_PIECE + 10]),
            FailingReader,
        );
        let reader = std::thread::spawn(move || read_in_pieces(source, &sender));
        let first = receiver.blocking_recv().unwrap().unwrap();
        assert_eq!(first.len(), UPLOAD_PIECE);
        let second = receiver.blocking_recv().unwrap();
        assert!(second.is_err(), "the source's error is passed on");
        assert!(receiver.blocking_recv().is_none());
        reader.join().unwrap();
    }

    #[test]
    fn an_upload_refused_before_its_end_returns_the_refusal_and_leaves_no_thread_waiting() {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
                head.push(byte[0]);
            }
            let body = r#"{"error":"mailbox-not-found","message":"no such mailbox"}"#;
            let _ = write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            // Like a relay that refused early: it reads on for a moment, then hangs up.
            let _ = stream.set_read_timeout(Some(std::time::Duration::from_millis(500)));
            let mut sink = [0u8; 65536];
            while matches!(stream.read(&mut sink), Ok(read) if read > 0) {}
        });
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let relay = Relay::new(&format!("http://{address}"), None).unwrap();
            let token = meldpunt_crypto::ReceiptCode::generate().mailbox_token();
            let id = AttachmentId::from_bytes([1; 16]);
            // Far more than the channel, the socket buffers and the relay ever read.
            let source = std::io::Read::take(std::io::repeat(0), 256 << 20);
            let _ = done.send(relay.upload_attachment(Upload::Reporter(&token), &id, source));
        });
        let result = finished
            .recv_timeout(std::time::Duration::from_secs(120))
            .expect("the upload returned");
        assert!(
            matches!(result, Err(ClientError::Refused { status: 404, .. })),
            "{result:?}"
        );
        server.join().unwrap();
    }

    struct FailingReader;

    impl Read for FailingReader {
        fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk gone"))
        }
    }
}
