use gradgen::prelude::*;

// One mistake, one error: nothing that depends on `h` is reported again, and the callers of
// `loss` and `loss_backward` compile.
#[differentiable]
fn loss<const N: usize, const D: usize, const C: usize>(x: &Mat<N, D>, w: &Mat<C, D>) -> f64 {
    let h = x.matmul(w);
    let e = h.exp();
    let total = e.row_sums() - h.row_sums();
    total.mean()
}

fn main() {
    let x = Mat::<3, 2>::zeros();
    let w = Mat::<4, 2>::zeros();
    let value: f64 = loss(&x, &w);
    let grads = loss_backward(&x, &w, 1.0);
    let _: (f64, Mat<3, 2>, Mat<4, 2>) = (value + grads.value, grads.x, grads.w);
}
