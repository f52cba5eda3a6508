//! The ratings loaders `Dataset::parse_movielens` (`u.data` tabs or `::`) and
//! `Dataset::parse_csv` (`user,item,rating[,...]`, header optional) and `Dataset::parse_any` on
//! the same text.
//!
//! Checked for a data set that loads: at least one rating; dense user and item indices below
//! `users()` and `items()`, each mapping back to an identifier; finite values; no (user, item)
//! pair twice; a density in (0, 1]; `by_user` keeps every rating.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::data::Dataset;
use veil_cryptorec::model::by_user;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parsed in [
        Dataset::parse_movielens(text),
        Dataset::parse_csv(text),
        Dataset::parse_any(text),
    ] {
        let Ok(d) = parsed else {
            continue;
        };
        let ratings = d.ratings();
        assert!(!ratings.is_empty());
        let mut seen = HashSet::new();
        for r in ratings {
            assert!((r.user as usize) < d.users() && (r.item as usize) < d.items());
            assert!(d.user_id(r.user).is_some() && d.item_id(r.item).is_some());
            assert!(r.value.is_finite());
            assert!(seen.insert((r.user, r.item)));
        }
        let density = d.density();
        assert!(density > 0.0 && density <= 1.0);
        let grouped = by_user(ratings, d.users());
        assert_eq!(
            grouped.iter().map(|u| u.values.len()).sum::<usize>(),
            ratings.len()
        );
    }
});
