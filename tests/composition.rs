//! Differentiable functions calling differentiable functions: a network written as calls to
//! its layers has the gradients of the same network written inline.

use crate::common::Rng;
use gradgen::prelude::*;

mod layers {
    use gradgen::prelude::*;

    /// `x · W + b`.
    #[differentiable]
    pub fn linear<const N: usize, const D: usize, const H: usize>(
        x: &Mat<N, D>,
        w: &Mat<D, H>,
        b: &Mat<1, H>,
    ) -> Mat<N, H> {
        x.matmul(w).add_row(b)
    }

    /// max(x, 0).
    #[differentiable]
    pub fn relu<const N: usize, const H: usize>(x: &Mat<N, H>) -> Mat<N, H> {
        x.relu()
    }
}

use layers::{linear, linear_backward, relu, relu_backward};

/// The mean cross-entropy of logits: a scalar-valued callee.
#[differentiable]
fn loss<const N: usize, const C: usize>(scores: &Mat<N, C>, y: &Labels<N, C>) -> f64 {
    scores.cross_entropy(y)
}

/// Three layers as calls: two by name (imported), one by path.
#[differentiable(wrt(w1, b1, w2, b2, w3, b3))]
#[allow(clippy::too_many_arguments)]
fn net_of_calls<const N: usize, const D: usize, const H: usize, const K: usize, const C: usize>(
    x: &Mat<N, D>,
    w1: &Mat<D, H>,
    b1: &Mat<1, H>,
    w2: &Mat<H, K>,
    b2: &Mat<1, K>,
    w3: &Mat<K, C>,
    b3: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let z1: Mat<N, H> = linear(x, w1, b1);
    let h1: Mat<N, H> = relu(&z1);
    let z2: Mat<N, K> = layers::linear(&h1, w2, b2);
    let h2: Mat<N, K> = relu(&z2);
    let scores: Mat<N, C> = linear(&h2, w3, b3);
    loss(&scores, y)
}

/// The same network, inline.
#[differentiable(wrt(w1, b1, w2, b2, w3, b3))]
#[allow(clippy::too_many_arguments)]
fn net_inline<const N: usize, const D: usize, const H: usize, const K: usize, const C: usize>(
    x: &Mat<N, D>,
    w1: &Mat<D, H>,
    b1: &Mat<1, H>,
    w2: &Mat<H, K>,
    b2: &Mat<1, K>,
    w3: &Mat<K, C>,
    b3: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let h1 = x.matmul(w1).add_row(b1).relu();
    let h2 = h1.matmul(w2).add_row(b2).relu();
    h2.matmul(w3).add_row(b3).cross_entropy(y)
}

fn max_diff<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> f64 {
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

#[test]
fn a_network_of_calls_has_the_gradients_of_the_inline_network() {
    let mut rng = Rng::new(80);
    let x: Mat<6, 4> = rng.mat(-1.0, 1.0);
    let (w1, b1): (Mat<4, 5>, Mat<1, 5>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (w2, b2): (Mat<5, 3>, Mat<1, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (w3, b3): (Mat<3, 2>, Mat<1, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y: Labels<6, 2> = rng.labels();
    let calls = net_of_calls_backward(&x, &w1, &b1, &w2, &b2, &w3, &b3, &y, 1.0);
    let inline = net_inline_backward(&x, &w1, &b1, &w2, &b2, &w3, &b3, &y, 1.0);
    assert!((calls.value - inline.value).abs() < 1e-12);
    let diffs = [
        max_diff(&calls.w1, &inline.w1),
        max_diff(&calls.b1, &inline.b1),
        max_diff(&calls.w2, &inline.w2),
        max_diff(&calls.b2, &inline.b2),
        max_diff(&calls.w3, &inline.w3),
        max_diff(&calls.b3, &inline.b3),
    ];
    assert!(diffs.iter().all(|d| *d < 1e-12), "{diffs:?}");
    assert_eq!(
        inline.value,
        net_inline(&x, &w1, &b1, &w2, &b2, &w3, &b3, &y)
    );
    // And both agree with finite differences.
    let check = net_of_calls_gradcheck(&x, &w1, &b1, &w2, &b2, &w3, &b3, &y);
    assert!(check.passes(1e-6), "{check}");
    // The derivation names the callee whose backward a gradient comes from.
    let d = NetOfCallsGrads::<4, 5, 3, 2>::DERIVATION;
    assert!(d.contains("z2 = layers::linear(h1, w2, b2)"), "{d}");
    assert!(d.contains("layers::linear's backward"), "{d}");
}

#[test]
fn a_layer_returns_its_gradients_in_parameter_order() {
    let mut rng = Rng::new(81);
    let x: Mat<3, 2> = rng.mat(-1.0, 1.0);
    let (w, b): (Mat<2, 4>, Mat<1, 4>) = (rng.mat(-1.0, 1.0), rng.mat(-1.0, 1.0));
    let g: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let grads = linear_backward(&x, &w, &b, &g);
    let (dx, dw, db) = grads.clone().into_inputs();
    assert_eq!((dx, dw, db), (grads.x, grads.w, grads.b));
    let h: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let (dh,): (Mat<3, 4>,) = relu_backward(&h, &g).into_inputs();
    assert_eq!(dh, h.relu().relu_backward(g.clone()));
    // A constant's place holds `()`.
    let y: Labels<3, 4> = rng.labels();
    let (d_scores, ()): (Mat<3, 4>, ()) = loss_backward(&h, &y, 1.0).into_inputs();
    assert!(max_diff(&d_scores, &h.cross_entropy_backward(&y, 1.0)) < 1e-15);
}
