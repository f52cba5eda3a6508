//! Top-N evaluation: what a user sees is the top of a list, not an RMSE.
//!
//! For each held-out user of a [`Split`], every item not among the fed ratings is a candidate;
//! the model's `n` best-scored candidates are the list, and the relevant items are the user's
//! held-out test items rated at least [`liked_threshold`] (4 stars on 1..5). Over the users with
//! at least one relevant item:
//!
//! - precision@n = hits / n,
//! - recall@n = hits / |relevant|,
//! - NDCG@n = DCG / IDCG with binary gains, DCG = sum over hits at rank k (0-based) of
//!   1 / log2(k + 2), IDCG the same for min(n, |relevant|) hits at the top (Jarvelin and
//!   Kekalainen, "Cumulated gain-based evaluation of IR techniques", TOIS 2002).
//!
//! Ranking against all unrated items is the protocol of Cremonesi, Koren and Turrin
//! ("Performance of recommender algorithms on top-N recommendation tasks", RecSys 2010), where
//! a most-popular list is a strong baseline; [`popularity`] gives its scores.

use crate::data::RatingScale;
use crate::eval::{FeedTest, Split};
use crate::model::UserRatings;

/// Precision, recall and NDCG at n, averaged over the users with a relevant test item.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TopN {
    /// Mean precision@n.
    pub precision: f64,
    /// Mean recall@n.
    pub recall: f64,
    /// Mean NDCG@n.
    pub ndcg: f64,
    /// Users averaged over (those with at least one relevant test item).
    pub users: usize,
}

/// The lowest rating counted as liked: three quarters up the scale (4 on 1..5).
pub fn liked_threshold(scale: &RatingScale) -> f32 {
    scale.min + 0.75 * (scale.max - scale.min)
}

/// The `n` best-scored items not in `exclude`, best first (ties: lower index first).
pub fn top_items(scores: &[f32], exclude: &[u32], n: usize) -> Vec<usize> {
    let mut excluded = vec![false; scores.len()];
    for &i in exclude {
        if let Some(x) = excluded.get_mut(i as usize) {
            *x = true;
        }
    }
    let mut order: Vec<usize> = (0..scores.len()).filter(|&i| !excluded[i]).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
    order.truncate(n);
    order
}

/// Top-n metrics over `pairs`; `scores(k, feed)` returns the k-th user's scores over all items.
pub fn top_n_with(
    pairs: &[FeedTest],
    n: usize,
    liked: f32,
    mut scores: impl FnMut(usize, &UserRatings) -> Vec<f32>,
) -> TopN {
    let discount = |k: usize| 1.0 / ((k + 2) as f64).log2();
    let (mut p, mut r, mut g, mut users) = (0f64, 0f64, 0f64, 0usize);
    for (k, (feed, test)) in pairs.iter().enumerate() {
        let relevant: Vec<u32> = test
            .items
            .iter()
            .zip(&test.values)
            .filter(|(_, v)| **v >= liked)
            .map(|(i, _)| *i)
            .collect();
        if relevant.is_empty() || n == 0 {
            continue;
        }
        let list = top_items(&scores(k, feed), &feed.items, n);
        let mut hits = 0usize;
        let mut dcg = 0f64;
        for (rank, item) in list.iter().enumerate() {
            if relevant.contains(&(*item as u32)) {
                hits += 1;
                dcg += discount(rank);
            }
        }
        let idcg: f64 = (0..n.min(relevant.len())).map(discount).sum();
        p += hits as f64 / n as f64;
        r += hits as f64 / relevant.len() as f64;
        g += dcg / idcg;
        users += 1;
    }
    let mean = |x: f64| if users == 0 { 0.0 } else { x / users as f64 };
    TopN {
        precision: mean(p),
        recall: mean(r),
        ndcg: mean(g),
        users,
    }
}

/// The most-popular baseline's scores: each item's number of known ratings
/// ([`Split::all_known`]: training users and every user's fed ratings), the same for all users.
pub fn popularity(split: &Split) -> Vec<f32> {
    let mut counts = vec![0f32; split.items];
    for u in split.all_known() {
        for i in u.items {
            if let Some(c) = counts.get_mut(i as usize) {
                *c += 1.0;
            }
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn user(items: &[u32], values: &[f32]) -> UserRatings {
        UserRatings {
            items: items.to_vec(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn metrics_of_a_known_ranking() {
        // Feed: item 0. Test: item 1 liked (5), item 2 liked (4), item 3 not liked (2).
        let pairs = vec![(user(&[0], &[5.0]), user(&[1, 2, 3], &[5.0, 4.0, 2.0]))];
        // Scores rank 0 (excluded), then 3, 1, 4, 2.
        let scores = vec![9.0, 7.0, 1.0, 8.0, 6.0];
        let m = top_n_with(&pairs, 2, 4.0, |_, _| scores.clone());
        assert_eq!(m.users, 1);
        assert!((m.precision - 0.5).abs() < 1e-12);
        assert!((m.recall - 0.5).abs() < 1e-12);
        // One hit at rank 1 of 2: (1/log2 3) / (1 + 1/log2 3).
        let want = (1.0 / 3f64.log2()) / (1.0 + 1.0 / 3f64.log2());
        assert!((m.ndcg - want).abs() < 1e-12);
        // A perfect ranking scores 1.
        let perfect = top_n_with(&pairs, 2, 4.0, |_, _| vec![0.0, 9.0, 8.0, 0.0, 0.0]);
        assert!((perfect.ndcg - 1.0).abs() < 1e-12 && (perfect.precision - 1.0).abs() < 1e-12);
    }

    #[test]
    fn users_without_liked_items_are_skipped() {
        let pairs = vec![(user(&[0], &[5.0]), user(&[1], &[2.0]))];
        let m = top_n_with(&pairs, 10, 4.0, |_, _| vec![1.0; 3]);
        assert_eq!(m, TopN::default());
        assert_eq!(liked_threshold(&RatingScale::default()), 4.0);
    }
}
