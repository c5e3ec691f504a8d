//! Every rule of the derivative table against central finite differences, on random non-square
//! inputs (3 × 5 · 5 × 2 and the like, so that a missing transpose cannot hide).
//!
//! Each op is composed with a random weighting `r` before the final reduction, so that the
//! incoming gradient differs from entry to entry: a rule that broadcast or summed the gradient
//! the wrong way would fail.

use crate::common::Rng;
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

/// Uniform values whose magnitude is at least 0.2, so that finite differences never straddle a
/// kink (relu, abs) or a pole.
fn away_from_zero<const R: usize, const C: usize>(rng: &mut Rng) -> Mat<R, C> {
    Mat::from_fn(|_, _| {
        let u = rng.uniform(-1.0, 1.0);
        u.signum() * (0.2 + u.abs())
    })
}

macro_rules! unary_op {
    ($name:ident, $backward:ident, $method:ident) => {
        #[differentiable(wrt(a))]
        fn $name(a: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
            (a.$method() * r).sum()
        }
    };
}

unary_op!(sqrt_op, sqrt_op_backward, sqrt);
unary_op!(square_op, square_op_backward, square);
unary_op!(tanh_op, tanh_op_backward, tanh);
unary_op!(sigmoid_op, sigmoid_op_backward, sigmoid);
unary_op!(relu_op, relu_op_backward, relu);
unary_op!(abs_op, abs_op_backward, abs);

#[differentiable(wrt(a))]
fn powi_op(a: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
    (a.powi(3) * r).sum() + (a.powi(-2) * r).sum()
}

#[test]
fn elementwise_functions() {
    let mut rng = Rng::new(30);
    let r: Mat<3, 5> = rng.mat(-1.0, 1.0);
    let a = away_from_zero::<3, 5>(&mut rng);
    let positive: Mat<3, 5> = rng.mat(0.3, 2.0);
    let (a, r) = (&a, &r);
    {
        let a = &positive;
        assert_gradients!(sqrt_op(a, r), sqrt_op_backward(a, r, 1.0), wrt[a], TOL);
    }
    assert_gradients!(square_op(a, r), square_op_backward(a, r, 1.0), wrt[a], TOL);
    assert_gradients!(tanh_op(a, r), tanh_op_backward(a, r, 1.0), wrt[a], TOL);
    assert_gradients!(
        sigmoid_op(a, r),
        sigmoid_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(relu_op(a, r), relu_op_backward(a, r, 1.0), wrt[a], TOL);
    assert_gradients!(abs_op(a, r), abs_op_backward(a, r, 1.0), wrt[a], TOL);
    assert_gradients!(powi_op(a, r), powi_op_backward(a, r, 1.0), wrt[a], TOL);
}

#[test]
fn kinks_take_the_documented_value() {
    let a = Mat::from_rows([[0.0, 1.0, -1.0, 0.0, 2.0]; 3]);
    let r = Mat::<3, 5>::full(1.0);
    let relu = relu_op_backward(&a, &r, 1.0);
    let abs = abs_op_backward(&a, &r, 1.0);
    assert_eq!(relu.a, Mat::from_rows([[0.0, 1.0, 0.0, 0.0, 1.0]; 3]));
    assert_eq!(abs.a, Mat::from_rows([[0.0, 1.0, -1.0, 0.0, 1.0]; 3]));
    assert_eq!(relu.value, relu_op(&a, &r));
    assert_eq!(abs.value, abs_op(&a, &r));
}

macro_rules! broadcast_op {
    ($name:ident, $method:ident, $b:ty) => {
        #[differentiable(wrt(a, b))]
        fn $name(a: &Mat<4, 3>, b: &$b, r: &Mat<4, 3>) -> f64 {
            (a.$method(b) * r).sum()
        }
    };
}

broadcast_op!(add_row_b, add_row, Mat<1, 3>);
broadcast_op!(sub_row_b, sub_row, Mat<1, 3>);
broadcast_op!(mul_row_b, mul_row, Mat<1, 3>);
broadcast_op!(div_row_b, div_row, Mat<1, 3>);
broadcast_op!(add_col_b, add_col, Mat<4, 1>);
broadcast_op!(sub_col_b, sub_col, Mat<4, 1>);
broadcast_op!(mul_col_b, mul_col, Mat<4, 1>);
broadcast_op!(div_col_b, div_col, Mat<4, 1>);

#[test]
fn broadcasts() {
    let mut rng = Rng::new(31);
    let (a, r): (Mat<4, 3>, Mat<4, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let row = away_from_zero::<1, 3>(&mut rng);
    let col = away_from_zero::<4, 1>(&mut rng);
    let (a, r) = (&a, &r);
    {
        let b = &row;
        assert_gradients!(add_row_b(a, b, r), add_row_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(sub_row_b(a, b, r), sub_row_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(mul_row_b(a, b, r), mul_row_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(div_row_b(a, b, r), div_row_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
    }
    {
        let b = &col;
        assert_gradients!(add_col_b(a, b, r), add_col_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(sub_col_b(a, b, r), sub_col_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(mul_col_b(a, b, r), mul_col_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
        assert_gradients!(div_col_b(a, b, r), div_col_b_backward(a, b, r, 1.0), wrt [a, b], TOL);
    }
}

#[differentiable(wrt(a))]
fn row_means_op(a: &Mat<3, 5>, r: &Mat<3, 1>) -> f64 {
    (a.row_means() * r).sum()
}

#[differentiable(wrt(a))]
fn col_means_op(a: &Mat<3, 5>, r: &Mat<1, 5>) -> f64 {
    (a.col_means() * r).sum()
}

#[differentiable(wrt(a))]
fn row_max_op(a: &Mat<3, 5>, r: &Mat<3, 1>) -> f64 {
    (a.row_max() * r).sum()
}

#[test]
fn reductions() {
    let mut rng = Rng::new(32);
    let a: Mat<3, 5> = rng.mat(-1.0, 1.0);
    let (rc, rr): (Mat<3, 1>, Mat<1, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let a = &a;
    {
        let r = &rc;
        assert_gradients!(
            row_means_op(a, r),
            row_means_op_backward(a, r, 1.0),
            wrt[a],
            TOL
        );
        assert_gradients!(
            row_max_op(a, r),
            row_max_op_backward(a, r, 1.0),
            wrt[a],
            TOL
        );
    }
    let r = &rr;
    assert_gradients!(
        col_means_op(a, r),
        col_means_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
}

#[test]
fn row_max_ties_go_to_the_first_maximum() {
    let a = Mat::from_rows([
        [1.0, 3.0, 3.0, 0.0, 3.0],
        [2.0, 2.0, 2.0, 2.0, 2.0],
        [0.0; 5],
    ]);
    let r = Mat::<3, 1>::full(1.0);
    let g = row_max_op_backward(&a, &r, 1.0);
    assert_eq!(
        g.a,
        Mat::from_rows([
            [0.0, 1.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0, 0.0],
            [1.0, 0.0, 0.0, 0.0, 0.0]
        ])
    );
}

#[differentiable(wrt(a))]
fn softmax_op(a: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
    (a.softmax_rows() * r).sum()
}

#[differentiable(wrt(a))]
fn log_softmax_op(a: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
    (a.log_softmax_rows() * r).sum()
}

#[differentiable]
fn cross_entropy_op(a: &Mat<4, 5>, y: &Labels<4, 5>) -> f64 {
    a.cross_entropy(y)
}

#[test]
fn softmax_family() {
    let mut rng = Rng::new(33);
    let (a, r): (Mat<3, 5>, Mat<3, 5>) = (rng.mat(-2.0, 2.0), rng.mat(-1.0, 1.0));
    let (a, r) = (&a, &r);
    assert_gradients!(
        softmax_op(a, r),
        softmax_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(
        log_softmax_op(a, r),
        log_softmax_op_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
    let a: Mat<4, 5> = rng.mat(-2.0, 2.0);
    let y: Labels<4, 5> = rng.labels();
    let (a, y) = (&a, &y);
    assert_gradients!(
        cross_entropy_op(a, y),
        cross_entropy_op_backward(a, y, 1.0),
        wrt[a],
        TOL
    );
    // The fused backward is (P − onehot) / N.
    let g = cross_entropy_op_backward(a, y, 1.0);
    let p = a.softmax_rows();
    for i in 0..4 {
        for j in 0..5 {
            let onehot = if y[i] == j { 1.0 } else { 0.0 };
            assert!((g.a[(i, j)] - (p[(i, j)] - onehot) / 4.0).abs() < 1e-15);
        }
    }
}

#[test]
fn logits_of_a_thousand_give_finite_values_and_gradients() {
    let a = Mat::<4, 5>::from_fn(|i, j| if (i + j) % 2 == 0 { 1000.0 } else { -1000.0 });
    let y = Labels::<4, 5>::new(vec![0, 1, 2, 4]).unwrap();
    let ce = cross_entropy_op_backward(&a, &y, 1.0);
    assert!(ce.value.is_finite(), "{}", ce.value);
    assert!(ce.a.to_vec().iter().all(|v| v.is_finite()));
    // Rows 0 and 2 have three logits of +1000 and their label on one (loss ln 3), row 1 two
    // (ln 2); row 3 puts its label on a -1000 logit (2000 + ln 2).
    let (ln2, ln3) = (f64::ln(2.0), f64::ln(3.0));
    let expected = (ln3 + ln2 + ln3 + 2000.0 + ln2) / 4.0;
    assert!(
        (ce.value - expected).abs() < 1e-9,
        "{} vs {expected}",
        ce.value
    );
    let a3 = Mat::<3, 5>::from_fn(|i, j| if (i + j) % 2 == 0 { 1000.0 } else { -1000.0 });
    let r = Mat::<3, 5>::full(1.0);
    let ls = log_softmax_op_backward(&a3, &r, 1.0);
    assert!(ls.value.is_finite() && ls.a.to_vec().iter().all(|v| v.is_finite()));
    let sm = softmax_op_backward(&a3, &r, 1.0);
    assert!(sm.value.is_finite() && sm.a.to_vec().iter().all(|v| v.is_finite()));
}

#[differentiable(wrt(a))]
fn softplus_op(a: &Mat<2, 3>, r: &Mat<2, 3>) -> f64 {
    (a.softplus() * r).sum()
}

#[differentiable(wrt(a))]
fn sigmoid_extreme(a: &Mat<2, 3>, r: &Mat<2, 3>) -> f64 {
    (a.sigmoid() * r).sum()
}

/// `softplus` and `sigmoid` at ±1000 and near 0: the values a careful closed form gives, no
/// overflow to infinity or NaN, and gradients that are the logistic function (0 or 1 at the
/// extremes).
#[test]
fn softplus_and_sigmoid_stay_finite_at_a_thousand() {
    let a = Mat::from_rows([[1000.0, -1000.0, 0.0], [30.0, -30.0, 1e-12]]);
    let r = Mat::<2, 3>::full(1.0);
    let sp = a.softplus();
    let expected = [
        [1000.0, 0.0, f64::ln(2.0)],
        [
            30.0 + (-30f64).exp().ln_1p(),
            (-30f64).exp().ln_1p(),
            f64::ln(2.0) + 5e-13,
        ],
    ];
    for (i, row) in expected.iter().enumerate() {
        for (j, &e) in row.iter().enumerate() {
            assert!(
                (sp[(i, j)] - e).abs() <= 1e-15 * e.abs().max(1.0),
                "softplus({}) = {}, not {e}",
                a[(i, j)],
                sp[(i, j)]
            );
        }
    }
    let grads = softplus_op_backward(&a, &r, 1.0);
    let value = softplus_op(&a, &r);
    assert!((grads.value - value).abs() <= 1e-12 * value.abs());
    let sigmoid = a.sigmoid();
    for (g, s) in grads.a.to_vec().iter().zip(sigmoid.to_vec()) {
        assert!(
            g.is_finite() && (g - s).abs() < 1e-15,
            "softplus' = {g}, sigmoid = {s}"
        );
    }
    assert_eq!((grads.a[(0, 0)], grads.a[(0, 1)]), (1.0, 0.0));
    // log σ(a) = −softplus(−a): 0 and −1000 at ±1000, gradient σ(−a).
    let ls = a.log_sigmoid();
    assert_eq!(
        (ls[(0, 0)], ls[(0, 1)], ls[(0, 2)]),
        (0.0, -1000.0, -f64::ln(2.0))
    );
    let d_ls = a.log_sigmoid_backward(Mat::full(1.0));
    assert_eq!((d_ls[(0, 0)], d_ls[(0, 1)]), (0.0, 1.0));
    assert!(d_ls.to_vec().iter().all(|v| v.is_finite()));
    let sg = sigmoid_extreme_backward(&a, &r, 1.0);
    let value = sigmoid_extreme(&a, &r);
    assert!((sg.value - value).abs() <= 1e-12 * value.abs().max(1.0));
    assert!(sg.value.is_finite() && sg.a.to_vec().iter().all(|v| v.is_finite()));
    assert_eq!((sigmoid[(0, 0)], sigmoid[(0, 1)]), (1.0, 0.0));
}

#[differentiable(wrt(x, w))]
fn fused_right(x: &Mat<3, 4>, w: &Mat<2, 4>, r: &Mat<3, 2>) -> f64 {
    (x.matmul(&w.t()) * r).sum()
}

#[differentiable(wrt(x, w))]
fn fused_left(x: &Mat<4, 3>, w: &Mat<4, 2>, r: &Mat<3, 2>) -> f64 {
    let xt = x.t();
    (xt.matmul(w) * r).sum()
}

#[differentiable(wrt(x, w))]
fn explicit_transposed_products(x: &Mat<3, 4>, w: &Mat<2, 4>, v: &Mat<3, 5>, r: &Mat<3, 2>) -> f64 {
    let a = x.matmul_t(w);
    let b = x.t_matmul(v);
    (a * r).sum() + b.sum()
}

#[test]
fn transposed_products() {
    let mut rng = Rng::new(34);
    let (x, w, r): (Mat<3, 4>, Mat<2, 4>, Mat<3, 2>) =
        (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let v: Mat<3, 5> = rng.mat(-1.0, 1.0);
    {
        let (x, w, r) = (&x, &w, &r);
        assert_gradients!(fused_right(x, w, r), fused_right_backward(x, w, r, 1.0), wrt [x, w], TOL);
        let v = &v;
        assert_gradients!(
            explicit_transposed_products(x, w, v, r),
            explicit_transposed_products_backward(x, w, v, r, 1.0),
            wrt [x, w],
            TOL
        );
    }
    let (x, w): (Mat<4, 3>, Mat<4, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (x, w, r) = (&x, &w, &r);
    assert_gradients!(fused_left(x, w, r), fused_left_backward(x, w, r, 1.0), wrt [x, w], TOL);
}

#[differentiable(wrt(a))]
fn scalar_and_matrix(a: &Mat<3, 4>, r: &Mat<3, 4>) -> f64 {
    let s = a.mean();
    let shifted = a + s;
    let flipped = 1.0 - shifted;
    let lowered = flipped - 0.5;
    let inverse = 2.0 / &lowered;
    let raised = s + inverse;
    let ratio = s / (a * 3.0);
    (raised * r).sum() + (ratio * r).sum()
}

#[test]
fn scalars_on_either_side_of_a_matrix() {
    let mut rng = Rng::new(35);
    // Keeps 0.5 - a - mean(a) away from zero.
    let a: Mat<3, 4> = rng.mat(1.0, 2.0);
    let r: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let (a, r) = (&a, &r);
    assert_gradients!(
        scalar_and_matrix(a, r),
        scalar_and_matrix_backward(a, r, 1.0),
        wrt[a],
        TOL
    );
}

// ---- the fused reductions, called directly and folded from the two-step form ----

#[differentiable(wrt(a, b))]
fn inner_op(a: &Mat<3, 5>, b: &Mat<3, 5>) -> f64 {
    a.inner(b)
}

#[differentiable(wrt(a))]
fn inner_with_itself(a: &Mat<3, 5>) -> f64 {
    a.inner(a)
}

/// `e` feeds two inner products: the second contribution is added in place (`add_scaled`).
#[differentiable(wrt(a))]
fn inner_twice(a: &Mat<3, 5>, b: &Mat<3, 5>, r: &Mat<3, 5>) -> f64 {
    let e = a.exp();
    e.inner(b) + (e * r).sum()
}

/// The product is used twice, so it is not folded: `*` and `sum` are differentiated as such.
#[differentiable(wrt(a, b))]
fn product_kept(a: &Mat<3, 5>, b: &Mat<3, 5>) -> f64 {
    let p = a * b;
    p.sum() + p.mean()
}

#[differentiable(wrt(a))]
fn sum_squares_op(a: &Mat<3, 5>) -> f64 {
    a.sum_squares() + 0.5 * a.mean_squares()
}

#[differentiable(wrt(a))]
fn row_squares_op(a: &Mat<3, 5>, r: &Mat<3, 1>) -> f64 {
    (a.row_sum_squares() * r).sum() + (a.row_mean_squares() * r).mean()
}

#[differentiable(wrt(a))]
fn col_squares_op(a: &Mat<3, 5>, r: &Mat<1, 5>) -> f64 {
    (a.col_sum_squares() * r).sum() + (a.col_mean_squares() * r).mean()
}

/// Written as a square and then a reduction; folded into the fused ops.
#[differentiable(wrt(p))]
fn mse(p: &Mat<4, 3>, y: &Mat<4, 3>) -> f64 {
    (p - y).square().mean()
}

#[differentiable(wrt(a))]
fn variances(a: &Mat<3, 5>, rr: &Mat<1, 5>, rc: &Mat<3, 1>) -> f64 {
    let xc = a.sub_row(&a.col_means());
    let var = xc.square().col_means();
    let sq = a.square();
    let per_row = sq.row_sums();
    (var * rr).sum() + (per_row * rc).sum() + a.square().sum()
}

#[test]
fn fused_reductions() {
    let mut rng = Rng::new(36);
    let (a, b, r): (Mat<3, 5>, Mat<3, 5>, Mat<3, 5>) =
        (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (rc, rr): (Mat<3, 1>, Mat<1, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (a, b, r, rc, rr) = (&a, &b, &r, &rc, &rr);
    assert_gradients!(inner_op(a, b), inner_op_backward(a, b, 1.0), wrt [a, b], TOL);
    assert_gradients!(
        inner_with_itself(a),
        inner_with_itself_backward(a, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(
        inner_twice(a, b, r),
        inner_twice_backward(a, b, r, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(product_kept(a, b), product_kept_backward(a, b, 1.0), wrt [a, b], TOL);
    assert_gradients!(
        sum_squares_op(a),
        sum_squares_op_backward(a, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(
        row_squares_op(a, rc),
        row_squares_op_backward(a, rc, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(
        col_squares_op(a, rr),
        col_squares_op_backward(a, rr, 1.0),
        wrt[a],
        TOL
    );
    assert_gradients!(
        variances(a, rr, rc),
        variances_backward(a, rr, rc, 1.0),
        wrt[a],
        TOL
    );
    let (p, y): (Mat<4, 3>, Mat<4, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let (p, y) = (&p, &y);
    assert_gradients!(mse(p, y), mse_backward(p, y, 1.0), wrt[p], TOL);
    // Against the hand-derived gradient of a mean squared error, 2·(p − y)/12, with a seed
    // other than 1: a wrong factor would be off by far more than rounding.
    let grads = mse_backward(p, y, 3.0);
    let expected = (p - y) * (3.0 * 2.0 / 12.0);
    for (got, want) in grads.p.as_array().iter().zip(expected.as_array()) {
        assert!((got - want).abs() < 1e-12, "{got} vs {want}");
    }
    let value = mse(p, y);
    assert!((grads.value - value).abs() < 1e-15);
}

/// Nine column reductions of one matrix: a fused pass with nine row accumulators, more than a
/// pass shared among threads adds up (eight), so that pass stays on one thread; the gradients
/// are the same either way.
#[differentiable]
fn nine_sums<const N: usize, const D: usize>(x: &Mat<N, D>, g: &Mat<1, D>) -> f64 {
    let a = x.col_sums();
    let b = x.square().col_sums();
    let c = x.exp().col_sums();
    let d = x.tanh().col_sums();
    let e = x.sigmoid().col_sums();
    let f = x.abs().col_sums();
    let h = x.relu().col_sums();
    let k = x.col_means();
    let m = x.softplus().col_sums();
    ((a + b) + (c + d) + ((e + f) + (h + k)) + m).inner(g)
}

#[test]
fn a_pass_with_more_accumulators_than_threads_add_up() {
    let mut rng = Rng::new(41);
    let x: Mat<5, 3> = rng.mat(-1.5, 1.5);
    let g: Mat<1, 3> = rng.mat(-1.0, 1.0);
    let (x, g) = (&x, &g);
    assert_gradients!(nine_sums(x, g), nine_sums_backward(x, g, 1.0), wrt [x, g], TOL);
    // Above the threshold of threaded passes, on two threads: the other passes are shared.
    let big: Mat<512, 300> = Mat::from_fn(|i, j| ((i * 7 + j * 3) % 19) as f64 / 10.0 - 0.9);
    let gb: Mat<1, 300> = Mat::from_fn(|_, j| (j % 5) as f64 - 2.0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .expect("a pool");
    let two = pool.install(|| nine_sums_backward(&big, &gb, 1.0));
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a pool")
        .install(|| nine_sums_backward(&big, &gb, 1.0));
    assert!((two.value - one.value).abs() <= 1e-9 * one.value.abs().max(1.0));
    assert!(two
        .x
        .to_vec()
        .iter()
        .zip(one.x.to_vec())
        .all(|(a, b)| (a - b).abs() <= 1e-12));
}

/// Row factors come out of sums over rows and column factors out of sums over columns, a
/// divisor with them (`fuse/factor.rs`); layer norm's sums over columns share one another.
#[differentiable]
fn factored_sums<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    w: &Mat<N, 1>,
    r: &Mat<1, D>,
    q: &Mat<1, D>,
    s: f64,
) -> f64 {
    let y = x.mul_col(w).div_row(r);
    let mu = y.row_means();
    let yc = y.sub_col(&mu);
    let sd = (yc.row_mean_squares() + 0.1).sqrt();
    let z = yc.div_col(&sd).mul_row(q) * s;
    (z.square() + y.mul_row(r)).sum()
}

/// The same, one runtime call per binding.
#[differentiable(unfused)]
fn factored_sums_unfused<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    w: &Mat<N, 1>,
    r: &Mat<1, D>,
    q: &Mat<1, D>,
    s: f64,
) -> f64 {
    let y = x.mul_col(w).div_row(r);
    let mu = y.row_means();
    let yc = y.sub_col(&mu);
    let sd = (yc.row_mean_squares() + 0.1).sqrt();
    let z = yc.div_col(&sd).mul_row(q) * s;
    (z.square() + y.mul_row(r)).sum()
}

#[test]
fn factored_sums_match_finite_differences_and_the_unfused_code() {
    let mut rng = Rng::new(43);
    let x: Mat<7, 5> = rng.mat(-1.5, 1.5);
    let w: Mat<7, 1> = rng.mat(0.5, 1.5);
    let r: Mat<1, 5> = rng.mat(0.5, 1.5);
    let q: Mat<1, 5> = rng.mat(-1.0, 1.0);
    let (x, w, r, q) = (&x, &w, &r, &q);
    assert_gradients!(
        factored_sums(x, w, r, q, 0.7),
        factored_sums_backward(x, w, r, q, 0.7, 1.0),
        wrt [x, w, r, q],
        TOL
    );
    let fused = factored_sums_backward(x, w, r, q, 0.7, -1.3);
    let unfused = factored_sums_unfused_backward(x, w, r, q, 0.7, -1.3);
    let close = |a: &[f64], b: &[f64]| {
        a.iter()
            .zip(b)
            .all(|(a, b)| (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0))
    };
    assert!(close(&[fused.value], &[unfused.value]));
    // The fused value is the forward's up to the order of its sums.
    let forward = factored_sums_unfused(x, w, r, q, 0.7);
    assert!(close(&[fused.value], &[forward]));
    assert!(close(&fused.x.to_vec(), &unfused.x.to_vec()));
    assert!(close(&fused.w.to_vec(), &unfused.w.to_vec()));
    assert!(close(&fused.r.to_vec(), &unfused.r.to_vec()));
    assert!(close(&fused.q.to_vec(), &unfused.q.to_vec()));
}

/// A column is the first matrix a threaded pass writes: it keeps its own shape (a column, not
/// the pass's `[N × D]`).
#[differentiable(wrt(w))]
fn column_weights<const N: usize, const D: usize>(x: &Mat<N, D>, w: &Mat<N, 1>) -> f64 {
    x.mul_col(w).square().sum()
}

#[test]
fn a_column_written_first_by_a_threaded_pass_keeps_its_shape() {
    let mut rng = Rng::new(47);
    let x: Mat<6, 4> = rng.mat(-1.0, 1.0);
    let w: Mat<6, 1> = rng.mat(-1.0, 1.0);
    let (x, w) = (&x, &w);
    assert_gradients!(
        column_weights(x, w),
        column_weights_backward(x, w, 1.0),
        wrt[w],
        TOL
    );
    // Above the threshold of threaded passes: d_w = Σ_cols 2·(x ∘ w)² / w, row by row.
    let big: Mat<512, 300> = Mat::from_fn(|i, j| ((i * 7 + j * 3) % 19) as f64 / 10.0 - 0.9);
    let wb: Mat<512, 1> = Mat::from_fn(|i, _| (i % 5) as f64 - 2.0);
    let d_w: Mat<512, 1> = column_weights_backward(&big, &wb, 1.0).w;
    for i in [0, 1, 255, 511] {
        let expected: f64 = (0..300)
            .map(|j| 2.0 * big[(i, j)].powi(2) * wb[(i, 0)])
            .sum();
        assert!((d_w[(i, 0)] - expected).abs() <= 1e-9 * expected.abs().max(1.0));
    }
}
