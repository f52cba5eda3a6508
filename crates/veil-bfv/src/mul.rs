//! Ciphertext products in full RNS (Halevi, Polyakov and Shoup, eprint 2018/117, sec. 4): extend
//! both ciphertexts exactly from Q to Q P', take the tensor product in the NTT domain, scale by
//! t / Q with rounding directly in P' and come back to Q; the tables are in `hps.rs`.

use rayon::prelude::*;
use veil_ring::{Ntt, Poly};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};

impl Ciphertext {
    /// The product of two ciphertexts (slot-wise product of the plaintexts), with three polynomials;
    /// relinearize it to get back to two. Both inputs must have two polynomials.
    pub fn mul(&self, other: &Ciphertext) -> Result<Ciphertext> {
        let (x, y) = self.aligned(other)?;
        let level = x.level;
        let (Some([a0, a1]), Some([b0, b1])) = (
            x.c.get(..2).filter(|_| x.c.len() == 2),
            y.c.get(..2).filter(|_| y.c.len() == 2),
        ) else {
            return Err(Error::Mismatch {
                what: "ciphertext size: relinearize before multiplying again",
            });
        };
        let mc = self.params.mul_context(level)?;
        let ext: Vec<Poly<Ntt>> = [a0, a1, b0, b1]
            .par_iter()
            .map(|c| mc.extend(c))
            .collect::<Result<_>>()?;
        let [ea0, ea1, eb0, eb1] = ext.as_slice() else {
            return Err(Error::Mismatch { what: "extension" });
        };
        let d0 = ea0.mul(eb0)?;
        let mut d1 = ea0.mul(eb1)?;
        d1.add_assign(&ea1.mul(eb0)?)?;
        let d2 = ea1.mul(eb1)?;
        let q_ctx = &self.params.level(level)?.ctx;
        let c = [d0, d1, d2]
            .into_par_iter()
            .map(|d| mc.scale_down(&d.into_coeff(), q_ctx))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ciphertext {
            params: self.params.clone(),
            level,
            c,
        })
    }
}
