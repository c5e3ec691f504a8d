//! Whole models: their generated gradients against finite differences (f64 and f32), and batch
//! norm against its closed-form backward.

use crate::common::Rng;
use gradgen::prelude::*;

use crate::examples::batchnorm::{self, batchnorm_loss, batchnorm_loss_backward};
use crate::examples::two_layer_net::{mlp_loss, mlp_loss_backward};

/// f64: a relative error this small rules out any wrong factor or missing term.
const TOL64: f64 = 1e-6;
/// f32 gradients, against central differences of the f64 instance (an f32 estimate cannot
/// resolve the small entries): the f32 gradient's own rounding reaches 5e-5 of the scale on a
/// small entry of attention's, far below this.
const TOL32: f64 = 1e-3;

#[test]
fn two_layer_net_f64() {
    let mut rng = Rng::new(40);
    let x: Mat<6, 4> = rng.mat(-1.0, 1.0);
    let (w1, b1): (Mat<4, 5>, Mat<1, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (w2, b2): (Mat<5, 3>, Mat<1, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y: Labels<6, 3> = rng.labels();
    let reg = 0.1;
    let (x, w1, b1, w2, b2, y) = (&x, &w1, &b1, &w2, &b2, &y);
    assert_gradients!(
        mlp_loss(x, w1, b1, w2, b2, y, reg),
        mlp_loss_backward(x, w1, b1, w2, b2, y, reg, 1.0),
        wrt [w1, b1, w2, b2],
        TOL64
    );
}

#[test]
fn two_layer_net_f32() {
    let mut rng = Rng::new(41);
    let x: Mat<6, 4, f32> = rng.mat(-1.0, 1.0);
    let (w1, b1): (Mat<4, 5, f32>, Mat<1, 5, f32>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (w2, b2): (Mat<5, 3, f32>, Mat<1, 3, f32>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y: Labels<6, 3> = rng.labels();
    let reg = 0.1f32;
    let (x, w1, b1, w2, b2, y) = (&x, &w1, &b1, &w2, &b2, &y);
    assert_gradients_in_f64!(
        mlp_loss(x, w1, b1, w2, b2, y, reg),
        mlp_loss_backward(x, w1, b1, w2, b2, y, reg, 1.0),
        wrt [w1, b1, w2, b2],
        TOL32
    );
}

#[test]
fn batchnorm_equals_the_closed_form_backward() {
    for (input, diff) in batchnorm::compare() {
        assert!(diff < 1e-9, "d{input}: {diff:e}");
    }
    // On non-square random inputs as well.
    let mut rng = Rng::new(42);
    let x: Mat<7, 3> = rng.mat(-2.0, 2.0);
    let (gamma, beta): (Mat<1, 3>, Mat<1, 3>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let g: Mat<7, 3> = rng.mat(-1.0, 1.0);
    let generated = batchnorm_loss_backward(&x, &gamma, &beta, &g, 1e-5, 1.0);
    let hand = batchnorm::closed_form(&x, &gamma, &g, 1e-5);
    assert!(batchnorm::max_abs_diff(&generated.x, &hand.x) < 1e-9);
    assert!(batchnorm::max_abs_diff(&generated.gamma, &hand.gamma) < 1e-9);
    assert!(batchnorm::max_abs_diff(&generated.beta, &hand.beta) < 1e-9);
    // The gradient with respect to x is not trivially zero (Σ dx = 0 per column, but not dx).
    assert!(generated.x.to_vec().iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn batchnorm_f64_and_f32_pass_finite_differences() {
    let mut rng = Rng::new(43);
    let x: Mat<7, 3> = rng.mat(-2.0, 2.0);
    let (gamma, beta): (Mat<1, 3>, Mat<1, 3>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let g: Mat<7, 3> = rng.mat(-1.0, 1.0);
    let eps = 1e-5;
    let (x, gamma, beta, g) = (&x, &gamma, &beta, &g);
    assert_gradients!(
        batchnorm_loss(x, gamma, beta, g, eps),
        batchnorm_loss_backward(x, gamma, beta, g, eps, 1.0),
        wrt [x, gamma, beta],
        TOL64
    );
    let x: Mat<7, 3, f32> = rng.mat(-2.0, 2.0);
    let (gamma, beta): (Mat<1, 3, f32>, Mat<1, 3, f32>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let g: Mat<7, 3, f32> = rng.mat(-1.0, 1.0);
    let eps = 1e-5f32;
    let (x, gamma, beta, g) = (&x, &gamma, &beta, &g);
    assert_gradients_in_f64!(
        batchnorm_loss(x, gamma, beta, g, eps),
        batchnorm_loss_backward(x, gamma, beta, g, eps, 1.0),
        wrt [x, gamma, beta],
        TOL32
    );
}

/// Layer norm: the statistics are per row (per sample) instead of per column.
#[differentiable(wrt(x, gamma, beta))]
fn layernorm_loss<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    gamma: &Mat<1, D, T>,
    beta: &Mat<1, D, T>,
    g: &Mat<N, D, T>,
    eps: T,
) -> T {
    let mu = x.row_means(); // [N x 1]
    let xc = x.sub_col(&mu);
    let var = xc.square().row_means(); // [N x 1]
    let inv_std = (var + eps).sqrt().powi(-1);
    let xhat = xc.mul_col(&inv_std);
    let out = xhat.mul_row(gamma).add_row(beta);
    (out * g).sum()
}

#[test]
fn layer_norm() {
    let mut rng = Rng::new(44);
    let x: Mat<5, 4> = rng.mat(-2.0, 2.0);
    let (gamma, beta): (Mat<1, 4>, Mat<1, 4>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let g: Mat<5, 4> = rng.mat(-1.0, 1.0);
    let eps = 1e-5;
    let (x, gamma, beta, g) = (&x, &gamma, &beta, &g);
    assert_gradients!(
        layernorm_loss(x, gamma, beta, g, eps),
        layernorm_loss_backward(x, gamma, beta, g, eps, 1.0),
        wrt [x, gamma, beta],
        TOL64
    );
    let x: Mat<5, 4, f32> = rng.mat(-2.0, 2.0);
    let (gamma, beta): (Mat<1, 4, f32>, Mat<1, 4, f32>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let g: Mat<5, 4, f32> = rng.mat(-1.0, 1.0);
    let eps = 1e-5f32;
    let (x, gamma, beta, g) = (&x, &gamma, &beta, &g);
    assert_gradients_in_f64!(
        layernorm_loss(x, gamma, beta, g, eps),
        layernorm_loss_backward(x, gamma, beta, g, eps, 1.0),
        wrt [x, gamma, beta],
        TOL32
    );
}

/// Logistic regression: sigmoid and binary cross-entropy, with 0/1 targets in a matrix.
#[differentiable(wrt(w, b))]
fn logistic_loss<T: Scalar, const N: usize, const D: usize>(
    x: &Mat<N, D, T>,
    w: &Mat<D, 1, T>,
    b: &Mat<1, 1, T>,
    y: &Mat<N, 1, T>,
    one: T,
) -> T {
    let p = x.matmul(w).add_row(b).sigmoid(); // [N x 1]
    let log_p = p.ln();
    let log_not_p = (-&p + one).ln();
    let not_y = -y + one;
    let likelihood = y * log_p + not_y * log_not_p;
    -likelihood.mean()
}

#[test]
fn logistic_regression() {
    let mut rng = Rng::new(45);
    let x: Mat<8, 3> = rng.mat(-1.0, 1.0);
    let (w, b): (Mat<3, 1>, Mat<1, 1>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y = Mat::<8, 1>::from_fn(|i, _| (i % 3 == 0) as u8 as f64);
    let one = 1.0;
    let (x, w, b, y) = (&x, &w, &b, &y);
    assert_gradients!(
        logistic_loss(x, w, b, y, one),
        logistic_loss_backward(x, w, b, y, one, 1.0),
        wrt [w, b],
        TOL64
    );
    // The textbook gradient: dW = Xᵀ (p − y) / N.
    let grads = logistic_loss_backward(x, w, b, y, one, 1.0);
    let p = x.matmul(w).add_row(b).sigmoid();
    let expected = x.t_matmul(&(p - y)) * (1.0 / 8.0);
    for i in 0..3 {
        assert!((grads.w[(i, 0)] - expected[(i, 0)]).abs() < 1e-12);
    }
    let x: Mat<8, 3, f32> = rng.mat(-1.0, 1.0);
    let (w, b): (Mat<3, 1, f32>, Mat<1, 1, f32>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y = Mat::<8, 1, f32>::from_fn(|i, _| (i % 3 == 0) as u8 as f32);
    let one = 1.0f32;
    let (x, w, b, y) = (&x, &w, &b, &y);
    assert_gradients_in_f64!(
        logistic_loss(x, w, b, y, one),
        logistic_loss_backward(x, w, b, y, one, 1.0),
        wrt [w, b],
        TOL32
    );
}

/// Single-head attention, `softmax_rows(Q·Kᵀ / √d)·V`, reduced by a random weighting.
#[differentiable(wrt(q, k, v))]
fn attention<T: Scalar, const N: usize, const M: usize, const D: usize, const E: usize>(
    q: &Mat<N, D, T>,
    k: &Mat<M, D, T>,
    v: &Mat<M, E, T>,
    sqrt_d: T,
    r: &Mat<N, E, T>,
) -> T {
    let scores = q.matmul(&k.t()) / sqrt_d; // [N x M]
    let weights = scores.softmax_rows();
    let out = weights.matmul(v); // [N x E]
    (out * r).sum()
}

#[test]
fn single_head_attention() {
    let mut rng = Rng::new(46);
    let (q, k): (Mat<3, 5>, Mat<4, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (v, r): (Mat<4, 2>, Mat<3, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let sqrt_d = 5f64.sqrt();
    let (q, k, v, r) = (&q, &k, &v, &r);
    assert_gradients!(
        attention(q, k, v, sqrt_d, r),
        attention_backward(q, k, v, sqrt_d, r, 1.0),
        wrt [q, k, v],
        TOL64
    );
    let (q, k): (Mat<3, 5, f32>, Mat<4, 5, f32>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (v, r): (Mat<4, 2, f32>, Mat<3, 2, f32>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let sqrt_d = 5f32.sqrt();
    let (q, k, v, r) = (&q, &k, &v, &r);
    assert_gradients_in_f64!(
        attention(q, k, v, sqrt_d, r),
        attention_backward(q, k, v, sqrt_d, r, 1.0),
        wrt [q, k, v],
        TOL32
    );
}
