//! veil-rtas: the digits CSV (`parse_digits`, what `load_digits` and `veil rtas --data` read).
//! A file that parses has 64 finite pixels per image and a digit per label.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_rtas::model::parse_digits;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(d) = parse_digits(&text, "fuzz") {
        assert_eq!(d.x.ncols(), 64);
        assert_eq!(d.x.nrows(), d.labels.len());
        assert!(d.x.iter().all(|v| v.is_finite()));
        assert!(d.labels.iter().all(|&l| l <= 9));
    }
});
