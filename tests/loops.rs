//! Loops: sequences, repeated layers and carried state, differentiated into reverse loops.

use crate::common::Rng;
use gradgen::prelude::*;

/// An Elman RNN over a sequence, its loss on the final state.
#[differentiable]
fn elman_final<const N: usize, const D: usize, const H: usize, const C: usize>(
    xs: &[Mat<N, D>],
    h0: &Mat<N, H>,
    wx: &Mat<D, H>,
    wh: &Mat<H, H>,
    b: &Mat<1, H>,
    wy: &Mat<H, C>,
    y: &Labels<N, C>,
) -> f64 {
    let mut h = h0.clone();
    for x in xs {
        h = (x.matmul(wx) + h.matmul(wh)).add_row(b).tanh();
    }
    h.matmul(wy).cross_entropy(y)
}

#[test]
fn an_elman_rnn_is_differentiated_through_every_step() {
    let mut rng = Rng::new(140);
    let xs: Vec<Mat<3, 4>> = (0..5).map(|_| rng.mat(-1.0, 1.0)).collect();
    let h0: Mat<3, 5> = rng.mat(-0.5, 0.5);
    let (wx, wh, b, wy): (Mat<4, 5>, Mat<5, 5>, Mat<1, 5>, Mat<5, 2>) = (
        rng.mat(-0.5, 0.5),
        rng.mat(-0.5, 0.5),
        rng.mat(-0.5, 0.5),
        rng.mat(-0.5, 0.5),
    );
    let y: Labels<3, 2> = rng.labels();
    let check = elman_final_gradcheck(&xs, &h0, &wx, &wh, &b, &wy, &y);
    assert!(check.passes(1e-6), "{check}");
    assert_eq!(check.inputs.len(), 5 + 5);
    let empty = elman_final_backward(&[], &h0, &wx, &wh, &b, &wy, &y, 1.0);
    assert_eq!(empty.value, h0.matmul(&wy).cross_entropy(&y));
    assert!(empty.xs.is_empty());
    assert_eq!(empty.wx, Mat::zeros());
}
