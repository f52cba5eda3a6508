//! Plaintext FastText on SMS spam for choosing settings:
//! `cargo run -p veil-ive --release --example fasttext_plain -- p d epochs lr bits`.
use veil_ive::fasttext::{
    FloatModel, TrainConfig, load_sms_spam, metrics, stratified_split, tokenize,
};

fn main() -> veil_ive::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let get = |i: usize, d: f64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let cfg = TrainConfig {
        buckets: get(1, 256.0) as usize,
        dim: get(2, 16.0) as usize,
        epochs: get(3, 20.0) as usize,
        learning_rate: get(4, 0.5) as f32,
        seed: 1,
    };
    let bits = get(5, 8.0) as u32;
    let msgs = load_sms_spam(std::path::Path::new("/work/shared/data/sms-spam/spam.csv"))?;
    let (train, test) = stratified_split(&msgs, 0.2, 42);
    let ex = |idx: &[usize]| -> Vec<(Vec<usize>, bool)> {
        idx.iter()
            .map(|&i| (tokenize(&msgs[i].text, cfg.buckets), msgs[i].spam))
            .collect()
    };
    let (tr, te) = (ex(&train), ex(&test));
    let model = FloatModel::train(&tr, &cfg)?;
    let actual: Vec<bool> = te.iter().map(|e| e.1).collect();
    let fp: Vec<bool> = te.iter().map(|e| model.logit(&e.0) > 0.0).collect();
    let q = model.quantize(bits);
    let qp: Vec<bool> = te.iter().map(|e| q.score(&e.0) > 0).collect();
    // Sanity: logistic regression on normalized bucket frequencies (convex, p weights).
    let p = cfg.buckets;
    let mut u = vec![0f32; p];
    let mut b = 0f32;
    for ep in 0..cfg.epochs {
        for (toks, y) in &tr {
            if toks.is_empty() {
                continue;
            }
            let l = toks.len() as f32;
            let z: f32 = toks.iter().map(|&t| u[t]).sum::<f32>() / l + b;
            let g = 1.0 / (1.0 + (-z).exp()) - if *y { 1.0 } else { 0.0 };
            let lr = cfg.learning_rate * (1.0 - ep as f32 / cfg.epochs as f32);
            for &t in toks {
                u[t] -= lr * g / l;
            }
            b -= lr * g;
        }
    }
    let lp: Vec<bool> = te
        .iter()
        .map(|(toks, _)| {
            toks.iter().map(|&t| u[t]).sum::<f32>() / (toks.len().max(1) as f32) + b > 0.0
        })
        .collect();
    let trp: Vec<bool> = tr.iter().map(|e| model.logit(&e.0) > 0.0).collect();
    let tra: Vec<bool> = tr.iter().map(|e| e.1).collect();
    println!(
        "bucket LR {:?}; fasttext train {:?}",
        metrics(&lp, &actual),
        metrics(&trp, &tra)
    );
    println!(
        "{} msgs, train {}, test {}; float {:?}; quant {:?}; bound {}",
        msgs.len(),
        tr.len(),
        te.len(),
        metrics(&fp, &actual),
        metrics(&qp, &actual),
        q.score_bound(64)
    );
    Ok(())
}
