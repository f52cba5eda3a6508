//! MNIST as distributed: `<prefix>-images-idx3-ubyte` and `<prefix>-labels-idx1-ubyte` (each
//! possibly with `.gz`), with prefix `train` (60,000 images) or `t10k` (10,000 images).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::idx::{Images, Limits, parse_images, parse_labels, read_file};

/// Number of MNIST classes (the digits 0-9).
pub const CLASSES: u8 = 10;

/// One part of MNIST: images and their labels, counted equal and labels checked below 10.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mnist {
    /// The images (28 x 28 for MNIST itself; any size is accepted).
    pub images: Images,
    /// One label 0-9 per image.
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Pairs images with labels: the counts must be equal and every label below 10.
    pub fn new(images: Images, labels: Vec<u8>) -> Result<Self> {
        if images.count != labels.len() {
            return Err(Error::CountMismatch {
                images: images.count,
                labels: labels.len(),
            });
        }
        if let Some((index, &value)) = labels.iter().enumerate().find(|(_, l)| **l >= CLASSES) {
            return Err(Error::BadLabel {
                index,
                value,
                classes: CLASSES,
            });
        }
        Ok(Mnist { images, labels })
    }

    /// Parses an image file and a label file already in memory (raw or gzip each).
    pub fn from_bytes(images: &[u8], labels: &[u8], limits: &Limits) -> Result<Self> {
        let images = crate::idx::decompress(images, limits, "images")?;
        let labels = crate::idx::decompress(labels, limits, "labels")?;
        Mnist::new(
            parse_images(&images, "images")?,
            parse_labels(&labels, "labels")?,
        )
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Loads `<prefix>-images-idx3-ubyte[.gz]` and `<prefix>-labels-idx1-ubyte[.gz]` from `dir`
    /// (the raw file is preferred when both exist).
    pub fn load(dir: &Path, prefix: &str, limits: &Limits) -> Result<Self> {
        let images = find(dir, &format!("{prefix}-images-idx3-ubyte"))?;
        let labels = find(dir, &format!("{prefix}-labels-idx1-ubyte"))?;
        Mnist::new(
            parse_images(&read_file(&images, limits)?, &images.display().to_string())?,
            parse_labels(&read_file(&labels, limits)?, &labels.display().to_string())?,
        )
    }

    /// Whether `dir` holds the `prefix` part (both files, raw or gzip).
    pub fn exists(dir: &Path, prefix: &str) -> bool {
        ["images-idx3-ubyte", "labels-idx1-ubyte"]
            .iter()
            .all(|f| find(dir, &format!("{prefix}-{f}")).is_ok())
    }
}

/// `dir/name`, or `dir/name.gz`.
fn find(dir: &Path, name: &str) -> Result<PathBuf> {
    [name.to_owned(), format!("{name}.gz")]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::Missing {
            name: name.to_owned(),
            dir: dir.display().to_string(),
        })
}
