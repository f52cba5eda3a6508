//! Helpers shared by the criterion benchmarks in `benches/`: fixed thread pools, so that every
//! benchmark can be measured on one thread and on all cores with the same code.
#![allow(
    clippy::expect_used,
    clippy::panic,
    reason = "benchmark harness: failing loudly is the point"
)]

use std::sync::OnceLock;

use rayon::{ThreadPool, ThreadPoolBuilder};

/// Number of cores rayon would use by default.
pub fn all_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// [1, all cores], without the duplicate on a one-core machine.
pub fn thread_counts() -> Vec<usize> {
    let mut t = vec![1, all_cores()];
    t.dedup();
    t
}

/// The rayon pool with `threads` threads (1 or all cores), built once.
pub fn pool(threads: usize) -> &'static ThreadPool {
    static ONE: OnceLock<ThreadPool> = OnceLock::new();
    static ALL: OnceLock<ThreadPool> = OnceLock::new();
    let cell = if threads == 1 { &ONE } else { &ALL };
    cell.get_or_init(|| {
        assert!(
            threads == 1 || threads == all_cores(),
            "pools exist for 1 thread and all cores only"
        );
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(move |i| format!("bench-{threads}t-{i}"))
            .build()
            .expect("rayon thread pool")
    })
}

/// Runs `f` (the measured closure, `b.iter(..)` included) on a pool of `threads` threads, so
/// that every `rayon::join` and parallel iterator inside it uses exactly that many.
pub fn on<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    pool(threads).install(f)
}
