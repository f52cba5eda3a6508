//! Issue 14, item 1: hostile peers over TCP. The receive queue of a connection is bounded in
//! bytes, a message must be written within its deadline however little a peer acknowledges, the
//! listener survives bad, duplicate and silent connections, and aborts carry no data value.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use veil_rtas::model::{HolderInput, Mode, ModelSpec, TrainConfig, deal_inputs, synthetic_mnist};
use veil_rtas::transport::{Channel, Security, TcpOptions, TcpTransport, Transport};

use veil_rtas::{Error, FixedPoint, ProtocolConfig, Role, Session, share_f64};

fn mesh() -> ([TcpListener; 3], [SocketAddr; 3]) {
    let ls = [0, 1, 2].map(|_| TcpListener::bind("127.0.0.1:0").unwrap());
    let addrs = [0, 1, 2].map(|i| ls[i].local_addr().unwrap());
    (ls, addrs)
}

fn options(max_frame: u64, max_buffered: u64, write: Duration) -> TcpOptions {
    TcpOptions {
        connect_timeout: Duration::from_secs(10),
        handshake_timeout: Duration::from_secs(1),
        max_frame,
        max_buffered,
        write_timeout: write,
        ..TcpOptions::default()
    }
}

/// A raw P1 in plaintext: connects to P0 and says hello.
fn raw_p1(p0: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(p0).unwrap();
    s.write_all(b"VRTS\x02\x01\x00\x00").unwrap();
    s
}

/// P0's transport with only P1 as a peer (P2's address is never dialled by P0).
fn p0_alone(l0: TcpListener, addrs: [SocketAddr; 3], o: &TcpOptions) -> TcpTransport {
    // P0 accepts P1 and P2: a raw P2 greets too, so that the mesh completes.
    let p2 = addrs[0];
    thread::spawn(move || {
        let mut s = TcpStream::connect(p2).unwrap();
        s.write_all(b"VRTS\x02\x02\x00\x00").unwrap();
        thread::sleep(Duration::from_secs(20));
        drop(s);
    });
    TcpTransport::with_listener(Role::P0, l0, &addrs, o, &Channel::InsecurePlaintext).unwrap()
}

/// A peer that sends frame after frame while P0 reads nothing: P0 queues at most
/// `max_buffered` bytes (before: 64 frames of up to `max_frame`, whatever their size), the rest
/// stays in the socket buffers and the flooder's writes block.
#[test]
fn queued_bytes_per_connection_are_bounded() {
    let ([l0, _l1, _l2], addrs) = mesh();
    let frame = 1_u64 << 20;
    let o = options(frame + 16, 2 * (frame + 16), Duration::from_secs(5));
    let flooder = thread::spawn(move || {
        let mut s = raw_p1(addrs[0]);
        s.set_write_timeout(Some(Duration::from_secs(2))).unwrap();
        let mut body = vec![0_u8; frame as usize];
        body[..2].copy_from_slice(b"VR");
        let mut sent = 0_u64;
        for _ in 0..64 {
            let ok = s
                .write_all(&(frame as u32).to_le_bytes())
                .and_then(|()| s.write_all(&body));
            if ok.is_err() {
                break;
            }
            sent += frame;
        }
        sent
    });
    let t = p0_alone(l0, addrs, &o);
    let sent = flooder.join().unwrap();
    // Two frames queued, plus what the kernel's socket buffers hold on loopback (a few MiB).
    assert!(sent < 24 * frame, "the flooder got {sent} bytes through");
    drop(t);
}

/// A peer that reads a few bytes now and then: the per-call socket timeout never fires, the
/// per-message deadline does.
#[test]
fn slow_reader_hits_the_message_deadline() {
    let ([l0, _l1, _l2], addrs) = mesh();
    let o = options(1 << 26, 1 << 27, Duration::from_millis(1500));
    let slow = thread::spawn(move || {
        let mut s = raw_p1(addrs[0]);
        let mut buf = [0_u8; 256];
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(8) {
            if s.read(&mut buf).unwrap_or(0) == 0 {
                break;
            }
            thread::sleep(Duration::from_millis(20));
        }
    });
    let mut t = p0_alone(l0, addrs, &o);
    let start = Instant::now();
    let r = t.send(Role::P1, vec![0_u8; 48 << 20]);
    let took = start.elapsed();
    assert!(
        r.is_err(),
        "a 48 MiB message to a slow reader must time out"
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    drop(t);
    slow.join().unwrap();
}

/// Garbage, a duplicate role, a silent connection and a failed handshake arrive before the
/// honest peers: the listener drops them and the mesh still forms, and runs a product.
#[test]
fn listener_survives_bad_duplicate_and_silent_connections() {
    let ([l0, l1, l2], addrs) = mesh();
    let [k0, k1, k2] = Security::Noise.channels().unwrap();
    let [wrong, _, _] = Security::Noise.channels().unwrap();
    let o = options(1 << 24, 1 << 25, Duration::from_secs(5));
    // The offenders connect to P0 first.
    let mut junk = Vec::new();
    junk.push(TcpStream::connect(addrs[0]).unwrap()); // silent
    let mut bad = TcpStream::connect(addrs[0]).unwrap();
    bad.write_all(b"HTTP/1.1").unwrap();
    junk.push(bad);
    let mut zero = TcpStream::connect(addrs[0]).unwrap();
    zero.write_all(b"VRTS\x02\x00\x00\x00").unwrap(); // claims P0 itself
    junk.push(zero);
    // An impostor of P1 with the wrong key: its handshake fails.
    let impostor = thread::spawn(move || {
        let (ls, _) = mesh();
        let [_, li, _] = ls;
        let o = options(1 << 20, 1 << 21, Duration::from_secs(1));
        let o = TcpOptions {
            connect_timeout: Duration::from_millis(800),
            ..o
        };
        TcpTransport::with_listener(Role::P1, li, &addrs, &o, &wrong).err()
    });
    thread::sleep(Duration::from_millis(200));
    let (o0, o1, o2) = (o.clone(), o.clone(), o.clone());
    let h2 = thread::spawn(move || {
        let t = TcpTransport::with_listener(Role::P2, l2, &addrs, &o2, &k2)?;
        veil_rtas::Helper::new(Box::new(t), &ProtocolConfig::default())?.serve()
    });
    let h1 = thread::spawn(move || {
        let t = TcpTransport::with_listener(Role::P1, l1, &addrs, &o1, &k1)?;
        let mut s = Session::new(Box::new(t), &ProtocolConfig::default())?;
        let x = ndarray::Array2::from_elem((2, 2), 0.25);
        let (_, x1) = share_f64(x.view(), FixedPoint::default(), &mut rand::rng())?;
        s.matmul(&x1, &x1)?;
        s.finish()
    });
    let t0 = TcpTransport::with_listener(Role::P0, l0, &addrs, &o0, &k0).unwrap();
    let mut s = Session::new(Box::new(t0), &ProtocolConfig::default()).unwrap();
    let x = ndarray::Array2::from_elem((2, 2), 0.25);
    let (x0, _) = share_f64(x.view(), FixedPoint::default(), &mut rand::rng()).unwrap();
    s.matmul(&x0, &x0).unwrap();
    s.finish().unwrap();
    h1.join().unwrap().unwrap();
    h2.join().unwrap().unwrap();
    assert!(impostor.join().unwrap().is_some(), "the impostor got in");
    drop(junk);
}

/// An encoding failure at a holder reaches the peers without the value that failed, and the
/// holders' inputs print no labels.
#[test]
fn aborts_and_debug_output_carry_no_values() {
    let e = FixedPoint::default().encode(1.234_567e300).unwrap_err();
    assert!(e.to_string().contains("1.234567e300") || e.to_string().contains("1234567"));
    assert!(!e.peer_reason().contains("1234567"), "{}", e.peer_reason());
    let e = FixedPoint::default().encode(f64::NAN).unwrap_err();
    assert!(!e.peer_reason().contains("NaN"), "{}", e.peer_reason());

    let config = TrainConfig::paper(ModelSpec::Logistic { features: 784 }, Mode::RtasFast, 1);
    let data = synthetic_mnist(4, 1);
    let [i0, _]: [HolderInput; 2] = deal_inputs(
        &config,
        FixedPoint::default(),
        &data,
        &data,
        &mut rand::rng(),
    )
    .unwrap();
    let shown = format!("{i0:?}");
    assert!(
        shown.contains("<redacted>") && !shown.contains("1.0"),
        "{shown}"
    );

    // The helper fails to encode a function result (relu of 2^62 read with 0 fractional bits,
    // re-encoded with 16): P1 gets its abort, without the number.
    let [t0, t1, t2] = veil_rtas::transport::memory_network();
    let config = ProtocolConfig::default();
    let holder = |t: veil_rtas::transport::MemoryTransport, party: veil_rtas::Party| {
        move || {
            let mut s = Session::new(Box::new(t), &config)?;
            let word = if party == veil_rtas::Party::P0 {
                1_u64 << 62
            } else {
                0
            };
            let x = veil_rtas::Share::from_ring(party, 0, ndarray::Array2::from_elem((1, 3), word));
            s.eval(&x, &[veil_rtas::Function::Relu]).map(|_| ())
        }
    };
    let h2 = thread::spawn(move || veil_rtas::Helper::new(Box::new(t2), &config)?.serve());
    let h1 = thread::spawn(holder(t1, veil_rtas::Party::P1));
    let r0 = holder(t0, veil_rtas::Party::P0)();
    let r1 = h1.join().unwrap();
    let r2 = h2.join().unwrap();
    assert!(matches!(r2, Err(Error::OutOfRange { .. })), "{r2:?}");
    // P0 draws its result share from a seed and does not wait for P2 here; P1 does.
    let _ = r0;
    for r in [r1] {
        match r {
            Err(Error::PeerAborted {
                peer: Role::P2,
                reason,
            }) => {
                assert!(!reason.contains("4611686018427387904"), "{reason}");
                assert!(!reason.contains("4.6"), "{reason}");
            }
            other => panic!("expected P2's abort, got {other:?}"),
        }
    }
}
