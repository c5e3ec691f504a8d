//! The generated structs are named sets of matrices (`gradgen::Tensors`): the gradients of a
//! function and of a model, a function's `<Name>Params`, and a model's weights, each visited in
//! declaration order under its own names, with `zeros()` and `Default` for gradients.

use gradgen::prelude::*;
use gradgen::{Params, Tensors};

#[differentiable(wrt(w, b))]
fn affine_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D, f32>,
    w: &Mat<D, C, f32>,
    b: &Mat<1, C, f32>,
) -> f32 {
    x.matmul(w).add_row(b).square().sum()
}

#[model]
struct Tiny<const D: usize, const C: usize> {
    w: Mat<D, C>,
    b: Mat<1, C>,
    name: &'static str,
}

/// `(name, rows, cols, sum)` of every matrix, in visiting order.
fn listing<S: Tensors>(set: &S) -> Vec<(&'static str, usize, usize, f64)> {
    let mut out = Vec::new();
    set.for_each(&mut |name, view| {
        let sum = view.iter().map(|v| gradgen::Scalar::to_f64(*v)).sum();
        out.push((name, view.nrows(), view.ncols(), sum));
    });
    out
}

fn grads_type_of<P: Params>(_: &P) -> std::marker::PhantomData<P::Grads> {
    std::marker::PhantomData
}

#[test]
fn a_functions_grads_and_params_are_its_differentiable_inputs_in_order() {
    let x = Mat::<4, 3, f32>::from_fn(|i, j| (i + j) as f32 / 4.0);
    let mut params = AffineLossParams {
        w: Mat::full(0.5),
        b: Mat::full(-1.0),
    };
    let grads = affine_loss_backward(&x, &params.w, &params.b, 1.0);
    assert!((grads.value - affine_loss(&x, &params.w, &params.b)).abs() < 1e-3);
    let listed = listing(&grads);
    assert_eq!(
        listed
            .iter()
            .map(|&(n, r, c, _)| (n, r, c))
            .collect::<Vec<_>>(),
        [("w", 3, 2), ("b", 1, 2)]
    );
    assert!((listed[1].3 - f64::from(grads.b.sum())).abs() < 1e-6);
    assert_eq!(
        listing(&params)
            .iter()
            .map(|&(n, ..)| n)
            .collect::<Vec<_>>(),
        ["w", "b"]
    );
    let _: std::marker::PhantomData<AffineLossGrads<4, 3, 2>> = grads_type_of(&params);
    params.for_each_mut(&mut |_, mut view| view.fill(2.0));
    assert_eq!(params.w, Mat::full(2.0));
    assert_eq!(params.b, Mat::full(2.0));
    let zero = AffineLossGrads::<4, 3, 2>::default();
    assert_eq!((zero.value, zero.w.sum(), zero.b.sum()), (0.0, 0.0, 0.0));
}

#[test]
fn a_models_weights_and_grads_are_its_matrix_fields_in_order() {
    let mut model = Tiny::<3, 2> {
        w: Mat::full(1.0),
        b: Mat::full(2.0),
        name: "tiny",
    };
    assert_eq!(
        listing(&model),
        [("w", 3, 2, 6.0), ("b", 1, 2, 4.0)],
        "{}",
        model.name
    );
    let _: std::marker::PhantomData<TinyGrads<3, 2>> = grads_type_of(&model);
    let zero = TinyGrads::<3, 2>::zeros();
    assert_eq!(listing(&zero), [("w", 3, 2, 0.0), ("b", 1, 2, 0.0)]);
    model.for_each_mut(&mut |name, mut view| {
        if name == "b" {
            view.fill(0.0);
        }
    });
    assert_eq!(model.b, Mat::zeros());
}
