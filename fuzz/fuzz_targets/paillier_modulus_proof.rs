//! `ModulusProof::from_bytes` and `PublicKey::verify_modulus_proof` against the fixed 2048-bit
//! key (the cryptorec fast-mode server's check of a client key).
//!
//! The input is parsed as a proof, and also XOR-ed into the key's valid proof (so that most
//! inputs pass the header and length checks and reach verification). A proof that parses must
//! write back to the same bytes, and must verify exactly when it is the valid proof.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use veil_paillier::ModulusProof;

const CONTEXT: &[u8] = b"fuzz";

static VALID: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let sk = veil_paillier_fuzz::private_key();
    sk.prove_modulus(CONTEXT)
        .and_then(|p| p.to_bytes(sk.public_key()))
        .expect("the fixed key proves its modulus")
});

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut mutated = VALID.clone();
    for (m, d) in mutated.iter_mut().zip(data) {
        *m ^= d;
    }
    if data.len() > mutated.len() {
        mutated.extend_from_slice(&data[mutated.len()..]);
    }
    check(&mutated);
});

fn check(bytes: &[u8]) {
    let pk = veil_paillier_fuzz::public_key();
    let Ok(proof) = ModulusProof::from_bytes(pk, bytes) else {
        return;
    };
    assert_eq!(proof.to_bytes(pk).expect("encodes"), bytes);
    let verified = pk.verify_modulus_proof(&proof, CONTEXT).is_ok();
    assert_eq!(verified, bytes == VALID.as_slice());
}
