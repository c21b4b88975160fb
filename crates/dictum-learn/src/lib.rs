//! Dictionary learning and factorisation for dictum: K-SVD and its batched variants, online
//! and task-driven learning, NMF and NPEFF.
//!
//! **Empty for now**: the dictionary-learning, NMF and NPEFF issues fill this crate.
