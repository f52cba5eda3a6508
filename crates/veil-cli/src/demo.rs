//! `veil demo`: the main job of the README. For now, a Paillier round trip with timings.

use std::time::Instant;

use clap::Args;
use veil_paillier::{KeyGenerator, PackingLayout, RandomnessPool};

use crate::io::{CliError, CliResult};

#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Paillier modulus size in bits.
    #[arg(long, default_value_t = 2048)]
    bits: u32,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

pub(crate) fn run(args: &DemoArgs) -> CliResult<()> {
    println!(
        "Veil demo: Paillier additive homomorphic encryption ({} bits)\n",
        args.bits
    );
    let t = Instant::now();
    let sk = KeyGenerator::new(args.bits).generate()?;
    let pk = sk.public_key();
    println!("  key generation (all cores)           {:>9.1} ms", ms(t));

    // Embedded default data: a small salary table that three parties want to total privately.
    let salaries: [i64; 6] = [52_000, 61_500, 48_250, 75_000, 39_900, 66_300];
    let t = Instant::now();
    let encrypted = pk.encrypt_batch(&salaries)?;
    println!(
        "  encrypt {} values (public key)        {:>9.1} ms",
        salaries.len(),
        ms(t)
    );

    let t = Instant::now();
    let total = encrypted
        .iter()
        .skip(1)
        .try_fold(encrypted[0].clone(), |acc, c| pk.add(&acc, c))?;
    println!("  homomorphic sum                      {:>9.3} ms", ms(t));

    let t = Instant::now();
    let raise = pk.mul_scalar(&total, 3)?;
    let raise = pk.add_plain(&raise, -1_000)?;
    println!("  3 * sum - 1000 (scalar, plaintext)   {:>9.3} ms", ms(t));

    let t = Instant::now();
    let decrypted = sk.decrypt_i64(&raise)?;
    println!("  decrypt (CRT, constant-time pow)     {:>9.1} ms", ms(t));
    let expected = 3 * salaries.iter().sum::<i64>() - 1_000;
    println!(
        "\n  result {decrypted}, expected {expected}: {}",
        if decrypted == expected {
            "OK"
        } else {
            "MISMATCH"
        }
    );

    let mut pool = RandomnessPool::new(pk);
    let t = Instant::now();
    pool.fill_with_private_key(&sk, 64)?;
    println!("\n  fill a pool of 64 randomizers (CRT)  {:>9.1} ms", ms(t));
    let t = Instant::now();
    let online = pool.encrypt(salaries[0])?;
    println!("  online encryption from the pool      {:>9.3} ms", ms(t));
    let ok_pool = sk.decrypt_i64(&online)? == salaries[0];

    let layout = PackingLayout::new(pk, 32, 16)?;
    let many: Vec<i64> = (0..500).map(|i| (i * 7_919) % 100_000 - 50_000).collect();
    let t = Instant::now();
    let packed = pk.encrypt_packed(&layout, &many)?;
    let packed_ms = ms(t);
    let unpacked = sk.decrypt_packed_batch(&packed)?;
    let ok_packed = unpacked
        .iter()
        .zip(&many)
        .all(|(a, &b)| *a == i128::from(b));
    println!(
        "  pack {} values into {} ciphertexts    {:>9.1} ms ({} slots of {} bits)",
        many.len(),
        packed.len(),
        packed_ms,
        layout.slots(),
        layout.slot_bits()
    );
    if decrypted == expected && ok_pool && ok_packed {
        println!("\nAll round trips OK.");
        Ok(())
    } else {
        Err(CliError::Check(
            "a decrypted value differs from the plaintext computation",
        ))
    }
}
