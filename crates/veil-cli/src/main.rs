//! `veil`: demos and command-line tools for the Veil privacy-preserving ML primitives.

mod cryptorec;
mod demo;
mod io;
mod paillier;
mod rtas;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Paillier tools, file-compatible with python-paillier's `pheutil`.
    #[command(subcommand)]
    Paillier(paillier::PaillierCommand),
    /// RTAS: private training and inference with three parties (veil-rtas), one process each.
    #[command(subcommand)]
    Rtas(rtas::RtasCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Cryptorec(cmd) => cryptorec::run(cmd),
        Command::Paillier(cmd) => paillier::run(cmd),
        Command::Rtas(cmd) => rtas::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
