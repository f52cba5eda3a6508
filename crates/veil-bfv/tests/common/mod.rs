//! Helpers shared by the veil-bfv integration tests.
#![allow(dead_code, unreachable_pub)]

/// x mod t in the centered range (-t/2, t/2], as the signed slot decoder returns it.
pub fn modt(x: i128, t: u64) -> i64 {
    let t = i128::from(t);
    let r = x.rem_euclid(t);
    (if r > t / 2 { r - t } else { r }) as i64
}
