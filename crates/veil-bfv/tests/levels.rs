//! Modulus switching: levels preserve plaintexts, shrink ciphertexts, and mix in operations.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::modt;
use veil_bfv::{BfvParameters, Encoder, Preset, SecretKey};
use veil_ring::sample::Sampler;

#[test]
fn switching_down_keeps_the_plaintext_and_operations_mix_levels() {
    let params = BfvParameters::preset(Preset::N8192).unwrap();
    let t = params.plaintext_modulus();
    let enc = Encoder::new(&params).unwrap();
    let mut sampler = Sampler::from_seed([21; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let gk = sk.galois_keys_for(&[1], false, &mut sampler).unwrap();
    let a: Vec<i64> = (0..8192).map(|i| (i * 37) % 2001 - 1000).collect();
    let b: Vec<i64> = (0..8192).map(|i| (i * 91) % 401 - 200).collect();
    let ca = sk.encrypt(&enc.encode_signed(&a).unwrap()).unwrap();
    let cb = sk.encrypt(&enc.encode_signed(&b).unwrap()).unwrap();
    let dec = |c: &veil_bfv::Ciphertext| enc.decode_signed(&sk.decrypt(c).unwrap()).unwrap();

    // Every level decrypts to the same slots; each switch drops one prime.
    let mut c = ca.clone();
    let mut budgets = vec![sk.noise_budget(&c).unwrap()];
    for level in 1..=params.max_level() {
        c = c.mod_switch_to_next().unwrap();
        assert_eq!(c.level(), level);
        assert_eq!(
            c.polynomials()[0].context().moduli().len(),
            params.ciphertext_moduli().len() - level
        );
        assert_eq!(dec(&c), a, "level {level}");
        budgets.push(sk.noise_budget(&c).unwrap());
    }
    eprintln!("N8192 noise budget per level: {budgets:?}");
    assert!(
        c.mod_switch_to_next().is_err(),
        "no level below the last prime"
    );
    assert_eq!(ca.mod_switch_to_last().unwrap(), c);

    // Mixed levels: the higher-level operand is switched down first.
    let b1 = cb.mod_switch_to_next().unwrap();
    let sum = ca.add(&b1).unwrap();
    assert_eq!(sum.level(), 1);
    let expect = |f: &dyn Fn(i64, i64) -> i128| -> Vec<i64> {
        a.iter().zip(&b).map(|(&x, &y)| modt(f(x, y), t)).collect()
    };
    assert_eq!(dec(&sum), expect(&|x, y| i128::from(x) + i128::from(y)));
    let prod = ca.mul_relin(&b1, &rk).unwrap();
    assert_eq!(prod.level(), 1);
    assert_eq!(dec(&prod), expect(&|x, y| i128::from(x) * i128::from(y)));
    // Products, relinearization, rotation and plaintext operations at a lower level.
    let low = prod.mod_switch_to_next().unwrap();
    let sq = low.mul_relin(&low, &rk).unwrap();
    assert_eq!(
        dec(&sq),
        expect(&|x, y| (i128::from(x) * i128::from(y)).pow(2))
    );
    let rotated = low.rotate_rows(1, &gk).unwrap();
    let mut want = expect(&|x, y| i128::from(x) * i128::from(y));
    want[..4096].rotate_left(1);
    want[4096..].rotate_left(1);
    assert_eq!(dec(&rotated), want);
    let pt = enc.encode_signed(&b).unwrap();
    assert_eq!(
        dec(&low.add_plain(&pt).unwrap()),
        expect(&|x, y| i128::from(x) * i128::from(y) + i128::from(y))
    );
    assert_eq!(
        dec(&low.mul_plain(&pt).unwrap()),
        expect(&|x, y| i128::from(x) * i128::from(y) * i128::from(y))
    );
}
