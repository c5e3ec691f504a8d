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

// ---- models written the natural way (issue 13's list) ----

/// A variational autoencoder's loss: reconstruction by binary cross-entropy from logits, and the
/// KL divergence of N(mu, e^logvar) from N(0, 1), averaged over the batch with `/ N as f64`.
#[differentiable(wrt(recon, mu, logvar))]
fn vae_loss<const N: usize, const D: usize, const Z: usize>(
    recon: &Mat<N, D>,
    x: &Mat<N, D>,
    mu: &Mat<N, Z>,
    logvar: &Mat<N, Z>,
) -> f64 {
    let bce = recon.bce_with_logits(x) * (N * D) as f64;
    let kl = -0.5 * (1.0 + logvar - mu.square() - logvar.exp()).sum();
    (bce + kl) / N as f64
}

#[test]
fn vae_loss_matches_its_hand_derived_gradient() {
    let mut rng = Rng::new(140);
    let recon: Mat<4, 6> = rng.mat(-2.0, 2.0);
    let x: Mat<4, 6> = rng.mat(0.0, 1.0);
    let (mu, logvar): (Mat<4, 3>, Mat<4, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let check = vae_loss_gradcheck(&recon, &x, &mu, &logvar);
    assert!(check.passes(TOL64), "{check}");
    let g = vae_loss_backward(&recon, &x, &mu, &logvar, 1.0);
    let n = 4.0;
    // d KL/d mu = mu, d KL/d logvar = (e^logvar − 1)/2, d BCE/d recon = σ(recon) − x; all / N.
    let d_mu = &mu / n;
    let d_logvar = (logvar.exp() - 1.0) * 0.5 / n;
    let d_recon = (recon.sigmoid() - &x) / n;
    for (analytic, hand) in [(&g.mu, &d_mu), (&g.logvar, &d_logvar)] {
        assert!(max_diff(analytic, hand) < 1e-12);
    }
    assert!(max_diff(&g.recon, &d_recon) < 1e-12);
}

fn max_diff<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> f64 {
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

/// The layer norm's epsilon, an item of the enclosing scope.
const EPS: f64 = 1e-5;

/// A pre-norm transformer block: layer norm, single-head self-attention scaled by
/// `1 / √D`, and the residual connection; weighted by `g` into a scalar.
#[differentiable(wrt(x, wq, wk, wv, wo))]
fn prenorm_block<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    wq: &Mat<D, D>,
    wk: &Mat<D, D>,
    wv: &Mat<D, D>,
    wo: &Mat<D, D>,
    g: &Mat<N, D>,
) -> f64 {
    let mu = x.row_means();
    let xc = x.sub_col(&mu);
    let var = xc.square().row_means();
    let xn = xc.div_col(&(var + EPS).sqrt());
    let (q, k, v) = (xn.matmul(wq), xn.matmul(wk), xn.matmul(wv));
    let scores = q.matmul(&k.t()) * (1.0 / (D as f64).sqrt());
    let attended = scores.softmax_rows().matmul(&v);
    let out = x + attended.matmul(wo);
    (out * g).sum()
}

#[test]
fn prenorm_transformer_block_passes_its_gradient_check() {
    let mut rng = Rng::new(141);
    let x: Mat<5, 4> = rng.mat(-1.0, 1.0);
    let [wq, wk, wv, wo]: [Mat<4, 4>; 4] = std::array::from_fn(|_| rng.mat(-0.7, 0.7));
    let g: Mat<5, 4> = rng.mat(-1.0, 1.0);
    let check = prenorm_block_gradcheck(&x, &wq, &wk, &wv, &wo, &g);
    assert!(check.passes(TOL64), "{check}");
    let grads = prenorm_block_backward(&x, &wq, &wk, &wv, &wo, &g, 1.0);
    assert_eq!(grads.value, prenorm_block(&x, &wq, &wk, &wv, &wo, &g));
}

/// Linear regression under the Huber loss, and an embedding matched by cosine similarity.
#[differentiable(wrt(w, b))]
fn huber_regression<const N: usize, const D: usize, const K: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, K>,
    b: &Mat<1, K>,
    target: &Mat<N, K>,
) -> f64 {
    x.matmul(w).add_row(b).huber(target, 0.5)
}

#[differentiable(wrt(w))]
fn cosine_embedding<const N: usize, const D: usize, const K: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, K>,
    anchor: &Mat<N, K>,
) -> f64 {
    x.matmul(w).tanh().cosine_rows(anchor)
}

#[test]
fn huber_and_cosine_losses_pass_their_gradient_checks() {
    let mut rng = Rng::new(142);
    let x: Mat<6, 3> = rng.mat(-1.0, 1.0);
    let (w, b): (Mat<3, 2>, Mat<1, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    // Targets far from and near the predictions: both pieces of the Huber loss are used.
    let target = Mat::<6, 2>::from_fn(|i, j| if i % 2 == 0 { 3.0 } else { 0.1 * j as f64 });
    let check = huber_regression_gradcheck(&x, &w, &b, &target);
    assert!(check.passes(TOL64), "{check}");
    // Hand-derived: d_b = Σ_rows clamp(pred − t, −δ, δ) / (N·K).
    let pred = x.matmul(&w).add_row(&b);
    let d_b = Mat::<1, 2>::from_fn(|_, j| {
        (0..6)
            .map(|i| (pred[(i, j)] - target[(i, j)]).clamp(-0.5, 0.5))
            .sum::<f64>()
            / 12.0
    });
    let grads = huber_regression_backward(&x, &w, &b, &target, 1.0);
    assert!(max_diff(&grads.b, &d_b) < 1e-12);
    let anchor: Mat<6, 2> = rng.mat(-1.0, 1.0);
    let check = cosine_embedding_gradcheck(&x, &w, &anchor);
    assert!(check.passes(TOL64), "{check}");
}

/// A dropout layer that takes a `train` flag and a constant mask.
#[differentiable(wrt(w1, w2))]
fn dropout_mlp<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D>,
    w1: &Mat<D, H>,
    w2: &Mat<H, C>,
    mask: &Mat<N, H>,
    y: &Labels<N, C>,
    train: bool,
) -> f64 {
    let hidden = x.matmul(w1).relu();
    let kept = if train {
        hidden * mask * 2.0
    } else {
        hidden.clone()
    };
    kept.matmul(w2).cross_entropy(y)
}

#[test]
fn a_dropout_layer_with_a_train_flag() {
    let mut rng = Rng::new(143);
    let x: Mat<6, 4> = rng.mat(-1.0, 1.0);
    let (w1, w2): (Mat<4, 5>, Mat<5, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let mask = Mat::<6, 5>::from_fn(|i, j| f64::from(u8::from((3 * i + j) % 2 == 0)));
    let y: Labels<6, 3> = rng.labels();
    for train in [true, false] {
        let check = dropout_mlp_gradcheck(&x, &w1, &w2, &mask, &y, train);
        assert!(check.passes(TOL64), "train = {train}: {check}");
    }
    // In training, the weights of a dropped unit get no gradient from it.
    let g = dropout_mlp_backward(&x, &w1, &w2, &mask, &y, true, 1.0);
    let eval = dropout_mlp_backward(&x, &w1, &w2, &mask, &y, false, 1.0);
    assert_ne!(g.w2, eval.w2);
}

/// A model whose loss calls its predict method.
#[model]
struct Regressor<const D: usize, const K: usize> {
    w: Mat<D, K>,
    b: Mat<1, K>,
}

#[differentiable]
impl<const D: usize, const K: usize> Regressor<D, K> {
    #[differentiable]
    fn predict<const N: usize>(&self, x: &Mat<N, D>) -> Mat<N, K> {
        x.matmul(&self.w).add_row(&self.b).tanh()
    }

    #[differentiable]
    fn loss<const N: usize>(&self, x: &Mat<N, D>, target: &Mat<N, K>) -> f64 {
        self.predict(x).mse(target) + self.w.square().mean() * 1e-2
    }
}

#[test]
fn a_model_whose_loss_calls_its_predict_method() {
    let mut rng = Rng::new(144);
    let model = Regressor::<3, 2> {
        w: rng.mat(-1.0, 1.0),
        b: rng.mat(-0.5, 0.5),
    };
    let x: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let target: Mat<5, 2> = rng.mat(-1.0, 1.0);
    let check = model.loss_gradcheck(&x, &target);
    assert!(check.passes(TOL64), "{check}");
    let (value, grads) = model.loss_backward(&x, &target, 1.0);
    assert_eq!(value, model.loss(&x, &target));
    // Hand-derived through both paths into w: the mse's and the penalty's.
    let p = model.predict(&x);
    let d_pre = (&p - &target) * (2.0 / 10.0) * (1.0 - p.square());
    let d_w = x.t_matmul(&d_pre) + &model.w * (2.0 * 1e-2 / 6.0);
    assert!(max_diff(&grads.w, &d_w) < 1e-12);
}
