//! The signed recipient directory: who may receive reports, and their keys.
//!
//! A [`Directory`] lists organisations (a ministry, say) and, in each, recipients with a role
//! (integrity office, internal or external confidential adviser, process guide), names in
//! Dutch and English, and one or more age public keys. An office signs it with an Ed25519
//! [`DirectorySigningKey`]; clients pin the matching [`DirectoryKey`] and refuse a directory
//! that is signed by another key, altered, expired, or older than one they have seen.
//!
//! Wire form of a [`SignedDirectory`], a JSON object:
//! `{"meldpunt-signed-directory":1,"signing_key":"mpdk1…","payload":"<base64>","signature":"<base64>"}`
//! where `payload` is the directory's JSON bytes and `signature` is Ed25519 (RFC 8032, strict
//! verification) over `"meldpunt/v1/directory\n" || payload`.
//!
//! This module must never trust the payload before the signature verifies against the
//! pinned key, and never print a signing key.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use bech32::{Bech32, Hrp};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::OsRng;
use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, Zeroizing};

use crate::message::{describe_json_error, is_valid_id};
use crate::questionnaire::{check_questions, AnswerError, Answers, DescribedAnswer, Question};
use crate::{Day, Error, OfficeKey, RecipientAddress, RecipientKey};

/// The directory format version this crate writes and reads.
pub const DIRECTORY_FORMAT_VERSION: u64 = 2;
/// Prefix of the bytes an Ed25519 directory signature covers.
pub const DIRECTORY_SIGNATURE_CONTEXT: &[u8] = b"meldpunt/v1/directory\n";
/// Largest signed directory accepted, in bytes.
pub const MAXIMUM_DIRECTORY_LENGTH: usize = 4 << 20;

const PUBLIC_KEY_HRP: &str = "mpdk";
const SECRET_KEY_HRP: &str = "MELDPUNT-DIRECTORY-SECRET-KEY-";

/// What a recipient does in the reporting process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// The integrity office (bureau integriteit) that handles reports.
    IntegrityOffice,
    /// A confidential adviser inside the organisation (interne vertrouwenspersoon).
    InternalConfidentialAdviser,
    /// A confidential adviser outside the organisation (externe vertrouwenspersoon).
    ExternalConfidentialAdviser,
    /// A process guide (procesbegeleider).
    ProcessGuide,
}

impl Role {
    /// Whether this is a confidential adviser's role (internal or external): the only
    /// recipients of a consultation.
    pub fn is_confidential_adviser(self) -> bool {
        matches!(
            self,
            Role::InternalConfidentialAdviser | Role::ExternalConfidentialAdviser
        )
    }

    /// All roles, in the order they are usually offered.
    pub const ALL: [Role; 4] = [
        Role::IntegrityOffice,
        Role::InternalConfidentialAdviser,
        Role::ExternalConfidentialAdviser,
        Role::ProcessGuide,
    ];

    /// The wire name, e.g. `integrity-office`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntegrityOffice => "integrity-office",
            Role::InternalConfidentialAdviser => "internal-confidential-adviser",
            Role::ExternalConfidentialAdviser => "external-confidential-adviser",
            Role::ProcessGuide => "process-guide",
        }
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == text)
            .ok_or_else(|| {
                Error::MalformedDirectory(format!(
                    "unknown role; the roles are {}",
                    Role::ALL.map(Role::as_str).join(", ")
                ))
            })
    }
}

/// A name in Dutch and in English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalisedName {
    /// Dutch.
    pub nl: String,
    /// English.
    pub en: String,
}

/// One recipient in an organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectoryRecipient {
    /// Id, unique within the organisation: lower-case letters, digits, dashes.
    pub id: String,
    /// What the recipient does.
    pub role: Role,
    /// Display name.
    pub name: LocalisedName,
    /// The age public keys of the people behind this recipient; everything addressed to the
    /// recipient is sealed to all of them.
    pub keys: Vec<RecipientKey>,
    /// The office keys (`mpok1…`) the people behind this recipient sign their replies and
    /// acknowledgements with ([`crate::IdentityKey::office_signing_key`]).
    pub signing_keys: Vec<OfficeKey>,
}

/// An organisation that takes reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Organisation {
    /// Id, unique in the directory: lower-case letters, digits, dashes.
    pub id: String,
    /// Display name.
    pub name: LocalisedName,
    /// Its recipients.
    pub recipients: Vec<DirectoryRecipient>,
    /// The questions a report to it answers besides its text (a structured report); none
    /// in a directory without a questionnaire.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub questions: Vec<Question>,
    /// Where else a reporter can go: external reporting channels (the Huis voor
    /// Klokkenluiders, competent authorities), shown on the start page and by
    /// `meldpunt directory show` (EU Directive 2019/1937 art. 9(1)(g)).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<ExternalChannel>,
    /// The questions a reporter is asked to evaluate the process with after closing; none:
    /// [`default_evaluation_questions`](crate::default_evaluation_questions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluation: Vec<Question>,
}

/// A reporting channel outside the organisation, and what it is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExternalChannel {
    /// Its name.
    pub name: LocalisedName,
    /// What it is for, in a sentence.
    pub purpose: LocalisedName,
    /// How to reach it: a web address or a telephone number, as written.
    pub contact: String,
}

impl Organisation {
    /// Turns typed answers (question id, text; an empty text is no answer) into the answers
    /// a report to this organisation carries, or every problem found.
    pub fn answers(&self, typed: &[(String, String)]) -> Result<Answers, Vec<AnswerError>> {
        crate::questionnaire::answers(&self.questions, typed)
    }

    /// The questions its reporters evaluate the process with: its own, else the defaults.
    pub fn evaluation_questions(&self) -> Vec<Question> {
        if self.evaluation.is_empty() {
            crate::questionnaire::default_evaluation_questions()
        } else {
            self.evaluation.clone()
        }
    }

    /// Answers as a reader shows them, against this organisation's questionnaire.
    pub fn describe_answers(&self, answers: &Answers) -> Vec<DescribedAnswer> {
        crate::questionnaire::describe(&self.questions, answers)
    }
}

/// The recipient directory, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Directory {
    /// Format marker and version: always [`DIRECTORY_FORMAT_VERSION`].
    #[serde(rename = "meldpunt-directory")]
    pub format: u64,
    /// Increases with every signing; clients refuse a lower one than they have seen.
    pub version: u64,
    /// The day it was signed.
    pub issued_on: Day,
    /// The last day on which it is valid.
    pub expires_on: Day,
    /// The hash of the version before ([`SignedDirectory::hash`]): every directory names the
    /// one it continues, so that a client can check that the directories it sees form one
    /// history. Absent in a first version (and in directories signed before this field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<DirectoryHash>,
    /// The organisations.
    pub organisations: Vec<Organisation>,
}

/// Domain-separation prefix of a directory's hash.
pub const DIRECTORY_HASH_LABEL: &[u8] = b"meldpunt/v1/directory-hash\n";

/// A signed directory's hash: SHA-256 of [`DIRECTORY_HASH_LABEL`] and the signed payload
/// bytes. Written as 43 characters of unpadded base64url.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct DirectoryHash([u8; 32]);

impl DirectoryHash {
    /// The wire form.
    pub fn to_wire(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(self.0)
    }

    /// Parses the wire form.
    pub fn from_wire(text: &str) -> Result<Self, Error> {
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(text)
            .ok()
            .filter(|_| text.len() == 43)
            .and_then(|bytes| bytes.try_into().ok())
            .map(DirectoryHash)
            .ok_or(Error::MalformedValue {
                what: "directory hash",
                expected: "43 characters of unpadded base64url",
            })
    }
}

impl fmt::Display for DirectoryHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_wire())
    }
}

impl fmt::Debug for DirectoryHash {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "DirectoryHash({})", self.to_wire())
    }
}

impl Serialize for DirectoryHash {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for DirectoryHash {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        DirectoryHash::from_wire(&text).map_err(serde::de::Error::custom)
    }
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::MalformedDirectory(reason.into())
}

pub(crate) fn check_name(name: &LocalisedName) -> Result<(), Error> {
    for text in [&name.nl, &name.en] {
        if text.trim().is_empty() || text.len() > 200 || text.chars().any(char::is_control) {
            return Err(invalid(
                "every name needs a Dutch and an English text of 1 to 200 bytes without control characters",
            ));
        }
    }
    Ok(())
}

impl Directory {
    /// An empty directory, version 0 (signing makes it version 1).
    pub fn new(issued_on: Day, expires_on: Day) -> Directory {
        Directory {
            format: DIRECTORY_FORMAT_VERSION,
            version: 0,
            issued_on,
            expires_on,
            previous: None,
            organisations: Vec::new(),
        }
    }

    /// Checks the rules every directory follows.
    pub fn check(&self) -> Result<(), Error> {
        if self.format != DIRECTORY_FORMAT_VERSION {
            return Err(Error::UnsupportedDirectoryVersion(self.format));
        }
        if self.expires_on < self.issued_on {
            return Err(invalid("it expires before it was issued"));
        }
        if self.organisations.len() > 1000 {
            return Err(invalid("at most 1000 organisations"));
        }
        let mut organisation_ids = HashSet::new();
        for organisation in &self.organisations {
            if !is_valid_id(&organisation.id) {
                return Err(invalid(
                    "organisation ids are 1 to 64 lower-case letters, digits and dashes",
                ));
            }
            if !organisation_ids.insert(&organisation.id) {
                return Err(invalid(format!(
                    "organisation \"{}\" appears twice",
                    organisation.id
                )));
            }
            check_name(&organisation.name)?;
            check_questions(&organisation.questions)?;
            check_questions(&organisation.evaluation)?;
            if organisation.channels.len() > 16 {
                return Err(invalid(format!(
                    "organisation \"{}\" lists at most 16 external channels",
                    organisation.id
                )));
            }
            for channel in &organisation.channels {
                check_name(&channel.name)?;
                check_name(&channel.purpose)?;
                if channel.contact.trim().is_empty()
                    || channel.contact.len() > 200
                    || channel.contact.chars().any(char::is_control)
                {
                    return Err(invalid(
                        "a channel's contact is a web address or telephone number of 1 to 200 bytes",
                    ));
                }
            }
            if organisation.recipients.is_empty() || organisation.recipients.len() > 32 {
                return Err(invalid(format!(
                    "organisation \"{}\" needs 1 to 32 recipients",
                    organisation.id
                )));
            }
            let mut recipient_ids = HashSet::new();
            for recipient in &organisation.recipients {
                if !is_valid_id(&recipient.id) {
                    return Err(invalid(
                        "recipient ids are 1 to 64 lower-case letters, digits and dashes",
                    ));
                }
                if !recipient_ids.insert(&recipient.id) {
                    return Err(invalid(format!(
                        "recipient \"{}\" appears twice in \"{}\"",
                        recipient.id, organisation.id
                    )));
                }
                check_name(&recipient.name)?;
                if recipient.keys.is_empty() || recipient.keys.len() > 32 {
                    return Err(invalid(format!(
                        "recipient \"{}\" in \"{}\" needs 1 to 32 keys",
                        recipient.id, organisation.id
                    )));
                }
                if recipient.signing_keys.is_empty() || recipient.signing_keys.len() > 32 {
                    return Err(invalid(format!(
                        "recipient \"{}\" in \"{}\" needs 1 to 32 signing keys",
                        recipient.id, organisation.id
                    )));
                }
            }
        }
        Ok(())
    }

    /// The organisation with this id.
    pub fn organisation(&self, id: &str) -> Option<&Organisation> {
        self.organisations
            .iter()
            .find(|organisation| organisation.id == id)
    }

    /// The recipient at this address.
    pub fn recipient(&self, address: &RecipientAddress) -> Result<&DirectoryRecipient, Error> {
        self.organisation(&address.organisation)
            .and_then(|organisation| {
                organisation
                    .recipients
                    .iter()
                    .find(|recipient| recipient.id == address.recipient)
            })
            .ok_or_else(|| Error::UnknownRecipient {
                organisation: address.organisation.clone(),
                recipient: address.recipient.clone(),
            })
    }

    /// Every key of every addressed recipient, without duplicates: what a report to these
    /// recipients is sealed to.
    pub fn keys_for(&self, addresses: &[RecipientAddress]) -> Result<Vec<RecipientKey>, Error> {
        let mut keys: Vec<RecipientKey> = Vec::new();
        for address in addresses {
            for key in &self.recipient(address)?.keys {
                if !keys.contains(key) {
                    keys.push(key.clone());
                }
            }
        }
        Ok(keys)
    }

    /// Every office key the directory lists, with the recipient it signs for: what a
    /// [`crate::ThreadCheck`] checks office messages against.
    pub fn office_signers(&self) -> Vec<(RecipientAddress, OfficeKey)> {
        self.organisations
            .iter()
            .flat_map(|organisation| {
                organisation.recipients.iter().flat_map(move |recipient| {
                    recipient.signing_keys.iter().map(move |key| {
                        (
                            RecipientAddress {
                                organisation: organisation.id.clone(),
                                recipient: recipient.id.clone(),
                            },
                            *key,
                        )
                    })
                })
            })
            .collect()
    }

    /// Every recipient of role `process-guide`, who may be appointed to a case.
    pub fn process_guides(&self) -> Vec<RecipientAddress> {
        self.with_roles(&[Role::ProcessGuide])
    }

    /// Every confidential adviser (internal or external): the only recipients a
    /// consultation goes to.
    pub fn confidential_advisers(&self) -> Vec<RecipientAddress> {
        self.with_roles(&[
            Role::InternalConfidentialAdviser,
            Role::ExternalConfidentialAdviser,
        ])
    }

    fn with_roles(&self, roles: &[Role]) -> Vec<RecipientAddress> {
        self.organisations
            .iter()
            .flat_map(|organisation| {
                organisation
                    .recipients
                    .iter()
                    .filter(|recipient| roles.contains(&recipient.role))
                    .map(move |recipient| RecipientAddress {
                        organisation: organisation.id.clone(),
                        recipient: recipient.id.clone(),
                    })
            })
            .collect()
    }

    /// Signs the directory with `key` as version `self.version + 1`, continuing `previous`
    /// (the directory signed last, version `self.version`, by the same key): the new version
    /// names its hash. Refuses a `previous` that is not that version or not signed by `key`.
    pub fn sign_after(
        &self,
        previous: &SignedDirectory,
        key: &DirectorySigningKey,
    ) -> Result<(Directory, SignedDirectory), Error> {
        let before = previous.verify_history(&key.directory_key())?;
        if before.version != self.version {
            return Err(invalid(format!(
                "the directory signed last is version {}, but this draft follows version {}",
                before.version, self.version
            )));
        }
        let mut next = self.clone();
        next.previous = Some(previous.hash()?);
        next.sign(key)
    }

    /// Signs the directory with `key`, as version `self.version + 1`, naming no previous
    /// version: for a first version (later ones use [`Directory::sign_after`]).
    pub fn sign(&self, key: &DirectorySigningKey) -> Result<(Directory, SignedDirectory), Error> {
        let mut next = self.clone();
        next.version = self
            .version
            .checked_add(1)
            .ok_or_else(|| invalid("version number exhausted"))?;
        next.check()?;
        let payload = serde_json::to_vec(&next).map_err(|error| invalid(error.to_string()))?;
        let signature = key.0.sign(&signed_bytes(&payload));
        let envelope = Envelope {
            format: DIRECTORY_FORMAT_VERSION,
            signing_key: key.directory_key().to_string(),
            payload: STANDARD.encode(&payload),
            signature: STANDARD.encode(signature.to_bytes()),
        };
        let bytes = serde_json::to_vec(&envelope).map_err(|error| invalid(error.to_string()))?;
        Ok((next, SignedDirectory { bytes, envelope }))
    }
}

fn signed_bytes(payload: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(DIRECTORY_SIGNATURE_CONTEXT.len() + payload.len());
    bytes.extend_from_slice(DIRECTORY_SIGNATURE_CONTEXT);
    bytes.extend_from_slice(payload);
    bytes
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    #[serde(rename = "meldpunt-signed-directory")]
    format: u64,
    signing_key: String,
    payload: String,
    signature: String,
}

/// A signed directory as served by the relay: not to be trusted until [`verify`](Self::verify)
/// succeeds.
#[derive(Debug, Clone)]
pub struct SignedDirectory {
    bytes: Vec<u8>,
    envelope: Envelope,
}

impl SignedDirectory {
    /// Parses the wire form (no verification yet).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<SignedDirectory, Error> {
        if bytes.len() > MAXIMUM_DIRECTORY_LENGTH {
            return Err(Error::TooLarge {
                what: "a signed directory",
                limit: MAXIMUM_DIRECTORY_LENGTH as u64,
            });
        }
        let envelope: Envelope =
            serde_json::from_slice(&bytes).map_err(|error| invalid(describe_json_error(&error)))?;
        if envelope.format != DIRECTORY_FORMAT_VERSION {
            return Err(Error::UnsupportedDirectoryVersion(envelope.format));
        }
        Ok(SignedDirectory { bytes, envelope })
    }

    /// The wire form.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// The key the directory *claims* to be signed by. Unverified: use it only to pin on
    /// first use, after telling the user so.
    pub fn claimed_signing_key(&self) -> Result<DirectoryKey, Error> {
        self.envelope.signing_key.parse()
    }

    /// Its hash, which the next version names ([`Directory::previous`]) and clients pin.
    pub fn hash(&self) -> Result<DirectoryHash, Error> {
        let payload = STANDARD
            .decode(&self.envelope.payload)
            .map_err(|_| invalid("the payload is not base64"))?;
        let mut hash = <sha2::Sha256 as sha2::Digest>::new();
        sha2::Digest::update(&mut hash, DIRECTORY_HASH_LABEL);
        sha2::Digest::update(&mut hash, &payload);
        Ok(DirectoryHash(sha2::Digest::finalize(hash).into()))
    }

    /// Verifies signature and content against the pinned key, without expiry or rollback:
    /// for a directory of the past, in a history ([`verify_continuation`]).
    pub fn verify_history(&self, pinned: &DirectoryKey) -> Result<Directory, Error> {
        self.verify(pinned, Day::from(time::Date::MIN), None)
    }

    /// Verifies the signature against the pinned key, then checks expiry against `today` and
    /// rollback against the highest version this client has seen, and returns the directory.
    pub fn verify(
        &self,
        pinned: &DirectoryKey,
        today: Day,
        highest_seen_version: Option<u64>,
    ) -> Result<Directory, Error> {
        match self.claimed_signing_key() {
            Ok(claimed) if claimed == *pinned => {}
            _ => return Err(Error::DirectorySignedByOtherKey),
        }
        let payload = STANDARD
            .decode(&self.envelope.payload)
            .map_err(|_| invalid("the payload is not base64"))?;
        let signature_bytes: [u8; 64] = STANDARD
            .decode(&self.envelope.signature)
            .ok()
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or(Error::DirectorySignature)?;
        pinned
            .0
            .verify_strict(
                &signed_bytes(&payload),
                &Signature::from_bytes(&signature_bytes),
            )
            .map_err(|_| Error::DirectorySignature)?;
        let probe: serde_json::Value = serde_json::from_slice(&payload)
            .map_err(|error| invalid(describe_json_error(&error)))?;
        match probe
            .get("meldpunt-directory")
            .and_then(serde_json::Value::as_u64)
        {
            Some(DIRECTORY_FORMAT_VERSION) => {}
            Some(other) => return Err(Error::UnsupportedDirectoryVersion(other)),
            None => {
                return Err(invalid(
                    "the \"meldpunt-directory\" version marker is missing",
                ))
            }
        }
        let directory: Directory = serde_json::from_slice(&payload)
            .map_err(|error| invalid(describe_json_error(&error)))?;
        directory.check()?;
        if let Some(seen) = highest_seen_version {
            if directory.version < seen {
                return Err(Error::DirectoryRollback {
                    seen,
                    offered: directory.version,
                });
            }
        }
        if today > directory.expires_on {
            return Err(Error::DirectoryExpired {
                expired_on: directory.expires_on.to_string(),
            });
        }
        Ok(directory)
    }
}

/// Checks that `current` honestly continues the directory a client pinned before (version
/// `pinned_version` with hash `pinned_hash`), through `history`: the signed directories of
/// every version after the pinned one, in order, ending with `current` (as the relay serves
/// them). Each must be signed by `key`, carry the next version number and name the hash of
/// the one before it. A different directory under the pinned version (a fork), a missing
/// version (a gap) or a link that does not match (a directory swapped in the middle) is
/// refused. Expiry is not checked here: past versions may have expired.
pub fn verify_continuation(
    key: &DirectoryKey,
    pinned_version: u64,
    pinned_hash: DirectoryHash,
    history: &[SignedDirectory],
    current: &SignedDirectory,
) -> Result<(), Error> {
    let current_hash = current.hash()?;
    let current_version = current.verify_history(key)?.version;
    if current_version == pinned_version {
        return if current_hash == pinned_hash {
            Ok(())
        } else {
            Err(Error::DirectoryChain(format!(
                "version {pinned_version} is not the one seen before (a fork)"
            )))
        };
    }
    let mut expected_version = pinned_version;
    let mut expected_previous = pinned_hash;
    for signed in history {
        let directory = signed.verify_history(key)?;
        if directory.version <= pinned_version {
            continue;
        }
        expected_version += 1;
        if directory.version != expected_version {
            return Err(Error::DirectoryChain(format!(
                "version {expected_version} is missing from its history (a gap)"
            )));
        }
        if directory.previous != Some(expected_previous) {
            return Err(Error::DirectoryChain(format!(
                "version {} does not name version {} as the one it continues",
                directory.version,
                directory.version - 1
            )));
        }
        expected_previous = signed.hash()?;
        if directory.version == current_version {
            break;
        }
    }
    if expected_version != current_version {
        return Err(Error::DirectoryChain(format!(
            "the history stops at version {expected_version}, before the current version {current_version} (a gap)"
        )));
    }
    if expected_previous != current_hash {
        return Err(Error::DirectoryChain(format!(
            "the history's version {current_version} is not the directory served now"
        )));
    }
    Ok(())
}

/// The public key that signs directories; clients pin it. Written `mpdk1…` (Bech32).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DirectoryKey(VerifyingKey);

impl fmt::Display for DirectoryKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hrp = Hrp::parse_unchecked(PUBLIC_KEY_HRP);
        bech32::encode_lower_to_fmt::<Bech32, _>(formatter, hrp, self.0.as_bytes())
            .map_err(|_| fmt::Error)
    }
}

impl fmt::Debug for DirectoryKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "DirectoryKey({self})")
    }
}

impl FromStr for DirectoryKey {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let (hrp, bytes) = bech32::decode(text.trim()).map_err(|_| Error::MalformedDirectoryKey)?;
        if hrp.as_str() != PUBLIC_KEY_HRP {
            return Err(Error::MalformedDirectoryKey);
        }
        let bytes: [u8; 32] = bytes.try_into().map_err(|_| Error::MalformedDirectoryKey)?;
        VerifyingKey::from_bytes(&bytes)
            .map(DirectoryKey)
            .map_err(|_| Error::MalformedDirectoryKey)
    }
}

/// The secret key that signs directories. Zeroized on drop; not `Clone`; redacted in `Debug`.
/// Written `MELDPUNT-DIRECTORY-SECRET-KEY-1…` (Bech32, upper case).
pub struct DirectorySigningKey(SigningKey);

impl DirectorySigningKey {
    /// A new key from the operating system's random number generator.
    pub fn generate() -> Self {
        DirectorySigningKey(SigningKey::generate(&mut OsRng))
    }

    /// Its public half.
    pub fn directory_key(&self) -> DirectoryKey {
        DirectoryKey(self.0.verifying_key())
    }

    /// The secret string form. Zeroized on drop.
    pub fn to_secret_string(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(SECRET_KEY_HRP);
        let mut seed = self.0.to_bytes();
        let encoded = bech32::encode_upper::<Bech32>(hrp, &seed).expect("32 bytes fit");
        seed.zeroize();
        Zeroizing::new(encoded)
    }

    /// Parses the secret string form.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let (hrp, bytes) = bech32::decode(text.trim()).map_err(|_| Error::MalformedDirectoryKey)?;
        let mut bytes = Zeroizing::new(bytes);
        if !hrp.as_str().eq_ignore_ascii_case(SECRET_KEY_HRP) || bytes.len() != 32 {
            return Err(Error::MalformedDirectoryKey);
        }
        let mut seed = Zeroizing::new([0u8; 32]);
        seed.copy_from_slice(&bytes);
        bytes.zeroize();
        Ok(DirectorySigningKey(SigningKey::from_bytes(&seed)))
    }
}

impl fmt::Debug for DirectorySigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "DirectorySigningKey([redacted], public: {})",
            self.directory_key()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::IdentityKey;
    use proptest::prelude::*;

    fn day(text: &str) -> Day {
        text.parse().unwrap()
    }

    fn sample() -> Directory {
        let mut directory = Directory::new(day("2026-11-28"), day("2027-02-28"));
        directory.organisations.push(Organisation {
            questions: Vec::new(),
            channels: Vec::new(),
            evaluation: Vec::new(),
            id: "demo".into(),
            name: LocalisedName {
                nl: "Demo-ministerie".into(),
                en: "Demo ministry".into(),
            },
            recipients: vec![
                DirectoryRecipient {
                    id: "integrity-office".into(),
                    role: Role::IntegrityOffice,
                    name: LocalisedName {
                        nl: "Bureau Integriteit".into(),
                        en: "Integrity office".into(),
                    },
                    keys: vec![
                        IdentityKey::generate().recipient(),
                        IdentityKey::generate().recipient(),
                    ],
                    signing_keys: vec![IdentityKey::generate().office_signing_key().office_key()],
                },
                DirectoryRecipient {
                    id: "external-adviser".into(),
                    role: Role::ExternalConfidentialAdviser,
                    name: LocalisedName {
                        nl: "Externe vertrouwenspersoon".into(),
                        en: "External confidential adviser".into(),
                    },
                    keys: vec![IdentityKey::generate().recipient()],
                    signing_keys: vec![IdentityKey::generate().office_signing_key().office_key()],
                },
            ],
        });
        directory
    }

    /// Versions 1 to 5 of one honest history, each continuing the one before.
    fn history(key: &DirectorySigningKey) -> Vec<SignedDirectory> {
        let (mut draft, first) = sample().sign(key).unwrap();
        let mut signed = vec![first];
        for _ in 2..=5 {
            draft.organisations[0].recipients[0]
                .keys
                .push(IdentityKey::generate().recipient());
            let (next, next_signed) = draft.sign_after(signed.last().unwrap(), key).unwrap();
            draft = next;
            signed.push(next_signed);
        }
        signed
    }

    #[test]
    fn an_honest_history_continues_every_version_it_passes() {
        let key = DirectorySigningKey::generate();
        let chain = history(&key);
        let pinned = key.directory_key();
        for (index, start) in chain.iter().enumerate() {
            let version = index as u64 + 1;
            let hash = start.hash().unwrap();
            for end in index..chain.len() {
                verify_continuation(&pinned, version, hash, &chain[index + 1..=end], &chain[end])
                    .unwrap();
                // The relay may serve the whole history: versions up to the pinned one are
                // skipped.
                verify_continuation(&pinned, version, hash, &chain[..=end], &chain[end]).unwrap();
            }
        }
        let second = chain[1].verify_history(&pinned).unwrap();
        assert_eq!(second.previous, Some(chain[0].hash().unwrap()));
        assert_eq!(chain[0].verify_history(&pinned).unwrap().previous, None);
        // Signing after anything but the last signed version is refused.
        let draft = chain[4].verify_history(&pinned).unwrap();
        assert!(draft.sign_after(&chain[3], &key).is_err());
        let stranger = DirectorySigningKey::generate();
        assert!(draft.sign_after(&chain[4], &stranger).is_err());
    }

    #[test]
    fn forks_gaps_and_swapped_versions_are_refused() {
        let key = DirectorySigningKey::generate();
        let chain = history(&key);
        let pinned = key.directory_key();
        let chained = |version: u64, history: &[SignedDirectory], current: &SignedDirectory| {
            let hash = chain[version as usize - 1].hash().unwrap();
            verify_continuation(&pinned, version, hash, history, current)
        };
        // A fork: another version 3, signed by the same key, continuing version 2.
        let two = chain[1].verify_history(&pinned).unwrap();
        let mut other = two.clone();
        other.organisations[0].recipients[0].keys[0] = IdentityKey::generate().recipient();
        let (_, fork) = other.sign_after(&chain[1], &key).unwrap();
        let refused = chained(3, &[], &fork);
        assert!(matches!(refused, Err(Error::DirectoryChain(ref why)) if why.contains("fork")));
        // The fork served as version 3 of a history leading to version 5.
        let swapped = [fork.clone(), chain[3].clone(), chain[4].clone()];
        assert!(matches!(
            chained(2, &swapped, &chain[4]),
            Err(Error::DirectoryChain(_))
        ));
        // A gap: version 4 left out.
        let gap = [chain[2].clone(), chain[4].clone()];
        assert!(matches!(
            chained(2, &gap, &chain[4]),
            Err(Error::DirectoryChain(ref why)) if why.contains("gap")
        ));
        // A history that stops early, or leads to another current directory.
        assert!(matches!(
            chained(2, &chain[2..4], &chain[4]),
            Err(Error::DirectoryChain(_))
        ));
        let (_, other_five) = chain[3]
            .verify_history(&pinned)
            .unwrap()
            .sign_after(&chain[3], &key)
            .unwrap();
        assert!(matches!(
            chained(2, &chain[2..], &other_five),
            Err(Error::DirectoryChain(_))
        ));
        // A version that names no previous one (signed without the chain).
        let (_, unlinked) = two.sign(&key).unwrap();
        assert!(matches!(
            chained(2, std::slice::from_ref(&unlinked), &unlinked),
            Err(Error::DirectoryChain(_))
        ));
        // Another key anywhere in the history.
        let (_, foreign) = two.sign_after(&chain[1], &key).unwrap();
        let stranger = DirectorySigningKey::generate();
        let (_, strange) = two.sign(&stranger).unwrap();
        assert!(chained(2, &[strange], &foreign).is_err());
    }

    #[test]
    fn signs_and_verifies() {
        let key = DirectorySigningKey::generate();
        let (signed_directory, signed) = sample().sign(&key).unwrap();
        assert_eq!(signed_directory.version, 1);
        let wire = SignedDirectory::from_bytes(signed.as_bytes().to_vec()).unwrap();
        let verified = wire
            .verify(&key.directory_key(), day("2026-12-01"), Some(1))
            .unwrap();
        assert_eq!(verified, signed_directory);
        let address = RecipientAddress {
            organisation: "demo".into(),
            recipient: "integrity-office".into(),
        };
        assert_eq!(
            verified
                .keys_for(&[address.clone(), address])
                .unwrap()
                .len(),
            2
        );
    }

    #[test]
    fn refuses_other_key_rollback_and_expiry() {
        let key = DirectorySigningKey::generate();
        let (first, signed_first) = sample().sign(&key).unwrap();
        let (_, signed_second) = first.sign(&key).unwrap();
        let pinned = key.directory_key();
        assert!(signed_second
            .verify(&pinned, day("2026-12-01"), Some(1))
            .is_ok());
        assert!(matches!(
            signed_first.verify(&pinned, day("2026-12-01"), Some(2)),
            Err(Error::DirectoryRollback {
                seen: 2,
                offered: 1
            })
        ));
        assert!(matches!(
            signed_first.verify(&pinned, day("2027-03-01"), None),
            Err(Error::DirectoryExpired { .. })
        ));
        assert!(signed_first
            .verify(&pinned, day("2027-02-28"), None)
            .is_ok());
        let other = DirectorySigningKey::generate().directory_key();
        assert!(matches!(
            signed_first.verify(&other, day("2026-12-01"), None),
            Err(Error::DirectorySignedByOtherKey)
        ));
    }

    #[test]
    fn refuses_swapped_key_under_claimed_pinned_key() {
        // A relay that re-signs with its own key but claims the pinned one.
        let key = DirectorySigningKey::generate();
        let attacker = DirectorySigningKey::generate();
        let (_, forged) = sample().sign(&attacker).unwrap();
        let mut envelope: serde_json::Value = serde_json::from_slice(forged.as_bytes()).unwrap();
        envelope["signing_key"] = key.directory_key().to_string().into();
        let bytes = serde_json::to_vec(&envelope).unwrap();
        let wire = SignedDirectory::from_bytes(bytes).unwrap();
        assert!(matches!(
            wire.verify(&key.directory_key(), day("2026-12-01"), None),
            Err(Error::DirectorySignature)
        ));
    }

    #[test]
    fn invalid_directories_are_not_signed() {
        let key = DirectorySigningKey::generate();
        let mut duplicate = sample();
        duplicate
            .organisations
            .push(duplicate.organisations[0].clone());
        assert!(matches!(
            duplicate.sign(&key),
            Err(Error::MalformedDirectory(_))
        ));
        let mut no_keys = sample();
        no_keys.organisations[0].recipients[0].keys.clear();
        assert!(no_keys.sign(&key).is_err());
        let mut bad_id = sample();
        bad_id.organisations[0].id = "Demo Ministry".into();
        assert!(bad_id.sign(&key).is_err());
        let backwards = Directory::new(day("2027-01-01"), day("2026-01-01"));
        assert!(backwards.sign(&key).is_err());
    }

    #[test]
    fn keys_round_trip_and_secret_is_redacted() {
        let key = DirectorySigningKey::generate();
        let secret = key.to_secret_string();
        assert!(secret.starts_with("MELDPUNT-DIRECTORY-SECRET-KEY-1"));
        assert!(!format!("{key:?}").contains(&secret[31..]));
        let parsed = DirectorySigningKey::parse(&secret).unwrap();
        assert_eq!(parsed.directory_key(), key.directory_key());
        let public = key.directory_key().to_string();
        assert!(public.starts_with("mpdk1"));
        assert_eq!(public.parse::<DirectoryKey>().unwrap(), key.directory_key());
        assert!("age1xyz".parse::<DirectoryKey>().is_err());
        assert!(DirectorySigningKey::parse(&public).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_flipped_bit_is_refused(position in any::<prop::sample::Index>(), bit in 0u8..8) {
            let key = DirectorySigningKey::generate();
            let (_, signed) = sample().sign(&key).unwrap();
            let mut bytes = signed.as_bytes().to_vec();
            let index = position.index(bytes.len());
            bytes[index] ^= 1 << bit;
            let result = SignedDirectory::from_bytes(bytes)
                .and_then(|wire| wire.verify(&key.directory_key(), day("2026-12-01"), None));
            prop_assert!(result.is_err(), "bit {} of byte {} flipped unnoticed", bit, index);
        }

        #[test]
        fn any_flipped_signature_bit_is_refused(bit in 0usize..512) {
            let key = DirectorySigningKey::generate();
            let (_, signed) = sample().sign(&key).unwrap();
            let mut envelope: serde_json::Value = serde_json::from_slice(signed.as_bytes()).unwrap();
            let mut signature = STANDARD.decode(envelope["signature"].as_str().unwrap()).unwrap();
            signature[bit / 8] ^= 1 << (bit % 8);
            envelope["signature"] = STANDARD.encode(&signature).into();
            let wire = SignedDirectory::from_bytes(serde_json::to_vec(&envelope).unwrap()).unwrap();
            prop_assert!(matches!(wire.verify(&key.directory_key(), day("2026-12-01"), None), Err(Error::DirectorySignature)));
        }

        #[test]
        fn parsing_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let key = DirectorySigningKey::generate();
            if let Ok(wire) = SignedDirectory::from_bytes(bytes) {
                let _ = wire.verify(&key.directory_key(), day("2026-12-01"), None);
            }
        }
    }
}
