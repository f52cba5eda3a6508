//! Encrypted inference over CKKS (`veil-ckks`).
//!
//! **Layout: one sample per slot, in every layer.** The client encrypts one ciphertext per
//! standardised feature, slot j holding sample j (up to N/2 samples per batch). A dense layer is
//! then, per output neuron, a linear combination of the input ciphertexts with the weights as
//! scalars ([`veil_ckks::linear_combination_to`]: integer products, one rescale, landing on the
//! parameters' scale exactly) and needs no rotation and no Galois key. (The other layout, one
//! sample's features in one ciphertext with BSGS [`veil_ckks::PlainMatrix`] products, costs
//! sqrt(d) rotations per layer and sample; it is not implemented here, see `docs/reacthe.md`.)
//!
//! Levels: the input projection 1, each block 3 (the linear layer; c2 z by a constant product; the
//! square z (c2 z)), the head 1: 2 + 3 x blocks for a residual network; plain networks 3 per layer
//! plus the head. a(z) = c0 + c1 z + c2 z^2 with the ReActHE activation z + alpha z^2 as
//! (c0, c1, c2) = (0, 1, alpha).
//!
//! **Reply privacy.** The reply's noise depends on the model. Without sanitization,
//! [`Server::evaluate`] drops every output to level 0. With [`Server::with_sanitization`], each
//! output is sanitized by the library ([`veil_ckks::PublicKey::sanitize`]: a fresh encryption of
//! zero plus uniform coefficient flooding of 2^([`veil_ckks::flooding_bits`]) for a coefficient
//! error below 2^error_bits, 2^-40 statistical by the smudging lemma) at the lowest level whose
//! modulus holds the flooding. What that costs in precision, measured, is in `docs/reacthe.md`.

use std::sync::Arc;

use ndarray::Array2;
use rayon::prelude::*;
use veil_ckks::{
    Ciphertext, CkksParameters, Plaintext, PublicKey, RelinearizationKey, Sampler, SecretKey,
    linear_combination_to,
};

use crate::error::{Error, Result};
use crate::model::{Activation, Dense, Network};

/// The levels `net` consumes under this module's circuit, or an error for ReLU or powers other
/// than 2.
pub fn depth_needed(net: &Network) -> Result<usize> {
    quadratic(net.arch.activation)?;
    let per_layer = 3 * net.hidden.len();
    Ok(per_layer + usize::from(net.input.is_some()) + 1)
}

/// (c0, c1, c2) of a degree-2 activation.
fn quadratic(act: Activation) -> Result<(f64, f64, f64)> {
    match act {
        Activation::Power { alpha, power: 2 } => Ok((0.0, 1.0, alpha)),
        Activation::Square => Ok((0.0, 0.0, 1.0)),
        Activation::Quadratic { c0, c1, c2 } => Ok((c0, c1, c2)),
        other => Err(Error::Config {
            reason: format!("activation {} is not a degree-2 polynomial", other.name()),
        }),
    }
}

/// The data owner: holds the secret key, encrypts standardised features, decrypts outputs.
pub struct Client {
    params: Arc<CkksParameters>,
    secret: SecretKey,
    public: PublicKey,
    relin: RelinearizationKey,
}

impl core::fmt::Debug for Client {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Client")
            .field("degree", &self.params.degree())
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Client {
    /// Fresh keys for `params`.
    pub fn new(params: &Arc<CkksParameters>) -> Result<Client> {
        let secret = SecretKey::generate(params)?;
        Ok(Client {
            params: params.clone(),
            public: secret.public_key()?,
            relin: secret.relinearization_key()?,
            secret,
        })
    }

    /// log2 of the largest coefficient error of `reply` against `expected` (one row per slot,
    /// one column per output ciphertext: the unused slots of a batch hold the network's outputs
    /// at x = 0, which `expected` must include): the `error_bits` that sanitization must hide.
    /// A key-holder diagnostic for calibrating a server's noise model; variable time.
    pub fn reply_error_bits_vartime(
        &self,
        reply: &[Ciphertext],
        expected: &Array2<f64>,
    ) -> Result<u32> {
        let mut bits = 0;
        for (ct, column) in reply.iter().zip(expected.columns()) {
            let pt =
                Plaintext::encode_real(&self.params, &column.to_vec(), ct.level(), ct.scale())?;
            bits = bits.max(self.secret.error_bits_vartime(ct, &pt)?);
        }
        Ok(bits)
    }

    /// The public key (the server uses it for sanitization only).
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    /// The relinearization key the server needs.
    pub fn relinearization_key(&self) -> &RelinearizationKey {
        &self.relin
    }

    /// Samples per ciphertext (N/2).
    pub fn batch_capacity(&self) -> usize {
        self.params.slots()
    }

    /// One ciphertext per feature of the standardised `x` (samples in slots; at most N/2 rows), at
    /// the top level.
    pub fn encrypt_batch(&self, x_standardized: &Array2<f64>) -> Result<Vec<Ciphertext>> {
        self.encrypt_batch_at(x_standardized, self.params.max_level())
    }

    /// [`Client::encrypt_batch`] at `level`: [`depth_needed`] of the network is enough, and every
    /// level less makes the server's work cheaper.
    pub fn encrypt_batch_at(
        &self,
        x_standardized: &Array2<f64>,
        level: usize,
    ) -> Result<Vec<Ciphertext>> {
        if level > self.params.max_level() {
            return Err(Error::Depth {
                needed: level,
                available: self.params.max_level(),
            });
        }
        if x_standardized.nrows() > self.params.slots() || x_standardized.nrows() == 0 {
            return Err(Error::Config {
                reason: format!(
                    "a batch holds 1..={} samples, got {}",
                    self.params.slots(),
                    x_standardized.nrows()
                ),
            });
        }
        x_standardized
            .columns()
            .into_iter()
            .collect::<Vec<_>>()
            .par_iter()
            .map(|col| {
                let values: Vec<f64> = col.to_vec();
                let pt = Plaintext::encode_real(&self.params, &values, level, self.params.scale())?;
                Ok(self.public.encrypt(&pt)?)
            })
            .collect()
    }

    /// Decrypts the reply to `samples` rows of outputs.
    pub fn decrypt_outputs(&self, reply: &[Ciphertext], samples: usize) -> Result<Array2<f64>> {
        let mut out = Array2::zeros((samples.min(self.params.slots()), reply.len()));
        for (j, ct) in reply.iter().enumerate() {
            let values = self.secret.decrypt_real(ct)?;
            for (i, v) in values.iter().take(out.nrows()).enumerate() {
                out[[i, j]] = *v;
            }
        }
        Ok(out)
    }
}

/// The model owner's evaluator.
#[derive(Debug)]
pub struct Server<'a> {
    net: &'a Network,
    relin: &'a RelinearizationKey,
    sanitize: Option<(&'a PublicKey, u32)>,
}

impl<'a> Server<'a> {
    /// An evaluator of `net` with the client's relinearization key.
    pub fn new(net: &'a Network, relin: &'a RelinearizationKey) -> Result<Server<'a>> {
        depth_needed(net)?;
        Ok(Server {
            net,
            relin,
            sanitize: None,
        })
    }

    /// Sanitizes every output before replying ([`PublicKey::sanitize`] under the client's `pk`)
    /// for a computation error below 2^`error_bits` per coefficient: statistical distance 2^-40
    /// when the bound holds (a smaller `error_bits` than the true error gives a weaker
    /// guarantee: 2^-(40 - deficit)). The reply stays at the lowest level whose modulus holds
    /// the flooding, so the client must encrypt that many levels above [`depth_needed`].
    pub fn with_sanitization(mut self, pk: &'a PublicKey, error_bits: u32) -> Self {
        self.sanitize = Some((pk, error_bits));
        self
    }

    /// One dense layer: the linear combination landing one level below its inputs.
    fn dense(layer: &Dense, inputs: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        let level = inputs.iter().map(Ciphertext::level).min().unwrap_or(0);
        let out_level = level.checked_sub(1).ok_or(Error::Depth {
            needed: 1,
            available: 0,
        })?;
        let params = inputs
            .first()
            .map(|c| c.parameters().clone())
            .ok_or_else(|| Error::Config {
                reason: "no inputs".into(),
            })?;
        let terms: Vec<&Ciphertext> = inputs.iter().collect();
        layer
            .w
            .rows()
            .into_iter()
            .zip(layer.b.iter())
            .collect::<Vec<_>>()
            .par_iter()
            .map(|(row, b)| {
                let coefficients: Vec<f64> = row.to_vec();
                Ok(linear_combination_to(
                    &terms,
                    &coefficients,
                    **b,
                    out_level,
                    params.scale(),
                )?)
            })
            .collect()
    }

    /// a(z) = c0 + c1 z + c2 z^2 on every ciphertext: 2 levels.
    fn activate(&self, z: &[Ciphertext], act: Activation) -> Result<Vec<Ciphertext>> {
        let (c0, c1, c2) = quadratic(act)?;
        z.par_iter()
            .map(|zi| {
                let scaled = zi.mul_const_rescale(c2)?;
                let square = zi.mul_relin_rescale(&scaled, self.relin)?;
                let linear = if c1 == 1.0 && c0 == 0.0 {
                    zi.clone()
                } else {
                    zi.mul_const_rescale(c1)?.add_const(c0)?
                };
                Ok(square.add(&linear)?)
            })
            .collect()
    }

    /// Evaluates the network on the encrypted features and returns the encrypted outputs (logits
    /// or the standardised regression value) as sent: [`Server::evaluate_raw`] then
    /// [`Server::finish`].
    pub fn evaluate(&self, features: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        self.finish(self.evaluate_raw(features)?)
    }

    /// The outputs at the level the circuit leaves them, not yet fit to send.
    pub fn evaluate_raw(&self, features: &[Ciphertext]) -> Result<Vec<Ciphertext>> {
        let net = self.net;
        if features.len() != net.features() {
            return Err(Error::Config {
                reason: format!(
                    "{} feature ciphertexts for a {}-input network",
                    features.len(),
                    net.features()
                ),
            });
        }
        let needed = depth_needed(net)?;
        let available = features.iter().map(Ciphertext::level).min().unwrap_or(0);
        if needed > available {
            return Err(Error::Depth { needed, available });
        }
        let mut h = match &net.input {
            Some(layer) => Self::dense(layer, features)?,
            None => features.to_vec(),
        };
        for layer in &net.hidden {
            let z = Self::dense(layer, &h)?;
            let a = self.activate(&z, net.arch.activation)?;
            h = if net.arch.residual {
                h.par_iter()
                    .zip(&a)
                    .map(|(hi, ai)| Ok(hi.add(ai)?))
                    .collect::<Result<_>>()?
            } else {
                a
            };
        }
        Self::dense(&net.head, &h)
    }

    /// Makes raw outputs fit to send: sanitized at the lowest level that holds the flooding if
    /// configured (an error if none does), else dropped to level 0.
    pub fn finish(&self, outputs: Vec<Ciphertext>) -> Result<Vec<Ciphertext>> {
        outputs
            .par_iter()
            .map(|ct| match self.sanitize {
                None => Ok(ct.mod_drop_to(0)?),
                Some((pk, error_bits)) => {
                    let mut sampler = Sampler::from_entropy();
                    let mut last = None;
                    for level in 0..=ct.level() {
                        match pk.sanitize(&ct.mod_drop_to(level)?, error_bits, &mut sampler) {
                            Ok(reply) => return Ok(reply),
                            Err(e @ veil_ckks::Error::InvalidParameters { .. }) => last = Some(e),
                            Err(e) => return Err(e.into()),
                        }
                    }
                    Err(last.map_or(
                        Error::Depth {
                            needed: 1,
                            available: 0,
                        },
                        Error::from,
                    ))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{Standardizer, Task};
    use crate::model::{Architecture, gaussian};
    use ndarray::Array2;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;
    use veil_ckks::CkksParametersBuilder;

    /// N = 4096 with 6 rescaling primes: below 128-bit security, for tests only.
    fn small_params() -> Result<Arc<CkksParameters>> {
        Ok(CkksParametersBuilder::new()
            .degree(4096)
            .moduli_sizes(&[49, 40, 40, 40, 40, 40, 40, 49])
            .log_scale(40)
            .allow_below_128_bit_security()
            .build()?)
    }

    #[test]
    fn encrypted_outputs_match_float() -> Result<()> {
        let params = small_params()?;
        let client = Client::new(&params)?;
        let std = Standardizer {
            mean: vec![0.0; 5],
            std: vec![1.0; 5],
        };
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let x = Array2::from_shape_fn((40, 5), |_| gaussian(&mut rng));
        for arch in [
            Architecture::reacthe(6, 1, 0.2),
            Architecture::plain(6, 1, Activation::relu_least_squares(4.0)),
            Architecture::plain(6, 1, Activation::Square),
        ] {
            let net = Network::new(arch, Task::MultiClass(3), 5, std.clone(), 4)?;
            let want = net.forward_standardized(&x);
            let server = Server::new(&net, client.relinearization_key())?;
            let reply = server.evaluate(&client.encrypt_batch(&x)?)?;
            assert_eq!(reply.len(), 3);
            assert!(reply.iter().all(|c| c.level() == 0));
            let got = client.decrypt_outputs(&reply, 40)?;
            let err = (&got - &want).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
            assert!(err < 1e-4, "{arch:?}: max error {err}");
        }
        Ok(())
    }

    #[test]
    fn refuses_relu_and_too_deep_networks() -> Result<()> {
        let params = small_params()?;
        let client = Client::new(&params)?;
        let std = Standardizer {
            mean: vec![0.0; 2],
            std: vec![1.0; 2],
        };
        let relu = Network::new(
            Architecture::plain(4, 1, Activation::Relu),
            Task::Binary,
            2,
            std.clone(),
            1,
        )?;
        assert!(Server::new(&relu, client.relinearization_key()).is_err());
        let deep = Network::new(Architecture::reacthe(4, 3, 0.1), Task::Binary, 2, std, 1)?;
        let server = Server::new(&deep, client.relinearization_key())?;
        let x = Array2::zeros((3, 2));
        assert!(matches!(
            server.evaluate(&client.encrypt_batch(&x)?),
            Err(Error::Depth { .. })
        ));
        Ok(())
    }

    #[test]
    fn sanitized_replies_decrypt_within_the_flooding_estimate() -> Result<()> {
        let params = small_params()?;
        let client = Client::new(&params)?;
        let std = Standardizer {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let net = Network::new(Architecture::reacthe(4, 1, 0.1), Task::Binary, 3, std, 2)?;
        let x = Array2::from_shape_fn((20, 3), |(i, j)| (i as f64 - 10.0) / 10.0 + j as f64 / 5.0);
        let want = net.forward_standardized(&x);
        // One spare level above the circuit so that the flooding fits the reply's modulus.
        let features = client.encrypt_batch_at(&x, depth_needed(&net)? + 1)?;
        let server = Server::new(&net, client.relinearization_key())?;
        let raw = server.evaluate_raw(&features)?;
        // Unused slots hold the outputs at x = 0.
        let at_zero = net.forward_standardized(&Array2::zeros((1, 3)));
        let expected = Array2::from_shape_fn((params.slots(), 1), |(i, _)| {
            if i < 20 {
                want[[i, 0]]
            } else {
                at_zero[[0, 0]]
            }
        });
        let bits = client.reply_error_bits_vartime(&raw, &expected)?;
        assert!(bits > 0 && bits < 30, "error bits {bits}");
        // A deliberately weak setting (error_bits 0: distance bound 2^-(40 - bits)) keeps the
        // flooding small enough to check the decryption against the estimate.
        let weak = Server::new(&net, client.relinearization_key())?
            .with_sanitization(client.public_key(), 0);
        let reply = weak.finish(raw.clone())?;
        assert!(reply[0].level() >= 1);
        let got = client.decrypt_outputs(&reply, 20)?;
        let err = (&got - &want).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        // Slot error about 2^(flooding bits) sqrt(N / 3) / scale; 8 sigma of slack.
        let flood = 2f64.powi(veil_ckks::flooding_bits(params.degree(), 0) as i32);
        let estimate = flood * (params.degree() as f64 / 3.0).sqrt() / params.scale();
        assert!(
            err > 1e-6 && err < 8.0 * estimate,
            "max error {err}, estimate {estimate}"
        );
        // The full 2^-40 setting with the measured bound: at scale 2^40 the flooding swamps the
        // outputs (about 2^(bits + 16) per slot).
        let strong = server.with_sanitization(client.public_key(), bits);
        let got = client.decrypt_outputs(&strong.finish(raw.clone())?, 20)?;
        let err = (&got - &want).mapv(f64::abs).fold(0.0f64, |a, &b| a.max(b));
        assert!(err > 1e3, "max error {err}");
        // A bound too large for every level of the chain is refused.
        let impossible = Server::new(&net, client.relinearization_key())?
            .with_sanitization(client.public_key(), 100);
        assert!(impossible.finish(raw).is_err());
        Ok(())
    }
}
