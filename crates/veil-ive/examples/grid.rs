//! Quick timing of one lookup: `cargo run -p veil-ive --release --example grid -- N p d ive|onehot [rows]`.
use veil_ive::measure::{Method, measure, preset_for, setup};

fn main() -> veil_ive::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let get = |i: usize, d: usize| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (n, p, d) = (get(1, 16384), get(2, 256), get(3, 16));
    let method = if a.get(4).map(String::as_str) == Some("onehot") {
        Method::OneHot
    } else {
        Method::Ive
    };
    let rows = a.get(5).and_then(|s| s.parse().ok());
    let params = preset_for(n)?;
    let (client, server) = setup(&params, p)?;
    let m = measure(&client, &server, method, p, d, rows, 1)?;
    println!("{m:?}\namortized {:?}", m.amortized());
    Ok(())
}
