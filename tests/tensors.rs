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
fn listing<S: Tensors>(set: &S) -> Vec<(String, usize, usize, f64)> {
    let mut out = Vec::new();
    set.for_each(&mut |name, view| {
        let sum = view.iter().map(|v| gradgen::Scalar::to_f64(*v)).sum();
        out.push((name.to_owned(), view.nrows(), view.ncols(), sum));
    });
    out
}

fn named(list: &[(&str, usize, usize, f64)]) -> Vec<(String, usize, usize, f64)> {
    list.iter()
        .map(|&(n, r, c, s)| (n.to_owned(), r, c, s))
        .collect()
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
            .map(|(n, r, c, _)| (n.as_str(), *r, *c))
            .collect::<Vec<_>>(),
        [("w", 3, 2), ("b", 1, 2)]
    );
    assert!((listed[1].3 - f64::from(grads.b.sum())).abs() < 1e-6);
    assert_eq!(
        listing(&params)
            .iter()
            .map(|(n, ..)| n.as_str())
            .collect::<Vec<_>>(),
        ["w", "b"]
    );
    let _: std::marker::PhantomData<AffineLossGrads<3, 2>> = grads_type_of(&params);
    params.for_each_mut(&mut |_, mut view| view.fill(2.0));
    assert_eq!(params.w, Mat::full(2.0));
    assert_eq!(params.b, Mat::full(2.0));
    let zero = AffineLossGrads::<3, 2>::default();
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
        named(&[("w", 3, 2, 6.0), ("b", 1, 2, 4.0)]),
        "{}",
        model.name
    );
    let _: std::marker::PhantomData<TinyGrads<3, 2>> = grads_type_of(&model);
    let zero = TinyGrads::<3, 2>::zeros();
    assert_eq!(listing(&zero), named(&[("w", 3, 2, 0.0), ("b", 1, 2, 0.0)]));
    model.for_each_mut(&mut |name, mut view| {
        if name == "b" {
            view.fill(0.0);
        }
    });
    assert_eq!(model.b, Mat::zeros());
}

#[test]
fn gradients_scale_accumulate_and_clip_as_one_vector() {
    let x = Mat::<4, 3, f32>::from_fn(|i, j| (i as f32 - j as f32) / 3.0);
    let params: AffineLossParams<3, 2> = AffineLossParams {
        w: Mat::from_fn(|i, j| 0.1 * (i + j) as f32),
        b: Mat::full(-0.2),
    };
    let one = affine_loss_backward(&x, &params.w, &params.b, 1.0);
    let flat = |g: &AffineLossGrads<3, 2>| -> Vec<f32> {
        g.w.to_vec().into_iter().chain(g.b.to_vec()).collect()
    };
    let norm = flat(&one).iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((one.global_norm() - norm).abs() < 1e-5 * norm);
    assert_eq!(one.entry_count(), 8);
    assert_eq!(
        one.layout(),
        [("w".to_owned(), (3, 2)), ("b".to_owned(), (1, 2))]
    );

    // Accumulating three shards is three times one, and scaling by 1/3 is the mean again.
    let mut total = AffineLossGrads::<3, 2>::zeros();
    for _ in 0..3 {
        total.accumulate(&one);
    }
    let tripled: Vec<f32> = flat(&one).iter().map(|v| 3.0 * v).collect();
    assert!(flat(&total)
        .iter()
        .zip(&tripled)
        .all(|(a, b)| (a - b).abs() < 1e-5));
    total.scale(1.0 / 3.0);
    total.add_scaled(&one, -1.0);
    assert!(total.global_norm() < 1e-5);

    // Clipping: above the bound the direction is kept and the norm becomes the bound (less
    // PyTorch's 1e-6); below it nothing changes.
    let mut clipped = one.clone();
    let before = clipped.clip_norm(norm / 2.0);
    assert_eq!(before, one.global_norm());
    assert!((clipped.global_norm() - norm / 2.0).abs() < 1e-4);
    let ratio: Vec<f32> = flat(&clipped)
        .iter()
        .zip(flat(&one))
        .filter(|(_, o)| o.abs() > 1e-6)
        .map(|(c, o)| c / o)
        .collect();
    assert!(ratio.len() >= 6, "most entries are not zero");
    assert!(ratio.iter().all(|r| (r - 0.5).abs() < 1e-4), "{ratio:?}");
    let mut unclipped = one.clone();
    unclipped.clip_norm(norm * 2.0);
    assert_eq!(flat(&unclipped), flat(&one));

    assert!(one.is_finite());
    let mut bad = one.clone();
    bad.b[(0, 1)] = f32::NAN;
    assert!(!bad.is_finite());
    bad.fill(0.0);
    assert_eq!(bad.global_norm(), 0.0);
}
