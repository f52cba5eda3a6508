//! Exact change of basis modulo a prime t: the number-theoretic DFT (nodes w^i, w a primitive
//! p-th root of unity) and polynomial interpolation at arbitrary distinct nodes (the exact
//! inverse of a Vandermonde matrix).
//!
//! With monomials f_k(x) = x^k at nodes x_0..x_(p-1), B\[k\]\[i\] = x_i^k and row j of M = E^T B^-1
//! holds the coefficients of the polynomial of degree < p through (x_i, E\[i\]\[j\]) (DESIGN.md, IVE,
//! "Exact arithmetic"). For x_i = w^i, B is the DFT matrix and B^-1 = p^-1 B(w^-1).
//! All functions are variable time in public data only (table entries and public nodes).

use veil_ring::Modulus;

use crate::error::{Error, Result};

/// An element of order exactly `p` in Z_t^* (t prime), found deterministically: the first
/// g = 2, 3, ... with w = g^((t-1)/p) of order p (w^(p/r) != 1 for every prime r dividing p).
pub fn primitive_root_of_unity(t: &Modulus, p: usize) -> Result<u64> {
    let tv = t.value();
    let p64 = p as u64;
    if p < 2 || (tv - 1) % p64 != 0 {
        return Err(Error::InvalidConfig {
            reason: "a primitive p-th root of unity mod t needs p >= 2 dividing t - 1",
        });
    }
    let factors = prime_factors(p64);
    let cofactor = (tv - 1) / p64;
    for g in 2..tv.min(1 << 20) {
        let w = t.pow(g, cofactor);
        if factors.iter().all(|&r| t.pow(w, p64 / r) != 1) {
            return Ok(w);
        }
    }
    Err(Error::InvalidConfig {
        reason: "no primitive p-th root of unity found (is t prime?)",
    })
}

/// The distinct prime factors of n, by trial division (n is a table size, small).
fn prime_factors(mut n: u64) -> Vec<u64> {
    let mut out = Vec::new();
    let mut r = 2;
    while r * r <= n {
        if n % r == 0 {
            out.push(r);
            while n % r == 0 {
                n /= r;
            }
        }
        r += 1;
    }
    if n > 1 {
        out.push(n);
    }
    out
}

/// In place: y_k = sum_i a_i root^(i k) mod t, for any length (radix-2 Cooley-Tukey when the
/// length is a power of two, O(p log p); the direct sum otherwise, O(p^2)). `root` must have
/// order exactly `a.len()`.
pub fn dft(a: &mut [u64], root: u64, t: &Modulus) {
    let p = a.len();
    if p.is_power_of_two() {
        dft_radix2(a, root, t);
    } else {
        let input = a.to_vec();
        let mut wk = 1u64; // root^k
        for y in a.iter_mut() {
            let mut acc = 0u64;
            let mut w = 1u64; // root^(i k)
            for &x in &input {
                acc = t.add(acc, t.mul(x, w));
                w = t.mul(w, wk);
            }
            *y = acc;
            wk = t.mul(wk, root);
        }
    }
}

/// Iterative radix-2 decimation-in-time DFT with natural-order input and output.
fn dft_radix2(a: &mut [u64], root: u64, t: &Modulus) {
    let p = a.len();
    if p < 2 {
        return;
    }
    let bits = p.trailing_zeros();
    for i in 0..p {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            a.swap(i, j);
        }
    }
    let mut len = 2;
    while len <= p {
        // w_len = root^(p / len) has order len.
        let w_len = t.pow(root, (p / len) as u64);
        for chunk in a.chunks_mut(len) {
            let (lo, hi) = chunk.split_at_mut(len / 2);
            let mut w = 1u64;
            for (x, y) in lo.iter_mut().zip(hi.iter_mut()) {
                let v = t.mul(*y, w);
                let u = *x;
                *x = t.add(u, v);
                *y = t.sub(u, v);
                w = t.mul(w, w_len);
            }
        }
        len <<= 1;
    }
}

/// Coefficients c_0..c_(p-1) of the polynomial of degree < p with P(x_i) = y_i, for distinct
/// nodes x_i mod t (Newton's divided differences, then expansion to monomials; O(p^2)). This is
/// B^-1 y for the Vandermonde B\[k\]\[i\] = x_i^k, computed exactly.
pub fn interpolate(nodes: &[u64], values: &[u64], t: &Modulus) -> Result<Vec<u64>> {
    let p = nodes.len();
    if values.len() != p {
        return Err(Error::Mismatch {
            what: "interpolation values",
            got: values.len(),
            expected: p,
        });
    }
    // Divided differences in place: dd[i] = f[x_0, ..., x_i].
    let mut dd = values.to_vec();
    for level in 1..p {
        for i in (level..p).rev() {
            let (Some(&xi), Some(&xj)) = (nodes.get(i), nodes.get(i - level)) else {
                continue;
            };
            let inv = t.inv(t.sub(xi, xj)).ok_or(Error::InvalidConfig {
                reason: "interpolation nodes must be distinct mod t",
            })?;
            let (Some(&hi), Some(&lo)) = (dd.get(i), dd.get(i - 1)) else {
                continue;
            };
            if let Some(slot) = dd.get_mut(i) {
                *slot = t.mul(t.sub(hi, lo), inv);
            }
        }
    }
    // Horner on the Newton form: P = dd_0 + (x - x_0)(dd_1 + (x - x_1)(dd_2 + ...)).
    let mut coeffs = vec![0u64; p];
    for i in (0..p).rev() {
        // coeffs <- coeffs * (x - x_i) + dd_i, with deg(coeffs) < p - i - 1 before the step.
        let xi = nodes.get(i).copied().unwrap_or(0);
        let mut carry = 0u64;
        for c in coeffs.iter_mut() {
            let next = *c;
            *c = t.sub(carry, t.mul(next, xi));
            carry = next;
        }
        if let Some(c0) = coeffs.first_mut() {
            *c0 = t.add(*c0, dd.get(i).copied().unwrap_or(0));
        }
    }
    Ok(coeffs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T: u64 = 12289; // 3 * 2^12 + 1

    fn eval(coeffs: &[u64], x: u64, t: &Modulus) -> u64 {
        coeffs
            .iter()
            .rev()
            .fold(0, |acc, &c| t.add(t.mul(acc, x), c))
    }

    #[test]
    fn roots_have_exact_order() {
        let t = Modulus::new(T).unwrap();
        for p in [2usize, 3, 4, 6, 12, 16, 64, 4096] {
            let w = primitive_root_of_unity(&t, p).unwrap();
            assert_eq!(t.pow(w, p as u64), 1);
            for k in 1..p as u64 {
                if p as u64 % k == 0 {
                    assert_ne!(t.pow(w, k), 1, "p = {p}, k = {k}");
                }
            }
        }
        assert!(primitive_root_of_unity(&t, 5).is_err());
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn dft_matches_the_direct_sum(log_p in 0u32..8, extra3 in any::<bool>(), seed in any::<u64>()) {
            let t = Modulus::new(T).unwrap();
            let p = (1usize << log_p) * if extra3 { 3 } else { 1 };
            let w = if p == 1 { 1 } else { primitive_root_of_unity(&t, p).unwrap() };
            let a: Vec<u64> = (0..p as u64).map(|i| (i.wrapping_mul(seed | 1) >> 7) % T).collect();
            let mut fast = a.clone();
            dft(&mut fast, w, &t);
            for (k, &y) in fast.iter().enumerate() {
                let direct = a.iter().enumerate().fold(0, |acc, (i, &x)| {
                    t.add(acc, t.mul(x, t.pow(w, (i * k) as u64)))
                });
                prop_assert_eq!(y, direct);
            }
        }

        #[test]
        fn interpolation_passes_through_every_node(p in 1usize..40, seed in any::<u64>()) {
            let t = Modulus::new(T).unwrap();
            let nodes: Vec<u64> = (0..p as u64).map(|i| (i * 97 + seed % 1000) % T).collect();
            let values: Vec<u64> = (0..p as u64).map(|i| (i * i * 31 + seed) % T).collect();
            let c = interpolate(&nodes, &values, &t).unwrap();
            prop_assert_eq!(c.len(), p);
            for (&x, &y) in nodes.iter().zip(&values) {
                prop_assert_eq!(eval(&c, x, &t), y);
            }
        }
    }

    #[test]
    fn repeated_nodes_are_refused() {
        let t = Modulus::new(T).unwrap();
        assert!(interpolate(&[1, 2, 1], &[0, 0, 0], &t).is_err());
    }
}
