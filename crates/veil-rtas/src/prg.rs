//! Seeds shared by pairs of parties and the pseudorandom streams derived from them.
//!
//! Every pair of parties shares one 32-byte [`Seed`]; each use (triples, re-sharing, permutations,
//! input masks) reads its own ChaCha12 stream of that seed ([`Stream`]), so that both ends of a
//! pair draw the same words in the same order without any message.

use core::fmt;

use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{CryptoRng, Rng, RngCore, SeedableRng};
use rand_chacha::ChaCha12Rng;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// A 256-bit PRG seed known to exactly two parties. Wiped on drop, printed as `<redacted>`,
/// compared in constant time ([`subtle::ConstantTimeEq`]; `==` uses it too).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct Seed([u8; 32]);

impl subtle::ConstantTimeEq for Seed {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for Seed {
    fn eq(&self, other: &Self) -> bool {
        bool::from(subtle::ConstantTimeEq::ct_eq(self, other))
    }
}

impl Eq for Seed {}

impl fmt::Debug for Seed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Seed(<redacted>)")
    }
}

/// The independent uses of a pairwise seed; each selects its own ChaCha stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Stream {
    /// Triple shares generated locally by P0 (seed with P2) or P1 (seed with P2).
    Triples,
    /// P0's share of a value re-shared by P2 after an element-wise function (seed with P2).
    Reshare,
    /// Permutations agreed by P0 and P1 (seed between them).
    Permutation,
    /// Masks that turn a value known to P0 or P1 into shares without a message.
    Input,
}

impl Stream {
    fn id(self) -> u64 {
        match self {
            Stream::Triples => 1,
            Stream::Reshare => 2,
            Stream::Permutation => 3,
            Stream::Input => 4,
        }
    }
}

impl Seed {
    /// A fresh seed from a cryptographic RNG.
    pub fn random<R: CryptoRng + RngCore + ?Sized>(rng: &mut R) -> Self {
        let mut bytes = [0_u8; 32];
        rng.fill_bytes(&mut bytes);
        Seed(bytes)
    }

    /// A seed from its bytes (as received from the peer during setup).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Seed(bytes)
    }

    /// The seed bytes (to send to the one peer that shares it).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The pseudorandom generator of one stream of this seed.
    pub fn stream(&self, stream: Stream) -> Prg {
        let mut rng = ChaCha12Rng::from_seed(self.0);
        rng.set_stream(stream.id());
        Prg(rng)
    }
}

/// A deterministic generator (ChaCha12) derived from a [`Seed`]; printed as `<redacted>`.
///
/// The ChaCha state itself is not wiped on drop (`rand_chacha` offers no way to do it without
/// `unsafe`); the seed it came from is.
pub struct Prg(ChaCha12Rng);

impl fmt::Debug for Prg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Prg(<redacted>)")
    }
}

impl RngCore for Prg {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }
    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst);
    }
}

impl CryptoRng for Prg {}

/// A `rows x cols` matrix of uniform ring words.
pub(crate) fn random_matrix<R: Rng + ?Sized>(rng: &mut R, rows: usize, cols: usize) -> Array2<u64> {
    let mut words = vec![0_u64; rows * cols];
    rng.fill(&mut words[..]);
    Array2::from_shape_vec((rows, cols), words).unwrap_or_else(|_| Array2::zeros((rows, cols)))
}

/// A uniformly random permutation of 0..n (Fisher-Yates), as the list of source positions:
/// the permuted vector is `y[i] = x[perm[i]]`.
pub fn random_permutation<R: Rng + ?Sized>(rng: &mut R, n: usize) -> Vec<usize> {
    let mut perm: Vec<usize> = (0..n).collect();
    perm.shuffle(rng);
    perm
}

/// The inverse of a permutation given as source positions.
pub fn invert_permutation(perm: &[usize]) -> Vec<usize> {
    let mut inv = vec![0; perm.len()];
    for (i, &p) in perm.iter().enumerate() {
        if let Some(slot) = inv.get_mut(p) {
            *slot = i;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_distinct() {
        let seed = Seed::from_bytes([7; 32]);
        let a = random_matrix(&mut seed.stream(Stream::Triples), 3, 4);
        let b = random_matrix(&mut seed.stream(Stream::Triples), 3, 4);
        let c = random_matrix(&mut seed.stream(Stream::Reshare), 3, 4);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(format!("{seed:?}"), "Seed(<redacted>)");
    }

    #[test]
    fn seeds_compare_in_constant_time() {
        use subtle::ConstantTimeEq;
        let a = Seed::from_bytes([7; 32]);
        let mut last = [7; 32];
        last[31] = 8;
        let b = Seed::from_bytes(last);
        assert!(bool::from(a.ct_eq(&a.clone())));
        assert!(!bool::from(a.ct_eq(&b)));
        assert!(a == a.clone() && a != b);
    }

    #[test]
    fn permutation_and_inverse() {
        let perm = random_permutation(
            &mut Seed::from_bytes([1; 32]).stream(Stream::Permutation),
            50,
        );
        let inv = invert_permutation(&perm);
        for i in 0..50 {
            assert_eq!(perm[inv[i]], i);
        }
        let mut sorted = perm.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}
