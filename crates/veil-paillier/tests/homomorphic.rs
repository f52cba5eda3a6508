//! Round trips and homomorphic laws against plain integer arithmetic.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::KEY;
use proptest::prelude::*;
use rug::Integer;
use veil_paillier::{Error, RandomnessPool};

fn cfg() -> ProptestConfig {
    ProptestConfig {
        cases: 48,
        ..ProptestConfig::default()
    }
}

/// Signed integers up to 256 bits, with extra weight on small values and zero.
fn int() -> impl Strategy<Value = Integer> {
    prop_oneof![
        any::<i64>().prop_map(Integer::from),
        (any::<bool>(), proptest::collection::vec(any::<u64>(), 1..4)).prop_map(|(neg, limbs)| {
            let x = Integer::from_digits(&limbs, rug::integer::Order::Lsf);
            if neg { -x } else { x }
        }),
        Just(Integer::new()),
    ]
}

proptest! {
    #![proptest_config(cfg())]

    #[test]
    fn decrypt_inverts_both_encryptions(m in int()) {
        let pk = KEY.public_key();
        prop_assert_eq!(KEY.decrypt(&pk.encrypt(m.clone())?)?, m.clone());
        prop_assert_eq!(KEY.decrypt(&KEY.encrypt(m.clone())?)?, m);
    }

    #[test]
    fn add_sub_neg_match_integers(a in int(), b in int()) {
        let pk = KEY.public_key();
        let (ca, cb) = (pk.encrypt(a.clone())?, pk.encrypt(b.clone())?);
        prop_assert_eq!(KEY.decrypt(&pk.add(&ca, &cb)?)?, Integer::from(&a + &b));
        prop_assert_eq!(KEY.decrypt(&pk.sub(&ca, &cb)?)?, Integer::from(&a - &b));
        prop_assert_eq!(KEY.decrypt(&pk.neg(&ca)?)?, Integer::from(-&a));
        prop_assert_eq!(KEY.decrypt(&pk.add_plain(&ca, b.clone())?)?, Integer::from(&a + &b));
    }

    #[test]
    fn scalar_multiplication_matches(a in int(), k in any::<i64>()) {
        let pk = KEY.public_key();
        let ca = pk.encrypt(a.clone())?;
        let expected = Integer::from(&a * k);
        prop_assert_eq!(KEY.decrypt(&pk.mul_scalar(&ca, k)?)?, expected.clone());
        let pre = pk.precompute(&ca, 64)?;
        prop_assert_eq!(KEY.decrypt(&pre.mul_scalar(k)?)?, expected);
    }

    #[test]
    fn rerandomize_changes_ciphertext_not_plaintext(a in any::<i64>()) {
        let pk = KEY.public_key();
        let c = pk.encrypt(a)?;
        let r = pk.rerandomize(&c)?;
        prop_assert_ne!(c.as_integer(), r.as_integer());
        prop_assert_eq!(KEY.decrypt_i64(&r)?, a);
    }

    #[test]
    fn linear_combination_matches_dot_product(
        terms in proptest::collection::vec((any::<i32>(), -70_000i64..70_000), 0..40)
    ) {
        let pk = KEY.public_key();
        let values: Vec<i64> = terms.iter().map(|t| i64::from(t.0)).collect();
        let scalars: Vec<i64> = terms.iter().map(|t| t.1).collect();
        let cts = pk.encrypt_batch(&values)?;
        let dot: i64 = values.iter().zip(&scalars).map(|(v, s)| v * s).sum();
        prop_assert_eq!(KEY.decrypt_i64(&pk.linear_combination(&cts, &scalars)?)?, dot);
    }
}

#[test]
fn boundaries_of_the_signed_range() {
    let pk = KEY.public_key();
    let max = pk.max_int().clone();
    for m in [
        max.clone(),
        Integer::from(-&max),
        Integer::from(1),
        Integer::from(-1),
    ] {
        assert_eq!(KEY.decrypt(&pk.encrypt(m.clone()).unwrap()).unwrap(), m);
    }
    let too_big = Integer::from(&max + 1);
    assert!(matches!(
        pk.encrypt(too_big.clone()),
        Err(Error::PlaintextOutOfRange { .. })
    ));
    assert!(matches!(
        pk.encrypt(-too_big),
        Err(Error::PlaintextOutOfRange { .. })
    ));
}

#[test]
fn overflow_is_an_error_not_garbage() {
    let pk = KEY.public_key();
    let max = pk.encrypt(pk.max_int().clone()).unwrap();
    assert!(matches!(
        KEY.decrypt(&pk.add_plain(&max, 1).unwrap()),
        Err(Error::Overflow)
    ));
    assert!(matches!(
        KEY.decrypt(&pk.mul_scalar(&max, 2).unwrap()),
        Err(Error::Overflow)
    ));
    let big = pk.encrypt(Integer::from(1) << 100).unwrap();
    assert!(matches!(
        KEY.decrypt_i64(&big),
        Err(Error::DoesNotFit { .. })
    ));
}

#[test]
fn pool_encrypts_once_per_factor() {
    let pk = KEY.public_key();
    let mut pool = RandomnessPool::new(pk);
    pool.fill(3);
    pool.fill_with_private_key(&KEY, 2).unwrap();
    assert_eq!(pool.len(), 5);
    let cts: Vec<_> = (0..5)
        .map(|i| pool.encrypt(i * 1000 - 2000).unwrap())
        .collect();
    for (i, c) in cts.iter().enumerate() {
        assert_eq!(KEY.decrypt_i64(c).unwrap(), i as i64 * 1000 - 2000);
    }
    assert!(matches!(pool.encrypt(1), Err(Error::PoolEmpty)));
    // Two encryptions of the same value from the pool differ.
    pool.fill(2);
    assert_ne!(pool.encrypt(7).unwrap(), pool.encrypt(7).unwrap());
}

#[test]
fn batches_match_single_operations() {
    let pk = KEY.public_key();
    let a: Vec<i64> = (0..20).map(|i| i * 37 - 300).collect();
    let k: Vec<i64> = (0..20).map(|i| 5 - i).collect();
    let ca = pk.encrypt_batch(&a).unwrap();
    let cb = KEY.encrypt_batch(&k).unwrap();
    let sums = KEY
        .decrypt_batch_i64(&pk.add_batch(&ca, &cb).unwrap())
        .unwrap();
    let prods = KEY
        .decrypt_batch_i64(&pk.mul_scalar_batch(&ca, &k).unwrap())
        .unwrap();
    for i in 0..20 {
        assert_eq!(sums[i], a[i] + k[i]);
        assert_eq!(prods[i], a[i] * k[i]);
    }
    assert!(pk.add_batch(&ca, &cb[1..]).is_err());
}

#[test]
fn generated_keys_have_the_promised_shape() {
    for safe in [false, true] {
        let sk = veil_paillier::KeyGenerator::new(1024)
            .safe_primes(safe)
            .generate()
            .unwrap();
        let json = serde_json::to_value(&sk).unwrap();
        let p = Integer::from_str_radix(&hex(&json["p"]), 16).unwrap();
        let q = Integer::from_str_radix(&hex(&json["q"]), 16).unwrap();
        assert_eq!(sk.public_key().bits(), 1024);
        assert_eq!(p.significant_bits(), 512);
        assert_eq!(q.significant_bits(), 512);
        assert_ne!(p, q);
        if safe {
            for x in [&p, &q] {
                let half = Integer::from(x - 1u32) >> 1u32;
                assert_ne!(half.is_probably_prime(30), rug::integer::IsPrime::No);
            }
        }
    }
    assert!(matches!(
        veil_paillier::KeyGenerator::new(1000).generate(),
        Err(Error::InvalidKeySize { .. })
    ));
    assert!(matches!(
        veil_paillier::KeyGenerator::new(1023).generate(),
        Err(Error::InvalidKeySize { .. })
    ));
}

/// base64url (serde format) to hex, for the test above.
fn hex(v: &serde_json::Value) -> String {
    let s = v.as_str().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = Integer::new();
    for c in s.chars() {
        bits = (bits << 6u32) + alphabet.find(c).unwrap() as u32;
    }
    // Drop the padding bits of the last group.
    let extra = (s.len() * 6) % 8;
    (bits >> extra as u32).to_string_radix(16)
}
