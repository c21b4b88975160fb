//! dictum's benchmarks (criterion). Run: `cargo bench -p dictum-benches`.
//!
//! Throughput is reported as elements = floating-point operations, so criterion's
//! "Gelem/s" reads as GFLOP/s.

use criterion::{Criterion, criterion_group, criterion_main};

mod coding;
mod gemm;
mod sparse;

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10).warm_up_time(std::time::Duration::from_secs(1));
    targets = gemm::bench, sparse::bench, coding::bench
}
criterion_main!(benches);
