//! `veil`: demos and command-line tools for the Veil privacy-preserving ML primitives.

mod demo;
mod io;
mod paillier;

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
    /// Runs the main demo on embedded default data (a Paillier round trip with timings).
    Demo(demo::DemoArgs),
    /// Paillier tools, file-compatible with python-paillier's `pheutil`.
    #[command(subcommand)]
    Paillier(paillier::PaillierCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => demo::run(&args),
        Command::Paillier(cmd) => paillier::run(cmd),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
