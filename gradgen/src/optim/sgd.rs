//! Stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight decay.

use ndarray::Zip;

use super::{check, Optimizer, State};
use crate::{Error, Params, Scalar};

/// Stochastic gradient descent, as PyTorch's `torch.optim.SGD`.
///
/// With learning rate `γ`, weight decay `λ`, momentum `μ` and dampening `τ`, each step `t`
/// (from 1) updates every weight `θ` from its gradient `g`:
///
/// ```text
/// g ← g + λ·θ                          if λ ≠ 0
/// b ← g                                at t = 1        } if μ ≠ 0
/// b ← μ·b + (1 − τ)·g                  at t > 1        }
/// g ← g + μ·b   with Nesterov, else g ← b              }
/// θ ← θ − γ·g
/// ```
///
/// Defaults (PyTorch's): `γ = 1e-3`, `μ = 0`, `τ = 0`, `λ = 0`, no Nesterov. Nesterov momentum
/// needs `μ > 0` and `τ = 0`.
///
/// ```
/// use gradgen::optim::Sgd;
/// let sgd = Sgd::<f64>::new(0.1).momentum(0.9).nesterov(true).weight_decay(5e-4);
/// # let _ = sgd;
/// ```
#[derive(Clone, Debug)]
pub struct Sgd<T: Scalar = f64> {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    state: State<T>,
}

impl<T: Scalar> Default for Sgd<T> {
    fn default() -> Self {
        Sgd::new(1e-3)
    }
}

impl<T: Scalar> Sgd<T> {
    /// Plain gradient descent with learning rate `lr`: `θ ← θ − lr·g`.
    #[must_use]
    pub fn new(lr: f64) -> Self {
        Sgd {
            lr,
            momentum: 0.0,
            dampening: 0.0,
            weight_decay: 0.0,
            nesterov: false,
            state: State::default(),
        }
    }

    /// The momentum factor `μ` (0 by default).
    #[must_use]
    pub fn momentum(mut self, momentum: f64) -> Self {
        self.momentum = momentum;
        self
    }

    /// The dampening `τ` of the momentum (0 by default).
    #[must_use]
    pub fn dampening(mut self, dampening: f64) -> Self {
        self.dampening = dampening;
        self
    }

    /// The weight decay `λ`, an L2 penalty added to the gradient (0 by default).
    #[must_use]
    pub fn weight_decay(mut self, weight_decay: f64) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Nesterov momentum (off by default; needs a momentum `> 0` and no dampening).
    #[must_use]
    pub fn nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    fn validate(&self) -> Result<(), Error> {
        check(
            self.lr.is_finite() && self.lr >= 0.0,
            "SGD learning rate",
            "a finite number ≥ 0",
            self.lr,
        )?;
        check(
            (0.0..).contains(&self.momentum),
            "SGD momentum",
            "a number ≥ 0",
            self.momentum,
        )?;
        check(
            self.dampening.is_finite(),
            "SGD dampening",
            "a finite number",
            self.dampening,
        )?;
        check(
            (0.0..).contains(&self.weight_decay),
            "SGD weight decay",
            "a number ≥ 0",
            self.weight_decay,
        )?;
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::InvalidArgument {
                what: "SGD with Nesterov momentum".to_owned(),
                expected: "a momentum > 0 and a dampening of 0",
                found: format!("momentum {}, dampening {}", self.momentum, self.dampening),
            });
        }
        Ok(())
    }
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step<P: Params<Elem = T>>(&mut self, params: &mut P, grads: &P::Grads) -> Result<(), Error> {
        self.validate()?;
        let with_momentum = self.momentum != 0.0;
        self.state
            .begin("SGD", params, grads, usize::from(with_momentum))?;
        let first = self.state.steps == 1;
        let [lr, mu, tau, wd] =
            [self.lr, self.momentum, self.dampening, self.weight_decay].map(T::from_f64);
        let nesterov = self.nesterov;
        self.state
            .update(params, grads, &mut |param, grad, buffers| {
                if let [buf] = buffers {
                    Zip::from(param).and(grad).and(buf).for_each(|p, &g, b| {
                        let g = g + wd * *p;
                        *b = if first {
                            g
                        } else {
                            mu * *b + (T::one() - tau) * g
                        };
                        let g = if nesterov { g + mu * *b } else { *b };
                        *p -= lr * g;
                    });
                } else {
                    Zip::from(param)
                        .and(grad)
                        .for_each(|p, &g| *p -= lr * (g + wd * *p));
                }
            });
        Ok(())
    }

    fn learning_rate(&self) -> f64 {
        self.lr
    }

    fn set_learning_rate(&mut self, lr: f64) {
        self.lr = lr;
    }

    fn reset(&mut self) {
        self.state = State::default();
    }

    fn steps(&self) -> u64 {
        self.state.steps
    }
}
