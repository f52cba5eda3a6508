//! `veil cryptorec predict` and the demo's prediction: a user's ratings, the encrypted
//! fast-mode protocol over Paillier (client and server in one process, messages through their
//! byte encodings), and the top of the list with titles, scores clamped to the rating scale.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde_json::json;
use veil_cryptorec::catalogue::Catalogue;
use veil_cryptorec::data::RatingScale;
use veil_cryptorec::fast::{
    KeyPolicy, Query, Randomness, Response, TrustedKey, decrypt_response, encrypt_query, prove_key,
    respond,
};
use veil_cryptorec::model::{Model, UserRatings};
use veil_cryptorec::quant::{QuantConfig, QuantizedModel, dequantize};
use veil_cryptorec::topn::top_items;
use veil_paillier::{KeyGenerator, RandomnessPool};

use crate::args::positive;
use crate::io::{CliError, CliResult, read_input};
use crate::paillier::key_bits;
use crate::progress::Progress;

#[derive(Args)]
pub(crate) struct PredictArgs {
    /// Model file from `veil cryptorec train`.
    #[arg(long)]
    model: PathBuf,
    /// The user's ratings: `item,rating` lines (item identifiers as in the training data,
    /// ratings within the model's rating scale, each item once).
    #[arg(long)]
    ratings: PathBuf,
    #[command(flatten)]
    list: ListArgs,
}

/// How the recommendations are shown (`predict` and the demo).
#[derive(Args)]
pub(crate) struct ListArgs {
    /// How many items to list.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    pub(crate) top: usize,
    /// Paillier modulus size in bits (even, 1024 to 16384).
    #[arg(long, default_value_t = 2048, value_parser = key_bits)]
    pub(crate) bits: u32,
    /// Item titles: MovieLens `u.item`, `movies.dat` or `movies.csv`.
    #[arg(long, value_name = "PATH")]
    pub(crate) items: Option<PathBuf>,
    /// Print the figures as JSON.
    #[arg(long)]
    pub(crate) json: bool,
}

impl ListArgs {
    /// The catalogue, read before any long work so that a bad path fails fast.
    pub(crate) fn catalogue(&self) -> CliResult<Option<Catalogue>> {
        Ok(match &self.items {
            Some(p) => Some(Catalogue::load(p)?),
            None => None,
        })
    }
}

pub(crate) fn predict(a: &PredictArgs) -> CliResult<()> {
    let catalogue = a.list.catalogue()?;
    let (model, ids) = Model::load(&a.model)?;
    let user = read_user(&a.ratings, &ids, model.items(), &model.scale)?;
    let outcome = encrypted_prediction(&model, &user, a.list.bits)?;
    let shown = Shown {
        ids: &ids,
        catalogue: catalogue.as_ref(),
        scale: model.scale,
    };
    if a.list.json {
        return say!("{}", outcome.json(&shown, &user, a.list.top));
    }
    outcome.print(&shown, &user, a.list.top)
}

/// Reads `item,rating` lines (tabs or commas; `#` comments) and maps item identifiers; refuses
/// unknown items, ratings outside `scale`, repeated items and extra columns
/// ([`UserRatings::parse_lines`], fuzzed by `cryptorec_user_ratings`).
pub(crate) fn read_user(
    path: &Path,
    item_ids: &[u64],
    items: usize,
    scale: &RatingScale,
) -> CliResult<UserRatings> {
    let text = read_input(path)?;
    UserRatings::parse_lines(&text, item_ids, items, scale).map_err(|e| match e {
        veil_cryptorec::Error::Parse { line: 0, reason } => {
            CliError::Input(format!("{}: {reason}", path.display()))
        }
        veil_cryptorec::Error::Parse { line, reason } => {
            CliError::Input(format!("{}:{line}: {reason}", path.display()))
        }
        other => CliError::from(other),
    })
}

/// One run of the fast-mode protocol with its timings and sizes.
pub(crate) struct Outcome {
    encrypted: Vec<f32>,
    plaintext: Vec<f32>,
    keygen_s: f64,
    pool_s: f64,
    encrypt_s: f64,
    server_s: f64,
    decrypt_s: f64,
    up: usize,
    down: usize,
    zeros: f64,
}

/// Client and server in one process, messages through their byte encodings.
pub(crate) fn encrypted_prediction(
    model: &Model,
    user: &UserRatings,
    bits: u32,
) -> CliResult<Outcome> {
    let progress = Progress::spinner();
    let qm = QuantizedModel::new(model, &QuantConfig::default())?;
    let params = qm.params;
    progress.stage(&format!("client: generating a {bits}-bit Paillier key"));
    let t = Instant::now();
    let sk = KeyGenerator::new(bits).generate()?;
    let pk = sk.public_key();
    let keygen_s = t.elapsed().as_secs_f64();
    progress.stage(&format!(
        "client: precomputing {} encryption randomizers (offline)",
        params.items
    ));
    let t = Instant::now();
    let mut pool = RandomnessPool::new(pk);
    pool.fill_with_private_key(&sk, params.items)?;
    let pool_s = t.elapsed().as_secs_f64();
    progress.stage(&format!("client: encrypting {} ratings", params.items));
    let t = Instant::now();
    let query = encrypt_query(&sk, &params, user, Randomness::Pool(&mut pool))?.to_bytes(pk)?;
    let encrypt_s = t.elapsed().as_secs_f64();
    progress.stage("server: checking the client's key proof");
    // The server answers only a key proven to have gcd(n, phi(n)) = 1. Client and server are
    // one process here and the user chose the size, so the size bounds admit it.
    let policy = KeyPolicy {
        min_bits: KeyPolicy::default().min_bits.min(bits),
        max_bits: KeyPolicy::default().max_bits.max(bits),
    };
    let server_key = TrustedKey::verify(pk, &prove_key(&sk)?, &policy)?;
    progress.stage("server: computing the encrypted predictions");
    let t = Instant::now();
    let response =
        respond(&server_key, &qm, &Query::from_bytes(pk, &params, &query)?)?.to_bytes(pk)?;
    let server_s = t.elapsed().as_secs_f64();
    progress.stage("client: decrypting");
    let t = Instant::now();
    let v = decrypt_response(&sk, &params, &Response::from_bytes(pk, &params, &response)?)?;
    let encrypted = dequantize(&params, &v, user.mean());
    let decrypt_s = t.elapsed().as_secs_f64();
    progress.finish();
    let x = QuantizedModel::quantize_input(&params, user)?;
    if v != qm.predict_integers(&x) {
        return Err(CliError::Check(
            "the decrypted predictions differ from the quantized model's",
        ));
    }
    Ok(Outcome {
        encrypted,
        plaintext: model.predict(user).to_vec(),
        keygen_s,
        pool_s,
        encrypt_s,
        server_s,
        decrypt_s,
        up: query.len(),
        down: response.len(),
        zeros: qm.zero_fraction(),
    })
}

/// How items are named and scores shown.
pub(crate) struct Shown<'a> {
    pub(crate) ids: &'a [u64],
    pub(crate) catalogue: Option<&'a Catalogue>,
    pub(crate) scale: RatingScale,
}

impl Shown<'_> {
    fn id(&self, i: usize) -> u64 {
        self.ids.get(i).copied().unwrap_or(i as u64)
    }
    fn title(&self, i: usize) -> Option<&str> {
        self.catalogue.and_then(|c| c.title(self.id(i)))
    }
}

impl Outcome {
    /// The top lists (ranked by unclamped score), and the largest |encrypted - float| gap.
    fn lists(&self, user: &UserRatings, top: usize) -> (Vec<usize>, Vec<usize>, f32) {
        let enc = top_items(&self.encrypted, &user.items, top);
        let plain = top_items(&self.plaintext, &user.items, top);
        let max_diff = self
            .encrypted
            .iter()
            .zip(&self.plaintext)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        (enc, plain, max_diff)
    }

    pub(crate) fn json(
        &self,
        shown: &Shown<'_>,
        user: &UserRatings,
        top: usize,
    ) -> serde_json::Value {
        let (enc, plain, max_diff) = self.lists(user, top);
        let entry = |(k, &i): (usize, &usize)| {
            json!({
                "rank": k + 1, "item": shown.id(i), "title": shown.title(i),
                "score": shown.scale.clamp(self.encrypted[i]),
                "float_model_score": shown.scale.clamp(self.plaintext[i]),
            })
        };
        json!({
            "scale": [shown.scale.min, shown.scale.max],
            "rated_items_excluded": user.items.len(),
            "top": enc.iter().enumerate().map(entry).collect::<Vec<_>>(),
            "float_model_top": plain.iter().map(|&i| shown.id(i)).collect::<Vec<_>>(),
            "max_abs_diff": max_diff,
            "seconds": {
                "keygen": self.keygen_s, "pool": self.pool_s, "encrypt": self.encrypt_s,
                "server": self.server_s, "decrypt": self.decrypt_s,
            },
            "bytes": {"query": self.up, "response": self.down},
        })
    }

    pub(crate) fn print(&self, shown: &Shown<'_>, user: &UserRatings, top: usize) -> CliResult<()> {
        let (enc, plain, max_diff) = self.lists(user, top);
        let width = enc
            .iter()
            .chain(&plain)
            .map(|&i| shown.title(i).map_or(0, |t| t.chars().count()))
            .max()
            .unwrap_or(0)
            .min(40);
        let name = |i: usize| match shown.title(i) {
            Some(t) => format!("{:<width$}", t.chars().take(40).collect::<String>()),
            None if width > 0 => format!("{:<width$}", format!("item {}", shown.id(i))),
            None => format!("item {:>5}", shown.id(i)),
        };
        say!(
            "  The {} items you rated are left out; scores are clamped to the rating scale {}.\n",
            user.items.len(),
            shown.scale
        )?;
        say!("  rank | encrypted protocol | plaintext float model")?;
        for (k, (&e, &p)) in enc.iter().zip(&plain).enumerate() {
            say!(
                "  {:>4} | {}  {:>5.2} | {}  {:>5.2}",
                k + 1,
                name(e),
                shown.scale.clamp(self.encrypted[e]),
                name(p),
                shown.scale.clamp(self.plaintext[p])
            )?;
        }
        let same = enc.iter().filter(|i| plain.contains(i)).count();
        say!(
            "\n  {same}/{} of the top {top} agree; largest |encrypted - float| over {} items: {max_diff:.4} ({}-bit weights, {:.0}% zero)",
            enc.len(),
            self.encrypted.len(),
            QuantConfig::default().weight_bits,
            100.0 * self.zeros
        )?;
        say!(
            "  client: key generation {:.2} s, randomness pool (offline) {:.2} s, encrypt {} ratings {:.3} s, decrypt {:.3} s",
            self.keygen_s,
            self.pool_s,
            self.encrypted.len(),
            self.encrypt_s,
            self.decrypt_s
        )?;
        say!(
            "  server: {:.2} s; sent {:.2} MB, received {:.3} MB",
            self.server_s,
            self.up as f64 / 1e6,
            self.down as f64 / 1e6
        )
    }
}
