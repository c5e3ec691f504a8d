//! Hand-written derivatives: `#[differentiable(custom_backward = path)]` names the backward of a
//! function whose body gradgen does not differentiate, and differentiable functions that call
//! it use that backward.

use crate::common::Rng;
use gradgen::prelude::*;

/// `log Σⱼ exp(xᵢⱼ)` of each row, computed stably; its derivative is written by hand.
#[differentiable(custom_backward = log_sum_exp_vjp)]
fn log_sum_exp<const N: usize, const C: usize>(x: &Mat<N, C>) -> Mat<N, 1> {
    // Any Rust: the body is not differentiated.
    Mat::from_fn(|i, _| {
        let m = (0..C).map(|j| x[(i, j)]).fold(f64::NEG_INFINITY, f64::max);
        m + (0..C).map(|j| (x[(i, j)] - m).exp()).sum::<f64>().ln()
    })
}

/// The stable backward: the softmax of each row, scaled by the row's upstream gradient.
fn log_sum_exp_vjp<const N: usize, const C: usize>(
    x: &Mat<N, C>,
    d_out: &Mat<N, 1>,
) -> LogSumExpGrads<N, C> {
    LogSumExpGrads {
        value: log_sum_exp(x),
        x: x.softmax_rows().mul_col(d_out),
    }
}

#[differentiable]
fn total_with_custom<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    let l: Mat<N, 1> = log_sum_exp(x);
    l.mean()
}

/// The same function written with the ops: exp overflows for large logits.
#[differentiable]
fn total_naive<const N: usize, const C: usize>(x: &Mat<N, C>) -> f64 {
    x.exp().row_sums().ln().mean()
}

#[test]
fn the_custom_backward_is_used_and_agrees_where_the_naive_one_works() {
    let mut rng = Rng::new(90);
    let x: Mat<4, 5> = rng.mat(-2.0, 2.0);
    let custom = total_with_custom_backward(&x, 1.0);
    let naive = total_naive_backward(&x, 1.0);
    assert!((custom.value - naive.value).abs() < 1e-12);
    assert_eq!(naive.value, total_naive(&x));
    assert!(custom
        .x
        .to_vec()
        .iter()
        .zip(naive.x.to_vec())
        .all(|(a, b)| (a - b).abs() < 1e-12));
    // The hand-written derivative itself passes finite differences.
    let check = log_sum_exp_gradcheck(&x);
    assert!(check.passes(1e-6), "{check}");
    let x = &x;
    assert_gradients!(
        total_with_custom(x),
        total_with_custom_backward(x, 1.0),
        wrt[x],
        1e-6
    );
}

#[test]
fn the_custom_backward_stays_finite_where_the_naive_one_overflows() {
    let x = Mat::<2, 3>::from_rows([[1000.0, 999.0, -1000.0], [-1000.0, 1000.0, 1000.0]]);
    let naive = total_naive_backward(&x, 1.0);
    assert!(
        naive.value.is_infinite(),
        "exp(1000) overflows: {}",
        naive.value
    );
    assert!(naive.x.to_vec().iter().any(|v| v.is_nan()));
    let custom = total_with_custom_backward(&x, 1.0);
    assert!(custom.value.is_finite());
    assert!(custom.x.to_vec().iter().all(|v| v.is_finite()));
    // Row 1: softmax(0, 1000, 1000) / 2 rows = (0, 1/4, 1/4).
    assert!((custom.x[(1, 1)] - 0.25).abs() < 1e-12 && custom.x[(1, 0)].abs() < 1e-12);
    assert!(LogSumExpGrads::<2, 3>::DERIVATION.contains("written by hand: `log_sum_exp_vjp`"));
}
