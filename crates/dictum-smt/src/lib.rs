//! The Sparse Manifold Transform (Chen, Paiton & Olshausen, NeurIPS 2018) for dictum.
//!
//! **Empty for now**: the SMT issue fills this crate; its generalised eigensolver already
//! lives in `dictum_linalg::eigen`.
