//! Accurate mode, CryptoRec-a (sec. 3.1, Alg. 3 in plaintext): fine-tune the pre-learned model on
//! one user's own ratings by gradient steps on the user's loss
//! ||(rhat_u - r_u) . phi_u||^2 + lambda (||A||^2 + ||Q||^2), then predict.
//!
//! The user's predictions depend on A only through p = r~ A, so a step on A is a step on p
//! (DESIGN.md, accurate mode): with e = (rhat - r) . phi and x = e Q,
//! p' = (1 - eta lambda) p - eta ||r~||^2 x and Q' = (1 - eta lambda) Q - eta e^T p.
//! We step p by a fixed `user_step` eta_p instead of eta ||r~||^2 (a stated deviation):
//! ||r~||^2 spans two orders of magnitude across users, so one eta on A either barely moves light
//! users or overshoots heavy ones. On MovieLens 100K (2 seeds) a(1) measured 0.903 / 0.951 with a
//! fixed eta_p = 1 against 0.907 / 0.956 with the best eta on A. The update stays three
//! plaintext-by-ciphertext products, as HE-friendly as the paper's.
//! Q' differs from (1 - eta lambda) Q only in the rows of rated items, so a step costs O(n_u d)
//! plus one O(m d) product for the predictions, never the m x d gradient of A.
//! CryptoRec-a(1) is one step; CryptoRec-a(n) repeats until the loss stops improving.

use std::collections::HashMap;

use ndarray::{Array1, ArrayView1};

use crate::model::{Model, UserRatings};

/// Fine-tuning settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FineTune {
    /// Step size eta_p on the user vector p = r~ A.
    pub user_step: f32,
    /// Step size eta on the item features Q.
    pub item_step: f32,
    /// Regularization lambda (as in training).
    pub lambda: f32,
    /// Largest number of steps (1 for CryptoRec-a(1)).
    pub max_steps: usize,
    /// CryptoRec-a(n) stops once a step improves the user's loss by less than this fraction.
    pub tolerance: f32,
}

impl FineTune {
    /// CryptoRec-a(1): one step. eta_p = 0.3 since the input weight of issue 16 changed the
    /// scale of p: a(1) validation RMSE over 5 splits for eta_p in {0.1, 0.3, 0.5, 1, 2} was
    /// 0.9169 / 0.9185 / 0.9203 / 0.9324 / 0.9355 on MovieLens 100K and 0.7815 / 0.7771 /
    /// 0.7734 / 0.7669 / 0.7686 on sparse half-star synthetic data (300 x 4500 at 1%): no one
    /// value is best on both, 0.3 is the compromise, and model selection
    /// ([`crate::select::A1_STEPS`]) chooses per data set.
    pub fn one_step(lambda: f32) -> Self {
        FineTune {
            user_step: 0.3,
            item_step: 1e-3,
            lambda,
            max_steps: 1,
            tolerance: 0.0,
        }
    }

    /// CryptoRec-a(n): up to 20 steps, until the loss improves by less than 0.1%; smaller steps
    /// than a(1) (chosen on MovieLens 100K validation users).
    pub fn until_converged(lambda: f32) -> Self {
        FineTune {
            user_step: 0.1,
            item_step: 1e-4,
            lambda,
            max_steps: 20,
            tolerance: 1e-3,
        }
    }
}

/// The result of fine-tuning for one user.
#[derive(Clone, Debug)]
pub struct Tuned {
    /// Predictions for every item after fine-tuning.
    pub predictions: Array1<f32>,
    /// Steps taken.
    pub steps: usize,
}

impl Model {
    /// Fine-tunes the model on `user`'s ratings (plaintext CryptoRec-a) and predicts every item.
    /// The model itself is unchanged: the tuned p and the changed rows of Q are local.
    pub fn fine_tune(&self, user: &UserRatings, cfg: &FineTune) -> Tuned {
        let mean = user.mean();
        let d = self.a.ncols();
        let mut p = self.input(user).dot(&self.a);
        // Q = scale * Q0 + rows (the rated items' rows are kept explicitly).
        let mut scale = 1.0f32;
        let mut rows: HashMap<usize, Array1<f32>> = HashMap::new();
        let rated: Vec<(usize, f32)> = user
            .items
            .iter()
            .zip(&user.values)
            .filter(|(i, _)| (**i as usize) < self.items())
            .map(|(&i, &v)| (i as usize, v))
            .collect();
        for &(i, _) in &rated {
            rows.insert(i, self.q.row(i).to_owned());
        }
        let bias = |i: usize| mean + self.item_bias.get(i).copied().unwrap_or(0.0);
        let errors = |p: ArrayView1<f32>, rows: &HashMap<usize, Array1<f32>>| -> Vec<f32> {
            rated
                .iter()
                .map(|&(i, v)| bias(i) + rows.get(&i).map_or(0.0, |q| q.dot(&p)) - v)
                .collect()
        };
        let loss = |e: &[f32]| e.iter().map(|x| x * x).sum::<f32>();
        let mut e = errors(p.view(), &rows);
        let mut steps = 0;
        let (shrink_p, shrink) = (
            1.0 - cfg.user_step * cfg.lambda,
            1.0 - cfg.item_step * cfg.lambda,
        );
        while steps < cfg.max_steps {
            let saved = (p.clone(), rows.clone(), scale);
            let mut x = Array1::<f32>::zeros(d);
            for (&(i, _), &ei) in rated.iter().zip(&e) {
                if let Some(q) = rows.get(&i) {
                    x.scaled_add(ei, q);
                }
            }
            let new_p = &p * shrink_p - &(x * cfg.user_step);
            for (&(i, _), &ei) in rated.iter().zip(&e) {
                if let Some(q) = rows.get_mut(&i) {
                    q.mapv_inplace(|v| v * shrink);
                    q.scaled_add(-cfg.item_step * ei, &p);
                }
            }
            scale *= shrink;
            p = new_p;
            steps += 1;
            let next = errors(p.view(), &rows);
            let (before, after) = (loss(&e), loss(&next));
            if after > before {
                // The step overshot: keep the previous state (CryptoRec-a(1) never gets here
                // unless the step size is too large for this user).
                (p, rows, scale) = saved;
                steps -= 1;
                break;
            }
            e = next;
            if after > before * (1.0 - cfg.tolerance) {
                break;
            }
        }
        let mut predictions = self.q.dot(&p) * scale + &self.item_bias + mean;
        for (&i, q) in &rows {
            if let Some(slot) = predictions.get_mut(i) {
                *slot = bias(i) + q.dot(&p);
            }
        }
        Tuned { predictions, steps }
    }
}
