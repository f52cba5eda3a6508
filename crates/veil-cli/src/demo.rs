//! `veil demo`: the main job of the README. CryptoRec (veil-cryptorec) end to end: train on the
//! embedded synthetic data (or `--data`), take a new user the model never saw, predict every
//! item through the encrypted fast-mode protocol over Paillier, and print the top items next to
//! the plaintext model's, with timings and message sizes.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use veil_cryptorec::model::TrainConfig;

use crate::cryptorec::{DataArgs, encrypted_prediction, train_model};
use crate::io::CliResult;

#[derive(Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Paillier modulus size in bits.
    #[arg(long, default_value_t = 2048)]
    bits: u32,
    /// Latent dimension d of the model.
    #[arg(long, default_value_t = 100)]
    dim: usize,
    /// How many items to list.
    #[arg(long, default_value_t = 10)]
    top: usize,
}

pub(crate) fn run(args: &DemoArgs) -> CliResult<()> {
    let data = args.data.load()?;
    let source = args.data.data.as_ref().map_or_else(
        || "embedded synthetic data (MovieLens 100K's shape)".to_string(),
        |p: &PathBuf| p.display().to_string(),
    );
    println!(
        "Veil demo: CryptoRec, private recommendations over Paillier ({} bits)\n\n  data: {source}: {} users x {} items, {} ratings",
        args.bits,
        data.users(),
        data.items(),
        data.ratings().len()
    );
    let cfg = TrainConfig {
        dim: args.dim,
        ..TrainConfig::default()
    };
    let t = Instant::now();
    let (model, split) = train_model(&data, &cfg)?;
    println!(
        "  trained on {} users (d = {}) in {:.1} s; held-out users: RMSE {:.4} (bias-only {:.4})\n",
        split.train.len(),
        args.dim,
        t.elapsed().as_secs_f64(),
        model.rmse(&split.test),
        model.bias_only_rmse(&split.test)
    );
    let Some((user, _)) = split.test.first() else {
        return Err(crate::io::CliError::Input("no held-out user".into()));
    };
    let ids: Vec<u64> = (0..data.items() as u32)
        .map(|i| data.item_id(i).unwrap_or(u64::from(i)))
        .collect();
    println!(
        "  a new user (not in training) with {} ratings asks for recommendations; the server sees\n  only {} ciphertexts, one per item, rated or not.\n",
        user.items.len(),
        data.items()
    );
    let outcome = encrypted_prediction(&model, user, args.bits)?;
    outcome.print(&ids, user, args.top);
    println!("\nDecrypted predictions equal the quantized plaintext model's exactly: OK.");
    Ok(())
}
