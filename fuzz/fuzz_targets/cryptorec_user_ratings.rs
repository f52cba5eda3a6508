//! The CLI's user ratings file (`veil cryptorec predict --ratings`):
//! `UserRatings::parse_lines` on arbitrary text, with item identifiers from a model file and
//! with dense indices.
//!
//! Checked for a file that loads: at least one rating; every index below the model's item count;
//! every value finite and inside the scale; no item twice.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::model::UserRatings;

const IDS: [u64; 5] = [1, 2, 50, 1_000_000, u64::MAX];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let scale = RatingScale::default();
    for (ids, items) in [(&IDS[..], IDS.len()), (&[][..], 100)] {
        let Ok(user) = UserRatings::parse_lines(text, ids, items, &scale) else {
            continue;
        };
        assert!(!user.items.is_empty());
        assert_eq!(user.items.len(), user.values.len());
        let mut seen = HashSet::new();
        for (&i, &v) in user.items.iter().zip(&user.values) {
            assert!((i as usize) < items);
            assert!(v.is_finite() && scale.contains(v));
            assert!(seen.insert(i));
        }
    }
});
