//! Big integers that hold key material: wiped on drop, never printed.

use core::fmt;
use core::ops::Deref;

use rug::Integer;
use zeroize::Zeroize;

/// An [`Integer`] that is overwritten with zeros when dropped and prints as `<redacted>`.
///
/// Only the limbs this value owns when it is dropped are wiped: GMP's temporaries inside an
/// operation and buffers it reallocated earlier are freed without being cleared (see
/// `docs/paillier.md`).
/// No `PartialEq`: GMP's comparison is variable time; compare through `Deref` where a
/// variable-time comparison is acceptable, and say so.
#[derive(Clone, Default)]
pub(crate) struct SecretInteger(Integer);

impl SecretInteger {
    pub(crate) fn new(value: Integer) -> Self {
        SecretInteger(value)
    }
}

impl Deref for SecretInteger {
    type Target = Integer;
    fn deref(&self) -> &Integer {
        &self.0
    }
}

impl fmt::Debug for SecretInteger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Zeroize for SecretInteger {
    fn zeroize(&mut self) {
        wipe_integer(&mut self.0);
    }
}

impl Drop for SecretInteger {
    fn drop(&mut self) {
        self.zeroize();
    }
}

/// Overwrites every limb GMP allocated for `x`, then sets `x` to zero.
#[allow(
    unsafe_code,
    reason = "GMP exposes no safe way to clear an integer's limb buffer"
)]
pub(crate) fn wipe_integer(x: &mut Integer) {
    let raw = x.as_raw_mut();
    // SAFETY: `raw` points to the initialised `mpz_t` owned by `x`, borrowed mutably here. GMP
    // guarantees `d` points to `alloc` limbs it allocated (for `alloc == 0` the slice is empty).
    // Setting `size = 0` leaves a valid representation of zero with the same allocation.
    unsafe {
        let alloc = usize::try_from((*raw).alloc).unwrap_or(0);
        let limbs = core::slice::from_raw_parts_mut((*raw).d.as_ptr(), alloc);
        limbs.zeroize();
        (*raw).size = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wipes_and_redacts() {
        let mut s = SecretInteger::new(Integer::from(0xdead_beef_u64) << 300);
        assert_eq!(format!("{s:?}"), "<redacted>");
        s.zeroize();
        assert_eq!(*s, 0);
    }
}
