//! A FastText-style text classifier (Joulin et al., "Bag of Tricks for Efficient Text
//! Classification", EACL 2017): hashed word and bigram buckets -> embedding of dimension d ->
//! mean -> linear -> sigmoid, trained in plaintext, quantized to integers, and evaluated with
//! the embedding lookup under encryption ([`encrypted`]).
//!
//! Bucket 0 is reserved for padding (a zero row), buckets 1..p-1 hold the hashed tokens.

pub mod data;
pub mod digits;
pub mod encrypted;
mod model;

pub use data::{Message, load_sms_spam, parse_sms_spam, stratified_split};
pub use model::{FloatModel, Metrics, QuantizedModel, TrainConfig, metrics};

/// Tokens per message kept (the first ones): the slot block of one message under encryption.
pub const MAX_TOKENS: usize = 64;

/// Lower-case words (maximal runs of letters and digits), then after each word from the second on,
/// the bigram of it and its predecessor; hashed (FNV-1a, 64 bits) into buckets 1..buckets-1;
/// at most [`MAX_TOKENS`] tokens.
pub fn tokenize(text: &str, buckets: usize) -> Vec<usize> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let hash = |s: &str, salt: u8| -> usize {
        let h = s
            .bytes()
            .chain([salt])
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        1 + (h % (buckets.max(2) as u64 - 1)) as usize
    };
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        out.push(hash(w, 0));
        if i > 0 {
            let prev = words.get(i - 1).map_or("", String::as_str);
            out.push(hash(&format!("{prev} {w}"), 1));
        }
        if out.len() >= MAX_TOKENS {
            break;
        }
    }
    out.truncate(MAX_TOKENS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_buckets_and_bounded() {
        let t = tokenize("Free entry in 2 a wkly comp!! FREE", 256);
        assert_eq!(t.len(), 8 + 7);
        assert!(t.iter().all(|&b| (1..256).contains(&b)));
        assert_eq!(t, tokenize("Free entry in 2 a wkly comp!! FREE", 256));
        assert_eq!(t[0], t[13]); // "free" twice (words and bigrams interleave), same bucket
        assert_eq!(tokenize("free", 256), tokenize("FREE", 256));
        let long = "word ".repeat(200);
        assert_eq!(tokenize(&long, 256).len(), MAX_TOKENS);
        assert!(tokenize("  ,, ", 256).is_empty());
    }
}
