//! `if`/`else` on constants: both branches shape-checked, the backward following the branch the
//! forward took, values from outside the `if` receiving contributions from inside it.

use crate::common::Rng;
use gradgen::prelude::*;

/// Dropout: in training, a constant mask (kept entries scaled by 1/keep); in evaluation, the
/// identity. The gradient follows the branch.
#[differentiable(wrt(x, w))]
fn dropout_layer<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, H>,
    mask: &Mat<N, H>,
    keep: f64,
    train: bool,
) -> f64 {
    let h = x.matmul(w).tanh();
    let dropped = if train { h * mask / keep } else { h.clone() };
    dropped.square().sum()
}

#[test]
fn dropout_follows_the_branch_the_forward_took() {
    let mut rng = Rng::new(90);
    let x: Mat<4, 3> = rng.mat(-1.0, 1.0);
    let w: Mat<3, 5> = rng.mat(-1.0, 1.0);
    let mask = Mat::<4, 5>::from_fn(|i, j| if (i + 2 * j) % 3 == 0 { 0.0 } else { 1.0 });
    for train in [true, false] {
        let check = dropout_layer_gradcheck(&x, &w, &mask, 0.5, train);
        assert!(check.passes(1e-6), "train = {train}: {check}");
    }
    let h = x.matmul(&w).tanh();
    let train = dropout_layer_backward(&x, &w, &mask, 0.5, true, 1.0);
    let eval = dropout_layer_backward(&x, &w, &mask, 0.5, false, 1.0);
    assert!((train.value - (&h * &mask / 0.5).square().sum()).abs() < 1e-12);
    assert!((eval.value - h.square().sum()).abs() < 1e-12);
    assert_ne!(train.w, eval.w);
}

/// A `let mut` assigned in a branch, an `else if` chain, a condition comparing constants, and a
/// value from outside used in both branches.
#[differentiable(wrt(x))]
fn chosen_activation<const N: usize, const D: usize>(
    x: &Mat<N, D>,
    kind: usize,
    scale: f64,
) -> f64 {
    let mut h = x * 2.0;
    if kind == 0 {
        h = h.tanh();
    } else if kind == 1 && scale > 0.5 {
        h = h.sigmoid() * x;
    } else {
        h = h.relu() + x.exp();
    }
    let total = h.sum() * scale;
    total + x.mean()
}

#[test]
fn every_branch_of_an_else_if_chain_is_differentiated() {
    let mut rng = Rng::new(91);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    for (kind, scale) in [(0, 1.0), (1, 0.75), (1, 0.25), (2, 1.5)] {
        let check = chosen_activation_gradcheck(&x, kind, scale);
        assert!(check.passes(1e-6), "kind {kind}, scale {scale}: {check}");
        let grads = chosen_activation_backward(&x, kind, scale, 1.0);
        assert_eq!(grads.value, chosen_activation(&x, kind, scale));
    }
}

/// Tuple `let`s bind every name at once, as Rust does: the second one swaps.
#[differentiable]
fn swapped<const N: usize, const D: usize>(x: &Mat<N, D>, y: &Mat<N, D>) -> f64 {
    let (a, b) = (x.exp(), y.square());
    let (a, b) = (b, a);
    (a * 2.0).sum() + b.sum()
}

#[test]
fn a_tuple_let_computes_every_value_before_binding_any_name() {
    let mut rng = Rng::new(92);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let y: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let grads = swapped_backward(&x, &y, 1.0);
    let expected = 2.0 * y.square().sum() + x.exp().sum();
    assert!((grads.value - expected).abs() < 1e-12);
    // d/dx = exp(x) (b is x.exp() after the swap); d/dy = 2·2y (a is y² after the swap).
    for ((g, x), (h, y)) in grads
        .x
        .to_vec()
        .iter()
        .zip(x.to_vec())
        .zip(grads.y.to_vec().iter().zip(y.to_vec()))
    {
        assert!(
            (g - x.exp()).abs() < 1e-12 && (h - 4.0 * y).abs() < 1e-12,
            "{g} {h}"
        );
    }
    assert!(swapped_gradcheck(&x, &y).passes(1e-6));
}
