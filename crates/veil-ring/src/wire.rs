//! The binary encoding shared by the RLWE schemes built on this crate, and its validating reader.
//!
//! An object starts with a 4-byte magic (one per scheme), a format version and a kind byte;
//! integers are little-endian; polynomials are bit-packed, each residue mod q_i in ceil(log2 q_i)
//! bits with zero padding at the end of a limb. The [`Reader`] takes bytes from an untrusted
//! source: every read is bounds-checked, every residue is checked against its prime, padding bits
//! must be zero, and [`Reader::finish`] refuses trailing bytes. Callers compute the exact expected
//! length (with [`poly_len`]) before reading anything large, so nothing is allocated from a size
//! the input announces.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::poly::{Context, Poly, Representation};

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

/// The header every object of one scheme starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    /// Four bytes naming the scheme (for example `VBFV`).
    pub magic: [u8; 4],
    /// The format version.
    pub version: u8,
}

/// The kind bytes that every scheme's format shares (a scheme adds its own from 16 up).
pub mod kind {
    /// Parameters.
    pub const PARAMETERS: u8 = 1;
    /// A ciphertext.
    pub const CIPHERTEXT: u8 = 2;
    /// A seeded (half-size) ciphertext.
    pub const SEEDED_CIPHERTEXT: u8 = 3;
    /// A public key.
    pub const PUBLIC_KEY: u8 = 4;
    /// A relinearization key.
    pub const RELIN_KEY: u8 = 5;
    /// Galois keys.
    pub const GALOIS_KEYS: u8 = 6;
    /// A secret key.
    pub const SECRET_KEY: u8 = 7;
    /// A plaintext.
    pub const PLAINTEXT: u8 = 8;
}

/// Serde for a parameter type through its byte encoding: `to_bytes(&self) -> Vec<u8>` and
/// `from_bytes(&[u8], allow_below_128_bit_security: bool) -> Result<Arc<Self>, E>`. Deserializing
/// validates and refuses sets below 128-bit security. The caller's crate must depend on `serde`.
#[macro_export]
macro_rules! serde_parameters_via_bytes {
    ($ty:ty) => {
        /// Serde through the byte encoding (ciphertexts and keys need the parameters to be
        /// validated, so they use their `from_bytes` functions).
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(
                &self,
                s: S,
            ) -> core::result::Result<S::Ok, S::Error> {
                s.serialize_bytes(&self.to_bytes())
            }
        }

        /// Deserializing validates the parameters and refuses sets below 128-bit security.
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> core::result::Result<Self, D::Error> {
                let bytes = <Vec<u8>>::deserialize(d)?;
                let params = <$ty>::from_bytes(&bytes, false).map_err(serde::de::Error::custom)?;
                std::sync::Arc::try_unwrap(params)
                    .map_err(|_| serde::de::Error::custom("parameters are shared"))
            }
        }
    };
}

/// Writes one object.
#[derive(Debug)]
pub struct Writer(Vec<u8>);

impl Writer {
    /// An object of `kind` in `format`.
    pub fn new(format: Format, kind: u8) -> Self {
        let mut w = Writer(Vec::new());
        w.0.extend_from_slice(&format.magic);
        w.0.push(format.version);
        w.0.push(kind);
        w
    }

    /// A writer without a header, for encodings that are hashed rather than sent (fingerprints).
    pub fn headless() -> Self {
        Writer(Vec::new())
    }

    /// One byte.
    pub fn u8(&mut self, x: u8) {
        self.0.push(x);
    }

    /// A little-endian u32.
    pub fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    /// A little-endian u64.
    pub fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }

    /// Raw bytes (a seed, for example).
    pub fn bytes(&mut self, b: &[u8]) {
        self.0.extend_from_slice(b);
    }

    /// A list of moduli: their count (one byte), then each as a u64.
    pub fn moduli(&mut self, moduli: &[u64]) {
        self.u8(moduli.len() as u8);
        for &q in moduli {
            self.u64(q);
        }
    }

    /// The residues of every limb, each in the bit width of its prime.
    pub fn poly<R: Representation>(&mut self, p: &Poly<R>) {
        let ctx = p.context();
        for (i, q) in ctx.moduli().iter().enumerate() {
            pack(&mut self.0, p.limb(i), q.bits());
        }
    }

    /// The bytes written.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Reads one object from untrusted bytes.
#[derive(Debug)]
pub struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Checks the header: magic and version of `format`, then `kind`.
    pub fn new(data: &'a [u8], format: Format, kind: u8) -> Result<Self> {
        let mut r = Reader { data };
        if r.take(4)? != format.magic {
            return Err(malformed("not an object of this scheme (bad magic)"));
        }
        if r.u8()? != format.version {
            return Err(malformed("unsupported format version"));
        }
        if r.u8()? != kind {
            return Err(malformed("wrong kind of object"));
        }
        Ok(r)
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.data.len() < n {
            return Err(malformed("truncated input"));
        }
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        Ok(head)
    }

    /// One byte.
    pub fn u8(&mut self) -> Result<u8> {
        self.take(1)?
            .first()
            .copied()
            .ok_or(malformed("truncated input"))
    }

    /// A little-endian u32.
    pub fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes(
            b.try_into().map_err(|_| malformed("truncated input"))?,
        ))
    }

    /// A little-endian u64.
    pub fn u64(&mut self) -> Result<u64> {
        let b = self.take(8)?;
        Ok(u64::from_le_bytes(
            b.try_into().map_err(|_| malformed("truncated input"))?,
        ))
    }

    /// A list of moduli written by [`Writer::moduli`] that must end the input: between 2 and
    /// `max` of them, the exact length checked before anything is allocated.
    pub fn moduli(&mut self, max: usize) -> Result<Vec<u64>> {
        let count = self.u8()? as usize;
        if !(2..=max).contains(&count) || self.remaining() != 8 * count {
            return Err(malformed("bad number of moduli"));
        }
        (0..count).map(|_| self.u64()).collect()
    }

    /// A 32-byte seed.
    pub fn seed(&mut self) -> Result<[u8; 32]> {
        self.take(32)?
            .try_into()
            .map_err(|_| malformed("truncated input"))
    }

    /// A polynomial of `ctx`, every residue checked against its prime. Check the total length
    /// first ([`poly_len`], [`Reader::remaining`]): this allocates N words per limb.
    pub fn poly<R: Representation>(&mut self, ctx: &Arc<Context>) -> Result<Poly<R>> {
        let n = ctx.degree();
        let mut data = Vec::with_capacity(n * ctx.moduli().len());
        for q in ctx.moduli() {
            let bytes = self.take(packed_len(n, q.bits()))?;
            unpack(bytes, n, q.bits(), q.value(), &mut data)?;
        }
        Poly::from_residues(ctx, data)
    }

    /// Bytes not read yet.
    pub fn remaining(&self) -> usize {
        self.data.len()
    }

    /// Refuses trailing bytes.
    pub fn finish(self) -> Result<()> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(malformed("trailing bytes"))
        }
    }
}

/// A 64-bit fingerprint of bytes (FNV-1a): how objects name the parameters they belong to.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// A parameter set written by `fields`, as an object of `format` (kind [`kind::PARAMETERS`]).
pub fn parameter_bytes(format: Format, fields: impl Fn(&mut Writer)) -> Vec<u8> {
    let mut w = Writer::new(format, kind::PARAMETERS);
    fields(&mut w);
    w.into_bytes()
}

/// The fingerprint that objects carry of the parameter set written by `fields`: FNV-1a of the
/// fields alone.
pub fn parameter_fingerprint(fields: impl Fn(&mut Writer)) -> u64 {
    let mut w = Writer::headless();
    fields(&mut w);
    fingerprint(&w.into_bytes())
}

/// Bytes of n residues of `bits` bits each.
pub fn packed_len(n: usize, bits: u32) -> usize {
    (n * bits as usize).div_ceil(8)
}

/// Bytes of one polynomial of `ctx`.
pub fn poly_len(ctx: &Context) -> usize {
    ctx.moduli()
        .iter()
        .map(|q| packed_len(ctx.degree(), q.bits()))
        .sum()
}

fn pack(out: &mut Vec<u8>, values: &[u64], bits: u32) {
    let (mut acc, mut filled) = (0u128, 0u32);
    for &v in values {
        acc |= u128::from(v) << filled;
        filled += bits;
        while filled >= 8 {
            out.push(acc as u8);
            acc >>= 8;
            filled -= 8;
        }
    }
    if filled > 0 {
        out.push(acc as u8);
    }
}

fn unpack(bytes: &[u8], n: usize, bits: u32, q: u64, out: &mut Vec<u64>) -> Result<()> {
    let mask = (1u128 << bits) - 1;
    let (mut acc, mut filled) = (0u128, 0u32);
    let mut it = bytes.iter();
    for _ in 0..n {
        while filled < bits {
            acc |= u128::from(*it.next().ok_or(malformed("truncated polynomial"))?) << filled;
            filled += 8;
        }
        let v = (acc & mask) as u64;
        if v >= q {
            return Err(malformed("coefficient out of range"));
        }
        out.push(v);
        acc >>= bits;
        filled -= bits;
    }
    if acc != 0 {
        return Err(malformed("nonzero padding bits"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::primes::ntt_primes;
    use crate::sample::Sampler;

    const FORMAT: Format = Format {
        magic: *b"TEST",
        version: 1,
    };

    #[test]
    fn round_trip_and_every_kind_of_bad_input() {
        let ctx = Context::new(&ntt_primes(37, 1024, 2).unwrap(), 1024).unwrap();
        let mut sampler = Sampler::from_seed([5; 32]);
        let data: Vec<u64> = ctx
            .moduli()
            .iter()
            .flat_map(|q| sampler.uniform(q, 1024))
            .collect();
        let p = Poly::<crate::Coeff>::from_residues(&ctx, data).unwrap();
        let mut w = Writer::new(FORMAT, 7);
        w.u64(42);
        w.poly(&p);
        let bytes = w.into_bytes();
        assert_eq!(bytes.len(), 6 + 8 + poly_len(&ctx));
        let mut r = Reader::new(&bytes, FORMAT, 7).unwrap();
        assert_eq!(r.u64().unwrap(), 42);
        assert_eq!(r.remaining(), poly_len(&ctx));
        assert_eq!(r.poly::<crate::Coeff>(&ctx).unwrap(), p);
        r.finish().unwrap();

        let bad_format = Format {
            magic: *b"TESU",
            version: 1,
        };
        assert!(Reader::new(&bytes, bad_format, 7).is_err());
        assert!(
            Reader::new(
                &bytes,
                Format {
                    version: 2,
                    ..FORMAT
                },
                7
            )
            .is_err()
        );
        assert!(Reader::new(&bytes, FORMAT, 8).is_err());
        assert!(Reader::new(&bytes[..5], FORMAT, 7).is_err());
        // Truncated, trailing, a residue out of range, nonzero padding.
        let read = |b: &[u8]| -> Result<()> {
            let mut r = Reader::new(b, FORMAT, 7)?;
            r.u64()?;
            r.poly::<crate::Coeff>(&ctx)?;
            r.finish()
        };
        assert!(read(&bytes[..bytes.len() - 1]).is_err());
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(read(&longer).is_err());
        let mut out_of_range = bytes.clone();
        out_of_range[14..19].fill(0xff); // the first residue becomes 2^37 - 1 >= q_0
        assert!(matches!(read(&out_of_range), Err(Error::Malformed { .. })));
        // Nonzero padding: 3 residues of 5 bits leave one spare bit in the second byte.
        let mut packed = Vec::new();
        pack(&mut packed, &[1, 2, 3], 5);
        assert!(unpack(&packed, 3, 5, 31, &mut Vec::new()).is_ok());
        if let Some(last) = packed.last_mut() {
            *last |= 0x80;
        }
        assert!(unpack(&packed, 3, 5, 31, &mut Vec::new()).is_err());
    }
}
