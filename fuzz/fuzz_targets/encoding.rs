//! Fixed-point encoding of reals (`EncodedNumber`) and the `pheutil` plaintext helpers, with
//! arbitrary f64 bit patterns (NaN, infinities, subnormals, -0.0) and arbitrary i32 exponents.
//!
//! Input layout (short inputs are zero-padded): bytes 0..8 the f64 bits (little-endian),
//! 8..12 an exponent, 12..16 a second exponent (both i32 little-endian), the rest a plaintext
//! string (lossy UTF-8) for `phe::parse_plaintext`.
//!
//! Besides "no panic, no huge allocation", only documented properties are checked:
//! - `from_f64_exact(x)` encodes x exactly, so `to_f64` gives x back;
//! - `from_f64(x, e)` rounds x * 16^-e to an integer, which is exact when e is at most the exponent
//!   `from_f64_exact` picks, so `to_f64` then gives x back;
//! - `decrease_exponent_to` keeps the value, so `to_f64` (correctly rounded) gives the same result;
//! - `python_float_repr` prints Python's `repr`, whose digits read back to the same float.

#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_paillier::{EncodedNumber, phe};

fuzz_target!(|data: &[u8]| {
    let mut head = [0u8; 16];
    let n = data.len().min(16);
    head[..n].copy_from_slice(&data[..n]);
    let x = f64::from_bits(u64::from_le_bytes(
        head[0..8].try_into().unwrap_or_default(),
    ));
    let exponent = i32::from_le_bytes(head[8..12].try_into().unwrap_or_default());
    let new_exponent = i32::from_le_bytes(head[12..16].try_into().unwrap_or_default());
    let text = String::from_utf8_lossy(&data[n..]);

    exercise(x, exponent, new_exponent);
    if let Ok(v) = phe::parse_plaintext(&text) {
        exercise(v, exponent, new_exponent);
    }
});

fn exercise(x: f64, exponent: i32, new_exponent: i32) {
    let repr = phe::python_float_repr(x);
    let parsed = phe::parse_plaintext(&repr)
        .unwrap_or_else(|e| panic!("repr {repr:?} of {x:e} does not parse: {e}"));
    if x.is_nan() {
        assert!(parsed.is_nan(), "repr {repr:?} of NaN");
    } else {
        assert_eq!(
            parsed.to_bits(),
            x.to_bits(),
            "repr {repr:?} of {x:e} reads back as {parsed:e}"
        );
    }

    let exact = EncodedNumber::from_f64_exact(x);
    assert_eq!(
        exact.is_ok(),
        x.is_finite(),
        "from_f64_exact({x:e}) = {exact:?}"
    );
    if let Ok(enc) = &exact {
        assert_eq!(
            enc.to_f64().ok(),
            Some(x),
            "from_f64_exact({x:e}) = {enc:?}"
        );
        decoded(enc);
        lowered(enc, new_exponent);
    }

    let Ok(enc) = EncodedNumber::from_f64(x, exponent) else {
        return;
    };
    assert!(x.is_finite());
    assert_eq!(enc.exponent, exponent);
    if let Ok(exact) = &exact
        && exponent <= exact.exponent
    {
        assert_eq!(
            enc.to_f64().ok(),
            Some(x),
            "from_f64({x:e}, {exponent}) = {enc:?}"
        );
    }
    decoded(&enc);
    lowered(&enc, new_exponent);
}

/// `decrease_exponent_to` keeps the value: the correctly rounded f64 is the same.
fn lowered(enc: &EncodedNumber, new_exponent: i32) {
    let Ok(lower) = enc.decrease_exponent_to(new_exponent) else {
        return;
    };
    assert_eq!(lower.exponent, new_exponent);
    let before = enc.to_f64().ok().map(f64::to_bits);
    let after = lower.to_f64().ok().map(f64::to_bits);
    assert_eq!(before, after, "{enc:?} lowered to exponent {new_exponent}");
    decoded(&lower);
}

fn decoded(enc: &EncodedNumber) {
    let _ = enc.to_integer();
    let _ = phe::format_decoded(enc);
}
