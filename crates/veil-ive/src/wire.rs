//! Wire formats of a lookup: the client's [`Query`] and the server's [`Response`].
//!
//! Both start with `VIVE`, format version 1 and a kind byte (1: query, 2: response), then
//! little-endian fields: a query has the table height p (u32), the number of slots in use (u32),
//! the number of index ciphertexts (u8, 1 per digit, at most [`MAX_DIGITS`]) and each ciphertext
//! as a u32 length and the scheme's own bytes; a response has d (u32), the slots in use (u32) and
//! d length-prefixed ciphertexts. Every announced size is checked against the expected table
//! shape, the slot count and the scheme's largest ciphertext before anything is allocated, the
//! ciphertexts are validated by the scheme, and trailing bytes are refused.

use veil_ring::wire::{Format, Reader, Writer};

use crate::error::{Error, Result};
use crate::scheme::{CiphertextCodec, IveClient};
use crate::table::{MAX_COLS, MAX_ROWS};

const FORMAT: Format = Format {
    magic: *b"VIVE",
    version: 1,
};
const KIND_QUERY: u8 = 1;
const KIND_RESPONSE: u8 = 2;
/// Most index ciphertexts (digits) one query may carry.
pub const MAX_DIGITS: usize = 4;

fn malformed(reason: &'static str) -> Error {
    Error::Malformed { reason }
}

/// A query: one encrypted node per slot, per digit of the index.
#[derive(Clone, Debug)]
pub struct Query<C> {
    /// Table height p the query is for.
    pub rows: usize,
    /// Slots in use (the indices asked for), at most the slot count.
    pub count: usize,
    /// One ciphertext per digit (one for an undivided index).
    pub digits: Vec<C>,
}

/// A response: column j of the looked-up rows in ciphertext j, one row per slot.
#[derive(Clone, Debug)]
pub struct Response<C> {
    /// Slots in use, copied from the query.
    pub count: usize,
    /// The d encrypted columns.
    pub columns: Vec<C>,
}

/// Client side: the bytes of a query for `rows`-row tables, encrypting `nodes[digit][slot]` in the
/// scheme's compact form.
pub fn encode_query<C: IveClient>(
    client: &C,
    rows: usize,
    nodes: &[Vec<C::Scalar>],
) -> Result<Vec<u8>> {
    let count = nodes.first().map_or(0, Vec::len);
    if nodes.is_empty() || nodes.len() > MAX_DIGITS || nodes.iter().any(|n| n.len() != count) {
        return Err(Error::InvalidConfig {
            reason: "a query has 1..=4 digit vectors of equal length",
        });
    }
    let mut w = Writer::new(FORMAT, KIND_QUERY);
    w.u32(u32::try_from(rows).map_err(|_| malformed("rows"))?);
    w.u32(u32::try_from(count).map_err(|_| malformed("count"))?);
    w.u8(nodes.len() as u8);
    for digit in nodes {
        let ct = client.encrypt_compact(digit)?;
        w.u32(u32::try_from(ct.len()).map_err(|_| malformed("ciphertext length"))?);
        w.bytes(&ct);
    }
    Ok(w.into_bytes())
}

/// Reads `count` length-prefixed ciphertexts, each bounded by the scheme's largest.
fn read_ciphertexts<'a, S: CiphertextCodec>(
    r: &mut Reader<'a>,
    count: usize,
    scheme: &S,
    parse: impl Fn(&S, &'a [u8]) -> Result<S::Ciphertext>,
) -> Result<Vec<S::Ciphertext>> {
    let max = scheme.max_ciphertext_bytes();
    // Each ciphertext takes at least its 4-byte length: refuse counts the input cannot hold.
    if r.remaining() < 4 * count {
        return Err(malformed("fewer bytes than announced ciphertexts"));
    }
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let len = r.u32()? as usize;
        if len > max || len > r.remaining() {
            return Err(malformed(
                "ciphertext length beyond the parameters or the input",
            ));
        }
        out.push(parse(scheme, r.take(len)?)?);
    }
    Ok(out)
}

impl<C> Query<C> {
    /// Server side: a query from untrusted bytes, for a table of `rows` rows.
    pub fn from_bytes<S: CiphertextCodec<Ciphertext = C>>(
        scheme: &S,
        rows: usize,
        bytes: &[u8],
    ) -> Result<Self> {
        let mut r = Reader::new(bytes, FORMAT, KIND_QUERY)?;
        let announced = r.u32()? as usize;
        if announced != rows || rows > MAX_ROWS {
            return Err(malformed("query for another table height"));
        }
        let count = r.u32()? as usize;
        if count == 0 || count > scheme.slots() {
            return Err(malformed(
                "slots in use: 0 or more than the parameters have",
            ));
        }
        let digits = r.u8()? as usize;
        if digits == 0 || digits > MAX_DIGITS {
            return Err(malformed("number of digits"));
        }
        let digits = read_ciphertexts(&mut r, digits, scheme, |s, b| {
            s.query_ciphertext_from_bytes(b)
        })?;
        r.finish()?;
        Ok(Query {
            rows,
            count,
            digits,
        })
    }
}

impl<C> Response<C> {
    /// Server side: the bytes of the response.
    pub fn to_bytes<S: CiphertextCodec<Ciphertext = C>>(&self, scheme: &S) -> Result<Vec<u8>> {
        let mut w = Writer::new(FORMAT, KIND_RESPONSE);
        w.u32(u32::try_from(self.columns.len()).map_err(|_| malformed("columns"))?);
        w.u32(u32::try_from(self.count).map_err(|_| malformed("count"))?);
        for c in &self.columns {
            let b = scheme.ciphertext_to_bytes(c);
            w.u32(u32::try_from(b.len()).map_err(|_| malformed("ciphertext length"))?);
            w.bytes(&b);
        }
        Ok(w.into_bytes())
    }

    /// Client side: a response from untrusted bytes, expecting `cols` columns.
    pub fn from_bytes<S: CiphertextCodec<Ciphertext = C>>(
        scheme: &S,
        cols: usize,
        bytes: &[u8],
    ) -> Result<Self> {
        let mut r = Reader::new(bytes, FORMAT, KIND_RESPONSE)?;
        let announced = r.u32()? as usize;
        if announced != cols || cols == 0 || cols > MAX_COLS {
            return Err(malformed("response with another embedding dimension"));
        }
        let count = r.u32()? as usize;
        if count == 0 || count > scheme.slots() {
            return Err(malformed(
                "slots in use: 0 or more than the parameters have",
            ));
        }
        let columns = read_ciphertexts(&mut r, cols, scheme, |s, b| s.ciphertext_from_bytes(b))?;
        r.finish()?;
        Ok(Response { count, columns })
    }
}
