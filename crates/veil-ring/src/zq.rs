//! Arithmetic modulo a word-size modulus q < 2^62: Barrett reduction of 128-bit products and
//! Shoup multiplication by precomputed constants (Harvey, "Faster arithmetic for number-theoretic
//! transforms", J. Symb. Comp. 2014, sec. 2), with lazy variants that return values in [0, 2q).

use crate::error::{Error, Result};

/// Largest modulus size: 4q must fit in a u64 for the lazy NTT butterflies.
pub const MAX_MODULUS_BITS: u32 = 62;

/// A modulus q in [2, 2^62) with its Barrett constant floor(2^128 / q).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    q: u64,
    /// floor(2^128 / q), split into high and low words.
    ratio_hi: u64,
    ratio_lo: u64,
}

#[inline(always)]
fn mul_hi(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) >> 64) as u64
}

impl Modulus {
    /// A modulus q with 2 <= q < 2^62.
    pub fn new(q: u64) -> Result<Self> {
        if q < 2 || q >> MAX_MODULUS_BITS != 0 {
            return Err(Error::InvalidModulus {
                q,
                reason: "need 2 <= q < 2^62",
            });
        }
        // floor(2^128 / q) = floor((2^128 - 1) / q) unless q divides 2^128, impossible for q odd;
        // for even q the off-by-one only loosens the Barrett bound, which the final subtractions absorb.
        let ratio = u128::MAX / u128::from(q);
        Ok(Modulus {
            q,
            ratio_hi: (ratio >> 64) as u64,
            ratio_lo: ratio as u64,
        })
    }

    /// The value of q.
    #[inline(always)]
    pub fn value(&self) -> u64 {
        self.q
    }

    /// Size of q in bits.
    pub fn bits(&self) -> u32 {
        64 - self.q.leading_zeros()
    }

    /// x mod q for any 128-bit x (Barrett with the 128-bit ratio; the estimate of the quotient is
    /// short by at most 2, hence two conditional subtractions).
    #[inline(always)]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let (x_lo, x_hi) = (x as u64, (x >> 64) as u64);
        // floor(x * ratio / 2^128), dropping the low x_lo * ratio_lo carry.
        let carry = mul_hi(x_lo, self.ratio_lo);
        let mid = u128::from(x_lo) * u128::from(self.ratio_hi) + u128::from(carry);
        let mid2 = u128::from(x_hi) * u128::from(self.ratio_lo) + (mid & u128::from(u64::MAX));
        let quotient = x_hi
            .wrapping_mul(self.ratio_hi)
            .wrapping_add((mid >> 64) as u64)
            .wrapping_add((mid2 >> 64) as u64);
        let mut r = (x as u64).wrapping_sub(quotient.wrapping_mul(self.q));
        if r >= self.q {
            r -= self.q;
        }
        if r >= self.q {
            r -= self.q;
        }
        r
    }

    /// x mod q for a 64-bit x.
    #[inline(always)]
    pub fn reduce(&self, x: u64) -> u64 {
        self.reduce_u128(u128::from(x))
    }

    /// A signed integer mod q, in [0, q).
    #[inline(always)]
    pub fn reduce_i64(&self, x: i64) -> u64 {
        let r = self.reduce(x.unsigned_abs());
        if x < 0 && r != 0 { self.q - r } else { r }
    }

    /// The centered representative of x in (-q/2, q/2].
    #[inline(always)]
    pub fn center(&self, x: u64) -> i64 {
        if x > self.q / 2 {
            x as i64 - self.q as i64
        } else {
            x as i64
        }
    }

    /// (a + b) mod q for a, b < q.
    #[inline(always)]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.q { s - self.q } else { s }
    }

    /// (a - b) mod q for a, b < q.
    #[inline(always)]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + self.q - b }
    }

    /// -a mod q for a < q.
    #[inline(always)]
    pub fn neg(&self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.q - a }
    }

    /// a b mod q for a, b < q (Barrett).
    #[inline(always)]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(u128::from(a) * u128::from(b))
    }

    /// Shoup's precomputed companion of w < q: floor(w 2^64 / q).
    #[inline(always)]
    pub fn shoup(&self, w: u64) -> u64 {
        ((u128::from(w) << 64) / u128::from(self.q)) as u64
    }

    /// x w mod q in [0, 2q) given w' = `self.shoup(w)`, for any x < 2^64 (Harvey 2014, Alg. 2).
    #[inline(always)]
    pub fn mul_shoup_lazy(&self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let q_est = mul_hi(x, w_shoup);
        x.wrapping_mul(w).wrapping_sub(q_est.wrapping_mul(self.q))
    }

    /// x w mod q in [0, q) given w' = `self.shoup(w)`.
    #[inline(always)]
    pub fn mul_shoup(&self, x: u64, w: u64, w_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(x, w, w_shoup);
        if r >= self.q { r - self.q } else { r }
    }

    /// a^e mod q (square and multiply; variable time in e, which is public wherever it is used).
    pub fn pow(&self, mut a: u64, mut e: u64) -> u64 {
        let mut r = if self.q == 1 { 0 } else { 1 };
        a = self.reduce(a);
        while e > 0 {
            if e & 1 == 1 {
                r = self.mul(r, a);
            }
            a = self.mul(a, a);
            e >>= 1;
        }
        r
    }

    /// a^-1 mod q, or `None` when gcd(a, q) != 1 (extended Euclid).
    pub fn inv(&self, a: u64) -> Option<u64> {
        let (mut r0, mut r1) = (i128::from(self.q), i128::from(self.reduce(a)));
        let (mut t0, mut t1) = (0i128, 1i128);
        while r1 != 0 {
            let k = r0 / r1;
            (r0, r1) = (r1, r0 - k * r1);
            (t0, t1) = (t1, t0 - k * t1);
        }
        if r0 != 1 {
            return None;
        }
        Some(t0.rem_euclid(i128::from(self.q)) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn modulus() -> impl Strategy<Value = Modulus> {
        (2u64..(1 << 62)).prop_map(|q| Modulus::new(q).unwrap())
    }

    proptest! {
        #[test]
        fn barrett_matches_u128_remainder(m in modulus(), x in any::<u128>()) {
            prop_assert_eq!(m.reduce_u128(x), (x % u128::from(m.value())) as u64);
        }

        #[test]
        fn mul_add_sub_neg_match(m in modulus(), a in any::<u64>(), b in any::<u64>()) {
            let q = u128::from(m.value());
            let (a, b) = (m.reduce(a), m.reduce(b));
            prop_assert_eq!(m.mul(a, b), (u128::from(a) * u128::from(b) % q) as u64);
            prop_assert_eq!(m.add(a, b), ((u128::from(a) + u128::from(b)) % q) as u64);
            prop_assert_eq!(m.add(m.sub(a, b), b), a);
            prop_assert_eq!(m.add(m.neg(a), a), 0);
        }

        #[test]
        fn shoup_matches(m in modulus(), x in any::<u64>(), w in any::<u64>()) {
            let w = m.reduce(w);
            let ws = m.shoup(w);
            let expected = (u128::from(x) * u128::from(w) % u128::from(m.value())) as u64;
            let lazy = m.mul_shoup_lazy(x, w, ws);
            prop_assert!(lazy < 2 * m.value());
            prop_assert_eq!(lazy % m.value(), expected);
            prop_assert_eq!(m.mul_shoup(x, w, ws), expected);
        }

        #[test]
        fn inverse_and_signed(m in modulus(), a in any::<u64>(), s in any::<i64>()) {
            if let Some(inv) = m.inv(a) {
                prop_assert_eq!(m.mul(m.reduce(a), inv), 1 % m.value());
            }
            let r = m.reduce_i64(s);
            prop_assert_eq!(i128::from(r), i128::from(s).rem_euclid(i128::from(m.value())));
            prop_assert_eq!(m.reduce_i64(m.center(r)), r);
        }
    }

    #[test]
    fn rejects_bad_moduli() {
        assert!(Modulus::new(0).is_err());
        assert!(Modulus::new(1).is_err());
        assert!(Modulus::new(1 << 62).is_err());
        assert_eq!(Modulus::new(97).unwrap().pow(5, 96), 1);
    }
}
