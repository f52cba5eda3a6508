//! Writes seed inputs for the `ive_query`, `ive_response`, `ive_ckks_query` and
//! `ive_ckks_response` fuzz targets (same parameters and table shapes as the targets):
//! `cargo run -p veil-ive --example fuzz_seeds -- fuzz/corpus`. `ive_query` also gets a
//! two-digit query (`seed-digits-valid`) for the target's digit server.

use veil_ive::bfv::{BfvClient, BfvServer, NoiseModel, ive_parameters};
use veil_ive::ckks::CkksClient;
use veil_ive::{DigitBasis, ExactBasis, IveClient, Query, Response};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "fuzz/corpus".into());
    let params = ive_parameters(veil_bfv::Preset::N4096)?;
    let sk = veil_bfv::SecretKey::generate_with(
        &params,
        &mut veil_ring::sample::Sampler::from_seed([3; 32]),
    )?;
    let client = BfvClient::from_secret_key(sk)?;
    let basis = ExactBasis::roots_of_unity(16, params.plaintext())?;
    let query = client.query(&basis, &[1, 5, 9])?;
    // The same 16-row table split into two digits of 4 (the target's digit server).
    let digit_query =
        client.digit_query(&DigitBasis::new(&[4, 4], params.plaintext())?, &[1, 5, 9])?;
    let server = BfvServer::new(
        &params,
        client.public_key()?,
        client.relinearization_key()?,
        NoiseModel::for_circuit(&params, 16, 0),
    )?;
    let parsed = Query::from_bytes(&server, 16, &query)?;
    let column = client.encrypt(&[4, 5])?.mod_switch_to_last()?;
    let response = Response {
        count: parsed.count,
        columns: vec![column.clone(), column],
    }
    .to_bytes(&client)?;
    // CKKS: the targets' small insecure parameters, an 8-row table (depth 3: level 5 suffices).
    let ckks = veil_ckks::CkksParametersBuilder::new()
        .degree(1024)
        .moduli_sizes(&[50, 49, 49, 49, 49, 49, 50])
        .log_scale(49)
        .allow_below_128_bit_security()
        .build()?;
    let ckks_client = CkksClient::from_secret_key(veil_ckks::SecretKey::generate_with(
        &ckks,
        &mut veil_ckks::Sampler::from_seed([3; 32]),
    )?);
    let ckks_query = ckks_client.query(8, &[1, 5, 7])?;
    let ckks_column = ckks_client.encrypt(&[0.25, -0.5])?.mod_drop_to(0)?;
    let ckks_response = Response {
        count: 3,
        columns: vec![ckks_column.clone(), ckks_column],
    }
    .to_bytes(&ckks_client)?;
    for (name, bytes) in [
        ("ive_query", query),
        ("ive_response", response),
        ("ive_ckks_query", ckks_query),
        ("ive_ckks_response", ckks_response),
    ] {
        let d = std::path::Path::new(&dir).join(name);
        std::fs::create_dir_all(&d)?;
        std::fs::write(d.join("seed-valid"), &bytes)?;
        std::fs::write(
            d.join("seed-truncated"),
            bytes.get(..bytes.len() / 2).unwrap_or(&[]),
        )?;
    }
    let d = std::path::Path::new(&dir).join("ive_query");
    std::fs::write(d.join("seed-digits-valid"), &digit_query)?;
    Ok(())
}
