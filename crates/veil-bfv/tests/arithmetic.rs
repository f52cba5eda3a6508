//! Encryption round trips and homomorphic operations against the same operations on plaintext slots.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::{Arc, LazyLock};

use common::modt;
use proptest::prelude::*;
use veil_bfv::{BfvParameters, BfvParametersBuilder, Encoder, Error, Preset, PublicKey, SecretKey};
use veil_ring::sample::Sampler;

struct Setup {
    params: Arc<BfvParameters>,
    enc: Encoder,
    sk: SecretKey,
    pk: PublicKey,
}

fn setup(params: Arc<BfvParameters>, seed: u8) -> Setup {
    let mut sampler = Sampler::from_seed([seed; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    Setup {
        enc: Encoder::new(&params).unwrap(),
        params,
        sk,
        pk,
    }
}

static N4096: LazyLock<Setup> =
    LazyLock::new(|| setup(BfvParameters::preset(Preset::N4096).unwrap(), 1));

fn slots(n: usize) -> impl Strategy<Value = Vec<i64>> {
    proptest::collection::vec(-300_000i64..300_000, n)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn operations_match_slot_arithmetic(a in slots(4096), b in slots(4096), k in -1000i64..1000) {
        let s = &*N4096;
        let t = s.params.plaintext_modulus();
        let (pa, pb) = (s.enc.encode_signed(&a)?, s.enc.encode_signed(&b)?);
        let ca = s.pk.encrypt(&pa)?;
        let cb = s.sk.encrypt(&pb)?;
        let dec = |c: &veil_bfv::Ciphertext| s.enc.decode_signed(&s.sk.decrypt(c).unwrap()).unwrap();
        prop_assert_eq!(dec(&ca), a.clone());
        prop_assert_eq!(dec(&cb), b.clone());
        let expect = |f: &dyn Fn(i128, i128) -> i128| -> Vec<i64> {
            a.iter().zip(&b).map(|(&x, &y)| modt(f(i128::from(x), i128::from(y)), t)).collect()
        };
        prop_assert_eq!(dec(&ca.add(&cb)?), expect(&|x, y| x + y));
        prop_assert_eq!(dec(&ca.sub(&cb)?), expect(&|x, y| x - y));
        prop_assert_eq!(dec(&ca.neg()), expect(&|x, _| -x));
        prop_assert_eq!(dec(&ca.add_plain(&pb)?), expect(&|x, y| x + y));
        prop_assert_eq!(dec(&ca.sub_plain(&pb)?), expect(&|x, y| x - y));
        prop_assert_eq!(dec(&ca.mul_plain(&pb)?), expect(&|x, y| x * y));
        prop_assert_eq!(dec(&ca.mul_scalar(k)), expect(&|x, _| x * i128::from(k)));
    }
}

#[test]
fn every_preset_round_trips() {
    for preset in [Preset::N4096, Preset::N8192, Preset::N16384] {
        let s = setup(BfvParameters::preset(preset).unwrap(), 2);
        let values: Vec<u64> = (0..s.params.degree() as u64)
            .map(|i| i * 31 % s.params.plaintext_modulus())
            .collect();
        let ct = s.pk.encrypt(&s.enc.encode(&values).unwrap()).unwrap();
        assert_eq!(
            s.enc.decode(&s.sk.decrypt(&ct).unwrap()).unwrap(),
            values,
            "{preset:?}"
        );
    }
}

#[test]
fn exhausted_noise_is_an_error_not_garbage() {
    // A tiny modulus: repeated plaintext products exhaust the budget within a few steps.
    let params = BfvParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[27, 27])
        .batching_plaintext_bits(17)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    let s = setup(params, 3);
    let pt = s.enc.encode_signed(&vec![1000; 1024]).unwrap();
    let mut ct = s.pk.encrypt(&pt).unwrap();
    let mut saw_error = false;
    for _ in 0..10 {
        ct = ct.mul_plain(&pt).unwrap();
        match s.sk.decrypt(&ct) {
            Err(Error::NoiseBudgetExhausted) => {
                saw_error = true;
                break;
            }
            Err(e) => panic!("{e}"),
            Ok(_) => {}
        }
    }
    assert!(saw_error, "the noise budget never ran out");
}

#[test]
fn mixing_parameters_is_refused() {
    let a = &*N4096;
    let b = setup(BfvParameters::preset(Preset::N8192).unwrap(), 4);
    let ca = a.pk.encrypt(&a.enc.encode(&[1]).unwrap()).unwrap();
    let cb = b.pk.encrypt(&b.enc.encode(&[1]).unwrap()).unwrap();
    assert!(ca.add(&cb).is_err());
    assert!(b.sk.decrypt(&ca).is_err());
    assert!(ca.mul_plain(&b.enc.encode(&[1]).unwrap()).is_err());
    assert!(format!("{:?}", a.sk).contains("redacted"));
}
