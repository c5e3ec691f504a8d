//! A padded batch is its real rows: the loss and every gradient of a batch padded with ignored
//! rows equal those of its real rows computed at their own size, and every op that takes
//! labels honours the ignored rows.

use gradgen::data::Dataset;
use gradgen::prelude::*;

use crate::common::Rng;

/// A ReLU layer and a softmax loss: the padded rows go through every op of a real network.
#[differentiable(wrt(w1, b1, w2, b2))]
fn net_loss<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D>,
    w1: &Mat<D, H>,
    b1: &Mat<1, H>,
    w2: &Mat<H, C>,
    b2: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let hidden = x.matmul(w1).add_row(b1).relu();
    hidden.matmul(w2).add_row(b2).cross_entropy(y)
}

/// The same loss written with `pick` and a mean over the labelled rows, as in the softmax
/// example: the padding rows must take no part either.
#[differentiable(wrt(w, b))]
fn picked_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let score = x.matmul(w).add_row(b);
    let correct = score.pick(y);
    let rowsum = score.exp().row_sums();
    (rowsum.ln() - correct).labelled_mean(y)
}

#[test]
fn a_pick_based_loss_averaged_over_labelled_rows_ignores_padding() {
    let mut rng = Rng::new(152);
    let features: Mat<13, 4> = rng.mat(-1.0, 1.0);
    let labels: Labels<13, 3> = rng.labels();
    let data = Dataset::<4, 3>::from_vec(features.to_vec(), labels.to_classes().unwrap()).unwrap();
    let (w, b): (Mat<4, 3>, Mat<1, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (padded_x, padded_y) = data.batches::<8>().nth(1).expect("a second batch");
    let padded = picked_loss_backward(&padded_x, &w, &b, &padded_y, 1.0);
    assert_eq!(padded.value, picked_loss(&padded_x, &w, &b, &padded_y));
    let real_x = Mat::<5, 4>::from_fn(|i, j| features[(8 + i, j)]);
    let real_y = Labels::<5, 3>::new((8..13).map(|i| labels[i]).collect()).unwrap();
    let real = picked_loss_backward(&real_x, &w, &b, &real_y, 1.0);
    // The same function written with cross_entropy: the same value.
    assert!((real.value - real_x.matmul(&w).add_row(&b).cross_entropy(&real_y)).abs() < 1e-12);
    assert!(
        (padded.value - real.value).abs() < 1e-12,
        "{} vs {}",
        padded.value,
        real.value
    );
    let diffs = [max_diff(&padded.w, &real.w), max_diff(&padded.b, &real.b)];
    assert!(diffs.iter().all(|d| *d < 1e-12), "{diffs:?}");
    assert!(real.w.as_array().iter().any(|v| v.abs() > 1e-3));
    assert!(picked_loss_gradcheck(&padded_x, &w, &b, &padded_y).passes(1e-6));
}

fn max_diff<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>) -> f64 {
    a.to_vec()
        .iter()
        .zip(b.to_vec())
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

#[test]
fn a_padded_batch_has_the_loss_and_gradients_of_its_real_rows() {
    let mut rng = Rng::new(150);
    // 13 rows: batches of 8 are one full batch and one of 5 real rows and 3 padding rows.
    let features: Mat<13, 4> = rng.mat(-1.0, 1.0);
    let labels: Labels<13, 3> = rng.labels();
    let data = Dataset::<4, 3>::from_vec(features.to_vec(), labels.to_classes().unwrap()).unwrap();
    let (w1, b1): (Mat<4, 6>, Mat<1, 6>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let (w2, b2): (Mat<6, 3>, Mat<1, 3>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));

    let (padded_x, padded_y) = data.batches::<8>().nth(1).expect("a second batch");
    assert_eq!(padded_y.labelled(), 5);
    let padded = net_loss_backward(&padded_x, &w1, &b1, &w2, &b2, &padded_y, 1.0);
    assert_eq!(
        padded.value,
        net_loss(&padded_x, &w1, &b1, &w2, &b2, &padded_y)
    );

    let real_x = Mat::<5, 4>::from_fn(|i, j| features[(8 + i, j)]);
    let real_y = Labels::<5, 3>::new((8..13).map(|i| labels[i]).collect()).unwrap();
    let real = net_loss_backward(&real_x, &w1, &b1, &w2, &b2, &real_y, 1.0);

    assert!(
        (padded.value - real.value).abs() < 1e-12,
        "{} vs {}",
        padded.value,
        real.value
    );
    let diffs = [
        max_diff(&padded.w1, &real.w1),
        max_diff(&padded.b1, &real.b1),
        max_diff(&padded.w2, &real.w2),
        max_diff(&padded.b2, &real.b2),
    ];
    assert!(diffs.iter().all(|d| *d < 1e-12), "{diffs:?}");
    // Not a vacuous comparison: the gradients are not zero.
    assert!(real.w1.as_array().iter().any(|v| v.abs() > 1e-3));
}

#[test]
fn the_cross_entropy_variants_agree_and_ignore_padding() {
    let mut rng = Rng::new(151);
    let logits: Mat<4, 3> = rng.mat(-2.0, 2.0);
    let y = Labels::<4, 3>::with_ignored(vec![Some(2), None, Some(0), None]).unwrap();
    let real = Mat::<2, 3>::from_fn(|i, j| logits[(2 * i, j)]);
    let real_y = Labels::<2, 3>::new(vec![2, 0]).unwrap();

    let value = logits.cross_entropy(&y);
    assert!((value - real.cross_entropy(&real_y)).abs() < 1e-15);
    let d = logits.cross_entropy_backward(&y, 0.7);
    let d_real = real.cross_entropy_backward(&real_y, 0.7);
    let (v2, d2) = logits.cross_entropy_and_backward(&y, 0.7);
    let (v3, d3) = logits.clone().into_cross_entropy_and_backward(&y, 0.7);
    let d4 = logits.clone().into_cross_entropy_backward(&y, 0.7);
    assert_eq!((v2, v3), (value, value));
    assert_eq!((&d2, &d3, &d4), (&d, &d, &d));
    for (i, row) in [0, 2].into_iter().enumerate() {
        for j in 0..3 {
            assert!((d[(row, j)] - d_real[(i, j)]).abs() < 1e-15);
        }
    }
    for j in 0..3 {
        assert_eq!(
            (d[(1, j)], d[(3, j)]),
            (0.0, 0.0),
            "ignored rows get no gradient"
        );
    }
}

#[test]
fn a_batch_with_no_labelled_row_has_zero_loss_and_zero_gradient() {
    let logits = Mat::<3, 2>::from_rows([[1.0, -1.0], [0.5, 2.0], [3.0, 0.0]]);
    let none = Labels::<3, 2>::with_ignored(vec![None; 3]).unwrap();
    assert_eq!(logits.cross_entropy(&none), 0.0);
    let (value, d) = logits.cross_entropy_and_backward(&none, 1.0);
    assert_eq!(value, 0.0);
    assert_eq!(d, Mat::zeros());
    let picked = logits.pick(&none);
    assert_eq!(picked, Mat::zeros());
    assert_eq!(picked.labelled_mean(&none), 0.0);
    assert_eq!(
        Mat::<3, 1>::labelled_mean_backward(&none, 1.0),
        Mat::zeros()
    );
}

/// The loss of a `pick`-based softmax written by hand, averaged with `labelled_mean`, and its
/// gradient by the chain rule through the runtime ops: what the generated code of such a loss
/// does once the macro knows `labelled_mean`.
fn pick_loss<const N: usize>(scores: &Mat<N, 3>, y: &Labels<N, 3>) -> (f64, Mat<N, 3>) {
    let correct = scores.pick(y);
    let e = scores.exp();
    let rowsum = e.row_sums();
    let diff = rowsum.ln() - &correct;
    let value = diff.labelled_mean(y);
    let d_diff = Mat::<N, 1>::labelled_mean_backward(y, 1.0);
    let d_rowsum = &d_diff / &rowsum;
    let mut d_scores = e.mul_col(&d_rowsum);
    d_scores.scatter_add(y, &(-&d_diff));
    (value, d_scores)
}

#[test]
fn pick_and_labelled_mean_make_a_padded_batch_its_real_rows() {
    let mut rng = Rng::new(152);
    let scores: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let y = Labels::<5, 3>::with_ignored(vec![Some(1), Some(2), None, Some(0), None]).unwrap();
    let (value, d) = pick_loss(&scores, &y);
    let real = Mat::<3, 3>::from_fn(|i, j| scores[([0, 1, 3][i], j)]);
    let real_y = Labels::<3, 3>::new(vec![1, 2, 0]).unwrap();
    let (real_value, d_real) = pick_loss(&real, &real_y);
    assert!((value - real_value).abs() < 1e-12);
    assert!((real_value - real.cross_entropy(&real_y)).abs() < 1e-12);
    for (i, row) in [0, 1, 3].into_iter().enumerate() {
        for j in 0..3 {
            assert!((d[(row, j)] - d_real[(i, j)]).abs() < 1e-12);
        }
    }
    assert!((0..3).all(|j| d[(2, j)] == 0.0 && d[(4, j)] == 0.0));
    // On a fully labelled batch, `labelled_mean` is `mean`.
    let column = real.pick(&real_y);
    assert_eq!(column.labelled_mean(&real_y), column.mean());
}

#[test]
fn labelled_mean_matches_finite_differences() {
    let mut rng = Rng::new(153);
    let a: Mat<4, 1> = rng.mat(-1.0, 1.0);
    let y = Labels::<4, 2>::with_ignored(vec![None, Some(1), Some(0), None]).unwrap();
    let analytic = Mat::<4, 1>::labelled_mean_backward(&y, 1.0);
    let report = gradgen::check::gradient(|a: &Mat<4, 1>| a.labelled_mean(&y), &a, &analytic);
    assert!(report.passes(1e-8), "{report}");
    assert_eq!(analytic, Mat::from_rows([[0.0], [0.5], [0.5], [0.0]]));
}
