//! Loading the digits data set (scikit-learn's CSV: a header, 64 pixel columns 0-16, `target`)
//! and MNIST (IDX files, read by `veil-datasets`).

use std::path::Path;

use ndarray::{Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};
use crate::prg::random_permutation;
use veil_datasets::{Limits, Mnist};

/// Features and integer class labels.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// One sample per row.
    pub x: Array2<f64>,
    /// Class of each sample.
    pub labels: Vec<usize>,
}

impl Dataset {
    /// No samples of `features` features.
    pub fn empty(features: usize) -> Dataset {
        Dataset {
            x: Array2::zeros((0, features)),
            labels: Vec::new(),
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// One-hot targets (samples x classes).
    pub fn one_hot(&self, classes: usize) -> Array2<f64> {
        let mut y = Array2::zeros((self.len(), classes));
        for (i, &l) in self.labels.iter().enumerate() {
            if l < classes {
                y[[i, l]] = 1.0;
            }
        }
        y
    }

    /// Binary targets for "class == positive" (samples x 1), as in sec. 5.3 ("is it a 0").
    pub fn binary(&self, positive: usize) -> Array2<f64> {
        Array2::from_shape_fn((self.len(), 1), |(i, _)| {
            f64::from(u8::from(self.labels[i] == positive))
        })
    }

    /// A seeded shuffle split into (train, test) with `test` samples in the second part.
    pub fn split(&self, test: usize, seed: u64) -> (Dataset, Dataset) {
        let order = random_permutation(&mut ChaCha20Rng::seed_from_u64(seed), self.len());
        let cut = self.len().saturating_sub(test);
        let part = |idx: &[usize]| Dataset {
            x: self.x.select(Axis(0), idx),
            labels: idx.iter().map(|&i| self.labels[i]).collect(),
        };
        (part(&order[..cut]), part(&order[cut..]))
    }
}

/// Reads `digits.csv`, scaling the pixels to [0, 1] (divided by 16).
pub fn load_digits(path: &Path) -> Result<Dataset> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io(format!("reading {name}"), e))?;
    parse_digits(&text, &name)
}

/// Parses the text of `digits.csv` (what [`load_digits`] does after reading the file); `name`
/// labels the errors. Every line is checked (65 fields, finite pixels, a digit as target).
pub fn parse_digits(text: &str, name: &str) -> Result<Dataset> {
    let name = name.to_string();
    let data_err = |line: usize, reason: String| Error::Data {
        path: name.clone(),
        line,
        reason,
    };
    let mut lines = text.lines();
    let header = lines
        .next()
        .ok_or_else(|| data_err(1, "empty file".into()))?;
    let cols = header.split(',').count();
    if cols != 65 || !header.trim_end().ends_with("target") {
        return Err(data_err(
            1,
            format!("expected 64 pixel columns and `target`, found {cols} columns"),
        ));
    }
    let mut x = Vec::new();
    let mut labels = Vec::new();
    for (i, line) in lines.enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() != 65 {
            return Err(data_err(
                i + 2,
                format!("{} fields instead of 65", fields.len()),
            ));
        }
        for f in &fields[..64] {
            let v: f64 = f
                .trim()
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite())
                .ok_or_else(|| data_err(i + 2, format!("bad pixel {f:?}")))?;
            x.push(v / 16.0);
        }
        let t: f64 = fields[64]
            .trim()
            .parse()
            .map_err(|_| data_err(i + 2, "bad target".into()))?;
        if !(0.0..=9.0).contains(&t) || t.fract() != 0.0 {
            return Err(data_err(i + 2, format!("target {t} is not a digit")));
        }
        labels.push(t as usize);
    }
    let x =
        Array2::from_shape_vec((labels.len(), 64), x).map_err(|e| data_err(0, e.to_string()))?;
    Ok(Dataset { x, labels })
}

/// `n` synthetic 28 x 28 images (MNIST's shape, pixels uniform in [0, 1]) with random digit
/// labels, from a public seed: for timing only (a model learns nothing from them).
pub fn synthetic_mnist(n: usize, seed: u64) -> Dataset {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let x = Array2::from_shape_fn((n, 784), |_| rng.random::<f64>());
    let labels = (0..n).map(|_| rng.random_range(0..10)).collect();
    Dataset { x, labels }
}

/// MNIST as (train, test), pixels scaled to [0, 1] (divided by 255). With both parts in `dir`
/// (`train-*` and `t10k-*`, raw or gzip) these are the 60,000 + 10,000 images as published;
/// with only the test part (as in `shared/data/mnist`), a seeded split of its 10,000 images
/// with `test` held out (see [`Dataset::split`]).
pub fn load_mnist(dir: &Path, test: usize, seed: u64) -> Result<(Dataset, Dataset)> {
    let limits = Limits::default();
    let data_err = |reason: String| Error::Data {
        path: dir.display().to_string(),
        line: 0,
        reason,
    };
    let load = |prefix: &str| {
        let m = Mnist::load(dir, prefix, &limits).map_err(|e| data_err(e.to_string()))?;
        let pixels = m.images.pixels.iter().map(|&p| f64::from(p) / 255.0);
        let x = Array2::from_shape_vec((m.len(), m.images.image_len()), pixels.collect())
            .map_err(|e| data_err(e.to_string()))?;
        let labels = m.labels.iter().map(|&l| usize::from(l)).collect();
        Ok::<_, Error>(Dataset { x, labels })
    };
    if Mnist::exists(dir, "train") {
        return Ok((load("train")?, load("t10k")?));
    }
    Ok(load("t10k")?.split(test, seed))
}
