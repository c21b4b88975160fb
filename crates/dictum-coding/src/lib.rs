//! Sparse coding for dictum: Matching Pursuit, OMP, Batch-OMP, LARS/LASSO, FISTA and
//! thresholding.
//!
//! **Empty for now**: the sparse-coding issue fills this crate. It will depend on
//! `dictum-linalg` only, and take matrix views, never file paths.
