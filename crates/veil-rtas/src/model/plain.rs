//! The models in plaintext f64: the reference for accuracy, and the part of RTAS-fast that the
//! label holder runs in the clear ("head": everything after the first layer).
//!
//! Conventions shared with the secure versions: gradients are of the **summed** batch loss, and
//! every update is W -= (lr / B) dW. Logistic regression (sec. 5.3, eq. 4): a = sigmoid(x w + b)
//! with the squared loss (a - y)^2 / 2, so dz = (a - y) sigmoid'(z). CNN (sec. 5.4): conv ->
//! activation -> dense -> sigmoid -> dense -> softmax with cross-entropy, so dz3 = p - y.

use ndarray::{Array2, ArrayView2, Axis};

use super::{CnnSpec, ModelSpec};
use crate::func::Function;

/// All parameters of a model, in a fixed order: logistic regression [w, b]; CNN
/// [K, b_conv, W2, b2, W3, b3] (K is the (C kh kw) x F kernel matrix of the im2col product).
pub type Params = Vec<Array2<f64>>;

/// The head of the CNN (W2, b2, W3, b3): index of its first parameter.
pub(crate) const CNN_HEAD: usize = 2;

pub(crate) fn add_row(z: &mut Array2<f64>, b: ArrayView2<'_, f64>) {
    for mut row in z.rows_mut() {
        row += &b.row(0);
    }
}

pub(crate) fn sum_rows(x: ArrayView2<'_, f64>) -> Array2<f64> {
    x.sum_axis(Axis(0)).insert_axis(Axis(0))
}

/// W -= (lr / B) dW for each (parameter, gradient) pair.
pub(crate) fn sgd(params: &mut [Array2<f64>], grads: &[Array2<f64>], step: f64) {
    for (p, g) in params.iter_mut().zip(grads) {
        p.scaled_add(-step, g);
    }
}

/// Logistic regression head: dz = (sigmoid(z) - y) sigmoid'(z).
pub(crate) fn logistic_dz(z: ArrayView2<'_, f64>, y: ArrayView2<'_, f64>) -> Array2<f64> {
    let a = Function::Sigmoid.apply(z);
    let s = Function::SigmoidGrad.apply(z);
    (a - y) * s
}

/// Conv activation and its derivative on the pre-activation z1.
fn conv_act(spec: &CnnSpec, z1: ArrayView2<'_, f64>) -> (Array2<f64>, Array2<f64>) {
    let (f, df) = spec.activation_functions();
    (f.apply(z1), df.apply(z1))
}

/// The CNN head on the conv pre-activation z1 (B x oh ow F): class scores z3 (B x classes).
pub(crate) fn cnn_head_forward(
    spec: &CnnSpec,
    head: &[Array2<f64>],
    z1: ArrayView2<'_, f64>,
) -> Array2<f64> {
    let (a1, _) = conv_act(spec, z1);
    let mut z2 = a1.dot(&head[0]);
    add_row(&mut z2, head[1].view());
    let a2 = Function::Sigmoid.apply(z2.view());
    let mut z3 = a2.dot(&head[2]);
    add_row(&mut z3, head[3].view());
    z3
}

/// One SGD step of the CNN head from z1; updates the head and returns dL/dz1 (B x oh ow F).
pub(crate) fn cnn_head_step(
    spec: &CnnSpec,
    head: &mut [Array2<f64>],
    z1: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    step: f64,
) -> Array2<f64> {
    let (a1, s1) = conv_act(spec, z1);
    let mut z2 = a1.dot(&head[0]);
    add_row(&mut z2, head[1].view());
    let a2 = Function::Sigmoid.apply(z2.view());
    let s2 = Function::SigmoidGrad.apply(z2.view());
    let mut z3 = a2.dot(&head[2]);
    add_row(&mut z3, head[3].view());
    let dz3 = Function::Softmax.apply(z3.view()) - y;
    let dz2 = dz3.dot(&head[2].t()) * s2;
    let dz1 = dz2.dot(&head[0].t()) * s1;
    let grads = [
        a1.t().dot(&dz2),
        sum_rows(dz2.view()),
        a2.t().dot(&dz3),
        sum_rows(dz3.view()),
    ];
    sgd(head, &grads, step);
    dz1
}

/// The conv layer's pre-activation for a batch, reshaped to B x (oh ow F).
pub(crate) fn conv_forward(
    spec: &CnnSpec,
    params: &[Array2<f64>],
    cols: ArrayView2<'_, f64>,
    batch: usize,
) -> Array2<f64> {
    let mut z = cols.dot(&params[0]);
    add_row(&mut z, params[1].view());
    let len = spec.conv.output_len();
    z.into_shape_with_order((batch, len))
        .unwrap_or_else(|_| Array2::zeros((batch, len)))
}

/// One plaintext SGD step on a batch (x: B x features, y: B x outputs).
pub fn train_step(
    spec: &ModelSpec,
    params: &mut Params,
    x: ArrayView2<'_, f64>,
    y: ArrayView2<'_, f64>,
    lr: f64,
) {
    let step = lr / x.nrows().max(1) as f64;
    match spec {
        ModelSpec::Logistic { .. } => {
            let mut z = x.dot(&params[0]);
            add_row(&mut z, params[1].view());
            let dz = logistic_dz(z.view(), y);
            let grads = [x.t().dot(&dz), sum_rows(dz.view())];
            sgd(params, &grads, step);
        }
        ModelSpec::Cnn(c) => {
            let cols = c.conv.im2col(x).unwrap_or_else(|_| Array2::zeros((0, 0)));
            let z1 = conv_forward(c, params, cols.view(), x.nrows());
            let dz1 = cnn_head_step(c, &mut params[CNN_HEAD..], z1.view(), y, step);
            let dz1 = dz1
                .into_shape_with_order((cols.nrows(), c.conv.filters))
                .unwrap_or_else(|_| Array2::zeros((cols.nrows(), c.conv.filters)));
            let grads = [cols.t().dot(&dz1), sum_rows(dz1.view())];
            sgd(&mut params[..CNN_HEAD], &grads, step);
        }
    }
}

/// Scores for a batch: logistic regression z (B x 1, predict z > 0); CNN class scores z3.
pub fn predict_scores(spec: &ModelSpec, params: &Params, x: ArrayView2<'_, f64>) -> Array2<f64> {
    match spec {
        ModelSpec::Logistic { .. } => {
            let mut z = x.dot(&params[0]);
            add_row(&mut z, params[1].view());
            z
        }
        ModelSpec::Cnn(c) => {
            let cols = c.conv.im2col(x).unwrap_or_else(|_| Array2::zeros((0, 0)));
            let z1 = conv_forward(c, params, cols.view(), x.nrows());
            cnn_head_forward(c, &params[CNN_HEAD..], z1.view())
        }
    }
}
