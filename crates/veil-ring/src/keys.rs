//! The key objects that every RLWE scheme on this crate shares: a key-switching key (one pair per
//! RNS digit, its uniform halves expanded from seeds) and a set of Galois keys indexed by Galois
//! element, with their generation, their use ([`crate::keyswitch`]) and their validated wire form.
//!
//! A scheme owns its parameters and wraps these types; the ring layer only needs the key ring
//! R_{QP} (whose last prime is the special prime P) and the number of digits (the primes of Q).

use core::fmt;
use std::collections::BTreeMap;
use std::sync::Arc;

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::keyswitch::{self, Decomposition, SwitchRings};
use crate::poly::{Coeff, Context, Ntt, Poly};
use crate::rlwe::{error, expand_uniform, fresh_seed};
use crate::sample::Sampler;
use crate::wire::{Format, Reader, Writer, poly_len};

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

/// A ternary RLWE secret s: its coefficients and its NTT form over the key ring R_{QP}, with the
/// key generation every scheme shares. Wiped on drop; never printed.
pub struct RlweSecret {
    coeffs: Vec<i64>,
    s: Poly<Ntt>,
}

impl fmt::Debug for RlweSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RlweSecret(<redacted>)")
    }
}

impl Drop for RlweSecret {
    fn drop(&mut self) {
        self.coeffs.zeroize();
        self.s.zeroize();
    }
}

/// A public key (b, a) = (-(a s + e), a), NTT form, with the seed that a was expanded from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RlwePublicKey {
    /// b = -(a s + e).
    pub b: Poly<Ntt>,
    /// a, uniform.
    pub a: Poly<Ntt>,
    /// The seed of a: serialized instead of a.
    pub seed: [u8; 32],
}

impl RlwePublicKey {
    /// Header, `fingerprint`, the seed, then b.
    pub fn to_object(&self, format: Format, kind: u8, fingerprint: u64) -> Vec<u8> {
        let mut w = Writer::new(format, kind);
        w.u64(fingerprint);
        w.bytes(&self.seed);
        w.poly(&self.b);
        w.into_bytes()
    }

    /// Reads [`RlwePublicKey::to_object`]'s layout from untrusted bytes, b over `ctx`.
    pub fn from_object(
        bytes: &[u8],
        format: Format,
        kind: u8,
        fingerprint: u64,
        ctx: &Arc<Context>,
    ) -> Result<Self> {
        let mut r = open_object(bytes, format, kind, fingerprint)?;
        let seed = r.seed()?;
        if r.remaining() != poly_len(ctx) {
            return Err(malformed("wrong length for these parameters"));
        }
        let b = r.poly(ctx)?;
        r.finish()?;
        Ok(RlwePublicKey {
            a: expand_uniform(ctx, &seed),
            b,
            seed,
        })
    }
}

/// A reader past the header and a matching parameter fingerprint
/// ([`Error::ForeignParameters`] otherwise).
pub fn open_object<'a>(
    bytes: &'a [u8],
    format: Format,
    kind: u8,
    fingerprint: u64,
) -> Result<Reader<'a>> {
    let mut r = Reader::new(bytes, format, kind)?;
    if r.u64()? != fingerprint {
        return Err(Error::ForeignParameters);
    }
    Ok(r)
}

impl RlweSecret {
    /// A fresh ternary secret over the key ring.
    pub fn generate(key_ctx: &Arc<Context>, sampler: &mut Sampler) -> Result<Self> {
        Self::from_coeffs(key_ctx, sampler.ternary(key_ctx.degree()))
    }

    /// The secret of the given coefficients (each in {-1, 0, 1}).
    pub fn from_coeffs(key_ctx: &Arc<Context>, coeffs: Vec<i64>) -> Result<Self> {
        if coeffs.iter().any(|c| !(-1..=1).contains(c)) {
            return Err(malformed("secret coefficient not in {-1, 0, 1}"));
        }
        let s = Poly::from_small(key_ctx, &coeffs)?.into_ntt();
        Ok(RlweSecret { coeffs, s })
    }

    /// The coefficients of s.
    pub fn coeffs(&self) -> &[i64] {
        &self.coeffs
    }

    /// s in NTT form over the key ring.
    pub fn ntt(&self) -> &Poly<Ntt> {
        &self.s
    }

    /// s in NTT form over `ctx`, whose primes are the first ones of the key ring.
    pub fn ntt_over(&self, ctx: &Arc<Context>) -> Result<Poly<Ntt>> {
        if ctx == self.s.context() {
            return Ok(self.s.clone());
        }
        self.s.prefix(ctx)
    }

    /// A public key over `ctx` (the key ring or a prefix of it): (-(a s + e), a).
    pub fn public_key(&self, ctx: &Arc<Context>, sampler: &mut Sampler) -> Result<RlwePublicKey> {
        let seed = fresh_seed(sampler);
        let a = expand_uniform(ctx, &seed);
        let mut e = error(ctx, sampler)?.into_ntt();
        let mut b = a.mul(&self.ntt_over(ctx)?)?;
        b.add_assign(&e)?;
        e.zeroize();
        Ok(RlwePublicKey {
            b: b.neg(),
            a,
            seed,
        })
    }

    /// The relinearization key: a switching key from s^2 to s with `digits` pairs.
    pub fn relinearization_key(
        &self,
        digits: usize,
        sampler: &mut Sampler,
    ) -> Result<SwitchingKey> {
        let mut s2 = self.s.mul(&self.s)?;
        let key = SwitchingKey::generate(&self.s, &s2, digits, sampler);
        s2.zeroize();
        key
    }

    /// Galois keys for rotations by `steps` in the cycle of `generator`, and the `extra` elements.
    pub fn galois_keys(
        &self,
        digits: usize,
        generator: u64,
        steps: &[i64],
        extra: &[u64],
        sampler: &mut Sampler,
    ) -> Result<GaloisKeySet> {
        GaloisKeySet::generate(
            &self.s,
            &self.coeffs,
            digits,
            generator,
            steps,
            extra,
            sampler,
        )
    }
}

/// A key-switching key from s' to s: one pair (b_i, a_i) over R_{QP} per prime q_i of Q, in NTT
/// form, with b_i = -(a_i s + e_i) + P g_i s' (see [`keyswitch::key_body`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SwitchingKey {
    pairs: Vec<(Poly<Ntt>, Poly<Ntt>)>,
    /// The seed each a_i was expanded from: serialized instead of a_i.
    seeds: Vec<[u8; 32]>,
}

impl SwitchingKey {
    /// The key from `target` (s' in NTT form over R_{QP}) to `s` (NTT form over R_{QP}), with
    /// `digits` pairs (the number of primes of Q; R_{QP} has `digits + 1` primes).
    pub fn generate(
        s: &Poly<Ntt>,
        target: &Poly<Ntt>,
        digits: usize,
        sampler: &mut Sampler,
    ) -> Result<Self> {
        let ctx = s.context();
        if ctx.moduli().len() != digits + 1 || target.context() != ctx {
            return Err(Error::Mismatch {
                what: "key ring and digits",
                left: ctx.moduli().len(),
                right: digits + 1,
            });
        }
        let mut pairs = Vec::with_capacity(digits);
        let mut seeds = Vec::with_capacity(digits);
        for i in 0..digits {
            let seed = fresh_seed(sampler);
            let a = expand_uniform(ctx, &seed);
            let e = error(ctx, sampler)?.into_ntt();
            let b = keyswitch::key_body(i, s, target, &a, &e)?;
            pairs.push((b, a));
            seeds.push(seed);
        }
        Ok(SwitchingKey { pairs, seeds })
    }

    /// The pairs (b_i, a_i).
    pub fn pairs(&self) -> &[(Poly<Ntt>, Poly<Ntt>)] {
        &self.pairs
    }

    /// (u_0, u_1) over R_{Q_l} with u_0 + u_1 s = d s' + small, plus `addends`
    /// ([`keyswitch::switch`]).
    pub fn switch(
        &self,
        rings: SwitchRings<'_>,
        d: &Poly<Coeff>,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        keyswitch::switch(&self.pairs, rings, d, addends)
    }

    /// Key switching of a shared decomposition, composed with an NTT-slot permutation
    /// ([`keyswitch::switch_decomposed`]).
    pub fn switch_decomposed(
        &self,
        rings: SwitchRings<'_>,
        digits: &Decomposition,
        perm: Option<&[usize]>,
        addends: [Option<&Poly<Coeff>>; 2],
    ) -> Result<(Poly<Coeff>, Poly<Coeff>)> {
        keyswitch::switch_decomposed(&self.pairs, rings, digits, perm, addends)
    }

    /// [`SwitchingKey::switch`] with NTT-form results and addends ([`keyswitch::switch_ntt`]).
    pub fn switch_ntt(
        &self,
        rings: SwitchRings<'_>,
        d: &Poly<Coeff>,
        addends: [Option<&Poly<Ntt>>; 2],
    ) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
        keyswitch::switch_ntt(&self.pairs, rings, d, addends)
    }

    /// [`SwitchingKey::switch_decomposed`] with NTT-form results and addends.
    pub fn switch_decomposed_ntt(
        &self,
        rings: SwitchRings<'_>,
        digits: &Decomposition,
        perm: Option<&[usize]>,
        addends: [Option<&Poly<Ntt>>; 2],
    ) -> Result<(Poly<Ntt>, Poly<Ntt>)> {
        keyswitch::switch_decomposed_ntt(&self.pairs, rings, digits, perm, addends)
    }

    /// Bytes of [`SwitchingKey::write`] for this key ring and number of digits.
    pub fn byte_len(key_ctx: &Context, digits: usize) -> usize {
        digits * (32 + poly_len(key_ctx))
    }

    /// Per digit: the 32-byte seed of a_i, then b_i.
    pub fn write(&self, w: &mut Writer) {
        for ((b, _), seed) in self.pairs.iter().zip(&self.seeds) {
            w.bytes(seed);
            w.poly(b);
        }
    }

    /// Reads [`SwitchingKey::write`]'s layout; the caller has checked the remaining length
    /// against [`SwitchingKey::byte_len`], so nothing is allocated from an announced size.
    pub fn read(r: &mut Reader<'_>, key_ctx: &Arc<Context>, digits: usize) -> Result<Self> {
        if r.remaining() < Self::byte_len(key_ctx, digits) {
            return Err(malformed("truncated key"));
        }
        let mut pairs = Vec::with_capacity(digits);
        let mut seeds = Vec::with_capacity(digits);
        for _ in 0..digits {
            let seed = r.seed()?;
            let b = r.poly(key_ctx)?;
            pairs.push((b, expand_uniform(key_ctx, &seed)));
            seeds.push(seed);
        }
        Ok(SwitchingKey { pairs, seeds })
    }
}

impl SwitchingKey {
    /// Header, `fingerprint`, then the key ([`SwitchingKey::write`]).
    pub fn to_object(&self, format: Format, kind: u8, fingerprint: u64) -> Vec<u8> {
        let mut w = Writer::new(format, kind);
        w.u64(fingerprint);
        self.write(&mut w);
        w.into_bytes()
    }

    /// Reads [`SwitchingKey::to_object`]'s layout from untrusted bytes: exact length first.
    pub fn from_object(
        bytes: &[u8],
        format: Format,
        kind: u8,
        fingerprint: u64,
        key_ctx: &Arc<Context>,
        digits: usize,
    ) -> Result<Self> {
        let mut r = open_object(bytes, format, kind, fingerprint)?;
        if r.remaining() != Self::byte_len(key_ctx, digits) {
            return Err(malformed("wrong length for these parameters"));
        }
        let key = Self::read(&mut r, key_ctx, digits)?;
        r.finish()?;
        Ok(key)
    }
}

/// The Galois element of a left rotation by `step` (negative: right) in a cycle of N/2 slots
/// generated by `generator` (3 for BFV's rows, 5 for CKKS): generator^step mod 2N.
pub fn rotation_element(n: usize, generator: u64, step: i64) -> u64 {
    let two_n = 2 * n as u64;
    let k = step.rem_euclid((n / 2).max(1) as i64) as u64;
    let (mut acc, mut base, mut e) = (1u64, generator % two_n, k);
    while e > 0 {
        if e & 1 == 1 {
            acc = acc * base % two_n;
        }
        base = base * base % two_n;
        e >>= 1;
    }
    acc
}

/// Key-switching keys by Galois element, for rotations in the cycle of N/2 slots generated by
/// `generator` and any other elements (conjugation, column swap).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKeySet {
    n: usize,
    generator: u64,
    keys: BTreeMap<u64, SwitchingKey>,
    /// Rotation steps with a key, in (0, N/2), increasing.
    steps: Vec<usize>,
}

impl GaloisKeySet {
    /// Keys for the rotation `steps` (negative: right; zero and repeats ignored) and the `extra`
    /// Galois elements, from the secret with coefficients `s_coeffs` and NTT form `s` over the key
    /// ring, with `digits` pairs each.
    pub fn generate(
        s: &Poly<Ntt>,
        s_coeffs: &[i64],
        digits: usize,
        generator: u64,
        steps: &[i64],
        extra: &[u64],
        sampler: &mut Sampler,
    ) -> Result<Self> {
        let ctx = s.context();
        let n = ctx.degree();
        // First-occurrence order, so that a seeded sampler gives the same keys as it always did.
        let mut elements: Vec<u64> = Vec::new();
        let rotations = steps
            .iter()
            .filter(|&&k| k.rem_euclid((n / 2).max(1) as i64) != 0)
            .map(|&k| rotation_element(n, generator, k));
        for g in rotations.chain(extra.iter().copied()) {
            if !elements.contains(&g) {
                elements.push(g);
            }
        }
        let coeffs = Poly::from_small(ctx, s_coeffs)?;
        let mut keys = BTreeMap::new();
        for g in elements {
            let target = coeffs.automorphism(g)?.into_ntt();
            keys.insert(g, SwitchingKey::generate(s, &target, digits, sampler)?);
        }
        Ok(Self::from_keys(n, generator, keys))
    }

    fn from_keys(n: usize, generator: u64, keys: BTreeMap<u64, SwitchingKey>) -> Self {
        let two_n = 2 * n as u64;
        let mut steps = Vec::new();
        let mut g = 1u64;
        for k in 1..n / 2 {
            g = g * generator % two_n;
            if keys.contains_key(&g) {
                steps.push(k);
            }
        }
        GaloisKeySet {
            n,
            generator,
            keys,
            steps,
        }
    }

    /// The key of Galois element `g`, if any.
    pub fn get(&self, g: u64) -> Option<&SwitchingKey> {
        self.keys.get(&g)
    }

    /// The keys by Galois element, in increasing order.
    pub fn keys(&self) -> &BTreeMap<u64, SwitchingKey> {
        &self.keys
    }

    /// The rotation steps (left, in (0, N/2)) that have a key.
    pub fn steps(&self) -> &[usize] {
        &self.steps
    }

    /// The keyed steps whose sum is `step` (mod N/2): the step itself if keyed, else its binary
    /// decomposition over keyed powers of two; `None` if some needed power has no key.
    pub fn plan(&self, step: i64) -> Option<Vec<usize>> {
        let k = step.rem_euclid((self.n / 2).max(1) as i64) as usize;
        if k == 0 {
            return Some(Vec::new());
        }
        if self.steps.binary_search(&k).is_ok() {
            return Some(vec![k]);
        }
        let mut out = Vec::new();
        for bit in 0..usize::BITS {
            let p = 1usize << bit;
            if k & p != 0 {
                self.steps.binary_search(&p).ok()?;
                out.push(p);
            }
        }
        Some(out)
    }

    /// The Galois elements of the keyed steps whose composition rotates by `step` ([`Self::plan`]).
    pub fn plan_elements(&self, step: i64) -> Option<Vec<u64>> {
        self.plan(step)
            .map(|p| p.into_iter().map(|k| self.element(k as i64)).collect())
    }

    /// The Galois element of a rotation by `step` in this set's cycle.
    pub fn element(&self, step: i64) -> u64 {
        rotation_element(self.n, self.generator, step)
    }

    /// Bytes of [`GaloisKeySet::write`] for `count` keys.
    pub fn byte_len(key_ctx: &Context, digits: usize, count: usize) -> usize {
        4 + count * (8 + SwitchingKey::byte_len(key_ctx, digits))
    }

    /// The count, then per key in increasing element order: the element and the key.
    pub fn write(&self, w: &mut Writer) {
        w.u32(self.keys.len() as u32);
        for (&g, key) in &self.keys {
            w.u64(g);
            key.write(w);
        }
    }

    /// Reads [`GaloisKeySet::write`]'s layout from untrusted bytes, which must end there: at least
    /// one and at most N keys, each element odd and below 2N, strictly increasing (the canonical
    /// order, so no repeats), the exact length checked before any key is read.
    pub fn read(
        r: &mut Reader<'_>,
        key_ctx: &Arc<Context>,
        digits: usize,
        generator: u64,
    ) -> Result<Self> {
        let n = key_ctx.degree();
        let count = r.u32()? as usize;
        let per_key = 8 + SwitchingKey::byte_len(key_ctx, digits);
        if count == 0 || count > n || Some(r.remaining()) != count.checked_mul(per_key) {
            return Err(malformed(
                "wrong number of keys or length for these parameters",
            ));
        }
        let two_n = 2 * n as u64;
        let mut keys = BTreeMap::new();
        let mut last = 0u64;
        for _ in 0..count {
            let g = r.u64()?;
            if g % 2 == 0 || g >= two_n || g <= last {
                return Err(malformed("bad, repeated or out-of-order Galois element"));
            }
            last = g;
            keys.insert(g, SwitchingKey::read(r, key_ctx, digits)?);
        }
        Ok(Self::from_keys(n, generator, keys))
    }
}

impl GaloisKeySet {
    /// Header, `fingerprint`, then the keys ([`GaloisKeySet::write`]).
    pub fn to_object(&self, format: Format, kind: u8, fingerprint: u64) -> Vec<u8> {
        let mut w = Writer::new(format, kind);
        w.u64(fingerprint);
        self.write(&mut w);
        w.into_bytes()
    }

    /// Reads [`GaloisKeySet::to_object`]'s layout from untrusted bytes ([`GaloisKeySet::read`]).
    pub fn from_object(
        bytes: &[u8],
        format: Format,
        kind: u8,
        fingerprint: u64,
        key_ctx: &Arc<Context>,
        digits: usize,
        generator: u64,
    ) -> Result<Self> {
        let mut r = open_object(bytes, format, kind, fingerprint)?;
        let set = Self::read(&mut r, key_ctx, digits, generator)?;
        r.finish()?;
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use crate::wire::Format;

    const FORMAT: Format = Format {
        magic: *b"TEST",
        version: 1,
    };

    fn setup() -> (Arc<Context>, Vec<i64>, Poly<Ntt>, Sampler) {
        let n = 1024;
        let ctx = Context::new(&ntt_primes(40, n, 3).unwrap(), n).unwrap();
        let mut sampler = Sampler::from_seed([3; 32]);
        let coeffs = sampler.ternary(n);
        let s = Poly::from_small(&ctx, &coeffs).unwrap().into_ntt();
        (ctx, coeffs, s, sampler)
    }

    #[test]
    fn rotation_elements_are_powers_of_the_generator() {
        assert_eq!(rotation_element(16, 5, 1), 5);
        assert_eq!(rotation_element(16, 5, 2), 25);
        assert_eq!(rotation_element(16, 5, -1), rotation_element(16, 5, 7));
        assert_eq!(rotation_element(16, 3, 0), 1);
    }

    #[test]
    fn galois_keys_round_trip_and_plan() {
        let (ctx, coeffs, s, mut sampler) = setup();
        let set = GaloisKeySet::generate(
            &s,
            &coeffs,
            2,
            5,
            &[1, 2, 4, -1, 0, 2],
            &[2047],
            &mut sampler,
        )
        .unwrap();
        assert_eq!(set.steps(), &[1, 2, 4, 511]);
        assert_eq!(set.plan(7), Some(vec![1, 2, 4]));
        assert_eq!(set.plan(-1), Some(vec![511]));
        assert_eq!(set.plan(8), None);
        let mut w = Writer::new(FORMAT, 1);
        set.write(&mut w);
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), 6 + GaloisKeySet::byte_len(&ctx, 2, 5));
        let mut r = Reader::new(&bytes, FORMAT, 1).unwrap();
        let back = GaloisKeySet::read(&mut r, &ctx, 2, 5).unwrap();
        r.finish().unwrap();
        assert_eq!(back, set);
        // Swap the first two elements: out of order, refused.
        let mut bad = bytes.clone();
        let per_key = 8 + SwitchingKey::byte_len(&ctx, 2);
        let (a, b) = (10, 10 + per_key);
        let ga: [u8; 8] = bad[a..a + 8].try_into().unwrap();
        let gb: [u8; 8] = bad[b..b + 8].try_into().unwrap();
        bad[a..a + 8].copy_from_slice(&gb);
        bad[b..b + 8].copy_from_slice(&ga);
        let mut r = Reader::new(&bad, FORMAT, 1).unwrap();
        assert!(GaloisKeySet::read(&mut r, &ctx, 2, 5).is_err());
        // A count that does not match the length.
        let mut bad = bytes;
        bad[6] = 4;
        let mut r = Reader::new(&bad, FORMAT, 1).unwrap();
        assert!(GaloisKeySet::read(&mut r, &ctx, 2, 5).is_err());
    }

    #[test]
    fn switching_key_refuses_a_ring_without_the_special_prime() {
        let (_, _, s, mut sampler) = setup();
        assert!(SwitchingKey::generate(&s, &s, 3, &mut sampler).is_err());
        assert!(SwitchingKey::generate(&s, &s, 2, &mut sampler).is_ok());
    }
}
