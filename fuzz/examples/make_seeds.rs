//! Writes the named seed inputs of the `cryptorec_*` and `rtas_frame` targets into
//! `corpus/<target>/` (run from `fuzz/`: `cargo run --release --example make_seeds`).
//!
//! - `cryptorec_query` / `cryptorec_response`: honest queries of the fixture users under both
//!   fixture models (encrypted with the fixed key), the server's answers, and near-misses.
//! - `cryptorec_model`: the fixture models as JSON, with and without item ids, some followed by a
//!   user; near-misses.
//! - `cryptorec_ratings`: MovieLens tab and `::` lines, CSV with and without a header.
//! - `rtas_frame`: what each party received in honest in-memory runs of the fixture programs
//!   (recorded by `rtas::Recording`), one seed per scenario.
//!
//! Queries and seeds of the protocols use fresh randomness, so each run writes different bytes.

use std::fs;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread;

use veil_cryptorec::fast::{Randomness, encrypt_query, respond};
use veil_paillier_fuzz::cryptorec::{cryptorec, lattice, lattice_accurate_bfv, sample_users};
use veil_paillier_fuzz::rtas::{
    Recording, encode_input, holder_program, owner_config, owner_data, parse_input, protocol, run,
    sizes, tcp,
};
use veil_rtas::model::{parse_digits, run_party_owner};
use veil_rtas::transport::{MemoryTransport, key_file_header, memory_network};
use veil_rtas::{Helper, Role, Session};

type Log = Arc<Mutex<Vec<(Role, Vec<u8>)>>>;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("corpus").join(target);
    fs::create_dir_all(&dir).expect("corpus directory");
    fs::write(dir.join(name), bytes).expect("seed written");
}

fn cryptorec_seeds() {
    let fx = cryptorec();
    let (pk, sk) = (fx.pk(), &fx.sk);
    for ((float, model), name) in fx.models.iter().zip(["small", "wide"]) {
        for (k, user) in sample_users(model.params.items).iter().enumerate() {
            if k == 1 || k == 2 {
                continue; // three users per model are enough
            }
            let q = encrypt_query(sk, &model.params, user, Randomness::Fresh).expect("query");
            let qb = q.to_bytes(pk).expect("query bytes");
            write("cryptorec_query", &format!("{name}-user{k}"), &qb);
            let r = respond(&fx.trusted, model, &q).expect("response");
            println!("{name}: {} packed ciphertexts", r.packed.len());
            let rb = r.to_bytes(pk).expect("response bytes");
            write("cryptorec_response", &format!("{name}-user{k}"), &rb);
            if k == 0 {
                let mut bad = qb.clone();
                bad[4] ^= 1; // count off by one
                write("cryptorec_query", &format!("{name}-wrong-count"), &bad);
                write(
                    "cryptorec_query",
                    &format!("{name}-truncated"),
                    &qb[..qb.len() - 1],
                );
                let mut bad = rb.clone();
                bad[4] += 1;
                write("cryptorec_response", &format!("{name}-wrong-count"), &bad);
                write(
                    "cryptorec_response",
                    &format!("{name}-query-magic"),
                    &[b"VCQ1", &rb[4..]].concat(),
                );
            }
        }
        let ids: Vec<u64> = (0..float.items() as u64).map(|i| 1000 + i).collect();
        let json = float.to_json_with_ids(&ids).expect("json");
        write(
            "cryptorec_model",
            &format!("{name}-with-ids"),
            json.as_bytes(),
        );
        let json = float.to_json().expect("json");
        write(
            "cryptorec_model",
            &format!("{name}-no-ids"),
            json.as_bytes(),
        );
        let mut with_user = json.clone().into_bytes();
        with_user.extend_from_slice(&[0, 0, 0, 160, 2, 0, 40, 9, 0, 250, 255, 255, 251]);
        write("cryptorec_model", &format!("{name}-then-user"), &with_user);
    }
    let tiny = r#"{"format":"veil-cryptorec-model/1","mu":3.0,"item_bias":{"v":1,"dim":[2],"data":[0.5,-0.5]},"a":{"v":1,"dim":[2,1],"data":[1e-45,-2.0]},"q":{"v":1,"dim":[2,1],"data":[3.4028235e38,0.0]},"item_ids":[7,9]}"#;
    write("cryptorec_model", "tiny-extreme-weights", tiny.as_bytes());
    let empty = r#"{"format":"veil-cryptorec-model/1","mu":0,"item_bias":{"v":1,"dim":[0],"data":[]},"a":{"v":1,"dim":[0,2],"data":[]},"q":{"v":1,"dim":[0,2],"data":[]}}"#;
    write("cryptorec_model", "no-items", empty.as_bytes());
    let mismatched = r#"{"format":"veil-cryptorec-model/1","mu":0,"item_bias":{"v":1,"dim":[1],"data":[0]},"a":{"v":1,"dim":[1,2],"data":[1,2]},"q":{"v":1,"dim":[2,1],"data":[1,2]}}"#;
    write("cryptorec_model", "shape-mismatch", mismatched.as_bytes());

    write(
        "cryptorec_ratings",
        "movielens-100k",
        b"196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n196\t302\t4.5\t881250950\n",
    );
    write(
        "cryptorec_ratings",
        "movielens-1m",
        b"1::1193::5::978300760\n1::661::3::978302109\n\n2::1193::2::978300275\n",
    );
    write(
        "cryptorec_ratings",
        "csv-header",
        b"userId,movieId,rating\n1,31,2.5\n1,1029,3.0\n7,31,4\n",
    );
    write(
        "cryptorec_ratings",
        "csv-plain",
        b"3, 4, 1\n3,5,5\r\n10,4,0.5\n",
    );
    write("cryptorec_ratings", "csv-duplicate", b"1,2,3\n1,2,4\n");
    write(
        "cryptorec_ratings",
        "movielens-bad-timestamp",
        b"1\t2\t3\t-4\n",
    );
}

fn logs() -> [Log; 3] {
    [(); 3].map(|()| Arc::new(Mutex::new(Vec::new())))
}

fn taken(log: &Log) -> Vec<(Role, Vec<u8>)> {
    std::mem::take(&mut *log.lock().expect("log"))
}

fn rtas_seeds() {
    let config = protocol();
    // Sessions running the fixture program, and the helper serving them.
    let l = logs();
    let [t0, t1, t2] = memory_network();
    thread::scope(|scope| {
        let c = &config;
        let r2 = Recording::new(t2, l[2].clone());
        let h2 = scope.spawn(move || Helper::new(Box::new(r2), c)?.serve());
        let holder = move |t: Recording<MemoryTransport>| {
            let mut s = Session::new(Box::new(t), c)?;
            holder_program(&mut s)?;
            s.finish()
        };
        let r1 = Recording::new(t1, l[1].clone());
        let h1 = scope.spawn(move || holder(r1));
        holder(Recording::new(t0, l[0].clone())).expect("P0 runs");
        h1.join().expect("P1 thread").expect("P1 runs");
        h2.join().expect("P2 thread").expect("P2 runs");
    });
    write("rtas_frame", "p0-program", &encode_input(0, &taken(&l[0])));
    write("rtas_frame", "p1-program", &encode_input(1, &taken(&l[1])));
    write("rtas_frame", "p2-program", &encode_input(2, &taken(&l[2])));

    // Training with the data at P0 (run_party_owner).
    let l = logs();
    let [t0, t1, t2] = memory_network();
    let (train, test) = owner_data();
    thread::scope(|scope| {
        let c = &config;
        let r2 = Recording::new(t2, l[2].clone());
        let r1 = Recording::new(t1, l[1].clone());
        let h2 =
            scope.spawn(move || run_party_owner(Role::P2, c, Box::new(r2), None, owner_config));
        let h1 =
            scope.spawn(move || run_party_owner(Role::P1, c, Box::new(r1), None, owner_config));
        let r0 = Recording::new(t0, l[0].clone());
        run_party_owner(
            Role::P0,
            c,
            Box::new(r0),
            Some((&train, &test)),
            owner_config,
        )
        .expect("P0 trains");
        h1.join().expect("P1 thread").expect("P1 trains");
        h2.join().expect("P2 thread").expect("P2 serves");
    });
    write(
        "rtas_frame",
        "p1-owner-training",
        &encode_input(3, &taken(&l[1])),
    );
    write(
        "rtas_frame",
        "p0-owner-training",
        &encode_input(4, &taken(&l[0])),
    );
    write(
        "rtas_frame",
        "p2-owner-training",
        &encode_input(2, &taken(&l[2])),
    );

    // Each recorded transcript, replayed through the scripted transport, is an honest run.
    for name in [
        "p0-program",
        "p1-program",
        "p2-program",
        "p1-owner-training",
        "p0-owner-training",
        "p2-owner-training",
    ] {
        let bytes = fs::read(Path::new("corpus/rtas_frame").join(name)).expect("seed");
        let (scenario, messages) = parse_input(&bytes).expect("parses");
        println!("rtas_frame/{name}: replay {:?}", run(scenario, messages));
    }
}

/// `rtas_tcp`: P0's honest transcript as the two connections' bytes (P1 connecting first, or
/// P2), and near-misses of the hello and the length prefix.
fn rtas_tcp_seeds() {
    let bytes = fs::read("corpus/rtas_frame/p0-program").expect("the p0-program seed");
    let (_, messages) = parse_input(&bytes).expect("parses");
    let from = |r: Role| -> Vec<Vec<u8>> {
        messages
            .iter()
            .filter(|(f, _)| *f == r)
            .map(|(_, m)| m.clone())
            .collect()
    };
    let (p1, p2) = (from(Role::P1), from(Role::P2));
    let input = |first: &[u8], second: &[u8]| {
        let mut out = (first.len() as u16).to_le_bytes().to_vec();
        out.extend_from_slice(first);
        out.extend_from_slice(second);
        out
    };
    let s1 = tcp::stream(&tcp::hello(Role::P1), &p1);
    let s2 = tcp::stream(&tcp::hello(Role::P2), &p2);
    let seeds = [
        ("p1-then-p2", input(&s1, &s2)),
        ("p2-then-p1", input(&s2, &s1)),
        ("same-role-twice", input(&s1, &s1)),
        ("bad-hello-version", {
            let mut h = tcp::hello(Role::P1);
            h[4] = 1; // the version before the Noise channel
            input(&tcp::stream(&h, &p1), &s2)
        }),
        ("oversized-length", {
            let mut t = tcp::hello(Role::P2);
            t.extend_from_slice(&u32::MAX.to_le_bytes());
            input(&s1, &t)
        }),
        ("cut-inside-a-frame", input(&s1, &s2[..s2.len() - 5])),
    ];
    for (name, bytes) in seeds {
        write("rtas_tcp", name, &bytes);
        let (a, b) = tcp::split(&bytes);
        println!("rtas_tcp/{name}: {:?}", tcp::run(a, b));
    }
}

/// `rtas_sizes`: P1's honest owner transcript after the size exchange (logistic regression, 8 +
/// 4 samples of 3 features), and forged announcements for every model byte.
fn rtas_sizes_seeds() {
    let bytes = fs::read("corpus/rtas_frame/p1-owner-training").expect("the p1-owner seed");
    let (_, messages) = parse_input(&bytes).expect("parses");
    let seed = |m: u8, sizes: [u64; 3], rest: &[(Role, Vec<u8>)]| {
        let mut out = vec![m];
        for s in sizes {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out.extend_from_slice(&encode_input(0, rest)[1..]);
        out
    };
    let rest = messages.get(3..).unwrap_or(&[]).to_vec();
    let mut seeds = vec![("honest-logistic".to_string(), seed(0, [8, 4, 3], &rest))];
    for (name, sizes) in [
        ("zero-samples-huge-features", [0, 0, 1 << 40]),
        ("huge-training", [1 << 40, 4, 3]),
        ("huge-test", [8, u64::MAX, 3]),
        ("at-the-limit", [(1 << 16) / 3, 4, 3]),
        ("features-over-limit", [0, 0, (1 << 16) + 1]),
    ] {
        for m in [0_u8, 1, 2, 5] {
            seeds.push((format!("{name}-model{m}"), seed(m, sizes, &[])));
        }
    }
    for (name, bytes) in seeds {
        write("rtas_sizes", &name, &bytes);
        println!("rtas_sizes/{name}: {:?}", sizes::run(&bytes));
    }
}

/// `rtas_keyfile` and `rtas_digits`: well-formed files and near-misses.
fn rtas_file_seeds() {
    let (private, public) = (key_file_header(true), key_file_header(false));
    let hex: String = (0..32_u8).map(|b| format!("{b:02x}")).collect();
    for (name, text) in [
        ("private", format!("{private}\n{hex}\n")),
        ("public", format!("{public}\n{hex}\n")),
        ("crlf", format!("{public}\r\n{hex}\r\n")),
        ("short", format!("{public}\n{}\n", &hex[..62])),
        ("trailing-line", format!("{public}\n{hex}\nmore\n")),
        ("not-hex", format!("{public}\n{}zz\n", &hex[..62])),
        ("no-header", format!("{hex}\n")),
    ] {
        write("rtas_keyfile", name, text.as_bytes());
    }
    let header: Vec<String> = (0..64).map(|i| format!("pixel_{i}")).collect();
    let header = format!("{},target", header.join(","));
    let row = |v: u32, t: &str| {
        let px: Vec<String> = (0..64).map(|i| ((i * 7 + v) % 17).to_string()).collect();
        format!("{},{t}", px.join(","))
    };
    for (name, text) in [
        (
            "three-rows",
            format!(
                "{header}\n{}\n{}\n{}\n",
                row(0, "0"),
                row(1, "9"),
                row(2, "4.0")
            ),
        ),
        ("bad-target", format!("{header}\n{}\n", row(0, "10"))),
        (
            "nan-pixel",
            format!("{header}\n{}\n", row(0, "1").replacen("0,", "NaN,", 1)),
        ),
        ("short-row", format!("{header}\n1,2,3\n")),
        (
            "no-target-column",
            format!("{}\n", &header[..header.len() - 7]),
        ),
        ("empty", String::new()),
    ] {
        write("rtas_digits", name, text.as_bytes());
        println!(
            "rtas_digits/{name}: {:?}",
            parse_digits(&text, name).map(|d| d.len())
        );
    }
}

/// Seeds of `cryptorec_lattice`: the selector byte, then a real message (setup, query, reply;
/// the key message, about 700 KB even at N = 1024, is left to the mutator's selector byte 1).
fn cryptorec_lattice_seeds() {
    let fx = lattice();
    let users = sample_users(8);
    let (query, _) = fx.client.query(&users[0]).expect("query");
    let reply = fx.server.answer(&fx.keys, &query).expect("reply");
    let messages = [
        ("setup", fx.server.setup_bytes().expect("setup")),
        ("query", query),
        ("reply", reply),
    ];
    for (which, (name, bytes)) in (0u8..).zip(messages) {
        let mut seed = vec![which];
        seed.extend_from_slice(&bytes);
        write("cryptorec_lattice", name, &seed);
    }
}

/// Seeds of `cryptorec_lattice_accurate_bfv`: the selector byte, then a real message (setup,
/// query, reply of the fixture; the 4.5 MB key message is left to the selector byte 1).
fn cryptorec_lattice_accurate_bfv_seeds() {
    let fx = lattice_accurate_bfv();
    let user = veil_cryptorec::model::UserRatings {
        items: vec![0, 3, 5],
        values: vec![4.0, 2.0, 5.0],
    };
    let (query, _) = fx.client.query(&user).expect("query");
    let reply = fx.server.answer(&fx.keys, &query).expect("reply");
    let messages = [
        (0u8, "setup", fx.server.setup_bytes().expect("setup")),
        (2, "query", query),
        (3, "reply", reply),
    ];
    for (which, name, bytes) in messages {
        let mut seed = vec![which];
        seed.extend_from_slice(&bytes);
        write("cryptorec_lattice_accurate_bfv", name, &seed);
    }
}

/// Writes every target's seeds, or only those of the targets named on the command line.
fn main() {
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let all: [(&str, fn()); 7] = [
        ("cryptorec_lattice", cryptorec_lattice_seeds),
        (
            "cryptorec_lattice_accurate_bfv",
            cryptorec_lattice_accurate_bfv_seeds,
        ),
        ("cryptorec", cryptorec_seeds),
        ("rtas", rtas_seeds),
        ("rtas_tcp", rtas_tcp_seeds),
        ("rtas_sizes", rtas_sizes_seeds),
        ("rtas_file", rtas_file_seeds),
    ];
    for (name, make) in all {
        if wanted(name) {
            make();
        }
    }
}
