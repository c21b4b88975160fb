//! dictum's integration tests, in one binary (one link step for the whole suite).

// Tests state their expectations with unwrap: a failure is the test's report.
#![allow(clippy::unwrap_used)]

mod coding;
mod datasets;
mod exec;
mod gpu;
mod gpu_ksvd;
mod gpu_lasso;
mod gpu_nmf;
mod gpu_pursuit;
#[cfg(feature = "hdf5")]
mod hdf5;
mod interop;
mod io_npy;
mod io_npz;
mod learn;
mod linalg;
mod nmf;
mod npeff;
mod pinned;
mod smt;
