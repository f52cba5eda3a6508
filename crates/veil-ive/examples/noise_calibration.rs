//! Measures the noise budget a lookup leaves (with the secret key), to check the server's noise
//! model: `cargo run -p veil-ive --release --example noise_calibration -- [N] [p]`.

use veil_bfv::{Encoder, Preset};
use veil_ive::bfv::{BfvClient, BfvServer, NoiseModel, ive_parameters};
use veil_ive::{IveClient, IveScheme};

fn main() -> veil_ive::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(16384);
    let depth: u32 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(8);
    let preset = match n {
        4096 => Preset::N4096,
        8192 => Preset::N8192,
        16384 => Preset::N16384,
        _ => Preset::N32768,
    };
    let params = ive_parameters(preset)?;
    let client = BfvClient::generate(&params)?;
    let sk = client.secret_key();
    let model = NoiseModel::for_circuit(&params, 256, 0);
    let server = BfvServer::new(
        &params,
        client.public_key()?,
        client.relinearization_key()?,
        model,
    )?;
    let enc = Encoder::new(&params)?;
    let _ = enc;
    let x = client.encrypt(&[3, 5, 7])?;
    println!(
        "N = {n}, t = {}, log Q = {}",
        params.plaintext_modulus(),
        params.ciphertext_context().modulus_bits()
    );
    println!("fresh: budget {}", sk.noise_budget(&x)?);
    // Repeated squaring at level 0, and with the model's settling.
    let mut a = x.clone();
    let mut b = server.settle(x.clone(), depth)?;
    for d in 1..=depth {
        a = server.relinearize(&server.square(&a)?)?;
        b = server.relinearize(&server.square(&b)?)?;
        b = server.settle(b, depth - d)?;
        println!(
            "depth {d}: level 0 budget {}, settled (level {}) budget {}",
            sk.noise_budget(&a)?,
            b.level(),
            sk.noise_budget(&b)?
        );
    }
    println!(
        "model: {:?}, needed bits at depth 0: {}",
        server.noise_model(),
        server.needed_bits(0)
    );
    Ok(())
}
