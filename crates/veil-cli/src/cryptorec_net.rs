//! `veil cryptorec serve` and `veil cryptorec query`: the encrypted protocol between two
//! processes over TCP (veil_cryptorec::service), and `veil cryptorec loadtest`
//! (`cryptorec_load.rs`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::json;
use veil_cryptorec::fast::Randomness;
use veil_cryptorec::lattice::{AccurateBfvConfig, AccurateConfig, LatticeConfig};
use veil_cryptorec::model::{Model, TrainConfig, UserRatings};
use veil_cryptorec::quant::{QuantConfig, dequantize};
use veil_cryptorec::service::{
    Client, ClientOptions, ModelInfo, Offer, PaillierParameters, Server, ServerConfig, Service,
    ServiceId, UploadedKeys,
};
use veil_cryptorec::topn::top_items;
use veil_paillier::KeyGenerator;

use crate::args::{non_negative, positive, positive_real};
use crate::io::{CliError, CliResult};
use crate::paillier::key_bits;
use crate::predict::{ListArgs, read_user};

/// Limits of the server (every one bounds what a client can make it hold or wait for).
#[derive(Args, Clone)]
pub(crate) struct ServerLimits {
    /// Compute threads: queries answered at once (default: the number of cores).
    #[arg(long, value_parser = positive)]
    pub(crate) workers: Option<usize>,
    /// Threads one query may use (each compute worker has its own pool of this size).
    #[arg(long, default_value_t = 1, value_parser = positive)]
    pub(crate) threads_per_worker: usize,
    /// Clients connected at once (each holds one thread, never a core while it is idle).
    #[arg(long, default_value_t = 64, value_parser = positive)]
    pub(crate) max_connections: usize,
    /// Connections waiting for a free slot; beyond, a client is told `busy` and closed.
    #[arg(long, default_value_t = 64, value_parser = positive)]
    pub(crate) max_pending: usize,
    /// Seconds a connection may stay silent between requests.
    #[arg(long, default_value_t = 30.0, value_parser = positive_real)]
    pub(crate) idle_timeout: f64,
    /// Seconds for a whole request, from its first byte (slow senders are cut off).
    #[arg(long, default_value_t = 60.0, value_parser = positive_real)]
    pub(crate) read_timeout: f64,
    /// Seconds to write a whole answer (clients that stop reading are cut off).
    #[arg(long, default_value_t = 60.0, value_parser = positive_real)]
    pub(crate) write_timeout: f64,
    /// Megabytes one connection may send in all.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    pub(crate) max_connection_mb: usize,
    /// Smallest client Paillier key in bits (below 2048 for tests only).
    #[arg(long, default_value_t = 2048, value_parser = key_bits)]
    pub(crate) min_key_bits: u32,
    /// Largest client Paillier key in bits: bounds request size and work per query.
    #[arg(long, default_value_t = 4096, value_parser = key_bits)]
    pub(crate) max_key_bits: u32,
    /// Megabytes of uploaded evaluation keys kept (lattice modes; least recently used key sets
    /// are evicted and their clients upload them again). Each key set is charged its largest
    /// in-memory size (BFV fast mode at m = 3952: 0.3 GB at d = 500, 0.12 GB at d = 100).
    #[arg(long, default_value_t = 2048, value_parser = positive)]
    pub(crate) key_memory_mb: usize,
    /// Megabytes of key uploads received or parsed at once (must hold one key set); beyond,
    /// an upload is refused as busy from its header.
    #[arg(long, default_value_t = 1024, value_parser = positive)]
    pub(crate) max_upload_mb: usize,
    /// Seconds for a whole key upload, from its first byte.
    #[arg(long, default_value_t = 600.0, value_parser = positive_real)]
    pub(crate) key_read_timeout: f64,
}

impl ServerLimits {
    pub(crate) fn config(&self) -> ServerConfig {
        let d = ServerConfig::default();
        ServerConfig {
            workers: self.workers.unwrap_or(d.workers),
            threads_per_worker: self.threads_per_worker,
            max_connections: self.max_connections,
            max_pending: self.max_pending,
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            read_timeout: Duration::from_secs_f64(self.read_timeout),
            write_timeout: Duration::from_secs_f64(self.write_timeout),
            max_connection_bytes: (self.max_connection_mb as u64) << 20,
            key_read_timeout: Duration::from_secs_f64(self.key_read_timeout),
            max_upload_bytes: (self.max_upload_mb as u64) << 20,
            ..d
        }
    }

    pub(crate) fn keys(&self) -> PaillierParameters {
        PaillierParameters {
            min_modulus_bits: self.min_key_bits,
            max_modulus_bits: self.max_key_bits,
        }
    }
}

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Model file from `veil cryptorec train`.
    #[arg(long)]
    model: PathBuf,
    /// Address to listen on, e.g. 127.0.0.1:7878 (port 0: any free port; the address is
    /// printed on the first line of stdout).
    #[arg(long)]
    listen: String,
    #[command(flatten)]
    limits: ServerLimits,
    #[command(flatten)]
    offer: OfferArgs,
    /// Print the server's counters to stderr every this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    stats_every: u64,
}

/// A service a server can offer.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Offered {
    /// The fast mode over Paillier.
    Paillier,
    /// The fast mode over BFV.
    Bfv,
    /// The accurate mode's one step over CKKS (N = 16384; prepared at start-up).
    Accurate,
    /// The accurate mode's one step as an exact circuit over BFV (CRT lanes; at
    /// `--lattice-degree`).
    AccurateBfv,
}

/// What the server offers and the lattice settings.
#[derive(Args, Clone)]
pub(crate) struct OfferArgs {
    /// Services to offer (comma-separated).
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [Offered::Paillier, Offered::Bfv])]
    pub(crate) offer: Vec<Offered>,
    /// Ring degree of the BFV fast mode (m <= N/2 items).
    #[arg(long, default_value_t = 16384, value_parser = positive)]
    pub(crate) lattice_degree: usize,
    /// Accept lattice parameters below 128-bit security (small degrees: tests only; clients
    /// must pass the same flag).
    #[arg(long)]
    pub(crate) allow_below_128_bit_security: bool,
    /// lambda of the accurate mode's step (the model's training lambda).
    #[arg(long, default_value_t = TrainConfig::default().lambda, value_parser = non_negative)]
    pub(crate) lambda: f32,
}

impl OfferArgs {
    pub(crate) fn offer(&self, keys: PaillierParameters) -> Offer {
        let has = |o: Offered| self.offer.contains(&o);
        Offer {
            paillier: has(Offered::Paillier).then_some(keys),
            bfv: has(Offered::Bfv).then_some(LatticeConfig {
                degree: self.lattice_degree,
                allow_below_128_bit_security: self.allow_below_128_bit_security,
                ..LatticeConfig::default()
            }),
            accurate: has(Offered::Accurate).then_some(AccurateConfig::one_step(self.lambda)),
            accurate_bfv: has(Offered::AccurateBfv).then(|| {
                let mut cfg = AccurateBfvConfig::one_step(self.lambda);
                cfg.lattice.degree = self.lattice_degree;
                cfg.lattice.allow_below_128_bit_security = self.allow_below_128_bit_security;
                cfg
            }),
        }
    }
}

/// Which encrypted protocol.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Mode {
    /// CryptoRec-f: the pre-trained model's prediction.
    Fast,
    /// CryptoRec-a(1): one fine-tuning step on the user's ratings, under lattice HE.
    Accurate,
}

/// Which homomorphic scheme.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scheme {
    /// Paillier (additive; the fast mode only).
    Paillier,
    /// BFV (lattice, exact integers): the fast mode, or the accurate mode's step as an exact
    /// fixed-point circuit.
    Bfv,
    /// CKKS (lattice, approximate): the accurate mode's step.
    Ckks,
}

impl Scheme {
    fn name(self) -> &'static str {
        match self {
            Scheme::Paillier => "paillier",
            Scheme::Bfv => "bfv",
            Scheme::Ckks => "ckks",
        }
    }
}

#[derive(Args)]
pub(crate) struct QueryArgs {
    /// The server, HOST:PORT.
    #[arg(long)]
    server: String,
    /// Your ratings: `item,rating` lines (item identifiers as the server's model names them).
    #[arg(long)]
    ratings: PathBuf,
    /// The protocol.
    #[arg(long, value_enum, default_value_t = Mode::Fast)]
    mode: Mode,
    /// The scheme (default: paillier for the fast mode, ckks for the accurate mode).
    #[arg(long, value_enum)]
    scheme: Option<Scheme>,
    /// Seconds to wait for the answer (queueing and the server's computation included).
    #[arg(long, default_value_t = 300.0, value_parser = positive_real)]
    timeout: f64,
    /// Accept lattice parameters below 128-bit security from the server (tests only).
    #[arg(long)]
    allow_below_128_bit_security: bool,
    #[command(flatten)]
    list: ListArgs,
}

/// Starts the server and runs until killed.
pub(crate) fn serve(a: &ServeArgs) -> CliResult<()> {
    let (model, ids) = Model::load(&a.model)?;
    let keys = a.limits.keys();
    let t = Instant::now();
    let service = Service::offering(&model, ids, &QuantConfig::default(), &a.offer.offer(keys))?
        .with_key_memory((a.limits.key_memory_mb as u64) << 20)?;
    let prepared_s = t.elapsed().as_secs_f64();
    let config = a.limits.config();
    let offered: Vec<String> = service
        .info()
        .services
        .iter()
        .map(|s| {
            format!(
                "{} (requests <= {:.2} MB)",
                s.service.name(),
                s.max_request_bytes as f64 / 1e6
            )
        })
        .collect();
    let max_keys = service.max_key_bytes();
    let server = Server::bind(&a.listen, Arc::new(service), config.clone())?;
    say!("listening on {}", server.local_addr())?;
    eprintln!(
        "serving {} ({} items, d = {}), prepared in {prepared_s:.1} s: {}; {} workers, {} connections, {} pending",
        a.model.display(),
        model.items(),
        model.a.ncols(),
        offered.join(", "),
        config.workers,
        config.max_connections,
        config.max_pending
    );
    if a.offer.offer.contains(&Offered::Paillier) {
        eprintln!(
            "Paillier client keys {}..={} bits",
            keys.min_modulus_bits, keys.max_modulus_bits
        );
        if keys.min_modulus_bits < 2048 {
            eprintln!("warning: client keys below 2048 bits are accepted (tests only)");
        }
    }
    if max_keys > 0 {
        eprintln!(
            "evaluation keys: <= {:.1} MB per key set, {} MB kept, {} MB of uploads at once",
            max_keys as f64 / 1e6,
            a.limits.key_memory_mb,
            a.limits.max_upload_mb
        );
    }
    if a.offer.allow_below_128_bit_security {
        eprintln!("warning: lattice parameters below 128-bit security (tests only)");
    }
    if a.stats_every == 0 {
        server.wait();
        return Ok(());
    }
    loop {
        std::thread::sleep(Duration::from_secs(a.stats_every));
        let s = server.stats();
        eprintln!(
            "accepted {} refused {} answered {} errors {} timeouts {} key sets {} ({:.1} MB, {} evicted, {} unknown)",
            s.accepted,
            s.refused,
            s.answered,
            s.errors,
            s.timeouts,
            s.keys.entries,
            s.keys.bytes as f64 / 1e6,
            s.keys.evicted,
            s.keys.misses
        );
    }
}

/// What a query produced: scores for every item and the timings.
struct Outcome {
    scores: Vec<f32>,
    keygen_s: f64,
    upload_s: f64,
    round_trip_s: f64,
    key_bytes: usize,
}

/// One query to a running server: key generation, encryption, the answer, the top of the list.
pub(crate) fn query(a: &QueryArgs) -> CliResult<()> {
    let scheme = a.scheme.unwrap_or(match a.mode {
        Mode::Fast => Scheme::Paillier,
        Mode::Accurate => Scheme::Ckks,
    });
    let service = match (a.mode, scheme) {
        (Mode::Fast, Scheme::Paillier) => ServiceId::PaillierFast,
        (Mode::Fast, Scheme::Bfv) => ServiceId::BfvFast,
        (Mode::Accurate, Scheme::Ckks) => ServiceId::Accurate,
        (Mode::Fast, Scheme::Ckks) => {
            return Err(CliError::Input(
                "the fast mode runs over paillier or bfv (exact integers); ckks is the accurate \
                 mode's scheme"
                    .into(),
            ));
        }
        (Mode::Accurate, Scheme::Bfv) => ServiceId::AccurateBfv,
        (Mode::Accurate, Scheme::Paillier) => {
            return Err(CliError::Input(
                "the accurate mode needs a lattice scheme (--scheme ckks); Paillier cannot \
                 multiply ciphertexts"
                    .into(),
            ));
        }
    };
    let catalogue = a.list.catalogue()?;
    let options = ClientOptions {
        answer_timeout: Duration::from_secs_f64(a.timeout),
        allow_below_128_bit_security: a.allow_below_128_bit_security,
        ..ClientOptions::default()
    };
    let t = Instant::now();
    let mut client = Client::connect(a.server.as_str(), options)?;
    let connect_s = t.elapsed().as_secs_f64();
    let info = client.info().clone();
    if info.service(service).is_none() {
        let offered: Vec<&str> = info.services.iter().map(|s| s.service.name()).collect();
        return Err(CliError::Input(format!(
            "the server does not offer the {}; it offers: {}",
            service.name(),
            offered.join(", ")
        )));
    }
    let user = read_user(&a.ratings, &info.item_ids, info.params.items, &info.scale)?;
    let outcome = match service {
        ServiceId::BfvFast => bfv_fast(&mut client, &info, &user)?,
        ServiceId::Accurate => accurate(&mut client, &user)?,
        ServiceId::AccurateBfv => accurate_bfv(&mut client, &user)?,
        _ => paillier_fast(&mut client, &info, &user, a.list.bits)?,
    };
    let (sent, received) = client.traffic();
    let scores = &outcome.scores;
    let top = top_items(scores, &user.items, a.list.top);
    let id = |i: usize| info.item_ids.get(i).copied().unwrap_or(i as u64);
    let title = |i: usize| catalogue.as_ref().and_then(|c| c.title(id(i)));
    let mode = match a.mode {
        Mode::Fast => "fast",
        Mode::Accurate => "accurate",
    };
    if a.list.json {
        let list: Vec<_> = top
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                json!({"rank": k + 1, "item": id(i), "title": title(i),
                       "score": info.scale.clamp(scores[i])})
            })
            .collect();
        let bits = (service == ServiceId::PaillierFast).then_some(a.list.bits);
        return say!(
            "{}",
            json!({
                "server": a.server, "mode": mode, "scheme": scheme.name(), "bits": bits,
                "items": info.params.items, "rated": user.items.len(), "top": list,
                "scores": scores,
                "seconds": {"connect": connect_s, "keygen": outcome.keygen_s,
                            "key_upload": outcome.upload_s,
                            "encrypt_and_round_trip": outcome.round_trip_s},
                "bytes": {"sent": sent, "received": received, "keys": outcome.key_bytes},
            })
        );
    }
    say!(
        "  {} items; the {} you rated are left out; scores clamped to {}.\n",
        info.params.items,
        user.items.len(),
        info.scale
    )?;
    for (k, &i) in top.iter().enumerate() {
        let name = title(i).map_or_else(|| format!("item {}", id(i)), str::to_string);
        say!(
            "  {:>4}  {:<40}  {:>5.2}",
            k + 1,
            name.chars().take(40).collect::<String>(),
            info.scale.clamp(scores[i])
        )?;
    }
    let keys = if outcome.key_bytes > 0 {
        format!(
            "; evaluation keys {:.1} MB uploaded in {:.2} s",
            outcome.key_bytes as f64 / 1e6,
            outcome.upload_s
        )
    } else {
        String::new()
    };
    say!(
        "\n  {} mode over {}: key generation {:.2} s{keys}; encrypt, send, server, receive, decrypt {:.2} s; sent {:.2} MB, received {:.3} MB",
        mode,
        scheme.name(),
        outcome.keygen_s,
        outcome.round_trip_s,
        sent as f64 / 1e6,
        received as f64 / 1e6
    )
}

fn paillier_fast(
    client: &mut Client,
    info: &ModelInfo,
    user: &UserRatings,
    bits: u32,
) -> CliResult<Outcome> {
    let t = Instant::now();
    let sk = KeyGenerator::new(bits).generate()?;
    let keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let v = client.paillier_fast(&sk, user, Randomness::Fresh)?;
    Ok(Outcome {
        scores: dequantize(&info.params, &v, user.mean()),
        keygen_s,
        upload_s: 0.0,
        round_trip_s: t.elapsed().as_secs_f64(),
        key_bytes: 0,
    })
}

/// A lattice exchange, timed: the client from the server's setup and its keys (`make`), one
/// upload, then the query (`ask`, which returns the scores).
fn keyed<C>(
    client: &mut Client,
    service: ServiceId,
    make: impl FnOnce(&mut Client) -> CliResult<(C, Vec<u8>)>,
    ask: impl FnOnce(&mut Client, &C, &UploadedKeys) -> CliResult<Vec<f32>>,
) -> CliResult<Outcome> {
    let t = Instant::now();
    let (lattice_client, key_bytes) = make(client)?;
    let keys = client.keys(service, key_bytes)?;
    let keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    client.upload_keys(&keys)?;
    let upload_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let scores = ask(client, &lattice_client, &keys)?;
    Ok(Outcome {
        scores,
        keygen_s,
        upload_s,
        round_trip_s: t.elapsed().as_secs_f64(),
        key_bytes: keys.len(),
    })
}

fn bfv_fast(client: &mut Client, info: &ModelInfo, user: &UserRatings) -> CliResult<Outcome> {
    let make = |c: &mut Client| {
        let fast = c.bfv_client()?;
        let bytes = fast.key_bytes()?;
        Ok((fast, bytes))
    };
    keyed(client, ServiceId::BfvFast, make, |c, fast, keys| {
        let v = c.bfv_fast(fast, keys, user)?;
        Ok(dequantize(&info.params, &v, user.mean()))
    })
}

fn accurate(client: &mut Client, user: &UserRatings) -> CliResult<Outcome> {
    let make = |c: &mut Client| {
        let acc = c.accurate_client()?;
        let bytes = acc.key_bytes()?;
        Ok((acc, bytes))
    };
    keyed(client, ServiceId::Accurate, make, |c, acc, keys| {
        Ok(c.accurate(acc, keys, user)?)
    })
}

fn accurate_bfv(client: &mut Client, user: &UserRatings) -> CliResult<Outcome> {
    let make = |c: &mut Client| {
        let acc = c.accurate_bfv_client()?;
        let bytes = acc.key_bytes()?;
        Ok((acc, bytes))
    };
    keyed(client, ServiceId::AccurateBfv, make, |c, acc, keys| {
        Ok(c.accurate_bfv(acc, keys, user)?)
    })
}
