//! Named sets of matrices: the weights of a model and their gradients.
//!
//! [`Tensors`] visits the matrices of a value in a fixed order, each with its name. The
//! `#[model]` struct implements it for its weights and for its `<Model>Grads`; a
//! `#[differentiable]` function implements it for its `<Name>Grads` (the gradients, not the
//! forward value) and for `<Name>Params`, the differentiable inputs gathered in one struct.
//! [`Params`] ties a set of weights to the type of its gradients. Optimizers
//! ([`optim`](crate::optim)), gradient clipping and saving weights
//! ([`weights`](crate::weights)) are written once against these traits.

use ndarray::{ArrayView2, ArrayViewMut2};
use num_traits::{Float, One, Zero};

use crate::Scalar;

/// A fixed, ordered set of named matrices of one element type.
///
/// `for_each` and `for_each_mut` visit the same matrices, with the same names and shapes, in
/// the same order, every time.
///
/// The provided methods treat the set as one long vector: scale it, add another set of the same
/// type to it (to accumulate gradients over batches or shards), take its norm, clip it.
///
/// ```
/// use gradgen::prelude::*;
///
/// #[differentiable(wrt(w))]
/// fn loss<const N: usize>(x: &Mat<N, 2>, w: &Mat<2, 1>) -> f64 {
///     x.matmul(w).sum()
/// }
///
/// let x = Mat::from_rows([[3.0, 0.0], [0.0, 4.0]]);
/// let w = Mat::full(1.0);
/// // Two shards of a batch, accumulated into one gradient:
/// let mut total = LossGrads::zeros();
/// total.accumulate(&loss_backward(&x, &w, 1.0));
/// total.accumulate(&loss_backward(&x, &w, 1.0));
/// assert_eq!(total.w, Mat::from_rows([[6.0], [8.0]]));
/// assert_eq!(total.global_norm(), 10.0);
/// let before = total.clip_norm(5.0);
/// assert_eq!(before, 10.0);
/// assert!((total.global_norm() - 5.0).abs() < 1e-6);
/// total.scale(0.0);
/// assert_eq!(total.global_norm(), 0.0);
/// ```
pub trait Tensors {
    /// The element type of every matrix.
    type Elem: Scalar;

    /// Calls `f` with the name and a view of each matrix, in order.
    fn for_each(&self, f: &mut dyn FnMut(&str, ArrayView2<'_, Self::Elem>));

    /// Calls `f` with the name and a mutable view of each matrix, in order.
    fn for_each_mut(&mut self, f: &mut dyn FnMut(&str, ArrayViewMut2<'_, Self::Elem>));

    /// The name and `(rows, cols)` of each matrix, in order.
    fn layout(&self) -> Vec<(String, (usize, usize))> {
        let mut out = Vec::new();
        self.for_each(&mut |name, view| out.push((name.to_owned(), view.dim())));
        out
    }

    /// The number of entries of all the matrices together.
    fn entry_count(&self) -> usize {
        let mut n = 0;
        self.for_each(&mut |_, view| n += view.len());
        n
    }

    /// Multiplies every entry by `factor`.
    fn scale(&mut self, factor: Self::Elem) {
        self.for_each_mut(&mut |_, mut view| view.mapv_inplace(|v| v * factor));
    }

    /// Sets every entry to `value` (`fill(0.0)` to reuse a gradient accumulator).
    fn fill(&mut self, value: Self::Elem) {
        self.for_each_mut(&mut |_, mut view| view.fill(value));
    }

    /// Adds `factor · other` to `self`, matrix by matrix.
    fn add_scaled(&mut self, other: &Self, factor: Self::Elem)
    where
        Self: Sized,
    {
        let mut index = 0;
        self.for_each_mut(&mut |_, mut dst| {
            with_nth(other, index, &mut |_, src| dst.scaled_add(factor, &src));
            index += 1;
        });
    }

    /// Adds `other` to `self`, matrix by matrix: to accumulate gradients over batches or shards
    /// before a step.
    fn accumulate(&mut self, other: &Self)
    where
        Self: Sized,
    {
        self.add_scaled(other, Self::Elem::one());
    }

    /// The Euclidean norm of all the entries together: `√(Σ over every matrix of Σ v²)`.
    fn global_norm(&self) -> Self::Elem {
        let mut total = Self::Elem::zero();
        self.for_each(&mut |_, view| {
            total += view.iter().fold(Self::Elem::zero(), |s, &v| s + v * v)
        });
        total.sqrt()
    }

    /// Scales the whole set down so that its [`global_norm`](Tensors::global_norm) is at most
    /// `max_norm`, as PyTorch's `clip_grad_norm_` does: when the norm exceeds `max_norm`, every
    /// entry is multiplied by `max_norm / (norm + 1e-6)`. Returns the norm before clipping (a
    /// non-finite norm is returned and nothing is scaled).
    fn clip_norm(&mut self, max_norm: Self::Elem) -> Self::Elem {
        let norm = self.global_norm();
        if norm.is_finite() && norm > max_norm {
            let eps = <Self::Elem as Scalar>::from_f64(1e-6);
            self.scale(max_norm / (norm + eps));
        }
        norm
    }

    /// Whether every entry is finite (no NaN, no infinity).
    fn is_finite(&self) -> bool {
        let mut finite = true;
        self.for_each(&mut |_, view| finite &= view.iter().all(|v| v.is_finite()));
        finite
    }
}

/// Weights whose gradients have the type `Grads`: the same names and shapes, in the same order.
pub trait Params: Tensors {
    /// The gradients of these weights.
    type Grads: Tensors<Elem = Self::Elem>;
}

/// Calls `f` with the name and view of the `n`-th matrix of `set` (nothing when there is none).
///
/// A view handed out by [`Tensors::for_each`] lives only for the call, so two sets are walked
/// together by visiting the second once per matrix of the first; a set has a handful of
/// matrices and a view costs no copy.
pub(crate) fn with_nth<S: Tensors + ?Sized>(
    set: &S,
    n: usize,
    f: &mut dyn FnMut(&str, ArrayView2<'_, S::Elem>),
) {
    let mut index = 0;
    set.for_each(&mut |name, view| {
        if index == n {
            f(name, view);
        }
        index += 1;
    });
}

/// `w [3 × 2], b [1 × 2]`: a layout as the error messages show it.
pub(crate) fn describe(layout: &[(String, (usize, usize))]) -> String {
    layout
        .iter()
        .map(|(name, (r, c))| format!("{name} [{r} × {c}]"))
        .collect::<Vec<_>>()
        .join(", ")
}
