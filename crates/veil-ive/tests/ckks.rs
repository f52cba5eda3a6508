//! IVE over CKKS with the DCT basis, the KPLC24 one-hot baseline, the protocol and its wire
//! format, on small (insecure, fast) parameters: N = 2048, 49-bit scale.

#![allow(clippy::unwrap_used)]

use std::sync::{Arc, OnceLock};

use proptest::prelude::*;
use veil_ckks::{CkksParameters, CkksParametersBuilder, Sampler, SecretKey};
use veil_ive::ckks::{CkksClient, CkksServer};
use veil_ive::dct::chebyshev_node;
use veil_ive::eef::{EefRounds, eef_one_hot_lookup};
use veil_ive::measure_ckks::{lookup_errors, random_real_table};
use veil_ive::protocol::IveServer;
use veil_ive::{CiphertextCodec, IveClient, IveScheme, IveTable, Query, Response};

/// N = 2048, q_0 50 bits, 20 rescaling primes of 49 bits, P 50 bits, scale 2^49 (insecure).
fn params() -> &'static Arc<CkksParameters> {
    static P: OnceLock<Arc<CkksParameters>> = OnceLock::new();
    P.get_or_init(|| {
        let sizes: Vec<u32> = [50].into_iter().chain([49; 20]).chain([50]).collect();
        CkksParametersBuilder::new()
            .degree(2048)
            .moduli_sizes(&sizes)
            .log_scale(49)
            .allow_below_128_bit_security()
            .build()
            .unwrap()
    })
}

/// The client's secret key, drawn again from its seed.
fn secret_key() -> SecretKey {
    SecretKey::generate_with(params(), &mut Sampler::from_seed([5; 32])).unwrap()
}

fn keys() -> &'static (CkksClient, CkksServer) {
    static K: OnceLock<(CkksClient, CkksServer)> = OnceLock::new();
    K.get_or_init(|| {
        let client = CkksClient::from_secret_key(secret_key());
        let server = CkksServer::new(
            client.public_key().unwrap(),
            client.relinearization_key().unwrap(),
            params(),
        )
        .without_circuit_privacy();
        (client, server)
    })
}

/// The precision bound of a DCT lookup at these parameters, relative to max |E|: the node
/// error (rescaling noise, about N / 4 per slot at scale 2^49) amplified by |dP/dx| <= p /
/// sin(theta) <= 2 p^2 / pi at the outermost nodes, plus the rounding of the final rescale at the
/// reply scale 2^40; a factor 64 of margin for the tail over all slots and the noise of each
/// product.
fn bound(p: usize) -> f64 {
    let amplification = (2.0 * (p * p) as f64 / core::f64::consts::PI).max(1.0);
    64.0 * 2048.0 / 4.0 * (amplification / 2f64.powi(49) + 1.0 / 2f64.powi(40))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(8))]

    /// Every slot decrypts to its row within the bound, for random tables and indices.
    #[test]
    fn dct_lookup_is_within_the_precision_bound(
        p in prop::sample::select(vec![2usize, 3, 5, 8, 12, 16, 32]),
        d in 1usize..=3,
        seed in any::<u64>(),
    ) {
        let (client, server) = keys();
        let table = random_real_table(p, d, seed).unwrap();
        let prepared = IveTable::dct(&table).unwrap();
        let indices: Vec<usize> = (0..server.slots()).map(|s| (s * 7 + seed as usize) % p).collect();
        let nodes: Vec<f64> = indices.iter().map(|&i| chebyshev_node(i, p).unwrap()).collect();
        let x = client.encrypt(&nodes).unwrap();
        let (cols, _) = prepared.lookup(server, &x).unwrap();
        let err = lookup_errors(client, &cols, &table, &indices, p).unwrap();
        prop_assert!(err.max < bound(p), "p {p}: {} > {}", err.max, bound(p));
    }
}

/// Without a change of basis that reproduces the rows the check fails: the test can fail.
#[test]
fn a_wrong_table_is_detected() {
    let (client, server) = keys();
    let table = random_real_table(8, 2, 1).unwrap();
    let other = random_real_table(8, 2, 2).unwrap();
    let prepared = IveTable::dct(&other).unwrap();
    let indices: Vec<usize> = (0..server.slots()).map(|s| s % 8).collect();
    let nodes: Vec<f64> = indices
        .iter()
        .map(|&i| chebyshev_node(i, 8).unwrap())
        .collect();
    let (cols, _) = prepared
        .lookup(server, &client.encrypt(&nodes).unwrap())
        .unwrap();
    assert!(
        lookup_errors(client, &cols, &table, &indices, 8)
            .unwrap()
            .max
            > 0.01
    );
}

#[test]
fn kplc24_one_hot_selects_the_row() {
    let (client, server) = keys();
    let p = 8;
    let table = random_real_table(p, 2, 3).unwrap();
    let rounds = EefRounds::kplc24(p, 49).unwrap();
    let indices: Vec<usize> = (0..server.slots()).map(|s| (s * 5) % p).collect();
    let values: Vec<f64> = indices.iter().map(|&i| i as f64).collect();
    let x = client.encrypt(&values).unwrap();
    let (cols, _) = eef_one_hot_lookup(server, &table, p, &x, rounds).unwrap();
    let cols: Vec<_> = cols
        .iter()
        .map(|c| server.finish_reply(c).unwrap())
        .collect();
    let err = lookup_errors(client, &cols, &table, &indices, p).unwrap();
    assert!(err.max < 1.0 / 4096.0, "{err:?}");
}

#[test]
fn protocol_round_trip_with_flooding() {
    let (client, plain) = keys();
    let p = 16;
    let table = random_real_table(p, 3, 9).unwrap();
    let server = CkksServer::new(
        client.public_key().unwrap(),
        client.relinearization_key().unwrap(),
        params(),
    );
    assert!(plain.flood_std().is_none() && server.flood_std().is_some());
    let server = IveServer::new(server, IveTable::dct(&table).unwrap());
    let indices = [3usize, 0, 15, 7, 7];
    let query = client.query(p, &indices).unwrap();
    let (response, _) = server.answer(&query).unwrap();
    let rows = client.read_response(3, &response).unwrap();
    assert_eq!(rows.len(), indices.len());
    for (row, &i) in rows.iter().zip(&indices) {
        for (got, want) in row.iter().zip(table.row(i).unwrap()) {
            assert!((got - want).abs() < 1.0 / 4096.0, "{got} vs {want}");
        }
    }
    // The wire format refuses truncation, trailing bytes and another table height.
    assert!(Query::from_bytes(plain, p, &query[..query.len() - 1]).is_err());
    let mut longer = query.clone();
    longer.push(0);
    assert!(Query::from_bytes(plain, p, &longer).is_err());
    assert!(Query::from_bytes(plain, 32, &query).is_err());
    assert!(Response::from_bytes(client, 3, &response[..response.len() - 3]).is_err());
    assert!(Response::from_bytes(client, 4, &response).is_err());
    assert!(query.len() <= 8 + 4 + 4 + 1 + 4 + client.max_ciphertext_bytes());
}

/// A query encrypted at the level the circuit needs gives the same rows from a smaller query.
#[test]
fn low_level_queries_are_smaller() {
    let (client, server) = keys();
    let p = 16;
    let low = CkksClient::from_secret_key(secret_key())
        .with_query_level(6)
        .unwrap();
    let table = random_real_table(p, 2, 4).unwrap();
    let server_t = IveServer::new(
        CkksServer::new(
            client.public_key().unwrap(),
            client.relinearization_key().unwrap(),
            params(),
        )
        .without_circuit_privacy(),
        IveTable::dct(&table).unwrap(),
    );
    let (q_low, q_top) = (
        low.query(p, &[1, 2]).unwrap(),
        client.query(p, &[1, 2]).unwrap(),
    );
    assert!(q_low.len() * 2 < q_top.len());
    let rows = low
        .read_response(2, &server_t.answer(&q_low).unwrap().0)
        .unwrap();
    assert!((rows[1][0] - table.row(2).unwrap()[0]).abs() < 1e-4);
    // One level short: refused, not a wrong answer.
    let short = CkksClient::from_secret_key(secret_key())
        .with_query_level(5)
        .unwrap();
    assert!(server_t.answer(&short.query(p, &[1]).unwrap()).is_err());
    let _ = server;
}

/// Two-sample Kolmogorov-Smirnov statistic (veil-ring's, ties handled).
fn ks(a: Vec<f64>, b: Vec<f64>) -> f64 {
    veil_ring::stats::ks_statistic(&a, &b)
}

/// The reply errors (output - row) for an all-zero table and for a random table, 4 x 1024 slots
/// each: told apart without flooding, not with it (the flooding is 2^-16 per slot, the computed
/// errors 2^-30..2^-26 at these parameters).
#[test]
fn flooding_hides_the_table_dependent_error() {
    let (client, plain) = keys();
    let flooded = CkksServer::new(
        client.public_key().unwrap(),
        client.relinearization_key().unwrap(),
        params(),
    );
    let p = 16;
    let indices: Vec<usize> = (0..plain.slots()).map(|s| (s * 3) % p).collect();
    let nodes: Vec<f64> = indices
        .iter()
        .map(|&i| chebyshev_node(i, p).unwrap())
        .collect();
    let x = client.encrypt(&nodes).unwrap();
    let errors = |server: &CkksServer, table: &veil_ive::RealTable| -> Vec<f64> {
        let (cols, _) = IveTable::dct(table).unwrap().lookup(server, &x).unwrap();
        let mut out = Vec::new();
        for (j, c) in cols.iter().enumerate() {
            let got = client.decrypt(c).unwrap();
            for (s, &i) in indices.iter().enumerate() {
                out.push(got[s] - table.row(i).unwrap()[j]);
            }
        }
        out
    };
    let zero = veil_ive::RealTable::new(&vec![vec![0.0; 4]; p]).unwrap();
    let random = random_real_table(p, 4, 11).unwrap();
    let raw = ks(errors(plain, &zero), errors(plain, &random));
    let hidden = ks(errors(&flooded, &zero), errors(&flooded, &random));
    // The flooding is drawn from the operating system, so D varies between runs (0.012-0.030
    // measured): the bound is the two-sample critical value at 10^-6 for 4096 + 4096 samples,
    // sqrt(ln(2 10^6) / 2) sqrt(2 / 4096) = 0.061, far below the unflooded D (about 0.5).
    assert!(raw > 0.2, "unflooded D = {raw}");
    assert!(hidden < 0.061, "flooded D = {hidden}");
    eprintln!("KS D: unflooded {raw:.3}, flooded {hidden:.3}");
}
