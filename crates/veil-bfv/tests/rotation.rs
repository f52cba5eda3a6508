//! Row rotations and the column swap against the same permutations of plaintext slots.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::LazyLock;

use proptest::prelude::*;
use veil_bfv::{BfvParameters, Encoder, GaloisKeys, Preset, SecretKey};
use veil_ring::sample::Sampler;

struct Setup {
    enc: Encoder,
    sk: SecretKey,
    gk: GaloisKeys,
}

static S: LazyLock<Setup> = LazyLock::new(|| {
    let params = BfvParameters::preset(Preset::N4096).unwrap();
    let mut sampler = Sampler::from_seed([9; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let steps: Vec<i64> = (0..11).map(|b| 1i64 << b).collect();
    let gk = sk.galois_keys_for(&steps, true, &mut sampler).unwrap();
    Setup {
        enc: Encoder::new(&params).unwrap(),
        sk,
        gk,
    }
});

/// Left rotation of each row of N/2 slots by `step`.
fn rotate_rows(v: &[i64], step: i64) -> Vec<i64> {
    let row = v.len() / 2;
    let k = step.rem_euclid(row as i64) as usize;
    let mut out = Vec::with_capacity(v.len());
    for r in 0..2 {
        let half = &v[r * row..(r + 1) * row];
        out.extend(half[k..].iter().chain(&half[..k]));
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn rotations_match_slot_permutations(v in proptest::collection::vec(-100_000i64..100_000, 4096), step in -3000i64..3000) {
        let s = &*S;
        let ct = s.sk.encrypt(&s.enc.encode_signed(&v)?)?;
        let rotated = ct.rotate_rows(step, &s.gk)?;
        prop_assert_eq!(s.enc.decode_signed(&s.sk.decrypt(&rotated)?)?, rotate_rows(&v, step));
        let swapped = ct.swap_columns(&s.gk)?;
        let mut expected = v[2048..].to_vec();
        expected.extend_from_slice(&v[..2048]);
        prop_assert_eq!(s.enc.decode_signed(&s.sk.decrypt(&swapped)?)?, expected);
    }
}

#[test]
fn composition_costs_and_missing_keys() {
    let s = &*S;
    assert_eq!(s.gk.rotation_cost(1), Some(1));
    assert_eq!(s.gk.rotation_cost(1024), Some(1));
    assert_eq!(s.gk.rotation_cost(7), Some(3));
    assert_eq!(s.gk.rotation_cost(-1), Some(11)); // 2047 = 11 powers of two
    assert_eq!(s.gk.rotation_cost(0), Some(0));
    // Keys for step 3 only: step 1 cannot be composed.
    let mut sampler = Sampler::from_seed([10; 32]);
    let few = s.sk.galois_keys_for(&[3], false, &mut sampler).unwrap();
    let ct = s.sk.encrypt(&s.enc.encode(&[1, 2, 3]).unwrap()).unwrap();
    assert!(ct.rotate_rows(1, &few).is_err());
    assert!(ct.swap_columns(&few).is_err());
    let v: Vec<i64> = (0..4096).collect();
    let ct = s.sk.encrypt(&s.enc.encode_signed(&v).unwrap()).unwrap();
    let r = ct.rotate_rows(3, &few).unwrap();
    assert_eq!(
        s.enc.decode_signed(&s.sk.decrypt(&r).unwrap()).unwrap(),
        rotate_rows(&v, 3)
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Hoisted rotations (one decomposition, keyed and composed steps mixed, at level 0 and one
    /// level down) decrypt to the same slots as one rotation at a time.
    #[test]
    fn hoisted_rotations_match_single_ones(
        v in proptest::collection::vec(-100_000i64..100_000, 4096),
        steps in proptest::collection::vec(-2100i64..2100, 1..6),
        down in any::<bool>(),
    ) {
        let s = &*S;
        let mut ct = s.sk.encrypt(&s.enc.encode_signed(&v)?)?;
        if down {
            ct = ct.mod_switch_to_next()?;
        }
        let mut steps = steps;
        steps.extend([1, 64, 0, -1]); // keyed, keyed, identity, composed
        let many = ct.rotate_rows_many(&steps, &s.gk)?;
        prop_assert_eq!(many.len(), steps.len());
        for (r, &step) in many.iter().zip(&steps) {
            prop_assert_eq!(r.level(), ct.level());
            prop_assert_eq!(s.enc.decode_signed(&s.sk.decrypt(r)?)?, rotate_rows(&v, step));
        }
    }
}
