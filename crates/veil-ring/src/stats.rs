//! Two-sample statistics for noise studies: tests of circuit privacy compare the noise of replies
//! computed from different secrets (models, tables) and must tell "same distribution" from
//! "different" without a hand-rolled statistic in every crate.

/// The two-sample Kolmogorov-Smirnov statistic D = sup |F_a(x) - F_b(x)| of two samples (NaN
/// values sort last). Ties advance both empirical distributions together, so a sample against
/// itself gives 0 however many values repeat.
pub fn ks_statistic(a: &[f64], b: &[f64]) -> f64 {
    let (mut a, mut b) = (a.to_vec(), b.to_vec());
    a.sort_by(f64::total_cmp);
    b.sort_by(f64::total_cmp);
    let (mut i, mut j, mut d) = (0, 0, 0.0f64);
    while i < a.len() && j < b.len() {
        let x = if a[i].total_cmp(&b[j]).is_le() {
            a[i]
        } else {
            b[j]
        };
        while i < a.len() && a[i].total_cmp(&x).is_le() {
            i += 1;
        }
        while j < b.len() && b[j].total_cmp(&x).is_le() {
            j += 1;
        }
        d = d.max((i as f64 / a.len() as f64 - j as f64 / b.len() as f64).abs());
    }
    d
}

/// The asymptotic critical value of [`ks_statistic`] at significance `alpha` for samples of
/// sizes `n` and `m`: sqrt(-ln(alpha / 2) / 2) sqrt((n + m) / (n m)). Two samples of one
/// distribution exceed it with probability about `alpha`.
pub fn ks_critical_value(alpha: f64, n: usize, m: usize) -> f64 {
    let (n, m) = (n as f64, m as f64);
    (-(alpha / 2.0).ln() / 2.0).sqrt() * ((n + m) / (n * m)).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_tied_samples_give_zero_and_disjoint_ones_one() {
        let a: Vec<f64> = (0..1000).map(|i| f64::from(i % 3)).collect();
        assert_eq!(ks_statistic(&a, &a), 0.0);
        let b: Vec<f64> = a.iter().map(|x| x + 10.0).collect();
        assert_eq!(ks_statistic(&a, &b), 1.0);
        // Half of b above every a: D = 1/2.
        let c: Vec<f64> = (0..1000)
            .map(|i| if i % 2 == 0 { 0.0 } else { 20.0 })
            .collect();
        assert!((ks_statistic(&b, &c) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn critical_values_match_the_tables() {
        // 1.36 sqrt(2/n) at 5%, 1.95 sqrt(2/n) at 0.1%.
        assert!(
            (ks_critical_value(0.05, 100, 100) - 1.358 * 0.2f64.sqrt() / 10f64.sqrt()).abs() < 1e-3
        );
        assert!((ks_critical_value(1e-3, 8192, 8192) - 0.0305).abs() < 5e-4);
    }
}
