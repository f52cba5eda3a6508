//! Byte framing of the lattice messages: a 4-byte magic and a version byte, little-endian fixed
//! fields, and length-prefixed embedded objects (BFV parameters, keys, ciphertexts) whose
//! lengths are checked against a caller-given maximum before anything is copied or allocated.
//! The embedded objects are then validated by veil-bfv (exact length from the parameters,
//! residues below their primes, fingerprint).

use crate::error::{Error, Result};

/// Format version of every lattice message.
pub(crate) const VERSION: u8 = 1;

pub(crate) fn bad(reason: impl Into<String>) -> Error {
    Error::Message {
        reason: reason.into(),
    }
}

/// Appends fields to a message.
#[derive(Debug)]
pub(crate) struct Writer(Vec<u8>);

impl Writer {
    pub(crate) fn new(magic: &[u8; 4]) -> Self {
        let mut v = Vec::with_capacity(64);
        v.extend_from_slice(magic);
        v.push(VERSION);
        Writer(v)
    }
    pub(crate) fn u8(&mut self, x: u8) {
        self.0.push(x);
    }
    pub(crate) fn u32(&mut self, x: u32) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, x: u64) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    pub(crate) fn u128(&mut self, x: u128) {
        self.0.extend_from_slice(&x.to_le_bytes());
    }
    /// A u32 length then the bytes.
    pub(crate) fn object(&mut self, b: &[u8]) -> Result<()> {
        let len = u32::try_from(b.len()).map_err(|_| bad("object longer than 4 GiB"))?;
        self.u32(len);
        self.0.extend_from_slice(b);
        Ok(())
    }
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.0
    }
}

/// Reads fields from untrusted bytes; never allocates more than the input's length.
#[derive(Debug)]
pub(crate) struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    /// Checks the magic and the version.
    pub(crate) fn new(bytes: &'a [u8], magic: &[u8; 4], what: &str) -> Result<Self> {
        let (head, rest) = bytes
            .split_at_checked(5)
            .ok_or_else(|| bad(format!("{what}: shorter than its header")))?;
        if head[..4] != magic[..] {
            return Err(bad(format!("{what}: wrong magic")));
        }
        if head[4] != VERSION {
            return Err(bad(format!("{what}: unknown version {}", head[4])));
        }
        Ok(Reader(rest))
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let (a, b) = self
            .0
            .split_at_checked(n)
            .ok_or_else(|| bad("message truncated"))?;
        self.0 = b;
        Ok(a)
    }
    fn array<const K: usize>(&mut self) -> Result<[u8; K]> {
        self.take(K)?
            .try_into()
            .map_err(|_| bad("message truncated"))
    }
    pub(crate) fn u8(&mut self) -> Result<u8> {
        Ok(self.array::<1>()?[0])
    }
    pub(crate) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub(crate) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub(crate) fn u128(&mut self) -> Result<u128> {
        Ok(u128::from_le_bytes(self.array()?))
    }
    /// A length-prefixed object of at most `max` bytes (checked before it is read).
    pub(crate) fn object(&mut self, max: usize, what: &str) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        if len > max {
            return Err(bad(format!("{what}: {len} bytes, over the limit of {max}")));
        }
        self.take(len)
    }
    /// Refuses trailing bytes.
    pub(crate) fn finish(self) -> Result<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(bad(format!("{} trailing bytes", self.0.len())))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let mut w = Writer::new(b"TEST");
        w.u8(7);
        w.u32(1 << 20);
        w.u64(u64::MAX - 3);
        w.u128(1 << 100);
        w.object(b"abc").unwrap();
        let bytes = w.into_bytes();
        let mut r = Reader::new(&bytes, b"TEST", "t").unwrap();
        assert_eq!(r.u8().unwrap(), 7);
        assert_eq!(r.u32().unwrap(), 1 << 20);
        assert_eq!(r.u64().unwrap(), u64::MAX - 3);
        assert_eq!(r.u128().unwrap(), 1 << 100);
        assert_eq!(r.object(3, "o").unwrap(), b"abc");
        r.finish().unwrap();
        // Wrong magic, truncation, an object over its limit, trailing bytes.
        assert!(Reader::new(&bytes, b"TESU", "t").is_err());
        let mut r = Reader::new(&bytes[..bytes.len() - 1], b"TEST", "t").unwrap();
        r.u8().unwrap();
        r.u32().unwrap();
        r.u64().unwrap();
        r.u128().unwrap();
        assert!(r.object(3, "o").is_err());
        let mut r = Reader::new(&bytes, b"TEST", "t").unwrap();
        r.u8().unwrap();
        r.u32().unwrap();
        r.u64().unwrap();
        r.u128().unwrap();
        assert!(r.object(2, "o").is_err());
        let mut long = bytes.clone();
        long.push(0);
        let mut r = Reader::new(&long, b"TEST", "t").unwrap();
        r.u8().unwrap();
        r.u32().unwrap();
        r.u64().unwrap();
        r.u128().unwrap();
        r.object(3, "o").unwrap();
        assert!(r.finish().is_err());
    }
}
