//! `veil cryptorec loadtest`: many concurrent clients against a `veil cryptorec serve` process
//! on loopback, every answer checked against the plaintext integer model.
//!
//! The server runs as a child process (or at `--server`, with `--server-pid` for its memory),
//! so that its resident memory can be sampled alone. Queries are encrypted before the timed
//! window (a few keys, a few users each) and answers are decrypted and checked after it, so
//! that during the window the clients only send and receive and the server has the cores; the
//! server does the whole computation for every request. `--scheme bfv` (and `--mode
//! accurate`) run the lattice modes: each key set is uploaded once before the window and every
//! client connection names it by its id (re-uploading after `UnknownKey`, counted), as clients
//! behind a load balancer would.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use clap::Args;
use serde_json::json;
use veil_cryptorec::fast::{Randomness, encrypt_query};
use veil_cryptorec::finetune::FineTune;
use veil_cryptorec::lattice::{AccurateClient, AccurateState, FastClient};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel};
use veil_cryptorec::service::{
    Client, ClientOptions, ServiceId, UploadedKeys, decrypt_answer, encode_request_proving,
};
use veil_paillier::{KeyGenerator, PrivateKey};

use crate::args::{non_negative, positive};
use crate::cryptorec_net::{Mode, Scheme};
use crate::io::{CliError, CliResult};
use crate::paillier::key_bits;

#[derive(Args)]
pub(crate) struct LoadtestArgs {
    /// Model file (the server's; the expected answers are computed from it in the clear).
    #[arg(
        long,
        required_unless_present = "synthetic",
        conflicts_with = "synthetic"
    )]
    model: Option<PathBuf>,
    /// Instead of `--model`: a random model of this shape, ITEMSxDIM (e.g. 3952x500 for
    /// MovieLens 1M), weights uniform in +-0.1 and biases in +-0.5 as trained models have, from
    /// a fixed seed; written to a temporary file for the child server.
    #[arg(long, value_name = "ITEMSxDIM", value_parser = shape)]
    synthetic: Option<(usize, usize)>,
    /// Concurrent clients, one connection each.
    #[arg(long, default_value_t = 32, value_parser = positive)]
    clients: usize,
    /// Length of the timed window in seconds.
    #[arg(long, default_value_t = 60, value_parser = positive)]
    seconds: usize,
    /// An already running server (default: start `veil cryptorec serve` on a free loopback
    /// port as a child process).
    #[arg(long)]
    server: Option<String>,
    /// Process id of `--server`, to sample its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Compute workers of the child server (default: the number of cores).
    #[arg(long, value_parser = positive)]
    workers: Option<usize>,
    /// Threads one query may use inside the child server (`serve --threads-per-worker`): 1 makes the
    /// worker pool the only parallelism.
    #[arg(long, default_value_t = 1, value_parser = positive)]
    threads_per_query: usize,
    /// The protocol.
    #[arg(long, value_enum, default_value_t = Mode::Fast)]
    mode: Mode,
    /// The scheme (default: paillier for the fast mode, ckks for the accurate mode).
    #[arg(long, value_enum)]
    scheme: Option<Scheme>,
    /// Ring degree of the child server's BFV fast mode.
    #[arg(long, default_value_t = 16384, value_parser = positive)]
    lattice_degree: usize,
    /// Lattice parameters below 128-bit security (small degrees: tests only).
    #[arg(long)]
    allow_below_128_bit_security: bool,
    /// lambda of the accurate mode's step (passed to the child server; answers are checked
    /// against the plaintext step with it).
    #[arg(long, default_value_t = TrainConfig::default().lambda, value_parser = non_negative)]
    lambda: f32,
    /// Megabytes of evaluation keys the child server keeps.
    #[arg(long, default_value_t = 2048, value_parser = positive)]
    key_memory_mb: usize,
    /// Client Paillier key size.
    #[arg(long, default_value_t = 2048, value_parser = key_bits)]
    bits: u32,
    /// Distinct client keys (each with its own users' queries).
    #[arg(long, default_value_t = 4, value_parser = positive)]
    keys: usize,
    /// Users (distinct queries) per key.
    #[arg(long, default_value_t = 2, value_parser = positive)]
    users_per_key: usize,
    /// Sequential requests timed alone before the load, for one request's time.
    #[arg(long, default_value_t = 5, value_parser = positive)]
    single: usize,
    /// Print the figures as JSON.
    #[arg(long)]
    json: bool,
}

/// One prepared request: which key, the encoded body, what the answer must decode to.
struct Prepared {
    key: usize,
    body: Vec<u8>,
    expected: Expected,
}

/// The answer a request must decode to.
enum Expected {
    /// Exactly these integers (fast modes: `QuantizedModel::predict_integers`).
    Integers(Vec<i128>),
    /// The plaintext step's predictions, within [`ACCURATE_TOLERANCE`] (accurate mode).
    Step(AccurateState, Vec<f32>),
}

/// Largest difference accepted between an accurate-mode answer and the plaintext step.
const ACCURATE_TOLERANCE: f64 = 2e-3;

/// The clients' secrets, by scheme (used before and after the window only).
enum Keyring {
    Paillier(Vec<PrivateKey>),
    Bfv(Vec<FastClient>),
    Accurate(Vec<AccurateClient>),
}

impl Keyring {
    /// True when `answer` decodes to what `p` expects.
    fn check(
        &self,
        p: &Prepared,
        answer: &[u8],
        params: &veil_cryptorec::quant::PublicParams,
    ) -> bool {
        match (self, &p.expected) {
            (Keyring::Paillier(keys), Expected::Integers(want)) => {
                decrypt_answer(&keys[p.key], params, answer).is_ok_and(|v| &v == want)
            }
            (Keyring::Bfv(clients), Expected::Integers(want)) => clients[p.key]
                .decode_integers(answer)
                .is_ok_and(|v| &v == want),
            (Keyring::Accurate(clients), Expected::Step(state, want)) => {
                clients[p.key].decode(state, answer).is_ok_and(|v| {
                    v.len() == want.len()
                        && v.iter()
                            .zip(want)
                            .all(|(a, b)| f64::from(a - b).abs() < ACCURATE_TOLERANCE)
                })
            }
            _ => false,
        }
    }
}

/// One request of the window on a connection.
fn send(
    client: &mut Client,
    service: ServiceId,
    uploaded: &[UploadedKeys],
    p: &Prepared,
) -> veil_cryptorec::Result<Vec<u8>> {
    match service {
        ServiceId::PaillierFast => client.exchange(service, &p.body, 1 << 30),
        ServiceId::BfvFast => client.bfv_send(&uploaded[p.key], &p.body),
        _ => client.accurate_send(&uploaded[p.key], &p.body),
    }
}

/// One answer received in the window.
struct Answer {
    request: usize,
    latency: Duration,
    body: Vec<u8>,
}

struct ChildServer(Child);

/// A file removed on drop.
struct TempFile(PathBuf);

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_file(&self.0);
    }
}

impl Drop for ChildServer {
    fn drop(&mut self) {
        let _ignored = self.0.kill();
        let _ignored = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds (user + system) a process has used: /proc/PID/stat fields 14 and 15, in
/// USER_HZ ticks (100 per second on Linux).
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some((ticks(11)? + ticks(12)?) as f64 / 100.0)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn shape(text: &str) -> Result<(usize, usize), String> {
    let (m, d) = text
        .split_once('x')
        .ok_or_else(|| format!("{text:?} is not ITEMSxDIM"))?;
    let m = positive(m)?;
    let d = positive(d)?;
    if d > m {
        return Err("the dimension cannot exceed the items".into());
    }
    Ok((m, d))
}

/// A random model of `m` items and dimension `d` (see `--synthetic`).
fn synthetic_model(m: usize, d: usize) -> CliResult<Model> {
    let mut state = 0x5eed_0fc0_ffee_u64;
    let mut uniform = |s: f32| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 40) as f32 / (1u64 << 24) as f32 * 2.0 - 1.0) * s
    };
    let a: Vec<f32> = (0..m * d).map(|_| uniform(0.1)).collect();
    let q: Vec<f32> = (0..m * d).map(|_| uniform(0.1)).collect();
    let bias: Vec<f32> = (0..m).map(|_| uniform(0.5)).collect();
    let text = json!({
        "format": "veil-cryptorec-model/1", "mu": 3.6,
        "item_bias": {"v": 1, "dim": [m], "data": bias},
        "a": {"v": 1, "dim": [m, d], "data": a}, "q": {"v": 1, "dim": [m, d], "data": q},
        "scale": [1.0, 5.0], "input_norm": 0.5,
    });
    Ok(Model::from_json(&text.to_string())?)
}

/// A synthetic user: `n` distinct items rated on the model's scale.
fn synthetic_user(model: &Model, seed: u64, n: usize) -> UserRatings {
    let m = model.items() as u64;
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut user = UserRatings::default();
    while user.items.len() < n.min(m as usize) {
        let i = (next() % m) as u32;
        if !user.items.contains(&i) {
            let steps = ((model.scale.max - model.scale.min) as u64).max(1);
            user.items.push(i);
            user.values
                .push(model.scale.min + (next() % (steps + 1)) as f32);
        }
    }
    user
}

fn start_server(a: &LoadtestArgs, model: &Path) -> CliResult<(ChildServer, String, u32)> {
    let exe = std::env::current_exe().map_err(|source| CliError::Io {
        path: "current executable".into(),
        source,
    })?;
    let offer = match a.service()? {
        ServiceId::PaillierFast => "paillier",
        ServiceId::BfvFast => "bfv",
        _ => "accurate",
    };
    let mut cmd = Command::new(exe);
    cmd.args(["cryptorec", "serve", "--listen", "127.0.0.1:0", "--model"])
        .arg(model)
        .args(["--min-key-bits", "1024", "--offer", offer])
        .args(["--lattice-degree", &a.lattice_degree.to_string()])
        .args(["--lambda", &a.lambda.to_string()])
        .args(["--key-memory-mb", &a.key_memory_mb.to_string()])
        .args(["--threads-per-worker", &a.threads_per_query.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(w) = a.workers {
        cmd.args(["--workers", &w.to_string()]);
    }
    if a.allow_below_128_bit_security {
        cmd.arg("--allow-below-128-bit-security");
    }
    let mut child = cmd.spawn().map_err(|source| CliError::Io {
        path: "starting veil cryptorec serve".into(),
        source,
    })?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let child = ChildServer(child);
    let mut line = String::new();
    if let Some(out) = stdout {
        BufReader::new(out)
            .read_line(&mut line)
            .map_err(|source| CliError::Io {
                path: "server output".into(),
                source,
            })?;
    }
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .ok_or_else(|| CliError::Input(format!("the server did not start: {line:?}")))?
        .to_string();
    Ok((child, addr, pid))
}

/// `f` over `items` on all cores (std scoped threads, in order).
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> CliResult<Vec<R>> {
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = items.len().div_ceil(cores).max(1);
    thread::scope(|s| {
        let handles: Vec<_> = items
            .chunks(chunk)
            .map(|part| s.spawn(|| part.iter().map(&f).collect::<Vec<R>>()))
            .collect();
        let mut out = Vec::with_capacity(items.len());
        for h in handles {
            out.extend(
                h.join()
                    .map_err(|_| CliError::Check("a worker thread panicked"))?,
            );
        }
        Ok(out)
    })
}

impl LoadtestArgs {
    fn service(&self) -> CliResult<ServiceId> {
        let scheme = self.scheme.unwrap_or(match self.mode {
            Mode::Fast => Scheme::Paillier,
            Mode::Accurate => Scheme::Ckks,
        });
        match (self.mode, scheme) {
            (Mode::Fast, Scheme::Paillier) => Ok(ServiceId::PaillierFast),
            (Mode::Fast, Scheme::Bfv) => Ok(ServiceId::BfvFast),
            (Mode::Accurate, Scheme::Ckks) => Ok(ServiceId::Accurate),
            _ => Err(CliError::Input(
                "loadtest runs --mode fast with --scheme paillier or bfv, or --mode accurate \
                 with --scheme ckks (the exact BFV accurate mode: not in the load test yet)"
                    .into(),
            )),
        }
    }
}

fn jobs(a: &LoadtestArgs) -> Vec<(usize, u64)> {
    (0..a.keys)
        .flat_map(|k| (0..a.users_per_key).map(move |u| (k, (k * 1000 + u) as u64)))
        .collect()
}

fn prepare_paillier(
    a: &LoadtestArgs,
    model: &Model,
    q: &QuantizedModel,
) -> CliResult<(Keyring, Vec<Prepared>)> {
    let keys: Vec<PrivateKey> =
        par_map(&vec![(); a.keys], |()| KeyGenerator::new(a.bits).generate())?
            .into_iter()
            .collect::<Result<_, _>>()?;
    let prepared = par_map(&jobs(a), |&(k, seed)| {
        let user = synthetic_user(model, seed, 20);
        let query = encrypt_query(&keys[k], &q.params, &user, Randomness::Fresh)?;
        let body = encode_request_proving(&keys[k], &query)?;
        let x = QuantizedModel::quantize_input(&q.params, &user)?;
        Ok(Prepared {
            key: k,
            body,
            expected: Expected::Integers(q.predict_integers(&x)),
        })
    })?
    .into_iter()
    .collect::<Result<Vec<_>, veil_cryptorec::Error>>()?;
    Ok((Keyring::Paillier(keys), prepared))
}

/// Lattice clients (one per key set), their keys named for the server, and the requests.
fn prepare_lattice(
    a: &LoadtestArgs,
    service: ServiceId,
    probe: &Client,
    model: &Model,
    q: &QuantizedModel,
) -> CliResult<(Keyring, Vec<UploadedKeys>, Vec<Prepared>)> {
    let step = FineTune::one_step(a.lambda);
    let jobs = jobs(a);
    if service == ServiceId::BfvFast {
        let clients: Vec<FastClient> = (0..a.keys)
            .map(|_| probe.bfv_client())
            .collect::<Result<_, _>>()?;
        let uploaded = par_map(&clients, |c| probe.keys(service, c.key_bytes()?))?
            .into_iter()
            .collect::<Result<Vec<_>, veil_cryptorec::Error>>()?;
        let prepared = par_map(&jobs, |&(k, seed)| {
            let user = synthetic_user(model, seed, 20);
            let (body, _) = clients[k].query(&user)?;
            let x = QuantizedModel::quantize_input(&q.params, &user)?;
            Ok(Prepared {
                key: k,
                body,
                expected: Expected::Integers(q.predict_integers(&x)),
            })
        })?
        .into_iter()
        .collect::<Result<Vec<_>, veil_cryptorec::Error>>()?;
        return Ok((Keyring::Bfv(clients), uploaded, prepared));
    }
    let clients: Vec<AccurateClient> = (0..a.keys)
        .map(|_| probe.accurate_client())
        .collect::<Result<_, _>>()?;
    let uploaded = par_map(&clients, |c| probe.keys(service, c.key_bytes()?))?
        .into_iter()
        .collect::<Result<Vec<_>, veil_cryptorec::Error>>()?;
    let prepared = par_map(&jobs, |&(k, seed)| {
        let user = synthetic_user(model, seed, 20);
        let (body, state) = clients[k].query(&user)?;
        let plain = model.fine_tune(&user, &step).predictions.to_vec();
        Ok(Prepared {
            key: k,
            body,
            expected: Expected::Step(state, plain),
        })
    })?
    .into_iter()
    .collect::<Result<Vec<_>, veil_cryptorec::Error>>()?;
    Ok((Keyring::Accurate(clients), uploaded, prepared))
}

pub(crate) fn loadtest(a: &LoadtestArgs) -> CliResult<()> {
    let service = a.service()?;
    let (model, path, _temp) = match (&a.model, a.synthetic) {
        (Some(p), _) => (Model::load(p)?.0, p.clone(), None),
        (None, Some((m, d))) => {
            let model = synthetic_model(m, d)?;
            let path = std::env::temp_dir()
                .join(format!("veil-loadtest-{}-{m}x{d}.json", std::process::id()));
            model.save(&path, &[])?;
            (model, path.clone(), Some(TempFile(path)))
        }
        (None, None) => return Err(CliError::Input("--model or --synthetic".into())),
    };
    let q = QuantizedModel::new(&model, &QuantConfig::default())?;
    let (_child, addr, pid) = match &a.server {
        Some(s) => (None, s.clone(), a.server_pid),
        None => {
            let (c, addr, pid) = start_server(a, &path)?;
            (Some(c), addr, Some(pid))
        }
    };
    eprintln!(
        "server at {addr}; preparing {} keys x {} queries",
        a.keys, a.users_per_key
    );
    let options = ClientOptions {
        allow_below_128_bit_security: a.allow_below_128_bit_security,
        ..ClientOptions::default()
    };
    let params = q.params;
    let mut probe = Client::connect(addr.as_str(), options)?;
    if probe.info().params != params {
        return Err(CliError::Input(
            "the server's model is not the one given with --model".into(),
        ));
    }
    let t = Instant::now();
    let (keyring, uploaded, prepared) = if service == ServiceId::PaillierFast {
        let (ring, prepared) = prepare_paillier(a, &model, &q)?;
        (ring, Vec::new(), prepared)
    } else {
        prepare_lattice(a, service, &probe, &model, &q)?
    };
    let prepare_s = t.elapsed().as_secs_f64();
    // Each key set once, before the window.
    let t = Instant::now();
    for keys in &uploaded {
        probe.upload_keys(keys)?;
    }
    let upload_s = t.elapsed().as_secs_f64();
    let key_bytes = uploaded.first().map_or(0, UploadedKeys::len);
    // One request's time: one client, nothing else running.
    let mut single = Vec::with_capacity(a.single);
    let mut single_cpu = None;
    {
        let client = &mut probe;
        let p = &prepared[0];
        let warm = send(client, service, &uploaded, p)?;
        if !keyring.check(p, &warm, &params) {
            return Err(CliError::Check("the first answer is wrong"));
        }
        let cpu_before = pid.and_then(cpu_seconds);
        for _ in 0..a.single {
            let t = Instant::now();
            send(client, service, &uploaded, p)?;
            single.push(t.elapsed().as_secs_f64());
        }
        if let (Some(b), Some(e)) = (cpu_before, pid.and_then(cpu_seconds)) {
            single_cpu = Some((e - b) / a.single as f64);
        }
    }
    single.sort_by(f64::total_cmp);
    let one_request_s = percentile(&single, 50.0);
    let rss_before = pid.and_then(rss_kib);
    let load_before = load_average();

    // The window.
    let stop = Arc::new(AtomicBool::new(false));
    let cpu_start = pid.and_then(cpu_seconds);
    let rss: Arc<Mutex<Vec<(f64, u64)>>> = Arc::default();
    let start = Instant::now();
    let sampler = {
        let (stop, rss) = (Arc::clone(&stop), Arc::clone(&rss));
        thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                if let Some(kib) = pid.and_then(rss_kib) {
                    if let Ok(mut v) = rss.lock() {
                        v.push((start.elapsed().as_secs_f64(), kib));
                    }
                }
                thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let deadline = start + Duration::from_secs(a.seconds as u64);
    let prepared = Arc::new(prepared);
    let uploaded = Arc::new(uploaded);
    let clients: Vec<_> = (0..a.clients)
        .map(|c| {
            let (addr, prepared) = (addr.clone(), Arc::clone(&prepared));
            let uploaded = Arc::clone(&uploaded);
            thread::spawn(move || {
                let mut answers = Vec::new();
                let mut lost = 0_u64;
                let mut errors = Vec::new();
                let mut client: Option<Client> = None;
                let mut uploads = 0_u64;
                let mut k = c;
                while Instant::now() < deadline {
                    let request = k % prepared.len();
                    k += 1;
                    if client.is_none() {
                        match Client::connect(addr.as_str(), options) {
                            Ok(cl) => client = Some(cl),
                            Err(e) => {
                                lost += 1;
                                errors.push(e.to_string());
                                thread::sleep(Duration::from_millis(100));
                                continue;
                            }
                        }
                    }
                    let Some(cl) = client.as_mut() else { continue };
                    let t = Instant::now();
                    let before = cl.uploads();
                    let sent = send(cl, service, &uploaded, &prepared[request]);
                    uploads += cl.uploads() - before;
                    match sent {
                        Ok(body) => answers.push(Answer {
                            request,
                            latency: t.elapsed(),
                            body,
                        }),
                        Err(e) => {
                            lost += 1;
                            errors.push(e.to_string());
                            client = None;
                        }
                    }
                }
                (answers, lost, errors, uploads)
            })
        })
        .collect();
    let mut answers = Vec::new();
    let mut lost = 0;
    let mut errors = Vec::new();
    let mut re_uploads = 0;
    for c in clients {
        let (a, l, e, u) = c
            .join()
            .map_err(|_| CliError::Check("a client thread panicked"))?;
        answers.extend(a);
        lost += l;
        errors.extend(e);
        re_uploads += u;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let window_cpu = match (cpu_start, pid.and_then(cpu_seconds)) {
        (Some(b), Some(e)) => Some(e - b),
        _ => None,
    };
    stop.store(true, Ordering::Relaxed);
    let _ignored = sampler.join();
    let load_after = load_average();

    // Check every answer.
    let wrong = par_map(&answers, |ans| {
        !keyring.check(&prepared[ans.request], &ans.body, &params)
    })?
    .into_iter()
    .filter(|&bad| bad)
    .count();
    let mut lat: Vec<f64> = answers.iter().map(|a| a.latency.as_secs_f64()).collect();
    lat.sort_by(f64::total_cmp);
    let throughput = answers.len() as f64 / elapsed;
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let workers = a.workers.unwrap_or(cores);
    // One request's time x the cores the server may use: with one thread per query, a lone
    // request runs on one core and `workers` of them run at once; with T threads per query a
    // lone request's time is already divided by up to T.
    let threads = a.threads_per_query.min(cores);
    let ideal = (workers * threads).min(cores) as f64 / (one_request_s * threads as f64);
    let rss = rss.lock().map(|v| v.clone()).unwrap_or_default();
    let rss_max = rss.iter().map(|r| r.1).max();
    let rss_first = rss.first().map(|r| r.1);
    let rss_last = rss.last().map(|r| r.1);
    let per_core = throughput / cores as f64;
    // On a shared machine the server gets what the scheduler gives it: its own CPU time is the
    // fair measure. Answers per server CPU-second against one request's CPU time.
    let per_cpu_second = window_cpu.map(|c| answers.len() as f64 / c);
    let cpu_ratio = per_cpu_second.zip(single_cpu).map(|(r, t)| r * t);
    let bytes_up = prepared.iter().map(|p| p.body.len()).max().unwrap_or(0)
        + uploaded
            .first()
            .map_or(0, |_| veil_cryptorec::service::KEY_ID_LEN);
    let bytes_down = answers.first().map_or(0, |a| a.body.len());
    errors.sort();
    errors.dedup();
    if a.json {
        return say!(
            "{}",
            json!({
                "clients": a.clients, "seconds": elapsed, "items": params.items, "dim": q.dim(),
                "service": service.name(), "bits": a.bits,
                "keys": {"sets": uploaded.len(), "bytes_per_set": key_bytes,
                         "upload_s": upload_s, "re_uploads_in_window": re_uploads},
                "prepare_s": prepare_s, "workers": workers, "threads_per_query": a.threads_per_query,
                "cores": cores, "answers": answers.len(), "wrong": wrong, "lost": lost,
                "errors": errors,
                "throughput_per_s": throughput, "per_core_per_s": per_core,
                "latency_s": {"p50": percentile(&lat, 50.0), "p95": percentile(&lat, 95.0),
                              "p99": percentile(&lat, 99.0), "max": lat.last()},
                "one_request_s": one_request_s, "one_request_samples_s": single,
                "ideal_per_s": ideal, "throughput_over_ideal": throughput / ideal,
                "server_cpu_s": {"window": window_cpu, "one_request": single_cpu},
                "answers_per_server_cpu_s": per_cpu_second,
                "cpu_throughput_over_one_request": cpu_ratio,
                "rss_kib": {"before": rss_before, "first": rss_first, "last": rss_last,
                            "max": rss_max, "samples": rss},
                "bytes": {"request": bytes_up, "answer": bytes_down},
                "load_average": {"before": load_before, "after": load_after},
            })
        );
    }
    let keyed = if key_bytes > 0 {
        format!(
            "{} key sets of {:.1} MB uploaded in {upload_s:.1} s, {re_uploads} re-uploads in the window",
            uploaded.len(),
            key_bytes as f64 / 1e6
        )
    } else {
        format!("{}-bit keys", a.bits)
    };
    say!(
        "{} clients for {elapsed:.1} s against a {}-item, d = {} model, {} ({keyed}); server: {workers} workers x {} thread(s), {cores} cores",
        a.clients,
        params.items,
        q.dim(),
        service.name(),
        a.threads_per_query
    )?;
    say!(
        "  answers {} (wrong {wrong}, lost {lost}); throughput {throughput:.2}/s ({per_core:.2}/s per core)",
        answers.len()
    )?;
    say!(
        "  latency p50 {:.3} s, p95 {:.3} s, p99 {:.3} s, max {:.3} s",
        percentile(&lat, 50.0),
        percentile(&lat, 95.0),
        percentile(&lat, 99.0),
        lat.last().copied().unwrap_or(f64::NAN)
    )?;
    say!(
        "  one request alone {one_request_s:.3} s -> ideal {ideal:.2}/s; measured / ideal = {:.3}",
        throughput / ideal
    )?;
    if let (Some(c), Some(t), Some(r)) = (window_cpu, single_cpu, per_cpu_second) {
        say!(
            "  server CPU: {c:.1} s in the window, {:.2} answers per CPU-second; one request alone {t:.3} CPU-s -> {:.3} of one request's rate per core",
            r,
            r * t
        )?;
    }
    let mib = |k: Option<u64>| k.map_or("n/a".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
    say!(
        "  server RSS (MiB): before {}, first sample {}, last {}, max {} ({} samples)",
        mib(rss_before),
        mib(rss_first),
        mib(rss_last),
        mib(rss_max),
        rss.len()
    )?;
    say!(
        "  request {bytes_up} bytes, answer {bytes_down} bytes; load average before {load_before}, after {load_after}"
    )?;
    for e in errors.iter().take(5) {
        say!("  error: {e}")?;
    }
    Ok(())
}
