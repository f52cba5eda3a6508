//! Ciphertext products and relinearization against slot arithmetic, and the multiplicative depth
//! of each preset.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::Arc;

use common::modt;
use proptest::prelude::*;
use veil_bfv::{BfvParameters, Ciphertext, Encoder, Error, Preset, RelinearizationKey, SecretKey};
use veil_ring::sample::Sampler;

struct Setup {
    params: Arc<BfvParameters>,
    enc: Encoder,
    sk: SecretKey,
    rk: RelinearizationKey,
}

fn setup(preset: Preset, seed: u8) -> Setup {
    let params = BfvParameters::preset(preset).unwrap();
    let mut sampler = Sampler::from_seed([seed; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    Setup {
        enc: Encoder::new(&params).unwrap(),
        params,
        sk,
        rk,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn product_matches_slot_product(
        a in proptest::collection::vec(-500_000i64..500_000, 8192),
        b in proptest::collection::vec(-500_000i64..500_000, 8192),
    ) {
        let s = setup(Preset::N8192, 1);
        let t = s.params.plaintext_modulus();
        let ca = s.sk.encrypt(&s.enc.encode_signed(&a)?)?;
        let cb = s.sk.encrypt(&s.enc.encode_signed(&b)?)?;
        let expected: Vec<i64> = a.iter().zip(&b).map(|(&x, &y)| modt(i128::from(x) * i128::from(y), t)).collect();
        let prod = ca.mul(&cb)?;
        prop_assert_eq!(prod.len(), 3);
        prop_assert_eq!(s.enc.decode_signed(&s.sk.decrypt(&prod)?)?, expected.clone());
        let relin = prod.relinearize(&s.rk)?;
        prop_assert_eq!(relin.len(), 2);
        prop_assert_eq!(s.enc.decode_signed(&s.sk.decrypt(&relin)?)?, expected);
    }
}

/// Squares a ciphertext until decryption reports an exhausted budget; returns how many squarings
/// decrypted correctly (each checked against the plaintext computation).
fn depth(s: &Setup) -> usize {
    let t = s.params.plaintext_modulus();
    let mut plain: Vec<i64> = (0..s.params.degree() as i64).map(|i| i % 7 - 3).collect();
    let mut ct: Ciphertext = s.sk.encrypt(&s.enc.encode_signed(&plain).unwrap()).unwrap();
    for level in 0..64 {
        ct = ct.mul_relin(&ct, &s.rk).unwrap();
        plain = plain
            .iter()
            .map(|&x| modt(i128::from(x) * i128::from(x), t))
            .collect();
        match s.sk.decrypt(&ct) {
            Ok(pt) => assert_eq!(
                s.enc.decode_signed(&pt).unwrap(),
                plain,
                "wrong result at depth {}",
                level + 1
            ),
            Err(Error::NoiseBudgetExhausted) => return level,
            Err(e) => panic!("{e}"),
        }
    }
    64
}

#[test]
fn depth_of_each_preset() {
    // Sequential squarings with relinearization that still decrypt correctly, 20-bit t.
    for (preset, expected) in [(Preset::N4096, 1), (Preset::N8192, 4), (Preset::N16384, 10)] {
        let got = depth(&setup(preset, 2));
        eprintln!("{preset:?}: depth {got}");
        assert!(got >= expected, "{preset:?}: depth {got} < {expected}");
    }
}

#[test]
fn products_need_matching_sizes_and_keys() {
    let s = setup(Preset::N4096, 3);
    let c = s.sk.encrypt(&s.enc.encode(&[2]).unwrap()).unwrap();
    let c3 = c.mul(&c).unwrap();
    assert!(
        c3.mul(&c).is_err(),
        "a 3-polynomial ciphertext must be relinearized first"
    );
    let other = setup(Preset::N8192, 4);
    assert!(c3.relinearize(&other.rk).is_err());
}

#[test]
fn noise_budget_shrinks_with_each_product() {
    let s = setup(Preset::N8192, 5);
    let ct =
        s.sk.encrypt(&s.enc.encode_signed(&[3, -2, 1]).unwrap())
            .unwrap();
    let fresh = s.sk.noise_budget(&ct).unwrap();
    let once =
        s.sk.noise_budget(&ct.mul_relin(&ct, &s.rk).unwrap())
            .unwrap();
    eprintln!("N8192 noise budget: fresh {fresh} bits, after one product {once} bits");
    // Q has 174 bits and t 20: a fresh ciphertext keeps well over 100 bits, a product costs tens.
    assert!(fresh > 120 && fresh < 174, "{fresh}");
    assert!(once + 20 < fresh && once > 60, "{fresh} -> {once}");
}

/// Both N = 32768 chains (SEAL's 55-bit one and the narrow one below 2^50 that the IFMA kernels
/// take) multiply, relinearize and decrypt exactly: the HPS product with 16-17 primes of Q and
/// the auxiliary primes below 2^50.
#[test]
fn both_n32768_chains_multiply_exactly() {
    for preset in [Preset::N32768, Preset::N32768Narrow] {
        let s = setup(preset, 77);
        let t = s.params.plaintext_modulus();
        let v: Vec<i64> = (0..32768).map(|i| (i * 7919 % 200_001) - 100_000).collect();
        let ct = s.sk.encrypt(&s.enc.encode_signed(&v).unwrap()).unwrap();
        let sq = ct.mul_relin(&ct, &s.rk).unwrap();
        let got = s.enc.decode_signed(&s.sk.decrypt(&sq).unwrap()).unwrap();
        let want: Vec<i64> = v
            .iter()
            .map(|&x| modt(i128::from(x) * i128::from(x), t))
            .collect();
        assert_eq!(got, want, "{preset:?}");
    }
}
