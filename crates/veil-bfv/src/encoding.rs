//! Plaintexts and encoders: batching (SIMD slots arranged as 2 rows of N/2, as SEAL's
//! `BatchEncoder`) and plain coefficient encoding.
//!
//! Batching (Smart and Vercauteren, "Fully homomorphic SIMD operations", 2014): with t prime and
//! t = 1 (mod 2N), `Z_t[X]/(X^N + 1)` is isomorphic to Z_t^N by evaluation at the primitive 2N-th roots
//! psi^(2j+1). Slot i of row 0 is the evaluation at psi^(3^i), slot i of row 1 at psi^(-3^i), so that
//! X -> X^3 rotates both rows by one and X -> X^(2N-1) swaps them.

use std::sync::Arc;

use veil_ring::NttOperator;

use crate::error::{Error, Result};
use crate::parameters::BfvParameters;

/// A plaintext: a polynomial of `Z_t[X]/(X^N + 1)`, coefficients in [0, t).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plaintext {
    pub(crate) params: Arc<BfvParameters>,
    pub(crate) coeffs: Vec<u64>,
}

impl Plaintext {
    /// The coefficients, in [0, t).
    pub fn coefficients(&self) -> &[u64] {
        &self.coeffs
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }
}

/// Encodes vectors of integers into plaintexts and back, slot-wise (batching) or as coefficients.
#[derive(Debug)]
pub struct Encoder {
    params: Arc<BfvParameters>,
    /// NTT modulo t (present when batching is available).
    ntt: Option<NttOperator>,
    /// Slot index -> position in the bit-reversed NTT output.
    slot_to_ntt: Vec<usize>,
}

impl Encoder {
    /// An encoder for `params` (batching only when t is a prime = 1 mod 2N).
    pub fn new(params: &Arc<BfvParameters>) -> Result<Self> {
        let n = params.degree();
        let (ntt, slot_to_ntt) = if params.supports_batching() {
            (Some(NttOperator::new(*params.plaintext(), n)?), slot_map(n))
        } else {
            (None, Vec::new())
        };
        Ok(Encoder {
            params: params.clone(),
            ntt,
            slot_to_ntt,
        })
    }

    /// The parameters.
    pub fn parameters(&self) -> &Arc<BfvParameters> {
        &self.params
    }

    /// Number of slots (N): two rows of N/2.
    pub fn slots(&self) -> usize {
        self.params.degree()
    }

    fn batching(&self) -> Result<&NttOperator> {
        self.ntt.as_ref().ok_or(Error::Plaintext {
            reason: "batching needs t prime and t = 1 mod 2N",
        })
    }

    /// Slot-wise encoding of up to N values in [0, t); missing slots are zero.
    pub fn encode(&self, values: &[u64]) -> Result<Plaintext> {
        let t = self.params.plaintext_modulus();
        if values.iter().any(|&v| v >= t) {
            return Err(Error::Plaintext {
                reason: "a value is not below t",
            });
        }
        self.encode_reduced(values.iter().copied(), values.len())
    }

    /// Slot-wise encoding of up to N signed values in (-t/2, t/2].
    pub fn encode_signed(&self, values: &[i64]) -> Result<Plaintext> {
        let t = self.params.plaintext();
        let half = (t.value() / 2) as i64;
        if values.iter().any(|&v| v > half || v < -half) {
            return Err(Error::Plaintext {
                reason: "a value is outside (-t/2, t/2]",
            });
        }
        self.encode_reduced(values.iter().map(|&v| t.reduce_i64(v)), values.len())
    }

    fn encode_reduced(&self, values: impl Iterator<Item = u64>, len: usize) -> Result<Plaintext> {
        let ntt = self.batching()?;
        if len > self.slots() {
            return Err(Error::Plaintext {
                reason: "more values than slots",
            });
        }
        let mut evals = vec![0u64; self.slots()];
        for (v, &pos) in values.zip(&self.slot_to_ntt) {
            if let Some(e) = evals.get_mut(pos) {
                *e = v;
            }
        }
        ntt.inverse(&mut evals);
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs: evals,
        })
    }

    /// The N slot values in [0, t).
    pub fn decode(&self, pt: &Plaintext) -> Result<Vec<u64>> {
        let ntt = self.batching()?;
        self.check(pt)?;
        let mut evals = pt.coeffs.clone();
        ntt.forward(&mut evals);
        Ok(self
            .slot_to_ntt
            .iter()
            .map(|&pos| evals.get(pos).copied().unwrap_or(0))
            .collect())
    }

    /// The N slot values as signed integers in (-t/2, t/2].
    pub fn decode_signed(&self, pt: &Plaintext) -> Result<Vec<i64>> {
        let t = self.params.plaintext();
        Ok(self.decode(pt)?.into_iter().map(|v| t.center(v)).collect())
    }

    /// Coefficient encoding: value i becomes the coefficient of X^i (no batching needed).
    pub fn encode_coefficients(&self, values: &[u64]) -> Result<Plaintext> {
        let t = self.params.plaintext_modulus();
        if values.len() > self.params.degree() || values.iter().any(|&v| v >= t) {
            return Err(Error::Plaintext {
                reason: "more than N coefficients, or one not below t",
            });
        }
        let mut coeffs = values.to_vec();
        coeffs.resize(self.params.degree(), 0);
        Ok(Plaintext {
            params: self.params.clone(),
            coeffs,
        })
    }

    /// A constant polynomial: the scalar c mod t (every slot holds c).
    pub fn encode_scalar(&self, c: i64) -> Plaintext {
        let mut coeffs = vec![0u64; self.params.degree()];
        if let Some(c0) = coeffs.first_mut() {
            *c0 = self.params.plaintext().reduce_i64(c);
        }
        Plaintext {
            params: self.params.clone(),
            coeffs,
        }
    }

    fn check(&self, pt: &Plaintext) -> Result<()> {
        if *pt.params == *self.params {
            Ok(())
        } else {
            Err(Error::Mismatch { what: "parameters" })
        }
    }
}

/// SEAL's matrix index map: slot i of row 0 is psi^(3^i), of row 1 psi^(-3^i); the forward NTT
/// stores the evaluation at psi^(2j+1) at position bitrev(j).
fn slot_map(n: usize) -> Vec<usize> {
    let log_n = n.trailing_zeros();
    let row = n / 2;
    let m = 2 * n as u64;
    let mut map = vec![0usize; n];
    let mut pos = 1u64;
    let brv = |j: u64| (j.reverse_bits() >> (64 - log_n)) as usize;
    for i in 0..row {
        if let Some(slot) = map.get_mut(i) {
            *slot = brv((pos - 1) / 2);
        }
        if let Some(slot) = map.get_mut(row + i) {
            *slot = brv((m - pos - 1) / 2);
        }
        pos = pos * 3 % m;
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parameters::{BfvParametersBuilder, Preset};
    use veil_ring::primes::primitive_root;

    #[test]
    fn slots_are_evaluations_at_the_promised_roots() {
        let params = BfvParametersBuilder::new()
            .degree(1024)
            .moduli_sizes(&[27, 27])
            .batching_plaintext_bits(20)
            .allow_below_128_bit_security()
            .build()
            .unwrap();
        let enc = Encoder::new(&params).unwrap();
        let t = *params.plaintext();
        let values: Vec<u64> = (0..1024u64).map(|i| (i * 7919 + 3) % t.value()).collect();
        let pt = enc.encode(&values).unwrap();
        assert_eq!(enc.decode(&pt).unwrap(), values);
        // Evaluate the polynomial directly at psi^(3^i) and psi^(-3^i).
        let psi = primitive_root(&t, 1024).unwrap();
        let eval = |x: u64| {
            pt.coefficients()
                .iter()
                .rev()
                .fold(0u64, |acc, &c| t.add(t.mul(acc, x), c))
        };
        for i in [0usize, 1, 2, 100, 511] {
            let k = modpow(3, i as u64, 2048); // 3^i mod 2N
            assert_eq!(eval(t.pow(psi, k)), values[i], "row 0 slot {i}");
            assert_eq!(
                eval(t.pow(psi, 2048 - k)),
                values[512 + i],
                "row 1 slot {i}"
            );
        }
    }

    fn modpow(b: u64, e: u64, m: u64) -> u64 {
        (0..e).fold(1, |acc, _| acc * b % m)
    }

    #[test]
    fn signed_and_coefficient_encodings() {
        let params = BfvParameters::preset(Preset::N4096).unwrap();
        let enc = Encoder::new(&params).unwrap();
        let half = (params.plaintext_modulus() / 2) as i64;
        let values: Vec<i64> = (0..4096)
            .map(|i| (i * 1237) % (2 * half) - half + 1)
            .collect();
        assert_eq!(
            enc.decode_signed(&enc.encode_signed(&values).unwrap())
                .unwrap(),
            values
        );
        assert!(enc.encode_signed(&[half + 1]).is_err());
        assert!(enc.encode(&[params.plaintext_modulus()]).is_err());
        assert!(enc.encode(&vec![0; 4097]).is_err());
        assert_eq!(
            enc.decode(&enc.encode_scalar(-5)).unwrap(),
            vec![params.plaintext_modulus() - 5; 4096]
        );
        let pt = enc.encode_coefficients(&[1, 2, 3]).unwrap();
        assert_eq!(&pt.coefficients()[..4], &[1, 2, 3, 0]);
    }
}
