//! Polynomials of an encrypted x in [-1, 1] in the Chebyshev basis.
//!
//! - [`chebyshev_basis`]: T_1 .. T_(n-1) of x (T_0 = 1) at depth ceil(log2 (n - 1)), with
//!   T_2k = 2 T_k^2 - 1 and T_2k+1 = 2 T_k T_k+1 - T_1 (n - 2 products).
//! - [`linear_combination`]: c_0 + sum c_k y_k for ciphertexts at any levels and scales, with one
//!   level: each term is multiplied by the integer round(c_k D q / s_k) (D the target scale, q the
//!   prime dropped next, s_k the term's scale), so that after one rescale every term has scale
//!   exactly D.
//! - [`evaluate_chebyshev`]: sum c_i T_i(x) by baby-step giant-step (Paterson and Stockmeyer,
//!   SIAM J. Comput. 1973, in the Chebyshev form of Han and Ki, CT-RSA 2020, sec. 4.2): baby steps
//!   T_1 .. T_(m-1), giant steps T_m, T_2m, T_4m, ..., and p = q T_g + r by
//!   T_i = 2 T_g T_(i-g) - T_(2g-i), recursively.

use rayon::prelude::*;
use veil_ring::{Poly, kernels};

use crate::ciphertext::Ciphertext;
use crate::error::{Error, Result};
use crate::keys::RelinearizationKey;

/// T_1 .. T_(n-1) of the encrypted x (T_0 = 1 is not a ciphertext), for n >= 2. T_k ends at
/// level L - ceil(log2 k) for x at level L.
pub fn chebyshev_basis(
    x: &Ciphertext,
    n: usize,
    rk: &RelinearizationKey,
) -> Result<Vec<Ciphertext>> {
    if n < 2 {
        return Err(Error::Mismatch {
            what: "basis size (need at least 2)",
        });
    }
    let mut t: Vec<Ciphertext> = Vec::with_capacity(n - 1);
    t.push(x.clone());
    for i in 2..n {
        // t[k - 1] holds T_k.
        let get = |k: usize| {
            t.get(k - 1).ok_or(Error::Mismatch {
                what: "basis index",
            })
        };
        let next = if i % 2 == 0 {
            let h = get(i / 2)?;
            h.square()?
                .relinearize(rk)?
                .rescale()?
                .mul_integer(2)
                .add_const(-1.0)?
        } else {
            let (a, b) = (get(i / 2)?, get(i / 2 + 1)?);
            a.mul(b)?
                .relinearize(rk)?
                .rescale()?
                .mul_integer(2)
                .sub(get(1)?)?
        };
        t.push(next);
    }
    Ok(t)
}

/// c_0 + sum_k c_k y_k at the lowest level of the terms minus one, with the scale of the
/// parameters (see the module docs). Needs every term at level >= 1.
pub fn linear_combination(
    terms: &[&Ciphertext],
    coefficients: &[f64],
    constant: f64,
) -> Result<Ciphertext> {
    let Some(first) = terms.first() else {
        return Err(Error::Mismatch {
            what: "empty linear combination",
        });
    };
    let level = terms.iter().map(|t| t.level()).min().unwrap_or(0);
    let out_level = level.checked_sub(1).ok_or(Error::Level {
        level: 0,
        max: first.parameters().max_level(),
    })?;
    linear_combination_to(
        terms,
        coefficients,
        constant,
        out_level,
        first.parameters().scale(),
    )
}

/// [`linear_combination`] landing at a chosen level (below every term's) and scale.
pub fn linear_combination_to(
    terms: &[&Ciphertext],
    coefficients: &[f64],
    constant: f64,
    level: usize,
    scale: f64,
) -> Result<Ciphertext> {
    let Some(first) = terms.first() else {
        return Err(Error::Mismatch {
            what: "empty linear combination",
        });
    };
    if terms.len() != coefficients.len() {
        return Err(Error::Mismatch {
            what: "number of terms and coefficients",
        });
    }
    let params = first.parameters().clone();
    let work = level + 1;
    if terms.iter().any(|t| t.level() < work) {
        return Err(Error::Level {
            level: work,
            max: terms.iter().map(|t| t.level()).min().unwrap_or(0),
        });
    }
    let q = *params.moduli().get(work).ok_or(Error::Level {
        level: work,
        max: params.max_level(),
    })? as f64;
    // The integer factor of each term, then one fused multiply-accumulate per limb (no copies:
    // limb j of a term above `work` is already its residue mod q_j).
    let mut chosen: Vec<(&Ciphertext, i64)> = Vec::with_capacity(terms.len());
    for (t, &c) in terms.iter().zip(coefficients) {
        if !c.is_finite() {
            return Err(Error::Encoding {
                reason: "a coefficient is not finite",
            });
        }
        let factor = (c * scale * q / t.scale()).round();
        if factor.abs() >= 4.6e18 {
            return Err(Error::Encoding {
                reason: "a coefficient times the scale does not fit 62 bits",
            });
        }
        if factor != 0.0 {
            chosen.push((t, factor as i64));
        }
    }
    let ctx = params.level(work)?.ctx.clone();
    let n = ctx.degree();
    let parts = chosen.iter().map(|(t, _)| t.c.len()).max().unwrap_or(2);
    let c = (0..parts)
        .map(|part| {
            let mut data = vec![0u64; ctx.moduli().len() * n];
            data.par_chunks_mut(n)
                .zip(ctx.moduli().par_iter())
                .enumerate()
                .try_for_each(|(j, (out, qj))| {
                    let (xs, cs): (Vec<&[u64]>, Vec<u64>) = chosen
                        .iter()
                        .filter_map(|(t, f)| t.c.get(part).map(|p| (p.limb(j), qj.reduce_i64(*f))))
                        .unzip();
                    kernels::sum_of_scaled(qj, &xs, &cs, qj.bits(), out)
                })?;
            Ok(Poly::from_residues(&ctx, data)?)
        })
        .collect::<Result<Vec<_>>>()?;
    let acc = Ciphertext {
        params: params.clone(),
        level: work,
        scale: scale * q,
        c,
    };
    let mut out = acc.add_const(constant)?.rescale()?;
    out.scale = scale;
    Ok(out)
}

/// sum_i c_i T_i(x) for the encrypted x in [-1, 1] and real coefficients c_0 .. c_d, by
/// baby-step giant-step over the Chebyshev basis (see the module docs).
pub fn evaluate_chebyshev(
    x: &Ciphertext,
    coefficients: &[f64],
    rk: &RelinearizationKey,
) -> Result<Ciphertext> {
    let degree = coefficients.len().saturating_sub(1);
    if degree == 0 {
        return Err(Error::Mismatch {
            what: "polynomial degree (need at least 1)",
        });
    }
    // Baby steps T_1 .. T_(m-1) with m ~ sqrt(2 d), a power of two; giant steps T_m, T_2m, ...
    let m = ((2 * degree) as f64).sqrt().ceil().max(2.0) as usize;
    let m = m.next_power_of_two().min((degree + 1).next_power_of_two());
    let baby = chebyshev_basis(x, m.max(2), rk)?;
    let mut giants: Vec<Ciphertext> = Vec::new();
    if m <= degree {
        let t_m = chebyshev_giant(&baby, m, rk)?;
        giants.push(t_m);
        while let Some(last) = giants.last() {
            let g = m << giants.len();
            if g > degree {
                break;
            }
            let next = last
                .square()?
                .relinearize(rk)?
                .rescale()?
                .mul_integer(2)
                .add_const(-1.0)?;
            giants.push(next);
        }
    }
    evaluate_recursive(coefficients, &baby, &giants, m, rk, None)
}

/// T_m = 2 T_(m/2)^2 - 1 from the baby steps (m a power of two, m/2 < m among them).
fn chebyshev_giant(baby: &[Ciphertext], m: usize, rk: &RelinearizationKey) -> Result<Ciphertext> {
    let half = baby
        .get(m / 2 - 1)
        .ok_or(Error::Mismatch { what: "baby steps" })?;
    half.square()?
        .relinearize(rk)?
        .rescale()?
        .mul_integer(2)
        .add_const(-1.0)
}

/// a + b when their levels or scales differ in a way the automatic alignment cannot fix (same
/// level, different scales): both are brought one level down to the default scale.
fn add_aligned(a: &Ciphertext, b: &Ciphertext) -> Result<Ciphertext> {
    match a.add(b) {
        Err(Error::ScaleMismatch { .. }) if a.level() == b.level() && a.level() > 0 => {
            let (l, s) = (a.level() - 1, a.parameters().scale());
            a.align_to(l, s)?.add(&b.align_to(l, s)?)
        }
        other => other,
    }
}

/// Evaluates sum c_i T_i; with a `target` (level, scale), the low-degree part lands there directly
/// so that the final additions need no alignment.
fn evaluate_recursive(
    c: &[f64],
    baby: &[Ciphertext],
    giants: &[Ciphertext],
    m: usize,
    rk: &RelinearizationKey,
    target: Option<(usize, f64)>,
) -> Result<Ciphertext> {
    let degree = c.len().saturating_sub(1);
    if degree < m {
        let terms: Vec<&Ciphertext> = baby.iter().take(degree).collect();
        let (lin, constant) = (c.get(1..).unwrap_or(&[]), c.first().copied().unwrap_or(0.0));
        if let Some((level, scale)) = target {
            if let Ok(v) = linear_combination_to(&terms, lin, constant, level, scale) {
                return Ok(v);
            }
        }
        return linear_combination(&terms, lin, constant);
    }
    // The largest giant step g = m 2^j <= degree.
    let j = giants
        .iter()
        .enumerate()
        .rev()
        .find(|(j, _)| m << j <= degree)
        .map(|(j, _)| j)
        .ok_or(Error::Mismatch {
            what: "giant steps",
        })?;
    let g = m << j;
    // p = q T_g + r: T_g = T_g T_0; T_i = 2 T_g T_(i-g) - T_(2g-i) for g < i < 2g.
    let mut q = vec![0.0; degree - g + 1];
    let mut r: Vec<f64> = c.iter().take(g).copied().collect();
    for (i, &ci) in c.iter().enumerate().skip(g) {
        if i == g {
            q[0] += ci;
        } else {
            q[i - g] += 2.0 * ci;
            r[2 * g - i] -= ci;
        }
    }
    let giant = giants.get(j).ok_or(Error::Mismatch {
        what: "giant steps",
    })?;
    let top = match q.as_slice() {
        [only] => giant.mul_const_rescale(*only)?,
        _ => {
            let qv = evaluate_recursive(&q, baby, giants, m, rk, None)?;
            qv.mul(giant)?.relinearize(rk)?.rescale()?
        }
    };
    let rv = evaluate_recursive(&r, baby, giants, m, rk, Some((top.level(), top.scale())))?;
    add_aligned(&top, &rv)
}
