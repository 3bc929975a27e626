//! The age v1.3 hybrid post-quantum recipient type, `mlkem768x25519` (X-Wing: ML-KEM-768
//! combined with X25519), which the Rust `age` crate does not have yet. It plugs into age
//! through age's own `Recipient` and `Identity` traits, so everything else (header, MAC,
//! payload) stays age's.
//!
//! As c2sp.org/age specifies it:
//! - an identity is 32 random bytes, written as Bech32 with the HRP `AGE-SECRET-KEY-PQ-`;
//! - its recipient is the X-Wing encapsulation key (1,216 bytes) that the identity (the X-Wing
//!   decapsulation seed) determines, written as Bech32 with the HRP `age1pq`, without
//!   Bech32's length limit;
//! - a stanza is `-> mlkem768x25519 <base64 of the 1,120-byte encapsulated key>` with the
//!   32-byte body: HPKE SealBase (RFC 9180) of the file key with the KEM MLKEM768-X25519
//!   (0x647a), HKDF-SHA256, ChaCha20-Poly1305, `info = "age-encryption.org/mlkem768x25519"`
//!   and an empty `aad`.
//!
//! Every primitive comes from libcrux (formally verified; through `hpke-rs` for HPKE and
//! `libcrux-kem` for the X-Wing keys; RustCrypto's X-Wing needs a newer `kem` crate than the
//! one age 0.12 builds with); this module only encodes keys and stanzas.
//!
//! Stanzas carry the label `postquantum`, as age's own post-quantum types do: age refuses to
//! mix them with classic stanzas in one file unless the caller says so explicitly
//! ([`crate::seal`] does, during a migration, and says what that costs).
//!
//! This module must never expose the identity's seed through `Debug`, `Display` or an error,
//! and never keep it in memory that is not zeroized.

use std::collections::HashSet;
use std::fmt;

use age::secrecy::ExposeSecret;
use age_core::format::{FileKey, Stanza};
use age_core::primitives::{bech32_decode, bech32_encode};
use base64::engine::general_purpose::STANDARD_NO_PAD;
use base64::Engine as _;
use bech32::Hrp;
use hpke_rs::hpke_types::{AeadAlgorithm, KdfAlgorithm, KemAlgorithm};
use hpke_rs::libcrux::HpkeLibcrux;
use hpke_rs::{Hpke, HpkePrivateKey, HpkePublicKey, Mode};
use zeroize::{Zeroize, Zeroizing};

/// The first argument of a hybrid stanza.
pub(crate) const HYBRID_STANZA_TAG: &str = "mlkem768x25519";
/// HPKE `info` of a hybrid stanza.
const HYBRID_INFO: &[u8] = b"age-encryption.org/mlkem768x25519";
/// The label age uses to keep post-quantum stanzas apart from classic ones.
pub(crate) const POST_QUANTUM_LABEL: &str = "postquantum";

const RECIPIENT_PREFIX: Hrp = Hrp::parse_unchecked("age1pq");
const IDENTITY_PREFIX: Hrp = Hrp::parse_unchecked("AGE-SECRET-KEY-PQ-");

/// Length of the X-Wing encapsulation key (the recipient).
const RECIPIENT_LENGTH: usize = 1216;
/// Length of the X-Wing ciphertext (a stanza's encapsulated key).
const ENCAPSULATED_LENGTH: usize = 1120;
/// Length of a stanza's body: the 16-byte file key and its 16-byte tag.
const BODY_LENGTH: usize = 32;

/// An `age1pq1…` recipient.
#[derive(Clone)]
pub(crate) struct HybridRecipient {
    key: HpkePublicKey,
    encoded: String,
}

/// HPKE with the suite the specification names.
fn suite() -> Hpke<HpkeLibcrux> {
    Hpke::new(
        Mode::Base,
        KemAlgorithm::XWingDraft06,
        KdfAlgorithm::HkdfSha256,
        AeadAlgorithm::ChaCha20Poly1305,
    )
}

impl HybridRecipient {
    /// Parses `age1pq1…` (lowercase, as age writes it). `None` for anything else.
    pub(crate) fn parse(text: &str) -> Option<HybridRecipient> {
        if !text.starts_with("age1pq1") {
            return None;
        }
        let key = bech32_decode(
            text,
            |_| (),
            |hrp| (hrp == RECIPIENT_PREFIX).then_some(()).ok_or(()),
            |_, bytes| {
                let bytes: Vec<u8> = bytes.collect();
                if bytes.len() != RECIPIENT_LENGTH {
                    return Err(());
                }
                // The ML-KEM part must be a valid encapsulation key (FIPS 203's modulus check).
                libcrux_kem::PublicKey::decode(libcrux_kem::Algorithm::XWingKemDraft06, &bytes)
                    .map_err(|_| ())?;
                Ok(bytes)
            },
        )
        .ok()?;
        Some(HybridRecipient::from_bytes(key))
    }

    fn from_bytes(key: Vec<u8>) -> HybridRecipient {
        let encoded = bech32_encode(RECIPIENT_PREFIX, &key);
        HybridRecipient {
            key: HpkePublicKey::new(key),
            encoded,
        }
    }

    /// The `age1pq1…` string.
    pub(crate) fn as_str(&self) -> &str {
        &self.encoded
    }
}

impl PartialEq for HybridRecipient {
    fn eq(&self, other: &Self) -> bool {
        self.encoded == other.encoded
    }
}

impl Eq for HybridRecipient {}

impl age::Recipient for HybridRecipient {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let (encapsulated, body) = suite()
            .seal(
                &self.key,
                HYBRID_INFO,
                b"",
                file_key.expose_secret(),
                None,
                None,
                None,
            )
            .map_err(|error| age::EncryptError::Io(std::io::Error::other(format!("{error:?}"))))?;
        Ok((
            vec![Stanza {
                tag: HYBRID_STANZA_TAG.to_owned(),
                args: vec![STANDARD_NO_PAD.encode(encapsulated)],
                body,
            }],
            HashSet::from([POST_QUANTUM_LABEL.to_owned()]),
        ))
    }
}

/// The same recipient, with no label: for a file sealed to hybrid and classic recipients at
/// once, which age would otherwise refuse. Only [`crate::seal`] builds one, when a message
/// must reach members who have not moved to hybrid keys yet.
pub(crate) struct Unlabelled<'a>(pub(crate) &'a HybridRecipient);

impl age::Recipient for Unlabelled<'_> {
    fn wrap_file_key(
        &self,
        file_key: &FileKey,
    ) -> Result<(Vec<Stanza>, HashSet<String>), age::EncryptError> {
        let (stanzas, _) = self.0.wrap_file_key(file_key)?;
        Ok((stanzas, HashSet::new()))
    }
}

/// Whether `text` starts like a hybrid identity (`AGE-SECRET-KEY-PQ-1`, either case), looked
/// at without copying the secret.
pub(crate) fn is_hybrid_identity(text: &str) -> bool {
    text.get(..19)
        .is_some_and(|start| start.eq_ignore_ascii_case("AGE-SECRET-KEY-PQ-1"))
}

/// An `AGE-SECRET-KEY-PQ-1…` identity: the 32-byte X-Wing seed (zeroized on drop, also inside
/// `hpke`'s key) and its recipient.
pub(crate) struct HybridIdentity {
    seed: Zeroizing<[u8; 32]>,
    key: HpkePrivateKey,
    recipient: HybridRecipient,
}

impl HybridIdentity {
    /// The identity whose seed is `seed`.
    pub(crate) fn from_seed(seed: &[u8; 32]) -> HybridIdentity {
        let (private, public) =
            libcrux_kem::key_gen_derand(libcrux_kem::Algorithm::XWingKemDraft06, seed)
                .expect("every 32 bytes are an X-Wing seed");
        // libcrux's copy of the seed is not zeroized on drop: clear it here.
        if let libcrux_kem::PrivateKey::XWingKemDraft06(mut private) = private {
            private.seed.zeroize();
        }
        HybridIdentity {
            seed: Zeroizing::new(*seed),
            key: HpkePrivateKey::new(seed.to_vec()),
            recipient: HybridRecipient::from_bytes(public.encode()),
        }
    }

    /// Parses `AGE-SECRET-KEY-PQ-1…` (uppercase, as age writes it; lowercase too).
    pub(crate) fn parse(text: &str) -> Option<HybridIdentity> {
        if !is_hybrid_identity(text) {
            return None;
        }
        let seed = bech32_decode(
            text,
            |_| (),
            |hrp| (hrp == IDENTITY_PREFIX).then_some(()).ok_or(()),
            |_, bytes| {
                let mut seed = Zeroizing::new([0u8; 32]);
                let mut length = 0;
                for byte in bytes {
                    if length == 32 {
                        return Err(());
                    }
                    seed[length] = byte;
                    length += 1;
                }
                (length == 32).then_some(seed).ok_or(())
            },
        )
        .ok()?;
        Some(HybridIdentity::from_seed(&seed))
    }

    /// The `AGE-SECRET-KEY-PQ-1…` string. Zeroized on drop.
    pub(crate) fn to_secret_string(&self) -> Zeroizing<String> {
        let mut text = Zeroizing::new(bech32_encode(IDENTITY_PREFIX, &self.seed[..]));
        text.make_ascii_uppercase();
        text
    }

    /// The 32 secret bytes (what the office's signing key is derived from).
    pub(crate) fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    pub(crate) fn recipient(&self) -> &HybridRecipient {
        &self.recipient
    }
}

impl age::Identity for HybridIdentity {
    fn unwrap_stanza(&self, stanza: &Stanza) -> Option<Result<FileKey, age::DecryptError>> {
        if stanza.tag != HYBRID_STANZA_TAG {
            return None;
        }
        // As the specification demands: exactly one argument, the canonical base64 of 1,120
        // bytes, and a 32-byte body checked before anything is decrypted.
        let malformed = || Some(Err(age::DecryptError::InvalidHeader));
        let [argument] = stanza.args.as_slice() else {
            return malformed();
        };
        let Ok(encapsulated) = STANDARD_NO_PAD.decode(argument) else {
            return malformed();
        };
        if encapsulated.len() != ENCAPSULATED_LENGTH || stanza.body.len() != BODY_LENGTH {
            return malformed();
        }
        let opened = suite()
            .open(
                &encapsulated,
                &self.key,
                HYBRID_INFO,
                b"",
                &stanza.body,
                None,
                None,
                None,
            )
            .map(Zeroizing::new);
        // A stanza that does not open is another recipient's (age's X25519 identity answers
        // the same way), so the next stanza is tried.
        match opened {
            Ok(file_key) if file_key.len() == 16 => Some(Ok(FileKey::init_with_mut(|key| {
                key.copy_from_slice(&file_key[..])
            }))),
            Ok(_) => Some(Err(age::DecryptError::InvalidHeader)),
            Err(_) => None,
        }
    }
}

impl fmt::Debug for HybridIdentity {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("HybridIdentity([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// The example identity of the age specification (c2sp.org/age).
    const SPECIFICATION_IDENTITY: &str =
        "AGE-SECRET-KEY-PQ-1XX76JRALNLXDMEW0CRK45QMCCH4X06SE84UN3VPM33W6HWDX0H3SK3ZQFR";

    fn seal(recipients: &[&dyn age::Recipient], plaintext: &[u8]) -> Vec<u8> {
        let mut sealed = Vec::new();
        let mut writer = age::Encryptor::with_recipients(recipients.iter().copied())
            .unwrap()
            .wrap_output(&mut sealed)
            .unwrap();
        writer.write_all(plaintext).unwrap();
        writer.finish().unwrap();
        sealed
    }

    fn open(identity: &dyn age::Identity, sealed: &[u8]) -> Result<Vec<u8>, age::DecryptError> {
        let decryptor = age::Decryptor::new_buffered(sealed)?;
        let mut reader = decryptor.decrypt(std::iter::once(identity))?;
        let mut plaintext = Vec::new();
        reader.read_to_end(&mut plaintext)?;
        Ok(plaintext)
    }

    #[test]
    fn the_specification_example_identity_round_trips() {
        let identity = HybridIdentity::parse(SPECIFICATION_IDENTITY).unwrap();
        assert_eq!(identity.to_secret_string().as_str(), SPECIFICATION_IDENTITY);
        let recipient = identity.recipient().as_str();
        assert!(recipient.starts_with("age1pq1"));
        // The specification's example recipient starts like this (its text is 1,959 long).
        assert!(recipient.starts_with("age1pq1x34nzsvr0rxjsgdn8zgyhfe8j7ceq5r9rdelkjuh3y"));
        assert_eq!(recipient.len(), 1959);
        assert!(HybridRecipient::parse(recipient).unwrap() == *identity.recipient());
    }

    #[test]
    fn a_hybrid_file_opens_for_its_identity_alone() {
        let identity = HybridIdentity::from_seed(&[7; 32]);
        let other = HybridIdentity::from_seed(&[8; 32]);
        let sealed = seal(&[identity.recipient()], b"a report");
        let header = String::from_utf8_lossy(&sealed[..200]);
        assert!(header.contains("-> mlkem768x25519 "), "{header}");
        assert_eq!(open(&identity, &sealed).unwrap(), b"a report");
        assert!(matches!(
            open(&other, &sealed),
            Err(age::DecryptError::NoMatchingKeys)
        ));
    }

    #[test]
    fn age_refuses_a_silent_mix_and_the_unlabelled_form_allows_it() {
        let hybrid = HybridIdentity::from_seed(&[7; 32]);
        let classic = age::x25519::Identity::generate();
        let public = classic.to_public();
        assert!(matches!(
            age::Encryptor::with_recipients(
                [hybrid.recipient() as &dyn age::Recipient, &public].into_iter()
            )
            .and_then(|encryptor| encryptor.wrap_output(Vec::new()).map_err(Into::into)),
            Err(age::EncryptError::IncompatibleRecipients { .. })
        ));
        let unlabelled = Unlabelled(hybrid.recipient());
        let sealed = seal(&[&unlabelled, &public], b"both");
        assert_eq!(open(&hybrid, &sealed).unwrap(), b"both");
        assert_eq!(open(&classic, &sealed).unwrap(), b"both");
    }

    #[test]
    fn malformed_stanzas_are_refused_and_foreign_ones_ignored() {
        let identity = HybridIdentity::from_seed(&[7; 32]);
        let encapsulated = STANDARD_NO_PAD.encode([0u8; ENCAPSULATED_LENGTH]);
        let stanza = |args: Vec<String>, body: Vec<u8>| Stanza {
            tag: HYBRID_STANZA_TAG.into(),
            args,
            body,
        };
        for malformed in [
            stanza(vec![], vec![0; 32]),
            stanza(vec![encapsulated.clone(), "x".into()], vec![0; 32]),
            stanza(vec![STANDARD_NO_PAD.encode([0u8; 1119])], vec![0; 32]),
            stanza(vec![format!("{encapsulated}=")], vec![0; 32]),
            stanza(vec![encapsulated.clone()], vec![0; 31]),
            stanza(vec![encapsulated.clone()], vec![0; 48]),
        ] {
            assert!(matches!(
                age::Identity::unwrap_stanza(&identity, &malformed),
                Some(Err(age::DecryptError::InvalidHeader))
            ));
        }
        // Well formed but for someone else: not this identity's, so the next one is tried.
        assert!(
            age::Identity::unwrap_stanza(&identity, &stanza(vec![encapsulated], vec![0; 32]))
                .is_none()
        );
        let foreign = Stanza {
            tag: "X25519".into(),
            args: vec!["x".into()],
            body: vec![],
        };
        assert!(age::Identity::unwrap_stanza(&identity, &foreign).is_none());
    }

    #[test]
    fn malformed_keys_are_refused() {
        let identity = HybridIdentity::from_seed(&[7; 32]);
        let recipient = identity.recipient().as_str().to_owned();
        let mut flipped = recipient.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'q' { b'p' } else { b'q' };
        for text in [
            "",
            "age1pq1",
            &recipient[..recipient.len() - 7],
            std::str::from_utf8(&flipped).unwrap(),
            &recipient.replacen("age1pq1", "age1pr1", 1),
        ] {
            assert!(HybridRecipient::parse(text).is_none(), "{text:.20}");
        }
        let secret = identity.to_secret_string();
        assert!(HybridIdentity::parse(&secret[..secret.len() - 1]).is_none());
        assert!(HybridIdentity::parse(&secret.replacen("-PQ-", "-PR-", 1)).is_none());
        assert!(HybridIdentity::parse(&secret.to_lowercase()).is_some());
        assert!(!format!("{identity:?}").contains(&secret[20..]));
    }
}
