//! Ciphertexts: validated elements of Z*_{n^2}, their byte and serde encodings.

use core::fmt;

use rug::Integer;
use rug::integer::Order;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::keys::PublicKey;

/// A Paillier ciphertext, known to be a unit of Z_{n^2} for the key that made or validated it.
///
/// Obtained only from encryption, a homomorphic operation, or [`PublicKey::validate`] on
/// untrusted input. It serializes as an [`UncheckedCiphertext`].
#[derive(Clone, PartialEq, Eq)]
pub struct Ciphertext {
    pub(crate) c: Integer,
    pub(crate) key: u64,
}

impl Ciphertext {
    pub(crate) fn new(c: Integer, pk: &PublicKey) -> Self {
        Ciphertext {
            c,
            key: pk.fingerprint(),
        }
    }

    /// The ciphertext as an integer in (0, n^2).
    pub fn as_integer(&self) -> &Integer {
        &self.c
    }

    /// Forgets the validation, e.g. to send the value elsewhere.
    pub fn to_unchecked(&self) -> UncheckedCiphertext {
        UncheckedCiphertext(self.c.clone())
    }
}

impl fmt::Debug for Ciphertext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Ciphertext({} bits)", self.c.significant_bits())
    }
}

impl Serialize for Ciphertext {
    fn serialize<S: serde::Serializer>(&self, s: S) -> core::result::Result<S::Ok, S::Error> {
        crate::serde_int::serialize(&self.c, s)
    }
}

/// A ciphertext as received from elsewhere, not yet checked against a key. Turn it into a
/// [`Ciphertext`] with [`PublicKey::validate`].
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UncheckedCiphertext(#[serde(with = "crate::serde_int")] pub Integer);

impl PublicKey {
    /// Checks that `c` is a unit of Z_{n^2}: 0 < c < n^2 and gcd(c, n) = 1. A value sharing a
    /// factor with n would reveal it, and operations on it would not be encryptions.
    pub fn validate(&self, c: UncheckedCiphertext) -> Result<Ciphertext> {
        let c = c.0;
        if c <= 0 || c >= *self.n_squared() {
            return Err(Error::InvalidCiphertext {
                reason: "not in the range (0, n^2)",
            });
        }
        if Integer::from(c.gcd_ref(self.n())) != 1 {
            return Err(Error::InvalidCiphertext {
                reason: "shares a factor with n",
            });
        }
        Ok(Ciphertext::new(c, self))
    }

    /// Fixed-width big-endian bytes of a ciphertext ([`Self::ciphertext_len`] bytes).
    pub fn ciphertext_to_bytes(&self, ct: &Ciphertext) -> Result<Vec<u8>> {
        self.check_key(ct)?;
        let digits = ct.c.to_digits::<u8>(Order::Msf);
        let mut out = vec![0u8; self.ciphertext_len()];
        let start = out.len().saturating_sub(digits.len());
        out.get_mut(start..)
            .ok_or(Error::InvalidCiphertext {
                reason: "longer than n^2",
            })?
            .copy_from_slice(&digits);
        Ok(out)
    }

    /// Parses and validates the fixed-width byte encoding of [`Self::ciphertext_to_bytes`].
    pub fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Ciphertext> {
        if bytes.len() != self.ciphertext_len() {
            return Err(Error::malformed(
                "ciphertext bytes",
                format!(
                    "expected {} bytes, got {}",
                    self.ciphertext_len(),
                    bytes.len()
                ),
            ));
        }
        self.validate(UncheckedCiphertext(Integer::from_digits(bytes, Order::Msf)))
    }

    pub(crate) fn check_key(&self, ct: &Ciphertext) -> Result<()> {
        if ct.key == self.fingerprint() {
            Ok(())
        } else {
            Err(Error::KeyMismatch)
        }
    }
}
