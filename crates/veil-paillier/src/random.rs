//! Uniform sampling of big integers from a cryptographic RNG.

use rand::{CryptoRng, RngCore};
use rug::Integer;
use rug::integer::Order;

/// Uniform integer in `[0, 2^bits)`.
pub(crate) fn random_bits<R: RngCore + CryptoRng + ?Sized>(bits: u32, rng: &mut R) -> Integer {
    let mut bytes = vec![0u8; bits.div_ceil(8) as usize];
    rng.fill_bytes(&mut bytes);
    let mut x = Integer::from_digits(&bytes, Order::Lsf);
    zeroize::Zeroize::zeroize(&mut bytes);
    x.keep_bits_mut(bits);
    x
}

/// Uniform integer in `[1, bound)` by rejection sampling (expected fewer than two draws).
pub(crate) fn random_nonzero_below<R: RngCore + CryptoRng + ?Sized>(
    bound: &Integer,
    rng: &mut R,
) -> Integer {
    let bits = bound.significant_bits();
    loop {
        let x = random_bits(bits, rng);
        if x != 0 && x < *bound {
            return x;
        }
    }
}

/// Uniform unit of Z_n (coprime to `n`).
pub(crate) fn random_unit<R: RngCore + CryptoRng + ?Sized>(n: &Integer, rng: &mut R) -> Integer {
    loop {
        let r = random_nonzero_below(n, rng);
        if Integer::from(r.gcd_ref(n)) == 1 {
            return r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    #[test]
    fn stays_in_range_and_covers_it() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let bound = Integer::from(10);
        let mut seen = [false; 10];
        for _ in 0..500 {
            let x = random_nonzero_below(&bound, &mut rng);
            assert!((1..10).contains(&x));
            seen[x.to_usize().unwrap()] = true;
        }
        assert!(seen[1..].iter().all(|&s| s), "every value in [1, 10) drawn");
    }
}
