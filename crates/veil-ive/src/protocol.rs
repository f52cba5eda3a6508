//! The lookup protocol end to end: a server holding a prepared table answers query bytes with
//! response bytes; the BFV and CKKS clients build queries from indices and read rows back.

use crate::bfv::BfvClient;
use crate::digit_lookup::{DigitTable, DigitTimings};
use crate::digits::DigitBasis;
use crate::error::{Error, Result};
use crate::lookup::{IveTable, LookupTimings};
use crate::scheme::{CiphertextCodec, IveClient, IveScheme};
use crate::table::ExactBasis;
use crate::wire::{Query, Response, encode_query};

/// A server: a scheme with its evaluation keys and a prepared table.
#[derive(Debug)]
pub struct IveServer<S: IveScheme> {
    scheme: S,
    table: IveTable<S::Scalar>,
}

impl<S: IveScheme> IveServer<S> {
    /// A server for `table` under `scheme`.
    pub fn new(scheme: S, table: IveTable<S::Scalar>) -> Self {
        IveServer { scheme, table }
    }

    /// The scheme.
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// The prepared table.
    pub fn table(&self) -> &IveTable<S::Scalar> {
        &self.table
    }

    /// Answers a query (untrusted bytes) with the bytes of the response, and the time spent.
    pub fn answer(&self, query: &[u8]) -> Result<(Vec<u8>, LookupTimings)> {
        let q = Query::from_bytes(&self.scheme, self.table.rows(), query)?;
        let [x] = q.digits.as_slice() else {
            return Err(Error::Malformed {
                reason: "this table takes one index ciphertext",
            });
        };
        let (columns, timings) = self.table.lookup(&self.scheme, x)?;
        let response = Response {
            count: q.count,
            columns,
        };
        Ok((response.to_bytes(&self.scheme)?, timings))
    }
}

/// A server for digit lookups: the query carries one ciphertext per digit ([`crate::digits`]).
#[derive(Debug)]
pub struct DigitIveServer<S: IveScheme> {
    scheme: S,
    table: DigitTable<S::Scalar>,
}

impl<S: IveScheme> DigitIveServer<S> {
    /// A server for `table` under `scheme`.
    pub fn new(scheme: S, table: DigitTable<S::Scalar>) -> Self {
        DigitIveServer { scheme, table }
    }

    /// The scheme.
    pub fn scheme(&self) -> &S {
        &self.scheme
    }

    /// The prepared table.
    pub fn table(&self) -> &DigitTable<S::Scalar> {
        &self.table
    }

    /// Answers a query (untrusted bytes) with the bytes of the response, and the time spent.
    /// The query must carry exactly one ciphertext per digit of the table.
    pub fn answer(&self, query: &[u8]) -> Result<(Vec<u8>, DigitTimings)> {
        let q = Query::from_bytes(&self.scheme, self.table.rows(), query)?;
        if q.digits.len() != self.table.sizes().len() {
            return Err(Error::Malformed {
                reason: "query with another number of digits than the table",
            });
        }
        let (columns, timings) = self.table.lookup(&self.scheme, &q.digits)?;
        let response = Response {
            count: q.count,
            columns,
        };
        Ok((response.to_bytes(&self.scheme)?, timings))
    }
}

impl BfvClient {
    /// The query bytes for `indices` (one per slot) split into the digits of `basis`: one
    /// ciphertext per digit. The response is read with [`BfvClient::read_response`].
    pub fn digit_query(&self, basis: &DigitBasis, indices: &[usize]) -> Result<Vec<u8>> {
        let t = self.parameters().plaintext();
        let mut nodes = vec![Vec::with_capacity(indices.len()); basis.digits().len()];
        for &i in indices {
            for (digit, node) in nodes.iter_mut().zip(basis.nodes(i, t)?) {
                digit.push(node);
            }
        }
        encode_query(self, basis.rows(), &nodes)
    }

    /// The query bytes for `indices` (one per slot) under `basis`.
    pub fn query(&self, basis: &ExactBasis, indices: &[usize]) -> Result<Vec<u8>> {
        let t = self.parameters().plaintext();
        let nodes = indices
            .iter()
            .map(|&i| basis.node(i, t))
            .collect::<Result<Vec<_>>>()?;
        encode_query(self, basis.size(), &[nodes])
    }

    /// The rows of a response (untrusted bytes) with `cols` columns: one row per queried slot,
    /// entries centered in (-t/2, t/2].
    pub fn read_response(&self, cols: usize, bytes: &[u8]) -> Result<Vec<Vec<i64>>> {
        let response = Response::from_bytes(self, cols, bytes)?;
        let t = self.parameters().plaintext();
        let columns = response
            .columns
            .iter()
            .map(|c| self.decrypt(c))
            .collect::<Result<Vec<_>>>()?;
        Ok((0..response.count.min(self.slots()))
            .map(|s| {
                columns
                    .iter()
                    .map(|c| t.center(c.get(s).copied().unwrap_or(0)))
                    .collect()
            })
            .collect())
    }
}

impl crate::ckks::CkksClient {
    /// The query bytes for `indices` (one per slot) into a p-row table with the DCT basis: the
    /// Chebyshev nodes cos(pi (2i + 1) / 2p), encrypted at the client's query level.
    pub fn query(&self, p: usize, indices: &[usize]) -> Result<Vec<u8>> {
        let nodes = indices
            .iter()
            .map(|&i| crate::dct::chebyshev_node(i, p))
            .collect::<Result<Vec<_>>>()?;
        encode_query(self, p, &[nodes])
    }

    /// The rows of a response (untrusted bytes) with `cols` columns: one row per queried slot,
    /// approximate (CKKS): within the lookup's precision of the table rows.
    pub fn read_response(&self, cols: usize, bytes: &[u8]) -> Result<Vec<Vec<f64>>> {
        let response = Response::from_bytes(self, cols, bytes)?;
        let columns = response
            .columns
            .iter()
            .map(|c| self.decrypt(c))
            .collect::<Result<Vec<_>>>()?;
        Ok((0..response.count.min(self.slots()))
            .map(|s| {
                columns
                    .iter()
                    .map(|c| c.get(s).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect())
    }
}
