//! veil-rtas: the Noise key files (`parse_key_text`, as `StaticKey::read` and `PublicKey::read`
//! parse them), each input tried as a private and as a public key. A key that parses is written
//! back in the canonical form and parses to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veil_rtas::transport::{key_file_header, parse_key_text};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for private in [true, false] {
        if let Ok(key) = parse_key_text(&text, private) {
            let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
            let again = format!("{}\n{hex}\n", key_file_header(private));
            assert_eq!(parse_key_text(&again, private).ok(), Some(key));
        }
    }
});
