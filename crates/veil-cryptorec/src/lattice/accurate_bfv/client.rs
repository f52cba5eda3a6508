//! The exact accurate-mode client: encrypts X, PHI and C under each lane's plaintext prime,
//! decrypts the replies and recombines U and R by CRT.

use num_bigint::BigInt;
use veil_bfv::{Ciphertext, Encoder, SecretKey};
use veil_ring::sample::Sampler;

use crate::error::{Error, Result};
use crate::lattice::accurate_bfv::fixed::{
    ExactInput, ExactResult, check_input, predictions, quantize_user,
};
use crate::lattice::accurate_bfv::server::{QUERY_MAGIC, REPLY_MAGIC, residues};
use crate::lattice::accurate_bfv::setup::{AccurateBfvKeys, AccurateBfvSetup};
use crate::lattice::wire::{Reader, Writer, bad};
use crate::model::UserRatings;

/// What the client keeps between a query and its reply.
#[derive(Clone, Debug, PartialEq)]
pub struct AccurateBfvState {
    /// The user's ratings (mean, and the loss comparison of the revert rule).
    pub ratings: UserRatings,
}

/// The exact accurate-mode client: one secret key, carried over to every lane.
#[derive(Debug)]
pub struct AccurateBfvClient {
    setup: AccurateBfvSetup,
    secrets: Vec<SecretKey>,
    encoders: Vec<Encoder>,
}

impl AccurateBfvClient {
    /// A client for the server whose setup bytes are `setup_bytes`, with a fresh secret key.
    pub fn new(setup_bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let setup = AccurateBfvSetup::from_bytes(setup_bytes, allow_below_128_bit_security)?;
        Self::with_secret(setup, &mut Sampler::from_entropy())
    }

    /// A client with a secret key drawn from `sampler` (tests recompute it from a seed).
    pub fn with_secret(setup: AccurateBfvSetup, sampler: &mut Sampler) -> Result<Self> {
        let first = SecretKey::generate_with(setup.first(), sampler)?;
        let mut secrets = Vec::with_capacity(setup.lanes.params.len());
        let mut encoders = Vec::with_capacity(setup.lanes.params.len());
        for p in &setup.lanes.params {
            secrets.push(first.with_parameters(p)?);
            encoders.push(Encoder::new(p)?);
        }
        Ok(AccurateBfvClient {
            setup,
            secrets,
            encoders,
        })
    }

    /// The setup.
    pub fn setup(&self) -> &AccurateBfvSetup {
        &self.setup
    }

    /// The secret key under lane `lane` (for noise diagnostics in tests).
    pub fn secret_key(&self, lane: usize) -> Option<&SecretKey> {
        self.secrets.get(lane)
    }

    /// Evaluation keys for the server (public, relinearization, Galois), sent once: one set for
    /// every lane.
    pub fn key_bytes(&self) -> Result<Vec<u8>> {
        AccurateBfvKeys::generate(&self.setup, &self.secrets[0])
    }

    /// The query for `user` and the state to read its reply.
    pub fn query(&self, user: &UserRatings) -> Result<(Vec<u8>, AccurateBfvState)> {
        let input = quantize_user(&self.setup.public, user)?;
        Ok((
            self.query_integers(&input)?,
            AccurateBfvState {
                ratings: user.clone(),
            },
        ))
    }

    /// The query for integer inputs directly (checked against the public bounds): per lane,
    /// seeded encryptions of X (replicated with period D_m over the row), PHI and C.
    pub fn query_integers(&self, input: &ExactInput) -> Result<Vec<u8>> {
        check_input(&self.setup.public, input)?;
        let x_slots = self.setup.layout.query_slots(&input.x)?;
        let mut sampler = Sampler::from_entropy();
        let mut w = Writer::new(QUERY_MAGIC);
        for (sk, enc) in self.secrets.iter().zip(&self.encoders) {
            let t = enc.parameters().plaintext_modulus();
            for v in [&x_slots, &input.phi, &input.c] {
                let pt = enc.encode_signed(&residues(v, t))?;
                let ct = sk.encrypt_seeded_with(&pt, &mut sampler)?;
                w.object(&ct.to_bytes())?;
            }
        }
        Ok(w.into_bytes())
    }

    /// The reply's ciphertexts, per lane (U, R), parsed and validated.
    pub fn reply_ciphertexts(&self, reply: &[u8]) -> Result<Vec<(Ciphertext, Ciphertext)>> {
        let mut r = Reader::new(reply, REPLY_MAGIC, "exact accurate reply")?;
        let out = self
            .setup
            .lanes
            .params
            .iter()
            .map(|p| {
                let mut one = || -> Result<Ciphertext> {
                    let ct = Ciphertext::from_bytes(p, r.object(reply.len(), "reply ciphertext")?)?;
                    if ct.len() != 2 {
                        return Err(bad("a reply ciphertext is not two polynomials"));
                    }
                    Ok(ct)
                };
                Ok((one()?, one()?))
            })
            .collect::<Result<Vec<_>>>()?;
        r.finish()?;
        Ok(out)
    }

    /// U and R, recombined by CRT (equal to `ExactModel::step_integers`).
    pub fn decode_integers(&self, reply: &[u8]) -> Result<ExactResult> {
        let cts = self.reply_ciphertexts(reply)?;
        let m = self.setup.public.items;
        let mut u_res = vec![Vec::with_capacity(cts.len()); m];
        let mut r_res = vec![Vec::with_capacity(cts.len()); m];
        for ((u, r), (sk, enc)) in cts.iter().zip(self.secrets.iter().zip(&self.encoders)) {
            let du = enc.decode(&sk.decrypt(u)?)?;
            let dr = enc.decode(&sk.decrypt(r)?)?;
            for i in 0..m {
                let (a, b) = du.get(i).zip(dr.get(i)).ok_or(Error::Invalid {
                    reason: "fewer slots than items",
                })?;
                u_res[i].push(*a);
                r_res[i].push(*b);
            }
        }
        let crt = self.setup.lanes.crt();
        let rec = |res: &[Vec<u64>]| -> Result<Vec<BigInt>> {
            res.iter().map(|v| crt.centered(v)).collect()
        };
        Ok(ExactResult {
            u: rec(&u_res)?,
            r: rec(&r_res)?,
        })
    }

    /// The predictions after the step (or the fast-mode ones when the step raised the user's
    /// loss on its own ratings, as the plaintext step reverts).
    pub fn decode(&self, state: &AccurateBfvState, reply: &[u8]) -> Result<Vec<f32>> {
        let result = self.decode_integers(reply)?;
        Ok(predictions(&self.setup.public, &result, &state.ratings))
    }
}
