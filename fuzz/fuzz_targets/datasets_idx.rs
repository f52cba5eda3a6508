//! The IDX reader of `veil-datasets` (MNIST's image and label files, raw or gzip):
//! `Mnist::from_bytes` on an image and a label input, and `idx::parse_idx` on the first one
//! with every dimension count that its header could claim.
//!
//! Input: `[len u16 LE][len bytes of the image input][the label input]` (inputs shorter than
//! the prefix or `len` are cut where they end). The limit is 1 MiB, so a gzip bomb is refused
//! after at most 1 MiB of output.
//!
//! Checked for a pair that loads: as many labels as images, every label below 10, the pixels
//! are count x rows x cols, and re-encoding gives back the decompressed bytes (the format has
//! one encoding per array).
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_datasets::idx::{decompress, encode_idx, parse_idx};
use veil_datasets::{Limits, Mnist};

const LIMITS: Limits = Limits { max_bytes: 1 << 20 };

fuzz_target!(|data: &[u8]| {
    let len = match data {
        [a, b, ..] => usize::from(u16::from_le_bytes([*a, *b])),
        _ => 0,
    };
    let rest = data.get(2..).unwrap_or_default();
    let (images, labels) = rest.split_at(len.min(rest.len()));
    if let Ok(m) = Mnist::from_bytes(images, labels, &LIMITS) {
        let i = &m.images;
        assert_eq!(m.labels.len(), i.count);
        assert!(m.labels.iter().all(|&l| l < 10));
        assert_eq!(Some(i.pixels.len()), i.count.checked_mul(i.image_len()));
        let raw = decompress(images, &LIMITS, "images").expect("decompressed once already");
        assert_eq!(encode_idx(&[i.count, i.rows, i.cols], &i.pixels), Some(raw));
    }
    if let Ok(raw) = decompress(images, &LIMITS, "input") {
        for ndim in 0..=4 {
            if let Ok(a) = parse_idx(&raw, ndim, "input") {
                assert_eq!(a.dims.len(), usize::from(ndim));
                assert_eq!(encode_idx(&a.dims, &a.data).as_ref(), Some(&raw));
            }
        }
    }
});
