//! Functions whose value is a matrix (a layer): the backward takes the upstream gradient
//! `d_out: &Mat<R, C>` and returns the vector-Jacobian product for each input.

use crate::common::Rng;
use gradgen::prelude::*;

/// A dense layer with a tanh: [N × D] → [N × H].
#[differentiable]
fn dense<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, H>,
    b: &Mat<1, H>,
) -> Mat<N, H> {
    x.matmul(w).add_row(b).tanh()
}

/// The value is an operand passed straight through a transpose and a sum with a parameter.
#[differentiable]
fn passes_through<const N: usize, const D: usize>(a: &Mat<N, D>, c: &Mat<D, N>) -> Mat<D, N> {
    let t = a.t();
    let s = t + c;
    let m = &s * &s;
    m - s
}

/// ⟨G, f(·)⟩ is a scalar function whose gradient is the vector-Jacobian product for G.
fn vjp_check<const R: usize, const C: usize, const RO: usize, const CO: usize>(
    mut f: impl FnMut(&Mat<R, C>) -> Mat<RO, CO>,
    x: &Mat<R, C>,
    g: &Mat<RO, CO>,
    analytic: &Mat<R, C>,
) -> gradgen::check::Report {
    gradgen::check::gradient(|x: &Mat<R, C>| f(x).inner(g), x, analytic)
}

#[test]
fn dense_layer_backward_is_the_vector_jacobian_product() {
    let mut rng = Rng::new(70);
    let x: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let w: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let b: Mat<1, 4> = rng.mat(-0.5, 0.5);
    let g: Mat<5, 4> = rng.mat(-1.0, 1.0);
    let grads = dense_backward(&x, &w, &b, &g);
    assert_eq!(grads.value, dense(&x, &w, &b));
    for (name, report) in [
        (
            "x",
            vjp_check(|x: &Mat<5, 3>| dense(x, &w, &b), &x, &g, &grads.x),
        ),
        (
            "w",
            vjp_check(|w: &Mat<3, 4>| dense(&x, w, &b), &w, &g, &grads.w),
        ),
        (
            "b",
            vjp_check(|b: &Mat<1, 4>| dense(&x, &w, b), &b, &g, &grads.b),
        ),
    ] {
        assert!(report.passes(1e-6), "{name}: {report}");
    }
    // By hand: d_pre = G ∘ (1 − tanh²), dW = Xᵀ·d_pre.
    let out = dense(&x, &w, &b);
    let d_pre = Mat::<5, 4>::from_fn(|i, j| g[(i, j)] * (1.0 - out[(i, j)] * out[(i, j)]));
    let dw = x.t().matmul(&d_pre);
    assert!(grads
        .w
        .to_vec()
        .iter()
        .zip(dw.to_vec())
        .all(|(a, e)| (a - e).abs() < 1e-12));
    // The generated check uses a fixed, non-uniform upstream gradient.
    let report = dense_gradcheck(&x, &w, &b);
    assert!(report.passes(1e-6), "{report}");
    assert_eq!(report.inputs.len(), 3);
}

#[test]
fn a_borrowed_upstream_gradient_passes_through_every_kind_of_step() {
    let mut rng = Rng::new(71);
    let a: Mat<3, 5> = rng.mat(-1.0, 1.0);
    let c: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let g: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let grads = passes_through_backward(&a, &c, &g);
    assert_eq!(grads.value, passes_through(&a, &c));
    let ra = vjp_check(|a: &Mat<3, 5>| passes_through(a, &c), &a, &g, &grads.a);
    let rc = vjp_check(|c: &Mat<5, 3>| passes_through(&a, c), &c, &g, &grads.c);
    assert!(ra.passes(1e-6) && rc.passes(1e-6), "{ra}\n{rc}");
    // The upstream gradient is only borrowed.
    let _still_mine: &Mat<5, 3> = &g;
    assert!(passes_through_gradcheck(&a, &c).passes(1e-6));
}
