//! Interoperability with python-paillier (`phe` 1.5) and its `pheutil` command: the JSON key and
//! ciphertext formats, and the plaintext encoding and printing rules of `pheutil`, so that files
//! made by either tool are read by the other.
//!
//! Formats (from `phe/command_line.py`; integers are base64url big-endian without padding):
//! - public key: `{"kty": "DAJ", "alg": "PAI-GN1", "key_ops": ["encrypt"], "n": .., "kid": ..}`
//! - private key: `{"kty": "DAJ", "key_ops": ["decrypt"], "p": .., "q": .., "pub": {..}, "kid": ..}`
//! - ciphertext: `{"v": "<decimal ciphertext>", "e": <base-16 exponent>}`

use rug::Integer;
use serde_json::{Map, Value};

use crate::ciphertext::UncheckedCiphertext;
use crate::encoding::{EncodedNumber, EncryptedNumber};
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};
use crate::serde_int::{MAX_INT_BYTES, from_base64, to_base64};

/// `pheutil` writes every ciphertext with an exponent of at most this.
pub const PHEUTIL_MAX_EXPONENT: i32 = -32;

/// Largest accepted JSON document (a private key of the largest modulus is about 6 KB).
const MAX_JSON_BYTES: usize = 1 << 20;

fn parse_object(what: &'static str, text: &str) -> Result<Map<String, Value>> {
    if text.len() > MAX_JSON_BYTES {
        return Err(Error::malformed(what, "document larger than 1 MiB"));
    }
    match serde_json::from_str::<Value>(text)? {
        Value::Object(map) => Ok(map),
        _ => Err(Error::malformed(what, "expected a JSON object")),
    }
}

fn str_field<'a>(map: &'a Map<String, Value>, what: &'static str, field: &str) -> Result<&'a str> {
    map.get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::malformed(what, format!("missing string field \"{field}\"")))
}

fn require(
    map: &Map<String, Value>,
    what: &'static str,
    field: &str,
    expected: &str,
) -> Result<()> {
    if str_field(map, what, field)? == expected {
        Ok(())
    } else {
        Err(Error::malformed(
            what,
            format!("field \"{field}\" must be \"{expected}\""),
        ))
    }
}

fn public_key_from_map(map: &Map<String, Value>) -> Result<PublicKey> {
    const WHAT: &str = "pheutil public key";
    require(map, WHAT, "kty", "DAJ")?;
    require(map, WHAT, "alg", "PAI-GN1")?;
    PublicKey::from_modulus(from_base64(str_field(map, WHAT, "n")?)?)
}

/// Reads a `pheutil` public key file.
pub fn public_key_from_json(text: &str) -> Result<PublicKey> {
    public_key_from_map(&parse_object("pheutil public key", text)?)
}

/// Reads a `pheutil` private key file, checking that p q equals the embedded public modulus.
pub fn private_key_from_json(text: &str) -> Result<PrivateKey> {
    const WHAT: &str = "pheutil private key";
    let map = parse_object(WHAT, text)?;
    require(&map, WHAT, "kty", "DAJ")?;
    let ops = map
        .get("key_ops")
        .and_then(Value::as_array)
        .ok_or_else(|| Error::malformed(WHAT, "missing \"key_ops\""))?;
    if !ops.iter().any(|op| op.as_str() == Some("decrypt")) {
        return Err(Error::malformed(WHAT, "\"key_ops\" lacks \"decrypt\""));
    }
    let public = match map.get("pub") {
        Some(Value::Object(p)) => public_key_from_map(p)?,
        _ => return Err(Error::malformed(WHAT, "missing object \"pub\"")),
    };
    let p = from_base64(str_field(&map, WHAT, "p")?)?;
    let q = from_base64(str_field(&map, WHAT, "q")?)?;
    PrivateKey::from_public_and_primes(&public, p, q)
}

fn json_string(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// A public key in `pheutil`'s format (Python `json.dumps` spacing), without trailing newline.
pub fn public_key_to_json(pk: &PublicKey, kid: &str) -> String {
    format!(
        r#"{{"kty": "DAJ", "alg": "PAI-GN1", "key_ops": ["encrypt"], "n": {}, "kid": {}}}"#,
        json_string(&to_base64(pk.n())),
        json_string(kid)
    )
}

/// A private key in `pheutil`'s format (p < q), without trailing newline.
pub fn private_key_to_json(sk: &PrivateKey, public_kid: &str, private_kid: &str) -> String {
    format!(
        r#"{{"kty": "DAJ", "key_ops": ["decrypt"], "p": {}, "q": {}, "pub": {}, "kid": {}}}"#,
        json_string(&to_base64(&sk.p)),
        json_string(&to_base64(&sk.q)),
        public_key_to_json(sk.public_key(), public_kid),
        json_string(private_kid)
    )
}

/// Reads a `pheutil` ciphertext file and validates the ciphertext against `pk`.
pub fn encrypted_number_from_json(pk: &PublicKey, text: &str) -> Result<EncryptedNumber> {
    const WHAT: &str = "pheutil ciphertext";
    let map = parse_object(WHAT, text)?;
    let digits = match map.get("v") {
        Some(Value::String(s)) => s.trim().to_owned(),
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        _ => return Err(Error::malformed(WHAT, "missing decimal string \"v\"")),
    };
    // A ciphertext below n^2 of the largest key has at most this many decimal digits.
    if digits.is_empty()
        || digits.len() > MAX_INT_BYTES * 8 * 3 / 10 + 2
        || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(Error::malformed(
            WHAT,
            "\"v\" is not a decimal integer of plausible size",
        ));
    }
    let c =
        Integer::from_str_radix(&digits, 10).map_err(|e| Error::malformed(WHAT, e.to_string()))?;
    let exponent = match map.get("e") {
        Some(Value::Number(n)) => n
            .as_i64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 1e9)
                    .map(|f| f as i64)
            })
            .and_then(|e| i32::try_from(e).ok()),
        _ => None,
    }
    .ok_or_else(|| Error::malformed(WHAT, "missing integer \"e\""))?;
    Ok(EncryptedNumber {
        ciphertext: pk.validate(UncheckedCiphertext(c))?,
        exponent,
    })
}

/// A ciphertext in `pheutil`'s format, as written (no re-randomization here, no newline).
pub fn encrypted_number_to_json(x: &EncryptedNumber) -> String {
    format!(
        r#"{{"v": "{}", "e": {}}}"#,
        x.ciphertext.as_integer().to_string_radix(10),
        x.exponent
    )
}

/// What `pheutil` does before writing a ciphertext: bring the exponent down to at most
/// [`PHEUTIL_MAX_EXPONENT`] and re-randomize.
pub fn prepare_for_pheutil(pk: &PublicKey, x: &EncryptedNumber) -> Result<EncryptedNumber> {
    let x = if x.exponent > PHEUTIL_MAX_EXPONENT {
        pk.decrease_exponent_to(x, PHEUTIL_MAX_EXPONENT)?
    } else {
        x.clone()
    };
    Ok(EncryptedNumber {
        ciphertext: pk.rerandomize(&x.ciphertext)?,
        exponent: x.exponent,
    })
}

/// Parses a plaintext argument as Python's `float()` does for the forms people type: decimal and
/// scientific notation, surrounding spaces, `_` between digits, `inf` and `nan` (refused later).
pub fn parse_plaintext(s: &str) -> Result<f64> {
    let err = || {
        Error::malformed(
            "plaintext",
            format!("could not convert string to float: {s:?}"),
        )
    };
    let t = s.trim();
    let bytes = t.as_bytes();
    // Python accepts `_` only between two digits.
    let mut cleaned = String::with_capacity(t.len());
    for (i, c) in t.char_indices() {
        if c == '_' {
            let digit_at =
                |j: Option<usize>| j.and_then(|j| bytes.get(j)).is_some_and(u8::is_ascii_digit);
            if !(digit_at(i.checked_sub(1)) && digit_at(Some(i + 1))) {
                return Err(err());
            }
        } else {
            cleaned.push(c);
        }
    }
    cleaned.parse::<f64>().map_err(|_| err())
}

/// The text `pheutil decrypt` prints for a decoded number: an integer when the exponent is
/// non-negative, else the float in Python's `repr` format (`42.0`, `1e-10`, `1.5e+16`).
pub fn format_decoded(x: &EncodedNumber) -> Result<String> {
    match x.to_integer() {
        Some(i) => Ok(i.to_string()),
        None => Ok(python_float_repr(x.to_f64()?)),
    }
}

/// Python's `repr(float)`: shortest round-trip digits; scientific when the decimal exponent is
/// below -4 or at least 16.
pub fn python_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let sci = format!("{:e}", x); // shortest digits, e.g. "-1.5e16"
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = mantissa
        .strip_prefix('-')
        .map_or(("", mantissa), |m| ("-", m));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    if x == 0.0 {
        return format!("{sign}0.0");
    }
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let frac = if rest.is_empty() {
            String::new()
        } else {
            format!(".{rest}")
        };
        return format!(
            "{sign}{first}{frac}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let point = exp + 1; // digits before the decimal point
    let body = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
    } else {
        let (int, frac) = digits.split_at(point as usize);
        format!("{int}.{frac}")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_repr_cases() {
        // Expected strings are what CPython 3.11 prints for repr(x).
        let cases = [
            (42.0, "42.0"),
            (-2.5, "-2.5"),
            (1e-10, "1e-10"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (1e16, "1e+16"),
            (1234567890123456.0, "1234567890123456.0"),
            (1.2345678901234568e17, "1.2345678901234568e+17"),
            (1.8915899999999999, "1.8915899999999999"),
            (123456.789, "123456.789"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (9007199254740992.0, "9007199254740992.0"),
            (0.1, "0.1"),
        ];
        for (x, s) in cases {
            assert_eq!(python_float_repr(x), s, "{x:e}");
        }
    }

    #[test]
    fn parses_like_python_float() {
        assert_eq!(parse_plaintext(" 1_000.5 ").unwrap(), 1000.5);
        assert_eq!(parse_plaintext("-1e-10").unwrap(), -1e-10);
        assert!(parse_plaintext("abc").is_err());
        assert!(parse_plaintext("0x10").is_err());
        for bad in ["_1_", "1__0", "1_e5", "_", "1_"] {
            assert!(parse_plaintext(bad).is_err(), "{bad}");
        }
    }
}
