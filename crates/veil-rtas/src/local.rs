//! Running all three parties in one process, one thread each, over the in-memory transport.

use std::thread;

use crate::error::{Error, Result};
use crate::helper::Helper;
use crate::session::{ProtocolConfig, Session};
use crate::transport::{Stats, memory_network};

/// What a local run returns: each holder's result and every party's traffic (P0, P1, P2).
#[derive(Debug)]
pub struct LocalRun<T0, T1> {
    /// P0's result.
    pub p0: T0,
    /// P1's result.
    pub p1: T1,
    /// Traffic of P0, P1 and P2.
    pub stats: [Stats; 3],
}

/// Runs `f0` as P0 and `f1` as P1 (each on its own [`Session`]) with a helper thread, over an
/// in-memory mesh. If any party fails, all stop, and the error that started it is returned (a
/// peer's abort, disconnect or timeout is reported only when nothing else went wrong).
pub fn run_local<T0, T1, F0, F1>(
    config: &ProtocolConfig,
    f0: F0,
    f1: F1,
) -> Result<LocalRun<T0, T1>>
where
    T0: Send,
    T1: Send,
    F0: FnOnce(&mut Session) -> Result<T0> + Send,
    F1: FnOnce(&mut Session) -> Result<T1> + Send,
{
    let [t0, t1, t2] = memory_network();
    let (r0, r1, r2) = thread::scope(|scope| {
        let h2 = scope.spawn(move || Helper::new(Box::new(t2), config)?.serve());
        let h1 = scope.spawn(move || run_holder(Box::new(t1), config, f1));
        let r0 = run_holder(Box::new(t0), config, f0);
        let r1 = h1
            .join()
            .unwrap_or_else(|_| Err(Error::config("P1's thread panicked")));
        let r2 = h2
            .join()
            .unwrap_or_else(|_| Err(Error::config("P2's thread panicked")));
        (r0, r1, r2)
    });
    match (r0, r1, r2) {
        (Ok((p0, s0)), Ok((p1, s1)), Ok(s2)) => Ok(LocalRun {
            p0,
            p1,
            stats: [s0, s1, s2],
        }),
        (a, b, c) => Err(root_cause([a.err(), b.err(), c.err()])),
    }
}

/// Runs one holder's function on a fresh session and finishes it (aborting on error).
pub(crate) fn run_holder<T>(
    transport: Box<dyn crate::transport::Transport>,
    config: &ProtocolConfig,
    f: impl FnOnce(&mut Session) -> Result<T>,
) -> Result<(T, Stats)> {
    let mut session = Session::new(transport, config)?;
    match f(&mut session) {
        Ok(v) => Ok((v, session.finish()?)),
        Err(e) => {
            session.abort(&e.peer_reason());
            Err(e)
        }
    }
}

/// The most informative of several parties' errors: one that is not a consequence of another
/// party stopping, if there is one.
pub(crate) fn root_cause(errors: [Option<Error>; 3]) -> Error {
    let secondary = |e: &Error| {
        matches!(
            e,
            Error::PeerAborted { .. } | Error::Disconnected { .. } | Error::Aborted
        )
    };
    let mut all: Vec<Error> = errors.into_iter().flatten().collect();
    match all.iter().position(|e| !secondary(e)) {
        Some(i) => all.swap_remove(i),
        None => all.into_iter().next().unwrap_or(Error::Aborted),
    }
}
