//! Length padding applied inside the encryption.
//!
//! Every sealed object's plaintext is its content followed by zero bytes up to
//! [`padded_length`] of the content length: Padmé (Nikitin et al., "Reducing Metadata
//! Leakage from Encrypted Files and Communication with PURBs", PETS 2019) applied to the
//! content length raised to a floor of [`PADDING_FLOOR`] bytes. Padmé leaks O(log log L)
//! bits of the length and costs at most 11.1 % overhead (less for larger objects: at most
//! 3.1 % above 1 MiB, 0.8 % above 1 GiB, ...); the floor makes every short message look alike.
//!
//! This module is pure arithmetic; it must never see content.

/// Smallest padded plaintext: every object shorter than this is padded to exactly it.
pub const PADDING_FLOOR: u64 = 4096;

/// Largest content length that can be padded (1 TiB); larger objects are refused.
pub const MAXIMUM_CONTENT_LENGTH: u64 = 1 << 40;

/// Padmé: round `length` up so that only its top O(log log L) bits remain.
fn padme(length: u64) -> u64 {
    if length < 2 {
        return length;
    }
    let exponent = 63 - u64::from(length.leading_zeros()); // floor(log2 L)
    let exponent_bits = 64 - u64::from(exponent.leading_zeros()); // floor(log2 E) + 1
    let low_bits = exponent - exponent_bits;
    let mask = (1u64 << low_bits) - 1;
    (length + mask) & !mask
}

/// The plaintext length a content of `content_length` bytes is padded to, or `None` above
/// [`MAXIMUM_CONTENT_LENGTH`].
pub fn padded_length(content_length: u64) -> Option<u64> {
    (content_length <= MAXIMUM_CONTENT_LENGTH).then(|| padme(content_length.max(PADDING_FLOOR)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(padded_length(0), Some(4096));
        assert_eq!(padded_length(4096), Some(4096));
        assert_eq!(padded_length(4097), Some(4352));
        assert_eq!(padded_length(1 << 20), Some(1 << 20));
        assert_eq!(padded_length((1 << 20) + 1), Some((1 << 20) + (1 << 15)));
        assert_eq!(padded_length(100 << 20), Some(100 << 20));
        assert_eq!(
            padded_length(MAXIMUM_CONTENT_LENGTH),
            Some(MAXIMUM_CONTENT_LENGTH)
        );
        assert_eq!(padded_length(MAXIMUM_CONTENT_LENGTH + 1), None);
    }

    proptest! {
        #[test]
        fn never_shorter_and_bounded_overhead(length in 0u64..=MAXIMUM_CONTENT_LENGTH) {
            let padded = padded_length(length).unwrap();
            prop_assert!(padded >= length);
            prop_assert!(padded >= PADDING_FLOOR);
            if length > PADDING_FLOOR {
                prop_assert!((padded - length) as f64 <= 0.1112 * length as f64);
            }
        }

        #[test]
        fn monotonic_and_idempotent(first in 0u64..(1 << 34), second in 0u64..(1 << 34)) {
            let (small, large) = (first.min(second), first.max(second));
            prop_assert!(padded_length(small) <= padded_length(large));
            let padded = padded_length(first).unwrap();
            prop_assert_eq!(padded_length(padded), Some(padded));
        }
    }
}
