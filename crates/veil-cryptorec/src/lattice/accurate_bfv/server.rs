//! The exact accurate-mode server: per lane (plaintext prime t_j) it evaluates the integer
//! circuit of [`super::fixed`] on the client's Enc(X), Enc(PHI), Enc(C) and replies with
//! sanitized Enc(U) and Enc(R) (veil-bfv's `PublicKey::sanitize`: statistical distance 2^-40).

use num_bigint::BigInt;
use num_traits::ToPrimitive;
use veil_bfv::{
    Ciphertext, Encoder, GaloisKeys, PlainMatrix, Plaintext, RelinearizationKey, SeededCiphertext,
};
use veil_ring::sample::Sampler;

use crate::error::{Error, Result};
use crate::lattice::accurate_bfv::fixed::{ExactConfig, ExactModel};
use crate::lattice::accurate_bfv::lanes::Lanes;
use crate::lattice::accurate_bfv::setup::{AccurateBfvKeys, AccurateBfvSetup};
use crate::lattice::layout::FastLayout;
use crate::lattice::params::LatticeConfig;
use crate::lattice::wire::{Reader, Writer, bad};
use crate::model::Model;

pub(crate) const QUERY_MAGIC: &[u8; 4] = b"VCBQ";
pub(crate) const REPLY_MAGIC: &[u8; 4] = b"VCBR";

/// Settings of the exact accurate mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AccurateBfvConfig {
    /// Ring degree, prime size, baby steps, security (the `circuit_privacy` flag is ignored:
    /// replies are always sanitized).
    pub lattice: LatticeConfig,
    /// Quantization of the model and of the step.
    pub exact: ExactConfig,
    /// Keep every lane's prepared matrices in memory (3 D_d NTT-form diagonals over Q per lane:
    /// several GB at m = 3,952, d = 500) instead of preparing each lane's during the answer.
    pub keep_prepared: bool,
}

impl AccurateBfvConfig {
    /// N = 16384, [`ExactConfig::one_step`], matrices prepared per answer.
    pub fn one_step(lambda: f32) -> Self {
        AccurateBfvConfig {
            lattice: LatticeConfig::default(),
            exact: ExactConfig::one_step(lambda),
            keep_prepared: false,
        }
    }
}

/// One lane's prepared plaintexts.
#[derive(Debug)]
struct LaneMatrices {
    /// P = X A' (band of A').
    band_a: PlainMatrix,
    /// G = Q'^T E (band of Q').
    band_q: PlainMatrix,
    /// Q' y (tall), for U and T.
    tall_q: PlainMatrix,
    /// B_i mod t_j.
    bias: Plaintext,
    /// Bo_i mod t_j.
    bias_out: Plaintext,
}

/// The exact accurate-mode server.
#[derive(Debug)]
pub struct AccurateBfvServer {
    setup: AccurateBfvSetup,
    model: ExactModel,
    encoders: Vec<Encoder>,
    band_a_rows: Vec<Vec<i64>>,
    band_q_rows: Vec<Vec<i64>>,
    tall_q_rows: Vec<Vec<i64>>,
    prepared: Vec<LaneMatrices>,
}

fn replicate(mut z: Ciphertext, layout: &FastLayout, gk: &GaloisKeys) -> Result<Ciphertext> {
    let mut step = layout.item_period();
    while step < layout.row {
        z = z.add(&z.rotate_rows(step as i64, gk)?)?;
        step *= 2;
    }
    Ok(z)
}

fn fold(mut z: Ciphertext, layout: &FastLayout, gk: &GaloisKeys) -> Result<Ciphertext> {
    let mut step = layout.dim_period();
    while step < layout.item_period() {
        z = z.add(&z.rotate_rows(step as i64, gk)?)?;
        step *= 2;
    }
    Ok(z)
}

/// v mod t in (-t/2, t/2] (what `Encoder::encode_signed` accepts).
pub(crate) fn residue(v: &BigInt, t: u64) -> i64 {
    let t_big = BigInt::from(t);
    // In [0, t), t < 2^62.
    let r = ((v % &t_big) + &t_big) % &t_big;
    let r = r.to_i64().unwrap_or(0);
    if r > (t / 2) as i64 { r - t as i64 } else { r }
}

/// Every value mod t in (-t/2, t/2].
pub(crate) fn residues(v: &[i64], t: u64) -> Vec<i64> {
    v.iter().map(|&x| residue(&BigInt::from(x), t)).collect()
}

impl AccurateBfvServer {
    /// Quantizes `model`, chooses the lanes from the tracked bound and prepares the matrices.
    pub fn new(model: &Model, cfg: &AccurateBfvConfig) -> Result<Self> {
        Self::with_lanes(model, cfg, None)
    }

    /// As [`AccurateBfvServer::new`], with given lanes (e.g. those of another model, so that
    /// clients of both share parameters); refused unless their degree is `cfg`'s and their
    /// modulus exceeds twice this model's bound.
    pub fn with_lanes(
        model: &Model,
        cfg: &AccurateBfvConfig,
        lanes: Option<&Lanes>,
    ) -> Result<Self> {
        let exact = ExactModel::new(model, &cfg.exact)?;
        let lat = &cfg.lattice;
        let (m, d) = (exact.public.items, exact.public.dim);
        let layout = FastLayout::new(m, d, lat.degree, lat.baby_steps)?;
        let lanes = match lanes {
            None => Lanes::choose(lat, &exact.public.result_bound(), layout.dim_period())?,
            Some(l) => {
                if l.params[0].degree() != lat.degree
                    || *l.modulus() <= exact.public.result_bound() * 2u32
                {
                    return Err(Error::Invalid {
                        reason: "the given lanes do not hold twice this model's bound at this degree",
                    });
                }
                l.clone()
            }
        };
        let encoders = lanes
            .params
            .iter()
            .map(Encoder::new)
            .collect::<std::result::Result<Vec<_>, _>>()?;
        let q = &exact.quantized;
        let band_a_rows = layout.band_matrix(|j, c| q.a[(j, c)]);
        let band_q_rows = layout.band_matrix(|j, c| q.q_t[(c, j)]);
        let tall_q_rows: Vec<Vec<i64>> = (0..m).map(|i| q.q_t.column(i).to_vec()).collect();
        let mut server = AccurateBfvServer {
            setup: AccurateBfvSetup {
                lanes,
                layout,
                public: exact.public.clone(),
            },
            model: exact,
            encoders,
            band_a_rows,
            band_q_rows,
            tall_q_rows,
            prepared: Vec::new(),
        };
        if cfg.keep_prepared {
            server.prepared = (0..server.encoders.len())
                .map(|j| server.prepare(j))
                .collect::<Result<_>>()?;
        }
        Ok(server)
    }

    fn prepare(&self, lane: usize) -> Result<LaneMatrices> {
        let enc = &self.encoders[lane];
        let t = enc.parameters().plaintext_modulus();
        let b = Some(self.setup.layout.baby);
        let bias = residues(&self.model.quantized.bias.to_vec(), t);
        let bias_out: Vec<i64> = self.model.bias_out.iter().map(|v| residue(v, t)).collect();
        Ok(LaneMatrices {
            band_a: PlainMatrix::new(enc, &self.band_a_rows, b)?,
            band_q: PlainMatrix::new(enc, &self.band_q_rows, b)?,
            tall_q: PlainMatrix::new(enc, &self.tall_q_rows, b)?,
            bias: enc.encode_signed(&bias)?,
            bias_out: enc.encode_signed(&bias_out)?,
        })
    }

    /// The public setup.
    pub fn setup(&self) -> &AccurateBfvSetup {
        &self.setup
    }

    /// [`AccurateBfvSetup::to_bytes`].
    pub fn setup_bytes(&self) -> Result<Vec<u8>> {
        self.setup.to_bytes()
    }

    /// The integer model (for tests: [`ExactModel::step_integers`] is the reference).
    pub fn exact_model(&self) -> &ExactModel {
        &self.model
    }

    /// Parses a client's keys (once per client).
    pub fn client_keys(&self, bytes: &[u8]) -> Result<AccurateBfvKeys> {
        AccurateBfvKeys::from_bytes(&self.setup, bytes)
    }

    /// Answers one query: per lane, sanitized Enc(U) and Enc(R).
    pub fn answer(&self, keys: &AccurateBfvKeys, query: &[u8]) -> Result<Vec<u8>> {
        let lanes = self.parse_query(query)?;
        let mut w = Writer::new(REPLY_MAGIC);
        let mut sampler = Sampler::from_entropy();
        for (j, [x, phi, c]) in lanes.iter().enumerate() {
            let (u, r) = self.evaluate_lane(keys, j, x, phi, c)?;
            for ct in [u, r] {
                w.object(&keys.public[j].sanitize(&ct, &mut sampler)?.to_bytes())?;
            }
        }
        Ok(w.into_bytes())
    }

    /// The query's ciphertexts, per lane [X, PHI, C] (expanded from their seeds).
    pub fn parse_query(&self, query: &[u8]) -> Result<Vec<[Ciphertext; 3]>> {
        let limit = query.len();
        let mut r = Reader::new(query, QUERY_MAGIC, "exact accurate query")?;
        let lanes = self
            .setup
            .lanes
            .params
            .iter()
            .map(|p| {
                let mut one = || -> Result<Ciphertext> {
                    Ok(
                        SeededCiphertext::from_bytes(p, r.object(limit, "query ciphertext")?)?
                            .expand(),
                    )
                };
                Ok([one()?, one()?, one()?])
            })
            .collect::<Result<Vec<_>>>()?;
        r.finish()?;
        Ok(lanes)
    }

    /// (Enc(U), Enc(R)) of lane `lane` before sanitization (public for the noise and privacy
    /// tests).
    pub fn evaluate_lane(
        &self,
        keys: &AccurateBfvKeys,
        lane: usize,
        x: &Ciphertext,
        phi: &Ciphertext,
        c: &Ciphertext,
    ) -> Result<(Ciphertext, Ciphertext)> {
        let layout = &self.setup.layout;
        let (gk, rk): (&GaloisKeys, &RelinearizationKey) =
            match (keys.galois.get(lane), keys.relin.get(lane)) {
                (Some(g), Some(r)) => (g, r),
                _ => return Err(bad("exact accurate: no keys for this lane")),
            };
        let fresh;
        let mats = match self.prepared.get(lane) {
            Some(m) => m,
            None => {
                fresh = self.prepare(lane)?;
                &fresh
            }
        };
        let t = self.encoders[lane].parameters().plaintext_modulus();
        let model = &self.model;
        // P = X A', replicated with period D_d.
        let p = fold(
            replicate(mats.band_a.mul_vector(x, gk)?, layout, gk)?,
            layout,
            gk,
        )?;
        // U = Q' P + B (first m slots).
        let u = mats.tall_q.mul_vector(&p, gk)?.add_plain(&mats.bias)?;
        // E = PHI U - C.
        let e = phi.mul_relin(&u, rk)?.sub(c)?;
        // G = Q'^T E (replicated), P' = A1 P - G.
        let g = fold(
            replicate(
                mats.band_q
                    .mul_vector(&replicate(e.clone(), layout, gk)?, gk)?,
                layout,
                gk,
            )?,
            layout,
            gk,
        )?;
        let p2 = p.mul_scalar(model.a1).sub(&g)?;
        // M1 (Q' P') + Bo.
        let m1 = i64::try_from(model.m1.rem_euclid(i128::from(t))).map_err(|_| Error::Invalid {
            reason: "plaintext prime above 2^63",
        })?;
        let lin = mats
            .tall_q
            .mul_vector(&p2, gk)?
            .mul_scalar(m1)
            .add_plain(&mats.bias_out)?;
        // D = H (P . P') in every slot.
        let mut dot = p.mul_scalar(model.h).mul_relin(&p2, rk)?;
        let mut s = 1;
        while s < layout.dim_period() {
            dot = dot.add(&dot.rotate_rows(s as i64, gk)?)?;
            s *= 2;
        }
        // R = M1 T + Bo - E D.
        let r = lin.sub(&e.mul_relin(&dot, rk)?)?;
        Ok((u, r))
    }
}
