//! Networks, their forward pass and hand-written backpropagation (no autodiff crate: the
//! networks are a few dense layers, and the gradients are written out below).
//!
//! Two shapes (the reading of ReActHE's abstract is in `docs/reacthe.md`):
//! - **residual** (ReActHE): h_0 = W_in x + b_in (linear), then per block
//!   h_(k+1) = h_k + a(W_k h_k + b_k), then the head W_out h + b_out;
//! - **plain** (baselines): h_0 = x, h_(k+1) = a(W_k h_k + b_k), then the head.

use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{Standardizer, Task};
use crate::error::{Error, Result};

/// Largest model file [`Network::from_json_file`] reads (bytes).
pub const MAX_MODEL_BYTES: u64 = 64 << 20;
/// Largest input dimension of a decoded model.
pub const MAX_FEATURES: usize = 1 << 16;
/// Largest hidden width of a decoded model.
pub const MAX_WIDTH: usize = 4096;
/// Most hidden layers of a decoded model.
pub const MAX_DEPTH: usize = 64;
/// Most classes of a decoded multi-class model.
pub const MAX_CLASSES: usize = 1024;
/// Largest power of a decoded power activation.
pub const MAX_POWER: u32 = 8;

/// Elementwise activations.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Activation {
    /// The scaled power activation a(z) = z + alpha z^power (ReActHE, as read from the abstract).
    Power {
        /// Scale alpha of the power term.
        alpha: f64,
        /// The integer power (2 for the encrypted path).
        power: u32,
    },
    /// max(z, 0): the float reference.
    Relu,
    /// z^2 (CryptoNets).
    Square,
    /// c0 + c1 z + c2 z^2: a degree-2 polynomial, e.g. [`Activation::relu_least_squares`].
    Quadratic {
        /// Constant term.
        c0: f64,
        /// Linear coefficient.
        c1: f64,
        /// Quadratic coefficient.
        c2: f64,
    },
}

impl Activation {
    /// The degree-2 least-squares approximation of ReLU on [-r, r] (uniform weight): relu(z) =
    /// z/2 + |z|/2 and |z| ~ 3r/16 + 15 z^2/(16 r) (its Legendre expansion to P_2), so
    /// relu(z) ~ 3r/32 + z/2 + 15 z^2/(32 r).
    pub fn relu_least_squares(r: f64) -> Activation {
        Activation::Quadratic {
            c0: 3.0 * r / 32.0,
            c1: 0.5,
            c2: 15.0 / (32.0 * r),
        }
    }

    /// a(z).
    pub fn apply(self, z: f64) -> f64 {
        match self {
            Activation::Power { alpha, power } => z + alpha * z.powi(power as i32),
            Activation::Relu => z.max(0.0),
            Activation::Square => z * z,
            Activation::Quadratic { c0, c1, c2 } => c0 + c1 * z + c2 * z * z,
        }
    }

    /// a'(z).
    pub fn derivative(self, z: f64) -> f64 {
        match self {
            Activation::Power { alpha, power } => {
                1.0 + alpha * f64::from(power) * z.powi(power as i32 - 1)
            }
            Activation::Relu => f64::from(u8::from(z > 0.0)),
            Activation::Square => 2.0 * z,
            Activation::Quadratic { c1, c2, .. } => c1 + 2.0 * c2 * z,
        }
    }

    /// Short name for tables.
    pub fn name(self) -> String {
        match self {
            Activation::Power { alpha, power } => format!("z+{alpha}z^{power}"),
            Activation::Relu => "relu".into(),
            Activation::Square => "square".into(),
            Activation::Quadratic { c0, c1, c2 } => format!("{c0:.3}+{c1:.2}z+{c2:.3}z^2"),
        }
    }
}

/// One dense layer y = W h + b, W of shape (out, in).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Dense {
    /// Weights, one row per output.
    pub w: Array2<f64>,
    /// Biases.
    pub b: Array1<f64>,
}

impl Dense {
    /// Gaussian weights of standard deviation `gain / sqrt(in)`, zero biases.
    fn init(inputs: usize, outputs: usize, gain: f64, rng: &mut ChaCha8Rng) -> Dense {
        let sd = gain / (inputs.max(1) as f64).sqrt();
        let w = Array2::from_shape_fn((outputs, inputs), |_| sd * gaussian(rng));
        Dense {
            w,
            b: Array1::zeros(outputs),
        }
    }

    /// Rows of `h` (n x in) to n x out.
    pub fn forward(&self, h: &Array2<f64>) -> Array2<f64> {
        h.dot(&self.w.t()) + &self.b
    }
}

/// A standard normal sample (Box-Muller).
pub(crate) fn gaussian<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-300);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (core::f64::consts::TAU * u2).cos()
}

/// The shape of a network.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Architecture {
    /// Hidden width.
    pub width: usize,
    /// Hidden activated layers (residual blocks for ReActHE).
    pub depth: usize,
    /// Residual blocks after a linear input projection (ReActHE) or a plain stack.
    pub residual: bool,
    /// The activation.
    pub activation: Activation,
}

impl Architecture {
    /// ReActHE with a(z) = z + alpha z^2.
    pub fn reacthe(width: usize, depth: usize, alpha: f64) -> Architecture {
        Architecture {
            width,
            depth,
            residual: true,
            activation: Activation::Power { alpha, power: 2 },
        }
    }

    /// A plain stack with `activation`.
    pub fn plain(width: usize, depth: usize, activation: Activation) -> Architecture {
        Architecture {
            width,
            depth,
            residual: false,
            activation,
        }
    }
}

/// A trained (or initialised) network with its input standardiser and target scaling.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Network {
    /// The shape.
    pub arch: Architecture,
    /// The task (head).
    pub task: Task,
    /// Input projection (residual networks only).
    pub input: Option<Dense>,
    /// Hidden layers (blocks).
    pub hidden: Vec<Dense>,
    /// The head: logits or the (standardised) regression value.
    pub head: Dense,
    /// Input standardisation (applied by the client before encryption).
    pub standardizer: Standardizer,
    /// Regression only: the target's (mean, std); outputs are in standardised units.
    pub target_scale: (f64, f64),
}

/// Values kept by the forward pass for backpropagation.
pub(crate) struct Trace {
    /// Inputs of each hidden layer.
    pub(crate) inputs: Vec<Array2<f64>>,
    /// Pre-activations of each hidden layer.
    pub(crate) pre: Vec<Array2<f64>>,
    /// Input of the head.
    pub(crate) last: Array2<f64>,
}

/// Gradients, shaped like the network's layers.
pub(crate) struct Gradients {
    pub(crate) input: Option<Dense>,
    pub(crate) hidden: Vec<Dense>,
    pub(crate) head: Dense,
}

impl Network {
    /// A seeded initialisation for `features` inputs.
    pub fn new(
        arch: Architecture,
        task: Task,
        features: usize,
        standardizer: Standardizer,
        seed: u64,
    ) -> Result<Network> {
        if arch.width == 0 || features == 0 {
            return Err(Error::Config {
                reason: "width and feature count must be positive".into(),
            });
        }
        if arch.depth == 0 && !arch.residual {
            return Err(Error::Config {
                reason: "a plain network needs at least one hidden layer".into(),
            });
        }
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let (input, mut fan_in) = if arch.residual {
            (
                Some(Dense::init(features, arch.width, 1.0, &mut rng)),
                arch.width,
            )
        } else {
            (None, features)
        };
        // Residual branches start small so that each block is near the identity.
        let gain = match (arch.residual, arch.activation) {
            (true, _) => 0.5,
            (false, Activation::Relu) => core::f64::consts::SQRT_2,
            (false, _) => 1.0,
        };
        let mut hidden = Vec::with_capacity(arch.depth);
        for _ in 0..arch.depth {
            hidden.push(Dense::init(fan_in, arch.width, gain, &mut rng));
            fan_in = arch.width;
        }
        let head = Dense::init(fan_in, task.outputs(), 1.0, &mut rng);
        Ok(Network {
            arch,
            task,
            input,
            hidden,
            head,
            standardizer,
            target_scale: (0.0, 1.0),
        })
    }

    /// Number of inputs.
    pub fn features(&self) -> usize {
        self.standardizer.mean.len()
    }

    /// Outputs (logits or standardised regression values) for standardised inputs.
    pub fn forward_standardized(&self, x: &Array2<f64>) -> Array2<f64> {
        self.trace(x).1
    }

    /// Outputs for raw inputs (standardised first).
    pub fn forward(&self, x: &Array2<f64>) -> Array2<f64> {
        self.forward_standardized(&self.standardizer.transform(x))
    }

    /// Predictions in the task's units: class index, or the regression value de-standardised.
    pub fn decide(&self, outputs: &Array2<f64>) -> Vec<f64> {
        outputs
            .rows()
            .into_iter()
            .map(|r| match self.task {
                Task::Binary => f64::from(u8::from(r[0] > 0.0)),
                Task::MultiClass(_) => {
                    let mut best = 0;
                    for (j, v) in r.iter().enumerate() {
                        if *v > r[best] {
                            best = j;
                        }
                    }
                    best as f64
                }
                Task::Regression => r[0] * self.target_scale.1 + self.target_scale.0,
            })
            .collect()
    }

    pub(crate) fn trace(&self, x: &Array2<f64>) -> (Trace, Array2<f64>) {
        let act = self.arch.activation;
        let mut h = match &self.input {
            Some(d) => d.forward(x),
            None => x.clone(),
        };
        let mut inputs = Vec::with_capacity(self.hidden.len());
        let mut pre = Vec::with_capacity(self.hidden.len());
        for layer in &self.hidden {
            let z = layer.forward(&h);
            let a = z.mapv(|v| act.apply(v));
            let next = if self.arch.residual { &h + &a } else { a };
            inputs.push(core::mem::replace(&mut h, next));
            pre.push(z);
        }
        let out = self.head.forward(&h);
        (
            Trace {
                inputs,
                pre,
                last: h,
            },
            out,
        )
    }

    /// Gradients of the mean loss given d(loss)/d(outputs) (already divided by the batch size).
    pub(crate) fn backward(
        &self,
        x: &Array2<f64>,
        trace: &Trace,
        d_out: &Array2<f64>,
    ) -> Gradients {
        let act = self.arch.activation;
        let head = Dense {
            w: d_out.t().dot(&trace.last),
            b: d_out.sum_axis(Axis(0)),
        };
        let mut dh = d_out.dot(&self.head.w);
        let mut hidden = Vec::with_capacity(self.hidden.len());
        for (k, layer) in self.hidden.iter().enumerate().rev() {
            let z = &trace.pre[k];
            let dz = &dh * &z.mapv(|v| act.derivative(v));
            hidden.push(Dense {
                w: dz.t().dot(&trace.inputs[k]),
                b: dz.sum_axis(Axis(0)),
            });
            let through = dz.dot(&layer.w);
            dh = if self.arch.residual {
                dh + through
            } else {
                through
            };
        }
        hidden.reverse();
        let input = self.input.as_ref().map(|_| Dense {
            w: dh.t().dot(x),
            b: dh.sum_axis(Axis(0)),
        });
        Gradients {
            input,
            hidden,
            head,
        }
    }

    /// The layers in a fixed order (input, hidden, head), for the optimiser.
    pub(crate) fn layers_mut(&mut self) -> Vec<&mut Dense> {
        let mut v: Vec<&mut Dense> = Vec::new();
        if let Some(d) = self.input.as_mut() {
            v.push(d);
        }
        v.extend(self.hidden.iter_mut());
        v.push(&mut self.head);
        v
    }

    /// JSON of the whole model.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string(self).map_err(|e| Error::Model {
            reason: e.to_string(),
        })
    }

    /// Reads [`Network::to_json`]'s output and checks the shapes agree.
    pub fn from_json(text: &str) -> Result<Network> {
        let net: Network = serde_json::from_str(text).map_err(|e| Error::Model {
            reason: e.to_string(),
        })?;
        net.check()?;
        Ok(net)
    }

    /// Reads a model file written by [`Network::to_json`]: at most [`MAX_MODEL_BYTES`], checked
    /// as [`Network::from_json`] does.
    pub fn from_json_file(path: &std::path::Path) -> Result<Network> {
        use std::io::Read;
        let name = path.display().to_string();
        let io = |source| Error::Io {
            path: name.clone(),
            source,
        };
        let mut text = String::new();
        std::fs::File::open(path)
            .map_err(io)?
            .take(MAX_MODEL_BYTES + 1)
            .read_to_string(&mut text)
            .map_err(io)?;
        if text.len() as u64 > MAX_MODEL_BYTES {
            return Err(Error::Model {
                reason: format!("{name}: larger than {MAX_MODEL_BYTES} bytes"),
            });
        }
        Self::from_json(&text)
    }

    /// The invariants every constructor of `Network` keeps, checked on decoded models: bounded
    /// sizes, layer shapes that chain, finite numbers, a power activation of a small power.
    fn check(&self) -> Result<()> {
        let bad = |reason: &str| {
            Err(Error::Model {
                reason: reason.into(),
            })
        };
        let d = self.features();
        if self.standardizer.std.len() != d || self.arch.depth != self.hidden.len() {
            return bad("standardiser or depth mismatch");
        }
        if d == 0 || d > MAX_FEATURES || self.arch.width == 0 || self.arch.width > MAX_WIDTH {
            return bad("feature count or width out of range");
        }
        if self.arch.depth > MAX_DEPTH {
            return bad("too many hidden layers");
        }
        match self.task {
            Task::MultiClass(k) if !(2..=MAX_CLASSES).contains(&k) => {
                return bad("class count out of range");
            }
            _ => {}
        }
        // A residual network projects its input first; a plain one does not (the forward pass
        // adds h to a(W h + b), which needs the width on both sides).
        if self.arch.residual != self.input.is_some() {
            return bad("an input projection exactly when residual");
        }
        if !self.arch.residual && self.arch.depth == 0 {
            return bad("a plain network needs a hidden layer");
        }
        let finite = |v: &f64| v.is_finite();
        match self.arch.activation {
            Activation::Power { alpha, power }
                if !(alpha.is_finite() && (1..=MAX_POWER).contains(&power)) =>
            {
                return bad("power activation: alpha must be finite and the power in 1..=8");
            }
            Activation::Quadratic { c0, c1, c2 } if ![c0, c1, c2].iter().all(finite) => {
                return bad("non-finite activation coefficient");
            }
            _ => {}
        }
        let layers_finite = self
            .input
            .iter()
            .chain(&self.hidden)
            .chain(core::iter::once(&self.head))
            .all(|l| l.w.iter().all(finite) && l.b.iter().all(finite));
        let numbers_ok = layers_finite
            && self.standardizer.mean.iter().all(finite)
            && self
                .standardizer
                .std
                .iter()
                .all(|s| s.is_finite() && *s > 0.0)
            && self.target_scale.0.is_finite()
            && self.target_scale.1.is_finite()
            && self.target_scale.1 > 0.0;
        if !numbers_ok {
            return bad("non-finite number, or a non-positive standard deviation");
        }
        let mut fan = d;
        if let Some(l) = &self.input {
            if l.w.dim() != (self.arch.width, d) || l.b.len() != self.arch.width {
                return bad("input layer shape");
            }
            fan = self.arch.width;
        }
        for l in &self.hidden {
            if l.w.dim() != (self.arch.width, fan) || l.b.len() != self.arch.width {
                return bad("hidden layer shape");
            }
            fan = self.arch.width;
        }
        if self.head.w.dim() != (self.task.outputs(), fan)
            || self.head.b.len() != self.task.outputs()
        {
            return bad("head shape");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences against the hand-written gradients (squared-error loss on all outputs).
    fn check_gradients(arch: Architecture) -> Result<()> {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let x = Array2::from_shape_fn((5, 4), |_| gaussian(&mut rng));
        let std = Standardizer {
            mean: vec![0.0; 4],
            std: vec![1.0; 4],
        };
        let net = Network::new(arch, Task::MultiClass(3), 4, std, 7)?;
        let loss = |n: &Network| n.forward_standardized(&x).mapv(|v| v * v).sum() / 2.0;
        let (trace, out) = net.trace(&x);
        let grads = net.backward(&x, &trace, &out);
        let mut grad_layers: Vec<Dense> = grads.input.into_iter().collect();
        grad_layers.extend(grads.hidden);
        grad_layers.push(grads.head);
        for (li, layer) in grad_layers.iter().enumerate() {
            for (idx, analytic) in layer.w.indexed_iter().take(6) {
                let eps = 1e-6;
                let mut plus = net.clone();
                plus.layers_mut()[li].w[idx] += eps;
                let mut minus = net.clone();
                minus.layers_mut()[li].w[idx] -= eps;
                let numeric = (loss(&plus) - loss(&minus)) / (2.0 * eps);
                assert!(
                    (numeric - analytic).abs() < 1e-5 * (1.0 + numeric.abs()),
                    "layer {li} {idx:?}: {numeric} vs {analytic}"
                );
            }
        }
        Ok(())
    }

    #[test]
    fn gradients_match_finite_differences() -> Result<()> {
        check_gradients(Architecture::reacthe(6, 2, 0.1))?;
        check_gradients(Architecture::plain(6, 2, Activation::Relu))?;
        check_gradients(Architecture::plain(6, 2, Activation::Square))?;
        check_gradients(Architecture::plain(
            6,
            3,
            Activation::relu_least_squares(4.0),
        ))
    }

    #[test]
    fn relu_approximation_is_the_least_squares_fit() {
        // Compare with a numerical least-squares fit on [-4, 4].
        let Activation::Quadratic { c0, c1, c2 } = Activation::relu_least_squares(4.0) else {
            return;
        };
        let err = |a: f64, b: f64, c: f64| {
            (0..=800)
                .map(|i| -4.0 + i as f64 / 100.0)
                .map(|z| (z.max(0.0) - a - b * z - c * z * z).powi(2))
                .sum::<f64>()
        };
        let best = err(c0, c1, c2);
        for d in [-0.01, 0.01] {
            assert!(err(c0 + d, c1, c2) > best);
            assert!(err(c0, c1 + d, c2) > best);
            assert!(err(c0, c1, c2 + d / 10.0) > best);
        }
    }

    #[test]
    fn json_round_trip() -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let net = Network::new(Architecture::reacthe(4, 2, 0.1), Task::Binary, 3, std, 1)?;
        let back = Network::from_json(&net.to_json()?)?;
        assert_eq!(back, net);
        assert!(Network::from_json("{}").is_err());
        Ok(())
    }

    /// Found by `fuzz/reacthe_model`: without serde_json's `float_roundtrip`, this alpha read
    /// back one ulp off after a save (1.6666666666666663 vs ...665).
    #[test]
    fn saved_models_load_back_bit_for_bit() -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 2],
            std: vec![1.0; 2],
        };
        let net = Network::new(Architecture::reacthe(2, 1, 0.1), Task::Binary, 2, std, 1)?;
        let text = net.to_json()?.replace(
            "\"alpha\":0.1",
            "\"alpha\":1.6666666666666666666666666666666666666666666666666666666666666661",
        );
        let loaded = Network::from_json(&text)?;
        assert_ne!(loaded.arch, net.arch);
        assert_eq!(Network::from_json(&loaded.to_json()?)?, loaded);
        Ok(())
    }

    /// Decoded models that pass the shape check must not panic later: each mutation below was
    /// accepted before the check covered it (forward or decide panicked on it).
    #[test]
    fn rejects_models_that_would_panic() -> Result<()> {
        let std = Standardizer {
            mean: vec![0.0; 3],
            std: vec![1.0; 3],
        };
        let net = Network::new(
            Architecture::reacthe(4, 1, 0.1),
            Task::MultiClass(3),
            3,
            std,
            1,
        )?;
        let json: serde_json::Value =
            serde_json::from_str(&net.to_json()?).map_err(|e| Error::Model {
                reason: e.to_string(),
            })?;
        let mutate = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = json.clone();
            f(&mut v);
            Network::from_json(&v.to_string())
        };
        assert!(mutate(&|_| {}).is_ok());
        // Residual without an input projection: h (3 wide) + a(W h + b) (4 wide) panicked.
        let no_projection = |v: &mut serde_json::Value| {
            v["input"] = serde_json::Value::Null;
            v["hidden"][0]["w"]["dim"] = serde_json::json!([4, 3]);
            v["hidden"][0]["w"]["data"] = serde_json::json!(vec![0.1; 12]);
        };
        assert!(mutate(&no_projection).is_err());
        // Zero classes: decide indexed an empty row.
        assert!(
            mutate(&|v| {
                v["task"] = serde_json::json!({"MultiClass": 0});
                v["head"]["w"]["dim"] = serde_json::json!([0, 4]);
                v["head"]["w"]["data"] = serde_json::json!([]);
                v["head"]["b"]["dim"] = serde_json::json!([0]);
                v["head"]["b"]["data"] = serde_json::json!([]);
            })
            .is_err()
        );
        // A power whose i32 conversion overflows in the derivative.
        assert!(
            mutate(&|v| v["arch"]["activation"] =
                serde_json::json!({"Power": {"alpha": 0.1, "power": 2147483648u64}}))
            .is_err()
        );
        // Zero standard deviation (division by zero in the standardiser).
        assert!(mutate(&|v| v["standardizer"]["std"][0] = serde_json::json!(0.0)).is_err());
        Ok(())
    }
}
