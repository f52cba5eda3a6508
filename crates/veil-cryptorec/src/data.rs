//! Rating data: MovieLens loaders (`u.data` tab format of 100K, `::` format of 1M/10M), a
//! `user,item,rating[,timestamp...]` CSV loader (the `ratings.csv` of current MovieLens releases,
//! header and all), and a synthetic generator of the same shape and density.
//!
//! User and item identifiers are remapped to dense indices in order of first appearance; the
//! original identifiers are kept. Data sets are loaded from a path the user gives: MovieLens may not
//! be redistributed, so none is embedded; the synthetic generator provides the default data.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

use crate::error::{Error, Result};

/// One rating with dense user and item indices.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rating {
    /// Dense user index.
    pub user: u32,
    /// Dense item index.
    pub item: u32,
    /// The rating.
    pub value: f32,
}

/// The range of valid ratings, `min..=max` (MovieLens: 1 to 5 stars). Predictions are clamped
/// to it and inputs outside it refused.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RatingScale {
    /// Lowest rating.
    pub min: f32,
    /// Highest rating.
    pub max: f32,
}

impl Default for RatingScale {
    /// MovieLens' 1 to 5 stars.
    fn default() -> Self {
        RatingScale { min: 1.0, max: 5.0 }
    }
}

impl RatingScale {
    /// A scale from its bounds: both finite and `min < max`.
    pub fn new(min: f32, max: f32) -> Result<Self> {
        if min.is_finite() && max.is_finite() && min < max {
            Ok(RatingScale { min, max })
        } else {
            Err(Error::Invalid {
                reason: "a rating scale needs finite bounds with min < max",
            })
        }
    }

    /// Whether `value` is a rating of this scale.
    pub fn contains(&self, value: f32) -> bool {
        (self.min..=self.max).contains(&value)
    }

    /// `value` moved into the scale.
    pub fn clamp(&self, value: f32) -> f32 {
        value.clamp(self.min, self.max)
    }
}

impl std::fmt::Display for RatingScale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}..{}", self.min, self.max)
    }
}

/// A set of ratings over `users` x `items`.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    ratings: Vec<Rating>,
    user_ids: Vec<u64>,
    item_ids: Vec<u64>,
}

/// Remaps raw identifiers to dense indices and refuses duplicate (user, item) pairs.
#[derive(Default)]
struct Builder {
    ratings: Vec<Rating>,
    users: HashMap<u64, u32>,
    items: HashMap<u64, u32>,
    user_ids: Vec<u64>,
    item_ids: Vec<u64>,
    seen: HashSet<(u32, u32)>,
}

impl Builder {
    fn push(&mut self, line: usize, user: u64, item: u64, value: f32) -> Result<()> {
        let dense = |map: &mut HashMap<u64, u32>, ids: &mut Vec<u64>, id: u64| {
            *map.entry(id).or_insert_with(|| {
                ids.push(id);
                (ids.len() - 1) as u32
            })
        };
        let u = dense(&mut self.users, &mut self.user_ids, user);
        let i = dense(&mut self.items, &mut self.item_ids, item);
        if !self.seen.insert((u, i)) {
            return Err(Error::Parse {
                line,
                reason: format!("second rating of item {item} by user {user}"),
            });
        }
        self.ratings.push(Rating {
            user: u,
            item: i,
            value,
        });
        Ok(())
    }

    fn finish(self) -> Result<Dataset> {
        if self.ratings.is_empty() {
            return Err(Error::Invalid {
                reason: "no ratings",
            });
        }
        Ok(Dataset {
            ratings: self.ratings,
            user_ids: self.user_ids,
            item_ids: self.item_ids,
        })
    }
}

fn field<T: std::str::FromStr>(line: usize, name: &str, text: Option<&str>) -> Result<T> {
    let text = text.map(str::trim).ok_or_else(|| Error::Parse {
        line,
        reason: format!("missing {name}"),
    })?;
    text.parse().map_err(|_| Error::Parse {
        line,
        reason: format!("{name} {text:?} is not a number"),
    })
}

fn rating_value(line: usize, text: Option<&str>) -> Result<f32> {
    let v: f32 = field(line, "rating", text)?;
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::Parse {
            line,
            reason: "rating is not finite".into(),
        })
    }
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.display().to_string(),
        source,
    })
}

impl Dataset {
    /// Parses MovieLens ratings: `user \t item \t rating \t timestamp` (100K) or
    /// `user::item::rating::timestamp` (1M, 10M), chosen by the first line. Empty lines are skipped.
    pub fn parse_movielens(text: &str) -> Result<Self> {
        let separator = if text
            .lines()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| l.contains("::"))
        {
            "::"
        } else {
            "\t"
        };
        let mut b = Builder::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let mut parts = raw.split(separator);
            let user = field(line, "user", parts.next())?;
            let item = field(line, "item", parts.next())?;
            let value = rating_value(line, parts.next())?;
            let _timestamp: u64 = field(line, "timestamp", parts.next())?;
            if parts.next().is_some() {
                return Err(Error::Parse {
                    line,
                    reason: "more than four fields".into(),
                });
            }
            b.push(line, user, item, value)?;
        }
        b.finish()
    }

    /// Loads a MovieLens ratings file (`u.data`, or `ratings.dat` of 1M/10M).
    pub fn load_movielens(path: &Path) -> Result<Self> {
        Self::parse_movielens(&read(path)?)
    }

    /// Parses `user,item,rating[,...]` lines: a first line that is not numeric is taken as a
    /// header, and fields after the rating (MovieLens' timestamp) are ignored, so that the
    /// `userId,movieId,rating,timestamp` files of every current MovieLens release load as they are.
    pub fn parse_csv(text: &str) -> Result<Self> {
        let mut b = Builder::default();
        for (index, raw) in text.lines().enumerate() {
            let line = index + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let mut parts = raw.split(',');
            if line == 1
                && parts.clone().next().is_some_and(|f| {
                    f.trim()
                        .trim_start_matches('\u{feff}')
                        .parse::<u64>()
                        .is_err()
                })
            {
                continue; // header
            }
            let user = field(line, "user", parts.next())?;
            let item = field(line, "item", parts.next())?;
            let value = rating_value(line, parts.next())?;
            b.push(line, user, item, value)?;
        }
        b.finish()
    }

    /// Loads a `user,item,rating[,...]` CSV file (with or without a header).
    pub fn load_csv(path: &Path) -> Result<Self> {
        Self::parse_csv(&read(path)?)
    }

    /// Parses ratings in whichever of the three formats the first non-empty line shows: `::`
    /// (MovieLens 1M/10M), a tab (`u.data`), else comma-separated ([`Dataset::parse_csv`]).
    pub fn parse_any(text: &str) -> Result<Self> {
        let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
        if first.contains("::") || first.contains('\t') {
            Self::parse_movielens(text)
        } else {
            Self::parse_csv(text)
        }
    }

    /// Loads a ratings file in any of the formats of [`Dataset::parse_any`].
    pub fn load_any(path: &Path) -> Result<Self> {
        Self::parse_any(&read(path)?)
    }

    /// All ratings, in file order.
    pub fn ratings(&self) -> &[Rating] {
        &self.ratings
    }

    /// Number of distinct users.
    pub fn users(&self) -> usize {
        self.user_ids.len()
    }

    /// Number of distinct items.
    pub fn items(&self) -> usize {
        self.item_ids.len()
    }

    /// The scale of the ratings as found in the data: lowest to highest rating (a data set whose
    /// ratings are all equal has none, and is refused).
    pub fn scale(&self) -> Result<RatingScale> {
        let (min, max) = self
            .ratings
            .iter()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), r| {
                (lo.min(r.value), hi.max(r.value))
            });
        RatingScale::new(min, max).map_err(|_| Error::Invalid {
            reason: "all ratings are equal: no rating scale can be inferred",
        })
    }

    /// Refuses a data set with a rating outside `scale`, naming the first one.
    pub fn check_scale(&self, scale: &RatingScale) -> Result<()> {
        match self.ratings.iter().find(|r| !scale.contains(r.value)) {
            None => Ok(()),
            Some(r) => Err(Error::Scale {
                value: r.value,
                scale: *scale,
                context: format!(
                    "item {} by user {}",
                    self.item_id(r.item).unwrap_or(u64::from(r.item)),
                    self.user_id(r.user).unwrap_or(u64::from(r.user))
                ),
            }),
        }
    }

    /// Fraction of the user x item matrix that is rated.
    pub fn density(&self) -> f64 {
        self.ratings.len() as f64 / (self.users() as f64 * self.items() as f64)
    }

    /// The original identifier of dense user `u`.
    pub fn user_id(&self, u: u32) -> Option<u64> {
        self.user_ids.get(u as usize).copied()
    }

    /// The original identifier of dense item `i`.
    pub fn item_id(&self, i: u32) -> Option<u64> {
        self.item_ids.get(i as usize).copied()
    }
}

/// A synthetic rating set with planted structure, for the embedded default data and for timing
/// at shapes no shipped file has (MovieLens 1M: 6,040 x 3,952 at 4.2%).
///
/// r_ui = clamp(round(mu + b_u + b_i + <p_u, q_i> + noise), 1, 5) (or rounded to half stars
/// and clamped to 0.5..5 with [`SyntheticConfig::half_stars`]) with p_u, q_i of `rank`
/// dimensions; which items a user rates follows a Zipf popularity of exponent `popularity_skew`,
/// and how many follows a skewed per-user activity (at least `min_per_user`).
#[derive(Clone, Debug)]
pub struct SyntheticConfig {
    /// Number of users.
    pub users: usize,
    /// Number of items.
    pub items: usize,
    /// Fraction of the matrix to rate.
    pub density: f64,
    /// Rank of the planted preference matrix.
    pub rank: usize,
    /// Zipf exponent of item popularity (0 = uniform).
    pub popularity_skew: f64,
    /// Fewest ratings per user (MovieLens keeps users with at least 20).
    pub min_per_user: usize,
    /// Standard deviation of the rating noise.
    pub noise: f64,
    /// Seed of the generator: the same seed gives the same data.
    pub seed: u64,
    /// Half-star ratings on 0.5..5 (MovieLens since 2003) instead of whole stars on 1..5.
    pub half_stars: bool,
}

impl Default for SyntheticConfig {
    /// MovieLens-100K-like: 943 x 1,682 at 6.3%.
    fn default() -> Self {
        SyntheticConfig {
            users: 943,
            items: 1682,
            density: 0.063,
            rank: 10,
            popularity_skew: 1.0,
            min_per_user: 20,
            noise: 0.5,
            seed: 1,
            half_stars: false,
        }
    }
}

impl SyntheticConfig {
    /// The MovieLens 1M shape: 6,040 users x 3,952 items at 4.2%.
    pub fn movielens_1m() -> Self {
        SyntheticConfig {
            users: 6040,
            items: 3952,
            density: 0.042,
            ..Self::default()
        }
    }

    /// Generates the data set (panics never; an impossible request gives the closest possible).
    pub fn generate(&self) -> Dataset {
        let mut rng = ChaCha20Rng::seed_from_u64(self.seed);
        let (users, items) = (self.users.max(1), self.items.max(1));
        let normal = |rng: &mut ChaCha20Rng, sd: f64| {
            // Box-Muller.
            let (u1, u2): (f64, f64) = (rng.random::<f64>().max(f64::MIN_POSITIVE), rng.random());
            sd * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        };
        let scale = 1.0 / (self.rank.max(1) as f64).sqrt();
        let p: Vec<Vec<f64>> = (0..users)
            .map(|_| (0..self.rank).map(|_| normal(&mut rng, scale)).collect())
            .collect();
        let q: Vec<Vec<f64>> = (0..items)
            .map(|_| (0..self.rank).map(|_| normal(&mut rng, scale)).collect())
            .collect();
        let bu: Vec<f64> = (0..users).map(|_| normal(&mut rng, 0.3)).collect();
        let bi: Vec<f64> = (0..items).map(|_| normal(&mut rng, 0.5)).collect();
        // Item popularity: Zipf over a random order of the items.
        let mut order: Vec<usize> = (0..items).collect();
        for k in (1..items).rev() {
            order.swap(k, rng.random_range(0..=k));
        }
        let mut by_cdf: Vec<(f64, usize)> = Vec::with_capacity(items);
        let mut acc = 0.0;
        for &item in &order {
            acc += 1.0 / ((by_cdf.len() + 1) as f64).powf(self.popularity_skew);
            by_cdf.push((acc, item));
        }
        // Ratings per user: a skewed activity level, scaled to the requested total.
        let target = (self.density.clamp(0.0, 1.0) * users as f64 * items as f64).round() as usize;
        let activity: Vec<f64> = (0..users).map(|_| (normal(&mut rng, 1.0)).exp()).collect();
        let activity_sum: f64 = activity.iter().sum();
        let min = self.min_per_user.min(items);
        let mut b = Builder::default();
        for u in 0..users {
            let want = ((activity.get(u).copied().unwrap_or(1.0) / activity_sum) * target as f64)
                .round() as usize;
            let count = want.clamp(min, items);
            let mut chosen = HashSet::with_capacity(count);
            while chosen.len() < count {
                let x = rng.random::<f64>() * acc;
                let pos = by_cdf.partition_point(|&(c, _)| c < x).min(items - 1);
                if let Some(&(_, item)) = by_cdf.get(pos) {
                    chosen.insert(item);
                }
            }
            let mut chosen: Vec<usize> = chosen.into_iter().collect();
            chosen.sort_unstable();
            for item in chosen {
                let dot: f64 = p[u].iter().zip(&q[item]).map(|(a, b)| a * b).sum();
                let r = 3.5 + bu[u] + bi[item] + 1.5 * dot + normal(&mut rng, self.noise);
                let value = if self.half_stars {
                    ((r * 2.0).round() / 2.0).clamp(0.5, 5.0) as f32
                } else {
                    r.round().clamp(1.0, 5.0) as f32
                };
                // Identifiers are the dense indices plus one, as in MovieLens.
                let _ = b.push(0, u as u64 + 1, item as u64 + 1, value);
            }
        }
        b.finish().unwrap_or(Dataset {
            ratings: Vec::new(),
            user_ids: Vec::new(),
            item_ids: Vec::new(),
        })
    }
}
