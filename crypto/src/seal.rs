//! Sealing and opening: the age format, with padding inside the encryption.
//!
//! A sealed object is a standard age v1 file (X25519 recipients) whose plaintext is the
//! content followed by zero bytes up to [`padded_length`](crate::padded_length). Stock
//! `age -d -i identity.txt` opens it; the content is the first `content_length` bytes.
//!
//! The streaming functions hold one age chunk (64 KiB) and one copy buffer at a time, so a
//! 1 GiB attachment seals and opens in constant memory.
//!
//! This module never writes to a file, a socket or a log: it reads from and writes to what the
//! caller hands it. A failure to open says only "not for this identity" or "damaged".

use std::io::{self, BufRead, Read, Write};

use zeroize::Zeroizing;

use crate::hybrid::Unlabelled;
use crate::{padded_length, Error, IdentityKey, RecipientKey};

/// Copy buffer size: one age STREAM chunk.
const BUFFER_LENGTH: usize = 64 * 1024;

/// Ciphertext bytes of an age file: what the relay stores and serves. Constructing one from
/// untrusted bytes checks that they at least carry a well-formed age header.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedObject(Vec<u8>);

impl SealedObject {
    /// Accepts bytes that parse as an age v1 header followed by a payload nonce. This does
    /// not authenticate anything (only a recipient can), but it refuses what is plainly
    /// not ciphertext, such as a plaintext report posted by mistake.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, Error> {
        check_age_header(&bytes)?;
        Ok(SealedObject(bytes))
    }

    /// The ciphertext.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The ciphertext, by value.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }

    /// Length of the ciphertext in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the ciphertext is empty (never true for a valid object).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for SealedObject {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "SealedObject({} bytes)", self.0.len())
    }
}

/// Checks that `prefix` begins with a complete, well-formed age v1 header and payload nonce.
/// Useful on the first bytes of a streamed upload.
pub fn check_age_header(prefix: &[u8]) -> Result<(), Error> {
    match age::Decryptor::new_buffered(prefix) {
        Ok(_) => Ok(()),
        Err(_) => Err(Error::NotSealed),
    }
}

/// The age encryptor for `recipients`. When hybrid and classic keys are mixed (an office
/// half-way through moving to post-quantum keys, or a reporter whose receipt code predates
/// them), the hybrid stanzas go without their `postquantum` label, which age would otherwise
/// refuse to mix: the message must reach every member it is meant for, and is then only as
/// strong as X25519 (docs/threat-model.md). [`all_post_quantum`] tells the two apart.
fn encryptor(recipients: &[RecipientKey]) -> Result<age::Encryptor, Error> {
    if recipients.is_empty() {
        return Err(Error::NoRecipients);
    }
    let unlabelled: Vec<Unlabelled<'_>> = if all_post_quantum(recipients) {
        Vec::new()
    } else {
        recipients
            .iter()
            .filter_map(RecipientKey::as_hybrid)
            .map(Unlabelled)
            .collect()
    };
    let classic_or_all = recipients
        .iter()
        .filter(|recipient| unlabelled.is_empty() || !recipient.is_post_quantum())
        .map(RecipientKey::as_age);
    age::Encryptor::with_recipients(
        classic_or_all.chain(
            unlabelled
                .iter()
                .map(|hybrid| hybrid as &dyn age::Recipient),
        ),
    )
    .map_err(|_| Error::NoRecipients)
}

/// Whether a file sealed to `recipients` stays closed for a quantum computer: every one of
/// them is a hybrid post-quantum key (one classic key opens the file key for everyone).
pub fn all_post_quantum(recipients: &[RecipientKey]) -> bool {
    !recipients.is_empty() && recipients.iter().all(RecipientKey::is_post_quantum)
}

/// Seals `content_length` bytes read from `content` to every recipient, writing the age file
/// to `output`, which is returned. Fails without a complete file if the content turns out
/// shorter or longer than declared.
pub fn seal_stream<R: Read, W: Write>(
    recipients: &[RecipientKey],
    content: R,
    content_length: u64,
    output: W,
) -> Result<W, Error> {
    let padded = padded_length(content_length).ok_or(Error::TooLarge {
        what: "a sealed object",
        limit: crate::MAXIMUM_CONTENT_LENGTH,
    })?;
    let mut writer = encryptor(recipients)?.wrap_output(output)?;
    let mut content = content;
    let mut buffer = Zeroizing::new(vec![0u8; BUFFER_LENGTH]);
    let mut copied: u64 = 0;
    while copied < content_length {
        let wanted = (content_length - copied).min(BUFFER_LENGTH as u64) as usize;
        let read = match content.read(&mut buffer[..wanted]) {
            Ok(0) => {
                return Err(Error::ContentLength {
                    declared: content_length,
                    found: copied,
                })
            }
            Ok(read) => read,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error.into()),
        };
        writer.write_all(&buffer[..read])?;
        copied += read as u64;
    }
    if read_some(&mut content, &mut buffer[..1])? != 0 {
        return Err(Error::ContentLength {
            declared: content_length,
            found: content_length + 1,
        });
    }
    buffer.fill(0);
    let mut remaining = padded - content_length;
    while remaining > 0 {
        let step = remaining.min(BUFFER_LENGTH as u64) as usize;
        writer.write_all(&buffer[..step])?;
        remaining -= step as u64;
    }
    Ok(writer.finish()?)
}

/// Seals an in-memory content to every recipient.
pub fn seal(recipients: &[RecipientKey], content: &[u8]) -> Result<SealedObject, Error> {
    let padded = padded_length(content.len() as u64).unwrap_or(u64::MAX);
    let capacity = usize::try_from(padded)
        .unwrap_or(usize::MAX)
        .saturating_add(1024);
    let output = Vec::with_capacity(capacity.min(64 << 20));
    seal_stream(recipients, content, content.len() as u64, output).map(SealedObject)
}

fn read_some<R: Read>(reader: &mut R, buffer: &mut [u8]) -> Result<usize, Error> {
    loop {
        match reader.read(buffer) {
            Ok(read) => return Ok(read),
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) if error.kind() == io::ErrorKind::InvalidData => return Err(Error::Damaged),
            Err(error) if error.kind() == io::ErrorKind::UnexpectedEof => {
                return Err(Error::Damaged)
            }
            Err(error) => return Err(error.into()),
        }
    }
}

fn decryptor_for<R: BufRead>(
    identities: &[IdentityKey],
    sealed: R,
) -> Result<age::stream::StreamReader<R>, Error> {
    if identities.is_empty() {
        return Err(Error::NoIdentities);
    }
    // The buffered parser reads the header line by line; age's unbuffered one re-parses the
    // header after every few bytes, which costs more than the whole payload of a small object.
    let decryptor = age::Decryptor::new_buffered(sealed).map_err(|error| match error {
        age::DecryptError::Io(error) if error.kind() != io::ErrorKind::UnexpectedEof => {
            Error::from(error)
        }
        _ => Error::NotSealed,
    })?;
    decryptor
        .decrypt(identities.iter().map(|identity| identity.as_age()))
        .map_err(|error| match error {
            age::DecryptError::NoMatchingKeys => Error::NotForThisIdentity,
            age::DecryptError::Io(error) if error.kind() != io::ErrorKind::UnexpectedEof => {
                Error::from(error)
            }
            _ => Error::Damaged,
        })
}

/// Opens a sealed object whose content length is known (for an attachment, from its
/// message), read from `sealed` (wrap a file or socket in a `BufReader`), writing exactly `content_length` bytes to `output` and checking that the rest
/// is valid padding. The writer may already have received content when a later chunk turns
/// out damaged: callers writing to a file must discard it on error. Attachments open with
/// [`crate::AttachmentReference::open_stream`], which also checks their digest.
pub fn open_stream<R: BufRead, W: Write>(
    identities: &[IdentityKey],
    sealed: R,
    content_length: u64,
    mut output: W,
) -> Result<(), Error> {
    let padded = padded_length(content_length).ok_or(Error::TooLarge {
        what: "a sealed object",
        limit: crate::MAXIMUM_CONTENT_LENGTH,
    })?;
    let mut reader = decryptor_for(identities, sealed)?;
    let mut buffer = Zeroizing::new(vec![0u8; BUFFER_LENGTH]);
    let mut position: u64 = 0;
    loop {
        let read = read_some(&mut reader, &mut buffer)?;
        if read == 0 {
            break;
        }
        let chunk = &buffer[..read];
        let content_part = (content_length.saturating_sub(position)).min(read as u64) as usize;
        if content_part > 0 {
            output.write_all(&chunk[..content_part])?;
        }
        if chunk[content_part..].iter().any(|&byte| byte != 0) {
            return Err(Error::BadPadding);
        }
        position += read as u64;
        if position > padded {
            return Err(Error::BadPadding);
        }
    }
    if position != padded {
        return Err(Error::BadPadding);
    }
    output.flush()?;
    Ok(())
}

/// Opens any age file for the given identities, padded or not, writing its whole
/// plaintext to `output`. For files sealed outside Meldpunt (say, by stock `age` to a
/// reporter's reply key); Meldpunt's own objects open with [`open_stream`] or
/// [`crate::Message::open`], which also check the padding. Returns the plaintext length.
pub fn open_unpadded_stream<R: BufRead, W: Write>(
    identities: &[IdentityKey],
    sealed: R,
    mut output: W,
) -> Result<u64, Error> {
    let mut reader = decryptor_for(identities, sealed)?;
    let mut buffer = Zeroizing::new(vec![0u8; BUFFER_LENGTH]);
    let mut length: u64 = 0;
    loop {
        let read = read_some(&mut reader, &mut buffer)?;
        if read == 0 {
            break;
        }
        output.write_all(&buffer[..read])?;
        length += read as u64;
    }
    output.flush()?;
    Ok(length)
}

/// Opens a sealed object completely into memory, refusing plaintexts longer than `limit`.
/// Returns the padded plaintext; the caller removes the padding according to the object's
/// kind (see [`crate::Message`]). Zeroized on drop.
/// Opens a sealed object whose content is at most `maximum_content` bytes and strips its
/// padding: the content is everything up to the last non-zero byte (every Meldpunt content
/// that is opened this way — JSON — ends in one), and the padded length must be the one
/// that content length pads to.
pub(crate) fn open_content(
    identities: &[IdentityKey],
    sealed: &[u8],
    maximum_content: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let limit = padded_length(maximum_content).expect("within limits");
    let mut padded = open_padded(identities, sealed, limit)?;
    let content_length = padded
        .iter()
        .rposition(|&byte| byte != 0)
        .map_or(0, |last| last + 1);
    if padded_length(content_length as u64) != Some(padded.len() as u64) {
        return Err(Error::BadPadding);
    }
    padded.truncate(content_length);
    Ok(padded)
}

pub(crate) fn open_padded(
    identities: &[IdentityKey],
    sealed: &[u8],
    limit: u64,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let reader = decryptor_for(identities, sealed)?;
    let mut plaintext = Zeroizing::new(Vec::new());
    let mut limited = reader.take(limit + 1);
    let mut buffer = Zeroizing::new(vec![0u8; BUFFER_LENGTH]);
    loop {
        let read = read_some(&mut limited, &mut buffer)?;
        if read == 0 {
            break;
        }
        if plaintext.len() + read > plaintext.capacity() {
            // Grow by hand so no un-zeroized copy of the plaintext is left behind.
            let mut larger = Zeroizing::new(Vec::with_capacity(
                (plaintext.capacity() * 2).max(plaintext.len() + read),
            ));
            larger.extend_from_slice(&plaintext);
            plaintext = larger;
        }
        plaintext.extend_from_slice(&buffer[..read]);
    }
    if plaintext.len() as u64 > limit {
        return Err(Error::TooLarge {
            what: "this kind of sealed object",
            limit,
        });
    }
    Ok(plaintext)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn open_all(identity: IdentityKey, sealed: &[u8], length: u64) -> Result<Vec<u8>, Error> {
        let mut output = Vec::new();
        open_stream(&[identity], sealed, length, &mut output)?;
        Ok(output)
    }

    #[test]
    fn seals_to_many_and_each_can_open() {
        let identities: Vec<IdentityKey> = (0..5).map(|_| IdentityKey::generate()).collect();
        let recipients: Vec<RecipientKey> = identities.iter().map(IdentityKey::recipient).collect();
        let sealed = seal(&recipients, b"melding").unwrap();
        for identity in identities {
            assert_eq!(
                open_all(identity, sealed.as_bytes(), 7).unwrap(),
                b"melding"
            );
        }
    }

    #[test]
    fn wrong_identity_is_refused() {
        let sealed = seal(&[IdentityKey::generate().recipient()], b"x").unwrap();
        assert!(matches!(
            open_all(IdentityKey::generate(), sealed.as_bytes(), 1),
            Err(Error::NotForThisIdentity)
        ));
    }

    #[test]
    fn declared_length_must_match() {
        let recipient = [IdentityKey::generate().recipient()];
        assert!(matches!(
            seal_stream(&recipient, &b"four"[..], 5, Vec::new()),
            Err(Error::ContentLength {
                declared: 5,
                found: 4
            })
        ));
        assert!(matches!(
            seal_stream(&recipient, &b"four"[..], 3, Vec::new()),
            Err(Error::ContentLength { declared: 3, .. })
        ));
        assert!(matches!(seal(&[], b"x"), Err(Error::NoRecipients)));
    }

    #[test]
    fn ciphertext_length_reveals_only_the_bucket() {
        let identity = IdentityKey::generate();
        let recipient = [identity.recipient()];
        let payload = |content: &[u8]| {
            let sealed = seal(&recipient, content).unwrap();
            // Strip the header (it carries random-length grease); the payload length is what
            // the content could influence.
            let header_end = sealed
                .as_bytes()
                .windows(4)
                .position(|w| w == b"\n---")
                .unwrap();
            let mac_end = header_end
                + 1
                + sealed.as_bytes()[header_end + 1..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .unwrap();
            sealed.len() - mac_end - 1
        };
        assert_eq!(payload(b""), payload(&[1u8; 4000]));
        assert_eq!(payload(&[1u8; 5000]), payload(&[1u8; 5050]));
    }

    #[test]
    fn content_length_mismatch_at_opening_is_refused() {
        let identity = IdentityKey::generate();
        let sealed = seal(&[identity.recipient()], &[5u8; 5000]).unwrap();
        // Claiming a shorter content exposes non-zero bytes where padding should be.
        assert!(matches!(
            open_all(identity, sealed.as_bytes(), 4999),
            Err(Error::BadPadding)
        ));
    }

    #[test]
    fn plaintext_is_not_sealed() {
        assert!(matches!(
            SealedObject::from_bytes(b"plain report".to_vec()),
            Err(Error::NotSealed)
        ));
        let sealed = seal(&[IdentityKey::generate().recipient()], b"x").unwrap();
        assert!(SealedObject::from_bytes(sealed.into_bytes()).is_ok());
    }

    #[test]
    fn truncation_is_detected() {
        let identity = IdentityKey::generate();
        let sealed = seal(&[identity.recipient()], &[9u8; 200_000]).unwrap();
        let bytes = sealed.as_bytes();
        for cut in [bytes.len() - 1, bytes.len() - 17, bytes.len() / 2, 40] {
            let result = open_all(
                IdentityKey::parse(&identity.to_secret_string()).unwrap(),
                &bytes[..cut],
                200_000,
            );
            assert!(
                matches!(result, Err(Error::Damaged | Error::NotSealed)),
                "cut at {cut}: {result:?}"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn round_trips(content in proptest::collection::vec(any::<u8>(), 0..20_000)) {
            let identity = IdentityKey::generate();
            let sealed = seal(&[identity.recipient()], &content).unwrap();
            let mut output = Vec::new();
            open_stream(&[identity], sealed.as_bytes(), content.len() as u64, &mut output).unwrap();
            prop_assert_eq!(&output, &content);
        }

        #[test]
        fn any_flipped_bit_is_refused(content in proptest::collection::vec(any::<u8>(), 0..3000), position in any::<prop::sample::Index>(), bit in 0u8..8) {
            let identity = IdentityKey::generate();
            let mut sealed = seal(&[identity.recipient()], &content).unwrap().into_bytes();
            let index = position.index(sealed.len());
            sealed[index] ^= 1 << bit;
            let mut output = Vec::new();
            let result = open_stream(&[identity], &sealed[..], content.len() as u64, &mut output);
            prop_assert!(result.is_err(), "flipping bit {} of byte {} went unnoticed", bit, index);
        }
    }
}
