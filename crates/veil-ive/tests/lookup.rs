//! IVE over BFV returns the table row exactly in every slot; the one-hot baseline agrees.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use veil_ive::onehot::one_hot_lookup;
use veil_ive::protocol::IveServer;
use veil_ive::{
    CiphertextCodec, EmbeddingTable, ExactBasis, IveClient, IveScheme, IveTable, Query,
};

fn random_table(p: usize, d: usize, seed: u64) -> Vec<Vec<i64>> {
    let half = (common::T / 2) as i64;
    let mut s = seed | 1;
    (0..p)
        .map(|_| {
            (0..d)
                .map(|_| {
                    s ^= s << 13;
                    s ^= s >> 7;
                    s ^= s << 17;
                    (s % (2 * half as u64 + 1)) as i64 - half
                })
                .collect()
        })
        .collect()
}

fn check_lookup(p: usize, d: usize, seed: u64, general_nodes: bool) {
    let setup = common::ive();
    let t = setup.params.plaintext();
    let rows = random_table(p, d, seed);
    let table = EmbeddingTable::new(&rows).unwrap();
    let basis = if general_nodes {
        ExactBasis::consecutive(p, t).unwrap()
    } else {
        ExactBasis::roots_of_unity(p, t).unwrap()
    };
    let prepared = IveTable::exact(&table, &basis, t).unwrap();
    let slots = setup.server.slots();
    let indices: Vec<usize> = (0..slots).map(|s| (s * 7 + seed as usize) % p).collect();
    let query = setup.client.query(&basis, &indices).unwrap();
    let parsed = Query::from_bytes(&setup.server, p, &query).unwrap();
    let (columns, _) = prepared
        .lookup_unfinished(&setup.server, &parsed.digits[0])
        .unwrap();
    // Noise left before flooding: enough for 2^-40 statistical distance (40 + log2 N + 2 bits).
    for c in &columns {
        let relin = setup.server.relinearize(c).unwrap();
        let budget = setup.client.secret_key().noise_budget(&relin).unwrap();
        assert!(budget >= 52, "budget {budget} before flooding (p = {p})");
    }
    let server = IveServer::new(
        veil_ive::bfv::BfvServer::new(
            &setup.params,
            setup.client.public_key().unwrap(),
            setup.client.relinearization_key().unwrap(),
            setup.server.noise_model(),
        )
        .unwrap(),
        prepared,
    );
    let (response, _) = server.answer(&query).unwrap();
    let found = setup.client.read_response(d, &response).unwrap();
    assert_eq!(found.len(), slots);
    for (s, row) in found.iter().enumerate() {
        assert_eq!(row, &rows[indices[s]], "slot {s}, p = {p}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn ive_returns_the_row_in_every_slot(
        p in prop::sample::select(vec![2usize, 3, 4, 6, 8, 12, 16]),
        d in 1usize..4,
        seed in any::<u64>(),
        general in any::<bool>(),
    ) {
        check_lookup(p, d, seed, general);
    }
}

#[test]
fn general_nodes_work_for_sizes_not_dividing_t_minus_1() {
    // p = 5 does not divide 12288: only the interpolation basis applies.
    assert!(ExactBasis::roots_of_unity(5, common::ive().params.plaintext()).is_err());
    check_lookup(5, 2, 99, true);
}

#[test]
fn one_hot_baseline_returns_the_same_rows() {
    let setup = common::one_hot();
    let p = 6;
    let rows = random_table(p, 2, 5);
    let table = EmbeddingTable::new(&rows).unwrap();
    let indices: Vec<u64> = (0..setup.server.slots() as u64)
        .map(|s| s % p as u64)
        .collect();
    let x = setup.client.encrypt(&indices).unwrap();
    let (columns, timings) = one_hot_lookup(&setup.server, &table, common::T, &x).unwrap();
    assert!(timings.vector_generation > timings.combination);
    let t = setup.params.plaintext();
    for (j, c) in columns.iter().enumerate() {
        let reply = setup.server.finish_reply(c).unwrap();
        let slots = setup.client.decrypt(&reply).unwrap();
        for (s, &v) in slots.iter().enumerate() {
            assert_eq!(
                t.center(v),
                rows[indices[s] as usize][j],
                "slot {s} column {j}"
            );
        }
    }
}
