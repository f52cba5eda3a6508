//! Saving and loading trained models (serde JSON with a format tag), validated on load.

use std::path::Path;

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::Model;

const FORMAT: &str = "veil-cryptorec-model/1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Stored {
    format: String,
    mu: f32,
    item_bias: Array1<f32>,
    a: Array2<f32>,
    q: Array2<f32>,
}

impl Model {
    /// The model as JSON (`{"format": "veil-cryptorec-model/1", "mu", "item_bias", "a", "q"}`).
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(&Stored {
            format: FORMAT.into(),
            mu: self.mu,
            item_bias: self.item_bias.clone(),
            a: self.a.clone(),
            q: self.q.clone(),
        })
        .map_err(|e| Error::Message {
            reason: e.to_string(),
        })
    }

    /// Parses and validates a model: known format tag, A and Q of the same m x d shape with
    /// d >= 1, m item biases, every number finite.
    pub fn from_json(text: &str) -> Result<Self> {
        let s: Stored = serde_json::from_str(text).map_err(|e| Error::Message {
            reason: format!("model file: {e}"),
        })?;
        let bad = |reason: &str| Error::Message {
            reason: format!("model file: {reason}"),
        };
        if s.format != FORMAT {
            return Err(bad("unknown format tag"));
        }
        if s.a.dim() != s.q.dim() || s.a.ncols() == 0 || s.a.nrows() != s.item_bias.len() {
            return Err(bad("A, Q and the item biases disagree on m or d"));
        }
        let finite = |x: &f32| x.is_finite();
        if !(s.mu.is_finite()
            && s.item_bias.iter().all(finite)
            && s.a.iter().all(finite)
            && s.q.iter().all(finite))
        {
            return Err(bad("a parameter is not a finite number"));
        }
        Ok(Model {
            mu: s.mu,
            item_bias: s.item_bias,
            a: s.a,
            q: s.q,
        })
    }

    /// Writes [`Model::to_json`] to `path`.
    pub fn save(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_json()?).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })
    }

    /// Reads a model written by [`Model::save`].
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&text)
    }
}
