//! Tabular data: CSV loading (numeric columns, the target last), the task it implies, seeded
//! splits and standardisation.

use std::path::Path;

use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Largest data file read (bytes): the files are local, but a wrong path should not fill memory.
pub const MAX_FILE_BYTES: u64 = 256 << 20;

/// Most columns (features and the target) of a data file.
pub const MAX_COLUMNS: usize = 1 << 16;

/// What the network predicts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Task {
    /// Two classes 0/1: one logit (sigmoid in training only).
    Binary,
    /// `k` classes 0..k: k logits (softmax in training only).
    MultiClass(usize),
    /// A real target (standardised in training, reported in its own units).
    Regression,
}

impl Task {
    /// Number of network outputs.
    pub fn outputs(self) -> usize {
        match self {
            Task::Binary | Task::Regression => 1,
            Task::MultiClass(k) => k,
        }
    }

    /// Infers the task from the targets: integers 0/1 are binary, integers 0..k (k <= 100) with
    /// k > 2 multi-class, anything else regression.
    pub fn infer(y: &[f64]) -> Task {
        let integral = y
            .iter()
            .all(|v| v.fract() == 0.0 && (0.0..100.0).contains(v));
        if !integral {
            return Task::Regression;
        }
        let k = y.iter().fold(0.0f64, |m, &v| m.max(v)) as usize + 1;
        match k {
            0..=2 => Task::Binary,
            _ => Task::MultiClass(k),
        }
    }
}

/// Features (one row per sample) and targets.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// n x d features.
    pub x: Array2<f64>,
    /// n targets (class index as a real, or the regression value).
    pub y: Array1<f64>,
    /// The task.
    pub task: Task,
}

impl Dataset {
    /// Reads a CSV file with a header line, numeric columns, the target last.
    pub fn from_csv(path: &Path) -> Result<Dataset> {
        let name = path.display().to_string();
        let io = |source| Error::Io {
            path: name.clone(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        if len > MAX_FILE_BYTES {
            return Err(Error::Parse {
                path: name,
                line: 0,
                reason: format!("file of {len} bytes exceeds {MAX_FILE_BYTES}"),
            });
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::parse_csv(&text, &name)
    }

    /// Parses CSV text (header line, numeric columns, the target last); `name` is for errors.
    pub fn parse_csv(text: &str, name: &str) -> Result<Dataset> {
        let err = |line: usize, reason: String| Error::Parse {
            path: name.to_string(),
            line,
            reason,
        };
        let mut lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty());
        let header = lines.next().ok_or_else(|| err(1, "empty file".into()))?.1;
        let cols = header.split(',').count();
        if cols < 2 {
            return Err(err(1, "need at least one feature and a target".into()));
        }
        if cols > MAX_COLUMNS {
            return Err(err(1, format!("{cols} columns (at most {MAX_COLUMNS})")));
        }
        let mut values = Vec::new();
        let mut rows = 0;
        for (i, line) in lines {
            let row: Vec<f64> = line
                .split(',')
                .map(|f| f.trim().parse::<f64>())
                .collect::<core::result::Result<_, _>>()
                .map_err(|e| err(i + 1, format!("not a number: {e}")))?;
            if row.len() != cols {
                return Err(err(
                    i + 1,
                    format!("{} fields, header has {cols}", row.len()),
                ));
            }
            if row.iter().any(|v| !v.is_finite()) {
                return Err(err(i + 1, "non-finite value".into()));
            }
            values.extend(row);
            rows += 1;
        }
        if rows == 0 {
            return Err(err(2, "no data rows".into()));
        }
        let all = Array2::from_shape_vec((rows, cols), values)
            .map_err(|e| err(0, format!("shape: {e}")))?;
        let x = all
            .slice_axis(Axis(1), ndarray::Slice::from(..cols - 1))
            .to_owned();
        let y = all.column(cols - 1).to_owned();
        let task = Task::infer(y.as_slice().unwrap_or(&[]));
        Ok(Dataset { x, y, task })
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.x.nrows()
    }

    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.x.nrows() == 0
    }

    /// The samples at `indices`.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        Dataset {
            x: self.x.select(Axis(0), indices),
            y: self.y.select(Axis(0), indices),
            task: self.task,
        }
    }

    /// A seeded shuffle split: (train, test) with `test_fraction` of the samples in test.
    pub fn split(&self, test_fraction: f64, seed: u64) -> (Dataset, Dataset) {
        let mut idx: Vec<usize> = (0..self.len()).collect();
        idx.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let n_test = ((self.len() as f64) * test_fraction).ceil() as usize;
        let n_test = n_test.min(self.len());
        let (test, train) = idx.split_at(n_test);
        (self.select(train), self.select(test))
    }
}

/// Per-column mean and standard deviation, fitted on training data (columns of zero variance
/// keep a divisor of 1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// Column means.
    pub mean: Vec<f64>,
    /// Column standard deviations.
    pub std: Vec<f64>,
}

impl Standardizer {
    /// Fits on the rows of `x`.
    pub fn fit(x: &Array2<f64>) -> Standardizer {
        let mean = x.mean_axis(Axis(0)).map_or_else(Vec::new, |m| m.to_vec());
        let std = x
            .std_axis(Axis(0), 0.0)
            .iter()
            .map(|&s| if s > 1e-12 { s } else { 1.0 })
            .collect();
        Standardizer { mean, std }
    }

    /// (x - mean) / std per column.
    pub fn transform(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut out = x.clone();
        for mut row in out.rows_mut() {
            for ((v, m), s) in row.iter_mut().zip(&self.mean).zip(&self.std) {
                *v = (*v - m) / s;
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_infers_tasks() -> Result<()> {
        let d = Dataset::parse_csv("a,b,t\n1,2,0\n3,4,1\n", "x")?;
        assert_eq!((d.len(), d.x.ncols(), d.task), (2, 2, Task::Binary));
        let d = Dataset::parse_csv("a,t\n1,0\n3,2\n", "x")?;
        assert_eq!(d.task, Task::MultiClass(3));
        let d = Dataset::parse_csv("a,t\n1,0.5\n3,2\n", "x")?;
        assert_eq!(d.task, Task::Regression);
        assert!(Dataset::parse_csv("a,t\n1\n", "x").is_err());
        assert!(Dataset::parse_csv("a,t\n1,x\n", "x").is_err());
        assert!(Dataset::parse_csv("", "x").is_err());
        Ok(())
    }

    #[test]
    fn standardizes() -> Result<()> {
        let d = Dataset::parse_csv("a,b,t\n1,5,0\n3,5,1\n", "x")?;
        let s = Standardizer::fit(&d.x);
        let z = s.transform(&d.x);
        assert_eq!(z[[0, 0]], -1.0);
        assert_eq!(z[[1, 0]], 1.0);
        assert_eq!(z[[0, 1]], 0.0);
        Ok(())
    }
}
