//! Tests of the modulus proof: honest keys verify, tampered proofs and bad moduli are refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::LazyLock;

use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rug::ops::Pow;

use super::*;
use crate::KeyGenerator;

const CONTEXT: &[u8] = b"test context";

static KEY: LazyLock<PrivateKey> = LazyLock::new(|| {
    KeyGenerator::new(1024)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(7))
        .unwrap()
});

fn random_prime(rng: &mut ChaCha20Rng, bits: u32) -> Integer {
    let mut bytes = vec![0_u8; bits.div_ceil(8) as usize];
    rng.fill(&mut bytes[..]);
    let mut x = Integer::from_digits(&bytes, Order::Msf);
    x.set_bit(bits - 1, true);
    x.next_prime()
}

/// A cheater who knows the factorization `(prime, exponent)` of n and returns, per challenge,
/// the n-th root in every prime-power component where x -> x^n is a bijection, and its best
/// guess (an inverse of n modulo the largest order it can invert in) elsewhere. On a good n
/// this is exactly the honest prover.
fn forge(n: &Integer, factors: &[(Integer, u32)], context: &[u8]) -> ModulusProof {
    let roots = (0..MODULUS_PROOF_ROUNDS as u32)
        .map(|i| {
            let rho = challenge(n, context, i).unwrap();
            let (mut root, mut modulus) = (Integer::from(0), Integer::from(1));
            for (p, e) in factors {
                let m = Integer::from(p.pow(*e));
                let phi = Integer::from(p.pow(e - 1)) * Integer::from(p - 1u32);
                let g = Integer::from(n.gcd_ref(&phi));
                let order = Integer::from(&phi / &g);
                let exponent = n
                    .invert_ref(&order)
                    .map(Integer::from)
                    .unwrap_or(Integer::from(1));
                let r = Integer::from(rho.pow_mod_ref(&exponent, &m).unwrap());
                // CRT of (root mod modulus) and (r mod m).
                let t = Integer::from(&r - &root) * Integer::from(modulus.invert_ref(&m).unwrap());
                root += Integer::from(t.modulo_ref(&m)) * &modulus;
                modulus *= m;
            }
            root
        })
        .collect();
    ModulusProof { roots }
}

#[test]
fn honest_proofs_verify_and_are_bound_to_key_and_context() {
    let pk = KEY.public_key();
    let proof = KEY.prove_modulus(CONTEXT).unwrap();
    pk.verify_modulus_proof(&proof, CONTEXT).unwrap();
    assert!(pk.verify_modulus_proof(&proof, b"other context").is_err());
    let other = KeyGenerator::new(1024)
        .generate_with_rng(&mut ChaCha20Rng::seed_from_u64(8))
        .unwrap();
    assert!(
        other
            .public_key()
            .verify_modulus_proof(&proof, CONTEXT)
            .is_err()
    );
    // The cheater's algorithm is the honest one on a good modulus.
    let factors = [(Integer::from(&*KEY.p), 1), (Integer::from(&*KEY.q), 1)];
    assert_eq!(forge(pk.n(), &factors, CONTEXT), proof);
    // Byte round trip.
    let bytes = proof.to_bytes(pk).unwrap();
    assert_eq!(bytes.len(), 8 + MODULUS_PROOF_ROUNDS * 128);
    assert_eq!(ModulusProof::from_bytes(pk, &bytes).unwrap(), proof);
    assert!(
        pk.verify_modulus_proof(&proof, &[0; MAX_CONTEXT_BYTES + 1])
            .is_err()
    );
}

#[test]
fn square_factor_modulus_is_refused() {
    // n = p^2 q: p divides phi(n), and the honest key constructors refuse it.
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let (p, q) = (random_prime(&mut rng, 512), random_prime(&mut rng, 512));
    let n = Integer::from(p.square_ref()) * &q;
    let pk = PublicKey::from_modulus(n.clone()).expect("passes the public checks");
    let proof = forge(&n, &[(p.clone(), 2), (q.clone(), 1)], CONTEXT);
    assert!(pk.verify_modulus_proof(&proof, CONTEXT).is_err());
    // Not one of the eight challenges was answered: each is an n-th power with prob. 1/p.
    let answered = (0..MODULUS_PROOF_ROUNDS)
        .filter(|&i| {
            let rho = challenge(&n, CONTEXT, i as u32).unwrap();
            Integer::from(proof.roots[i].pow_mod_ref(&n, &n).unwrap()) == rho
        })
        .count();
    assert_eq!(answered, 0);
}

#[test]
fn modulus_with_p_dividing_q_minus_1_is_refused() {
    let mut rng = ChaCha20Rng::seed_from_u64(2);
    let p = random_prime(&mut rng, 512);
    // q = 2 k p + 1 prime, so p | q - 1 = phi(n) / (p - 1).
    let q = loop {
        let k = random_prime(&mut rng, 500);
        let q = Integer::from(&k * &p) * 2u32 + 1u32;
        if q.is_probably_prime(30) != rug::integer::IsPrime::No {
            break q;
        }
    };
    let n = Integer::from(&p * &q);
    assert_ne!(Integer::from(n.gcd_ref(&Integer::from(&q - 1u32))), 1);
    let pk = PublicKey::from_modulus(n.clone()).expect("passes the public checks");
    let proof = forge(&n, &[(p, 1), (q, 1)], CONTEXT);
    assert!(pk.verify_modulus_proof(&proof, CONTEXT).is_err());
}

#[test]
fn small_prime_factor_is_refused_even_with_valid_roots() {
    // n = 65521 q has gcd(n, phi(n)) = 1, so the roots exist and verify; the small-prime check
    // is what the soundness bound needs (a factor p < 2^16 would let a bad n pass with
    // probability p^-8), and it refuses the key.
    let mut rng = ChaCha20Rng::seed_from_u64(3);
    let small = Integer::from(65_521);
    let q = random_prime(&mut rng, 1100);
    let n = Integer::from(&small * &q);
    let pk = PublicKey::from_modulus(n.clone()).expect("factors >= 1000 pass from_modulus");
    let proof = forge(&n, &[(small, 1), (q, 1)], CONTEXT);
    for (i, sigma) in proof.roots.iter().enumerate() {
        let rho = challenge(&n, CONTEXT, i as u32).unwrap();
        assert_eq!(Integer::from(sigma.pow_mod_ref(&n, &n).unwrap()), rho);
    }
    assert!(has_small_factor(&n));
    assert!(pk.verify_modulus_proof(&proof, CONTEXT).is_err());
    assert!(!has_small_factor(KEY.public_key().n()));
}

#[test]
fn malformed_bytes_are_refused_before_allocation() {
    let pk = KEY.public_key();
    let bytes = KEY.prove_modulus(CONTEXT).unwrap().to_bytes(pk).unwrap();
    let mut huge_count = bytes.clone();
    huge_count[4..8].copy_from_slice(&u32::MAX.to_le_bytes());
    let mut zero_root = bytes.clone();
    zero_root[8..8 + 128].fill(0);
    let mut big_root = bytes.clone();
    big_root[8..8 + 128].fill(0xff);
    let mut bad_magic = bytes.clone();
    bad_magic[0] ^= 1;
    for bad in [
        &[][..],
        &bytes[..7],
        &bytes[..bytes.len() - 1],
        &[&bytes[..], &[0]].concat(),
        &huge_count,
        &zero_root,
        &big_root,
        &bad_magic,
    ] {
        assert!(ModulusProof::from_bytes(pk, bad).is_err());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Any change to a root (one bit of its bytes) is refused; any context verifies its own proof.
    #[test]
    fn tampered_proofs_are_refused(
        context in proptest::collection::vec(any::<u8>(), 0..64),
        position in 0_usize..MODULUS_PROOF_ROUNDS * 128,
        bit in 0_u32..8,
    ) {
        let pk = KEY.public_key();
        let proof = KEY.prove_modulus(&context).unwrap();
        prop_assert!(pk.verify_modulus_proof(&proof, &context).is_ok());
        let mut bytes = proof.to_bytes(pk).unwrap();
        bytes[8 + position] ^= 1 << bit;
        if let Ok(tampered) = ModulusProof::from_bytes(pk, &bytes) {
            prop_assert!(pk.verify_modulus_proof(&tampered, &context).is_err());
        }
    }
}
