//! `gradgen::optim`: the first five steps of each optimizer on a fixed problem equal PyTorch's
//! update formulas, computed here independently, one scalar at a time; the optimizers work on
//! a function's `<Name>Params` and on a model's weights; a step with other tensors is an error.

use gradgen::optim::{Adam, AdamW, Optimizer, Sgd};
use gradgen::prelude::*;
use gradgen::Error;

/// `½ Σ a ∘ (w − c)²` plus the same for `b`: the gradient of each entry is `a·(w − c)`, which
/// the reference below computes without the generated code.
#[differentiable(wrt(w, b))]
fn quadratic(
    w: &Mat<2, 3>,
    b: &Mat<1, 3>,
    a: &Mat<2, 3>,
    c: &Mat<2, 3>,
    ab: &Mat<1, 3>,
    cb: &Mat<1, 3>,
) -> f64 {
    let dw = w - c;
    let db = b - cb;
    ((dw.square() * a).sum() + (db.square() * ab).sum()) * 0.5
}

/// The fixed problem: curvatures `a`, centres `c`, and a start away from them.
struct Problem {
    a: Vec<f64>,
    c: Vec<f64>,
    start: Vec<f64>,
}

fn problem() -> Problem {
    Problem {
        a: vec![1.0, 0.5, 2.0, 0.1, 3.0, 1.5, 0.7, 2.5, 0.2],
        c: vec![0.3, -1.0, 2.0, 0.0, 0.5, -0.25, 1.0, -2.0, 0.75],
        start: vec![1.0, 2.0, -1.0, 0.5, -0.5, 1.5, -0.3, 0.8, 0.0],
    }
}

fn split<const R: usize, const C: usize>(v: &[f64]) -> Mat<R, C> {
    Mat::from_vec(v.to_vec()).unwrap()
}

/// Five steps of `opt` through the generated gradients, as one flat vector of `w` then `b`
/// after each step.
fn run(opt: &mut impl Optimizer<f64>) -> Vec<Vec<f64>> {
    let p = problem();
    let (a, ab): (Mat<2, 3>, Mat<1, 3>) = (split(&p.a[..6]), split(&p.a[6..]));
    let (c, cb): (Mat<2, 3>, Mat<1, 3>) = (split(&p.c[..6]), split(&p.c[6..]));
    let mut params = QuadraticParams {
        w: split(&p.start[..6]),
        b: split(&p.start[6..]),
    };
    let mut out = Vec::new();
    for _ in 0..5 {
        let grads = quadratic_backward(&params.w, &params.b, &a, &c, &ab, &cb, 1.0);
        // Up to rounding: the fused backward sums in another order than the forward.
        let value = quadratic(&params.w, &params.b, &a, &c, &ab, &cb);
        assert!((grads.value - value).abs() <= 1e-12 * value.abs());
        opt.step(&mut params, &grads).unwrap();
        out.push(
            params
                .w
                .to_vec()
                .into_iter()
                .chain(params.b.to_vec())
                .collect(),
        );
    }
    assert_eq!(opt.steps(), 5);
    out
}

/// The reference: a per-entry update rule applied for five steps to the same problem, with
/// the gradient `a·(θ − c)` computed here. `update(t, θ, g, state)` returns the new θ.
fn reference(mut update: impl FnMut(i32, f64, f64, &mut [f64; 3]) -> f64) -> Vec<Vec<f64>> {
    let p = problem();
    let mut theta = p.start.clone();
    let mut state = vec![[0.0; 3]; theta.len()];
    let mut out = Vec::new();
    for t in 1..=5 {
        for k in 0..theta.len() {
            let g = p.a[k] * (theta[k] - p.c[k]);
            theta[k] = update(t, theta[k], g, &mut state[k]);
        }
        out.push(theta.clone());
    }
    out
}

fn assert_close(ours: &[Vec<f64>], theirs: &[Vec<f64>]) {
    for (step, (o, t)) in ours.iter().zip(theirs).enumerate() {
        for (k, (x, y)) in o.iter().zip(t).enumerate() {
            assert!(
                (x - y).abs() <= 1e-12 * y.abs().max(1.0),
                "step {}, entry {k}: {x} vs {y}",
                step + 1
            );
        }
    }
    // The steps move the weights: the comparison is not between two unchanged starts.
    assert!(ours[4]
        .iter()
        .zip(&problem().start)
        .any(|(x, s)| (x - s).abs() > 1e-3));
}

/// PyTorch's SGD: weight decay, then momentum with dampening (the buffer is `g` at step 1),
/// then Nesterov or plain, then the step.
fn sgd_reference(lr: f64, mu: f64, tau: f64, wd: f64, nesterov: bool) -> Vec<Vec<f64>> {
    reference(|t, theta, g, s| {
        let mut g = g + wd * theta;
        if mu != 0.0 {
            s[0] = if t == 1 {
                g
            } else {
                mu * s[0] + (1.0 - tau) * g
            };
            g = if nesterov { g + mu * s[0] } else { s[0] };
        }
        theta - lr * g
    })
}

#[test]
fn sgd_follows_pytorch() {
    assert_close(
        &run(&mut Sgd::new(0.1)),
        &sgd_reference(0.1, 0.0, 0.0, 0.0, false),
    );
    assert_close(
        &run(&mut Sgd::new(0.1).momentum(0.9).dampening(0.3)),
        &sgd_reference(0.1, 0.9, 0.3, 0.0, false),
    );
    assert_close(
        &run(&mut Sgd::new(0.05)
            .momentum(0.8)
            .nesterov(true)
            .weight_decay(0.1)),
        &sgd_reference(0.05, 0.8, 0.0, 0.1, true),
    );
    assert_close(
        &run(&mut Sgd::default()),
        &sgd_reference(1e-3, 0.0, 0.0, 0.0, false),
    );
}

/// PyTorch's Adam (`decoupled = false`) and AdamW (`true`), with AMSGrad optional.
fn adam_reference(
    lr: f64,
    (b1, b2): (f64, f64),
    eps: f64,
    wd: f64,
    decoupled: bool,
    amsgrad: bool,
) -> Vec<Vec<f64>> {
    reference(|t, theta, g, s| {
        let (theta, g) = if decoupled {
            (theta * (1.0 - lr * wd), g)
        } else {
            (theta, g + wd * theta)
        };
        s[0] = b1 * s[0] + (1.0 - b1) * g;
        s[1] = b2 * s[1] + (1.0 - b2) * g * g;
        s[2] = s[2].max(s[1]);
        let m_hat = s[0] / (1.0 - b1.powi(t));
        let v_hat = if amsgrad { s[2] } else { s[1] } / (1.0 - b2.powi(t));
        theta - lr * m_hat / (v_hat.sqrt() + eps)
    })
}

#[test]
fn adam_follows_pytorch() {
    assert_close(
        &run(&mut Adam::default()),
        &adam_reference(1e-3, (0.9, 0.999), 1e-8, 0.0, false, false),
    );
    assert_close(
        &run(&mut Adam::new(0.1).betas(0.8, 0.99).eps(1e-6).weight_decay(0.05)),
        &adam_reference(0.1, (0.8, 0.99), 1e-6, 0.05, false, false),
    );
    assert_close(
        &run(&mut Adam::new(0.2).amsgrad(true)),
        &adam_reference(0.2, (0.9, 0.999), 1e-8, 0.0, false, true),
    );
}

#[test]
fn adamw_follows_pytorch() {
    // PyTorch's defaults, weight decay 1e-2 included; then a larger rate where the decay shows.
    assert_close(
        &run(&mut AdamW::default()),
        &adam_reference(1e-3, (0.9, 0.999), 1e-8, 1e-2, true, false),
    );
    assert_close(
        &run(&mut AdamW::new(0.1).weight_decay(0.5)),
        &adam_reference(0.1, (0.9, 0.999), 1e-8, 0.5, true, false),
    );
    assert_close(
        &run(&mut AdamW::new(0.1).amsgrad(true)),
        &adam_reference(0.1, (0.9, 0.999), 1e-8, 1e-2, true, true),
    );
}

#[test]
fn the_learning_rate_can_change_between_steps() {
    let mut sgd = Sgd::new(0.1);
    sgd.set_learning_rate(0.01);
    assert_eq!(sgd.learning_rate(), 0.01);
    assert_close(&run(&mut sgd), &sgd_reference(0.01, 0.0, 0.0, 0.0, false));
}

#[differentiable]
fn other(v: &Mat<3, 2>) -> f64 {
    v.sum()
}

#[test]
fn a_step_with_other_tensors_is_an_error_and_changes_nothing() {
    let mut adam = Adam::new(0.1);
    run(&mut adam);
    let mut params = OtherParams { v: Mat::full(1.0) };
    let grads = other_backward(&params.v, 1.0);
    assert_eq!(other(&params.v), 6.0);
    let err = adam.step(&mut params, &grads).unwrap_err();
    assert!(matches!(
        err,
        Error::TensorMismatch {
            optimizer: "Adam",
            ..
        }
    ));
    assert_eq!(
        err.to_string(),
        "Adam was first stepped with the tensors w [2 × 3], b [1 × 3], and now with v [3 × 2]: use one optimizer per set of parameters, or `reset` it"
    );
    assert_eq!(params.v, Mat::full(1.0));
    // After a reset, the optimizer starts afresh with the new tensors.
    adam.reset();
    adam.step(&mut params, &grads).unwrap();
    assert_eq!(adam.steps(), 1);
    assert!(
        (params.v[(0, 0)] - 0.9).abs() < 1e-9,
        "Adam's first step is lr·sign(g)"
    );
}

#[test]
fn invalid_hyper_parameters_are_errors() {
    let mut params = OtherParams { v: Mat::full(1.0) };
    let grads = other_backward(&params.v, 1.0);
    let err = Sgd::new(0.1)
        .nesterov(true)
        .step(&mut params, &grads)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid SGD with Nesterov momentum: expected a momentum > 0 and a dampening of 0, found momentum 0, dampening 0"
    );
    let err = Adam::new(0.1)
        .betas(1.0, 0.999)
        .step(&mut params, &grads)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid Adam beta1: expected a number in [0, 1), found 1"
    );
    let err = AdamW::new(-1.0).step(&mut params, &grads).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid AdamW learning rate: expected a finite number ≥ 0, found -1"
    );
    assert_eq!(params.v, Mat::full(1.0), "nothing was updated");
}

#[model]
struct Affine {
    w: Mat<2, 2, f32>,
    b: Mat<1, 2, f32>,
}

#[differentiable]
impl Affine {
    #[differentiable]
    fn loss<const N: usize>(&self, x: &Mat<N, 2, f32>, t: &Mat<N, 2, f32>) -> f32 {
        (x.matmul(&self.w).add_row(&self.b) - t).square().mean()
    }
}

#[test]
fn a_models_weights_train_in_f32() {
    let x = Mat::<4, 2, f32>::from_rows([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [2.0, -1.0]]);
    let truth = Affine {
        w: Mat::from_rows([[2.0, -1.0], [0.5, 3.0]]),
        b: Mat::from_rows([[0.25, -0.5]]),
    };
    let t = x.matmul(&truth.w).add_row(&truth.b);
    let mut model = Affine {
        w: Mat::zeros(),
        b: Mat::zeros(),
    };
    let mut adam = Adam::new(0.05);
    for _ in 0..2000 {
        let (_, grads) = model.loss_backward(&x, &t, 1.0);
        adam.step(&mut model, &grads).unwrap();
    }
    assert!(model.loss(&x, &t) < 1e-6, "{}", model.loss(&x, &t));
}
