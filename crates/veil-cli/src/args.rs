//! Parsers of numeric options, so that a bad value is refused with the option's name before any
//! work starts (clap reports `invalid value '0' for '--epochs <EPOCHS>': ...`).

use veil_cryptorec::data::RatingScale;

/// A whole number of at least 1.
pub(crate) fn positive(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// A finite number above 0.
pub(crate) fn positive_real(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(_) => Err("must be a finite number above 0".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A finite number of at least 0.
pub(crate) fn non_negative(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if x.is_finite() && x >= 0.0 => Ok(x),
        Ok(_) => Err("must be a finite number of at least 0".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A finite number.
pub(crate) fn finite(text: &str) -> Result<f32, String> {
    match text.parse::<f32>() {
        Ok(x) if x.is_finite() => Ok(x),
        Ok(_) => Err("must be a finite number".into()),
        Err(e) => Err(e.to_string()),
    }
}

/// A rating scale written `MIN:MAX` (for example `1:5` or `0.5:5`).
pub(crate) fn scale(text: &str) -> Result<RatingScale, String> {
    let (lo, hi) = text
        .split_once(':')
        .ok_or_else(|| "expected MIN:MAX, for example 1:5".to_string())?;
    let bound = |s: &str| s.trim().parse::<f32>().map_err(|e| format!("{s:?}: {e}"));
    RatingScale::new(bound(lo)?, bound(hi)?).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(positive("3"), Ok(3));
        assert!(positive("0").is_err() && positive("-1").is_err() && positive("x").is_err());
        assert!(positive_real("0").is_err() && positive_real("NaN").is_err());
        assert_eq!(positive_real("0.5"), Ok(0.5));
        assert!(non_negative("-1").is_err());
        assert_eq!(scale("1:5"), Ok(RatingScale::default()));
        assert!(scale("5:1").is_err() && scale("15").is_err());
    }
}
