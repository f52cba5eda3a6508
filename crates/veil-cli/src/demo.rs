//! `veil demo`: the main job of the README. CryptoRec (veil-cryptorec) end to end: train on the
//! embedded synthetic data (or `--data`), take a new user the model never saw, predict every
//! item through the encrypted fast-mode protocol over Paillier, and print the top items next to
//! the plaintext model's, with timings and message sizes.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use crate::cryptorec::{DataArgs, ModelArgs, item_ids, train_model};
use crate::io::{CliError, CliResult};
use crate::predict::{ListArgs, Shown, encrypted_prediction};

#[derive(Args)]
pub(crate) struct DemoArgs {
    #[command(flatten)]
    data: DataArgs,
    #[command(flatten)]
    model: ModelArgs,
    #[command(flatten)]
    list: ListArgs,
}

pub(crate) fn run(args: &DemoArgs) -> CliResult<()> {
    // Everything that can be refused is checked before training (the options by clap).
    let catalogue = args.list.catalogue()?;
    let (data, scale) = args.data.load()?;
    let source = args.data.data.as_ref().map_or_else(
        || "embedded synthetic data (MovieLens 100K's shape)".to_string(),
        |p: &PathBuf| p.display().to_string(),
    );
    let json = args.list.json;
    if !json {
        say!(
            "Veil demo: CryptoRec, private recommendations over Paillier ({} bits)\n\n  data: {source}: {} users x {} items, {} ratings ({scale})",
            args.list.bits,
            data.users(),
            data.items(),
            data.ratings().len()
        )?;
    }
    let cfg = args.model.config(scale, 1);
    let t = Instant::now();
    let (model, split) = train_model(&data, &cfg, true)?;
    let (train_s, rmse, bias_rmse) = (
        t.elapsed().as_secs_f64(),
        model.rmse(&split.test),
        model.bias_only_rmse(&split.test),
    );
    let Some((user, _)) = split.test.first() else {
        return Err(CliError::Input("no held-out user".into()));
    };
    if !json {
        say!(
            "  trained on {} users (d = {}) in {train_s:.1} s; held-out users: RMSE {rmse:.4} (bias-only {bias_rmse:.4})\n",
            split.train.len(),
            cfg.dim,
        )?;
        say!(
            "  a new user (not in training) with {} ratings asks for recommendations; the server sees\n  only {} ciphertexts, one per item, rated or not.\n",
            user.items.len(),
            data.items()
        )?;
    }
    let outcome = encrypted_prediction(&model, user, args.list.bits)?;
    let ids = item_ids(&data);
    let shown = Shown {
        ids: &ids,
        catalogue: catalogue.as_ref(),
        scale,
    };
    if json {
        let mut out = outcome.json(&shown, user, args.list.top);
        out["data"] = serde_json::json!({
            "source": source, "users": data.users(), "items": data.items(),
            "ratings": data.ratings().len(),
        });
        out["train_seconds"] = serde_json::json!(train_s);
        out["test_rmse"] = serde_json::json!(rmse);
        out["bias_only_rmse"] = serde_json::json!(bias_rmse);
        return say!("{out}");
    }
    outcome.print(&shown, user, args.list.top)?;
    say!("\nDecrypted predictions equal the quantized plaintext model's exactly: OK.")
}
