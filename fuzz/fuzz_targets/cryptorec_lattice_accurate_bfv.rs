//! The exact accurate mode of CryptoRec over BFV (`veil_cryptorec::lattice::accurate_bfv`) on
//! untrusted bytes, both directions: the first byte picks the parser, the rest is the message.
//!
//! - 0: the server's setup as a client reads it (`AccurateBfvClient::new`);
//! - 1: a client's key message as the server reads it (`AccurateBfvServer::client_keys`);
//! - 2: a query as the server answers it (`AccurateBfvServer::answer` with the fixture's keys);
//! - 3: a reply as the client decodes it (`AccurateBfvClient::decode_integers`).
//!
//! Any error is fine; a panic, hang or huge allocation is not. The fixture is
//! `veil_paillier_fuzz::cryptorec::lattice_accurate_bfv` (8 items, d = 2, N = 1024); seeds (setup,
//! keys, query, reply behind their selector bytes) come from `examples/make_seeds.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::lattice::AccurateBfvClient;
use veil_paillier_fuzz::cryptorec::lattice_accurate_bfv;

fuzz_target!(|data: &[u8]| {
    let Some((&which, message)) = data.split_first() else {
        return;
    };
    let fx = lattice_accurate_bfv();
    match which % 4 {
        0 => {
            let _ = AccurateBfvClient::new(message, true);
        }
        1 => {
            let _ = fx.server.client_keys(message);
        }
        2 => {
            let _ = fx.server.answer(&fx.keys, message);
        }
        _ => {
            let _ = fx.client.decode_integers(message);
        }
    }
});
