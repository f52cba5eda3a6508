//! Saving and loading trained models (serde JSON with a format tag), validated on load.

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::data::RatingScale;
use crate::error::{Error, Result};
use crate::model::{MAX_DIM, Model};

const FORMAT: &str = "veil-cryptorec-model/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    mu: f32,
    item_bias: Array1<f32>,
    a: Array2<f32>,
    q: Array2<f32>,
    /// Raw item identifiers of the data set, dense index order (empty: none kept).
    #[serde(default)]
    item_ids: Vec<u64>,
    /// [min, max] of the rating scale; absent in files written before it was kept, which were
    /// all trained on 1..5 star data.
    #[serde(default)]
    scale: Option<[f32; 2]>,
    /// alpha of the input weight (10 / n_u)^alpha; absent in files written before it existed,
    /// whose models had none (0).
    #[serde(default)]
    input_norm: Option<f32>,
}

impl Model {
    /// The model as JSON (`{"format": "veil-cryptorec-model/1", "mu", "item_bias", "a", "q",
    /// "item_ids", "scale", "input_norm"}`).
    pub fn to_json(&self) -> Result<String> {
        self.to_json_with_ids(&[])
    }

    /// [`Model::to_json`] keeping the data set's raw item identifiers (dense index order), so
    /// that a later user can name items as the data set did.
    pub fn to_json_with_ids(&self, item_ids: &[u64]) -> Result<String> {
        serde_json::to_string(&Stored {
            format: FORMAT.into(),
            mu: self.mu,
            item_bias: self.item_bias.clone(),
            a: self.a.clone(),
            q: self.q.clone(),
            item_ids: item_ids.to_vec(),
            scale: Some([self.scale.min, self.scale.max]),
            input_norm: Some(self.input_norm),
        })
        .map_err(|e| Error::Message {
            reason: e.to_string(),
        })
    }

    /// Parses and validates a model: known format tag, A and Q of the same m x d shape with
    /// m >= 1 and 1 <= d <= [`MAX_DIM`], m item biases, every number finite, a rating scale with
    /// min < max.
    pub fn from_json(text: &str) -> Result<Self> {
        Self::from_json_with_ids(text).map(|(m, _)| m)
    }

    /// [`Model::from_json`] and the raw item identifiers (empty if none were saved; otherwise
    /// exactly m of them).
    pub fn from_json_with_ids(text: &str) -> Result<(Self, Vec<u64>)> {
        let s: Stored = serde_json::from_str(text).map_err(|e| Error::Message {
            reason: format!("model file: {e}"),
        })?;
        let bad = |reason: &str| Error::Message {
            reason: format!("model file: {reason}"),
        };
        if s.format != FORMAT {
            return Err(bad("unknown format tag"));
        }
        if s.a.dim() != s.q.dim() || s.a.nrows() != s.item_bias.len() {
            return Err(bad("A, Q and the item biases disagree on m or d"));
        }
        // An m = 0 matrix holds no numbers whatever its d, so the file's size does not bound d:
        // both are checked on their own before anything d-sized is allocated (issue 14).
        if s.a.nrows() == 0 || !(1..=MAX_DIM).contains(&s.a.ncols()) {
            return Err(bad(
                "the model needs at least one item and 1 <= d <= MAX_DIM",
            ));
        }
        let finite = |x: &f32| x.is_finite();
        if !(s.mu.is_finite()
            && s.item_bias.iter().all(finite)
            && s.a.iter().all(finite)
            && s.q.iter().all(finite))
        {
            return Err(bad("a parameter is not a finite number"));
        }
        if !s.item_ids.is_empty() && s.item_ids.len() != s.a.nrows() {
            return Err(bad("item_ids must be empty or one per item"));
        }
        let scale = match s.scale {
            Some([min, max]) => {
                RatingScale::new(min, max).map_err(|_| bad("the rating scale needs min < max"))?
            }
            None => RatingScale::default(),
        };
        let input_norm = s.input_norm.unwrap_or(0.0);
        if !(0.0..=2.0).contains(&input_norm) {
            return Err(bad("input_norm must be in [0, 2]"));
        }
        let model = Model {
            mu: s.mu,
            item_bias: s.item_bias,
            a: s.a,
            q: s.q,
            scale,
            input_norm,
        };
        Ok((model, s.item_ids))
    }

    /// Writes [`Model::to_json_with_ids`] to `path`.
    pub fn save(&self, path: &Path, item_ids: &[u64]) -> Result<()> {
        std::fs::write(path, self.to_json_with_ids(item_ids)?).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model written by [`Model::save`], with its item identifiers.
    pub fn load(path: &Path) -> Result<(Self, Vec<u64>)> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json_with_ids(&text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(m: usize, d: usize, data: &str) -> String {
        format!(
            r#"{{"format":"{FORMAT}","mu":3.5,"item_bias":{{"v":1,"dim":[{m}],"data":[{bias}]}},
            "a":{{"v":1,"dim":[{m},{d}],"data":[{data}]}},
            "q":{{"v":1,"dim":[{m},{d}],"data":[{data}]}}}}"#,
            bias = vec!["0.0"; m].join(",")
        )
    }

    #[test]
    fn zero_items_or_a_huge_dimension_are_refused_before_any_allocation() {
        // Issue 14: zero items and d = 2^40 passed every check (no numbers to check) and the
        // quantizer then allocated d-sized vectors.
        for d in [1_usize << 40, MAX_DIM + 1, 1, 0] {
            assert!(Model::from_json(&file(0, d, "")).is_err(), "m = 0, d = {d}");
        }
        assert!(Model::from_json(&file(1, 0, "")).is_err(), "d = 0");
        let ok = file(1, 2, "0.5,-0.25");
        let model = Model::from_json(&ok).unwrap();
        assert_eq!((model.items(), model.a.ncols()), (1, 2));
        // d above MAX_DIM with all its numbers present is refused too.
        let wide = file(1, MAX_DIM + 1, &vec!["0.0"; MAX_DIM + 1].join(","));
        assert!(Model::from_json(&wide).is_err());
        let widest = file(1, MAX_DIM, &vec!["0.0"; MAX_DIM].join(","));
        assert!(Model::from_json(&widest).is_ok());
    }
}
