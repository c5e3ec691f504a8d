//! Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay.

use ndarray::Zip;

use super::{check, Optimizer, State};
use crate::{Error, Params, Scalar};

/// The hyper-parameters both variants share.
#[derive(Clone, Copy, Debug)]
struct Hyper {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
}

impl Hyper {
    fn validate(&self, name: &str) -> Result<(), Error> {
        let Hyper {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
            ..
        } = *self;
        check(
            lr.is_finite() && lr >= 0.0,
            &format!("{name} learning rate"),
            "a finite number ≥ 0",
            lr,
        )?;
        check(
            (0.0..1.0).contains(&beta1),
            &format!("{name} beta1"),
            "a number in [0, 1)",
            beta1,
        )?;
        check(
            (0.0..1.0).contains(&beta2),
            &format!("{name} beta2"),
            "a number in [0, 1)",
            beta2,
        )?;
        check(
            eps.is_finite() && eps >= 0.0,
            &format!("{name} eps"),
            "a finite number ≥ 0",
            eps,
        )?;
        check(
            weight_decay.is_finite() && weight_decay >= 0.0,
            &format!("{name} weight decay"),
            "a finite number ≥ 0",
            weight_decay,
        )
    }

    /// One step on every tensor; `decoupled` is AdamW's weight decay, else Adam's L2 term.
    fn step<T: Scalar, P: Params<Elem = T>>(
        &self,
        name: &'static str,
        decoupled: bool,
        state: &mut State<T>,
        params: &mut P,
        grads: &P::Grads,
    ) -> Result<(), Error> {
        self.validate(name)?;
        state.begin(name, params, grads, if self.amsgrad { 3 } else { 2 })?;
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let t = state.steps.min(i32::MAX as u64) as i32;
        let step_size = T::from_f64(self.lr / (1.0 - self.beta1.powi(t)));
        let bc2_sqrt = T::from_f64((1.0 - self.beta2.powi(t)).sqrt());
        let [b1, b2, eps] = [self.beta1, self.beta2, self.eps].map(T::from_f64);
        let (l2, shrink) = if decoupled {
            (T::zero(), T::from_f64(1.0 - self.lr * self.weight_decay))
        } else {
            (T::from_f64(self.weight_decay), T::one())
        };
        let one = T::one();
        state.update(params, grads, &mut |param, grad, buffers| {
            let (moments, max_v) = buffers.split_at_mut(2);
            let [m, v] = moments else {
                unreachable!("two moment buffers")
            };
            let mut max_v = max_v.first_mut();
            Zip::indexed(param)
                .and(grad)
                .and(m)
                .and(v)
                .for_each(|ix, p, &g, m, v| {
                    *p *= shrink;
                    let g = g + l2 * *p;
                    *m = b1 * *m + (one - b1) * g;
                    *v = b2 * *v + (one - b2) * g * g;
                    let v_used = match max_v.as_mut() {
                        Some(max) => {
                            max[ix] = max[ix].max(*v);
                            max[ix]
                        }
                        None => *v,
                    };
                    *p -= step_size * *m / (v_used.sqrt() / bc2_sqrt + eps);
                });
        });
        Ok(())
    }
}

/// Implements the builder and [`Optimizer`] for one variant.
macro_rules! adam_variant {
    ($Name:ident, $label:literal, $decoupled:literal, $default_decay:literal) => {
        impl<T: Scalar> Default for $Name<T> {
            fn default() -> Self {
                $Name::new(1e-3)
            }
        }

        impl<T: Scalar> $Name<T> {
            /// With learning rate `lr` and PyTorch's other defaults: betas `(0.9, 0.999)`,
            #[doc = concat!("eps `1e-8`, weight decay `", stringify!($default_decay), "`, no AMSGrad.")]
            #[must_use]
            pub fn new(lr: f64) -> Self {
                $Name {
                    hyper: Hyper {
                        lr,
                        beta1: 0.9,
                        beta2: 0.999,
                        eps: 1e-8,
                        weight_decay: $default_decay,
                        amsgrad: false,
                    },
                    state: State::default(),
                }
            }

            /// The decay rates `(β₁, β₂)` of the moment estimates, each in `[0, 1)`.
            #[must_use]
            pub fn betas(mut self, beta1: f64, beta2: f64) -> Self {
                self.hyper.beta1 = beta1;
                self.hyper.beta2 = beta2;
                self
            }

            /// The `ε` added to the denominator.
            #[must_use]
            pub fn eps(mut self, eps: f64) -> Self {
                self.hyper.eps = eps;
                self
            }

            /// The weight decay `λ`.
            #[must_use]
            pub fn weight_decay(mut self, weight_decay: f64) -> Self {
                self.hyper.weight_decay = weight_decay;
                self
            }

            /// AMSGrad: divide by the running maximum of `v̂` instead of `v̂`.
            #[must_use]
            pub fn amsgrad(mut self, amsgrad: bool) -> Self {
                self.hyper.amsgrad = amsgrad;
                self
            }
        }

        impl<T: Scalar> Optimizer<T> for $Name<T> {
            fn step<P: Params<Elem = T>>(
                &mut self,
                params: &mut P,
                grads: &P::Grads,
            ) -> Result<(), Error> {
                self.hyper.step($label, $decoupled, &mut self.state, params, grads)
            }

            fn learning_rate(&self) -> f64 {
                self.hyper.lr
            }

            fn set_learning_rate(&mut self, lr: f64) {
                self.hyper.lr = lr;
            }

            fn reset(&mut self) {
                self.state = State::default();
            }

            fn steps(&self) -> u64 {
                self.state.steps
            }
        }
    };
}

/// Adam, as PyTorch's `torch.optim.Adam`: adaptive moment estimation with an L2 weight decay.
///
/// With learning rate `γ`, betas `(β₁, β₂)`, `ε` and weight decay `λ`, each step `t` (from 1)
/// updates every weight `θ` from its gradient `g`, with `m` and `v` starting at 0:
///
/// ```text
/// g  ← g + λ·θ                         if λ ≠ 0
/// m  ← β₁·m + (1 − β₁)·g
/// v  ← β₂·v + (1 − β₂)·g²
/// m̂  = m / (1 − β₁ᵗ)
/// v̂  = v / (1 − β₂ᵗ)                    (AMSGrad: v̂ = max over steps of v, / (1 − β₂ᵗ))
/// θ  ← θ − γ·m̂ / (√v̂ + ε)
/// ```
///
/// Defaults (PyTorch's): `γ = 1e-3`, `β = (0.9, 0.999)`, `ε = 1e-8`, `λ = 0`, no AMSGrad.
///
/// ```
/// use gradgen::optim::Adam;
/// let adam = Adam::<f64>::new(1e-3).betas(0.9, 0.99).eps(1e-7);
/// # let _ = adam;
/// ```
#[derive(Clone, Debug)]
pub struct Adam<T: Scalar = f64> {
    hyper: Hyper,
    state: State<T>,
}

adam_variant!(Adam, "Adam", false, 0.0);

/// AdamW, as PyTorch's `torch.optim.AdamW`: Adam with decoupled weight decay, which shrinks the
/// weights directly instead of adding `λ·θ` to the gradient.
///
/// Each step `t` (from 1), with `m` and `v` starting at 0:
///
/// ```text
/// θ  ← θ·(1 − γ·λ)
/// m  ← β₁·m + (1 − β₁)·g
/// v  ← β₂·v + (1 − β₂)·g²
/// m̂  = m / (1 − β₁ᵗ)
/// v̂  = v / (1 − β₂ᵗ)                    (AMSGrad: v̂ = max over steps of v, / (1 − β₂ᵗ))
/// θ  ← θ − γ·m̂ / (√v̂ + ε)
/// ```
///
/// Defaults (PyTorch's): `γ = 1e-3`, `β = (0.9, 0.999)`, `ε = 1e-8`, `λ = 1e-2`, no AMSGrad.
#[derive(Clone, Debug)]
pub struct AdamW<T: Scalar = f64> {
    hyper: Hyper,
    state: State<T>,
}

adam_variant!(AdamW, "AdamW", true, 0.01);
