//! Receipt codes: the one secret a reporter keeps.
//!
//! A receipt code is 128 bits from the operating system's random number generator, written
//! as 32 characters in eight groups of four, for example `Q7XK-M3VD-…`. Under the hood it is
//! a Bech32m string (BIP 350) with the human-readable part `meldpunt`, which is left out when
//! written down: 26 characters carry the 128 bits (plus two zero bits), 6 more are the
//! Bech32m checksum. That checksum is a BCH code that is *guaranteed* to catch any error in up
//! to four characters, so any single mistyped character and any two swapped characters are
//! always caught; larger mix-ups (two groups swapped) are caught except with probability
//! about 2⁻³⁰. See `docs/protocol.md` for why we chose this over word lists.
//!
//! Parsing forgives case, spaces and dashes, a leading `meldpunt1`, and the look-alikes
//! `O`→`0`, `I`→`L`, `1`→`L`, `B`→`8` (none of `O I 1 B` occurs in a code).
//!
//! This module must never print, log or return a code except through
//! [`ReceiptCode::to_written_form`], which the caller shows exactly once.

use std::fmt;

use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32m, Fe32, Hrp};
use rand_core::{OsRng, RngCore};
use zeroize::{Zeroize, Zeroizing};

use crate::Error;

/// Number of random bytes in a receipt code.
pub const RECEIPT_CODE_ENTROPY_BYTES: usize = 16;
/// Number of characters in a written receipt code, not counting dashes.
pub const RECEIPT_CODE_CHARACTERS: usize = 32;
/// Characters per written group.
const GROUP_LENGTH: usize = 4;
/// The Bech32m human-readable part, fed into the checksum but never written down.
const HUMAN_READABLE_PART: &str = "meldpunt";

/// A reporter's receipt code. Zeroized on drop; never printed by `Debug`; not `Clone`.
pub struct ReceiptCode {
    entropy: Zeroizing<[u8; RECEIPT_CODE_ENTROPY_BYTES]>,
}

impl ReceiptCode {
    /// A new receipt code from the operating system's random number generator.
    pub fn generate() -> Self {
        let mut entropy = Zeroizing::new([0u8; RECEIPT_CODE_ENTROPY_BYTES]);
        OsRng.fill_bytes(&mut entropy[..]);
        ReceiptCode { entropy }
    }

    /// A receipt code from its 16 bytes of entropy (for test vectors and other implementations).
    pub fn from_entropy(entropy: [u8; RECEIPT_CODE_ENTROPY_BYTES]) -> Self {
        ReceiptCode {
            entropy: Zeroizing::new(entropy),
        }
    }

    /// The secret entropy, the input to every derivation.
    pub(crate) fn entropy(&self) -> &[u8; RECEIPT_CODE_ENTROPY_BYTES] {
        &self.entropy
    }

    /// The code as the reporter writes it down: eight groups of four upper-case characters
    /// joined by dashes. Show it once; the returned string is zeroized on drop.
    pub fn to_written_form(&self) -> Zeroizing<String> {
        let hrp = Hrp::parse_unchecked(HUMAN_READABLE_PART);
        let mut full = bech32::encode_upper::<Bech32m>(hrp, &self.entropy[..])
            .expect("16 bytes always fit in a Bech32m string");
        let mut written = Zeroizing::new(String::with_capacity(RECEIPT_CODE_CHARACTERS + 7));
        let data = &full[HUMAN_READABLE_PART.len() + 1..];
        for (index, character) in data.chars().enumerate() {
            if index > 0 && index % GROUP_LENGTH == 0 {
                written.push('-');
            }
            written.push(character);
        }
        full.zeroize();
        written
    }

    /// Parses a code as a person typed it. Forgives case, spaces, dashes and look-alike
    /// characters; otherwise says what is wrong (length, a foreign character, or a typo).
    pub fn parse(typed: &str) -> Result<Self, Error> {
        let mut normalised = Zeroizing::new(String::with_capacity(RECEIPT_CODE_CHARACTERS));
        for character in typed.chars() {
            if character.is_whitespace() || character == '-' || character == '\u{2013}' {
                continue;
            }
            normalised.push(character.to_ascii_lowercase());
        }
        let prefix = "meldpunt1";
        if normalised.len() > RECEIPT_CODE_CHARACTERS && normalised.starts_with(prefix) {
            normalised.drain(..prefix.len());
        }
        let mut canonical = Zeroizing::new(String::with_capacity(
            HUMAN_READABLE_PART.len() + 1 + RECEIPT_CODE_CHARACTERS,
        ));
        canonical.push_str(prefix);
        let mut count = 0;
        for character in normalised.chars() {
            count += 1;
            let character = match character {
                'o' => '0',
                'i' | '1' => 'l',
                'b' => '8',
                other => other,
            };
            if Fe32::from_char(character).is_err() {
                return Err(Error::ReceiptCodeCharacter {
                    position: count,
                    character: if character.is_ascii_graphic() {
                        character
                    } else {
                        '?'
                    },
                });
            }
            canonical.push(character);
        }
        if count != RECEIPT_CODE_CHARACTERS {
            return Err(Error::ReceiptCodeLength {
                expected: RECEIPT_CODE_CHARACTERS,
                found: count,
            });
        }
        let checked = CheckedHrpstring::new::<Bech32m>(&canonical).map_err(|_| {
            Error::ReceiptCodeChecksum {
                suspect_group: locate_typo(&canonical[HUMAN_READABLE_PART.len() + 1..]),
            }
        })?;
        // 26 characters carry 130 bits; the last two must be zero.
        let data = checked.data_part_ascii_no_checksum();
        let last = data
            .last()
            .map(|&byte| Fe32::from_char_unchecked(byte).to_u8());
        if data.len() != 26 || last.is_none_or(|value| value & 0b11 != 0) {
            return Err(Error::ReceiptCodeChecksum {
                suspect_group: locate_typo(&canonical[HUMAN_READABLE_PART.len() + 1..]),
            });
        }
        let mut entropy = Zeroizing::new([0u8; RECEIPT_CODE_ENTROPY_BYTES]);
        let mut length = 0;
        for (slot, byte) in entropy.iter_mut().zip(checked.byte_iter()) {
            *slot = byte;
            length += 1;
        }
        if length != RECEIPT_CODE_ENTROPY_BYTES || checked.byte_iter().len() != length {
            return Err(Error::ReceiptCodeChecksum {
                suspect_group: None,
            });
        }
        Ok(ReceiptCode { entropy })
    }
}

/// Whether 32 code characters (lower case) form a valid code.
fn is_valid(characters: &[u8]) -> bool {
    let mut full = Zeroizing::new(String::with_capacity(41));
    full.push_str(HUMAN_READABLE_PART);
    full.push('1');
    full.extend(characters.iter().map(|&byte| byte as char));
    CheckedHrpstring::new::<Bech32m>(&full).is_ok_and(|checked| {
        checked
            .data_part_ascii_no_checksum()
            .last()
            .is_some_and(|&last| Fe32::from_char_unchecked(last).to_u8() & 0b11 == 0)
    })
}

/// The group (1–8) in which one changed character or one swap of neighbours would make the
/// code valid, if exactly one group can. Tells a person where to look, without guessing the
/// code for them.
fn locate_typo(characters: &str) -> Option<usize> {
    const ALPHABET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    let mut candidate = Zeroizing::new(characters.as_bytes().to_vec());
    if candidate.len() != RECEIPT_CODE_CHARACTERS {
        return None;
    }
    let mut groups = std::collections::BTreeSet::new();
    for position in 0..candidate.len() {
        let original = candidate[position];
        for &replacement in ALPHABET {
            if replacement != original {
                candidate[position] = replacement;
                if is_valid(&candidate) {
                    groups.insert(position / GROUP_LENGTH);
                }
            }
        }
        candidate[position] = original;
    }
    for position in 0..candidate.len() - 1 {
        if candidate[position] != candidate[position + 1] {
            candidate.swap(position, position + 1);
            if is_valid(&candidate) {
                groups.insert(position / GROUP_LENGTH);
                groups.insert((position + 1) / GROUP_LENGTH);
            }
            candidate.swap(position, position + 1);
        }
    }
    match groups.len() {
        1 => groups.first().map(|group| group + 1),
        _ => None,
    }
}

impl fmt::Debug for ReceiptCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ReceiptCode([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn written(entropy: [u8; 16]) -> String {
        ReceiptCode::from_entropy(entropy)
            .to_written_form()
            .to_string()
    }

    #[test]
    fn written_form_is_eight_groups_of_four() {
        let code = ReceiptCode::generate().to_written_form();
        let groups: Vec<&str> = code.split('-').collect();
        assert_eq!(groups.len(), 8);
        assert!(groups.iter().all(|group| group.len() == 4));
        assert!(code
            .chars()
            .all(|c| c == '-' || c.is_ascii_digit() || c.is_ascii_uppercase()));
    }

    #[test]
    fn generated_codes_differ() {
        let first = ReceiptCode::generate();
        let second = ReceiptCode::generate();
        assert_ne!(first.entropy(), second.entropy());
    }

    #[test]
    fn debug_is_redacted() {
        let code = ReceiptCode::generate();
        let debug = format!("{code:?}");
        assert_eq!(debug, "ReceiptCode([redacted])");
        let written = code.to_written_form();
        assert!(!debug.contains(&written[..4]));
    }

    #[test]
    fn forgives_case_spaces_dashes_prefix_and_look_alikes() {
        let entropy = [7u8; 16];
        let code = written(entropy);
        let sloppy = format!("  {}  ", code.to_lowercase().replace('-', " "));
        assert_eq!(ReceiptCode::parse(&sloppy).unwrap().entropy(), &entropy);
        let prefixed = format!("meldpunt1{}", code.replace('-', ""));
        assert_eq!(ReceiptCode::parse(&prefixed).unwrap().entropy(), &entropy);
        let look_alike = code.replace('0', "O").replace('L', "1").replace('8', "B");
        assert_eq!(ReceiptCode::parse(&look_alike).unwrap().entropy(), &entropy);
    }

    #[test]
    fn says_what_is_wrong() {
        let code = written([1u8; 16]);
        assert!(matches!(
            ReceiptCode::parse(&code[..code.len() - 5]),
            Err(Error::ReceiptCodeLength {
                expected: 32,
                found: 28
            })
        ));
        let foreign = format!("{}!{}", &code[..2], &code[3..]);
        assert!(matches!(
            ReceiptCode::parse(&foreign),
            Err(Error::ReceiptCodeCharacter {
                position: 3,
                character: '!'
            })
        ));
        assert!(matches!(
            ReceiptCode::parse(""),
            Err(Error::ReceiptCodeLength { found: 0, .. })
        ));
    }

    #[test]
    fn error_messages_do_not_contain_the_code() {
        let code = written([9u8; 16]);
        let mut typo: Vec<char> = code.chars().collect();
        typo[0] = if typo[0] == 'Q' { 'P' } else { 'Q' };
        let typo: String = typo.into_iter().collect();
        let message = ReceiptCode::parse(&typo).unwrap_err().to_string();
        assert!(!message.contains(&code[5..9]));
    }

    const ALPHABET: &[u8] = b"QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

    #[test]
    fn a_single_typo_is_located_in_its_group() {
        let code = written([0x5au8; 16]);
        for (index, group) in [(0usize, 1usize), (6, 2), (21, 5), (34, 7)] {
            let mut characters: Vec<char> = code.chars().collect();
            if characters[index] == '-' {
                continue;
            }
            characters[index] = if characters[index] == 'Q' { 'P' } else { 'Q' };
            let typed: String = characters.into_iter().collect();
            let error = ReceiptCode::parse(&typed).unwrap_err();
            assert!(
                matches!(error, Error::ReceiptCodeChecksum { suspect_group: Some(found) } if found == group),
                "{typed}: {error:?}"
            );
            assert!(error.to_string().contains(&format!("group {group} of 8")));
        }
    }

    proptest! {
        #[test]
        fn round_trips(entropy in any::<[u8; 16]>()) {
            let parsed = ReceiptCode::parse(&written(entropy)).unwrap();
            prop_assert_eq!(parsed.entropy(), &entropy);
        }

        #[test]
        fn one_changed_character_is_caught(entropy in any::<[u8; 16]>(), position in 0usize..32, replacement in 0usize..32) {
            let mut characters: Vec<u8> = written(entropy).replace('-', "").into_bytes();
            let new = ALPHABET[replacement];
            prop_assume!(characters[position] != new);
            characters[position] = new;
            let typed = String::from_utf8(characters).unwrap();
            prop_assert!(matches!(ReceiptCode::parse(&typed), Err(Error::ReceiptCodeChecksum { .. })), "the typo went unnoticed");
        }

        #[test]
        fn two_swapped_characters_are_caught(entropy in any::<[u8; 16]>(), first in 0usize..32, second in 0usize..32) {
            let mut characters: Vec<u8> = written(entropy).replace('-', "").into_bytes();
            prop_assume!(characters[first] != characters[second]);
            characters.swap(first, second);
            let typed = String::from_utf8(characters).unwrap();
            prop_assert!(matches!(ReceiptCode::parse(&typed), Err(Error::ReceiptCodeChecksum { .. })), "the typo went unnoticed");
        }

        #[test]
        fn two_swapped_groups_are_caught(entropy in any::<[u8; 16]>(), first in 0usize..8, second in 0usize..8) {
            let code = written(entropy);
            let mut groups: Vec<&str> = code.split('-').collect();
            prop_assume!(groups[first] != groups[second]);
            groups.swap(first, second);
            prop_assert!(matches!(ReceiptCode::parse(&groups.join("-")), Err(Error::ReceiptCodeChecksum { .. })), "the typo went unnoticed");
        }

        #[test]
        fn parsing_never_panics(typed in ".{0,80}") {
            let _ = ReceiptCode::parse(&typed);
        }
    }
}
