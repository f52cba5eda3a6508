//! `veil ive bench --digits` and `veil ive fasttext --digits`: IVE with the index split into
//! digits (veil_ive::digits), per-phase wall and CPU tables.

use std::time::Instant;

use veil_ive::DigitBasis;
use veil_ive::bfv::BfvClient;
use veil_ive::fasttext::digits::{
    DigitFastTextServer, DigitInferenceTimings, cheapest_basis, encrypted_scores_digits,
};
use veil_ive::measure::{measure_digits, preset_for, setup};

use super::{BenchArgs, FasttextArgs, fail, ive_err, ms};
use crate::io::CliResult;
use crate::progress::Progress;

pub(super) fn bench_digits(a: &BenchArgs) -> CliResult<()> {
    let n = a.n.unwrap_or(32768);
    let params = preset_for(n).map_err(ive_err)?;
    let t = params.plaintext();
    let progress = Progress::spinner();
    say!(
        "IVE with digit decomposition over BFV, N = {}, t = {}, log Q = {}; every output slot checked; amortized = latency / N lookups; vector gen. = per-digit power vectors; digit comb. = outer one-hot + digit products",
        n,
        params.plaintext_modulus(),
        params.ciphertext_context().modulus_bits()
    )?;
    say!()?;
    say!(
        "| p | d | digits | products | depth | power vectors (s) | digit one-hot (s) | change of basis (s) | digit products (s) | finishing (s) | latency (s) | CPU (s) | amortized (ms) | amortized CPU (ms) | CPU share: power vectors / + digit comb. | vs 1 digit (CPU) |"
    )?;
    say!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")?;
    for &p in &a.p {
        progress.stage(&format!("keys for p = {p}"));
        let (client, server) = setup(&params, p).map_err(ive_err)?;
        let max_depth = (0..=40u32)
            .rev()
            .find(|&d| server.fits_depth(d).is_ok())
            .unwrap_or(0);
        for &d in &a.d {
            let mut single_cpu = None;
            for &k in &a.digits {
                let sizes = if a.split.len() == k {
                    a.split.clone()
                } else {
                    match DigitBasis::cheapest(p, d, k, max_depth, t) {
                        Ok(b) => b.sizes(),
                        Err(e) => {
                            say!(
                                "| {p} | {d} | {k}: no split fits (max depth {max_depth}: {e}) | | | | | | | | | | | | | |"
                            )?;
                            continue;
                        }
                    }
                };
                let label = sizes
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" x ");
                let cost = veil_ive::digits::cost_of(&sizes, d);
                if cost.planned_depth > max_depth {
                    say!(
                        "| {p} | {d} | {label} | {} | {} | does not fit: planned depth {} > {max_depth} | | | | | | | | | | |",
                        cost.products(),
                        cost.depth,
                        cost.planned_depth
                    )?;
                    continue;
                }
                progress.stage(&format!("p = {p}, d = {d}, digits {label}"));
                let r = measure_digits(&client, &server, &sizes, d, a.seed).map_err(ive_err)?;
                let cpu = r.cpu.map(|c| c.as_secs_f64());
                let ratio = match (k, single_cpu, cpu) {
                    (1, _, _) => String::new(),
                    (_, Some(s), Some(c)) => format!("{:.2}x faster", s / c),
                    _ => String::new(),
                };
                if k == 1 {
                    single_cpu = cpu;
                }
                let tm = r.timings.wall;
                let c = r.timings.cpu;
                let share = |x: std::time::Duration| {
                    100.0 * x.as_secs_f64() / c.total().as_secs_f64().max(f64::MIN_POSITIVE)
                };
                say!(
                    "| {p} | {d} | {label} | {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.3} | {} | {:.1}% / {:.1}% | {ratio} |",
                    r.cost.products(),
                    r.cost.depth,
                    tm.power_vectors.as_secs_f64(),
                    tm.digit_onehot.as_secs_f64(),
                    tm.change_of_basis.as_secs_f64(),
                    tm.digit_products.as_secs_f64(),
                    tm.finishing.as_secs_f64(),
                    tm.total().as_secs_f64(),
                    cpu.map_or("-".into(), |c| format!("{c:.1}")),
                    ms(r.amortized()),
                    cpu.map_or("-".into(), |c| format!("{:.3}", 1000.0 * c / n as f64)),
                    share(c.power_vectors),
                    share(c.power_vectors + c.digit_onehot + c.digit_products),
                )?;
            }
        }
    }
    progress.finish();
    Ok(())
}

/// One encrypted FastText run with digit lookups.
pub(super) struct DigitRun<'a> {
    pub(super) a: &'a FasttextArgs,
    pub(super) client: &'a BfvClient,
    pub(super) quantized: &'a veil_ive::fasttext::QuantizedModel,
    pub(super) tokens: &'a [Vec<usize>],
    pub(super) progress: &'a Progress,
}

impl DigitRun<'_> {
    pub(super) fn scores(&self) -> CliResult<(Vec<i64>, DigitInferenceTimings, Vec<usize>, f64)> {
        let params = self.client.parameters();
        let basis = if self.a.split.is_empty() {
            cheapest_basis(params, self.quantized, self.a.digits, self.a.fold)
        } else {
            DigitBasis::new(&self.a.split, params.plaintext())
        }
        .map_err(ive_err)?;
        if basis.rows() != self.a.buckets {
            return Err(fail("--split must multiply to --buckets"));
        }
        let server = DigitFastTextServer::new(self.client, self.quantized, &basis, self.a.fold)
            .map_err(ive_err)?;
        let start = Instant::now();
        let (scores, timings) =
            encrypted_scores_digits(self.client, &server, &basis, self.tokens, |done, total| {
                self.progress.stage(&format!(
                    "encrypted inference (digits {:?}): query {done}/{total}",
                    basis.sizes()
                ));
            })
            .map_err(ive_err)?;
        Ok((
            scores,
            timings,
            basis.sizes(),
            start.elapsed().as_secs_f64(),
        ))
    }
}

#[allow(clippy::too_many_arguments)]
pub(super) fn report_digits(
    client: &BfvClient,
    quantized: &veil_ive::fasttext::QuantizedModel,
    sizes: &[usize],
    a: &FasttextArgs,
    rows: [(&str, veil_ive::fasttext::Metrics); 3],
    exact: bool,
    timings: &DigitInferenceTimings,
    wall: f64,
) -> CliResult<()> {
    let params = client.parameters();
    let cols = if a.fold { 1 } else { a.dim + 1 };
    let cost = veil_ive::digits::cost_of(sizes, cols);
    say!(
        "BFV: N = {}, t = {} ({} bits, |z_q| <= {} < t/2), log Q = {}; load average at the end: {}",
        params.degree(),
        params.plaintext_modulus(),
        64 - params.plaintext_modulus().leading_zeros(),
        quantized.score_bound(veil_ive::fasttext::MAX_TOKENS),
        params.ciphertext_context().modulus_bits(),
        std::fs::read_to_string("/proc/loadavg")
            .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
            .unwrap_or_else(|_| "-".into())
    )?;
    say!(
        "digits {} (inner first), {} lookup columns ({}): {} products per query group (power vectors {}, outer one-hot {}, digit products {}), depth {}",
        sizes
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" x "),
        cols,
        if a.fold {
            "linear layer folded into the table"
        } else {
            "d embedding columns + token count"
        },
        cost.products(),
        cost.power_products,
        cost.onehot_products,
        cost.digit_products,
        cost.depth
    )?;
    say!()?;
    say!("| model | accuracy | F1 (spam) |")?;
    say!("|---|---|---|")?;
    for (name, m) in rows {
        say!("| {name} | {:.4} | {:.4} |", m.accuracy, m.f1)?;
    }
    say!()?;
    say!(
        "encrypted scores equal the quantized model's exactly: {}",
        if exact { "yes" } else { "NO" }
    )?;
    say!(
        "server time for {} query groups ({} ciphertexts each), wall {:.1} s with client work:",
        timings.queries,
        sizes.len(),
        wall
    )?;
    say!()?;
    say!("| phase | wall (s) | wall share | CPU (s) | CPU share |")?;
    say!("|---|---|---|---|---|")?;
    let (w, c) = (timings.lookup.wall, timings.lookup.cpu);
    let (wt, ct) = (
        timings.total().as_secs_f64().max(f64::MIN_POSITIVE),
        timings.total_cpu().as_secs_f64().max(f64::MIN_POSITIVE),
    );
    for (name, wd, cd) in [
        (
            "power vectors (per digit)",
            w.power_vectors,
            c.power_vectors,
        ),
        ("outer digits' one-hot", w.digit_onehot, c.digit_onehot),
        (
            "digit products (+ relinearizations, sums)",
            w.digit_products,
            c.digit_products,
        ),
        (
            "change of basis (plaintext multiply-accumulate)",
            w.change_of_basis,
            c.change_of_basis,
        ),
        (
            "linear layer, sums, mask, reply",
            timings.rest,
            timings.rest_cpu,
        ),
    ] {
        say!(
            "| {name} | {:.1} | {:.1}% | {:.1} | {:.1}% |",
            wd.as_secs_f64(),
            100.0 * wd.as_secs_f64() / wt,
            cd.as_secs_f64(),
            100.0 * cd.as_secs_f64() / ct
        )?;
    }
    say!("| total | {wt:.1} | 100% | {ct:.1} | 100% |")?;
    say!()?;
    let gen_w = (w.power_vectors + w.digit_onehot + w.digit_products).as_secs_f64();
    let gen_c = (c.power_vectors + c.digit_onehot + c.digit_products).as_secs_f64();
    say!(
        "vector generation share: power vectors only {:.1}% (CPU {:.1}%); with the digit combination (one-hot + digit products) {:.1}% (CPU {:.1}%)",
        100.0 * w.power_vectors.as_secs_f64() / wt,
        100.0 * c.power_vectors.as_secs_f64() / ct,
        100.0 * gen_w / wt,
        100.0 * gen_c / ct
    )?;
    Ok(())
}
