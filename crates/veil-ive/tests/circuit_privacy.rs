//! Circuit privacy: the noise of a flooded reply has the same distribution whatever the table;
//! without flooding it does not (a zero table gives an almost noiseless reply).
//!
//! The noise of each coefficient of a reply at the last prime q is e = [c_0 + c_1 s - round(q m / t)]_q,
//! computed with the secret key recomputed from the test seed. The two samples (all coefficients of
//! all columns) are compared by the two-sample Kolmogorov-Smirnov statistic D.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use veil_bfv::Ciphertext;
use veil_ive::bfv::BfvServer;
use veil_ive::{EmbeddingTable, ExactBasis, IveTable, Query};
use veil_ring::Poly;

fn noise(reply: &Ciphertext, m: &[u64]) -> Vec<f64> {
    let [c0, c1] = reply.polynomials() else {
        panic!("two polynomials")
    };
    let ctx = c0.context().clone();
    assert_eq!(ctx.moduli().len(), 1, "replies are at the last prime");
    let q = ctx.moduli()[0];
    let s = Poly::from_small(&ctx, &common::secret_coefficients(ctx.degree()))
        .unwrap()
        .into_ntt();
    let phase = c0
        .add(&c1.clone().into_ntt().mul(&s).unwrap().into_coeff())
        .unwrap();
    let t = common::T as u128;
    phase
        .limb(0)
        .iter()
        .zip(m)
        .map(|(&x, &mi)| {
            let scaled = ((2 * u128::from(q.value()) * u128::from(mi) + t) / (2 * t)) as u64;
            q.center(q.sub(x, q.reduce(scaled))) as f64
        })
        .collect()
}

/// Two-sample Kolmogorov-Smirnov statistic (veil-ring's, ties handled).
fn ks_statistic(a: Vec<f64>, b: Vec<f64>) -> f64 {
    veil_ring::stats::ks_statistic(&a, &b)
}

fn reply_noise(server: &BfvServer, rows: &[Vec<i64>]) -> Vec<f64> {
    let setup = common::ive();
    let t = setup.params.plaintext();
    let p = rows.len();
    let table = EmbeddingTable::new(rows).unwrap();
    let basis = ExactBasis::roots_of_unity(p, t).unwrap();
    let prepared = IveTable::exact(&table, &basis, t).unwrap();
    let indices: Vec<usize> = (0..1024).map(|s| s % p).collect();
    let query = setup.client.query(&basis, &indices).unwrap();
    let x = Query::from_bytes(server, p, &query)
        .unwrap()
        .digits
        .remove(0);
    let (columns, _) = prepared.lookup(server, &x).unwrap();
    columns
        .iter()
        .flat_map(|c| {
            let m = setup.client.secret_key().decrypt(c).unwrap();
            noise(c, m.coefficients())
        })
        .collect()
}

#[test]
fn flooded_replies_have_the_same_noise_distribution_for_different_tables() {
    let setup = common::ive();
    let zero_table: Vec<Vec<i64>> = vec![vec![0; 4]; 8];
    let random_table: Vec<Vec<i64>> = (0..8i64)
        .map(|i| {
            (0..4i64)
                .map(|j| (i * 1009 + j * 4111) % 6000 - 3000)
                .collect()
        })
        .collect();
    let server = |flood: bool| {
        let s = BfvServer::new(
            &setup.params,
            setup.client.public_key().unwrap(),
            setup.client.relinearization_key().unwrap(),
            setup.server.noise_model(),
        )
        .unwrap();
        if flood {
            s
        } else {
            s.without_circuit_privacy()
        }
    };
    // 4 columns x 1024 coefficients per table. Critical value of D at level 10^-3 for two samples
    // of 4096: 1.95 sqrt(2 / 4096) = 0.043.
    let flooded = server(true);
    let d_flooded = ks_statistic(
        reply_noise(&flooded, &zero_table),
        reply_noise(&flooded, &random_table),
    );
    let plain = server(false);
    let zero_noise = reply_noise(&plain, &zero_table);
    let d_plain = ks_statistic(zero_noise.clone(), reply_noise(&plain, &random_table));
    println!("KS distance: flooded {d_flooded:.4}, not flooded {d_plain:.4}");
    assert!(d_flooded < 0.043, "flooded replies differ: D = {d_flooded}");
    // Measured: about 0.48 (the modulus switch to the last prime alone does not hide the table).
    assert!(
        d_plain > 0.2,
        "without flooding the zero table should stand out: D = {d_plain}"
    );
    let spread = |v: &[f64]| v.iter().map(|e| e.abs()).fold(0.0, f64::max);
    println!(
        "max |noise|: unflooded zero table {}, flooded {}",
        spread(&zero_noise),
        spread(&reply_noise(&flooded, &zero_table))
    );
}
