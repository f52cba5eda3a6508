//! `veil rtas party|launch`: the RTAS protocol (veil-rtas) with every party in its own OS
//! process over TCP.
//!
//! `party` runs one party: P0 is the data owner and label holder (it loads the data, inputs it
//! as shares, and prints the accuracy), P1 the second share holder, P2 the helper. `launch`
//! starts the three `party` processes of this executable on free loopback ports, waits for them,
//! and prints time, traffic and rounds per party; if one fails it stops the others and reports
//! its error. Every party prints one machine-readable line, `VEIL-RTAS-REPORT {json}`, at the end,
//! which the launcher reads (and prints as one JSON document with `--json`). The launcher checks
//! the settings against the data before it starts any party.
//!
//! The connections run the Noise protocol (`Noise_KK_25519_AESGCM_SHA256`: mutual
//! authentication by static keys, then authenticated encryption): `keygen` makes a key pair per
//! party, and `party` takes its private key (`--key`) and the three public keys
//! (`--peer-keys`). `launch` makes fresh keys for its three processes in a private temporary
//! folder and removes them afterwards. Plaintext TCP only with `--insecure-plaintext` (the PRG
//! seeds then travel in the clear: tests on one machine only).

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use veil_rtas::model::{
    CnnSpec, Dataset, Mode, ModelSpec, PartyReport, TrainConfig, accuracy, load_digits, load_mnist,
    run_party_owner, synthetic_mnist,
};
use veil_rtas::transport::{Channel, NoiseKeys, PublicKey, StaticKey, TcpOptions, TcpTransport};
use veil_rtas::{ProtocolConfig, Role};

use crate::args::{positive, positive_real};
use crate::io::{CliError, CliResult};

/// The digits data set, relative to the repository's parent (`../shared/data` of the README),
/// looked for above the working directory and above the executable.
const DEFAULT_DATA: &str = "shared/data/sklearn/digits.csv";
/// Prefix of the one-line JSON report every party prints.
const REPORT_PREFIX: &str = "VEIL-RTAS-REPORT ";

/// RTAS commands.
#[derive(Subcommand)]
pub(crate) enum RtasCommand {
    /// Runs one party in this process: P0 (data owner and label holder), P1 (share holder) or
    /// P2 (helper).
    Party(PartyArgs),
    /// Starts the three parties as separate processes on free loopback ports, waits for them and
    /// prints time, bytes and rounds per party.
    Launch(LaunchArgs),
    /// Makes Noise key pairs: DIR/p0.key and DIR/p0.pub (and p1, p2); a `.key` file is the
    /// party's private key (owner-only), a `.pub` file goes to every party.
    Keygen(KeygenArgs),
}

/// `veil rtas keygen`.
#[derive(Args)]
pub(crate) struct KeygenArgs {
    /// Folder for the key files (created if missing; existing files are never overwritten).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Only this party's pair [default: all three].
    #[arg(long, value_enum)]
    role: Option<RoleArg>,
}

/// How a party protects its connections.
#[derive(Args, Clone)]
pub(crate) struct ChannelArgs {
    /// This party's private key file (`veil rtas keygen`).
    #[arg(
        long,
        value_name = "FILE",
        required_unless_present = "insecure_plaintext"
    )]
    key: Option<PathBuf>,
    /// The public key files of P0, P1 and P2, in that order.
    #[arg(
        long,
        value_name = "P0,P1,P2",
        value_delimiter = ',',
        required_unless_present = "insecure_plaintext"
    )]
    peer_keys: Vec<PathBuf>,
    /// Plain TCP without encryption or authentication: anyone on the path reads every share.
    /// For tests on one machine only.
    #[arg(long, conflicts_with_all = ["key", "peer_keys"])]
    insecure_plaintext: bool,
}

impl ChannelArgs {
    fn channel(&self) -> CliResult<Channel> {
        if self.insecure_plaintext {
            return Ok(Channel::InsecurePlaintext);
        }
        let key = self
            .key
            .as_ref()
            .ok_or_else(|| fail("--key is required (or --insecure-plaintext)"))?;
        let [p0, p1, p2]: [PathBuf; 3] = self
            .peer_keys
            .clone()
            .try_into()
            .map_err(|_| fail("--peer-keys takes three files, P0,P1,P2"))?;
        Ok(Channel::Noise(NoiseKeys {
            private: StaticKey::read(key).map_err(rtas_err)?,
            peers: [
                PublicKey::read(&p0).map_err(rtas_err)?,
                PublicKey::read(&p1).map_err(rtas_err)?,
                PublicKey::read(&p2).map_err(rtas_err)?,
            ],
        }))
    }
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RoleArg {
    P0,
    P1,
    P2,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModelArg {
    /// Logistic regression, "is it a 0" (paper sec. 5.3).
    Lr,
    /// The paper's CNN (sec. 5.4; conv 3x3 stride 1 on 8x8 digits, 4x4 stride 2 on 28x28).
    Cnn,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ModeArg {
    /// Everything under sharing.
    Rtas,
    /// RTAS-fast: first layer shared, the rest in the clear at the label holder P0.
    Fast,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TaskArg {
    /// Train, then infer on the test images and report the accuracy.
    Train,
    /// Inference only (initial weights), on the test images: for timing.
    Infer,
}

/// Settings shared by `party` and `launch` (P0 and P1 must be given the same ones).
#[derive(Args, Clone)]
pub(crate) struct RunArgs {
    #[arg(long, value_enum, default_value_t = ModelArg::Lr)]
    model: ModelArg,
    #[arg(long, value_enum, default_value_t = ModeArg::Rtas)]
    mode: ModeArg,
    #[arg(long, value_enum, default_value_t = TaskArg::Train)]
    task: TaskArg,
    /// scikit-learn's digits CSV (read by P0 only) [default: shared/data/sklearn/digits.csv in
    /// the nearest parent folder of the working directory or of `veil` that has it].
    #[arg(long)]
    data: Option<PathBuf>,
    /// A directory of MNIST IDX files, raw or .gz (read by P0 only): with `t10k-*` only, a
    /// seeded split of its 10,000 images (`--test` held out, 2,000 by default); with `train-*`
    /// too, the 60,000 training and 10,000 test images. P0 prints the test accuracy after every
    /// epoch.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["data", "synthetic_mnist"])]
    mnist: Option<PathBuf>,
    /// Use N synthetic 28x28 images (random pixels, for timing) instead of the digits data:
    /// N training images for `--task train`, N test images for `--task infer`.
    #[arg(long, value_name = "N", value_parser = positive)]
    synthetic_mnist: Option<usize>,
    /// Passes over the training set.
    #[arg(long, default_value_t = 10, value_parser = positive)]
    epochs: usize,
    /// Samples per SGD step (at most the number of training images).
    #[arg(long, default_value_t = 32, value_parser = positive)]
    batch: usize,
    /// SGD learning rate.
    #[arg(long, default_value_t = 0.1, value_parser = positive_real)]
    lr: f64,
    /// Test images: held out of the digits data (default 360) or of MNIST's t10k set (default
    /// 2000), or generated with `--synthetic-mnist` training (default 360).
    #[arg(long, value_parser = positive)]
    test: Option<usize>,
    /// Public seed of the initial weights and the batch order.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Seconds to wait for the peers to connect and for any single message.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    timeout: u64,
}

/// `veil rtas party`.
#[derive(Args)]
pub(crate) struct PartyArgs {
    /// This party's role.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// The three parties' addresses, P0,P1,P2 (each party listens on its own).
    #[arg(long, value_delimiter = ',', required = true)]
    addrs: Vec<SocketAddr>,
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    channel: ChannelArgs,
}

/// `veil rtas launch`.
#[derive(Args)]
pub(crate) struct LaunchArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Run the parties over plain TCP instead of Noise (tests on one machine only).
    #[arg(long)]
    insecure_plaintext: bool,
    /// Seconds after which the launcher stops all parties.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    deadline: u64,
    /// Print the parties' reports as one JSON document instead of the table.
    #[arg(long)]
    json: bool,
}

fn fail(msg: impl Into<String>) -> CliError {
    CliError::Input(msg.into())
}

fn rtas_err(e: veil_rtas::Error) -> CliError {
    fail(e.to_string())
}

pub(crate) fn run(cmd: RtasCommand) -> CliResult<()> {
    match cmd {
        RtasCommand::Party(args) => party(&args),
        RtasCommand::Launch(args) => launch(&args),
        RtasCommand::Keygen(args) => keygen(&args),
    }
}

/// Writes the key pairs of `roles` into `dir` as `p<i>.key` and `p<i>.pub`.
fn write_keys(dir: &Path, roles: &[Role]) -> CliResult<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| fail(format!("creating {}: {e}", dir.display())))?;
    let mut written = Vec::new();
    for role in roles {
        let name = role.to_string().to_lowercase();
        let (private, public) = StaticKey::generate().map_err(rtas_err)?;
        let (k, p) = (
            dir.join(format!("{name}.key")),
            dir.join(format!("{name}.pub")),
        );
        private.write(&k).map_err(rtas_err)?;
        public.write(&p).map_err(rtas_err)?;
        written.extend([k, p]);
    }
    Ok(written)
}

fn keygen(args: &KeygenArgs) -> CliResult<()> {
    let roles: Vec<Role> = match args.role {
        Some(r) => vec![role_of(r)],
        None => Role::ALL.to_vec(),
    };
    for path in write_keys(&args.out, &roles)? {
        say!("wrote {}", path.display())?;
    }
    Ok(())
}

impl RunArgs {
    /// The settings for data with `features` features.
    fn config(&self, features: usize) -> TrainConfig {
        let model = match self.model {
            ModelArg::Lr => ModelSpec::Logistic { features },
            ModelArg::Cnn if features == 64 => ModelSpec::Cnn(CnnSpec::digits()),
            ModelArg::Cnn => ModelSpec::Cnn(CnnSpec::mnist()),
        };
        let mode = match self.mode {
            ModeArg::Rtas => Mode::Rtas,
            ModeArg::Fast => Mode::RtasFast,
        };
        let epochs = match self.task {
            TaskArg::Train => self.epochs,
            TaskArg::Infer => 0,
        };
        TrainConfig {
            model,
            mode,
            epochs,
            batch_size: self.batch,
            learning_rate: self.lr,
            seed: self.seed,
            eval_each_epoch: self.mnist.is_some(),
        }
    }

    /// The digits path to use, or a clear error if there is none.
    fn data_path(&self) -> CliResult<PathBuf> {
        let hint = "pass --data PATH (scikit-learn's digits.csv) or --synthetic-mnist N \
                    (synthetic 28x28 images, for timing)";
        match &self.data {
            Some(path) if path.exists() => Ok(path.clone()),
            Some(path) => Err(fail(format!("no data at {}: {hint}", path.display()))),
            None => default_data().ok_or_else(|| {
                fail(format!(
                    "no {DEFAULT_DATA} above the working directory or veil: {hint}"
                ))
            }),
        }
    }

    /// Refuses settings that cannot run on the data: a batch larger than the training set.
    fn check(&self, train: &Dataset) -> CliResult<()> {
        if self.task == TaskArg::Train && self.batch > train.len() {
            return Err(fail(format!(
                "--batch {} exceeds the {} training images: no step would run",
                self.batch,
                train.len()
            )));
        }
        Ok(())
    }

    /// Images held out for testing.
    fn test_count(&self) -> usize {
        let default = if self.mnist.is_some() { 2000 } else { 360 };
        self.test.unwrap_or(default)
    }

    /// P0's (train, test) data.
    fn load(&self) -> CliResult<(Dataset, Dataset)> {
        if let Some(dir) = &self.mnist {
            let (train, test) = load_mnist(dir, self.test_count(), 42).map_err(rtas_err)?;
            if train.is_empty() {
                return Err(fail(format!(
                    "--test {} leaves no training images out of {}",
                    self.test_count(),
                    test.len()
                )));
            }
            return Ok(match self.task {
                TaskArg::Train => (train, test),
                TaskArg::Infer => (Dataset::empty(test.x.ncols()), test),
            });
        }
        let test_count = self.test_count();
        match (self.synthetic_mnist, self.task) {
            (Some(n), TaskArg::Train) => Ok((
                synthetic_mnist(n, self.seed),
                synthetic_mnist(test_count, self.seed + 1),
            )),
            (Some(n), TaskArg::Infer) => Ok((
                synthetic_mnist(0, self.seed),
                synthetic_mnist(n, self.seed + 1),
            )),
            (None, task) => {
                let data = load_digits(&self.data_path()?).map_err(rtas_err)?;
                if test_count >= data.len() {
                    return Err(fail(format!(
                        "--test {} leaves no training data out of {} images",
                        test_count,
                        data.len()
                    )));
                }
                let (train, test) = data.split(test_count, 42);
                Ok(match task {
                    TaskArg::Train => (train, test),
                    TaskArg::Infer => (Dataset::empty(test.x.ncols()), test),
                })
            }
        }
    }

    /// The same settings as command-line arguments (for the launched parties).
    fn to_args(&self) -> Vec<String> {
        let value = |v: &dyn ValueEnumName| v.name();
        let mut a = vec![
            "--model".into(),
            value(&self.model),
            "--mode".into(),
            value(&self.mode),
            "--task".into(),
            value(&self.task),
            "--epochs".into(),
            self.epochs.to_string(),
            "--batch".into(),
            self.batch.to_string(),
            "--lr".into(),
            self.lr.to_string(),
            "--seed".into(),
            self.seed.to_string(),
            "--timeout".into(),
            self.timeout.to_string(),
        ];
        if let Some(n) = self.test {
            a.extend(["--test".into(), n.to_string()]);
        }
        if let Some(p) = &self.mnist {
            a.extend(["--mnist".into(), p.display().to_string()]);
        }
        if let Some(p) = &self.data {
            a.extend(["--data".into(), p.display().to_string()]);
        }
        if let Some(n) = self.synthetic_mnist {
            a.extend(["--synthetic-mnist".into(), n.to_string()]);
        }
        a
    }
}

/// The command-line name of a value.
trait ValueEnumName {
    fn name(&self) -> String;
}

impl<T: ValueEnum> ValueEnumName for T {
    fn name(&self) -> String {
        self.to_possible_value()
            .map(|v| v.get_name().to_owned())
            .unwrap_or_default()
    }
}

fn role_of(r: RoleArg) -> Role {
    match r {
        RoleArg::P0 => Role::P0,
        RoleArg::P1 => Role::P1,
        RoleArg::P2 => Role::P2,
    }
}

fn party(args: &PartyArgs) -> CliResult<()> {
    let role = role_of(args.role);
    let run = &args.run;
    let addrs: [SocketAddr; 3] = args
        .addrs
        .clone()
        .try_into()
        .map_err(|_| fail("--addrs takes three addresses, P0,P1,P2"))?;
    // P0 loads its data before connecting, so that a missing file fails fast.
    let data = if role == Role::P0 {
        let (train, test) = run.load()?;
        run.check(&train)?;
        Some((train, test))
    } else {
        None
    };
    let timeout = Duration::from_secs(run.timeout.max(1));
    let protocol = ProtocolConfig {
        timeout,
        ..ProtocolConfig::default()
    };
    let options = TcpOptions {
        connect_timeout: timeout,
        ..TcpOptions::for_protocol(&protocol)
    };
    let channel = args.channel.channel()?;
    let start = Instant::now();
    let transport = TcpTransport::connect(role, &addrs, &options, &channel).map_err(rtas_err)?;
    let report = run_party_owner(
        role,
        &protocol,
        Box::new(transport),
        data.as_ref().map(|(a, b)| (a, b)),
        |features| run.config(features),
    )
    .map_err(rtas_err)?;
    let wall = start.elapsed().as_secs_f64();
    let (acc, epoch_acc) = match (&report.scores, &data) {
        (Some(scores), Some((train, test))) => {
            let model = run.config(train.x.ncols()).model;
            let of = |s| accuracy(&model, s, &test.labels);
            let epochs: Vec<f64> = report.epoch_scores.iter().map(of).collect();
            (Some(of(scores)), epochs)
        }
        _ => (None, Vec::new()),
    };
    for (e, a) in epoch_acc.iter().enumerate() {
        say!("{role}: epoch {} test accuracy {:.2}%", e + 1, 100.0 * a)?;
    }
    if let Some(a) = acc {
        if run.task == TaskArg::Train && run.synthetic_mnist.is_none() {
            say!(
                "{role}: test accuracy {:.2}% on {} images",
                100.0 * a,
                data.as_ref().map_or(0, |(_, t)| t.len())
            )?;
        }
    }
    print_stats(&report)?;
    let mut json = report_json(&report, acc, wall);
    json["epoch_accuracy"] = serde_json::json!(epoch_acc);
    say!("{REPORT_PREFIX}{json}")?;
    Ok(())
}

/// [`DEFAULT_DATA`] under the nearest ancestor of the working directory or of the executable
/// that has it.
fn default_data() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok();
    let exe = std::env::current_exe().ok();
    [cwd, exe]
        .into_iter()
        .flatten()
        .flat_map(|start| {
            start
                .ancestors()
                .map(|a| a.join(DEFAULT_DATA))
                .collect::<Vec<_>>()
        })
        .find(|p| p.exists())
}

fn print_stats(r: &PartyReport) -> CliResult<()> {
    let s = &r.stats;
    say!(
        "{}: {} steps in {:.3} s ({:.2} ms/step), inference {:.3} s; sent {} bytes in {} frames, \
         received {} bytes in {} frames, {} rounds",
        r.role,
        r.steps,
        r.train_seconds,
        1e3 * r.train_seconds / r.steps.max(1) as f64,
        r.infer_seconds,
        s.bytes_sent,
        s.messages_sent,
        s.bytes_received,
        s.messages_received,
        s.rounds
    )
}

fn report_json(r: &PartyReport, acc: Option<f64>, wall: f64) -> serde_json::Value {
    serde_json::json!({
        "role": r.role.to_string(),
        "steps": r.steps,
        "train_seconds": r.train_seconds,
        "train_bytes_sent": r.train_stats.bytes_sent,
        "train_rounds": r.train_stats.rounds,
        "infer_seconds": r.infer_seconds,
        "infer_bytes_sent": r.infer_stats.bytes_sent,
        "infer_rounds": r.infer_stats.rounds,
        "bytes_sent": r.stats.bytes_sent,
        "bytes_received": r.stats.bytes_received,
        "messages_sent": r.stats.messages_sent,
        "rounds": r.stats.rounds,
        "accuracy": acc,
        "wall_seconds": wall,
    })
}

/// Three free loopback addresses (bound and released: another process could take one in
/// between, in which case the party fails to bind and the launcher reports it).
fn free_addrs() -> CliResult<[SocketAddr; 3]> {
    let bind = || {
        TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| fail(format!("finding a free port: {e}")))
    };
    let (a, b, c) = (bind()?, bind()?, bind()?);
    if a == b || b == c || a == c {
        return Err(fail("the OS gave the same port twice; try again"));
    }
    Ok([a, b, c])
}

/// A running party process and the threads collecting its output.
struct Running {
    role: Role,
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

fn collect(stream: Option<impl Read + Send + 'static>) -> Option<JoinHandle<String>> {
    stream.map(|mut s| {
        thread::spawn(move || {
            let mut out = String::new();
            let _ignored = s.read_to_string(&mut out);
            out
        })
    })
}

fn join_output(h: Option<JoinHandle<String>>) -> String {
    h.and_then(|h| h.join().ok()).unwrap_or_default()
}

fn launch(args: &LaunchArgs) -> CliResult<()> {
    // The settings are checked here, against the data, before any party starts: a bad one is
    // then one clear error instead of three parties failing one after the other.
    let mut run = args.run.clone();
    if run.synthetic_mnist.is_none() && run.mnist.is_none() {
        run.data = Some(run.data_path()?);
    }
    let (train, _) = run.load()?;
    run.check(&train)?;
    let run = &run;
    let addrs = free_addrs()?;
    let addr_list = addrs.map(|a| a.to_string()).join(",");
    let exe = std::env::current_exe().map_err(|e| fail(format!("locating veil: {e}")))?;
    // Fresh keys for this run, in a folder of our own, removed when the run ends.
    let keys = if args.insecure_plaintext {
        None
    } else {
        Some(KeyDir::new()?)
    };
    let mut parties: Vec<Running> = Vec::new();
    for role in [Role::P2, Role::P1, Role::P0] {
        let name = role.to_string().to_lowercase();
        let channel_args: Vec<String> = match &keys {
            None => vec!["--insecure-plaintext".into()],
            Some(dir) => vec![
                "--key".into(),
                dir.path.join(format!("{name}.key")).display().to_string(),
                "--peer-keys".into(),
                ["p0", "p1", "p2"]
                    .map(|p| dir.path.join(format!("{p}.pub")).display().to_string())
                    .join(","),
            ],
        };
        let spawned = Command::new(&exe)
            .args(["rtas", "party", "--role", &name])
            .args(["--addrs", &addr_list])
            .args(channel_args)
            .args(run.to_args())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn();
        match spawned {
            Ok(mut child) => {
                let stdout = collect(child.stdout.take());
                let stderr = collect(child.stderr.take());
                parties.push(Running {
                    role,
                    child,
                    stdout,
                    stderr,
                });
            }
            Err(e) => {
                stop_all(&mut parties);
                return Err(fail(format!("starting {role}: {e}")));
            }
        }
    }
    let outcome = supervise(&mut parties, Duration::from_secs(args.deadline));
    let outputs: Vec<(Role, String, String)> = parties
        .into_iter()
        .map(|p| (p.role, join_output(p.stdout), join_output(p.stderr)))
        .collect();
    if let Err((first, failed)) = outcome {
        return Err(fail(failure_message(first, &failed, &outputs)));
    }
    print_table(&outputs, run, args.json)
}

/// A private temporary folder with the three parties' keys, removed on drop.
struct KeyDir {
    path: PathBuf,
}

impl KeyDir {
    fn new() -> CliResult<KeyDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let path =
            std::env::temp_dir().join(format!("veil-rtas-keys-{}-{nanos:09}", std::process::id()));
        // create_dir (not _all): fails if the name is taken, so the folder is ours.
        std::fs::create_dir(&path)
            .map_err(|e| fail(format!("creating {}: {e}", path.display())))?;
        let dir = KeyDir { path };
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir.path, std::fs::Permissions::from_mode(0o700))
                .map_err(|e| fail(format!("securing {}: {e}", dir.path.display())))?;
        }
        write_keys(&dir.path, &Role::ALL)?;
        Ok(dir)
    }
}

impl Drop for KeyDir {
    fn drop(&mut self) {
        let _ignored = std::fs::remove_dir_all(&self.path);
    }
}

/// A party's error message without the `error: ` every message starts with.
fn party_error(stderr: &str) -> &str {
    let e = stderr.trim();
    e.strip_prefix("error:").unwrap_or(e).trim()
}

/// The launcher's error: the first party to fail and its own message first (the cause), then
/// what the others said (usually that it went away). Empty messages are left out.
fn failure_message(first: Option<Role>, what: &str, outputs: &[(Role, String, String)]) -> String {
    let own = |r: Role| {
        outputs
            .iter()
            .find(|(role, _, _)| *role == r)
            .map(|(_, _, e)| party_error(e))
            .filter(|e| !e.is_empty())
    };
    let mut msg = match first.and_then(|r| own(r).map(|e| (r, e))) {
        Some((r, e)) => format!("{r}: {e} (the other parties were stopped)"),
        None => what.to_owned(),
    };
    for (role, _, err) in outputs {
        let err = party_error(err);
        if Some(*role) != first && !err.is_empty() {
            msg.push_str(&format!("\n  then {role}: {err}"));
        }
    }
    msg
}

/// Waits for all parties; on the first failure (or at the deadline) stops the others. The error
/// names the party that failed first, if one did.
fn supervise(parties: &mut [Running], deadline: Duration) -> Result<(), (Option<Role>, String)> {
    let start = Instant::now();
    let mut done = vec![false; parties.len()];
    loop {
        for (i, p) in parties.iter_mut().enumerate() {
            if done[i] {
                continue;
            }
            match p.child.try_wait() {
                Ok(Some(status)) if status.success() => done[i] = true,
                Ok(Some(status)) => {
                    let role = p.role;
                    stop_all(parties);
                    return Err((
                        Some(role),
                        format!("{role} failed ({status}); the other parties were stopped"),
                    ));
                }
                Ok(None) => {}
                Err(e) => {
                    let role = p.role;
                    stop_all(parties);
                    return Err((None, format!("waiting for {role}: {e}")));
                }
            }
        }
        if done.iter().all(|&d| d) {
            return Ok(());
        }
        if start.elapsed() > deadline {
            stop_all(parties);
            return Err((
                None,
                format!(
                    "the parties did not finish within the --deadline of {} s and were stopped",
                    deadline.as_secs()
                ),
            ));
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn stop_all(parties: &mut [Running]) {
    for p in parties.iter_mut() {
        if let Ok(None) = p.child.try_wait() {
            let _ignored = p.child.kill();
        }
        let _ignored = p.child.wait();
    }
}

fn print_table(outputs: &[(Role, String, String)], run: &RunArgs, json: bool) -> CliResult<()> {
    let mut rows = Vec::new();
    for (role, out, _) in outputs {
        let json = out
            .lines()
            .find_map(|l| l.strip_prefix(REPORT_PREFIX))
            .ok_or_else(|| fail(format!("{role} printed no report")))?;
        let v: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| fail(format!("{role}'s report is not JSON: {e}")))?;
        rows.push((*role, v));
    }
    rows.sort_by_key(|(r, _)| r.index());
    if json {
        let parties: Vec<&serde_json::Value> = rows.iter().map(|(_, v)| v).collect();
        return say!(
            "{}",
            serde_json::json!({
                "model": run.model.name(), "mode": run.mode.name(), "task": run.task.name(),
                "parties": parties,
            })
        );
    }
    for (role, out, _) in outputs {
        if *role == Role::P0 {
            let shown = |l: &&str| l.starts_with("P0: test accuracy") || l.starts_with("P0: epoch");
            for line in out.lines().filter(shown) {
                say!("{line}")?;
            }
        }
    }
    let task = match run.task {
        TaskArg::Train => "train",
        TaskArg::Infer => "infer",
    };
    say!(
        "{} {} {task}: three processes over loopback TCP",
        run.model.name(),
        run.mode.name()
    )?;
    say!(
        "| party | steps | train s | ms/step | infer s | sent MB | received MB | rounds | wall s |"
    )?;
    say!("|---|---|---|---|---|---|---|---|---|")?;
    for (role, v) in &rows {
        let f = |k: &str| v.get(k).and_then(serde_json::Value::as_f64).unwrap_or(0.0);
        let steps = f("steps");
        say!(
            "| {role} | {} | {:.3} | {:.2} | {:.3} | {:.3} | {:.3} | {} | {:.2} |",
            steps,
            f("train_seconds"),
            if steps > 0.0 {
                1e3 * f("train_seconds") / steps
            } else {
                0.0
            },
            f("infer_seconds"),
            f("bytes_sent") / 1e6,
            f("bytes_received") / 1e6,
            f("rounds"),
            f("wall_seconds"),
        )?;
    }
    Ok(())
}
