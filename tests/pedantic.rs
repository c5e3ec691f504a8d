//! The generated code compiles without a warning in a crate that denies every warning and every
//! clippy lint of the `all` and `pedantic` groups: CI runs clippy on this file.
#![deny(warnings)]
#![deny(clippy::all, clippy::pedantic)]

use gradgen::prelude::*;

/// A softmax classifier's loss.
#[differentiable]
#[must_use]
pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let score = x.matmul(w).add_row(b);
    let correct = score.pick(y);
    (score.exp().row_sums().ln() - correct).mean()
}

/// Many parameters, some by value, one unused and one scalar; f32. The function allows a lint
/// that its body triggers; the generated code, which repeats the body, allows it too.
#[differentiable(wrt(w1, w2, b2))]
#[must_use]
#[allow(clippy::too_many_arguments, clippy::needless_pass_by_value)]
#[expect(clippy::neg_multiply)]
pub fn many<const N: usize, const D: usize, const H: usize>(
    x: Mat<N, D, f32>,
    w1: &Mat<D, H, f32>,
    b1: &Mat<1, H, f32>,
    w2: Mat<H, 1, f32>,
    b2: &Mat<1, 1, f32>,
    target: &Mat<N, 1, f32>,
    _unused: &Mat<2, 2, f32>,
    reg: f32,
) -> f32 {
    let h = x.matmul(w1).add_row(b1).tanh();
    let out = h.matmul(&w2).add_row(b2).sigmoid();
    let err = (out - target).square().mean();
    let l2 = w1.square().sum() + w2.square().sum();
    err + reg * l2 - -1.0 * reg / 2.0
}

/// Single-letter names, shadowing, reuse and every kind of broadcast.
#[differentiable]
#[must_use]
#[allow(clippy::many_single_char_names)]
pub fn letters<const N: usize, const M: usize>(a: &Mat<N, M>, b: &Mat<1, M>, c: &Mat<N, 1>) -> f64 {
    let d = a.sub_row(b).mul_col(c);
    let e = d.div_row(b).add_col(c);
    let d = &e * &d;
    let f = d.row_max().sum() + d.col_means().sum();
    f * f + e.abs().sum() + a.t().relu().sum()
}

/// Normalisations and a weighted sum: the fused reductions, a square reduced in place into an
/// existing gradient, and a dead temporary whose buffer holds its gradient.
#[differentiable(wrt(x, gamma))]
#[must_use]
pub fn norms<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    gamma: &Mat<1, D>,
    g: &Mat<N, D>,
) -> f64 {
    let xc = x.sub_row(&x.col_means());
    let inv_std = (xc.square().col_means() + 1e-5).sqrt().powi(-1);
    let out = xc.mul_row(&inv_std).mul_row(gamma);
    let per_row = x.square().row_means().sum() + x.row_sum_squares().mean();
    (out * g).sum() + per_row + x.inner(g)
}

/// Fused passes: a scalar whose gradient is summed per column in a pass shared among threads,
/// then added to again in a later pass over a row.
#[differentiable(wrt(x, w))]
#[must_use]
#[allow(clippy::many_single_char_names)]
pub fn fused_scalar<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<1, D>) -> f64 {
    let s = x.mean();
    let r = w * s;
    let y = x.mul_row(&r) * s;
    y.sum()
}

/// A layer: its value is a matrix, and its backward borrows the upstream gradient.
#[differentiable]
#[must_use]
pub fn layer<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, H>,
    b: &Mat<1, H>,
) -> Mat<N, H> {
    let pre = x.matmul(w).add_row(b);
    let t = pre.t();
    (t.t() + &pre).sigmoid()
}

/// The README's Elman RNN with a loss at every step: a loop over zipped sequences, carrying a
/// matrix and a scalar, with the input sequence not differentiated.
#[differentiable(wrt(h0, wx, wh, b, wy))]
#[must_use]
pub fn rnn_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D>],
    ys: &[Labels<N, C>],
    h0: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    b: &Mat<1, H>,
    wy: &Mat<H, C>,
) -> f64 {
    let mut h = h0.clone();
    let mut total = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
        total += h.matmul(wy).cross_entropy(y);
    }
    total
}

#[test]
#[allow(clippy::cast_precision_loss)]
fn pedantic_rnn() {
    let xs: Vec<Mat<2, 3>> = (0..4)
        .map(|t| Mat::from_fn(|i, j| 0.1 * (t + i) as f64 - 0.2 * j as f64))
        .collect();
    let ys: Vec<Labels<2, 2>> = (0..4)
        .map(|t| Labels::new(vec![t % 2, (t + 1) % 2]).expect("labels below 2"))
        .collect();
    let h0 = Mat::<2, 4>::full(0.1);
    let wx = Mat::<3, 4>::from_fn(|i, j| 0.3 - 0.1 * (i + j) as f64);
    let wh = Mat::<4, 4>::from_fn(|i, j| if i == j { 0.5 } else { -0.1 });
    let b = Mat::<1, 4>::from_fn(|_, j| 0.05 * j as f64);
    let wy = Mat::<4, 2>::from_fn(|i, j| 0.2 * i as f64 - 0.3 * j as f64);
    let grads = rnn_loss_backward(&xs, &ys, &h0, &wx, &wh, &b, &wy, 1.0);
    assert!((grads.value - rnn_loss(&xs, &ys, &h0, &wx, &wh, &b, &wy)).abs() < 1e-12);
    let report = rnn_loss_gradcheck(&xs, &ys, &h0, &wx, &wh, &b, &wy);
    assert_eq!(
        report.inputs.len(),
        5,
        "h0, wx, wh, b, wy; not xs: {report}"
    );
    assert!(report.passes(1e-6), "{report}");
}

#[test]
fn pedantic_norms() {
    let x = Mat::from_rows([
        [0.1, 0.2, -0.3],
        [0.3, -0.4, 0.9],
        [0.5, 0.6, 0.0],
        [1.0, -1.0, 0.2],
    ]);
    let gamma = Mat::from_rows([[1.0, -0.5, 2.0]]);
    let g = Mat::from_rows([
        [0.1, -0.2, 0.3],
        [0.7, 0.0, -0.5],
        [-0.1, 0.4, 0.2],
        [0.3, 0.9, -0.8],
    ]);
    let report = norms_gradcheck(&x, &gamma, &g);
    assert!(report.passes(1e-6), "{report}");
}

#[test]
fn pedantic_fused_scalar() {
    let x = Mat::from_rows([[0.1, 0.2, -0.3], [0.3, -0.4, 0.9], [0.5, 0.6, 0.2]]);
    let w = Mat::from_rows([[1.0, -0.5, 2.0]]);
    assert!(fused_scalar_gradcheck(&x, &w).passes(1e-6));
}

#[test]
fn pedantic_layer() {
    let x = Mat::from_rows([[0.1, 0.2], [0.3, -0.4], [0.5, 0.6]]);
    let w = Mat::from_rows([[1.0, -1.0, 0.5, 0.25], [0.5, 2.0, -0.5, 1.0]]);
    let b = Mat::from_rows([[0.1, 0.0, -0.1, 0.2]]);
    let up = Mat::<3, 4>::full(1.0);
    assert_eq!(layer_backward(&x, &w, &b, &up).value, layer(&x, &w, &b));
    assert!(layer_gradcheck(&x, &w, &b).passes(1e-6));
}

#[test]
#[allow(clippy::many_single_char_names)]
fn pedantic_crate_uses_the_generated_items() {
    let x = Mat::from_rows([
        [0.0, 0.2, 0.4],
        [0.2, 0.4, 0.6],
        [0.4, 0.6, 0.8],
        [0.6, 0.8, 1.0],
    ]);
    let w = Mat::<3, 2>::full(0.1);
    let b = Mat::<1, 2>::zeros();
    let y = Labels::<4, 2>::new(vec![0, 1, 1, 0]).expect("labels below 2");
    let g = softmax_loss_backward(&x, &w, &b, &y, 1.0);
    assert!((g.value - softmax_loss(&x, &w, &b, &y)).abs() < f64::EPSILON);
    assert!(softmax_loss_gradcheck(&x, &w, &b, &y).passes(1e-6));

    let xf = Mat::<4, 3, f32>::full(0.5);
    let w1 = Mat::<3, 5, f32>::full(0.2);
    let b1 = Mat::<1, 5, f32>::zeros();
    let w2 = Mat::<5, 1, f32>::full(-0.3);
    let b2 = Mat::<1, 1, f32>::zeros();
    let t = Mat::<4, 1, f32>::full(1.0);
    let u = Mat::<2, 2, f32>::zeros();
    let g = many_backward(xf.clone(), &w1, &b1, w2.clone(), &b2, &t, &u, 0.01, 1.0);
    assert!((g.value - many(xf.clone(), &w1, &b1, w2.clone(), &b2, &t, &u, 0.01)).abs() < 1e-6);
    assert!(many_gradcheck(xf, &w1, &b1, w2, &b2, &t, &u, 0.01).passes(1e-2));

    let a = Mat::from_rows([
        [1.0, 1.2, 1.4, 1.6],
        [1.8, 2.0, 2.2, 2.4],
        [2.6, 2.8, 3.0, 3.2],
    ]);
    let r = Mat::from_rows([[2.0, 3.0, 4.0, 5.0]]);
    let c = Mat::from_rows([[0.5], [1.5], [2.5]]);
    assert!(letters_gradcheck(&a, &r, &c).passes(1e-6));
    assert!((letters_backward(&a, &r, &c, 1.0).value - letters(&a, &r, &c)).abs() < 1e-9);
}
