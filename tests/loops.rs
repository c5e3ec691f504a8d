//! Loops: sequences, repeated layers and carried state, differentiated into reverse loops.
//!
//! Each model is written with a `for` loop, passes its gradient check, and gives the value and
//! the gradients of the same model unrolled by hand (`loops_unrolled.rs`).

use crate::common::Rng;
use crate::loops_unrolled::{
    carried_unrolled, carried_unrolled_backward, deep_mlp_unrolled_backward,
    elman_per_step_unrolled_backward, gru_final_unrolled_backward, tied_unrolled_backward,
};
use gradgen::prelude::*;

/// The loop and the unrolled version compute the same sums in another order at most.
fn same<const R: usize, const C: usize>(a: &Mat<R, C>, b: &Mat<R, C>, what: &str) {
    let scale = b.to_vec().iter().fold(1e-3f64, |m, v| m.max(v.abs()));
    for (x, y) in a.to_vec().iter().zip(b.to_vec()) {
        assert!((x - y).abs() <= 1e-12 * scale, "{what}: {x} vs {y}");
    }
}

fn same_value(a: f64, b: f64) {
    assert!((a - b).abs() <= 1e-12 * b.abs().max(1.0), "{a} vs {b}");
}

/// An Elman RNN with a loss at every step, over sequences of inputs and of labels.
#[differentiable]
#[allow(clippy::too_many_arguments)]
fn elman_per_step<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D>],
    ys: &[Labels<N, C>],
    h0: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    b: &Mat<1, H>,
    wy: &Mat<H, C>,
    by: &Mat<1, C>,
) -> f64 {
    let mut h = h0.clone();
    let mut loss = 0.0;
    for (x, y) in xs.iter().zip(ys) {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
        loss += h.matmul(wy).add_row(by).cross_entropy(y);
    }
    loss
}

#[test]
fn an_elman_rnn_with_a_loss_per_step_matches_it_unrolled() {
    let mut rng = Rng::new(160);
    let xs: [Mat<3, 4>; 3] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let ys: [Labels<3, 2>; 3] = std::array::from_fn(|_| rng.labels());
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (wx, wh): (Mat<4, 5>, Mat<5, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.8, 0.8));
    let (wy, b, by): (Mat<5, 2>, Mat<1, 5>, Mat<1, 2>) =
        (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5), rng.mat(-0.5, 0.5));
    let check = elman_per_step_gradcheck(&xs, &ys, &h0, &wx, &wh, &b, &wy, &by);
    assert!(check.passes(1e-6), "{check}");
    let looped = elman_per_step_backward(&xs, &ys, &h0, &wx, &wh, &b, &wy, &by, 1.0);
    let [x1, x2, x3] = &xs;
    let [y1, y2, y3] = &ys;
    let unrolled =
        elman_per_step_unrolled_backward(x1, x2, x3, y1, y2, y3, &h0, &wx, &wh, &b, &wy, &by, 1.0);
    same_value(looped.value, unrolled.value);
    for (d, (e, name)) in looped.xs.iter().zip([
        (&unrolled.x1, "x1"),
        (&unrolled.x2, "x2"),
        (&unrolled.x3, "x3"),
    ]) {
        same(d, e, name);
    }
    same(&looped.h0, &unrolled.h0, "h0");
    same(&looped.wx, &unrolled.wx, "wx");
    same(&looped.wh, &unrolled.wh, "wh");
    same(&looped.b, &unrolled.b, "b");
    same(&looped.wy, &unrolled.wy, "wy");
    same(&looped.by, &unrolled.by, "by");
}

/// A GRU over a sequence; the mean squared error of its last state's projection.
#[differentiable]
#[allow(clippy::too_many_arguments)]
fn gru_final<const N: usize, const D: usize, const H: usize, const K: usize>(
    xs: &[Mat<N, D>],
    h0: &Mat<N, H>,
    wz: &Mat<D, H>,
    uz: &Mat<H, H>,
    bz: &Mat<1, H>,
    wr: &Mat<D, H>,
    ur: &Mat<H, H>,
    br: &Mat<1, H>,
    wn: &Mat<D, H>,
    un: &Mat<H, H>,
    bn: &Mat<1, H>,
    wy: &Mat<H, K>,
    target: &Mat<N, K>,
) -> f64 {
    let mut h = h0.clone();
    for x in xs {
        let z = (x.matmul(wz) + h.matmul(uz)).add_row(bz).sigmoid();
        let r = (x.matmul(wr) + h.matmul(ur)).add_row(br).sigmoid();
        let n = (x.matmul(wn) + (&r * &h).matmul(un)).add_row(bn).tanh();
        h = (1.0 - &z) * &n + &z * &h;
    }
    h.matmul(wy).mse(target)
}

#[test]
fn a_gru_with_a_loss_on_its_last_state_matches_it_unrolled() {
    let mut rng = Rng::new(161);
    let xs: [Mat<3, 4>; 3] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let [wz, wr, wn]: [Mat<4, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.8, 0.8));
    let [uz, ur, un]: [Mat<5, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.8, 0.8));
    let [bz, br, bn]: [Mat<1, 5>; 3] = std::array::from_fn(|_| rng.mat(-0.5, 0.5));
    let wy: Mat<5, 2> = rng.mat(-1.0, 1.0);
    let target: Mat<3, 2> = rng.mat(-1.0, 1.0);
    let check = gru_final_gradcheck(
        &xs, &h0, &wz, &uz, &bz, &wr, &ur, &br, &wn, &un, &bn, &wy, &target,
    );
    assert!(check.passes(1e-6), "{check}");
    let looped = gru_final_backward(
        &xs, &h0, &wz, &uz, &bz, &wr, &ur, &br, &wn, &un, &bn, &wy, &target, 1.0,
    );
    let [x1, x2, x3] = &xs;
    let unrolled = gru_final_unrolled_backward(
        x1, x2, x3, &h0, &wz, &uz, &bz, &wr, &ur, &br, &wn, &un, &bn, &wy, &target, 1.0,
    );
    same_value(looped.value, unrolled.value);
    same(&looped.xs[0], &unrolled.x1, "x1");
    same(&looped.xs[2], &unrolled.x3, "x3");
    same(&looped.h0, &unrolled.h0, "h0");
    for (d, e, name) in [
        (&looped.uz, &unrolled.uz, "uz"),
        (&looped.ur, &unrolled.ur, "ur"),
        (&looped.un, &unrolled.un, "un"),
    ] {
        same(d, e, name);
    }
    same(&looped.wn, &unrolled.wn, "wn");
    same(&looped.bz, &unrolled.bz, "bz");
    same(&looped.wy, &unrolled.wy, "wy");
}

/// A residual MLP whose hidden layers are slices of weights, as many as the slices hold.
#[differentiable(wrt(w_in, b_in, ws, bs, w_out, b_out))]
#[allow(clippy::too_many_arguments)]
fn deep_mlp<const N: usize, const D: usize, const H: usize, const C: usize>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    b_in: &Mat<1, H>,
    ws: &[Mat<H, H>],
    bs: &[Mat<1, H>],
    w_out: &Mat<H, C>,
    b_out: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let mut h = x.matmul(w_in).add_row(b_in).relu();
    for (w, b) in ws.iter().zip(bs) {
        h = &h + h.matmul(w).add_row(b).relu();
    }
    h.matmul(w_out).add_row(b_out).cross_entropy(y)
}

#[test]
fn a_deep_mlp_over_slices_of_weights_matches_it_unrolled() {
    let mut rng = Rng::new(162);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let (w_in, b_in): (Mat<4, 5>, Mat<1, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.5, 0.5));
    let ws: Vec<Mat<5, 5>> = (0..3).map(|_| rng.mat(-0.8, 0.8)).collect();
    let bs: Vec<Mat<1, 5>> = (0..3).map(|_| rng.mat(-0.5, 0.5)).collect();
    let (w_out, b_out): (Mat<5, 2>, Mat<1, 2>) = (rng.mat(-1.0, 1.0), rng.mat(-0.5, 0.5));
    let y: Labels<3, 2> = rng.labels();
    let check = deep_mlp_gradcheck(&x, &w_in, &b_in, &ws, &bs, &w_out, &b_out, &y);
    assert!(check.passes(1e-6), "{check}");
    let looped = deep_mlp_backward(&x, &w_in, &b_in, &ws, &bs, &w_out, &b_out, &y, 1.0);
    let unrolled = deep_mlp_unrolled_backward(
        &x, &w_in, &b_in, &ws[0], &bs[0], &ws[1], &bs[1], &ws[2], &bs[2], &w_out, &b_out, &y, 1.0,
    );
    same_value(looped.value, unrolled.value);
    same(&looped.w_in, &unrolled.w_in, "w_in");
    for (k, (w, b)) in [
        (&unrolled.w1, &unrolled.b1),
        (&unrolled.w2, &unrolled.b2),
        (&unrolled.w3, &unrolled.b3),
    ]
    .into_iter()
    .enumerate()
    {
        same(&looped.ws[k], w, "w");
        same(&looped.bs[k], b, "b");
    }
    same(&looped.w_out, &unrolled.w_out, "w_out");
    // Zip stops at the shorter slice: a fourth weight without its bias is never used, and its
    // gradient is zero.
    let mut longer = ws.clone();
    longer.push(rng.mat(-0.8, 0.8));
    let short = deep_mlp_backward(&x, &w_in, &b_in, &longer, &bs, &w_out, &b_out, &y, 1.0);
    same_value(short.value, looped.value);
    assert_eq!(short.ws.len(), 4);
    assert_eq!(short.ws[3], Mat::zeros());
    same(&short.ws[2], &looped.ws[2], "w3");
}

/// One weight-tied block applied `steps` times.
#[differentiable(wrt(x, w_in, w, b))]
fn tied<const N: usize, const D: usize, const H: usize>(
    x: &Mat<N, D>,
    w_in: &Mat<D, H>,
    w: &Mat<H, H>,
    b: &Mat<1, H>,
    steps: usize,
) -> f64 {
    let mut h = x.matmul(w_in);
    for _ in 0..steps {
        h = h.matmul(w).add_row(b).tanh();
    }
    h.square().mean()
}

#[test]
fn a_counted_weight_tied_loop_matches_it_unrolled() {
    let mut rng = Rng::new(163);
    let x: Mat<3, 4> = rng.mat(-1.0, 1.0);
    let w_in: Mat<4, 5> = rng.mat(-0.8, 0.8);
    let (w, b): (Mat<5, 5>, Mat<1, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.5, 0.5));
    let check = tied_gradcheck(&x, &w_in, &w, &b, 3);
    assert!(check.passes(1e-6), "{check}");
    let looped = tied_backward(&x, &w_in, &w, &b, 3, 1.0);
    let unrolled = tied_unrolled_backward(&x, &w_in, &w, &b, 1.0);
    same_value(looped.value, unrolled.value);
    same(&looped.x, &unrolled.x, "x");
    same(&looped.w_in, &unrolled.w_in, "w_in");
    same(&looped.w, &unrolled.w, "w");
    same(&looped.b, &unrolled.b, "b");
    // No step: the block's weights get no gradient.
    let none = tied_backward(&x, &w_in, &w, &b, 0, 1.0);
    same_value(none.value, x.matmul(&w_in).square().mean());
    assert_eq!(none.w, Mat::zeros());
}

const STEP_WEIGHT: f64 = 0.5;

/// A loop carrying a matrix and a scalar.
#[differentiable]
fn carried<const N: usize, const D: usize, const H: usize>(
    xs: &[Mat<N, D>],
    h0: &Mat<N, H>,
    w: &Mat<D, H>,
    u: &Mat<H, H>,
) -> f64 {
    let mut h = h0.clone();
    let mut total = 0.0;
    for x in xs {
        h = (x.matmul(w) + h.matmul(u)).tanh();
        total += h.mean() * STEP_WEIGHT;
    }
    total + h.square().sum()
}

#[test]
fn a_loop_carrying_a_matrix_and_a_scalar_matches_it_unrolled() {
    let mut rng = Rng::new(164);
    let xs: Vec<Mat<3, 4>> = (0..3).map(|_| rng.mat(-1.0, 1.0)).collect();
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (w, u): (Mat<4, 5>, Mat<5, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.8, 0.8));
    let check = carried_gradcheck(&xs, &h0, &w, &u);
    assert!(check.passes(1e-6), "{check}");
    let looped = carried_backward(&xs, &h0, &w, &u, 1.0);
    let unrolled = carried_unrolled_backward(&xs[0], &xs[1], &xs[2], &h0, &w, &u, 1.0);
    same_value(
        looped.value,
        carried_unrolled(&xs[0], &xs[1], &xs[2], &h0, &w, &u),
    );
    same(&looped.xs[1], &unrolled.x2, "x2");
    same(&looped.h0, &unrolled.h0, "h0");
    same(&looped.w, &unrolled.w, "w");
    same(&looped.u, &unrolled.u, "u");
    // An empty sequence: the initial state's value, its gradient straight through, and zeros.
    let empty = carried_backward(&[], &h0, &w, &u, 1.0);
    same_value(empty.value, h0.square().sum());
    same(&empty.h0, &(&h0 * 2.0), "h0");
    assert!(empty.xs.is_empty());
    assert_eq!((empty.w, empty.u), (Mat::zeros(), Mat::zeros()));
}

mod layer {
    use gradgen::prelude::*;

    /// One recurrent step, a differentiable function of its own.
    #[differentiable]
    pub fn step<const N: usize, const D: usize, const H: usize>(
        x: &Mat<N, D>,
        h: &Mat<N, H>,
        wx: &Mat<D, H>,
        wh: &Mat<H, H>,
    ) -> Mat<N, H> {
        (x.matmul(wx) + h.matmul(wh)).tanh()
    }
}

/// A body that calls a differentiable function, chooses on a flag and on the step's index, and
/// walks a sequence of a const length.
#[differentiable(wrt(xs, h0, wx, wh))]
fn stepped<const N: usize, const D: usize, const H: usize, const T: usize>(
    xs: &[Mat<N, D>; T],
    h0: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    mask: &Mat<N, H>,
    train: bool,
) -> f64 {
    let mut h = h0.clone();
    let mut first = 0.0;
    for (i, x) in xs.iter().enumerate() {
        let next: Mat<N, H> = layer::step(x, &h, wx, wh);
        h = if train { next * mask } else { next };
        if i == 0 {
            first = h.sum();
        }
    }
    h.mean() + first * 0.25
}

#[test]
fn a_body_that_calls_a_function_and_chooses_on_a_flag_and_the_index_is_differentiated() {
    let mut rng = Rng::new(165);
    let xs: [Mat<3, 4>; 4] = std::array::from_fn(|_| rng.mat(-1.0, 1.0));
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (wx, wh): (Mat<4, 5>, Mat<5, 5>) = (rng.mat(-0.8, 0.8), rng.mat(-0.8, 0.8));
    let mask = Mat::<3, 5>::from_fn(|i, j| if (i + 2 * j) % 3 == 0 { 0.0 } else { 1.5 });
    for train in [true, false] {
        let check = stepped_gradcheck(&xs, &h0, &wx, &wh, &mask, train);
        assert!(check.passes(1e-6), "train = {train}: {check}");
        assert_eq!(check.inputs.len(), 4 + 3, "xs[0..4], h0, wx, wh");
        let grads = stepped_backward(&xs, &h0, &wx, &wh, &mask, train, 1.0);
        assert_eq!(grads.value, stepped(&xs, &h0, &wx, &wh, &mask, train));
        assert_eq!(grads.xs.len(), 4);
    }
    // The weights as one set, the sequence of a const length an array in it.
    let params = SteppedParams {
        xs: xs.clone(),
        h0: h0.clone(),
        wx: wx.clone(),
        wh: wh.clone(),
    };
    let names: Vec<String> = params.layout().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["xs.0", "xs.1", "xs.2", "xs.3", "h0", "wx", "wh"]);
}

/// A loop in a function generic over its element type: its gradient check differentiates the
/// `f64` instance.
#[differentiable]
fn generic_rnn<T: Scalar, const N: usize, const H: usize>(
    xs: &[Mat<N, H, T>],
    w: &Mat<H, H, T>,
) -> T {
    let mut h = Mat::<N, H, T>::zeros();
    for x in xs {
        h = (x + h.matmul(w)).tanh();
    }
    h.mean()
}

#[test]
fn a_loop_generic_over_its_element_type_is_checked_in_f64() {
    let mut rng = Rng::new(166);
    let xs: Vec<Mat<2, 3, f32>> = (0..3).map(|_| rng.mat(-1.0, 1.0)).collect();
    let w: Mat<3, 3, f32> = rng.mat(-0.8, 0.8);
    let check = generic_rnn_gradcheck(&xs, &w);
    assert!(check.passes(1e-4), "{check}");
    assert_eq!(check.unverified(), 0, "{check}");
}

/// A carried value that one branch overwrites at one step: no gradient flows to its value
/// before that step through it.
#[differentiable]
fn overwritten<const N: usize, const D: usize>(xs: &[Mat<N, D>], x0: &Mat<N, D>) -> f64 {
    let mut total = x0.sum();
    for (i, x) in xs.iter().enumerate() {
        if i == 1 {
            total = x.mean();
        } else {
            total = total * 0.5 + x.square().sum();
        }
    }
    total
}

#[test]
fn a_carried_value_a_branch_overwrites_stops_its_gradient() {
    let mut rng = Rng::new(167);
    let xs: Vec<Mat<2, 3>> = (0..4).map(|_| rng.mat(-1.0, 1.0)).collect();
    let x0: Mat<2, 3> = rng.mat(-1.0, 1.0);
    let check = overwritten_gradcheck(&xs, &x0);
    assert!(check.passes(1e-6), "{check}");
    let grads = overwritten_backward(&xs, &x0, 1.0);
    // Step 1 overwrites the total: neither x0 nor the first step's input reaches the value.
    assert_eq!(grads.x0, Mat::zeros());
    assert_eq!(grads.xs[0], Mat::zeros());
    // The steps after it halve what they carry: the overwrite's mean, times 0.5 · 0.5.
    same(&grads.xs[1], &Mat::full(0.25 / 6.0), "xs[1]");
    // Fewer steps than the overwrite: the initial value reaches the value, halved once.
    let short = overwritten_backward(&xs[..1], &x0, 1.0);
    same(&short.x0, &Mat::full(0.5), "x0");
}

/// An Elman classifier as a model: its weights are fields, the sequence an argument.
#[model]
struct Rnn<const D: usize, const H: usize, const C: usize> {
    wx: Mat<D, H>,
    wh: Mat<H, H>,
    b: Mat<1, H>,
    wy: Mat<H, C>,
}

#[differentiable]
impl<const D: usize, const H: usize, const C: usize> Rnn<D, H, C> {
    #[differentiable]
    fn scores<const N: usize>(&self, xs: &[Mat<N, D>]) -> Mat<N, C> {
        let mut h = Mat::<N, H>::zeros();
        for x in xs {
            h = (x.matmul(&self.wx) + h.matmul(&self.wh))
                .add_row(&self.b)
                .tanh();
        }
        h.matmul(&self.wy)
    }

    #[differentiable]
    fn loss<const N: usize>(&self, xs: &[Mat<N, D>], y: &Labels<N, C>) -> f64 {
        self.scores(xs).cross_entropy(y)
    }
}

#[test]
fn a_model_method_with_a_loop_is_differentiated_and_calls_compose() {
    let mut rng = Rng::new(168);
    let model = Rnn::<3, 4, 2> {
        wx: rng.mat(-0.8, 0.8),
        wh: rng.mat(-0.8, 0.8),
        b: rng.mat(-0.5, 0.5),
        wy: rng.mat(-1.0, 1.0),
    };
    let xs: Vec<Mat<5, 3>> = (0..4).map(|_| rng.mat(-1.0, 1.0)).collect();
    let y: Labels<5, 2> = rng.labels();
    let check = model.loss_gradcheck(&xs, &y);
    assert!(check.passes(1e-6), "{check}");
    let (loss, grads) = model.loss_backward(&xs, &y, 1.0);
    assert_eq!(loss, model.loss(&xs, &y));
    assert_ne!(grads.wh, Mat::zeros());
}
