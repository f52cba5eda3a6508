//! Negacyclic number-theoretic transform over `Z_q[X]/(X^N + 1)` for N = 2^10 .. 2^15.
//!
//! Forward: Cooley-Tukey butterflies on powers of a primitive 2N-th root psi stored in bit-reversed
//! order, which merges the negacyclic twist into the transform (Poeppelmann, Oder, Gueneysu,
//! "High-performance ideal lattice-based cryptography on 8-bit ATxmega microcontrollers", 2015,
//! Alg. 1); inverse: Gentleman-Sande butterflies, then a scaling by N^-1. Butterflies use Shoup
//! multiplication and Harvey's lazy reduction (Harvey 2014, Alg. 4 and 3): values stay in [0, 4q)
//! through the forward transform and [0, 2q) through the inverse, reduced to [0, q) once at the end.
//! The output of the forward transform is in bit-reversed order; point-wise products do not care.
//!
//! Each operator runs on the fastest [`Isa`] this CPU has for its prime (IFMA52 for q < 2^50,
//! 64-bit AVX-512 lanes otherwise): the same butterflies and bounds, eight at a time, with
//! the last three forward stages (first three inverse ones) done inside registers by lane
//! permutations, and the scaling by N^-1 folded into the last inverse stage. Every output word
//! equals the scalar transform's (tested for each supported instruction set).

use crate::error::{Error, Result};
use crate::isa::Isa;
use crate::primes::primitive_root;
use crate::zq::Modulus;

/// Smallest supported degree.
pub const MIN_DEGREE: usize = 1 << 10;
/// Largest supported degree.
pub const MAX_DEGREE: usize = 1 << 16;

/// Precomputed tables for the NTT of degree `n` modulo one prime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NttOperator {
    q: Modulus,
    n: usize,
    /// psi^bitrev(i) and Shoup companions, for i in 0..n.
    psi_powers: Vec<u64>,
    psi_shoup: Vec<u64>,
    /// psi^-(bitrev(i)) and Shoup companions.
    psi_inv_powers: Vec<u64>,
    psi_inv_shoup: Vec<u64>,
    n_inv: u64,
    n_inv_shoup: u64,
    /// The instruction set the transforms run on.
    isa: Isa,
    /// Tables of the eight-lane kernels (AVX-512).
    #[cfg(target_arch = "x86_64")]
    lanes: Option<crate::simd::LaneTables>,
    /// Tables of the four-lane kernels (AVX2).
    #[cfg(target_arch = "x86_64")]
    avx2: Option<crate::simd::avx2::Avx2Tables>,
}

fn bit_reverse(i: usize, log_n: u32) -> usize {
    i.reverse_bits() >> (usize::BITS - log_n)
}

/// Checks that `n` is a supported NTT degree.
pub fn check_degree(n: usize) -> Result<()> {
    if n.is_power_of_two() && (MIN_DEGREE..=MAX_DEGREE).contains(&n) {
        Ok(())
    } else {
        Err(Error::InvalidDegree {
            n,
            min: MIN_DEGREE,
            max: MAX_DEGREE,
        })
    }
}

impl NttOperator {
    /// Tables for degree `n` (a power of two in 2^10..=2^15) modulo a prime q = 1 (mod 2n), for
    /// the fastest instruction set this CPU has (see [`Isa::detected`]).
    pub fn new(q: Modulus, n: usize) -> Result<Self> {
        Self::with_isa(q, n, Isa::detected())
    }

    /// As [`new`](Self::new), on `isa` if this CPU supports it and it applies to q, else on the
    /// best instruction set below it that does (see [`NttOperator::isa`] for the outcome).
    pub fn with_isa(q: Modulus, n: usize, isa: Isa) -> Result<Self> {
        check_degree(n)?;
        let isa = isa.min(Isa::detected()).for_modulus(q.value());
        let psi = primitive_root(&q, n)?;
        let psi_inv = q.inv(psi).ok_or(Error::InvalidModulus {
            q: q.value(),
            reason: "psi not invertible",
        })?;
        let log_n = n.trailing_zeros();
        let mut psi_powers = vec![0u64; n];
        let mut psi_inv_powers = vec![0u64; n];
        let (mut p, mut pi) = (1u64, 1u64);
        for i in 0..n {
            let r = bit_reverse(i, log_n);
            psi_powers[r] = p;
            psi_inv_powers[r] = pi;
            p = q.mul(p, psi);
            pi = q.mul(pi, psi_inv);
        }
        let psi_shoup = psi_powers.iter().map(|&w| q.shoup(w)).collect();
        let psi_inv_shoup = psi_inv_powers.iter().map(|&w| q.shoup(w)).collect();
        let n_inv = q.inv(n as u64).ok_or(Error::InvalidModulus {
            q: q.value(),
            reason: "N not invertible",
        })?;
        #[cfg(target_arch = "x86_64")]
        let avx2 = (isa == Isa::Avx2).then(|| {
            crate::simd::avx2::Avx2Tables::new(&psi_powers, &psi_inv_powers, |w| q.shoup(w))
        });
        #[cfg(target_arch = "x86_64")]
        let lanes = match isa {
            Isa::Scalar | Isa::Avx2 => None,
            Isa::Avx512 => Some(crate::simd::LaneTables::new(
                &psi_powers,
                &psi_inv_powers,
                n_inv,
                |a, b| q.mul(a, b),
                |w| q.shoup(w),
            )),
            Isa::Avx512Ifma => Some(crate::simd::LaneTables::new(
                &psi_powers,
                &psi_inv_powers,
                n_inv,
                |a, b| q.mul(a, b),
                |w| crate::simd::ifma::shoup_companion(w, q.value()),
            )),
        };
        Ok(NttOperator {
            q,
            n,
            psi_powers,
            psi_shoup,
            psi_inv_powers,
            psi_inv_shoup,
            n_inv,
            n_inv_shoup: q.shoup(n_inv),
            isa,
            #[cfg(target_arch = "x86_64")]
            lanes,
            #[cfg(target_arch = "x86_64")]
            avx2,
        })
    }

    /// The instruction set the transforms run on.
    pub fn isa(&self) -> Isa {
        self.isa
    }

    /// The modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.q
    }

    /// The degree.
    pub fn degree(&self) -> usize {
        self.n
    }

    /// In-place forward transform of `a` (coefficients < q; `a.len()` must be the degree).
    /// Output in [0, q), in bit-reversed order.
    pub fn forward(&self, a: &mut [u64]) {
        assert_eq!(a.len(), self.n, "NTT input length must equal the degree");
        #[cfg(target_arch = "x86_64")]
        if self.vector_transform(a, false) {
            return;
        }
        self.forward_scalar(a);
    }

    /// Runs the vector transform of this operator's instruction set; false if it has none (or the
    /// CPU lacks it), in which case the caller runs the scalar one.
    #[cfg(target_arch = "x86_64")]
    fn vector_transform(&self, a: &mut [u64], inverse: bool) -> bool {
        use crate::simd::avx2::{self, Avx2Cpu};
        use crate::simd::{Avx512Cpu, IfmaCpu, avx512, ifma};
        let q = self.q.value();
        let roots = if inverse {
            &self.psi_inv_powers
        } else {
            &self.psi_powers
        };
        if let (Some(tables), Some(cpu)) = (&self.avx2, Avx2Cpu::detect()) {
            if inverse {
                avx2::inverse(cpu, a, q, roots, tables, (self.n_inv, self.n_inv_shoup));
            } else {
                avx2::forward(cpu, a, q, roots, tables);
            }
            return true;
        }
        let Some(lanes) = &self.lanes else {
            return false;
        };
        // `with_isa` keeps IFMA only for q < 2^50, and each level only if the CPU has it.
        match (self.isa, IfmaCpu::detect(), Avx512Cpu::detect()) {
            (Isa::Avx512Ifma, Some(cpu), _) if inverse => ifma::inverse(cpu, a, q, roots, lanes),
            (Isa::Avx512Ifma, Some(cpu), _) => ifma::forward(cpu, a, q, roots, lanes),
            (Isa::Avx512, _, Some(cpu)) if inverse => avx512::inverse(cpu, a, q, roots, lanes),
            (Isa::Avx512, _, Some(cpu)) => avx512::forward(cpu, a, q, roots, lanes),
            _ => return false,
        }
        true
    }

    /// The scalar forward transform: the reference for the vector kernels.
    fn forward_scalar(&self, a: &mut [u64]) {
        let q = self.q.value();
        let two_q = 2 * q;
        let mut t = self.n;
        let mut m = 1;
        while m < self.n {
            t >>= 1;
            // The tables have N entries (built with the operator): in range by construction.
            let (roots, shoups) = (&self.psi_powers[m..2 * m], &self.psi_shoup[m..2 * m]);
            for (block, (&w, &ws)) in a.chunks_exact_mut(2 * t).zip(roots.iter().zip(shoups)) {
                let (lo, hi) = block.split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    // Harvey's forward butterfly: X, Y in [0, 4q) -> X + WY, X - WY in [0, 4q).
                    let mut u = *x;
                    if u >= two_q {
                        u -= two_q;
                    }
                    let v = self.q.mul_shoup_lazy(*y, w, ws);
                    *x = u + v;
                    *y = u + two_q - v;
                }
            }
            m <<= 1;
        }
        for x in a.iter_mut() {
            if *x >= two_q {
                *x -= two_q;
            }
            if *x >= q {
                *x -= q;
            }
        }
    }

    /// In-place inverse transform (input in bit-reversed order, < q); output coefficients in [0, q).
    pub fn inverse(&self, a: &mut [u64]) {
        assert_eq!(a.len(), self.n, "NTT input length must equal the degree");
        #[cfg(target_arch = "x86_64")]
        if self.vector_transform(a, true) {
            return;
        }
        self.inverse_scalar(a);
    }

    /// The scalar inverse transform: the reference for the vector kernels.
    fn inverse_scalar(&self, a: &mut [u64]) {
        let q = self.q.value();
        let two_q = 2 * q;
        let mut t = 1;
        let mut m = self.n;
        while m > 1 {
            let h = m >> 1;
            let (roots, shoups) = (&self.psi_inv_powers[h..m], &self.psi_inv_shoup[h..m]);
            for (block, (&w, &ws)) in a.chunks_exact_mut(2 * t).zip(roots.iter().zip(shoups)) {
                let (lo, hi) = block.split_at_mut(t);
                for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                    // Gentleman-Sande: X, Y in [0, 2q) -> X + Y, (X - Y) W in [0, 2q).
                    let (u, v) = (*x, *y);
                    let mut s = u + v;
                    if s >= two_q {
                        s -= two_q;
                    }
                    *x = s;
                    *y = self.q.mul_shoup_lazy(u + two_q - v, w, ws);
                }
            }
            t <<= 1;
            m = h;
        }
        for x in a.iter_mut() {
            let r = self.q.mul_shoup_lazy(*x, self.n_inv, self.n_inv_shoup);
            *x = if r >= q { r - q } else { r };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use proptest::prelude::*;

    /// Schoolbook product in Z_q[X]/(X^n + 1).
    fn negacyclic_schoolbook(q: &Modulus, a: &[u64], b: &[u64]) -> Vec<u64> {
        let n = a.len();
        let mut c = vec![0u64; n];
        for (i, &ai) in a.iter().enumerate() {
            for (j, &bj) in b.iter().enumerate() {
                let p = q.mul(ai, bj);
                let k = (i + j) % n;
                c[k] = if i + j < n {
                    q.add(c[k], p)
                } else {
                    q.sub(c[k], p)
                };
            }
        }
        c
    }

    fn operator(bits: u32, n: usize) -> NttOperator {
        NttOperator::new(Modulus::new(ntt_primes(bits, n, 1).unwrap()[0]).unwrap(), n).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        #[test]
        fn ntt_product_matches_schoolbook(bits in prop::sample::select(vec![20u32, 36, 49, 61]), seed in any::<u64>()) {
            let n = 1024;
            let op = operator(bits, n);
            let q = *op.modulus();
            let mut state = seed;
            let mut next = || { state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407); q.reduce(state >> 1) };
            let a: Vec<u64> = (0..n).map(|_| next()).collect();
            let b: Vec<u64> = (0..n).map(|_| next()).collect();
            let expected = negacyclic_schoolbook(&q, &a, &b);
            let (mut fa, mut fb) = (a.clone(), b.clone());
            op.forward(&mut fa);
            op.forward(&mut fb);
            let mut c: Vec<u64> = fa.iter().zip(&fb).map(|(&x, &y)| q.mul(x, y)).collect();
            op.inverse(&mut c);
            prop_assert_eq!(c, expected);
            op.inverse(&mut fa);
            prop_assert_eq!(fa, a);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

        /// Every supported instruction set gives the scalar transform's words, forward and inverse,
        /// at every degree, for primes on both sides of the IFMA bound and at the 62-bit limit.
        #[test]
        fn every_isa_equals_scalar(
            log_n in 10u32..=15,
            bits in prop::sample::select(vec![20u32, 30, 36, 43, 49, 50, 51, 55, 60, 61, 62]),
            seed in any::<u64>(),
        ) {
            let n = 1usize << log_n;
            let q = Modulus::new(ntt_primes(bits, n, 1).unwrap()[0]).unwrap();
            let scalar = NttOperator::with_isa(q, n, Isa::Scalar).unwrap();
            prop_assert_eq!(scalar.isa(), Isa::Scalar);
            let mut state = seed;
            let a: Vec<u64> = (0..n)
                .map(|i| {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    // Extremes first, then random residues.
                    if i < 4 { [0, 1, q.value() - 1, q.value() - 2][i] } else { q.reduce(state >> 1) }
                })
                .collect();
            let mut want = a.clone();
            scalar.forward(&mut want);
            for isa in Isa::all_supported() {
                let op = NttOperator::with_isa(q, n, isa).unwrap();
                prop_assert_eq!(op.isa(), isa.min(Isa::detected()).for_modulus(q.value()));
                let mut got = a.clone();
                op.forward(&mut got);
                prop_assert_eq!(&got, &want, "forward on {:?}", op.isa());
                op.inverse(&mut got);
                prop_assert_eq!(&got, &a, "inverse on {:?}", op.isa());
                // The inverse of arbitrary reduced input, too (not only of a forward output).
                let (mut x, mut y) = (a.clone(), a.clone());
                scalar.inverse(&mut x);
                op.inverse(&mut y);
                prop_assert_eq!(x, y, "inverse of arbitrary input on {:?}", op.isa());
            }
        }
    }

    #[test]
    fn round_trips_at_every_degree() {
        for log_n in 10..=16 {
            let n = 1usize << log_n;
            let op = operator(50, n);
            let q = op.modulus().value();
            let a: Vec<u64> = (0..n as u64)
                .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) % q)
                .collect();
            let mut b = a.clone();
            op.forward(&mut b);
            assert!(b.iter().all(|&x| x < q));
            op.inverse(&mut b);
            assert_eq!(a, b, "n = {n}");
        }
        assert!(
            NttOperator::new(
                Modulus::new(ntt_primes(30, 512, 1).unwrap()[0]).unwrap(),
                512
            )
            .is_err()
        );
    }
}
