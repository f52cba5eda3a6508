//! Times key generation with and without safe primes: `cargo run --release --example safe_prime_keygen -- 2048`.

use std::time::Instant;

use veil_paillier::KeyGenerator;

fn main() -> Result<(), veil_paillier::Error> {
    let bits = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2048);
    for safe in [false, true] {
        let t = Instant::now();
        let sk = KeyGenerator::new(bits).safe_primes(safe).generate()?;
        println!(
            "bits={bits} safe_primes={safe}: {:.2} s ({} threads)",
            t.elapsed().as_secs_f64(),
            rayon::current_num_threads()
        );
        assert_eq!(sk.public_key().bits(), bits);
    }
    Ok(())
}
