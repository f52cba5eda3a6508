//! The three-party protocol over the in-memory transport against plaintext f64 arithmetic:
//! Beaver products (element-wise, matrix, convolution as im2col), functions through the helper,
//! opening, revealing and input sharing.
#![allow(clippy::unwrap_used, clippy::panic)]

use ndarray::{Array2, array};
use proptest::prelude::*;
use veil_rtas::{
    Conv2d, FixedPoint, Function, Party, Product, ProtocolConfig, Public, Session, Share,
    reconstruct, run_local, share_f64,
};

fn matrix(rows: usize, cols: usize, max: f64) -> impl Strategy<Value = Array2<f64>> {
    proptest::collection::vec(-max..max, rows * cols)
        .prop_map(move |v| Array2::from_shape_vec((rows, cols), v).unwrap())
}

fn fp() -> FixedPoint {
    FixedPoint::default()
}

/// Encodes and decodes (the value the protocol actually works on).
fn quantize(x: &Array2<f64>) -> Array2<f64> {
    Public::encode(x.view(), fp()).unwrap().decode()
}

/// Runs `f` on P0's and P1's shares of `inputs` and returns the reconstructed outputs.
fn run2(
    inputs: &[&Array2<f64>],
    f: impl Fn(&mut Session, &[Share]) -> veil_rtas::Result<Vec<Share>> + Send + Sync,
) -> Vec<Array2<f64>> {
    let mut s0 = Vec::new();
    let mut s1 = Vec::new();
    for x in inputs {
        let (a, b) = share_f64(x.view(), fp(), &mut rand::rng()).unwrap();
        s0.push(a);
        s1.push(b);
    }
    let config = ProtocolConfig::default();
    let run = run_local(&config, |s| f(s, &s0), |s| f(s, &s1)).unwrap();
    run.p0
        .iter()
        .zip(&run.p1)
        .map(|(a, b)| reconstruct(a, b).unwrap().decode())
        .collect()
}

fn assert_close(got: &Array2<f64>, want: &Array2<f64>, tol: f64) {
    assert_eq!(got.dim(), want.dim());
    for (g, w) in got.iter().zip(want.iter()) {
        assert!(
            (g - w).abs() <= tol,
            "got {g}, want {w} (tolerance {tol})\n{got}\n{want}"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn hadamard_product(x in matrix(3, 4, 50.0), y in matrix(3, 4, 50.0)) {
        let out = run2(&[&x, &y], |s, v| Ok(vec![s.mul(&v[0], &v[1])?]));
        let want = quantize(&x) * quantize(&y);
        assert_close(&out[0], &want, 2.0 / fp().scale());
    }

    #[test]
    fn matrix_product(x in matrix(5, 7, 20.0), y in matrix(7, 3, 20.0)) {
        let out = run2(&[&x, &y], |s, v| Ok(vec![s.matmul(&v[0], &v[1])?]));
        let want = quantize(&x).dot(&quantize(&y));
        assert_close(&out[0], &want, 2.0 / fp().scale());
    }

    #[test]
    fn convolution_as_im2col_product(x in matrix(2, 2 * 6 * 6, 4.0), k in matrix(2 * 3 * 3, 3, 4.0)) {
        let conv = Conv2d { channels: 2, height: 6, width: 6, filters: 3, kernel: 3, stride: 2, padding: 1 };
        let out = run2(&[&x, &k], move |s, v| {
            let cols = v[0].im2col(&conv)?;
            Ok(vec![s.matmul(&cols, &v[1])?])
        });
        let want = conv.im2col(quantize(&x).view()).unwrap().dot(&quantize(&k));
        assert_close(&out[0], &want, 2.0 / fp().scale());
    }

    #[test]
    fn elementwise_functions_through_the_helper(x in matrix(4, 5, 8.0)) {
        let funcs = [Function::Sigmoid, Function::SigmoidGrad, Function::Relu, Function::ReluGrad];
        let out = run2(&[&x], |s, v| s.eval(&v[0], &funcs));
        for (f, got) in funcs.iter().zip(&out) {
            assert_close(got, &f.apply(quantize(&x).view()), 1.0 / fp().scale());
        }
    }

    #[test]
    fn fused_product_and_softmax_is_row_wise(x in matrix(6, 4, 3.0), w in matrix(4, 5, 3.0)) {
        let out = run2(&[&x, &w], |s, v| {
            let z = s.matmul_raw(&v[0], &v[1])?; // 2f bits: the helper divides exactly
            s.eval(&z, &[Function::Softmax])
        });
        let want = Function::Softmax.apply(quantize(&x).dot(&quantize(&w)).view());
        assert_close(&out[0], &want, 1.0 / fp().scale());
    }
}

#[test]
fn several_products_in_one_round() {
    let x = array![[1.0, 2.0], [3.0, 4.0]];
    let y = array![[0.5, -1.0], [2.0, 0.25]];
    let (x0, x1) = share_f64(x.view(), fp(), &mut rand::rng()).unwrap();
    let (y0, y1) = share_f64(y.view(), fp(), &mut rand::rng()).unwrap();
    let config = ProtocolConfig::default();
    let body = |s: &mut Session, x: &Share, y: &Share| {
        s.products_raw(&[(Product::Matmul, x, y), (Product::Hadamard, x, y)])
    };
    let run = run_local(&config, |s| body(s, &x0, &y0), |s| body(s, &x1, &y1)).unwrap();
    let mm = reconstruct(&run.p0[0], &run.p1[0]).unwrap().decode();
    let hd = reconstruct(&run.p0[1], &run.p1[1]).unwrap();
    assert_eq!(hd.frac_bits(), 32);
    assert_close(&mm, &(x.dot(&y)), 1e-9);
    assert_close(&hd.decode(), &(&x * &y), 1e-9);
    // One round for both products (plus setup and the closing handshake); P2 sent two seeds,
    // the two W_1 (4 words each) and two confirmations: frames are 16 header bytes + 8 per word.
    assert_eq!(run.stats[0].rounds, 3);
    assert_eq!(
        run.stats[2].bytes_sent,
        2 * (16 + 32) + 2 * (16 + 32) + 2 * 16
    );
}

#[test]
fn open_reveal_and_input() {
    let config = ProtocolConfig::default();
    let x = Public::encode(array![[1.25, -7.0, 3.5]].view(), fp()).unwrap();
    let body = |s: &mut Session, x: Option<&Public>| {
        let shared = s.input(Party::P0, x, (1, 3))?;
        let doubled = shared.add(&shared)?;
        let opened = s.open(&doubled)?;
        let revealed = s.reveal_to(&shared, Party::P1)?;
        Ok((opened, revealed))
    };
    let run = run_local(&config, |s| body(s, Some(&x)), |s| body(s, None)).unwrap();
    assert_eq!(run.p0.0.decode(), array![[2.5, -14.0, 7.0]]);
    assert_eq!(run.p1.0, run.p0.0);
    assert!(run.p0.1.is_none());
    assert_eq!(
        run.p1.1.as_ref().unwrap().decode(),
        array![[1.25, -7.0, 3.5]]
    );
    // input() costs nothing: P0 sent the seed, its open, its reveal and the Done.
    assert_eq!(run.stats[0].messages_sent, 4);
}

#[test]
fn mismatched_settings_are_refused_at_setup() {
    use veil_rtas::transport::memory_network;
    let [t0, t1, t2] = memory_network();
    let a = ProtocolConfig::default();
    let b = ProtocolConfig {
        fixed_point: FixedPoint::new(20).unwrap(),
        ..a
    };
    let h = std::thread::spawn(move || veil_rtas::Helper::new(Box::new(t2), &b).map(|_| ()));
    let p1 = std::thread::spawn(move || Session::new(Box::new(t1), &a).map(|_| ()));
    let p0 = Session::new(Box::new(t0), &a);
    assert!(matches!(p0, Err(veil_rtas::Error::Config { .. })), "{p0:?}");
    let _ = p1.join().unwrap();
    let _ = h.join().unwrap();
}

/// Issue 14, item 3: the helper-dealt truncation through the real protocol: 2^16 values of
/// magnitude up to 2^46 at 32 fractional bits (the local truncation would fail on about 2^-19
/// of them), truncated in one round by 16 bits; every result is the floor or
/// one more, in the same order, and P2 sees only the shapes.
#[test]
fn helper_truncation_is_floor_or_one_more() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
    let n = 1 << 16;
    let values: Vec<Array2<u64>> = (0..4)
        .map(|_| {
            Array2::from_shape_fn((4, n / 4), |_| {
                rng.random_range(-(1_i64 << 46)..1 << 46) as u64
            })
        })
        .collect();
    let mut s0 = Vec::new();
    let mut s1 = Vec::new();
    for v in &values {
        let r = Array2::from_shape_fn(v.dim(), |_| rng.random::<u64>());
        let other = Array2::from_shape_fn(v.dim(), |(i, j)| v[[i, j]].wrapping_sub(r[[i, j]]));
        s0.push(Share::from_ring(Party::P0, 32, r));
        s1.push(Share::from_ring(Party::P1, 32, other));
    }
    let body = |s: &mut Session, xs: &[Share]| {
        let refs: Vec<&Share> = xs.iter().collect();
        s.truncate_many(&refs, 16)
    };
    let run = run_local(
        &ProtocolConfig::default(),
        |s| body(s, &s0),
        |s| body(s, &s1),
    )
    .unwrap();
    for ((v, a), b) in values.iter().zip(&run.p0).zip(&run.p1) {
        assert_eq!(a.frac_bits(), 16);
        let y = reconstruct(a, b).unwrap();
        for (&x, &z) in v.iter().zip(y.ring().iter()) {
            let want = (x as i64) >> 16;
            let got = z as i64;
            assert!(
                got == want || got == want + 1,
                "{} -> {got}, want {want}",
                x as i64
            );
        }
    }
    // Traffic: P2 sent P1 two words per element; the holders one each way.
    let words = 4 * n as u64;
    assert!(run.stats[2].bytes_sent >= 2 * 8 * words);
    assert!(run.stats[2].bytes_sent < 2 * 8 * words + 4096);
}
