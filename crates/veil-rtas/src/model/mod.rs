//! Logistic regression (sec. 5.3) and the paper's CNN (sec. 5.4): configuration, data, the
//! plaintext reference ([`plain`]), and training and inference under RTAS and RTAS-fast
//! ([`run_party`], [`train_local`]).
//!
//! Public randomness: the initial weights and the batch order come from `TrainConfig::seed` and
//! are the same in the clear and under sharing (the initial weights are not secret; P0 inputs them
//! as shares). Secret randomness (shares, seeds) always comes from the OS.

mod data;
mod driver;
pub mod plain;
mod secure;

use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::conv::Conv2d;
use crate::error::{Error, Result};
use crate::func::Function;

pub use data::{Dataset, load_digits, load_mnist, parse_digits, synthetic_mnist};
pub use driver::{
    HolderInput, PartyReport, TrainReport, accuracy, deal_inputs, run_party, run_party_owner,
    settings_digest, train_local, train_plain, train_plain_epochs, train_tcp_local,
};

/// RTAS (everything under sharing) or RTAS-fast (sec. 4.2.2, 4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// All layers under sharing; only function arguments are seen (permuted) by P2.
    Rtas,
    /// The first layer under sharing; its output is revealed to the label holder (P0), which
    /// runs the rest in the clear and shares the gradient back.
    RtasFast,
}

/// The activation after the convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Activation {
    /// Logistic function (the choice).
    Sigmoid,
    /// max(x, 0) (the paper's list in sec. 5.4).
    Relu,
}

/// The CNN: conv -> activation -> dense(hidden) -> sigmoid -> dense(classes) -> softmax.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CnnSpec {
    /// The convolution layer.
    pub conv: Conv2d,
    /// Activation after the convolution.
    pub activation: Activation,
    /// Width of the hidden dense layer.
    pub hidden: usize,
    /// Number of classes.
    pub classes: usize,
}

impl CnnSpec {
    /// The paper's CNN on MNIST (28 x 28): 4 filters 4 x 4 stride 2 (13 x 13 x 4), dense 100,
    /// dense 10.
    pub fn mnist() -> Self {
        CnnSpec {
            conv: Conv2d {
                channels: 1,
                height: 28,
                width: 28,
                filters: 4,
                kernel: 4,
                stride: 2,
                padding: 0,
            },
            activation: Activation::Sigmoid,
            hidden: 100,
            classes: 10,
        }
    }

    /// The adaptation to 8 x 8 digits: 4 filters 3 x 3 stride 1, no padding (6 x 6 x 4 = 144
    /// features, against 4 x 4 x 4 = 64 for 4 x 4 stride 2 with padding 1): the 4 x 4 stride 2
    /// kernel of the paper would leave only 3 x 3 positions of an 8 x 8 image.
    pub fn digits() -> Self {
        CnnSpec {
            conv: Conv2d {
                channels: 1,
                height: 8,
                width: 8,
                filters: 4,
                kernel: 3,
                stride: 1,
                padding: 0,
            },
            activation: Activation::Sigmoid,
            hidden: 100,
            classes: 10,
        }
    }

    pub(crate) fn activation_functions(&self) -> (Function, Function) {
        match self.activation {
            Activation::Sigmoid => (Function::Sigmoid, Function::SigmoidGrad),
            Activation::Relu => (Function::Relu, Function::ReluGrad),
        }
    }
}

/// A model architecture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ModelSpec {
    /// y = sigmoid(x w + b) with `features` inputs (eq. 4), squared loss.
    Logistic {
        /// Number of input features.
        features: usize,
    },
    /// The CNN of sec. 5.4.
    Cnn(CnnSpec),
}

impl ModelSpec {
    /// Inputs per sample.
    pub fn features(&self) -> usize {
        match self {
            ModelSpec::Logistic { features } => *features,
            ModelSpec::Cnn(c) => c.conv.input_len(),
        }
    }

    /// Outputs per sample (1 for logistic regression, the number of classes for the CNN).
    pub fn outputs(&self) -> usize {
        match self {
            ModelSpec::Logistic { .. } => 1,
            ModelSpec::Cnn(c) => c.classes,
        }
    }

    /// Checks the sizes.
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelSpec::Logistic { features } if *features > 0 => Ok(()),
            ModelSpec::Cnn(c) if c.hidden > 0 && c.classes > 1 => c.conv.validate(),
            _ => Err(Error::config(format!("invalid model {self:?}"))),
        }
    }

    /// Shapes of the parameters, in the order of [`plain::Params`].
    pub fn param_shapes(&self) -> Vec<(usize, usize)> {
        match self {
            ModelSpec::Logistic { features } => vec![(*features, 1), (1, 1)],
            ModelSpec::Cnn(c) => {
                let f = c.conv.filters;
                vec![
                    (c.conv.patch_len(), f),
                    (1, f),
                    (c.conv.output_len(), c.hidden),
                    (1, c.hidden),
                    (c.hidden, c.classes),
                    (1, c.classes),
                ]
            }
        }
    }

    /// Initial parameters from the public seed: weights uniform in +-sqrt(6 / (fan_in + fan_out))
    /// (Glorot), biases zero.
    pub fn init(&self, seed: u64) -> plain::Params {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        self.param_shapes()
            .into_iter()
            .map(|(r, c)| {
                if r == 1 {
                    Array2::zeros((r, c))
                } else {
                    let s = (6.0 / (r + c) as f64).sqrt();
                    Array2::from_shape_fn((r, c), |_| rng.random_range(-s..s))
                }
            })
            .collect()
    }
}

/// Training hyperparameters, common to all parties.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    /// The model.
    pub model: ModelSpec,
    /// RTAS or RTAS-fast.
    pub mode: Mode,
    /// Passes over the training set.
    pub epochs: usize,
    /// Samples per SGD step (the paper: 32).
    pub batch_size: usize,
    /// SGD learning rate (the paper: 0.1).
    pub learning_rate: f64,
    /// Public seed of the initial weights and the batch order.
    pub seed: u64,
    /// Also predict the test set after every epoch (P0 gets the scores, for accuracy curves);
    /// its time and traffic are left out of the training figures.
    #[serde(default)]
    pub eval_each_epoch: bool,
}

impl TrainConfig {
    /// The paper's setting (batch 32, learning rate 0.1) for `model` in `mode`.
    pub fn paper(model: ModelSpec, mode: Mode, epochs: usize) -> Self {
        TrainConfig {
            model,
            mode,
            epochs,
            batch_size: 32,
            learning_rate: 0.1,
            seed: 1,
            eval_each_epoch: false,
        }
    }

    /// Checks the settings.
    pub fn validate(&self) -> Result<()> {
        self.model.validate()?;
        if self.batch_size == 0 || !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(Error::config(
                "batch size and learning rate must be positive",
            ));
        }
        Ok(())
    }

    /// The batches of one epoch (row indices), shuffled by the public seed; the last partial
    /// batch is dropped.
    pub fn batches(&self, n: usize, epoch: usize) -> Vec<Vec<usize>> {
        let mut rng = ChaCha20Rng::seed_from_u64(
            self.seed ^ (epoch as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        let order = crate::prg::random_permutation(&mut rng, n);
        order
            .chunks_exact(self.batch_size)
            .map(<[usize]>::to_vec)
            .collect()
    }
}
