//! Serde for big integers as base64url (no padding) big-endian bytes, the convention of
//! python-paillier's key files (`phe.util.int_to_base64`), with bounded length on input.

use base64::Engine;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::{DecodePaddingMode, general_purpose};
use rug::Integer;
use rug::integer::Order;
use serde::{Deserialize, Deserializer, Serializer};

use crate::error::{Error, Result};
use crate::keys::MAX_MODULUS_BITS;

/// base64url that accepts input with or without `=` padding.
const URL_SAFE_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Longest integer accepted from outside, in bytes: a ciphertext of the largest key.
pub(crate) const MAX_INT_BYTES: usize = (2 * MAX_MODULUS_BITS as usize) / 8;

/// base64url of the minimal big-endian bytes of a non-negative integer (`0` encodes as `AA`).
pub(crate) fn to_base64(x: &Integer) -> String {
    let mut digits = x.to_digits::<u8>(Order::Msf);
    if digits.is_empty() {
        digits.push(0);
    }
    general_purpose::URL_SAFE_NO_PAD.encode(digits)
}

/// Parses base64url big-endian bytes into a non-negative integer, refusing oversized input.
pub(crate) fn from_base64(s: &str) -> Result<Integer> {
    if s.len() > MAX_INT_BYTES.div_ceil(3) * 4 {
        return Err(Error::malformed(
            "base64 integer",
            "longer than the largest supported value",
        ));
    }
    let bytes = URL_SAFE_LENIENT
        .decode(s.trim())
        .map_err(|e| Error::malformed("base64 integer", e.to_string()))?;
    Ok(Integer::from_digits(&bytes, Order::Msf))
}

pub(crate) fn serialize<S: Serializer>(x: &Integer, s: S) -> core::result::Result<S::Ok, S::Error> {
    if *x < 0 {
        return Err(serde::ser::Error::custom(
            "negative integers are not serialized",
        ));
    }
    s.serialize_str(&to_base64(x))
}

pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
    d: D,
) -> core::result::Result<Integer, D::Error> {
    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
    from_base64(&s).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_phe_convention() {
        // phe.util.int_to_base64(65537) == 'AQAB'
        assert_eq!(to_base64(&Integer::from(65537)), "AQAB");
        assert_eq!(from_base64("AQAB").unwrap(), 65537);
        assert_eq!(from_base64("AQA=").unwrap(), 256);
        assert_eq!(from_base64("AQA").unwrap(), 256);
        assert!(from_base64("A*AB").is_err());
    }
}
