//! Sparse-Quantization-Reuse (sec. 3.2, Table 2): prune small weights, share values by k-means
//! (512 clusters by default), and count how many products the shared values let the server reuse.
//!
//! Pruning ratio = pruned / all parameters. Reuse ratio = 1 - sum_i shared_i / sum_i all_i, with
//! shared_i the number of distinct non-zero values in row i of a feature matrix and all_i its
//! number of non-zero values: in p_u = r_u A, the products r_uj A_jc of row j are formed once per
//! distinct value. The k-means codebook is one per matrix (one per row cannot share anything at
//! d <= 512). One-dimensional k-means is solved on the sorted weights, where every cluster is a
//! contiguous range, so a Lloyd iteration costs O(k log N) with prefix sums.

use std::collections::HashSet;

use ndarray::Array2;

use crate::model::Model;

/// Settings of Sparse-Quantization-Reuse.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SqrConfig {
    /// Weights with |w| below this are pruned (the paper: 5e-4).
    pub prune_below: f32,
    /// k-means clusters per matrix (the paper: 512).
    pub clusters: usize,
    /// Lloyd iterations.
    pub iterations: usize,
}

impl Default for SqrConfig {
    fn default() -> Self {
        SqrConfig {
            prune_below: 5e-4,
            clusters: 512,
            iterations: 30,
        }
    }
}

/// The compressed model's statistics (Table 2).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SqrReport {
    /// Pruned parameters / all parameters of A and Q.
    pub pruning_ratio: f64,
    /// 1 - distinct non-zero values per row / non-zero values per row, over A and Q.
    pub reuse_ratio: f64,
}

/// Prunes, shares values by k-means, and reports the ratios.
pub fn compress(model: &Model, cfg: &SqrConfig) -> (Model, SqrReport) {
    let (a, pa) = compress_matrix(&model.a, cfg);
    let (q, pq) = compress_matrix(&model.q, cfg);
    let total = (model.a.len() + model.q.len()) as f64;
    let (shared, all) = [&a, &q].iter().fold((0usize, 0usize), |(s, n), m| {
        let (s2, n2) = row_reuse(m);
        (s + s2, n + n2)
    });
    let report = SqrReport {
        pruning_ratio: (pa + pq) as f64 / total,
        reuse_ratio: if all == 0 {
            0.0
        } else {
            1.0 - shared as f64 / all as f64
        },
    };
    (
        Model {
            mu: model.mu,
            item_bias: model.item_bias.clone(),
            a,
            q,
            scale: model.scale,
            input_norm: model.input_norm,
        },
        report,
    )
}

/// (sum of distinct non-zero values per row, sum of non-zero values per row).
fn row_reuse(m: &Array2<f32>) -> (usize, usize) {
    m.rows().into_iter().fold((0, 0), |(s, n), row| {
        let nz: Vec<u32> = row
            .iter()
            .filter(|&&x| x != 0.0)
            .map(|x| x.to_bits())
            .collect();
        let distinct: HashSet<u32> = nz.iter().copied().collect();
        (s + distinct.len(), n + nz.len())
    })
}

/// The matrix with pruned entries zeroed and the rest replaced by their k-means centroid, and
/// the number pruned.
fn compress_matrix(m: &Array2<f32>, cfg: &SqrConfig) -> (Array2<f32>, usize) {
    let mut kept: Vec<f32> = m
        .iter()
        .copied()
        .filter(|x| x.abs() >= cfg.prune_below)
        .collect();
    let pruned = m.len() - kept.len();
    kept.sort_by(f32::total_cmp);
    let centroids = kmeans_1d(&kept, cfg.clusters, cfg.iterations);
    let out = m.mapv(|x| {
        if x.abs() < cfg.prune_below {
            0.0
        } else {
            nearest(&centroids, x)
        }
    });
    (out, pruned)
}

/// The centroid closest to x (centroids sorted).
fn nearest(c: &[f32], x: f32) -> f32 {
    let i = c.partition_point(|&v| v < x);
    let below = i.checked_sub(1).and_then(|j| c.get(j));
    match (below, c.get(i)) {
        (Some(&lo), Some(&hi)) => {
            if x - lo <= hi - x {
                lo
            } else {
                hi
            }
        }
        (Some(&lo), None) => lo,
        (None, Some(&hi)) => hi,
        (None, None) => x,
    }
}

/// Lloyd's algorithm on sorted values, initialised at quantiles; returns sorted centroids.
pub fn kmeans_1d(sorted: &[f32], k: usize, iterations: usize) -> Vec<f32> {
    let n = sorted.len();
    if n == 0 || k == 0 {
        return Vec::new();
    }
    let mut prefix = Vec::with_capacity(n + 1);
    prefix.push(0f64);
    for &x in sorted {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + f64::from(x));
    }
    let k = k.min(n);
    let mut c: Vec<f32> = (0..k)
        .map(|j| {
            sorted
                .get((2 * j + 1) * n / (2 * k))
                .copied()
                .unwrap_or(0.0)
        })
        .collect();
    c.dedup();
    for _ in 0..iterations {
        let mut next = Vec::with_capacity(c.len());
        let mut start = 0;
        for j in 0..c.len() {
            let end = match (c.get(j), c.get(j + 1)) {
                (Some(&lo), Some(&hi)) => {
                    let mid = lo + (hi - lo) / 2.0;
                    sorted.partition_point(|&v| v <= mid)
                }
                _ => n,
            }
            .max(start);
            if end > start {
                let sum = prefix.get(end).copied().unwrap_or(0.0)
                    - prefix.get(start).copied().unwrap_or(0.0);
                next.push((sum / (end - start) as f64) as f32);
            }
            start = end;
        }
        next.dedup();
        if next == c {
            break;
        }
        c = next;
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kmeans_finds_separated_clusters() {
        let mut v: Vec<f32> = (0..100)
            .map(|i| [-1.0f32, 0.5, 3.0][i % 3] + (i as f32) * 1e-4)
            .collect();
        v.sort_by(f32::total_cmp);
        let c = kmeans_1d(&v, 3, 50);
        assert_eq!(c.len(), 3);
        for (got, want) in c.iter().zip([-1.0f32, 0.5, 3.0]) {
            assert!((got - want).abs() < 0.01, "{c:?}");
        }
        assert_eq!(nearest(&c, 2.0), c[2]);
        assert_eq!(nearest(&c, -5.0), c[0]);
    }

    #[test]
    fn reuse_counts_distinct_values_per_row() {
        let m =
            Array2::from_shape_vec((2, 4), vec![1.0, 1.0, 2.0, 0.0, 3.0, 3.0, 3.0, 3.0]).unwrap();
        // Row 0: 2 distinct of 3 non-zero; row 1: 1 of 4.
        assert_eq!(row_reuse(&m), (3, 7));
    }
}
