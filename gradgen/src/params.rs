//! Named sets of matrices: the weights of a model and their gradients.
//!
//! [`Tensors`] visits the matrices of a value in a fixed order, each with its name. The
//! `#[model]` struct implements it for its weights and for its `<Model>Grads`; a
//! `#[differentiable]` function implements it for its `<Name>Grads` (the gradients, not the
//! forward value) and for `<Name>Params`, the differentiable inputs gathered in one struct.
//! [`Params`] ties a set of weights to the type of its gradients. Optimizers, gradient
//! clipping and saving weights are written once against these traits.

use ndarray::{ArrayView2, ArrayViewMut2};

use crate::Scalar;

/// A fixed, ordered set of named matrices of one element type.
///
/// `for_each` and `for_each_mut` visit the same matrices, with the same names and shapes, in
/// the same order, every time.
pub trait Tensors {
    /// The element type of every matrix.
    type Elem: Scalar;

    /// Calls `f` with the name and a view of each matrix, in order.
    fn for_each(&self, f: &mut dyn FnMut(&'static str, ArrayView2<'_, Self::Elem>));

    /// Calls `f` with the name and a mutable view of each matrix, in order.
    fn for_each_mut(&mut self, f: &mut dyn FnMut(&'static str, ArrayViewMut2<'_, Self::Elem>));
}

/// Weights whose gradients have the type `Grads`: the same names and shapes, in the same order.
pub trait Params: Tensors {
    /// The gradients of these weights.
    type Grads: Tensors<Elem = Self::Elem>;
}
