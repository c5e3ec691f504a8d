//! The fused losses of the runtime (`mse`, `huber`, `bce_with_logits`, `cosine_rows`) and
//! `row_norms`, called directly: every gradient against central differences in f64 on random
//! non-square inputs, the values against their formulas on hand-checkable inputs, stability at
//! extreme inputs, zero rows, and the fused and in-place forms against the plain ones.

use crate::common::Rng;
use gradgen::check::{self, Report};
use gradgen::{Mat, Scalar};

const TOL: f64 = 1e-6;

/// `d_out` other than 1, so that a gradient that ignored it would fail.
const D_OUT: f64 = 1.7;

fn assert_passes(what: &str, report: &Report) {
    assert_eq!(report.unverified, 0, "{what}: {report}");
    assert!(report.passes(TOL), "{what}: {report}");
}

fn inputs(seed: u64) -> (Mat<3, 5>, Mat<3, 5>) {
    let mut rng = Rng::new(seed);
    (rng.mat(-2.0, 2.0), rng.mat(-2.0, 2.0))
}

fn all_finite<const R: usize, const C: usize, T: Scalar>(m: &Mat<R, C, T>) -> bool {
    m.to_vec().iter().all(|v| v.is_finite())
}

/// The largest `|x − y| / max(|y|, tiny)` over the entries.
fn max_rel_diff<const R: usize, const C: usize>(x: &Mat<R, C>, y: &Mat<R, C>) -> f64 {
    x.to_vec()
        .iter()
        .zip(y.to_vec())
        .map(|(p, q)| (p - q).abs() / q.abs().max(1e-300))
        .fold(0.0, f64::max)
}

// ---- gradients against finite differences ----

#[test]
fn mse_gradients() {
    let (a, t) = inputs(101);
    let r = check::gradient(|a: &_| D_OUT * a.mse(&t), &a, &a.mse_backward(&t, D_OUT));
    assert_passes("mse, receiver", &r);
    let r = check::gradient(|t: &_| D_OUT * a.mse(t), &t, &t.mse_backward(&a, D_OUT));
    assert_passes("mse, target", &r);
}

#[test]
fn huber_gradients() {
    let (a, t) = inputs(102);
    let delta = 0.8;
    // Both branches are exercised, and no entry sits within a step of the kink at |d| = delta.
    let d = (&a - &t).to_vec();
    assert!(d.iter().any(|d| d.abs() < delta) && d.iter().any(|d| d.abs() > delta));
    assert!(d.iter().all(|d| (d.abs() - delta).abs() > 1e-3), "{d:?}");
    let analytic = a.huber_backward(&t, delta, D_OUT);
    let r = check::gradient(|a: &_| D_OUT * a.huber(&t, delta), &a, &analytic);
    assert_passes("huber, receiver", &r);
    let analytic = t.huber_backward(&a, delta, D_OUT);
    let r = check::gradient(|t: &_| D_OUT * a.huber(t, delta), &t, &analytic);
    assert_passes("huber, target", &r);
}

#[test]
fn bce_with_logits_gradients() {
    let mut rng = Rng::new(103);
    let a: Mat<3, 5> = rng.mat(-4.0, 4.0);
    let t: Mat<3, 5> = rng.mat(0.0, 1.0);
    let analytic = a.bce_with_logits_backward(&t, D_OUT);
    let r = check::gradient(|a: &_| D_OUT * a.bce_with_logits(&t), &a, &analytic);
    assert_passes("bce_with_logits, logits", &r);
    let analytic = a.bce_with_logits_backward_target(D_OUT);
    let r = check::gradient(|t: &_| D_OUT * a.bce_with_logits(t), &t, &analytic);
    assert_passes("bce_with_logits, target", &r);
}

#[test]
fn cosine_rows_gradients() {
    let (a, b) = inputs(104);
    let analytic = a.cosine_rows_backward(&b, D_OUT);
    let r = check::gradient(|a: &_| D_OUT * a.cosine_rows(&b), &a, &analytic);
    assert_passes("cosine_rows, receiver", &r);
    let analytic = b.cosine_rows_backward(&a, D_OUT);
    let r = check::gradient(|b: &_| D_OUT * a.cosine_rows(b), &b, &analytic);
    assert_passes("cosine_rows, other", &r);
}

#[test]
fn row_norms_gradient() {
    let mut rng = Rng::new(105);
    let a: Mat<4, 3> = rng.mat(-2.0, 2.0);
    let g: Mat<4, 1> = rng.mat(-1.5, 1.5);
    let analytic = a.row_norms_backward(&a.row_norms(), &g);
    let r = check::gradient(|a: &Mat<4, 3>| a.row_norms().inner(&g), &a, &analytic);
    assert_passes("row_norms", &r);
}

// ---- values against their formulas ----

#[test]
fn values_equal_their_formulas_on_hand_checkable_inputs() {
    let a: Mat<2, 3> = Mat::from_rows([[1.0, 2.0, -1.0], [0.5, 3.0, 0.0]]);
    let t = Mat::from_rows([[0.0, 2.0, 1.0], [0.5, -1.0, 0.25]]);
    // d = [[1, 0, −2], [0, 4, −0.25]]
    assert_eq!(a.mse(&t), (1.0 + 0.0 + 4.0 + 0.0 + 16.0 + 0.0625) / 6.0);
    // delta = 1.5: 0.5·1², 0, 1.5·(2 − 0.75), 0, 1.5·(4 − 0.75), 0.5·0.25²
    let huber = (0.5 + 0.0 + 1.875 + 0.0 + 4.875 + 0.03125) / 6.0;
    assert!((a.huber(&t, 1.5) - huber).abs() < 1e-15);
    // The textbook binary cross-entropy, −t ln σ(a) − (1 − t) ln(1 − σ(a)).
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    let bce: f64 = a
        .to_vec()
        .iter()
        .zip(t.to_vec())
        .map(|(&x, y)| -y * sigmoid(x).ln() - (1.0 - y) * (1.0 - sigmoid(x)).ln())
        .sum::<f64>()
        / 6.0;
    // (The textbook form loses a few bits in ln(1 − σ), hence a few ulps.)
    assert!((a.bce_with_logits(&t) - bce).abs() < 1e-14 * bce, "{bce}");
    // Rows [1, 2, −1]·[0, 2, 1] = 3 over √6·√5, and [0.5, 3, 0]·[0.5, −1, 0.25] = −2.75 over
    // √9.25·√1.3125.
    let cos0 = 3.0 / (6f64.sqrt() * 5f64.sqrt());
    let cos1 = -2.75 / (9.25f64.sqrt() * 1.3125f64.sqrt());
    assert!((a.cosine_rows(&t) - (2.0 - cos0 - cos1) / 2.0).abs() < 1e-15);
    let norms = a.row_norms();
    assert_eq!(norms, Mat::from_rows([[6f64.sqrt()], [9.25f64.sqrt()]]));
}

#[test]
fn gradients_equal_their_formulas_on_hand_checkable_inputs() {
    let a = Mat::from_rows([[3.0, 0.0, -1.0], [0.0, 4.0, 2.0]]);
    let t = Mat::from_rows([[1.0, 0.0, 0.0], [0.0, 1.0, 2.0]]);
    // d_out · 2(a − t) / 6 with d_out = 3: a − t.
    assert_eq!(a.mse_backward(&t, 3.0), &a - &t);
    // d_out · clamp(a − t, ±1) / 6 with d_out = 6.
    let clamped = Mat::from_rows([[1.0, 0.0, -1.0], [0.0, 1.0, 0.0]]);
    assert_eq!(a.huber_backward(&t, 1.0, 6.0), clamped);
    // d_out · (σ(a) − t) / 6 with d_out = 6.
    let expected = a.sigmoid() - &t;
    let d = a.bce_with_logits_backward(&t, 6.0);
    assert!(
        (&d - &expected).abs().sum() < 1e-15,
        "{d:?} vs {expected:?}"
    );
    // Row 0: a = [3, 0, −1], b = [1, 0, 0]: cos = 3/√10, and
    // d_a = −(d_out/R)·(b/(|a||b|) − cos·a/|a|²) with d_out = 2, R = 2.
    let n = 10f64.sqrt();
    let cos = 3.0 / n;
    let row0: Vec<f64> = [3.0, 0.0, -1.0]
        .iter()
        .zip([1.0, 0.0, 0.0])
        .map(|(a, b)| -(b / n - cos * a / 10.0))
        .collect();
    let d = a.cosine_rows_backward(&t, 2.0);
    for (x, y) in d.as_array().row(0).iter().zip(&row0) {
        assert!((x - y).abs() < 1e-15, "{d:?} vs {row0:?}");
    }
}

// ---- stability ----

#[test]
fn elementwise_losses_are_finite_at_extreme_inputs() {
    let a = Mat::from_rows([[1000.0, -1000.0, 1000.0], [-1000.0, 0.0, 1000.0]]);
    let t = Mat::from_rows([[-1000.0, 1000.0, 1000.0], [0.0, 1000.0, -1000.0]]);
    let (mse, d) = a.mse_and_backward(&t, 1.0);
    assert_eq!(mse, (3.0 * 4e6 + 2.0 * 1e6) / 6.0);
    assert!(all_finite(&d));
    let (huber, d) = a.huber_and_backward(&t, 1.0, 6.0);
    assert_eq!(huber, (3.0 * 1999.5 + 2.0 * 999.5) / 6.0);
    assert_eq!(d, Mat::from_rows([[1.0, -1.0, 0.0], [-1.0, -1.0, 1.0]]));
    // Logits of ±1000 against targets 0, 0.3 and 1: the closed forms, exactly.
    let logits: Mat<2, 3> = Mat::from_rows([[1000.0, 1000.0, 1000.0], [-1000.0, -1000.0, -1000.0]]);
    let targets = Mat::from_rows([[0.0, 0.3, 1.0], [0.0, 0.3, 1.0]]);
    let (bce, d) = logits.bce_with_logits_and_backward(&targets, 6.0);
    let expected = (1000.0 + (1000.0 - 300.0) + 0.0 + 0.0 + 300.0 + 1000.0) / 6.0;
    assert!((bce - expected).abs() < 1e-12, "{bce} vs {expected}");
    assert_eq!(d, Mat::from_rows([[1.0, 0.7, 0.0], [0.0, -0.3, -1.0]]));
    // Huge differences: Huber and the cross-entropy are linear there, and stay finite.
    let huge = Mat::from_rows([[1e300, -1e300]]);
    let zero = Mat::<1, 2>::zeros();
    // 2·(1e300 − 0.5·2) for each entry
    assert!((huge.huber(&zero, 2.0) / 2e300 - 1.0).abs() < 1e-15);
    assert!(huge.bce_with_logits(&zero).is_finite());
    assert!(all_finite(&huge.bce_with_logits_backward(&zero, 1.0)));
    // The mean squared error overflows only where its value does.
    assert!((Mat::from_rows([[1e150, -1e150]]).mse(&zero) / 1e300 - 1.0).abs() < 1e-15);
}

#[test]
fn elementwise_losses_are_finite_at_extreme_inputs_in_f32() {
    let a = Mat::from_rows([[1000.0f32, -1000.0], [-1000.0, 1000.0]]);
    let t = Mat::from_rows([[-1000.0f32, 1000.0], [1.0, 0.0]]);
    for (value, d) in [
        a.mse_and_backward(&t, 1.0),
        a.huber_and_backward(&t, 1.0, 1.0),
        a.bce_with_logits_and_backward(&Mat::from_rows([[0.0, 1.0], [0.5, 1.0]]), 1.0),
    ] {
        assert!(value.is_finite() && all_finite(&d), "{value} {d:?}");
    }
    let bce = a.bce_with_logits(&Mat::from_rows([[0.0, 1.0], [0.5, 1.0]]));
    assert_eq!(bce, (1000.0 + 1000.0 + 500.0 + 0.0) / 4.0);
}

/// Rows scaled by `s` against the unscaled rows: the cosine does not change, and its gradient
/// scales by `1/s`.
fn assert_scale_invariant<const C: usize>(a: &Mat<2, C>, b: &Mat<2, C>, s: f64) {
    let (value, d) = a.cosine_rows_and_backward(b, 1.0);
    let (scaled_value, scaled_d) = (a * s).cosine_rows_and_backward(&(b * s), 1.0);
    assert!(
        (scaled_value - value).abs() < 1e-14,
        "× {s}: {scaled_value} vs {value}"
    );
    assert!(all_finite(&scaled_d), "× {s}: {scaled_d:?}");
    assert!(max_rel_diff(&(scaled_d * s), &d) < 1e-12, "× {s}");
}

#[test]
fn cosine_rows_and_row_norms_at_any_magnitude() {
    let a = Mat::from_rows([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]]);
    let b = Mat::from_rows([[0.5, 1.0, 2.0], [-1.0, 1.0, 1.0]]);
    for s in [1e-200, 1e-160, 1e-20, 1000.0, -1000.0, 1e20, 1e160, 1e200] {
        assert_scale_invariant(&a, &b, s);
        let norms = (&a * s).row_norms();
        assert!(
            max_rel_diff(&norms, &(a.row_norms() * s.abs())) < 1e-14,
            "× {s}"
        );
        let g = Mat::from_rows([[1.0], [-2.0]]);
        let d = (&a * s).row_norms_backward(&norms, &g);
        let expected = a.row_norms_backward(&a.row_norms(), &g) * s.signum();
        assert!(max_rel_diff(&d, &expected) < 1e-14, "× {s}");
    }
    // One row tiny and the other huge.
    let (value, d) = (&a * 1e-200).cosine_rows_and_backward(&(&b * 1e200), 1.0);
    assert!((value - a.cosine_rows(&b)).abs() < 1e-14 && all_finite(&d));
    // f32, whose squares underflow below 1e-19 and overflow above 1e19.
    let (a32, b32) = (a.cast::<f32>(), b.cast::<f32>());
    for s in [1e-30f32, 1e-15, 1000.0, 1e15, 1e30] {
        let value = (&a32 * s).cosine_rows(&(&b32 * s));
        assert!(
            (value - a32.cosine_rows(&b32)).abs() < 1e-6,
            "× {s}: {value}"
        );
        assert!(all_finite(
            &(&a32 * s).cosine_rows_backward(&(&b32 * s), 1.0)
        ));
        let norms = (&a32 * s).row_norms();
        let expected = a32.row_norms() * s;
        for i in 0..2 {
            assert!(
                (norms[(i, 0)] / expected[(i, 0)] - 1.0).abs() < 1e-6,
                "× {s}"
            );
        }
    }
}

#[test]
fn zero_rows_have_cosine_0_and_gradient_0() {
    let a = Mat::from_rows([
        [0.0, 0.0, 0.0],
        [1.0, 2.0, 2.0],
        [0.0, 0.0, 0.0],
        [1.0, 0.0, 0.0],
    ]);
    let b = Mat::from_rows([
        [1.0, 1.0, 0.0],
        [0.0, 0.0, 0.0],
        [0.0, 0.0, 0.0],
        [0.0, 3.0, 0.0],
    ]);
    // Rows 0–2 have a zero row: loss 1 each; row 3 is orthogonal: loss 1.
    assert_eq!(a.cosine_rows(&b), 1.0);
    let (da, db) = (
        a.cosine_rows_backward(&b, 1.0),
        b.cosine_rows_backward(&a, 1.0),
    );
    for d in [&da, &db] {
        assert!(all_finite(d), "{d:?}");
        for i in 0..3 {
            assert!(d.as_array().row(i).iter().all(|&v| v == 0.0), "{d:?}");
        }
    }
    // Row 3: d_a = −(1/4)·b₃/(|a₃||b₃|) = [0, −0.25, 0].
    assert_eq!(da.as_array().row(3).to_vec(), [0.0, -0.25, 0.0]);
    let norms = a.row_norms();
    assert_eq!(norms, Mat::from_rows([[0.0], [3.0], [0.0], [1.0]]));
    let d = a.row_norms_backward(&norms, &Mat::full(1.0));
    assert!(all_finite(&d));
    assert_eq!(d.as_array().row(0).to_vec(), [0.0, 0.0, 0.0]);
    assert_eq!(
        d.as_array().row(1).to_vec(),
        [1.0 / 3.0, 2.0 / 3.0, 2.0 / 3.0]
    );
}

#[test]
fn nan_is_never_hidden() {
    let nan_row = Mat::from_rows([[f64::NAN, 0.0], [1.0, 1.0]]);
    let ones = Mat::full(1.0);
    assert!(nan_row.mse(&ones).is_nan());
    assert!(nan_row.huber(&ones, 1.0).is_nan());
    assert!(nan_row.huber_backward(&ones, 1.0, 1.0)[(0, 0)].is_nan());
    assert!(nan_row.bce_with_logits(&ones).is_nan());
    assert!(nan_row.bce_with_logits_backward(&ones, 1.0)[(0, 0)].is_nan());
    assert!(nan_row.cosine_rows(&ones).is_nan());
    assert!(nan_row.row_norms()[(0, 0)].is_nan());
}

#[test]
#[should_panic(expected = "huber: `delta` must be positive, found 0")]
fn huber_needs_a_positive_delta() {
    let _ = Mat::<2, 2>::zeros().huber(&Mat::zeros(), 0.0);
}

// ---- fused and in-place forms ----

/// Checks that the fused form is the value and the gradient exactly, and that the in-place
/// forms are the borrowing ones exactly.
macro_rules! assert_forms_agree {
    ($a:expr, $t:expr, $value:ident, $backward:ident, $into_backward:ident, $and:ident,
     $into_and:ident $(, $extra:expr)?) => {{
        let (a, t) = ($a, $t);
        let value = a.$value(t $(, $extra)?);
        let backward = a.$backward(t $(, $extra)?, D_OUT);
        assert_eq!(a.$and(t $(, $extra)?, D_OUT), (value, backward.clone()), stringify!($and));
        assert_eq!(a.clone().$into_and(t $(, $extra)?, D_OUT), (value, backward.clone()));
        assert_eq!(a.clone().$into_backward(t $(, $extra)?, D_OUT), backward);
    }};
}

fn assert_every_form_agrees<const R: usize, const C: usize>(a: &Mat<R, C>, t: &Mat<R, C>) {
    assert_forms_agree!(
        a,
        t,
        mse,
        mse_backward,
        into_mse_backward,
        mse_and_backward,
        into_mse_and_backward
    );
    assert_forms_agree!(
        a,
        t,
        huber,
        huber_backward,
        into_huber_backward,
        huber_and_backward,
        into_huber_and_backward,
        0.7
    );
    assert_forms_agree!(
        a,
        t,
        bce_with_logits,
        bce_with_logits_backward,
        into_bce_with_logits_backward,
        bce_with_logits_and_backward,
        into_bce_with_logits_and_backward
    );
    assert_forms_agree!(
        a,
        t,
        cosine_rows,
        cosine_rows_backward,
        into_cosine_rows_backward,
        cosine_rows_and_backward,
        into_cosine_rows_and_backward
    );
    let (norms, g) = (a.row_norms(), Mat::<R, 1>::from_fn(|i, _| i as f64 - 0.5));
    assert_eq!(
        a.clone().into_row_norms_backward(&norms, &g),
        a.row_norms_backward(&norms, &g)
    );
}

#[test]
fn fused_and_in_place_forms_equal_the_plain_ones_exactly() {
    let mut rng = Rng::new(106);
    // Values that differ in their last bits, so that a different summation order would show.
    let (a, t): (Mat<7, 9>, Mat<7, 9>) = (rng.mat(-3.0, 3.0), rng.mat(0.0, 1.0));
    assert_every_form_agrees(&a, &t);
    // A column-major receiver (a transposed buffer) against a row-major target, and the
    // reverse.
    let row_major = |m: &Mat<7, 9>| Mat::<9, 7>::from_fn(|i, j| m[(j, i)]);
    assert_every_form_agrees(&a.clone().into_t(), &row_major(&t));
    assert_every_form_agrees(&row_major(&a), &t.clone().into_t());
}

#[test]
fn f32_agrees_with_f64() {
    let (a, t) = inputs(107);
    let (a32, t32) = (a.cast::<f32>(), t.cast::<f32>());
    let (a, t) = (a32.cast::<f64>(), t32.cast::<f64>());
    let close = |x: f32, y: f64| (f64::from(x) - y).abs() <= 1e-5 * y.abs().max(1.0);
    assert!(close(a32.mse(&t32), a.mse(&t)));
    assert!(close(a32.huber(&t32, 0.5), a.huber(&t, 0.5)));
    assert!(close(a32.bce_with_logits(&t32), a.bce_with_logits(&t)));
    assert!(close(a32.cosine_rows(&t32), a.cosine_rows(&t)));
    for (d32, d64) in [
        (a32.mse_backward(&t32, 1.0), a.mse_backward(&t, 1.0)),
        (
            a32.huber_backward(&t32, 0.5, 1.0),
            a.huber_backward(&t, 0.5, 1.0),
        ),
        (
            a32.bce_with_logits_backward(&t32, 1.0),
            a.bce_with_logits_backward(&t, 1.0),
        ),
        (
            a32.cosine_rows_backward(&t32, 1.0),
            a.cosine_rows_backward(&t, 1.0),
        ),
    ] {
        for (x, y) in d32.to_vec().iter().zip(d64.to_vec()) {
            assert!(close(*x, y), "{x} vs {y}");
        }
    }
}
