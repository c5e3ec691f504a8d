//! The softmax loss of the design document: the generated backward against the hand-derived
//! gradient, on several non-square sizes, in f64 and f32.

use crate::common::Rng;
use gradgen::prelude::*;

#[differentiable]
pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let h = x.matmul(w); // [N x C]
    let score = h.add_row(b); // [N x C], b broadcast over rows
    let correct = score.pick(y); // [N x 1], score[i, y_i]
    let rowsum = score.exp().row_sums(); // [N x 1]
    (rowsum.ln() - correct).mean() // scalar
}

/// The gradient derived by hand: P = softmax(score), dScore = (P − onehot) / N,
/// dW = Xᵀ·dScore, db = column sums of dScore, dX = dScore·Wᵀ. Written with plain loops on
/// ndarray, sharing no code with gradgen's ops.
struct Hand {
    loss: f64,
    dx: gradgen::ndarray::Array2<f64>,
    dw: gradgen::ndarray::Array2<f64>,
    db: gradgen::ndarray::Array2<f64>,
}

fn hand_derived<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> Hand {
    let (x, w, b) = (x.as_array(), w.as_array(), b.as_array());
    let mut score = gradgen::ndarray::Array2::<f64>::zeros((N, C));
    for i in 0..N {
        for j in 0..C {
            score[(i, j)] = b[(0, j)] + (0..D).map(|k| x[(i, k)] * w[(k, j)]).sum::<f64>();
        }
    }
    let mut loss = 0.0;
    let mut dscore = gradgen::ndarray::Array2::<f64>::zeros((N, C));
    for i in 0..N {
        let z: f64 = (0..C).map(|j| score[(i, j)].exp()).sum();
        loss += z.ln() - score[(i, y[i])];
        for j in 0..C {
            let p = score[(i, j)].exp() / z;
            let onehot = if j == y[i] { 1.0 } else { 0.0 };
            dscore[(i, j)] = (p - onehot) / N as f64;
        }
    }
    let dw = x.t().dot(&dscore);
    let dx = dscore.dot(&w.t());
    let db = dscore
        .sum_axis(gradgen::ndarray::Axis(0))
        .insert_axis(gradgen::ndarray::Axis(0));
    Hand {
        loss: loss / N as f64,
        dx,
        dw,
        db,
    }
}

fn max_abs_diff(a: &gradgen::ndarray::Array2<f64>, b: &gradgen::ndarray::Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter()
        .zip(b)
        .map(|(p, q)| (p - q).abs())
        .fold(0.0, f64::max)
}

fn matches_hand_derived<const N: usize, const D: usize, const C: usize>(seed: u64) {
    let mut rng = Rng::new(seed);
    let x: Mat<N, D> = rng.mat(-2.0, 2.0);
    let w: Mat<D, C> = rng.mat(-1.0, 1.0);
    let b: Mat<1, C> = rng.mat(-0.5, 0.5);
    let y: Labels<N, C> = rng.labels();

    let grads = softmax_loss_backward(&x, &w, &b, &y, 1.0);
    let hand = hand_derived(&x, &w, &b, &y);
    assert!(
        (grads.value - hand.loss).abs() < 1e-10,
        "loss {} vs {}",
        grads.value,
        hand.loss
    );
    assert_eq!(grads.value, softmax_loss(&x, &w, &b, &y));
    // Gradient entries are of order 1/N; 1e-10 would catch any wrong factor or transpose.
    assert!(max_abs_diff(grads.x.as_array(), &hand.dx) < 1e-10, "dX");
    assert!(max_abs_diff(grads.w.as_array(), &hand.dw) < 1e-10, "dW");
    assert!(max_abs_diff(grads.b.as_array(), &hand.db) < 1e-10, "db");
    let scale = hand.dw.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        scale > 1e-3,
        "the test inputs give a non-trivial gradient ({scale})"
    );
}

#[test]
fn generated_gradient_equals_hand_derived_3x5x2() {
    matches_hand_derived::<3, 5, 2>(1);
}

#[test]
fn generated_gradient_equals_hand_derived_7x4x3() {
    matches_hand_derived::<7, 4, 3>(2);
}

#[test]
fn generated_gradient_equals_hand_derived_16x9x5() {
    matches_hand_derived::<16, 9, 5>(3);
}

#[test]
fn d_out_scales_every_gradient() {
    let mut rng = Rng::new(4);
    let x: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let w: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let b: Mat<1, 4> = rng.mat(-1.0, 1.0);
    let y: Labels<5, 4> = rng.labels();
    let one = softmax_loss_backward(&x, &w, &b, &y, 1.0);
    let scaled = softmax_loss_backward(&x, &w, &b, &y, -2.5);
    assert_eq!(one.value, scaled.value);
    for (a, s) in [
        (one.x.to_vec(), scaled.x.to_vec()),
        (one.w.to_vec(), scaled.w.to_vec()),
    ] {
        for (a, s) in a.iter().zip(&s) {
            assert!((s - -2.5 * a).abs() < 1e-14);
        }
    }
}

#[test]
fn softmax_gradients_pass_finite_differences() {
    let mut rng = Rng::new(5);
    let x: Mat<6, 4> = rng.mat(-2.0, 2.0);
    let w: Mat<4, 3> = rng.mat(-1.0, 1.0);
    let b: Mat<1, 3> = rng.mat(-1.0, 1.0);
    let y: Labels<6, 3> = rng.labels();
    let (x, w, b, y) = (&x, &w, &b, &y);
    assert_gradients!(
        softmax_loss(x, w, b, y),
        softmax_loss_backward(x, w, b, y, 1.0),
        wrt [x, w, b],
        1e-6
    );
}

#[test]
fn the_derivation_is_shown_and_available_at_run_time() {
    let d = SoftmaxLossGrads::<4, 3, 2>::DERIVATION;
    // The forward bindings with their shapes, in the user's names and symbols.
    assert!(d.contains("  h = x · w "), "{d}");
    assert!(d.contains("[N × C]"), "{d}");
    // Each contribution in reverse order, with the shapes of a product's factors.
    let dx = d.find("d_x = d_h · wᵀ   [N × C]·[C × D]").expect("d_x");
    let dw = d.find("d_w = xᵀ · d_h   [D × N]·[N × C]").expect("d_w");
    let dscore = d.find("d_score = ").expect("d_score");
    assert!(dscore < dx && dx < dw, "{d}");
    // The value used twice is named as such.
    assert!(
        d.contains("score receives 2 contributions (d_score), from `score_exp = exp(score)` and from `correct = score[i, yᵢ]`"),
        "{d}"
    );
}

#[test]
fn the_generated_gradient_check_covers_every_differentiable_input() {
    let mut rng = Rng::new(8);
    let x: Mat<5, 3> = rng.mat(-1.0, 1.0);
    let w: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let b: Mat<1, 4> = rng.mat(-1.0, 1.0);
    let y: Labels<5, 4> = rng.labels();
    let check = softmax_loss_gradcheck(&x, &w, &b, &y);
    assert_eq!(check.function, "softmax_loss");
    assert_eq!(check.value, softmax_loss(&x, &w, &b, &y));
    let names: Vec<&str> = check.inputs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["x", "w", "b"]);
    assert!(check.passes(1e-6), "{check}");
    assert!(
        check.to_string().contains("\n  w: max relative error"),
        "{check}"
    );
}

#[differentiable]
fn softmax_loss_f32<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D, f32>,
    w: &Mat<D, C, f32>,
    b: &Mat<1, C, f32>,
    y: &Labels<N, C>,
) -> f32 {
    let h = x.matmul(w);
    let score = h.add_row(b);
    let correct = score.pick(y);
    let rowsum = score.exp().row_sums();
    (rowsum.ln() - correct).mean()
}

#[test]
fn f32_softmax_passes_a_gradient_check_at_f32_tolerance() {
    let mut rng = Rng::new(6);
    let x: Mat<8, 5, f32> = rng.mat(-2.0, 2.0);
    let w: Mat<5, 3, f32> = rng.mat(-1.0, 1.0);
    let b: Mat<1, 3, f32> = rng.mat(-0.5, 0.5);
    let y: Labels<8, 3> = rng.labels();
    let grads = softmax_loss_f32_backward(&x, &w, &b, &y, 1.0);
    assert_eq!(grads.value, softmax_loss_f32(&x, &w, &b, &y));
    // Central differences in f32 cannot resolve the small entries of x's gradient (the check
    // reports them unverified): judge the f32 gradient where they can, and all of it against
    // differences of the same function in f64, `softmax_loss`, at the same point.
    let rx = gradgen::check::gradient(|x: &_| softmax_loss_f32(x, &w, &b, &y), &x, &grads.x);
    let rw = gradgen::check::gradient(|w: &_| softmax_loss_f32(&x, w, &b, &y), &w, &grads.w);
    let rb = gradgen::check::gradient(|b: &_| softmax_loss_f32(&x, &w, b, &y), &b, &grads.b);
    for (name, r) in [("x", rx), ("w", rw), ("b", rb)] {
        assert!(
            r.passes_where_resolvable(1e-2),
            "f32 gradient of {name}: {r}"
        );
    }
    let (x64, w64, b64) = (x.cast(), w.cast(), b.cast());
    let rx = gradgen::check::gradient(
        |x: &_| softmax_loss(x, &w64, &b64, &y),
        &x64,
        &grads.x.cast(),
    );
    let rw = gradgen::check::gradient(
        |w: &_| softmax_loss(&x64, w, &b64, &y),
        &w64,
        &grads.w.cast(),
    );
    let rb = gradgen::check::gradient(
        |b: &_| softmax_loss(&x64, &w64, b, &y),
        &b64,
        &grads.b.cast(),
    );
    for (name, r) in [("x", rx), ("w", rw), ("b", rb)] {
        assert!(
            r.passes(1e-3),
            "f32 gradient of {name} against f64 differences: {r}"
        );
    }
    // And it agrees with the f64 instance to f32 precision.
    let to64 = |m: &Mat<8, 5, f32>| Mat::<8, 5>::from_fn(|i, j| f64::from(m[(i, j)]));
    let g64 = softmax_loss_backward(
        &to64(&x),
        &Mat::from_fn(|i, j| f64::from(w[(i, j)])),
        &Mat::from_fn(|i, j| f64::from(b[(i, j)])),
        &y,
        1.0,
    );
    for (a, e) in grads.w.to_vec().iter().zip(g64.w.to_vec()) {
        assert!((f64::from(*a) - e).abs() < 1e-5, "{a} vs {e}");
    }
}

mod generic {
    use crate::common::Rng;
    use gradgen::prelude::*;
    use gradgen::Scalar;

    /// Generic over the element type, with a where-clause and a restricted visibility: the
    /// generated items copy all three.
    #[differentiable]
    pub(crate) fn log_partition<T, const N: usize, const C: usize>(score: &Mat<N, C, T>) -> T
    where
        T: Scalar,
    {
        score.exp().row_sums().ln().sum()
    }

    #[test]
    fn generic_element_type_where_clause_and_visibility() {
        let mut rng = Rng::new(7);
        let s64: Mat<4, 3> = rng.mat(-1.0, 1.0);
        let g: LogPartitionGrads<f64, 4, 3> = log_partition_backward(&s64, 1.0);
        // d/ds Σ_i ln Σ_j exp(s_ij) = softmax(s) by rows
        for i in 0..4 {
            let z: f64 = (0..3).map(|j| s64[(i, j)].exp()).sum();
            for j in 0..3 {
                assert!((g.score[(i, j)] - s64[(i, j)].exp() / z).abs() < 1e-12);
            }
        }
        let s32 = Mat::<4, 3, f32>::from_fn(|i, j| s64[(i, j)] as f32);
        let g32 = log_partition_backward(&s32, 1.0);
        assert!((f64::from(g32.value) - g.value).abs() < 1e-5);
        assert_eq!(g.value, log_partition(&s64));
    }
}
