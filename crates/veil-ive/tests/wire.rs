//! The wire formats refuse malformed, truncated, oversized and trailing input.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use veil_ive::{CiphertextCodec, ExactBasis, Query, Response};

#[test]
fn queries_and_responses_round_trip_and_refuse_bad_bytes() {
    let setup = common::ive();
    let t = setup.params.plaintext();
    let basis = ExactBasis::roots_of_unity(8, t).unwrap();
    let query = setup.client.query(&basis, &[1, 2, 3]).unwrap();
    let parsed = Query::from_bytes(&setup.server, 8, &query).unwrap();
    assert_eq!((parsed.rows, parsed.count, parsed.digits.len()), (8, 3, 1));
    // Another table height, trailing bytes, truncation, bad magic.
    assert!(Query::from_bytes(&setup.server, 16, &query).is_err());
    let mut long = query.clone();
    long.push(0);
    assert!(Query::from_bytes(&setup.server, 8, &long).is_err());
    for cut in [0, 5, 10, 14, 19, query.len() - 1] {
        assert!(
            Query::from_bytes(&setup.server, 8, &query[..cut]).is_err(),
            "cut {cut}"
        );
    }
    let mut bad = query.clone();
    bad[0] ^= 1;
    assert!(Query::from_bytes(&setup.server, 8, &bad).is_err());
    // Slot count beyond the parameters, zero digits, a huge announced ciphertext length.
    let mut bad = query.clone();
    bad[10..14].copy_from_slice(&(setup.server.slots() as u32 + 1).to_le_bytes());
    assert!(Query::from_bytes(&setup.server, 8, &bad).is_err());
    let mut bad = query.clone();
    bad[14] = 0;
    assert!(Query::from_bytes(&setup.server, 8, &bad).is_err());
    let mut bad = query.clone();
    bad[15..19].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(Query::from_bytes(&setup.server, 8, &bad).is_err());

    let response = Response {
        count: 3,
        columns: vec![parsed.digits[0].clone(); 2],
    };
    let bytes = response.to_bytes(&setup.server).unwrap();
    let back = Response::from_bytes(&setup.client, 2, &bytes).unwrap();
    assert_eq!(back.columns, response.columns);
    assert!(Response::from_bytes(&setup.client, 3, &bytes).is_err());
    assert!(Response::from_bytes(&setup.client, 2, &bytes[..bytes.len() - 1]).is_err());
    let mut long = bytes.clone();
    long.extend_from_slice(&[0; 4]);
    assert!(Response::from_bytes(&setup.client, 2, &long).is_err());
    // A response claiming 4096 columns in a few bytes is refused before allocating.
    let mut huge = bytes[..14].to_vec();
    huge[6..10].copy_from_slice(&4096u32.to_le_bytes());
    assert!(Response::from_bytes(&setup.client, 4096, &huge).is_err());
    assert!(setup.client.max_ciphertext_bytes() >= bytes.len() / 2);
}
