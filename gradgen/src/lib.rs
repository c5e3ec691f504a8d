//! # gradgen
//!
//! Backward passes generated at compile time from plain Rust forward functions.
//!
//! Put `#[differentiable]` on a function that computes a scalar (a loss) or a matrix (a layer)
//! from matrices through a sequence of `let` bindings. The macro infers the shape of every intermediate from the function's const
//! generics, applies the chain rule one binding at a time in reverse, adds up the contributions of
//! values used more than once, and emits a companion `<name>_backward` function that returns the
//! forward value and the gradient of every differentiable input.
//!
//! ```
//! use gradgen::prelude::*;
//!
//! #[differentiable]
//! pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
//!     x: &Mat<N, D>,
//!     w: &Mat<D, C>,
//!     b: &Mat<1, C>,
//!     y: &Labels<N, C>,
//! ) -> f64 {
//!     let h = x.matmul(w);              // [N x C]
//!     let score = h.add_row(b);         // [N x C], b broadcast over rows
//!     let correct = score.pick(y);      // [N x 1], score[i, y_i]
//!     let rowsum = score.exp().row_sums(); // [N x 1]
//!     (rowsum.ln() - correct).mean()    // scalar
//! }
//!
//! # fn main() -> Result<(), gradgen::Error> {
//! let x = Mat::<4, 3>::from_fn(|i, j| (i as f64 - j as f64) / 4.0);
//! let w = Mat::<3, 2>::from_fn(|i, j| 0.1 * (i + 2 * j) as f64);
//! let b = Mat::<1, 2>::zeros();
//! let y = Labels::<4, 2>::new(vec![0, 1, 1, 0])?;
//!
//! let grads = softmax_loss_backward(&x, &w, &b, &y, 1.0);
//! assert_eq!(grads.value, softmax_loss(&x, &w, &b, &y));
//! let _: &Mat<3, 2> = &grads.w; // one gradient per differentiable input, shaped like it
//! # Ok(())
//! # }
//! ```
//!
//! Labels and scalar parameters are constants: they get no gradient and cost no work.
//!
//! Next to the function, the macro generates:
//! - `<name>_backward(<the same parameters>, d_out)`, whose documentation lays out the
//!   derivation (the forward bindings with their shapes, then every gradient contribution);
//!   for a matrix value, `d_out: &Mat<R, C>` is the upstream gradient and the result is the
//!   vector-Jacobian product;
//! - `<Name>Grads`, the forward `value` and one field per differentiable input, with the
//!   derivation as the constant `<Name>Grads::DERIVATION`;
//! - `<name>_gradcheck(<the same parameters>)`, which checks the generated gradients against
//!   central finite differences and returns a [`check::GradCheck`] report.
//!
//! A differentiable function can call another one (declare the call's result type), name a
//! hand-written backward (`#[differentiable(custom_backward = path)]`), and be a method of a
//! model struct marked [`macro@model`] whose `Mat` fields are its weights.
//!
//! The operations a differentiable function can use, with their gradients, are the methods and
//! operators of [`Mat`]; the README's op table lists them.
//!
//! The runtime is [`Mat`], a matrix whose shape is part of its type, [`Labels`], and the
//! typed operations on them; [`check`] compares any gradient with central finite differences.

// Lets the generated code, which names `::gradgen::…`, compile inside this crate's own tests.
extern crate self as gradgen;

pub mod check;
pub mod data;
mod error;
pub mod init;
mod labels;
mod mat;
mod ops;
pub mod optim;
mod params;
mod scalar;
pub mod weights;

pub use error::Error;
pub use gradgen_macros::{differentiable, model};
pub use labels::Labels;
pub use mat::Mat;
/// The ndarray version gradgen builds on, for [`Mat::from_array`] and [`Mat::into_array`].
pub use ndarray;
pub use params::{Params, Tensors};
/// The `rand` version gradgen builds on, for generators to pass to [`init`].
pub use rand;
pub use scalar::Scalar;

/// Everything a model file needs: `use gradgen::prelude::*;`. Brings in the types, the
/// attributes, and the traits whose methods a training loop calls (`Tensors` for gradient
/// clipping and accumulation, `Optimizer` for `step`).
pub mod prelude {
    pub use crate::data::Dataset;
    pub use crate::optim::Optimizer;
    pub use crate::{differentiable, model, Labels, Mat, Params, Scalar, Tensors};
}

/// Paths the generated code names absolutely. Not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use gradgen_macros::model_impl;
}
