//! Which instruction set the kernels run on, detected once at run time.
//!
//! | [`Isa`]          | needs (CPUID)                    | moduli it applies to | lanes            |
//! | ---------------- | -------------------------------- | -------------------- | ---------------- |
//! | `Scalar`         | nothing                          | q < 2^62             | 1, 64x64->128    |
//! | `Avx2`           | AVX2                             | q < 2^61 (NTT)       | 4 x 64 bit       |
//! | `Avx512`         | AVX-512 F, DQ                    | q < 2^62             | 8 x 64 bit       |
//! | `Avx512Ifma`     | AVX-512 F, DQ, IFMA52            | q < 2^50             | 8 x 52-bit FMA   |
//!
//! The scalar path is the reference: every vector kernel is tested to give the same words, bit for
//! bit (`kernels` and `ntt` tests). A modulus of 2^50 or more runs the 64-bit-lane kernels even
//! on an IFMA machine. `Avx2` covers the NTT (the element-wise kernels stay scalar there). Set `VEIL_RING_ISA=scalar` (or `avx512`) in the environment to cap the
//! choice, for example to test the scalar path on a machine that has AVX-512; the variable is read
//! once, on first use.

use std::sync::OnceLock;

/// Largest modulus (exclusive) that the IFMA52 kernels take: lazy values up to 4q must fit 52 bits.
pub const IFMA_MODULUS_BOUND: u64 = 1 << 50;

/// An instruction set for the modular-arithmetic and NTT kernels, from slowest to fastest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Isa {
    /// Portable 64-bit code: the reference every other kernel is tested against.
    Scalar,
    /// AVX2, four 64-bit lanes, 64x64-bit high and low products emulated with 32-bit ones (NTT).
    Avx2,
    /// AVX-512 F and DQ, eight 64-bit lanes, 64x64-bit high products emulated with 32-bit ones.
    Avx512,
    /// AVX-512 IFMA52: eight lanes of exact 52x52-bit products (Harvey's butterflies with
    /// beta = 2^52), for q < 2^50.
    Avx512Ifma,
}

impl Isa {
    /// Name used in benchmark ids and by `VEIL_RING_ISA`.
    pub fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Avx512Ifma => "ifma",
        }
    }

    /// Whether this CPU can run the kernels of `self`.
    pub fn is_supported(self) -> bool {
        match self {
            Isa::Scalar => true,
            Isa::Avx2 => cpu_has_avx2(),
            Isa::Avx512 => cpu_has_avx512(),
            Isa::Avx512Ifma => cpu_has_avx512() && cpu_has_ifma(),
        }
    }

    /// The fastest supported instruction set, capped by `VEIL_RING_ISA` if set (detected once).
    pub fn detected() -> Isa {
        static DETECTED: OnceLock<Isa> = OnceLock::new();
        *DETECTED.get_or_init(|| {
            let best = [Isa::Avx512Ifma, Isa::Avx512, Isa::Avx2, Isa::Scalar]
                .into_iter()
                .find(|isa| isa.is_supported())
                .unwrap_or(Isa::Scalar);
            let cap = std::env::var("VEIL_RING_ISA")
                .ok()
                .and_then(|v| Isa::from_name(v.trim()));
            cap.map_or(best, |c| c.min(best))
        })
    }

    /// The instruction set from its [`name`](Isa::name).
    pub fn from_name(name: &str) -> Option<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Ifma]
            .into_iter()
            .find(|isa| isa.name() == name)
    }

    /// What the kernels for modulus q use when `self` is the best available: IFMA only below
    /// [`IFMA_MODULUS_BOUND`], AVX2 only below 2^61.
    pub fn for_modulus(self, q: u64) -> Isa {
        match self {
            Isa::Avx512Ifma if q >= IFMA_MODULUS_BOUND => Isa::Avx512,
            Isa::Avx2 if q >= 1 << 61 => Isa::Scalar,
            other => other,
        }
    }

    /// Every instruction set this CPU supports, slowest first (for tests and benchmarks).
    pub fn all_supported() -> Vec<Isa> {
        [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Ifma]
            .into_iter()
            .filter(|isa| isa.is_supported())
            .collect()
    }
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_avx512() -> bool {
    std::arch::is_x86_feature_detected!("avx512f")
        && std::arch::is_x86_feature_detected!("avx512dq")
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_avx2() -> bool {
    std::arch::is_x86_feature_detected!("avx2")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx2() -> bool {
    false
}

#[cfg(target_arch = "x86_64")]
fn cpu_has_ifma() -> bool {
    std::arch::is_x86_feature_detected!("avx512ifma")
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_avx512() -> bool {
    false
}

#[cfg(not(target_arch = "x86_64"))]
fn cpu_has_ifma() -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_scalar_is_always_there() {
        for isa in [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Avx512Ifma] {
            assert_eq!(Isa::from_name(isa.name()), Some(isa));
        }
        assert!(Isa::Scalar.is_supported());
        assert!(Isa::all_supported().contains(&Isa::detected()));
        assert_eq!(Isa::Avx512Ifma.for_modulus(1 << 50), Isa::Avx512);
        assert_eq!(Isa::Avx512Ifma.for_modulus((1 << 50) - 1), Isa::Avx512Ifma);
        assert_eq!(Isa::Scalar.for_modulus(3), Isa::Scalar);
        assert_eq!(Isa::Avx2.for_modulus(1 << 61), Isa::Scalar);
    }
}
