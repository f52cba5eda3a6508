//! `veil`: demos and command-line tools for the Veil privacy-preserving ML primitives.

// First, so that its `say!` macro is in scope in the other modules.
#[macro_use]
mod io;
mod args;
mod cryptorec;
mod cryptorec_load;
mod cryptorec_net;
mod demo;
mod ive;
mod paillier;
mod predict;
mod progress;
mod reacthe;
mod rtas;

use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};
use clap_complete::Shell;

/// Privacy-preserving machine-learning primitives.
#[derive(Parser)]
#[command(name = "veil", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs the main demo: private recommendations with CryptoRec over Paillier, on embedded
    /// synthetic data or `--data PATH`.
    Demo(demo::DemoArgs),
    /// CryptoRec: train, evaluate, and predict through the encrypted protocol.
    #[command(subcommand)]
    Cryptorec(cryptorec::CryptorecCommand),
    /// Private embedding lookup (IVE) over BFV: benchmarks against one-hot, encrypted FastText.
    #[command(subcommand)]
    Ive(ive::IveCommand),
    /// Paillier tools, file-compatible with python-paillier's `pheutil`.
    #[command(subcommand)]
    Paillier(paillier::PaillierCommand),
    /// ReActHE: HE-friendly residual power-activation networks, trained and run under CKKS.
    #[command(subcommand)]
    Reacthe(reacthe::ReactheCommand),
    /// RTAS: private training and inference with three parties (veil-rtas), one process each.
    #[command(subcommand)]
    Rtas(rtas::RtasCommand),
    /// Prints a shell completion script: `veil completions bash > ~/.local/share/bash-completion/completions/veil`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Cryptorec(cmd) => cryptorec::run(cmd),
        Command::Ive(cmd) => ive::run(cmd),
        Command::Paillier(cmd) => paillier::run(cmd),
        Command::Reacthe(cmd) => reacthe::run(cmd),
        Command::Rtas(cmd) => rtas::run(cmd),
        Command::Completions { shell } => completions(shell),
    };
    match result {
        // The reader of our output went away (`veil demo | head -1`): stop quietly.
        Ok(()) | Err(io::CliError::ClosedPipe) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the completion script of `shell` to stdout (a closed pipe ends it quietly).
fn completions(shell: Shell) -> io::CliResult<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "veil", &mut script);
    say!("{}", String::from_utf8_lossy(&script).trim_end())
}
