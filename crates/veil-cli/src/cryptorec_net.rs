//! `veil cryptorec serve` and `veil cryptorec query`: the encrypted protocol between two
//! processes over TCP (veil_cryptorec::service), and `veil cryptorec loadtest`
//! (`cryptorec_load.rs`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};
use serde_json::json;
use veil_cryptorec::fast::Randomness;
use veil_cryptorec::model::Model;
use veil_cryptorec::quant::{QuantConfig, dequantize};
use veil_cryptorec::service::{
    Client, ClientOptions, PaillierParameters, Server, ServerConfig, Service,
};
use veil_cryptorec::topn::top_items;
use veil_paillier::KeyGenerator;

use crate::args::{positive, positive_real};
use crate::io::{CliError, CliResult};
use crate::paillier::key_bits;
use crate::predict::{ListArgs, read_user};

/// Limits of the server (every one bounds what a client can make it hold or wait for).
#[derive(Args, Clone)]
pub(crate) struct ServerLimits {
    /// Compute threads: queries answered at once (default: the number of cores).
    #[arg(long, value_parser = positive)]
    pub(crate) workers: Option<usize>,
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
}

impl ServerLimits {
    pub(crate) fn config(&self) -> ServerConfig {
        let d = ServerConfig::default();
        ServerConfig {
            workers: self.workers.unwrap_or(d.workers),
            max_connections: self.max_connections,
            max_pending: self.max_pending,
            idle_timeout: Duration::from_secs_f64(self.idle_timeout),
            read_timeout: Duration::from_secs_f64(self.read_timeout),
            write_timeout: Duration::from_secs_f64(self.write_timeout),
            max_connection_bytes: (self.max_connection_mb as u64) << 20,
            ..d
        }
    }

    fn keys(&self) -> PaillierParameters {
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
    /// Print the server's counters to stderr every this many seconds (0: never).
    #[arg(long, default_value_t = 0)]
    stats_every: u64,
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
    /// BFV (lattice).
    Bfv,
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
    /// The scheme.
    #[arg(long, value_enum, default_value_t = Scheme::Paillier)]
    scheme: Scheme,
    /// Seconds to wait for the answer (queueing and the server's computation included).
    #[arg(long, default_value_t = 300.0, value_parser = positive_real)]
    timeout: f64,
    #[command(flatten)]
    list: ListArgs,
}

/// Starts the server and runs until killed.
pub(crate) fn serve(a: &ServeArgs) -> CliResult<()> {
    let (model, ids) = Model::load(&a.model)?;
    let keys = a.limits.keys();
    let service = Service::paillier(&model, ids, &QuantConfig::default(), keys)?;
    let config = a.limits.config();
    let server = Server::bind(&a.listen, Arc::new(service), config.clone())?;
    say!("listening on {}", server.local_addr())?;
    eprintln!(
        "serving {} ({} items, d = {}) over Paillier (client keys {}..={} bits); {} workers, {} connections, {} pending",
        a.model.display(),
        model.items(),
        model.a.ncols(),
        keys.min_modulus_bits,
        keys.max_modulus_bits,
        config.workers,
        config.max_connections,
        config.max_pending
    );
    if keys.min_modulus_bits < 2048 {
        eprintln!("warning: client keys below 2048 bits are accepted (tests only)");
    }
    if a.stats_every == 0 {
        server.wait();
        return Ok(());
    }
    loop {
        std::thread::sleep(Duration::from_secs(a.stats_every));
        let s = server.stats();
        eprintln!(
            "accepted {} refused {} answered {} errors {} timeouts {}",
            s.accepted, s.refused, s.answered, s.errors, s.timeouts
        );
    }
}

/// One query to a running server: key generation, encryption, the answer, the top of the list.
pub(crate) fn query(a: &QueryArgs) -> CliResult<()> {
    let unavailable = |what: &str| {
        Err(CliError::Input(format!(
            "{what} is not available in this build (the lattice modes are not wired into the \
             service yet); use --mode fast --scheme paillier"
        )))
    };
    match (a.mode, a.scheme) {
        (Mode::Fast, Scheme::Paillier) => {}
        (Mode::Fast, Scheme::Bfv) => return unavailable("the fast mode over BFV"),
        (Mode::Accurate, Scheme::Bfv) => return unavailable("the accurate mode"),
        (Mode::Accurate, Scheme::Paillier) => {
            return Err(CliError::Input(
                "the accurate mode needs a lattice scheme (--scheme bfv); Paillier cannot \
                 multiply ciphertexts"
                    .into(),
            ));
        }
    }
    let catalogue = a.list.catalogue()?;
    let options = ClientOptions {
        answer_timeout: Duration::from_secs_f64(a.timeout),
        ..ClientOptions::default()
    };
    let t = Instant::now();
    let mut client = Client::connect(a.server.as_str(), options)?;
    let connect_s = t.elapsed().as_secs_f64();
    let info = client.info().clone();
    let user = read_user(&a.ratings, &info.item_ids, info.params.items, &info.scale)?;
    let t = Instant::now();
    let sk = KeyGenerator::new(a.list.bits).generate()?;
    let keygen_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let v = client.paillier_fast(&sk, &user, Randomness::Fresh)?;
    let round_trip_s = t.elapsed().as_secs_f64();
    let (sent, received) = client.traffic();
    let scores = dequantize(&info.params, &v, user.mean());
    let top = top_items(&scores, &user.items, a.list.top);
    let id = |i: usize| info.item_ids.get(i).copied().unwrap_or(i as u64);
    let title = |i: usize| catalogue.as_ref().and_then(|c| c.title(id(i)));
    if a.list.json {
        let list: Vec<_> = top
            .iter()
            .enumerate()
            .map(|(k, &i)| {
                json!({"rank": k + 1, "item": id(i), "title": title(i),
                       "score": info.scale.clamp(scores[i])})
            })
            .collect();
        return say!(
            "{}",
            json!({
                "server": a.server, "mode": "fast", "scheme": "paillier", "bits": a.list.bits,
                "items": info.params.items, "rated": user.items.len(), "top": list,
                "seconds": {"connect": connect_s, "keygen": keygen_s,
                            "encrypt_and_round_trip": round_trip_s},
                "bytes": {"sent": sent, "received": received},
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
    say!(
        "\n  key generation {keygen_s:.2} s ({} bits); encrypt, send, server, receive, decrypt {round_trip_s:.2} s; sent {:.2} MB, received {:.3} MB",
        a.list.bits,
        sent as f64 / 1e6,
        received as f64 / 1e6
    )
}
