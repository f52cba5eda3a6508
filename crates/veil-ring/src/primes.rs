//! NTT-friendly primes q = 1 (mod 2N) and primitive 2N-th roots of unity.

use crate::error::{Error, Result};
use crate::zq::{MAX_MODULUS_BITS, Modulus};

/// Deterministic Miller-Rabin for 64-bit integers: the first 12 prime bases suffice below
/// 3.3 * 10^24 (Sorenson and Webster, Math. Comp. 2016).
pub fn is_prime(n: u64) -> bool {
    const BASES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    if n < 2 {
        return false;
    }
    for p in BASES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let (mut d, mut s) = (n - 1, 0);
    while d % 2 == 0 {
        d /= 2;
        s += 1;
    }
    let pow = |mut a: u128, mut e: u64| {
        let mut r = 1u128;
        while e > 0 {
            if e & 1 == 1 {
                r = r * a % u128::from(n);
            }
            a = a * a % u128::from(n);
            e >>= 1;
        }
        r
    };
    'bases: for a in BASES {
        let mut x = pow(u128::from(a), d);
        if x == 1 || x == u128::from(n - 1) {
            continue;
        }
        for _ in 1..s {
            x = x * x % u128::from(n);
            if x == u128::from(n - 1) {
                continue 'bases;
            }
        }
        return false;
    }
    true
}

/// The `count` largest primes of exactly `bits` bits with q = 1 (mod 2n), in decreasing order:
/// the usual choice for an RNS modulus chain (as SEAL's `CoeffModulus::Create`).
pub fn ntt_primes(bits: u32, n: usize, count: usize) -> Result<Vec<u64>> {
    let two_n = 2 * n as u64;
    if !(2..=MAX_MODULUS_BITS).contains(&bits)
        || !n.is_power_of_two()
        || u64::BITS - two_n.leading_zeros() >= bits
    {
        return Err(Error::InvalidModulus {
            q: 0,
            reason: "need 2N < 2^bits <= 2^62 with N a power of two",
        });
    }
    let upper = 1u64 << bits;
    let lower = 1u64 << (bits - 1);
    // Largest q = 1 mod 2N below 2^bits, then step down by 2N.
    let mut q = (upper - 1) / two_n * two_n + 1;
    let mut found = Vec::with_capacity(count);
    while found.len() < count && q > lower {
        if is_prime(q) {
            found.push(q);
        }
        q -= two_n;
    }
    if found.len() < count {
        return Err(Error::NotEnoughPrimes {
            bits,
            modulus: two_n,
            wanted: count,
            found: found.len(),
        });
    }
    Ok(found)
}

/// A modulus chain from prime sizes: each size takes the largest primes q = 1 (mod 2n) of that
/// many bits not taken by an earlier entry of the same size (as SEAL's `CoeffModulus::Create`).
pub fn chain_of_sizes(sizes: &[u32], n: usize) -> Result<Vec<u64>> {
    let mut out = Vec::with_capacity(sizes.len());
    for (i, &bits) in sizes.iter().enumerate() {
        let same_before = sizes.iter().take(i).filter(|&&b| b == bits).count();
        let primes = ntt_primes(bits, n, same_before + 1)?;
        out.push(*primes.last().ok_or(Error::NotEnoughPrimes {
            bits,
            modulus: 2 * n as u64,
            wanted: same_before + 1,
            found: primes.len(),
        })?);
    }
    Ok(out)
}

/// The smallest primitive 2n-th root of unity mod q (psi with psi^n = -1), which exists exactly
/// when q is prime and q = 1 (mod 2n). Deterministic, so both parties derive the same NTT.
pub fn primitive_root(q: &Modulus, n: usize) -> Result<u64> {
    let two_n = 2 * n as u64;
    let qv = q.value();
    if !is_prime(qv) || !(qv - 1).is_multiple_of(two_n) {
        return Err(Error::InvalidModulus {
            q: qv,
            reason: "not a prime = 1 mod 2N",
        });
    }
    let cofactor = (qv - 1) / two_n;
    // psi = g^((q-1)/2n) has order dividing 2n; it is primitive iff psi^n = -1.
    let mut psi = None;
    for g in 2..qv {
        let candidate = q.pow(g, cofactor);
        if q.pow(candidate, n as u64) == qv - 1 {
            psi = Some(candidate);
            break;
        }
    }
    let psi = psi.ok_or(Error::InvalidModulus {
        q: qv,
        reason: "no primitive root found",
    })?;
    // All primitive 2n-th roots are psi^k for odd k: take the smallest for a canonical choice.
    let psi_sq = q.mul(psi, psi);
    let (mut best, mut current) = (psi, psi);
    for _ in 0..n {
        current = q.mul(current, psi_sq);
        best = best.min(current);
    }
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn miller_rabin_known_values() {
        let primes = [
            2u64,
            3,
            5,
            97,
            65537,
            2305843009213693951,
            18446744073709551557,
        ];
        let composites = [
            1u64,
            4,
            561,
            3215031751,
            3825123056546413051,
            18446744073709551615,
        ];
        assert!(primes.iter().all(|&p| is_prime(p)));
        assert!(composites.iter().all(|&c| !is_prime(c)));
        // Agrees with trial division on small numbers.
        for n in 0..5000u64 {
            let trial = n >= 2 && (2..n).take_while(|d| d * d <= n).all(|d| n % d != 0);
            assert_eq!(is_prime(n), trial, "{n}");
        }
    }

    #[test]
    fn seal_default_primes_are_found() {
        // SEAL's CoeffModulus::BFVDefault(4096) is {0xffffee001, 0xffffc4001, 0x1ffffe0001}.
        assert_eq!(
            ntt_primes(36, 4096, 2).unwrap(),
            vec![0xffffee001, 0xffffc4001]
        );
        assert_eq!(ntt_primes(37, 4096, 1).unwrap(), vec![0x1ffffe0001]);
        for (bits, n) in [(20, 4096), (43, 8192), (55, 32768), (60, 1024)] {
            for q in ntt_primes(bits, n, 3).unwrap() {
                assert!(is_prime(q) && q % (2 * n as u64) == 1 && 64 - q.leading_zeros() == bits);
            }
        }
        assert!(ntt_primes(63, 4096, 1).is_err());
        assert!(matches!(
            ntt_primes(14, 4096, 1),
            Err(Error::InvalidModulus { .. })
        ));
    }

    #[test]
    fn roots_are_primitive() {
        for (bits, n) in [(36, 4096usize), (50, 1024), (30, 32768)] {
            let q = Modulus::new(ntt_primes(bits, n, 1).unwrap()[0]).unwrap();
            let psi = primitive_root(&q, n).unwrap();
            assert_eq!(q.pow(psi, n as u64), q.value() - 1);
            assert_eq!(q.pow(psi, 2 * n as u64), 1);
        }
        assert!(primitive_root(&Modulus::new(97).unwrap(), 4096).is_err());
    }
}
