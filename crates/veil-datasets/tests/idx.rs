//! The IDX reader on small files the tests write (raw and gzip), malformed headers and sizes,
//! and the real MNIST test set when `../shared/data/mnist` is present.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use veil_datasets::idx::{self, encode_idx};
use veil_datasets::{Error, Limits, Mnist};

/// A fresh directory under the system's temporary directory.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("veil-datasets-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

/// Three 4 x 5 images with pixel values from their index, labels 3, 1, 4.
fn sample() -> (Vec<u8>, Vec<u8>) {
    let pixels: Vec<u8> = (0..60u8).map(|i| i.wrapping_mul(7)).collect();
    (
        encode_idx(&[3, 4, 5], &pixels).unwrap(),
        encode_idx(&[3], &[3, 1, 4]).unwrap(),
    )
}

fn write_part(dir: &Path, prefix: &str, images: &[u8], labels: &[u8], gz: bool) {
    let ext = if gz { ".gz" } else { "" };
    let enc = |b: &[u8]| if gz { gzip(b) } else { b.to_vec() };
    std::fs::write(
        dir.join(format!("{prefix}-images-idx3-ubyte{ext}")),
        enc(images),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{prefix}-labels-idx1-ubyte{ext}")),
        enc(labels),
    )
    .unwrap();
}

fn format_reason(r: veil_datasets::Result<impl std::fmt::Debug>) -> String {
    match r {
        Err(Error::Format { reason, .. }) => reason,
        other => panic!("expected a format error, got {other:?}"),
    }
}

#[test]
fn raw_and_gzip_files_read_the_same() {
    let (images, labels) = sample();
    for gz in [false, true] {
        let dir = scratch(if gz { "gz" } else { "raw" });
        write_part(&dir, "t10k", &images, &labels, gz);
        assert!(Mnist::exists(&dir, "t10k") && !Mnist::exists(&dir, "train"));
        let m = Mnist::load(&dir, "t10k", &Limits::default()).unwrap();
        assert_eq!((m.len(), m.images.rows, m.images.cols), (3, 4, 5));
        assert_eq!(m.labels, [3, 1, 4]);
        assert_eq!(m.images.image(2).unwrap()[0], 40u8.wrapping_mul(7));
        assert_eq!(m.images.image(3), None);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

#[test]
fn a_missing_part_is_named() {
    let dir = scratch("missing");
    let err = Mnist::load(&dir, "train", &Limits::default()).unwrap_err();
    assert!(matches!(err, Error::Missing { ref name, .. } if name == "train-images-idx3-ubyte"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_headers_are_refused() {
    let (images, _) = sample();
    let mut magic = images.clone();
    magic[0] = 1;
    assert!(format_reason(idx::parse_images(&magic, "x")).contains("not an IDX file"));
    let mut dtype = images.clone();
    dtype[2] = 0x0d; // float
    assert!(format_reason(idx::parse_images(&dtype, "x")).contains("type code 0x0d"));
    // A label file where images are expected, and the reverse.
    let (_, labels) = sample();
    assert!(format_reason(idx::parse_images(&labels, "x")).contains("1 dimensions"));
    assert!(format_reason(idx::parse_labels(&images, "x")).contains("3 dimensions"));
    for cut in [0, 3, 4, 9, 15] {
        assert!(
            idx::parse_images(&images[..cut], "x").is_err(),
            "cut at {cut}"
        );
    }
}

#[test]
fn sizes_must_match_exactly_and_not_overflow() {
    let (images, _) = sample();
    assert!(
        format_reason(idx::parse_images(&images[..images.len() - 1], "x")).contains("announce 60")
    );
    let mut long = images.clone();
    long.push(0);
    assert!(format_reason(idx::parse_images(&long, "x")).contains("the file has 61"));
    // 2^32-1 cubed overflows 64 bits: refused before any allocation.
    let mut huge = vec![0, 0, 8, 3];
    huge.extend([0xff; 12]);
    assert!(format_reason(idx::parse_images(&huge, "x")).contains("overflow"));
    // A large but representable announcement with a tiny body.
    let mut big = vec![0, 0, 8, 3];
    big.extend([0, 0, 0xea, 0x60, 0, 0, 0, 28, 0, 0, 0, 28]);
    assert!(format_reason(idx::parse_images(&big, "x")).contains("47040000"));
}

#[test]
fn counts_and_labels_are_checked() {
    let (images, _) = sample();
    let two = encode_idx(&[2], &[1, 2]).unwrap();
    let err = Mnist::from_bytes(&images, &two, &Limits::default()).unwrap_err();
    assert!(matches!(
        err,
        Error::CountMismatch {
            images: 3,
            labels: 2
        }
    ));
    let bad = encode_idx(&[3], &[1, 10, 2]).unwrap();
    let err = Mnist::from_bytes(&images, &bad, &Limits::default()).unwrap_err();
    assert!(matches!(
        err,
        Error::BadLabel {
            index: 1,
            value: 10,
            ..
        }
    ));
}

#[test]
fn limits_bound_files_and_decompressed_content() {
    let (images, labels) = sample();
    let small = Limits { max_bytes: 50 };
    let dir = scratch("limits");
    write_part(&dir, "t10k", &images, &labels, false);
    let err = Mnist::load(&dir, "t10k", &small).unwrap_err();
    assert!(
        matches!(
            err,
            Error::TooLarge {
                size: 76,
                limit: 50,
                ..
            }
        ),
        "{err}"
    );
    // 1 MB of zeros compresses to about 1 KB: refused once it passes the limit, not buffered.
    let bomb = gzip(&vec![0; 1 << 20]);
    assert!(bomb.len() < 50_000);
    let limits = Limits { max_bytes: 100_000 };
    let err = idx::decompress(&bomb, &limits, "bomb").unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { size: 100_001, .. }),
        "{err}"
    );
    // Exactly at the limit is accepted.
    let exact = gzip(&vec![0; 100_000]);
    assert_eq!(
        idx::decompress(&exact, &limits, "exact").unwrap().len(),
        100_000
    );
    // A gzip stream cut short is an I/O error, not a panic.
    let cut = &gzip(&images)[..20];
    assert!(matches!(
        idx::decompress(cut, &limits, "cut"),
        Err(Error::Io { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn encode_refuses_inconsistent_shapes() {
    assert_eq!(encode_idx(&[2, 2], &[1, 2, 3]), None);
    assert_eq!(encode_idx(&[1 << 33], &[]), None);
    assert_eq!(
        encode_idx(&[0, 5], &[]).unwrap(),
        [0, 0, 8, 2, 0, 0, 0, 0, 0, 0, 0, 5]
    );
}

#[test]
fn real_mnist_test_set() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/mnist");
    if !Mnist::exists(&dir, "t10k") {
        println!("skipped: no MNIST test set at {}", dir.display());
        return;
    }
    let m = Mnist::load(&dir, "t10k", &Limits::default()).unwrap();
    assert_eq!((m.len(), m.images.rows, m.images.cols), (10_000, 28, 28));
    let mut per_class = [0usize; 10];
    for &l in &m.labels {
        per_class[usize::from(l)] += 1;
    }
    // The published class sizes of the test set: 980 zeros ... 1,135 ones.
    assert_eq!(
        per_class,
        [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(m.labels[..3], [7, 2, 1]);
    // Digits are ink on a blank background: the corners are 0, some pixels are 255.
    assert!(m.images.pixels.contains(&255));
    assert_eq!(m.images.image(0).unwrap()[0], 0);
}
