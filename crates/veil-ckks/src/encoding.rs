//! The CKKS slot encoder: N/2 complex slots <-> a real polynomial of degree < N, through the
//! canonical embedding (Cheon, Kim, Kim and Song, Asiacrypt 2017, sec. 3.1), scaled and rounded.
//!
//! Slot j is the value at zeta^(g_j), zeta = exp(2 pi i / 2N), g_j = 5^j mod 2N. Because every g_j
//! is 1 mod 4, the coefficients pair up as w_k = m_k + i m_(k + N/2) (k < N/2) and
//! z_j = sum_k w_k zeta^(g_j k): evaluating w at the N/2 points zeta^(4t + 1), t < N/2, which is a
//! DFT of size N/2 of (w_k zeta^k), read in the order t_j = (g_j - 1) / 4. Encoding runs it
//! backwards. Both directions cost one complex FFT of size N/2 (`rustfft`).
//!
//! With this slot order, X -> X^5 rotates the slots left by one and X -> X^(2N - 1) conjugates
//! them (tested), the Galois elements of CKKS rotations and conjugation.

use core::fmt;
use std::sync::Arc;

use num_complex::Complex64;
use rustfft::{Fft, FftPlanner};

use crate::error::{Error, Result};

/// Smallest supported degree.
const MIN_DEGREE: usize = 4;
/// Largest supported degree.
const MAX_DEGREE: usize = 1 << 16;
/// Largest |coefficient| after scaling: 2^62, so that coefficients fit an i64 with room to spare.
const MAX_COEFFICIENT: f64 = 4_611_686_018_427_387_904.0;

/// Encodes N/2 complex (or real) slots into scaled integer coefficients and back.
#[derive(Clone)]
pub struct SlotEncoder {
    n: usize,
    /// zeta^k for k < N/2.
    twist: Vec<Complex64>,
    /// t_j = (5^j mod 2N - 1) / 4: where slot j sits in the DFT's output.
    position: Vec<usize>,
    forward: Arc<dyn Fft<f64>>,
    inverse: Arc<dyn Fft<f64>>,
}

impl fmt::Debug for SlotEncoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SlotEncoder {{ n: {}, slots: {} }}", self.n, self.n / 2)
    }
}

impl SlotEncoder {
    /// The encoder of degree `n`, a power of two in 4..=65536.
    pub fn new(n: usize) -> Result<Self> {
        if !n.is_power_of_two() || !(MIN_DEGREE..=MAX_DEGREE).contains(&n) {
            return Err(Error::InvalidDegree {
                n,
                min: MIN_DEGREE,
                max: MAX_DEGREE,
            });
        }
        let slots = n / 2;
        let two_n = 2 * n;
        let twist = (0..slots)
            .map(|k| Complex64::from_polar(1.0, std::f64::consts::PI * k as f64 / n as f64))
            .collect();
        let mut g = 1usize;
        let position = (0..slots)
            .map(|_| {
                let t = (g - 1) / 4;
                g = g * 5 % two_n;
                t
            })
            .collect();
        let mut planner = FftPlanner::new();
        Ok(SlotEncoder {
            n,
            twist,
            position,
            // rustfft's forward transform uses exp(-2 pi i k t / S), its inverse exp(+...).
            forward: planner.plan_fft_forward(slots),
            inverse: planner.plan_fft_inverse(slots),
        })
    }

    /// The ring degree N.
    pub fn degree(&self) -> usize {
        self.n
    }

    /// The number of slots, N/2.
    pub fn slots(&self) -> usize {
        self.n / 2
    }

    /// round(scale m) for the real polynomial m whose slots are `values` (missing slots are zero).
    pub fn encode(&self, values: &[Complex64], scale: f64) -> Result<Vec<i64>> {
        let slots = self.slots();
        if values.len() > slots {
            return Err(Error::Encoding {
                reason: "more values than slots",
            });
        }
        check_scale(scale)?;
        if values
            .iter()
            .any(|z| !z.re.is_finite() || !z.im.is_finite())
        {
            return Err(Error::Encoding {
                reason: "a value is not finite",
            });
        }
        // A[t_j] = z_j, then a = IDFT(A) (normalised), w_k = a_k zeta^-k.
        let mut a = vec![Complex64::new(0.0, 0.0); slots];
        for (&t, &z) in self.position.iter().zip(values) {
            if let Some(slot) = a.get_mut(t) {
                *slot = z;
            }
        }
        self.forward.process(&mut a);
        let norm = scale / slots as f64;
        let mut coeffs = vec![0i64; self.n];
        let (low, high) = coeffs.split_at_mut(slots);
        for (((lo, hi), &ak), &tw) in low.iter_mut().zip(high).zip(&a).zip(&self.twist) {
            let w = ak * tw.conj() * norm;
            *lo = to_integer(w.re)?;
            *hi = to_integer(w.im)?;
        }
        Ok(coeffs)
    }

    /// [`encode`](Self::encode) of real values.
    pub fn encode_real(&self, values: &[f64], scale: f64) -> Result<Vec<i64>> {
        let complex: Vec<Complex64> = values.iter().map(|&x| Complex64::new(x, 0.0)).collect();
        self.encode(&complex, scale)
    }

    /// The N/2 slots of m / scale for integer coefficients m (N of them).
    pub fn decode(&self, coeffs: &[i64], scale: f64) -> Result<Vec<Complex64>> {
        let real: Vec<f64> = coeffs.iter().map(|&c| c as f64).collect();
        self.decode_f64(&real, scale)
    }

    /// The N/2 slots of m / scale for real coefficients m (N of them): decoding of decrypted
    /// values, whose integer coefficients may exceed 64 bits.
    pub fn decode_f64(&self, coeffs: &[f64], scale: f64) -> Result<Vec<Complex64>> {
        if coeffs.len() != self.n {
            return Err(Error::Encoding {
                reason: "need exactly N coefficients",
            });
        }
        check_scale(scale)?;
        let slots = self.slots();
        let (low, high) = coeffs.split_at(slots);
        let mut a: Vec<Complex64> = low
            .iter()
            .zip(high)
            .zip(&self.twist)
            .map(|((&lo, &hi), &tw)| Complex64::new(lo, hi) * tw / scale)
            .collect();
        self.inverse.process(&mut a);
        Ok(self
            .position
            .iter()
            .map(|&t| a.get(t).copied().unwrap_or_default())
            .collect())
    }
}

fn check_scale(scale: f64) -> Result<()> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(Error::Encoding {
            reason: "the scale must be finite and positive",
        })
    }
}

fn to_integer(x: f64) -> Result<i64> {
    let r = x.round();
    if r.abs() < MAX_COEFFICIENT {
        Ok(r as i64)
    } else {
        Err(Error::Encoding {
            reason: "a scaled coefficient reaches 2^62: lower the scale or the values",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// m(zeta^(5^j)) by direct evaluation, O(N^2).
    fn evaluate(coeffs: &[i64], scale: f64) -> Vec<Complex64> {
        let n = coeffs.len();
        let mut g = 1usize;
        (0..n / 2)
            .map(|_| {
                let root = Complex64::from_polar(1.0, std::f64::consts::PI * g as f64 / n as f64);
                g = g * 5 % (2 * n);
                let mut acc = Complex64::new(0.0, 0.0);
                let mut power = Complex64::new(1.0, 0.0);
                for &c in coeffs {
                    acc += power * c as f64;
                    power *= root;
                }
                acc / scale
            })
            .collect()
    }

    /// sigma_g on integer coefficients: X^i -> X^(i g mod 2N), with X^N = -1.
    fn automorphism(coeffs: &[i64], g: usize) -> Vec<i64> {
        let n = coeffs.len();
        let mut out = vec![0i64; n];
        for (i, &c) in coeffs.iter().enumerate() {
            let j = i * g % (2 * n);
            if j < n {
                out[j] = c;
            } else {
                out[j - n] = -c;
            }
        }
        out
    }

    fn max_error(a: &[Complex64], b: &[Complex64]) -> f64 {
        a.iter()
            .zip(b)
            .map(|(x, y)| (x - y).norm())
            .fold(0.0, f64::max)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

        /// decode is the canonical embedding, evaluated directly; encode inverts it up to rounding.
        #[test]
        fn decode_is_evaluation_and_encode_inverts_it(
            log_n in 2u32..=7,
            coeffs in proptest::collection::vec(-1_000_000i64..1_000_000, 128),
            values in proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 64),
        ) {
            let n = 1usize << log_n;
            let enc = SlotEncoder::new(n).unwrap();
            let m = &coeffs[..n];
            let direct = evaluate(m, 1.0);
            let fast = enc.decode(m, 1.0).unwrap();
            // Sums of up to 128 terms of 10^6: f64 rounding stays far below 10^-4.
            prop_assert!(max_error(&direct, &fast) < 1e-4);
            let z: Vec<Complex64> = values[..n / 2].iter().map(|&(re, im)| Complex64::new(re, im)).collect();
            let scale = 2f64.powi(30);
            let back = enc.decode(&enc.encode(&z, scale).unwrap(), scale).unwrap();
            // Rounding moves each coefficient by at most 1/2: the slots by at most N / (2 scale).
            prop_assert!(max_error(&z, &back) <= n as f64 / (2.0 * scale) + 1e-12);
        }

        /// X -> X^5 rotates the slots left by one; X -> X^(2N-1) conjugates them.
        #[test]
        fn galois_elements_rotate_and_conjugate(values in proptest::collection::vec((-1.0f64..1.0, -1.0f64..1.0), 128)) {
            let n = 256;
            let enc = SlotEncoder::new(n).unwrap();
            let scale = 2f64.powi(30);
            let z: Vec<Complex64> = values.iter().map(|&(re, im)| Complex64::new(re, im)).collect();
            let m = enc.encode(&z, scale).unwrap();
            let slots = enc.decode(&m, scale).unwrap();
            let rotated = enc.decode(&automorphism(&m, 5), scale).unwrap();
            let mut want = slots.clone();
            want.rotate_left(1);
            prop_assert!(max_error(&rotated, &want) < 1e-9);
            let conjugated = enc.decode(&automorphism(&m, 2 * n - 1), scale).unwrap();
            let want: Vec<Complex64> = slots.iter().map(|z| z.conj()).collect();
            prop_assert!(max_error(&conjugated, &want) < 1e-9);
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(SlotEncoder::new(3).is_err());
        assert!(SlotEncoder::new(1 << 17).is_err());
        let enc = SlotEncoder::new(16).unwrap();
        assert!(enc.encode_real(&[0.0; 9], 1.0).is_err());
        assert!(enc.encode_real(&[f64::NAN], 1.0).is_err());
        assert!(enc.encode_real(&[1.0], 0.0).is_err());
        assert!(enc.encode_real(&[1.0], f64::INFINITY).is_err());
        assert!(enc.encode_real(&[1.0], 2f64.powi(70)).is_err());
        assert!(enc.decode(&[0; 15], 1.0).is_err());
        // Real values come back real.
        let back = enc
            .decode(
                &enc.encode_real(&[0.25, -0.5], 2f64.powi(20)).unwrap(),
                2f64.powi(20),
            )
            .unwrap();
        assert!((back[0].re - 0.25).abs() < 1e-5 && back[0].im.abs() < 1e-5);
        assert!((back[1].re + 0.5).abs() < 1e-5 && back[2].norm() < 1e-5);
    }

    /// The measured encoding error at N = 8192, scale 2^40 (reported in the docs when CKKS lands).
    #[test]
    fn encoding_error_at_n_8192() {
        let enc = SlotEncoder::new(8192).unwrap();
        let z: Vec<Complex64> = (0..4096)
            .map(|j| Complex64::new((j as f64 * 0.37).sin(), (j as f64 * 0.11).cos()))
            .collect();
        let scale = 2f64.powi(40);
        let back = enc.decode(&enc.encode(&z, scale).unwrap(), scale).unwrap();
        let err = max_error(&z, &back);
        // About sqrt(N) / scale in practice; N / (2 scale) is the worst case.
        assert!(err < 8192.0 / (2.0 * scale), "max error {err:e}");
        eprintln!(
            "encoding error at N = 8192, scale 2^40: {err:e} ({:.1} bits)",
            -err.log2()
        );
    }
}
