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
//! The operations a differentiable function can use are the ones [`Mat`]'s documentation
//! tables, each with its gradient, and the arithmetic operators; nothing else of `Mat` is
//! differentiable (building and reading matrices, [`Mat::cast`], [`Mat::argmax_rows`]), and
//! the kernels the generated code calls are hidden from these docs. Inside a differentiable
//! function, scalars mix freely with them: parameters, `N as f64`, `const` items, literals and
//! values like `x.mean()`, with `sqrt exp ln powi abs tanh`; `bool` and integer parameters are
//! constants, and an `if`/`else` on them is followed by the backward.
//!
//! # Debug builds are slow
//!
//! Numeric code like this runs some 30 times slower unoptimised, so a plain `cargo run` or
//! `cargo test` of a model that trains can take minutes instead of seconds. Optimise the dev
//! profile a little, as this workspace does; debug assertions and debug info stay on:
//!
//! ```toml
//! [profile.dev]
//! opt-level = 1
//! ```
//!
//! The runtime is [`Mat`], a matrix whose shape is part of its type, [`Labels`], and the
//! typed operations on them; [`check`] compares any gradient with central finite differences.
//!
//! # Training on real data
//!
//! Every dimension is a const generic, so data whose row count is known only at run time
//! (a file) cannot be one `Mat<n, D>`: `Mat::<n, 8>::from_vec(xs)` with a run-time `n` is
//! rustc's error E0435. It comes in batches of a const size instead, every row used:
//!
//! - [`data`]: a [`Dataset<D, C>`](data::Dataset) of any number of rows, loaded from a CSV
//!   file or built from `Vec`s or ndarray arrays; a seeded shuffle and train/test split;
//!   standardisation fitted on the training part; [`batches::<B>()`](data::Dataset::batches)
//!   that yield `Mat<B, D>` and `Labels<B, C>` and pad the last batch with rows whose labels
//!   are ignored ([`Labels::with_ignored`]), so that `cross_entropy` and
//!   [`labelled_mean`](Mat::labelled_mean) average over the real rows only; prediction and
//!   accuracy over a whole dataset.
//! - [`optim`]: [`Sgd`](optim::Sgd), [`Adam`](optim::Adam) and [`AdamW`](optim::AdamW)
//!   with PyTorch's formulas and defaults, for any [`Params`]: a `#[model]` struct's weights or
//!   a function's `<Name>Params`. [`Tensors`] scales, accumulates, clips and measures a set of
//!   gradients as one vector.
//! - [`init`]: He, Xavier, normal and uniform initial weights from a seed.
//! - [`weights`]: saving and loading any [`Tensors`] in the safetensors format.
//!
//! ```
//! use gradgen::data::Dataset;
//! use gradgen::optim::Adam;
//! use gradgen::prelude::*;
//! use gradgen::{init, weights};
//!
//! #[model]
//! struct Linear<const D: usize, const C: usize> {
//!     w: Mat<D, C>,
//!     b: Mat<1, C>,
//! }
//!
//! #[differentiable]
//! impl<const D: usize, const C: usize> Linear<D, C> {
//!     #[differentiable]
//!     fn loss<const N: usize>(&self, x: &Mat<N, D>, y: &Labels<N, C>) -> f64 {
//!         x.matmul(&self.w).add_row(&self.b).cross_entropy(y)
//!     }
//!
//!     fn scores<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, C> {
//!         x.matmul(&self.w).add_row(&self.b)
//!     }
//! }
//!
//! # fn main() -> Result<(), gradgen::Error> {
//! // 203 points in the plane, labelled by the side of a line: a row count no batch size divides.
//! let points: Mat<203, 2> = init::uniform(&mut init::rng(1), -1.0, 1.0)?;
//! let labels = (0..203).map(|i| usize::from(points[(i, 0)] + 0.5 * points[(i, 1)] > 0.1)).collect();
//! let data = Dataset::<2, 2>::from_vec(points.to_vec(), labels)?; // or Dataset::load_csv(path, "label")
//! let (mut train, mut test) = data.split(0.2, 7)?;
//! train.standardize()?.apply(&mut test);
//!
//! let mut model = Linear::<2, 2> { w: init::xavier_uniform(&mut init::rng(2)), b: Mat::zeros() };
//! let mut adam = Adam::new(0.05);
//! for epoch in 0..20 {
//!     train.shuffle(epoch);
//!     for (x, y) in train.batches::<16>() { // 162 rows: 10 full batches and one of 2 rows
//!         let (_loss, grads) = model.loss_backward(&x, &y, 1.0);
//!         adam.step(&mut model, &grads)?;
//!     }
//! }
//! let accuracy = test.accuracy::<16>(|x| model.scores(x)); // all 41 test rows
//! assert!(accuracy.fraction() > 0.9, "{accuracy}");
//!
//! let saved = weights::to_bytes(&model)?; // or weights::save(&model, "linear.safetensors")
//! let mut restored = Linear::<2, 2> { w: Mat::zeros(), b: Mat::zeros() };
//! weights::from_bytes(&mut restored, &saved)?;
//! assert_eq!(test.accuracy::<16>(|x| restored.scores(x)), accuracy);
//! # Ok(())
//! # }
//! ```
//!
//! # Both cores
//!
//! - Matrix products run on faer's kernels (AVX-512 or AVX2, chosen at run time). A large one
//!   (2²³ multiply-adds, an inner dimension of 32 or more, and more than one row and column in
//!   its result) is shared among rayon's threads: `RAYON_NUM_THREADS=1`, or calling inside a
//!   one-thread pool, keeps it on one. The bits do not depend on the count. The opt-in `blas`
//!   feature sends the products to the system's OpenBLAS instead (it must be installed;
//!   `OPENBLAS_NUM_THREADS` sets its threads, and its bits may depend on them).
//! - [`parallel`]: for models whose products are too small to split, a batch cut into shards,
//!   each shard's backward on a core of its own (rayon; `RAYON_NUM_THREADS=1` for one), the
//!   weights' gradients averaged.
//! - The fused passes of a backward (a function of entrywise, broadcast and reduction steps
//!   only, such as batch norm) share their rows among rayon's threads from 2¹⁷ entries;
//!   `RAYON_NUM_THREADS=1` keeps them on one. The bits depend on the count only through the
//!   order in which the threads' sums are added.
//! - [`math`]: the entrywise ops' `exp`, `ln`, `tanh` and `sigmoid`, within about an ulp and
//!   vectorised for the CPU the program runs on.

// Lets the generated code, which names `::gradgen::…`, compile inside this crate's own tests.
extern crate self as gradgen;
// The `blas` feature: links the BLAS that ndarray's products call (ndarray's documented way).
#[cfg(feature = "blas")]
extern crate blas_src;

pub mod check;
pub mod data;
mod error;
#[doc(hidden)]
pub mod fused;
pub mod init;
mod labels;
mod mat;
pub mod math;
mod ops;
pub mod optim;
pub mod parallel;
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
/// The `rand` version gradgen builds on, for generators to pass to [`init`] and
/// [`data::Dataset::shuffle_with`].
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
    pub use crate::mat::Entries;
    pub use gradgen_macros::model_impl;
}
