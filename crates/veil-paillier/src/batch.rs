//! Batch operations over slices, parallel with rayon (run inside a one-thread pool for a
//! single-threaded figure).

use rayon::prelude::*;
use rug::Integer;

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::{PrivateKey, PublicKey};

fn same_len(a: usize, b: usize) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::malformed(
            "batch",
            format!("slices of different lengths ({a} and {b})"),
        ))
    }
}

impl PublicKey {
    /// Encrypts every value, in parallel.
    pub fn encrypt_batch(&self, values: &[i64]) -> Result<Vec<Ciphertext>> {
        values
            .par_iter()
            .map_init(rand::rng, |rng, &v| self.encrypt_with_rng(v, rng))
            .collect()
    }

    /// Element-wise E(a_i + b_i).
    pub fn add_batch(&self, a: &[Ciphertext], b: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        same_len(a.len(), b.len())?;
        a.par_iter().zip(b).map(|(x, y)| self.add(x, y)).collect()
    }

    /// Element-wise E(k_i a_i).
    pub fn mul_scalar_batch(&self, a: &[Ciphertext], k: &[i64]) -> Result<Vec<Ciphertext>> {
        same_len(a.len(), k.len())?;
        a.par_iter()
            .zip(k)
            .map(|(x, &s)| self.mul_scalar(x, s))
            .collect()
    }

    /// Re-randomizes every ciphertext, in parallel.
    pub fn rerandomize_batch(&self, a: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        a.par_iter()
            .map_init(rand::rng, |rng, x| self.rerandomize_with_rng(x, rng))
            .collect()
    }
}

impl PrivateKey {
    /// Encrypts every value with the key holder's CRT shortcut, in parallel.
    pub fn encrypt_batch(&self, values: &[i64]) -> Result<Vec<Ciphertext>> {
        values
            .par_iter()
            .map_init(rand::rng, |rng, &v| self.encrypt_with_rng(v, rng))
            .collect()
    }

    /// Decrypts every ciphertext to a signed integer, in parallel.
    pub fn decrypt_batch(&self, a: &[Ciphertext]) -> Result<Vec<Integer>> {
        a.par_iter().map(|x| self.decrypt(x)).collect()
    }

    /// Decrypts every ciphertext to an `i64`, in parallel.
    pub fn decrypt_batch_i64(&self, a: &[Ciphertext]) -> Result<Vec<i64>> {
        a.par_iter().map(|x| self.decrypt_i64(x)).collect()
    }
}
