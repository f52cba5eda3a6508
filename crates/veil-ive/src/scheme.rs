//! What IVE needs from a homomorphic encryption scheme: a small trait for the server side
//! ([`IveScheme`]) and one for the client side ([`IveClient`]). The lookup, the power vector, the
//! one-hot baseline and the wire formats are written once against these traits; `veil-bfv` is the
//! first backend ([`crate::bfv`]), a CKKS backend implements the same traits.

use crate::error::Result;

/// Server-side operations on ciphertexts whose slots hold one value each (SIMD).
///
/// Products follow the scheme's own rules: [`IveScheme::mul`] may leave an unrelinearized
/// ciphertext, which the caller relinearizes only when it is multiplied again or sent.
pub trait IveScheme: CiphertextCodec + Sync {
    /// A plaintext scalar (an integer mod t for BFV, a real for CKKS), the same in every slot.
    type Scalar: Copy + Send + Sync + core::fmt::Debug + PartialEq;

    /// The scalar equal to the integer `v`.
    fn scalar(&self, v: i64) -> Self::Scalar;
    /// a * b (slot-wise), possibly not relinearized.
    fn mul(&self, a: &Self::Ciphertext, b: &Self::Ciphertext) -> Result<Self::Ciphertext>;
    /// a^2 (slot-wise); the default is `mul(a, a)`.
    fn square(&self, a: &Self::Ciphertext) -> Result<Self::Ciphertext> {
        self.mul(a, a)
    }
    /// Back to the size of a fresh ciphertext (a no-op when already there).
    fn relinearize(&self, a: &Self::Ciphertext) -> Result<Self::Ciphertext>;
    /// a + b.
    fn add(&self, a: &Self::Ciphertext, b: &Self::Ciphertext) -> Result<Self::Ciphertext>;
    /// a - b.
    fn sub(&self, a: &Self::Ciphertext, b: &Self::Ciphertext) -> Result<Self::Ciphertext>;
    /// c * a for a scalar c.
    fn mul_scalar(&self, a: &Self::Ciphertext, c: Self::Scalar) -> Result<Self::Ciphertext>;
    /// a + c for a scalar c.
    fn add_scalar(&self, a: &Self::Ciphertext, c: Self::Scalar) -> Result<Self::Ciphertext>;
    /// constant + sum_k c_k a_k; the terms may have different sizes and levels. The default
    /// composes [`IveScheme::mul_scalar`] and [`IveScheme::add`]; backends may fuse it.
    fn linear_combination(
        &self,
        terms: &[(&Self::Ciphertext, Self::Scalar)],
        constant: Self::Scalar,
    ) -> Result<Self::Ciphertext> {
        let mut acc: Option<Self::Ciphertext> = None;
        for &(ct, c) in terms {
            let term = self.mul_scalar(ct, c)?;
            acc = Some(match acc {
                None => term,
                Some(a) => self.add(&a, &term)?,
            });
        }
        match acc {
            Some(a) => self.add_scalar(&a, constant),
            None => Err(crate::Error::InvalidConfig {
                reason: "a linear combination needs at least one ciphertext",
            }),
        }
    }
    /// Rotates the slots left by `step` (within each row for BFV); needs the matching keys.
    fn rotate(&self, a: &Self::Ciphertext, step: i64) -> Result<Self::Ciphertext>;
    /// a times a plaintext vector, slot-wise (missing slots are zero).
    fn mul_slots(&self, a: &Self::Ciphertext, values: &[Self::Scalar]) -> Result<Self::Ciphertext>;
    /// Refuses a circuit of `depth` products that the parameters cannot carry (default: accept).
    fn check_depth(&self, depth: u32) -> Result<()> {
        let _ = depth;
        Ok(())
    }
    /// Modulus management after a ciphertext reached its place in a circuit that still has
    /// `remaining_depth` products to go (BFV: modulus switching down to the smallest modulus that
    /// leaves room for them; CKKS: rescaling).
    fn settle(&self, a: Self::Ciphertext, remaining_depth: u32) -> Result<Self::Ciphertext>;
    /// Makes a computed result safe to send: relinearized, its noise made independent of the
    /// server's data (circuit privacy), at the smallest modulus.
    fn finish_reply(&self, a: &Self::Ciphertext) -> Result<Self::Ciphertext>;
}

/// Client-side operations: encrypt one scalar per slot, decrypt them back.
pub trait IveClient: CiphertextCodec {
    /// The scalar type, shared with the server's [`IveScheme`].
    type Scalar;

    /// Encrypts `values` (one per slot, at most the slot count; missing slots are zero).
    fn encrypt(&self, values: &[Self::Scalar]) -> Result<Self::Ciphertext>;
    /// Encrypts `values` in the most compact form the scheme has, as bytes for a query.
    fn encrypt_compact(&self, values: &[Self::Scalar]) -> Result<Vec<u8>>;
    /// Decrypts every slot.
    fn decrypt(&self, ct: &Self::Ciphertext) -> Result<Vec<Self::Scalar>>;
}

/// Ciphertexts to and from bytes, shared by both sides (each validates what the other sends).
pub trait CiphertextCodec {
    /// A ciphertext.
    type Ciphertext: Clone + Send + Sync;

    /// Number of slots of one ciphertext (indices per query ciphertext).
    fn slots(&self) -> usize;
    /// Serializes a ciphertext.
    fn ciphertext_to_bytes(&self, a: &Self::Ciphertext) -> Vec<u8>;
    /// A ciphertext from untrusted bytes (validated against the parameters).
    fn ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Self::Ciphertext>;
    /// A query ciphertext from untrusted bytes, in the compact form of
    /// [`IveClient::encrypt_compact`] (BFV: a seeded symmetric ciphertext, half the size).
    fn query_ciphertext_from_bytes(&self, bytes: &[u8]) -> Result<Self::Ciphertext> {
        self.ciphertext_from_bytes(bytes)
    }
    /// The largest serialized ciphertext these parameters produce (bounds what a peer announces).
    fn max_ciphertext_bytes(&self) -> usize;
}
