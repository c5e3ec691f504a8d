//! Every rule of the derivative table against central finite differences, on random non-square
//! inputs (3 × 5 · 5 × 2 and the like, so that a missing transpose cannot hide).
//!
//! Each op is composed with a random weighting `r` before the final reduction, so that the
//! incoming gradient differs from entry to entry: a rule that broadcast or summed the gradient
//! the wrong way would fail.

mod common;

use common::Rng;
use gradgen::prelude::*;

const TOL: f64 = 1e-6;

#[differentiable(wrt(a, b))]
fn matmul_op(a: &Mat<3, 5>, b: &Mat<5, 2>, r: &Mat<3, 2>) -> f64 {
    (a.matmul(b) * r).sum()
}

#[test]
fn matmul() {
    let mut rng = Rng::new(10);
    let (a, b, r): (Mat<3, 5>, Mat<5, 2>, Mat<3, 2>) =
        (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, b, r) = (&a, &b, &r);
    assert_gradients!(matmul_op(a, b, r), matmul_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
}

#[differentiable(wrt(a))]
fn transpose_op(a: &Mat<3, 5>, r: &Mat<5, 3>) -> f64 {
    (a.t() * r).sum()
}

#[test]
fn t() {
    let mut rng = Rng::new(11);
    let (a, r): (Mat<3, 5>, Mat<5, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(
        transpose_op(a, r),
        transpose_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
}

#[differentiable(wrt(a, b))]
fn add_row_op(a: &Mat<4, 3>, b: &Mat<1, 3>, r: &Mat<4, 3>) -> f64 {
    (a.add_row(b) * r).sum()
}

#[test]
fn add_row() {
    let mut rng = Rng::new(12);
    let (a, b, r): (Mat<4, 3>, Mat<1, 3>, Mat<4, 3>) =
        (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, b, r) = (&a, &b, &r);
    assert_gradients!(add_row_op(a, b, r), add_row_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
}

#[differentiable(wrt(a))]
fn exp_op(a: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    (a.exp() * r).sum()
}

#[test]
fn exp() {
    let mut rng = Rng::new(13);
    let (a, r): (Mat<3, 4>, Mat<3, 4>) = (rng.mat(-2.0, 2.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(exp_op(a, r), exp_op_backward(a, r, 1.0), wrt[a], TOL);
}

#[differentiable(wrt(a))]
fn ln_op(a: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    (a.ln() * r).sum()
}

#[test]
fn ln() {
    let mut rng = Rng::new(14);
    let (a, r): (Mat<3, 4>, Mat<3, 4>) = (rng.mat(0.5, 3.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(ln_op(a, r), ln_op_backward(a, r, 1.0), wrt[a], TOL);
}

#[differentiable(wrt(a))]
fn row_sums_op(a: &Mat<3, 5>, r: &Mat<3, 1>) -> f64 {
    (a.row_sums() * r).sum()
}

#[test]
fn row_sums() {
    let mut rng = Rng::new(15);
    let (a, r): (Mat<3, 5>, Mat<3, 1>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(
        row_sums_op(a, r),
        row_sums_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
}

#[differentiable(wrt(a))]
fn col_sums_op(a: &Mat<3, 5>, r: &Mat<1, 5>) -> f64 {
    (a.col_sums() * r).sum()
}

#[test]
fn col_sums() {
    let mut rng = Rng::new(16);
    let (a, r): (Mat<3, 5>, Mat<1, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(
        col_sums_op(a, r),
        col_sums_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
}

#[differentiable]
fn sum_op(a: &Mat<3, 5>) -> f64 {
    a.exp().sum()
}

#[differentiable(wrt(a))]
fn mean_op(a: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
    (a * r).mean()
}

#[test]
fn sum_and_mean() {
    let mut rng = Rng::new(17);
    let (a, r): (Mat<3, 5>, Mat<3, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(sum_op(a), sum_op_backward(a, 1.0), wrt[a], TOL);
    assert_gradients!(mean_op(a, r), mean_op_backward(a, r, 1.0), wrt[a], TOL);
}

#[differentiable]
fn pick_op(a: &Mat<4, 3>, y: &Labels<4, 3>, r: &Mat<4, 1>) -> f64 {
    (a.pick(y) * r).sum()
}

#[test]
fn pick() {
    let mut rng = Rng::new(18);
    let (a, r): (Mat<4, 3>, Mat<4, 1>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    // Two rows share a label, so scattering must not overwrite.
    let y = Labels::<4, 3>::new(vec![2, 0, 2, 1]).unwrap();
    let (a, y, r) = (&a, &y, &r);
    let grads = pick_op_backward(a, y, r, 1.0);
    // `r` is a matrix, so it is differentiated by default: its gradient is the picked entries.
    assert_eq!(grads.r, a.pick(y));
    assert_gradients!(pick_op(a, y, r), pick_op_backward(a, y, r, 1.0), wrt [a, r], TOL);
}

#[differentiable(wrt(a, b))]
fn add_op(a: &Mat<3, 4>, b: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    ((a + b) * r).sum()
}

#[differentiable(wrt(a, b))]
fn sub_op(a: &Mat<3, 4>, b: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    ((a - b) * r).sum()
}

#[differentiable(wrt(a, b))]
fn mul_op(a: &Mat<3, 4>, b: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    (a * b * r).sum()
}

#[differentiable(wrt(a, b))]
fn div_op(a: &Mat<3, 4>, b: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    (a / b * r).sum()
}

#[differentiable(wrt(a))]
fn neg_op(a: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    (-a * r).sum()
}

#[test]
fn elementwise_operators() {
    let mut rng = Rng::new(19);
    let (a, r): (Mat<3, 4>, Mat<3, 4>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    // Away from zero, for the division.
    let b: Mat<3, 4> = rng.mat(0.5, 2.0);
    let (a, b, r) = (&a, &b, &r);
    assert_gradients!(add_op(a, b, r), add_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
    assert_gradients!(sub_op(a, b, r), sub_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
    assert_gradients!(mul_op(a, b, r), mul_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
    assert_gradients!(div_op(a, b, r), div_op_backward(a, b, r, 1.0), wrt [a, b], TOL);
    assert_gradients!(neg_op(a, r), neg_op_backward(a, r, 1.0), wrt[a], TOL);
}

#[differentiable(wrt(a))]
fn scale_op(a: &Mat<3, 4>, r: &Mat<3, 4>, s: f64) -> f64 {
    let scaled = a * 2.5;
    let left = s * scaled;
    (left / 4.0 * r).sum()
}

#[differentiable(wrt(a, b))]
fn scalar_value_op(a: &Mat<3, 4>, b: &Mat<2, 5>, r: &Mat<2, 5>) -> f64 {
    // `s` is a scalar computed from `a`: its gradient flows back into `a`.
    let s = a.mean();
    let t = b.sum();
    ((b * s) / t * r).sum() + s * t - t / s
}

#[test]
fn scalars() {
    let mut rng = Rng::new(20);
    let (a, r): (Mat<3, 4>, Mat<3, 4>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, r, s) = (&a, &r, -1.5);
    assert_gradients!(
        scale_op(a, r, s),
        scale_op_backward(a, r, s, 1.0),
        wrt[a],
        TOL
    );

    let a: Mat<3, 4> = rng.mat(0.5, 1.5);
    let (b, r): (Mat<2, 5>, Mat<2, 5>) = (rng.mat(0.5, 1.5), rng.mat(-1.0, 1.0));
    let (a, b, r) = (&a, &b, &r);
    assert_gradients!(
        scalar_value_op(a, b, r),
        scalar_value_op_backward(a, b, r, 1.0),
        wrt [a, b],
        TOL
    );
}

#[differentiable]
fn reuse_op(a: &Mat<3, 4>) -> f64 {
    // `a` is used three times and `sq` twice: every contribution must be added. (The `&` is
    // Rust's, for the forward function: the backward manages ownership itself.)
    let sq = a * a;
    let both = &sq + a;
    (both * &sq).sum()
}

#[test]
fn reused_values_sum_their_contributions() {
    let mut rng = Rng::new(21);
    let a: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let a = &a;
    assert_gradients!(reuse_op(a), reuse_op_backward(a, 1.0), wrt[a], TOL);
    // d/da Σ (a² + a)·a² = 4a³ + 3a², exactly.
    let g = reuse_op_backward(a, 1.0);
    for i in 0..3 {
        for j in 0..4 {
            let v = a[(i, j)];
            assert!((g.a[(i, j)] - (4.0 * v * v * v + 3.0 * v * v)).abs() < 1e-12);
        }
    }
}

#[differentiable]
fn shadowed(x: &Mat<2, 3>, w: &Mat<3, 4>) -> f64 {
    let h = x.matmul(w);
    let h = h.exp();
    let h = h.row_sums();
    h.ln().sum()
}

#[test]
fn shadowed_names_are_new_values() {
    let mut rng = Rng::new(22);
    let (x, w): (Mat<2, 3>, Mat<3, 4>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (x, w) = (&x, &w);
    assert_gradients!(shadowed(x, w), shadowed_backward(x, w, 1.0), wrt [x, w], TOL);
}

#[differentiable(wrt(w))]
fn constants_get_no_gradient(x: &Mat<2, 3>, w: &Mat<3, 4>) -> f64 {
    x.matmul(w).sum()
}

#[differentiable]
fn unused_input_gets_zeros(x: &Mat<2, 3>, _unused: &Mat<3, 3>) -> f64 {
    x.sum()
}

#[test]
fn activity() {
    let x = Mat::<2, 3>::from_fn(|i, j| (i + j) as f64);
    let w = Mat::<3, 4>::full(0.5);
    let g = constants_get_no_gradient_backward(&x, &w, 1.0);
    assert_eq!(g.value, constants_get_no_gradient(&x, &w));
    // d/dw Σ x·w = xᵀ·1
    assert_eq!(g.w, x.t().matmul(&Mat::<2, 4>::full(1.0)));
    let g = unused_input_gets_zeros_backward(&x, &Mat::full(1.0), 2.0);
    assert_eq!(g.value, unused_input_gets_zeros(&x, &Mat::full(1.0)));
    assert_eq!(g.x, Mat::full(2.0));
    assert_eq!(g._unused, Mat::zeros());
}
