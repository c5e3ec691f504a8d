//! `gradgen::parallel`: a batch split into shards, each shard's backward on a core of its own,
//! gives the whole batch's value and weight gradients, and the same bits on any thread count.

use gradgen::parallel::{mean_over_shards, shard_labels, shard_rows};
use gradgen::prelude::*;

use crate::common::Rng;

/// An Elman RNN with a softmax loss on its last state: the kind of small model whose products
/// stay on one core.
#[differentiable(wrt(wx, wh, b, wy))]
fn rnn<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D>],
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    b: &Mat<1, H>,
    wy: &Mat<H, C>,
    y: &Labels<N, C>,
) -> f64 {
    let mut h = Mat::<N, H>::zeros();
    for x in xs {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
    }
    h.matmul(wy).cross_entropy(y)
}

struct Batch {
    xs: Vec<Mat<12, 3>>,
    y: Labels<12, 2>,
    wx: Mat<3, 5>,
    wh: Mat<5, 5>,
    b: Mat<1, 5>,
    wy: Mat<5, 2>,
}

fn batch() -> Batch {
    let mut rng = Rng::new(41);
    Batch {
        xs: (0..6).map(|_| rng.mat(-1.0, 1.0)).collect(),
        y: rng.labels(),
        wx: rng.mat(-0.5, 0.5),
        wh: rng.mat(-0.5, 0.5),
        b: rng.mat(-0.1, 0.1),
        wy: rng.mat(-0.5, 0.5),
    }
}

/// Three shards of 4 rows: each step's inputs cut the same way as the labels.
fn sharded(batch: &Batch) -> Result<(f64, RnnGrads<3, 5, 2>), gradgen::Error> {
    let steps: Vec<Vec<Mat<4, 3>>> = batch
        .xs
        .iter()
        .map(shard_rows::<12, 4, 3, f64>)
        .collect::<Result<_, _>>()?;
    let ys: Vec<Labels<4, 2>> = shard_labels(&batch.y)?;
    let shards: Vec<(Vec<Mat<4, 3>>, &Labels<4, 2>)> = (0..3)
        .map(|s| (steps.iter().map(|step| step[s].clone()).collect(), &ys[s]))
        .collect();
    let b = batch;
    mean_over_shards(&shards, |(xs, y)| {
        let g = rnn_backward(xs, &b.wx, &b.wh, &b.b, &b.wy, y, 1.0);
        (g.value, g)
    })
}

#[test]
fn sharded_backward_equals_the_whole_batch() {
    let b = batch();
    let whole = rnn_backward(&b.xs, &b.wx, &b.wh, &b.b, &b.wy, &b.y, 1.0);
    assert_eq!(whole.value, rnn(&b.xs, &b.wx, &b.wh, &b.b, &b.wy, &b.y));
    let (value, grads) = sharded(&b).expect("12 rows in shards of 4");
    assert!(
        (value - whole.value).abs() < 1e-12 * whole.value.abs(),
        "{value} vs {}",
        whole.value
    );
    let pairs = [
        (grads.wx.as_array(), whole.wx.as_array()),
        (grads.wh.as_array(), whole.wh.as_array()),
        (grads.b.as_array(), whole.b.as_array()),
        (grads.wy.as_array(), whole.wy.as_array()),
    ];
    for (i, (part, full)) in pairs.into_iter().enumerate() {
        let scale = full.iter().fold(0.0_f64, |m, v| m.max(v.abs()));
        assert!(scale > 1e-3, "gradient {i} is not trivially zero");
        for (p, f) in part.iter().zip(full) {
            assert!((p - f).abs() <= 1e-12 * scale, "gradient {i}: {p} vs {f}");
        }
    }
}

#[test]
fn sharded_backward_gives_the_same_bits_on_one_thread_and_on_two() {
    let b = batch();
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool");
        let (value, grads) = pool
            .install(|| sharded(&b))
            .expect("12 rows in shards of 4");
        let mut bits = vec![value.to_bits()];
        grads.for_each(&mut |_, m| bits.extend(m.iter().map(|v| v.to_bits())));
        bits
    };
    assert_eq!(run(1), run(2));
}

#[test]
fn a_shard_size_that_does_not_divide_the_batch_is_an_error() {
    let x = Mat::<12, 3>::zeros();
    let err = shard_rows::<12, 5, 3, f64>(&x).expect_err("5 does not divide 12");
    let text = err.to_string();
    assert!(
        text.contains("a shard of 5 rows, for a batch of 12 rows"),
        "{text}"
    );
    assert!(shard_rows::<12, 0, 3, f64>(&x).is_err());
    let y = Labels::<12, 2>::new(vec![0; 12]).expect("labels below 2");
    assert!(shard_labels::<12, 5, 2>(&y).is_err());
    let none: [u8; 0] = [];
    let empty = mean_over_shards(&none, |_| (0.0, RnnGrads::<3, 5, 2>::zeros()));
    assert!(empty.is_err());
}
