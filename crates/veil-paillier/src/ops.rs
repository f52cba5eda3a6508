//! Homomorphic operations on ciphertexts (Paillier 1999, sec. 8: E(a)E(b) = E(a + b), E(a)^k = E(ka)).
//!
//! Results are not re-randomized: call [`PublicKey::rerandomize`] before sending one to a party that
//! saw the inputs (from E(a) and E(a)^k anyone can test guesses of k).

use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::PublicKey;

impl PublicKey {
    /// E(a + b) from E(a) and E(b): one multiplication mod n^2.
    pub fn add(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        self.check_key(a)?;
        self.check_key(b)?;
        let mut c = Integer::from(&a.c * &b.c);
        c %= self.n_squared();
        Ok(Ciphertext::new(c, self))
    }

    /// E(a - b) from E(a) and E(b).
    pub fn sub(&self, a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
        let minus_b = self.neg(b)?;
        self.add(a, &minus_b)
    }

    /// E(-a) from E(a): the inverse mod n^2.
    pub fn neg(&self, a: &Ciphertext) -> Result<Ciphertext> {
        self.check_key(a)?;
        let inv =
            a.c.clone()
                .invert(self.n_squared())
                .map_err(|_| Error::InvalidCiphertext {
                    reason: "not invertible mod n^2",
                })?;
        Ok(Ciphertext::new(inv, self))
    }

    /// E(a + m) from E(a) and a signed plaintext m (|m| <= max_int): multiply by g^m = 1 + m n.
    pub fn add_plain(&self, a: &Ciphertext, m: impl Into<Integer>) -> Result<Ciphertext> {
        self.check_key(a)?;
        let m = self.encode_signed(&m.into())?;
        let mut gm = m * self.n();
        gm += 1u32;
        gm *= &a.c;
        gm %= self.n_squared();
        Ok(Ciphertext::new(gm, self))
    }

    /// E(k a) from E(a) and a signed scalar k: one exponentiation with exponent |k| (inverting
    /// first when k < 0). Variable time in k: do not use where the scalar must stay secret from
    /// someone who can time this call.
    pub fn mul_scalar(&self, a: &Ciphertext, k: impl Into<Integer>) -> Result<Ciphertext> {
        self.check_key(a)?;
        let k = k.into();
        let base = if k < 0 { self.neg(a)?.c } else { a.c.clone() };
        let c =
            base.pow_mod(&k.as_abs(), self.n_squared())
                .map_err(|_| Error::InvalidCiphertext {
                    reason: "not invertible mod n^2",
                })?;
        Ok(Ciphertext::new(c, self))
    }
}
