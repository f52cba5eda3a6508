//! `veil_reacthe::Dataset::parse_csv` (what `Dataset::from_csv` and `veil reacthe --data PATH.csv`
//! read), then what every command does next with a data set: the standardiser and a seeded split.
//!
//! Checked for a file that parses: at least one row, one feature and the target; every value
//! finite; the inferred task agrees with the targets (class indices below the class count); the
//! standardiser has one mean and one positive divisor per feature; a split partitions the rows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_reacthe::{Dataset, Standardizer, Task};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(d) = Dataset::parse_csv(text, "fuzz") else {
        return;
    };
    assert!(!d.is_empty() && d.x.ncols() >= 1);
    assert_eq!(d.y.len(), d.len());
    assert!(d.x.iter().chain(d.y.iter()).all(|v| v.is_finite()));
    match d.task {
        Task::Binary => assert!(d.y.iter().all(|&v| v == 0.0 || v == 1.0)),
        Task::MultiClass(k) => {
            assert!(k > 2);
            assert!(
                d.y.iter()
                    .all(|&v| v.fract() == 0.0 && v >= 0.0 && (v as usize) < k)
            );
        }
        Task::Regression => {}
    }
    let s = Standardizer::fit(&d.x);
    assert_eq!((s.mean.len(), s.std.len()), (d.x.ncols(), d.x.ncols()));
    assert!(s.std.iter().all(|v| *v > 0.0 || v.is_nan()));
    assert_eq!(s.transform(&d.x).dim(), d.x.dim());
    let (train, test) = d.split(0.2, 1);
    assert_eq!(train.len() + test.len(), d.len());
});
