//! Digit lookups over BFV return the table row exactly in every slot, with 1 to 4 digits.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use proptest::prelude::*;
use veil_ive::bfv::{BfvServer, NoiseModel};
use veil_ive::protocol::DigitIveServer;
use veil_ive::{CiphertextCodec, DigitBasis, DigitTable, EmbeddingTable, IveScheme, Query};

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

fn server(setup: &common::Setup, terms: usize) -> BfvServer {
    BfvServer::new(
        &setup.params,
        setup.client.public_key().unwrap(),
        setup.client.relinearization_key().unwrap(),
        NoiseModel::for_circuit(&setup.params, terms, 0),
    )
    .unwrap()
}

fn check_digits(sizes: &[usize], d: usize, seed: u64) {
    let setup = common::ive();
    let t = setup.params.plaintext();
    let basis = DigitBasis::new(sizes, t).unwrap();
    let p = basis.rows();
    let rows = random_table(p, d, seed);
    let table = DigitTable::exact(&EmbeddingTable::new(&rows).unwrap(), &basis, t).unwrap();
    let scheme = server(setup, p);
    let slots = scheme.slots();
    let indices: Vec<usize> = (0..slots).map(|s| (s * 7919 + seed as usize) % p).collect();
    let query = setup.client.digit_query(&basis, &indices).unwrap();
    // Noise left before flooding: enough for 2^-40 statistical distance (40 + log2 N + 2 bits).
    let parsed = Query::from_bytes(&scheme, p, &query).unwrap();
    assert_eq!(parsed.digits.len(), sizes.len());
    let (columns, _) = table.lookup_unfinished(&scheme, &parsed.digits).unwrap();
    for c in &columns {
        let budget = setup
            .client
            .secret_key()
            .noise_budget(&scheme.relinearize(c).unwrap())
            .unwrap();
        assert!(budget >= 52, "budget {budget} before flooding ({sizes:?})");
    }
    let server = DigitIveServer::new(scheme, table);
    let (response, timings) = server.answer(&query).unwrap();
    assert!(timings.total() > std::time::Duration::ZERO);
    let found = setup.client.read_response(d, &response).unwrap();
    assert_eq!(found.len(), slots);
    for (s, row) in found.iter().enumerate() {
        assert_eq!(row, &rows[indices[s]], "slot {s}, digits {sizes:?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn digit_lookup_returns_the_row_in_every_slot(
        sizes in prop::sample::select(vec![
            vec![2usize, 2], vec![4, 2], vec![2, 4], vec![8, 4], vec![16, 2], vec![4, 4, 2],
            vec![2, 2, 2, 2], vec![8], vec![3, 4], vec![4, 3, 2],
        ]),
        d in 1usize..4,
        seed in any::<u64>(),
    ) {
        check_digits(&sizes, d, seed);
    }
}

#[test]
fn queries_with_another_digit_count_are_refused() {
    let setup = common::ive();
    let t = setup.params.plaintext();
    let basis = DigitBasis::new(&[4, 4], t).unwrap();
    let rows = random_table(16, 2, 3);
    let table = DigitTable::exact(&EmbeddingTable::new(&rows).unwrap(), &basis, t).unwrap();
    let server = DigitIveServer::new(server(setup, 16), table);
    let one_digit = veil_ive::ExactBasis::roots_of_unity(16, t).unwrap();
    let query = setup.client.query(&one_digit, &[1, 2, 3]).unwrap();
    assert!(server.answer(&query).is_err());
    let three = DigitBasis::new(&[4, 2, 2], t).unwrap();
    let query = setup.client.digit_query(&three, &[1, 2, 3]).unwrap();
    assert!(server.answer(&query).is_err());
    let good = setup.client.digit_query(&basis, &[1, 2, 15]).unwrap();
    let (response, _) = server.answer(&good).unwrap();
    let found = setup.client.read_response(2, &response).unwrap();
    assert_eq!(found[2], rows[15]);
    // Wrong table shape.
    let other = DigitBasis::new(&[8, 4], t).unwrap();
    assert!(DigitTable::exact(&EmbeddingTable::new(&rows).unwrap(), &other, t).is_err());
}
