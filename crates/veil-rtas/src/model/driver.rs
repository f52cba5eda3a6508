//! Whole runs: dealing the inputs, one party's part over any transport ([`run_party`]), all three
//! in threads over the in-memory transport ([`train_local`]), and the plaintext reference.

use std::net::{SocketAddr, TcpListener};
use std::thread;
use std::time::Instant;

use ndarray::{Array2, Axis};
use rand::Rng;

use super::plain::{self, Params};
use super::secure::SecureModel;
use super::{Dataset, Mode, ModelSpec, TrainConfig};
use crate::error::{Error, Result};
use crate::fixed::FixedPoint;
use crate::helper::Helper;
use crate::local::root_cause;
use crate::role::Role;
use crate::session::{ProtocolConfig, Session};
use crate::share::{Party, Public, Share, share_f64};
use crate::transport::{Security, Stats, TcpOptions, TcpTransport, Transport, memory_network};

/// What one share holder brings: its shares of the features (and, under RTAS, of the targets);
/// under RTAS-fast the label holder P0 has the targets in the clear instead. `Debug` shows
/// shapes only (the labels are P0's secret).
pub struct HolderInput {
    /// Share of the training features.
    pub x_train: Share,
    /// Share of the training targets (RTAS).
    pub y_train: Option<Share>,
    /// Clear training targets (RTAS-fast, P0 only).
    pub labels: Option<Array2<f64>>,
    /// Share of the test features.
    pub x_test: Share,
}

impl core::fmt::Debug for HolderInput {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HolderInput")
            .field("x_train", &self.x_train)
            .field("y_train", &self.y_train)
            .field(
                "labels",
                &self.labels.as_ref().map(|l| ("<redacted>", l.dim())),
            )
            .field("x_test", &self.x_test)
            .finish()
    }
}

/// The targets a model trains on: "is it a 0" for logistic regression (sec. 5.3), one-hot
/// classes for the CNN.
pub(crate) fn targets(spec: &ModelSpec, data: &Dataset) -> Array2<f64> {
    match spec {
        ModelSpec::Logistic { .. } => data.binary(0),
        ModelSpec::Cnn(c) => data.one_hot(c.classes),
    }
}

/// The data owner's side: shares the features (and under RTAS the targets) between P0 and P1.
pub fn deal_inputs<R: Rng + ?Sized>(
    config: &TrainConfig,
    fp: FixedPoint,
    train: &Dataset,
    test: &Dataset,
    rng: &mut R,
) -> Result<[HolderInput; 2]> {
    let features = config.model.features();
    if train.x.ncols() != features || test.x.ncols() != features {
        return Err(Error::config(format!(
            "the model takes {features} features, the data has {}",
            train.x.ncols()
        )));
    }
    let y = targets(&config.model, train);
    let (x0, x1) = share_f64(train.x.view(), fp, rng)?;
    let (t0, t1) = share_f64(test.x.view(), fp, rng)?;
    let (y0, y1, labels) = match config.mode {
        Mode::Rtas => {
            let (a, b) = share_f64(y.view(), fp, rng)?;
            (Some(a), Some(b), None)
        }
        Mode::RtasFast => (None, None, Some(y)),
    };
    Ok([
        HolderInput {
            x_train: x0,
            y_train: y0,
            labels,
            x_test: t0,
        },
        HolderInput {
            x_train: x1,
            y_train: y1,
            labels: None,
            x_test: t1,
        },
    ])
}

/// One party's result.
#[derive(Clone, Debug)]
pub struct PartyReport {
    /// The party.
    pub role: Role,
    /// Test-set scores (P0 only): logistic z, or CNN class scores.
    pub scores: Option<Array2<f64>>,
    /// SGD steps run.
    pub steps: usize,
    /// Wall-clock seconds of training (setup and inference excluded).
    pub train_seconds: f64,
    /// Traffic during training.
    pub train_stats: Stats,
    /// Wall-clock seconds of inference on the test features (P0, P1; the helper reports 0).
    pub infer_seconds: f64,
    /// Traffic during inference (P0, P1; the helper reports zeros).
    pub infer_stats: Stats,
    /// Traffic of the whole run.
    pub stats: Stats,
    /// P0 with [`TrainConfig::eval_each_epoch`]: the test scores after each epoch (the last
    /// equals `scores`); empty otherwise.
    pub epoch_scores: Vec<Array2<f64>>,
}

/// What [`serve_if_helper`] did with the transport.
enum Served {
    /// P2 ran the helper to the end.
    Helper(Box<PartyReport>),
    /// P0 or P1: the transport back, for the caller's protocol.
    Holder(Box<dyn Transport>),
}

/// Checks that the transport belongs to `role`; for P2, runs the helper service to the end.
fn serve_if_helper(
    role: Role,
    protocol: &ProtocolConfig,
    transport: Box<dyn Transport>,
) -> Result<Served> {
    if transport.role() != role {
        return Err(Error::config(format!(
            "transport of {} given to {role}",
            transport.role()
        )));
    }
    if role != Role::P2 {
        return Ok(Served::Holder(transport));
    }
    let start = Instant::now();
    let stats = Helper::new(transport, protocol)?.serve()?;
    Ok(Served::Helper(Box::new(PartyReport {
        role,
        scores: None,
        steps: 0,
        train_seconds: start.elapsed().as_secs_f64(),
        train_stats: stats,
        infer_seconds: 0.0,
        infer_stats: Stats::default(),
        stats,
        epoch_scores: Vec::new(),
    })))
}

/// Runs one party of training followed by inference on the test features. P2 needs no input;
/// P0 and P1 need their [`HolderInput`]. The same call serves the in-memory and the TCP transport.
pub fn run_party(
    role: Role,
    config: &TrainConfig,
    protocol: &ProtocolConfig,
    transport: Box<dyn Transport>,
    input: Option<HolderInput>,
) -> Result<PartyReport> {
    config.validate()?;
    let transport = match serve_if_helper(role, protocol, transport)? {
        Served::Helper(report) => return Ok(*report),
        Served::Holder(transport) => transport,
    };
    let input = input.ok_or_else(|| Error::config(format!("{role} needs its input shares")))?;
    let mut session = Session::new(transport, protocol)?;
    let run = holder(&mut session, config, &input);
    finish_holder(role, session, run)
}

/// Runs one party with the data in the clear at the label holder P0, as separate processes do:
/// P0 brings `(train, test)`, P1 and P2 bring nothing. P0 first opens the sizes and a digest of
/// its settings to P1 (one 10-word exchange; sizes are public), and P1 fails with
/// [`Error::Config`] if its own settings differ. Then P0 inputs the features (and under RTAS
/// the targets) with [`Session::input`], which costs no message: P1's share is drawn from the
/// seed it shares with P0. `config_for` builds the settings from the number of features (P1
/// learns it from P0). Data input is not counted in the reported training or inference time.
///
/// The announced sizes are checked before anything is allocated: the training and the test
/// features must each fit in `protocol.max_triple_words` words (the test features are one
/// operand of an inference product, which the helper refuses beyond that limit anyway), or both
/// holders fail with [`Error::Config`].
pub fn run_party_owner(
    role: Role,
    protocol: &ProtocolConfig,
    transport: Box<dyn Transport>,
    data: Option<(&Dataset, &Dataset)>,
    config_for: impl Fn(usize) -> TrainConfig,
) -> Result<PartyReport> {
    let transport = match serve_if_helper(role, protocol, transport)? {
        Served::Helper(report) => return Ok(*report),
        Served::Holder(transport) => transport,
    };
    let mut session = Session::new(transport, protocol)?;
    let run = owner_inputs(&mut session, protocol, data, config_for)
        .and_then(|(config, input)| holder(&mut session, &config, &input));
    finish_holder(role, session, run)
}

/// Ends a holder's session: its report after a clean finish, or an abort message to the peers
/// (so that they stop at once) and the error.
fn finish_holder(role: Role, session: Session, run: Result<HolderResult>) -> Result<PartyReport> {
    match run {
        Ok(h) => {
            let stats = session.finish()?;
            Ok(PartyReport {
                role,
                scores: h.scores,
                steps: h.steps,
                train_seconds: h.train_seconds,
                train_stats: h.train_stats,
                infer_seconds: h.infer_seconds,
                infer_stats: h.infer_stats,
                stats,
                epoch_scores: h.epoch_scores,
            })
        }
        Err(e) => {
            session.abort(&e.peer_reason());
            Err(e)
        }
    }
}

/// The digest of the settings both holders must agree on, which P0 opens with the sizes in
/// [`run_party_owner`] (FNV-1a of their debug form: a consistency check between honest parties,
/// not a commitment). `eval_each_epoch` came later: when off it is left out of the text, so that
/// digests (and the recorded transcripts of fuzz/corpus) stay what they were.
pub fn settings_digest(config: &TrainConfig) -> u64 {
    format!("{config:?}")
        .replace(", eval_each_epoch: false", "")
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
        })
}

/// The setup of [`run_party_owner`]: sizes and settings opened by P0, then the inputs.
fn owner_inputs(
    s: &mut Session,
    protocol: &ProtocolConfig,
    data: Option<(&Dataset, &Dataset)>,
    config_for: impl Fn(usize) -> TrainConfig,
) -> Result<(TrainConfig, HolderInput)> {
    let fp = s.fixed_point();
    let party = s.party();
    let data = match (party, data) {
        (Party::P0, Some(d)) => Some(d),
        (Party::P0, None) => return Err(Error::config("P0 (the label holder) needs the data")),
        (Party::P1, None) => None,
        (Party::P1, Some(_)) => {
            return Err(Error::config("only P0 (the label holder) brings data"));
        }
    };
    // P0's words: sizes and digest; P1 contributes zeros, so the opened value is P0's.
    let (mine, local_config) = match data {
        Some((train, test)) => {
            if train.x.ncols() != test.x.ncols() {
                return Err(Error::config("training and test features differ in number"));
            }
            let config = config_for(train.x.ncols());
            let words = [
                train.len() as u64,
                test.len() as u64,
                train.x.ncols() as u64,
                settings_digest(&config),
            ];
            (words, Some(config))
        }
        None => ([0; 4], None),
    };
    let opened = s.open(&Share::from_ring(
        party,
        0,
        Array2::from_shape_vec((1, 4), mine.to_vec()).map_err(|_| Error::Aborted)?,
    ))?;
    let w = opened.ring();
    let size = |i: usize| usize::try_from(w[[0, i]]).map_err(|_| Error::config("bad size"));
    let (n_train, n_test, features) = (size(0)?, size(1)?, size(2)?);
    let config = match local_config {
        Some(c) => c,
        None => config_for(features),
    };
    if settings_digest(&config) != w[[0, 3]] {
        return Err(Error::config(format!(
            "P0 and P1 disagree on the settings (P1 has {config:?})"
        )));
    }
    config.validate()?;
    if config.model.features() != features {
        return Err(Error::config(format!(
            "the model takes {} features, the data has {features}",
            config.model.features()
        )));
    }
    // The sizes come from P0: bound each of them on its own (a zero count must not let a huge
    // feature count through), then the matrices the inputs below allocate, and the model's
    // parameters, before anything is allocated.
    check_announced(protocol, &config, n_train, n_test, features)?;
    let encode = |x: &Array2<f64>| Public::encode(x.view(), fp);
    let (x_train, x_test, y) = match data {
        Some((train, test)) => (
            Some(encode(&train.x)?),
            Some(encode(&test.x)?),
            Some(targets(&config.model, train)),
        ),
        None => (None, None, None),
    };
    let x_train = s.input(Party::P0, x_train.as_ref(), (n_train, features))?;
    let x_test = s.input(Party::P0, x_test.as_ref(), (n_test, features))?;
    let (y_train, labels) = match config.mode {
        Mode::Rtas => {
            let y_pub = y.as_ref().map(encode).transpose()?;
            let shape = (n_train, config.model.outputs());
            (Some(s.input(Party::P0, y_pub.as_ref(), shape)?), None)
        }
        Mode::RtasFast => (None, y),
    };
    Ok((
        config,
        HolderInput {
            x_train,
            y_train,
            labels,
            x_test,
        },
    ))
}

/// Bounds the sizes P0 announced: every count and every matrix the holders allocate for them
/// (features, targets, parameters) within `max_triple_words`.
pub(crate) fn check_announced(
    protocol: &ProtocolConfig,
    config: &TrainConfig,
    n_train: usize,
    n_test: usize,
    features: usize,
) -> Result<()> {
    let max = protocol.max_triple_words;
    let outputs = config.model.outputs();
    let mut matrices = vec![
        ("training features", n_train, features),
        ("test features", n_test, features),
        ("training targets", n_train, outputs),
    ];
    for (r, c) in config.model.param_shapes() {
        matrices.push(("model parameters", r, c));
    }
    for (what, rows, cols) in matrices {
        if rows > max || cols > max || rows.checked_mul(cols).is_none_or(|w| w > max) {
            return Err(Error::config(format!(
                "{what} of {rows} x {cols} words exceed the limit of {max} words per matrix \
                 (ProtocolConfig::max_triple_words)"
            )));
        }
    }
    Ok(())
}

struct HolderResult {
    scores: Option<Array2<f64>>,
    steps: usize,
    train_seconds: f64,
    train_stats: Stats,
    infer_seconds: f64,
    infer_stats: Stats,
    epoch_scores: Vec<Array2<f64>>,
}

/// Field-wise sum of two traffic counts.
fn plus(a: &Stats, b: &Stats) -> Stats {
    Stats {
        bytes_sent: a.bytes_sent + b.bytes_sent,
        bytes_received: a.bytes_received + b.bytes_received,
        messages_sent: a.messages_sent + b.messages_sent,
        messages_received: a.messages_received + b.messages_received,
        rounds: a.rounds + b.rounds,
    }
}

fn holder(s: &mut Session, config: &TrainConfig, input: &HolderInput) -> Result<HolderResult> {
    let mut model = SecureModel::new(s, config)?;
    let before = s.stats();
    let start = Instant::now();
    let mut steps = 0;
    // Per-epoch evaluations (all but the last, which is the final inference below), kept out of
    // the training figures.
    let mut epoch_scores = Vec::new();
    let (mut eval_seconds, mut eval_stats) = (0.0, Stats::default());
    for epoch in 0..config.epochs {
        for batch in config.batches(input.x_train.shape().0, epoch) {
            let x = input.x_train.select_rows(&batch)?;
            let y = input
                .y_train
                .as_ref()
                .map(|y| y.select_rows(&batch))
                .transpose()?;
            let labels = input.labels.as_ref().map(|l| l.select(Axis(0), &batch));
            model.step(s, &x, y.as_ref(), labels.as_ref(), config.learning_rate)?;
            steps += 1;
        }
        if config.eval_each_epoch && epoch + 1 < config.epochs {
            let (at, t) = (s.stats(), Instant::now());
            epoch_scores.extend(model.predict(s, &input.x_test)?);
            eval_seconds += t.elapsed().as_secs_f64();
            eval_stats = plus(&eval_stats, &s.stats().since(&at));
        }
    }
    let train_seconds = start.elapsed().as_secs_f64() - eval_seconds;
    let train_stats = s.stats().since(&before).since(&eval_stats);
    let before = s.stats();
    let start = Instant::now();
    let scores = model.predict(s, &input.x_test)?;
    if config.eval_each_epoch {
        epoch_scores.extend(scores.clone());
    }
    Ok(HolderResult {
        scores,
        epoch_scores,
        steps,
        train_seconds,
        train_stats,
        infer_seconds: start.elapsed().as_secs_f64(),
        infer_stats: s.stats().since(&before),
    })
}

/// A whole local run and its accuracy.
#[derive(Clone, Debug)]
pub struct TrainReport {
    /// Test accuracy of the secure model.
    pub accuracy: f64,
    /// Test accuracy after each epoch, with [`TrainConfig::eval_each_epoch`] (else empty).
    pub epoch_accuracy: Vec<f64>,
    /// Reports of P0, P1 and P2.
    pub parties: [PartyReport; 3],
}

/// Fraction of correct predictions: logistic regression predicts "is a 0" when z > 0, the CNN
/// the class of highest score.
pub fn accuracy(spec: &ModelSpec, scores: &Array2<f64>, labels: &[usize]) -> f64 {
    let correct = scores
        .rows()
        .into_iter()
        .zip(labels)
        .filter(|(row, l)| match spec {
            ModelSpec::Logistic { .. } => (row[0] > 0.0) == (**l == 0),
            ModelSpec::Cnn(_) => {
                let best = row
                    .iter()
                    .enumerate()
                    .max_by(|a, b| a.1.total_cmp(b.1))
                    .map(|(i, _)| i);
                best == Some(**l)
            }
        })
        .count();
    correct as f64 / labels.len().max(1) as f64
}

/// Trains under sharing with the three parties as threads over the in-memory transport and
/// measures test accuracy.
pub fn train_local(
    config: &TrainConfig,
    protocol: &ProtocolConfig,
    train: &Dataset,
    test: &Dataset,
) -> Result<TrainReport> {
    let [i0, i1] = deal_inputs(config, protocol.fixed_point, train, test, &mut rand::rng())?;
    let [t0, t1, t2] = memory_network();
    run_three(config, test, [t0, t1, t2], [i0, i1], |role, t, input| {
        run_party(role, config, protocol, Box::new(t), input)
    })
}

/// The plaintext reference with the same seed, batches and hyperparameters: final parameters and
/// test accuracy.
pub fn train_plain(config: &TrainConfig, train: &Dataset, test: &Dataset) -> Result<(Params, f64)> {
    let (params, scores) = train_plain_epochs(
        &TrainConfig {
            eval_each_epoch: false,
            ..*config
        },
        train,
        test,
    )?;
    let last = scores.last().ok_or(Error::Aborted)?;
    Ok((params, accuracy(&config.model, last, &test.labels)))
}

/// [`train_plain`] with the test scores after each epoch when [`TrainConfig::eval_each_epoch`]
/// is set (always the final ones last): the reference curve for a secure run's `epoch_scores`.
pub fn train_plain_epochs(
    config: &TrainConfig,
    train: &Dataset,
    test: &Dataset,
) -> Result<(Params, Vec<Array2<f64>>)> {
    config.validate()?;
    let mut scores = Vec::new();
    let mut params = config.model.init(config.seed);
    let y = targets(&config.model, train);
    for epoch in 0..config.epochs {
        for batch in config.batches(train.len(), epoch) {
            let x = train.x.select(Axis(0), &batch);
            let yb = y.select(Axis(0), &batch);
            plain::train_step(
                &config.model,
                &mut params,
                x.view(),
                yb.view(),
                config.learning_rate,
            );
        }
        if config.eval_each_epoch && epoch + 1 < config.epochs {
            scores.push(plain::predict_scores(&config.model, &params, test.x.view()));
        }
    }
    scores.push(plain::predict_scores(&config.model, &params, test.x.view()));
    Ok((params, scores))
}

/// Like [`train_local`], but each party talks to the others over its own loopback TCP endpoint
/// (three threads, ports chosen by the OS): the same code path as three processes, without the
/// process start-up. Benchmarks use it. `security` chooses the channel (Noise with fresh keys,
/// or plaintext).
pub fn train_tcp_local(
    config: &TrainConfig,
    protocol: &ProtocolConfig,
    options: &TcpOptions,
    security: Security,
    train: &Dataset,
    test: &Dataset,
) -> Result<TrainReport> {
    let channels = security.channels()?;
    let [i0, i1] = deal_inputs(config, protocol.fixed_point, train, test, &mut rand::rng())?;
    let bind =
        || TcpListener::bind("127.0.0.1:0").map_err(|e| Error::io("binding a loopback port", e));
    let listeners = [bind()?, bind()?, bind()?];
    let mut addrs = Vec::with_capacity(3);
    for l in &listeners {
        addrs.push(
            l.local_addr()
                .map_err(|e| Error::io("reading a bound address", e))?,
        );
    }
    let addrs: [SocketAddr; 3] = [addrs[0], addrs[1], addrs[2]];
    run_three(
        config,
        test,
        listeners,
        [i0, i1],
        |role, listener, input| {
            let channel = &channels[role.index()];
            let transport = TcpTransport::with_listener(role, listener, &addrs, options, channel)?;
            run_party(role, config, protocol, Box::new(transport), input)
        },
    )
}

/// Runs P2 and P1 on scoped threads and P0 on this one, each with its own endpoint (a transport
/// or a listener), and reports the test accuracy P0 computed, or the root cause of a failure.
fn run_three<T: Send>(
    config: &TrainConfig,
    test: &Dataset,
    [e0, e1, e2]: [T; 3],
    [i0, i1]: [HolderInput; 2],
    party: impl Fn(Role, T, Option<HolderInput>) -> Result<PartyReport> + Sync,
) -> Result<TrainReport> {
    let (r0, r1, r2) = thread::scope(|scope| {
        let party = &party;
        let h2 = scope.spawn(move || party(Role::P2, e2, None));
        let h1 = scope.spawn(move || party(Role::P1, e1, Some(i1)));
        let r0 = party(Role::P0, e0, Some(i0));
        let join = |r: thread::Result<Result<PartyReport>>| {
            r.unwrap_or_else(|_| Err(Error::config("a party's thread panicked")))
        };
        (r0, join(h1.join()), join(h2.join()))
    });
    let parties = match (r0, r1, r2) {
        (Ok(a), Ok(b), Ok(c)) => [a, b, c],
        (a, b, c) => return Err(root_cause([a.err(), b.err(), c.err()])),
    };
    let scores = parties[0].scores.as_ref().ok_or(Error::Aborted)?;
    Ok(TrainReport {
        accuracy: accuracy(&config.model, scores, &test.labels),
        epoch_accuracy: parties[0]
            .epoch_scores
            .iter()
            .map(|s| accuracy(&config.model, s, &test.labels))
            .collect(),
        parties,
    })
}
