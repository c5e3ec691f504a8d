// The example at the top of DESIGN.md, as written, in a crate that denies warnings.
#![deny(warnings)]

use gradgen::prelude::*;

#[differentiable]
pub fn softmax_loss<const N: usize, const D: usize, const C: usize>(
    x: &Mat<N, D>,
    w: &Mat<D, C>,
    b: &Mat<1, C>,
    y: &Labels<N, C>,
) -> f64 {
    let h = x.matmul(w);              // [N x C]
    let score = h.add_row(b);         // [N x C], b broadcast over rows
    let correct = score.pick(y);      // [N x 1], score[i, y_i]
    let rowsum = score.exp().row_sums(); // [N x 1]
    (rowsum.ln() - correct).mean()    // scalar
}

fn main() {
    let x = Mat::<3, 2>::from_rows([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]);
    let w = Mat::<2, 4>::full(0.25);
    let b = Mat::<1, 4>::zeros();
    let y = Labels::<3, 4>::new(vec![0, 3, 2]).unwrap();
    let grads: SoftmaxLossGrads<3, 2, 4> = softmax_loss_backward(&x, &w, &b, &y, 1.0);
    assert_eq!(grads.value, softmax_loss(&x, &w, &b, &y));
    let (_, _, _): (Mat<3, 2>, Mat<2, 4>, Mat<1, 4>) = (grads.x, grads.w, grads.b);
    assert!(softmax_loss_gradcheck(&x, &w, &b, &y).passes(1e-6));
}
