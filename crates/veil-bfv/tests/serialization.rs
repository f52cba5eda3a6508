//! Serialization round trips, sizes, and refusal of malformed input.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::sync::LazyLock;

use veil_bfv::{
    BfvParameters, BfvParametersBuilder, Ciphertext, Encoder, Error, GaloisKeys, Preset, PublicKey,
    RelinearizationKey, SecretKey, SeededCiphertext,
};
use veil_ring::sample::Sampler;

struct Setup {
    params: std::sync::Arc<BfvParameters>,
    enc: Encoder,
    sk: SecretKey,
    pk: PublicKey,
    rk: RelinearizationKey,
    gk: GaloisKeys,
}

static S: LazyLock<Setup> = LazyLock::new(|| {
    let params = BfvParameters::preset(Preset::N4096).unwrap();
    let mut sampler = Sampler::from_seed([44; 32]);
    let sk = SecretKey::generate_with(&params, &mut sampler).unwrap();
    let pk = sk.public_key_with(&mut sampler).unwrap();
    let rk = sk.relinearization_key_with(&mut sampler).unwrap();
    let gk = sk.galois_keys_for(&[1, 2, -1], true, &mut sampler).unwrap();
    Setup {
        enc: Encoder::new(&params).unwrap(),
        params,
        sk,
        pk,
        rk,
        gk,
    }
});

#[test]
fn round_trips() {
    let s = &*S;
    let p2 = BfvParameters::from_bytes(&s.params.to_bytes(), false).unwrap();
    assert_eq!(*p2, *s.params);
    let values: Vec<u64> = (0..4096).map(|i| i * 7 % 1000).collect();
    let pt = s.enc.encode(&values).unwrap();
    let ct = s.pk.encrypt(&pt).unwrap();
    for c in [
        ct.clone(),
        ct.mul(&ct).unwrap(),
        ct.mod_switch_to_next().unwrap(),
    ] {
        let back = Ciphertext::from_bytes(&s.params, &c.to_bytes()).unwrap();
        assert_eq!(back, c);
    }
    let seeded = s.sk.encrypt_seeded(&pt).unwrap();
    let back = SeededCiphertext::from_bytes(&s.params, &seeded.to_bytes()).unwrap();
    assert_eq!(
        s.enc
            .decode(&s.sk.decrypt(&back.expand()).unwrap())
            .unwrap(),
        values
    );
    let pk = PublicKey::from_bytes(&s.params, &s.pk.to_bytes()).unwrap();
    assert_eq!(pk, s.pk);
    let rk = RelinearizationKey::from_bytes(&s.params, &s.rk.to_bytes()).unwrap();
    assert_eq!(rk, s.rk);
    let gk = GaloisKeys::from_bytes(&s.params, &s.gk.to_bytes()).unwrap();
    assert_eq!(gk, s.gk);
    // The deserialized keys work.
    let sq = ct
        .mul_relin(&ct, &rk)
        .unwrap()
        .rotate_rows(-1, &gk)
        .unwrap();
    let mut want: Vec<u64> = values
        .iter()
        .map(|&v| v * v % s.params.plaintext_modulus())
        .collect();
    want[..2048].rotate_right(1);
    want[2048..].rotate_right(1);
    assert_eq!(s.enc.decode(&s.sk.decrypt(&sq).unwrap()).unwrap(), want);
}

#[test]
fn sizes() {
    let s = &*S;
    let pt = s.enc.encode(&[1, 2, 3]).unwrap();
    let full = s.sk.encrypt(&pt).unwrap().to_bytes().len();
    let seeded = s.sk.encrypt_seeded(&pt).unwrap().to_bytes().len();
    // Two polynomials of 2 limbs x 4096 x 36 bits = 73,728 bytes, plus a 16-byte header.
    assert_eq!(full, 16 + 2 * 2 * 4096 * 36 / 8);
    assert_eq!(seeded, 14 + 32 + 2 * 4096 * 36 / 8);
    assert!((seeded as f64) < 0.51 * full as f64, "{seeded} vs {full}");
    let low =
        s.pk.encrypt(&pt)
            .unwrap()
            .mod_switch_to_last()
            .unwrap()
            .to_bytes()
            .len();
    assert_eq!(low, 16 + 2 * 4096 * 36 / 8);
    eprintln!("N=4096 ciphertext bytes: full {full}, seeded {seeded}, last level {low}");
}

#[test]
fn malformed_input_is_refused() {
    let s = &*S;
    let ct = s.pk.encrypt(&s.enc.encode(&[5]).unwrap()).unwrap();
    let good = ct.to_bytes();
    let bad = |bytes: &[u8]| Ciphertext::from_bytes(&s.params, bytes);
    assert!(bad(&good[..good.len() - 1]).is_err(), "truncated");
    assert!(
        bad(&[good.clone(), vec![0]].concat()).is_err(),
        "trailing byte"
    );
    assert!(bad(&[]).is_err());
    assert!(bad(b"VBFV").is_err());
    let mut wrong_kind = good.clone();
    wrong_kind[5] = 4;
    assert!(bad(&wrong_kind).is_err());
    let mut wrong_level = good.clone();
    wrong_level[14] = 9;
    assert!(bad(&wrong_level).is_err());
    let mut wrong_size = good.clone();
    wrong_size[15] = 7;
    assert!(bad(&wrong_size).is_err());
    let mut out_of_range = good.clone();
    for b in &mut out_of_range[16..16 + 5] {
        *b = 0xff; // the first 36-bit residue becomes 2^36 - 1 > q
    }
    assert!(matches!(bad(&out_of_range), Err(Error::Malformed { .. })));
    // Bytes made under other parameters.
    let other = BfvParameters::preset(Preset::N8192).unwrap();
    assert!(matches!(
        Ciphertext::from_bytes(&other, &good),
        Err(Error::Mismatch { .. })
    ));
    // Parameters: insecure sets need the opt-in; junk counts are refused before any allocation.
    let insecure = BfvParametersBuilder::new()
        .degree(4096)
        .moduli_sizes(&[60, 60])
        .batching_plaintext_bits(20)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    assert!(matches!(
        BfvParameters::from_bytes(&insecure.to_bytes(), false),
        Err(Error::Insecure { .. })
    ));
    assert!(BfvParameters::from_bytes(&insecure.to_bytes(), true).is_ok());
    let mut junk = s.params.to_bytes();
    junk[18] = 255;
    assert!(BfvParameters::from_bytes(&junk, false).is_err());
    // Keys: wrong lengths and elements.
    let gk = s.gk.to_bytes();
    assert!(GaloisKeys::from_bytes(&s.params, &gk[..gk.len() - 3]).is_err());
    let mut even = gk.clone();
    even[18] = 2;
    even[19..26].fill(0);
    assert!(GaloisKeys::from_bytes(&s.params, &even).is_err());
    // The same keys in another order (issue 14): the format is canonical, so refused. The keys
    // follow the 18-byte header and count, each as an 8-byte element and a fixed-size body.
    let count = u32::from_le_bytes(gk[14..18].try_into().unwrap()) as usize;
    assert_eq!(count, 4);
    let per_key = (gk.len() - 18) / count;
    let mut swapped = gk[..18].to_vec();
    swapped.extend_from_slice(&gk[18 + per_key..18 + 2 * per_key]);
    swapped.extend_from_slice(&gk[18..18 + per_key]);
    swapped.extend_from_slice(&gk[18 + 2 * per_key..]);
    assert_eq!(swapped.len(), gk.len());
    assert!(GaloisKeys::from_bytes(&s.params, &swapped).is_err());
    assert!(RelinearizationKey::from_bytes(&s.params, &s.pk.to_bytes()).is_err());
}

#[test]
fn parameters_through_serde() {
    let s = &*S;
    let json = serde_json::to_string(&*s.params).unwrap();
    let back: BfvParameters = serde_json::from_str(&json).unwrap();
    assert_eq!(back, *s.params);
    assert!(serde_json::from_str::<BfvParameters>("[1, 2, 3]").is_err());
}
