//! Optimizers with PyTorch's update formulas and default hyper-parameters: [`Sgd`] (with
//! momentum, dampening, Nesterov momentum and weight decay), [`Adam`] and [`AdamW`].
//!
//! An optimizer updates any [`Params`] from its gradients: the weights of a `#[model]` struct
//! from its `<Model>Grads`, or the `<Name>Params` of a differentiable function from its
//! `<Name>Grads`. Its state (momentum buffers, moment estimates) is created on the first
//! [`step`](Optimizer::step), for the tensors of that step; a later step with other tensors
//! (other names or shapes) is an [`Error`], not a panic. Hyper-parameters are `f64`; the state
//! and the arithmetic are in the weights' element type.
//!
//! ```
//! use gradgen::optim::{Adam, Optimizer};
//! use gradgen::prelude::*;
//!
//! #[differentiable(wrt(w, b))]
//! fn loss<const N: usize>(x: &Mat<N, 3>, w: &Mat<3, 2>, b: &Mat<1, 2>, y: &Labels<N, 2>) -> f64 {
//!     x.matmul(w).add_row(b).cross_entropy(y)
//! }
//!
//! # fn main() -> Result<(), gradgen::Error> {
//! let x = Mat::<4, 3>::from_fn(|i, j| (i * 3 + j) as f64 / 10.0 - 0.5);
//! let y = Labels::new(vec![0, 1, 0, 1])?;
//! // The function's w and b, owned: a struct that does not depend on the batch size N
//! let mut params = LossParams::zeros();
//! let mut adam = Adam::new(0.05);
//! let first = loss(&x, &params.w, &params.b, &y);
//! for _ in 0..100 {
//!     let grads = loss_backward(&x, &params.w, &params.b, &y, 1.0);
//!     adam.step(&mut params, &grads)?;
//! }
//! assert!(loss(&x, &params.w, &params.b, &y) < first);
//! # Ok(())
//! # }
//! ```

mod adam;
mod sgd;

use ndarray::{Array2, ArrayView2, ArrayViewMut2};

use crate::params::{describe, with_nth};
use crate::{Error, Params, Scalar, Tensors};

pub use self::adam::{Adam, AdamW};
pub use self::sgd::Sgd;

/// What every optimizer does: a step from gradients, and a learning rate that schedules can
/// change between steps.
pub trait Optimizer<T: Scalar> {
    /// Updates `params` in place from their gradients.
    ///
    /// # Errors
    /// [`Error::TensorMismatch`] when `params` are not the tensors (names and shapes) of the
    /// first step, or when `grads` do not match `params`; [`Error::InvalidArgument`] for a
    /// hyper-parameter out of range. Nothing is updated then.
    fn step<P: Params<Elem = T>>(&mut self, params: &mut P, grads: &P::Grads) -> Result<(), Error>;

    /// The learning rate of the next step.
    fn learning_rate(&self) -> f64;

    /// Sets the learning rate of the next steps (a schedule), keeping the state.
    fn set_learning_rate(&mut self, lr: f64);

    /// Forgets the state: the next step starts afresh, and may be given other tensors.
    fn reset(&mut self);

    /// How many steps were taken since the state was created.
    fn steps(&self) -> u64;
}

/// An update of one tensor: `(param, grad, its buffers)`.
type Update<'a, T> = dyn FnMut(ArrayViewMut2<'_, T>, ArrayView2<'_, T>, &mut [Array2<T>]) + 'a;

/// The per-tensor buffers of an optimizer, created on the first step for its tensors.
#[derive(Clone, Debug)]
struct State<T> {
    layout: Vec<(String, (usize, usize))>,
    /// `buffers[i]` holds the buffers of tensor `i`.
    buffers: Vec<Vec<Array2<T>>>,
    steps: u64,
}

impl<T> Default for State<T> {
    fn default() -> Self {
        State {
            layout: Vec::new(),
            buffers: Vec::new(),
            steps: 0,
        }
    }
}

impl<T: Scalar> State<T> {
    /// Checks the tensors against the state (creating it, with `per_tensor` zero buffers each,
    /// on the first step) and counts the step.
    fn begin<P: Params<Elem = T>>(
        &mut self,
        optimizer: &'static str,
        params: &P,
        grads: &P::Grads,
        per_tensor: usize,
    ) -> Result<(), Error> {
        let layout = params.layout();
        let grads_layout = grads.layout();
        if grads_layout != layout {
            return Err(Error::TensorMismatch {
                optimizer,
                expected: format!("{} (the parameters)", describe(&layout)),
                found: format!("{} (their gradients)", describe(&grads_layout)),
            });
        }
        if self.steps == 0 {
            self.buffers = layout
                .iter()
                .map(|&(_, shape)| (0..per_tensor).map(|_| Array2::zeros(shape)).collect())
                .collect();
            self.layout = layout;
        } else if layout != self.layout {
            return Err(Error::TensorMismatch {
                optimizer,
                expected: describe(&self.layout),
                found: describe(&layout),
            });
        }
        self.steps += 1;
        Ok(())
    }

    /// Calls `update(param, grad, buffers)` for each tensor, in order.
    fn update<P: Params<Elem = T>>(
        &mut self,
        params: &mut P,
        grads: &P::Grads,
        update: &mut Update<'_, T>,
    ) {
        let mut index = 0;
        let buffers = &mut self.buffers;
        params.for_each_mut(&mut |_, mut param| {
            with_nth(grads, index, &mut |_, grad| {
                update(param.view_mut(), grad, &mut buffers[index]);
            });
            index += 1;
        });
    }
}

/// A hyper-parameter check: `Ok` when `ok`, else an [`Error::InvalidArgument`].
fn check(ok: bool, what: &str, expected: &'static str, found: f64) -> Result<(), Error> {
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidArgument {
            what: what.to_owned(),
            expected,
            found: found.to_string(),
        })
    }
}
