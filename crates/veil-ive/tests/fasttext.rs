//! FastText: training on the SMS data when present (skipped with a reason otherwise), and
//! encrypted inference equal to the quantized model on every message (tiny parameters).
#![allow(clippy::unwrap_used, clippy::panic)]

use std::path::Path;

use veil_bfv::BfvParametersBuilder;
use veil_ive::bfv::BfvClient;
use veil_ive::fasttext::digits::{DigitFastTextServer, encrypted_scores_digits};
use veil_ive::fasttext::encrypted::{FastTextServer, encrypted_scores};
use veil_ive::fasttext::{
    FloatModel, Message, TrainConfig, load_sms_spam, metrics, stratified_split, tokenize,
};
use veil_ive::{DigitBasis, ExactBasis};

const DATA: &str = "../../../shared/data/sms-spam/spam.csv";

fn synthetic() -> Vec<Message> {
    let spam = [
        "win a free prize now",
        "free entry text win",
        "claim your prize call now",
        "urgent win cash free",
    ];
    let ham = [
        "see you at home tonight",
        "ok i am on my way",
        "call me when you get home",
        "lunch at noon ok",
    ];
    (0..40)
        .map(|i| {
            let s = i % 3 == 0;
            let text = if s {
                spam[i % spam.len()]
            } else {
                ham[i % ham.len()]
            };
            Message {
                spam: s,
                text: format!("{text} {i}"),
            }
        })
        .collect()
}

#[test]
fn encrypted_scores_equal_the_quantized_model() {
    let msgs = synthetic();
    let p = 16;
    let examples: Vec<(Vec<usize>, bool)> = msgs
        .iter()
        .map(|m| (tokenize(&m.text, p), m.spam))
        .collect();
    let cfg = TrainConfig {
        buckets: p,
        dim: 4,
        epochs: 30,
        learning_rate: 1.0,
        seed: 3,
    };
    let model = FloatModel::train(&examples, &cfg).unwrap();
    let q = model.quantize(6);
    let bound = q.score_bound(veil_ive::fasttext::MAX_TOKENS);
    let bits = (64 - (2 * bound + 1).leading_zeros()).max(17) + 1;
    // Tiny, insecure parameters: N = 1024 (16 messages per ciphertext), t of `bits` bits.
    let params = BfvParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[50; 10])
        .batching_plaintext_bits(bits)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    let client = BfvClient::generate(&params).unwrap();
    let basis = ExactBasis::roots_of_unity(p, params.plaintext()).unwrap();
    let server = FastTextServer::new(&client, &q, &basis).unwrap();
    let tokens: Vec<Vec<usize>> = examples.iter().map(|e| e.0.clone()).collect();
    let (scores, timings) = encrypted_scores(&client, &server, &basis, &tokens, |_, _| {}).unwrap();
    let expected: Vec<i64> = tokens.iter().map(|t| q.score(t)).collect();
    assert_eq!(scores, expected);
    assert_eq!(timings.queries, 3);
    let actual: Vec<bool> = msgs.iter().map(|m| m.spam).collect();
    let predicted: Vec<bool> = scores.iter().map(|&z| z > 0).collect();
    assert!(
        metrics(&predicted, &actual).accuracy > 0.9,
        "{:?}",
        metrics(&predicted, &actual)
    );
}

#[test]
fn digit_encrypted_scores_equal_the_quantized_model() {
    let msgs = synthetic();
    let p = 64;
    let examples: Vec<(Vec<usize>, bool)> = msgs
        .iter()
        .map(|m| (tokenize(&m.text, p), m.spam))
        .collect();
    let cfg = TrainConfig {
        buckets: p,
        dim: 3,
        epochs: 30,
        learning_rate: 1.0,
        seed: 5,
    };
    let q = FloatModel::train(&examples, &cfg).unwrap().quantize(6);
    let bound = q.score_bound(veil_ive::fasttext::MAX_TOKENS);
    let bits = (64 - (2 * bound + 1).leading_zeros()).max(17) + 1;
    let params = BfvParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[50; 12])
        .batching_plaintext_bits(bits)
        .allow_below_128_bit_security()
        .build()
        .unwrap();
    let client = BfvClient::generate(&params).unwrap();
    let tokens: Vec<Vec<usize>> = examples.iter().map(|e| e.0.clone()).collect();
    let expected: Vec<i64> = tokens.iter().map(|t| q.score(t)).collect();
    for (sizes, fold) in [(&[16usize, 4][..], true), (&[8, 4, 2][..], false)] {
        let basis = DigitBasis::new(sizes, params.plaintext()).unwrap();
        let server = DigitFastTextServer::new(&client, &q, &basis, fold).unwrap();
        let (scores, timings) =
            encrypted_scores_digits(&client, &server, &basis, &tokens, |_, _| {}).unwrap();
        assert_eq!(scores, expected, "digits {sizes:?}, folded {fold}");
        assert_eq!(timings.queries, 3);
        assert!(timings.total() >= timings.lookup.wall.power_vectors);
    }
}

#[test]
fn sms_spam_loads_and_trains() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(DATA);
    if !path.exists() {
        println!(
            "skipped: {} not found (the shared data folder is absent)",
            path.display()
        );
        return;
    }
    let msgs = load_sms_spam(&path).unwrap();
    assert_eq!(msgs.len(), 5565);
    assert_eq!(msgs.iter().filter(|m| m.spam).count(), 747);
    let (train, test) = stratified_split(&msgs, 0.2, 42);
    assert_eq!(test.iter().filter(|&&i| msgs[i].spam).count(), 149);
    let p = 1024;
    let ex = |idx: &[usize]| -> Vec<(Vec<usize>, bool)> {
        idx.iter()
            .map(|&i| (tokenize(&msgs[i].text, p), msgs[i].spam))
            .collect()
    };
    let (tr, te) = (ex(&train), ex(&test));
    let cfg = TrainConfig {
        buckets: p,
        dim: 16,
        epochs: 30,
        learning_rate: 1.0,
        seed: 42,
    };
    let model = FloatModel::train(&tr, &cfg).unwrap();
    let actual: Vec<bool> = te.iter().map(|e| e.1).collect();
    let float = metrics(
        &te.iter()
            .map(|e| model.logit(&e.0) > 0.0)
            .collect::<Vec<_>>(),
        &actual,
    );
    let q = model.quantize(8);
    let quant = metrics(
        &te.iter().map(|e| q.score(&e.0) > 0).collect::<Vec<_>>(),
        &actual,
    );
    println!("float {float:?}, quantized {quant:?}");
    assert!(float.accuracy > 0.9);
    assert!((float.f1 - quant.f1).abs() < 0.02);
}
