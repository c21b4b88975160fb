//! Column norms and normalisation (dictionary atoms have unit ℓ2 norm).

use faer::reborrow::{Reborrow, ReborrowMut};
use faer::{MatMut, MatRef, Par};
use rayon::prelude::*;

use crate::real::Real;

/// The ℓ2 norm of every column of `a`.
///
/// Computed with faer's scaled norm, so very large or very small entries do not overflow or
/// underflow.
pub fn column_norms<T: Real>(a: MatRef<'_, T>) -> Vec<T> {
    let mut out = vec![T::zero(); a.ncols()];
    column_norms_into(&mut out, a, Par::Seq);
    out
}

/// `dst[j] = ‖a_j‖₂`, columns in parallel under `Par::Rayon`: the CPU backend's column norms.
pub(crate) fn column_norms_into<T: Real>(dst: &mut [T], a: MatRef<'_, T>, par: Par) {
    match par {
        Par::Seq => dst
            .iter_mut()
            .enumerate()
            .for_each(|(j, d)| *d = a.col(j).norm_l2()),
        Par::Rayon(_) => dst
            .par_iter_mut()
            .enumerate()
            .with_min_len(64)
            .for_each(|(j, d)| *d = a.col(j).norm_l2()),
    }
}

/// What [`normalize_columns`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Normalization<T> {
    /// The norm of each column before scaling.
    pub norms: Vec<T>,
    /// Columns whose norm was zero (or not finite): left untouched, not divided by.
    /// A dictionary-learning caller replaces such atoms.
    pub zero_columns: Vec<usize>,
}

impl<T> Normalization<T> {
    /// `true` when every column was scaled to unit norm.
    pub fn all_normalized(&self) -> bool {
        self.zero_columns.is_empty()
    }
}

/// Scales every column of `a` to unit ℓ2 norm in place.
///
/// A column whose norm is zero, subnormal or not finite is **reported** in
/// [`Normalization::zero_columns`] and left as it is rather than divided by.
pub fn normalize_columns<T: Real>(a: MatMut<'_, T>) -> Normalization<T> {
    let norms = column_norms(a.rb());
    scale_to_unit(a, norms)
}

/// Divides each column of `a` by its norm in `norms`, leaving the columns whose norm is not
/// a normal number as they are: the scaling half of [`normalize_columns`], shared with the
/// context's version (which computes the norms on its backend).
pub(crate) fn scale_to_unit<T: Real>(mut a: MatMut<'_, T>, norms: Vec<T>) -> Normalization<T> {
    let mut zero_columns = Vec::new();
    for (j, &n) in norms.iter().enumerate() {
        if !num_traits::Float::is_normal(n) {
            zero_columns.push(j);
            continue;
        }
        let inv = T::one() / n;
        for v in a.rb_mut().col_mut(j).iter_mut() {
            *v *= inv;
        }
    }
    Normalization {
        norms,
        zero_columns,
    }
}
