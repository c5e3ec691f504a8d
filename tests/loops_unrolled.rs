//! Loops unrolled by hand: the straight-line references that the `for`-loop versions of issue 14
//! will be compared against, gradient for gradient. Each is a `#[differentiable]` function of
//! today's language (no loop), three steps written out, and each passes its generated gradient
//! check here; its doc comment gives the loop it unrolls.

use crate::common::Rng;
use gradgen::prelude::*;

/// f64: a relative error this small rules out any wrong factor or missing term.
const TOL: f64 = 1e-6;

/// An Elman RNN with a loss at every step, T = 3. The loop version:
///
/// ```text
/// let mut h = h0.clone();
/// let mut loss = 0.0;
/// for (x, y) in xs.iter().zip(ys) {
///     h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
///     loss = loss + h.matmul(wy).add_row(by).cross_entropy(y);
/// }
/// loss
/// ```
#[differentiable]
#[allow(clippy::too_many_arguments)]
pub(crate) fn elman_per_step_unrolled<
    const N: usize,
    const D: usize,
    const H: usize,
    const C: usize,
>(
    x1: &Mat<N, D>,
    x2: &Mat<N, D>,
    x3: &Mat<N, D>,
    y1: &Labels<N, C>,
    y2: &Labels<N, C>,
    y3: &Labels<N, C>,
    h0: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    b: &Mat<1, H>,
    wy: &Mat<H, C>,
    by: &Mat<1, C>,
) -> f64 {
    let h1 = (x1.matmul(wx) + h0.matmul(wh)).add_row(b).tanh();
    let h2 = (x2.matmul(wx) + h1.matmul(wh)).add_row(b).tanh();
    let h3 = (x3.matmul(wx) + h2.matmul(wh)).add_row(b).tanh();
    let l1 = h1.matmul(wy).add_row(by).cross_entropy(y1);
    let l2 = h2.matmul(wy).add_row(by).cross_entropy(y2);
    let l3 = h3.matmul(wy).add_row(by).cross_entropy(y3);
    l1 + l2 + l3
}

#[test]
fn elman_with_a_loss_per_step_passes_its_gradient_check() {
    let mut rng = Rng::new(160);
    let [x1, x2, x3]: [Mat<3, 4>; 3] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let [y1, y2, y3]: [Labels<3, 2>; 3] = std::array::from_fn(|_| rng.labels());
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (wx, wh): (Mat<4, 5>, Mat<5, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.8, 0.8));
    let (wy, b, by): (Mat<5, 2>, Mat<1, 5>, Mat<1, 2>) =
        (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5), rng.mat(-0.5, 0.5));
    let check = elman_per_step_unrolled_gradcheck(
        &x1, &x2, &x3, &y1, &y2, &y3, &h0, &wx, &wh, &b, &wy, &by,
    );
    assert!(check.passes(TOL), "{check}");
}

/// A GRU over T = 3 steps, the mean squared error of its last state's projection `h·Wy`
/// against a target. Each step, with `σ` the sigmoid:
/// `z = σ(x·Wz + h·Uz + bz)`, `r = σ(x·Wr + h·Ur + br)`, `n = tanh(x·Wn + (r ∘ h)·Un + bn)`,
/// `h' = (1 − z) ∘ n + z ∘ h`. The loop version:
///
/// ```text
/// let mut h = h0.clone();
/// for x in xs {
///     let z = (x.matmul(wz) + h.matmul(uz)).add_row(bz).sigmoid();
///     let r = (x.matmul(wr) + h.matmul(ur)).add_row(br).sigmoid();
///     let n = (x.matmul(wn) + (&r * &h).matmul(un)).add_row(bn).tanh();
///     h = (1.0 - &z) * &n + &z * &h;
/// }
/// h.matmul(wy).mse(target)
/// ```
#[differentiable]
#[allow(clippy::too_many_arguments)]
pub(crate) fn gru_final_unrolled<const N: usize, const D: usize, const H: usize, const K: usize>(
    x1: &Mat<N, D>,
    x2: &Mat<N, D>,
    x3: &Mat<N, D>,
    h0: &Mat<N, H>,
    wz: &Mat<D, H>,
    uz: &Mat<H, H>,
    bz: &Mat<1, H>,
    wr: &Mat<D, H>,
    ur: &Mat<H, H>,
    br: &Mat<1, H>,
    wn: &Mat<D, H>,
    un: &Mat<H, H>,
    bn: &Mat<1, H>,
    wy: &Mat<H, K>,
    target: &Mat<N, K>,
) -> f64 {
    let z1 = (x1.matmul(wz) + h0.matmul(uz)).add_row(bz).sigmoid();
    let r1 = (x1.matmul(wr) + h0.matmul(ur)).add_row(br).sigmoid();
    let n1 = (x1.matmul(wn) + (&r1 * h0).matmul(un)).add_row(bn).tanh();
    let h1 = (1.0 - &z1) * &n1 + &z1 * h0;
    let z2 = (x2.matmul(wz) + h1.matmul(uz)).add_row(bz).sigmoid();
    let r2 = (x2.matmul(wr) + h1.matmul(ur)).add_row(br).sigmoid();
    let n2 = (x2.matmul(wn) + (&r2 * &h1).matmul(un)).add_row(bn).tanh();
    let h2 = (1.0 - &z2) * &n2 + &z2 * &h1;
    let z3 = (x3.matmul(wz) + h2.matmul(uz)).add_row(bz).sigmoid();
    let r3 = (x3.matmul(wr) + h2.matmul(ur)).add_row(br).sigmoid();
    let n3 = (x3.matmul(wn) + (&r3 * &h2).matmul(un)).add_row(bn).tanh();
    let h3 = (1.0 - &z3) * &n3 + &z3 * &h2;
    h3.matmul(wy).mse(target)
}

#[test]
fn gru_passes_its_gradient_check() {
    let mut rng = Rng::new(161);
    let [x1, x2, x3]: [Mat<3, 4>; 3] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let [wz, wr, wn]: [Mat<4, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.8, 0.8));
    let [uz, ur, un]: [Mat<5, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.8, 0.8));
    let [bz, br, bn]: [Mat<1, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.5, 0.5));
    let wy: Mat<5, 2> = rng.mat(-1.0, 1.0);
    let target: Mat<3, 2> = rng.mat(-1.0, 1.0);
    let check = gru_final_unrolled_gradcheck(
        &x1, &x2, &x3, &h0, &wz, &uz, &bz, &wr, &ur, &br, &wn, &un, &bn, &wy, &target,
    );
    assert!(check.passes(TOL), "{check}");
}

/// A residual MLP: an input layer, then L = 3 hidden layers of one shape, each adding
/// `relu(h·W_l + b_l)` to its input, then a softmax loss. The loop version, over the layers'
/// weights as slices:
///
/// ```text
/// let mut h = x.matmul(w_in).add_row(b_in).relu();
/// for (w, b) in ws.iter().zip(bs) {
///     h = &h + h.matmul(w).add_row(b).relu();
/// }
/// h.matmul(w_out).add_row(b_out).cross_entropy(y)
/// ```
#[differentiable]
#[allow(clippy::too_many_arguments)]
pub(crate) fn deep_mlp_unrolled<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    b_in: &Mat<1, H>,
    w1: &Mat<H, H>,
    b1: &Mat<1, H>,
    w2: &Mat<H, H>,
    b2: &Mat<1, H>,
    w3: &Mat<H, H>,
    b3: &Mat<1, H>,
    w_out: &Mat<H, C>,
    b_out: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let h0 = x.matmul(w_in).add_row(b_in).relu();
    let h1 = &h0 + h0.matmul(w1).add_row(b1).relu();
    let h2 = &h1 + h1.matmul(w2).add_row(b2).relu();
    let h3 = &h2 + h2.matmul(w3).add_row(b3).relu();
    h3.matmul(w_out).add_row(b_out).cross_entropy(y)
}

#[test]
fn residual_mlp_passes_its_gradient_check() {
    let mut rng = Rng::new(162);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let (w_in, b_in): (Mat<4, 5>, Mat<1, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.5, 0.5));
    let [w1, w2, w3]: [Mat<5, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.8, 0.8));
    let [b1, b2, b3]: [Mat<1, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.5, 0.5));
    let (w_out, b_out): (Mat<5, 2>, Mat<1, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y: Labels<3, 2> = rng.labels();
    let check = deep_mlp_unrolled_gradcheck(
        &x, &w_in, &b_in, &w1, &b1, &w2, &b2, &w3, &b3, &w_out, &b_out, &y,
    );
    assert!(check.passes(TOL), "{check}");
}

/// One weight-tied block, `tanh(h·W + b)`, applied K = 3 times from `h = x·W_in`; the loss is
/// the mean square of the result. `w` and `b` each receive three contributions. The loop
/// version:
///
/// ```text
/// let mut h = x.matmul(w_in);
/// for _ in 0..3 {
///     h = h.matmul(w).add_row(b).tanh();
/// }
/// h.square().mean()
/// ```
#[differentiable]
pub(crate) fn tied_unrolled<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    w: &Mat<H, H>,
    b: &Mat<1, H>,
) -> f64 {
    let h0 = x.matmul(w_in);
    let h1 = h0.matmul(w).add_row(b).tanh();
    let h2 = h1.matmul(w).add_row(b).tanh();
    let h3 = h2.matmul(w).add_row(b).tanh();
    h3.square().mean()
}

#[test]
fn weight_tied_block_passes_its_gradient_check() {
    let mut rng = Rng::new(163);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let w_in: Mat<4, 5> = rng.mat(-0.8, 0.8);
    let (w, b): (Mat<5, 5>, Mat<1, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.5, 0.5));
    let check = tied_unrolled_gradcheck(&x, &w_in, &w, &b);
    assert!(check.passes(TOL), "{check}");
}

/// The weight of each step's mean in [`carried_unrolled`]'s running total.
const STEP_WEIGHT: f64 = 0.5;

/// A loop that carries a matrix and a scalar, 3 steps: the state `h = tanh(x_t·W + h·U)` and a
/// running total of its means; the loss is the total plus the sum of squares of the last state.
/// The loop version:
///
/// ```text
/// let mut h = h0.clone();
/// let mut total = 0.0;
/// for x in xs {
///     h = (x.matmul(w) + h.matmul(u)).tanh();
///     total = total + h.mean() * STEP_WEIGHT;
/// }
/// total + h.square().sum()
/// ```
#[differentiable]
pub(crate) fn carried_unrolled<const N: usize, const D: usize, const H: usize>(
    x1: &Mat<N, D>,
    x2: &Mat<N, D>,
    x3: &Mat<N, D>,
    h0: &Mat<N, H>,
    w: &Mat<D, H>,
    u: &Mat<H, H>,
) -> f64 {
    let h1 = (x1.matmul(w) + h0.matmul(u)).tanh();
    let total1 = h1.mean() * STEP_WEIGHT;
    let h2 = (x2.matmul(w) + h1.matmul(u)).tanh();
    let total2 = total1 + h2.mean() * STEP_WEIGHT;
    let h3 = (x3.matmul(w) + h2.matmul(u)).tanh();
    let total3 = total2 + h3.mean() * STEP_WEIGHT;
    total3 + h3.square().sum()
}

#[test]
fn matrix_and_scalar_carried_over_steps_pass_their_gradient_check() {
    let mut rng = Rng::new(164);
    let [x1, x2, x3]: [Mat<3, 4>; 3] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (w, u): (Mat<4, 5>, Mat<5, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.8, 0.8));
    let check = carried_unrolled_gradcheck(&x1, &x2, &x3, &h0, &w, &u);
    assert!(check.passes(TOL), "{check}");
}
