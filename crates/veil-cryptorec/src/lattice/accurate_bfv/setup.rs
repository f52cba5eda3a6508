//! The exact accurate mode's public setup (`VCBS`: shape, scales, bounds, the lanes' parameters)
//! and the client's evaluation keys (`VCBK`: one public, relinearization and Galois key set,
//! made under the first lane and carried over to the others).

use std::sync::Arc;

use num_bigint::BigUint;
use veil_bfv::{BfvParameters, GaloisKeys, PublicKey, RelinearizationKey, SecretKey};
use veil_ring::sample::Sampler;

use crate::error::Result;
use crate::lattice::accurate_bfv::fixed::ExactPublic;
use crate::lattice::accurate_bfv::lanes::{Lanes, MAX_LANES};
use crate::lattice::layout::FastLayout;
use crate::lattice::wire::{Reader, Writer, bad};

const SETUP_MAGIC: &[u8; 4] = b"VCBS";
const KEYS_MAGIC: &[u8; 4] = b"VCBK";
const MAX_PARAMETER_BYTES: usize = 4096;
/// The result bound is below 2^(62 x MAX_LANES): 96 bytes hold it.
const MAX_BOUND_BYTES: usize = 96;

/// What a client needs before its first query: lanes, slot layout, public scales and bounds.
#[derive(Clone, Debug)]
pub struct AccurateBfvSetup {
    /// One BFV parameter set per plaintext prime (same ciphertext chain).
    pub lanes: Lanes,
    /// Slot layout (m, d, baby steps).
    pub layout: FastLayout,
    /// Scales and bounds.
    pub public: ExactPublic,
}

impl PartialEq for AccurateBfvSetup {
    fn eq(&self, other: &Self) -> bool {
        self.lanes.params == other.lanes.params
            && self.layout == other.layout
            && self.public == other.public
    }
}

impl AccurateBfvSetup {
    /// The first lane's parameters (the keys are made under them).
    pub fn first(&self) -> &Arc<BfvParameters> {
        // `Lanes` always holds at least one lane.
        &self.lanes.params[0]
    }

    /// `VCBS`, version, m, d, b, rating bits, alpha, |X|, |C|, S_u, S_out, |U|, |R| (bytes),
    /// the lane count, the first lane's parameters, the other primes.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let p = &self.public;
        let mut w = Writer::new(SETUP_MAGIC);
        w.u32(u32::try_from(self.layout.items).map_err(|_| bad("items"))?);
        w.u32(u32::try_from(self.layout.dim).map_err(|_| bad("dimension"))?);
        w.u32(u32::try_from(self.layout.baby).map_err(|_| bad("baby steps"))?);
        w.u8(u8::try_from(p.rating_frac_bits).map_err(|_| bad("rating bits"))?);
        w.u32(p.input_norm.to_bits());
        w.u64(p.input_bound.unsigned_abs());
        w.u64(p.centred_bound.unsigned_abs());
        w.u64(p.u_scale.to_bits());
        w.u64(p.out_scale.to_bits());
        w.u128(p.u_bound);
        w.object(&p.r_bound.to_bytes_le())?;
        w.u8(u8::try_from(self.lanes.params.len()).map_err(|_| bad("lanes"))?);
        w.object(&self.first().to_bytes())?;
        for t in &self.lanes.primes()[1..] {
            w.u64(*t);
        }
        Ok(w.into_bytes())
    }

    /// Parses and validates a setup: parameters through veil-bfv's validating reader, the lane
    /// primes distinct batching primes whose product exceeds twice the announced bound.
    pub fn from_bytes(bytes: &[u8], allow_below_128_bit_security: bool) -> Result<Self> {
        let mut r = Reader::new(bytes, SETUP_MAGIC, "exact accurate setup")?;
        let items = r.u32()? as usize;
        let dim = r.u32()? as usize;
        let baby = r.u32()? as usize;
        let rating_frac_bits = u32::from(r.u8()?);
        let input_norm = f32::from_bits(r.u32()?);
        let input_bound = r.u64()?;
        let centred_bound = r.u64()?;
        let u_scale = f64::from_bits(r.u64()?);
        let out_scale = f64::from_bits(r.u64()?);
        let u_bound = r.u128()?;
        let r_bound = BigUint::from_bytes_le(r.object(MAX_BOUND_BYTES, "result bound")?);
        let lanes = usize::from(r.u8()?);
        if !(1..=MAX_LANES).contains(&lanes) {
            return Err(bad("exact accurate setup: lane count out of range"));
        }
        let first = BfvParameters::from_bytes(
            r.object(MAX_PARAMETER_BYTES, "BFV parameters")?,
            allow_below_128_bit_security,
        )?;
        let others = (1..lanes).map(|_| r.u64()).collect::<Result<Vec<_>>>()?;
        r.finish()?;
        let scale_ok = |s: f64| s.is_finite() && s >= 1.0;
        let valid = input_norm.is_finite()
            && (0.0..=4.0).contains(&input_norm)
            && rating_frac_bits <= 16
            && scale_ok(u_scale)
            && scale_ok(out_scale)
            && input_bound <= 1 << 48
            && centred_bound <= 1 << 62;
        if !valid {
            return Err(bad(
                "exact accurate setup: a scale or bound is out of range",
            ));
        }
        let layout = FastLayout::new(items, dim, first.degree(), Some(baby))?;
        let lanes = Lanes::from_first(first, &others, allow_below_128_bit_security)?;
        let public = ExactPublic {
            items,
            dim,
            rating_frac_bits,
            input_norm,
            input_bound: input_bound as i64,
            centred_bound: centred_bound as i64,
            u_scale,
            out_scale,
            u_bound,
            r_bound,
        };
        if *lanes.modulus() <= public.result_bound() * 2u32 {
            return Err(bad(
                "exact accurate setup: the lanes do not hold twice the announced bound",
            ));
        }
        Ok(AccurateBfvSetup {
            lanes,
            layout,
            public,
        })
    }

    /// Rotations: the fast mode's, plus 1, 2, ..., D_d / 2 (the sum of p . p' over a period).
    pub fn rotation_steps(&self) -> Vec<i64> {
        self.layout.rotation_steps_with_period_sum()
    }
}

/// A client's evaluation keys, one set for every lane (the same switching keys re-attached to
/// each lane's parameters: BFV keys do not depend on t).
#[derive(Debug)]
pub struct AccurateBfvKeys {
    /// Per lane: public key (sanitization).
    pub public: Vec<PublicKey>,
    /// Per lane: relinearization key (three ciphertext products).
    pub relin: Vec<RelinearizationKey>,
    /// Per lane: Galois keys ([`AccurateBfvSetup::rotation_steps`]).
    pub galois: Vec<GaloisKeys>,
}

impl AccurateBfvKeys {
    /// Keys for `setup` from the client's secret (under the first lane).
    pub(crate) fn generate(setup: &AccurateBfvSetup, secret: &SecretKey) -> Result<Vec<u8>> {
        let mut sampler = Sampler::from_entropy();
        let mut w = Writer::new(KEYS_MAGIC);
        w.object(&secret.public_key_with(&mut sampler)?.to_bytes())?;
        w.object(&secret.relinearization_key_with(&mut sampler)?.to_bytes())?;
        w.object(
            &secret
                .galois_keys_for(&setup.rotation_steps(), false, &mut sampler)?
                .to_bytes(),
        )?;
        Ok(w.into_bytes())
    }

    /// Parses keys (each bounded by the largest it can be under `setup` before it is read) and
    /// carries them over to every lane.
    pub fn from_bytes(setup: &AccurateBfvSetup, bytes: &[u8]) -> Result<Self> {
        let p = setup.first();
        let (n, k) = (p.degree(), p.ciphertext_moduli().len());
        let per_key = 2 * k * (k + 1) * n * 8 + 256;
        let steps = setup.rotation_steps();
        let mut r = Reader::new(bytes, KEYS_MAGIC, "exact accurate keys")?;
        let public = PublicKey::from_bytes(p, r.object(2 * (k + 1) * n * 8 + 256, "public key")?)?;
        let relin = RelinearizationKey::from_bytes(p, r.object(per_key, "relinearization key")?)?;
        let galois =
            GaloisKeys::from_bytes(p, r.object((steps.len() + 1) * per_key, "Galois keys")?)?;
        r.finish()?;
        if steps.iter().any(|&s| galois.rotation_cost(s) != Some(1)) {
            return Err(bad(
                "the Galois keys do not cover every rotation of this server",
            ));
        }
        let lanes = &setup.lanes.params;
        Ok(AccurateBfvKeys {
            public: lanes
                .iter()
                .map(|l| public.with_parameters(l))
                .collect::<std::result::Result<_, _>>()?,
            relin: lanes
                .iter()
                .map(|l| relin.with_parameters(l))
                .collect::<std::result::Result<_, _>>()?,
            galois: lanes
                .iter()
                .map(|l| galois.with_parameters(l))
                .collect::<std::result::Result<_, _>>()?,
        })
    }
}
