//! The lattice (BFV) fast mode of CryptoRec on untrusted bytes, both directions: the first byte
//! picks the parser, the rest is the message.
//!
//! - 0: the server's setup as a client reads it (`FastClient::new`);
//! - 1: a client's key message as the server reads it (`FastServer::client_keys`);
//! - 2: a query as the server answers it (`FastServer::answer` with the fixture's keys);
//! - 3: a reply as the client decodes it (`FastClient::decode_integers`).
//!
//! Any error is fine; a panic, hang or huge allocation is not. The fixture
//! (`src/cryptorec.rs`, `lattice`: a toy model at N = 1024, below 128-bit security, to keep each
//! run short) is built once per process.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_cryptorec::lattice::FastClient;

fuzz_target!(|data: &[u8]| {
    let Some((&which, message)) = data.split_first() else {
        return;
    };
    let fx = veil_paillier_fuzz::cryptorec::lattice();
    match which % 4 {
        0 => {
            let _ = FastClient::new(message, true);
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
