//! The Noise channel's cost on the CNN benchmark: training steps and inference of the paper's
//! MNIST CNN with the three parties as threads over loopback TCP, alternately over Noise and over
//! plaintext TCP (so that both see the same machine load), and the median of each.
//!
//! `cargo run --release -p veil-rtas --example channel_overhead -- [rounds] [steps] [infer] [rtas|fast] [both|noise|plain]`
//! (the last argument runs one channel only, for profiling).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use veil_rtas::ProtocolConfig;
use veil_rtas::model::{CnnSpec, Mode, ModelSpec, TrainConfig, synthetic_mnist, train_tcp_local};
use veil_rtas::transport::{Security, TcpOptions};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// CPU seconds of this process so far (all threads: the three parties, their readers), from
/// /proc/self/stat (Linux; 0 elsewhere). Clock ticks are taken as 1/100 s.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the command name.
    (tick(11) + tick(12)) / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, d: &str| args.get(i).cloned().unwrap_or_else(|| d.to_owned());
    let rounds: usize = arg(0, "5").parse().unwrap();
    let steps: usize = arg(1, "50").parse().unwrap();
    let infer: usize = arg(2, "2048").parse().unwrap();
    let mode = if arg(3, "rtas") == "fast" {
        Mode::RtasFast
    } else {
        Mode::Rtas
    };
    let only = arg(4, "both");
    let config = TrainConfig::paper(ModelSpec::Cnn(CnnSpec::mnist()), mode, 1);
    let train = synthetic_mnist(steps * 32, 1);
    let test = synthetic_mnist(infer, 2);
    let mut times = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    let mut traffic = [(0_u64, 0_u64); 2];
    let mut cpu = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, sec) in [Security::Noise, Security::InsecurePlaintext]
            .into_iter()
            .enumerate()
        {
            if only != "both" && only != ["noise", "plain"][i] {
                continue;
            }
            let cpu_before = cpu_seconds();
            let r = train_tcp_local(
                &config,
                &ProtocolConfig::default(),
                &TcpOptions::default(),
                sec,
                &train,
                &test,
            )
            .unwrap();
            cpu[i].push(cpu_seconds() - cpu_before);
            let p0 = &r.parties[0];
            times[i]
                .0
                .push(1e3 * p0.train_seconds / p0.steps.max(1) as f64);
            times[i].1.push(p0.infer_seconds);
            let all = r.parties.iter().fold((0, 0), |(b, m), p| {
                (b + p.stats.bytes_sent, m + p.stats.messages_sent)
            });
            traffic[i] = all;
        }
    }
    let names = ["noise", "plain"];
    let mut med = [(0.0, 0.0); 2];
    for i in 0..2 {
        med[i] = (median(&mut times[i].0), median(&mut times[i].1));
        println!(
            "{:5}: train {:.2} ms/step (median of {rounds}), infer {} images {:.3} s; frames {} \
             ({} bytes, all parties); CPU per run (all threads) {:.2} s",
            names[i],
            med[i].0,
            infer,
            med[i].1,
            traffic[i].1,
            traffic[i].0,
            median(&mut cpu[i])
        );
    }
    // Wire bytes: plaintext adds a 4-byte length per frame; Noise a 4-byte length inside the
    // first message, and 2 + 16 bytes per Noise message of at most 65,519 frame bytes.
    let (bytes, frames) = traffic[1];
    let plain_wire = bytes + 4 * frames;
    let noise_wire_max = bytes + 4 * frames + 18 * (frames + bytes.div_ceil(65_519));
    let (cpu_noise, cpu_plain) = (median(&mut cpu[0]), median(&mut cpu[1]));
    println!("ratio noise/plain: CPU {:.3}", cpu_noise / cpu_plain);
    println!(
        "ratio noise/plain: train {:.3}, infer {:.3}; wire bytes plain {plain_wire}, noise at most \
         {noise_wire_max} (+{:.3}%)",
        med[0].0 / med[1].0,
        med[0].1 / med[1].1,
        100.0 * (noise_wire_max - plain_wire) as f64 / plain_wire as f64
    );
}
