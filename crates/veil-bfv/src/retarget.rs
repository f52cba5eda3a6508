//! Keys across plaintext moduli. BFV's keys are functions of the secret s and of the rings R_Q
//! and R_QP only: SecretKeyGen, PublicKeyGen and the relinearization (and Galois) key generation
//! of Fan and Vercauteren (eprint 2012/144, sec. 4 and 6.1) never use t, which enters only the
//! encoding (Delta = floor(Q / t)), the product's scaling by t / Q and decryption. So parameter
//! sets that differ only in t can share one key set: a client uploads its evaluation keys once and
//! a server computes modulo several plaintext primes (CRT over t_1, ..., t_k) with them.
//!
//! The keys carry their parameters (so that mixing parameter sets fails loudly); these functions
//! re-attach a key to parameters with the same rings. The switching keys are shared (`Arc`), not
//! copied.

use std::sync::Arc;

use veil_ring::keys::RlweSecret;

use crate::error::{Error, Result};
use crate::galois::GaloisKeys;
use crate::keys::{PublicKey, SecretKey};
use crate::parameters::BfvParameters;
use crate::relin::RelinearizationKey;

impl BfvParameters {
    /// Whether `other` has the same degree, ciphertext primes and special prime: the two
    /// parameter sets may differ only in the plaintext modulus t, and keys carry over.
    pub fn same_rings(&self, other: &BfvParameters) -> bool {
        self.degree() == other.degree()
            && self.ciphertext_moduli() == other.ciphertext_moduli()
            && self.special_modulus() == other.special_modulus()
    }
}

fn check_rings(from: &BfvParameters, to: &BfvParameters) -> Result<()> {
    if from.same_rings(to) {
        Ok(())
    } else {
        Err(Error::Mismatch {
            what: "rings (degree, ciphertext or special primes) of the other parameters",
        })
    }
}

impl SecretKey {
    /// The same secret s for `params`, which must differ from this key's parameters at most in
    /// t ([`BfvParameters::same_rings`]).
    pub fn with_parameters(&self, params: &Arc<BfvParameters>) -> Result<SecretKey> {
        check_rings(&self.params, params)?;
        let secret = RlweSecret::from_coeffs(params.key_context(), self.secret.coeffs().to_vec())?;
        let s_q = secret.ntt_over(params.ciphertext_context())?;
        Ok(SecretKey {
            params: params.clone(),
            secret,
            s_q,
        })
    }
}

impl PublicKey {
    /// This public key for `params` (same rings, any t).
    pub fn with_parameters(&self, params: &Arc<BfvParameters>) -> Result<PublicKey> {
        check_rings(&self.params, params)?;
        Ok(PublicKey {
            params: params.clone(),
            key: self.key.clone(),
        })
    }
}

impl RelinearizationKey {
    /// This relinearization key for `params` (same rings, any t); the key material is shared.
    pub fn with_parameters(&self, params: &Arc<BfvParameters>) -> Result<RelinearizationKey> {
        check_rings(&self.params, params)?;
        Ok(RelinearizationKey {
            params: params.clone(),
            key: Arc::clone(&self.key),
        })
    }
}

impl GaloisKeys {
    /// These Galois keys for `params` (same rings, any t); the key material is shared.
    pub fn with_parameters(&self, params: &Arc<BfvParameters>) -> Result<GaloisKeys> {
        check_rings(&self.params, params)?;
        Ok(GaloisKeys {
            params: params.clone(),
            set: Arc::clone(&self.set),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BfvParametersBuilder, Encoder};
    use veil_ring::sample::Sampler;

    fn params(t_bits: u32) -> Arc<BfvParameters> {
        BfvParametersBuilder::new()
            .degree(2048)
            .moduli_sizes(&[50, 50, 50])
            .batching_plaintext_bits(t_bits)
            .allow_below_128_bit_security()
            .build()
            .unwrap()
    }

    /// Keys made under t_1 work under t_2: a product, a relinearization, a rotation and a
    /// public-key encryption under t_2 decrypt correctly with the carried-over secret; keys
    /// cannot move to other rings.
    #[test]
    fn keys_carry_over_between_plaintext_moduli() {
        let (p1, p2) = (params(20), params(25));
        assert!(p1.same_rings(&p2) && p1 != p2);
        let mut sampler = Sampler::from_seed([5; 32]);
        let sk1 = SecretKey::generate_with(&p1, &mut sampler).unwrap();
        let rk = sk1.relinearization_key_with(&mut sampler).unwrap();
        let gk = sk1.galois_keys_for(&[1], false, &mut sampler).unwrap();
        let pk = sk1.public_key_with(&mut sampler).unwrap();
        let sk2 = sk1.with_parameters(&p2).unwrap();
        let (rk2, gk2, pk2) = (
            rk.with_parameters(&p2).unwrap(),
            gk.with_parameters(&p2).unwrap(),
            pk.with_parameters(&p2).unwrap(),
        );
        let enc = Encoder::new(&p2).unwrap();
        let t = p2.plaintext_modulus() as i64;
        let a: Vec<i64> = (0..1024).map(|i| (i * 7919) % t - t / 2).collect();
        let b: Vec<i64> = (0..1024).map(|i| (i * 31 + 5) % 1000).collect();
        let ca = sk2.encrypt(&enc.encode_signed(&a).unwrap()).unwrap();
        let cb = pk2.encrypt(&enc.encode_signed(&b).unwrap()).unwrap();
        let prod = ca
            .mul_relin(&cb, &rk2)
            .unwrap()
            .rotate_rows(1, &gk2)
            .unwrap();
        let got = enc.decode_signed(&sk2.decrypt(&prod).unwrap()).unwrap();
        let row = 1024;
        for (s, &g) in got.iter().enumerate().take(row) {
            let k = (s + 1) % row;
            let want = (i128::from(a[k]) * i128::from(b[k])).rem_euclid(i128::from(t));
            let want = if want > i128::from(t / 2) {
                want - i128::from(t)
            } else {
                want
            };
            assert_eq!(i128::from(g), want, "slot {s}");
        }
        // Another chain: refused.
        let other = BfvParametersBuilder::new()
            .degree(2048)
            .moduli_sizes(&[49, 50, 50])
            .batching_plaintext_bits(20)
            .allow_below_128_bit_security()
            .build()
            .unwrap();
        assert!(!p1.same_rings(&other));
        assert!(sk1.with_parameters(&other).is_err());
        assert!(rk.with_parameters(&other).is_err());
        assert!(gk.with_parameters(&other).is_err());
        assert!(pk.with_parameters(&other).is_err());
    }
}
