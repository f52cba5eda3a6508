//! One test per fault kind: a peer that disconnects, sends malformed bytes, sends a mis-shaped
//! matrix, or stays silent makes the others stop with a clear error within the timeout, over the
//! in-memory transport and over TCP on loopback.
#![allow(clippy::unwrap_used, clippy::panic)]

use std::io::Write;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use ndarray::Array2;
use veil_rtas::transport::{
    Channel, MemoryTransport, TcpOptions, TcpTransport, Transport, memory_network,
};
use veil_rtas::{Error, FixedPoint, Helper, ProtocolConfig, Role, Session, share_f64};

const TIMEOUT: Duration = Duration::from_millis(700);

fn config() -> ProtocolConfig {
    ProtocolConfig {
        timeout: TIMEOUT,
        ..ProtocolConfig::default()
    }
}

/// An honest P0 that multiplies two small matrices and evaluates a sigmoid.
fn honest_p0(t: Box<dyn Transport>) -> veil_rtas::Result<()> {
    let mut s = Session::new(t, &config())?;
    let x = Array2::from_elem((2, 2), 0.5);
    let (x0, _) = share_f64(x.view(), FixedPoint::default(), &mut rand::rng())?;
    let z = s.matmul(&x0, &x0)?;
    s.eval(&z, &[veil_rtas::Function::Sigmoid])?;
    s.finish().map(|_| ())
}

fn honest_p2(t: Box<dyn Transport>) -> veil_rtas::Result<()> {
    Helper::new(t, &config())?.serve().map(|_| ())
}

/// A frame header (see the wire format) with a given kind and shape and no payload check.
fn frame(kind: u8, rows: u32, cols: u32, words: usize) -> Vec<u8> {
    let mut f = b"VR".to_vec();
    f.extend_from_slice(&[1, kind, 0, 0, 0, 0]);
    f.extend_from_slice(&rows.to_le_bytes());
    f.extend_from_slice(&cols.to_le_bytes());
    f.extend(std::iter::repeat_n(0_u8, 8 * words));
    f
}

/// Runs honest P0 and P2 against a faulty P1 and returns their results and the time it took.
fn with_faulty_p1(
    transports: [Box<dyn Transport>; 3],
    faulty: impl FnOnce(Box<dyn Transport>) + Send,
) -> (veil_rtas::Result<()>, veil_rtas::Result<()>, Duration) {
    let [t0, t1, t2] = transports;
    let start = Instant::now();
    thread::scope(|scope| {
        let h2 = scope.spawn(move || honest_p2(t2));
        let h1 = scope.spawn(move || faulty(t1));
        let r0 = honest_p0(t0);
        let r2 = h2.join().unwrap();
        h1.join().unwrap();
        (r0, r2, start.elapsed())
    })
}

fn memory() -> [Box<dyn Transport>; 3] {
    memory_network().map(|t: MemoryTransport| Box::new(t) as Box<dyn Transport>)
}

fn check_stopped(r0: &veil_rtas::Result<()>, r2: &veil_rtas::Result<()>, took: Duration) {
    assert!(r0.is_err(), "P0 must fail");
    assert!(r2.is_err(), "P2 must fail");
    assert!(took < 4 * TIMEOUT + Duration::from_secs(1), "took {took:?}");
}

#[test]
fn disconnect_after_setup() {
    let (r0, r2, took) = with_faulty_p1(memory(), |t| {
        let s = Session::new(t, &config()).unwrap();
        drop(s); // gone before the first product
    });
    check_stopped(&r0, &r2, took);
    assert!(
        matches!(r0, Err(Error::Disconnected { peer: Role::P1 })),
        "{r0:?}"
    );
}

#[test]
fn malformed_bytes() {
    let (r0, r2, took) = with_faulty_p1(memory(), |mut t| {
        t.send(Role::P0, b"\x00garbage that is no frame".to_vec())
            .unwrap();
        thread::sleep(3 * TIMEOUT);
    });
    check_stopped(&r0, &r2, took);
    // P0 makes the P0-P1 seed, so its first receive from P1 is Beaver's E: the garbage.
    assert!(
        matches!(r0, Err(Error::Malformed { peer: Role::P1, .. })),
        "{r0:?}"
    );
    assert!(
        matches!(r2, Err(Error::PeerAborted { peer: Role::P0, .. })),
        "{r2:?}"
    );
}

#[test]
fn truncated_frame() {
    let (r0, _r2, took) = with_faulty_p1(memory(), |mut t| {
        let mut f = frame(2, 2, 2, 4);
        f.truncate(f.len() - 3);
        t.send(Role::P0, f).unwrap();
        thread::sleep(3 * TIMEOUT);
    });
    assert!(took < 3 * TIMEOUT + Duration::from_secs(1));
    assert!(
        matches!(r0, Err(Error::Malformed { peer: Role::P1, .. })),
        "{r0:?}"
    );
}

#[test]
fn wrong_shape() {
    let (r0, r2, took) = with_faulty_p1(memory(), |mut t| {
        t.send(Role::P0, frame(2, 3, 2, 6)).unwrap(); // E should be 2 x 2
        thread::sleep(3 * TIMEOUT);
    });
    check_stopped(&r0, &r2, took);
    assert!(
        matches!(
            r0,
            Err(Error::WrongShape {
                peer: Role::P1,
                expected: (2, 2),
                found: (3, 2),
                ..
            })
        ),
        "{r0:?}"
    );
}

#[test]
fn wrong_shape_to_the_helper() {
    // P1 behaves until the function call, then sends P2 a permuted share of the wrong shape.
    let (r0, r2, _) = with_faulty_p1(memory(), |t| {
        let mut s = Session::new(t, &config()).unwrap();
        let x = Array2::from_elem((2, 2), 0.5);
        let (_, x1) = share_f64(x.view(), FixedPoint::default(), &mut rand::rng()).unwrap();
        let _z = s.matmul(&x1, &x1).unwrap();
        let wrong = share_f64(
            Array2::zeros((1, 4)).view(),
            FixedPoint::default(),
            &mut rand::rng(),
        )
        .unwrap()
        .1;
        let _ = s.eval(&wrong, &[veil_rtas::Function::Sigmoid]);
    });
    assert!(
        matches!(
            r2,
            Err(Error::WrongShape { peer: Role::P1, .. })
                | Err(Error::UnexpectedMessage { peer: Role::P1, .. })
        ),
        "{r2:?}"
    );
    assert!(matches!(r0, Err(Error::PeerAborted { .. })), "{r0:?}");
}

#[test]
fn silence_times_out() {
    let (r0, r2, took) = with_faulty_p1(memory(), |t| {
        thread::sleep(3 * TIMEOUT); // says nothing, then leaves
        drop(t);
    });
    check_stopped(&r0, &r2, took);
    assert!(
        matches!(r0, Err(Error::Timeout { peer: Role::P1, after }) if after == TIMEOUT),
        "{r0:?}"
    );
}

fn tcp_mesh() -> ([TcpListener; 3], [SocketAddr; 3]) {
    let ls = [0, 1, 2].map(|_| TcpListener::bind("127.0.0.1:0").unwrap());
    let addrs = [0, 1, 2].map(|i| ls[i].local_addr().unwrap());
    (ls, addrs)
}

fn tcp_options() -> TcpOptions {
    TcpOptions {
        connect_timeout: Duration::from_secs(5),
        ..TcpOptions::default()
    }
}

/// Honest P0 and P2 over TCP; P1 is `faulty`, given P1's listener and the addresses.
fn tcp_with_faulty_p1(
    faulty: impl FnOnce(TcpListener, [SocketAddr; 3]) + Send,
) -> (veil_rtas::Result<()>, veil_rtas::Result<()>, Duration) {
    let ([l0, l1, l2], addrs) = tcp_mesh();
    let start = Instant::now();
    thread::scope(|scope| {
        let h2 = scope.spawn(move || {
            let t = TcpTransport::with_listener(
                Role::P2,
                l2,
                &addrs,
                &tcp_options(),
                &Channel::InsecurePlaintext,
            )?;
            honest_p2(Box::new(t))
        });
        let h1 = scope.spawn(move || faulty(l1, addrs));
        let r0 = TcpTransport::with_listener(
            Role::P0,
            l0,
            &addrs,
            &tcp_options(),
            &Channel::InsecurePlaintext,
        )
        .and_then(|t| honest_p0(Box::new(t)));
        let r2 = h2.join().unwrap();
        h1.join().unwrap();
        (r0, r2, start.elapsed())
    })
}

#[test]
fn tcp_honest_run_completes() {
    let ([l0, l1, l2], addrs) = tcp_mesh();
    thread::scope(|scope| {
        let h2 = scope.spawn(move || {
            honest_p2(Box::new(TcpTransport::with_listener(
                Role::P2,
                l2,
                &addrs,
                &tcp_options(),
                &Channel::InsecurePlaintext,
            )?))
        });
        let h1 = scope.spawn(move || {
            let t = TcpTransport::with_listener(
                Role::P1,
                l1,
                &addrs,
                &tcp_options(),
                &Channel::InsecurePlaintext,
            )?;
            let mut s = Session::new(Box::new(t), &config())?;
            let (_, x1) = share_f64(
                Array2::from_elem((2, 2), 0.5).view(),
                FixedPoint::default(),
                &mut rand::rng(),
            )?;
            let z = s.matmul(&x1, &x1)?;
            s.eval(&z, &[veil_rtas::Function::Sigmoid])?;
            s.finish().map(|_| ())
        });
        let r0 = TcpTransport::with_listener(
            Role::P0,
            l0,
            &addrs,
            &tcp_options(),
            &Channel::InsecurePlaintext,
        )
        .and_then(|t| honest_p0(Box::new(t)));
        r0.unwrap();
        h1.join().unwrap().unwrap();
        h2.join().unwrap().unwrap();
    });
}

#[test]
fn tcp_malformed_bytes() {
    let (r0, r2, took) = tcp_with_faulty_p1(|l1, addrs| {
        let mut t = TcpTransport::with_listener(
            Role::P1,
            l1,
            &addrs,
            &tcp_options(),
            &Channel::InsecurePlaintext,
        )
        .unwrap();
        t.send(Role::P0, b"VR\x07junk".to_vec()).unwrap();
        thread::sleep(3 * TIMEOUT);
    });
    check_stopped(&r0, &r2, took);
    assert!(
        matches!(r0, Err(Error::Malformed { peer: Role::P1, .. })),
        "{r0:?}"
    );
}

#[test]
fn tcp_disconnect_inside_a_frame() {
    let (r0, r2, took) = tcp_with_faulty_p1(|l1, addrs| {
        // A raw P1: greets P0, announces a 1000-byte frame, sends 10 bytes and hangs up.
        let mut s = TcpStream::connect(addrs[0]).unwrap();
        s.write_all(b"VRTS\x02\x01\x00\x00").unwrap();
        s.write_all(&1000_u32.to_le_bytes()).unwrap();
        s.write_all(&[0; 10]).unwrap();
        drop(s);
        let _keep_listening_for_p2 = l1;
        thread::sleep(2 * TIMEOUT);
    });
    check_stopped(&r0, &r2, took);
    // P0 sees the cut frame, or (if its own send hits the closed socket first) the disconnect.
    assert!(
        matches!(
            r0,
            Err(Error::Malformed { peer: Role::P1, .. } | Error::Disconnected { peer: Role::P1 })
        ),
        "{r0:?}"
    );
}

#[test]
fn tcp_silence_and_oversized_frames() {
    let (r0, r2, took) = tcp_with_faulty_p1(|l1, addrs| {
        let _t = TcpTransport::with_listener(
            Role::P1,
            l1,
            &addrs,
            &tcp_options(),
            &Channel::InsecurePlaintext,
        )
        .unwrap();
        thread::sleep(3 * TIMEOUT);
    });
    check_stopped(&r0, &r2, took);
    assert!(
        matches!(r0, Err(Error::Timeout { peer: Role::P1, .. })),
        "{r0:?}"
    );

    let (r0, _, _) = tcp_with_faulty_p1(|l1, addrs| {
        let mut s = TcpStream::connect(addrs[0]).unwrap();
        s.write_all(b"VRTS\x02\x01\x00\x00").unwrap();
        s.write_all(&u32::MAX.to_le_bytes()).unwrap();
        let _keep = l1;
        thread::sleep(2 * TIMEOUT);
    });
    // The default limit is 512 MiB: a 4 GiB announcement is refused before any allocation.
    assert!(
        matches!(r0, Err(Error::FrameTooLarge { peer: Role::P1, .. })),
        "{r0:?}"
    );
}
